"""An outbox for hosts: the events a host notifies people about, each delivered until acknowledged.

A host that mails, messages or posts to a CRM's inbox when a policy escalates a case or flags an
overdue invoice should not poll the whole log. An :class:`Outbox` is a named consumer of the
log that reads only the events of the *kinds* it was opened for — the policies' decisions that
flag or escalate something (:data:`DECISION_KINDS`) and any event classes the host chooses —
and keeps its position in the store as a tracking record, the way the policy engine does
(eventsourcing's tracking table, under ``kam.outbox.<name>``).

Delivery is at least once: an item stays pending until :meth:`Outbox.acknowledge` records the
consumer's position at it, which a host does only after its handler has returned. A process
killed between the handler's effect and the acknowledgement delivers the item again when it
restarts. Each item carries an idempotency key (the event's id); a receiver that drops what it
has already seen under that key gets every notification's effect exactly once. Acknowledging is
itself exactly once: the store refuses a second acknowledgement of an item (or of one behind the
position), also from another process following the same consumer name.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import IntegrityError, Notification, PersistenceError, Tracking
from eventsourcing.utils import get_topic

from kam_domain.aggregates.base import event_id
from kam_domain.bounds import check_whole
from kam_domain.errors import (
    AlreadyAcknowledged,
    NotNextInOutbox,
    NumberOutOfRange,
    OutboxKindUnknown,
    OutboxNameInvalid,
    StoreReadOnly,
    StoreTampered,
    StoreUnavailable,
    ValidationError,
)
from kam_domain.policies.records import PolicyDecision
from kam_domain.topics import is_event_topic

__all__ = [
    "DECISION_KINDS",
    "MAX_LIMIT",
    "MAX_WAIT",
    "DecisionKind",
    "Outbox",
    "OutboxItem",
    "tracking_name",
]

#: The most items one call hands out: a host pages through a long backlog.
MAX_LIMIT = 1000
#: The longest a call waits for a new item, in seconds.
MAX_WAIT = 3600.0
#: A consumer's name: lower-case letters, digits, ``-``, ``_`` and ``.``; it names the
#: tracking record, so it is kept short and plain.
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
#: Notifications read from the store at a time while looking for items.
_PAGE = 200
#: How actions name the member they address and the record they change (stored forever, so
#: these phrases are stable).
_TO_MEMBER = re.compile(r"\bto member ([0-9a-f-]{36})")
_OF_RECORD = re.compile(r"\bof (?:account|project|target|team) ([0-9a-f-]{36})")


@attrs.frozen
class DecisionKind:
    """Decisions of ``policy`` whose outcome has a part starting with one of ``outcomes``
    (every decision of the policy when ``outcomes`` is empty)."""

    policy: str
    outcomes: tuple[str, ...] = ()
    description: str = ""

    def matches(self, decision: Any) -> bool:
        if decision.policy != self.policy:
            return False
        if not self.outcomes:
            return True
        words = {part.split(" ", 1)[0] for part in decision.outcome.split("; ")}
        return any(outcome in words for outcome in self.outcomes)


#: The decisions a host may be notified of, by kind name.
DECISION_KINDS: dict[str, DecisionKind] = {
    "case_escalated": DecisionKind(
        "case_escalation", ("escalate_cases",), "cases escalated past their SLA"
    ),
    "step_escalated": DecisionKind(
        "case_escalation", ("escalate_steps",), "approval chain steps escalated past deadline"
    ),
    "payment_overdue": DecisionKind("collections", ("flag_overdue",), "invoices flagged overdue"),
    "discount_decided": DecisionKind(
        "price_approval",
        ("approve", "reject", "escalate"),
        "discount requests approved, rejected or escalated",
    ),
    "coverage_gap": DecisionKind("coverage", ("flag",), "key accounts left without coverage"),
    "decomposition_gap": DecisionKind(
        "target_decomposition", ("flag",), "targets whose parts do not add up"
    ),
    "target_evaluated": DecisionKind("evaluation", (), "targets evaluated, lapsed or flagged"),
    "assignment_flagged": DecisionKind(
        "assignment", ("flag",), "accounts the assignment policy could not place"
    ),
}

_DECISION_TOPIC = get_topic(PolicyDecision.Made)


def tracking_name(name: str) -> str:
    """The tracking record of consumer ``name``."""
    return f"kam.outbox.{name}"


@attrs.frozen
class OutboxItem:
    """One thing to notify about, at ``position`` in the log."""

    #: The consumer that handed the item out.
    outbox: str
    position: int
    #: A name of :data:`DECISION_KINDS`, or a chosen event class's qualified name.
    kind: str
    #: The record the item is about, where known (the one a decision's first action changed).
    record: UUID | None
    #: The members to notify, where the item names them (an escalation's addressee).
    members: tuple[UUID, ...]
    summary: str
    #: The stored event itself (a ``PolicyDecision.Made`` for a decision).
    event: Any = attrs.field(repr=False, eq=False)

    @property
    def idempotency_key(self) -> str:
        """The event's id: the same at every delivery of the item, unique in the store."""
        return str(event_id(self.event.originator_id, self.event.originator_version))


