"""The scorecard as one self-contained HTML page, laid out to print on A4 landscape.

Everything is in the page: inline CSS and inline SVG charts, no script, no font, image or
style sheet from anywhere else, and a content security policy that forbids loading any (so the
page shows the same offline, in a mail client or from an archive). Names are user data: every
piece of text is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

import attrs

from kam_domain.aggregates.target import ATTAINMENT_CAP, ScopeKind
from kam_domain.aggregates.team import EvaluationStandard
from kam_domain.reports.scorecard import (
    METRIC_LABELS,
    Scorecard,
    ScorecardLine,
    ScorecardRow,
    ScorecardTeam,
    format_percent,
)
from kam_domain.values import Metric, Money

__all__ = ["render_html"]

# Best band first; a standard with other band counts spreads its bands over these.
_RATING_COLOURS = ("#1b7f4c", "#2c6fb7", "#d08c00", "#c2392b")
_UNRATED = "#8a94a3"
#: Attainment of a target not evaluated yet: measured so far, not judged.
_OPEN = "#4a78a8"
_METRIC_COLOURS = {
    Metric.SALES_REVENUE: "#1f4e79",
    Metric.SERVICE_LEVEL: "#2a9d8f",
    Metric.CUSTOMER_SATISFACTION: "#8e6bbf",
}
#: Attainment bars run to 150 %; beyond that a bar ends in a notch and its label tells the rest.
_ATTAINMENT_AXIS = Decimal(150)
_SCORE_AXIS = ATTAINMENT_CAP * 100


def render_html(card: Scorecard, *, printed_at: datetime | None = None) -> str:
    """The page: per team a summary, charts and the KAM and account tables, then a key.

    ``printed_at``, when given, is shown as the moment the page was made.
    """
    title = f"Scorecard {card.period}"
    if len(card.teams) == 1:
        title += f" — {card.teams[0].name}"
    sections = [_team_section(card, team, printed_at) for team in card.teams]
    if not sections:
        sections = [
            '<section class="team"><header class="masthead"><div class="kicker">'
            f"Key-account scorecard · {_e(card.period)}</div><h1>No targets</h1>"
            f"<p>No team has a target for {_e(card.period)}"
            f"{'' if card.at is None else ' as of ' + _e(_moment(card.at))}.</p>"
            "</header></section>"
        ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        '<main class="page">\n' + "\n".join(sections) + "\n" + _key(card) + "\n</main>\n"
        "</body>\n</html>\n"
    )


# -- one team ----------------------------------------------------------------------------------


def _team_section(card: Scorecard, team: ScorecardTeam, printed_at: datetime | None) -> str:
    teams = team.of_scope(ScopeKind.TEAM)
    kams = team.of_scope(ScopeKind.MEMBER)
    accounts = team.of_scope(ScopeKind.ACCOUNT)
    parts = [
        f'<section class="team" id="team-{team.team_id}">',
        _masthead(card, team, printed_at),
        _tiles(team, teams[0] if teams else None),
        _charts(team, teams, kams, accounts),
    ]
    if teams:
        parts.append(_table("Team", teams, team.standard, kam_column=False))
    if kams:
        parts.append(_table("KAMs", kams, team.standard, kam_column=False))
    if accounts:
        parts.append(_table("Accounts", accounts, team.standard, kam_column=True))
    if not team.rows:
        parts.append(f'<p class="empty">No targets for {_e(card.period)}.</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _charts(
    team: ScorecardTeam,
    teams: Sequence[ScorecardRow],
    kams: Sequence[ScorecardRow],
    accounts: Sequence[ScorecardRow],
) -> str:
    """Two charts a row; an odd one out takes the whole row. Scores and ratings where there
    are evaluations; revenue attainment so far where there are none yet."""
    charts: list[tuple[str, Callable[[int], str]]] = []
    if teams:
        charts.append(("Team attainment by metric", lambda w: _attainment_chart(teams[0], w)))
    if any(row.evaluated for row in kams):
        charts.append(("KAMs: score and rating", lambda w: _score_chart(kams, team.standard, w)))
    if kams:
        charts.append(("KAMs: attainment by metric", lambda w: _grouped_chart(kams, w)))
    if any(row.evaluated for row in accounts):
        ranked = sorted(accounts, key=_by_score)
        charts.append(
            ("Accounts: score and rating", lambda w: _score_chart(ranked, team.standard, w))
        )
    elif accounts:
        ranked = sorted(accounts, key=_by_revenue)
        charts.append(("Accounts: revenue attainment so far", lambda w: _revenue_chart(ranked, w)))
    figures = []
    for index, (title, draw) in enumerate(charts):
        wide = index == len(charts) - 1 and len(charts) % 2 == 1
        figures.append(_figure(title, draw(_WIDE if wide else _NARROW), wide=wide))
    return f'<div class="charts">{"".join(figures)}</div>'


def _masthead(card: Scorecard, team: ScorecardTeam, printed_at: datetime | None) -> str:
    period = card.period
    last_day = period.end - timedelta(days=1)
    span = f"{period.start:%-d %b} – {last_day:%-d %b %Y}"
    as_of = "the record as it stands" if card.at is None else _moment(card.at)
    made = "" if printed_at is None else f"<span>Printed {_e(_moment(printed_at))}</span>"
    return (
        '<header class="masthead">'
        f'<div class="kicker">Key-account scorecard · {_e(period)}</div>'
        f"<h1>{_e(team.name)}</h1>"
        '<p class="meta">'
        f"<span>{_e(team.segment)} · {_e(team.region)}</span>"
        f"<span>Period {_e(period)} ({_e(span)})</span>"
        f"<span>As of {_e(as_of)}</span>{made}</p>"
        f"{_legend(team.standard)}"
        f"{_pending_note(team)}"
        "</header>"
    )


def _pending_note(team: ScorecardTeam) -> str:
    pending = sum(not row.evaluated for row in team.rows)
    if not pending:
        return ""
    whole = "All" if pending == len(team.rows) else f"{pending} of {len(team.rows)}"
    return (
        f'<p class="pending-note">{whole} targets not evaluated yet: their actuals are those '
        "measured from the record so far, without a score or rating.</p>"
    )


def _legend(standard: EvaluationStandard) -> str:
    chips = []
    upper = None
    for rank, band in enumerate(standard.bands):
        span = f"≥ {band.min_score}" if upper is None else f"{band.min_score}–{upper}"
        chips.append(
            f'<span class="band">{_chip(band.rating, _rating_colour(rank, standard))}'
            f"{_e(span)}</span>"
        )
        upper = band.min_score
    return (
        '<div class="legend"><span class="legend-label">Rating</span>'
        + "".join(chips)
        + f'<span class="band">{_chip("—", _UNRATED)}not evaluated</span></div>'
    )


def _tiles(team: ScorecardTeam, whole: ScorecardRow | None) -> str:
    rows = team.rows
    evaluated = sum(row.evaluated for row in rows)
    signed = sum(row.signed_off for row in rows)
    missing = sum(row.action_plan_missing for row in rows)
    tiles = []
    if whole is not None:
        if whole.evaluated:
            colour = _rating_colour(whole.rating_rank, team.standard)
            score = (
                f'<div class="big">{_e(whole.score)}</div>'
                f'<div class="rating-big" style="background:{colour}">{_e(whole.rating)}</div>'
            )
            note = f"evaluation {whole.evaluation_number}"
        else:
            score = '<div class="big muted">—</div>'
            note = "not evaluated yet"
        tiles.append(
            f'<div class="tile score"><div class="tile-label">Team score</div>'
            f'<div class="score-line">{score}</div><div class="tile-note">{_e(note)}</div></div>'
        )
        for line in whole.lines:
            tiles.append(
                f'<div class="tile"><div class="tile-label">{_e(_heading(line))}</div>'
                f'<div class="value">{_e(_short(line, line.actual))}</div>'
                f'<div class="tile-note">of {_e(_short(line, line.goal))} goal</div>'
                f"{_meter(line, whole.evaluated)}</div>"
            )
    attention = " alert" if missing or signed < evaluated else ""
    tiles.append(
        f'<div class="tile status{attention}"><div class="tile-label">Targets</div>'
        f"<ul><li><b>{len(rows)}</b> set</li><li><b>{evaluated}</b> evaluated</li>"
        f"<li><b>{signed}</b> signed off</li>"
        f"<li><b>{missing}</b> action plan{'' if missing == 1 else 's'} missing</li></ul></div>"
    )
    return f'<div class="tiles">{"".join(tiles)}</div>'


def _meter(line: ScorecardLine, judged: bool) -> str:
    if line.attainment is None:
        return '<div class="meter-text muted">not measurable yet</div>'
    width = min(line.attainment, _ATTAINMENT_AXIS) / _ATTAINMENT_AXIS * 100
    goal = Decimal(100) / _ATTAINMENT_AXIS * 100
    return (
        f'<div class="meter"><span style="width:{width:.1f}%;'
        f'background:{_attainment_colour(line.attainment, judged)}"></span>'
        f'<i style="left:{goal:.1f}%"></i></div>'
        f'<div class="meter-text">{_e(line.attainment_text)} attained</div>'
    )


# -- tables ------------------------------------------------------------------------------------


def _table(
    heading: str, rows: Sequence[ScorecardRow], standard: EvaluationStandard, *, kam_column: bool
) -> str:
    metrics = [metric for metric in Metric if any(row.line(metric) for row in rows)]
    heads = ["Account" if kam_column else ("Team" if heading == "Team" else "KAM")]
    heads += [_metric_heading(metric, rows) for metric in metrics]
    heads += ["Score", "Rating", "Signed off", "Action plan"]
    header = "".join(f"<th>{head}</th>" for head in heads)
    body = []
    group = object()
    for row in rows:
        if kam_column and row.kam_name != group:
            group = row.kam_name
            who = "no accountable KAM" if row.kam_name is None else f"KAM {row.kam_name}"
            count = sum(other.kam_name == row.kam_name for other in rows)
            body.append(
                f'<tr class="group"><th colspan="{len(heads)}">{_e(who)}'
                f' <span class="count">{count} account{"" if count == 1 else "s"}</span></th></tr>'
            )
        body.append(_table_row(row, metrics, standard))
    # Fixed shares, so the team, KAM and account tables line up column for column.
    share = Decimal(45) / len(metrics) if metrics else Decimal(0)
    widths = [Decimal(18)] + [share] * len(metrics) + [Decimal(w) for w in (6, 7, 11, 13)]
    cols = "".join(f'<col style="width:{width:.2f}%">' for width in widths)
    return (
        f'<section class="table-block"><h2>{_e(heading)}</h2>'
        f'<table class="card"><colgroup>{cols}</colgroup><thead><tr>{header}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></section>"
    )


def _metric_heading(metric: Metric, rows: Sequence[ScorecardRow]) -> str:
    label = _e(METRIC_LABELS[metric].capitalize())
    units = {line.unit for row in rows if (line := row.line(metric)) is not None}
    unit = (
        f" ({_e(next(iter(units)))})" if metric is Metric.SALES_REVENUE and len(units) == 1 else ""
    )
    return f'{label}{unit}<span class="sub">actual / goal · attained</span>'


def _table_row(row: ScorecardRow, metrics: Sequence[Metric], standard: EvaluationStandard) -> str:
    notes = []
    if not row.evaluated:
        notes.append("not evaluated: actuals measured so far")
    elif row.goals_revised:
        notes.append(f"goals revised since evaluation {row.evaluation_number}")
    name = f'<div class="name">{_e(row.name)}</div>'
    name += "".join(f'<div class="note">{_e(note)}</div>' for note in notes)
    cells = [f'<td class="who">{name}</td>']
    for metric in metrics:
        line = row.line(metric)
        cells.append(_metric_cell(line, row.evaluated))
    if row.evaluated:
        cells.append(f'<td class="num score">{_e(row.score)}</td>')
        colour = _rating_colour(row.rating_rank, standard)
        cells.append(f'<td class="rating">{_chip(row.rating or "?", colour)}</td>')
    else:
        cells.append('<td class="num score muted">—</td>')
        cells.append(
            f'<td class="rating">{_chip("—", _UNRATED)}<span class="sub">not evaluated</span></td>'
        )
    cells.append(_sign_off_cell(row))
    cells.append(_action_cell(row))
    css = "" if row.evaluated else ' class="pending"'
    return f"<tr{css}>{''.join(cells)}</tr>"


def _metric_cell(line: ScorecardLine | None, judged: bool) -> str:
    if line is None:
        return '<td class="metric muted">—</td>'
    return (
        '<td class="metric">'
        f'<div class="pair"><b>{_e(_short(line, line.actual))}</b>'
        f'<span class="of"> / {_e(_short(line, line.goal))}</span></div>'
        f"{_mini(line, judged)}</td>"
    )


def _mini(line: ScorecardLine, judged: bool) -> str:
    if line.attainment is None:
        return '<div class="att muted">not measurable yet</div>'
    width = min(line.attainment, _ATTAINMENT_AXIS) / _ATTAINMENT_AXIS * 100
    goal = Decimal(100) / _ATTAINMENT_AXIS * 100
    colour = _attainment_colour(line.attainment, judged)
    return (
        '<div class="att"><span class="mini">'
        f'<span style="width:{width:.1f}%;background:{colour}"></span>'
        f'<i style="left:{goal:.1f}%"></i></span>{_e(line.attainment_text)}</div>'
    )


def _sign_off_cell(row: ScorecardRow) -> str:
    text = row.sign_off_text
    state = {"yes": "ok", "—": "none"}.get(text, "warn")
    label = {"yes": "signed off", "no": "not signed", "—": "—"}.get(text, text)
    signers = [
        f"KAM: {row.signed_by_kam}" if row.signed_by_kam else "",
        f"supervisor: {row.signed_by_supervisor}" if row.signed_by_supervisor else "",
    ]
    detail = "".join(f'<span class="sub">{_e(s)}</span>' for s in signers if s)
    return f'<td class="state {state}"><span class="tag">{_e(label)}</span>{detail}</td>'


def _action_cell(row: ScorecardRow) -> str:
    text = row.action_plan_text
    state = {"adjusted": "ok", "required, missing": "bad"}.get(text, "none")
    label = "required — missing" if text == "required, missing" else text
    plan = ""
    if row.action_plan and row.action_plan_required:
        plan = f'<span class="sub plan">{_e(_clip(row.action_plan, 140))}</span>'
    return f'<td class="state {state}"><span class="tag">{_e(label)}</span>{plan}</td>'


# -- charts (inline SVG) -----------------------------------------------------------------------

_NARROW = 560
_WIDE = 1080
_LABEL = 150
_RIGHT = 96
_TOP = 26


@attrs.frozen
class _Bar:
    label: str
    value: Decimal | None
    text: str
    colour: str
    chip: tuple[str, str] | None = None


@attrs.frozen
class _Frame:
    """A chart's geometry: labels on the left, the plot, values (and chips) on the right."""

    width: int
    axis: Decimal

    @property
    def plot(self) -> int:
        return self.width - _LABEL - _RIGHT

    def x(self, value: Decimal) -> float:
        return float(_LABEL + min(max(value, Decimal(0)), self.axis) / self.axis * self.plot)

    def svg(self, title: str, height: float, body: Iterable[str]) -> str:
        return (
            f'<svg viewBox="0 0 {self.width} {height:.0f}" width="100%" role="img" '
            f'preserveAspectRatio="xMinYMin meet"><title>{_e(title)}</title>'
            + "".join(body)
            + "</svg>"
        )

    def grid(self, ticks: Iterable[tuple[Decimal, str]], top: float, bottom: float) -> list[str]:
        parts = []
        for value, label in ticks:
            x = self.x(value)
            parts.append(
                f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{bottom:.1f}" class="grid"/>'
                f'<text x="{x:.1f}" y="{top - 8}" class="tick">{_e(label)}</text>'
            )
        return parts

    def goal(self, top: float, bottom: float) -> str:
        x = self.x(Decimal(100))
        return f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{bottom:.1f}" class="goal"/>'

    def bars(self, bars: Sequence[_Bar], *, row: float = 24, top: float = _TOP) -> list[str]:
        parts = []
        thick = row - 8
        for index, bar in enumerate(bars):
            y = top + index * row + 4
            middle = y + thick / 2
            parts.append(
                f'<text x="{_LABEL - 8}" y="{middle + 3.5:.1f}" class="label">'
                f"{_e(_clip(bar.label, 26))}</text>"
            )
            if bar.value is None:
                parts.append(
                    f'<text x="{_LABEL + 4}" y="{middle + 3.5:.1f}" class="none">'
                    f"{_e(bar.text)}</text>"
                )
            else:
                end = self.x(bar.value)
                parts.append(
                    f'<rect x="{_LABEL}" y="{y:.1f}" width="{end - _LABEL:.1f}" '
                    f'height="{thick:.1f}" rx="2" fill="{bar.colour}"/>'
                )
                if bar.value > self.axis:
                    # Off the scale: the bar ends in a notch; its label gives the value.
                    parts.append(
                        f'<path d="M{end - 5:.1f},{y:.1f} l5,{thick / 2:.1f} '
                        f'l-5,{thick / 2:.1f}z" fill="#fff"/>'
                    )
                parts.append(
                    f'<text x="{self.width - _RIGHT + 6}" y="{middle + 3.5:.1f}" class="value">'
                    f"{_e(bar.text)}</text>"
                )
            if bar.chip is not None:
                text, colour = bar.chip
                cx = self.width - 16
                parts.append(
                    f'<rect x="{cx - 12}" y="{middle - 8:.1f}" width="24" height="16" rx="3" '
                    f'fill="{colour}"/><text x="{cx}" y="{middle + 4:.1f}" class="chip">'
                    f"{_e(text)}</text>"
                )
        return parts


