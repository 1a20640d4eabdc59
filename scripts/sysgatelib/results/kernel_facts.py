"""The kernel facts that explain a change in entry cost, as results-context keys.

A kernel-entry step between two kernels ("+12 ns per entry") usually has a cause that the
kernel says about itself: a config option on the entry path (RANDOMIZE_KSTACK_OFFSET,
AUDITSYSCALL, CONTEXT_TRACKING_USER, the preemption model, FRED, the mitigations), FRED
active or not, the alignment of the entry points (an entry-code change that moved
entry_SYSCALL_64 off a 64-byte boundary cost 7.1-rc7 a measurable step), audit rules (each
one is checked on every syscall when AUDITSYSCALL is built in), randomize_kstack_offset=.

Keys (docs/results-format.md):

- `kconfig_source`: where the options came from, or "unknown: <why>";
- `kconfig.<OPTION>`: y, m or n (n: "is not set" or absent) for each option of ENTRY_OPTIONS
  and every MITIGATION_* option; `kconfig.preemption`: the preemption model;
- `entry_align.<symbol>`: the entry point's address mod 64, "unknown: needs root" when
  /proc/kallsyms shows zeros (kptr_restrict), "absent" when the kernel has no such symbol;
- `fred_active`: true/false/unknown; `randomize_kstack_offset`: on/off and where from;
- `audit_rules`: the number of audit rules loaded, or "unknown: <why>".

The parsers take text so that tests feed them real files; capture() reads the live system
(`sysgate run`), from_guest() what a QEMU guest's init sent back (`sysgate kernels`,
`sysgate bisect`). envdiff turns differing keys into "what else changed" lines.
"""

import gzip
import os
import re
import socket
import struct

# Options on the syscall entry and exit path (CONFIG_ prefix left out).
ENTRY_OPTIONS = (
    "RANDOMIZE_KSTACK_OFFSET", "RANDOMIZE_KSTACK_OFFSET_DEFAULT", "AUDITSYSCALL",
    "CONTEXT_TRACKING_USER", "CONTEXT_TRACKING_USER_FORCE", "X86_FRED", "SECCOMP",
    "SECCOMP_FILTER", "CPU_MITIGATIONS", "SPECULATION_MITIGATIONS", "RETPOLINE",
    "PAGE_TABLE_ISOLATION", "RETHUNK", "CPU_UNRET_ENTRY", "CPU_IBPB_ENTRY",
    "CPU_IBRS_ENTRY", "CPU_SRSO", "CALL_DEPTH_TRACKING", "SLS", "IA32_EMULATION",
    "IA32_EMULATION_DEFAULT_DISABLED", "X86_KERNEL_IBT", "PROVE_LOCKING", "KASAN",
    "DEBUG_ENTRY",
)
# Options whose name starts so are all recorded (the 6.9+ names of the mitigations).
ENTRY_PREFIXES = ("MITIGATION_",)
# The preemption models, most preemptible last; PREEMPT_DYNAMIC is a switch on top.
PREEMPTION_MODELS = (("PREEMPT_NONE", "none"), ("PREEMPT_VOLUNTARY", "voluntary"),
                     ("PREEMPT", "full"), ("PREEMPT_LAZY", "lazy"), ("PREEMPT_RT", "rt"))
# The entry points whose alignment is recorded: 64-bit SYSCALL, the compat entries and
# FRED's (whichever the kernel has).
ENTRY_SYMBOLS = ("entry_SYSCALL_64", "entry_SYSCALL_compat", "entry_SYSENTER_compat",
                 "entry_INT80_compat", "asm_int80_emulation", "asm_fred_entrypoint_user")
ALIGNMENT = 64
NEEDS_ROOT = "unknown: needs root"
ABSENT = "absent"
_OPTION = re.compile(r"^CONFIG_(\w+)=(.*)$")
_NOT_SET = re.compile(r"^# CONFIG_(\w+) is not set$")


# --- kernel config -----------------------------------------------------------------------


