"""What every ``kam`` subcommand shares: exit statuses and the ``--store`` option."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from kam_domain.errors import KamDomainError
from kam_domain.storage import DEFAULT_STORE, STORE_ENV_VAR

__all__ = [
    "EXIT_FAILED",
    "EXIT_FINDINGS",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_STATUSES",
    "EXIT_USAGE",
    "add_store_option",
    "checked",
    "exit_status_text",
    "moment_text",
]

EXIT_OK = 0
#: The library refused: a malformed value, an unknown record, a rule broken, the store failed.
EXIT_REFUSED = 1
#: The command line itself is wrong (argparse's own status).
EXIT_USAGE = 2
#: The command ran and found what it looks for: a log that does not verify, divergences,
#: exceptions under ``--fail-on-exceptions``, parked events that failed again.
EXIT_FINDINGS = 3
#: The command failed on what it read (a hostile or damaged store); the message names the error.
EXIT_FAILED = 4

#: The one table of exit statuses, printed in ``kam --help`` and used by every command.
EXIT_STATUSES: dict[int, str] = {
    EXIT_OK: "done",
    EXIT_REFUSED: "refused: an unknown record, a broken rule, a store that cannot be read",
    EXIT_USAGE: "usage: an unknown command or option, a malformed or missing argument",
    EXIT_FINDINGS: "findings: the log does not verify, a replay diverged, exceptions listed",
    EXIT_FAILED: "failed on what a damaged or hostile store holds (the message names it)",
}


def exit_status_text(findings: str | None = None) -> str:
    """The exit-status table as ``--help`` epilogs print it; ``findings`` says what status 3
    means for the command (default: what it means for any)."""
    lines = ["exit status:"]
    for status, meaning in EXIT_STATUSES.items():
        shown = f"findings: {findings}" if status == EXIT_FINDINGS and findings else meaning
        lines.append(f"  {status}  {shown}")
    return "\n".join(lines) + "\n"


def checked(parse: Callable[[str], Any], metavar: str) -> Callable[[str], str]:
    """An argparse type that checks a value with the library's own parser at parse time and
    keeps the text: a malformed value is a usage error (status 2) naming the option, before
    any store is opened."""

    def check(text: str) -> str:
        try:
            parse(text)
        except KamDomainError as error:
            # argparse names the option already: the reason alone, not the field again.
            raise argparse.ArgumentTypeError(getattr(error, "reason", str(error))) from None
        return text

    check.__name__ = metavar
    return check


def _moment(text: str) -> object:
    from kam_domain.audit.trail import parse_moment

    return parse_moment(text)


#: ``--at``: an ISO 8601 moment with its UTC offset, checked when the command line is read.
moment_text = checked(_moment, "moment")


STORE_HELP = (
    "storage URL: memory://, sqlite:///path/to/kam.db, postgresql://user@host/db (add "
    "?schema=NAME to keep to one PostgreSQL schema) "
    f"(default: ${STORE_ENV_VAR}, else {DEFAULT_STORE})"
)


def add_store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", metavar="URL", help=STORE_HELP)
