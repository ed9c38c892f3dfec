"""``kam report``: reports read from the record — ``kam report scorecard``, ``kam report pack``,
``kam report forecast``.

Reports only read: the store is opened without creating or upgrading anything and no policy
runs, so read access is enough and a report never records a decision.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from kam_domain.aggregates.target import ScopeKind
from kam_domain.cli.arguments import period
from kam_domain.cli.common import EXIT_OK, add_store_option, exit_status_text, moment_text
from kam_domain.cli.output import write_report
from kam_domain.cli.terminal import one_line

if TYPE_CHECKING:
    from kam_domain.reports import Scorecard

__all__ = ["register"]

TABLE, JSON, CSV, HTML = "table", "json", "csv", "html"

EXIT_CODES = exit_status_text()


def register(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="reports read from the record: scorecards, forecasts, the audit pack (read only)",
        description="Reports read from the record. They only read the store and record nothing.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = report.add_subparsers(dest="report_command", required=True, metavar="REPORT")
    card = sub.add_parser(
        "scorecard",
        help="per team, KAM and account: goal, actual, attainment, score, rating, sign-off",
        description=(
            "The period's targets (team, KAM and account): each metric's goal, actual and\n"
            "attainment (actual / goal), and the evaluation's score and rating, whether the KAM\n"
            "and the supervisor signed it off, and whether a required action plan was adjusted,\n"
            "from the recorded evaluations. A target not evaluated yet shows its goals with the\n"
            "actuals measured from the log so far, marked 'not evaluated'.\n\n"
            "--format html writes one self-contained page with charts, to open offline or print."
        ),
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_store_option(card)
    card.add_argument(
        "--period", required=True, type=period, metavar="PERIOD", help="e.g. 2026-Q1 or 2026"
    )
    card.add_argument("--team", metavar="NAME_OR_ID", help="one team (default: every team)")
    card.add_argument(
        "--at",
        type=moment_text,
        metavar="ISO8601",
        help="as the record stood at this moment, with its UTC offset (default: now)",
    )
    card.add_argument(
        "--format",
        choices=(TABLE, JSON, CSV, HTML),
        default=TABLE,
        help=f"output format (default: {TABLE})",
    )
    card.add_argument("--output", metavar="FILE", type=Path, help="default: standard output")
    card.set_defaults(handler=run_scorecard)

    from kam_domain.cli.report_pack import register as register_pack

    register_pack(sub)

    from kam_domain.cli.forecast import register as register_forecast

    register_forecast(sub)


def run_scorecard(args: argparse.Namespace) -> int:
    from kam_domain.audit.records import open_app
    from kam_domain.audit.trail import parse_moment
    from kam_domain.reports import render_html, scorecard
    from kam_domain.reports.scorecard import RECORD_COLUMNS

    moment = None if args.at is None else parse_moment(args.at)
    with open_app(args.store) as app:
        card = scorecard(app, args.period, team=args.team, at=moment)
    if not card.rows:
        where = "" if args.team is None else f" of team {args.team!r}"
        print(f"kam: no targets{where} for {card.period}", file=sys.stderr)
    write_report(
        args.output,
        args.format,
        as_dict=card.as_dict,
        columns=RECORD_COLUMNS,
        records=card.records,
        html=lambda: render_html(card, printed_at=datetime.now(UTC)),
        table=lambda out: _table(card, out),
    )
    return EXIT_OK


# -- the table -----------------------------------------------------------------------------------

_HEADERS = [
    "scope",
    "name",
    "KAM",
    "metric",
    "goal",
    "actual",
    "attained",
    "score",
    "rating",
    "signed off",
    "action plan",
]


def _table(card: Scorecard, out: TextIO) -> str:
    as_of = "now" if card.at is None else card.at.isoformat()
    blocks = []
    for team in card.teams:
        # Printed past the terminal filter (the table's colour): stored text escaped here.
        title = one_line(f"{team.name} — scorecard {card.period} (as of {as_of})")
        rows: list[list[str]] = []
        for row in team.rows:
            for index, line in enumerate(row.lines):
                first = index == 0
                outcome = [
                    str(row.score) if row.evaluated else "—",
                    (row.rating or "?") if row.evaluated else "not evaluated",
                    row.sign_off_text,
                    row.action_plan_text,
                ]
                rows.append(
                    [
                        row.scope_label if first else "",
                        row.name if first else "",
                        (row.kam_name or "") if first and row.scope is ScopeKind.ACCOUNT else "",
                        line.label,
                        line.goal_text,
                        line.actual_text,
                        line.attainment_text,
                        *(outcome if first else ["", "", "", ""]),
                    ]
                )
        pending = sum(not row.evaluated for row in team.rows)
        note = []
        if pending:
            note.append(
                f"{pending} target(s) not evaluated: actuals measured from the log so far, "
                "no score or rating"
            )
        body = _columns(_HEADERS, rows, out) if rows else f"no targets for {card.period}"
        blocks.append("\n".join([title, "", body, *note]))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _columns(headers: list[str], rows: list[list[str]], out: TextIO) -> str:
    from kam_domain.cli.output import table

    return table(headers, rows, right={"goal", "actual", "attained", "score"}, stream=out)


# -- helpers -------------------------------------------------------------------------------------
