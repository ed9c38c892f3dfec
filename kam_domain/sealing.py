"""The sealing core: what every recorder does to keep the chain and the as-of index, once.

A recorder seals the events it inserts in the transaction that inserts them, keeps each
event's as-of index row there too, creates the chain over events stored before it existed,
and reads links and index rows back for auditors (see :mod:`kam_domain.ledger` for the
layout). :class:`Sealing` does all of that over a handful of small hooks a backend supplies:
its statements and how its rows come back. The built-in adapters (``kam_adapters.memory``,
``.sqlite``, ``.postgres``) build on it, and so may a third party's; the conformance kit
(:mod:`kam_domain.testing.storage`) checks the contract on each.

The contract, beyond the chain's bytes:

- **no link is written over**: a write whose first position the chain already reaches (the
  events table lost its tail behind the library's back, and the database hands a removed
  position out again) is refused with eventsourcing's :class:`DatabaseError`, and nothing of
  it is recorded, so the chain cannot be continued over what it sealed before;
- **written times never go back** along the chain (:func:`~kam_domain.ledger.written_now`);
- **a row the library never writes** (a link or a time of another type) is refused as
  :class:`~kam_domain.errors.StoreTampered` when it is read, never passed on.

The core sits beside the ledger in the domain package, not among the adapters: it imports
nothing of any backend, and a third-party adapter can use it without importing the built-in
ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import attrs
from eventsourcing.persistence import DatabaseError, StoredEvent

from kam_domain.errors import StoreTampered
from kam_domain.ledger import (
    CHAIN_FORMAT,
    GENESIS,
    ChainFormat,
    ChainLink,
    SealedRow,
    TimelineEntry,
    moment,
    seal,
    seal_adopted,
    timestamps_of,
    written_now,
)

__all__ = [
    "HIGHEST",
    "LOWEST",
    "IndexRow",
    "LinkRow",
    "Sealed",
    "Sealing",
    "TimelineRow",
    "by_position",
    "refuse_overrun",
    "stored_link",
    "timeline_entry",
]

#: The lowest and highest positions a store can hold (a signed 64-bit integer): the bounds of
#: a read whose start or stop is None.
LOWEST, HIGHEST = -(2**63), 2**63 - 1
#: Events sealed per statement when a chain is created over events already stored.
ADOPTION_PAGE = 1000

C = TypeVar("C")
T = TypeVar("T")

#: A chain row as a backend reads it: (position, link, written at), each as stored.
LinkRow = tuple[Any, Any, Any]
#: An as-of row as a backend reads it: (version, timestamp, position, written at), as stored.
TimelineRow = tuple[Any, Any, Any, Any]


@attrs.frozen
class IndexRow:
    """One as-of index row to write: a record's version, its timestamp and its position."""

    originator_id: UUID | str
    originator_version: int
    timestamp: datetime
    position: int


@attrs.frozen
class Sealed:
    """What sealing a write adds: its links and its as-of index rows."""

    links: Sequence[ChainLink]
    rows: Sequence[IndexRow]


