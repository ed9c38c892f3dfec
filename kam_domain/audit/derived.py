"""Is the derived data what the events say? Re-deriving the as-of index and every snapshot.

The hash chain covers the events; the as-of index and the snapshots are derived from them and
kept beside them, outside the chain. The application never decides from either without proof
(an as-of answer is checked against the events' own timestamps, and records are replayed from
their events, never loaded from a snapshot), so an edited row cannot change a decision. This
module finds such rows for the auditor: ``kam audit verify --deep`` decodes every event (it
needs the cipher key of an encrypted store), derives the index rows and snapshots they imply,
and lists each row that differs.

Memory grows with the number of events (one small entry per event), which a deep check of a
whole store accepts; the chain check itself stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.persistence import AggregateRecorder, PersistenceError

from kam_domain.ledger import IndexedRecorder

__all__ = ["Mismatch", "verify_derived"]

#: Events decoded per query.
_PAGE = 1000


@attrs.frozen
class Mismatch:
    """A row of derived data that its events do not derive: where, and how it differs.

    ``kind`` is ``asof`` (an index row added, removed or changed) or ``snapshot`` (a snapshot
    whose state differs from the record replayed to its version).
    """

    kind: str
    record_id: UUID
    version: int
    position: int | None
    reason: str

    def __str__(self) -> str:
        where = f"position {self.position}" if self.position is not None else "no position"
        return f"{self.kind} {where}, record {self.record_id} version {self.version}: {self.reason}"


def verify_derived(app: Any, progress: Callable[[int], None] | None = None) -> list[Mismatch]:
    """Every as-of row and snapshot of ``app``'s store that its events do not derive.

    ``app`` is a facade opened for reading (:func:`kam_domain.audit.records.open_app`).
    """
    timelines: dict[UUID, list[tuple[int, datetime, int]]] = {}
    for position, event in _events(app, progress):
        entry = (event.originator_version, event.timestamp, position)
        timelines.setdefault(event.originator_id, []).append(entry)
    found: list[Mismatch] = []
    recorder = app.recorder
    if isinstance(recorder, IndexedRecorder):
        for record_id, expected in timelines.items():
            found += _asof(record_id, expected, recorder)
    snapshots = _snapshot_recorder(app)
    if snapshots is not None:
        for record_id, expected in timelines.items():
            positions = {version: position for version, _, position in expected}
            found += _snapshots(app, snapshots, record_id, positions)
    return sorted(found, key=lambda m: (m.position is None, m.position or 0, m.kind))


def _events(app: Any, progress: Callable[[int], None] | None) -> Iterator[tuple[int, Any]]:
    start: int | None = None
    while True:
        page = app.recorder.select_notifications(start, _PAGE)
        if not page:
            return
        for notification in page:
            yield notification.id, app.mapper.to_domain_event(notification)
        start = page[-1].id + 1
        if progress is not None:
            progress(page[-1].id)


def _asof(
    record_id: UUID, expected: list[tuple[int, datetime, int]], recorder: IndexedRecorder
) -> list[Mismatch]:
    indexed = {e.originator_version: e for e in recorder.timeline(record_id)}
    found = []
    for version, timestamp, position in expected:
        row = indexed.pop(version, None)
        if row is None:
            reason = "the event has no as-of index row"
        elif row.timestamp != timestamp or row.position != position:
            reason = (
                f"indexed at {row.timestamp.isoformat()} (position {row.position}); the event "
                f"says {timestamp.isoformat()} (position {position})"
            )
        else:
            continue
        found.append(Mismatch("asof", record_id, version, position, reason))
    for version, row in indexed.items():
        reason = f"an index row ({row.timestamp.isoformat()}) for a version with no event"
        found.append(Mismatch("asof", record_id, version, row.position, reason))
    return found


def _snapshot_recorder(app: Any) -> AggregateRecorder | None:
    try:
        recorder: AggregateRecorder = app.factory.aggregate_recorder("snapshots")
    except PersistenceError:
        return None
    return recorder


def _snapshots(
    app: Any, recorder: AggregateRecorder, record_id: UUID, positions: dict[int, int]
) -> list[Mismatch]:
    try:
        stored = recorder.select_events(record_id)
    except PersistenceError:
        return []  # no snapshots table: nothing to check
    found = []
    for row in stored:
        version = row.originator_version
        position = positions.get(version)
        try:
            snapshot = app.mapper.to_domain_event(row)
            taken = snapshot.mutate(None)
        except Exception as error:
            reason = f"the snapshot cannot be decoded: {type(error).__name__}"
            found.append(Mismatch("snapshot", record_id, version, position, reason))
            continue
        if position is None:
            reason = "a snapshot of a version with no event"
            found.append(Mismatch("snapshot", record_id, version, None, reason))
            continue
        replayed = app.repository.get(record_id, version=version)
        if _state(taken) != _state(replayed):
            differing = sorted(
                name
                for name in set(_state(taken)) | set(_state(replayed))
                if _state(taken).get(name) != _state(replayed).get(name)
            )
            reason = (
                "the snapshot differs from the record replayed from its events, in "
                + ", ".join(differing)
            )
            found.append(Mismatch("snapshot", record_id, version, position, reason))
    return found


def _state(record: Any) -> dict[str, Any]:
    return dict(vars(record))
