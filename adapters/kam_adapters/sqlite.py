"""``sqlite:///relative.db`` or ``sqlite:////absolute/path.db``: the embedded default.

eventsourcing's SQLite module does the work; :class:`Factory` adds that errors raised while a
connection is opened (a read-only file, a file that is not a database) arrive as eventsourcing's
persistence errors, like every other driver error, instead of as raw ``sqlite3`` exceptions;
and recorders that write the hash chain and the as-of index of :mod:`kam_domain.ledger` in the
same transaction as the events (tables ``stored_events_chain``, ``stored_events_chain_format``
and ``stored_events_asof``), through the sealing core (:mod:`kam_domain.sealing`), given
SQLite's statements and rows; and the engine's state (tables ``kam_state`` and
``kam_state_checkpoint``) through the state core (:mod:`kam_domain.state_tables`).
``?mode=ro`` opens the file read-only (an auditor's copy): queries work and every command
fails with :class:`~kam_domain.errors.StoreUnavailable`.

Opened for reading (:meth:`SQLiteAdapter.read_only_environment`, what every reading command
uses), the file is opened with SQLite's ``mode=ro`` whatever the URL says: a missing file is
refused instead of created, its journal mode is left as it is, and a file without the
library's tables is refused as not a kam store.

The module runs past 500 lines on purpose: as in eventsourcing, one module holds a backend (its
URL, factory and recorders' statements); the logic they share is in the sealing core.
"""

from __future__ import annotations

import dataclasses
import functools
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote
from uuid import UUID

