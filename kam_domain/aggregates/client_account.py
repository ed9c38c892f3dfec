"""The client account (客户): key-account designation and strategies, the one accountable KAM
(大客户经理责任制), the people serving the account, the account plan agreed with the supervisor,
the relationship map, agreements, invoices and payments, client cases and satisfaction.

Commands check their guards first and then record one event; nothing changes when a guard
raises. The account keeps what later rules depend on: when each case was opened, acknowledged
and resolved (service level), when each payment arrived (revenue), every survey score
(satisfaction) and the whole assignment history (who was accountable on any date, and why).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Self
from uuid import UUID

import attrs

from kam_domain.aggregates.base import KamAggregate, Meta, require_text, require_utc
from kam_domain.aggregates.credentials import Credentials
from kam_domain.bounds import PERCENT_PLACES, check_places, check_whole
from kam_domain.errors import (
    AccountNotKey,
    AgreementNotFound,
    AgreementValueExceeded,
    AlreadyExists,
    CaseNotFound,
    CurrencyMismatch,
    InvalidTransition,
    InvoiceNotFound,
    NoAccountableManager,
    NotAssignedToAccount,
    NotOnTeam,
    PaymentExceedsBalance,
    SupervisorRequired,
    ValidationError,
)
from kam_domain.transcoding import IdMap, transcoded
from kam_domain.values import (
    AccountId,
    ActorKind,
    AgreementId,
    CaseId,
    CaseKind,
    ContactId,
    InvoiceId,
    MemberId,
    Money,
    Percentage,
    Period,
    Role,
    Severity,
    TeamId,
    Tier,
    require_amount,
    to_decimal,
)

__all__ = [
    "BILLING_ROLES",
    "CASE_OPENER_ROLES",
    "COLLECTION_ROLES",
    "ESCALATOR_ROLES",
    "FIELD_ROLES",
    "REGISTRAR_ROLES",
    "RESOLVER_ROLES",
    "SURVEYOR_ROLES",
    "AccountAgreement",
    "AccountInvoice",
    "AccountPayment",
    "AccountPlan",
    "AccountStrategies",
    "CaseStatus",
    "ClientAccount",
    "ClientCase",
    "ClientContact",
    "ClientNeed",
    "CompetitorIntel",
    "ContactInfluence",
    "KamAssignment",
    "PaymentInstallment",
    "SatisfactionSurvey",
]

_DIRECTORS = (Role.SENIOR_SALES_DIRECTOR, Role.SALES_DIRECTOR)
_KAM = Role.KEY_ACCOUNT_MANAGER
_REP = Role.KEY_ACCOUNT_REPRESENTATIVE
_TECHNICAL = (Role.TECHNICAL_SUPPORT, Role.CONSULTANT)
_ADMIN = (
    Role.SENIOR_ADMIN_MANAGER,
    Role.FINANCIAL_PLANNER,
    Role.LEGAL_AFFAIRS_SPECIALIST,
    Role.DEPARTMENT_ASSISTANT,
)
_ANYONE = tuple(Role)

#: Who may put a client on the team's books.
REGISTRAR_ROLES = (*_DIRECTORS, _KAM, _REP, Role.SENIOR_ADMIN_MANAGER)
#: Who records what the team learns about the client: needs, contacts, competitors.
FIELD_ROLES = (_KAM, _REP, *_TECHNICAL, *_DIRECTORS)
#: Who bills the client and books what it pays (representatives collect, finance plans).
BILLING_ROLES = (_REP, Role.FINANCIAL_PLANNER)
#: Who may flag an unpaid invoice as overdue.
COLLECTION_ROLES = (_REP, _KAM, Role.FINANCIAL_PLANNER)
#: Who opens client cases (complaints and inquiries).
CASE_OPENER_ROLES = (_REP, _KAM, *_ADMIN, *_DIRECTORS)
#: Who escalates a case (admin staff supervise response times).
ESCALATOR_ROLES = (*_DIRECTORS, *_ADMIN, _KAM)
#: Who resolves a case.
RESOLVER_ROLES = (_KAM, _REP, *_TECHNICAL, *_DIRECTORS)
#: Who surveys the client's satisfaction.
SURVEYOR_ROLES = (_KAM, _REP, *_ADMIN)

_LONG_TEXT = 4000


class ContactInfluence(enum.Enum):
    """How much a client contact weighs in the client's decisions."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class CaseStatus(enum.Enum):
    """Where a client case stands: open → acknowledged → resolved."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


transcoded(ContactInfluence)
transcoded(CaseStatus)


@transcoded
@attrs.frozen
class AccountStrategies:
    """The four strategies a key account is run by: market, client, marketing, competitive."""

    market: str
    client: str
    marketing: str
    competitive: str


@transcoded
@attrs.frozen
class PaymentInstallment:
    """One installment of an agreement's payment schedule."""

    due_at: datetime
    amount: Money


