"""Discount approval within authority (授权范围), as the project enforces it: the price band and
its floor, the minimum margin, and a discount request's life from request to approval,
escalation or rejection.

The rules every decision meets, whoever decides (a member by hand, or the discount-approval policy
in :mod:`kam_domain.policies.discount_approval`, which chooses among them):

- the band's floor lies below the list price by no more than the setter's own authority;
- anyone who may approve, and the representatives who negotiate, may ask for a discount; the
  price after it never goes below the floor;
- an approver's authority in force at that moment covers the percentage; nobody approves their
  own request (a policy may, on the strength of the requester's own authority); once escalated,
  only the role escalated to or a higher one decides;
- a margin under the project's minimum (after confirmed third-party and recorded costs) needs a
  sales director;
- pricing closes when the contract is signed or lost; a stale request can still be rejected.

Who holds which authority when is the Team's (:mod:`kam_domain.aggregates.team.authority`);
the credentials a command is handed carry it."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

import attrs

from kam_domain.aggregates.base import KamAggregate, Meta, require_id, require_text
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.project.enums import DiscountOutcome
from kam_domain.aggregates.project.procurement import Procurement
from kam_domain.aggregates.project.records import (
    HUNDRED,
    DiscountDecision,
    DiscountRequest,
    PriceBand,
)
from kam_domain.aggregates.team import APPROVER_ROLES, OnBehalf
from kam_domain.errors import (
    AlreadyDecided,
    AlreadyExists,
    DiscountRequestNotFound,
    InvalidTransition,
    MarginBelowMinimum,
    PriceBelowFloor,
    RoleRequired,
    ValidationError,
)
from kam_domain.values import (
    ActorKind,
    DiscountRequestId,
    MemberId,
    Money,
    Percentage,
    Role,
    require_percentage,
)

if TYPE_CHECKING:
    from kam_domain.aggregates.project import Project

#: The margin under which only a sales director may approve a discount, until a director sets
#: another; recorded on every project when it is initiated.
DEFAULT_MINIMUM_MARGIN = Percentage(Decimal(15))

#: Who may ask for a discount: anyone who may approve one, and the representatives who negotiate.
REQUESTER_ROLES = (*APPROVER_ROLES, Role.KEY_ACCOUNT_REPRESENTATIVE)


class Discounts(Procurement):
    """The price band, the minimum margin, and discount requests and their decisions.

    A discount is weighed against the margin the project's costs leave, so this family builds
    on :class:`~kam_domain.aggregates.project.procurement.Procurement`.
    """

    class PriceBandSet(KamAggregate.Event):
        list_price: Money
        floor: Money
        #: The setter's credentials then: the authority that covered the floor's depth.
        set_by: Credentials

        def apply(self, project: Project) -> None:
            project.price_band = PriceBand(
                self.list_price, self.floor, self.timestamp, self.set_by.member_id
            )

    class MinimumMarginSet(KamAggregate.Event):
        minimum_margin: Percentage
        reason: str

        def apply(self, project: Project) -> None:
            project.minimum_margin = self.minimum_margin

    class DiscountRequested(KamAggregate.Event):
        request_id: DiscountRequestId
        requester_id: MemberId
        percentage: Percentage
        justification: str
        list_price: Money
        price: Money

        def apply(self, project: Project) -> None:
            _request(project, self)

    class DiscountApproved(KamAggregate.Event):
        request_id: DiscountRequestId
        #: The approver's credentials then: role and the authority in force.
        approver: Credentials
        decided_by: str
        # The inputs the decision weighed, as they stood at that moment.
        price: Money
        floor: Money
        margin: Decimal
        minimum_margin: Percentage

        def apply(self, project: Project) -> None:
            _approve(project, self)

    class DiscountApprovedOnBehalf(KamAggregate.Event):
        """Approved by a delegate on the delegator's behalf, under the delegation in force."""

        request_id: DiscountRequestId
        #: The delegate's credentials as they acted: their identity, the delegator's role and
        #: the lesser of the delegation's limit and the delegator's authority in force.
        approver: Credentials
        delegation_id: UUID
        #: The delegator's own credentials at that moment.
        delegator: Credentials
        decided_by: str
        price: Money
        floor: Money
        margin: Decimal
        minimum_margin: Percentage

        def apply(self, project: Project) -> None:
            _approve(project, self)

    class DiscountEscalated(KamAggregate.Event):
        request_id: DiscountRequestId
        to_role: Role
        reason: str
        #: The escalating member's credentials, or None when a policy routed the request.
        escalated_by: Credentials | None

        def apply(self, project: Project) -> None:
            request = project.discount_requests[self.request_id]
            project.discount_requests[self.request_id] = attrs.evolve(
                request, escalated_to=self.to_role
            )

    class DiscountRejected(KamAggregate.Event):
        request_id: DiscountRequestId
        reason: str
        decided_by: str
        #: The rejecting member's credentials, or None when a policy rejected it.
        rejected_by: Credentials | None

        def apply(self, project: Project) -> None:
            decision = DiscountDecision(
                DiscountOutcome.REJECTED,
                self.timestamp,
                self.decided_by,
                self.rejected_by,
                reason=self.reason,
            )
            project._decide(self.request_id, decision)

    # -- commands ----------------------------------------------------------------------------------

    def set_price_band(
        self, meta: Meta, by: Credentials, *, list_price: Money, floor: Money
    ) -> None:
        """The project director sets (or revises) the band within their authorised range: the
        floor may lie below the list price by no more than the setter's discount authority.
        A sales director may set it within theirs."""
        self._require_pricing_open()
        self._require_project_director("actor", meta, by, or_director=True)
        list_price = self._money("list_price", list_price)
        floor = self._money("floor", floor)
        if floor > list_price:
            raise ValidationError("floor", f"{floor} must not be above the list price {list_price}")
        depth = Percentage((list_price.amount - floor.amount) / list_price.amount * HUNDRED)
        if depth.value > 0:
            by.require_authority("floor", depth)
        self._record(self.PriceBandSet, meta, list_price=list_price, floor=floor, set_by=by)

    def set_minimum_margin(
        self, meta: Meta, by: Credentials, *, minimum_margin: Percentage, reason: str
    ) -> None:
        """A sales director sets the margin under which only a sales director approves."""
        self._require_open()
        self._require_member("actor", meta, by)
        by.require_director("actor")
        require_percentage("minimum_margin", minimum_margin)
        reason = require_text("reason", reason)
        self._record(self.MinimumMarginSet, meta, minimum_margin=minimum_margin, reason=reason)

    def request_discount(
        self,
        meta: Meta,
        by: Credentials,
        request_id: DiscountRequestId,
        *,
        percentage: Percentage,
        justification: str,
    ) -> None:
        """An approver-role member or a representative asks for a discount off the list price."""
        fields = self._checked_request(meta, by, request_id, percentage, justification)
        self._record(self.DiscountRequested, meta, **fields)

    def _checked_request(
        self,
        meta: Meta,
        by: Credentials,
        request_id: DiscountRequestId,
        percentage: Percentage,
        justification: str,
    ) -> dict[str, Any]:
        """The guards of a discount request, and the fields its event records."""
        self._require_pricing_open()
        self._require_member("actor", meta, by)
        by.require_role("actor", *REQUESTER_ROLES)
        require_id("request_id", request_id)
        require_percentage("percentage", percentage)
        if percentage.value <= 0:
            raise ValidationError("percentage", "must be more than 0%")
        justification = require_text("justification", justification, max_length=2000)
        if request_id in self.discount_requests:
            raise AlreadyExists(f"request_id: {request_id} was already requested")
        band = self._band()
        price = band.price_after(percentage)
        _require_floor("percentage", price, band)
        return {
            "request_id": request_id,
            "requester_id": by.member_id,
            "percentage": percentage,
            "justification": justification,
            "list_price": band.list_price,
            "price": price,
        }

    def approve_discount(
        self,
        meta: Meta,
        approver: Credentials,
        request_id: DiscountRequestId,
        *,
        decided_by: str | None = None,
        on_behalf: OnBehalf | None = None,
    ) -> None:
        """An approver whose authority at that moment covers the discount approves it.

        ``on_behalf``: the approver is a delegate acting on the delegator's behalf (read from
        the Team); ``approver`` is then ``on_behalf.credentials``, and neither the delegate nor
        the delegator may be the requester.

        Nobody approves their own request, except that a policy may approve a request within
        the requester's own authority on the strength of that authority. Once escalated, only
        the role escalated to (or a higher one) approves. The price stays at or above the floor;
        a margin under the project's minimum needs a sales director.
        """
        request = self._pending_request(request_id)
        self._require_pricing_open()
        self._require_member("approver", meta, approver)
        approver.require_role("approver", *APPROVER_ROLES)
        if meta.actor.kind is not ActorKind.POLICY:
            approver.require_not("approver", request.requester_id)
        if on_behalf is not None:
            if not isinstance(on_behalf, OnBehalf) or on_behalf.credentials != approver:
                raise ValidationError("on_behalf", "must be the delegation the approver acts on")
            on_behalf.delegator.require_not("approver", request.requester_id)
        _require_rank("approver", approver, request.escalated_to)
        approver.require_authority("approver", request.percentage)
        decided_by = _decided_by(meta, decided_by)
        band = self._band()
        price = band.price_after(request.percentage)
        _require_floor("percentage", price, band)
        margin = self.margin_at(price)
        if margin < self.minimum_margin.value and not approver.role.is_director:
            msg = (
                f"approver: a margin of {margin:.2f}% is under the minimum {self.minimum_margin};"
                " a sales director must approve"
            )
            raise MarginBelowMinimum(msg)
        fields = {
            "request_id": request.request_id,
            "approver": approver,
            "decided_by": decided_by,
            "price": price,
            "floor": band.floor,
            "margin": margin,
            "minimum_margin": self.minimum_margin,
        }
        if on_behalf is None:
            self._record(self.DiscountApproved, meta, **fields)
            return
        self._record(
            self.DiscountApprovedOnBehalf,
            meta,
            **fields,
            delegation_id=on_behalf.delegation_id,
            delegator=on_behalf.delegator,
        )

    def escalate_discount(
        self,
        meta: Meta,
        by: Credentials | None,
        request_id: DiscountRequestId,
        *,
        to_role: Role,
        reason: str,
    ) -> None:
        """Route a pending request up to a higher approver role.

        ``by`` is the approver it was waiting for, passing it up; ``None`` when a policy routes it.
        """
        request = self._pending_request(request_id)
        self._require_pricing_open()
        if not isinstance(to_role, Role) or to_role not in APPROVER_ROLES:
            raise ValidationError("to_role", f"must be an approver role, not {to_role!r}")
        reason = require_text("reason", reason, max_length=2000)
        self._require_decider(meta, by, request)
        if request.escalated_to is not None and _rank(to_role) <= _rank(request.escalated_to):
            msg = f"to_role: already escalated to {request.escalated_to.label}"
            raise InvalidTransition(msg)
        if by is not None and _rank(to_role) <= _rank(by.role):
            msg = f"to_role: {by.name} escalates above their own role, not to {to_role.label}"
            raise InvalidTransition(msg)
        self._record(
            self.DiscountEscalated,
            meta,
            request_id=request.request_id,
            to_role=to_role,
            reason=reason,
            escalated_by=by,
        )

    def reject_discount(
        self,
        meta: Meta,
        by: Credentials | None,
        request_id: DiscountRequestId,
        *,
        reason: str,
        decided_by: str | None = None,
    ) -> None:
        """An approver (or, with ``by=None``, a policy) rejects a pending request.

        Rejecting stays possible after the contract is signed, so stale requests can be cleared.
        """
        request = self._pending_request(request_id)
        self._require_open()
        reason = require_text("reason", reason, max_length=2000)
        decided_by = _decided_by(meta, decided_by)
        self._require_decider(meta, by, request)
        self._record(
            self.DiscountRejected,
            meta,
            request_id=request.request_id,
            reason=reason,
            decided_by=decided_by,
            rejected_by=by,
        )

    # -- queries -----------------------------------------------------------------------------------

    @property
    def pricing_open(self) -> bool:
        """Whether the band may be set and discounts requested and approved."""
        return self.status.before_contract

    def pending_discount_requests(self) -> list[DiscountRequest]:
        """Undecided requests in the order they were made; none once the project is closed."""
        if self.is_closed:
            return []
        return [r for r in self.discount_requests.values() if r.is_pending]

    def discount_request(self, request_id: DiscountRequestId) -> DiscountRequest:
        request = self.discount_requests.get(request_id) if isinstance(request_id, UUID) else None
        if request is None:
            raise DiscountRequestNotFound("request_id", request_id)
        return request

    def decision(self, request_id: DiscountRequestId) -> DiscountDecision | None:
        """How the request was decided, or None while it is pending."""
        return self.discount_request(request_id).decision

    def approved_discounts(self) -> list[DiscountRequest]:
        return [
            r
            for r in self.discount_requests.values()
            if r.decision is not None and r.decision.outcome is DiscountOutcome.APPROVED
        ]

    # -- helpers -----------------------------------------------------------------------------------

    def _decide(self, request_id: DiscountRequestId, decision: DiscountDecision) -> None:
        request = self.discount_requests[request_id]
        self.discount_requests[request_id] = attrs.evolve(request, decision=decision)

    def _require_decider(
        self, meta: Meta, by: Credentials | None, request: DiscountRequest
    ) -> None:
        """Who may escalate or reject: a policy, or an approver at the request's level who is
        not the requester."""
        if by is None:
            if meta.actor.kind not in (ActorKind.POLICY, ActorKind.SYSTEM):
                raise ValidationError(
                    "actor", "only a policy or system decides without credentials"
                )
            return
        self._require_member("actor", meta, by)
        by.require_role("actor", *APPROVER_ROLES)
        by.require_not("actor", request.requester_id)
        _require_rank("actor", by, request.escalated_to)

    def _require_pricing_open(self) -> None:
        self._require_open()
        if not self.pricing_open:
            msg = f"price: pricing is closed once the project is {self.status.value}"
            raise InvalidTransition(msg)

    def _band(self) -> PriceBand:
        if self.price_band is None:
            raise InvalidTransition("price_band: no price band has been set for this project")
        return self.price_band

    def _pending_request(self, request_id: DiscountRequestId) -> DiscountRequest:
        request = self.discount_request(request_id)
        if request.decision is not None:
            msg = f"request_id: {request_id} was already {request.decision.outcome.value}"
            raise AlreadyDecided(msg)
        return request


