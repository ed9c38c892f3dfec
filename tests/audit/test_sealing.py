"""How the adapters write the chain and the index: with the events or not at all, from several
processes at once, over stores written before the chain existed, and looked up by index."""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from kam_domain.application import KamApplication
from kam_domain.audit import verify_store
from kam_domain.ledger import CHAIN_FORMAT, ChainFormat
from kam_domain.values import Percentage, Role
from tests import postgres_server
from tests.conftest import fresh_store
from tests.storage import workers
from tests.support import T0


def form(app: KamApplication, name: str = "Sealed team") -> tuple[Any, Any]:
    return app.form_team(
        name=name, segment="s", region="r", director_name="D", top_authority=Percentage.of(10)
    )


@pytest.fixture(name="shared_store", params=["sqlite", "postgres"])
def fixture_shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_store(request.param, tmp_path) as url:
        yield url


def test_writer_processes_at_once_keep_one_chain(shared_store: str) -> None:
    """Three OS processes writing at once (conflicts retried) leave one verifying chain."""
    app = KamApplication(shared_store, run_policies=False)
    team_id, director = form(app)
    kams = [
        app.add_member(team_id, director, name=f"KAM {n}", role=Role.KEY_ACCOUNT_MANAGER)
        for n in range(3)
    ]
    app.close()

    with multiprocessing.get_context("spawn").Pool(3) as pool:
        pool.starmap(workers.write, [(shared_store, team_id, director, kam, 30) for kam in kams])

    result = verify_store(shared_store)
    with KamApplication(shared_store, run_policies=False) as reader:
        stored = len(reader.recorder.select_notifications(start=None, limit=100_000))
    assert result.intact, result.breach
    assert result.checked == stored


def test_a_failure_while_sealing_writes_nothing(
    shared_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If computing the links fails, the events are rolled back with them (never unsealed)."""
    app = KamApplication(shared_store, run_policies=False)
    team_id, director = form(app)
    before = app.recorder.max_notification_id()

    def broken(*_: Any) -> Any:
        raise RuntimeError("sealing failed")

    # Every backend computes its links in the sealing core.
    monkeypatch.setattr("kam_domain.sealing.seal", broken)
    with pytest.raises(RuntimeError, match="sealing failed"):
        app.set_capacity(team_id, director, None, capacity=3)
    monkeypatch.undo()

    assert app.recorder.max_notification_id() == before
    app.set_capacity(team_id, director, None, capacity=4)
    assert verify_store(shared_store).intact
    app.close()


def test_a_store_written_without_a_chain_is_sealed_when_first_opened(shared_store: str) -> None:
    """Events stored by plain eventsourcing are sealed on first opening, and verify says so."""
    plain = {"PERSISTENCE_MODULE": "eventsourcing.sqlite"}
    if "postgres" in shared_store:
        schema = postgres_server.schema_of(shared_store)
        with postgres_server.connect(shared_store) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        plain = {"PERSISTENCE_MODULE": "eventsourcing.postgres"}
    legacy = KamApplication(shared_store, env=plain, run_policies=False)
    team_id, director = form(legacy)
    written = legacy.recorder.max_notification_id()
    legacy.close()

    app = KamApplication(shared_store, run_policies=False)
    app.set_capacity(team_id, director, None, capacity=5)
    result = verify_store(shared_store)
    formats = list(app.recorder.chain_formats())  # type: ignore[attr-defined]
    app.close()

    assert formats == [ChainFormat(1, 1, written), ChainFormat(CHAIN_FORMAT, written + 1)]
    assert result.intact, result.breach
    assert result.adopted_through == written
    assert result.checked == written + 1


def test_sqlite_finds_the_version_at_a_moment_with_one_index_seek(tmp_path: Path) -> None:
    """SQLite's plan for the as-of lookup searches the timestamp index: no scan, no sort."""
    path = tmp_path / "kam.db"
    app = KamApplication(f"sqlite:///{path}", run_policies=False)
    form(app)
    statement = app.recorder.version_at_statement  # type: ignore[attr-defined]
    app.close()

    with closing(sqlite3.connect(path)) as db:
        plan = " ".join(row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN {statement}", ("", 0)))

    assert plan.startswith("SEARCH stored_events_asof USING PRIMARY KEY")
    assert "SCAN" not in plan
    assert "TEMP B-TREE" not in plan


def test_postgresql_finds_the_version_at_a_moment_through_its_index() -> None:
    """PostgreSQL can answer the as-of lookup from the timestamp index, without sorting."""
    from psycopg.sql import SQL

    url = postgres_server.fresh_store_url()
    try:
        app = KamApplication(url, run_policies=False)
        team_id, _ = form(app)
        statement = app.recorder.version_at_statement  # type: ignore[attr-defined]
        app.close()
        with postgres_server.connect(url) as conn, conn.transaction():
            conn.execute("SET LOCAL enable_seqscan = off")
            rows = conn.execute(SQL("EXPLAIN ") + statement, (team_id, T0)).fetchall()
    finally:
        postgres_server.drop_schema(url)
    plan = " ".join(row[0] for row in rows)

    assert "kam_events_asof_pkey" in plan
    assert "Sort" not in plan
    assert plan.startswith("Limit")
