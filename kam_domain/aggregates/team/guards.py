"""The guards that several families of a team's commands share: which members exist, which are
still on the team, who may supervise, and which roles and capacities a command accepts."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import attrs

from kam_domain.aggregates.team.records import Member
from kam_domain.aggregates.team.state import TeamState
from kam_domain.errors import InvalidTransition, MemberNotFound, RoleRequired, ValidationError
from kam_domain.values import MemberId, Role


class TeamGuards(TeamState):
    """Guards on the members a command names, for every family."""

    def _member(self, field: str, member_id: object) -> Member:
        member = self.members.get(MemberId(member_id)) if isinstance(member_id, UUID) else None
        if member is None:
            raise MemberNotFound(field, member_id)
        return member

    def _active(self, field: str, member_id: object) -> Member:
        member = self._member(field, member_id)
        if not member.active:
            raise InvalidTransition(f"{field}: {member.name} has left the team")
        return member

    def _check_supervisor(self, field: str, supervisor_id: MemberId) -> None:
        supervisor = self._active(field, supervisor_id)
        if not supervisor.role.can_supervise:
            msg = f"{field}: a {supervisor.role.label} does not supervise others"
            raise RoleRequired(msg)

    def _count(self, role: Role) -> int:
        return len(self.active_members(role))

    def _change(self, member_id: MemberId, **changes: Any) -> None:
        self.members[member_id] = attrs.evolve(self.members[member_id], **changes)


def check_role(field: str, role: object) -> None:
    if not isinstance(role, Role):
        raise ValidationError(field, f"must be a Role, not {role!r}")


def check_capacity(field: str, capacity: object) -> None:
    if not isinstance(capacity, int) or isinstance(capacity, bool) or not 0 <= capacity <= 1000:
        raise ValidationError(field, f"must be a whole number from 0 to 1000, not {capacity!r}")
