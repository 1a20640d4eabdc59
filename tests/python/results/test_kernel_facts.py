"""The kernel facts that explain a step: real files captured on this machine (its
/proc/config.gz, the entry lines of its /proc/kallsyms as root, and the same lines with the
zero addresses a non-root reader sees), their context keys and envdiff's lines."""

import gzip

from conftest import FIXTURES
from sysgatelib.results import envdiff, kernel_facts

HERE = FIXTURES / "kernel_facts"


def _config():
    return gzip.decompress((HERE / "config-6.18.gz").read_bytes()).decode()


def test_the_entry_options_of_a_real_config():
    facts = kernel_facts.config_facts(_config(), "/proc/config.gz")
    assert facts["kconfig.RANDOMIZE_KSTACK_OFFSET"] == "y"
    assert facts["kconfig.RANDOMIZE_KSTACK_OFFSET_DEFAULT"] == "y"
    assert facts["kconfig.AUDITSYSCALL"] == "y"
    assert facts["kconfig.X86_FRED"] == "n"  # "# CONFIG_X86_FRED is not set"
    assert facts["kconfig.SECCOMP"] == "y"
    assert facts["kconfig.MITIGATION_PAGE_TABLE_ISOLATION"] == "y"
    assert facts["kconfig.MITIGATION_SLS"] == "n"
    assert facts["kconfig.CPU_MITIGATIONS"] == "y"
    assert facts["kconfig.preemption"] == "none, dynamic"
    # 6.1's names are not in a 6.18 config: not recorded, so not a false difference.
    assert "kconfig.RETPOLINE" not in facts and "kconfig.PAGE_TABLE_ISOLATION" not in facts
    assert "kconfig.CONTEXT_TRACKING_USER" not in facts  # not offered by this config


def test_debian_6_1_names_and_a_diff_between_the_two_real_configs():
    # Debian's linux-config-6.1 (/usr/src/linux-config-6.1, cloud-amd64) as installed here.
    old_text = gzip.decompress((HERE / "config-6.1-cloud-amd64.gz").read_bytes()).decode()
    old = kernel_facts.config_facts(old_text, "linux-config-6.1")
    assert old["kconfig.RETPOLINE"] == "y" and old["kconfig.PAGE_TABLE_ISOLATION"] == "y"
    assert old["kconfig.CONTEXT_TRACKING_USER"] == "y"
    assert old["kconfig.preemption"] == "voluntary, dynamic"
    new = kernel_facts.config_facts(_config(), "/proc/config.gz")
    lines = [str(d) for d in envdiff.kernel_differences(old, new)]
    assert "kconfig.preemption: voluntary, dynamic -> none, dynamic" in lines
    # Renamed options (RETPOLINE -> MITIGATION_RETPOLINE) are not differences.
    assert not any("RETPOLINE" in line for line in lines)


def test_a_6_1_style_config_and_the_preemption_models():
    text = ("CONFIG_RETPOLINE=y\nCONFIG_PAGE_TABLE_ISOLATION=y\nCONFIG_PREEMPT_VOLUNTARY=y\n"
            "# CONFIG_PREEMPT is not set\nCONFIG_PREEMPT_DYNAMIC=y\n"
            "CONFIG_CONTEXT_TRACKING_USER=y\n")
    facts = kernel_facts.config_facts(text, "x")
    assert facts["kconfig.RETPOLINE"] == "y" and facts["kconfig.PAGE_TABLE_ISOLATION"] == "y"
    assert facts["kconfig.preemption"] == "voluntary, dynamic"
    assert kernel_facts.preemption({"PREEMPT": "y"}) == "full"
    assert kernel_facts.preemption({}) == "unknown"


def test_the_live_config_reader_prefers_proc_config_gz_then_boot(tmp_path):
    (tmp_path / "proc").mkdir()
    (tmp_path / "boot").mkdir()
    (tmp_path / "boot" / "config-6.1.0-x").write_text("CONFIG_SECCOMP=y\n")
    text, source = kernel_facts.read_config(str(tmp_path), "6.1.0-x")
    assert source == "/boot/config-6.1.0-x" and "SECCOMP" in text
    (tmp_path / "proc" / "config.gz").write_bytes((HERE / "config-6.18.gz").read_bytes())
    text, source = kernel_facts.read_config(str(tmp_path), "6.1.0-x")
    assert source == "/proc/config.gz" and "CONFIG_X86_FRED" in text
    text, source = kernel_facts.read_config(str(tmp_path / "none"), "6.1.0-x")
    assert text is None and source.startswith("unknown: no /proc/config.gz")


def test_entry_alignment_as_root_and_unknown_as_non_root():
    root = kernel_facts.entry_alignment((HERE / "kallsyms-root.txt").read_text())
    # ffffffff81000080 T entry_SYSCALL_64: 0x80 mod 64 = 0; ...18f0 compat: 0x30 = 48.
    assert root["entry_align.entry_SYSCALL_64"] == "0"
    assert root["entry_align.entry_SYSCALL_compat"] == "48"
    assert root["entry_align.entry_SYSENTER_compat"] == "48"
    assert root["entry_align.asm_int80_emulation"] == "16"
    assert "entry_align.asm_fred_entrypoint_user" not in root  # no FRED in this kernel
    hidden = kernel_facts.entry_alignment((HERE / "kallsyms-nonroot.txt").read_text())
    assert set(hidden.values()) == {kernel_facts.NEEDS_ROOT}
    assert hidden.keys() == root.keys()
    assert kernel_facts.entry_alignment("") == {
        "entry_align.entry_SYSCALL_64": "unknown: no entry symbols in kallsyms"}


