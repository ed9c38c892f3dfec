"""What the PostgreSQL adapter adds to eventsourcing's module: schemas, versions, upgrades."""

from __future__ import annotations

import threading

import pytest

from kam_domain.application import KamApplication
from kam_domain.errors import StoreUnavailable
from kam_domain.values import Percentage
from tests import postgres_server

postgres = postgres_server.adapter_module()


def form(app: KamApplication, name: str) -> None:
    app.form_team(
        name=name, segment="s", region="r", director_name="D", top_authority=Percentage.of(5)
    )


def version_rows(url: str) -> list[tuple[str, int]]:
    schema = postgres_server.schema_of(url)
    found = postgres_server.rows(
        url, "SELECT component, version FROM {}.{}", schema, postgres.VERSION_TABLE
    )
    return [(row[0], row[1]) for row in found]


def test_opening_a_store_creates_its_schema_and_records_the_version(pg_store: str) -> None:
    """A store in a schema that does not exist yet gets the schema and version 1."""
    app = KamApplication(pg_store)
    app.close()

    assert version_rows(pg_store) == [("storage", postgres.SCHEMA_VERSION)]


def test_upgrade_run_twice_changes_nothing(pg_store: str) -> None:
    """Running the upgrade again on an up-to-date schema leaves the same single version row."""
    KamApplication(pg_store).close()
    schema = postgres_server.schema_of(pg_store)

    with postgres_server.connect(pg_store) as conn:
        first = postgres.upgrade(conn, schema)
        second = postgres.upgrade(conn, schema)
    KamApplication(pg_store).close()

    assert first == second == postgres.SCHEMA_VERSION
    assert version_rows(pg_store) == [("storage", postgres.SCHEMA_VERSION)]


def test_several_first_openings_at_once_all_succeed(pg_store: str) -> None:
    """Eight applications opening one new store at the same moment race no DDL."""
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def open_store() -> None:
        start.wait()
        try:
            KamApplication(pg_store).close()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=open_store) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert version_rows(pg_store) == [("storage", postgres.SCHEMA_VERSION)]


def test_store_written_by_a_newer_library_is_refused(pg_store: str) -> None:
    """A schema at a version this library does not know is StoreUnavailable, not rewritten."""
    KamApplication(pg_store).close()
    schema = postgres_server.schema_of(pg_store)
    postgres_server.rows(pg_store, "UPDATE {}.{} SET version = 99", schema, postgres.VERSION_TABLE)

    with pytest.raises(StoreUnavailable, match="version 99, newer than"):
        KamApplication(pg_store)

    assert version_rows(pg_store) == [("storage", 99)]


def test_create_no_opens_only_a_store_already_at_this_version(pg_store: str) -> None:
    """With create=no nothing is created: a new schema is refused, an upgraded one opens."""
    runtime_url = postgres_server.with_query(pg_store, create="no")

    with pytest.raises(StoreUnavailable, match="is at version 0"):
        KamApplication(runtime_url)
    KamApplication(pg_store).close()
    app = KamApplication(runtime_url)
    form(app, "Runtime role")

    assert [t.name for t in app.teams()] == ["Runtime role"]
    app.close()


def test_stores_in_two_schemas_of_one_database_are_separate(pg_store: str) -> None:
    """Two schemas in one database hold two stores that never see each other's records."""
    other_store = postgres_server.fresh_store_url()
    try:
        east, west = KamApplication(pg_store), KamApplication(other_store)
        form(east, "East")
        form(west, "West")

        assert [t.name for t in east.teams()] == ["East"]
        assert [t.name for t in west.teams()] == ["West"]
        east.close()
        west.close()
    finally:
        postgres_server.drop_schema(other_store)


def test_kam_store_variable_can_name_a_postgres_store(
    pg_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host that sets KAM_STORE to a postgresql:// URL opens that store by default."""
    monkeypatch.setenv("KAM_STORE", pg_store)

    app = KamApplication()
    form(app, "From the environment")
    app.close()
    reopened = KamApplication(pg_store)

    assert [t.name for t in reopened.teams()] == ["From the environment"]
    reopened.close()


def test_pool_connections_name_the_store_to_the_server(pg_store: str) -> None:
    """Each connection tells the server which store it serves (pg_stat_activity)."""
    app = KamApplication(pg_store)
    app.teams()
    schema = postgres_server.schema_of(pg_store)

    with postgres_server.connect(pg_store) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT application_name FROM pg_stat_activity WHERE application_name LIKE %s",
                (f"%{schema}",),
            ).fetchall()
        ]
    app.close()

    assert names
    assert set(names) == {f"kam-domain/{schema}"}
