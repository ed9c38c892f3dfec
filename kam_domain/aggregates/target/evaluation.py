"""Closing a target's period, evaluating the actuals against the goals, signing the evaluation
off as the KAM and as the supervisor, and adjusting the action plan a low score requires."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING

from kam_domain.aggregates.base import KamAggregate, Meta, require_text
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.target.goals import (
    ACTUALS,
    METRIC_ORDER,
    Actual,
    Goal,
    RevenueActual,
    RevenueGoal,
    by_metric,
)
from kam_domain.aggregates.target.guards import TargetGuards, check_party, is_kam, supervises
from kam_domain.aggregates.target.records import (
    ActionPlanAdjustment,
    Signatory,
    TargetEvaluation,
    TargetSignature,
)
from kam_domain.aggregates.target.scope import ScopeKind
from kam_domain.aggregates.target.scoring import score_of
from kam_domain.aggregates.team import EvaluationStandard
from kam_domain.errors import (
    CurrencyMismatch,
    InvalidTransition,
    NoAccountableManager,
    PeriodNotClosed,
    RoleRequired,
    SignOffIncomplete,
    SupervisorRequired,
    ValidationError,
)
from kam_domain.values import ActorKind, MemberId, Metric, Role
from kam_domain.zones import local_text

if TYPE_CHECKING:
    from kam_domain.aggregates.target import Target


class Evaluation(TargetGuards):
    """Closing the period, evaluating, signing off and adjusting the action plan."""

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

    def close_period(self, meta: Meta, by: Credentials | None, *, zone: tzinfo = UTC) -> None:
        """Record that the target's period has closed, by a director or a policy (``by=None``),
        once it has ended on the calendar of ``zone`` (the team's; UTC unless given)."""
        self._check_decider(meta, by)
        if self.closed_at is not None:
            msg = f"period: {self.period} was already closed at {self.closed_at.isoformat()}"
            raise InvalidTransition(msg)
        end = self.period.end_in(zone)
        if meta.at < end:
            msg = f"period: {self.period} runs until {local_text(end, zone)}"
            raise InvalidTransition(msg)
        self._record(self.PeriodClosed, meta)

    def evaluate(
        self,
        meta: Meta,
        by: Credentials | None,
        standard: EvaluationStandard,
        *,
        actuals: Sequence[Actual],
        zone: tzinfo = UTC,
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
        if not self.is_closed(meta.at, zone):
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
        check_party("actor", by, self.team_id)
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
            if not supervises(by, kam):
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
        check_party("actor", by, self.team_id)
        self._check_kam(kam)
        if not (by.role.is_director or is_kam(by, kam)):
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

    def final_evaluation(self) -> TargetEvaluation:
        """The signed-off evaluation; :class:`SignOffIncomplete` until both have signed."""
        latest = self.latest_evaluation
        if latest is None or not self.is_signed_off:
            msg = f"target {self.id} has no evaluation signed off by both KAM and supervisor"
            raise SignOffIncomplete(msg)
        return latest

    # -- helpers -----------------------------------------------------------------------------------

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
        check_party("actor", by, self.team_id)
        by.require_director("actor")

    def _check_actuals(self, field: str, actuals: object) -> tuple[Actual, ...]:
        if isinstance(actuals, str | bytes) or not isinstance(actuals, Iterable):
            raise ValidationError(field, f"must be a sequence of actuals, not {actuals!r}")
        items = list(actuals)
        for item in items:
            if not isinstance(item, ACTUALS):
                msg = f"{item!r} is not a RevenueActual, ServiceLevelActual or SatisfactionActual"
                raise ValidationError(field, msg)
        metrics = [item.metric for item in items]
        if len(set(metrics)) != len(metrics):
            raise ValidationError(field, "must give each metric at most once")
        wanted = {goal.metric for goal in self.goals}
        if set(metrics) != wanted:
            names = ", ".join(m.value for m in sorted(wanted, key=METRIC_ORDER.__getitem__))
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
        result: tuple[Actual, ...] = by_metric(items)
        return result