@transcoded
@attrs.frozen
class KamAssignment:
    """From ``since``, ``kam_id`` was accountable (None: nobody, the account stopped being key)."""

    kam_id: MemberId | None
    since: datetime
    reason: str
    #: The deciding member (``member:<id>``) or the policy's own account of itself.
    decided_by: str


@transcoded
@attrs.frozen
class AccountPlan:
    """One version of the account plan, agreed by the KAM with their supervisor."""

    version: int
    client_goals: str
    execution_plan: str
    kam_id: MemberId
    supervisor_id: MemberId
    agreed_at: datetime


@transcoded
@attrs.frozen
class ClientNeed:
    """Something the client needs, as someone serving it recorded it."""

    need_id: UUID
    description: str
    recorded_at: datetime


@transcoded
@attrs.frozen
class ClientContact:
    """A person at the client on the relationship map, and who on our side owns the relation."""

    contact_id: ContactId
    name: str
    title: str
    influence: ContactInfluence
    owner_id: MemberId
    added_at: datetime


@transcoded
@attrs.frozen
class CompetitorIntel:
    """What the team learned about a competitor at this client."""

    competitor: str
    note: str
    recorded_at: datetime


def _as_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


@transcoded
@attrs.frozen
class AccountAgreement:
    """A signed agreement and its payment schedule."""

    agreement_id: AgreementId
    number: str
    value: Money
    schedule: tuple[PaymentInstallment, ...] = attrs.field(converter=_as_tuple)
    representative_id: MemberId
    signed_at: datetime


@transcoded
@attrs.frozen
class AccountInvoice:
    """An invoice, what has been paid on it, and when it was flagged overdue (if it was)."""

    invoice_id: InvoiceId
    agreement_id: AgreementId | None
    amount: Money
    issued_at: datetime
    due_at: datetime
    paid: Money
    overdue_flagged_at: datetime | None = None

    @property
    def open_balance(self) -> Money:
        return self.amount - self.paid

    def is_overdue(self, at: datetime) -> bool:
        """Past its due date at ``at`` with something still to pay."""
        return at > self.due_at and not self.open_balance.is_zero


@transcoded
@attrs.frozen
class AccountPayment:
    """Money received on an invoice; ``received_at`` places it in a period's revenue."""

    payment_id: UUID
    invoice_id: InvoiceId
    amount: Money
    received_at: datetime


@transcoded
@attrs.frozen
class ClientCase:
    """A complaint or inquiry, with the moments that response-time rules measure."""

    case_id: CaseId
    kind: CaseKind
    severity: Severity
    subject: str
    opened_at: datetime
    status: CaseStatus = CaseStatus.OPEN
    acknowledged_at: datetime | None = None
    escalation_level: int = 0
    escalated_to: MemberId | None = None
    escalated_at: datetime | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status is not CaseStatus.RESOLVED


@transcoded
@attrs.frozen
class SatisfactionSurvey:
    """One satisfaction score from 0 to 100, with the client's comment."""

    score: Decimal
    comment: str | None
    surveyed_at: datetime


