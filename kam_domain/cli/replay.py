"""``kam replay``: re-run the policies over the recorded history and compare; writes nothing."""

from __future__ import annotations

import argparse
import json
from typing import Any

from kam_domain.audit.records import open_app
from kam_domain.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    add_store_option,
    checked,
    exit_status_text,
)
from kam_domain.errors import ValidationError

__all__ = ["EXIT_DIVERGED", "register"]

#: Some recorded decision was not reproduced.
EXIT_DIVERGED = EXIT_FINDINGS


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "replay",
        help="re-run the policies over the recorded history and list every divergence",
        description=(
            "Re-run every policy over the store's history in a sandbox and compare its "
            "decisions with the recorded ones, each under the version that recorded it. "
            "--policy NAME@VERSION replays a named version instead; --what-if NAME@VERSION "
            "shows what a candidate version would have decided differently. Nothing is written."
        ),
        epilog=exit_status_text("some recorded decision was not reproduced (a what-if never)"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_store_option(parser)
    parser.add_argument(
        "--policy",
        action="append",
        default=[],
        metavar="NAME@VERSION",
        type=checked(lambda text: _versions([text], "--policy"), "NAME@VERSION"),
        help="replay this version of a policy (repeatable)",
    )
    parser.add_argument(
        "--what-if",
        action="append",
        default=[],
        metavar="NAME@VERSION",
        type=checked(lambda text: _versions([text], "--what-if"), "NAME@VERSION"),
        help="ask a candidate version what it would have decided differently (repeatable)",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument(
        "--scratch",
        action="store_true",
        help="keep the world replay folds in a temporary SQLite file (removed afterwards), "
        "encoded as the store encodes its events, instead of in memory",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    versions = _versions(args.policy, "--policy")
    what_if = _versions(args.what_if, "--what-if")
    # Read-only: a mistyped store is refused, not created and reported "0 diverged".
    from kam_domain.cli.output import progress

    with open_app(args.store) as app, progress("replaying"):
        chosen = set(versions) | set(what_if) or None
        report = app.replay(
            versions=versions, what_if=what_if, policies=chosen, scratch=args.scratch
        )
    if args.format == "json":
        print(
            json.dumps(
                {
                    "events": report.events,
                    "decisions": report.decisions,
                    "what_if": report.what_if,
                    "divergences": [
                        {
                            "policy": d.policy,
                            "version": d.version,
                            "position": d.cause_position,
                            "cause_id": str(d.cause_id),
                            "subject": d.subject,
                            "kind": d.kind,
                            "recorded": d.recorded,
                            "replayed": d.replayed,
                            "inputs": [list(item) for item in d.inputs],
                        }
                        for d in report.divergences
                    ],
                },
                indent=2,
            )
        )
    else:
        verb = "would decide differently" if report.what_if else "diverged"
        print(
            f"replayed {report.decisions} decisions over {report.events} events: "
            f"{len(report.divergences)} {verb}"
        )
        for divergence in report.divergences:
            print("  " + divergence.describe())
    if report.what_if or report.reproduced:
        return EXIT_OK
    return EXIT_DIVERGED


def _versions(texts: list[str], option: str) -> dict[str, int]:
    chosen: dict[str, int] = {}
    for text in texts:
        name, _, version = text.partition("@")
        if not name or not version.isdigit():
            raise ValidationError(option, f"expected NAME@VERSION, not {text!r}")
        chosen[name] = int(version)
    return chosen
