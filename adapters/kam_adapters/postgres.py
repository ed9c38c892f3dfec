"""``postgresql://user:password@host:port/db?schema=name``: the production backend.

eventsourcing's PostgreSQL module (psycopg 3 and its connection pool) does the work. The
URL maps onto its settings; :class:`Factory` adds only what this library needs on top:

- each store lives in its own schema (default ``kam``), created when missing, so several
  stores share one database;
- the schema's layout version is recorded in a small table, ``kam_schema_version``, and
  brought up to date when the store is opened (:mod:`kam_adapters.postgres_schema`); the
  upgrade holds an advisory lock, so processes opening the same new store at once do not race
  each other's DDL, and running it twice changes nothing;
- connection failures at open time (server down, wrong password, missing database) are
  reported at once, with the server's reason and never the password;
- recorders that write the hash chain and the as-of index of :mod:`kam_domain.ledger` in the
  same transaction as the events (tables ``kam_events_chain``, ``kam_events_chain_format``
  and ``kam_events_asof``), under the table lock eventsourcing takes to keep notification ids
  in commit order, which also keeps the chain in that order with many writers at once; the
  sealing core (:mod:`kam_domain.sealing`) does it, given PostgreSQL's statements and rows;
- the engine's state in tables ``kam_state`` and ``kam_state_checkpoint`` (layout version 3),
  through the state core (:mod:`kam_domain.state_tables`).

Query parameters: ``schema``, ``pool_size`` (connections kept open, default 2),
``max_overflow`` (extra connections under load, default 8), ``connect_timeout`` (seconds,
default 5), ``lock_timeout`` (seconds, 0 = wait), ``pre_ping`` (yes/no), ``create``
(yes/no: with ``no`` the store must already be at this library's version, for hosts whose
runtime role may not create tables), plus the common ``cipher_key`` and ``compress``.
Without a password in the URL, libpq's own ``PGPASSWORD`` or ``~/.pgpass`` apply.

Opened for reading (:meth:`PostgresAdapter.read_only_environment`, what every reading command
uses), nothing is created or upgraded and every session is read-only
(``default_transaction_read_only``), so a role that may only SELECT is enough; a missing
schema is refused (a mistyped name must not become a new, empty store), and a schema without
the library's tables is refused as not a kam store.

The module runs past 500 lines on purpose: as in eventsourcing, one module holds a backend (its
URL, factory and recorders' statements); the logic they share is in the sealing core.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import unquote
from uuid import UUID

try:
    import psycopg
except ImportError as error:  # pragma: no cover - depends on what is installed
    msg = "postgresql:// stores need psycopg: pip install 'kam-domain[postgres]'"
    raise ImportError(msg) from error

import eventsourcing.postgres as es_postgres
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InterfaceError,
    OperationalError,
    PersistenceError,
    ProcessRecorder,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.utils import Environment, EnvType, retry, strtobool
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Composed, Identifier

from kam_adapters.postgres_schema import (
    CHECKPOINT_TABLE,
    SCHEMA_VERSION,
    STATE_TABLE,
    VERSION_TABLE,
    lock,
    require_current,
    require_store,
    require_table,
    schema_version,
    upgrade,
)
from kam_domain import sealing
from kam_domain.errors import InvalidStoreUrl
from kam_domain.ledger import ChainFormat, ChainLink, SealedRow
from kam_domain.runtime.state import Checkpoint
from kam_domain.sealing import IndexRow, LinkRow, Sealing, TimelineRow
from kam_domain.state_tables import CellRow, CheckpointRow, StateTables
from kam_domain.storage import READ_ONLY_KEY, StoreUrl, bounded_parameter

__all__ = [
    "DEFAULT_SCHEMA",
    "SCHEMA_VERSION",
    "VERSION_TABLE",
    "Factory",
    "PostgresAdapter",
    "PostgresApplicationRecorder",
    "PostgresProcessRecorder",
    "adapter",
    "schema_version",
    "upgrade",
]

DEFAULT_SCHEMA = "kam"

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_DEFAULTS = {
    "pool_size": "2",
    "max_overflow": "8",
    "connect_timeout": "5",
    "lock_timeout": "0",
}
#: The range of each numeric parameter: connections (a server allows some hundred in all) and
#: seconds (a connection or lock wait of more than minutes would look like a hang).
_RANGES = {
    "pool_size": (1, 100),
    "max_overflow": (1, 100),
    "connect_timeout": (1, 300),
    "lock_timeout": (0, 3600),
}


class PostgresAdapter:
    scheme = "postgresql"
    options = frozenset({"schema", "create", "pre_ping", *_DEFAULTS})

    def environment(self, url: StoreUrl) -> dict[str, str]:
        dbname = unquote(url.path[1:]) if url.path.startswith("/") else ""
        if not dbname or "/" in dbname:
            raise InvalidStoreUrl(f"store: {url} names no database (postgresql://…/DBNAME)")
        schema = url.query.get("schema", DEFAULT_SCHEMA)
        if not _SCHEMA_NAME.fullmatch(schema) or schema.startswith("pg_"):
            msg = (
                f"store: {url}: schema must be a lowercase name of letters, digits and _ "
                "(at most 63, not starting with a digit or pg_)"
            )
            raise InvalidStoreUrl(msg)
        env = {
            "PERSISTENCE_MODULE": f"{__name__}:Factory",
            "POSTGRES_DBNAME": dbname,
            # Empty host, user or password: libpq's defaults (local socket, OS user, .pgpass).
            "POSTGRES_HOST": url.host or "",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": url.username or "",
            "POSTGRES_PASSWORD": url.password or "",
            "POSTGRES_SCHEMA": schema,
            "POSTGRES_PRE_PING": _yes_no(url, "pre_ping", "no"),
            "CREATE_TABLE": _yes_no(url, "create", "yes"),
        }
        for name, default in _DEFAULTS.items():
            low, high = _RANGES[name]
            value = bounded_parameter(url, name, default, low=low, high=high)
            env[f"POSTGRES_{name.upper()}"] = value
        return env

    def read_only_environment(self, url: StoreUrl) -> dict[str, str]:
        """The settings that open the schema for reading only (checked when it is opened)."""
        env = self.environment(url)
        env.update({"CREATE_TABLE": "no", READ_ONLY_KEY: "yes"})
        return env


#: eventsourcing retries a read or write whose connection failed; so do this module's.
_retried = retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)

Cursor = psycopg.Cursor[DictRow]
T = TypeVar("T")


class _Sealing(Sealing[Cursor], es_postgres.PostgresApplicationRecorder):
    """Writes each event's chain link and as-of index row in the transaction that inserts it."""

    def __init__(self, datastore: es_postgres.PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        if datastore.enable_db_functions:
            msg = "the hash chain is written on eventsourcing's Python insert path: unset "
            raise ProgrammingError(msg + "POSTGRES_ENABLE_DB_FUNCTIONS")
        events = self.events_table_name
        self.chain_table_name = f"{events}_chain"
        self.format_table_name = f"{events}_chain_format"
        self.asof_table_name = f"{events}_asof"
        for name in (self.format_table_name, f"{self.asof_table_name}_pkey"):
            self.check_identifier_length(name)
        names = {
            "schema": Identifier(datastore.schema),
            "events": Identifier(events),
            "chain": Identifier(self.chain_table_name),
            "formats": Identifier(self.format_table_name),
            "asof": Identifier(self.asof_table_name),
            "id_type": Identifier(datastore.originator_id_type),
        }

        def sql(text: str) -> Composed:
            return SQL(text).format(**names)

        self.sql_create_statements += [
            # written_at: microseconds since 1970, NULL for links in format 1 (see ledger).
            sql(
                "CREATE TABLE IF NOT EXISTS {schema}.{chain} ("
                "position bigint PRIMARY KEY, link bytea NOT NULL, written_at bigint)"
            ),
            # Chains created before format 2 get the column (NULL for their old links).
            sql("ALTER TABLE {schema}.{chain} ADD COLUMN IF NOT EXISTS written_at bigint"),
            sql(
                "CREATE TABLE IF NOT EXISTS {schema}.{formats} ("
                "format integer PRIMARY KEY, since bigint NOT NULL, adopted_through bigint, "
                "recorded_at timestamptz NOT NULL DEFAULT now())"
            ),
            # One b-tree, in the order of the question it answers ("the last version of a
            # record at or before a moment": one descent). The events table already keeps
            # each (originator id, version) unique, in the same transaction.
            sql(
                "CREATE TABLE IF NOT EXISTS {schema}.{asof} ("
                "originator_id {id_type} NOT NULL, originator_version bigint NOT NULL, "
                '"timestamp" timestamptz NOT NULL, notification_id bigint NOT NULL, '
                'PRIMARY KEY (originator_id, "timestamp", originator_version))'
            ),
        ]
        self._sql = sql
        self._select_last_link = sql(
            "SELECT position, link, written_at FROM {schema}.{chain} ORDER BY position DESC LIMIT 1"
        )
        self._insert_link = sql(
            "INSERT INTO {schema}.{chain} (position, link, written_at) VALUES (%s, %s, %s)"
        )
        self._select_has_written = SQL(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = %s "
            "AND table_name = %s AND column_name = 'written_at'"
        )
        self._insert_asof = sql(
            "INSERT INTO {schema}.{asof} "
            '(originator_id, originator_version, "timestamp", notification_id) '
            "VALUES (%s, %s, %s, %s)"
        )
        self._select_max_link = sql("SELECT MAX(position) AS position FROM {schema}.{chain}")
        self._select_formats = sql(
            "SELECT format, since, adopted_through FROM {schema}.{formats} ORDER BY since"
        )
        self._insert_format = sql(
            "INSERT INTO {schema}.{formats} (format, since, adopted_through) VALUES (%s, %s, %s)"
        )
        self._select_unsealed = sql(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {schema}.{events} WHERE notification_id > %s "
            "ORDER BY notification_id LIMIT %s"
        )
        self.version_at_statement = sql(
            "SELECT originator_version FROM {schema}.{asof} "
            'WHERE originator_id = %s AND "timestamp" <= %s '
            'ORDER BY "timestamp" DESC, originator_version DESC LIMIT 1'
        )
        self._has_written: bool | None = None

    def _written_column(self) -> str:
        """``c.written_at``, or NULL where the chain table has no such column yet (a store from
        before format 2, opened read-only: it gets the column when opened with write access)."""
        if self._has_written is None:
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(
                    self._select_has_written, (self.datastore.schema, self.chain_table_name)
                )
                self._has_written = curs.fetchone() is not None
        return "c.written_at" if self._has_written else "NULL::bigint"

    @functools.cached_property
    def _select_links(self) -> Composed:
        return self._sql(
            f"SELECT c.position, c.link, {self._written_column()} AS written_at "
            "FROM {schema}.{chain} AS c WHERE c.position >= %s"
        )

    @functools.cached_property
    def _select_sealed(self) -> Composed:
        # Each side is cut to its first ``limit`` rows from the start, which hold the page
        # whatever the other side holds. Bounded below only, each is read down its index even
        # where the tables were never analysed (a range bounded on both sides is guessed small,
        # and read whole and sorted). The join comes out in position order; the rows are put
        # in order and cut to ``limit`` by the reader, which spares the server a sort.
        written = self._written_column()
        return self._sql(
            "SELECT COALESCE(e.notification_id, c.position), e.originator_id::text, "
            "e.originator_version, e.topic, e.state, c.link, c.written_at "
            "FROM (SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {schema}.{events} WHERE notification_id >= %(low)s "
            "ORDER BY notification_id LIMIT %(limit)s) AS e "
            f"FULL JOIN (SELECT c.position, c.link, {written} AS written_at "
            "FROM {schema}.{chain} AS c WHERE c.position >= %(low)s "
            "ORDER BY c.position LIMIT %(limit)s) AS c ON c.position = e.notification_id "
            "WHERE COALESCE(e.notification_id, c.position) <= %(high)s"
        )

    @functools.cached_property
    def _select_timeline(self) -> Composed:
        return self._sql(
            'SELECT a.originator_version, a."timestamp", a.notification_id, '
            f"{self._written_column()} AS written_at "
            "FROM {schema}.{asof} AS a LEFT JOIN {schema}.{chain} AS c "
            "ON c.position = a.notification_id "
            "WHERE a.originator_id = %s ORDER BY a.originator_version"
        )

    def create_table(self) -> None:
        super().create_table()
        self._adopt_chain()

    @contextmanager
    def _writing(self) -> Iterator[Cursor]:
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)
            yield curs

    @_retried
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # eventsourcing's own insert catches whatever is raised once the events are inserted
        # and raises it again only after its transaction block has committed: links that fail
        # would leave the events unsealed. This transaction is this method's own, committed
        # when the block ends normally and rolled back on any error. Its steps are
        # eventsourcing's, in its order: the rows a process recorder writes first (tracking),
        # then the table lock every writer takes, NOTIFY and the events' INSERT; then, under
        # that lock, the links (no other writer can add one between reading the last and
        # adding these). The public hook proposed in docs/architecture.md would make it
        # eventsourcing's insert again, pipelined.
        ids: Sequence[int] | None = None
        with self.datastore.transaction(commit=True) as curs:
            self._insert_events(curs, stored_events, **kwargs)
            if stored_events:
                self._insert_stored_events(curs, stored_events, **kwargs)
                ids = self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
                if ids:
                    self._seal_inserted(curs, ids, stored_events, kwargs)
        return ids

    def _as_read(self, event: StoredEvent) -> StoredEvent:
        identity = event.originator_id
        if self.datastore.originator_id_type == "uuid" and not isinstance(identity, UUID):
            return dataclasses.replace(event, originator_id=UUID(str(identity)))
        return event

    def _last_link(self, c: Cursor) -> LinkRow | None:
        c.execute(self._select_last_link, prepare=True)
        row = c.fetchone()
        return None if row is None else (row["position"], row["link"], row["written_at"])

    def _write_links(self, c: Cursor, links: Sequence[ChainLink]) -> None:
        c.executemany(
            self._insert_link, [(link.position, link.link, link.written_at) for link in links]
        )

    def _write_index(self, c: Cursor, rows: Sequence[IndexRow]) -> None:
        c.executemany(
            self._insert_asof,
            [(r.originator_id, r.originator_version, r.timestamp, r.position) for r in rows],
        )

    def _formats_in(self, c: Cursor) -> Sequence[ChainFormat]:
        c.execute(self._select_formats)
        return [
            ChainFormat(row["format"], row["since"], row["adopted_through"]) for row in c.fetchall()
        ]

    def _write_format(self, c: Cursor, recorded: ChainFormat) -> None:
        c.execute(self._insert_format, (recorded.format, recorded.since, recorded.adopted_through))

    def _last_position_in(self, c: Cursor) -> int | None:
        c.execute(self._select_max_link)
        row = c.fetchone()
        return None if row is None else row["position"]

    def _unsealed(self, c: Cursor, after: int, limit: int) -> Sequence[tuple[int, StoredEvent]]:
        c.execute(self._select_unsealed, (after, limit))
        return [
            (
                row["notification_id"],
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                ),
            )
            for row in c.fetchall()
        ]

    @contextmanager
    def _reading(self) -> Iterator[Cursor]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            yield curs

    @_retried
    def _read(self, query: Callable[[Cursor], T]) -> T:
        return super()._read(query)

    def _link_rows(self, c: Cursor, low: int, stop: int | None, limit: int) -> Iterable[LinkRow]:
        statement = self._select_links
        params: list[int] = [low]
        if stop is not None:
            statement += SQL(" AND position <= %s")
            params.append(stop)
        statement += SQL(" ORDER BY position LIMIT %s")
        params.append(limit)
        c.execute(statement, params, prepare=True)
        return [(row["position"], row["link"], row["written_at"]) for row in c.fetchall()]

    def _version_row(self, c: Cursor, originator_id: UUID, at: datetime) -> int | None:
        c.execute(self.version_at_statement, (originator_id, at), prepare=True)
        row = c.fetchone()
        return None if row is None else int(row["originator_version"])

    def _timeline_rows(self, c: Cursor, originator_id: UUID) -> Iterable[TimelineRow]:
        c.execute(self._select_timeline, (originator_id,), prepare=True)
        return [
            (row["originator_version"], row["timestamp"], row["notification_id"], row["written_at"])
            for row in c.fetchall()
        ]

    @_retried
    def select_sealed(
        self, start: int | None, limit: int, stop: int | None = None
    ) -> Sequence[SealedRow]:
        params = {
            "low": sealing.LOWEST if start is None else start,
            "high": sealing.HIGHEST if stop is None else stop,
            "limit": limit,
        }
        with (
            self.datastore.get_connection() as conn,
            # Binary: the state arrives as it is stored, not as hex to decode.
            conn.cursor(row_factory=tuple_row, binary=True) as curs,
        ):
            curs.execute(self._select_sealed, params, prepare=True)
            rows: list[SealedRow] = curs.fetchall()
        return sealing.by_position(rows, limit)


