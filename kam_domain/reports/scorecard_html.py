"""The scorecard as one self-contained HTML page, laid out to print on A4 landscape.

Everything is in the page: inline CSS and inline SVG charts, no script, no font, image or
style sheet from anywhere else, and a content security policy that forbids loading any (so the
page shows the same offline, in a mail client or from an archive).

The markup is in Jinja2 templates (``templates/``, shipped with the package) with autoescaping
on: names are user data, and every value reaches the page through the engine, which escapes it.
This module computes what the templates show (which rows, columns, colours, widths, texts); the
charts' geometry is :mod:`kam_domain.reports.charts`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from importlib.resources import files

import attrs
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from jinja2.ext import Extension
from markupsafe import Markup

from kam_domain.aggregates.target import ATTAINMENT_CAP, ScopeKind
from kam_domain.aggregates.team import EvaluationStandard
from kam_domain.reports.card import (
    METRIC_LABELS,
    Scorecard,
    ScorecardLine,
    ScorecardRow,
    ScorecardTeam,
)
from kam_domain.reports.charts import Chart, charts
from kam_domain.reports.look import (
    ATTAINMENT_AXIS,
    SCORE_AXIS,
    UNRATED,
    attainment_colour,
    clip,
    rating_colour,
)
from kam_domain.values import Metric, Money

__all__ = ["render_html"]


def render_html(card: Scorecard, *, printed_at: datetime | None = None) -> str:
    """The page: per team a summary, charts and the KAM and account tables, then a key.

    ``printed_at``, when given, is shown as the moment the page was made.
    """
    title = f"Scorecard {card.period}"
    if len(card.teams) == 1:
        title += f" — {card.teams[0].name}"
    period = card.period
    last_day = period.end - timedelta(days=1)
    return (
        _environment()
        .get_template("scorecard.html")
        .render(
            title=title,
            css=_css(),
            card=card,
            span=f"{period.start:%-d %b} – {last_day:%-d %b %Y}",
            as_of="the record as it stands" if card.at is None else _moment(card.at),
            at=None if card.at is None else _moment(card.at),
            printed=None if printed_at is None else _moment(printed_at),
            sections=[_Section.of(team) for team in card.teams],
            key=_Key.of(card),
        )
    )


# -- what the templates show ---------------------------------------------------------------------


@attrs.frozen
class _Gauge:
    """An attainment bar against the goal: how far it runs, where the goal is, its colour."""

    width: str
    goal: str
    colour: str
    text: str

    @classmethod
    def of(cls, line: ScorecardLine, judged: bool) -> _Gauge | None:
        if line.attainment is None:
            return None
        width = min(line.attainment, ATTAINMENT_AXIS) / ATTAINMENT_AXIS * 100
        goal = Decimal(100) / ATTAINMENT_AXIS * 100
        colour = attainment_colour(line.attainment, judged)
        return cls(f"{width:.1f}", f"{goal:.1f}", colour, line.attainment_text)


@attrs.frozen
class _Figure:
    """A metric's actual and goal as a tile or a cell shows them, with its gauge."""

    heading: str
    actual: str
    goal: str
    gauge: _Gauge | None

    @classmethod
    def of(cls, line: ScorecardLine, judged: bool) -> _Figure:
        label = line.label.capitalize()
        heading = f"{label} ({line.unit})" if isinstance(line.goal, Money) else label
        gauge = _Gauge.of(line, judged)
        return cls(heading, _short(line, line.actual), _short(line, line.goal), gauge)


@attrs.frozen
class _State:
    """A sign-off or action-plan cell: its state (ok, warn, bad, none), its tag, details."""

    state: str
    label: str
    details: tuple[tuple[str, str], ...]


@attrs.frozen
class _Row:
    row: ScorecardRow
    #: The KAM group this row opens (name, accounts), in the accounts table.
    group: tuple[str, int] | None
    notes: tuple[str, ...]
    cells: tuple[_Figure | None, ...]
    rating_colour: str
    sign_off: _State
    action: _State