def _rank(role: Role) -> int:
    return APPROVER_ROLES.index(role) if role in APPROVER_ROLES else -1


def _require_rank(field: str, by: Credentials, escalated_to: Role | None) -> None:
    if escalated_to is not None and _rank(by.role) < _rank(escalated_to):
        wanted, held = escalated_to.label, by.role.label
        msg = f"{field}: the request was escalated to a {wanted}; {by.name} is a {held}"
        raise RoleRequired(msg)


def _require_floor(field: str, price: Money, band: PriceBand) -> None:
    if price < band.floor:
        msg = f"{field}: the price {price} would fall below the floor {band.floor}"
        raise PriceBelowFloor(msg)


def _decided_by(meta: Meta, decided_by: object) -> str:
    """Who decided: "manual" for a member, the policy's name@version for a policy, unless given."""
    if decided_by is None:
        return "manual" if meta.actor.kind is ActorKind.MEMBER else meta.actor.ref
    return require_text("decided_by", decided_by, max_length=200)


def _approve(project: Project, event: Any) -> None:
    """The request approved as ``event`` (an approval, or one on a delegator's behalf) says."""
    decision = DiscountDecision(
        DiscountOutcome.APPROVED,
        event.timestamp,
        event.decided_by,
        event.approver,
        price=event.price,
        margin=event.margin,
    )
    project._decide(event.request_id, decision)


def _request(project: Project, event: Any) -> None:
    """The request ``event`` records (a single one, or one with approval steps), open."""
    project.discount_requests[event.request_id] = DiscountRequest(
        event.request_id,
        event.requester_id,
        event.percentage,
        event.justification,
        event.timestamp,
        event.price,
    )
