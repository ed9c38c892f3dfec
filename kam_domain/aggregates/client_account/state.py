"""What a client account holds, as set up when it is registered; its events' ``apply`` methods
change it, and retire what is over once the retention window has passed (see
:mod:`~kam_domain.aggregates.client_account.retention`)."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from typing import ClassVar
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
from kam_domain.aggregates.client_account.retention import (
    RETENTION_DAYS,
    RetiredTotals,
    retention_cutoff,
)
from kam_domain.transcoding import IdMap
from kam_domain.values import (
    AgreementId,
    CaseId,
    ContactId,
    InvoiceId,
    MemberId,
    Money,
    TeamId,
    Tier,
)


class AccountState(CommandFamily):
    """The account's state, shared by every family of its commands.

    Open invoices, open cases, agreements still being billed, the current plan, contacts,
    needs and the whole assignment history (who was accountable on any date: reassignments are
    decisions, few in an account's life) are held for as long as they matter; what is over
    is held for :attr:`retention_days` more and then retired into :attr:`retired` and
    :attr:`retired_cases`.
    """

    #: Days what is over stays after it is over (see the retention module).
    retention_days: ClassVar[int] = RETENTION_DAYS

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
        #: Per currency, the invoices and payments retired after the window.
        self.retired: dict[str, RetiredTotals] = {}
        self.retired_cases = 0
        #: The earliest moment something held became over (None: nothing is over): what
        #: tells an event whether anything is due to retire.
        self.retire_from: datetime | None = None

    @property
    def is_key(self) -> bool:
        return self.tier is not None

    @property
    def accountable_kam(self) -> MemberId | None:
        """The one KAM accountable for the account now (None unless it is a key account)."""
        return self.kam_id

    # -- retiring what is over ---------------------------------------------------------------------

    def _over_at(self, moment: datetime) -> None:
        """Something held became over at ``moment``: it retires once the window has passed."""
        if self.retire_from is None or moment < self.retire_from:
            self.retire_from = moment

    def _retire(self, moment: datetime) -> None:
        """Retire what was over before the window ending at ``moment`` (an event's timestamp).

        Called at the end of every event's ``apply``: what is held depends on the events only.
        """
        if self.retire_from is None:
            return
        cutoff = retention_cutoff(moment, self.retention_days)
        if self.retire_from >= cutoff:
            return
        left: list[datetime] = []
        for invoice_id, invoice in list(self.invoices.items()):
            if invoice.settled_at is None:
                continue
            if invoice.settled_at < cutoff:
                del self.invoices[invoice_id]
                self._retired(invoice.amount.currency, invoice=invoice.amount)
            else:
                left.append(invoice.settled_at)
        for payment_id, payment in list(self.payments.items()):
            if payment.received_at < cutoff:
                del self.payments[payment_id]
                self._retired(payment.amount.currency, payment=payment.amount)
            else:
                left.append(payment.received_at)
        for case_id, case in list(self.cases.items()):
            if case.resolved_at is None:
                continue
            if case.resolved_at < cutoff:
                del self.cases[case_id]
                self.retired_cases += 1
            else:
                left.append(case.resolved_at)
        for agreement_id, agreement in list(self.agreements.items()):
            if agreement.fully_billed_at is None:
                continue
            if agreement.fully_billed_at < cutoff:
                del self.agreements[agreement_id]
            else:
                left.append(agreement.fully_billed_at)
        self.surveys = [s for s in self.surveys if s.surveyed_at >= cutoff]
        left.extend(s.surveyed_at for s in self.surveys)
        self.intelligence = [i for i in self.intelligence if i.recorded_at >= cutoff]
        left.extend(i.recorded_at for i in self.intelligence)
        # A plan is over when the next version is agreed; the current one always stays.
        plans = self.plans
        kept = [p for p, later in pairwise(plans) if later.agreed_at >= cutoff]
        self.plans = [*kept, *plans[-1:]]
        left.extend(later.agreed_at for later in self.plans[1:])
        self.retire_from = min(left, default=None)

    def _retired(
        self, currency: str, *, invoice: Money | None = None, payment: Money | None = None
    ) -> None:
        totals = self.retired.get(currency) or RetiredTotals.none(currency)
        if invoice is not None:
            totals = totals.with_invoice(invoice)
        if payment is not None:
            totals = totals.with_payment(payment)
        self.retired[currency] = totals