def _figure(title: str, svg: str, *, wide: bool = False) -> str:
    css = "chart wide" if wide else "chart"
    return f'<figure class="{css}"><figcaption>{_e(title)}</figcaption>{svg}</figure>'


def _attainment_ticks() -> list[tuple[Decimal, str]]:
    return [(Decimal(v), f"{v}%") for v in (0, 50, 100, 150)]


def _attainment_chart(row: ScorecardRow, width: int) -> str:
    """The team target's attainment per metric, against the goal."""
    frame = _Frame(width, _ATTAINMENT_AXIS)
    bars = [
        _Bar(
            line.label.capitalize(),
            line.attainment,
            line.attainment_text if line.attainment is not None else "not measurable yet",
            _attainment_colour(line.attainment, row.evaluated),
        )
        for line in row.lines
    ]
    height = _TOP + len(bars) * 30 + 10
    body = frame.grid(_attainment_ticks(), _TOP, height - 8)
    body.append(frame.goal(_TOP, height - 8))
    body += frame.bars(bars, row=30)
    return frame.svg(f"Attainment of the team target, per metric ({row.status})", height, body)


def _revenue_chart(rows: Sequence[ScorecardRow], width: int) -> str:
    """Revenue attainment per scope (for a period not scored yet)."""
    frame = _Frame(width, _ATTAINMENT_AXIS)
    bars = []
    for row in rows:
        line = row.line(Metric.SALES_REVENUE)
        value = None if line is None else line.attainment
        text = "no revenue goal" if line is None else format_percent(value)
        bars.append(_Bar(row.name, value, text, _attainment_colour(value, row.evaluated)))
    height = _TOP + len(bars) * 24 + 10
    body = frame.grid(_attainment_ticks(), _TOP, height - 8)
    body.append(frame.goal(_TOP, height - 8))
    body += frame.bars(bars)
    return frame.svg("Revenue attainment so far, per scope", height, body)


