"""What an engine records for a decision, or for an event a policy could not decide about.

A decision is recorded as a :class:`~kam_domain.policies.records.PolicyDecision` naming its
policy, version, cause and inputs, together with the events its actions recorded on the domain's
records, all in one transaction (the engine writes it). A policy that raised parks its cause as
a :class:`~kam_domain.policies.records.DeadLetter`. Both ids are derived from the policy and the
cause, which is what lets either be recorded only once however many engines try.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import attrs

from kam_domain.aggregates.base import KamAggregate, Meta, event_id
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.team import Team
from kam_domain.errors import KamDomainError, MemberNotFound, TeamNotFound
from kam_domain.policies.base import Action, ActionContext, Decision, Policy
from kam_domain.policies.records import DeadLetter, PolicyDecision, decision_id
from kam_domain.policies.world import World
from kam_domain.runtime.causal import Step
from kam_domain.values import Actor, MemberId, TeamId

if TYPE_CHECKING:
    from eventsourcing.application import Repository

__all__ = ["WorldContext", "acting_meta", "carried_out", "decided", "parked"]


def decided(
    repository: Repository[UUID],
    context: ActionContext,
    policy: Policy,
    decision: Decision,
    cause: Any,
    step: Step,
    basis: int,
) -> list[Any]:
    """The decision record, then the records its actions changed (to be saved with it)."""
    actor = Actor.policy(policy.name, policy.version)
    meta = Meta(actor, cause.timestamp, cause.correlation_id, cause.event_id)
    acting = acting_meta(policy.name, policy.version, cause)
    changed, refusals = carried_out(repository, context, decision.actions, acting)
    refusal = "; ".join(refusals) if refusals else None
    record = PolicyDecision.make(
        meta,
        policy=policy.name,
        version=policy.version,
        cause_id=cause.event_id,
        cause_position=step.position,
        cause_topic=step.notification.topic,
        basis_position=basis,
        outcome=decision.outcome,
        reason=decision.reason,
        inputs=decision.inputs,
        actions=tuple(action.describe() for action in decision.actions),
        refusal=refusal,
    )
    return [record, *changed]


def acting_meta(policy: str, version: int, cause: Any) -> Meta:
    """How a decision's actions are stamped: by the policy, when the cause happened, caused by
    the decision (which is caused by the event)."""
    record_id = decision_id(policy, cause.event_id)
    return Meta(
        Actor.policy(policy, version),
        cause.timestamp,
        cause.correlation_id,
        event_id(record_id, 1),
    )


def carried_out(
    repository: Repository[UUID],
    context: ActionContext,
    actions: tuple[Action, ...],
    meta: Meta,
) -> tuple[list[KamAggregate], list[str]]:
    """Carry out the actions on the current records, record by record.

    A record that refuses one of its actions (a command changed it since the cause, say)
    keeps none of them; the other records' actions still take effect. Returns the changed
    records and a line per refused action.
    """
    by_record: dict[UUID, list[Action]] = {}
    for action in actions:
        by_record.setdefault(action.aggregate_id, []).append(action)
    changed: list[KamAggregate] = []
    refusals: list[str] = []
    for record_id, its_actions in by_record.items():
        record: KamAggregate = repository.get(record_id)
        # A decision takes effect when its cause happened, but never before what the record
        # already holds (a command may have changed it since).
        at = attrs.evolve(meta, at=max(meta.at, record.modified_on))
        try:
            for action in its_actions:
                current = action
                action.apply(record, at, context)
        except KamDomainError as error:
            refusals.append(f"{current.describe()}: {type(error).__name__}: {error}")
            continue
        changed.append(record)
    return changed, refusals


def parked(policy: Policy, cause: Any, step: Step, error: BaseException) -> DeadLetter:
    """The dead letter of ``cause``, which ``policy`` raised ``error`` deciding about."""
    meta = Meta(
        Actor.policy(policy.name, policy.version),
        cause.timestamp,
        cause.correlation_id,
        cause.event_id,
    )
    return DeadLetter.park(
        meta,
        policy=policy.name,
        version=policy.version,
        cause_id=cause.event_id,
        cause_position=step.position,
        cause_topic=step.notification.topic,
        error_type=type(error).__name__,
        error=str(error),
    )


class WorldContext(ActionContext):
    """Credentials from the team as the deciding policy saw it (the current record when the
    world does not hold the team and a ``repository`` is given: replay gives none)."""

    def __init__(self, repository: Repository[UUID] | None, world: World) -> None:
        self._repository = repository
        self._world = world

    def credentials(self, team_id: TeamId, member_id: MemberId, at: datetime) -> Credentials:
        team: object = self._world.team(team_id)
        if team is None and self._repository is not None:
            team = self._repository.get(team_id)
        if not isinstance(team, Team):
            raise TeamNotFound("team_id", team_id)
        if member_id not in team.members:
            raise MemberNotFound("member_id", member_id)
        return team.credentials(member_id, at)
