"""Kernel images for `sysgate kernels`: a vmlinuz path as given, or a Debian package name
(linux-image-6.1.0-47-cloud-amd64) fetched with `apt-get download` into
~/.cache/sysgate/kernels and unpacked there with dpkg-deb (no root needed); a
meta-package (linux-image-cloud-amd64) is followed to the image it depends on.
"""

import os
import re
import subprocess
import tarfile
import tempfile
from pathlib import Path

CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sysgate"
_PACKAGE_NAME = re.compile(r"^[a-z0-9][a-z0-9.+~-]+$")


class KernelError(Exception):
    """One kernel failed; the others still run. Carries the console tail when there is one."""

    def __init__(self, message, console_tail=""):
        super().__init__(message)
        self.console_tail = console_tail


def resolve_kernel(spec, cache_dir=None):
    """(vmlinuz path, detail) for a path or a Debian package name."""
    if os.path.sep in spec or os.path.exists(spec):
        if not os.path.isfile(spec):
            raise KernelError(f"{spec}: no such file")
        return os.path.abspath(spec), "local image"
    if not _PACKAGE_NAME.match(spec):
        raise KernelError(f"{spec}: neither a file nor a Debian package name")
    return fetch_package(spec, Path(cache_dir or CACHE_DIR) / "kernels")


def fetch_package(package, cache, depth=0):
    """Download (once) and unpack the vmlinuz of a linux-image package."""
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    deb = _cached_deb(debs, package)
    detail = "cached"
    if deb is None:
        try:
            proc = subprocess.run(["apt-get", "download", package], cwd=debs,
                                  capture_output=True, text=True, check=False)
        except FileNotFoundError as exc:
            raise KernelError("apt-get: not found; give a vmlinuz path instead") from exc
        deb = _cached_deb(debs, package)
        if proc.returncode != 0 or deb is None:
            errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("E:")]
            why = errors[-1][2:].strip() if errors else f"apt-get exited {proc.returncode}"
            raise KernelError(f"{package}: apt-get download failed: {why} "
                              f"(list candidates: apt-cache search --names-only "
                              f"'^linux-image-.*-cloud-amd64$')")
        detail = "downloaded"
    unpacked = cache / "unpacked" / deb.stem
    images = sorted(unpacked.glob("vmlinuz-*")) if unpacked.is_dir() else []
    if not images:
        images = _extract_vmlinuz(deb, unpacked)
    if not images:
        # A meta-package (linux-image-cloud-amd64): follow its linux-image dependency.
        target = _image_dependency(deb)
        if target and depth == 0:
            path, inner = fetch_package(target, cache, depth + 1)
            return path, f"{inner}, via {target}"
        raise KernelError(f"{package}: the package holds no /boot/vmlinuz-*")
    return str(images[0]), f"{detail} {deb.name}"


def _cached_deb(debs, package):
    # apt-get download names the file NAME_VERSION_ARCH.deb, with ':' escaped as %3a.
    found = sorted(debs.glob(f"{package}_*.deb"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def _extract_vmlinuz(deb, unpacked):
    """Stream the package's data tarball and keep only boot/vmlinuz-* and boot/config-*."""
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=unpacked.parent.parent))
    try:
        proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError as exc:
        raise KernelError("dpkg-deb: not found; give a vmlinuz path instead") from exc
    found = []
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for member in tar:
                name = os.path.basename(member.name)
                # The config goes along: the guest's kernel facts (kernel_facts.py).
                if (member.isfile() and name.startswith(("vmlinuz-", "config-"))
                        and os.path.dirname(member.name).lstrip("./") == "boot"):
                    with tar.extractfile(member) as src, open(tmp / name, "wb") as dst:
                        dst.write(src.read())
                    found.append(name)
    except tarfile.TarError as exc:
        raise KernelError(f"{deb}: cannot unpack: {exc}") from exc
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode(errors="replace").strip()
        proc.stderr.close()
        if proc.wait() != 0 and not found:
            raise KernelError(f"{deb}: dpkg-deb failed: {err}")
    unpacked.parent.mkdir(parents=True, exist_ok=True)
    try:
        if not any(name.startswith("vmlinuz-") for name in found):
            raise FileExistsError
        os.replace(tmp, unpacked)
    except OSError:  # nothing to keep, or another sysgate unpacked it meanwhile
        for name in found:
            os.unlink(tmp / name)
        os.rmdir(tmp)
    return sorted(unpacked.glob("vmlinuz-*")) if found else []


def config_beside(vmlinuz):
    """(text, source) of the config a kernel image was built with, found beside it
    (config-<release> for vmlinuz-<release>, as in /boot and in Debian's packages, or a
    build folder's .config), else (None, None)."""
    image = Path(vmlinuz)
    candidates = [image.parent / ".config"]
    if image.name.startswith("vmlinuz-"):
        candidates.insert(0, image.parent / ("config-" + image.name[len("vmlinuz-"):]))
    for path in candidates:
        try:
            return path.read_text(errors="replace"), str(path)
        except OSError:
            continue
    return None, None


def _image_dependency(deb):
    proc = subprocess.run(["dpkg-deb", "-f", str(deb), "Depends"],
                          capture_output=True, text=True, check=False)
    for item in proc.stdout.split(","):
        name = item.strip().split(" ")[0]
        if name.startswith("linux-image-"):
            return name
    return None