import eventsourcing.sqlite as es_sqlite
from eventsourcing.persistence import (
    ApplicationRecorder,
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    PersistenceError,
    ProcessRecorder,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.utils import Environment, EnvType, strtobool

from kam_adapters.polling import DEFAULT_POLL_INTERVAL, Subscribable, poll_interval
from kam_domain import sealing
from kam_domain.errors import (
    InvalidStoreUrl,
    NotAKamStore,
    StoreNotFound,
    StoreParameterOutOfRange,
    StoreUnavailable,
)
from kam_domain.ledger import ChainFormat, ChainLink, SealedRow, canonical_id, micros
from kam_domain.runtime.state import Checkpoint
from kam_domain.sealing import IndexRow, LinkRow, Sealing, TimelineRow
from kam_domain.state_tables import CellRow, CheckpointRow, StateTables
from kam_domain.storage import READ_ONLY_KEY, StoreUrl, bounded_parameter

__all__ = [
    "Factory",
    "SQLiteAdapter",
    "SQLiteApplicationRecorder",
    "SQLiteProcessRecorder",
    "adapter",
]

#: The engine's state (see :mod:`kam_domain.state_tables`): its cells, and its checkpoint.
STATE_TABLE = "kam_state"
CHECKPOINT_TABLE = "kam_state_checkpoint"

#: The environment key of the URL's ``poll_interval`` (seconds between looks for new rows).
POLL_INTERVAL_KEY = "SQLITE_POLL_INTERVAL"

# Most specific first: the sqlite3 classes form a hierarchy under sqlite3.Error.
_TRANSLATIONS: tuple[tuple[type[sqlite3.Error], type[PersistenceError]], ...] = (
    (sqlite3.InterfaceError, InterfaceError),
    (sqlite3.DataError, DataError),
    (sqlite3.OperationalError, OperationalError),
    (sqlite3.IntegrityError, IntegrityError),
    (sqlite3.InternalError, InternalError),
    (sqlite3.ProgrammingError, ProgrammingError),
    (sqlite3.NotSupportedError, NotSupportedError),
    (sqlite3.DatabaseError, DatabaseError),
)


def translated(error: sqlite3.Error) -> PersistenceError:
    """The eventsourcing persistence error that stands for a ``sqlite3`` error."""
    for driver_class, persistence_class in _TRANSLATIONS:
        if isinstance(error, driver_class):
            return persistence_class(error)
    return PersistenceError(error)


class ConnectionPool(es_sqlite.SQLiteConnectionPool):
    """eventsourcing's pool; a failure while a connection is set up is translated too."""

    #: Opened for reading only: the file's journal mode is not switched to WAL (a write).
    read_only = False

    # Private in eventsourcing: the only place a connection is opened and its journal mode
    # set. Overridden to skip that switch on a read-only file and to translate errors raised
    # there; a public ``connect`` hook on the pool (or a read-only flag) would replace it.
    def _create_connection(self) -> es_sqlite.SQLiteConnection:
        if self.read_only:
            self.is_journal_mode_wal = True  # what eventsourcing checks before switching
        try:
            return super()._create_connection()
        except sqlite3.Error as error:
            # Switching a read-only file to WAL mode fails here, outside any transaction.
            raise translated(error) from error


class _Sealing(Sealing[es_sqlite.SQLiteCursor], es_sqlite.SQLiteApplicationRecorder):
    """Writes each event's chain link and as-of index row in the transaction that inserts it.

    Timestamps are stored as whole microseconds since 1970 (UTC), which order like the moments.
    """

    @property
    def chain_table_name(self) -> str:
        return f"{self.events_table_name}_chain"

    @property
    def format_table_name(self) -> str:
        return f"{self.events_table_name}_chain_format"

    @property
    def asof_table_name(self) -> str:
        return f"{self.events_table_name}_asof"

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        chain, formats, asof = self.chain_table_name, self.format_table_name, self.asof_table_name
        statements += [
            # written_at: microseconds since 1970, NULL for links in format 1 (see ledger).
            f"CREATE TABLE IF NOT EXISTS {chain} ("
            "position INTEGER PRIMARY KEY, link BLOB NOT NULL, written_at INTEGER)",
            f"CREATE TABLE IF NOT EXISTS {formats} ("
            "format INTEGER PRIMARY KEY, since INTEGER NOT NULL, adopted_through INTEGER, "
            "recorded_at TEXT NOT NULL)",
            # One b-tree, in the order of the question it answers ("the last version of a
            # record at or before a moment": one seek). The events table already keeps each
            # (originator id, version) unique, in the same transaction.
            f"CREATE TABLE IF NOT EXISTS {asof} ("
            "originator_id TEXT, originator_version INTEGER, timestamp INTEGER NOT NULL, "
            "notification_id INTEGER NOT NULL, "
            "PRIMARY KEY (originator_id, timestamp, originator_version)) WITHOUT ROWID",
        ]
        return statements

    def create_table(self) -> None:
        super().create_table()
        self._add_written_column()
        self._adopt_chain()

    def convert_originator_id(self, originator_id: str) -> UUID | str:
        if self.datastore.originator_id_type == "uuid":
            # Only the form eventsourcing writes: a respelled id would be read as another row.
            return canonical_id(originator_id)
        return originator_id

    @functools.cached_property
    def _has_written_column(self) -> bool:
        """Whether the chain table records written times (a store from before format 2, opened
        read-only, has no such column until it is opened once with write access)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"PRAGMA table_info({self.chain_table_name})")
            return any(row[1] == "written_at" for row in c.fetchall())

    def _add_written_column(self) -> None:
        if self._has_written_column:
            return
        with self._immediate() as c:
            c.execute(f"PRAGMA table_info({self.chain_table_name})")
            if not any(row[1] == "written_at" for row in c.fetchall()):
                c.execute(f"ALTER TABLE {self.chain_table_name} ADD COLUMN written_at INTEGER")
        self.__dict__["_has_written_column"] = True

    # Private in eventsourcing, and the only step of its insert that runs inside the inserting
    # transaction once the events' positions (rowids) are known: the links must be written
    # there, so that they commit or roll back with the events. The public hook proposed in
    # docs/architecture.md (rows written with the events) would replace it.
    def _insert_events(
        self,
        c: es_sqlite.SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> Sequence[int] | None:
        # The events' INSERT came first, so this transaction already holds the write lock:
        # no other writer can add a link between reading the last one and adding these.
        ids = super()._insert_events(c, stored_events, **kwargs)
        if ids:
            self._seal_inserted(c, ids, stored_events, kwargs)
        return ids

    def _as_read(self, event: StoredEvent) -> StoredEvent:
        stored = event.originator_id
        if isinstance(stored, UUID):
            return event  # read back as an equal UUID
        return dataclasses.replace(event, originator_id=self.convert_originator_id(stored))

    def _last_link(self, c: es_sqlite.SQLiteCursor) -> LinkRow | None:
        c.execute(
            f"SELECT position, link, {self._written_column} FROM {self.chain_table_name} "
            "ORDER BY position DESC LIMIT 1"
        )
        row = c.fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def _write_links(self, c: es_sqlite.SQLiteCursor, links: Sequence[ChainLink]) -> None:
        c.executemany(
            f"INSERT INTO {self.chain_table_name} (position, link, written_at) VALUES (?, ?, ?)",
            [(link.position, link.link, link.written_at) for link in links],
        )

    def _write_index(self, c: es_sqlite.SQLiteCursor, rows: Sequence[IndexRow]) -> None:
        c.executemany(
            f"INSERT INTO {self.asof_table_name} VALUES (?, ?, ?, ?)",
            [
                (
                    _text(row.originator_id),
                    row.originator_version,
                    micros(row.timestamp),
                    row.position,
                )
                for row in rows
            ],
        )

    def _formats_in(self, c: es_sqlite.SQLiteCursor) -> Sequence[ChainFormat]:
        c.execute(
            f"SELECT format, since, adopted_through FROM {self.format_table_name} ORDER BY since"
        )
        return [ChainFormat(row[0], row[1], row[2]) for row in c.fetchall()]

    def _write_format(self, c: es_sqlite.SQLiteCursor, recorded: ChainFormat) -> None:
        c.execute(
            f"INSERT INTO {self.format_table_name} VALUES (?, ?, ?, ?)",
            (
                recorded.format,
                recorded.since,
                recorded.adopted_through,
                datetime.now(UTC).isoformat(),
            ),
        )

    def _last_position_in(self, c: es_sqlite.SQLiteCursor) -> int | None:
        c.execute(f"SELECT MAX(position) FROM {self.chain_table_name}")
        found: int | None = c.fetchone()[0]
        return found

    def _unsealed(
        self, c: es_sqlite.SQLiteCursor, after: int, limit: int
    ) -> Sequence[tuple[int, StoredEvent]]:
        c.execute(
            f"SELECT rowid, * FROM {self.events_table_name} WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (after, limit),
        )
        return [
            (
                row["rowid"],
                StoredEvent(
                    originator_id=self.convert_originator_id(row["originator_id"]),
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=row["state"],
                ),
            )
            for row in c.fetchall()
        ]

    def _reading(self) -> AbstractContextManager[es_sqlite.SQLiteCursor]:
        return self.datastore.transaction(commit=False)

    def _writing(self) -> AbstractContextManager[es_sqlite.SQLiteCursor]:
        return self._immediate()

    @contextmanager
    def _immediate(self) -> Iterator[es_sqlite.SQLiteCursor]:
        """A write transaction holding the write lock from its start, rolled back on any
        exception and committed only when its block ends normally."""
        with self.datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE")
                try:
                    yield cursor
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()
            except sqlite3.Error as error:
                raise translated(error) from error
            finally:
                cursor.sqlite_cursor.close()

    def _link_rows(
        self, c: es_sqlite.SQLiteCursor, low: int, stop: int | None, limit: int
    ) -> Iterable[LinkRow]:
        statement = (
            f"SELECT position, {_BLOB('link')}, {self._written()} FROM {self.chain_table_name} "
            "WHERE position >= ?"
        )
        params: list[int] = [low]
        if stop is not None:
            statement += " AND position <= ?"
            params.append(stop)
        statement += " ORDER BY position LIMIT ?"
        params.append(limit)
        c.execute(statement, params)
        return [(row[0], row[1], row[2]) for row in c.fetchall()]

    @property
    def _written_column(self) -> str:
        return "written_at" if self._has_written_column else "NULL"

    def _written(self, table: str = "") -> str:
        """The written time as stored, or the name of its storage class where it is text (which
        may not even be UTF-8: reading it as text would fail before it could be judged)."""
        if not self._has_written_column:
            return "NULL"
        column = f"{table}.written_at" if table else "written_at"
        return f"CASE typeof({column}) WHEN 'text' THEN 'text' ELSE {column} END"

    def select_sealed(
        self, start: int | None, limit: int, stop: int | None = None
    ) -> Sequence[SealedRow]:
        """Events with their links (a LEFT JOIN), and links without events where there may be
        some.

        SQLite 3.40 has no FULL JOIN, and its emulation (a UNION ALL with the links that have no
        event) probes the events table once per link, which more than doubles the time of a
        page. A link without an event can only sit at a position with no event, so that second
        query runs only when the page's positions are not contiguous from ``start`` (the first
        page, or after a removal).
        """
        low = sealing.LOWEST if start is None else start
        high = sealing.HIGHEST if stop is None else stop
        with self.datastore.transaction(commit=False) as c:
            cursor = c.sqlite_cursor
            cursor.row_factory = None  # plain tuples
            cursor.execute(self._select_joined, (low, high, limit))
            rows: list[SealedRow] = cursor.fetchall()
            covered = rows[-1][0] if len(rows) == limit else high
            if rows and rows[0][0] == low and rows[-1][0] == covered == low + len(rows) - 1:
                return rows
            cursor.execute(self._select_unmatched_links, (low, covered, limit))
            unmatched: list[SealedRow] = cursor.fetchall()
        if not unmatched:
            return rows
        return sealing.by_position(rows + unmatched, limit)

    @functools.cached_property
    def _select_joined(self) -> str:
        identity = "e.originator_id"
        if self.datastore.originator_id_type == "uuid":
            # The id as stored, 32 lowercase hex digits for a UUID: verify hashes the canonical
            # text it stands for and passes no other spelling (formatting it there costs less
            # than substr() here). Another length, such as the canonical text itself written
            # here, which this table never holds, comes as NULL: no link can match it.
            identity = "CASE WHEN length(e.originator_id) = 32 THEN e.originator_id END"
        return (
            f"SELECT e.rowid, {identity}, e.originator_version, e.topic, {_BLOB('e.state')}, "
            f"{_BLOB('c.link')}, {self._written('c')} "
            f"FROM {self.events_table_name} AS e "
            f"LEFT JOIN {self.chain_table_name} AS c ON c.position = e.rowid "
            "WHERE e.rowid >= ? AND e.rowid <= ? ORDER BY e.rowid LIMIT ?"
        )

    @functools.cached_property
    def _select_unmatched_links(self) -> str:
        return (
            f"SELECT c.position, NULL, NULL, NULL, NULL, {_BLOB('c.link')}, {self._written('c')} "
            f"FROM {self.chain_table_name} AS c "
            "WHERE c.position >= ? AND c.position <= ? AND NOT EXISTS "
            f"(SELECT 1 FROM {self.events_table_name} AS e WHERE e.rowid = c.position) "
            "ORDER BY c.position LIMIT ?"
        )

    @property
    def version_at_statement(self) -> str:
        """One seek in the timestamp index: the last version at or before a moment."""
        return (
            f"SELECT originator_version FROM {self.asof_table_name} "
            "WHERE originator_id = ? AND timestamp <= ? "
            "ORDER BY timestamp DESC, originator_version DESC LIMIT 1"
        )

    def _version_row(
        self, c: es_sqlite.SQLiteCursor, originator_id: UUID, at: datetime
    ) -> int | None:
        c.execute(self.version_at_statement, (originator_id.hex, micros(at)))
        row = c.fetchone()
        return None if row is None else int(row[0])

    def _timeline_rows(
        self, c: es_sqlite.SQLiteCursor, originator_id: UUID
    ) -> Iterable[TimelineRow]:
        c.execute(
            f"SELECT a.originator_version, a.timestamp, a.notification_id, "
            f"{self._written('c')} FROM {self.asof_table_name} AS a "
            f"LEFT JOIN {self.chain_table_name} AS c ON c.position = a.notification_id "
            "WHERE a.originator_id = ? ORDER BY a.originator_version",
            (originator_id.hex,),
        )
        return [(row[0], row[1], row[2], row[3]) for row in c.fetchall()]


class _Recorder(StateTables[es_sqlite.SQLiteCursor], _Sealing):
    """Sealing and indexing its events, and keeping the engine's state in two tables of the
    store (:data:`STATE_TABLE` and :data:`CHECKPOINT_TABLE`) through the state core."""

    def create_table(self) -> None:
        # A new store gets the state tables with its others; a store written before them gets
        # them at its first state write (opening one writes nothing: ?mode=ro still opens it).
        new = not self._has_table(self.events_table_name)
        super().create_table()
        if new:
            with self._immediate() as c:
                self._create_state_tables(c)

    def _has_table(self, name: str) -> bool:
        with self.datastore.transaction(commit=False) as c:
            return self._table_in(c, name)

    @staticmethod
    def _table_in(c: es_sqlite.SQLiteCursor, name: str) -> bool:
        c.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        return c.fetchone() is not None

    @staticmethod
    def _create_state_tables(c: es_sqlite.SQLiteCursor) -> None:
        c.execute(
            f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (key TEXT PRIMARY KEY, value BLOB NOT NULL)"
        )
        # One row (id 1): the latest checkpoint's serial number and position.
        c.execute(
            f"CREATE TABLE IF NOT EXISTS {CHECKPOINT_TABLE} ("
            "id INTEGER PRIMARY KEY CHECK (id = 1), "
            "serial INTEGER NOT NULL, position INTEGER NOT NULL)"
        )

    #: Whether the state tables are known to exist (once they do, they always will).
    _state_tables_exist = False

    @contextmanager
    def _state_reading(self) -> Iterator[es_sqlite.SQLiteCursor | None]:
        with self.datastore.transaction(commit=False) as c:
            if not self._state_tables_exist:
                tables = (self._table_in(c, name) for name in (STATE_TABLE, CHECKPOINT_TABLE))
                self._state_tables_exist = all(tables)
            yield c if self._state_tables_exist else None

    @contextmanager
    def _state_writing(self) -> Iterator[es_sqlite.SQLiteCursor]:
        # BEGIN IMMEDIATE: the write lock is held from before the checkpoint is read.
        with self._immediate() as c:
            if not self._state_tables_exist:
                self._create_state_tables(c)  # rolled back with the write if it is refused
            yield c
        self._state_tables_exist = True

    def _checkpoint_row(self, c: es_sqlite.SQLiteCursor) -> CheckpointRow | None:
        c.execute(f"SELECT serial, position FROM {CHECKPOINT_TABLE} WHERE id = 1")
        row = c.fetchone()
        return None if row is None else (row[0], row[1])

    def _cell_rows(self, c: es_sqlite.SQLiteCursor, keys: Sequence[str]) -> Iterable[CellRow]:
        marks = ", ".join("?" * len(keys))
        c.execute(f"SELECT key, value FROM {STATE_TABLE} WHERE key IN ({marks})", list(keys))
        return [(row[0], row[1]) for row in c.fetchall()]

    def _cell_rows_between(
        self, c: es_sqlite.SQLiteCursor, low: str, high: str | None
    ) -> Iterable[CellRow]:
        # The key's BINARY collation compares the UTF-8 bytes: code point order.
        statement = f"SELECT key, value FROM {STATE_TABLE} WHERE key >= ?"
        params = [low]
        if high is not None:
            statement += " AND key < ?"
            params.append(high)
        c.execute(statement + " ORDER BY key", params)
        return [(row[0], row[1]) for row in c.fetchall()]

    def _put_cells(self, c: es_sqlite.SQLiteCursor, cells: Sequence[tuple[str, bytes]]) -> None:
        c.executemany(f"INSERT OR REPLACE INTO {STATE_TABLE} (key, value) VALUES (?, ?)", cells)

    def _delete_cells(self, c: es_sqlite.SQLiteCursor, keys: Sequence[str]) -> None:
        c.executemany(f"DELETE FROM {STATE_TABLE} WHERE key = ?", [(key,) for key in keys])

    def _put_checkpoint(self, c: es_sqlite.SQLiteCursor, checkpoint: Checkpoint) -> None:
        c.execute(
            f"INSERT OR REPLACE INTO {CHECKPOINT_TABLE} (id, serial, position) VALUES (1, ?, ?)",
            (checkpoint.serial, checkpoint.position),
        )

    def _delete_state(self, c: es_sqlite.SQLiteCursor) -> None:
        c.execute(f"DELETE FROM {STATE_TABLE}")
        c.execute(f"DELETE FROM {CHECKPOINT_TABLE}")


class SQLiteApplicationRecorder(Subscribable, _Recorder):
    """eventsourcing's SQLite application recorder, sealing and indexing its events and
    keeping the engine's state."""


