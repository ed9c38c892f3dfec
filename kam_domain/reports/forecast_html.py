"""The forecast as one self-contained HTML page: a table and a bar chart per currency as
inline SVG, with no script and nothing loaded from anywhere (a content security policy forbids
it).

The markup is a Jinja2 template (``templates/forecast.html``) with autoescaping on: names are
user data and reach the page only through the engine, which escapes them. This module computes
what the template shows: the rows' texts and the bars' geometry.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cache

import attrs
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from kam_domain.reports.forecast import Forecast, ForecastLine

__all__ = ["render_forecast_html"]

#: The chart's layout, in SVG user units.
WIDTH = 760
LABEL = 190
BAR = 12
GAP = 16
TOP = 28

#: The three bars of a line and their colours: committed, forecast, best case.
SERIES = (
    ("committed", "#1f6f43"),
    ("forecast", "#4c8dc9"),
    ("best case", "#c9d8e8"),
)


@attrs.frozen
class Bar:
    y: float
    width: float
    fill: str
    label: str


@attrs.frozen
class ChartRow:
    name: str
    y: float
    bars: tuple[Bar, ...]
    goal_x: float | None
    goal_text: str | None


@attrs.frozen
class Chart:
    currency: str
    width: int
    height: float
    left: int
    rows: tuple[ChartRow, ...]
    title: str


@attrs.frozen
class Row:
    scope: str
    name: str
    currency: str
    committed: str
    weighted: str
    best_case: str
    goal: str
    committed_of_goal: str
    forecast_of_goal: str
    won: int
    open: int


def render_forecast_html(forecast: Forecast, *, printed_at: datetime | None = None) -> str:
    """The page for ``forecast``; ``printed_at``, when given, is shown as when it was made."""
    title = f"Forecast {forecast.period} — {forecast.team_name}"
    return (
        _environment()
        .get_template("forecast.html")
        .render(
            title=title,
            forecast=forecast,
            as_of="the record as it stands" if forecast.at is None else _moment(forecast.at),
            printed=None if printed_at is None else _moment(printed_at),
            rows=[_row(line) for line in forecast.lines],
            charts=_charts(forecast),
            series=SERIES,
            probabilities=[(s.label, str(p)) for s, p in forecast.probabilities.items()],
        )
    )


def _row(line: ForecastLine) -> Row:
    return Row(
        scope=line.scope,
        name=line.name,
        currency=line.currency,
        committed=_amount(line.committed.amount),
        weighted=_amount(line.weighted.amount),
        best_case=_amount(line.best_case.amount),
        goal="—" if line.goal is None else _amount(line.goal.amount),
        committed_of_goal=_share(line.committed_of_goal),
        forecast_of_goal=_share(line.forecast_of_goal),
        won=line.won,
        open=line.open,
    )


def _charts(forecast: Forecast) -> list[Chart]:
    currencies = sorted({line.currency for line in forecast.lines})
    return [_chart(forecast, currency) for currency in currencies]


def _chart(forecast: Forecast, currency: str) -> Chart:
    lines = [line for line in forecast.lines if line.currency == currency]
    top = max(
        [line.best_case.amount for line in lines]
        + [line.goal.amount for line in lines if line.goal is not None]
        + [Decimal(1)]
    )
    span = WIDTH - LABEL - 20
    step = len(SERIES) * BAR + GAP
    rows = []
    for index, line in enumerate(lines):
        y = TOP + index * step
        values = (line.committed.amount, line.forecast.amount, line.best_case.amount)
        bars = tuple(
            Bar(
                y=y + number * BAR,
                width=round(float(value / top) * span, 1),
                fill=colour,
                label=f"{name}: {_amount(value)} {currency}",
            )
            for number, ((name, colour), value) in enumerate(zip(SERIES, values, strict=True))
        )
        goal = line.goal
        rows.append(
            ChartRow(
                name=line.name if line.scope == "member" else f"{line.name} (team)",
                y=y + BAR * 1.9,
                bars=bars,
                goal_x=None if goal is None else LABEL + round(float(goal.amount / top) * span, 1),
                goal_text=None if goal is None else f"goal: {_amount(goal.amount)} {currency}",
            )
        )
    height = TOP + len(lines) * step + 8
    title = f"Committed, forecast and best case against the goals, in {currency}"
    return Chart(currency, WIDTH, height, LABEL, tuple(rows), title)


def _amount(value: Decimal) -> str:
    return f"{value:,.2f}"


def _share(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


def _moment(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("kam_domain.reports", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