@attrs.frozen
class _Table:
    heading: str
    #: The first column's heading, then each metric's (label, unit or None).
    who: str
    metrics: tuple[tuple[str, str | None], ...]
    widths: tuple[str, ...]
    rows: tuple[_Row, ...]

    @classmethod
    def of(
        cls,
        heading: str,
        rows: Sequence[ScorecardRow],
        standard: EvaluationStandard,
        *,
        kam_column: bool,
    ) -> _Table:
        metrics = [metric for metric in Metric if any(row.line(metric) for row in rows)]
        who = "Account" if kam_column else ("Team" if heading == "Team" else "KAM")
        body = []
        group: object = object()
        for row in rows:
            opens = None
            if kam_column and row.kam_name != group:
                group = row.kam_name
                name = "no accountable KAM" if row.kam_name is None else f"KAM {row.kam_name}"
                opens = (name, sum(other.kam_name == row.kam_name for other in rows))
            body.append(_row(row, metrics, standard, opens))
        # Fixed shares, so the team, KAM and account tables line up column for column.
        share = Decimal(45) / len(metrics) if metrics else Decimal(0)
        widths = [Decimal(18)] + [share] * len(metrics) + [Decimal(w) for w in (6, 7, 11, 13)]
        return cls(
            heading,
            who,
            tuple((METRIC_LABELS[metric].capitalize(), _unit(metric, rows)) for metric in metrics),
            tuple(f"{width:.2f}" for width in widths),
            tuple(body),
        )


@attrs.frozen
class _Section:
    """One team: its rows by scope, the legend of its ratings, its tiles, charts and tables."""

    team: ScorecardTeam
    #: Each band's rating, colour and score range, best first.
    legend: tuple[tuple[str, str, str], ...]
    #: How many targets are not evaluated yet ("All", "3 of 12"), or None when none.
    pending: str | None
    whole: ScorecardRow | None
    whole_rating_colour: str
    whole_figures: tuple[_Figure, ...]
    evaluated: int
    signed: int
    missing: int
    charts: tuple[Chart, ...]
    tables: tuple[_Table, ...]

    @classmethod
    def of(cls, team: ScorecardTeam) -> _Section:
        teams = team.of_scope(ScopeKind.TEAM)
        kams = team.of_scope(ScopeKind.MEMBER)
        accounts = team.of_scope(ScopeKind.ACCOUNT)
        standard = team.standard
        whole = teams[0] if teams else None
        rows = team.rows
        tables = [
            _Table.of(heading, scoped, standard, kam_column=heading == "Accounts")
            for heading, scoped in (("Team", teams), ("KAMs", kams), ("Accounts", accounts))
            if scoped
        ]
        pending = sum(not row.evaluated for row in rows)
        return cls(
            team,
            _legend(standard),
            None if not pending else "All" if pending == len(rows) else f"{pending} of {len(rows)}",
            whole,
            UNRATED if whole is None else rating_colour(whole.rating_rank, standard),
            ()
            if whole is None
            else tuple(_Figure.of(line, whole.evaluated) for line in whole.lines),
            sum(row.evaluated for row in rows),
            sum(row.signed_off for row in rows),
            sum(row.action_plan_missing for row in rows),
            tuple(charts(team, teams, kams, accounts)),
            tuple(tables),
        )


@attrs.frozen
class _Key:
    """What the key says of the scoring: the cap, the top score, and the weights when every
    team has the same standard."""

    cap: str
    top: str
    weights: str

    @classmethod
    def of(cls, card: Scorecard) -> _Key:
        standards = {team.standard for team in card.teams}
        weights = ""
        if len(standards) == 1:
            standard = next(iter(standards))
            listed = ", ".join(f"{METRIC_LABELS[m]} {weight}" for m, weight in standard.weights)
            weights = (
                f" Weights: {listed}. An action plan is required below a score of"
                f" {standard.action_threshold}."
            )
        return cls(f"{ATTAINMENT_CAP * 100:.0f}", f"{SCORE_AXIS:.0f}", weights)