class _Recorder(StateTables[Cursor], _Sealing):
    """Sealing and indexing its events, and keeping the engine's state in two tables of the
    schema (:data:`~kam_adapters.postgres_schema.STATE_TABLE` and ``CHECKPOINT_TABLE``, which
    layout version 3 adds) through the state core."""

    def __init__(self, datastore: es_postgres.PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        names = {
            "schema": Identifier(datastore.schema),
            "cells": Identifier(STATE_TABLE),
            "checkpoint": Identifier(CHECKPOINT_TABLE),
        }

        def sql(text: str) -> Composed:
            return SQL(text).format(**names)

        self._select_state_tables = SQL(
            "SELECT count(*) AS found FROM pg_tables "
            "WHERE schemaname = %s AND tablename IN (%s, %s)"
        )
        # Taken by every state writer before it reads the checkpoint: writers queue, readers
        # (SELECT) do not. A row lock (SELECT … FOR UPDATE) would leave the first checkpoint,
        # which has no row yet, to two writers at once.
        self._lock_checkpoint = sql("LOCK TABLE {schema}.{checkpoint} IN SHARE ROW EXCLUSIVE MODE")
        self._select_checkpoint = sql(
            "SELECT serial, position FROM {schema}.{checkpoint} WHERE id = 1"
        )
        self._upsert_checkpoint = sql(
            "INSERT INTO {schema}.{checkpoint} (id, serial, position) VALUES (1, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET serial = EXCLUDED.serial, position = EXCLUDED.position"
        )
        self._select_cells = sql("SELECT key, value FROM {schema}.{cells} WHERE key = ANY(%s)")
        self._select_cells_from = sql("SELECT key, value FROM {schema}.{cells} WHERE key >= %s")
        self._upsert_cell = sql(
            "INSERT INTO {schema}.{cells} (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
        )
        self._delete_cells_statement = sql("DELETE FROM {schema}.{cells} WHERE key = ANY(%s)")
        self._delete_state_statements = [
            sql("DELETE FROM {schema}.{cells}"),
            sql("DELETE FROM {schema}.{checkpoint}"),
        ]
        self._state_tables_exist = False

    @_retried
    def state_checkpoint(self) -> Checkpoint | None:
        return super().state_checkpoint()

    @_retried
    def select_state(self, keys: Iterable[str]) -> dict[str, bytes]:
        return super().select_state(keys)

    @_retried
    def select_state_prefixed(self, prefix: str) -> Iterator[tuple[str, bytes]]:
        return super().select_state_prefixed(prefix)

    def write_state(
        self, *, expected: int | None, position: int, cells: Mapping[str, bytes | None]
    ) -> Checkpoint:
        # Not retried: a connection lost during COMMIT leaves unknown whether it wrote.
        return super().write_state(expected=expected, position=position, cells=cells)

    @contextmanager
    def _state_reading(self) -> Iterator[Cursor | None]:
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(force_rollback=True),
            # Binary: the values arrive as they are stored, not as hex to decode.
            conn.cursor(binary=True) as curs,
        ):
            # One snapshot for every statement of the read (a long key list takes several).
            curs.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            if not self._state_tables_exist:
                # A store at layout 2, opened for reading, has none (pg_tables lists them
                # whatever the role may read).
                curs.execute(
                    self._select_state_tables,
                    (self.datastore.schema, STATE_TABLE, CHECKPOINT_TABLE),
                )
                row = curs.fetchone()
                self._state_tables_exist = row is not None and row["found"] == 2
            yield curs if self._state_tables_exist else None

    @contextmanager
    def _state_writing(self) -> Iterator[Cursor]:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("SET LOCAL lock_timeout = '{0}s'").format(self.datastore.lock_timeout))
            curs.execute(self._lock_checkpoint)
            yield curs

    def _checkpoint_row(self, c: Cursor) -> CheckpointRow | None:
        c.execute(self._select_checkpoint, prepare=True)
        row = c.fetchone()
        return None if row is None else (row["serial"], row["position"])

    def _cell_rows(self, c: Cursor, keys: Sequence[str]) -> Iterable[CellRow]:
        c.execute(self._select_cells, (list(keys),), prepare=True)
        return [(row["key"], row["value"]) for row in c.fetchall()]

    def _cell_rows_between(self, c: Cursor, low: str, high: str | None) -> Iterable[CellRow]:
        # The key's collation "C" compares the UTF-8 bytes: code point order.
        statement = self._select_cells_from
        params = [low]
        if high is not None:
            statement += SQL(" AND key < %s")
            params.append(high)
        c.execute(statement + SQL(" ORDER BY key"), params)
        return [(row["key"], row["value"]) for row in c.fetchall()]

    def _put_cells(self, c: Cursor, cells: Sequence[tuple[str, bytes]]) -> None:
        c.executemany(self._upsert_cell, cells)

    def _delete_cells(self, c: Cursor, keys: Sequence[str]) -> None:
        c.execute(self._delete_cells_statement, (list(keys),))

    def _put_checkpoint(self, c: Cursor, checkpoint: Checkpoint) -> None:
        c.execute(self._upsert_checkpoint, (checkpoint.serial, checkpoint.position))

    def _delete_state(self, c: Cursor) -> None:
        for statement in self._delete_state_statements:
            c.execute(statement)


