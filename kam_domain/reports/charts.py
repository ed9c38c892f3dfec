"""The scorecard's charts as geometry: where each bar, line and label goes, computed here; the
markup that draws them is the ``charts.html`` template's.

A :class:`Chart` is a list of shapes with their coordinates already written as the SVG will
hold them, and the text each label shows (escaped by the template engine, like every value).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

import attrs

from kam_domain.aggregates.team import EvaluationStandard
from kam_domain.reports.card import METRIC_LABELS, ScorecardRow, ScorecardTeam, format_percent
from kam_domain.reports.look import (
    ATTAINMENT_AXIS,
    METRIC_COLOURS,
    SCORE_AXIS,
    UNRATED,
    attainment_colour,
    clip,
    rating_colour,
)
from kam_domain.values import Metric

__all__ = ["Chart", "Line", "Path", "Rect", "Text", "charts"]

_NARROW = 560
_WIDE = 1080
_LABEL = 150
_RIGHT = 96
_TOP = 26


@attrs.frozen
class Rect:
    """A bar, a chip's ground, a band's zone, a legend's swatch."""

    x: str
    y: str
    width: str
    height: str
    fill: str
    rx: str | None = None
    opacity: str | None = None
    #: Which element the template draws (a class attribute, not a field).
    kind = "rect"


@attrs.frozen
class Text:
    """A label, a value, a tick, a chip's letter."""

    x: str
    y: str
    css: str
    text: str
    fill: str | None = None
    kind = "text"


@attrs.frozen
class Line:
    """A grid line, the goal's line, a separator."""

    x1: str
    y1: str
    x2: str
    y2: str
    css: str
    kind = "line"


@attrs.frozen
class Path:
    """The notch at the end of a bar off the scale."""

    d: str
    fill: str
    kind = "path"


Shape = Rect | Text | Line | Path


@attrs.frozen
class Chart:
    """One figure: its caption, the SVG's size and title, and its shapes in drawing order."""

    caption: str
    title: str
    width: int
    #: As the viewBox gives it (whole units).
    height: str
    shapes: tuple[Shape, ...]
    wide: bool = False


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

    def grid(self, ticks: Iterable[tuple[Decimal, str]], top: float, bottom: float) -> list[Shape]:
        shapes: list[Shape] = []
        for value, label in ticks:
            x = f"{self.x(value):.1f}"
            shapes.append(Line(x, f"{top - 4}", x, f"{bottom:.1f}", "grid"))
            shapes.append(Text(x, f"{top - 8}", "tick", label))
        return shapes

    def goal(self, top: float, bottom: float) -> Line:
        x = f"{self.x(Decimal(100)):.1f}"
        return Line(x, f"{top - 4}", x, f"{bottom:.1f}", "goal")

    def attainment_axis(self, top: float, bottom: float) -> list[Shape]:
        """The attainment ticks, 0 to 150 %, and the goal's line at 100 %."""
        ticks = [(Decimal(v), f"{v}%") for v in (0, 50, 100, 150)]
        return [*self.grid(ticks, top, bottom), self.goal(top, bottom)]

    def bars(self, bars: Sequence[_Bar], *, row: float = 24, top: float = _TOP) -> list[Shape]:
        shapes: list[Shape] = []
        thick = row - 8
        for index, bar in enumerate(bars):
            y = top + index * row + 4
            middle = y + thick / 2
            baseline = f"{middle + 3.5:.1f}"
            shapes.append(Text(f"{_LABEL - 8}", baseline, "label", clip(bar.label, 26)))
            if bar.value is None:
                shapes.append(Text(f"{_LABEL + 4}", baseline, "none", bar.text))
            else:
                end = self.x(bar.value)
                shapes.append(
                    Rect(
                        f"{_LABEL}",
                        f"{y:.1f}",
                        f"{end - _LABEL:.1f}",
                        f"{thick:.1f}",
                        bar.colour,
                        "2",
                    )
                )
                if bar.value > self.axis:
                    # Off the scale: the bar ends in a notch; its label gives the value.
                    notch = f"M{end - 5:.1f},{y:.1f} l5,{thick / 2:.1f} l-5,{thick / 2:.1f}z"
                    shapes.append(Path(notch, "#fff"))
                shapes.append(Text(f"{self.width - _RIGHT + 6}", baseline, "value", bar.text))
            if bar.chip is not None:
                text, colour = bar.chip
                cx = self.width - 16
                shapes.append(Rect(f"{cx - 12}", f"{middle - 8:.1f}", "24", "16", colour, "3"))
                shapes.append(Text(f"{cx}", f"{middle + 4:.1f}", "chip", text))
        return shapes


