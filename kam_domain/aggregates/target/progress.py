"""How a target stands: what its child targets allocate of its goals, and its goals beside the
latest evaluation's actuals."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from kam_domain.aggregates.target.goals import CENT, Goal, check_goals, magnitude
from kam_domain.aggregates.target.guards import TargetGuards
from kam_domain.aggregates.target.results import DecompositionLine, MetricProgress, TargetProgress
from kam_domain.errors import CurrencyMismatch
from kam_domain.values import Money, TargetId

if TYPE_CHECKING:
    pass


class Progress(TargetGuards):
    """Decomposition and progress (queries; no events)."""

    def decomposition(self, children: Iterable[Sequence[Goal]]) -> list[DecompositionLine]:
        """Per metric of this target: what the child targets' goals allocate, gap or excess.

        ``children`` holds each child target's goals. Revenue must add up to this target's
        revenue (in its currency); service level and satisfaction, being levels, are compared
        with the children's mean.
        """
        child_goals = [check_goals("children", goals) for goals in children]
        lines = []
        for goal in self.goals:
            values = [
                child.value
                for goals in child_goals
                for child in goals
                if child.metric is goal.metric
            ]
            allocated: Money | Decimal
            difference: Money | Decimal
            if isinstance(goal.value, Money):
                total = Money.zero(goal.value.currency)
                for value in values:
                    assert isinstance(value, Money)
                    if value.currency != total.currency:
                        msg = f"a child's revenue is in {value.currency}, not {total.currency}"
                        raise CurrencyMismatch("children", msg)
                    total = total + value
                allocated, difference = total, total - goal.value
            else:
                levels = [magnitude(value) for value in values]
                mean = sum(levels, Decimal(0)) / len(levels) if levels else Decimal(0)
                allocated = mean.quantize(CENT, rounding=ROUND_HALF_UP)
                difference = allocated - goal.value
            lines.append(
                DecompositionLine(goal.metric, goal.value, allocated, difference, len(values))
            )
        return lines

    def progress(self) -> TargetProgress:
        """The current goals beside the latest evaluation's actuals and outcome."""
        latest = self.latest_evaluation
        lines = []
        for goal in self.goals:
            actual = None if latest is None else latest.actual(goal.metric)
            value = None if actual is None else actual.value
            attainment = None
            if value is not None:
                ratio = magnitude(value) / magnitude(goal.value) * 100
                attainment = ratio.quantize(CENT, rounding=ROUND_HALF_UP)
            lines.append(MetricProgress(goal.metric, goal.value, value, attainment))
        return TargetProgress(
            target_id=TargetId(self.id),
            scope=self.scope,
            period=self.period,
            lines=tuple(lines),
            closed_at=self.closed_at,
            evaluation_number=None if latest is None else latest.number,
            score=None if latest is None else latest.score,
            rating=None if latest is None else latest.rating,
            signed_off=self.is_signed_off,
            action_plan_missing=self.action_plan_state().missing,
        )
