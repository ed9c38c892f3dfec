"""Discount approval (授权范围): each discount request is approved within the requester's own
authority, routed up to the first role whose authority in force covers it, or rejected.

Registered, and recorded in every decision, as ``price_approval`` (its name since version 1).
The rules every decision must meet, whoever decides, are the project's
(:mod:`kam_domain.aggregates.project.discounts`); the authority each member holds when is the
team's (:mod:`kam_domain.aggregates.team.discount_authority`). This policy chooses among them.

The rule, weighed at the moment the request was made:

1. The price after the discount may not fall below the band's floor (the project refuses such
   requests already; checked again in case the band changed before the decision): reject.
2. If the margin left after confirmed third-party costs and recorded costs would fall under the
   project's minimum, only a sales director (either grade) may approve.
3. If the requester holds an approver role and their own authority covers the percentage, the
   policy approves on the strength of that authority — unless rule 2 asks for a sales director
   and the requester is not one.
4. Otherwise the request goes up the route project director → sales director → senior sales
   director, to the first role in which some active member holds an authority in force that
   covers it; a person of that role then decides by hand (never the requester: the project
   refuses self-approval). The route starts at the sales director under rule 2, and never below
   the requester's own role: a request does not go down the hierarchy.
5. When no role on the route covers it, the request is rejected.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

import attrs

from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.project import Project
from kam_domain.aggregates.team import APPROVER_ROLES, Team
from kam_domain.errors import TeamNotFound
from kam_domain.policies.base import Action, ActionContext, Decision, Policy
from kam_domain.policies.world import World
from kam_domain.values import DiscountRequestId, MemberId, Percentage, Role, TeamId

__all__ = [
    "ROUTE",
    "ApproveDiscount",
    "DiscountApprovalPolicy",
    "EscalateDiscount",
    "RejectDiscount",
]

#: The approver roles a request climbs, lowest first.
ROUTE = (Role.PROJECT_DIRECTOR, Role.SALES_DIRECTOR, Role.SENIOR_SALES_DIRECTOR)


def _project(aggregate: object) -> Project:
    if not isinstance(aggregate, Project):
        raise TypeError(f"a discount decision applies to a Project, not {aggregate!r}")
    return aggregate


@attrs.frozen
class ApproveDiscount(Action):
    """Approve the request on the authority of ``approver_id`` (the requester's own)."""

    aggregate_id: UUID
    request_id: DiscountRequestId
    team_id: TeamId
    approver_id: MemberId

    def apply(self, aggregate: Any, meta: Meta, context: ActionContext) -> None:
        # The authority must still be in force when the approval takes effect.
        approver = context.credentials(self.team_id, self.approver_id, meta.at)
        _project(aggregate).approve_discount(meta, approver, self.request_id)

    def describe(self) -> str:
        return (
            f"approve discount request {self.request_id} of project {self.aggregate_id}"
            f" on the authority of member {self.approver_id}"
        )


@attrs.frozen
class EscalateDiscount(Action):
    """Route the request up to ``to_role``, whose members decide by hand."""

    aggregate_id: UUID
    request_id: DiscountRequestId
    to_role: Role
    reason: str

    def apply(self, aggregate: Any, meta: Meta, context: ActionContext) -> None:
        _project(aggregate).escalate_discount(
            meta, None, self.request_id, to_role=self.to_role, reason=self.reason
        )

    def describe(self) -> str:
        return (
            f"escalate discount request {self.request_id} of project {self.aggregate_id}"
            f" to {self.to_role.value}"
        )


@attrs.frozen
class RejectDiscount(Action):
    """Reject the request."""

    aggregate_id: UUID
    request_id: DiscountRequestId
    reason: str

    def apply(self, aggregate: Any, meta: Meta, context: ActionContext) -> None:
        _project(aggregate).reject_discount(meta, None, self.request_id, reason=self.reason)

    def describe(self) -> str:
        return f"reject discount request {self.request_id} of project {self.aggregate_id}"


def _widest(team: Team, role: Role, at: datetime) -> Percentage | None:
    """The widest authority in force at ``at`` among the active members of ``role``."""
    held = (team.credentials(m.member_id, at).discount_authority for m in team.active_members(role))
    return max((authority for authority in held if authority is not None), default=None)


def _covers(authority: Percentage | None, percentage: Percentage) -> bool:
    return authority is not None and percentage <= authority


def _held(authority: Percentage | None) -> str:
    return "none" if authority is None else str(authority)


class DiscountApprovalPolicy(Policy):
    """Approve within the requester's authority, route upward, or reject beyond the top."""

    # Stored in every decision and every setting: never renamed.
    name = "price_approval"
    version = 1
    handles = (Project.DiscountRequested,)
    description = (
        "A discount request is approved within the requester's own authority, otherwise routed to"
        " the first of project director, sales director, senior sales director whose authority"
        " covers it, and rejected beyond the top; never below the floor; a margin under the"
        " project's minimum needs a sales director."
    )
    parameters: ClassVar[dict[str, Any]] = {}

    def decide(self, event: Any, world: World) -> Decision | None:
        project = world.get(event.originator_id, Project)
        if project is None or project.is_closed:
            return None
        request = project.discount_requests.get(event.request_id)
        # Decided or routed already (by hand, or by this policy before a retry): nothing to do.
        if request is None or not request.is_pending or request.escalated_to is not None:
            return None
        team = world.team(project.team_id)
        if team is None:
            raise TeamNotFound("team_id", project.team_id)

        at = request.requested_at
        percentage = request.percentage
        requester = team.credentials(request.requester_id, at)
        widest = {role: _widest(team, role, at) for role in ROUTE}
        inputs: dict[str, object] = {
            "request": request.request_id,
            "requested_at": at,
            "requester": f"{requester.name} ({requester.member_id}), {requester.role.value}",
            "requester_authority": _held(requester.discount_authority),
            "percentage": percentage,
        }
        inputs.update({f"authority {role.value}": _held(widest[role]) for role in ROUTE})

        def reject(reason: str) -> Decision:
            action = RejectDiscount(project.id, request.request_id, reason)
            return Decision("reject", reason, inputs, (action,))

        if not project.pricing_open:
            return reject(f"pricing closed: the project is {project.status.value}")
        band = project.price_band
        if band is None:
            return reject("the project has no price band")
        price = band.price_after(percentage)
        inputs.update(list_price=band.list_price, price=price, floor=band.floor)
        if price < band.floor:
            return reject(f"the price {price} after {percentage} is below the floor {band.floor}")

        margin = project.margin_at(price)
        minimum = project.minimum_margin
        short = margin < minimum.value
        inputs.update(margin=_percent(margin), minimum_margin=minimum)
        margin_note = (
            f"the margin after costs, {_percent(margin)}, is under the minimum {minimum}"
            if short
            else f"the margin after costs, {_percent(margin)}, meets the minimum {minimum}"
        )

        own = requester.role in APPROVER_ROLES and requester.covers(percentage)
        if own and (not short or requester.role.is_director):
            reason = (
                f"{percentage} is within {requester.name}'s own authority of"
                f" {requester.discount_authority}; {margin_note}"
            )
            approval = ApproveDiscount(
                project.id, request.request_id, TeamId(team.id), requester.member_id
            )
            return Decision("approve", reason, inputs, (approval,))

        route = _route(requester.role, short)
        inputs["route"] = [role.value for role in route]
        why = (
            f"{margin_note}, so a sales director must approve"
            if short and own
            else f"{percentage} is beyond {requester.name}'s authority"
            f" ({_held(requester.discount_authority)}); {margin_note}"
        )
        for role in route:
            if _covers(widest[role], percentage):
                reason = f"{why}; the first role whose authority covers it: {role.label}"
                escalation = EscalateDiscount(project.id, request.request_id, role, reason)
                return Decision(f"escalate {role.value}", reason, inputs, (escalation,))
        labels = ", ".join(role.label for role in route)
        return reject(f"{why}; no active {labels} holds an authority covering {percentage}")


def _route(requester: Role, margin_short: bool) -> tuple[Role, ...]:
    """The roles the request may go to: from the sales director when the margin is short, and
    never below the requester's own role."""
    start = ROUTE.index(Role.SALES_DIRECTOR) if margin_short else 0
    if requester in ROUTE:
        start = max(start, ROUTE.index(requester))
    return ROUTE[start:]


def _percent(value: Decimal) -> str:
    return f"{value:.2f}%"
