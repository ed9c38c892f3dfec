"""A backend written outside this library, registered by entry point and proved with the kit.

``sqlitefile:///path/to/file.db`` wraps eventsourcing's SQLite module, as a third party might:
the adapter is the few lines below; its distribution's metadata registers it in the
``kam_domain.storage`` entry-point group (here a dist-info folder put on ``sys.path`` for the
tests); the conformance kit does the rest.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kam_domain.application import KamApplication
from kam_domain.errors import UnknownStoreScheme
from kam_domain.storage import StoreUrl, available_schemes, resolve_store
from kam_domain.testing import storage as kit


class SQLiteFileAdapter:
    """``sqlitefile:///absolute/path.db``: eventsourcing's SQLite persistence module."""

    scheme = "sqlitefile"

    def environment(self, url: StoreUrl) -> dict[str, str]:
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": url.path}


adapter = SQLiteFileAdapter()

ENTRY_POINTS = f"""\
[kam_domain.storage]
sqlitefile = {__name__}:adapter
"""


class Registration:
    """The adapter's distribution, installed by putting its metadata on ``sys.path``."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="kam-example-adapter-"))
        info = self.root / "kam_example_adapter-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: kam-example-adapter\nVersion: 0.1\n"
        )
        (info / "entry_points.txt").write_text(ENTRY_POINTS)
        sys.path.append(str(self.root))

    def remove(self) -> None:
        sys.path.remove(str(self.root))
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(name="registered")
def fixture_registered() -> Iterator[None]:
    registration = Registration()
    yield
    registration.remove()


def test_scheme_is_unknown_until_its_distribution_is_installed() -> None:
    """Without the entry point, sqlitefile:// is refused and not listed."""
    assert "sqlitefile" not in available_schemes()
    with pytest.raises(UnknownStoreScheme):
        resolve_store("sqlitefile:///tmp/kam.db")


@pytest.mark.usefixtures("registered")
def test_installed_adapter_is_found_by_its_scheme(tmp_path: Path) -> None:
    """Once registered, the scheme is listed and the facade opens stores through it."""
    app = KamApplication(f"sqlitefile://{tmp_path / 'kam.db'}")
    app.close()

    assert "sqlitefile" in available_schemes()
    assert isinstance(resolve_store("sqlitefile:///x.db")[1], SQLiteFileAdapter)
    assert (tmp_path / "kam.db").exists()


class SQLiteFileStore(kit.StoreTestCase):
    supports_subscriptions = False
    # eventsourcing's own recorders: no hash chain, no as-of index (as-of queries replay),
    # no engine state (the engine keeps it in memory).
    keeps_chain = False
    keeps_asof_index = False
    keeps_state = False

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        registration = Registration()
        cls.addClassCleanup(registration.remove)

    def create_store_url(self) -> str:
        self.folder = Path(tempfile.mkdtemp(prefix="kam-sqlitefile-"))
        return f"sqlitefile://{self.folder / 'kam.db'}"

    def drop_store(self, url: str) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class TestSQLiteFileAggregateRecorder(SQLiteFileStore, kit.AggregateRecorderConformance):
    pass


class TestSQLiteFileApplicationRecorder(SQLiteFileStore, kit.ApplicationRecorderConformance):
    pass


class TestSQLiteFileTrackingRecorder(SQLiteFileStore, kit.TrackingRecorderConformance):
    pass


class TestSQLiteFileProcessRecorder(SQLiteFileStore, kit.ProcessRecorderConformance):
    pass


class TestSQLiteFileNotificationOrder(SQLiteFileStore, kit.NotificationOrderConformance):
    pass


class TestSQLiteFileApplication(SQLiteFileStore, kit.ApplicationConformance):
    pass


class TestSQLiteFileChain(SQLiteFileStore, kit.ChainConformance):
    pass


class TestSQLiteFileAsOfIndex(SQLiteFileStore, kit.AsOfIndexConformance):
    pass


class TestSQLiteFileState(SQLiteFileStore, kit.StateConformance):
    pass
