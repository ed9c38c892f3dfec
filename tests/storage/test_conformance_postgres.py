"""The conformance kit on ``postgresql://…``: a schema per test, bytes read with psycopg."""

from __future__ import annotations

from kam_domain.application import KamApplication
from kam_domain.testing import storage as kit
from tests import postgres_server


class PostgresStore(kit.StoreTestCase):
    def create_store_url(self) -> str:
        # eventsourcing's concurrency cases run twelve threads on one recorder.
        return postgres_server.fresh_store_url(max_overflow="14")

    def drop_store(self, url: str) -> None:
        postgres_server.drop_schema(url)

    def raw_states(self, app: KamApplication) -> list[bytes]:
        schema = postgres_server.schema_of(self.store)
        recorders = [app.recorder, app.snapshots.recorder if app.snapshots else None]
        states: list[bytes] = []
        for recorder in recorders:
            if recorder is not None:
                table = recorder.events_table_name  # type: ignore[attr-defined]
                found = postgres_server.rows(self.store, "SELECT state FROM {}.{}", schema, table)
                states.extend(bytes(state) for (state,) in found)
        return states


class TestPostgresAggregateRecorder(PostgresStore, kit.AggregateRecorderConformance):
    pass


class TestPostgresApplicationRecorder(PostgresStore, kit.ApplicationRecorderConformance):
    pass


class TestPostgresTrackingRecorder(PostgresStore, kit.TrackingRecorderConformance):
    pass


class TestPostgresProcessRecorder(PostgresStore, kit.ProcessRecorderConformance):
    pass


class TestPostgresNotificationOrder(PostgresStore, kit.NotificationOrderConformance):
    pass


class TestPostgresApplication(PostgresStore, kit.ApplicationConformance):
    pass


class TestPostgresSubscription(PostgresStore, kit.SubscriptionConformance):
    pass


class TestPostgresChain(PostgresStore, kit.ChainConformance):
    pass


class TestPostgresAsOfIndex(PostgresStore, kit.AsOfIndexConformance):
    pass


class TestPostgresState(PostgresStore, kit.StateConformance):
    pass
