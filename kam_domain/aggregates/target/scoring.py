"""How actuals score against goals under the team's evaluation standard (考核办法)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from kam_domain.aggregates.target.goals import CENT, Actual, Goal, magnitude
from kam_domain.aggregates.team import EvaluationStandard
from kam_domain.errors import ValidationError

#: Over-achievement counts up to 120 % of a goal, no further (see :func:`score_of`).
ATTAINMENT_CAP = Decimal("1.2")


def score_of(
    goals: Sequence[Goal], actuals: Sequence[Actual], standard: EvaluationStandard
) -> Decimal:
    """The weighted score of ``actuals`` against ``goals`` under ``standard``, from 0 to 120.

    For each metric the target sets, attainment = min(actual / goal, 1.2): over-achievement
    counts up to 20 % beyond the goal and no further. The metric earns
    attainment × 100 × weight / total, where weight is the standard's weight for the metric and
    total is the sum of the standard's weights over the metrics this target sets. A target that
    sets all three metrics has total = 100, so each metric earns min(actual / goal, 1.2) × weight;
    a target that sets fewer has its weights scaled up to 100 among the metrics it sets.
    The score is the sum, rounded half up to two decimal places.
    """
    achieved = {actual.metric: actual.value for actual in actuals}
    total = sum((standard.weight(goal.metric) for goal in goals), Decimal(0))
    if total == 0:
        raise ValidationError("standard", "gives no weight to any metric this target sets")
    points = Decimal(0)
    for goal in goals:
        ratio = magnitude(achieved[goal.metric]) / magnitude(goal.value)
        points += min(ratio, ATTAINMENT_CAP) * 100 * standard.weight(goal.metric) / total
    return points.quantize(CENT, rounding=ROUND_HALF_UP)
