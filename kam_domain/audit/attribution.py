"""Events attributed to a policy, and the decision record each must have behind it.

The engine records what a policy does together with the decision that explains it: the decision
``PolicyDecision`` has the id :func:`~kam_domain.policies.records.decision_id` of the policy and
the cause, and each event its actions record is caused by that decision's first event. An event
that claims a policy as its actor without such a decision, or whose decision names another
policy or version, was written behind the engine's back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from uuid import UUID

import attrs

from kam_domain.aggregates.base import event_id
from kam_domain.policies.records import PolicyDecision
from kam_domain.values import ActorKind

__all__ = ["Unexplained", "unexplained"]


@attrs.frozen
class Unexplained:
    """A policy-attributed event, and what is wrong with the decision behind it."""

    event: Any
    problem: str


def unexplained(
    events: Iterable[Any], decisions: Iterable[PolicyDecision]
) -> Iterator[Unexplained]:
    """Each of ``events`` attributed to a policy whose decision is missing or names another.

    ``events`` are the domain records' (teams, accounts, projects, targets): the engine's own
    records (decisions, dead letters) are caused by the event decided about, not by a decision.
    """
    by_first_event: dict[UUID, PolicyDecision] = {
        event_id(decision.id, 1): decision for decision in decisions
    }
    for event in events:
        actor = getattr(event, "actor", None)
        if actor is None or actor.kind is not ActorKind.POLICY:
            continue
        decision = by_first_event.get(event.causation_id)
        if decision is None:
            yield Unexplained(event, f"no decision record of {actor.ref} caused it")
            continue
        named = f"{decision.policy}@{decision.version}"
        if named != actor.ref:
            yield Unexplained(event, f"its decision record is {named}'s, not {actor.ref}'s")
