"""Approval-step deadlines: at each recorded clock tick, a step of a discount request's approval
chain still undecided past its deadline is escalated one role up (project director → sales
director → senior sales director; the financial planner and the legal affairs specialist to the
senior sales director), and is due again the chain's ``step_hours`` later.

A new policy, not a new version of another: no request recorded before approval chains existed
has a step, so every decision recorded earlier replays unchanged, and on a team without chain
rules it never decides. A step already waiting for the senior sales director stays with them
(there is no one above). One decision per tick with one action per escalation: teams in the
order they were formed, their projects in the order they were initiated, each project's requests
in the order they were made, each chain's open steps in order. A deadline is passed strictly
after it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import attrs

from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.project import Project
from kam_domain.aggregates.project.chains import escalation_role
from kam_domain.policies.base import Action, ActionContext, Decision, Policy
from kam_domain.policies.records import Clock
from kam_domain.policies.world import World
from kam_domain.values import DiscountRequestId

__all__ = ["EscalateDiscountStep", "StepDeadlinePolicy"]


@attrs.frozen
class EscalateDiscountStep(Action):
    """Escalate one step of one request's chain one role up."""

    aggregate_id: UUID
    request_id: DiscountRequestId
    step: int
    reason: str

    def apply(self, aggregate: Any, meta: Meta, context: ActionContext) -> None:
        if not isinstance(aggregate, Project):
            raise TypeError(f"a step escalation applies to a Project, not {aggregate!r}")
        aggregate.escalate_discount_step(
            meta, None, self.request_id, step=self.step, reason=self.reason
        )

    def describe(self) -> str:
        return (
            f"escalate step {self.step} of discount request {self.request_id}"
            f" of project {self.aggregate_id}"
        )


class StepDeadlinePolicy(Policy):
    """Escalate approval steps not decided by their deadline."""

    # Stored in every decision and every setting: never renamed.
    name = "discount_step_deadlines"
    version = 1
    handles = (Clock.Ticked,)
    description = (
        "At each clock tick, a step of a discount request's approval chain not decided by its"
        " deadline is escalated one role up, to the senior sales director at most."
    )
    parameters: ClassVar[dict[str, Any]] = {}

    def decide(self, event: Any, world: World) -> Decision | None:
        now: datetime = event.timestamp
        inputs: dict[str, object] = {"at": now}
        actions: list[EscalateDiscountStep] = []
        for team in world.teams():
            # Only a team that ever set chain rules has chained requests: the rest cost nothing.
            if not team.chain_rules:
                continue
            for project in world.projects(team.id):
                if project.is_closed or not project.pricing_open:
                    continue
                for request in project.pending_discount_requests():
                    chain = project.approval_chains.get(request.request_id)
                    if chain is None:
                        continue
                    for step in chain.open_steps():
                        to_role = escalation_role(step.waits_for)
                        if step.due_at is None or step.due_at >= now or to_role is None:
                            continue
                        reason = (
                            f"step {step.number} ({step.role.label}) of the {request.percentage}"
                            f" discount request waited for a {step.waits_for.label} past its"
                            f" deadline {step.due_at.isoformat()}; to a {to_role.label}"
                        )
                        inputs[f"request {request.request_id} step {step.number}"] = (
                            f"project {project.name} ({project.id}); waits for"
                            f" {step.waits_for.value}; due {step.due_at.isoformat()};"
                            f" to {to_role.value}"
                        )
                        actions.append(
                            EscalateDiscountStep(
                                project.id, request.request_id, step.number, reason
                            )
                        )
        if not actions:
            return None
        count = len(actions)
        reason = (
            f"{count} approval step{'s' if count > 1 else ''} waited past the deadline at"
            f" {now.isoformat()}"
        )
        return Decision(f"escalate_steps {count}", reason, inputs, actions)
