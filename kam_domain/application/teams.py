"""Team commands and queries of the facade."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.team import (
    EvaluationStandard,
    Member,
    Team,
    TierWeights,
    TrainingKind,
)
from kam_domain.application.core import ApplicationCore
from kam_domain.application.directory import Entry
from kam_domain.errors import TeamNotFound
from kam_domain.values import Actor, GrantId, MemberId, Percentage, Role, TeamId

__all__ = ["TeamCommands"]


class TeamCommands(ApplicationCore):
    """Forming a team and managing its members, authority, capacity, training and standards."""

    def form_team(
        self,
        *,
        name: str,
        segment: str,
        region: str,
        director_name: str,
        top_authority: Percentage,
        default_capacity: int = 12,
        import_history: bool = False,
        actor: Actor | None = None,
        team_id: UUID | None = None,
        director_id: UUID | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> tuple[TeamId, MemberId]:
        """Form a team led by a senior sales director; returns the team's and director's ids.

        ``import_history=True`` records that the director may date commands in the past (an
        import of an existing history): see :meth:`grant_history_import`.
        """
        meta = self._meta(actor or Actor.system("company"), at, correlation_id)
        tid = TeamId(self._new("team_id", team_id))
        did = MemberId(self._new("director_id", director_id, check_store=False))
        team = Team.form(
            meta,
            tid,
            name=name,
            segment=segment,
            region=region,
            director_id=did,
            director_name=director_name,
            top_authority=top_authority,
            default_capacity=default_capacity,
            import_history=import_history,
        )
        self._commit(team, *self._listed(meta, tid, Entry("team", team.name, tid)))
        return tid, did

    def add_member(
        self,
        team_id: UUID,
        actor: UUID,
        *,
        name: str,
        role: Role,
        supervisor_id: UUID | None = None,
        member_id: UUID | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> MemberId:
        team, meta, by = self._team_context(team_id, actor, at, correlation_id)
        mid = MemberId(self._new("member_id", member_id, check_store=False))
        sid = None if supervisor_id is None else MemberId(supervisor_id)
        team.join(meta, by, mid, name=name, role=role, supervisor_id=sid)
        self._commit(team)
        return mid

    def remove_member(
        self,
        team_id: UUID,
        actor: UUID,
        member_id: UUID,
        *,
        reason: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        with self._changing_team(team_id, actor, at, correlation_id) as (team, meta, by):
            team.leave(meta, by, MemberId(member_id), reason=reason)

    def change_role(
        self,
        team_id: UUID,
        actor: UUID,
        member_id: UUID,
        *,
        role: Role,
        reason: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        with self._changing_team(team_id, actor, at, correlation_id) as (team, meta, by):
            team.change_role(meta, by, MemberId(member_id), role=role, reason=reason)

    def set_supervisor(
        self,
        team_id: UUID,
        actor: UUID,
        member_id: UUID,
        *,
        supervisor_id: UUID,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        with self._changing_team(team_id, actor, at, correlation_id) as (team, meta, by):
            team.set_supervisor(
                meta, by, MemberId(member_id), supervisor_id=MemberId(supervisor_id)
            )

    def set_top_authority(
        self,
        team_id: UUID,
        *,
        top_authority: Percentage,
        actor: Actor | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """The company (a system :class:`Actor`) sets the most any grant on the team may give."""
        team = self._team(team_id)
        meta = self._meta(actor or Actor.system("company"), at, correlation_id)
        team.set_top_authority(meta, top_authority)
        self._commit(team)

    def grant_authority(
        self,
        team_id: UUID,
        actor: UUID | Actor,
        member_id: UUID,
        *,
        max_discount: Percentage,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        grant_id: UUID | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> GrantId:
        """Grant a dated discount authority; a system :class:`Actor` stands for the company."""
        team = self._team(team_id)
        meta = self._meta(actor, at, correlation_id)
        by = None if meta.actor.member_id is None else self._actor_credentials(team, meta)
        gid = GrantId(self._new("grant_id", grant_id, check_store=False))
        team.grant_authority(
            meta,
            by,
            gid,
            MemberId(member_id),
            max_discount=max_discount,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        self._commit(team)
        return gid

    def revoke_authority(
        self,
        team_id: UUID,
        actor: UUID,
        grant_id: UUID,
        *,
        reason: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        with self._changing_team(team_id, actor, at, correlation_id) as (team, meta, by):
            team.revoke_authority(meta, by, GrantId(grant_id), reason=reason)

    def set_capacity(
        self,
        team_id: UUID,
        actor: UUID,
        member_id: UUID | None,
        *,
        capacity: int,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        team, meta, by = self._team_context(team_id, actor, at, correlation_id)
        team.set_capacity(
            meta,
            by,
            None if member_id is None else MemberId(member_id),
            capacity=capacity,
        )
        self._commit(team)

    def set_tier_weights(
        self,
        team_id: UUID,
        actor: UUID,
        weights: TierWeights,
        *,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        with self._changing_team(team_id, actor, at, correlation_id) as (team, meta, by):
            team.set_tier_weights(meta, by, weights)

    def record_training(
        self,
        team_id: UUID,
        actor: UUID,
        member_id: UUID,
        *,
        kind: TrainingKind,
        skill: str,
        covers_member_id: UUID | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        team, meta, by = self._team_context(team_id, actor, at, correlation_id)
        covers = None if covers_member_id is None else MemberId(covers_member_id)
        team.record_training(
            meta,
            by,
            MemberId(member_id),
            kind=kind,
            skill=skill,
            covers_member_id=covers,
        )
        self._commit(team)

    def designate_backup(
        self,
        team_id: UUID,
        actor: UUID,
        member_id: UUID,
        *,
        backup_id: UUID,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        with self._changing_team(team_id, actor, at, correlation_id) as (team, meta, by):
            team.designate_backup(meta, by, MemberId(member_id), backup_id=MemberId(backup_id))

    def set_evaluation_standard(
        self,
        team_id: UUID,
        actor: UUID,
        standard: EvaluationStandard,
        *,
        effective_from: datetime | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        with self._changing_team(team_id, actor, at, correlation_id) as (team, meta, by):
            team.set_evaluation_standard(meta, by, standard, effective_from=effective_from)

    def grant_history_import(
        self,
        team_id: UUID,
        actor: UUID,
        member_id: UUID,
        *,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """Let a member record commands dated beyond the team's backdating window (imports)."""
        with self._changing_team(team_id, actor, at, correlation_id) as (team, meta, by):
            team.grant_history_import(meta, by, MemberId(member_id))

    def revoke_history_import(
        self,
        team_id: UUID,
        actor: UUID,
        member_id: UUID,
        *,
        reason: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """End a member's permission to import history."""
        with self._changing_team(team_id, actor, at, correlation_id) as (team, meta, by):
            team.revoke_history_import(meta, by, MemberId(member_id), reason=reason)

    def set_backdating_window(
        self,
        team_id: UUID,
        actor: UUID,
        *,
        window: timedelta,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """Record how far before the moment it is written a team's command may be dated."""
        with self._changing_team(team_id, actor, at, correlation_id) as (team, meta, by):
            team.set_backdating_window(meta, by, window=window)

    def set_time_zone(
        self,
        team_id: UUID,
        actor: UUID,
        zone: str,
        *,
        effective_from: datetime | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """Record the IANA time zone (``Asia/Shanghai``) the team's quarters and period-end
        deadlines follow from ``effective_from`` on (the command's moment unless given)."""
        with self._changing_team(team_id, actor, at, correlation_id) as (team, meta, by):
            team.set_time_zone(meta, by, zone, effective_from=effective_from)

    def set_reporting_currency(
        self,
        team_id: UUID,
        actor: UUID,
        currency: str,
        *,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """Record the currency the team reports in: from then on a target's revenue paid in
        another currency converts at the team's rate in force at each payment."""
        with self._changing_team(team_id, actor, at, correlation_id) as (team, meta, by):
            team.set_reporting_currency(meta, by, currency)

    def record_exchange_rate(
        self,
        team_id: UUID,
        actor: UUID,
        *,
        currency: str,
        into: str,
        rate: Decimal,
        effective_from: datetime | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """Record that one ``currency`` is ``rate`` ``into`` from ``effective_from`` on (the
        command's moment unless given); a director or the financial planner records it."""
        with self._changing_team(team_id, actor, at, correlation_id) as (team, meta, by):
            team.record_exchange_rate(
                meta, by, currency=currency, into=into, rate=rate, effective_from=effective_from
            )

    # -- queries -------------------------------------------------------------------------------

    def get_team(
        self, team_id: UUID, *, version: int | None = None, at: datetime | None = None
    ) -> Team:
        """The team as now, at ``version``, or as it stood at the moment ``at``."""
        if version is None and at is None:
            return self._team(team_id)
        return self._get(Team, team_id, TeamNotFound, "team_id", version=version, at=at)

    def teams(self) -> list[Team]:
        """Every team, in the order they were formed."""
        return [self._team(team_id) for team_id in self._directory().ids("team")]

    def members(self, team_id: UUID, *roles: Role) -> list[Member]:
        """Active members of the team (of ``roles``, if given)."""
        return self._team(team_id).active_members(*roles)

    def credentials(
        self, team_id: UUID, member_id: UUID, at: datetime | None = None
    ) -> Credentials:
        """What ``member_id`` may do at ``at`` (default: now)."""
        meta = self._meta(Actor.system("query"), at)
        return self._credentials(self._team(team_id), member_id, meta.at, "member_id")
