"""The ``kam`` command: ``kam demo`` builds the seed scenario and prints its summary."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kam_domain.application import KamApplication
from kam_domain.errors import KamDomainError
from kam_domain.storage import DEFAULT_STORE, STORE_ENV_VAR

__all__ = ["main"]

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2

STORE_HELP = (
    f"storage URL: memory://, sqlite:///path/to/kam.db, postgresql://user@host/db "
    f"(default: ${STORE_ENV_VAR}, else {DEFAULT_STORE})"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kam",
        description="Run a key-account marketing team on an event-sourced, auditable record.",
        epilog="Exit status: 0 success, 1 the library refused (the message says why), 2 usage.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="build the seed document's scenario in a store and print a summary",
        description=(
            "Build a key-account team with every role, key accounts of each tier, projects "
            "with discount requests decided at several authority levels, agreements, "
            "invoices and payments (some late), complaints (some acknowledged late), targets "
            "decomposed team -> KAM -> account, a quarter close and its evaluations; then print "
            "a summary. The same seed always builds the same scenario; running it again on "
            "the same store reports that the scenario is there and adds nothing."
        ),
    )
    demo.add_argument("--store", metavar="URL", help=STORE_HELP)
    demo.add_argument("--seed", type=int, default=1, metavar="N", help="scenario seed (default: 1)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            return _demo(args.store, args.seed)
    except KamDomainError as error:
        print(f"kam: {error}", file=sys.stderr)
        return EXIT_REFUSED
    return EXIT_USAGE  # pragma: no cover - argparse rejects unknown commands first


def _demo(store: str | None, seed: int) -> int:
    from kam_domain.demo import build_demo

    app = KamApplication(store)
    try:
        summary = build_demo(app, seed=seed)
        print(summary.render())
    finally:
        app.close()
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