class PostgresApplicationRecorder(_Recorder):
    """eventsourcing's PostgreSQL application recorder, sealing and indexing its events and
    keeping the engine's state."""


class PostgresProcessRecorder(_Recorder, es_postgres.PostgresProcessRecorder):
    """eventsourcing's PostgreSQL process recorder, sealing and indexing its events and
    keeping the engine's state."""


class Factory(es_postgres.PostgresFactory):
    """eventsourcing's PostgreSQL factory, plus schema creation, a recorded schema version and
    the sealing recorders."""

    application_recorder_class = PostgresApplicationRecorder
    process_recorder_class = PostgresProcessRecorder

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        self.password = self.env.get(self.POSTGRES_PASSWORD) or ""
        connect_timeout = int(self.env.get(self.POSTGRES_CONNECT_TIMEOUT) or "5")
        schema = self.datastore.schema
        # The pool's own timeout bounds waiting for a free connection; libpq's bounds a
        # connection attempt to a server that does not answer.
        self.connect_kwargs: dict[str, Any] = self.datastore.pool.kwargs  # type: ignore[assignment]
        self.connect_kwargs["connect_timeout"] = max(connect_timeout, 2)
        self.connect_kwargs["application_name"] = f"kam-domain/{schema}"[:63]
        self.read_only = bool(strtobool(self.env.get(READ_ONLY_KEY) or "no"))
        if self.read_only:
            # The pool opens its connections later, with these arguments: the server itself
            # then refuses any write, whatever the role may do.
            self.connect_kwargs["options"] = "-c default_transaction_read_only=on"
        try:
            with self._connection() as conn:
                if self.read_only:
                    require_store(conn, schema, self.env.get(self.POSTGRES_DBNAME) or "")
                if self.env_create_table():
                    upgrade(conn, schema)
                else:
                    require_current(conn, schema, reading=self.read_only)
        except BaseException:
            self.close()
            raise

    def application_recorder(self) -> ApplicationRecorder:
        with self._serialised():
            return super().application_recorder()

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        with self._serialised():
            return super().aggregate_recorder(purpose)

    def process_recorder(self) -> ProcessRecorder:
        with self._serialised():
            recorder = super().process_recorder()
        if self.read_only:
            assert isinstance(recorder, es_postgres.PostgresApplicationRecorder)
            with self._connection() as conn:
                require_table(conn, self.datastore.schema, recorder.events_table_name)
        return recorder

    def tracking_recorder(self, tracking_recorder_class: Any = None) -> Any:
        with self._serialised():
            return super().tracking_recorder(tracking_recorder_class)

    @contextmanager
    def _serialised(self) -> Iterator[None]:
        """Hold the schema's DDL lock while eventsourcing creates a recorder's tables.

        Two sessions running ``CREATE TABLE IF NOT EXISTS`` or ``CREATE OR REPLACE FUNCTION``
        for the same objects at the same moment can fail; a store's first opening by several
        processes at once is exactly that.
        """
        if not self.env_create_table():
            yield
            return
        with self._connection() as conn:
            lock(conn, self.datastore.schema)
            yield

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection of its own (not the pool's), with driver errors translated."""
        try:
            with psycopg.connect(**self.connect_kwargs, autocommit=True) as conn:
                yield conn
        except psycopg.OperationalError as error:
            raise OperationalError(self._scrub(error)) from error
        except psycopg.Error as error:
            raise PersistenceError(self._scrub(error)) from error

    def _scrub(self, error: BaseException) -> str:
        message = " ".join(str(error).split())
        return message.replace(self.password, "***") if self.password else message


def _yes_no(url: StoreUrl, name: str, default: str) -> str:
    value = url.query.get(name, default).lower()
    if value in ("yes", "true", "1", "on"):
        return "yes"
    if value in ("no", "false", "0", "off"):
        return "no"
    raise InvalidStoreUrl(f"store: {url}: {name} must be yes or no, not {value!r}")


adapter = PostgresAdapter()
