"""``kam policies …`` and ``kam clock …``: look at the policies' work and steer them.

The listings (``list``, ``decisions``, ``dead-letters``) only read the log: they never run a
policy, so they show what the workers (or embedded hosts) have recorded, lag included, and they
work on a read-only store. The commands (``retry``, ``activate``, ``configure``, ``clock``)
record events like any host does and, embedded, let the policies catch up before returning;
``--defer`` leaves that to ``kam worker``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any
from uuid import UUID

from eventsourcing.persistence import PersistenceError

from kam_domain.application import KamApplication
from kam_domain.cli.arguments import (
    add_policies_option,
    member,
    moment,
    parameter,
    period,
    policy_class,
    registry_with,
)
from kam_domain.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    add_store_option,
    exit_status_text,
)
from kam_domain.cli.policy_status import PolicyStatus, policy_status
from kam_domain.errors import PolicyNotFound
from kam_domain.policies.records import (
    DeadLetter,
    PolicyDecision,
)
from kam_domain.storage import resolve_store
from kam_domain.values import Actor

__all__ = [
    "CLI_ACTOR",
    "EXIT_STILL_FAILING",
    "PolicyStatus",
    "add_policies_option",
    "parameter",
    "policy_class",
    "policy_status",
    "register",
    "registry_with",
]

#: Who the commands act as unless ``--actor`` names a member.
CLI_ACTOR = Actor.system("kam-cli")
#: ``kam policies retry``: some parked events failed again (they stay parked).
EXIT_STILL_FAILING = EXIT_FINDINGS


EXIT_STATUSES = exit_status_text("retry: some parked events failed again (they stay parked)")
#: ``kam clock``: none of its commands finds anything.
CLOCK_EXIT_STATUSES = exit_status_text()


def _open(args: argparse.Namespace, *, run_policies: bool) -> KamApplication:
    return KamApplication(
        args.store, policies=registry_with(args.policies), run_policies=run_policies
    )


@contextmanager
def _reading(args: argparse.Namespace) -> Iterator[KamApplication]:
    """The store opened read-only, for the listings."""
    from kam_domain.audit.records import open_app

    with open_app(args.store, policies=registry_with(args.policies)) as app:
        yield app


def _actor(args: argparse.Namespace) -> Actor:
    return CLI_ACTOR if args.actor is None else Actor.member(args.actor)


# -- output ---------------------------------------------------------------------------------------

LIST_COLUMNS = ("policy", "versions", "active", "tracked", "lag")
DECISION_COLUMNS = (
    "id", "policy", "version", "cause_position", "cause", "cause_id", "basis_position",
    "decided_at", "outcome", "reason", "inputs", "actions", "refusal",
)  # fmt: skip
LETTER_COLUMNS = (
    "id", "policy", "version", "cause_position", "cause", "cause_id", "parked_at",
    "error_type", "error", "attempts", "resolved",
)  # fmt: skip
_DECISION_TABLE = ("cause_position", "policy", "version", "outcome", "reason", "refusal")
_LETTER_TABLE = (
    "id", "policy", "version", "cause_position", "error_type", "error", "attempts", "resolved",
)  # fmt: skip


def _decision_row(decision: PolicyDecision) -> dict[str, object]:
    return {
        "id": str(decision.id),
        "policy": decision.policy,
        "version": decision.version,
        "cause_position": decision.cause_position,
        "cause": decision.cause_topic.rpartition(":")[2],
        "cause_id": str(decision.cause_id),
        "basis_position": decision.basis_position,
        "decided_at": decision.created_on.isoformat(),
        "outcome": decision.outcome,
        "reason": decision.reason,
        "inputs": decision.inputs,
        "actions": decision.actions,
        "refusal": decision.refusal,
    }


def _letter_row(letter: DeadLetter) -> dict[str, object]:
    return {
        "id": str(letter.id),
        "policy": letter.policy,
        "version": letter.version,
        "cause_position": letter.cause_position,
        "cause": letter.cause_topic.rpartition(":")[2],
        "cause_id": str(letter.cause_id),
        "parked_at": letter.created_on.isoformat(),
        "error_type": letter.error_type,
        "error": letter.error,
        "attempts": letter.attempts,
        "resolved": letter.resolved,
    }


def write_rows(
    rows: list[dict[str, object]],
    form: str,
    out: IO[str],
    *,
    columns: Sequence[str],
    table_columns: Sequence[str] | None = None,
) -> None:
    """``rows`` as JSON (a list of objects), CSV (``columns``, with a header line) or an
    aligned table (``table_columns``, default ``columns``)."""
    if form == "json":
        json.dump(rows, out, indent=2, ensure_ascii=False, default=str)
        out.write("\n")
        return
    if form == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_cell(row[c]) for c in columns] for row in rows)
        return
    from kam_domain.cli.output import show, table

    shown = list(table_columns or columns)
    show(table(shown, [[_cell(row[c]) for c in shown] for row in rows], stream=out), out)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return str(value)


# -- commands -------------------------------------------------------------------------------------


def register(commands: Any) -> None:
    _register_policies(commands)
    _register_clock(commands)


def _command(
    group: Any,
    name: str,
    help_text: str,
    handler: Callable[[argparse.Namespace], int],
    epilog: str = EXIT_STATUSES,
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = group.add_parser(
        name,
        help=help_text,
        description=help_text[0].upper() + help_text[1:] + ".",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_store_option(parser)
    add_policies_option(parser)
    parser.set_defaults(handler=_store_errors_reported(handler))
    return parser


def _store_errors_reported(
    handler: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """``handler``, with a store failure reported in one line (secrets masked): status 1."""

    def handle(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except PersistenceError as error:
            url, _ = resolve_store(args.store)
            print(f"kam: store: {url}: {url.scrub(error)}", file=sys.stderr)
            return EXIT_REFUSED

    return handle


def _writing(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--actor",
        type=member,
        metavar="MEMBER_ID",
        help="act as this team member (default: the system actor kam-cli)",
    )
    parser.add_argument(
        "--defer",
        action="store_true",
        help="record the command only, leaving the decisions it triggers to kam worker",
    )


def _format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="output format (default: table)",
    )


def _register_policies(commands: Any) -> None:
    policies = commands.add_parser(
        "policies",
        help="list the policies, their decisions and parked events; retry, activate, configure",
        description=(
            "The policies react to recorded events and record their decisions, each exactly "
            "once. These commands list what they recorded (reading the log only) and record "
            "the steering commands: retrying parked events, activating a version, configuring "
            "parameters."
        ),
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    group = policies.add_subparsers(dest="policies_command", required=True, metavar="COMMAND")

    listing = _command(
        group, "list", "list each policy: versions, active version, tracked position, lag", _list
    )
    _format(listing)

    decisions = _command(group, "decisions", "list the recorded decisions", _decisions)
    decisions.add_argument("--policy", metavar="NAME", help="only this policy's decisions")
    from kam_domain.cli.show import add_at_option

    add_at_option(decisions, "only the decisions recorded by this moment, with its UTC offset")
    _format(decisions)

    letters = _command(
        group, "dead-letters", "list the events a policy failed on (parked)", _dead_letters
    )
    letters.add_argument("--all", action="store_true", help="include the resolved ones")
    _format(letters)

    retry = _command(group, "retry", "process parked events again, as the world is now", _retry)
    retry.add_argument("--id", type=UUID, metavar="ID", help="only this dead letter")

    activate = _command(
        group, "activate", "make a registered version of a policy decide from now on", _activate
    )
    activate.add_argument("name", metavar="NAME")
    activate.add_argument("version", type=int, metavar="VERSION")
    activate.add_argument("--reason", required=True, metavar="TEXT")
    _writing(activate)

    configure = _command(
        group,
        "configure",
        "record parameters a policy reads, for its decisions from now on",
        _configure,
    )
    configure.add_argument("name", metavar="NAME")
    configure.add_argument(
        "parameters",
        nargs="+",
        type=parameter,
        metavar="KEY=VALUE",
        help="a whole number, else an exact decimal, else text",
    )
    configure.add_argument("--reason", required=True, metavar="TEXT")
    _writing(configure)

    from kam_domain.cli.rebuild import add_rebuild

    add_rebuild(group, _command)


def _register_clock(commands: Any) -> None:
    clock = commands.add_parser(
        "clock",
        help="record the passing of time that time-driven policies react to",
        description=(
            "Time-driven rules (overdue invoices, response deadlines, period close) react to "
            "recorded time, never to the wall clock, so that replaying the log decides the same."
        ),
        epilog=CLOCK_EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    group = clock.add_subparsers(dest="clock_command", required=True, metavar="COMMAND")
    tick = _command(
        group, "tick", "record that a moment has come (default: now)", _tick, CLOCK_EXIT_STATUSES
    )
    tick.add_argument("--at", type=moment, metavar="ISO8601", help="the moment (with offset)")
    _writing(tick)
    close = _command(
        group,
        "close-period",
        "record that a quarter or year has ended (for every team, on its time zone's calendar)",
        _close_period,
        CLOCK_EXIT_STATUSES,
    )
    close.add_argument("period", type=period, metavar="PERIOD", help="YYYY-Qn or YYYY")
    close.add_argument("--at", type=moment, metavar="ISO8601", help="the moment (with offset)")
    _writing(close)


def _list(args: argparse.Namespace) -> int:
    with _reading(args) as app:
        rows = [status.row() for status in policy_status(app)]
    write_rows(rows, args.format, sys.stdout, columns=LIST_COLUMNS)
    return EXIT_OK


def _decisions(args: argparse.Namespace) -> int:
    with _reading(args) as app:
        found = app.decisions(args.policy)
        rows = [_decision_row(d) for d in found if args.at is None or d.created_on <= args.at]
        registry = app.policies.registry
        if not rows and args.policy is not None and args.policy not in registry:
            # A mistyped name lists the policies there are instead of an empty table.
            raise PolicyNotFound("policy", args.policy, registry.names())
    write_rows(
        rows, args.format, sys.stdout, columns=DECISION_COLUMNS, table_columns=_DECISION_TABLE
    )
    return EXIT_OK


def _dead_letters(args: argparse.Namespace) -> int:
    with _reading(args) as app:
        letters = app.dead_letters(include_resolved=args.all)
        rows = [_letter_row(letter) for letter in letters]
    write_rows(rows, args.format, sys.stdout, columns=LETTER_COLUMNS, table_columns=_LETTER_TABLE)
    return EXIT_OK


def _retry(args: argparse.Namespace) -> int:
    from kam_domain.cli.output import progress

    with _open(args, run_policies=False) as app:
        if args.id is not None:
            letters = app.retry_dead_letters(args.id)
        else:
            # One at a time, oldest cause first, as retrying them all does, so that progress
            # can be shown: the engine catches up first, then each is settled in turn.
            app.policies.run()
            parked = app.dead_letters()
            letters = []
            with progress("retrying", "parked events") as advance:
                for done, letter in enumerate(parked, start=1):
                    letters.extend(app.retry_dead_letters(letter.id))
                    advance(done, len(parked))
    if not letters:
        print("no parked events")
        return EXIT_OK
    for letter in letters:
        where = f"{letter.policy}@{letter.version} on position {letter.cause_position}"
        if letter.resolved:
            print(f"resolved {letter.id} ({where}) at attempt {letter.attempts}")
        else:
            print(f"still failing {letter.id} ({where}): {letter.error_type}: {letter.error}")
    return EXIT_OK if all(letter.resolved for letter in letters) else EXIT_STILL_FAILING


def _activate(args: argparse.Namespace) -> int:
    with _open(args, run_policies=not args.defer) as app:
        app.activate_policy_version(args.name, args.version, _actor(args), reason=args.reason)
    print(f"{args.name}@{args.version} decides from now on")
    return EXIT_OK


def _configure(args: argparse.Namespace) -> int:
    values = dict(args.parameters)
    if len(values) != len(args.parameters):
        print("kam: parameters: each KEY may be given once", file=sys.stderr)
        return EXIT_USAGE
    with _open(args, run_policies=not args.defer) as app:
        app.configure_policy(args.name, values, _actor(args), reason=args.reason)
    shown = ", ".join(f"{key}={value}" for key, value in values.items())
    print(f"{args.name}: {shown} recorded")
    return EXIT_OK


def _tick(args: argparse.Namespace) -> int:
    with _open(args, run_policies=not args.defer) as app:
        app.tick(_actor(args), at=args.at)
    print("tick recorded")
    return EXIT_OK


def _close_period(args: argparse.Namespace) -> int:
    with _open(args, run_policies=not args.defer) as app:
        app.close_period(args.period, _actor(args), at=args.at)
    print(f"period {args.period} closed")
    return EXIT_OK
