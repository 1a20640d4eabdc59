"""Order kernel releases (`uname -r`) by version, the way a kernel engineer reads them.

    6.1.0-47-cloud-amd64 < 6.1.0-50-cloud-amd64 < 6.12.117+deb12-cloud-amd64 < 6.18-rc3 < 6.18

The upstream version (major.minor.patch) decides first; a release candidate comes before
its release (`6.18-rc3 < 6.18 < 6.18.1`); what follows is compared piece by piece, numbers
as numbers (Debian's ABI number `-47`, Ubuntu's `-31`), words as words, and a `~` sorts
before anything (as in Debian version strings). A release that does not start with a
version sorts after all that do, by its text, so sorting never fails.
"""

import re

_HEAD = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")
_RC = re.compile(r"^[-.~]?rc(\d+)", re.IGNORECASE)
_PIECE = re.compile(r"\d+|~|[A-Za-z]+")


def _piece_key(piece):
    if piece == "~":
        return (0, 0, "")  # before everything, even the end of the string
    if piece.isdigit():
        return (2, int(piece), "")
    return (3, 0, piece.lower())


def release_key(release):
    """A sort key for a kernel release string; never raises."""
    release = (release or "").strip()
    head = _HEAD.match(release)
    if not head:
        return (1, (), (), (), release)
    version = tuple(int(part or 0) for part in head.groups())
    rest = release[head.end():]
    rc = _RC.match(rest)
    if rc:
        stage = (0, int(rc.group(1)))  # a release candidate precedes its release
        rest = rest[rc.end():]
    else:
        stage = (1, 0)
    # (1, ...) marks the end of the pieces: shorter sorts after "~" but before more pieces.
    pieces = tuple(_piece_key(p) for p in _PIECE.findall(rest)) + ((1, 0, ""),)
    return (0, version, stage, pieces, release)


def sort_releases(releases):
    return sorted(releases, key=release_key)
