"""The guards an opportunity's commands share: who may work on it, in which state it must be,
and which amounts and dates it accepts."""

from __future__ import annotations

from datetime import datetime

from kam_domain.aggregates.base import require_utc
from kam_domain.aggregates.credentials import Credentials, require_credentials
from kam_domain.aggregates.opportunity.state import OpportunityState
from kam_domain.errors import (
    AmountNotPositive,
    CloseDateBeforeOpening,
    CurrencyMismatch,
    NotAssignedToAccount,
    NotOnTeam,
    OpportunityClosed,
    RoleRequired,
)
from kam_domain.values import MemberId, Money, Role, TeamId, require_amount

#: Who may own an opportunity: those who sell to the client.
OWNER_ROLES = (
    Role.SENIOR_SALES_DIRECTOR,
    Role.SALES_DIRECTOR,
    Role.KEY_ACCOUNT_MANAGER,
    Role.KEY_ACCOUNT_REPRESENTATIVE,
)


def require_seller(
    field: str, by: Credentials, team_id: TeamId, account_manager_id: MemberId | None
) -> None:
    """``by`` is one of the team's sales directors, or the KAM accountable for the account
    (``account_manager_id``, None when it has none) at the command's moment."""
    require_credentials(field, by)
    by.require_active(field)
    if by.team_id != team_id:
        raise NotOnTeam(f"{field}: {by.name} is not on this opportunity's team")
    if by.role.is_director:
        return
    if by.role is not Role.KEY_ACCOUNT_MANAGER:
        wanted = "the account's KAM or a sales director"
        msg = f"{field}: {by.name} is a {by.role.label}; this needs {wanted}"
        raise RoleRequired(msg)
    if by.member_id != account_manager_id:
        msg = f"{field}: {by.name} is not the KAM accountable for this account"
        raise NotAssignedToAccount(msg)


def require_owner(field: str, owner: Credentials, team_id: TeamId) -> MemberId:
    """``owner`` may own an opportunity of ``team_id``: an active seller of that team."""
    require_credentials(field, owner)
    owner.require_role(field, *OWNER_ROLES)
    if owner.team_id != team_id:
        raise NotOnTeam(f"{field}: {owner.name} is not on this opportunity's team")
    return owner.member_id


def require_positive(field: str, value: object, currency: str | None) -> Money:
    """A positive amount a command accepts (:mod:`kam_domain.bounds`), in ``currency`` if given."""
    amount = require_amount(field, value)
    if amount.amount <= 0:
        raise AmountNotPositive(field, f"must be more than zero, not {amount}")
    if currency is not None and amount.currency != currency:
        raise CurrencyMismatch(field, f"must be in {currency}, not {amount.currency}")
    return amount


def require_close(field: str, value: object, opened: datetime) -> datetime:
    """An expected close date no earlier than the opening."""
    moment = require_utc(field, value)
    if moment < opened:
        msg = f"{field}: {moment.isoformat()} is before the opening ({opened.isoformat()})"
        raise CloseDateBeforeOpening(msg)
    return moment


class OpportunityGuards(OpportunityState):
    """Guards on the acting member and on the opportunity's state, for every family."""

    def _require_open(self) -> None:
        if not self.is_open:
            msg = f"opportunity_id: {self.name} is {self.stage.label} and cannot change"
            raise OpportunityClosed(msg)

    def _require_seller(self, by: Credentials, account_manager_id: MemberId | None) -> None:
        require_seller("actor", by, self.team_id, account_manager_id)
