"""``sqlite:///relative.db`` or ``sqlite:////absolute/path.db``: the embedded default."""

from __future__ import annotations

from pathlib import Path

from kam_domain.errors import InvalidStoreUrl, StoreUnavailable
from kam_domain.storage import StoreUrl

__all__ = ["SQLiteAdapter", "adapter"]


class SQLiteAdapter:
    scheme = "sqlite"

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
        env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path}
        if "lock_timeout" in url.query:
            env["SQLITE_LOCK_TIMEOUT"] = url.query["lock_timeout"]
        return env


adapter = SQLiteAdapter()
