"""Records loaded from sealed snapshots on an encrypted store, and the attacks on them.

On an encrypted store a snapshot's body is sealed (AES-GCM) under a key the database does not
hold, and holds the id and version of the record it was taken of. The attacks, through the
database's own driver with write access, on SQLite and on PostgreSQL: a byte of a snapshot
flipped; another record's sealed snapshot copied into a record's row; a record's own sealed
snapshot relabelled as a later version. Each is passed over: the record loads as its events
say, a command decides as before, and ``verify --deep`` names the snapshot.
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
from kam_domain.audit import verify_derived
from kam_domain.audit.records import open_app
from kam_domain.errors import AuthorityExceeded, StoreUnreadable
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.storage import CIPHER_KEY_ENV_VAR, new_cipher_key
from kam_domain.values import Percentage, Role
from tests import postgres_server
from tests.application.test_projects import started
from tests.conftest import Org, build_org
from tests.support import at

KEY = new_cipher_key()


class Snapshots:
    """Raw SQL on one backend's snapshot and event rows."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        if backend == "sqlite":
            self.path = tmp_path / "kam.db"
            self.url = f"sqlite:///{self.path}"
        else:
            self.url = postgres_server.fresh_store_url()

    def _tables(self, statement: str) -> str:
        if self.backend == "sqlite":
            return statement.format(snapshots="stored_snapshots", events="stored_events", mark="?")
        schema = postgres_server.schema_of(self.url)
        return statement.format(
            snapshots=f"{schema}.kam_snapshots", events=f"{schema}.kam_events", mark="%s"
        )

    def _id(self, record_id: UUID) -> Any:
        return record_id.hex if self.backend == "sqlite" else record_id

    def _execute(self, statement: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        text = self._tables(statement)
        if self.backend == "sqlite":
            with closing(sqlite3.connect(self.path)) as db, db:
                return list(db.execute(text, params).fetchall())
        with postgres_server.connect(self.url) as conn:
            cursor = conn.execute(text.encode(), params)
            return list(cursor.fetchall()) if cursor.description else []

    def latest(self, record_id: UUID) -> tuple[int, bytes]:
        """The record's latest snapshot row: its version and its stored body."""
        rows = self._execute(
            "SELECT originator_version, state FROM {snapshots} WHERE originator_id = {mark} "
            "ORDER BY originator_version DESC",
            (self._id(record_id),),
        )
        version, state = rows[0]
        return version, bytes(state)

    def set_state(self, record_id: UUID, version: int, state: bytes) -> None:
        self._execute(
            "UPDATE {snapshots} SET state = {mark} "
            "WHERE originator_id = {mark} AND originator_version = {mark}",
            (state, self._id(record_id), version),
        )

    def relabel(self, record_id: UUID, version: int, to: int) -> None:
        self._execute(
            "UPDATE {snapshots} SET originator_version = {mark} "
            "WHERE originator_id = {mark} AND originator_version = {mark}",
            (to, self._id(record_id), version),
        )

    def damage_event(self, record_id: UUID, version: int) -> None:
        """The record's event at ``version`` made unreadable (its body replaced by noise)."""
        self._execute(
            "UPDATE {events} SET state = {mark} "
            "WHERE originator_id = {mark} AND originator_version = {mark}",
            (b"\x00noise" * 8, self._id(record_id), version),
        )

    def open(self, **options: Any) -> KamApplication:
        options.setdefault("cipher_key", KEY)
        return KamApplication(self.url, policies=PolicyRegistry(), **options)

    def close(self) -> None:
        if self.backend == "postgres":
            postgres_server.drop_schema(self.url)


@pytest.fixture(name="store", params=["sqlite", "postgres"])
def fixture_store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Snapshots]:
    # The readers (verify --deep) take the store's key from the environment, as kam does.
    monkeypatch.setenv(CIPHER_KEY_ENV_VAR, KEY)
    store = Snapshots(request.param, tmp_path)
    yield store
    store.close()


def _team_with_history(store: Snapshots, members: int = 12) -> tuple[UUID, UUID]:
    """A team with ``members`` members, its last version snapshotted; the app closed."""
    app = store.open()
    team_id, director = app.form_team(
        name="East", segment="telecom", region="east", director_name="Wang",
        top_authority=Percentage.of(30), at=at(0),
    )  # fmt: skip
    for n in range(members):
        app.add_member(team_id, director, name=f"M{n}", role=Role.KEY_ACCOUNT_MANAGER, at=at(1))
    app.take_snapshot(team_id)
    app.close()
    return team_id, director


def _deep_findings(store: Snapshots) -> list[tuple[str, UUID]]:
    with open_app(store.url) as reader:
        return [(m.kind, m.record_id) for m in verify_derived(reader)]


