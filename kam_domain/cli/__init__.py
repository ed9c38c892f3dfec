"""The ``kam`` command. Each group of subcommands lives in its own module of this package and
registers itself with :func:`build_parser`; ``main`` turns library refusals into exit status 1."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kam_domain.cli import audit, demo, policies, replay, report, worker
from kam_domain.cli.common import EXIT_REFUSED, EXIT_USAGE
from kam_domain.errors import KamDomainError

__all__ = ["build_parser", "main"]

#: Each module adds its subcommands with ``register(subparsers)``; its handlers take the
#: parsed arguments and return an exit status.
COMMAND_MODULES = (demo, audit, replay, policies, worker, report)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kam",
        description="Run a key-account marketing team on an event-sourced, auditable record.",
        epilog="Exit status: 0 success, 1 the library refused (the message says why), 2 usage.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status: int = args.handler(args)
    except KamDomainError as error:
        print(f"kam: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        return EXIT_USAGE + 128
    return status
