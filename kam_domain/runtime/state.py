"""The engine's durable state: what a policy engine knows, kept in the store beside the log.

A policy engine decides in a :class:`~kam_domain.policies.world.World`: the records as the
engine has folded the log in causal order, the indexes policies ask through, and what each
policy has learned. Folding the whole log again at every start costs what the history costs;
instead the engine *checkpoints* that state into the store — each piece of it a *cell* under a
key, written only when it changed — together with the position up to which every command is
settled, in one transaction. A starting engine reads the checkpoint's position and loads cells
when it needs them, so it starts without folding the log and holds only what it uses.

A checkpoint is derived data: the log stays the truth. ``kam policies rebuild`` folds the log
into a scratch state and compares it cell by cell with the stored one; replay never reads it.

:class:`StateRecorder` is what a storage adapter provides for this (every built-in adapter's
recorders do); :class:`MemoryState` is the same in memory, for scratch states and for stores
whose recorder keeps none.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Protocol, runtime_checkable

import attrs

from kam_domain.errors import StateConflict

__all__ = ["Checkpoint", "MemoryState", "StateRecorder", "state_of"]


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