def parse_config(text):
    """{OPTION: value} of a kernel .config text (CONFIG_ left out; "n" for "is not set")."""
    options = {}
    for line in text.splitlines():
        line = line.strip()
        m = _OPTION.match(line)
        if m:
            options[m.group(1)] = m.group(2).strip('"')
            continue
        m = _NOT_SET.match(line)
        if m:
            options[m.group(1)] = "n"
    return options


def preemption(options):
    """The preemption model of a config: "voluntary, dynamic", "full", ... or "unknown"."""
    models = [name for option, name in PREEMPTION_MODELS if options.get(option) == "y"]
    if not models:
        return "unknown"
    text = models[-1] if "rt" not in models else "rt"
    if options.get("PREEMPT_DYNAMIC") == "y":
        text += ", dynamic"
    return text


def config_facts(text, source):
    """The kconfig_* keys of a config text."""
    options = parse_config(text)
    facts = {"kconfig_source": source, "kconfig.preemption": preemption(options)}
    names = list(ENTRY_OPTIONS) + sorted(
        o for o in options if o.startswith(ENTRY_PREFIXES) and o not in ENTRY_OPTIONS)
    for name in names:
        value = options.get(name, "n")
        # An option this kernel version does not know is no fact: 6.1 has RETPOLINE,
        # 6.9+ MITIGATION_RETPOLINE. Record it only where the config mentions it.
        if name in options:
            facts[f"kconfig.{name}"] = value
    return facts


def read_config(root="", release=None):
    """(text, source) of the running kernel's config, or (None, why not)."""
    release = release or os.uname().release
    gz = f"{root}/proc/config.gz"
    try:
        with gzip.open(gz, "rt", errors="replace") as handle:
            return handle.read(), "/proc/config.gz"
    except FileNotFoundError:
        pass
    except (OSError, EOFError) as exc:
        return None, f"unknown: {gz}: {exc}"
    boot = f"{root}/boot/config-{release}"
    try:
        with open(boot, errors="replace") as handle:
            return handle.read(), f"/boot/config-{release}"
    except OSError:
        return None, (f"unknown: no /proc/config.gz (CONFIG_IKCONFIG_PROC) and no "
                      f"/boot/config-{release}")


# --- entry points, FRED, the command line --------------------------------------------------


def entry_alignment(kallsyms_text):
    """{entry_align.<symbol>: address mod 64} from /proc/kallsyms lines."""
    found = {}
    for line in kallsyms_text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[2] in ENTRY_SYMBOLS and parts[2] not in found:
            try:
                found[parts[2]] = int(parts[0], 16)
            except ValueError:
                continue
    if not found:
        return {f"entry_align.{ENTRY_SYMBOLS[0]}": "unknown: no entry symbols in kallsyms"}
    hidden = all(address == 0 for address in found.values())
    facts = {}
    for symbol in ENTRY_SYMBOLS:
        if symbol in found:
            facts[f"entry_align.{symbol}"] = (NEEDS_ROOT if hidden
                                              else str(found[symbol] % ALIGNMENT))
    return facts


def cmdline_option(cmdline, name):
    """The value of the last `name=value` word of a command line, or None."""
    value = None
    for word in (cmdline or "").split():
        if word == "--":
            break  # what follows is the init's
        key, eq, rest = word.partition("=")
        if key == name and eq:
            value = rest
    return value


def fred_active(cpuinfo_text, cmdline):
    """"true" when the CPU flags show fred (the kernel clears it when FRED is off)."""
    flags = set()
    for line in cpuinfo_text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            flags = set(value.split())
            break
    if not flags:
        return "unknown"
    if "fred" in flags and cmdline_option(cmdline, "fred") != "off":
        return "true"
    return "false"


def kstack_offset(cmdline, config):
    """randomize_kstack_offset as the kernel applies it: the command line, else the config's
    default (RANDOMIZE_KSTACK_OFFSET_DEFAULT)."""
    value = cmdline_option(cmdline, "randomize_kstack_offset")
    if value is not None:
        on = value.lower() in ("1", "y", "yes", "on", "true")
        return f"{'on' if on else 'off'} (randomize_kstack_offset={value})"
    if config is None:
        return "unknown: no kernel config"
    if config.get("RANDOMIZE_KSTACK_OFFSET", "n") == "n":
        return "off (not built: CONFIG_RANDOMIZE_KSTACK_OFFSET=n)"
    default = config.get("RANDOMIZE_KSTACK_OFFSET_DEFAULT", "n") == "y"
    return f"{'on' if default else 'off'} (config default)"