def _score_chart(rows: Sequence[ScorecardRow], standard: EvaluationStandard, width: int) -> str:
    """Each scope's score on the rating bands, with its rating."""
    frame = _Frame(width, _SCORE_AXIS)
    bars = []
    for row in rows:
        colour = _rating_colour(row.rating_rank, standard) if row.evaluated else _UNRATED
        bars.append(
            _Bar(
                row.name,
                row.score,
                str(row.score) if row.score is not None else "not evaluated",
                colour,
                (row.rating or "?", colour) if row.evaluated else None,
            )
        )
    height = _TOP + len(bars) * 24 + 14
    body = _band_zones(frame, standard, height)
    ticks = [(Decimal(0), "0"), (_SCORE_AXIS, f"{_SCORE_AXIS:.0f}")]
    ticks += [(band.min_score, f"{band.min_score}") for band in standard.bands if band.min_score]
    body += frame.grid(ticks, _TOP, height - 14)
    body += frame.bars(bars)
    names = ", ".join(f"{row.name} {row.rating or 'not evaluated'}" for row in rows)
    return frame.svg(f"Score and rating: {names}", height, body)


def _band_zones(frame: _Frame, standard: EvaluationStandard, height: float) -> list[str]:
    parts = []
    upper = _SCORE_AXIS
    for rank, band in enumerate(standard.bands):
        x0, x1 = frame.x(band.min_score), frame.x(upper)
        if x1 > x0:
            colour = _rating_colour(rank, standard)
            parts.append(
                f'<rect x="{x0:.1f}" y="{_TOP - 4}" width="{x1 - x0:.1f}" '
                f'height="{height - _TOP - 14:.1f}" fill="{colour}" fill-opacity="0.09"/>'
                f'<text x="{(x0 + x1) / 2:.1f}" y="{height - 3:.1f}" class="zone" '
                f'fill="{colour}">{_e(band.rating)}</text>'
            )
        upper = min(upper, band.min_score)
    return parts


