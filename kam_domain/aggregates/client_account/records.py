"""The records a client account holds: its strategies, the assignment history, the account plan,
needs, contacts and competitor intelligence, agreements, invoices, payments, cases and surveys."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs

from kam_domain.transcoding import transcoded
from kam_domain.values import (
    AgreementId,
    CaseId,
    CaseKind,
    ContactId,
    InvoiceId,
    MemberId,
    Money,
    Severity,
)


class ContactInfluence(enum.Enum):
    """How much a client contact weighs in the client's decisions."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class RelationshipStrength(enum.Enum):
    """How strong our relationship with a client contact is, as the team judges it: what the
    relationship map is kept for (the seed asks admin staff to maintain client-executive
    relationships; a KAM needs to know which of a client's decision-makers they can reach).

    ``UNASSESSED``: nobody has judged it. Contacts recorded before the strength was recorded
    (``ContactAdded`` version 1) read as this: the record never said, and the library does not
    guess.
    """

    UNASSESSED = "unassessed"
    WEAK = "weak"
    MODERATE = "moderate"
    STRONG = "strong"


class CaseStatus(enum.Enum):
    """Where a client case stands: open → acknowledged → resolved."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


transcoded(ContactInfluence)
transcoded(RelationshipStrength)
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
    """A person at the client on the relationship map, who on our side owns the relation, and
    how strong it is.

    ``relationship_strength`` has a default because contacts stored before it existed (in
    snapshots of a client account's version 1 state) hold none: they read as unassessed.

    ``assessed_by`` and ``assessed_at``: who last judged the strength after the contact was
    added, and when (``ContactRelationshipAssessed``); None while the strength is the one the
    contact was added with. Only the latest judgement is kept here, so a contact does not grow
    with every review: each earlier one, with its note, is in the account's history. Contacts
    stored before (client account state version 2) hold neither and read as None.
    """

    contact_id: ContactId
    name: str
    title: str
    influence: ContactInfluence
    owner_id: MemberId
    added_at: datetime
    relationship_strength: RelationshipStrength = RelationshipStrength.UNASSESSED
    assessed_by: MemberId | None = None
    assessed_at: datetime | None = None


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
    """A signed agreement, its payment schedule, what has been invoiced under it, and when it
    was billed to its value (then it leaves the account after the retention window).

    ``invoiced`` and ``fully_billed_at`` have defaults because agreements stored before them
    (client account state version 3) hold neither; the state's upcaster sets them from the
    invoices the snapshot holds.
    """

    agreement_id: AgreementId
    number: str
    value: Money
    schedule: tuple[PaymentInstallment, ...] = attrs.field(converter=_as_tuple)
    representative_id: MemberId
    signed_at: datetime
    invoiced: Money = attrs.field(
        default=attrs.Factory(lambda self: Money.zero(self.value.currency), takes_self=True)
    )
    fully_billed_at: datetime | None = None


@transcoded
@attrs.frozen
class AccountInvoice:
    """An invoice, what has been paid on it, when it was flagged overdue (if it was) and when
    it was paid in full (then it leaves the account after the retention window).

    ``settled_at`` has a default because invoices stored before it (client account state
    version 3) hold none; the state's upcaster sets it for those paid in full.
    """

    invoice_id: InvoiceId
    agreement_id: AgreementId | None
    amount: Money
    issued_at: datetime
    due_at: datetime
    paid: Money
    overdue_flagged_at: datetime | None = None
    settled_at: datetime | None = None

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
