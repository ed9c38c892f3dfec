"""Third-party procurement (第三方采购), costs and revenue, and the project's profit and loss
(总损益): vendors' quotes count once confirmed by someone other than who recorded them."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

import attrs

from kam_domain.aggregates.base import KamAggregate, Meta, require_id, require_text
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.project.guards import ProjectGuards
from kam_domain.aggregates.project.records import (
    HUNDRED,
    ProcurementQuote,
    ProfitAndLoss,
    ProjectLedgerEntry,
)
from kam_domain.errors import AlreadyExists, InvalidTransition, QuoteNotFound, RoleRequired
from kam_domain.values import MemberId, Money, Percentage, QuoteId, Role, require_percentage

if TYPE_CHECKING:
    from kam_domain.aggregates.project import Project

#: Who may record a vendor's quote: the project's people, and finance and admin who buy in.
QUOTE_ROLES = (
    Role.SENIOR_SALES_DIRECTOR,
    Role.SALES_DIRECTOR,
    Role.KEY_ACCOUNT_MANAGER,
    Role.PROJECT_DIRECTOR,
    Role.TECHNICAL_SUPPORT,
    Role.CONSULTANT,
    Role.SENIOR_ADMIN_MANAGER,
    Role.FINANCIAL_PLANNER,
)


class Procurement(ProjectGuards):
    """Vendors' quotes, recorded costs and revenue, and what they add up to."""

    class QuoteRecorded(KamAggregate.Event):
        quote_id: QuoteId
        vendor: str
        list_price: Money
        discount: Percentage
        net_cost: Money
        recorded_by: MemberId

        def apply(self, project: Project) -> None:
            project.quotes[self.quote_id] = ProcurementQuote(
                self.quote_id,
                self.vendor,
                self.list_price,
                self.discount,
                self.net_cost,
                self.timestamp,
                self.recorded_by,
            )

    class QuoteConfirmed(KamAggregate.Event):
        quote_id: QuoteId
        confirmed_by: MemberId

        def apply(self, project: Project) -> None:
            quote = project.quotes[self.quote_id]
            project.quotes[self.quote_id] = attrs.evolve(
                quote, confirmed_at=self.timestamp, confirmed_by=self.confirmed_by
            )

    class CostRecorded(KamAggregate.Event):
        amount: Money
        category: str
        recorded_by: MemberId

        def apply(self, project: Project) -> None:
            project.costs.append(
                ProjectLedgerEntry(self.amount, self.category, self.timestamp, self.recorded_by)
            )

    class RevenueRecorded(KamAggregate.Event):
        amount: Money
        category: str
        recorded_by: MemberId

        def apply(self, project: Project) -> None:
            project.revenues.append(
                ProjectLedgerEntry(self.amount, self.category, self.timestamp, self.recorded_by)
            )

    def record_quote(
        self,
        meta: Meta,
        by: Credentials,
        quote_id: QuoteId,
        *,
        vendor: str,
        list_price: Money,
        discount: Percentage,
    ) -> None:
        """Record a third-party vendor's quote; its net cost counts once it is confirmed."""
        self._require_open()
        self._require_member("actor", meta, by)
        by.require_role("actor", *QUOTE_ROLES)
        require_id("quote_id", quote_id)
        vendor = require_text("vendor", vendor)
        list_price = self._money("list_price", list_price)
        require_percentage("discount", discount)
        if quote_id in self.quotes:
            raise AlreadyExists(f"quote_id: {quote_id} was already recorded")
        self._record(
            self.QuoteRecorded,
            meta,
            quote_id=quote_id,
            vendor=vendor,
            list_price=list_price,
            discount=discount,
            net_cost=list_price * (1 - discount.fraction),
            recorded_by=by.member_id,
        )

    def confirm_quote(self, meta: Meta, by: Credentials, quote_id: QuoteId) -> None:
        """The project director (or a sales director) confirms a quote someone else recorded."""
        self._require_open()
        self._require_project_director("actor", meta, by, or_director=True)
        quote = self._quote(quote_id)
        if quote.is_confirmed:
            raise InvalidTransition(f"quote_id: {quote_id} was already confirmed")
        by.require_not("actor", quote.recorded_by)
        self._record(self.QuoteConfirmed, meta, quote_id=quote_id, confirmed_by=by.member_id)

    def record_cost(self, meta: Meta, by: Credentials, *, amount: Money, category: str) -> None:
        """The financial planner or the project director records a cost."""
        self._require_ledger("actor", meta, by)
        amount = self._money("amount", amount)
        category = require_text("category", category)
        self._require_open()
        self._record(
            self.CostRecorded, meta, amount=amount, category=category, recorded_by=by.member_id
        )

    def record_revenue(self, meta: Meta, by: Credentials, *, amount: Money, category: str) -> None:
        """The financial planner or the project director records revenue."""
        self._require_ledger("actor", meta, by)
        amount = self._money("amount", amount)
        category = require_text("category", category)
        self._require_open()
        self._record(
            self.RevenueRecorded, meta, amount=amount, category=category, recorded_by=by.member_id
        )

    # -- queries -----------------------------------------------------------------------------------

    def profit_and_loss(self) -> ProfitAndLoss:
        zero = Money.zero(self.currency)
        return ProfitAndLoss(
            revenue=sum((entry.amount for entry in self.revenues), zero),
            recorded_costs=sum((entry.amount for entry in self.costs), zero),
            procurement_costs=self.procurement_cost(),
        )

    def procurement_cost(self) -> Money:
        """The net cost of every confirmed third-party quote."""
        confirmed = (q.net_cost for q in self.quotes.values() if q.is_confirmed)
        return sum(confirmed, Money.zero(self.currency))

    def margin_at(self, price: Money) -> Decimal:
        """The margin (%) at ``price`` after confirmed third-party and recorded costs."""
        recorded = sum((entry.amount for entry in self.costs), Money.zero(self.currency))
        left = price - self.procurement_cost() - recorded
        return left.amount / price.amount * HUNDRED

    # -- helpers -----------------------------------------------------------------------------------

    def _require_ledger(self, field: str, meta: Meta, by: Credentials) -> None:
        self._require_member(field, meta, by)
        if not (self._leads(by) or by.role is Role.FINANCIAL_PLANNER):
            msg = f"{field}: {by.name} is neither this project's director nor a financial planner"
            raise RoleRequired(msg)

    def _quote(self, quote_id: QuoteId) -> ProcurementQuote:
        quote = self.quotes.get(quote_id) if isinstance(quote_id, UUID) else None
        if quote is None:
            raise QuoteNotFound("quote_id", quote_id)
        return quote