def _grouped_chart(rows: Sequence[ScorecardRow], width: int) -> str:
    """Attainment per scope and metric: a bar for each metric a scope's target sets."""
    frame = _Frame(width, _ATTAINMENT_AXIS)
    metrics = [metric for metric in Metric if any(row.line(metric) for row in rows)]
    bar, gap, pad = 7, 2, 12
    group = len(metrics) * (bar + gap) - gap + pad
    top = _TOP + 10
    height = top + len(rows) * group + 4
    body = []
    for index, metric in enumerate(metrics):
        x = _LABEL + index * 110
        body.append(
            f'<rect x="{x}" y="4" width="10" height="10" rx="2" '
            f'fill="{_METRIC_COLOURS[metric]}"/>'
            f'<text x="{x + 14}" y="13" class="legend">{_e(METRIC_LABELS[metric])}</text>'
        )
    body += frame.grid(_attainment_ticks(), top, height - 4)
    body.append(frame.goal(top, height - 4))
    for index, row in enumerate(rows):
        y0 = top + index * group
        if index:
            body.append(
                f'<line x1="8" y1="{y0 - pad / 2:.1f}" x2="{width - 8}" y2="{y0 - pad / 2:.1f}" '
                'class="sep"/>'
            )
        middle = y0 + (group - pad) / 2
        body.append(
            f'<text x="{_LABEL - 8}" y="{middle + 3.5:.1f}" class="label">'
            f"{_e(_clip(row.name, 26))}</text>"
        )
        for position, metric in enumerate(metrics):
            line = row.line(metric)
            y = y0 + position * (bar + gap)
            if line is None or line.attainment is None:
                body.append(f'<text x="{_LABEL + 4}" y="{y + bar:.1f}" class="small none">—</text>')
                continue
            end = frame.x(line.attainment)
            body.append(
                f'<rect x="{_LABEL}" y="{y:.1f}" width="{end - _LABEL:.1f}" height="{bar}" '
                f'rx="1.5" fill="{_METRIC_COLOURS[metric]}"/>'
                f'<text x="{width - _RIGHT + 6}" y="{y + bar - 0.5:.1f}" class="small">'
                f"{_e(line.attainment_text)}</text>"
            )
    return frame.svg("Attainment per scope and metric, against the goal at 100%", height, body)


