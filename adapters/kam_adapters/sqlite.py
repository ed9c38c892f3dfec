"""``sqlite:///relative.db`` or ``sqlite:////absolute/path.db``: the embedded default.

eventsourcing's SQLite module does the work; :class:`Factory` adds only that errors raised
while a connection is opened (a read-only file, a file that is not a database) arrive as
eventsourcing's persistence errors, like every other driver error, instead of as raw
``sqlite3`` exceptions. ``?mode=ro`` opens the file read-only (an auditor's copy): queries
work and every command fails with :class:`~kam_domain.errors.StoreUnavailable`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

import eventsourcing.sqlite as es_sqlite
from eventsourcing.persistence import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
)
from eventsourcing.utils import Environment, EnvType

from kam_domain.errors import InvalidStoreUrl, StoreUnavailable
from kam_domain.storage import StoreUrl

__all__ = ["Factory", "SQLiteAdapter", "adapter"]

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

    def _create_connection(self) -> es_sqlite.SQLiteConnection:
        try:
            return super()._create_connection()
        except sqlite3.Error as error:
            # Switching a read-only file to WAL mode fails here, outside any transaction.
            raise translated(error) from error


class Factory(es_sqlite.SQLiteFactory):
    """eventsourcing's SQLite factory with :class:`ConnectionPool` in its datastore."""

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


class SQLiteAdapter:
    scheme = "sqlite"
    options = frozenset({"lock_timeout", "mode"})

    def environment(self, url: StoreUrl) -> dict[str, str]:
        if url.host:
            msg = f"store: {url} names a host; write sqlite:///relative.db or sqlite:////abs.db"
            raise InvalidStoreUrl(msg)
        # As in SQLAlchemy: three slashes then a relative path, four for an absolute one.
        path = url.path[1:] if url.path.startswith("/") else url.path
        if not path:
            raise InvalidStoreUrl(f"store: {url} names no database file")
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
            env["SQLITE_LOCK_TIMEOUT"] = _whole_number(url, "lock_timeout")
        return env


def _whole_number(url: StoreUrl, name: str) -> str:
    value = url.query[name]
    if not value.isdigit():
        raise InvalidStoreUrl(f"store: {url}: {name} must be a whole number, not {value!r}")
    return value


adapter = SQLiteAdapter()