class ClientAccount(KamAggregate):
    """A client of the team, and everything the team does for and with it."""

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

    class RepresentativeAssigned(KamAggregate.Event):
        representative_id: MemberId
        previous_id: MemberId | None

        def apply(self, account: ClientAccount) -> None:
            account.representative_id = self.representative_id

    class TechnicalContactAssigned(KamAggregate.Event):
        member_id: MemberId
        previous_id: MemberId | None

        def apply(self, account: ClientAccount) -> None:
            account.technical_contact_id = self.member_id

    class PlanAgreed(KamAggregate.Event):
        version: int
        client_goals: str
        execution_plan: str
        kam_id: MemberId
        supervisor_id: MemberId

        def apply(self, account: ClientAccount) -> None:
            account.plans.append(
                AccountPlan(
                    self.version,
                    self.client_goals,
                    self.execution_plan,
                    self.kam_id,
                    self.supervisor_id,
                    self.timestamp,
                )
            )

    class PlanRevised(KamAggregate.Event):
        version: int
        client_goals: str
        execution_plan: str
        kam_id: MemberId
        supervisor_id: MemberId

        def apply(self, account: ClientAccount) -> None:
            account.plans.append(
                AccountPlan(
                    self.version,
                    self.client_goals,
                    self.execution_plan,
                    self.kam_id,
                    self.supervisor_id,
                    self.timestamp,
                )
            )

    class NeedRecorded(KamAggregate.Event):
        need_id: UUID
        description: str

        def apply(self, account: ClientAccount) -> None:
            account.needs[self.need_id] = ClientNeed(self.need_id, self.description, self.timestamp)

    class ContactAdded(KamAggregate.Event):
        contact_id: ContactId
        name: str
        title: str
        influence: ContactInfluence
        owner_id: MemberId

        def apply(self, account: ClientAccount) -> None:
            account.contacts[self.contact_id] = ClientContact(
                self.contact_id,
                self.name,
                self.title,
                self.influence,
                self.owner_id,
                self.timestamp,
            )

    class CompetitorIntelligenceRecorded(KamAggregate.Event):
        competitor: str
        note: str

        def apply(self, account: ClientAccount) -> None:
            account.intelligence.append(CompetitorIntel(self.competitor, self.note, self.timestamp))

    class AgreementSigned(KamAggregate.Event):
        agreement_id: AgreementId
        number: str
        value: Money
        schedule: tuple[PaymentInstallment, ...]
        representative_id: MemberId

        def apply(self, account: ClientAccount) -> None:
            account.agreements[self.agreement_id] = AccountAgreement(
                self.agreement_id,
                self.number,
                self.value,
                self.schedule,
                self.representative_id,
                self.timestamp,
            )

    class InvoiceIssued(KamAggregate.Event):
        invoice_id: InvoiceId
        agreement_id: AgreementId | None
        amount: Money
        due_at: datetime

        def apply(self, account: ClientAccount) -> None:
            account.invoices[self.invoice_id] = AccountInvoice(
                self.invoice_id,
                self.agreement_id,
                self.amount,
                self.timestamp,
                self.due_at,
                Money.zero(self.amount.currency),
            )

    class PaymentReceived(KamAggregate.Event):
        payment_id: UUID
        invoice_id: InvoiceId
        amount: Money

        def apply(self, account: ClientAccount) -> None:
            invoice = account.invoices[self.invoice_id]
            account.invoices[self.invoice_id] = attrs.evolve(
                invoice, paid=invoice.paid + self.amount
            )
            account.payments[self.payment_id] = AccountPayment(
                self.payment_id, self.invoice_id, self.amount, self.timestamp
            )

    class PaymentOverdue(KamAggregate.Event):
        invoice_id: InvoiceId
        due_at: datetime
        open_balance: Money

        def apply(self, account: ClientAccount) -> None:
            invoice = account.invoices[self.invoice_id]
            account.invoices[self.invoice_id] = attrs.evolve(
                invoice, overdue_flagged_at=self.timestamp
            )

    class CaseOpened(KamAggregate.Event):
        case_id: CaseId
        kind: CaseKind
        severity: Severity
        subject: str

        def apply(self, account: ClientAccount) -> None:
            account.cases[self.case_id] = ClientCase(
                self.case_id, self.kind, self.severity, self.subject, self.timestamp
            )

    class CaseAcknowledged(KamAggregate.Event):
        case_id: CaseId

        def apply(self, account: ClientAccount) -> None:
            account._change_case(
                self.case_id, status=CaseStatus.ACKNOWLEDGED, acknowledged_at=self.timestamp
            )

    class CaseEscalated(KamAggregate.Event):
        case_id: CaseId
        escalated_to: MemberId
        level: int
        reason: str

        def apply(self, account: ClientAccount) -> None:
            account._change_case(
                self.case_id,
                escalation_level=self.level,
                escalated_to=self.escalated_to,
                escalated_at=self.timestamp,
            )

    class CaseResolved(KamAggregate.Event):
        case_id: CaseId
        resolution: str

        def apply(self, account: ClientAccount) -> None:
            account._change_case(
                self.case_id,
                status=CaseStatus.RESOLVED,
                resolved_at=self.timestamp,
                resolution=self.resolution,
            )

    class SatisfactionSurveyed(KamAggregate.Event):
        score: Decimal
        comment: str | None

        def apply(self, account: ClientAccount) -> None:
            account.surveys.append(SatisfactionSurvey(self.score, self.comment, self.timestamp))

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

    # -- commands: the account and its people --------------------------------------------------

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
        _check_credentials("actor", by)
        by.require_role("actor", *REGISTRAR_ROLES)
        _check_id("account_id", account_id)
        _check_id("team_id", team_id)
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
        self._check_actor(meta, by, *_DIRECTORS)
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
        self._check_actor(meta, by, *_DIRECTORS)
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
        self._check_decider(meta, by, *_DIRECTORS)
        self._check_party("kam", kam, _KAM)
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
        self._check_party("representative", representative, _REP)
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
        self._check_party("technical_contact", contact, *_TECHNICAL)
        if self.technical_contact_id == contact.member_id:
            msg = f"technical_contact: {contact.name} is already this account's technical contact"
            raise InvalidTransition(msg)
        self._record(
            self.TechnicalContactAssigned,
            meta,
            member_id=contact.member_id,
            previous_id=self.technical_contact_id,
        )

    # -- commands: the account plan ------------------------------------------------------------

    def agree_plan(
        self,
        meta: Meta,
        by: Credentials,
        supervisor: Credentials,
        *,
        client_goals: str,
        execution_plan: str,
    ) -> None:
        """The accountable KAM agrees the first account plan with their supervisor."""
        goals, plan = self._check_plan(meta, by, supervisor, client_goals, execution_plan)
        if self.plans:
            msg = "client_goals: the account plan was already agreed; revise it instead"
            raise InvalidTransition(msg)
        self._record(
            self.PlanAgreed,
            meta,
            version=1,
            client_goals=goals,
            execution_plan=plan,
            kam_id=by.member_id,
            supervisor_id=supervisor.member_id,
        )

    def revise_plan(
        self,
        meta: Meta,
        by: Credentials,
        supervisor: Credentials,
        *,
        client_goals: str,
        execution_plan: str,
    ) -> int:
        """The accountable KAM and their supervisor agree the next version; returns its number."""
        goals, plan = self._check_plan(meta, by, supervisor, client_goals, execution_plan)
        current = self.current_plan
        if current is None:
            raise InvalidTransition("client_goals: no account plan was agreed yet")
        if (current.client_goals, current.execution_plan) == (goals, plan):
            raise InvalidTransition("client_goals: the revision changes nothing")
        version = current.version + 1
        self._record(
            self.PlanRevised,
            meta,
            version=version,
            client_goals=goals,
            execution_plan=plan,
            kam_id=by.member_id,
            supervisor_id=supervisor.member_id,
        )
        return version

    # -- commands: knowing the client ----------------------------------------------------------

    def record_need(self, meta: Meta, by: Credentials, need_id: UUID, *, description: str) -> None:
        """Someone who works with the client records a need the client has."""
        self._check_actor(meta, by, *FIELD_ROLES)
        _check_id("need_id", need_id)
        description = require_text("description", description, max_length=_LONG_TEXT)
        if need_id in self.needs:
            raise AlreadyExists(f"need_id: {need_id} was already recorded")
        self._record(self.NeedRecorded, meta, need_id=need_id, description=description)

    def add_contact(
        self,
        meta: Meta,
        by: Credentials,
        owner: Credentials,
        contact_id: ContactId,
        *,
        name: str,
        title: str,
        influence: ContactInfluence,
    ) -> None:
        """Put a client contact on the relationship map, owned by a member of the team."""
        self._check_actor(meta, by, *FIELD_ROLES)
        self._check_party("owner", owner, *_ANYONE)
        _check_id("contact_id", contact_id)
        name = require_text("name", name, max_length=200)
        title = require_text("title", title, max_length=200)
        if not isinstance(influence, ContactInfluence):
            raise ValidationError("influence", f"must be a ContactInfluence, not {influence!r}")
        if contact_id in self.contacts:
            raise AlreadyExists(f"contact_id: {contact_id} is already on the relationship map")
        self._record(
            self.ContactAdded,
            meta,
            contact_id=contact_id,
            name=name,
            title=title,
            influence=influence,
            owner_id=owner.member_id,
        )

    def record_competitor_intelligence(
        self, meta: Meta, by: Credentials, *, competitor: str, note: str
    ) -> None:
        """Record what the team learned about a competitor at this client."""
        self._check_actor(meta, by, *FIELD_ROLES)
        competitor = require_text("competitor", competitor, max_length=200)
        note = require_text("note", note, max_length=_LONG_TEXT)
        self._record(self.CompetitorIntelligenceRecorded, meta, competitor=competitor, note=note)

    # -- commands: agreements, invoices, payments ----------------------------------------------

    def sign_agreement(
        self,
        meta: Meta,
        by: Credentials,
        agreement_id: AgreementId,
        *,
        number: str,
        value: Money,
        schedule: Iterable[PaymentInstallment],
    ) -> None:
        """A representative (the account's own, once one is assigned) signs an agreement whose
        payment schedule adds up to its value, installments due in ascending order."""
        self._check_actor(meta, by, _REP)
        if self.representative_id is not None and by.member_id != self.representative_id:
            msg = f"actor: {by.name} is not the representative assigned to this account"
            raise NotAssignedToAccount(msg)
        _check_id("agreement_id", agreement_id)
        number = require_text("number", number, max_length=100)
        value = _positive("value", value)
        installments = _check_schedule(schedule, value)
        if agreement_id in self.agreements:
            raise AlreadyExists(f"agreement_id: {agreement_id} was already signed")
        if any(a.number == number for a in self.agreements.values()):
            raise AlreadyExists(f"number: this account already has an agreement {number!r}")
        self._record(
            self.AgreementSigned,
            meta,
            agreement_id=agreement_id,
            number=number,
            value=value,
            schedule=installments,
            representative_id=by.member_id,
        )

    def issue_invoice(
        self,
        meta: Meta,
        by: Credentials,
        invoice_id: InvoiceId,
        *,
        amount: Money,
        due_at: datetime,
        agreement_id: AgreementId | None = None,
    ) -> None:
        """A representative or the financial planner bills the client, under an agreement or not;
        an agreement is never billed beyond its value."""
        self._check_actor(meta, by, *BILLING_ROLES)
        _check_id("invoice_id", invoice_id)
        amount = _positive("amount", amount)
        due_at = require_utc("due_at", due_at)
        if due_at <= meta.at:
            msg = f"must be after the invoice is issued ({meta.at.isoformat()})"
            raise ValidationError("due_at", msg)
        if invoice_id in self.invoices:
            raise AlreadyExists(f"invoice_id: {invoice_id} was already issued")
        if agreement_id is not None:
            self._check_billable(agreement_id, amount)
        self._record(
            self.InvoiceIssued,
            meta,
            invoice_id=invoice_id,
            agreement_id=agreement_id,
            amount=amount,
            due_at=due_at,
        )

    def receive_payment(
        self,
        meta: Meta,
        by: Credentials,
        payment_id: UUID,
        invoice_id: InvoiceId,
        *,
        amount: Money,
    ) -> None:
        """Book a payment on an invoice, never more than what is still open on it."""
        self._check_actor(meta, by, *BILLING_ROLES)
        _check_id("payment_id", payment_id)
        amount = _positive("amount", amount)
        invoice = self._invoice(invoice_id)
        if amount.currency != invoice.amount.currency:
            msg = f"the invoice is in {invoice.amount.currency}, not {amount.currency}"
            raise CurrencyMismatch("amount", msg)
        if payment_id in self.payments:
            raise AlreadyExists(f"payment_id: {payment_id} was already received")
        if amount > invoice.open_balance:
            msg = f"amount: {amount} exceeds the open balance {invoice.open_balance}"
            raise PaymentExceedsBalance(msg)
        self._record(
            self.PaymentReceived,
            meta,
            payment_id=payment_id,
            invoice_id=invoice_id,
            amount=amount,
        )

    def flag_overdue(self, meta: Meta, by: Credentials | None, invoice_id: InvoiceId) -> None:
        """Flag, once, an invoice that is past due at ``meta.at`` with a balance still open.

        By a representative, KAM or the financial planner, or with ``by=None`` by the collections
        policy or a system clock.
        """
        self._check_decider(meta, by, *COLLECTION_ROLES)
        invoice = self._invoice(invoice_id)
        if invoice.overdue_flagged_at is not None:
            msg = f"invoice_id: {invoice_id} was already flagged overdue"
            raise InvalidTransition(msg)
        if invoice.open_balance.is_zero:
            raise InvalidTransition(f"invoice_id: {invoice_id} is paid in full")
        if not invoice.is_overdue(meta.at):
            msg = f"invoice_id: {invoice_id} is not due until {invoice.due_at.isoformat()}"
            raise InvalidTransition(msg)
        self._record(
            self.PaymentOverdue,
            meta,
            invoice_id=invoice_id,
            due_at=invoice.due_at,
            open_balance=invoice.open_balance,
        )

    # -- commands: client cases ----------------------------------------------------------------

    def open_case(
        self,
        meta: Meta,
        by: Credentials,
        case_id: CaseId,
        *,
        kind: CaseKind,
        severity: Severity,
        subject: str,
    ) -> None:
        """Open a complaint or inquiry; its response clock starts at ``meta.at``."""
        self._check_actor(meta, by, *CASE_OPENER_ROLES)
        _check_id("case_id", case_id)
        if not isinstance(kind, CaseKind):
            raise ValidationError("kind", f"must be a CaseKind, not {kind!r}")
        if not isinstance(severity, Severity):
            raise ValidationError("severity", f"must be a Severity, not {severity!r}")
        subject = require_text("subject", subject)
        if case_id in self.cases:
            raise AlreadyExists(f"case_id: {case_id} was already opened")
        self._record(
            self.CaseOpened, meta, case_id=case_id, kind=kind, severity=severity, subject=subject
        )

    def acknowledge_case(self, meta: Meta, by: Credentials, case_id: CaseId) -> None:
        """Any active member of the team acknowledges an open case to the client."""
        self._check_actor(meta, by, *_ANYONE)
        case = self._case(case_id)
        if case.status is not CaseStatus.OPEN:
            msg = f"case_id: case {case_id} is {case.status.value}, not open"
            raise InvalidTransition(msg)
        self._record(self.CaseAcknowledged, meta, case_id=case_id)

    def escalate_case(
        self,
        meta: Meta,
        by: Credentials | None,
        to: Credentials,
        case_id: CaseId,
        *,
        level: int,
        reason: str,
    ) -> None:
        """Hand an unresolved case to ``to`` at a higher escalation level; its status stays.

        By a director, admin staff or a KAM, or with ``by=None`` by the escalation policy.
        """
        self._check_decider(meta, by, *ESCALATOR_ROLES)
        self._check_party("to", to, *_ANYONE)
        check_whole("level", level, low=1, high=MAX_ESCALATION_LEVEL)
        reason = require_text("reason", reason)
        case = self._case(case_id)
        if not case.is_open:
            raise InvalidTransition(f"case_id: case {case_id} is already resolved")
        if level <= case.escalation_level:
            msg = f"level: case {case_id} is already escalated to level {case.escalation_level}"
            raise InvalidTransition(msg)
        self._record(
            self.CaseEscalated,
            meta,
            case_id=case_id,
            escalated_to=to.member_id,
            level=level,
            reason=reason,
        )

    def resolve_case(
        self, meta: Meta, by: Credentials, case_id: CaseId, *, resolution: str
    ) -> None:
        """Resolve an acknowledged case; nothing happens to it afterwards."""
        self._check_actor(meta, by, *RESOLVER_ROLES)
        resolution = require_text("resolution", resolution, max_length=_LONG_TEXT)
        case = self._case(case_id)
        if case.status is not CaseStatus.ACKNOWLEDGED:
            msg = f"case_id: case {case_id} is {case.status.value}; only acknowledged cases resolve"
            raise InvalidTransition(msg)
        self._record(self.CaseResolved, meta, case_id=case_id, resolution=resolution)

    # -- commands: satisfaction ----------------------------------------------------------------

    def survey_satisfaction(
        self,
        meta: Meta,
        by: Credentials,
        *,
        score: Decimal | int | str,
        comment: str | None = None,
    ) -> None:
        """Record a satisfaction score from 0 to 100 (Decimal, int or numeric string)."""
        self._check_actor(meta, by, *SURVEYOR_ROLES)
        value = check_places("score", to_decimal("score", score), PERCENT_PLACES)
        if not Decimal(0) <= value <= Decimal(100):
            raise ValidationError("score", f"must be between 0 and 100, not {value}")
        text = None if comment is None else require_text("comment", comment, max_length=_LONG_TEXT)
        self._record(self.SatisfactionSurveyed, meta, score=value, comment=text)

    # -- queries -----------------------------------------------------------------------------------

    @property
    def is_key(self) -> bool:
        return self.tier is not None

    @property
    def accountable_kam(self) -> MemberId | None:
        """The one KAM accountable for the account now (None unless it is a key account)."""
        return self.kam_id

    def accountable_kam_at(self, moment: datetime) -> MemberId | None:
        """Who was accountable at ``moment``, from the assignment history."""
        moment = require_utc("moment", moment)
        accountable: MemberId | None = None
        for assignment in self.assignment_history:
            if assignment.since > moment:
                break
            accountable = assignment.kam_id
        return accountable

    @property
    def current_plan(self) -> AccountPlan | None:
        return self.plans[-1] if self.plans else None

    def open_balance(self, invoice_id: InvoiceId) -> Money:
        return self._invoice(invoice_id).open_balance

    def total_open_balance(self) -> dict[str, Money]:
        """What the client still owes, per currency (currencies with nothing open left out)."""
        totals: dict[str, Money] = {}
        for invoice in self.invoices.values():
            balance = invoice.open_balance
            if not balance.is_zero:
                currency = balance.currency
                totals[currency] = totals.get(currency, Money.zero(currency)) + balance
        return totals

    def overdue_invoices(self, at: datetime) -> list[AccountInvoice]:
        """Invoices past due at ``at`` with a balance open, earliest due first."""
        moment = require_utc("at", at)
        overdue = [invoice for invoice in self.invoices.values() if invoice.is_overdue(moment)]
        return sorted(overdue, key=lambda invoice: invoice.due_at)

    def open_cases(self) -> list[ClientCase]:
        """Cases not yet resolved, in the order they were opened."""
        return [case for case in self.cases.values() if case.is_open]

    def payments_within(self, period: Period) -> list[AccountPayment]:
        """Payments received within ``period`` (the revenue a target's evaluation counts)."""
        _check_period(period)
        return [p for p in self.payments.values() if period.contains(p.received_at)]

    def revenue_within(self, period: Period) -> dict[str, Money]:
        """The payments received within ``period`` summed per currency."""
        totals: dict[str, Money] = {}
        for payment in self.payments_within(period):
            currency = payment.amount.currency
            totals[currency] = totals.get(currency, Money.zero(currency)) + payment.amount
        return totals

    def mean_satisfaction(self, period: Period) -> Decimal | None:
        """The mean survey score within ``period``; None when nobody was surveyed."""
        _check_period(period)
        scores = [s.score for s in self.surveys if period.contains(s.surveyed_at)]
        if not scores:
            return None
        return sum(scores, Decimal(0)) / len(scores)

    def acknowledged_share(
        self,
        within: timedelta | Mapping[Severity, timedelta],
        period: Period | None = None,
        *,
        at: datetime | None = None,
    ) -> Percentage | None:
        """The share of cases acknowledged within ``within`` of being opened (one window, or one
        per severity), as known at ``at`` (default: the account's last recorded change).

        Counted are the cases opened within ``period`` (default: all) that had either been
        acknowledged by ``at`` or whose window had closed by then; a case still inside its window
        is not counted yet. None when no case counts.
        """
        windows = _check_windows(within)
        if period is not None:
            _check_period(period)
        moment = self.modified_on if at is None else require_utc("at", at)
        counted = on_time = 0
        for case in self.cases.values():
            if case.opened_at > moment or (
                period is not None and not period.contains(case.opened_at)
            ):
                continue
            deadline = case.opened_at + windows(case.severity)
            acknowledged = case.acknowledged_at
            if acknowledged is not None and acknowledged <= moment:
                counted += 1
                if acknowledged <= deadline:
                    on_time += 1
            elif deadline < moment:
                counted += 1
        if not counted:
            return None
        return Percentage(Decimal(on_time * 100) / Decimal(counted))

    # -- helpers -----------------------------------------------------------------------------------

    def _check_actor(self, meta: Meta, by: object, *roles: Role) -> Credentials:
        """The acting member is active, holds one of ``roles`` and is on this account's team."""
        _check_credentials("actor", by)
        assert isinstance(by, Credentials)
        by.require_role("actor", *roles)
        self._check_team("actor", by)
        return by

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
        _check_credentials(field, party)
        assert isinstance(party, Credentials)
        party.require_role(field, *roles)
        self._check_team(field, party)

    def _check_team(self, field: str, member: Credentials) -> None:
        if member.team_id != self.team_id:
            msg = f"{field}: {member.name} is not on the team of account {self.name!r}"
            raise NotOnTeam(msg)

    def _check_director_or_account_kam(self, meta: Meta, by: Credentials) -> None:
        self._check_actor(meta, by, *_DIRECTORS, _KAM)
        if by.role is _KAM and by.member_id != self.kam_id:
            msg = f"actor: {by.name} is not the accountable KAM of {self.name!r}"
            raise NotAssignedToAccount(msg)

    def _check_plan(
        self,
        meta: Meta,
        by: Credentials,
        supervisor: Credentials,
        client_goals: str,
        execution_plan: str,
    ) -> tuple[str, str]:
        self._check_actor(meta, by, _KAM)
        if self.kam_id is None:
            msg = f"actor: {self.name!r} has no accountable KAM to agree a plan"
            raise NoAccountableManager(msg)
        if by.member_id != self.kam_id:
            msg = f"actor: {by.name} is not the accountable KAM of {self.name!r}"
            raise NotAssignedToAccount(msg)
        _check_credentials("supervisor", supervisor)
        if by.supervisor_id is None:
            raise SupervisorRequired(f"supervisor: {by.name} has no supervisor recorded")
        if supervisor.member_id != by.supervisor_id:
            msg = f"supervisor: {supervisor.name} is not the recorded supervisor of {by.name}"
            raise SupervisorRequired(msg)
        supervisor.require_active("supervisor")
        self._check_team("supervisor", supervisor)
        goals = require_text("client_goals", client_goals, max_length=_LONG_TEXT)
        plan = require_text("execution_plan", execution_plan, max_length=_LONG_TEXT)
        return goals, plan

    def _require_key(self) -> None:
        if self.tier is None:
            raise AccountNotKey(f"account_id: {self.name!r} is not designated a key account")

    def _check_billable(self, agreement_id: AgreementId, amount: Money) -> None:
        agreement = self.agreements.get(agreement_id) if isinstance(agreement_id, UUID) else None
        if agreement is None:
            raise AgreementNotFound("agreement_id", agreement_id)
        if amount.currency != agreement.value.currency:
            msg = f"agreement {agreement.number} is in {agreement.value.currency}"
            raise CurrencyMismatch("amount", msg)
        invoiced = sum(
            (i.amount for i in self.invoices.values() if i.agreement_id == agreement_id),
            Money.zero(amount.currency),
        )
        if invoiced + amount > agreement.value:
            msg = (
                f"amount: {amount} on top of {invoiced} invoiced exceeds agreement "
                f"{agreement.number}'s value {agreement.value}"
            )
            raise AgreementValueExceeded(msg)

    def _invoice(self, invoice_id: object) -> AccountInvoice:
        invoice = self.invoices.get(InvoiceId(invoice_id)) if isinstance(invoice_id, UUID) else None
        if invoice is None:
            raise InvoiceNotFound("invoice_id", invoice_id)
        return invoice

    def _case(self, case_id: object) -> ClientCase:
        case = self.cases.get(CaseId(case_id)) if isinstance(case_id, UUID) else None
        if case is None:
            raise CaseNotFound("case_id", case_id)
        return case

    def _change_case(self, case_id: CaseId, **changes: Any) -> None:
        self.cases[case_id] = attrs.evolve(self.cases[case_id], **changes)