class Outbox:
    """Consumer ``name`` of ``app``'s log, for the ``kinds`` of decisions (default: all of
    :data:`DECISION_KINDS`) and the ``events`` classes chosen."""

    def __init__(
        self,
        app: Any,
        name: str,
        *,
        kinds: Sequence[str] | None = None,
        events: Sequence[type[Any]] = (),
    ) -> None:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise OutboxNameInvalid(
                "name",
                "must be 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a"
                f" letter or digit, not {str(name)[:70]!r}",
            )
        chosen = list(DECISION_KINDS) if kinds is None else list(_checked_kinds(kinds))
        self.app = app
        self.name = name
        self.kinds: tuple[str, ...] = tuple(dict.fromkeys(chosen))
        self._decisions = [DECISION_KINDS[kind] for kind in self.kinds]
        self._events = {get_topic(cls): cls.__qualname__ for cls in _checked_events(events)}
        topics = list(self._events)
        if self._decisions:
            topics.append(_DECISION_TOPIC)
        self.topics: tuple[str, ...] = tuple(topics)
        if not topics:
            raise ValidationError("kinds", "choose at least one kind or event class")
        self._tracking = tracking_name(name)
        self._lock = threading.Lock()

    # -- reading -------------------------------------------------------------------------------

    @property
    def position(self) -> int:
        """The position of the last item acknowledged (0: none yet).

        StoreTampered when it is past the log's head: the tracking row was edited (a position
        pushed ahead would pass over every item recorded up to it, unseen)."""
        tracked = int(self.app._read(self.app.recorder.max_tracking_id, self._tracking) or 0)
        if tracked:
            # Read after the position: a position recorded is never past the head read later.
            head = int(self.app._read(self.app.recorder.max_notification_id) or 0)
            if tracked > head:
                raise StoreTampered(
                    f"outbox {self.name!r}: its position {tracked} (tracking record"
                    f" {self._tracking!r}) is past the log's head {head}: the row was edited"
                )
        return tracked

    def items(self, limit: int = 100) -> list[OutboxItem]:
        """The first ``limit`` (1 to :data:`MAX_LIMIT`) items not yet acknowledged, in log order."""
        limit = check_whole("limit", limit, low=1, high=MAX_LIMIT)
        found: list[OutboxItem] = []
        for item in self._pending(self.position):
            found.append(item)
            if len(found) == limit:
                break
        return found

    def __iter__(self) -> Iterator[OutboxItem]:
        """Every item not yet acknowledged, in log order, read page by page (no waiting)."""
        return self._pending(self.position)

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for an item; True once one is pending.

        Uses the store's subscription (PostgreSQL LISTEN/NOTIFY, polling on SQLite, in-process
        on memory), as the worker does, so nothing is read while nothing is recorded.
        """
        timeout = _seconds("timeout", timeout)
        if timeout == 0:
            return next(iter(self), None) is not None
        # Subscribed first, then the log read up to where the subscription starts: an item
        # recorded in between is in one or the other.
        head = self.app._read(self.app.recorder.max_notification_id) or 0
        try:
            subscription = self.app.recorder.subscribe(gt=head, topics=self.topics)
        except PersistenceError as error:
            raise self._unavailable(error) from error
        timer = threading.Timer(timeout, subscription.stop)
        timer.start()
        try:
            with subscription:
                if next(iter(self), None) is not None:
                    return True
                for notification in subscription:
                    if self._item(notification) is not None:
                        return True
        except PersistenceError as error:
            raise self._unavailable(error) from error
        finally:
            timer.cancel()
        return False

    def _unavailable(self, error: Exception) -> StoreUnavailable:
        url = self.app.store_url
        return StoreUnavailable(f"store: {url}: {url.scrub(error)}")

    # -- acknowledging -------------------------------------------------------------------------

    def acknowledge(self, item: OutboxItem) -> None:
        """Record that ``item`` was handled: the consumer's position moves to it.

        Items are acknowledged in log order, each once: AlreadyAcknowledged for one at or behind
        the position, NotNextInOutbox for one with a pending item before it; StoreReadOnly on
        a store opened for reading.
        """
        if not isinstance(item, OutboxItem):
            raise ValidationError("item", f"must be an OutboxItem, not {type(item).__name__}")
        if item.outbox != self.name:
            raise ValidationError(
                "item", f"was handed out by outbox {item.outbox!r}, not by {self.name!r}"
            )
        self._writable("acknowledge")
        with self._lock:
            position = self.position
            if item.position <= position:
                raise AlreadyAcknowledged(self.name, item.position, position)
            # An item made by hand (or handed out by an outbox of the same name and other
            # kinds) must not move the position to where this outbox hands nothing out.
            handed = next(self._pending(item.position - 1, stop=item.position), None)
            if handed is None or handed.position != item.position or handed.kind != item.kind:
                raise ValidationError(
                    "item",
                    f"position {item.position} holds no {str(item.kind)[:60]!r} item of outbox"
                    f" {self.name!r}",
                )
            earlier = next(self._pending(position, stop=item.position - 1), None)
            if earlier is not None:
                raise NotNextInOutbox(self.name, item.position, earlier.position)
            self._track(item.position)

    def skip_to_head(self) -> int:
        """Pass over every item recorded so far, unhandled: a consumer added to a store with a
        long history starts with what comes next. Returns the new position."""
        self._writable("skip")
        with self._lock:
            head = int(self.app._read(self.app.recorder.max_notification_id) or 0)
            position = self.position
            if head > position:
                self._track(head)
            return max(head, position)

    def _writable(self, verb: str) -> None:
        if getattr(self.app.factory, "read_only", False):
            raise StoreReadOnly(
                f"store: {self.app.store_url} is open for reading only; open it for writing"
                f" to {verb} outbox {self.name!r} items"
            )

    def _track(self, position: int) -> None:
        tracking = Tracking(application_name=self._tracking, notification_id=position)
        try:
            self.app._record(ProcessingEvent(tracking))
        except IntegrityError:
            # Another process following the same consumer moved its position first.
            raise AlreadyAcknowledged(self.name, position, self.position) from None

    @contextlib.contextmanager
    def next(self, wait: float = 0.0) -> Iterator[OutboxItem | None]:
        """The first pending item (None if none comes within ``wait`` seconds), acknowledged
        when the block ends without an exception; an exception leaves it pending."""
        if self.wait(wait):
            found = self.items(limit=1)
            item = found[0] if found else None
        else:
            item = None
        yield item
        if item is not None:
            self.acknowledge(item)

    def deliver(self, handler: Callable[[OutboxItem], object], *, limit: int = 100) -> int:
        """Hand up to ``limit`` pending items to ``handler`` in log order, acknowledging each
        after the handler returns; returns how many were acknowledged. An exception from the
        handler propagates, its item left pending (delivered again next time)."""
        delivered = 0
        for item in self.items(limit=limit):
            handler(item)
            self.acknowledge(item)
            delivered += 1
        return delivered

    # -- the log -------------------------------------------------------------------------------

    def _pending(self, position: int, stop: int | None = None) -> Iterator[OutboxItem]:
        start = position + 1
        while stop is None or start <= stop:
            page: list[Notification] = self.app._read(
                self.app.recorder.select_notifications,
                start=start,
                limit=_PAGE,
                stop=stop,
                topics=self.topics,
            )
            for notification in page:
                item = self._item(notification)
                if item is not None:
                    yield item
            if len(page) < _PAGE:
                return
            start = page[-1].id + 1

    def _item(self, notification: Notification) -> OutboxItem | None:
        if notification.topic in self._events:
            event: Any = self.app.mapper.to_domain_event(notification)
            kind = self._events[notification.topic]
            members = tuple(
                value
                for field in ("escalated_to", "member_id", "to_id")
                if isinstance(value := getattr(event, field, None), UUID)
            )
            summary = f"{kind} of {event.originator_id}"
            return OutboxItem(
                self.name, notification.id, kind, event.originator_id, members, summary, event
            )
        if notification.topic != _DECISION_TOPIC:
            return None
        decision: Any = self.app.mapper.to_domain_event(notification)
        # A refused decision changed nothing: there is nobody to tell about it.
        if decision.refusal is not None:
            return None
        pairs = zip(self.kinds, self._decisions, strict=True)
        chosen = [kind for kind, wanted in pairs if wanted.matches(decision)]
        if not chosen:
            return None
        actions = " ".join(decision.actions)
        members = tuple(dict.fromkeys(UUID(m) for m in _TO_MEMBER.findall(actions)))
        records = _OF_RECORD.findall(actions)
        record = UUID(records[0]) if records else None
        summary = f"{decision.policy}: {decision.reason}"
        return OutboxItem(self.name, notification.id, chosen[0], record, members, summary, decision)


def _checked_kinds(kinds: Sequence[str]) -> Iterator[str]:
    if isinstance(kinds, str) or not isinstance(kinds, Sequence):
        raise ValidationError("kinds", f"must be a list of kind names, not {kinds!r}"[:120])
    for kind in kinds:
        if kind not in DECISION_KINDS:
            known = ", ".join(DECISION_KINDS)
            raise OutboxKindUnknown("kinds", f"no kind {str(kind)[:40]!r}; the kinds: {known}")
        yield kind


def _checked_events(events: Sequence[type[Any]]) -> Iterator[type[Any]]:
    if isinstance(events, str) or not isinstance(events, Sequence):
        raise ValidationError("events", f"must be a list of event classes, not {events!r}"[:120])
    for cls in events:
        if not isinstance(cls, type) or not is_event_topic(get_topic(cls)):
            raise OutboxKindUnknown(
                "events", f"{cls!r} is not an event class the library records"[:120]
            )
        yield cls


def _seconds(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(field, f"must be a number of seconds, not {value!r}"[:120])
    if not 0 <= value <= MAX_WAIT:
        raise NumberOutOfRange(field, f"must be from 0 to {MAX_WAIT:g} seconds, not {value}")
    return float(value)
