"""The guards that several families of a target's commands share: the acting member is on the
target's team, the KAM fits the scope, who counts as the KAM and who as the supervisor."""

from __future__ import annotations

from uuid import UUID

from kam_domain.aggregates.credentials import Credentials, require_credentials
from kam_domain.aggregates.target.scope import ScopeKind, TargetScope
from kam_domain.aggregates.target.state import TargetState
from kam_domain.errors import NotOnTeam, ValidationError
from kam_domain.values import Role


class TargetGuards(TargetState):
    """Guards on the credentials a command is handed, for every family."""

    def _check_kam(self, kam: Credentials | None) -> None:
        check_scope_kam(self.scope, kam, self.team_id)


def check_party(field: str, creds: object, team_id: UUID) -> None:
    """``creds`` are credentials of an active member of the target's team."""
    creds = require_credentials(field, creds)
    creds.require_active(field)
    if creds.team_id != team_id:
        raise NotOnTeam(f"{field}: {creds.name} is not on this target's team")


def check_scope_kam(scope: TargetScope, kam: object, team_id: UUID) -> None:
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


def is_kam(by: Credentials, kam: Credentials | None) -> bool:
    return kam is not None and by.member_id == kam.member_id


def supervises(by: Credentials, kam: Credentials | None) -> bool:
    """A senior sales director, or the sales director whom the target's KAM reports to."""
    if by.role is Role.SENIOR_SALES_DIRECTOR:
        return True
    return by.role is Role.SALES_DIRECTOR and kam is not None and kam.supervisor_id == by.member_id
