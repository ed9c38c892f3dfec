"""What a store keeps beside its events for auditors: a hash chain and an as-of index.

**The chain.** Every stored event is bound into one hash chain, in notification order (its
*position*). The link at a position is SHA-256 over, in this order:

==========================  =======================================================
format                      1 byte: 2 (:data:`CHAIN_FORMAT`); 1 for links written before
                            the written time was recorded
previous link               32 bytes; :data:`GENESIS` (32 zero bytes) before the first
position                    8 bytes, big-endian (the event's notification id)
originator id               4-byte big-endian length, then the id as UTF-8 text
                            (a UUID in its canonical form, ``str(uuid)``)
originator version          8 bytes, big-endian
topic                       4-byte big-endian length, then the topic as UTF-8
state digest                32 bytes: SHA-256 of the state bytes exactly as stored
written at                  format 2 only: 8 bytes, big-endian, signed: when the event
                            was written, in whole microseconds since 1970 (UTC)
==========================  =======================================================

**Stored forms.** Each field the chain binds has exactly one stored form per backend, and every
reader refuses any other as tampering (:func:`canonical_id`, and the type checks of
``kam audit verify``): an id respelled in capitals, with braces or without its hyphens, a version
or a time stored as text, a state or link stored as text. Without this rule a field could be
changed into another spelling of the same value that hashes the same, while the application,
which looks rows up by their stored text, reads a different history.

**The written time.** The recorder takes it from its clock in the transaction that inserts the
event, never earlier than the written time of the position before (so written times never go
back along the chain), and keeps it beside the link. It is the event's other time: its
*effective* time (``timestamp``, given by the command's ``at``) says when it took effect, the
written time when the library recorded it. A link in format 1 has no written time.

The state enters through its digest: that binds the bytes as firmly as hashing them in line,
and lets an export carry the digest instead of the (possibly encrypted) bytes, so that anyone can
re-verify an export's chain with nothing but the standard library (see docs/audit.md). The bytes
are hashed as stored, after compression and encryption, so verifying needs no key.

A recorder writes the links in the same transaction as the events, in a chain table, and the
chain's format (with the position it starts at) in a format table. A recorder that does so
offers :class:`SealedRecorder` (:mod:`kam_domain.sealing` does it for every built-in backend,
and for any other built on it); one that keeps the as-of index too, :class:`LedgerRecorder`.
One that can also read events and links together, as plain rows (:class:`JoinedRecorder`,
optional), lets ``kam audit verify`` skip building eventsourcing's notification objects;
without it, verify merges ``select_notifications`` and ``select_links``
(:class:`ChainedLog` is what it reads then).

**The as-of index.** eventsourcing keeps an event's timestamp only inside its (possibly
encrypted) body. The application therefore passes each event's timestamp to the recorder
(``insert_events(..., timestamps={(originator_id, version): datetime})``, keyword
:data:`TIMESTAMPS`), which writes (originator id, version, timestamp, position) in the same
transaction. A recorder that does so offers :class:`IndexedRecorder`: the version of a record at
a moment is one index lookup.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

import attrs
from eventsourcing.persistence import Notification, StoredEvent

from kam_domain.errors import StoreTampered

__all__ = [
    "CHAIN_FORMAT",
    "FORMATS",
    "GENESIS",
    "TIMESTAMPS",
    "ChainFormat",
    "ChainLink",
    "ChainedLog",
    "IndexedRecorder",
    "JoinedRecorder",
    "LedgerRecorder",
    "SealedRecorder",
    "SealedRow",
    "TimelineEntry",
    "canonical_id",
    "chain_link",
    "event_timestamps",
    "micros",
    "moment",
    "seal",
    "seal_adopted",
    "state_digest",
    "timestamps_of",
    "written_now",
]

#: The chain format this library writes (the first byte hashed into every link).
CHAIN_FORMAT = 2
#: The chain formats this library verifies: 1 (no written time) and 2.
FORMATS = frozenset({1, 2})
#: The "previous link" of the first event.
GENESIS = bytes(32)
#: The ``insert_events`` keyword that carries the events' timestamps to the recorder.
TIMESTAMPS = "timestamps"

Timestamps = Mapping[tuple[UUID | str, int], datetime]

#: A row of :meth:`JoinedRecorder.select_sealed`: ``(position, originator id as text, originator
#: version, topic, state bytes, link, written at)``, each column as the database gives it back
#: (a tampered row may hold text where bytes belong). The four event columns are None where the
#: chain has a link but the events table no event; the link and written time are None where
#: there is an event but no link; the written time (microseconds since 1970) is None for links
#: in format 1.
SealedRow = tuple[int, Any, Any, Any, Any, Any, Any]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@attrs.frozen
class ChainLink:
    """The chain's link at ``position`` (the notification id of the event it seals), and when
    that event was written (microseconds since 1970; None for a link in format 1)."""

    position: int
    link: bytes
    written_at: int | None = None


@attrs.frozen
class ChainFormat:
    """From ``since`` on, links are in ``format``; up to ``adopted_through`` (if set), the
    events were already in the store when the chain was first created and were sealed then."""

    format: int
    since: int
    adopted_through: int | None = None


@attrs.frozen
class TimelineEntry:
    """One row of the as-of index: a record's version, its timestamp and its position, and
    when the event was written (None where the chain records no written time)."""

    originator_version: int
    timestamp: datetime
    position: int
    written_at: datetime | None = None


@runtime_checkable
class SealedRecorder(Protocol):
    """A recorder that keeps the hash chain (and can read it back, with read access only)."""

    def select_links(
        self, start: int | None, limit: int, stop: int | None = None
    ) -> Sequence[ChainLink]:
        """Chain rows from position ``start`` (inclusive) to ``stop`` (inclusive), in order."""
        ...

    def max_link_position(self) -> int | None:
        """The position of the chain's last row (None when the chain is empty)."""
        ...

    def chain_formats(self) -> Sequence[ChainFormat]:
        """The chain's recorded formats, by the position each starts at."""
        ...


