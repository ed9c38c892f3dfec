"""Agreements, invoices and payments: an agreement's payment schedule adds up to its value, an
agreement is never billed beyond it, a payment never exceeds what is open on its invoice, and
an unpaid invoice past due is flagged overdue once. Payments received place revenue in time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

import attrs

from kam_domain.aggregates.base import KamAggregate, Meta, require_id, require_text, require_utc
from kam_domain.aggregates.client_account.guards import (
    AccountGuards,
    check_period,
    require_positive,
)
from kam_domain.aggregates.client_account.records import (
    AccountAgreement,
    AccountInvoice,
    AccountPayment,
    PaymentInstallment,
)
from kam_domain.aggregates.client_account.roles import BILLING_ROLES, COLLECTION_ROLES, REP
from kam_domain.aggregates.credentials import Credentials
from kam_domain.errors import (
    AgreementNotFound,
    AgreementValueExceeded,
    AlreadyExists,
    CurrencyMismatch,
    InvalidTransition,
    InvoiceNotFound,
    NotAssignedToAccount,
    PaymentExceedsBalance,
    ValidationError,
)
from kam_domain.values import AgreementId, InvoiceId, MemberId, Money, Period

if TYPE_CHECKING:
    from kam_domain.aggregates.client_account import ClientAccount


class Billing(AccountGuards):
    """Agreements, invoices, payments and overdue invoices."""

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
            account._retire(self.timestamp)

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
            agreement = None
            if self.agreement_id is not None:
                agreement = account.agreements.get(self.agreement_id)
            if agreement is not None:
                invoiced = agreement.invoiced + self.amount
                billed = self.timestamp if invoiced == agreement.value else None
                account.agreements[agreement.agreement_id] = attrs.evolve(
                    agreement, invoiced=invoiced, fully_billed_at=billed
                )
                if billed is not None:
                    account._over_at(billed)
            account._retire(self.timestamp)

    class PaymentReceived(KamAggregate.Event):
        payment_id: UUID
        invoice_id: InvoiceId
        amount: Money

        def apply(self, account: ClientAccount) -> None:
            invoice = account.invoices[self.invoice_id]
            paid = invoice.paid + self.amount
            settled = self.timestamp if paid == invoice.amount else None
            account.invoices[self.invoice_id] = attrs.evolve(invoice, paid=paid, settled_at=settled)
            account.payments[self.payment_id] = AccountPayment(
                self.payment_id, self.invoice_id, self.amount, self.timestamp
            )
            account._over_at(self.timestamp)
            account._retire(self.timestamp)

    class PaymentOverdue(KamAggregate.Event):
        invoice_id: InvoiceId
        due_at: datetime
        open_balance: Money

        def apply(self, account: ClientAccount) -> None:
            invoice = account.invoices[self.invoice_id]
            account.invoices[self.invoice_id] = attrs.evolve(
                invoice, overdue_flagged_at=self.timestamp
            )
            account._retire(self.timestamp)

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
        self._check_actor(meta, by, REP)
        if self.representative_id is not None and by.member_id != self.representative_id:
            msg = f"actor: {by.name} is not the representative assigned to this account"
            raise NotAssignedToAccount(msg)
        require_id("agreement_id", agreement_id)
        number = require_text("number", number, max_length=100)
        value = require_positive("value", value)
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
        require_id("invoice_id", invoice_id)
        amount = require_positive("amount", amount)
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
        require_id("payment_id", payment_id)
        amount = require_positive("amount", amount)
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

    # -- queries -----------------------------------------------------------------------------------

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

    def payments_within(self, period: Period) -> list[AccountPayment]:
        """Payments received within ``period`` that the account still holds: those of the
        retention window (a target's evaluation counts revenue from the events)."""
        check_period(period)
        return [p for p in self.payments.values() if period.contains(p.received_at)]

    def revenue_within(self, period: Period) -> dict[str, Money]:
        """The payments received within ``period`` summed per currency (as held: see
        :meth:`payments_within`)."""
        totals: dict[str, Money] = {}
        for payment in self.payments_within(period):
            currency = payment.amount.currency
            totals[currency] = totals.get(currency, Money.zero(currency)) + payment.amount
        return totals

    # -- helpers -----------------------------------------------------------------------------------

    def _check_billable(self, agreement_id: AgreementId, amount: Money) -> None:
        agreement = self.agreements.get(agreement_id) if isinstance(agreement_id, UUID) else None
        if agreement is None:
            raise AgreementNotFound("agreement_id", agreement_id)
        if amount.currency != agreement.value.currency:
            msg = f"agreement {agreement.number} is in {agreement.value.currency}"
            raise CurrencyMismatch("amount", msg)
        # Kept on the agreement: its invoices paid in full leave the account after the window.
        invoiced = agreement.invoiced
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


def _check_schedule(schedule: object, value: Money) -> tuple[PaymentInstallment, ...]:
    if isinstance(schedule, str | bytes) or not isinstance(schedule, Iterable):
        raise ValidationError("schedule", "must be a sequence of PaymentInstallment")
    installments: list[PaymentInstallment] = []
    for number, item in enumerate(schedule, start=1):
        if not isinstance(item, PaymentInstallment):
            msg = f"installment {number} must be a PaymentInstallment, not {type(item).__name__}"
            raise ValidationError("schedule", msg)
        due_at = require_utc("schedule", item.due_at)
        amount = require_positive("schedule", item.amount)
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