# --- audit rules ------------------------------------------------------------------------

_NETLINK_AUDIT = 9
_AUDIT_LIST_RULES = 1013
_NLMSG_ERROR, _NLMSG_DONE = 2, 3
_NLM_F_REQUEST, _NLM_F_DUMP = 0x1, 0x300


def audit_rules():
    """The number of audit rules the kernel holds (an AUDIT_LIST_RULES netlink dump, what
    `auditctl -l` asks), or "unknown: <why>"."""
    if os.geteuid() != 0:
        return "unknown: needs root"
    try:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, _NETLINK_AUDIT)
    except OSError as exc:
        return f"unknown: no audit netlink socket ({exc.strerror or exc})"
    try:
        sock.settimeout(2.0)
        sock.bind((0, 0))
        sock.send(struct.pack("=IHHII", 16, _AUDIT_LIST_RULES,
                              _NLM_F_REQUEST | _NLM_F_DUMP, 1, 0))
        rules = 0
        while True:
            data = sock.recv(1 << 16)
            if not data:
                return "unknown: the audit socket closed"
            offset = 0
            while offset + 16 <= len(data):
                length, kind = struct.unpack_from("=IH", data, offset)
                if kind == _NLMSG_DONE:
                    return str(rules)
                if kind == _NLMSG_ERROR:
                    error = struct.unpack_from("=i", data, offset + 16)[0]
                    if error:
                        return f"unknown: audit netlink error {os.strerror(-error)}"
                    return str(rules)
                if kind == _AUDIT_LIST_RULES:
                    rules += 1
                offset += max(16, (length + 3) & ~3)
    except OSError as exc:
        return f"unknown: audit netlink: {exc.strerror or exc}"
    finally:
        sock.close()


# --- all of it -------------------------------------------------------------------------


def facts_from(config_text, config_source, kallsyms_text, cpuinfo_text, cmdline, audit):
    """Every key from the raw sources (config_text None: config_source says why)."""
    facts = {}
    config = None
    if config_text is not None:
        facts.update(config_facts(config_text, config_source))
        config = parse_config(config_text)
    else:
        facts["kconfig_source"] = config_source
    facts.update(entry_alignment(kallsyms_text or ""))
    facts["fred_active"] = fred_active(cpuinfo_text or "", cmdline)
    facts["randomize_kstack_offset"] = kstack_offset(cmdline, config)
    facts["audit_rules"] = audit
    return facts


def _read(path):
    try:
        with open(path, errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def capture(root=""):
    """The facts of the running kernel (`sysgate run`)."""
    text, source = read_config(root)
    return facts_from(text, source, _read(f"{root}/proc/kallsyms"),
                      _read(f"{root}/proc/cpuinfo"), _read(f"{root}/proc/cmdline").strip(),
                      audit_rules() if not root else "unknown: not the live system")


def from_guest(files, config_text=None, config_source=None):
    """The facts of a QEMU guest from the files its init sent ({name: bytes}: cmdline,
    cpuinfo, kallsyms (the entry lines), config.gz when the kernel has IKCONFIG_PROC,
    audit_rules). config_text: the config the host built the kernel with, used when the
    guest has no /proc/config.gz."""
    def text(name):
        return files.get(name, b"").decode(errors="replace")

    if files.get("config.gz"):
        try:
            config_text = gzip.decompress(files["config.gz"]).decode(errors="replace")
            config_source = "/proc/config.gz (guest)"
        except (OSError, EOFError):
            pass
    if config_text is None:
        config_source = "unknown: the guest kernel has no /proc/config.gz (IKCONFIG_PROC)"
    audit = text("audit_rules").strip() or "unknown: the guest did not say"
    return facts_from(config_text, config_source, text("kallsyms"), text("cpuinfo"),
                      text("cmdline").strip(), audit)
