"""Derived data edited in the database changes no decision, and ``verify --deep`` lists it.

The attacks: a snapshot edited to widen a KAM's authority from 5 % to 30 %, then an 8 %
approval under it; as-of index rows shifted in time, then ``get_team(at=...)``. Each goes
through the database's own driver, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from kam_domain.application import KamApplication
from kam_domain.audit import verify_derived, verify_store
from kam_domain.audit.records import open_app
from kam_domain.errors import AuthorityExceeded, StoreTampered
from kam_domain.ledger import micros
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.values import Percentage
from tests import postgres_server
from tests.application.test_projects import started
from tests.conftest import Org, build_org
from tests.support import at


class Rows:
    """Raw SQL on one backend's tables: ``{events}``, ``{snapshots}``, ``{asof}`` filled in."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        if backend == "sqlite":
            self.path = tmp_path / "kam.db"
            self.url = f"sqlite:///{self.path}"
        else:
            self.url = postgres_server.fresh_store_url()

    def run(self, statement: str, params: tuple[Any, ...] = ()) -> None:
        if self.backend == "sqlite":
            text = statement.format(
                snapshots="stored_snapshots", asof="stored_events_asof", mark="?"
            )
            with closing(sqlite3.connect(self.path)) as db, db:
                db.execute(text, params)
            return
        schema = postgres_server.schema_of(self.url)
        text = statement.format(
            snapshots=f"{schema}.kam_snapshots", asof=f"{schema}.kam_events_asof", mark="%s"
        )
        with postgres_server.connect(self.url) as conn:
            conn.execute(text.encode(), params)

    def widen_snapshot_authority(self) -> None:
        """Every 5 % in the team's snapshots becomes 30 %."""
        if self.backend == "sqlite":
            self.run(
                "UPDATE {snapshots} SET state = CAST(replace(CAST(state AS TEXT), "
                '\'"_data_":"5"\', \'"_data_":"30"\') AS BLOB)'
            )
        else:
            self.run(
                "UPDATE {snapshots} SET state = convert_to(replace(convert_from(state, 'UTF8'), "
                '\'"_data_":"5"\', \'"_data_":"30"\'), \'UTF8\')'
            )

    def shift_asof(self, record_id: UUID, version: int, to: Any) -> None:
        if self.backend == "sqlite":
            self.run(
                "UPDATE {asof} SET timestamp = ? "
                "WHERE originator_id = ? AND originator_version = ?",
                (micros(to), record_id.hex, version),
            )
        else:
            self.run(
                'UPDATE {asof} SET "timestamp" = %s WHERE originator_id = %s '
                "AND originator_version = %s",
                (to, record_id, version),
            )

    def close(self) -> None:
        if self.backend == "postgres":
            postgres_server.drop_schema(self.url)


@pytest.fixture(name="rows", params=["sqlite", "postgres"])
def fixture_rows(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rows]:
    rows = Rows(request.param, tmp_path)
    yield rows
    rows.close()


def opened(rows: Rows) -> KamApplication:
    return KamApplication(rows.url, policies=PolicyRegistry())


def test_an_edited_snapshot_widens_no_authority(rows: Rows) -> None:
    """Given a snapshot edited from 5 % to 30 %, an 8 % approval is still refused, nothing is
    written, and verify --deep names the snapshot."""
    app = opened(rows)
    org: Org = build_org(app)
    project_id = started(app, org)
    request_id = app.request_discount(
        project_id, org.kam, percentage=Percentage.of(8), justification="rival bid", at=at(2)
    )
    app.take_snapshot(org.team_id)
    app.close()
    rows.widen_snapshot_authority()

    app = opened(rows)
    written = app.recorder.max_notification_id()
    try:
        with pytest.raises(AuthorityExceeded, match="5%"):
            app.approve_discount(project_id, org.kam2, request_id, at=at(3))
        assert app.credentials(org.team_id, org.kam2).discount_authority == Percentage.of(5)
        assert app.recorder.max_notification_id() == written
    finally:
        app.close()

    with open_app(rows.url) as reader:
        found = verify_derived(reader)
    assert [(m.kind, m.record_id) for m in found] == [("snapshot", org.team_id)]
    assert found[0].position is not None
    assert "grants" in found[0].reason
    assert verify_store(rows.url).intact  # the chain does not cover snapshots: --deep does


def test_a_shifted_asof_row_changes_no_answer(rows: Rows) -> None:
    """Given an as-of row moved earlier in time, get_team(at=...) refuses it as tampering
    instead of answering from it, and verify --deep names the row's position."""
    app = opened(rows)
    team_id, director = app.form_team(
        name="T",
        segment="s",
        region="r",
        director_name="D",
        top_authority=Percentage.of(10),
        at=at(0),
    )
    app.set_capacity(team_id, director, None, capacity=3, at=at(5))
    version = app.get_team(team_id).version
    app.close()
    rows.shift_asof(team_id, version, at(1))

    app = opened(rows)
    try:
        with pytest.raises(StoreTampered, match=str(team_id)):
            app.get_team(team_id, at=at(2))
        assert app.get_team(team_id, at=at(6)).default_capacity == 3
    finally:
        app.close()

    with open_app(rows.url) as reader:
        found = verify_derived(reader)
    assert [(m.kind, m.record_id, m.version) for m in found] == [("asof", team_id, version)]
    assert found[0].position is not None


def test_untouched_derived_data_agrees(rows: Rows) -> None:
    """Given a store as the library wrote it (snapshots included), verify --deep finds nothing."""
    app = opened(rows)
    org = build_org(app)
    app.take_snapshot(org.team_id)
    app.close()

    with open_app(rows.url) as reader:
        assert verify_derived(reader) == []
