"""Strategic accounts: a discount above a threshold needs a sales director (or higher).

A third party's policy: it reacts to the same event as the built-in price-approval policy and,
for the team's strategic accounts, sends a request above ``threshold`` percent up to the sales
directors even where a project director's authority would cover it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

import attrs

from kam_domain import ClientAccount, Project, Role, Tier
from kam_domain.aggregates.base import Meta
from kam_domain.policies import Action, ActionContext, Decision, Policy, World

__all__ = ["EscalateToDirectors", "StrategicDiscounts", "StrategicDiscountsV2"]

RANK = {
    Role.KEY_ACCOUNT_MANAGER: 0,
    Role.PROJECT_DIRECTOR: 1,
    Role.SALES_DIRECTOR: 2,
    Role.SENIOR_SALES_DIRECTOR: 3,
}


@attrs.frozen
class EscalateToDirectors(Action):
    """Route the request up to the sales directors."""

    aggregate_id: Any
    request_id: Any

    def apply(self, aggregate: Any, meta: Meta, context: ActionContext) -> None:
        request = aggregate.discount_requests[self.request_id]
        if request.escalated_to is not None and RANK[request.escalated_to] >= 2:
            return  # already with the directors (the price-approval policy got there first)
        aggregate.escalate_discount(
            meta,
            None,
            self.request_id,
            to_role=Role.SALES_DIRECTOR,
            reason="strategic account: a sales director decides discounts this deep",
        )

    def describe(self) -> str:
        return f"escalate {self.request_id} to sales_director"


class StrategicDiscounts(Policy):
    """Version 1: above 8 % on a strategic account, a sales director decides."""

    name = "strategic_discounts"
    version = 1
    handles = (Project.DiscountRequested,)
    description = "Discounts above a threshold on strategic accounts go to the sales directors."
    parameters: ClassVar[dict[str, Any]] = {"threshold": 8}

    def decide(self, event: Any, world: World) -> Decision | None:
        project = world.get(event.originator_id, Project)
        if project is None:
            return None
        account = world.get(project.account_id, ClientAccount)
        request = project.discount_requests[event.request_id]
        threshold = Decimal(self.settings(world)["threshold"])
        inputs = {
            "account": account.name if account else project.account_id,
            "tier": account.tier.value if account and account.tier else "none",
            "percentage": request.percentage,
            "threshold": f"{threshold}%",
        }
        if account is None or account.tier is not Tier.STRATEGIC:
            return None
        if request.percentage.value <= threshold:
            return None
        return Decision(
            "escalate sales_director",
            f"{request.percentage} on strategic account {account.name} is above {threshold}%",
            inputs,
            [EscalateToDirectors(project.id, request.request_id)],
        )


class StrategicDiscountsV2(StrategicDiscounts):
    """Version 2: stricter — above 5 % by default."""

    version = 2
    parameters: ClassVar[dict[str, Any]] = {"threshold": 5}
