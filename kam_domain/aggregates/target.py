"""Performance targets (业绩指标): goals for a team, a KAM or an account over a quarter or a year.

A target is set for a scope and a period with a goal per metric, optionally as a share of a
wider parent target (the company plan decomposed into team, KAM and account targets). It is
revised with a reason (after its period closed, only by the supervisor), its period is closed,
it is evaluated against actuals taken from the log under the team's assessment method (考核办法),
the evaluation is signed off by the KAM and the supervisor, and an action plan is adjusted when
the score falls under the standard's threshold.

Commands take the acting member's :class:`Credentials` (``by``) and, for member and account
targets, the credentials of the KAM accountable for the scope at that moment (``kam``): the
member for a member target, the account's accountable KAM for an account target. For a team
target the KAM's part is played by a sales director and the supervisor's by the senior sales
director.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar, Self, TypeAlias
from uuid import UUID

import attrs

from kam_domain.aggregates.base import KamAggregate, Meta, require_text
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.team import EvaluationStandard
from kam_domain.bounds import PERCENT_PLACES, check_places
from kam_domain.errors import (
    CurrencyMismatch,
    InvalidTransition,
    NoAccountableManager,
    NotOnTeam,
    PeriodNotClosed,
    RoleRequired,
    SignOffIncomplete,
    SupervisorRequired,
    ValidationError,
)
from kam_domain.errors import PeriodClosed as PeriodClosedError
from kam_domain.transcoding import transcoded
from kam_domain.values import (
    Actor,
    ActorKind,
    MemberId,
    Metric,
    Money,
    Period,
    Role,
    TargetId,
    TeamId,
    require_amount,
    to_decimal,
)

__all__ = [
    "ATTAINMENT_CAP",
    "ActionPlanAdjustment",
    "ActionPlanState",
    "Actual",
    "DecompositionLine",
    "Goal",
    "MetricProgress",
    "RevenueActual",
    "RevenueGoal",
    "SatisfactionActual",
    "SatisfactionGoal",
    "ScopeKind",
    "ServiceLevelActual",
    "ServiceLevelGoal",
    "SignOffState",
    "Signatory",
    "Target",
    "TargetEvaluation",
    "TargetProgress",
    "TargetRevision",
    "TargetScope",
    "TargetSignature",
    "score_of",
]

#: Over-achievement counts up to 120 % of a goal, no further (see :func:`score_of`).
ATTAINMENT_CAP = Decimal("1.2")

_CENT = Decimal("0.01")
_METRIC_ORDER = {metric: position for position, metric in enumerate(Metric)}


# -- scope -----------------------------------------------------------------------------------------


class ScopeKind(enum.Enum):
    """What a target is for: the whole team, one member (a KAM) or one client account."""

    TEAM = "team"
    MEMBER = "member"
    ACCOUNT = "account"

    @property
    def breadth(self) -> int:
        """Team (3) is wider than member (2), which is wider than account (1)."""
        return _BREADTH[self]


_BREADTH = {ScopeKind.TEAM: 3, ScopeKind.MEMBER: 2, ScopeKind.ACCOUNT: 1}
transcoded(ScopeKind)


def _check_scope_kind(_: object, attribute: attrs.Attribute[ScopeKind], value: object) -> None:
    if not isinstance(value, ScopeKind):
        raise ValidationError("scope", f"kind must be a ScopeKind, not {value!r}")


def _check_scope_id(_: object, attribute: attrs.Attribute[UUID], value: object) -> None:
    if not isinstance(value, UUID):
        raise ValidationError("scope", f"id must be a UUID, not {value!r}")


@transcoded
@attrs.frozen
class TargetScope:
    """Whose target it is: ``TargetScope.team(team_id)``, ``.member(kam_id)``, ``.account(id)``."""

    kind: ScopeKind = attrs.field(validator=_check_scope_kind)
    id: UUID = attrs.field(validator=_check_scope_id)

    @classmethod
    def team(cls, team_id: UUID) -> Self:
        return cls(ScopeKind.TEAM, team_id)

    @classmethod
    def member(cls, member_id: UUID) -> Self:
        return cls(ScopeKind.MEMBER, member_id)

    @classmethod
    def account(cls, account_id: UUID) -> Self:
        return cls(ScopeKind.ACCOUNT, account_id)

    def is_wider_than(self, other: TargetScope) -> bool:
        return self.kind.breadth > other.kind.breadth

    def __str__(self) -> str:
        return f"{self.kind.value} {self.id}"


# -- goals and actuals -----------------------------------------------------------------------------

_REVENUE = Metric.SALES_REVENUE.value
_SERVICE = Metric.SERVICE_LEVEL.value
_SATISFACTION = Metric.CUSTOMER_SATISFACTION.value


Check = Callable[[object, "attrs.Attribute[Any]", object], None]


def _money(field: str, *, positive: bool) -> Check:
    def check(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, Money):
            raise ValidationError(field, f"must be Money, not {type(value).__name__}")
        if value.is_negative or (positive and value.is_zero):
            wanted = "more than zero" if positive else "zero or more"
            raise ValidationError(field, f"must be {wanted}, not {value}")

    return check


def _level(field: str, *, positive: bool) -> Check:
    def check(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValidationError(field, f"must be a finite Decimal, not {value!r}")
        low_ok = value > 0 if positive else value >= 0
        if not low_ok or value > 100:
            lowest = "more than 0" if positive else "from 0"
            raise ValidationError(field, f"must be {lowest} to 100, not {value}")

    return check


def _to_service_level(value: object) -> Decimal:
    return to_decimal(_SERVICE, value)


def _to_satisfaction(value: object) -> Decimal:
    return to_decimal(_SATISFACTION, value)


def _to_ids(value: object) -> tuple[UUID, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError("source_event_ids", f"must be a sequence of UUIDs, not {value!r}")
    return tuple(value)


def _check_ids(_: object, attribute: attrs.Attribute[Any], value: tuple[object, ...]) -> None:
    for item in value:
        if not isinstance(item, UUID):
            raise ValidationError("source_event_ids", f"must hold event ids, not {item!r}")


@transcoded
@attrs.frozen
class RevenueGoal:
    """Sales revenue to reach in the period; more than zero."""

    metric: ClassVar[Metric] = Metric.SALES_REVENUE
    value: Money = attrs.field(validator=_money(_REVENUE, positive=True))


@transcoded
@attrs.frozen
class ServiceLevelGoal:
    """Share of client cases to acknowledge within their SLA, in percent (more than 0 to 100)."""

    metric: ClassVar[Metric] = Metric.SERVICE_LEVEL
    value: Decimal = attrs.field(
        converter=_to_service_level, validator=_level(_SERVICE, positive=True)
    )


@transcoded
@attrs.frozen
class SatisfactionGoal:
    """Mean customer-satisfaction survey score to reach, out of 100 (more than 0)."""

    metric: ClassVar[Metric] = Metric.CUSTOMER_SATISFACTION
    value: Decimal = attrs.field(
        converter=_to_satisfaction, validator=_level(_SATISFACTION, positive=True)
    )


@transcoded
@attrs.frozen
class RevenueActual:
    """Revenue achieved (payments received), and the events it was summed from."""

    metric: ClassVar[Metric] = Metric.SALES_REVENUE
    value: Money = attrs.field(validator=_money(_REVENUE, positive=False))
    source_event_ids: tuple[UUID, ...] = attrs.field(
        default=(), converter=_to_ids, validator=_check_ids
    )


@transcoded
@attrs.frozen
class ServiceLevelActual:
    """Service level achieved in percent (0 to 100), and the case events it came from."""

    metric: ClassVar[Metric] = Metric.SERVICE_LEVEL
    value: Decimal = attrs.field(
        converter=_to_service_level, validator=_level(_SERVICE, positive=False)
    )
    source_event_ids: tuple[UUID, ...] = attrs.field(
        default=(), converter=_to_ids, validator=_check_ids
    )


@transcoded
@attrs.frozen
class SatisfactionActual:
    """Mean satisfaction score achieved (0 to 100), and the survey events it came from."""

    metric: ClassVar[Metric] = Metric.CUSTOMER_SATISFACTION
    value: Decimal = attrs.field(
        converter=_to_satisfaction, validator=_level(_SATISFACTION, positive=False)
    )
    source_event_ids: tuple[UUID, ...] = attrs.field(
        default=(), converter=_to_ids, validator=_check_ids
    )


Goal: TypeAlias = RevenueGoal | ServiceLevelGoal | SatisfactionGoal
Actual: TypeAlias = RevenueActual | ServiceLevelActual | SatisfactionActual
_GOALS = (RevenueGoal, ServiceLevelGoal, SatisfactionGoal)
_ACTUALS = (RevenueActual, ServiceLevelActual, SatisfactionActual)


def _magnitude(value: Money | Decimal) -> Decimal:
    return value.amount if isinstance(value, Money) else value


def _by_metric(items: Iterable[Any]) -> Any:
    return tuple(sorted(items, key=lambda item: _METRIC_ORDER[item.metric]))


def _check_goals(field: str, goals: object) -> tuple[Goal, ...]:
    """The goals in metric order; one per metric, at least one."""
    if isinstance(goals, str | bytes) or not isinstance(goals, Iterable):
        raise ValidationError(field, f"must be a sequence of goals, not {goals!r}")
    items = list(goals)
    for item in items:
        if not isinstance(item, _GOALS):
            msg = f"{item!r} is not a RevenueGoal, ServiceLevelGoal or SatisfactionGoal"
            raise ValidationError(field, msg)
    if not items:
        raise ValidationError(field, "must set at least one metric")
    for item in items:
        # Checked here, where a command takes them: decoded goals are taken as computable.
        if isinstance(item.value, Money):
            require_amount(field, item.value)
        else:
            check_places(field, item.value, PERCENT_PLACES)
    metrics = [item.metric for item in items]
    if len(set(metrics)) != len(metrics):
        raise ValidationError(field, "must set each metric at most once")
    result: tuple[Goal, ...] = _by_metric(items)
    return result


def _revenue_currency(goals: Iterable[Goal]) -> str | None:
    for goal in goals:
        if isinstance(goal, RevenueGoal):
            return goal.value.currency
    return None


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
        ratio = _magnitude(achieved[goal.metric]) / _magnitude(goal.value)
        points += min(ratio, ATTAINMENT_CAP) * 100 * standard.weight(goal.metric) / total
    return points.quantize(_CENT, rounding=ROUND_HALF_UP)


# -- records kept in the target's state --------------------------------------------------------


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


# -- query results ---------------------------------------------------------------------------------


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
        return _magnitude(self.difference) < 0

    @property
    def is_excess(self) -> bool:
        return _magnitude(self.difference) > 0


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


# -- the aggregate ---------------------------------------------------------------------------------


class Target(KamAggregate):
    """A performance target for one scope and period, from setting to signed-off evaluation."""

    class Set(KamAggregate.Created):
        team_id: TeamId
        scope: TargetScope
        period: Period
        goals: tuple[Goal, ...]
        parent_id: TargetId | None
        #: The KAM accountable for the scope when the target was set (None for a team target
        #: or an account that had no KAM).
        kam_id: MemberId | None

    class Revised(KamAggregate.Event):
        before: tuple[Goal, ...]
        after: tuple[Goal, ...]
        reason: str
        #: The approver's role and standing at that moment.
        approver: Credentials
        after_close: bool

        def apply(self, target: Target) -> None:
            target.revisions.append(
                TargetRevision(
                    number=len(target.revisions) + 1,
                    version=self.originator_version,
                    at=self.timestamp,
                    before=self.before,
                    after=self.after,
                    reason=self.reason,
                    approved_by=self.approver.member_id,
                    approver_role=self.approver.role,
                    after_close=self.after_close,
                )
            )
            target.goals = list(self.after)

    class PeriodClosed(KamAggregate.Event):
        def apply(self, target: Target) -> None:
            target.closed_at = self.timestamp

    class Evaluated(KamAggregate.Event):
        number: int
        goals: tuple[Goal, ...]
        actuals: tuple[Actual, ...]
        standard: EvaluationStandard
        score: Decimal
        rating: str
        action_plan_required: bool

        def apply(self, target: Target) -> None:
            target.evaluations.append(
                TargetEvaluation(
                    number=self.number,
                    at=self.timestamp,
                    evaluated_by=self.actor,
                    goals=self.goals,
                    actuals=self.actuals,
                    standard=self.standard,
                    score=self.score,
                    rating=self.rating,
                    action_plan_required=self.action_plan_required,
                )
            )

    class SignedOff(KamAggregate.Event):
        evaluation_number: int
        signatory: Signatory
        #: The signer's role and standing at that moment.
        signer: Credentials
        comments: str

        def apply(self, target: Target) -> None:
            target.signatures.append(
                TargetSignature(
                    evaluation_number=self.evaluation_number,
                    signatory=self.signatory,
                    member_id=self.signer.member_id,
                    name=self.signer.name,
                    role=self.signer.role,
                    comments=self.comments,
                    at=self.timestamp,
                )
            )

    class ActionPlanAdjusted(KamAggregate.Event):
        plan: str
        adjusted_by: MemberId
        evaluation_number: int | None

        def apply(self, target: Target) -> None:
            target.action_plans.append(
                ActionPlanAdjustment(
                    at=self.timestamp,
                    plan=self.plan,
                    adjusted_by=self.adjusted_by,
                    evaluation_number=self.evaluation_number,
                )
            )

    def __init__(
        self,
        team_id: TeamId,
        scope: TargetScope,
        period: Period,
        goals: tuple[Goal, ...],
        parent_id: TargetId | None,
        kam_id: MemberId | None,
    ) -> None:
        self.team_id = team_id
        self.scope = scope
        self.period = period
        self.parent_id = parent_id
        self.kam_id = kam_id
        self.original_goals: list[Goal] = list(goals)
        self.goals: list[Goal] = list(goals)
        self.closed_at: datetime | None = None
        self.revisions: list[TargetRevision] = []
        self.evaluations: list[TargetEvaluation] = []
        self.signatures: list[TargetSignature] = []
        self.action_plans: list[ActionPlanAdjustment] = []

    # -- commands ----------------------------------------------------------------------------------

    @classmethod
    def set(
        cls,
        meta: Meta,
        by: Credentials,
        kam: Credentials | None,
        target_id: TargetId,
        *,
        team_id: TeamId,
        scope: TargetScope,
        period: Period,
        goals: Sequence[Goal],
        parent: Target | None = None,
    ) -> Self:
        """Set a target for a scope and period, optionally as part of a wider ``parent``.

        Team and member targets are set by a director; account targets by a director or the
        account's KAM. ``kam`` is the KAM accountable for the scope (the member for a member
        target, the account's KAM for an account target, None for a team target).
        """
        if not isinstance(target_id, UUID):
            raise ValidationError("target_id", f"must be a UUID, not {target_id!r}")
        if not isinstance(team_id, UUID):
            raise ValidationError("team_id", f"must be a UUID, not {team_id!r}")
        if not isinstance(scope, TargetScope):
            raise ValidationError("scope", f"must be a TargetScope, not {scope!r}")
        if not isinstance(period, Period):
            raise ValidationError("period", f"must be a Period, not {period!r}")
        checked = _check_goals("goals", goals)
        _check_party("actor", by, team_id)
        _check_scope_kam(scope, kam, team_id)
        if scope.kind is ScopeKind.TEAM and scope.id != team_id:
            raise ValidationError("scope", "a team target must be for this team")
        if scope.kind is ScopeKind.MEMBER:
            assert kam is not None
            kam.require_role("scope", Role.KEY_ACCOUNT_MANAGER)
        if scope.kind is ScopeKind.ACCOUNT:
            if not (by.role.is_director or _is_kam(by, kam)):
                msg = "actor: an account target is set by a director or the account's KAM"
                raise RoleRequired(msg)
        else:
            by.require_director("actor")
        if parent is not None:
            _check_parent(parent, team_id, scope, period, checked)
        if meta.at >= period.end:
            msg = f"period: {period} ended at {period.end.isoformat()}; set targets before"
            raise PeriodClosedError(msg)
        return cls._start(
            cls.Set,
            meta,
            target_id,
            team_id=team_id,
            scope=scope,
            period=period,
            goals=checked,
            parent_id=None if parent is None else TargetId(parent.id),
            kam_id=None if kam is None else kam.member_id,
        )

    def revise(
        self,
        meta: Meta,
        by: Credentials,
        kam: Credentials | None,
        *,
        goals: Sequence[Goal],
        reason: str,
    ) -> None:
        """Change the goals, with a reason.

        Until the period closes a director or the target's own KAM may revise; afterwards only
        the supervisor: the sales director who supervises the KAM, or a senior sales director
        (for a team target, a senior sales director).
        """
        checked = _check_goals("goals", goals)
        reason = require_text("reason", reason)
        _check_party("actor", by, self.team_id)
        self._check_kam(kam)
        self._check_currency("goals", checked)
        if self.is_signed_off:
            raise InvalidTransition("goals: the evaluation was signed off; the target is final")
        if checked == self.current_goals:
            raise InvalidTransition("goals: the new goals are the same as the current ones")
        after_close = self.is_closed(meta.at)
        if after_close:
            if not _supervises(by, kam):
                msg = (
                    f"actor: {self.period} has closed; only the supervisor of the target's KAM "
                    "or a senior sales director may revise it"
                )
                raise SupervisorRequired(msg)
        elif not (by.role.is_director or _is_kam(by, kam)):
            raise RoleRequired("actor: a target is revised by a director or its own KAM")
        self._record(
            self.Revised,
            meta,
            before=self.current_goals,
            after=checked,
            reason=reason,
            approver=by,
            after_close=after_close,
        )

    def close_period(self, meta: Meta, by: Credentials | None) -> None:
        """Record that the target's period has closed, by a director or a policy (``by=None``)."""
        self._check_decider(meta, by)
        if self.closed_at is not None:
            msg = f"period: {self.period} was already closed at {self.closed_at.isoformat()}"
            raise InvalidTransition(msg)
        if meta.at < self.period.end:
            msg = f"period: {self.period} runs until {self.period.end.isoformat()}"
            raise InvalidTransition(msg)
        self._record(self.PeriodClosed, meta)

    def evaluate(
        self,
        meta: Meta,
        by: Credentials | None,
        standard: EvaluationStandard,
        *,
        actuals: Sequence[Actual],
    ) -> None:
        """Score the actuals against the goals under ``standard`` (see :func:`score_of`).

        Only once the period has closed, by a director or a policy (``by=None``); a target may
        be evaluated again until its evaluation is signed off, each time with a new number.
        """
        self._check_decider(meta, by)
        if not isinstance(standard, EvaluationStandard):
            raise ValidationError("standard", f"must be an EvaluationStandard, not {standard!r}")
        checked = self._check_actuals("actuals", actuals)
        if self.is_signed_off:
            raise InvalidTransition("actuals: the evaluation was signed off; the target is final")
        if not self.is_closed(meta.at):
            msg = f"period: {self.period} has not closed; it is evaluated after it closes"
            raise PeriodNotClosed(msg)
        goals = self.current_goals
        score = score_of(goals, checked, standard)
        self._record(
            self.Evaluated,
            meta,
            number=len(self.evaluations) + 1,
            goals=goals,
            actuals=checked,
            standard=standard,
            score=score,
            rating=standard.rating(score),
            action_plan_required=score < standard.action_threshold,
        )

    def sign_off(
        self,
        meta: Meta,
        by: Credentials,
        kam: Credentials | None,
        *,
        signatory: Signatory,
        comments: str,
        evaluation_number: int | None = None,
    ) -> None:
        """Sign the latest evaluation off as its KAM or as the supervisor, once each.

        The KAM's part is signed by the target's KAM (for a team target, a sales director);
        the supervisor's by the sales director who supervises that KAM or a senior sales
        director (for a team target, a senior sales director). Nobody signs in both capacities.
        ``evaluation_number``, when given, must be the latest evaluation's.
        """
        if not isinstance(signatory, Signatory):
            raise ValidationError("signatory", f"must be a Signatory, not {signatory!r}")
        comments = require_text("comments", comments, max_length=2000)
        if evaluation_number is not None and (
            not isinstance(evaluation_number, int) or isinstance(evaluation_number, bool)
        ):
            raise ValidationError("evaluation_number", f"must be an int, not {evaluation_number!r}")
        _check_party("actor", by, self.team_id)
        self._check_kam(kam)
        evaluation = self.latest_evaluation
        if evaluation is None:
            raise InvalidTransition("evaluation_number: the target has not been evaluated")
        if evaluation_number is not None and evaluation_number != evaluation.number:
            msg = f"the latest evaluation is number {evaluation.number}, not {evaluation_number}"
            raise InvalidTransition(f"evaluation_number: {msg}")
        if evaluation.goals != self.current_goals:
            msg = f"goals were revised after evaluation {evaluation.number}; evaluate again"
            raise InvalidTransition(f"evaluation_number: {msg}")
        state = self.sign_off_state()
        if state.signature(signatory) is not None:
            msg = f"evaluation {evaluation.number} was already signed as {signatory.value}"
            raise InvalidTransition(f"signatory: {msg}")
        other = state.signature(signatory.other)
        if other is not None:
            by.require_not("actor", other.member_id)
        if signatory is Signatory.KAM:
            self._check_kam_signer(by, kam)
        else:
            if kam is not None:
                by.require_not("actor", kam.member_id)
            if not _supervises(by, kam):
                msg = "actor: the supervisor of the target's KAM or a senior sales director signs"
                raise SupervisorRequired(msg)
        self._record(
            self.SignedOff,
            meta,
            evaluation_number=evaluation.number,
            signatory=signatory,
            signer=by,
            comments=comments,
        )

    def adjust_action_plan(
        self, meta: Meta, by: Credentials, kam: Credentials | None, *, plan: str
    ) -> None:
        """Record the action plan as adjusted by the target's KAM or a director."""
        plan = require_text("plan", plan, max_length=4000)
        _check_party("actor", by, self.team_id)
        self._check_kam(kam)
        if not (by.role.is_director or _is_kam(by, kam)):
            raise RoleRequired(
                "actor: the action plan is adjusted by the target's KAM or a director"
            )
        latest = self.latest_evaluation
        self._record(
            self.ActionPlanAdjusted,
            meta,
            plan=plan,
            adjusted_by=by.member_id,
            evaluation_number=None if latest is None else latest.number,
        )

    # -- queries -----------------------------------------------------------------------------------

    @property
    def current_goals(self) -> tuple[Goal, ...]:
        return tuple(self.goals)

    def goals_at(self, version: int) -> tuple[Goal, ...]:
        """The goals as they stood once the target reached ``version``."""
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ValidationError("version", f"must be a whole number ≥ 1, not {version!r}")
        goals = tuple(self.original_goals)
        for revision in self.revisions:
            if revision.version <= version:
                goals = revision.after
        return goals

    def goal(self, metric: Metric) -> Goal | None:
        return next((goal for goal in self.goals if goal.metric is metric), None)

    def is_closed(self, at: datetime) -> bool:
        """Whether the period counts as closed at ``at``: a close was recorded, or it ended."""
        return self.closed_at is not None or at >= self.period.end

    @property
    def revised_after_close(self) -> list[TargetRevision]:
        return [revision for revision in self.revisions if revision.after_close]

    @property
    def latest_evaluation(self) -> TargetEvaluation | None:
        return self.evaluations[-1] if self.evaluations else None

    def sign_off_state(self) -> SignOffState:
        """The signatures on the latest evaluation."""
        latest = self.latest_evaluation
        if latest is None:
            return SignOffState(None, None, None)
        signed = {s.signatory: s for s in self.signatures if s.evaluation_number == latest.number}
        return SignOffState(
            latest.number, signed.get(Signatory.KAM), signed.get(Signatory.SUPERVISOR)
        )

    @property
    def is_signed_off(self) -> bool:
        """Both the KAM and the supervisor signed the latest evaluation off."""
        return self.sign_off_state().complete

    def final_evaluation(self) -> TargetEvaluation:
        """The signed-off evaluation; :class:`SignOffIncomplete` until both have signed."""
        latest = self.latest_evaluation
        if latest is None or not self.is_signed_off:
            msg = f"target {self.id} has no evaluation signed off by both KAM and supervisor"
            raise SignOffIncomplete(msg)
        return latest

    def action_plan_state(self) -> ActionPlanState:
        """Whether the latest evaluation requires an adjustment and whether one was recorded."""
        latest = self.latest_evaluation
        current = self.action_plans[-1] if self.action_plans else None
        adjusted = latest is not None and any(
            plan.evaluation_number == latest.number for plan in self.action_plans
        )
        return ActionPlanState(
            required=latest is not None and latest.action_plan_required,
            adjusted=adjusted,
            plan=None if current is None else current.plan,
            adjusted_at=None if current is None else current.at,
        )

    def decomposition(self, children: Iterable[Sequence[Goal]]) -> list[DecompositionLine]:
        """Per metric of this target: what the child targets' goals allocate, gap or excess.

        ``children`` holds each child target's goals. Revenue must add up to this target's
        revenue (in its currency); service level and satisfaction, being levels, are compared
        with the children's mean.
        """
        child_goals = [_check_goals("children", goals) for goals in children]
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
                levels = [_magnitude(value) for value in values]
                mean = sum(levels, Decimal(0)) / len(levels) if levels else Decimal(0)
                allocated = mean.quantize(_CENT, rounding=ROUND_HALF_UP)
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
                ratio = _magnitude(value) / _magnitude(goal.value) * 100
                attainment = ratio.quantize(_CENT, rounding=ROUND_HALF_UP)
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

    # -- helpers -----------------------------------------------------------------------------------

    def _check_kam(self, kam: Credentials | None) -> None:
        _check_scope_kam(self.scope, kam, self.team_id)

    def _check_kam_signer(self, by: Credentials, kam: Credentials | None) -> None:
        if self.scope.kind is ScopeKind.TEAM:
            by.require_role("actor", Role.SALES_DIRECTOR)
            return
        if kam is None:
            msg = f"kam: account {self.scope.id} has no accountable KAM to sign as KAM"
            raise NoAccountableManager(msg)
        if by.member_id != kam.member_id:
            msg = f"actor: only the target's KAM, {kam.name}, signs as KAM"
            raise RoleRequired(msg)

    def _check_decider(self, meta: Meta, by: Credentials | None) -> None:
        """A director of the team, or a policy or the system acting on its own (``by=None``)."""
        if by is None:
            if meta.actor.kind not in (ActorKind.POLICY, ActorKind.SYSTEM):
                raise ValidationError(
                    "actor", "only a policy or the system acts without credentials"
                )
            return
        _check_party("actor", by, self.team_id)
        by.require_director("actor")

    def _check_currency(self, field: str, goals: Iterable[Goal]) -> None:
        current = _revenue_currency(self.goals)
        new = _revenue_currency(goals)
        if current is not None and new is not None and new != current:
            raise CurrencyMismatch(field, f"revenue is set in {current}, not {new}")

    def _check_actuals(self, field: str, actuals: object) -> tuple[Actual, ...]:
        if isinstance(actuals, str | bytes) or not isinstance(actuals, Iterable):
            raise ValidationError(field, f"must be a sequence of actuals, not {actuals!r}")
        items = list(actuals)
        for item in items:
            if not isinstance(item, _ACTUALS):
                msg = f"{item!r} is not a RevenueActual, ServiceLevelActual or SatisfactionActual"
                raise ValidationError(field, msg)
        metrics = [item.metric for item in items]
        if len(set(metrics)) != len(metrics):
            raise ValidationError(field, "must give each metric at most once")
        wanted = {goal.metric for goal in self.goals}
        if set(metrics) != wanted:
            names = ", ".join(m.value for m in sorted(wanted, key=_METRIC_ORDER.__getitem__))
            raise ValidationError(field, f"must give exactly the target's metrics: {names}")
        goal = self.goal(Metric.SALES_REVENUE)
        for item in items:
            if (
                isinstance(item, RevenueActual)
                and isinstance(goal, RevenueGoal)
                and item.value.currency != goal.value.currency
            ):
                msg = f"revenue is set in {goal.value.currency}, not {item.value.currency}"
                raise CurrencyMismatch(field, msg)
        result: tuple[Actual, ...] = _by_metric(items)
        return result


