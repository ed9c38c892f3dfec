"""Recording as a policy the way the engine does, for tests that need a policy's act without
running a policy: the act is caused by a decision record, and both go in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.application import ProcessingEvent

from kam_domain.aggregates.base import KamAggregate, Meta, event_id
from kam_domain.application import KamApplication
from kam_domain.policies.records import PolicyDecision, decision_id
from kam_domain.values import Actor


def act_as_policy(
    app: KamApplication,
    record_id: UUID,
    policy: Actor,
    command: Callable[[Any, Meta], None],
    when: datetime,
    *,
    decision_by: Actor | None = None,
    with_decision: bool = True,
) -> int:
    """Run ``command(record, meta)`` as ``policy`` about the record's last event and record it
    with the decision that explains it (as ``decision_by``'s, if given; none at all without
    ``with_decision``). Returns the record's version after the act."""
    record: KamAggregate = app.repository.get(record_id)
    cause: Any = list(app.repository.event_store.get(record_id))[-1]
    name = policy.ref.partition("@")[0]
    decided = Meta(policy, when, cause.correlation_id, cause.event_id)
    decided_id = decision_id(name, cause.event_id)
    command(record, attrs.evolve(decided, causation_id=event_id(decided_id, 1)))
    processing: ProcessingEvent[UUID] = ProcessingEvent()
    if with_decision:
        claimed = decision_by or policy
        claimed_name, _, version = claimed.ref.partition("@")
        position = app.recorder.max_notification_id() or 0
        # At the id the act names, whichever policy it is made out to be.
        decision = PolicyDecision._start(
            PolicyDecision.Made,
            attrs.evolve(decided, actor=claimed),
            decided_id,
            policy=claimed_name,
            version=int(version),
            cause_id=cause.event_id,
            cause_position=position,
            cause_topic=f"{type(cause).__module__}:{type(cause).__qualname__}",
            basis_position=position,
            outcome="act",
            reason="recorded for a test",
            inputs={},
            actions=(),
            refusal=None,
        )
        processing.collect_events(decision)
    processing.collect_events(record)
    app._record(processing)
    return record.version
