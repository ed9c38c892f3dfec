"""What the log records of the policies' work: each decision and parked event, by policy and
cause, read once before a replay walks the log."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.utils import get_topic

from kam_domain.policies.records import DeadLetter, PolicyDecision

__all__ = ["Recorded", "notifications", "recorded_outcomes"]

PAGE_SIZE = 1000


@attrs.frozen
class Recorded:
    """What the log says a policy decided about one event (or that it parked the event)."""

    version: int
    outcome: str
    inputs: tuple[tuple[str, str], ...]
    cause_position: int
    basis_position: int
    parked: bool = False
    #: Where the record is in the log.
    position: int = 0


def recorded_outcomes(
    recorder: Any, mapper: Any
) -> tuple[dict[tuple[str, UUID], Recorded], dict[tuple[str, UUID], Recorded]]:
    """Every recorded decision and parked event, by (policy, cause)."""
    topics = [get_topic(PolicyDecision.Made), get_topic(DeadLetter.Parked)]
    made: dict[tuple[str, UUID], Recorded] = {}
    parked: dict[tuple[str, UUID], Recorded] = {}
    for notification in notifications(recorder, topics):
        event = mapper.to_domain_event(notification)
        key = (event.policy, event.cause_id)
        if isinstance(event, PolicyDecision.Made):
            made[key] = Recorded(
                event.version,
                event.outcome,
                tuple(sorted(event.inputs.items())),
                event.cause_position,
                event.basis_position,
                position=notification.id,
            )
        else:
            parked[key] = Recorded(
                event.version,
                "parked",
                (),
                event.cause_position,
                event.cause_position,
                parked=True,
                position=notification.id,
            )
    return made, parked


def notifications(recorder: Any, topics: list[str]) -> Iterator[Any]:
    """The notifications of ``topics``, from the first, a page at a time."""
    start = 1
    while True:
        page = recorder.select_notifications(start=start, limit=PAGE_SIZE, topics=topics)
        if not page:
            return
        yield from page
        start = page[-1].id + 1