class Sealing(Generic[C]):
    """Mixin for a recorder: seals and indexes what it inserts; reads links and the index.

    ``C`` is what the backend's hooks work through: a cursor in the transaction at hand (the
    memory recorder, which has none, passes None). A subclass calls :meth:`_seal_inserted`
    from inside the transaction that inserts events, once their positions are known, and
    :meth:`_adopt_chain` once its tables exist, and supplies the hooks below.
    """

    # -- hooks: writing, inside the inserting transaction ----------------------------------

    def _last_link(self, c: C) -> LinkRow | None:
        """The chain's last row, as stored (None when the chain is empty)."""
        raise NotImplementedError

    def _write_links(self, c: C, links: Sequence[ChainLink]) -> None:
        """Add ``links`` to the chain table."""
        raise NotImplementedError

    def _write_index(self, c: C, rows: Sequence[IndexRow]) -> None:
        """Add ``rows`` to the as-of index."""
        raise NotImplementedError

    def _as_read(self, event: StoredEvent) -> StoredEvent:
        """``event`` with its originator id as the store gives it back (what verify hashes)."""
        return event

    # -- hooks: adopting events stored before the chain, inside a write transaction --------

    def _writing(self) -> AbstractContextManager[C]:
        """A write transaction that holds the write lock every inserting writer takes, from
        its start; committed when its block ends normally, rolled back on any exception."""
        raise NotImplementedError

    def _formats_in(self, c: C) -> Sequence[ChainFormat]:
        """The chain's recorded formats, by the position each starts at."""
        raise NotImplementedError

    def _write_format(self, c: C, recorded: ChainFormat) -> None:
        """Record that the chain is in ``recorded.format`` from ``recorded.since``."""
        raise NotImplementedError

    def _last_position_in(self, c: C) -> int | None:
        """The position of the chain's last row (None when the chain is empty)."""
        raise NotImplementedError

    def _unsealed(self, c: C, after: int, limit: int) -> Sequence[tuple[int, StoredEvent]]:
        """At most ``limit`` stored events after position ``after``, in position order, each
        with its originator id as the store gives it back."""
        raise NotImplementedError

    # -- hooks: reading ----------------------------------------------------------------------

    def _reading(self) -> AbstractContextManager[C]:
        """A read-only transaction (or whatever keeps a read consistent)."""
        raise NotImplementedError

    def _read(self, query: Callable[[C], T]) -> T:
        """``query`` run in :meth:`_reading` (a backend may retry it on a lost connection)."""
        with self._reading() as c:
            return query(c)

    def _link_rows(self, c: C, low: int, stop: int | None, limit: int) -> Iterable[LinkRow]:
        """Chain rows from position ``low`` to ``stop`` (both inclusive; None: unbounded), in
        position order, at most ``limit`` of them."""
        raise NotImplementedError

    def _version_row(self, c: C, originator_id: UUID, at: datetime) -> int | None:
        """The last indexed version of ``originator_id`` whose timestamp is not later than
        ``at`` (ties: the highest version); None when there is none."""
        raise NotImplementedError

    def _timeline_rows(self, c: C, originator_id: UUID) -> Iterable[TimelineRow]:
        """The as-of rows of ``originator_id`` in version order, each with the written time
        of the link at its position (None where there is none)."""
        raise NotImplementedError

    # -- the core ----------------------------------------------------------------------------

    def _seal_inserted(
        self,
        c: C,
        positions: Sequence[int],
        stored_events: Sequence[StoredEvent],
        kwargs: Mapping[str, Any],
    ) -> None:
        """Seal and index ``stored_events``, just inserted at ``positions`` through ``c``."""
        self._record(c, self._sealed(c, positions, stored_events, kwargs))

    def _sealed(
        self,
        c: C,
        positions: Iterable[int],
        stored_events: Sequence[StoredEvent],
        kwargs: Mapping[str, Any],
    ) -> Sealed:
        """The links and index rows of ``stored_events`` at ``positions``, written nowhere yet:
        everything that may refuse the write (the overrun, a tampered last link) is here."""
        events = [
            (position, self._as_read(event))
            for position, event in zip(positions, stored_events, strict=True)
        ]
        timestamps = timestamps_of(kwargs)
        rows = [
            IndexRow(event.originator_id, event.originator_version, at, position)
            for position, event in events
            if (at := timestamps.get((event.originator_id, event.originator_version)))
        ]
        return Sealed(self._new_links(c, events) if events else [], rows)

    def _record(self, c: C, sealed: Sealed) -> None:
        """Write what :meth:`_sealed` gave."""
        if sealed.links:
            self._write_links(c, sealed.links)
        if sealed.rows:
            self._write_index(c, sealed.rows)

    def _new_links(
        self, c: C, events: Sequence[tuple[int, StoredEvent]], *, adopted: bool = False
    ) -> list[ChainLink]:
        """The links of ``events`` after the chain's last, in format 1 when ``adopted`` (events
        stored before the chain existed: their written time is unknown), else in format 2."""
        last = self._last_link(c)
        refuse_overrun(last, events[0][0])
        previous = GENESIS if last is None else _link_bytes(last[0], last[1])
        if adopted:
            return seal_adopted(previous, events)
        # A written time in another form (edited) restarts from the clock; verify names it.
        before = last[2] if last is not None and type(last[2]) is int else None
        return seal(previous, events, written_now(before))

    def _adopt_chain(self) -> None:
        """Make the chain current, once its tables exist (when the store is opened to write):
        record its formats, and seal the events stored before it existed in format 1 (their
        written time is unknown). A chain in format 1 goes on in format 2 from its next
        position, its old links verifying as they are."""
        if self._read(self._chain_is_current):
            return
        with self._writing() as c:
            self._adopt(c)

    def _chain_is_current(self, c: C) -> bool:
        return any(recorded.format == CHAIN_FORMAT for recorded in self._formats_in(c))

    def _adopt(self, c: C) -> None:
        recorded = {found.format for found in self._formats_in(c)}
        if CHAIN_FORMAT in recorded:
            return
        after = self._last_position_in(c) or 0
        adopted: int | None = None
        while not recorded:
            events = self._unsealed(c, after, ADOPTION_PAGE)
            if not events:
                break
            self._write_links(c, self._new_links(c, events, adopted=True))
            after = adopted = events[-1][0]
        if adopted is not None:
            self._write_format(c, ChainFormat(1, 1, adopted))
        self._write_format(c, ChainFormat(CHAIN_FORMAT, after + 1))

    def select_links(
        self, start: int | None, limit: int, stop: int | None = None
    ) -> Sequence[ChainLink]:
        low = LOWEST if start is None else start
        rows = self._read(lambda c: list(self._link_rows(c, low, stop, limit)))
        return [stored_link(*row) for row in rows]

    def max_link_position(self) -> int | None:
        return self._read(self._last_position_in)

    def chain_formats(self) -> Sequence[ChainFormat]:
        return list(self._read(self._formats_in))

    def version_at(self, originator_id: UUID, at: datetime) -> int | None:
        return self._read(lambda c: self._version_row(c, originator_id, at))

    def timeline(self, originator_id: UUID) -> Sequence[TimelineEntry]:
        rows = self._read(lambda c: list(self._timeline_rows(c, originator_id)))
        return [timeline_entry(*row) for row in rows]


