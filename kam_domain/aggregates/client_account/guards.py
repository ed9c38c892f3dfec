"""The guards that several families of an account's commands share: who acts on the account, in
which role, on which team, and the checks on ids, periods and amounts."""

from __future__ import annotations

from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.client_account.roles import DIRECTORS, KAM
from kam_domain.aggregates.client_account.state import AccountState
from kam_domain.aggregates.credentials import Credentials, require_credentials
from kam_domain.errors import AccountNotKey, NotAssignedToAccount, NotOnTeam, ValidationError
from kam_domain.values import ActorKind, Money, Period, Role, require_amount

#: The longest free text a command takes: descriptions, notes, plans, comments.
LONG_TEXT = 4000


class AccountGuards(AccountState):
    """Guards on the acting member and the members a command names, for every family."""

    def _check_actor(self, meta: Meta, by: object, *roles: Role) -> Credentials:
        """The acting member is active, holds one of ``roles`` and is on this account's team."""
        creds = require_credentials("actor", by)
        creds.require_role("actor", *roles)
        self._check_team("actor", creds)
        return creds

    def _check_decider(self, meta: Meta, by: object, *roles: Role) -> None:
        """As :meth:`_check_actor`, but a policy or system actor may decide without credentials."""
        if by is None:
            if meta.actor.kind is ActorKind.MEMBER:
                msg = "a member acts with their credentials; only a policy or system omits them"
                raise ValidationError("actor", msg)
            return
        self._check_actor(meta, by, *roles)

    def _check_party(self, field: str, party: object, *roles: Role) -> None:
        """A member named by the command is active, holds one of ``roles``, on this team."""
        creds = require_credentials(field, party)
        creds.require_role(field, *roles)
        self._check_team(field, creds)

    def _check_team(self, field: str, member: Credentials) -> None:
        if member.team_id != self.team_id:
            msg = f"{field}: {member.name} is not on the team of account {self.name!r}"
            raise NotOnTeam(msg)

    def _check_director_or_account_kam(self, meta: Meta, by: Credentials) -> None:
        self._check_actor(meta, by, *DIRECTORS, KAM)
        if by.role is KAM and by.member_id != self.kam_id:
            msg = f"actor: {by.name} is not the accountable KAM of {self.name!r}"
            raise NotAssignedToAccount(msg)

    def _require_key(self) -> None:
        if self.tier is None:
            raise AccountNotKey(f"account_id: {self.name!r} is not designated a key account")


def check_period(period: object) -> None:
    if not isinstance(period, Period):
        raise ValidationError("period", f"must be a Period, not {period!r}")


def require_positive(field: str, value: object) -> Money:
    return require_amount(field, value, positive=True)
