"""Client account commands and queries of the facade."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.client_account import (
    AccountStrategies,
    ClientAccount,
    ContactInfluence,
    RelationshipStrength,
)
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.team import Team
from kam_domain.application.core import ApplicationCore
from kam_domain.application.directory import Entry
from kam_domain.errors import AccountNotFound, ValidationError
from kam_domain.values import (
    AccountId,
    Actor,
    ContactId,
    TeamId,
    Tier,
)

__all__ = ["AccountCommands"]


class AccountCommands(ApplicationCore):
    """Registering client accounts and everything the team records about them."""

    # -- commands: the account and its people --------------------------------------------------

    def register_account(
        self,
        team_id: UUID,
        actor: UUID,
        *,
        name: str,
        industry: str,
        region: str,
        account_id: UUID | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> AccountId:
        """Register a client of the team; its name must not be taken by another account."""
        team, meta, by = self._team_context(team_id, actor, at, correlation_id)
        aid = AccountId(self._new("account_id", account_id))
        account = ClientAccount.register(
            meta,
            by,
            aid,
            team_id=TeamId(team.id),
            name=name,
            industry=industry,
            region=region,
        )
        entry = Entry("account", account.name, team.id)
        self._commit(account, *self._listed(meta, aid, entry))
        return aid

    def designate_key_account(
        self,
        account_id: UUID,
        actor: UUID,
        *,
        tier: Tier,
        strategies: AccountStrategies,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """A sales director designates the account key (or changes its tier and strategies)."""
        account, _, meta, by = self._account_context(account_id, actor, at, correlation_id)
        account.designate_key(meta, by, tier=tier, strategies=strategies)
        self._commit(account)

    def undesignate_key_account(
        self,
        account_id: UUID,
        actor: UUID,
        *,
        reason: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """A sales director ends the key-account status; the KAM stops being accountable."""
        account, _, meta, by = self._account_context(account_id, actor, at, correlation_id)
        account.undesignate_key(meta, by, reason=reason)
        self._commit(account)

    def assign_kam(
        self,
        account_id: UUID,
        actor: UUID | Actor,
        kam_id: UUID,
        *,
        reason: str,
        decided_by: str | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """Make ``kam_id`` the accountable KAM: a director by hand, or a system :class:`Actor`."""
        account, team, meta, by = self._account_decision(account_id, actor, at, correlation_id)
        kam = self._credentials(team, kam_id, meta.at, "kam_id")
        account.assign_kam(meta, by, kam, reason=reason, decided_by=decided_by)
        self._commit(account)

    def assign_representative(
        self,
        account_id: UUID,
        actor: UUID,
        representative_id: UUID,
        *,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        account, team, meta, by = self._account_context(account_id, actor, at, correlation_id)
        representative = self._credentials(team, representative_id, meta.at, "representative_id")
        account.assign_representative(meta, by, representative)
        self._commit(account)

    def assign_technical_contact(
        self,
        account_id: UUID,
        actor: UUID,
        member_id: UUID,
        *,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        account, team, meta, by = self._account_context(account_id, actor, at, correlation_id)
        contact = self._credentials(team, member_id, meta.at, "member_id")
        account.assign_technical_contact(meta, by, contact)
        self._commit(account)

    # -- commands: the account plan ------------------------------------------------------------

    def agree_account_plan(
        self,
        account_id: UUID,
        actor: UUID,
        *,
        supervisor_id: UUID,
        client_goals: str,
        execution_plan: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """The accountable KAM (``actor``) agrees the account plan with their supervisor."""
        account, team, meta, by = self._account_context(account_id, actor, at, correlation_id)
        supervisor = self._credentials(team, supervisor_id, meta.at, "supervisor_id")
        account.agree_plan(
            meta, by, supervisor, client_goals=client_goals, execution_plan=execution_plan
        )
        self._commit(account)

    def revise_account_plan(
        self,
        account_id: UUID,
        actor: UUID,
        *,
        supervisor_id: UUID,
        client_goals: str,
        execution_plan: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> int:
        """The accountable KAM and their supervisor revise the plan; returns the new version."""
        account, team, meta, by = self._account_context(account_id, actor, at, correlation_id)
        supervisor = self._credentials(team, supervisor_id, meta.at, "supervisor_id")
        version = account.revise_plan(
            meta, by, supervisor, client_goals=client_goals, execution_plan=execution_plan
        )
        self._commit(account)
        return version

    # -- commands: knowing the client ----------------------------------------------------------

    def record_client_need(
        self,
        account_id: UUID,
        actor: UUID,
        *,
        description: str,
        need_id: UUID | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> UUID:
        account, _, meta, by = self._account_context(account_id, actor, at, correlation_id)
        nid = self._new("need_id", need_id, check_store=False)
        account.record_need(meta, by, nid, description=description)
        self._commit(account)
        return nid

    def add_client_contact(
        self,
        account_id: UUID,
        actor: UUID,
        *,
        name: str,
        title: str,
        influence: ContactInfluence,
        owner_id: UUID,
        relationship_strength: RelationshipStrength = RelationshipStrength.UNASSESSED,
        contact_id: UUID | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> ContactId:
        """Put a client contact on the relationship map with its owner on our side and how
        strong the relationship is (unassessed unless given)."""
        account, team, meta, by = self._account_context(account_id, actor, at, correlation_id)
        owner = self._credentials(team, owner_id, meta.at, "owner_id")
        cid = ContactId(self._new("contact_id", contact_id, check_store=False))
        account.add_contact(
            meta,
            by,
            owner,
            cid,
            name=name,
            title=title,
            influence=influence,
            relationship_strength=relationship_strength,
        )
        self._commit(account)
        return cid

    def assess_client_contact(
        self,
        account_id: UUID,
        actor: UUID,
        contact_id: UUID,
        *,
        strength: RelationshipStrength,
        note: str | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """Judge again how strong the relationship with a contact on the map is (whoever may
        add a contact may); the same strength again confirms it, ``UNASSESSED`` withdraws a
        judgement. An id not on the map is :class:`~kam_domain.errors.ContactNotFound`."""
        account, _, meta, by = self._account_context(account_id, actor, at, correlation_id)
        account.assess_contact(meta, by, ContactId(contact_id), strength=strength, note=note)
        self._commit(account)

    def record_competitor_intelligence(
        self,
        account_id: UUID,
        actor: UUID,
        *,
        competitor: str,
        note: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        account, _, meta, by = self._account_context(account_id, actor, at, correlation_id)
        account.record_competitor_intelligence(meta, by, competitor=competitor, note=note)
        self._commit(account)

    # -- queries -------------------------------------------------------------------------------

    def get_account(
        self, account_id: UUID, *, version: int | None = None, at: datetime | None = None
    ) -> ClientAccount:
        """The account as now, at ``version``, or as it stood at the moment ``at``."""
        return self._get(
            ClientAccount, account_id, AccountNotFound, "account_id", version=version, at=at
        )

    def find_account(self, name_or_id: str | UUID) -> ClientAccount:
        """The account with this name (case and spacing ignored) or id (a UUID or its text)."""
        if isinstance(name_or_id, UUID):
            return self.get_account(name_or_id)
        if not isinstance(name_or_id, str) or not name_or_id.strip():
            raise ValidationError("name_or_id", f"must be a name or id, not {name_or_id!r}")
        account_id = self._account_named(name_or_id)
        if account_id is None:
            try:
                account_id = UUID(name_or_id.strip())
            except ValueError:
                raise AccountNotFound("name_or_id", name_or_id) from None
        try:
            return self._get(ClientAccount, account_id, AccountNotFound, "name_or_id")
        except AccountNotFound:
            raise AccountNotFound("name_or_id", name_or_id) from None

    def accounts(self, team_id: UUID | None = None) -> list[ClientAccount]:
        """Every account (of ``team_id``, if given), in the order they were registered."""
        if team_id is not None:
            self._team(team_id)
        ids = self._listing(team_id).ids("account")
        return [self.get_account(account_id) for account_id in ids]

    def accounts_of_kam(self, kam_id: UUID) -> list[ClientAccount]:
        """The accounts ``kam_id`` is accountable for now."""
        if not isinstance(kam_id, UUID):
            raise ValidationError("kam_id", f"must be a member id (UUID), not {kam_id!r}")
        return [account for account in self.accounts() if account.kam_id == kam_id]

    # -- helpers -------------------------------------------------------------------------------

    def _account_context(
        self,
        account_id: UUID,
        actor: UUID,
        at: datetime | None,
        correlation_id: UUID | None,
    ) -> tuple[ClientAccount, Team, Meta, Credentials]:
        """Load the account and its team, stamp the command, and find the actor's credentials."""
        account = self.get_account(account_id)
        team, meta, by = self._team_context(account.team_id, actor, at, correlation_id)
        return account, team, meta, by

    def _account_decision(
        self,
        account_id: UUID,
        actor: UUID | Actor,
        at: datetime | None,
        correlation_id: UUID | None,
    ) -> tuple[ClientAccount, Team, Meta, Credentials | None]:
        """As :meth:`_account_context`, for commands a policy or system may decide: their
        actor has no credentials."""
        account = self.get_account(account_id)
        team = self._team(account.team_id)
        meta = self._meta(actor, at, correlation_id)
        by = None if meta.actor.member_id is None else self._actor_credentials(team, meta)
        return account, team, meta, by