def charts(
    team: ScorecardTeam,
    teams: Sequence[ScorecardRow],
    kams: Sequence[ScorecardRow],
    accounts: Sequence[ScorecardRow],
) -> list[Chart]:
    """Two charts a row; an odd one out takes the whole row. Scores and ratings where there
    are evaluations; revenue attainment so far where there are none yet."""
    drawn: list[tuple[str, Callable[[int], tuple[str, float, list[Shape]]]]] = []
    if teams:
        drawn.append(("Team attainment by metric", lambda w: _attainment_chart(teams[0], w)))
    if any(row.evaluated for row in kams):
        drawn.append(("KAMs: score and rating", lambda w: _score_chart(kams, team.standard, w)))
    if kams:
        drawn.append(("KAMs: attainment by metric", lambda w: _grouped_chart(kams, w)))
    if any(row.evaluated for row in accounts):
        ranked = sorted(accounts, key=_by_score)
        drawn.append(
            ("Accounts: score and rating", lambda w: _score_chart(ranked, team.standard, w))
        )
    elif accounts:
        ranked = sorted(accounts, key=_by_revenue)
        drawn.append(("Accounts: revenue attainment so far", lambda w: _revenue_chart(ranked, w)))
    figures = []
    for index, (caption, draw) in enumerate(drawn):
        wide = index == len(drawn) - 1 and len(drawn) % 2 == 1
        width = _WIDE if wide else _NARROW
        title, height, shapes = draw(width)
        figures.append(Chart(caption, title, width, f"{height:.0f}", tuple(shapes), wide))
    return figures


def _attainment_chart(row: ScorecardRow, width: int) -> tuple[str, float, list[Shape]]:
    """The team target's attainment per metric, against the goal."""
    frame = _Frame(width, ATTAINMENT_AXIS)
    bars = [
        _Bar(
            line.label.capitalize(),
            line.attainment,
            line.attainment_text if line.attainment is not None else "not measurable yet",
            attainment_colour(line.attainment, row.evaluated),
        )
        for line in row.lines
    ]
    height = _TOP + len(bars) * 30 + 10
    shapes = [*frame.attainment_axis(_TOP, height - 8), *frame.bars(bars, row=30)]
    return f"Attainment of the team target, per metric ({row.status})", height, shapes


def _revenue_chart(rows: Sequence[ScorecardRow], width: int) -> tuple[str, float, list[Shape]]:
    """Revenue attainment per scope (for a period not scored yet)."""
    frame = _Frame(width, ATTAINMENT_AXIS)
    bars = []
    for row in rows:
        line = row.line(Metric.SALES_REVENUE)
        value = None if line is None else line.attainment
        text = "no revenue goal" if line is None else format_percent(value)
        bars.append(_Bar(row.name, value, text, attainment_colour(value, row.evaluated)))
    height = _TOP + len(bars) * 24 + 10
    shapes = [*frame.attainment_axis(_TOP, height - 8), *frame.bars(bars)]
    return "Revenue attainment so far, per scope", height, shapes


