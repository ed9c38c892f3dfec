"""What a target's queries return: who has signed off, whether an action plan is due, how child
targets allocate a parent's goals, and progress against the goals."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import attrs

from kam_domain.aggregates.target.goals import magnitude
from kam_domain.aggregates.target.records import Signatory, TargetSignature
from kam_domain.aggregates.target.scope import TargetScope
from kam_domain.values import Metric, Money, Period, TargetId


@attrs.frozen
class SignOffState:
    """Who has signed the latest evaluation off; complete when both KAM and supervisor have."""

    evaluation_number: int | None
    kam: TargetSignature | None
    supervisor: TargetSignature | None

    @property
    def complete(self) -> bool:
        return self.kam is not None and self.supervisor is not None

    def signature(self, signatory: Signatory) -> TargetSignature | None:
        return self.kam if signatory is Signatory.KAM else self.supervisor


@attrs.frozen
class ActionPlanState:
    """Whether the latest evaluation requires an action-plan adjustment, and whether it is done."""

    required: bool
    adjusted: bool
    plan: str | None
    adjusted_at: datetime | None

    @property
    def missing(self) -> bool:
        """A required adjustment has not been recorded since the evaluation that required it."""
        return self.required and not self.adjusted


@attrs.frozen
class DecompositionLine:
    """One metric of a parent target against what its child targets allocate.

    ``allocated`` is the children's total for revenue and their mean for service level and
    satisfaction (which are levels, not amounts); a metric no child sets allocates zero.
    ``difference`` is allocated minus goal: negative is a gap, positive an excess.
    """

    metric: Metric
    goal: Money | Decimal
    allocated: Money | Decimal
    difference: Money | Decimal
    children: int

    @property
    def is_gap(self) -> bool:
        return magnitude(self.difference) < 0

    @property
    def is_excess(self) -> bool:
        return magnitude(self.difference) > 0


@attrs.frozen
class MetricProgress:
    """A goal beside its latest actual; ``attainment`` is actual / goal in percent, uncapped."""

    metric: Metric
    goal: Money | Decimal
    actual: Money | Decimal | None
    attainment: Decimal | None


@attrs.frozen
class TargetProgress:
    """Goals against the latest evaluation's actuals, with that evaluation's outcome."""

    target_id: TargetId
    scope: TargetScope
    period: Period
    lines: tuple[MetricProgress, ...]
    closed_at: datetime | None
    evaluation_number: int | None
    score: Decimal | None
    rating: str | None
    signed_off: bool
    action_plan_missing: bool
