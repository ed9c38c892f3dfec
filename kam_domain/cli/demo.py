"""``kam demo``: build the seed scenario in a store and print its summary."""

from __future__ import annotations

import argparse
from typing import Any

from kam_domain.application import KamApplication
from kam_domain.cli.common import EXIT_OK, add_store_option, exit_status_text

__all__ = ["register"]


def register(commands: Any) -> None:
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
        epilog=exit_status_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_store_option(demo)
    demo.add_argument("--seed", type=int, default=1, metavar="N", help="scenario seed (default: 1)")
    demo.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from kam_domain.cli.output import progress
    from kam_domain.demo import build_demo

    with KamApplication(args.store) as app, progress("recording the demo", "steps") as advance:
        summary = build_demo(app, seed=args.seed, progress=advance)
    print(summary.render())
    return EXIT_OK
