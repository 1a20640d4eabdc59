"""Who ran a run, and whether two runs may be pooled: the host fingerprint, the content
hash that identifies a run in the store, the kernel command line as the store keeps it."""

import hashlib
import json

from ..results import envdiff

# Boot options that the boot loader adds for itself (the image and initrd it loaded): they
# change with every kernel and say nothing about how the kernel was asked to run.
_LOADER_OPTIONS = ("BOOT_IMAGE", "initrd")

# The context keys that identify a machine. Not the microcode: it changes with updates and
# is reported as an environment change instead.
_FINGERPRINT_KEYS = (
    "host_name", "cpu_vendor", "cpu_model_name", "cpu_family", "cpu_model", "hypervisor",
)


def host_fingerprint(context):
    text = "\0".join(context.get(k, "") for k in _FINGERPRINT_KEYS)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def content_hash(data):
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def kernel_cmdline(cmdline):
    """The kernel command line as given, minus the boot loader's own arguments."""
    words = (cmdline or "").split()
    return " ".join(w for w in words if w.split("=", 1)[0] not in _LOADER_OPTIONS)


def same_setup(context, other):
    """Whether two runs may be pooled as repetitions of one setup: same machine, boot
    options and measurement conditions (kernel aside)."""
    return not envdiff.setup_differences(context, other)