def _check_party(field: str, creds: object, team_id: UUID) -> None:
    """``creds`` are credentials of an active member of the target's team."""
    if not isinstance(creds, Credentials):
        raise ValidationError(field, f"must be Credentials, not {type(creds).__name__}")
    creds.require_active(field)
    if creds.team_id != team_id:
        raise NotOnTeam(f"{field}: {creds.name} is not on this target's team")


def _check_scope_kam(scope: TargetScope, kam: object, team_id: UUID) -> None:
    """``kam`` fits the scope: the member themself, the account's KAM, none for the team."""
    if kam is None:
        if scope.kind is ScopeKind.MEMBER:
            raise ValidationError("kam", "a member target needs the member's credentials")
        return
    if not isinstance(kam, Credentials):
        raise ValidationError("kam", f"must be Credentials or None, not {type(kam).__name__}")
    if scope.kind is ScopeKind.TEAM:
        raise ValidationError("kam", "a team target has no KAM of its own")
    if scope.kind is ScopeKind.MEMBER and kam.member_id != scope.id:
        raise ValidationError("kam", f"must be the credentials of member {scope.id}")
    if kam.team_id != team_id:
        raise NotOnTeam(f"kam: {kam.name} is not on this target's team")


def _check_parent(
    parent: object,
    team_id: UUID,
    scope: TargetScope,
    period: Period,
    goals: Sequence[Goal],
) -> None:
    if not isinstance(parent, Target):
        raise ValidationError("parent_id", f"must name a Target, not {type(parent).__name__}")
    if parent.team_id != team_id:
        raise ValidationError("parent_id", "the parent target belongs to another team")
    if not parent.scope.is_wider_than(scope):
        msg = f"a {parent.scope.kind.value} target cannot be the parent of a {scope.kind.value} one"
        raise ValidationError("parent_id", msg)
    if not parent.period.covers(period):
        raise ValidationError("parent_id", f"the parent's {parent.period} does not cover {period}")
    parent_currency = _revenue_currency(parent.goals)
    currency = _revenue_currency(goals)
    if parent_currency is not None and currency is not None and currency != parent_currency:
        msg = f"the parent's revenue is in {parent_currency}, not {currency}"
        raise CurrencyMismatch("goals", msg)


def _is_kam(by: Credentials, kam: Credentials | None) -> bool:
    return kam is not None and by.member_id == kam.member_id


def _supervises(by: Credentials, kam: Credentials | None) -> bool:
    """A senior sales director, or the sales director whom the target's KAM reports to."""
    if by.role is Role.SENIOR_SALES_DIRECTOR:
        return True
    return by.role is Role.SALES_DIRECTOR and kam is not None and kam.supervisor_id == by.member_id
