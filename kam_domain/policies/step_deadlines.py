"""Case escalation, version 2: at each recorded clock tick, cases are escalated as version 1
escalates them (:mod:`kam_domain.policies.escalation`), and a step of a discount request's
approval chain still undecided past its deadline is escalated one role up (project director →
sales director → senior sales director; the financial planner and the legal affairs specialist
to the senior sales director), and is due again the chain's ``step_hours`` later.

A new version, activated like any other (``activate_policy_version("case_escalation", 2, …)``):
version 1 stays in force until then, so every decision recorded before approval chains existed
replays as it was, and a what-if of version 2 over such a history finds nothing different (no
request had a step). Where only cases are due, version 2 decides exactly what version 1 does.
A step already waiting for the senior sales director stays with them (there is no one above).
One decision per tick: the case escalations first, then one action per step escalated, teams in
the order they were formed, their projects in the order they were initiated, each project's
requests in the order they were made, each chain's open steps in order. A deadline is passed
strictly after it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.project import Project
from kam_domain.aggregates.project.chains import escalation_role
from kam_domain.policies.base import Action, ActionContext, Decision
from kam_domain.policies.escalation import CaseEscalationPolicy
from kam_domain.policies.world import World
from kam_domain.values import DiscountRequestId

__all__ = ["CaseEscalationPolicyV2", "EscalateDiscountStep"]


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


class CaseEscalationPolicyV2(CaseEscalationPolicy):
    """Escalate cases as version 1 does, and approval steps not decided by their deadline."""

    version = 2
    description = (
        f"{CaseEscalationPolicy.description} A step of a discount request's approval chain not"
        " decided by its deadline is escalated one role up, to the senior sales director at most."
    )

    def decide(self, event: Any, world: World) -> Decision | None:
        cases = super().decide(event, world)
        now: datetime = event.timestamp
        inputs: dict[str, object] = {} if cases is None else dict(cases.inputs)
        inputs.setdefault("at", now)
        steps = list(_due_steps(world, now, inputs))
        if not steps:
            return cases
        count = len(steps)
        outcome = f"escalate_steps {count}"
        reason = (
            f"{count} approval step{'s' if count > 1 else ''} waited past the deadline at"
            f" {now.isoformat()}"
        )
        if cases is not None:
            outcome = f"{cases.outcome}; {outcome}"
            reason = f"{cases.reason}; {reason}"
        actions: list[Action] = [] if cases is None else list(cases.actions)
        return Decision(outcome, reason, inputs, (*actions, *steps))


def _due_steps(
    world: World, now: datetime, inputs: dict[str, object]
) -> Iterator[EscalateDiscountStep]:
    """The steps past their deadline at ``now``, each noted in ``inputs``."""
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
                    yield EscalateDiscountStep(project.id, request.request_id, step.number, reason)
