"""Setting a target (optionally as part of a wider parent) and revising its goals with a reason;
after its period closed, only the supervisor revises."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, tzinfo
from typing import TYPE_CHECKING, Self
from uuid import UUID

from kam_domain.aggregates.base import KamAggregate, Meta, require_id, require_text
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.target.goals import Goal, check_goals, revenue_currency
from kam_domain.aggregates.target.guards import (
    TargetGuards,
    check_party,
    check_scope_kam,
    is_kam,
    supervises,
)
from kam_domain.aggregates.target.records import TargetRevision
from kam_domain.aggregates.target.scope import ScopeKind, TargetScope
from kam_domain.aggregates.target.state import TargetState
from kam_domain.errors import (
    CurrencyMismatch,
    InvalidTransition,
    RoleRequired,
    SupervisorRequired,
    ValidationError,
)
from kam_domain.errors import PeriodClosed as PeriodClosedError
from kam_domain.values import MemberId, Period, Role, TargetId, TeamId
from kam_domain.zones import local_text

if TYPE_CHECKING:
    from kam_domain.aggregates.target import Target


class Setting(TargetGuards):
    """Setting and revising a target's goals."""

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
        zone: tzinfo = UTC,
    ) -> Self:
        """Set a target for a scope and period, optionally as part of a wider ``parent``.

        Team and member targets are set by a director; account targets by a director or the
        account's KAM. ``kam`` is the KAM accountable for the scope (the member for a member
        target, the account's KAM for an account target, None for a team target). ``zone``: the
        calendar the period ends on (the team's, :meth:`Team.zone_for`; UTC unless given).
        """
        require_id("target_id", target_id)
        require_id("team_id", team_id)
        if not isinstance(scope, TargetScope):
            raise ValidationError("scope", f"must be a TargetScope, not {scope!r}")
        if not isinstance(period, Period):
            raise ValidationError("period", f"must be a Period, not {period!r}")
        checked = check_goals("goals", goals)
        check_party("actor", by, team_id)
        check_scope_kam(scope, kam, team_id)
        if scope.kind is ScopeKind.TEAM and scope.id != team_id:
            raise ValidationError("scope", "a team target must be for this team")
        if scope.kind is ScopeKind.MEMBER:
            assert kam is not None
            kam.require_role("scope", Role.KEY_ACCOUNT_MANAGER)
        if scope.kind is ScopeKind.ACCOUNT:
            if not (by.role.is_director or is_kam(by, kam)):
                msg = "actor: an account target is set by a director or the account's KAM"
                raise RoleRequired(msg)
        else:
            by.require_director("actor")
        if parent is not None:
            _check_parent(parent, team_id, scope, period, checked)
        end = period.end_in(zone)
        if meta.at >= end:
            msg = f"period: {period} ended at {local_text(end, zone)}; set targets before"
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
        zone: tzinfo = UTC,
    ) -> None:
        """Change the goals, with a reason.

        Until the period closes a director or the target's own KAM may revise; afterwards only
        the supervisor: the sales director who supervises the KAM, or a senior sales director
        (for a team target, a senior sales director).
        """
        checked = check_goals("goals", goals)
        reason = require_text("reason", reason)
        check_party("actor", by, self.team_id)
        self._check_kam(kam)
        self._check_currency("goals", checked)
        if self.is_signed_off:
            raise InvalidTransition("goals: the evaluation was signed off; the target is final")
        if checked == self.current_goals:
            raise InvalidTransition("goals: the new goals are the same as the current ones")
        after_close = self.is_closed(meta.at, zone)
        if after_close:
            if not supervises(by, kam):
                msg = (
                    f"actor: {self.period} has closed; only the supervisor of the target's KAM "
                    "or a senior sales director may revise it"
                )
                raise SupervisorRequired(msg)
        elif not (by.role.is_director or is_kam(by, kam)):
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

    # -- queries -----------------------------------------------------------------------------------

    def goals_at(self, version: int) -> tuple[Goal, ...]:
        """The goals as they stood once the target reached ``version``."""
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ValidationError("version", f"must be a whole number ≥ 1, not {version!r}")
        goals = tuple(self.original_goals)
        for revision in self.revisions:
            if revision.version <= version:
                goals = revision.after
        return goals

    @property
    def revised_after_close(self) -> list[TargetRevision]:
        return [revision for revision in self.revisions if revision.after_close]

    # -- helpers -----------------------------------------------------------------------------------

    def _check_currency(self, field: str, goals: Iterable[Goal]) -> None:
        current = revenue_currency(self.goals)
        new = revenue_currency(goals)
        if current is not None and new is not None and new != current:
            raise CurrencyMismatch(field, f"revenue is set in {current}, not {new}")


def _check_parent(
    parent: object,
    team_id: UUID,
    scope: TargetScope,
    period: Period,
    goals: Sequence[Goal],
) -> None:
    # Every target is a TargetState; the aggregate class is defined after this module.
    if not isinstance(parent, TargetState):
        raise ValidationError("parent_id", f"must name a Target, not {type(parent).__name__}")
    if parent.team_id != team_id:
        raise ValidationError("parent_id", "the parent target belongs to another team")
    if not parent.scope.is_wider_than(scope):
        msg = f"a {parent.scope.kind.value} target cannot be the parent of a {scope.kind.value} one"
        raise ValidationError("parent_id", msg)
    if not parent.period.covers(period):
        raise ValidationError("parent_id", f"the parent's {parent.period} does not cover {period}")
    parent_currency = revenue_currency(parent.goals)
    currency = revenue_currency(goals)
    if parent_currency is not None and currency is not None and currency != parent_currency:
        msg = f"the parent's revenue is in {parent_currency}, not {currency}"
        raise CurrencyMismatch("goals", msg)
