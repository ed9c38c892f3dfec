"""What the ``kam audit`` subcommands share: their exit statuses, output formats, and how each
subcommand's parser is made."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from kam_domain.cli.common import EXIT_FINDINGS, add_store_option, exit_status_text

__all__ = [
    "CSV",
    "EXIT_CODES",
    "EXIT_NOT_INTACT",
    "JSON",
    "JSONL",
    "TABLE",
    "audit_command",
    "format_option",
]

#: ``kam audit verify``: the log does not verify.
EXIT_NOT_INTACT = EXIT_FINDINGS

EXIT_CODES = exit_status_text(
    "verify: the log does NOT verify (the first bad position is printed); "
    "exceptions --fail-on-exceptions: something was listed"
)

TABLE, JSON, CSV, JSONL = "table", "json", "csv", "jsonl"


def audit_command(sub: Any, name: str, help_text: str, description: str) -> argparse.ArgumentParser:
    """A ``kam audit`` subcommand's parser, with the store option and the exit statuses."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help_text,
        description=description,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_store_option(parser)
    return parser


def format_option(
    parser: argparse.ArgumentParser, choices: Sequence[str], default: str = TABLE
) -> None:
    parser.add_argument(
        "--format", choices=choices, default=default, help=f"output format (default: {default})"
    )
