"""Test-only: an import stopped halfway inside its transaction, for the tests that kill,
interrupt or disconnect an importer there (the store's code has no hook for it).

As a module: `halted(action)` is a Store.executemany that writes half a run's path rows,
calls action() and then writes the rest; tests monkeypatch it in. As a script:
`paused_import.py SECONDS SYSGATE-ARGS...` runs sysgate's CLI as scripts/sysgate does, each
import saying "sysgate-test: inside the import transaction" on stderr and sleeping SECONDS
there.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "scripts"))

from sysgatelib.store import connection  # noqa: E402

MARKER = "sysgate-test: inside the import transaction"
_ORIGINAL = connection.Store.executemany


def halted(action):
    def executemany(self, text, rows):
        if not text.startswith("INSERT INTO paths") or len(rows) < 2:
            return _ORIGINAL(self, text, rows)
        half = len(rows) // 2
        _ORIGINAL(self, text, rows[:half])
        action()
        return _ORIGINAL(self, text, rows[half:])
    return executemany


def command(seconds, *args):
    """The argv of a sysgate run whose imports pause `seconds` inside the transaction."""
    return ["/usr/bin/python3", os.path.abspath(__file__), str(seconds), *map(str, args)]


def _pause(seconds):
    def action():
        print(MARKER, file=sys.stderr, flush=True)
        time.sleep(seconds)
    return action


if __name__ == "__main__":
    connection.Store.executemany = halted(_pause(float(sys.argv[1])))
    from sysgatelib.cli import main
    sys.exit(main(sys.argv[2:]))
