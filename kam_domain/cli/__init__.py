"""The ``kam`` command. Each group of subcommands lives in its own module of this package and
registers itself with :func:`build_parser`; ``main`` turns library refusals into exit status 1,
any other failure into a one-line message and exit status 4, and never prints a traceback (see
:data:`~kam_domain.cli.common.EXIT_STATUSES`, the one table of statuses). A reader that stops
early (``kam policies decisions | head -1``) ends the output quietly, with status 0.

``main`` imports only the module of the command it runs: ``kam --help``, or a command that
does not exist, lists the commands from :data:`COMMANDS` and imports none of them (nor the
aggregates they need), so that it answers at once.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from eventsourcing.persistence import PersistenceError

from kam_domain.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    exit_status_text,
)
from kam_domain.cli.terminal import TerminalSafe, one_line
from kam_domain.errors import KamDomainError
from kam_domain.storage import resolve_store

__all__ = ["COMMANDS", "build_parser", "main"]

#: Each module adds its subcommands with ``register(subparsers)``; its handlers take the
#: parsed arguments and return an exit status.
COMMAND_MODULES = ("demo", "audit", "replay", "policies", "worker", "report", "show", "store")
#: Every command in ``kam --help``'s order: the module that registers it and its help line
#: (tests check both against the modules).
COMMANDS = {
    "demo": ("demo", "build the seed document's scenario in a store and print a summary"),
    "audit": (
        "audit",
        "verify the log's integrity, trails, accountability, exports, exceptions (read only)",
    ),
    "replay": ("replay", "re-run the policies over the recorded history and list every divergence"),
    "policies": (
        "policies",
        "list the policies, their decisions and parked events; retry, activate, configure",
    ),
    "clock": ("policies", "record the passing of time that time-driven policies react to"),
    "worker": ("worker", "run the policies in this process, following the store's new events"),
    "report": (
        "report",
        "reports read from the record: scorecards, forecasts, the audit pack (read only)",
    ),
    "show": (
        "show",
        "print a team, account, project or target as it stood at a moment (read only)",
    ),
    "store": ("store", "look after the store itself: rotate the encryption key"),
}


def _parser() -> tuple[
    argparse.ArgumentParser, argparse._SubParsersAction[argparse.ArgumentParser]
]:
    parser = argparse.ArgumentParser(
        prog="kam",
        description="Run a key-account marketing team on an event-sourced, auditable record.",
        epilog=exit_status_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    return parser, commands


class _Version(argparse.Action):
    """``--version``: the installed distribution's version, looked up only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from importlib.metadata import version

        print(f"kam {version('kam-domain')}")
        parser.exit()


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"kam_domain.cli.{name}")


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command (each module imported)."""
    parser, commands = _parser()
    for name in COMMAND_MODULES:
        _module(name).register(commands)
    return parser


def _parser_for(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The parser for ``argv``: the named command's module alone registers its commands; with
    no known command, every command is listed by name and help line, none imported."""
    named = next((arg for arg in argv if not arg.startswith("-")), None)
    parser, commands = _parser()
    if named in COMMANDS:
        module = COMMANDS[named][0]
        _module(module).register(commands)
        return parser
    for command, (_, help_line) in COMMANDS.items():
        commands.add_parser(command, help=help_line)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser_for(argv).parse_args(argv)
    with _terminal_safe():
        try:
            status: int = args.handler(args)
            sys.stdout.flush()
        except BrokenPipeError:
            _quiet_stdout()
            return EXIT_OK
        except KamDomainError as error:
            print(f"kam: {one_line(str(error))}", file=sys.stderr)
            return EXIT_REFUSED
        except KeyboardInterrupt:
            return EXIT_USAGE + 128
        except PersistenceError as error:
            # The store itself failed or is damaged (a table gone, say): a refusal that names
            # the store, secrets masked.
            print(f"kam: store: {_scrubbed(args, error)}", file=sys.stderr)
            return EXIT_REFUSED
        except ArithmeticError as error:
            # decimal's signals (Overflow, InvalidOperation) on a number a store should not hold.
            print(
                f"kam: failed: {_named(error)}: a stored number cannot be computed with; run"
                " kam audit verify, then kam audit trail on the record",
                file=sys.stderr,
            )
            return EXIT_FAILED
        except Exception as error:
            # The edge: whatever a damaged or hostile store makes a reader raise, an auditor
            # gets a named one-line message and a status, not a traceback.
            print(f"kam: failed: {_named(error)}: {one_line(str(error))[:500]}", file=sys.stderr)
            return EXIT_FAILED
    return status


def _quiet_stdout() -> None:
    """The reader went away (``| head``): Python flushes standard output once more at exit, so
    point it somewhere that accepts what is left, instead of a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _scrubbed(args: argparse.Namespace, error: BaseException) -> str:
    try:
        url, _ = resolve_store(getattr(args, "store", None))
    except KamDomainError:
        return "the store failed (its URL cannot be shown)"
    return one_line(f"{url}: {url.scrub(error)}")[:500]


def _named(error: BaseException) -> str:
    kind = type(error)
    return (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )


@contextmanager
def _terminal_safe() -> Iterator[None]:
    """Escape what is printed to a terminal (see :mod:`kam_domain.cli.terminal`)."""
    saved = sys.stdout, sys.stderr
    if sys.stdout.isatty():
        sys.stdout = TerminalSafe(sys.stdout)
    if sys.stderr.isatty():
        sys.stderr = TerminalSafe(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
