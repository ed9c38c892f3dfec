"""Approval chains: a discount request the team's rules give steps to passes each of them, in
sequence (stage after stage) and in parallel (the steps of one stage), before it is approved;
the requester may recall a pending request; a step past its deadline is escalated.

The rules (which steps, chosen by the team's chain rules in force when the request is made,
:mod:`kam_domain.aggregates.team.chain_rules`):

- a request whose facts meet no rule (or on a team without rules) is a single approval, decided
  as :mod:`kam_domain.aggregates.project.discounts` says; it is recorded as ``DiscountRequested``
  as before. A request with steps is recorded as ``ChainedDiscountRequested``, with its chain;
- it is approved only once every step is: ``approve_discount`` and ``escalate_discount`` refuse
  it (``ApprovalStepsPending``), and so does a step whose stage has not opened;
- a step is approved by a member of the role it waits for (for the approver roles, or a higher
  one), never the requester, and by a member who approved no other step of the chain; a step of
  an approver role needs the approver's authority in force at that moment to cover the
  percentage, and each step keeps the credentials it was approved under;
- the step that completes the chain also approves the request (``DiscountApproved``), on the
  authority of the approver whose authority covers it (this one if theirs does), with the
  floor and the minimum margin checked then as for a single approval;
- a member who may decide an open step may reject the whole request; the requester may recall
  a pending request, chained or not;
- a step not decided by its deadline is escalated (by version 2 of the ``case_escalation``
  policy, :mod:`kam_domain.policies.step_deadlines`, or by hand by the member it waits for) one
  role up:
  project director → sales director → senior sales director; the financial planner and the
  legal affairs specialist to the senior sales director. It is due again ``step_hours`` later.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import UUID

import attrs

from kam_domain.aggregates.base import KamAggregate, Meta, require_text
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.project.chain_records import ApprovalChain, ApprovalStep, StepApproval
from kam_domain.aggregates.project.discounts import (
    Discounts,
    _decided_by,
    _request,
    _require_floor,
)
from kam_domain.aggregates.project.enums import DiscountOutcome
from kam_domain.aggregates.project.records import DiscountDecision, DiscountRequest
from kam_domain.aggregates.team import APPROVER_ROLES, ApprovalChainRules, ChainCondition, OnBehalf
from kam_domain.errors import (
    ApprovalStepNotFound,
    ApprovalStepsPending,
    AuthorityExceeded,
    InvalidTransition,
    MarginBelowMinimum,
    NotTheRequester,
    RoleRequired,
    StepApproverRepeated,
    ValidationError,
)
from kam_domain.values import ActorKind, DiscountRequestId, MemberId, Money, Percentage, Role

if TYPE_CHECKING:
    from kam_domain.aggregates.project import Project

__all__ = ["ApprovalChains", "escalation_role"]

#: One role up, for a step past its deadline; the senior sales director is the top.
_ESCALATES_TO = {
    Role.PROJECT_DIRECTOR: Role.SALES_DIRECTOR,
    Role.SALES_DIRECTOR: Role.SENIOR_SALES_DIRECTOR,
    Role.FINANCIAL_PLANNER: Role.SENIOR_SALES_DIRECTOR,
    Role.LEGAL_AFFAIRS_SPECIALIST: Role.SENIOR_SALES_DIRECTOR,
}


def escalation_role(role: Role) -> Role | None:
    """The role a step waiting for ``role`` is escalated to; None at the top."""
    return _ESCALATES_TO.get(role)


class ApprovalChains(Discounts):
    """Chained discount requests, their steps, escalations of steps, and recalls."""

    class ChainedDiscountRequested(KamAggregate.Event):
        """A discount request the team's rules gave steps to, with its chain."""

        request_id: DiscountRequestId
        requester_id: MemberId
        percentage: Percentage
        justification: str
        list_price: Money
        price: Money
        chain: ApprovalChain

        def apply(self, project: Project) -> None:
            _request(project, self)
            project.approval_chains[self.request_id] = self.chain

    class ApprovalStepApproved(KamAggregate.Event):
        request_id: DiscountRequestId
        step: int
        #: The approver's credentials then: role and the authority in force.
        approver: Credentials
        decided_by: str
        #: For an approval on another's behalf: the delegation, and the delegator's credentials.
        delegation_id: UUID | None
        delegator: Credentials | None

        def apply(self, project: Project) -> None:
            chain = project.approval_chains[self.request_id]
            step = chain.step(self.step)
            assert step is not None
            approval = StepApproval(
                self.timestamp, self.decided_by, self.approver, self.delegation_id, self.delegator
            )
            approved = attrs.evolve(step, approval=approval)
            project.approval_chains[self.request_id] = chain.with_step(approved, self.timestamp)

    class ApprovalStepEscalated(KamAggregate.Event):
        request_id: DiscountRequestId
        step: int
        to_role: Role
        reason: str
        #: The member it waited for passing it up, or None when a policy escalated it.
        escalated_by: Credentials | None

        def apply(self, project: Project) -> None:
            chain = project.approval_chains[self.request_id]
            step = chain.step(self.step)
            assert step is not None
            due = self.timestamp + _hours(chain.step_hours)
            escalated = attrs.evolve(step, escalated_to=self.to_role, due_at=due)
            project.approval_chains[self.request_id] = chain.with_step(escalated, self.timestamp)

    class DiscountRecalled(KamAggregate.Event):
        request_id: DiscountRequestId
        reason: str
        recalled_by: Credentials

        def apply(self, project: Project) -> None:
            decision = DiscountDecision(
                DiscountOutcome.RECALLED,
                self.timestamp,
                "manual",
                self.recalled_by,
                reason=self.reason,
            )
            project._decide(self.request_id, decision)

    # -- commands ----------------------------------------------------------------------------------

    def request_discount(
        self,
        meta: Meta,
        by: Credentials,
        request_id: DiscountRequestId,
        *,
        percentage: Percentage,
        justification: str,
        chain_rules: ApprovalChainRules | None = None,
        unusual_terms: str | None = None,
    ) -> None:
        """Ask for a discount; with the team's chain rules in force (``chain_rules``, from the
        Team), a request whose facts meet a rule gets its steps. ``unusual_terms``: what is
        unusual about the contract's terms, for the rules that ask for a legal review."""
        fields = self._checked_request(meta, by, request_id, percentage, justification)
        if chain_rules is not None and not isinstance(chain_rules, ApprovalChainRules):
            raise ValidationError("chain_rules", "must be ApprovalChainRules or None")
        if unusual_terms is not None:
            unusual_terms = require_text("unusual_terms", unusual_terms, max_length=2000)
            if chain_rules is None:
                msg = "the team has no approval-chain rules in force to review them"
                raise ValidationError("unusual_terms", msg)
        steps = self._chain_steps(chain_rules, percentage, fields["price"], unusual_terms)
        if chain_rules is None or not steps:
            self._record(self.DiscountRequested, meta, **fields)
            return
        short = self._margin_short(fields["price"])
        unusual = unusual_terms is not None
        conditions = tuple(
            condition
            for condition in ChainCondition
            if any(
                rule.condition is condition
                and rule.applies(percentage, margin_short=short, unusual=unusual)
                for rule in chain_rules.rules
            )
        )
        first = min(stage for stage, _ in steps)
        due = meta.at + _hours(chain_rules.step_hours)
        chain = ApprovalChain(
            request_id,
            tuple(
                ApprovalStep(number, stage, role, due if stage == first else None)
                for number, (stage, role) in enumerate(steps, start=1)
            ),
            chain_rules.step_hours,
            conditions,
            unusual_terms,
        )
        self._record(self.ChainedDiscountRequested, meta, **fields, chain=chain)

    def approve_discount_step(
        self,
        meta: Meta,
        approver: Credentials,
        request_id: DiscountRequestId,
        *,
        step: int,
        on_behalf: OnBehalf | None = None,
    ) -> None:
        """A member of the role the step waits for approves it under their authority in force;
        the step that completes the chain approves the request.

        ``on_behalf``: the approver is a delegate acting for the delegator (read from the
        Team; ``approver`` is then ``on_behalf.credentials``): the step is held to the
        delegator's role and the delegated authority, and neither may be the requester or have
        approved another step."""
        request = self._pending_request(request_id)
        self._require_pricing_open()
        chain = self._chain(request_id)
        found = self._open_step(chain, step)
        self._require_member("approver", meta, approver)
        _require_step_role("approver", approver, found)
        approver.require_not("approver", request.requester_id)
        acting = {approver.member_id}
        if on_behalf is not None:
            if not isinstance(on_behalf, OnBehalf) or on_behalf.credentials != approver:
                raise ValidationError("on_behalf", "must be the delegation the approver acts on")
            on_behalf.delegator.require_not("approver", request.requester_id)
            acting.add(on_behalf.delegator.member_id)
        for other in chain.steps:
            if other.approval is not None and other.approval.member_ids() & acting:
                msg = (
                    f"approver: {approver.name} (or the member they act for) approved step"
                    f" {other.number} already; each step of a chain needs another approver"
                )
                raise StepApproverRepeated(msg)
        if found.waits_for in APPROVER_ROLES:
            approver.require_authority("approver", request.percentage)
        decided_by = _decided_by(meta, None)
        remaining = [s for s in chain.steps if not s.is_approved and s.number != found.number]
        if remaining:
            self._record_step(meta, request_id, found, approver, decided_by, on_behalf)
            return
        # The last step: the request is approved too, under every rule a single approval meets.
        band = self._band()
        price = band.price_after(request.percentage)
        _require_floor("percentage", price, band)
        this = StepApproval(
            meta.at,
            decided_by,
            approver,
            None if on_behalf is None else on_behalf.delegation_id,
            None if on_behalf is None else on_behalf.delegator,
        )
        approvals = [*chain.approvals(), this]
        approvers = [a.credentials for a in approvals]
        margin = self.margin_at(price)
        if margin < self.minimum_margin.value and not any(c.role.is_director for c in approvers):
            msg = (
                f"approver: a margin of {margin:.2f}% is under the minimum {self.minimum_margin};"
                " no sales director approved a step of this chain"
            )
            raise MarginBelowMinimum(msg)
        covering = [a for a in reversed(approvals) if a.credentials.covers(request.percentage)]
        if not covering:
            msg = (
                f"approver: no step of the chain was approved by a member whose authority"
                f" covers {request.percentage}"
            )
            raise AuthorityExceeded(msg)
        self._record_step(meta, request_id, found, approver, decided_by, on_behalf)
        chosen = covering[0]
        fields = {
            "request_id": request_id,
            "approver": chosen.credentials,
            "decided_by": decided_by,
            "price": price,
            "floor": band.floor,
            "margin": margin,
            "minimum_margin": self.minimum_margin,
        }
        if chosen.delegator is None:
            self._record(self.DiscountApproved, meta, **fields)
            return
        # The authority that covers it was delegated: the approval says so, as a single
        # approval on behalf does, so the audit reads it against the delegation.
        self._record(
            self.DiscountApprovedOnBehalf,
            meta,
            **fields,
            delegation_id=chosen.delegation_id,
            delegator=chosen.delegator,
        )

    def escalate_discount_step(
        self,
        meta: Meta,
        by: Credentials | None,
        request_id: DiscountRequestId,
        *,
        step: int,
        reason: str,
    ) -> None:
        """Pass an open step one role up (see :func:`escalation_role`); ``by`` is the member it
        waits for, ``None`` when a policy escalates it past its deadline."""
        self._pending_request(request_id)
        self._require_pricing_open()
        chain = self._chain(request_id)
        found = self._open_step(chain, step)
        reason = require_text("reason", reason, max_length=2000)
        if by is None:
            if meta.actor.kind not in (ActorKind.POLICY, ActorKind.SYSTEM):
                raise ValidationError(
                    "actor", "only a policy or system decides without credentials"
                )
        else:
            self._require_member("actor", meta, by)
            _require_step_role("actor", by, found)
        to_role = escalation_role(found.waits_for)
        if to_role is None:
            msg = f"step: step {step} waits for a {found.waits_for.label}, the top already"
            raise InvalidTransition(msg)
        if by is not None and _rank(to_role) <= _rank(by.role):
            msg = f"step: {by.name} passes a step above their own role, not to {to_role.label}"
            raise InvalidTransition(msg)
        self._record(
            self.ApprovalStepEscalated,
            meta,
            request_id=request_id,
            step=found.number,
            to_role=to_role,
            reason=reason,
            escalated_by=by,
        )

    def recall_discount(
        self, meta: Meta, by: Credentials, request_id: DiscountRequestId, *, reason: str
    ) -> None:
        """The requester withdraws a pending request (chained or not)."""
        request = self._pending_request(request_id)
        self._require_open()
        self._require_member("actor", meta, by)
        if by.member_id != request.requester_id:
            msg = f"actor: {by.name} did not request {request_id}; only its requester recalls it"
            raise NotTheRequester(msg)
        reason = require_text("reason", reason, max_length=2000)
        self._record(
            self.DiscountRecalled, meta, request_id=request_id, reason=reason, recalled_by=by
        )

    # -- the single-approval commands, refused while a chain's steps are pending -------------------

    def approve_discount(
        self,
        meta: Meta,
        approver: Credentials,
        request_id: DiscountRequestId,
        *,
        decided_by: str | None = None,
        on_behalf: OnBehalf | None = None,
    ) -> None:
        self._require_no_chain(request_id, "approved")
        super().approve_discount(
            meta, approver, request_id, decided_by=decided_by, on_behalf=on_behalf
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
        self._require_no_chain(request_id, "escalated")
        super().escalate_discount(meta, by, request_id, to_role=to_role, reason=reason)

    # -- queries -----------------------------------------------------------------------------------

    def approval_chain(self, request_id: DiscountRequestId) -> ApprovalChain | None:
        """The request's approval chain; None for a single approval."""
        self.discount_request(request_id)
        return self.approval_chains.get(request_id)

    # -- helpers -----------------------------------------------------------------------------------

    def _require_decider(
        self, meta: Meta, by: Credentials | None, request: DiscountRequest
    ) -> None:
        """Who may reject a chained request: a policy, or a member who may decide one of its
        open steps (never the requester)."""
        chain = self.approval_chains.get(request.request_id)
        if chain is None or by is None:
            super()._require_decider(meta, by, request)
            return
        self._require_member("actor", meta, by)
        by.require_not("actor", request.requester_id)
        for step in chain.open_steps():
            if _may_decide(by, step):
                return
        waiting = ", ".join(s.waits_for.label for s in chain.open_steps())
        raise RoleRequired(f"actor: {by.name} decides none of the open steps ({waiting})")

    def _require_no_chain(self, request_id: DiscountRequestId, verb: str) -> None:
        request = self.discount_request(request_id)
        if request.is_pending and request_id in self.approval_chains:
            msg = (
                f"request_id: {request_id} has an approval chain; it is {verb} step by step"
                " (approve_discount_step, escalate_discount_step)"
            )
            raise ApprovalStepsPending(msg)

    def _chain(self, request_id: DiscountRequestId) -> ApprovalChain:
        chain = self.approval_chains.get(request_id)
        if chain is None:
            msg = f"request_id: {request_id} has no approval chain; it is a single approval"
            raise InvalidTransition(msg)
        return chain

    def _open_step(self, chain: ApprovalChain, number: object) -> ApprovalStep:
        if not isinstance(number, int) or isinstance(number, bool):
            raise ValidationError("step", f"must be a step number, not {number!r}")
        found = chain.step(number)
        if found is None:
            raise ApprovalStepNotFound("step", number)
        if found.is_approved:
            raise InvalidTransition(f"step: step {number} was already approved")
        if found.stage != chain.open_stage:
            msg = (
                f"step: step {number} is at stage {found.stage}; stage {chain.open_stage}"
                " is not approved yet"
            )
            raise ApprovalStepsPending(msg)
        return found

    def _chain_steps(
        self,
        rules: ApprovalChainRules | None,
        percentage: Percentage,
        price: Money,
        unusual_terms: str | None,
    ) -> list[tuple[int, Role]]:
        if rules is None:
            return []
        return rules.steps_for(
            percentage, margin_short=self._margin_short(price), unusual=unusual_terms is not None
        )

    def _margin_short(self, price: Money) -> bool:
        return self.margin_at(price) < self.minimum_margin.value

    def _record_step(
        self,
        meta: Meta,
        request_id: DiscountRequestId,
        step: ApprovalStep,
        approver: Credentials,
        decided_by: str,
        on_behalf: OnBehalf | None,
    ) -> None:
        self._record(
            self.ApprovalStepApproved,
            meta,
            request_id=request_id,
            step=step.number,
            approver=approver,
            decided_by=decided_by,
            delegation_id=None if on_behalf is None else on_behalf.delegation_id,
            delegator=None if on_behalf is None else on_behalf.delegator,
        )


def _rank(role: Role) -> int:
    return APPROVER_ROLES.index(role) if role in APPROVER_ROLES else -1


def _may_decide(by: Credentials, step: ApprovalStep) -> bool:
    """Whether ``by`` decides ``step``: its role, or for an approver role a higher one."""
    wanted = step.waits_for
    if wanted in APPROVER_ROLES:
        return by.role in APPROVER_ROLES and _rank(by.role) >= _rank(wanted)
    return by.role is wanted


def _require_step_role(field: str, by: Credentials, step: ApprovalStep) -> None:
    by.require_active(field)
    if not _may_decide(by, step):
        wanted = step.waits_for.label
        msg = f"{field}: step {step.number} waits for a {wanted}; {by.name} is a {by.role.label}"
        raise RoleRequired(msg)


def _hours(hours: int) -> timedelta:
    return timedelta(hours=hours)
