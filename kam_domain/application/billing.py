"""Billing commands and queries of the facade: agreements, invoices, payments, overdue invoices."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

import attrs

from kam_domain.aggregates.base import require_utc
from kam_domain.aggregates.client_account import (
    AccountInvoice,
    PaymentInstallment,
)
from kam_domain.application.accounts import AccountCommands
from kam_domain.values import (
    AccountId,
    Actor,
    AgreementId,
    InvoiceId,
    Money,
)

__all__ = ["BillingCommands", "OverdueInvoice"]


@attrs.frozen
class OverdueInvoice:
    """An invoice past due with a balance open, and the account it belongs to."""

    account_id: AccountId
    account_name: str
    invoice: AccountInvoice

    @property
    def open_balance(self) -> Money:
        return self.invoice.open_balance


class BillingCommands(AccountCommands):
    """An account's agreements, invoices and payments."""

    def sign_agreement(
        self,
        account_id: UUID,
        actor: UUID,
        *,
        number: str,
        value: Money,
        schedule: Iterable[PaymentInstallment],
        agreement_id: UUID | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> AgreementId:
        """A representative signs an agreement with its payment schedule."""
        account, _, meta, by = self._account_context(account_id, actor, at, correlation_id)
        aid = AgreementId(self._new("agreement_id", agreement_id, check_store=False))
        account.sign_agreement(meta, by, aid, number=number, value=value, schedule=schedule)
        self._commit(account)
        return aid

    def issue_invoice(
        self,
        account_id: UUID,
        actor: UUID,
        *,
        amount: Money,
        due_at: datetime,
        agreement_id: UUID | None = None,
        invoice_id: UUID | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> InvoiceId:
        account, _, meta, by = self._account_context(account_id, actor, at, correlation_id)
        iid = InvoiceId(self._new("invoice_id", invoice_id, check_store=False))
        agreement = None if agreement_id is None else AgreementId(agreement_id)
        account.issue_invoice(meta, by, iid, amount=amount, due_at=due_at, agreement_id=agreement)
        self._commit(account)
        return iid

    def record_payment(
        self,
        account_id: UUID,
        actor: UUID,
        invoice_id: UUID,
        *,
        amount: Money,
        payment_id: UUID | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> UUID:
        """Book a payment received on an invoice; ``at`` is when it was received."""
        account, _, meta, by = self._account_context(account_id, actor, at, correlation_id)
        pid = self._new("payment_id", payment_id, check_store=False)
        account.receive_payment(meta, by, pid, InvoiceId(invoice_id), amount=amount)
        self._commit(account)
        return pid

    def flag_overdue(
        self,
        account_id: UUID,
        actor: UUID | Actor,
        invoice_id: UUID,
        *,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """Flag an invoice past due at ``at``: by a member, or by a policy or system actor."""
        account, _, meta, by = self._account_decision(account_id, actor, at, correlation_id)
        account.flag_overdue(meta, by, InvoiceId(invoice_id))
        self._commit(account)

    # -- queries -------------------------------------------------------------------------------

    def overdue_invoices(self, team_id: UUID, at: datetime) -> list[OverdueInvoice]:
        """The team's invoices past due at ``at`` with a balance open, the earliest due first."""
        moment = require_utc("at", at)
        found = [
            OverdueInvoice(AccountId(account.id), account.name, invoice)
            for account in self.accounts(team_id)
            for invoice in account.overdue_invoices(moment)
        ]
        return sorted(found, key=lambda item: item.invoice.due_at)
