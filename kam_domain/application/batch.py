"""The records of one ``app.batch()`` block: those its commands read, and those they changed.

A batch keeps every record it has loaded, not only the ones its commands change: most commands
read the team (for the actor's credentials) and would otherwise load it again, command after
command. Nothing else can change a kept record unnoticed: the batch's single save fails on a
conflict with another writer.

A host may catch a refused command inside the block and go on (see docs/embedding.md). A
command that changes one record and is then refused on another leaves the first record ahead
of what was accepted; the batch notices (its version is not the one it accepted) and rebuilds
it from the store and the events it did accept, so that neither later commands nor the save
see the refused command's changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from uuid import UUID

from kam_domain.aggregates.base import KamAggregate

__all__ = ["Batch"]

#: Loads a record at a stored version (a copy the caller may change).
LoadAt = Callable[[UUID, int], KamAggregate]


class Batch:
    """The records a batch holds, and the version each was last accepted at."""

    def __init__(self, load_at: LoadAt) -> None:
        self._load_at = load_at
        self._records: dict[UUID, KamAggregate] = {}
        self._accepted: dict[UUID, int] = {}
        # Insertion-ordered: records are saved in the order commands first changed them.
        self._changed: dict[UUID, None] = {}

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._records

    def get(self, record_id: UUID) -> KamAggregate | None:
        """The record as the batch's accepted commands left it (None if not held)."""
        record = self._records.get(record_id)
        if record is not None and record.version != self._accepted[record_id]:
            record = self._restore(record)
        return record

    def keep(self, record: KamAggregate) -> None:
        """Hold ``record``, just loaded from the store, unchanged."""
        self._records[record.id] = record
        self._accepted[record.id] = record.version

    def accept(self, records: Iterable[KamAggregate]) -> None:
        """A command succeeded: its changes to ``records`` are part of the batch."""
        for record in records:
            self._records[record.id] = record
            self._accepted[record.id] = record.version
            self._changed[record.id] = None

    def changed(self) -> list[KamAggregate]:
        """The records to save, each as accepted."""
        return [record for record in map(self.get, self._changed) if record is not None]

    def _restore(self, record: KamAggregate) -> KamAggregate:
        accepted = self._accepted[record.id]
        pending = list(record.pending_events)
        stored = record.version - len(pending)
        kept = [event for event in pending if event.originator_version <= accepted]
        restored: KamAggregate | None = self._load_at(record.id, stored) if stored else None
        for event in kept:
            restored = event.mutate(restored)
        assert restored is not None
        assert restored.version == accepted
        restored.pending_events.extend(kept)
        self._records[record.id] = restored
        return restored
