"""One module per CLI command: its argparse and the thin glue that calls the rest.

cli.py imports each (its _COMMAND_MODULES); none imports a third-party module at import time."""
