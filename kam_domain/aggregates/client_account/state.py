"""What a client account holds, as set up when it is registered; its events' ``apply`` methods
change it."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from kam_domain.aggregates.base import CommandFamily
from kam_domain.aggregates.client_account.records import (
    AccountAgreement,
    AccountInvoice,
    AccountPayment,
    AccountPlan,
    AccountStrategies,
    ClientCase,
    ClientContact,
    ClientNeed,
    CompetitorIntel,
    KamAssignment,
    SatisfactionSurvey,
)
from kam_domain.transcoding import IdMap
from kam_domain.values import AgreementId, CaseId, ContactId, InvoiceId, MemberId, TeamId, Tier


class AccountState(CommandFamily):
    """The account's state, shared by every family of its commands."""

    def __init__(self, team_id: TeamId, name: str, industry: str, region: str) -> None:
        self.team_id = team_id
        self.name = name
        self.industry = industry
        self.region = region
        self.tier: Tier | None = None
        self.strategies: AccountStrategies | None = None
        self.designated_at: datetime | None = None
        self.kam_id: MemberId | None = None
        self.assignment_history: list[KamAssignment] = []
        self.representative_id: MemberId | None = None
        self.technical_contact_id: MemberId | None = None
        self.plans: list[AccountPlan] = []
        self.needs: IdMap[UUID, ClientNeed] = IdMap()
        self.contacts: IdMap[ContactId, ClientContact] = IdMap()
        self.intelligence: list[CompetitorIntel] = []
        self.agreements: IdMap[AgreementId, AccountAgreement] = IdMap()
        self.invoices: IdMap[InvoiceId, AccountInvoice] = IdMap()
        self.payments: IdMap[UUID, AccountPayment] = IdMap()
        self.cases: IdMap[CaseId, ClientCase] = IdMap()
        self.surveys: list[SatisfactionSurvey] = []

    @property
    def is_key(self) -> bool:
        return self.tier is not None

    @property
    def accountable_kam(self) -> MemberId | None:
        """The one KAM accountable for the account now (None unless it is a key account)."""
        return self.kam_id
