"""The demo's agreements, invoices and payments: every other account signs one, invoiced in two
parts, each paid on time, late or not at all (the collections policy flags the overdue ones)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from kam_domain.aggregates.client_account import PaymentInstallment
from kam_domain.demo.cast import Cast
from kam_domain.demo.timeline import CURRENCY
from kam_domain.values import Money

__all__ = ["AgreementSteps"]


class AgreementSteps(Cast):
    """Agreements signed on the fourth day, their invoices and their payments."""

    def plan_agreements(self) -> None:
        for index, account in enumerate(self.accounts):
            if index % 2:  # every other account signed an agreement this quarter
                continue
            value = Decimal(self.rng.randrange(200, 900) * 1000)
            first = (value * 6 / 10).quantize(Decimal(1))
            parts = (first, value - first)
            dues = (self.at(30, hours=index), self.at(60, hours=index))
            invoices = (self.uuid(), self.uuid())
            # Each invoice is paid on time, late, or not by the quarter's end; the collections
            # policy flags the ones still open past their due date at a tick of the clock.
            fates = self.rng.choices(["on time", "late", "unpaid"], weights=[6, 2, 2], k=2)
            account["invoices"] = list(zip(invoices, parts, dues, fates, strict=True))
            agreement = self.uuid()
            self.step(self.at(3, hours=index), self._sign, account, agreement, value, parts, dues)
            for invoice, amount, due, fate in account["invoices"]:
                issued = due - timedelta(days=25)
                self.step(issued, self._invoice, account, invoice, agreement, amount, due, issued)
                if fate == "on time":
                    paid = due - timedelta(days=self.rng.randrange(1, 10))
                elif fate == "late":
                    paid = due + timedelta(days=self.rng.randrange(3, 20))
                else:
                    continue
                self.step(paid, self._pay, account, invoice, amount, paid, self.uuid())

    def _sign(
        self,
        account: dict[str, Any],
        agreement: UUID,
        value: Decimal,
        parts: tuple[Decimal, Decimal],
        dues: tuple[datetime, datetime],
    ) -> None:
        rep, _, _ = self.crew_of(account)
        schedule = [
            PaymentInstallment(due, Money(part, CURRENCY))
            for part, due in zip(parts, dues, strict=True)
        ]
        self.app.sign_agreement(
            account["id"],
            self.members[rep],
            number=f"KA-2026-{account['name'][:3].upper()}-{agreement.hex[:4]}",
            value=Money(value, CURRENCY),
            schedule=schedule,
            agreement_id=agreement,
            at=self.at(3, hours=self.accounts.index(account)),
        )

    def _invoice(
        self,
        account: dict[str, Any],
        invoice: UUID,
        agreement: UUID,
        amount: Decimal,
        due: datetime,
        issued: datetime,
    ) -> None:
        self.app.issue_invoice(
            account["id"],
            self.members["finance"],
            amount=Money(amount, CURRENCY),
            due_at=due,
            agreement_id=agreement,
            invoice_id=invoice,
            at=issued,
        )

    def _pay(
        self, account: dict[str, Any], invoice: UUID, amount: Decimal, when: datetime, paid: UUID
    ) -> None:
        self.app.record_payment(
            account["id"],
            self.members["finance"],
            invoice,
            amount=Money(amount, CURRENCY),
            payment_id=paid,
            at=when,
        )
