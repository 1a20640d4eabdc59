"""Build the guest's initramfs: the benchmark, its shared libraries and a tiny init.

The archive is written here (cpio "newc", gzip), not by the cpio tool, so no root is
needed for the device node the kernel wants (/dev/console) and the result is
reproducible. Layout inside the guest:

    /init                      static PID 1 built from guest_init.c
    /sysgate/bin/<binaries>    sysgate_bench and the ia32 helper, side by side
    /sysgate/args              the benchmark's argv, one per line
    /sysgate/env               its environment, one NAME=VALUE per line
    /sysgate/hostname          the guest's host name
    /lib64/ld-linux-x86-64.so.2, /lib/ld-linux.so.2, /lib/x86_64-linux-gnu/..., ...
                               every library at the path ldd found it, so the ELF
                               interpreter path (PT_INTERP) and the loader's default
                               search path both work without an ld.so.cache
"""

import gzip
import hashlib
import os
import re
import stat
import struct
import subprocess

from ..core.errors import UserError

GUEST_BIN = "/sysgate/bin"
RESULTS_PATH = "/results.json"
_INIT_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest_init.c")

# --------------------------------------------------------------------------- ELF


class ElfInfo:
    """What the initramfs needs to know about an ELF file: class, interpreter, DT_NEEDED."""

    def __init__(self, bits, interpreter, needed):
        self.bits = bits
        self.interpreter = interpreter
        self.needed = needed


def read_elf(path):
    """Parse just enough of an ELF file; None when it is not ELF."""
    with open(path, "rb") as f:
        data = f.read()
    return parse_elf(data)


