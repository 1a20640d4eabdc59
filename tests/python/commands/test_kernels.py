"""`sysgate kernels`: the initramfs without booting, result transport, failing kernels,
and (slow) a real Debian cloud kernel under TCG. No test asserts a timing."""

import argparse
import base64
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "scripts"))

from sysgatelib.commands import kernels  # noqa: E402
from sysgatelib.core.errors import UserError  # noqa: E402
from sysgatelib.vm import initramfs, kernel_fetch, qemu  # noqa: E402

FAKE_BENCH = REPO / "tests" / "python" / "helpers" / "fake_bench.c"
REAL_BENCH = REPO / "build" / "benchmarks" / "sysgate_bench"
SLOW_KERNEL = "linux-image-6.1.0-47-cloud-amd64"
DEFAULT_LIB_DIRS = ("/lib", "/usr/lib", "/lib64", "/usr/lib64", "/lib/x86_64-linux-gnu",
                    "/usr/lib/x86_64-linux-gnu", "/lib32", "/usr/lib32",
                    "/lib/i386-linux-gnu")

needs_qemu = pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None,
                                reason="qemu-system-x86_64 not installed (qemu-system-x86)")


def _compile(out, *flags):
    cc = shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    proc = subprocess.run([cc, "-O2", *flags, "-o", str(out), str(FAKE_BENCH)],
                          capture_output=True, text=True)
    return proc.returncode == 0


@pytest.fixture(scope="module")
def bench_dir(tmp_path_factory):
    """A folder laid out like build/benchmarks: sysgate_bench and, when -m32 works,
    a 32-bit sysgate_ia32 beside it (both dynamically linked)."""
    folder = tmp_path_factory.mktemp("bench")
    assert _compile(folder / "sysgate_bench")
    _compile(folder / "sysgate_ia32", "-m32")
    return folder


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def _parse(argv):
    parser = argparse.ArgumentParser(prog="sysgate")
    kernels.register(parser.add_subparsers())
    return parser.parse_args(["kernels", "--no-install", *argv])


def _archive(binaries, cache_dir, tmp_path):
    out = tmp_path / "initrd.gz"
    names = initramfs.build([str(b) for b in binaries], kernels.guest_argv(quick=True), {},
                            str(out), str(cache_dir), hostname="testhost-qemu")
    return names, initramfs.read_cpio(out.read_bytes())


def _assert_self_contained(entries):
    """Every ELF in the archive finds its interpreter and each DT_NEEDED inside it."""
    env = dict(line.split("=", 1) for line in
               entries["sysgate/env"][1].decode().splitlines())
    search = [d.strip("/") for d in env["LD_LIBRARY_PATH"].split(":")]
    search += [d.strip("/") for d in DEFAULT_LIB_DIRS]
    checked = 0
    for name, (mode, data) in entries.items():
        info = initramfs.parse_elf(data) if stat.S_ISREG(mode) else None
        if info is None:
            continue
        checked += 1
        if info.interpreter:
            assert info.interpreter.lstrip("/") in entries, f"{name}: no {info.interpreter}"
        for lib in info.needed:
            candidates = [f"{d}/{lib}" for d in search]
            assert any(c in entries and initramfs.parse_elf(entries[c][1]).bits == info.bits
                       for c in candidates), f"{name} needs {lib}: not in the initramfs"
    return checked


def test_initramfs_holds_binaries_libraries_and_init(bench_dir, cache_dir, tmp_path):
    binaries = [bench_dir / "sysgate_bench"] + [
        Path(p) for p in initramfs.find_helpers(str(bench_dir / "sysgate_bench"))]
    names, entries = _archive(binaries, cache_dir, tmp_path)
    assert names == sorted(entries)

    init_mode, init = entries["init"]
    assert stat.S_ISREG(init_mode) and init_mode & 0o111
    info = initramfs.parse_elf(init)
    assert info.bits == 64 and info.interpreter is None and info.needed == []  # static

    console_mode, _ = entries["dev/console"]
    assert stat.S_ISCHR(console_mode)
    for binary in binaries:
        mode, data = entries[f"sysgate/bin/{binary.name}"]
        assert mode & 0o111 and data == binary.read_bytes()

    argv = entries["sysgate/args"][1].decode().splitlines()
    assert argv[0] == "/sysgate/bin/sysgate_bench"
    assert f"--benchmark_out={initramfs.RESULTS_PATH}" in argv
    assert "--benchmark_out_format=json" in argv
    assert entries["sysgate/hostname"][1] == b"testhost-qemu\n"
    assert _assert_self_contained(entries) >= len(binaries) + 2


