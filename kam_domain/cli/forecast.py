"""``kam report forecast --team NAME_OR_ID --period 2026-Q2 [--at T] [--format ...]``: the
period's forecast from the opportunity pipeline, per member and for the team, against the
revenue goals of the period's targets.

Registered by :mod:`kam_domain.cli.report` beside the scorecard. It reads like every report:
the store is opened read-only (nothing created, upgraded or written) and no policy runs.
"""

from __future__ import annotations

import argparse
import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from kam_domain.cli.arguments import period
from kam_domain.cli.common import EXIT_OK, add_store_option, exit_status_text
from kam_domain.cli.show import add_at_option

if TYPE_CHECKING:
    from kam_domain.reports.forecast import Forecast

__all__ = ["register", "run_forecast"]

TABLE, JSON, CSV, HTML = "table", "json", "csv", "html"

EXIT_CODES = exit_status_text()


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "forecast",
        help="per member and team: committed, weighted pipeline and best case against goals",
        description=(
            "The period's forecast from the team's opportunity pipeline, per member (the\n"
            "opportunities they own) and for the team: committed (won in the period, at the\n"
            "amount won), weighted pipeline (open opportunities expected to close in the\n"
            "period, times their stage's probability) and best case (committed plus those\n"
            "open amounts in full), against the revenue goals of the period's targets.\n\n"
            "With --at, everything as the record stood then: the opportunities, the stage\n"
            "probabilities and the goals ('what did we forecast for Q2 on 1 April?').\n"
            "--format html writes one self-contained page with a bar chart."
        ),
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_store_option(parser)
    parser.add_argument("--team", required=True, metavar="NAME_OR_ID", help="the team")
    parser.add_argument(
        "--period", required=True, type=period, metavar="PERIOD", help="e.g. 2026-Q2"
    )
    add_at_option(parser, "as the record stood at this moment, with its UTC offset (default: now)")
    parser.add_argument(
        "--format",
        choices=(TABLE, JSON, CSV, HTML),
        default=TABLE,
        help=f"output format (default: {TABLE})",
    )
    parser.add_argument("--output", metavar="FILE", type=Path, help="default: standard output")
    parser.set_defaults(handler=run_forecast)


def run_forecast(args: argparse.Namespace) -> int:
    from kam_domain.audit.records import open_app
    from kam_domain.cli.output import write_report
    from kam_domain.reports.forecast_reading import read_forecast

    with open_app(args.store) as app:
        forecast = read_forecast(app, args.team, args.period, at=args.at)
    from kam_domain.reports.forecast import RECORD_COLUMNS
    from kam_domain.reports.forecast_html import render_forecast_html

    write_report(
        args.output,
        args.format,
        as_dict=forecast.as_dict,
        columns=RECORD_COLUMNS,
        records=forecast.records,
        html=lambda: render_forecast_html(forecast, printed_at=datetime.now(UTC)),
        table=lambda out: table(forecast, out),
    )
    return EXIT_OK


_HEADERS = [
    "scope",
    "name",
    "currency",
    "committed",
    "weighted",
    "best case",
    "goal",
    "committed/goal",
    "forecast/goal",
    "won",
    "open",
]
_NUMERIC = set(_HEADERS[3:])


def table(forecast: Forecast, out: TextIO | None = None) -> str:
    """The forecast as a table, with the probabilities it used; its header is bold when
    ``out`` is a colour terminal (stored text escaped: it is written past the filter)."""
    from kam_domain.cli.terminal import one_line

    as_of = "now" if forecast.at is None else forecast.at.isoformat()
    title = f"{one_line(forecast.team_name)} — forecast {forecast.period} (as of {as_of})"
    rows = [
        [
            line.scope,
            one_line(line.name),
            line.currency,
            _amount(line.committed.amount),
            _amount(line.weighted.amount),
            _amount(line.best_case.amount),
            "—" if line.goal is None else _amount(line.goal.amount),
            _share(line.committed_of_goal),
            _share(line.forecast_of_goal),
            str(line.won),
            str(line.open),
        ]
        for line in forecast.lines
    ]
    chances = ", ".join(
        f"{stage.label} {probability}" for stage, probability in forecast.probabilities.items()
    )
    body = _columns(rows, out) if rows else f"no opportunities or goals for {forecast.period}"
    notes = [
        f"stage probabilities: {chances}",
        "forecast = committed + weighted; best case = committed + open opportunities in full",
    ]
    return "\n".join([title, "", body, "", *notes]) + "\n"


def _amount(value: Decimal) -> str:
    return f"{value:,.2f}"


def _share(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


def _columns(rows: list[list[str]], out: TextIO | None) -> str:
    from kam_domain.cli.output import table

    # Drawn for a pipe unless told where it goes: plain text, as a caller of table() expects.
    return table(_HEADERS, rows, right=_NUMERIC, stream=out or io.StringIO())