def parse_elf(data):
    if data[:4] != b"\x7fELF" or len(data) < 64:
        return None
    bits = {1: 32, 2: 64}.get(data[4])
    if bits is None or data[5] != 1:  # little endian only (x86)
        return None
    if bits == 64:
        phoff, = struct.unpack_from("<Q", data, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
        ph_fmt, dyn_fmt = "<IIQQQQQQ", "<qQ"
    else:
        phoff, = struct.unpack_from("<I", data, 0x1C)
        phentsize, phnum = struct.unpack_from("<HH", data, 0x2A)
        ph_fmt, dyn_fmt = "<IIIIIIII", "<iI"
    interpreter = None
    dynamic = None
    loads = []  # (vaddr, offset, filesz)
    for i in range(phnum):
        fields = struct.unpack_from(ph_fmt, data, phoff + i * phentsize)
        if bits == 64:
            p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz = fields[:6]
        else:
            p_type, p_offset, p_vaddr, _paddr, p_filesz = fields[:5]
        if p_type == 3:  # PT_INTERP
            interpreter = data[p_offset:p_offset + p_filesz].split(b"\0")[0].decode()
        elif p_type == 2:  # PT_DYNAMIC
            dynamic = (p_offset, p_filesz)
        elif p_type == 1:  # PT_LOAD
            loads.append((p_vaddr, p_offset, p_filesz))
    needed = []
    if dynamic:
        entries = []
        step = struct.calcsize(dyn_fmt)
        for off in range(dynamic[0], dynamic[0] + dynamic[1], step):
            tag, val = struct.unpack_from(dyn_fmt, data, off)
            if tag == 0:
                break
            entries.append((tag, val))
        strtab = next((v for t, v in entries if t == 5), None)  # DT_STRTAB (a vaddr)
        if strtab is not None:
            base = next((off + strtab - va for va, off, sz in loads
                         if va <= strtab < va + sz), None)
            if base is not None:
                for tag, val in entries:
                    if tag == 1:  # DT_NEEDED
                        end = data.index(b"\0", base + val)
                        needed.append(data[base + val:end].decode())
    return ElfInfo(bits, interpreter, needed)


# --------------------------------------------------------------------------- libraries

_LDD_LINE = re.compile(r"^\s*(?:(\S+)\s+=>\s+)?(/\S+)\s+\(0x[0-9a-f]+\)\s*$")
_LDD_MISSING = re.compile(r"^\s*(\S+)\s+=>\s+not found")


def shared_libraries(binary):
    """Absolute paths (as the loader names them) of every library `binary` loads,
    its ELF interpreter included. Empty for a static binary."""
    info = read_elf(binary)
    if info is None:
        raise UserError(f"{binary}: not an ELF file")
    if info.interpreter is None and not info.needed:
        return []
    try:
        proc = subprocess.run(["ldd", binary], capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise UserError("ldd: not found; install libc-bin") from exc
    paths = []
    missing = []
    for line in proc.stdout.splitlines():
        if m := _LDD_MISSING.match(line):
            missing.append(m.group(1))
        elif m := _LDD_LINE.match(line):
            paths.append(m.group(2))
    if missing:
        raise UserError(f"{binary}: shared libraries not found on this host: "
                        f"{', '.join(missing)}")
    if proc.returncode != 0 and not paths and info.bits == 32:
        # ldd runs the binary's own loader: a host kernel that cannot exec 32-bit programs
        # (ia32_emulation=off, no compat ELF loader) fails it, though a guest kernel may
        # run them. Follow the DT_NEEDED entries through the 32-bit library folders.
        paths = _libraries_by_search(info, _LIB32_DIRS)
    if proc.returncode != 0 and not paths:
        why = (proc.stderr or proc.stdout).strip().splitlines()
        raise UserError(f"{binary}: ldd failed: {why[-1] if why else proc.returncode}"
                        + ("; a 32-bit binary needs gcc-multilib (libc6-i386)"
                           if info.bits == 32 else ""))
    if info.interpreter and info.interpreter not in paths:
        paths.append(info.interpreter)
    return paths


_LIB32_DIRS = ("/lib32", "/usr/lib32", "/lib/i386-linux-gnu", "/usr/lib/i386-linux-gnu")


def _libraries_by_search(info, folders):
    """The libraries an ELF file needs, found by name in `folders` (of its own ELF class),
    and theirs in turn; [] when one is missing (the caller reports ldd's failure)."""
    found, queue = [], list(info.needed)
    while queue:
        name = queue.pop(0)
        path = next((os.path.join(f, name) for f in folders
                     if os.path.isfile(os.path.join(f, name))
                     and (candidate := read_elf(os.path.join(f, name))) is not None
                     and candidate.bits == info.bits), None)
        if path is None:
            return []
        if path in found:
            continue
        found.append(path)
        queue += read_elf(path).needed
    return found


# --------------------------------------------------------------------------- init

def build_init(cache_dir):
    """Compile guest_init.c statically, once per source version; returns the path."""
    with open(_INIT_SOURCE, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    out = os.path.join(cache_dir, f"init-{digest}")
    if os.path.exists(out):
        return out
    os.makedirs(cache_dir, exist_ok=True)
    cc = os.environ.get("CC", "cc")
    tmp = f"{out}.tmp{os.getpid()}"
    try:
        proc = subprocess.run([cc, "-static", "-Os", "-Wall", "-o", tmp, _INIT_SOURCE],
                              capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise UserError(f"{cc}: not found; the guest init is compiled with it "
                        "(install gcc)") from exc
    if proc.returncode != 0:
        raise UserError(f"building the guest init failed: {proc.stderr.strip()[-500:]}")
    os.replace(tmp, out)
    return out


# --------------------------------------------------------------------------- cpio


class Cpio:
    """A cpio "newc" archive written in memory (the format the kernel unpacks)."""

    def __init__(self):
        self._chunks = []
        self._ino = 1
        self._dirs = set()
        self.names = []

    def _entry(self, name, mode, data=b"", rdev=(0, 0), nlink=1):
        name_b = name.encode() + b"\0"
        header = "070701" + "".join(f"{v:08X}" for v in (
            self._ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1],
            len(name_b), 0))
        self._ino += 1
        self._chunks.append(header.encode() + name_b)
        self._pad()
        self._chunks.append(data)
        self._pad()

    def _pad(self):
        size = sum(len(c) for c in self._chunks)
        self._chunks.append(b"\0" * (-size % 4))

    def directory(self, path):
        path = path.strip("/")
        if not path or path in self._dirs:
            return
        self.directory(os.path.dirname(path))
        self._dirs.add(path)
        self.names.append(path)
        self._entry(path, stat.S_IFDIR | 0o755, nlink=2)

    def file(self, path, data, mode=0o644):
        path = path.strip("/")
        self.directory(os.path.dirname(path))
        self.names.append(path)
        self._entry(path, stat.S_IFREG | mode, data)

    def char_device(self, path, major, minor, mode=0o600):
        path = path.strip("/")
        self.directory(os.path.dirname(path))
        self.names.append(path)
        self._entry(path, stat.S_IFCHR | mode, rdev=(major, minor))

    def bytes(self):
        self._entry("TRAILER!!!", 0)
        data = b"".join(self._chunks)
        return data + b"\0" * (-len(data) % 512)


def read_cpio(data):
    """Entries of a newc archive (gzip or not): {name: (mode, bytes)}. For tests."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    entries = {}
    pos = 0
    while True:
        header = data[pos:pos + 110]
        if header[:6] != b"070701":
            raise ValueError(f"bad cpio magic at {pos}")
        fields = [int(header[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
        mode, filesize, namesize = fields[1], fields[6], fields[11]
        pos += 110
        name = data[pos:pos + namesize - 1].decode()
        pos += namesize
        pos += -pos % 4
        if name == "TRAILER!!!":
            return entries
        entries[name] = (mode, data[pos:pos + filesize])
        pos += filesize
        pos += -pos % 4


# --------------------------------------------------------------------------- build


def build(binaries, argv, env, out_path, cache_dir, hostname="sysgate-guest"):
    """Write the gzip'd initramfs to out_path.

    binaries: host paths; the first is what init runs. argv: arguments after the binary
    (paths in them are guest paths). env: NAME -> value for the benchmark.
    Returns the sorted list of archive member names.
    """
    cpio = Cpio()
    for d in ("dev", "proc", "sys", "tmp", "run"):
        cpio.directory(d)
    cpio.char_device("dev/console", 5, 1)
    cpio.char_device("dev/null", 1, 3, 0o666)
    with open(build_init(cache_dir), "rb") as f:
        cpio.file("init", f.read(), 0o755)

    libraries = {}
    for binary in binaries:
        if not os.access(binary, os.X_OK) or not os.path.isfile(binary):
            raise UserError(f"{binary}: not an executable file")
        with open(binary, "rb") as f:
            cpio.file(f"{GUEST_BIN}/{os.path.basename(binary)}", f.read(), 0o755)
        for lib in shared_libraries(binary):
            libraries.setdefault(lib, binary)
    lib_dirs = []
    for lib in sorted(libraries):
        # Copy the file the symlink chain ends at, under the name the loader asks for.
        with open(os.path.realpath(lib), "rb") as f:
            cpio.file(lib, f.read(), 0o755)
        if os.path.dirname(lib) not in lib_dirs:
            lib_dirs.append(os.path.dirname(lib))

    guest_env = {"PATH": GUEST_BIN, "HOME": "/tmp", "LD_LIBRARY_PATH": ":".join(lib_dirs)}
    guest_env.update(env)
    run_argv = [f"{GUEST_BIN}/{os.path.basename(binaries[0])}", *argv]
    for arg in run_argv:
        if "\n" in arg:
            raise UserError(f"benchmark argument {arg!r}: contains a newline")
    cpio.file("sysgate/args", ("\n".join(run_argv) + "\n").encode())
    cpio.file("sysgate/env",
              "".join(f"{k}={v}\n" for k, v in guest_env.items()).encode())

    cpio.file("sysgate/hostname", f"{hostname}\n".encode())

    tmp = f"{out_path}.tmp"
    with open(tmp, "wb") as raw:
        # mtime=0: the same inputs give the same bytes.
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as gz:
            gz.write(cpio.bytes())
    os.replace(tmp, out_path)
    return sorted(cpio.names)


def find_helpers(bench):
    """The ia32 helper(s) next to the benchmark binary: sysgate_ia32*, if built."""
    folder = os.path.dirname(os.path.abspath(bench))
    found = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if (name.startswith("sysgate_ia32") and os.path.isfile(path)
                and os.access(path, os.X_OK) and read_elf(path) is not None):
            found.append(path)
    return found


