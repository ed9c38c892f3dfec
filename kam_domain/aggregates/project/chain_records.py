"""The records of a discount request's approval chain: its steps, each with its deadline, the
role it waits for and, once decided, who approved it under which authority."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import attrs

from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.team import ChainCondition
from kam_domain.transcoding import transcoded
from kam_domain.values import DiscountRequestId, Role

__all__ = ["ApprovalChain", "ApprovalStep", "StepApproval"]


def _as_tuple(values: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(values)


@transcoded
@attrs.frozen
class StepApproval:
    """Who approved a step, when, and the credentials (authority in force) they held then."""

    approved_at: datetime
    decided_by: str
    credentials: Credentials
    #: For a delegate approving on another's behalf: the delegation and the delegator's own
    #: credentials then.
    delegation_id: UUID | None = None
    delegator: Credentials | None = None

    def member_ids(self) -> set[UUID]:
        """Who approved the step: the member, and the one they approved for."""
        ids: set[UUID] = {self.credentials.member_id}
        if self.delegator is not None:
            ids.add(self.delegator.member_id)
        return ids


@transcoded
@attrs.frozen
class ApprovalStep:
    """One step: the role the chain's rules name, at a stage (steps of a stage run in
    parallel)."""

    #: 1 for the first step of the chain; how commands name the step.
    number: int
    stage: int
    role: Role
    #: When the step must be decided by; None until its stage opens.
    due_at: datetime | None = None
    #: The role the step waits for after an escalation (the deadline passed).
    escalated_to: Role | None = None
    approval: StepApproval | None = None

    @property
    def waits_for(self) -> Role:
        """The role that now decides the step."""
        return self.role if self.escalated_to is None else self.escalated_to

    @property
    def is_approved(self) -> bool:
        return self.approval is not None


@transcoded
@attrs.frozen
class ApprovalChain:
    """The steps one discount request passes, chosen by the team's rules in force when it was
    requested, with the facts that chose them."""

    request_id: DiscountRequestId
    steps: tuple[ApprovalStep, ...] = attrs.field(converter=_as_tuple)
    #: Hours a step may wait once open (or once escalated).
    step_hours: int
    #: The conditions the request met when it was made.
    conditions: tuple[ChainCondition, ...] = attrs.field(converter=_as_tuple)
    #: The unusual contract terms the requester named, if any.
    unusual_terms: str | None = None

    @property
    def open_stage(self) -> int | None:
        """The stage whose steps are being decided; None once every step is approved."""
        return min((s.stage for s in self.steps if not s.is_approved), default=None)

    def open_steps(self) -> list[ApprovalStep]:
        stage = self.open_stage
        return [s for s in self.steps if s.stage == stage and not s.is_approved]

    def step(self, number: int) -> ApprovalStep | None:
        return next((s for s in self.steps if s.number == number), None)

    def approvals(self) -> list[StepApproval]:
        return [s.approval for s in self.steps if s.approval is not None]

    def with_step(self, step: ApprovalStep, at: datetime) -> ApprovalChain:
        """The chain with ``step`` replaced; a stage completed by it opens the next, whose
        steps are due ``step_hours`` after ``at``."""
        before = self.open_stage
        steps = tuple(step if s.number == step.number else s for s in self.steps)
        chain = attrs.evolve(self, steps=steps)
        after = chain.open_stage
        if after is None or after == before:
            return chain
        due = at + timedelta(hours=self.step_hours)
        opened = tuple(
            attrs.evolve(s, due_at=due) if s.stage == after and s.due_at is None else s
            for s in chain.steps
        )
        return attrs.evolve(chain, steps=opened)