def test_fred_and_randomize_kstack_offset_from_flags_and_the_command_line():
    flags = "processor\t: 0\nflags\t\t: fpu pae fred lm\n"
    assert kernel_facts.fred_active(flags, "quiet") == "true"
    assert kernel_facts.fred_active(flags, "fred=off") == "false"
    assert kernel_facts.fred_active("flags : fpu lm\n", "fred=on") == "false"
    assert kernel_facts.fred_active("", "") == "unknown"
    config = {"RANDOMIZE_KSTACK_OFFSET": "y", "RANDOMIZE_KSTACK_OFFSET_DEFAULT": "y"}
    assert kernel_facts.kstack_offset("ro quiet", config) == "on (config default)"
    assert kernel_facts.kstack_offset("randomize_kstack_offset=off", config) == \
        "off (randomize_kstack_offset=off)"
    assert kernel_facts.kstack_offset("", {}).startswith("off (not built")
    assert kernel_facts.kstack_offset("", None).startswith("unknown")
    # Words after `--` are the init's, not the kernel's.
    assert kernel_facts.cmdline_option("a=1 -- randomize_kstack_offset=0",
                                       "randomize_kstack_offset") is None


def test_the_facts_of_a_guest_from_the_files_its_init_sent():
    files = {"config.gz": (HERE / "config-6.18.gz").read_bytes(),
             "kallsyms": (HERE / "kallsyms-root.txt").read_bytes(),
             "cpuinfo": b"flags : fpu lm\n", "cmdline": b"console=ttyS0\n",
             "audit_rules": b"0\n"}
    facts = kernel_facts.from_guest(files)
    assert facts["kconfig_source"] == "/proc/config.gz (guest)"
    assert facts["audit_rules"] == "0" and facts["fred_active"] == "false"
    assert facts["randomize_kstack_offset"] == "on (config default)"
    del files["config.gz"]
    built = kernel_facts.from_guest(files, "CONFIG_SECCOMP=y\n", "the build's .config")
    assert built["kconfig_source"] == "the build's .config"
    assert built["kconfig.SECCOMP"] == "y"
    assert kernel_facts.from_guest({})["kconfig_source"].startswith("unknown")


def test_capture_reads_a_fixture_root_and_the_live_system():
    facts = kernel_facts.capture()  # never raises; root or not
    assert facts["kconfig_source"] and facts["audit_rules"]
    assert any(k.startswith("entry_align.") for k in facts)


def test_differing_facts_become_what_else_changed_lines():
    before = {"kconfig.RANDOMIZE_KSTACK_OFFSET_DEFAULT": "n", "entry_align.entry_SYSCALL_64":
              "0", "fred_active": "false", "audit_rules": "0", "kconfig.SECCOMP": "y",
              "vuln.retbleed": "Vulnerable"}
    after = dict(before, **{"kconfig.RANDOMIZE_KSTACK_OFFSET_DEFAULT": "y",
                            "entry_align.entry_SYSCALL_64": "32", "audit_rules": "3",
                            "vuln.retbleed": "Mitigation: IBRS"})
    diffs = envdiff.differences(before, after)
    kernel = [d for d in diffs if d.kind == envdiff.KERNEL]
    assert [str(d) for d in kernel] == [
        "audit_rules: 0 -> 3", "entry_align.entry_SYSCALL_64: 0 -> 32",
        "kconfig.RANDOMIZE_KSTACK_OFFSET_DEFAULT: n -> y"]
    assert envdiff.explaining_lines(diffs)[0] == "vuln.retbleed: Vulnerable -> Mitigation: IBRS"
    assert not envdiff.setup_differences(before, after)  # they follow the kernel: poolable
    # Unknown on a side (a non-root run) or missing (an older file) is no difference.
    hidden = dict(after, **{"entry_align.entry_SYSCALL_64": kernel_facts.NEEDS_ROOT})
    del hidden["audit_rules"]
    assert [d.key for d in envdiff.kernel_differences(before, hidden)] == [
        "kconfig.RANDOMIZE_KSTACK_OFFSET_DEFAULT"]


def test_compare_shows_them_under_what_else_changed():
    import history_synth as synth
    from sysgatelib.render import compare_text
    from sysgatelib.verdicts import comparison
    from sysgatelib.results import load

    base = load.parse(synth.make_results(seed=1, repetitions=12, context={
        "entry_align.entry_SYSCALL_64": "0", "kconfig.AUDITSYSCALL": "n"}), "a")
    new = load.parse(synth.make_results(seed=2, repetitions=12, context={
        "entry_align.entry_SYSCALL_64": "32", "kconfig.AUDITSYSCALL": "y"}), "b")
    text = compare_text.render_terminal(comparison.compare_runs(base, new))
    assert "what else changed with the kernel" in text
    assert "  entry_align.entry_SYSCALL_64: 0 -> 32" in text
    assert "  kconfig.AUDITSYSCALL: n -> y" in text
