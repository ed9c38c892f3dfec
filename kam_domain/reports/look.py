"""How the scorecard's page shows values: the colours of ratings and attainment, the axes bars
are drawn on, and text clipped to fit. Shared by the page and its charts."""

from __future__ import annotations

from decimal import Decimal

from kam_domain.aggregates.target import ATTAINMENT_CAP
from kam_domain.aggregates.team import EvaluationStandard
from kam_domain.values import Metric

__all__ = [
    "ATTAINMENT_AXIS",
    "METRIC_COLOURS",
    "SCORE_AXIS",
    "UNRATED",
    "attainment_colour",
    "clip",
    "rating_colour",
]

# Best band first; a standard with other band counts spreads its bands over these.
_RATING_COLOURS = ("#1b7f4c", "#2c6fb7", "#d08c00", "#c2392b")
UNRATED = "#8a94a3"
#: Attainment of a target not evaluated yet: measured so far, not judged.
_OPEN = "#4a78a8"
METRIC_COLOURS = {
    Metric.SALES_REVENUE: "#1f4e79",
    Metric.SERVICE_LEVEL: "#2a9d8f",
    Metric.CUSTOMER_SATISFACTION: "#8e6bbf",
}
#: Attainment bars run to 150 %; beyond that a bar ends in a notch and its label tells the rest.
ATTAINMENT_AXIS = Decimal(150)
SCORE_AXIS = ATTAINMENT_CAP * 100


def rating_colour(rank: int | None, standard: EvaluationStandard) -> str:
    if rank is None:
        return UNRATED
    count = len(standard.bands)
    if count <= 1:
        return _RATING_COLOURS[0]
    step = round(rank * (len(_RATING_COLOURS) - 1) / (count - 1))
    return _RATING_COLOURS[min(step, len(_RATING_COLOURS) - 1)]


def attainment_colour(attainment: Decimal | None, judged: bool) -> str:
    """Green at the goal, amber from 80 %, red below; one neutral colour while the period runs
    (judging half a quarter's actuals against a whole quarter's goal would mislead)."""
    if attainment is None:
        return UNRATED
    if not judged:
        return _OPEN
    if attainment >= 100:
        return "#1b7f4c"
    return "#d08c00" if attainment >= 80 else "#c2392b"


def clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
