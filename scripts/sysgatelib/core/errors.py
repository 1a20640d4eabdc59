"""The exception types the CLI turns into one line and an exit status.

UserError: `error: <what>: <why>`, exit 2. Interrupted: a stop asked for by a signal
(SIGINT, SIGTERM, SIGHUP); it is a KeyboardInterrupt, so every cleanup that runs for
Ctrl-C (rolled-back transactions, removed temporary files, ended child processes) runs
for the other signals too, and the CLI exits 128 + the signal's number.
"""

import signal


class UserError(Exception):
    """Bad input or a missing prerequisite the user can fix; never a bug."""

    exit_code = 2


class Interrupted(KeyboardInterrupt):
    """The process was asked to stop by a signal."""

    def __init__(self, signum=signal.SIGINT):
        super().__init__(signum)
        self.signum = int(signum)
        self.name = signal.Signals(signum).name

    @property
    def exit_code(self):
        return 128 + self.signum