def test_initramfs_carries_the_32_bit_loader_for_the_ia32_helper(bench_dir, cache_dir,
                                                                tmp_path):
    helper = bench_dir / "sysgate_ia32"
    if not helper.exists():
        pytest.skip("cc -m32 does not link here (install gcc-multilib)")
    _, entries = _archive([bench_dir / "sysgate_bench", helper], cache_dir, tmp_path)
    interpreter = initramfs.read_elf(str(helper)).interpreter
    assert interpreter and initramfs.parse_elf(entries[interpreter.lstrip("/")][1]).bits == 32
    _assert_self_contained(entries)


@pytest.mark.skipif(not REAL_BENCH.exists(), reason="build/benchmarks/sysgate_bench not built")
def test_initramfs_for_the_real_benchmark(cache_dir, tmp_path):
    binaries = [REAL_BENCH] + [Path(p) for p in initramfs.find_helpers(str(REAL_BENCH))]
    _, entries = _archive(binaries, cache_dir, tmp_path)
    assert _assert_self_contained(entries) >= len(binaries) + 2


def test_initramfs_rejects_a_missing_binary(cache_dir, tmp_path):
    with pytest.raises(UserError, match="not an executable"):
        _archive([tmp_path / "nope"], cache_dir, tmp_path)


def test_results_block_round_trip():
    payload = json.dumps({"context": {}, "benchmarks": []}).encode() * 7
    body = base64.b64encode(payload).decode()
    lines = [body[i:i + 76] for i in range(0, len(body), 76)]
    text = ("junk\r\nSYSGATE-RESULTS-BEGIN bytes=%d\r\n" % len(payload)
            + "\r\n".join(lines) + "\r\nSYSGATE-RESULTS-END status=3\r\n")
    assert qemu.decode_results(text) == (3, payload)
    # Cut short (the guest died while sending): no results, rather than half a file.
    assert qemu.decode_results(text[: len(text) // 2]) == (None, None)
    assert qemu.decode_results(text.replace("bytes=", "bytes=1")) == (None, None)


def test_annotate_marks_tcg_results_emulated():
    raw = json.dumps({"context": {"host_name": "h"}, "benchmarks": []}).encode()
    data = kernels.annotate(raw, "tcg", "mitigations=off", "6.1.0-47-cloud-amd64")
    ctx = data["context"]
    assert ctx["emulated"] == "true" and ctx["qemu_accel"] == "tcg"
    assert ctx["kernel_release"] == "6.1.0-47-cloud-amd64"
    assert ctx["qemu_append"] == "mitigations=off"
    assert kernels.annotate(raw, "kvm", "", None)["context"]["emulated"] == "false"
    with pytest.raises(kernels.KernelError, match="not JSON"):
        kernels.annotate(b"{truncated", "tcg", "", None)


def test_results_names_keep_boot_options_apart():
    assert kernels.results_name("6.1.0-47-cloud-amd64", "") == "6.1.0-47-cloud-amd64.json"
    assert (kernels.results_name("6.1.0-47-cloud-amd64", "mitigations=off")
            == "6.1.0-47-cloud-amd64+mitigations_off.json")


def test_a_kernel_that_is_not_a_file_or_package_is_reported(capsys):
    with pytest.raises(kernels.KernelError, match="no such file"):
        kernel_fetch.resolve_kernel("/nonexistent/vmlinuz")
    with pytest.raises(kernels.KernelError, match="neither a file nor"):
        kernel_fetch.resolve_kernel("Not A Package!")


def _truncated_kernel(tmp_path, source=None):
    """The first MiB of a real bzImage (header intact, payload cut) when one is at hand,
    else 64 KiB of zeros."""
    head = b""
    for image in [source] if source else sorted(Path("/boot").glob("vmlinuz-*")):
        try:
            head = Path(image).read_bytes()[:1 << 20]
            break
        except OSError:
            continue
    path = tmp_path / "vmlinuz-truncated"
    path.write_bytes(head or b"\0" * 65536)
    return path


@needs_qemu
def test_a_truncated_kernel_is_reported_and_the_next_kernel_still_runs(
        bench_dir, tmp_path, capsys):
    bad = _truncated_kernel(tmp_path)
    garbage = tmp_path / "vmlinuz-garbage"
    garbage.write_bytes(os.urandom(4096))
    args = _parse([str(bad), str(garbage), "--quick", "--accel", "tcg", "--timeout", "60",
                   "--no-db", "--bench", str(bench_dir / "sysgate_bench"),
                   "-o", str(tmp_path / "out")])
    with pytest.raises(UserError, match="did not produce results") as exc:
        kernels._cmd_kernels(args)
    out = capsys.readouterr().out
    # Both were tried and both failures reported: the first did not stop the second.
    assert "[1/2]" in out and "[2/2]" in out
    assert out.count("FAILED") == 2
    assert str(bad) in str(exc.value) and str(garbage) in str(exc.value)
    assert "0 of 2 kernels ran" in out
    assert "warning: emulated" in out  # said once, before the first TCG boot


def _debian_kernel():
    """The cached or downloadable vmlinuz of SLOW_KERNEL, or skip with the reason."""
    if shutil.which("qemu-system-x86_64") is None:
        pytest.skip("qemu-system-x86_64 not installed (qemu-system-x86)")
    try:
        path, _ = kernel_fetch.resolve_kernel(SLOW_KERNEL)
    except kernels.KernelError as exc:
        pytest.skip(f"{SLOW_KERNEL} unavailable: {exc}")
    return path


@pytest.mark.slow
def test_debian_cloud_kernel_boots_under_tcg_and_files_its_results(
        bench_dir, tmp_path, capsys):
    vmlinuz = _debian_kernel()
    bench = REAL_BENCH if REAL_BENCH.exists() else bench_dir / "sysgate_bench"
    db = tmp_path / "history.sqlite"
    bad = _truncated_kernel(tmp_path, vmlinuz)
    args = _parse([str(bad), SLOW_KERNEL, "--quick", "--accel", "tcg", "--db", str(db),
                   "--bench", str(bench), "-o", str(tmp_path / "out")])
    with pytest.raises(UserError, match=str(bad)):
        kernels._cmd_kernels(args)
    out = capsys.readouterr().out
    assert "1 of 2 kernels ran" in out, out
    results = list((tmp_path / "out").glob("6.1.0-47-cloud-amd64*.json"))
    assert len(results) == 1, out
    data = json.loads(results[0].read_text())
    ctx = data["context"]
    assert ctx["kernel_release"] == "6.1.0-47-cloud-amd64"
    assert ctx["emulated"] == "true" and ctx["qemu_accel"] == "tcg"
    assert data["benchmarks"], "the guest sent no benchmark rows"
    page = results[0].with_suffix("") / "index.html"
    assert page.exists(), out  # each kernel gets its own report page
    assert "6.1.0-47-cloud-amd64" in page.read_text()
    assert os.path.basename(vmlinuz).startswith("vmlinuz-6.1.0-47")
    try:
        from sysgatelib import store
    except ImportError:
        assert "not filed" in out
        return
    conn = store.open_store(db)
    try:
        runs = store.list_runs(conn)
    finally:
        conn.close()
    assert [r.kernel_release for r in runs] == ["6.1.0-47-cloud-amd64"]
    assert runs[0].emulated


def test_qemu_command_line():
    if shutil.which("qemu-system-x86_64") is None:
        pytest.skip("qemu-system-x86_64 not installed (qemu-system-x86)")
    cmd = qemu.command("vmlinuz", "initrd.gz", "mitigations=off", "tcg", "c.log", "d.log")
    assert cmd[cmd.index("-accel") + 1] == "tcg" and cmd[cmd.index("-cpu") + 1] == "max"
    append = cmd[cmd.index("-append") + 1].split()
    assert {"console=ttyS0", "panic=-1", "mitigations=off"} <= set(append)
    assert "-no-reboot" in cmd  # a panic (panic=-1) ends QEMU instead of rebooting
    # The console first, the results port second, as guest_init.c expects.
    assert [cmd[i + 1] for i, a in enumerate(cmd) if a == "-serial"] == [
        "file:c.log", "file:d.log"]
    kvm = qemu.command("vmlinuz", "initrd.gz", "", "kvm", "c.log", "d.log")
    assert kvm[kvm.index("-cpu") + 1] == "host"


@pytest.mark.slow
def test_a_guest_that_does_not_finish_is_killed_at_the_timeout(bench_dir, tmp_path, capsys):
    _debian_kernel()
    args = _parse([SLOW_KERNEL, "--quick", "--accel", "tcg", "--timeout", "1", "--no-db",
                   "--bench", str(bench_dir / "sysgate_bench"), "-o", str(tmp_path / "out")])
    with pytest.raises(UserError, match=SLOW_KERNEL):
        kernels._cmd_kernels(args)
    out = capsys.readouterr().out
    assert "no results after 1 s" in out and "killed" in out
    assert list((tmp_path / "out").glob("*.console.log"))


@pytest.mark.slow
def test_the_32_bit_helper_runs_in_the_guest(bench_dir, tmp_path, capsys):
    _debian_kernel()
    if not (bench_dir / "sysgate_ia32").exists():
        pytest.skip("cc -m32 does not link here (install gcc-multilib)")
    args = _parse([SLOW_KERNEL, "--quick", "--accel", "tcg", "--no-db",
                   "--bench", str(bench_dir / "sysgate_bench"), "-o", str(tmp_path / "out")])
    assert kernels._cmd_kernels(args) == 0
    (results,) = (tmp_path / "out").glob("*.json")
    # The stand-in benchmark ran the stand-in helper through SYSGATE_IA32_HELPER: 0 means
    # the 32-bit loader and libc were in the initramfs and the kernel ran it.
    assert json.loads(results.read_text())["context"]["test_ia32_helper_status"] == "0"


def _block(name, payload):
    body = base64.b64encode(payload).decode()
    lines = "\r\n".join(body[i:i + 76] for i in range(0, len(body), 76))
    return (f"\r\nSYSGATE-FILE-BEGIN name={name} bytes={len(payload)}\r\n{lines}\r\n"
            f"SYSGATE-FILE-END name={name}\r\n")


def test_the_kernel_facts_files_round_trip_and_become_context_keys():
    kallsyms = b"ffffffff81000080 T entry_SYSCALL_64\nffffffff810018f0 T entry_SYSCALL_compat\n"
    text = (_block("cmdline", b"console=ttyS0 randomize_kstack_offset=off\n")
            + _block("kallsyms", kallsyms) + _block("audit_rules", b"0")
            + _block("cpuinfo", b"flags : fpu lm\n")[:-20]  # cut short: left out
            + "\r\nSYSGATE-RESULTS-BEGIN bytes=2\r\ne30=\r\nSYSGATE-RESULTS-END status=0\r\n")
    files = qemu.decode_files(text)
    assert sorted(files) == ["audit_rules", "cmdline", "kallsyms"]
    assert files["kallsyms"] == kallsyms
    assert qemu.decode_results(text) == (0, b"{}")
    raw = json.dumps({"context": {}, "benchmarks": []}).encode()
    ctx = kernels.annotate(raw, "tcg", "", "6.1.0", files=files,
                           config=("CONFIG_AUDITSYSCALL=n\n", "build/.config"))["context"]
    assert ctx["entry_align.entry_SYSCALL_64"] == "0"
    assert ctx["entry_align.entry_SYSCALL_compat"] == "48"
    assert ctx["kconfig_source"] == "build/.config" and ctx["kconfig.AUDITSYSCALL"] == "n"
    assert ctx["randomize_kstack_offset"] == "off (randomize_kstack_offset=off)"
    assert ctx["audit_rules"] == "0" and ctx["fred_active"] == "unknown"


def test_a_config_beside_the_image_is_found(tmp_path):
    (tmp_path / "vmlinuz-6.1.0-x").write_bytes(b"")
    (tmp_path / "config-6.1.0-x").write_text("CONFIG_SECCOMP=y\n")
    text, source = kernel_fetch.config_beside(tmp_path / "vmlinuz-6.1.0-x")
    assert "SECCOMP" in text and source.endswith("config-6.1.0-x")
    assert kernel_fetch.config_beside(tmp_path / "bzImage") == (None, None)


def test_a_guest_that_halts_instead_of_powering_off_ends_without_the_timeout(tmp_path,
                                                                              monkeypatch):
    # A kernel without ACPI halts on power-off: QEMU would run on. A stand-in QEMU that
    # writes the kernel's last words and the results, then idles like a halted guest.
    fake = tmp_path / "bin" / "qemu-system-x86_64"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\n"
        "for a; do case $a in file:*) set -- \"$@\" \"${a#file:}\";; esac; done\n"
        "console=$(eval echo \\${$(($#-1))}); data=$(eval echo \\${$#})\n"
        "printf 'sysgate-init: up: kernel 6.1.0 x86_64\\n' > \"$console\"\n"
        "printf 'SYSGATE-RESULTS-BEGIN bytes=2\\ne30=\\nSYSGATE-RESULTS-END status=0\\n' "
        "> \"$data\"\n"
        "printf 'sysgate-init: results sent (2 bytes); powering off\\n"
        "reboot: Power down\\n' >> \"$console\"\n"
        "exec sleep 120\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    boot = qemu.boot("vmlinuz", "initrd", "", "tcg", 60, str(tmp_path))
    assert boot.ok and boot.halted and boot.results == b"{}", boot.reason
    assert boot.elapsed_s < 60  # ended after the grace, not at the timeout
