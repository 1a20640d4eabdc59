"""Build a kernel from a source tree, out of the tree, with the guest's config fragment.

    make -C SOURCE O=BUILD olddefconfig        (BUILD/.config: the config + bisect.config)
    make -C SOURCE O=BUILD -jN bzImage LOCALVERSION=-g<commit>

One build folder serves every commit of a bisection: kbuild rebuilds what the checkout
changed, so a step after the first costs a fraction of a full build. LOCALVERSION gives
each commit's kernel its own release (6.1.158-g1a2b3c4d5e6f), so the history store and
trend keep the steps apart. A build command of the user's (a build farm, or a test's fake
build) replaces all of it: it runs in the source tree with SYSGATE_* variables set and
prints the image's path as its last line.
"""

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

FRAGMENT = Path(__file__).with_name("bisect.config")
IMAGE = Path("arch") / "x86" / "boot" / "bzImage"
LOG_TAIL_LINES = 15


class BuildError(Exception):
    """A commit that does not build (bisect skips it)."""

    def __init__(self, message, log_tail=""):
        super().__init__(message)
        self.log_tail = log_tail


@dataclass
class Built:
    image: str
    config: str | None  # the .config the image was built with (None: a build command's)
    seconds: float


def _tail(path, lines=LOG_TAIL_LINES):
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


def _make(source, build_dir, targets, log, jobs=None, extra=()):
    cmd = ["make", "-C", str(source), f"O={build_dir}"]
    if jobs:
        cmd.append(f"-j{jobs}")
    cmd += list(targets) + list(extra)
    with open(log, "ab") as out:
        out.write(("$ " + " ".join(cmd) + "\n").encode())
        out.flush()
        try:
            done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=subprocess.STDOUT, check=False)
        except FileNotFoundError as exc:
            raise BuildError("make: not found; install build-essential") from exc
    if done.returncode != 0:
        raise BuildError(f"make {' '.join(targets)} failed (exit {done.returncode}); "
                         f"log: {log}", _tail(log))


def with_fragment(config_text, fragment=FRAGMENT):
    """The config with the fragment appended: kconfig takes the later assignment, and
    olddefconfig then settles what the fragment's options depend on."""
    return config_text.rstrip("\n") + "\n# sysgate bisect.config\n" + \
        Path(fragment).read_text()


def minimal_config(source, build_dir, log, fragment=FRAGMENT):
    """tinyconfig plus the fragment at the checked-out commit: the text of the .config."""
    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    _make(source, build_dir, ["tinyconfig"], log)
    config = build_dir / ".config"
    config.write_text(with_fragment(config.read_text(), fragment))
    _make(source, build_dir, ["olddefconfig"], log)
    return config.read_text()


def build(source, build_dir, config_text, commit, jobs, log, fragment=FRAGMENT):
    """Configure and build the checked-out commit; a Built, or BuildError."""
    start = time.monotonic()
    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    config = build_dir / ".config"
    config.write_text(with_fragment(config_text, fragment))
    _make(source, build_dir, ["olddefconfig"], log)
    _make(source, build_dir, ["bzImage"], log, jobs, [f"LOCALVERSION=-g{commit[:12]}"])
    image = build_dir / IMAGE
    if not image.is_file():
        raise BuildError(f"make bzImage left no {IMAGE}; log: {log}", _tail(log))
    # A copy per commit: the next step's build overwrites the folder's image.
    kept = Path(log).with_name("bzImage")
    shutil.copyfile(image, kept)
    kept_config = kept.with_name("config")
    shutil.copyfile(config, kept_config)
    return Built(str(kept), str(kept_config), time.monotonic() - start)


def build_with_command(command, source, build_dir, config_path, commit, jobs, log):
    """The user's build command (sh -c, in the source tree); its last output line is the
    image. Exit status non-zero, or no such file: BuildError."""
    start = time.monotonic()
    env = dict(os.environ, SYSGATE_SOURCE=str(source), SYSGATE_BUILD_DIR=str(build_dir),
               SYSGATE_CONFIG=str(config_path or ""), SYSGATE_FRAGMENT=str(FRAGMENT),
               SYSGATE_COMMIT=commit, SYSGATE_JOBS=str(jobs))
    Path(build_dir).mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        done = subprocess.run(["sh", "-c", command], cwd=source, env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=out, check=False)
        out.write(done.stdout)
    if done.returncode != 0:
        raise BuildError(f"the build command failed (exit {done.returncode}); log: {log}",
                         _tail(log))
    lines = done.stdout.decode(errors="replace").strip().splitlines()
    image = lines[-1].strip() if lines else ""
    if not image or not os.path.isfile(os.path.join(source, image)):
        raise BuildError(f"the build command printed no image path as its last line "
                         f"({image or 'nothing'}); log: {log}", _tail(log))
    return Built(os.path.join(source, image), None, time.monotonic() - start)
