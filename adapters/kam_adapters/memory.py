"""``memory://``: everything in process memory, gone when the process ends (tests, what-ifs).

eventsourcing's POPO recorders, extended with the hash chain and the as-of index of
:mod:`kam_domain.ledger`, kept in lists beside the events under the recorder's own lock.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import eventsourcing.popo as es_popo
from eventsourcing.persistence import ApplicationRecorder, ProcessRecorder, StoredEvent

from kam_domain.ledger import (
    CHAIN_FORMAT,
    GENESIS,
    ChainFormat,
    ChainLink,
    SealedRow,
    TimelineEntry,
    moment,
    seal,
    timestamps_of,
    written_now,
)
from kam_domain.storage import StoreUrl

__all__ = [
    "Factory",
    "MemoryAdapter",
    "POPOApplicationRecorder",
    "POPOProcessRecorder",
    "adapter",
]


class _Sealing(es_popo.POPOApplicationRecorder):
    """Links and index entries appended in the same locked update as the events."""

    def __init__(self) -> None:
        super().__init__()
        self._links: list[bytes] = []
        self._written: list[int] = []
        self._timelines: dict[str, list[TimelineEntry]] = defaultdict(list)

    def _update_table(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._update_table(stored_events, **kwargs) or []
        previous = self._links[-1] if self._links else GENESIS
        written = written_now(self._written[-1] if self._written else None)
        links = seal(previous, zip(ids, stored_events, strict=True), written)
        self._links.extend(link.link for link in links)
        self._written.extend(written for _ in links)
        timestamps = timestamps_of(kwargs)
        for position, event in zip(ids, stored_events, strict=True):
            at = timestamps.get((event.originator_id, event.originator_version))
            if at is not None:
                entry = TimelineEntry(event.originator_version, at, position, moment(written))
                self._timelines[str(event.originator_id)].append(entry)
        return ids

    def select_links(
        self, start: int | None, limit: int, stop: int | None = None
    ) -> Sequence[ChainLink]:
        with self._database_lock:
            first = max(start or 1, 1)
            last = len(self._links) if stop is None else min(stop, len(self._links))
            last = min(last, first + limit - 1)
            return [
                ChainLink(p, self._links[p - 1], self._written[p - 1])
                for p in range(first, last + 1)
            ]

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
                written = self._written[position - 1] if position <= len(links) else None
                if position <= len(events):
                    event = events[position - 1]
                    identity, version = str(event.originator_id), event.originator_version
                    rows.append(
                        (position, identity, version, event.topic, event.state, link, written)
                    )
                else:
                    rows.append((position, None, None, None, None, link, written))
            return rows

    def max_link_position(self) -> int | None:
        with self._database_lock:
            return len(self._links) or None

    def chain_formats(self) -> Sequence[ChainFormat]:
        return [ChainFormat(CHAIN_FORMAT, 1)]

    def version_at(self, originator_id: UUID, at: datetime) -> int | None:
        with self._database_lock:
            entries = self._timelines.get(str(originator_id), [])
            found = bisect_right(entries, at, key=lambda entry: entry.timestamp)
            return entries[found - 1].originator_version if found else None

    def timeline(self, originator_id: UUID) -> Sequence[TimelineEntry]:
        with self._database_lock:
            return list(self._timelines.get(str(originator_id), []))


class POPOApplicationRecorder(_Sealing):
    """eventsourcing's in-memory application recorder, sealing and indexing its events."""


class POPOProcessRecorder(_Sealing, es_popo.POPOProcessRecorder):
    """eventsourcing's in-memory process recorder, sealing and indexing its events."""


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
