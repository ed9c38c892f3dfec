"""What a target holds, as set up when it is set, and the queries on it that several families
of its commands ask; its events' ``apply`` methods change it."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from kam_domain.aggregates.base import CommandFamily
from kam_domain.aggregates.target.goals import Goal
from kam_domain.aggregates.target.records import (
    ActionPlanAdjustment,
    Signatory,
    TargetEvaluation,
    TargetRevision,
    TargetSignature,
)
from kam_domain.aggregates.target.results import ActionPlanState, SignOffState
from kam_domain.aggregates.target.scope import TargetScope
from kam_domain.values import MemberId, Metric, Period, TargetId, TeamId


class TargetState(CommandFamily):
    """The target's state, shared by every family of its commands."""

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

    @property
    def current_goals(self) -> tuple[Goal, ...]:
        return tuple(self.goals)

    def goal(self, metric: Metric) -> Goal | None:
        return next((goal for goal in self.goals if goal.metric is metric), None)

    def is_closed(self, at: datetime, zone: tzinfo = UTC) -> bool:
        """Whether the period counts as closed at ``at``: a close was recorded, or it ended on
        the calendar of ``zone`` (the team's, :meth:`Team.zone_for`; UTC unless given)."""
        return self.closed_at is not None or at >= self.period.end_in(zone)

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