def _score_chart(
    rows: Sequence[ScorecardRow], standard: EvaluationStandard, width: int
) -> tuple[str, float, list[Shape]]:
    """Each scope's score on the rating bands, with its rating."""
    frame = _Frame(width, SCORE_AXIS)
    bars = []
    for row in rows:
        colour = rating_colour(row.rating_rank, standard) if row.evaluated else UNRATED
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
    shapes = _band_zones(frame, standard, height)
    ticks = [(Decimal(0), "0"), (SCORE_AXIS, f"{SCORE_AXIS:.0f}")]
    ticks += [(band.min_score, f"{band.min_score}") for band in standard.bands if band.min_score]
    shapes += frame.grid(ticks, _TOP, height - 14)
    shapes += frame.bars(bars)
    names = ", ".join(f"{row.name} {row.rating or 'not evaluated'}" for row in rows)
    return f"Score and rating: {names}", height, shapes


def _band_zones(frame: _Frame, standard: EvaluationStandard, height: float) -> list[Shape]:
    shapes: list[Shape] = []
    upper = SCORE_AXIS
    for rank, band in enumerate(standard.bands):
        x0, x1 = frame.x(band.min_score), frame.x(upper)
        if x1 > x0:
            colour = rating_colour(rank, standard)
            zone = f"{height - _TOP - 14:.1f}"
            shapes.append(
                Rect(f"{x0:.1f}", f"{_TOP - 4}", f"{x1 - x0:.1f}", zone, colour, None, "0.09")
            )
            shapes.append(
                Text(f"{(x0 + x1) / 2:.1f}", f"{height - 3:.1f}", "zone", band.rating, colour)
            )
        upper = min(upper, band.min_score)
    return shapes


def _grouped_chart(rows: Sequence[ScorecardRow], width: int) -> tuple[str, float, list[Shape]]:
    """Attainment per scope and metric: a bar for each metric a scope's target sets."""
    frame = _Frame(width, ATTAINMENT_AXIS)
    metrics = [metric for metric in Metric if any(row.line(metric) for row in rows)]
    bar, gap, pad = 7, 2, 12
    group = len(metrics) * (bar + gap) - gap + pad
    top = _TOP + 10
    height = top + len(rows) * group + 4
    shapes: list[Shape] = []
    for index, metric in enumerate(metrics):
        x = _LABEL + index * 110
        shapes.append(Rect(f"{x}", "4", "10", "10", METRIC_COLOURS[metric], "2"))
        shapes.append(Text(f"{x + 14}", "13", "legend", METRIC_LABELS[metric]))
    shapes += frame.attainment_axis(top, height - 4)
    for index, row in enumerate(rows):
        y0 = top + index * group
        if index:
            rule = f"{y0 - pad / 2:.1f}"
            shapes.append(Line("8", rule, f"{width - 8}", rule, "sep"))
        middle = y0 + (group - pad) / 2
        shapes.append(Text(f"{_LABEL - 8}", f"{middle + 3.5:.1f}", "label", clip(row.name, 26)))
        for position, metric in enumerate(metrics):
            line = row.line(metric)
            y = y0 + position * (bar + gap)
            if line is None or line.attainment is None:
                shapes.append(Text(f"{_LABEL + 4}", f"{y + bar:.1f}", "small none", "—"))
                continue
            end = frame.x(line.attainment)
            colour = METRIC_COLOURS[metric]
            shapes.append(
                Rect(f"{_LABEL}", f"{y:.1f}", f"{end - _LABEL:.1f}", f"{bar}", colour, "1.5")
            )
            shapes.append(
                Text(f"{width - _RIGHT + 6}", f"{y + bar - 0.5:.1f}", "small", line.attainment_text)
            )
    title = "Attainment per scope and metric, against the goal at 100%"
    return title, height, shapes


def _by_score(row: ScorecardRow) -> tuple[int, Decimal, str]:
    return (0, -row.score, row.name) if row.score is not None else (1, Decimal(0), row.name)


def _by_revenue(row: ScorecardRow) -> tuple[int, Decimal, str]:
    line = row.line(Metric.SALES_REVENUE)
    if line is None or line.attainment is None:
        return (1, Decimal(0), row.name)
    return (0, -line.attainment, row.name)