def test_a_record_loads_from_its_sealed_snapshot(store: Snapshots) -> None:
    """Given a team snapshotted on an encrypted store and one of its events before the snapshot
    damaged in the database, when it is loaded with no record cache, then it loads from the
    sealed snapshot (the damaged event is not read) and equals the record as it was written;
    with snapshots not read, the same load reads the damaged event and fails."""
    team_id, _ = _team_with_history(store)
    app = store.open(cache_size=0)
    expected = vars(app.get_team(team_id))
    app.close()
    store.damage_event(team_id, 2)

    app = store.open(cache_size=0)
    try:
        assert vars(app.get_team(team_id)) == expected
    finally:
        app.close()
    events_only = store.open(cache_size=0, read_snapshots=False)
    try:
        with pytest.raises(StoreUnreadable):
            events_only.get_team(team_id)
    finally:
        events_only.close()


def test_a_flipped_byte_in_a_sealed_snapshot_widens_no_authority(store: Snapshots) -> None:
    """Given a snapshot of the team whose sealed body had one byte flipped in the database,
    when an 8 % discount is approved by a KAM holding 5 %, then it is refused as before,
    nothing is written, and verify --deep names the snapshot."""
    app = store.open()
    org: Org = build_org(app)
    project_id = started(app, org)
    request_id = app.request_discount(
        project_id, org.kam, percentage=Percentage.of(8), justification="rival bid", at=at(2)
    )
    app.take_snapshot(org.team_id)
    app.close()
    version, state = store.latest(org.team_id)
    flipped = bytearray(state)
    flipped[len(flipped) // 2] ^= 0x01
    store.set_state(org.team_id, version, bytes(flipped))

    app = store.open(cache_size=0)
    written = app.recorder.max_notification_id()
    try:
        with pytest.raises(AuthorityExceeded, match="5%"):
            app.approve_discount(project_id, org.kam2, request_id, at=at(3))
        assert app.recorder.max_notification_id() == written
    finally:
        app.close()
    assert _deep_findings(store) == [("snapshot", org.team_id)]


def test_another_records_sealed_snapshot_copied_into_a_row_is_passed_over(
    store: Snapshots,
) -> None:
    """Given two teams of the same length, the second's sealed snapshot written into the first
    one's row (the same version), when the first is loaded, then it is the first team as its
    events say, and verify --deep names the row."""
    first, _ = _team_with_history(store, members=5)
    second, _ = _team_with_history(store, members=5)
    app = store.open(cache_size=0, read_snapshots=False)
    expected = vars(app.get_team(first))
    app.close()
    version, foreign = store.latest(second)
    assert store.latest(first)[0] == version
    store.set_state(first, version, foreign)

    app = store.open(cache_size=0)
    try:
        loaded = app.get_team(first)
        assert vars(loaded) == expected
    finally:
        app.close()
    assert ("snapshot", first) in _deep_findings(store)


def test_a_sealed_snapshot_relabelled_as_a_later_version_is_passed_over(
    store: Snapshots,
) -> None:
    """Given a team snapshotted, then changed (a member's authority granted), and its old
    snapshot relabelled in the database as the version after the grant, when the team is loaded,
    then the grant is in it (the events after the snapshot's real version are read), and
    verify --deep names the relabelled row."""
    app = store.open()
    org: Org = build_org(app)
    app.take_snapshot(org.team_id)
    old_version = app.get_team(org.team_id).version
    app.grant_authority(
        org.team_id, org.director, org.kam2, max_discount=Percentage.of(9), at=at(2)
    )
    now_version = app.get_team(org.team_id).version
    app.close()
    store.relabel(org.team_id, old_version, now_version)

    app = store.open(cache_size=0)
    try:
        assert app.get_team(org.team_id).version == now_version
        assert app.credentials(org.team_id, org.kam2).discount_authority == Percentage.of(9)
    finally:
        app.close()
    assert ("snapshot", org.team_id) in _deep_findings(store)


def test_after_a_rotation_only_snapshots_sealed_under_the_newest_key_are_read(
    store: Snapshots,
) -> None:
    """Given a team snapshotted under a key that has since been rotated out of first place (the
    ring keeps it to read what it sealed), and one of the team's events damaged, when the team
    is loaded under the new ring, then the old key's snapshot is not read (the damaged event is,
    and the load fails); once a snapshot is sealed under the newest key, the team loads from it."""
    team_id, _ = _team_with_history(store)
    ring = f"{KEY},{new_cipher_key()}"
    store.damage_event(team_id, 2)
    rotated = store.open(cache_size=0, cipher_key=ring)
    try:
        with pytest.raises(StoreUnreadable):
            rotated.get_team(team_id)
    finally:
        rotated.close()

    other, other_director = _team_with_history(store)
    resealing = store.open(cipher_key=ring)
    resealing.add_member(other, other_director, name="New", role=Role.KEY_ACCOUNT_MANAGER)
    resealing.take_snapshot(other)
    resealing.close()
    store.damage_event(other, 2)
    resealed = store.open(cache_size=0, cipher_key=ring)
    try:
        assert "New" in {member.name for member in resealed.get_team(other).members.values()}
    finally:
        resealed.close()
