"""Causal order: the order in which policies see the log, wherever its events landed.

A *command's* events (the events a host's command recorded; they share its causation id) come
to the policies one command at a time, in log order, and each command's *consequences* — every
decision about its events, by every policy, the events its actions recorded, and what policies
decided about those in turn — are settled before the next command's events are decided. A
policy therefore sees the state after the event it decides about and after every consequence of
the commands before it, whether those consequences were recorded right after their command (an
embedded application) or after a burst of later commands (a worker that fell behind, or several
workers taking turns).

Which events are consequences is said by the events themselves: a consequence's actor is a
policy. Where a consequence is, is said by the deterministic ids of decision records and parked
events (:func:`~kam_domain.policies.records.decision_id`): the record about (policy, cause) is
written first in its transaction, and the events its actions recorded follow it there, each
caused by the record. :class:`Consequences` reads them back from the log, so that any engine —
or replay — can settle a command whose consequences another process recorded.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.utils import get_topic

from kam_domain.aggregates.base import event_id
from kam_domain.policies.records import DeadLetter, PolicyDecision, dead_letter_id, decision_id
from kam_domain.values import Actor, ActorKind

__all__ = [
    "Consequences",
    "Step",
    "is_consequence",
    "transaction_after",
]

#: Notifications read at a time when following a decision's transaction.
_PAGE = 64
#: How far past its cause the log is searched for a decision record, where no as-of index
#: can say where the record is (adapters without one).
_SEARCH_PAGE = 1000


@attrs.frozen
class Step:
    """One event in causal order: the domain event and the notification it was read from."""

    event: Any
    notification: Any

    @property
    def position(self) -> int:
        return int(self.notification.id)


def is_consequence(event: Any) -> bool:
    """Whether ``event`` was recorded by a policy (a decision, a parked event, an action)."""
    actor = getattr(event, "actor", None)
    return isinstance(actor, Actor) and actor.kind is ActorKind.POLICY


class Consequences:
    """Finds in the log what was recorded about (policy, cause): the decision record or the
    parked event, and the events recorded with it."""

    def __init__(self, recorder: Any, mapper: Any) -> None:
        self._recorder = recorder
        self._mapper = mapper
        self._topics = [get_topic(PolicyDecision.Made), get_topic(DeadLetter.Parked)]

    def of(self, policy: str, cause_id: UUID, cause_position: int) -> list[Step] | None:
        """The recorded outcome of ``policy`` about the event ``cause_id``, None when there is
        none. A decision recorded later, when a parked event was retried, is not the outcome of
        the cause itself (it belongs to the retry): the parked event is."""
        decision = decision_id(policy, cause_id)
        position = self._position(decision, cause_position)
        if position is not None:
            steps = transaction_after(self._recorder, self._mapper, decision, position)
            made = steps[0].event if steps else None
            if made is not None and made.basis_position == made.cause_position:
                return steps
        letter = dead_letter_id(policy, cause_id)
        position = self._position(letter, cause_position)
        if position is not None:
            return transaction_after(self._recorder, self._mapper, letter, position)
        return None

    def _position(self, record_id: UUID, after: int) -> int | None:
        """Where the record ``record_id`` was created in the log (None: it was not)."""
        timeline = getattr(self._recorder, "timeline", None)
        if timeline is not None:
            entries = timeline(record_id)
            if entries:
                first = entries[0]
                return int(first.position) if first.originator_version == 1 else None
            # An index that holds nothing for the record may predate it: look in the log.
        start = after + 1
        while True:
            page = self._recorder.select_notifications(
                start=start, limit=_SEARCH_PAGE, topics=self._topics
            )
            for notification in page:
                if notification.originator_id == record_id:
                    return int(notification.id)
            if len(page) < _SEARCH_PAGE:
                return None
            start = page[-1].id + 1


def transaction_after(
    recorder: Any,
    mapper: Any,
    record_id: UUID,
    position: int,
    window: Mapping[int, Step] | None = None,
) -> list[Step]:
    """The record created at ``position`` and the events recorded with it, caused by it.

    ``window``, events already read by position, spares reading them again.
    """
    steps: list[Step] = []
    caused = event_id(record_id, 1)
    for step in _from(recorder, mapper, position, window or {}):
        event = step.event
        if not steps:
            if event.originator_id != record_id:
                return []
            steps.append(step)
            continue
        if getattr(event, "causation_id", None) != caused:
            break
        steps.append(step)
    return steps


def _from(recorder: Any, mapper: Any, start: int, window: Mapping[int, Step]) -> Iterator[Step]:
    while start in window:
        yield window[start]
        start += 1
    while True:
        page: Sequence[Any] = recorder.select_notifications(start=start, limit=_PAGE)
        for notification in page:
            yield Step(mapper.to_domain_event(notification), notification)
        if len(page) < _PAGE:
            return
        start = page[-1].id + 1