def by_position(rows: Iterable[SealedRow], limit: int) -> list[SealedRow]:
    """``rows`` in position order, cut to ``limit`` (rows read from two sides of a join)."""
    return sorted(rows, key=_position)[:limit]


def stored_link(position: int, link: object, written: object) -> ChainLink:
    """A chain row as a ChainLink; a row in a form the library never writes is tampering."""
    if written is not None and type(written) is not int:
        msg = f"written_at at position {position}: stored as {type(written).__name__}"
        raise StoreTampered(msg)
    return ChainLink(position, _link_bytes(position, link), written)


def timeline_entry(
    version: object, timestamp: object, position: object, written: object
) -> TimelineEntry:
    """An as-of row as a TimelineEntry; a row in a form the library never writes is tampering.

    The timestamp is whole microseconds since 1970 where the backend stores it so, or a
    timezone-aware datetime; the written time (of the link at the row's position) is
    microseconds, or None where there is no such link or it has no written time.
    """
    if type(version) is not int:
        msg = f"as-of index, originator_version at position {position}: stored as {version!r}"
        raise StoreTampered(msg)
    if type(position) is not int:
        raise StoreTampered(f"as-of index, notification_id: stored as {position!r}")
    if type(timestamp) is int:
        at = moment(timestamp)
    elif isinstance(timestamp, datetime) and timestamp.tzinfo is not None:
        at = timestamp.astimezone(UTC)
    else:
        msg = f"as-of index, timestamp at position {position}: stored as {timestamp!r}"
        raise StoreTampered(msg)
    return TimelineEntry(version, at, position, moment(written) if type(written) is int else None)


def refuse_overrun(last: LinkRow | None, first: int) -> None:
    """Refuse a write at position ``first`` when the chain's ``last`` row already reaches it:
    continuing the chain there would seal over a removed event's link."""
    if last is not None and type(last[0]) is int and last[0] >= first:
        msg = (
            f"the hash chain already reaches position {last[0]}, beyond the new event at "
            f"{first}: events were removed from the store (run kam audit verify)"
        )
        raise DatabaseError(msg)


def _link_bytes(position: object, link: object) -> bytes:
    if not isinstance(link, bytes):
        raise StoreTampered(f"link at position {position}: stored as {type(link).__name__}")
    return link


def _position(row: SealedRow) -> int:
    return row[0]