# -- small things ------------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _chip(text: str, colour: str) -> str:
    return f'<span class="chip" style="background:{colour}">{_e(text)}</span>'


def _rating_colour(rank: int | None, standard: EvaluationStandard) -> str:
    if rank is None:
        return _UNRATED
    count = len(standard.bands)
    if count <= 1:
        return _RATING_COLOURS[0]
    step = round(rank * (len(_RATING_COLOURS) - 1) / (count - 1))
    return _RATING_COLOURS[min(step, len(_RATING_COLOURS) - 1)]


def _attainment_colour(attainment: Decimal | None, judged: bool) -> str:
    """Green at the goal, amber from 80 %, red below; one neutral colour while the period runs
    (judging half a quarter's actuals against a whole quarter's goal would mislead)."""
    if attainment is None:
        return _UNRATED
    if not judged:
        return _OPEN
    if attainment >= 100:
        return "#1b7f4c"
    return "#d08c00" if attainment >= 80 else "#c2392b"


def _heading(line: ScorecardLine) -> str:
    label = line.label.capitalize()
    return f"{label} ({line.unit})" if isinstance(line.goal, Money) else label


def _short(line: ScorecardLine, value: Money | Decimal | None) -> str:
    """A goal or actual without the currency (the column or tile says it)."""
    if isinstance(value, Money):
        places = 0 if value.amount == value.amount.to_integral_value() else 2
        return f"{value.amount:,.{places}f}"
    return line.text(value)