@runtime_checkable
class JoinedRecorder(Protocol):
    """A sealed recorder that reads each position's event and link in one row (optional).

    It exists for speed: ``kam audit verify`` then reads plain tuples, one query per page,
    instead of two streams of objects. The rows must say exactly what ``select_notifications``
    and ``select_links`` say, including positions that have only one of the two (an event
    removed or slipped in behind the library's back), which is what verify looks for.
    """

    def select_sealed(
        self, start: int | None, limit: int, stop: int | None = None
    ) -> Sequence[SealedRow]:
        """A :data:`SealedRow` for each position from ``start`` to ``stop`` (both inclusive; None:
        unbounded, below 1 included) that holds an event, a link or both, in position order, at
        most ``limit`` of them. The originator id is the text of the one
        ``select_notifications`` gives: a UUID in canonical form (``str(uuid)``), or as stored
        where the store keeps ids as 32 lowercase hex digits (``uuid.hex``); any other spelling
        as stored, which verify then refuses. The state is the bytes as stored."""
        ...


@runtime_checkable
class IndexedRecorder(Protocol):
    """A recorder that keeps the as-of index."""

    def version_at(self, originator_id: UUID, at: datetime) -> int | None:
        """The version of ``originator_id`` at ``at``: the last whose timestamp is not later."""
        ...

    def timeline(self, originator_id: UUID) -> Sequence[TimelineEntry]:
        """The indexed versions of ``originator_id``, in version order."""
        ...


@runtime_checkable
class LedgerRecorder(SealedRecorder, IndexedRecorder, Protocol):
    """What the library needs from a recorder beyond eventsourcing's ``ApplicationRecorder``:
    the hash chain read back and the as-of index. Every built-in recorder offers it (they are
    built on :class:`kam_domain.sealing.Sealing`); auditors ask for the part they use."""


@runtime_checkable
class ChainedLog(SealedRecorder, Protocol):
    """What verify reads: the events, as eventsourcing's notifications, and their links."""

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        """eventsourcing's: the notifications from ``start`` to ``stop``, at most ``limit``."""
        ...

    def max_notification_id(self) -> int | None:
        """eventsourcing's: the position of the last event (None when there is none)."""
        ...


