"""The guards that several families of a project's commands share: who acts on the project, as
which member, in which state the project must be, and which amounts it accepts."""

from __future__ import annotations

from uuid import UUID

from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.credentials import Credentials, require_credentials
from kam_domain.aggregates.project.state import ProjectState
from kam_domain.errors import (
    CurrencyMismatch,
    InvalidTransition,
    NotOnTeam,
    RoleRequired,
    ValidationError,
)
from kam_domain.values import Money, Role, require_amount


class ProjectGuards(ProjectState):
    """Guards on the acting member and on the project's state, for every family."""

    def _leads(self, by: Credentials) -> bool:
        return by.role is Role.PROJECT_DIRECTOR and by.member_id == self.project_director_id

    def _require_member(self, field: str, meta: Meta, by: object) -> None:
        """``by`` is an active member of this project's team, acting as themselves."""
        creds = require_credentials(field, by)
        creds.require_active(field)
        require_team(field, creds, self.team_id)

    def _require_project_director(
        self, field: str, meta: Meta, by: Credentials, *, or_director: bool = False
    ) -> None:
        self._require_member(field, meta, by)
        if self._leads(by) or (or_director and by.role.is_director):
            return
        wanted = (
            "this project's director or a sales director"
            if or_director
            else "this project's director"
        )
        raise RoleRequired(f"{field}: {by.name} is not {wanted}")

    def _require_open(self) -> None:
        if self.is_closed:
            raise InvalidTransition(f"project_id: {self.name} is closed")

    def _money(self, field: str, value: object) -> Money:
        """A positive amount in the project's currency."""
        value = require_amount(field, value)
        if value.currency != self.currency:
            msg = f"must be in the project's currency {self.currency}, not {value.currency}"
            raise CurrencyMismatch(field, msg)
        if value.is_negative:
            raise ValidationError(field, "must not be negative")
        if value.is_zero:
            raise ValidationError(field, "must be more than zero")
        return value


def require_team(field: str, creds: Credentials, team_id: UUID) -> None:
    if creds.team_id != team_id:
        raise NotOnTeam(f"{field}: {creds.name} is not on this project's team")