def _by_score(row: ScorecardRow) -> tuple[int, Decimal, str]:
    return (0, -row.score, row.name) if row.score is not None else (1, Decimal(0), row.name)


def _by_revenue(row: ScorecardRow) -> tuple[int, Decimal, str]:
    line = row.line(Metric.SALES_REVENUE)
    if line is None or line.attainment is None:
        return (1, Decimal(0), row.name)
    return (0, -line.attainment, row.name)


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def _moment(moment: datetime) -> str:
    return f"{moment:%-d %b %Y %H:%M} UTC"


def _key(card: Scorecard) -> str:
    standards = {team.standard for team in card.teams}
    weights = ""
    if len(standards) == 1:
        standard = next(iter(standards))
        weights = (
            " Weights: "
            + ", ".join(f"{METRIC_LABELS[metric]} {weight}" for metric, weight in standard.weights)
            + f". An action plan is required below a score of {standard.action_threshold}."
        )
    return (
        '<footer class="key"><h2>How to read this scorecard</h2><ul>'
        "<li><b>Attainment</b> is actual ÷ goal: green at the goal, amber from 80%, red below. "
        "The bars run to 150%; the dashed line marks the goal (100%).</li>"
        f"<li><b>Score</b> adds each metric's attainment, counted up to "
        f"{ATTAINMENT_CAP * 100:.0f}%, times its weight: from 0 to {_SCORE_AXIS:.0f}."
        f"{_e(weights)}</li>"
        "<li><b>Rating</b> is the band of the score under the team's assessment method at the "
        "time of the evaluation.</li>"
        "<li><b>Not evaluated</b>: the period has not been scored yet; the actuals are those "
        "measured from the record so far, shown in blue, and no score or rating is given.</li>"
        "<li><b>Signed off</b> means both the KAM and the supervisor signed the evaluation; "
        "<b>action plan</b> says whether a score under the threshold had its plan adjusted.</li>"
        "<li>Revenue is payments received in the period; service level is the share of cases "
        "acknowledged within their time limit; satisfaction is the mean survey score (of 100).</li>"
        "</ul><p>Made by <code>kam report scorecard</code> from the team's event log.</p></footer>"
    )


