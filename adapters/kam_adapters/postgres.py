"""``postgresql://user:password@host:port/db?schema=name``: the production backend.

eventsourcing's PostgreSQL module (psycopg 3 and its connection pool) does the work. The
URL maps onto its settings; :class:`Factory` adds only what this library needs on top:

- each store lives in its own schema (default ``kam``), created when missing, so several
  stores share one database;
- the schema's layout version is recorded in a small table, ``kam_schema_version``, and
  brought up to date when the store is opened; the upgrade holds an advisory lock, so
  processes opening the same new store at once do not race each other's DDL, and running it
  twice changes nothing;
- connection failures at open time (server down, wrong password, missing database) are
  reported at once, with the server's reason and never the password.

Query parameters: ``schema``, ``pool_size`` (connections kept open, default 2),
``max_overflow`` (extra connections under load, default 8), ``connect_timeout`` (seconds,
default 5), ``lock_timeout`` (seconds, 0 = wait), ``pre_ping`` (yes/no), ``create``
(yes/no: with ``no`` the store must already be at this library's version, for hosts whose
runtime role may not create tables), plus the common ``cipher_key`` and ``compress``.
Without a password in the URL, libpq's own ``PGPASSWORD`` or ``~/.pgpass`` apply.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote

try:
    import psycopg
except ImportError as error:  # pragma: no cover - depends on what is installed
    msg = "postgresql:// stores need psycopg: pip install 'kam-domain[postgres]'"
    raise ImportError(msg) from error

import eventsourcing.postgres as es_postgres
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    OperationalError,
    PersistenceError,
    ProcessRecorder,
)
from eventsourcing.utils import Environment, EnvType
from psycopg.sql import SQL, Composed, Identifier

from kam_domain.errors import InvalidStoreUrl
from kam_domain.storage import StoreUrl

__all__ = [
    "DEFAULT_SCHEMA",
    "SCHEMA_VERSION",
    "VERSION_TABLE",
    "Factory",
    "PostgresAdapter",
    "adapter",
    "schema_version",
]

DEFAULT_SCHEMA = "kam"
VERSION_TABLE = "kam_schema_version"
#: The layout this library writes; :data:`MIGRATIONS` brings older stores up to it.
SCHEMA_VERSION = 1

#: Statements per version, run once each, in order, inside one transaction. ``{schema}`` is
#: the store's schema. Version 1 is eventsourcing's own tables, which its recorders create.
MIGRATIONS: dict[int, tuple[str, ...]] = {1: ()}

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_COMPONENT = "storage"
_DEFAULTS = {
    "pool_size": "2",
    "max_overflow": "8",
    "connect_timeout": "5",
    "lock_timeout": "0",
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
            value = url.query.get(name, default)
            if not value.isdigit() or (name != "lock_timeout" and int(value) == 0):
                raise InvalidStoreUrl(f"store: {url}: {name} must be a positive whole number")
            env[f"POSTGRES_{name.upper()}"] = value
        return env


class Factory(es_postgres.PostgresFactory):
    """eventsourcing's PostgreSQL factory, plus schema creation and a recorded schema version."""

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
        try:
            with self._connection() as conn:
                if self.env_create_table():
                    upgrade(conn, schema)
                else:
                    _require_current(conn, schema)
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
            return super().process_recorder()

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
            _lock(conn, self.datastore.schema)
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


def upgrade(conn: psycopg.Connection[Any], schema: str) -> int:
    """Create ``schema`` if missing and bring its recorded layout up to :data:`SCHEMA_VERSION`.

    Safe to run any number of times, from any number of processes at once: it holds the
    schema's advisory lock, and each migration runs once, in the transaction that records it.
    Returns the version the schema is at afterwards.
    """
    _lock(conn, schema)
    exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    if exists is None:
        # Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the
        # schema exists, and a runtime role often lacks it.
        conn.execute(SQL("CREATE SCHEMA IF NOT EXISTS {}").format(Identifier(schema)))
    conn.execute(
        _sql(
            "CREATE TABLE IF NOT EXISTS {schema}.{table} ("
            "component text PRIMARY KEY, "
            "version integer NOT NULL, "
            "upgraded_at timestamptz NOT NULL DEFAULT now())",
            schema,
        )
    )
    current = schema_version(conn, schema) or 0
    _refuse_newer(current, schema)
    if current < SCHEMA_VERSION:
        with conn.transaction():
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version]:
                    conn.execute(_sql(statement, schema))
            conn.execute(
                _sql(
                    "INSERT INTO {schema}.{table} (component, version) VALUES (%s, %s) "
                    "ON CONFLICT (component) DO UPDATE "
                    "SET version = EXCLUDED.version, upgraded_at = now()",
                    schema,
                ),
                (_COMPONENT, SCHEMA_VERSION),
            )
    return SCHEMA_VERSION


def schema_version(conn: psycopg.Connection[Any], schema: str) -> int | None:
    """The layout version recorded in ``schema``, or None when it records none."""
    table = conn.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
        (schema, VERSION_TABLE),
    ).fetchone()
    if table is None:
        return None
    row = conn.execute(
        _sql("SELECT version FROM {schema}.{table} WHERE component = %s", schema),
        (_COMPONENT,),
    ).fetchone()
    if row is None:
        return None
    version = row["version"] if isinstance(row, dict) else row[0]
    return int(version)


def _require_current(conn: psycopg.Connection[Any], schema: str) -> None:
    current = schema_version(conn, schema) or 0
    _refuse_newer(current, schema)
    if current < SCHEMA_VERSION:
        msg = (
            f"schema {schema} is at version {current}, this library needs {SCHEMA_VERSION}; "
            "open the store once with create=yes, as a role that may create tables"
        )
        raise OperationalError(msg)


def _refuse_newer(current: int, schema: str) -> None:
    if current > SCHEMA_VERSION:
        msg = (
            f"schema {schema} is at version {current}, newer than this library's "
            f"{SCHEMA_VERSION}; upgrade kam-domain before opening it"
        )
        raise OperationalError(msg)


def _lock(conn: psycopg.Connection[Any], schema: str) -> None:
    """Take the schema's DDL lock for the rest of the session (released when it closes)."""
    conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (f"kam_domain:{schema}",))


def _sql(statement: str, schema: str) -> Composed:
    return SQL(statement).format(schema=Identifier(schema), table=Identifier(VERSION_TABLE))


def _yes_no(url: StoreUrl, name: str, default: str) -> str:
    value = url.query.get(name, default).lower()
    if value in ("yes", "true", "1", "on"):
        return "yes"
    if value in ("no", "false", "0", "off"):
        return "no"
    raise InvalidStoreUrl(f"store: {url}: {name} must be yes or no, not {value!r}")


adapter = PostgresAdapter()
