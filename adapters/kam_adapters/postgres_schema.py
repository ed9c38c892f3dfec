"""A PostgreSQL store's layout version: recorded in its schema, brought up to date once.

The schema's ``kam_schema_version`` table records which layout of this library the store is at;
:func:`upgrade` creates the schema when missing and runs the migrations it lacks, holding the
schema's advisory lock so that processes opening a new store at once do not race each other's
DDL. Kept apart from :mod:`kam_adapters.postgres` (the URL, the factory and the recorders),
which uses it when a store is opened.
"""

from __future__ import annotations

from typing import Any

import psycopg
from eventsourcing.persistence import OperationalError
from psycopg.sql import SQL, Composed, Identifier

from kam_domain.errors import NotAKamStore, StoreNotFound

__all__ = [
    "CHECKPOINT_TABLE",
    "MIGRATIONS",
    "READABLE_FROM",
    "SCHEMA_VERSION",
    "STATE_TABLE",
    "VERSION_TABLE",
    "lock",
    "require_current",
    "require_store",
    "require_table",
    "schema_version",
    "upgrade",
]

VERSION_TABLE = "kam_schema_version"
#: The engine's state (see :mod:`kam_domain.state_tables`): its cells, and its checkpoint.
STATE_TABLE = "kam_state"
CHECKPOINT_TABLE = "kam_state_checkpoint"
#: The layout this library writes; :data:`MIGRATIONS` brings older stores up to it.
SCHEMA_VERSION = 3
#: The oldest layout a store opened for reading may be at: version 3 adds only the engine's
#: state, which a store without its tables answers as empty.
READABLE_FROM = 2

#: Statements per version, run once each, in order, inside one transaction. ``{schema}`` is
#: the store's schema. Version 1 is eventsourcing's own tables, which its recorders create;
#: version 2 adds the hash chain and the as-of index, which the adapter's recorders create
#: (sealing, when the chain is new, the events already stored); version 3 adds the engine's
#: state: its cells by key (compared byte by byte, collation "C", so that they list in the
#: same order on every server) and its checkpoint, one row.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (),
    2: (),
    3: (
        f"CREATE TABLE IF NOT EXISTS {{schema}}.{STATE_TABLE} ("
        'key text COLLATE "C" PRIMARY KEY, value bytea NOT NULL)',
        f"CREATE TABLE IF NOT EXISTS {{schema}}.{CHECKPOINT_TABLE} ("
        "id smallint PRIMARY KEY CHECK (id = 1), "
        "serial bigint NOT NULL, position bigint NOT NULL)",
    ),
}

_COMPONENT = "storage"


def upgrade(conn: psycopg.Connection[Any], schema: str) -> int:
    """Create ``schema`` if missing and bring its recorded layout up to :data:`SCHEMA_VERSION`.

    Safe to run any number of times, from any number of processes at once: it holds the
    schema's advisory lock, and each migration runs once, in the transaction that records it.
    Returns the version the schema is at afterwards.
    """
    lock(conn, schema)
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


def require_store(conn: psycopg.Connection[Any], schema: str, dbname: str) -> None:
    """A store opened for reading: its schema exists and is the library's."""
    found = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    if found is None:
        msg = (
            f"store: database {dbname} has no schema {schema} (a reading command never "
            "creates one; is the name right?)"
        )
        raise StoreNotFound(msg)
    require_table(conn, schema, VERSION_TABLE)


def require_table(conn: psycopg.Connection[Any], schema: str, table: str) -> None:
    # pg_tables lists every table, whatever the role may read in it.
    found = conn.execute(
        "SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = %s", (schema, table)
    ).fetchone()
    if found is None:
        msg = f"store: schema {schema}: not a kam store (it has no {table} table)"
        raise NotAKamStore(msg)


def require_current(conn: psycopg.Connection[Any], schema: str, *, reading: bool = False) -> None:
    """The store's layout is this library's (``reading``: at least :data:`READABLE_FROM`)."""
    current = schema_version(conn, schema) or 0
    _refuse_newer(current, schema)
    if current < (READABLE_FROM if reading else SCHEMA_VERSION):
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


def lock(conn: psycopg.Connection[Any], schema: str) -> None:
    """Take the schema's DDL lock for the rest of the session (released when it closes)."""
    conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (f"kam_domain:{schema}",))


def _sql(statement: str, schema: str) -> Composed:
    return SQL(statement).format(schema=Identifier(schema), table=Identifier(VERSION_TABLE))
