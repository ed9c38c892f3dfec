"""The records a target holds: its revisions, evaluations, the signatures on them, and the
action plan as adjusted."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

import attrs

from kam_domain.aggregates.target.goals import Actual, Goal
from kam_domain.aggregates.team import EvaluationStandard
from kam_domain.transcoding import transcoded
from kam_domain.values import Actor, MemberId, Metric, Role


class Signatory(enum.Enum):
    """In which capacity someone signs an evaluation off: as the KAM or as the supervisor."""

    KAM = "kam"
    SUPERVISOR = "supervisor"

    @property
    def other(self) -> Signatory:
        return Signatory.SUPERVISOR if self is Signatory.KAM else Signatory.KAM


transcoded(Signatory)


def _goal_tuple(value: Iterable[Goal]) -> tuple[Goal, ...]:
    return tuple(value)


def _actual_tuple(value: Iterable[Actual]) -> tuple[Actual, ...]:
    return tuple(value)


@transcoded
@attrs.frozen
class TargetRevision:
    """One change of goals: before and after, why, who approved it, and whether the period had
    already closed (the auditor's "revised after close" exception)."""

    number: int
    version: int
    at: datetime
    before: tuple[Goal, ...] = attrs.field(converter=_goal_tuple)
    after: tuple[Goal, ...] = attrs.field(converter=_goal_tuple)
    reason: str
    approved_by: MemberId
    approver_role: Role
    after_close: bool


@transcoded
@attrs.frozen
class TargetEvaluation:
    """One evaluation: the goals it measured, the actuals and their events, the standard used,
    and the outcome (score, rating, whether an action plan must be adjusted)."""

    number: int
    at: datetime
    evaluated_by: Actor
    goals: tuple[Goal, ...] = attrs.field(converter=_goal_tuple)
    actuals: tuple[Actual, ...] = attrs.field(converter=_actual_tuple)
    standard: EvaluationStandard
    score: Decimal
    rating: str
    action_plan_required: bool

    def actual(self, metric: Metric) -> Actual | None:
        return next((actual for actual in self.actuals if actual.metric is metric), None)


@transcoded
@attrs.frozen
class TargetSignature:
    """A sign-off of one evaluation, in one capacity, with the signer's comments."""

    evaluation_number: int
    signatory: Signatory
    member_id: MemberId
    name: str
    role: Role
    comments: str
    at: datetime


@transcoded
@attrs.frozen
class ActionPlanAdjustment:
    """The action plan as adjusted at ``at``, and the evaluation it answers (if any yet)."""

    at: datetime
    plan: str
    adjusted_by: MemberId
    evaluation_number: int | None
