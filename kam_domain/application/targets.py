"""Target commands and queries of the facade: set, revise, close, evaluate, sign off, adjust."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.target import (
    Actual,
    DecompositionLine,
    Goal,
    ScopeKind,
    Signatory,
    Target,
    TargetEvaluation,
    TargetProgress,
    TargetScope,
)
from kam_domain.aggregates.team import Team
from kam_domain.application.core import ApplicationCore
from kam_domain.application.directory import Entry
from kam_domain.errors import (
    AccountNotFound,
    AlreadyExists,
    TargetNotFound,
    ValidationError,
)
from kam_domain.values import AccountId, Actor, Period, TargetId, TeamId

__all__ = ["TargetCommands", "target_entry_name"]

_TARGET = "target"


def target_entry_name(scope: TargetScope, period: Period) -> str:
    """The directory name of a target: its scope and period, unique within a team."""
    return f"{scope} {period}"


def _entry_period(entry: Entry) -> Period:
    return Period.parse(entry.name.rsplit(" ", 1)[-1])


class TargetCommands(ApplicationCore):
    """Performance targets (业绩指标): set, revise, close, evaluate, sign off, adjust the plan."""

    def set_target(
        self,
        team_id: UUID,
        actor: UUID,
        *,
        scope: TargetScope,
        period: Period,
        goals: Sequence[Goal],
        parent_id: UUID | None = None,
        target_id: UUID | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> TargetId:
        """Set a target for the team, one of its KAMs or one of its accounts, for a period.

        A scope has one target per period; ``parent_id`` names the wider target it is part of.
        """
        team, meta, by = self._team_context(team_id, actor, at, correlation_id)
        if not isinstance(scope, TargetScope):
            raise ValidationError("scope", f"must be a TargetScope, not {scope!r}")
        if not isinstance(period, Period):
            raise ValidationError("period", f"must be a Period, not {period!r}")
        account_id = self._scope_account(team, scope)
        kam = self._scope_kam(team, scope, meta.at)
        parent = None
        if parent_id is not None:
            parent = self._get(Target, parent_id, TargetNotFound, "parent_id")
        name = target_entry_name(scope, period)
        if self._listing(team.id).named(_TARGET, name, team_id=team.id):
            raise AlreadyExists(f"scope: {scope} already has a target for {period}")
        tid = TargetId(self._new("target_id", target_id))
        target = Target.set(
            meta,
            by,
            kam,
            tid,
            team_id=TeamId(team.id),
            scope=scope,
            period=period,
            goals=goals,
            parent=parent,
            zone=team.zone_for(period),
        )
        self._commit(target, *self._listed(meta, tid, Entry(_TARGET, name, team.id, account_id)))
        return tid

    def revise_target(
        self,
        target_id: UUID,
        actor: UUID,
        *,
        goals: Sequence[Goal],
        reason: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """Change a target's goals with a reason (after its period closed: the supervisor only)."""
        target = self._target(target_id)
        team, meta, by = self._team_context(target.team_id, actor, at, correlation_id)
        kam = self._scope_kam(team, target.scope, meta.at)
        target.revise(meta, by, kam, goals=goals, reason=reason, zone=team.zone_for(target.period))
        self._commit(target)

    def close_target_period(
        self,
        target_id: UUID,
        actor: UUID | Actor,
        *,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """Record that the target's period has closed (a director, or a system :class:`Actor`)."""
        target = self._target(target_id)
        team, meta, by = self._deciding(target, actor, at, correlation_id)
        target.close_period(meta, by, zone=team.zone_for(target.period))
        self._commit(target)

    def evaluate_target(
        self,
        target_id: UUID,
        actor: UUID | Actor,
        *,
        actuals: Sequence[Actual],
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> TargetEvaluation:
        """Evaluate the actuals under the team's standard in force on the period's last day.

        A director or a system :class:`Actor` evaluates, once the period has closed; returns
        the recorded evaluation (score, rating, whether an action plan is required).
        """
        target = self._target(target_id)
        team, meta, by = self._deciding(target, actor, at, correlation_id)
        # The period's end is exclusive: a standard that starts the next period is not this one's.
        zone = team.zone_for(target.period)
        standard = team.standard_at(target.period.end_in(zone) - timedelta(microseconds=1))
        target.evaluate(meta, by, standard, actuals=actuals, zone=zone)
        self._commit(target)
        evaluation = target.latest_evaluation
        assert evaluation is not None
        return evaluation

    def sign_off_target(
        self,
        target_id: UUID,
        actor: UUID,
        *,
        signatory: Signatory,
        comments: str,
        evaluation_number: int | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """Sign the latest evaluation off as the target's KAM or as the supervisor."""
        target = self._target(target_id)
        team, meta, by = self._team_context(target.team_id, actor, at, correlation_id)
        kam = self._scope_kam(team, target.scope, meta.at)
        target.sign_off(
            meta,
            by,
            kam,
            signatory=signatory,
            comments=comments,
            evaluation_number=evaluation_number,
        )
        self._commit(target)

    def adjust_action_plan(
        self,
        target_id: UUID,
        actor: UUID,
        *,
        plan: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """Record the target's action plan as adjusted by its KAM or a director."""
        target = self._target(target_id)
        team, meta, by = self._team_context(target.team_id, actor, at, correlation_id)
        kam = self._scope_kam(team, target.scope, meta.at)
        target.adjust_action_plan(meta, by, kam, plan=plan)
        self._commit(target)

    # -- queries -------------------------------------------------------------------------------

    def get_target(
        self, target_id: UUID, *, version: int | None = None, at: datetime | None = None
    ) -> Target:
        """The target as now, at ``version``, or as it stood at the moment ``at``."""
        return self._get(Target, target_id, TargetNotFound, "target_id", version=version, at=at)

    def targets(self, team_id: UUID | None = None, period: Period | None = None) -> list[Target]:
        """Targets (of a team, for a period, if given) in the order they were set."""
        if team_id is not None and not isinstance(team_id, UUID):
            raise ValidationError("team_id", f"must be a UUID, not {team_id!r}")
        if period is not None and not isinstance(period, Period):
            raise ValidationError("period", f"must be a Period, not {period!r}")
        return [self._target(target_id) for target_id in self._target_ids(team_id, period)]

    def child_targets(self, target_id: UUID) -> list[Target]:
        """The targets set as parts of ``target_id``, in the order they were set."""
        parent = self._target(target_id)
        listing = self._listing(parent.team_id)
        children = []
        for record_id, entry in listing.entries(_TARGET, team_id=parent.team_id):
            # Only a period the parent covers can hold a child: skip the others unloaded.
            if parent.period.covers(_entry_period(entry)):
                target = self._target(record_id)
                if target.parent_id == parent.id:
                    children.append(target)
        return children

    def target_decomposition(self, target_id: UUID) -> list[DecompositionLine]:
        """Per metric of ``target_id``: what its child targets allocate, and the gap or excess."""
        parent = self._target(target_id)
        return parent.decomposition(child.current_goals for child in self.child_targets(parent.id))

    def target_progress(self, target_id: UUID) -> TargetProgress:
        """The target's goals beside its latest actuals, score and rating."""
        return self._target(target_id).progress()

    # -- helpers -------------------------------------------------------------------------------

    def _target(self, target_id: object) -> Target:
        return self._get(Target, target_id, TargetNotFound, "target_id")

    def _target_ids(self, team_id: UUID | None, period: Period | None) -> list[UUID]:
        where = {} if team_id is None else {"team_id": team_id}
        return [
            record_id
            for record_id, entry in self._listing(team_id).entries(_TARGET, **where)
            if period is None or _entry_period(entry) == period
        ]

    def _scope_account(self, team: Team, scope: TargetScope) -> UUID | None:
        """The account an account target is for, once checked to be one of the team's."""
        if scope.kind is not ScopeKind.ACCOUNT:
            return None
        account = self._get(ClientAccount, scope.id, AccountNotFound, "scope")
        if account.team_id != team.id:
            raise ValidationError("scope", f"account {account.name!r} belongs to another team")
        return scope.id

    def _scope_kam(self, team: Team, scope: TargetScope, at: datetime) -> Credentials | None:
        """The credentials of the KAM accountable for the scope at ``at``."""
        if scope.kind is ScopeKind.TEAM:
            return None
        if scope.kind is ScopeKind.MEMBER:
            return self._credentials(team, scope.id, at, "scope")
        kam_id = self._accountable_kam(AccountId(scope.id), at)
        return None if kam_id is None else self._credentials(team, kam_id, at, "kam")

    def _deciding(
        self,
        target: Target,
        actor: UUID | Actor,
        at: datetime | None,
        correlation_id: UUID | None,
    ) -> tuple[Team, Meta, Credentials | None]:
        """Context for a command a director or a policy issues: credentials only for a member."""
        team = self._team(target.team_id)
        meta = self._meta(actor, at, correlation_id)
        by = None if meta.actor.member_id is None else self._actor_credentials(team, meta)
        return team, meta, by
