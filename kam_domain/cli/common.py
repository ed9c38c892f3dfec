"""What every ``kam`` subcommand shares: exit statuses and the ``--store`` option."""

from __future__ import annotations

import argparse

from kam_domain.storage import DEFAULT_STORE, STORE_ENV_VAR

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_REFUSED", "EXIT_USAGE", "add_store_option"]

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
#: The command failed on what it read (a hostile or damaged store); the message names the error.
EXIT_FAILED = 4

STORE_HELP = (
    "storage URL: memory://, sqlite:///path/to/kam.db, postgresql://user@host/db "
    f"(default: ${STORE_ENV_VAR}, else {DEFAULT_STORE})"
)


def add_store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", metavar="URL", help=STORE_HELP)
