"""Files appear whole or not at all: written under a temporary name, then renamed.

A reader (a browser, CI reading compare.json) never sees half a file, and a command that
fails leaves no page that looks current: retire() removes the old page before a new one
is rendered, so after a failure there is no page rather than a stale one.
"""

import os
import secrets

from .errors import UserError


def _temporary(path):
    folder, base = os.path.split(path)
    return os.path.join(folder, f".{base}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def write(path, writer):
    """Call writer(temporary path), then rename onto path; UserError on any OSError.

    The folder is created here, on the first write, so that a command failing before
    anything is written leaves no empty folder behind.
    """
    path = os.fspath(path)
    folder = os.path.dirname(path) or "."
    temporary = _temporary(path)
    try:
        os.makedirs(folder, exist_ok=True)
        writer(temporary)
        os.replace(temporary, path)
    except OSError as exc:
        _unlink(temporary)
        raise UserError(f"{path}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        _unlink(temporary)
        raise
    return path


def write_text(path, content):
    def writer(temporary):
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
    return write(path, writer)


def save_figure(figure, path, **options):
    """figure.savefig through a temporary name (the format comes from path's suffix)."""
    kind = os.path.splitext(os.fspath(path))[1].lstrip(".") or "png"
    return write(path, lambda temporary: figure.savefig(temporary, format=kind, **options))


def retire(*paths):
    """Remove pages a new render will replace, so that a failed render leaves none."""
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except IsADirectoryError:
            raise UserError(f"{path}: is a directory, where a page is to be written") from None
        except OSError as exc:
            raise UserError(f"{path}: cannot replace: {exc.strerror}") from None


def check_writable_folder(path):
    """UserError unless path is (or can be created as) a folder this user can write."""
    path = os.path.abspath(os.fspath(path))
    probe = path
    while not os.path.lexists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise UserError(f"{path}: cannot create the folder: {probe} is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        what = "write into" if probe == path else f"create it in {probe}"
        raise UserError(f"{path}: cannot {what}: permission denied")


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass
