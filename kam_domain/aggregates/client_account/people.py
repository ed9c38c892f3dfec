"""The account and its people: registering a client, designating it a key account (and ending
that), the one accountable KAM (大客户经理责任制) and who was accountable when, the
representative and the technical contact."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Self

from kam_domain.aggregates.base import KamAggregate, Meta, require_id, require_text, require_utc
from kam_domain.aggregates.client_account.guards import LONG_TEXT, AccountGuards
from kam_domain.aggregates.client_account.records import AccountStrategies, KamAssignment
from kam_domain.aggregates.client_account.roles import (
    DIRECTORS,
    KAM,
    REGISTRAR_ROLES,
    REP,
    TECHNICAL,
)
from kam_domain.aggregates.credentials import Credentials, require_credentials
from kam_domain.errors import InvalidTransition, NotOnTeam, ValidationError
from kam_domain.values import AccountId, MemberId, TeamId, Tier

if TYPE_CHECKING:
    from kam_domain.aggregates.client_account import ClientAccount


class People(AccountGuards):
    """Registration, key-account designation and the people serving the account."""

    class Registered(KamAggregate.Created):
        team_id: TeamId
        name: str
        industry: str
        region: str

    class KeyAccountDesignated(KamAggregate.Event):
        tier: Tier
        strategies: AccountStrategies
        previous_tier: Tier | None

        def apply(self, account: ClientAccount) -> None:
            account.tier = self.tier
            account.strategies = self.strategies
            account.designated_at = self.timestamp
            account._retire(self.timestamp)

    class KeyAccountUndesignated(KamAggregate.Event):
        reason: str
        #: The KAM who stops being accountable with the designation (None if there was none).
        released_kam_id: MemberId | None

        def apply(self, account: ClientAccount) -> None:
            account.tier = None
            account.strategies = None
            account.designated_at = None
            if self.released_kam_id is not None:
                account.kam_id = None
                account.assignment_history.append(
                    KamAssignment(None, self.timestamp, self.reason, str(self.actor))
                )
            account._retire(self.timestamp)

    class KamAssigned(KamAggregate.Event):
        kam_id: MemberId
        previous_kam_id: MemberId | None
        reason: str
        decided_by: str

        def apply(self, account: ClientAccount) -> None:
            account.kam_id = self.kam_id
            account.assignment_history.append(
                KamAssignment(self.kam_id, self.timestamp, self.reason, self.decided_by)
            )
            account._retire(self.timestamp)

    class RepresentativeAssigned(KamAggregate.Event):
        representative_id: MemberId
        previous_id: MemberId | None

        def apply(self, account: ClientAccount) -> None:
            account.representative_id = self.representative_id
            account._retire(self.timestamp)

    class TechnicalContactAssigned(KamAggregate.Event):
        member_id: MemberId
        previous_id: MemberId | None

        def apply(self, account: ClientAccount) -> None:
            account.technical_contact_id = self.member_id
            account._retire(self.timestamp)

    @classmethod
    def register(
        cls,
        meta: Meta,
        by: Credentials,
        account_id: AccountId,
        *,
        team_id: TeamId,
        name: str,
        industry: str,
        region: str,
    ) -> Self:
        """A director, KAM, representative or the senior admin manager registers a client."""
        require_credentials("actor", by)
        by.require_role("actor", *REGISTRAR_ROLES)
        require_id("account_id", account_id)
        require_id("team_id", team_id)
        if by.team_id != team_id:
            raise NotOnTeam(f"actor: {by.name} is not a member of team {team_id}")
        name = require_text("name", name, max_length=200)
        industry = require_text("industry", industry, max_length=200)
        region = require_text("region", region, max_length=200)
        return cls._start(
            cls.Registered,
            meta,
            account_id,
            team_id=team_id,
            name=name,
            industry=industry,
            region=region,
        )

    def designate_key(
        self,
        meta: Meta,
        by: Credentials,
        *,
        tier: Tier,
        strategies: AccountStrategies,
    ) -> None:
        """A sales director (either grade) makes this a key account, or changes its designation."""
        self._check_actor(meta, by, *DIRECTORS)
        if not isinstance(tier, Tier):
            raise ValidationError("tier", f"must be a Tier, not {tier!r}")
        strategies = _check_strategies(strategies)
        if self.tier is tier and self.strategies == strategies:
            msg = f"tier: {self.name} is already a {tier.value} key account with these strategies"
            raise InvalidTransition(msg)
        self._record(
            self.KeyAccountDesignated,
            meta,
            tier=tier,
            strategies=strategies,
            previous_tier=self.tier,
        )

    def undesignate_key(self, meta: Meta, by: Credentials, *, reason: str) -> None:
        """A sales director ends the key-account status; the accountable KAM is released."""
        self._check_actor(meta, by, *DIRECTORS)
        reason = require_text("reason", reason)
        self._require_key()
        self._record(self.KeyAccountUndesignated, meta, reason=reason, released_kam_id=self.kam_id)

    def assign_kam(
        self,
        meta: Meta,
        by: Credentials | None,
        kam: Credentials,
        *,
        reason: str,
        decided_by: str | None = None,
    ) -> None:
        """Make ``kam`` the one accountable KAM of this key account, replacing any other.

        A sales director assigns by hand with a reason; the assignment policy assigns with
        ``by=None`` as a policy actor and says in ``decided_by`` which policy and version decided
        (by default the command's actor, e.g. ``policy:assignment@1``).
        """
        self._check_decider(meta, by, *DIRECTORS)
        self._check_party("kam", kam, KAM)
        reason = require_text("reason", reason)
        decided = str(meta.actor) if decided_by is None else require_text("decided_by", decided_by)
        self._require_key()
        if self.kam_id == kam.member_id:
            raise InvalidTransition(f"kam: {kam.name} is already the accountable KAM")
        self._record(
            self.KamAssigned,
            meta,
            kam_id=kam.member_id,
            previous_kam_id=self.kam_id,
            reason=reason,
            decided_by=decided,
        )

    def assign_representative(
        self, meta: Meta, by: Credentials, representative: Credentials
    ) -> None:
        """A director or the account's KAM names the representative who serves the account."""
        self._check_director_or_account_kam(meta, by)
        self._check_party("representative", representative, REP)
        if self.representative_id == representative.member_id:
            msg = f"representative: {representative.name} already represents this account"
            raise InvalidTransition(msg)
        self._record(
            self.RepresentativeAssigned,
            meta,
            representative_id=representative.member_id,
            previous_id=self.representative_id,
        )

    def assign_technical_contact(self, meta: Meta, by: Credentials, contact: Credentials) -> None:
        """A director or the account's KAM names the technical support or consultant contact."""
        self._check_director_or_account_kam(meta, by)
        self._check_party("technical_contact", contact, *TECHNICAL)
        if self.technical_contact_id == contact.member_id:
            msg = f"technical_contact: {contact.name} is already this account's technical contact"
            raise InvalidTransition(msg)
        self._record(
            self.TechnicalContactAssigned,
            meta,
            member_id=contact.member_id,
            previous_id=self.technical_contact_id,
        )

    # -- queries -----------------------------------------------------------------------------------

    def accountable_kam_at(self, moment: datetime) -> MemberId | None:
        """Who was accountable at ``moment``, from the assignment history."""
        moment = require_utc("moment", moment)
        accountable: MemberId | None = None
        for assignment in self.assignment_history:
            if assignment.since > moment:
                break
            accountable = assignment.kam_id
        return accountable


def _check_strategies(strategies: object) -> AccountStrategies:
    if not isinstance(strategies, AccountStrategies):
        msg = f"must be AccountStrategies, not {type(strategies).__name__}"
        raise ValidationError("strategies", msg)
    texts = {
        name: require_text(f"strategies.{name}", getattr(strategies, name), max_length=LONG_TEXT)
        for name in ("market", "client", "marketing", "competitive")
    }
    return AccountStrategies(**texts)
