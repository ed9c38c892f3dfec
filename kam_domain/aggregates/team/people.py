"""A team's people: members joining and leaving, their roles and supervisors, how much load a
KAM carries, training (后备团队培训、交叉培训、轮训) and backups."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kam_domain.aggregates.base import KamAggregate, Meta, require_text
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.team.guards import TeamGuards, check_capacity, check_role
from kam_domain.aggregates.team.records import Member, TierWeights, TrainingKind
from kam_domain.errors import AlreadyExists, InvalidTransition, RoleRequired, ValidationError
from kam_domain.values import MemberId, Role

if TYPE_CHECKING:
    from kam_domain.aggregates.team import Team


class People(TeamGuards):
    """Members, roles, supervisors, capacities, training and backups."""

    class MemberJoined(KamAggregate.Event):
        member_id: MemberId
        name: str
        role: Role
        supervisor_id: MemberId | None

        def apply(self, team: Team) -> None:
            team.members[self.member_id] = Member(
                self.member_id, self.name, self.role, supervisor_id=self.supervisor_id
            )

    class MemberLeft(KamAggregate.Event):
        member_id: MemberId
        reason: str

        def apply(self, team: Team) -> None:
            team._change(self.member_id, active=False)

    class RoleChanged(KamAggregate.Event):
        member_id: MemberId
        old_role: Role
        new_role: Role
        reason: str

        def apply(self, team: Team) -> None:
            team._change(self.member_id, role=self.new_role)

    class SupervisorSet(KamAggregate.Event):
        member_id: MemberId
        supervisor_id: MemberId

        def apply(self, team: Team) -> None:
            team._change(self.member_id, supervisor_id=self.supervisor_id)

    class CapacitySet(KamAggregate.Event):
        member_id: MemberId | None
        capacity: int

        def apply(self, team: Team) -> None:
            if self.member_id is None:
                team.default_capacity = self.capacity
            else:
                team._change(self.member_id, capacity=self.capacity)

    class TierWeightsSet(KamAggregate.Event):
        weights: TierWeights

        def apply(self, team: Team) -> None:
            team.tier_weights = self.weights

    class TrainingRecorded(KamAggregate.Event):
        member_id: MemberId
        kind: TrainingKind
        skill: str
        covers_member_id: MemberId | None

        def apply(self, team: Team) -> None:
            member = team.members[self.member_id]
            covered = member.trained_to_cover
            if self.covers_member_id is not None:
                covered = covered | {self.covers_member_id}
            team._change(
                self.member_id,
                skills=member.skills | {self.skill},
                trained_to_cover=covered,
            )

    class BackupDesignated(KamAggregate.Event):
        member_id: MemberId
        backup_id: MemberId

        def apply(self, team: Team) -> None:
            team._change(self.member_id, backup_id=self.backup_id)

    def join(
        self,
        meta: Meta,
        by: Credentials,
        member_id: MemberId,
        *,
        name: str,
        role: Role,
        supervisor_id: MemberId | None = None,
    ) -> None:
        """A director (or the senior admin manager, who recruits) adds a member."""
        by.require_role(
            "actor",
            Role.SENIOR_SALES_DIRECTOR,
            Role.SALES_DIRECTOR,
            Role.SENIOR_ADMIN_MANAGER,
        )
        name = require_text("name", name)
        check_role("role", role)
        if role is Role.SENIOR_SALES_DIRECTOR:
            by.require_role("actor", Role.SENIOR_SALES_DIRECTOR)
        if member_id in self.members:
            raise AlreadyExists(f"member_id: {member_id} is already on the team")
        if supervisor_id is not None:
            self._check_supervisor("supervisor_id", supervisor_id)
        self._record(
            self.MemberJoined,
            meta,
            member_id=member_id,
            name=name,
            role=role,
            supervisor_id=supervisor_id,
        )

    def leave(self, meta: Meta, by: Credentials, member_id: MemberId, *, reason: str) -> None:
        """A director records that a member left; their authority ends with them."""
        by.require_director("actor")
        reason = require_text("reason", reason)
        member = self._active("member_id", member_id)
        if member.role is Role.SENIOR_SALES_DIRECTOR and self._count(member.role) == 1:
            raise InvalidTransition("member_id: the last senior sales director cannot leave")
        self._record(self.MemberLeft, meta, member_id=member_id, reason=reason)

    def change_role(
        self,
        meta: Meta,
        by: Credentials,
        member_id: MemberId,
        *,
        role: Role,
        reason: str,
    ) -> None:
        """A director moves a member to another role (senior grade needs a senior director)."""
        by.require_director("actor")
        check_role("role", role)
        reason = require_text("reason", reason)
        member = self._active("member_id", member_id)
        if Role.SENIOR_SALES_DIRECTOR in (role, member.role):
            by.require_role("actor", Role.SENIOR_SALES_DIRECTOR)
        if member.role is role:
            raise InvalidTransition(f"role: {member.name} is already a {role.label}")
        if member.role is Role.SENIOR_SALES_DIRECTOR and self._count(member.role) == 1:
            raise InvalidTransition("member_id: the team needs a senior sales director")
        self._record(
            self.RoleChanged,
            meta,
            member_id=member_id,
            old_role=member.role,
            new_role=role,
            reason=reason,
        )

    def set_supervisor(
        self,
        meta: Meta,
        by: Credentials,
        member_id: MemberId,
        *,
        supervisor_id: MemberId,
    ) -> None:
        """A director sets whom a member reports to (a KAM reports to a sales director)."""
        by.require_director("actor")
        self._active("member_id", member_id)
        self._check_supervisor("supervisor_id", supervisor_id)
        if supervisor_id == member_id:
            raise ValidationError("supervisor_id", "a member cannot supervise themselves")
        self._record(self.SupervisorSet, meta, member_id=member_id, supervisor_id=supervisor_id)

    def set_capacity(
        self, meta: Meta, by: Credentials, member_id: MemberId | None, *, capacity: int
    ) -> None:
        """A director sets how much tier-weighted load a KAM (or, with None, anyone) carries."""
        by.require_director("actor")
        check_capacity("capacity", capacity)
        if member_id is not None:
            self._active("member_id", member_id)
        self._record(self.CapacitySet, meta, member_id=member_id, capacity=capacity)

    def set_tier_weights(self, meta: Meta, by: Credentials, weights: TierWeights) -> None:
        by.require_director("actor")
        if not isinstance(weights, TierWeights):
            raise ValidationError("weights", "must be TierWeights")
        self._record(self.TierWeightsSet, meta, weights=weights)

    def record_training(
        self,
        meta: Meta,
        by: Credentials,
        member_id: MemberId,
        *,
        kind: TrainingKind,
        skill: str,
        covers_member_id: MemberId | None = None,
    ) -> None:
        """Directors and admin staff record training; cross/backup training names whom it covers."""
        by.require_active("actor")
        if not (by.role.is_director or by.role.is_admin):
            raise RoleRequired("actor: training is recorded by a director or admin staff")
        if not isinstance(kind, TrainingKind):
            raise ValidationError("kind", f"must be a TrainingKind, not {kind!r}")
        skill = require_text("skill", skill)
        self._active("member_id", member_id)
        if covers_member_id is not None:
            self._member("covers_member_id", covers_member_id)
            if covers_member_id == member_id:
                raise ValidationError("covers_member_id", "a member cannot cover themselves")
        self._record(
            self.TrainingRecorded,
            meta,
            member_id=member_id,
            kind=kind,
            skill=skill,
            covers_member_id=covers_member_id,
        )

    def designate_backup(
        self, meta: Meta, by: Credentials, member_id: MemberId, *, backup_id: MemberId
    ) -> None:
        """A director names who covers a member's accounts when they are away or leave."""
        by.require_director("actor")
        self._active("member_id", member_id)
        self._active("backup_id", backup_id)
        if backup_id == member_id:
            raise ValidationError("backup_id", "a member cannot be their own backup")
        self._record(self.BackupDesignated, meta, member_id=member_id, backup_id=backup_id)

    # -- queries -----------------------------------------------------------------------------------

    def capacity_of(self, member_id: MemberId) -> int:
        member = self._member("member_id", member_id)
        return self.default_capacity if member.capacity is None else member.capacity

    def is_cross_trained(self, backup_id: MemberId, for_member_id: MemberId) -> bool:
        backup = self.members.get(backup_id)
        return backup is not None and backup.active and for_member_id in backup.trained_to_cover
