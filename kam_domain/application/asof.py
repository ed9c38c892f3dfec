"""Records as they stood at a moment: the version in force, found through the as-of index.

Each aggregate's events are in time order (an aggregate refuses an effective time earlier than
its last event), so the record as of a moment is its history up to the last event whose
timestamp is not later than that moment. Stores whose recorder keeps the index
(:class:`~kam_domain.ledger.IndexedRecorder`) answer with one index lookup; for events the
index does not hold (an adapter without it, or events stored before it existed) the history is
replayed, which gives the same answer more slowly.

The index is derived data outside the hash chain, so its answer is proved before it is used:
the version it names must exist, be dated no later than the moment, and the version after it
(if any) later than the moment, by the events' own timestamps, which the chain covers. A
shifted, added or removed index row therefore never changes an answer: it is refused with
:class:`~kam_domain.errors.StoreTampered` (and listed by ``kam audit verify --deep``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder

from kam_domain.aggregates.base import require_utc
from kam_domain.errors import StoreTampered, ValidationError
from kam_domain.ledger import IndexedRecorder

__all__ = ["version_at"]


def version_at(
    recorder: ApplicationRecorder,
    events: Any,
    aggregate_id: UUID,
    at: object,
    version: int | None = None,
) -> int | None:
    """The version of ``aggregate_id`` at ``at`` (None: it did not exist yet).

    ``events`` is the application's event store; ``version`` must not be given as well.
    """
    if version is not None:
        raise ValidationError("at", "give either a version or a moment, not both")
    moment = require_utc("at", at)
    if isinstance(recorder, IndexedRecorder):
        found = recorder.version_at(aggregate_id, moment)
        if found is not None:
            _prove(events, aggregate_id, found, moment)
            return found
    first = next(iter(events.get(aggregate_id, limit=1)), None)
    if first is None or first.timestamp > moment:
        return None
    return _replayed(events.get(aggregate_id), moment)


def _prove(events: Any, aggregate_id: UUID, version: int, moment: datetime) -> None:
    """Refuse the index's answer unless the events say the same (see the module's docs)."""
    found = list(events.get(aggregate_id, gt=version - 1, limit=2))
    if (
        found
        and found[0].originator_version == version
        and found[0].timestamp <= moment
        and (len(found) == 1 or found[1].timestamp > moment)
    ):
        return
    msg = (
        f"as-of index: record {aggregate_id} at {moment.isoformat()} is indexed as version "
        f"{version}, which its events contradict (run kam audit verify --deep)"
    )
    raise StoreTampered(msg)


def _replayed(history: Iterable[Any], moment: datetime) -> int | None:
    version = None
    for event in history:
        if event.timestamp > moment:
            break
        version = event.originator_version
    return version
