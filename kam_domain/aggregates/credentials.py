"""Credentials: what one team member may do at one moment, as their Team recorded it.

The application reads them from the Team and hands them to the other aggregates' commands, which
check them; approval events keep a copy, so an auditor sees the authority that was in force.
The discount authority they carry is what discount approval checks
(:mod:`kam_domain.aggregates.project.discounts`); the Team grants it
(:mod:`kam_domain.aggregates.team.discount_authority`).
"""

from __future__ import annotations

from datetime import datetime

import attrs

from kam_domain.errors import (
    AuthorityExceeded,
    MemberInactive,
    RoleRequired,
    SelfApproval,
    ValidationError,
)
from kam_domain.transcoding import transcoded
from kam_domain.values import GrantId, MemberId, Percentage, Role, TeamId

__all__ = ["Credentials", "require_credentials"]


@transcoded
@attrs.frozen
class Credentials:
    """A member's role, standing and discount authority at moment ``at``."""

    member_id: MemberId
    team_id: TeamId
    name: str
    role: Role
    active: bool
    supervisor_id: MemberId | None
    at: datetime
    discount_authority: Percentage | None = None
    grant_id: GrantId | None = None

    def require_active(self, field: str) -> None:
        if not self.active:
            msg = f"{field}: {self.name} ({self.member_id}) has left the team"
            raise MemberInactive(msg)

    def require_role(self, field: str, *roles: Role) -> None:
        """The member is active and holds one of ``roles``."""
        self.require_active(field)
        if self.role not in roles:
            wanted = " or ".join(role.label for role in roles)
            msg = f"{field}: {self.name} is a {self.role.label}; this needs a {wanted}"
            raise RoleRequired(msg)

    def require_director(self, field: str) -> None:
        self.require_role(field, Role.SENIOR_SALES_DIRECTOR, Role.SALES_DIRECTOR)

    def require_not(self, field: str, other: MemberId | None) -> None:
        """Segregation of duties: the member is not ``other`` (e.g. the requester)."""
        if other is not None and other == self.member_id:
            msg = f"{field}: {self.name} cannot approve or evaluate their own work"
            raise SelfApproval(msg)

    def require_authority(self, field: str, discount: Percentage) -> None:
        """The member holds, at ``at``, an authority that covers ``discount``."""
        self.require_active(field)
        if self.discount_authority is None or discount > self.discount_authority:
            held = self.discount_authority or "no authority"
            msg = f"{field}: {self.name} holds {held} at {self.at.isoformat()}, not {discount}"
            raise AuthorityExceeded(msg)

    def covers(self, discount: Percentage) -> bool:
        return (
            self.active
            and self.discount_authority is not None
            and discount <= self.discount_authority
        )


def require_credentials(field: str, value: object) -> Credentials:
    """``value``, refused unless it is :class:`Credentials`."""
    if not isinstance(value, Credentials):
        raise ValidationError(field, f"must be Credentials, not {type(value).__name__}")
    return value
