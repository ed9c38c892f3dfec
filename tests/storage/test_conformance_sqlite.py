"""The conformance kit on ``sqlite:///…``, reading the stored bytes with sqlite3 itself."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

from kam_domain.application import KamApplication
from kam_domain.testing import storage as kit


class SQLiteStore(kit.StoreTestCase):
    def create_store_url(self) -> str:
        self.folder = Path(tempfile.mkdtemp(prefix="kam-conformance-"))
        # Subscriptions poll (eventsourcing 9.5 has no SQLite subscription): poll briskly.
        return f"sqlite:///{self.folder / 'kam.db'}?poll_interval=0.05"

    def drop_store(self, url: str) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def raw_states(self, app: KamApplication) -> list[bytes]:
        with closing(sqlite3.connect(self.folder / "kam.db")) as db:
            rows = db.execute(
                "SELECT state FROM stored_events UNION ALL SELECT state FROM stored_snapshots"
            ).fetchall()
        return [bytes(state) for (state,) in rows]


class TestSQLiteAggregateRecorder(SQLiteStore, kit.AggregateRecorderConformance):
    pass


class TestSQLiteApplicationRecorder(SQLiteStore, kit.ApplicationRecorderConformance):
    pass


class TestSQLiteTrackingRecorder(SQLiteStore, kit.TrackingRecorderConformance):
    pass


class TestSQLiteProcessRecorder(SQLiteStore, kit.ProcessRecorderConformance):
    pass


class TestSQLiteNotificationOrder(SQLiteStore, kit.NotificationOrderConformance):
    pass


class TestSQLiteApplication(SQLiteStore, kit.ApplicationConformance):
    pass


class TestSQLiteSubscription(SQLiteStore, kit.SubscriptionConformance):
    pass


class TestSQLiteChain(SQLiteStore, kit.ChainConformance):
    pass


class TestSQLiteAsOfIndex(SQLiteStore, kit.AsOfIndexConformance):
    pass


class TestSQLiteState(SQLiteStore, kit.StateConformance):
    pass
