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


def check_writable_folder(path, what="-o"):
    """UserError unless path is (or can be created as) a folder this process can write.

    Tried, not guessed from permission bits: the missing folders are made and a file is
    created in the last one, then all of it is removed again. Root passes every access()
    test, and /proc, sysfs or a read-only mount refuse only when asked to write.
    """
    path = os.path.abspath(os.fspath(path))
    probe = path
    while not os.path.lexists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        kind = "not a folder" if probe == path else f"{probe} is not a folder"
        raise UserError(f"{path}: cannot create the folder: {kind}; choose another {what}")
    missing = []
    folder = path
    while folder != probe:
        missing.append(folder)
        folder = os.path.dirname(folder)
    made = []
    try:
        for folder in reversed(missing):
            os.mkdir(folder)
            made.append(folder)
        test = os.path.join(path, f".sysgate-probe-{os.getpid()}-{secrets.token_hex(4)}")
        os.close(os.open(test, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.unlink(test)
    except OSError as exc:
        doing = f"create the folder in {probe}" if missing else "write into it"
        raise UserError(f"{path}: cannot {doing}: {exc.strerror or exc}; "
                        f"choose another {what}") from None
    finally:
        for folder in reversed(made):
            try:
                os.rmdir(folder)
            except OSError:
                pass


def check_writable_file(path, what="-o"):
    """UserError unless the file path can be written: replaced where it is, or created in
    a folder that can be made (the folder is tried as check_writable_folder does)."""
    path = os.path.abspath(os.fspath(path))
    if os.path.isdir(path):
        raise UserError(f"{path}: is a directory, where a file is to be written; "
                        f"choose another {what}")
    try:
        check_writable_folder(os.path.dirname(path), what)
    except UserError as exc:
        raise UserError(f"{path}: cannot be written: {exc}") from None
    if os.path.exists(path):
        try:
            os.close(os.open(path, os.O_WRONLY))
        except OSError as exc:
            raise UserError(f"{path}: cannot write: {exc.strerror or exc}; "
                            f"choose another {what}") from None


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass
