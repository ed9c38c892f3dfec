"""The engine's durable state: what a policy engine knows, kept in the store beside the log.

A policy engine decides in a :class:`~kam_domain.policies.world.World`: the records as the
engine has folded the log in causal order, the indexes policies ask through, and what each
policy has learned. Folding the whole log again at every start costs what the history costs;
instead the engine *checkpoints* that state into the store — each piece of it a *cell* under a
key, written only when it changed — together with the position up to which every command is
settled, in one transaction. A starting engine reads the checkpoint's position, restores the
index cells and what the policies learned, and loads records only when a policy asks for them,
so it starts without folding the log.

A checkpoint is derived data: the log stays the truth. ``kam policies rebuild`` folds the log
into a scratch state and compares it cell by cell with the stored one; replay never reads it.

:class:`StateRecorder` is what a storage adapter provides for this (every built-in adapter's
recorders do); :class:`MemoryState` is the same in memory: the memory store's, and scratch
states' (a rebuild's). A store whose recorder keeps none gives an engine that folds the log at
every start, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

import attrs
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import StoredEvent

from kam_domain.errors import KamDomainError, StateConflict, StoreUnreadable

__all__ = ["Checkpoint", "MemoryState", "StateRecorder", "StoredState", "state_of"]


@attrs.frozen
class Checkpoint:
    """The latest checkpoint: its serial number and the log position it holds the state at."""

    serial: int
    position: int


@runtime_checkable
class StateRecorder(Protocol):
    """Cells of an engine's state, by key, written a checkpoint at a time.

    Keys are short ASCII strings; values are the bytes the engine encoded (through the store's
    mapper, so a store's cipher and compression apply to them as to its events). A store that
    has never had a checkpoint written — including a store opened read-only — answers as empty
    and creates nothing.
    """

    def state_checkpoint(self) -> Checkpoint | None:
        """The latest checkpoint, or None when none was written."""

    def select_state(self, keys: Iterable[str]) -> dict[str, bytes]:
        """The cells among ``keys`` that the latest checkpoint holds."""

    def select_state_prefixed(self, prefix: str) -> Iterator[tuple[str, bytes]]:
        """Every cell whose key starts with ``prefix``, in key order."""

    def write_state(
        self, *, expected: int | None, position: int, cells: Mapping[str, bytes | None]
    ) -> Checkpoint:
        """Write ``cells`` (None deletes a cell) and the checkpoint at ``position``, atomically.

        ``expected`` is the serial of the checkpoint the state was read from (None: no
        checkpoint): when the latest is another, nothing is written and :class:`StateConflict`
        is raised. Returns the new checkpoint (its serial one more than the last).
        """

    def clear_state(self) -> None:
        """Delete every cell and the checkpoint (a rebuild writes the state afresh)."""


class MemoryState:
    """A :class:`StateRecorder` in memory: the memory store's, and scratch states'."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cells: dict[str, bytes] = {}
        self._checkpoint: Checkpoint | None = None

    def state_checkpoint(self) -> Checkpoint | None:
        return self._checkpoint

    def select_state(self, keys: Iterable[str]) -> dict[str, bytes]:
        with self._lock:
            return {key: self._cells[key] for key in keys if key in self._cells}

    def select_state_prefixed(self, prefix: str) -> Iterator[tuple[str, bytes]]:
        with self._lock:
            found = sorted((k, v) for k, v in self._cells.items() if k.startswith(prefix))
        return iter(found)

    def write_state(
        self, *, expected: int | None, position: int, cells: Mapping[str, bytes | None]
    ) -> Checkpoint:
        with self._lock:
            latest = None if self._checkpoint is None else self._checkpoint.serial
            if latest != expected:
                msg = f"the state's checkpoint is {latest}, not {expected}"
                raise StateConflict(msg)
            for key, value in cells.items():
                if value is None:
                    self._cells.pop(key, None)
                else:
                    self._cells[key] = bytes(value)
            self._checkpoint = Checkpoint((latest or 0) + 1, position)
            return self._checkpoint

    def clear_state(self) -> None:
        with self._lock:
            self._cells.clear()
            self._checkpoint = None


def state_of(recorder: object) -> StateRecorder | None:
    """The state ``recorder`` keeps, or None when its adapter keeps none."""
    return recorder if isinstance(recorder, StateRecorder) else None


#: Key prefixes of the cells: a record of the world, an index cell, a policy's learned state.
RECORD = "r:"
INDEX = "x:"
LEARNED = "p:"
#: The cell naming the policies whose learned state the checkpoint holds.
LEARNERS = "p:learners"


class StoredState:
    """A world's :class:`~kam_domain.policies.world.Backing` over a store's state, and the
    writing of checkpoints into it.

    Values are encoded as the store encodes its events (the library's transcoder, then the
    store's compression and cipher); a record is encoded as a snapshot of it, and decoded only
    when its topic is one the library writes (an edited cell cannot make a worker import
    anything).
    """

    def __init__(self, recorder: StateRecorder, mapper: Any) -> None:
        self.recorder = recorder
        self._mapper = mapper
        checkpoint = recorder.state_checkpoint()
        self.checkpoint = checkpoint
        self._serial = None if checkpoint is None else checkpoint.serial
        #: Whether the next checkpoint replaces the state whole (see :meth:`start_afresh`), and
        #: whatever checkpoint is stored (one no engine could have written, or in a rebuild).
        self.afresh = False
        self._over_any = False

    # -- reading ---------------------------------------------------------------------------------

    def record(self, record_id: UUID) -> tuple[Any, int] | None:
        found = self.recorder.select_state([f"{RECORD}{record_id}"])
        value = found.get(f"{RECORD}{record_id}")
        return None if value is None else self.decode_record(record_id, value)

    def cells(self) -> dict[str, Any]:
        return {
            key: self.decode(value) for key, value in self.recorder.select_state_prefixed(INDEX)
        }

    def learned(self) -> dict[str, Any]:
        """Every learned-state cell, decoded (and remembered as what the store holds)."""
        return {
            key: self.decode(value) for key, value in self.recorder.select_state_prefixed(LEARNED)
        }

    def start_afresh(self, *, over_any: bool = False) -> None:
        """The next checkpoint holds a world folded from the log: it replaces what is stored."""
        self.afresh = True
        self._over_any = over_any

    # -- writing ---------------------------------------------------------------------------------

    def write(
        self,
        position: int,
        records: Mapping[UUID, tuple[Any, int] | None],
        cells: Mapping[str, Any],
        learned: Mapping[str, Any],
    ) -> bool:
        """Write a checkpoint at ``position`` of what changed; False when another engine's
        checkpoint is ahead (this one is not written, and its changes are kept for the next)."""
        encoded: dict[str, bytes | None] = {
            f"{RECORD}{key}": None if found is None else self.encode_record(*found)
            for key, found in records.items()
        }
        for key, value in (*cells.items(), *learned.items()):
            encoded[key] = None if value is None else self.encode(value)
        while True:
            cells = encoded
            if self.afresh:
                # The whole state, replacing the stored one in the same transaction: the cells
                # it holds that this one does not are deleted, against the checkpoint read here.
                latest = self.recorder.state_checkpoint()
                if latest is not None and latest.position > position and not self._over_any:
                    return False  # another engine's, further on
                self._serial = None if latest is None else latest.serial
                stale = {key: None for key, _ in self.recorder.select_state_prefixed("")}
                cells = {**stale, **encoded}
            try:
                self.checkpoint = self.recorder.write_state(
                    expected=self._serial, position=position, cells=cells
                )
            except StateConflict:
                latest = self.recorder.state_checkpoint()
                self._serial = None if latest is None else latest.serial
                if not self.afresh and (latest is None or latest.position > position):
                    return False
                continue
            self._serial = self.checkpoint.serial
            self.afresh = False
            return True

    # -- the encoding ----------------------------------------------------------------------------

    def encode(self, value: Any) -> bytes:
        data: bytes = self._mapper.transcoder.encode(value)
        if self._mapper.compressor is not None:
            data = self._mapper.compressor.compress(data)
        if self._mapper.cipher is not None:
            data = self._mapper.cipher.encrypt(data)
        return data

    def decode(self, data: bytes) -> Any:
        try:
            if self._mapper.cipher is not None:
                data = self._mapper.cipher.decrypt(data)
            if self._mapper.compressor is not None:
                data = self._mapper.compressor.decompress(data)
            return self._mapper.transcoder.decode(data)
        except Exception as error:
            # Whatever a cipher, decompressor or decoder raises on bytes it did not write.
            msg = f"the policies' state holds a cell the library did not write: {error}"
            raise StoreUnreadable(msg) from error

    def encode_record(self, record: Any, folded_at: int) -> bytes:
        """A snapshot of ``record`` as the store encodes one, after a head naming its topic, its
        version and the position of the last event folded into it."""
        snapshot_class: Any = getattr(type(record), "Snapshot", Snapshot)
        stored = self._mapper.to_stored_event(snapshot_class.take(record))
        head = f"{stored.topic}\n{stored.originator_version}\n{folded_at}\n".encode()
        return head + bytes(stored.state)

    def decode_record(self, record_id: UUID, data: bytes) -> tuple[Any, int]:
        try:
            topic, version, folded_at, state = data.split(b"\n", 3)
            position = int(folded_at)
            stored = StoredEvent(
                originator_id=record_id,
                originator_version=int(version),
                topic=topic.decode("ascii"),
                state=state,
            )
        except (ValueError, UnicodeDecodeError) as error:
            msg = f"the policies' state: record {record_id} is not in the form the library writes"
            raise StoreUnreadable(msg) from error
        try:
            snapshot = self._mapper.to_domain_event(stored)
            return snapshot.mutate(None), position
        except KamDomainError:
            raise
        except Exception as error:
            msg = f"the policies' state: record {record_id} is not in the form the library writes"
            raise StoreUnreadable(msg) from error
