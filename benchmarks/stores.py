"""Stores for the benchmarks: a fresh one per backend, the cached histories on every backend.

PostgreSQL comes from ``KAM_BENCH_POSTGRES_URL`` (else ``KAM_TEST_POSTGRES_URL``, else the local
server's database ``test``); each store gets a schema of its own (prefix ``kambench_``), dropped
afterwards, except the copies of cached histories (``kambench_history_…``), which are kept for
the next run like the SQLite files under ``benchmarks/.cache/`` (``make bench-clean`` drops
both).
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from uuid import UUID, uuid4

from eventsourcing.persistence import InfrastructureFactory, StoredEvent, Tracking
from eventsourcing.utils import Environment

from kam_domain.ledger import TIMESTAMPS
from kam_domain.storage import resolve_store, store_settings

__all__ = [
    "BACKENDS",
    "copy_history",
    "drop",
    "fresh_store",
    "plain_environment",
    "postgres_unavailable",
    "postgres_url",
]

BACKENDS = ("memory", "sqlite", "postgres")
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
PREFIX = "kambench_"
#: eventsourcing's own persistence module per backend: what a bare application runs on.
PLAIN_MODULES = {
    "memory": "eventsourcing.popo",
    "sqlite": "eventsourcing.sqlite",
    "postgres": "eventsourcing.postgres",
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def postgres_url() -> str:
    return (
        os.environ.get("KAM_BENCH_POSTGRES_URL")
        or os.environ.get("KAM_TEST_POSTGRES_URL")
        or DEFAULT_POSTGRES
    )


@functools.cache
def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be benchmarked here, or None when its server answers."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    try:
        with psycopg.connect(**connect_kwargs(postgres_url()), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return f"no PostgreSQL server at {_masked(postgres_url())} ({first})"
    return None


def connect_kwargs(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    return {
        "host": parts.hostname or "",
        "port": parts.port or 5432,
        "user": parts.username or "",
        "password": parts.password or "",
        "dbname": parts.path.lstrip("/"),
    }


def with_schema(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["schema"] = schema
    return urlunsplit(parts._replace(query=urlencode(query)))


def schema_of(url: str) -> str:
    return dict(parse_qsl(urlsplit(url).query))["schema"]


def fresh_store(backend: str, folder: Path, name: str = "store") -> str:
    """The URL of a new, empty store of ``backend`` (SQLite: a file in ``folder``)."""
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return f"sqlite:///{folder / f'{name}-{uuid4().hex[:8]}.db'}"
    if backend == "postgres":
        return with_schema(postgres_url(), f"{PREFIX}{uuid4().hex[:16]}")
    raise ValueError(backend)


def drop(url: str) -> None:
    """Remove a PostgreSQL store's schema (other backends clean up with their folder)."""
    if not url.startswith("postgres"):
        return
    import psycopg
    from psycopg.sql import SQL, Identifier

    with psycopg.connect(**connect_kwargs(url), autocommit=True) as conn:
        conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(schema_of(url))))


def drop_all() -> list[str]:
    """Drop every schema the benchmarks made on the server (cached histories included)."""
    import psycopg
    from psycopg.sql import SQL, Identifier

    with psycopg.connect(**connect_kwargs(postgres_url()), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (PREFIX + "%",)
        ).fetchall()
        for (schema,) in rows:
            conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(schema)))
    return [row[0] for row in rows]


def ensure_schema(url: str) -> None:
    import psycopg
    from psycopg.sql import SQL, Identifier

    with psycopg.connect(**connect_kwargs(url), autocommit=True) as conn:
        conn.execute(SQL("CREATE SCHEMA IF NOT EXISTS {}").format(Identifier(schema_of(url))))


@contextmanager
def scratch(backend: str, folder: Path, name: str = "store") -> Iterator[str]:
    url = fresh_store(backend, folder, name)
    try:
        yield url
    finally:
        drop(url)