class SQLiteProcessRecorder(Subscribable, _Recorder, es_sqlite.SQLiteProcessRecorder):
    """eventsourcing's SQLite process recorder, sealing and indexing its events and keeping
    the engine's state."""


def _BLOB(column: str) -> str:  # noqa: N802 - reads as the SQL it stands for
    """``column`` where it holds bytes (or nothing); else the name of its storage class, so that
    text written over bytes, possibly not even UTF-8, is judged instead of failing the read."""
    return (
        f"CASE typeof({column}) WHEN 'blob' THEN {column} WHEN 'null' THEN NULL "
        f"ELSE typeof({column}) END"
    )


def _text(identity: UUID | str) -> str:
    """An originator id as the events table keeps it (a UUID as 32 hex digits)."""
    return identity.hex if isinstance(identity, UUID) else identity


class Factory(es_sqlite.SQLiteFactory):
    """eventsourcing's SQLite factory with :class:`ConnectionPool` in its datastore and the
    sealing recorders."""

    application_recorder_class = SQLiteApplicationRecorder
    process_recorder_class = SQLiteProcessRecorder

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        given = self.datastore.pool
        # The datastore builds its pool itself; no connection exists yet, so swapping is safe.
        self.datastore.pool = ConnectionPool(
            db_name=given.db_name,
            lock_timeout=given.lock_timeout,
            pool_size=given.pool_size,
            max_overflow=given.max_overflow,
            pool_timeout=given.pool_timeout,
            max_age=given.max_age,
            pre_ping=given.pre_ping,
        )
        given.close()
        self.read_only = bool(strtobool(self.env.get(READ_ONLY_KEY) or "no"))
        self.datastore.pool.read_only = self.read_only
        # SQLite cannot notify other processes: subscriptions poll (see kam_adapters.polling).
        self.poll_interval = float(self.env.get(POLL_INTERVAL_KEY) or DEFAULT_POLL_INTERVAL)

    def application_recorder(self) -> ApplicationRecorder:
        return self._opened(super().application_recorder())

    def process_recorder(self) -> ProcessRecorder:
        recorder = self._opened(super().process_recorder())
        assert isinstance(recorder, ProcessRecorder)
        return recorder

    def _opened(self, recorder: ApplicationRecorder) -> ApplicationRecorder:
        """``recorder`` polling at the URL's interval; opened for reading, the file must hold
        the library's events table."""
        assert isinstance(recorder, Subscribable)
        recorder.poll_interval = self.poll_interval
        if self.read_only:
            self._require_store(recorder)
        return recorder

    def _require_store(self, recorder: object) -> None:
        assert isinstance(recorder, es_sqlite.SQLiteApplicationRecorder)
        name = recorder.events_table_name
        where = _file_of(self.datastore.pool.db_name)
        try:
            with self.datastore.transaction(commit=False) as c:
                c.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
                found = c.fetchone() is not None
        except (sqlite3.DatabaseError, DatabaseError) as error:
            # A file that is not an SQLite database fails its first query.
            msg = f"store: {where}: not a kam store ({error})"
            raise NotAKamStore(msg) from error
        if not found:
            msg = f"store: {where}: not a kam store (the database has no {name} table)"
            raise NotAKamStore(msg)


