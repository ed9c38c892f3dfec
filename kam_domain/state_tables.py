"""The state core: how a recorder keeps the engine's durable state in its store, once.

An engine checkpoints its state into the store as cells by key, with the checkpoint's serial
number and position (see :mod:`kam_domain.runtime.state`). A database recorder keeps them in
two tables of its own beside the log: the cells (key, value) and the checkpoint (one row:
serial, position). :class:`StateTables` implements
:class:`~kam_domain.runtime.state.StateRecorder` over a handful of small hooks a backend
supplies, as :mod:`kam_domain.sealing` does for the chain: its statements and how its rows
come back. The SQLite and PostgreSQL adapters build on it; the memory adapter keeps a
:class:`~kam_domain.runtime.state.MemoryState`.

The contract:

- **one writer at a time**: a write runs in one transaction that holds the state's write lock
  from before it reads the checkpoint, so of two writers that read the same checkpoint one
  writes and the other gets :class:`~kam_domain.errors.StateConflict`, with nothing written;
- **readers create nothing**: a store without the tables (written before they existed, or
  opened read-only) answers as empty; the tables are created by the first write at the latest;
- **a row the library never writes** (a value that is not bytes, a serial that is not an
  integer) is refused as :class:`~kam_domain.errors.StoreTampered` when it is read.

The state is derived data: the log stays the truth, and a rebuild writes it afresh.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar

from kam_domain.errors import StateConflict, StoreTampered
from kam_domain.runtime.state import Checkpoint

__all__ = ["CellRow", "CheckpointRow", "StateTables", "key_range"]

C = TypeVar("C")

#: A cell as a backend reads it: (key, value), each as stored.
CellRow = tuple[Any, Any]
#: The checkpoint as a backend reads it: (serial, position), each as stored.
CheckpointRow = tuple[Any, Any]

#: Keys looked up per statement (SQLite allows 999 parameters in older builds).
KEYS_PER_STATEMENT = 500


class StateTables(Generic[C]):
    """Mixin for a recorder: the engine's state in two tables, through the hooks below.

    ``C`` is what the hooks work through: a cursor in the transaction at hand.
    """

    # -- hooks -------------------------------------------------------------------------------

    def _state_reading(self) -> AbstractContextManager[C | None]:
        """A read transaction, or None in its place when the store has no state tables."""
        raise NotImplementedError

    def _state_writing(self) -> AbstractContextManager[C]:
        """A write transaction holding the state's write lock from its start, with the
        tables created if missing; committed when its block ends normally, rolled back on
        any exception."""
        raise NotImplementedError

    def _checkpoint_row(self, c: C) -> CheckpointRow | None:
        """The checkpoint's row, as stored (None when there is none)."""
        raise NotImplementedError

    def _cell_rows(self, c: C, keys: Sequence[str]) -> Iterable[CellRow]:
        """The cells among ``keys`` (at most :data:`KEYS_PER_STATEMENT`), in any order."""
        raise NotImplementedError

    def _cell_rows_between(self, c: C, low: str, high: str | None) -> Iterable[CellRow]:
        """The cells with ``low <= key < high`` (None: no upper bound), in key order (code
        point order: what a binary collation gives for text stored as UTF-8)."""
        raise NotImplementedError

    def _put_cells(self, c: C, cells: Sequence[tuple[str, bytes]]) -> None:
        """Insert or replace ``cells``."""
        raise NotImplementedError

    def _delete_cells(self, c: C, keys: Sequence[str]) -> None:
        """Delete the cells under ``keys`` (those that exist)."""
        raise NotImplementedError

    def _put_checkpoint(self, c: C, checkpoint: Checkpoint) -> None:
        """Insert or replace the checkpoint's one row."""
        raise NotImplementedError

    def _delete_state(self, c: C) -> None:
        """Delete every cell and the checkpoint."""
        raise NotImplementedError

    # -- the protocol ------------------------------------------------------------------------

    def state_checkpoint(self) -> Checkpoint | None:
        with self._state_reading() as c:
            row = None if c is None else self._checkpoint_row(c)
        return None if row is None else stored_checkpoint(row)

    def select_state(self, keys: Iterable[str]) -> dict[str, bytes]:
        wanted = sorted(set(keys))
        found: dict[str, bytes] = {}
        if not wanted:
            return found
        with self._state_reading() as c:
            if c is None:
                return found
            for start in range(0, len(wanted), KEYS_PER_STATEMENT):
                chunk = wanted[start : start + KEYS_PER_STATEMENT]
                found.update(stored_cell(*row) for row in self._cell_rows(c, chunk))
        return found

    def select_state_prefixed(self, prefix: str) -> Iterator[tuple[str, bytes]]:
        low, high = key_range(prefix)
        with self._state_reading() as c:
            rows = (
                []
                if c is None
                else [stored_cell(*row) for row in self._cell_rows_between(c, low, high)]
            )
        return iter(rows)

    def write_state(
        self, *, expected: int | None, position: int, cells: Mapping[str, bytes | None]
    ) -> Checkpoint:
        puts = [(key, bytes(value)) for key, value in cells.items() if value is not None]
        deletes = [key for key, value in cells.items() if value is None]
        with self._state_writing() as c:
            row = self._checkpoint_row(c)
            latest = None if row is None else stored_checkpoint(row).serial
            if latest != expected:
                msg = f"the state's checkpoint is {latest}, not {expected}"
                raise StateConflict(msg)
            if deletes:
                self._delete_cells(c, deletes)
            if puts:
                self._put_cells(c, puts)
            checkpoint = Checkpoint((latest or 0) + 1, position)
            self._put_checkpoint(c, checkpoint)
        return checkpoint

    def clear_state(self) -> None:
        with self._state_writing() as c:
            self._delete_state(c)


def key_range(prefix: str) -> tuple[str, str | None]:
    """The keys starting with ``prefix`` as a range ``low <= key < high`` (None: unbounded),
    which an index on the key answers with one seek."""
    stem = prefix
    while stem and ord(stem[-1]) == 0x10FFFF:
        stem = stem[:-1]  # no character follows it: the range ends where its stem's does
    if not stem:
        return prefix, None
    return prefix, stem[:-1] + chr(ord(stem[-1]) + 1)


def stored_checkpoint(row: CheckpointRow) -> Checkpoint:
    """The checkpoint row as a Checkpoint; a row in a form the library never writes is
    tampering."""
    serial, position = row
    if type(serial) is not int or type(position) is not int:
        msg = f"state checkpoint: stored as ({type(serial).__name__}, {type(position).__name__})"
        raise StoreTampered(msg)
    return Checkpoint(serial, position)


def stored_cell(key: object, value: object) -> tuple[str, bytes]:
    """A cell row as (key, bytes); a value the library never writes is tampering."""
    if not isinstance(key, str):
        raise StoreTampered(f"state cell: key stored as {type(key).__name__}")
    if isinstance(value, memoryview):
        value = value.tobytes()
    if not isinstance(value, bytes):
        raise StoreTampered(f"state cell {key}: value stored as {type(value).__name__}")
    return key, value