def plain_environment(url: str) -> dict[str, str]:
    """The environment of ``url``'s store for eventsourcing's own persistence module: what a
    bare eventsourcing application on the same backend (same file, server, schema) uses."""
    store, adapter = resolve_store(url)
    settings = store_settings(store, adapter)
    backend = backend_of(url)
    settings["PERSISTENCE_MODULE"] = PLAIN_MODULES[backend]
    if backend == "postgres":
        ensure_schema(url)
    return settings


def backend_of(url: str) -> str:
    if url.startswith("memory"):
        return "memory"
    if url.startswith("sqlite"):
        return "sqlite"
    return "postgres"


# -- cached histories on every backend -------------------------------------------------------


def copy_history(source: str, recorder: Any, *, log: Callable[[str], None] | None = None) -> None:
    """Copy a SQLite history's stored events, in order with their timestamps, to ``recorder``.

    The recorder writes its own chain and as-of index as it inserts, exactly as when the events
    were first recorded. Tracking records are not copied: policy benchmarks record histories of
    their own.
    """
    with closing(sqlite3.connect(_sqlite_path(source))) as db:
        rows = db.execute(
            "SELECT e.originator_id, e.originator_version, e.topic, e.state, a.timestamp "
            "FROM stored_events e LEFT JOIN stored_events_asof a "
            "ON a.originator_id = e.originator_id AND a.originator_version = e.originator_version "
            "ORDER BY e.rowid"
        )
        copied = 0
        while True:
            page = rows.fetchmany(1000)
            if not page:
                break
            events, stamps = [], {}
            for originator, version, topic, state, micros in page:
                identity = UUID(originator)
                events.append(StoredEvent(identity, version, topic, state))
                if micros is not None:
                    stamps[(identity, version)] = _EPOCH + timedelta(microseconds=micros)
            recorder.insert_events(events, **{TIMESTAMPS: stamps})
            copied += len(events)
            if log is not None and copied % 100_000 == 0:
                log(f"  ... {copied:,} events copied")
        # Where each policy had got to, so that an engine on the copy starts caught up.
        for name, position in db.execute(
            "SELECT application_name, MAX(notification_id) FROM tracking "
            "WHERE application_name LIKE 'kam.policy.%' GROUP BY application_name"
        ):
            recorder.insert_tracking(Tracking(name, position))


def _sqlite_path(url: str) -> str:
    rest = url.split("sqlite:///", 1)[1]
    return rest.split("?", 1)[0]


def _factory(url: str) -> Any:
    store, adapter = resolve_store(url)
    settings = store_settings(store, adapter)
    from kam_domain.application.core import ApplicationCore

    return InfrastructureFactory.construct(Environment(ApplicationCore.name, settings))


def postgres_history(events: int, source: str, log: Callable[[str], None]) -> str:
    """A PostgreSQL copy of a cached history, kept between runs in a schema of its own, named
    after the history's size and its chain's head (a regenerated history gets a new copy)."""
    from kam_domain.audit import checkpoint_store

    head = checkpoint_store(source + "?mode=ro").link.hex()[:12]
    url = with_schema(postgres_url(), f"{PREFIX}history_{events}_{head}")
    import psycopg
    from psycopg.sql import SQL, Identifier

    schema = schema_of(url)
    # Two benchmark runs at once would copy into the same schema: the second waits for the
    # first (a session lock on the schema's name) and then finds the copy complete.
    with psycopg.connect(**connect_kwargs(url), autocommit=True) as lock:
        lock.execute("SELECT pg_advisory_lock(hashtext(%s))", (schema,))
        complete = lock.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s "
            "AND table_name = 'kambench_complete'",
            (schema,),
        ).fetchone()
        if complete:
            return url
        drop(url)
        log(f"copying the history of {events:,} events to PostgreSQL (schema {schema}) ...")
        factory = _factory(url)
        try:
            copy_history(source, factory.process_recorder(), log=log)
        finally:
            factory.close()
        lock.execute(SQL("CREATE TABLE {}.kambench_complete ()").format(Identifier(schema)))
    return url


def _masked(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