class SQLiteAdapter:
    scheme = "sqlite"
    options = frozenset({"lock_timeout", "mode", "poll_interval"})

    def environment(self, url: StoreUrl) -> dict[str, str]:
        path = _path(url)
        if path != ":memory:":
            parent = Path(path).parent
            if not parent.is_dir():
                raise StoreUnavailable(f"store: {url}: folder {parent} does not exist")
        env = {"PERSISTENCE_MODULE": f"{__name__}:Factory", "SQLITE_DBNAME": path}
        mode = url.query.get("mode", "rw")
        if mode == "ro":
            if path == ":memory:":
                raise InvalidStoreUrl(f"store: {url}: an in-memory database cannot be read-only")
            env["SQLITE_DBNAME"] = f"file:{quote(path)}?mode=ro"
        elif mode != "rw":
            raise InvalidStoreUrl(f"store: {url}: mode must be ro or rw, not {mode!r}")
        if "lock_timeout" in url.query:
            # Seconds: more than an hour's wait for a lock would look like a hang.
            env["SQLITE_LOCK_TIMEOUT"] = bounded_parameter(
                url, "lock_timeout", "", low=0, high=3600
            )
        if "poll_interval" in url.query:
            try:
                env[POLL_INTERVAL_KEY] = str(poll_interval(url.query["poll_interval"]))
            except ValueError as error:
                msg = f"store: {url}: poll_interval {error}"
                raise StoreParameterOutOfRange(msg) from None
        return env

    def read_only_environment(self, url: StoreUrl) -> dict[str, str]:
        """The settings that open the file for reading only; a missing file is refused."""
        env = self.environment(url)
        path = _path(url)
        if path == ":memory:":
            raise StoreNotFound(f"store: {url}: an in-memory database holds no store to read")
        if not Path(path).is_file():
            msg = f"store: {url}: no database file {path} (a reading command never creates one)"
            raise StoreNotFound(msg)
        env["SQLITE_DBNAME"] = f"file:{quote(path)}?mode=ro"
        return env


def _file_of(db_name: str) -> str:
    """The file a read-only ``file:…?mode=ro`` name opens."""
    return unquote(db_name.removeprefix("file:").removesuffix("?mode=ro"))


def _path(url: StoreUrl) -> str:
    """The database file a URL names (or ``:memory:``)."""
    if url.host:
        msg = f"store: {url} names a host; write sqlite:///relative.db or sqlite:////abs.db"
        raise InvalidStoreUrl(msg)
    # As in SQLAlchemy: three slashes then a relative path, four for an absolute one.
    path = url.path[1:] if url.path.startswith("/") else url.path
    if not path:
        raise InvalidStoreUrl(f"store: {url} names no database file")
    return path


adapter = SQLiteAdapter()
