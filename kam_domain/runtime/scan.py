"""Reading the log in causal order: commands one at a time, consequences skipped where met.

:class:`Scan` walks the log from a settled position and hands out *units*: a command's events
(consecutive events with one causation id, none of them a policy's), to be settled before the
next. The consequences an engine settles (its own, or another's, found in the log) are marked
*consumed*, and the walk passes over them when it reaches their positions. An event recorded
as a policy that nobody consumed is a unit of its own: the transaction of a retried parked
event (a decision record and what its actions recorded), or an event attributed to a policy
with no decision behind it, which replay reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from uuid import UUID

from kam_domain.aggregates.base import event_id
from kam_domain.policies.records import DeadLetter, PolicyDecision
from kam_domain.runtime.causal import Step, is_consequence

__all__ = ["PAGE_SIZE", "Scan", "initial_cursor", "settled_tail"]

#: Notifications read from the store at a time.
PAGE_SIZE = 500

_ENGINE_TRACKING = "kam.engine"


class Scan:
    """The walk of one engine (or replay) over the log, from ``position`` on."""

    def __init__(self, recorder: Any, mapper: Any, position: int) -> None:
        self._recorder = recorder
        self._mapper = mapper
        #: Every command up to here is settled.
        self.position = position
        self._consumed: set[int] = set()
        #: The page of the log the walk is reading, by position: what a command's
        #: consequences are usually found in.
        self.window: dict[int, Step] = {}

    def consume(self, position: int) -> None:
        """Mark the event at ``position`` as settled already (the walk passes over it)."""
        if position > self.position:
            self._consumed.add(position)

    def passed(self, position: int) -> bool:
        """Whether the walk has settled the event at ``position`` already."""
        return position <= self.position or position in self._consumed

    def settled(self, unit: Sequence[Step]) -> None:
        """The unit is settled: the walk's position moves past it."""
        last = unit[-1].position
        if last > self.position:
            # Consequences settled right after the unit are settled too (usually all of them).
            while last + 1 in self._consumed:
                last += 1
            self.position = last
            if self._consumed:
                self._consumed = {p for p in self._consumed if p > last}

    def prefix(self) -> Iterator[Step]:
        """Every event up to the position, in log order."""
        yield from _steps(self._recorder, self._mapper, 1, self.position)

    def units(self, until: int | None = None) -> Iterator[list[Step]]:
        """The units after the position, in log order (those that start by ``until``)."""
        pending: list[Step] = []
        key: tuple[str, Any] | None = None
        for step in _steps(self._recorder, self._mapper, self.position + 1, None, self.window):
            if self.passed(step.position):
                continue
            this = _key(step.event, key)
            if pending and this != key:
                yield pending
                pending = []
                # Settling that unit may have consumed this very event (its first consequence
                # often comes right after it in the log).
                if self.passed(step.position):
                    key = None
                    continue
                this = _key(step.event, None)
            if not pending and until is not None and step.position > until:
                return
            key = this
            pending.append(step)
        if pending:
            yield pending


def _key(event: Any, current: tuple[str, Any] | None) -> tuple[str, Any]:
    """What unit ``event`` belongs to: a command (by causation id), a retry's transaction (by
    its decision record), or itself alone."""
    if not is_consequence(event):
        return ("command", getattr(event, "causation_id", None))
    if isinstance(event, PolicyDecision.Made):
        return ("recorded", event_id(event.originator_id, 1))
    caused_by = getattr(event, "causation_id", None)
    if current is not None and current[0] == "recorded" and caused_by == current[1]:
        return current
    return ("stray", (event.originator_id, event.originator_version))


def initial_cursor(recorder: Any, policies: Iterable[str]) -> int:
    """The position up to which the store says commands are settled: the engine's tracking
    record, or for a store written by an earlier version, its policies' latest."""
    tracked = recorder.max_tracking_id(_ENGINE_TRACKING)
    if tracked:
        return int(tracked)
    earlier = [recorder.max_tracking_id(f"kam.policy.{name}") or 0 for name in policies]
    return max(earlier, default=0)


def settled_tail(
    recorder: Any,
    mapper: Any,
    cursor: int,
    records: dict[tuple[str, UUID], tuple[UUID, int]] | None = None,
) -> Iterator[Step]:
    """The consequences recorded after ``cursor`` of the commands up to it, in log order.

    A consequence's command is found through its causes: a decision record or parked event
    names its cause; what actions recorded is caused by the decision record. Everything after
    the cursor is read once; only the causes seen after it are remembered, and in ``records``
    where each (policy, cause) after it has its outcome recorded (record id and position).
    """
    root_of: dict[UUID, int] = {}
    for step in _steps(recorder, mapper, cursor + 1, None):
        event = step.event
        if not is_consequence(event):
            root_of[event.event_id] = step.position
            continue
        if records is not None and isinstance(event, PolicyDecision.Made | DeadLetter.Parked):
            original = not isinstance(event, PolicyDecision.Made) or (
                event.basis_position == event.cause_position
            )
            if original and event.cause_position > cursor:
                key = (event.policy, event.cause_id)
                if key not in records or isinstance(event, PolicyDecision.Made):
                    records[key] = (event.originator_id, step.position)
        root = _root(event, step.position, cursor, root_of)
        root_of[event.event_id] = root
        if root <= cursor:
            yield step


def _root(event: Any, position: int, cursor: int, root_of: dict[UUID, int]) -> int:
    if isinstance(event, DeadLetter.Retried):
        return position  # a retry is settled where it was recorded
    if isinstance(event, PolicyDecision.Made | DeadLetter.Parked):
        if isinstance(event, PolicyDecision.Made) and event.basis_position != event.cause_position:
            return position  # decided when a parked event was retried: a unit of its own
        if event.cause_position <= cursor:
            return int(event.cause_position)
        return root_of.get(event.cause_id, position)
    return root_of.get(getattr(event, "causation_id", None) or event.event_id, position)


def _steps(
    recorder: Any,
    mapper: Any,
    start: int,
    stop: int | None,
    window: dict[int, Step] | None = None,
) -> Iterator[Step]:
    while stop is None or start <= stop:
        page = recorder.select_notifications(start=start, limit=PAGE_SIZE, stop=stop)
        steps = [Step(mapper.to_domain_event(n), n) for n in page]
        if window is not None:
            window.clear()
            window.update((step.position, step) for step in steps)
        yield from steps
        if len(page) < PAGE_SIZE:
            return
        start = page[-1].id + 1
