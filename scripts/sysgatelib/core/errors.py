"""The one exception type the CLI turns into `error: <what>: <why>` and exit 2."""


class UserError(Exception):
    """Bad input or a missing prerequisite the user can fix; never a bug."""

    exit_code = 2