def _check_credentials(field: str, value: object) -> None:
    if not isinstance(value, Credentials):
        raise ValidationError(field, f"must be Credentials, not {type(value).__name__}")


def _check_id(field: str, value: object) -> None:
    if not isinstance(value, UUID):
        raise ValidationError(field, f"must be a UUID, not {value!r}")


def _check_period(period: object) -> None:
    if not isinstance(period, Period):
        raise ValidationError("period", f"must be a Period, not {period!r}")


#: The highest escalation level a case may reach (each level hands it one rank up).
MAX_ESCALATION_LEVEL = 100


def _positive(field: str, value: object) -> Money:
    return require_amount(field, value, positive=True)


def _check_strategies(strategies: object) -> AccountStrategies:
    if not isinstance(strategies, AccountStrategies):
        msg = f"must be AccountStrategies, not {type(strategies).__name__}"
        raise ValidationError("strategies", msg)
    texts = {
        name: require_text(f"strategies.{name}", getattr(strategies, name), max_length=_LONG_TEXT)
        for name in ("market", "client", "marketing", "competitive")
    }
    return AccountStrategies(**texts)


def _check_schedule(schedule: object, value: Money) -> tuple[PaymentInstallment, ...]:
    if isinstance(schedule, str | bytes) or not isinstance(schedule, Iterable):
        raise ValidationError("schedule", "must be a sequence of PaymentInstallment")
    installments: list[PaymentInstallment] = []
    for number, item in enumerate(schedule, start=1):
        if not isinstance(item, PaymentInstallment):
            msg = f"installment {number} must be a PaymentInstallment, not {type(item).__name__}"
            raise ValidationError("schedule", msg)
        due_at = require_utc("schedule", item.due_at)
        amount = _positive("schedule", item.amount)
        if amount.currency != value.currency:
            msg = f"installment {number} is in {amount.currency}, the value in {value.currency}"
            raise CurrencyMismatch("schedule", msg)
        if installments and due_at <= installments[-1].due_at:
            msg = f"installment {number} must fall due after installment {number - 1}"
            raise ValidationError("schedule", msg)
        installments.append(PaymentInstallment(due_at, amount))
    if not installments:
        raise ValidationError("schedule", "needs at least one installment")
    total = sum((i.amount for i in installments), Money.zero(value.currency))
    if total != value:
        raise ValidationError("schedule", f"installments add up to {total}, not {value}")
    return tuple(installments)


def _check_windows(within: object) -> Callable[[Severity], timedelta]:
    """A function from severity to its acknowledgement window."""
    if isinstance(within, timedelta):
        if within < timedelta(0):
            raise ValidationError("within", "must not be negative")
        window = within
        return lambda _severity: window
    if not isinstance(within, Mapping):
        raise ValidationError("within", "must be a timedelta or a timedelta per Severity")
    windows: dict[Severity, timedelta] = {}
    for severity in Severity:
        chosen = within.get(severity)
        if not isinstance(chosen, timedelta) or chosen < timedelta(0):
            raise ValidationError("within", f"needs a window ≥ 0 for {severity.value} cases")
        windows[severity] = chosen
    return windows.__getitem__
