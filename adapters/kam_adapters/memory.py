"""``memory://``: everything in process memory, gone when the process ends (tests, what-ifs).

eventsourcing's POPO recorders, extended with the hash chain and the as-of index of
:mod:`kam_domain.ledger` through the sealing core (:mod:`kam_domain.sealing`), kept in lists
beside the events under the recorder's own lock; and the engine's state
(:class:`~kam_domain.runtime.state.StateRecorder`) in a
:class:`~kam_domain.runtime.state.MemoryState` of the recorder's own.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import eventsourcing.popo as es_popo
from eventsourcing.persistence import ApplicationRecorder, ProcessRecorder, StoredEvent

from kam_domain.ledger import CHAIN_FORMAT, ChainFormat, ChainLink, SealedRow
from kam_domain.runtime.state import Checkpoint, MemoryState
from kam_domain.sealing import IndexRow, LinkRow, Sealing, TimelineRow
from kam_domain.storage import StoreUrl

__all__ = [
    "Factory",
    "MemoryAdapter",
    "POPOApplicationRecorder",
    "POPOProcessRecorder",
    "adapter",
]


class _Sealing(Sealing[None], es_popo.POPOApplicationRecorder):
    """Links and index entries appended in the same locked update as the events."""

    def __init__(self) -> None:
        super().__init__()
        self._links: list[bytes] = []
        self._written: list[int | None] = []
        self._index: dict[str, list[IndexRow]] = defaultdict(list)

    # Private in eventsourcing, and the one place where an in-memory insert can add rows under
    # the recorder's lock after the events' uniqueness has been checked. A public hook for
    # rows written with the events (docs/architecture.md) would replace it.
    def _update_table(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Nothing here can be rolled back: the links and index rows are computed first, at the
        # positions the events will get, so that whatever refuses the write does so before
        # anything has changed; writing them then only appends to lists.
        first = len(self._stored_events) + 1
        sealed = self._sealed(None, range(first, first + len(stored_events)), stored_events, kwargs)
        ids = super()._update_table(stored_events, **kwargs)
        self._record(None, sealed)
        return ids

    @contextmanager
    def _reading(self) -> Iterator[None]:
        with self._database_lock:
            yield None

    def _writing(self) -> AbstractContextManager[None]:
        return self._reading()  # the one lock keeps reads and writes apart

    def _last_link(self, c: None) -> LinkRow | None:
        if not self._links:
            return None
        return len(self._links), self._links[-1], self._written[-1]

    def _write_links(self, c: None, links: Sequence[ChainLink]) -> None:
        # A link's position is its place in the list: the core writes links in position
        # order, each right after the last.
        self._links.extend(link.link for link in links)
        self._written.extend(link.written_at for link in links)

    def _write_index(self, c: None, rows: Sequence[IndexRow]) -> None:
        for row in rows:
            self._index[str(row.originator_id)].append(row)

    def _formats_in(self, c: None) -> Sequence[ChainFormat]:
        return [ChainFormat(CHAIN_FORMAT, 1)]

    def _last_position_in(self, c: None) -> int | None:
        return len(self._links) or None

    def _link_rows(self, c: None, low: int, stop: int | None, limit: int) -> Iterable[LinkRow]:
        first = max(low, 1)
        last = len(self._links) if stop is None else min(stop, len(self._links))
        last = min(last, first + limit - 1)
        return [(p, self._links[p - 1], self._written[p - 1]) for p in range(first, last + 1)]

    def _version_row(self, c: None, originator_id: UUID, at: datetime) -> int | None:
        rows = self._index.get(str(originator_id), [])
        found = bisect_right(rows, at, key=lambda row: row.timestamp)
        return rows[found - 1].originator_version if found else None

    def _timeline_rows(self, c: None, originator_id: UUID) -> Iterable[TimelineRow]:
        return [
            (row.originator_version, row.timestamp, row.position, self._written_at(row.position))
            for row in self._index.get(str(originator_id), [])
        ]

    def _written_at(self, position: int) -> int | None:
        return self._written[position - 1] if 0 < position <= len(self._written) else None

    def select_sealed(
        self, start: int | None, limit: int, stop: int | None = None
    ) -> Sequence[SealedRow]:
        with self._database_lock:
            events, links = self._stored_events, self._links
            first = max(start or 1, 1)
            last = max(len(events), len(links)) if stop is None else stop
            last = min(last, max(len(events), len(links)), first + limit - 1)
            rows: list[SealedRow] = []
            for position in range(first, last + 1):
                link = links[position - 1] if position <= len(links) else None
                written = self._written_at(position)
                if position <= len(events):
                    event = events[position - 1]
                    identity, version = str(event.originator_id), event.originator_version
                    rows.append(
                        (position, identity, version, event.topic, event.state, link, written)
                    )
                else:
                    rows.append((position, None, None, None, None, link, written))
            return rows


class _Recorder(_Sealing):
    """Sealing and indexing its events, and keeping the engine's state in memory."""

    def __init__(self) -> None:
        super().__init__()
        self._state = MemoryState()

    def state_checkpoint(self) -> Checkpoint | None:
        return self._state.state_checkpoint()

    def select_state(self, keys: Iterable[str]) -> dict[str, bytes]:
        return self._state.select_state(keys)

    def select_state_prefixed(self, prefix: str) -> Iterator[tuple[str, bytes]]:
        return self._state.select_state_prefixed(prefix)

    def write_state(
        self, *, expected: int | None, position: int, cells: Mapping[str, bytes | None]
    ) -> Checkpoint:
        return self._state.write_state(expected=expected, position=position, cells=cells)

    def clear_state(self) -> None:
        self._state.clear_state()


class POPOApplicationRecorder(_Recorder):
    """eventsourcing's in-memory application recorder, sealing and indexing its events and
    keeping the engine's state."""


class POPOProcessRecorder(_Recorder, es_popo.POPOProcessRecorder):
    """eventsourcing's in-memory process recorder, sealing and indexing its events and keeping
    the engine's state."""


class Factory(es_popo.POPOFactory):
    """eventsourcing's in-memory factory with the sealing recorders."""

    def application_recorder(self) -> ApplicationRecorder:
        return POPOApplicationRecorder()

    def process_recorder(self) -> ProcessRecorder:
        return POPOProcessRecorder()


class MemoryAdapter:
    scheme = "memory"
    options: frozenset[str] = frozenset()

    def environment(self, url: StoreUrl) -> dict[str, str]:
        return {"PERSISTENCE_MODULE": f"{__name__}:Factory"}


adapter = MemoryAdapter()