_CSS = """
:root { --ink: #1c2430; --muted: #5d6b7c; --rule: #d9dee5; --paper: #fff; --wash: #f4f6f9;
  --navy: #1f3a5f; }
* { box-sizing: border-box; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
html { background: #e9edf2; }
body { margin: 0; color: var(--ink); font: 10.5pt/1.4 "Helvetica Neue", Helvetica, Arial,
  "Noto Sans", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; }
.page { max-width: 1180px; margin: 24px auto; background: var(--paper); padding: 28px 34px;
  box-shadow: 0 1px 4px rgba(0,0,0,.12); }
h1 { font-size: 21pt; margin: 2px 0 4px; color: var(--navy); letter-spacing: -.01em; }
h2 { font-size: 12pt; margin: 18px 0 6px; color: var(--navy); text-transform: uppercase;
  letter-spacing: .06em; }
.masthead { border-bottom: 3px solid var(--navy); padding-bottom: 10px; margin-bottom: 14px;
  display: grid; grid-template-columns: 1fr auto; column-gap: 24px; }
.masthead > :not(.legend) { grid-column: 1; }
.kicker { font-size: 8.5pt; text-transform: uppercase; letter-spacing: .12em; color: var(--muted); }
.meta { margin: 0; color: var(--muted); font-size: 9pt; }
.meta span + span::before { content: "·"; margin: 0 8px; color: var(--rule); }
.legend { grid-column: 2; grid-row: 1 / span 3; align-self: end; display: flex; flex-wrap: wrap;
  gap: 4px 10px; align-items: center; font-size: 8.5pt; color: var(--muted);
  max-width: 330px; justify-content: flex-end; }
.pending-note { margin: 6px 0 0; padding: 4px 8px; border-left: 3px solid #d08c00;
  background: #fdf6e7; font-size: 9pt; }
.legend-label { font-weight: 600; color: var(--ink); }
.band { white-space: nowrap; }
.chip { display: inline-block; min-width: 20px; padding: 1px 5px; margin-right: 4px;
  border-radius: 3px; color: #fff; font-weight: 700; text-align: center; font-size: 9pt; }
.tiles { display: grid; grid-template-columns: 1.1fr repeat(3, 1fr) 1fr; gap: 10px;
  margin-bottom: 14px; break-inside: avoid; }
.tile { border: 1px solid var(--rule); border-radius: 6px; padding: 9px 12px;
  background: var(--wash); }
.tile-label { font-size: 8pt; text-transform: uppercase; letter-spacing: .08em;
  color: var(--muted); }
.tile .value { font-size: 15pt; font-weight: 700; margin-top: 2px; }
.tile-note { font-size: 8.5pt; color: var(--muted); }
.score-line { display: flex; align-items: center; gap: 10px; }
.big { font-size: 26pt; font-weight: 700; color: var(--navy); line-height: 1.1; }
.rating-big { color: #fff; font-weight: 800; font-size: 18pt; border-radius: 6px;
  padding: 2px 12px; }
.tile.status ul { list-style: none; margin: 4px 0 0; padding: 0; font-size: 9pt;
}
.tile.status.alert { border-color: #e0b4ad; background: #fbf1ef; }
.meter { position: relative; height: 6px; border-radius: 3px; background: #e1e6ec;
  margin-top: 6px; }
.meter span { position: absolute; left: 0; top: 0; bottom: 0; border-radius: 3px; }
.meter i, .mini i { position: absolute; top: -2px; bottom: -2px; width: 1.5px;
  background: var(--ink); }
.meter-text { font-size: 8.5pt; margin-top: 2px; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 10px 18px; }
.chart { margin: 0; break-inside: avoid; border: 1px solid var(--rule); border-radius: 6px;
  padding: 8px 10px 6px; }
.chart.wide { grid-column: 1 / -1; }
figcaption { font-weight: 700; font-size: 9.5pt; color: var(--navy); margin-bottom: 4px; }
svg { display: block; font-family: inherit; }
svg .label { font-size: 11px; text-anchor: end; fill: var(--ink); }
svg .value { font-size: 11px; fill: var(--ink); font-weight: 600; }
svg .small { font-size: 8.5px; fill: var(--ink); }
svg .none { font-size: 9.5px; fill: var(--muted); font-style: italic; }
svg .tick { font-size: 9px; text-anchor: middle; fill: var(--muted); }
svg .zone { font-size: 9px; text-anchor: middle; font-weight: 700; }
svg .chip { font-size: 10px; text-anchor: middle; fill: #fff; font-weight: 700; }
svg .legend { font-size: 9px; fill: var(--muted); }
svg .grid { stroke: #e3e7ec; stroke-width: 1; }
svg .goal { stroke: var(--ink); stroke-width: 1.2; stroke-dasharray: 3 2; }
svg .sep { stroke: #eef1f4; stroke-width: 1; }
.table-block { break-inside: auto; }
table.card { width: 100%; border-collapse: collapse; font-size: 9pt; table-layout: fixed; }
table.card thead { display: table-header-group; }
table.card th { text-align: left; font-size: 8pt; text-transform: uppercase; letter-spacing: .05em;
  color: var(--muted); border-bottom: 1.5px solid var(--navy); padding: 4px 6px;
  vertical-align: bottom; }
table.card td { border-bottom: 1px solid var(--rule); padding: 5px 6px; vertical-align: top; }
table.card tr { break-inside: avoid; }
tr.group th { background: var(--wash); color: var(--navy); text-transform: none; font-size: 9pt;
  letter-spacing: 0; border-bottom: 1px solid var(--rule); padding-top: 6px; }
tr.group { break-after: avoid; }
tr.group .count { color: var(--muted); font-weight: 400; margin-left: 6px; }
tr.pending td { background: #fafbfc; }
.sub { display: block; font-size: 7.5pt; color: var(--muted); text-transform: none;
  letter-spacing: 0; font-weight: 400; }
.who .name { font-weight: 600; }
.note { font-size: 7.5pt; color: #a05a00; font-style: italic; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td.score { font-weight: 700; font-size: 10.5pt; }
.metric .pair { font-variant-numeric: tabular-nums; white-space: nowrap; }
.metric .of { color: var(--muted); }
.att { font-size: 8pt; display: flex; align-items: center; gap: 6px;
  font-variant-numeric: tabular-nums; }
.mini { position: relative; display: inline-block; width: 56px; height: 5px; border-radius: 3px;
  background: #e1e6ec; }
.mini span { position: absolute; left: 0; top: 0; bottom: 0; border-radius: 3px; }
.state .tag { font-weight: 600; font-size: 8.5pt; }
.state.ok .tag { color: #1b7f4c; }
.state.warn .tag { color: #b06f00; }
.state.bad .tag { color: #c2392b; }
.state.none .tag { color: var(--muted); font-weight: 400; }
.plan { font-style: italic; max-width: 200px; }
.muted { color: var(--muted); }
.empty { color: var(--muted); font-style: italic; }
.key { margin-top: 20px; border-top: 1px solid var(--rule); padding-top: 6px; font-size: 8.5pt;
  color: var(--muted); break-inside: avoid; }
.key h2 { font-size: 9pt; }
.key ul { margin: 0; padding-left: 16px; columns: 2; column-gap: 28px; }
.key li { margin-bottom: 3px; break-inside: avoid; }
code { font-size: 8.5pt; }
section.team + section.team { break-before: page; margin-top: 28px; }
@page { size: A4 landscape; margin: 9mm 11mm; }
@media print {
  html { background: none; }
  body { font-size: 9.5pt; }
  .page { max-width: none; margin: 0; padding: 0; box-shadow: none; }
  h1 { font-size: 18pt; }
  h2 { margin-top: 12px; }
  .masthead { padding-bottom: 6px; margin-bottom: 8px; }
  .tiles { margin-bottom: 8px; gap: 8px; }
  .tile { padding: 6px 10px; }
  .big { font-size: 22pt; }
  .charts { gap: 8px 14px; }
  .chart { padding: 5px 8px 3px; }
  table.card td { padding: 3px 6px; }
  .table-block h2 { break-after: avoid; }
}
@media screen and (max-width: 800px) {
  .charts, .tiles { grid-template-columns: 1fr; }
  .masthead { grid-template-columns: 1fr; }
  .legend { grid-column: 1; grid-row: auto; justify-content: flex-start; }
}
"""