def _figures(whole: ScorecardRow | None) -> tuple[_Figure, ...]:
    """The team target's metrics, a tile each."""
    if whole is None:
        return ()
    return tuple(_Figure.of(line, whole.evaluated) for line in whole.lines)


def _row(
    row: ScorecardRow,
    metrics: Sequence[Metric],
    standard: EvaluationStandard,
    group: tuple[str, int] | None,
) -> _Row:
    notes = []
    if not row.evaluated:
        notes.append("not evaluated: actuals measured so far")
    elif row.goals_revised:
        notes.append(f"goals revised since evaluation {row.evaluation_number}")
    cells = []
    for metric in metrics:
        line = row.line(metric)
        cells.append(None if line is None else _Figure.of(line, row.evaluated))
    return _Row(
        row,
        group,
        tuple(notes),
        tuple(cells),
        rating_colour(row.rating_rank, standard),
        _sign_off(row),
        _action(row),
    )


def _sign_off(row: ScorecardRow) -> _State:
    text = row.sign_off_text
    signers = [
        f"KAM: {row.signed_by_kam}" if row.signed_by_kam else "",
        f"supervisor: {row.signed_by_supervisor}" if row.signed_by_supervisor else "",
    ]
    return _State(
        {"yes": "ok", "—": "none"}.get(text, "warn"),
        {"yes": "signed off", "no": "not signed", "—": "—"}.get(text, text),
        tuple(("sub", signer) for signer in signers if signer),
    )


def _action(row: ScorecardRow) -> _State:
    text = row.action_plan_text
    plan: tuple[tuple[str, str], ...] = ()
    if row.action_plan and row.action_plan_required:
        plan = (("sub plan", clip(row.action_plan, 140)),)
    return _State(
        {"adjusted": "ok", "required, missing": "bad"}.get(text, "none"),
        "required — missing" if text == "required, missing" else text,
        plan,
    )


def _legend(standard: EvaluationStandard) -> tuple[tuple[str, str, str], ...]:
    bands = []
    upper = None
    for rank, band in enumerate(standard.bands):
        span = f"≥ {band.min_score}" if upper is None else f"{band.min_score}–{upper}"
        bands.append((band.rating, rating_colour(rank, standard), span))
        upper = band.min_score
    return tuple(bands)


def _unit(metric: Metric, rows: Sequence[ScorecardRow]) -> str | None:
    """The revenue column's currency, when every row's is the same."""
    units = {line.unit for row in rows if (line := row.line(metric)) is not None}
    return next(iter(units)) if metric is Metric.SALES_REVENUE and len(units) == 1 else None


def _short(line: ScorecardLine, value: Money | Decimal | None) -> str:
    """A goal or actual without the currency (the column or tile says it)."""
    if isinstance(value, Money):
        places = 0 if value.amount == value.amount.to_integral_value() else 2
        return f"{value.amount:,.{places}f}"
    return line.text(value)


def _moment(moment: datetime) -> str:
    return f"{moment:%-d %b %Y %H:%M} UTC"


# -- the engine ----------------------------------------------------------------------------------


class _Joined(Extension):
    """Templates are laid out on indented lines; the page is written without those line breaks.

    A line break followed by indentation, between a tag (or a template tag) and the next, is
    removed from the template's source before it is compiled: the values put into the page are
    never touched. Lines that start at the left margin keep their line break.
    """

    _BREAK = re.compile(r"(?<=[>}])\n[ \t]+(?=[<{])")

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return self._BREAK.sub("", source)


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("kam_domain.reports", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        extensions=[_Joined],
    )
    environment.globals["unrated"] = UNRATED
    return environment


@cache
def _css() -> Markup:
    # The style sheet is the package's own file, not user data: it goes into the page as it is
    # (escaping would break its quotes, which HTML does not decode inside <style>).
    sheet = files("kam_domain.reports").joinpath("templates", "scorecard.css")
    return Markup(sheet.read_text(encoding="utf-8"))
