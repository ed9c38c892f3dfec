"""Records as they stood at a moment: the version in force, found through the as-of index.

Each aggregate's events are in time order (an aggregate refuses an effective time earlier than
its last event), so the record as of a moment is its history up to the last event whose
timestamp is not later than that moment. Stores whose recorder keeps the index
(:class:`~kam_domain.ledger.IndexedRecorder`) answer with one index lookup; for events the
index does not hold (an adapter without it, or events stored before it existed) the history is
replayed, which gives the same answer more slowly.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder

from kam_domain.aggregates.base import require_utc
from kam_domain.errors import ValidationError
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
            return found
    first = next(iter(events.get(aggregate_id, limit=1)), None)
    if first is None or first.timestamp > moment:
        return None
    return _replayed(events.get(aggregate_id), moment)


def _replayed(history: Iterable[Any], moment: datetime) -> int | None:
    version = None
    for event in history:
        if event.timestamp > moment:
            break
        version = event.originator_version
    return version
