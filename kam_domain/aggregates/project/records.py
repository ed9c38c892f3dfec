"""The records a project holds: assessments, proposals, the contract, the implementation plan,
risks, the price band, discount requests and their decisions, vendors' quotes, costs and
revenue, and the profit and loss (总损益) they add up to."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.project.enums import (
    DiscountOutcome,
    FeasibilityVerdict,
    ProjectMilestone,
)
from kam_domain.transcoding import transcoded
from kam_domain.values import (
    DiscountRequestId,
    MemberId,
    Money,
    Percentage,
    QuoteId,
    RiskId,
    Role,
    Severity,
)

#: Percentages of amounts: margins and discount depths.
HUNDRED = Decimal(100)


def _as_tuple(values: Iterable[Any]) -> tuple[Any, ...]:
    """JSON gives lists back; records keep the tuples they were built with."""
    return tuple(values)


@transcoded
@attrs.frozen
class FeasibilityAssessment:
    """The project director's verdict on whether (and how) the project can be delivered."""

    verdict: FeasibilityVerdict
    value_positioning: str
    risks: tuple[str, ...] = attrs.field(converter=_as_tuple)
    assessed_at: datetime
    assessed_by: MemberId


@transcoded
@attrs.frozen
class ProjectProposal:
    """A proposal or bid as submitted to the client; later revisions supersede earlier ones."""

    revision: int
    amount: Money
    summary: str
    submitted_at: datetime
    submitted_by: MemberId


@transcoded
@attrs.frozen
class ProjectContract:
    value: Money
    signed_at: datetime
    signed_by: MemberId


@transcoded
@attrs.frozen
class PlannedMilestone:
    name: str
    due: datetime


@transcoded
@attrs.frozen
class ImplementationPlan:
    milestones: tuple[PlannedMilestone, ...] = attrs.field(converter=_as_tuple)
    headcount: int
    planned_at: datetime
    planned_by: MemberId


@transcoded
@attrs.frozen
class ReachedMilestone:
    milestone: ProjectMilestone
    reached_at: datetime
    reached_by: MemberId


@transcoded
@attrs.frozen
class ProjectRisk:
    risk_id: RiskId
    description: str
    severity: Severity
    identified_at: datetime
    identified_by: MemberId
    closed_at: datetime | None = None
    resolution: str | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@transcoded
@attrs.frozen
class PriceBand:
    """The list price and the floor no discount may go below, in the project's currency."""

    list_price: Money
    floor: Money
    set_at: datetime
    set_by: MemberId

    def price_after(self, discount: Percentage) -> Money:
        """The list price less ``discount``."""
        return self.list_price * (1 - discount.fraction)


@transcoded
@attrs.frozen
class DiscountDecision:
    """How a discount request was decided, by whom, under which authority, by which policy."""

    outcome: DiscountOutcome
    decided_at: datetime
    #: "manual", or the deciding policy's name@version.
    decided_by: str
    #: The deciding member's credentials as the Team held them then (None for a policy alone).
    credentials: Credentials | None
    price: Money | None = None
    margin: Decimal | None = None
    reason: str | None = None


@transcoded
@attrs.frozen
class DiscountRequest:
    request_id: DiscountRequestId
    requester_id: MemberId
    percentage: Percentage
    justification: str
    requested_at: datetime
    #: The price asked for when requested: the list price then, less the percentage.
    price: Money
    escalated_to: Role | None = None
    decision: DiscountDecision | None = None

    @property
    def is_pending(self) -> bool:
        return self.decision is None


@transcoded
@attrs.frozen
class ProcurementQuote:
    """A third-party vendor's price for something the project buys in (第三方采购)."""

    quote_id: QuoteId
    vendor: str
    list_price: Money
    discount: Percentage
    net_cost: Money
    recorded_at: datetime
    recorded_by: MemberId
    confirmed_at: datetime | None = None
    confirmed_by: MemberId | None = None

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


@transcoded
@attrs.frozen
class ProjectLedgerEntry:
    """One recorded cost or revenue of the project."""

    amount: Money
    category: str
    recorded_at: datetime
    recorded_by: MemberId


@attrs.frozen
class ProfitAndLoss:
    """The project's total profit and loss (总损益) at one moment."""

    revenue: Money
    recorded_costs: Money
    procurement_costs: Money

    @property
    def cost(self) -> Money:
        """Recorded costs plus the net cost of every confirmed procurement quote."""
        return self.recorded_costs + self.procurement_costs

    @property
    def profit(self) -> Money:
        return self.revenue - self.cost

    @property
    def margin(self) -> Decimal | None:
        """Profit as a percentage of revenue; None while there is no revenue."""
        if self.revenue.is_zero:
            return None
        return self.profit.amount / self.revenue.amount * HUNDRED