def state_digest(state: bytes) -> bytes:
    """SHA-256 of a stored event's state bytes, as they are stored."""
    return hashlib.sha256(state).digest()


def chain_link(
    previous: bytes,
    position: int,
    originator_id: UUID | str,
    originator_version: int,
    topic: str,
    digest: bytes,
    written_at: int | None = None,
) -> bytes:
    """The link that seals one event (see the module's documentation for the layout): in
    format 2 when ``written_at`` (microseconds since 1970) is given, else in format 1."""
    identity = str(originator_id).encode("utf-8")
    name = topic.encode("utf-8")
    parts = [
        b"\x01" if written_at is None else b"\x02",
        previous,
        position.to_bytes(8, "big"),
        len(identity).to_bytes(4, "big"),
        identity,
        originator_version.to_bytes(8, "big"),
        len(name).to_bytes(4, "big"),
        name,
        digest,
    ]
    if written_at is not None:
        parts.append(written_at.to_bytes(8, "big", signed=True))
    return hashlib.sha256(b"".join(parts)).digest()


def seal(
    previous: bytes,
    events: Iterable[tuple[int, StoredEvent]],
    written_at: int,
) -> list[ChainLink]:
    """The links of ``events`` (position, stored event), in order, after ``previous``, all
    written at ``written_at`` (microseconds since 1970), in format 2."""
    return _links(previous, events, written_at)


def seal_adopted(previous: bytes, events: Iterable[tuple[int, StoredEvent]]) -> list[ChainLink]:
    """The links, in format 1, of events stored before the chain existed (their written time
    is unknown: it is not the time they are sealed at)."""
    return _links(previous, events, None)


def _links(
    previous: bytes, events: Iterable[tuple[int, StoredEvent]], written_at: int | None
) -> list[ChainLink]:
    links = []
    for position, event in events:
        previous = chain_link(
            previous,
            position,
            event.originator_id,
            event.originator_version,
            event.topic,
            state_digest(event.state),
            written_at,
        )
        links.append(ChainLink(position, previous, written_at))
    return links


def written_now(last: int | None) -> int:
    """The written time for events inserted now: the clock, in microseconds since 1970, but
    never before ``last`` (the written time of the chain's last link, if it has one)."""
    now = micros(datetime.now(UTC))
    return now if last is None or now > last else last


def micros(at: datetime) -> int:
    """``at`` in whole microseconds since 1970 (UTC): how times are stored and hashed."""
    return (at - _EPOCH) // _MICROSECOND


def moment(stored: int) -> datetime:
    """The UTC datetime of ``stored`` microseconds since 1970."""
    return _EPOCH + timedelta(microseconds=stored)


def canonical_id(stored: object, position: int | None = None) -> UUID:
    """The UUID a stored originator id stands for, refusing every form but the canonical one.

    A UUID column holds only its value; a text column must hold 32 lowercase hex digits (how
    eventsourcing writes a UUID to text): ``UUID()`` would also take capitals, braces, hyphens
    or a ``urn:uuid:`` prefix, and the application, which finds rows by their exact text,
    would then read a history that ``kam audit verify`` does not see.
    """
    if isinstance(stored, UUID):
        return stored
    if isinstance(stored, str) and len(stored) == 32:
        try:
            value = UUID(hex=stored)
        except ValueError:
            pass
        else:
            if value.hex == stored:
                return value
    where = "" if position is None else f" at position {position}"
    msg = (
        f"originator_id{where}: stored as {stored!r}, not in the form the library writes "
        "(the row was edited behind the library's back)"
    )
    raise StoreTampered(msg)


def event_timestamps(events: Iterable[Any]) -> dict[tuple[UUID | str, int], datetime]:
    """The :data:`TIMESTAMPS` argument for ``events`` (domain events with a ``timestamp``)."""
    return {
        (event.originator_id, event.originator_version): event.timestamp
        for event in events
        if isinstance(getattr(event, "timestamp", None), datetime)
    }


def timestamps_of(kwargs: Mapping[str, Any]) -> Timestamps:
    """The timestamps an ``insert_events`` call was given (none when it was given none)."""
    given = kwargs.get(TIMESTAMPS)
    return given if isinstance(given, Mapping) else {}
