"""Snapshots a record may be loaded from: only those the database cannot have forged.

Snapshots are derived data outside the hash chain, so a snapshot a record were loaded from
could change what a command decides (a member's authority, say) with nothing in the chain to
show it. On an encrypted store a snapshot's body is sealed with AES-GCM under a key the
database does not hold, and a :class:`SealedSnapshot` holds, inside that body, the id and the
version of the record it was taken of (eventsourcing's snapshot keeps them only in the row's
columns, which are not sealed), and the digest of the stored event it was taken at. So an
edited byte fails the seal, and a sealed snapshot moved to another record's row, or relabelled
as a later version of its own record, does not match the row it is read from. A snapshot
sealed in a copy of the store under the same key (a staging copy, a restored backup) names
events this store does not hold, or holds as other bytes: it is passed over too.
:class:`SealedSnapshots` hands the repository only snapshots that open and match; any other
is passed over, and the record is loaded from an earlier snapshot or from its events
(``kam audit verify --deep`` lists the bad one). Snapshots stored before they were sealed (or
sealed without the event's digest), and every snapshot of a store without a cipher key, are
never loaded from.

Who holds the cipher key can write a snapshot that opens: the key is the boundary, as it is
for reading the events at all. After a key rotation only snapshots sealed under the ring's
newest key are read: the older keys stay in the ring to read what they sealed, and a retired
key (a leaked one, say) must not be able to seal a snapshot a record loads from.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import AggregateRecorder, EventStore

from kam_domain.errors import KamDomainError
from kam_domain.keyring import KeyRingCipher, envelope_key_id

__all__ = ["SEAL", "SealedSnapshot", "SealedSnapshots", "event_digest"]

#: The key of the state under which a sealed snapshot holds its record's id and version, and
#: the digest of the stored event at that version.
SEAL = "sealed_as"
#: Snapshots looked at, newest first, before a record is loaded from its events instead.
LOOKED_AT = 3


@dataclasses.dataclass(frozen=True)
class SealedSnapshot(Snapshot):
    """eventsourcing's snapshot, holding inside its state its record's id and version and the
    digest of the stored event at that version."""

    @classmethod
    def take(cls, aggregate: Any, digest: str = "") -> Any:
        """The snapshot of ``aggregate``, sealed with the ``digest`` of its latest stored event."""
        taken = Snapshot.take.__func__(cls, aggregate)  # type: ignore[attr-defined]
        state = {**taken.state, SEAL: [str(aggregate.id), aggregate.version, digest]}
        return dataclasses.replace(taken, state=state)

    def mutate(self, _: None) -> Any:
        state = {k: v for k, v in self.state.items() if k != SEAL}
        return Snapshot.mutate(dataclasses.replace(self, state=state), None)

    def seals(self, originator_id: object, version: object, digest: str | None) -> bool:
        """Whether this snapshot was taken of the record ``originator_id`` at ``version``,
        whose stored event there has ``digest``."""
        return digest is not None and self.state.get(SEAL) == [str(originator_id), version, digest]


def event_digest(events: AggregateRecorder, originator_id: UUID, version: int) -> str | None:
    """The digest of the stored event of record ``originator_id`` at ``version`` (None: none).

    Its stored bytes (encrypted under a fresh nonce when written), so a copy of the store whose
    record went on by other events holds other bytes at the same version."""
    rows = events.select_events(originator_id, gt=version - 1, lte=version, limit=1)
    return hashlib.sha256(bytes(rows[0].state)).hexdigest() if rows else None


class SealedSnapshots(EventStore[UUID]):
    """The snapshot store a repository loads records from (see the module's docstring), the
    events in ``events``."""

    def __init__(self, store: EventStore[UUID], events: AggregateRecorder) -> None:
        super().__init__(store.mapper, store.recorder)
        self.events = events

    def get(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Iterator[Any]:
        # The repository asks for the latest snapshot at or before a version: the latest of a
        # few that opens and matches its row (an older one costs only the events after it).
        rows = self.recorder.select_events(
            originator_id, gt=gt, lte=lte, desc=True, limit=LOOKED_AT
        )
        for row in rows:
            snapshot = self._opened(row)
            if snapshot is not None:
                yield snapshot
                return

    def _opened(self, row: Any) -> Any | None:
        cipher = getattr(self.mapper, "cipher", None)
        newest = cipher.newest_id if isinstance(cipher, KeyRingCipher) else None
        if newest is not None and envelope_key_id(bytes(row.state)) != newest:
            return None  # sealed under a key the ring keeps only for reading
        try:
            snapshot = self.mapper.to_domain_event(row)
        except (KamDomainError, ValueError):
            return None  # a seal that does not open, or a body the mapper refuses
        if not isinstance(snapshot, SealedSnapshot):
            return None
        digest = event_digest(self.events, row.originator_id, row.originator_version)
        if not snapshot.seals(row.originator_id, row.originator_version, digest):
            return None  # another record's, another version's, or another store's events
        return snapshot
