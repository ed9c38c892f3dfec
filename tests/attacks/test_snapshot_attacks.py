"""Further attacks on sealed snapshots, by an insider who may write the database but does not
hold the store's cipher key: a snapshot row's topic changed, a sealed snapshot taken from a copy
of the store (sealed under the same key) written into the store, newer snapshots deleted, junk
rows above the real one, and loads through the record cache and as of a version. Each loads
the record as its events say (a snapshot from a copy of the store is passed over because it is
sealed with the digest of the stored event it was taken at, which this store does not hold)."""

from __future__ import annotations

import shutil
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.utils import get_topic

from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.aggregates.team import Team
from kam_domain.audit import checkpoint_store, verify_store
from kam_domain.values import Percentage, Role
from tests.attacks.test_approval_chain_tampering import rechain_written
from tests.attacks.test_sealed_snapshots import (
    Snapshots,
    _deep_findings,
    _team_with_history,
    fixture_store,
)
from tests.conftest import Org, build_org
from tests.support import at

__all__ = ["fixture_store"]


class Rows(Snapshots):
    """The snapshot helper with a few more raw statements."""

    def run(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        return self._execute(statement, params)

    def snapshot_rows(self, record_id: UUID) -> list[tuple[int, str, bytes]]:
        rows = self.run(
            "SELECT originator_version, topic, state FROM {snapshots} "
            "WHERE originator_id = {mark} ORDER BY originator_version",
            self._id(record_id),
        )
        return [(v, t, bytes(s)) for v, t, s in rows]

    def insert_snapshot(self, record_id: UUID, version: int, topic: str, state: bytes) -> None:
        self.run(
            "INSERT INTO {snapshots} (originator_id, originator_version, topic, state) "
            "VALUES ({mark}, {mark}, {mark}, {mark})",
            self._id(record_id), version, topic, state,
        )  # fmt: skip

    def expected(self, record_id: UUID, **options: Any) -> dict[str, Any]:
        """The record as its events say (no snapshot, no cache)."""
        app = self.open(cache_size=0, read_snapshots=False)
        try:
            return dict(vars(app.get_team(record_id, **options)))
        finally:
            app.close()

    def loaded(self, record_id: UUID, **options: Any) -> dict[str, Any]:
        app = self.open(cache_size=0)
        try:
            return dict(vars(app.get_team(record_id, **options)))
        finally:
            app.close()


@pytest.fixture(name="rows")
def fixture_rows(store: Snapshots) -> Rows:
    store.__class__ = Rows
    assert isinstance(store, Rows)
    return store


@pytest.mark.parametrize(
    "topic",
    [
        "eventsourcing.domain:Snapshot",
        get_topic(ClientAccount),
        get_topic(Team.BackdatingWindowSet),
        "os:system",
    ],
)
def test_a_snapshot_rows_topic_changed_is_passed_over(rows: Rows, topic: str) -> None:
    """Given a team's sealed snapshot whose topic column was changed in the database, when the
    team is loaded, then it is as its events say (no error, nothing imported), and verify
    --deep names the row."""
    team_id, _ = _team_with_history(rows)
    expected = rows.expected(team_id)
    rows.run(
        "UPDATE {snapshots} SET topic = {mark} WHERE originator_id = {mark}",
        topic, rows._id(team_id),
    )  # fmt: skip
    assert rows.loaded(team_id) == expected
    assert ("snapshot", team_id) in _deep_findings(rows)


def test_deleting_newer_snapshots_loads_from_an_older_genuine_one(rows: Rows) -> None:
    """Given a team snapshotted twice, the newer snapshot deleted in the database, when the team
    is loaded, then it equals its events (the older snapshot and the events after it)."""
    team_id, director = _team_with_history(rows, members=3)
    app = rows.open()
    app.add_member(team_id, director, name="Later", role=Role.KEY_ACCOUNT_MANAGER, at=at(2))
    app.take_snapshot(team_id)
    app.close()
    newest = rows.snapshot_rows(team_id)[-1][0]
    rows.run(
        "DELETE FROM {snapshots} WHERE originator_id = {mark} AND originator_version = {mark}",
        rows._id(team_id), newest,
    )  # fmt: skip
    assert rows.loaded(team_id) == rows.expected(team_id)
    assert _deep_findings(rows) == []


def test_junk_rows_above_the_real_snapshot_exhaust_the_window_harmlessly(rows: Rows) -> None:
    """Given a team's sealed snapshot with many junk rows at later versions above it, when the
    team is loaded, then it is as its events say (from its events: the window of snapshots
    looked at is used up by junk), at the version of its last event."""
    team_id, _ = _team_with_history(rows, members=4)
    version, topic, _ = rows.snapshot_rows(team_id)[-1]
    expected = rows.expected(team_id)
    for n in range(1, 20):
        rows.insert_snapshot(team_id, version + n, topic, b"junk" * n)
    assert rows.loaded(team_id) == expected


def _fork(rows: Rows) -> Rows:
    """A copy of the store's database, sealed under the same key (a staging copy, a backup)."""
    if rows.backend != "sqlite":
        pytest.skip("the copy is made of the SQLite file")
    copy = Rows.__new__(Rows)
    copy.backend = "sqlite"
    copy.path = rows.path.with_name("copy.db")
    copy.url = f"sqlite:///{copy.path}"
    shutil.copyfile(rows.path, copy.path)
    return copy


def _granted_in_the_copy(rows: Rows) -> tuple[Org, Rows, int]:
    """The store with an org; its copy where kam2 was granted 9 % and the team snapshotted."""
    app = rows.open()
    org = build_org(app)
    version = app.get_team(org.team_id).version
    app.close()
    copy = _fork(rows)
    forked = copy.open()
    forked.grant_authority(
        org.team_id, org.director, org.kam2, max_discount=Percentage.of(9), at=at(2)
    )
    forked.take_snapshot(org.team_id)
    forked.close()
    return org, copy, version


def test_a_snapshot_from_a_copy_of_the_store_past_the_last_event_grants_nothing(
    rows: Rows,
) -> None:
    """Given a copy of the store (same key) where kam2 was granted 9 % and the team snapshotted,
    that snapshot written into the store (where the grant never happened), when the team is
    loaded, then kam2 holds no 9 % authority."""
    org, copy, version = _granted_in_the_copy(rows)
    forged_version, topic, state = copy.snapshot_rows(org.team_id)[-1]
    assert forged_version == version + 1
    rows.insert_snapshot(org.team_id, forged_version, topic, state)
    assert ("snapshot", org.team_id) in _deep_findings(rows)
    app = rows.open(cache_size=0)
    try:
        assert app.credentials(org.team_id, org.kam2).discount_authority != Percentage.of(9)
    finally:
        app.close()


def test_a_snapshot_from_a_copy_of_the_store_at_the_same_version_grants_nothing(
    rows: Rows,
) -> None:
    """Given a copy of the store (same key) where kam2 was granted 9 % and the team snapshotted,
    and the store's own team moved to that version by another event, when the copy's snapshot
    replaces the store's at that version, then kam2 holds no 9 % authority."""
    org, copy, _ = _granted_in_the_copy(rows)
    app = rows.open()
    app.add_member(org.team_id, org.director, name="Own", role=Role.KEY_ACCOUNT_MANAGER, at=at(2))
    app.take_snapshot(org.team_id)
    app.close()
    forged_version, _, state = copy.snapshot_rows(org.team_id)[-1]
    assert rows.snapshot_rows(org.team_id)[-1][0] == forged_version
    rows.set_state(org.team_id, forged_version, state)
    assert ("snapshot", org.team_id) in _deep_findings(rows)
    app = rows.open(cache_size=0)
    try:
        assert app.credentials(org.team_id, org.kam2).discount_authority != Percentage.of(9)
    finally:
        app.close()


def test_a_snapshot_of_another_record_from_a_copy_of_the_store_is_passed_over(
    rows: Rows,
) -> None:
    """Given a copy of the store (same key) and a team formed only in the copy, its sealed
    snapshot written into a row of the store's team, when the store's team is loaded, then it
    is as its events say."""
    team_id, _ = _team_with_history(rows, members=2)
    copy = _fork(rows)
    other, _ = _team_with_history(copy, members=2)
    version, _, state = copy.snapshot_rows(other)[-1]
    expected = rows.expected(team_id)
    rows.set_state(team_id, version, state)
    assert rows.loaded(team_id) == expected


def test_the_record_cache_does_not_keep_a_forged_snapshots_state(rows: Rows) -> None:
    """Given a flipped byte in a team's sealed snapshot, when the team is loaded twice by an
    application with the default record cache, then both loads are as its events say."""
    team_id, _ = _team_with_history(rows, members=3)
    expected = rows.expected(team_id)
    version, _, state = rows.snapshot_rows(team_id)[-1]
    flipped = bytearray(state)
    flipped[-3] ^= 0x10
    rows.set_state(team_id, version, bytes(flipped))
    app = rows.open()
    try:
        assert vars(app.get_team(team_id)) == expected
        assert vars(app.get_team(team_id)) == expected
    finally:
        app.close()


def test_a_load_at_an_earlier_version_starts_from_a_snapshot_at_or_before_it(rows: Rows) -> None:
    """Given a team snapshotted at two versions, a load of the team at a version between them
    (and at each snapshot's own version) equals the record replayed from its events."""
    team_id, director = _team_with_history(rows, members=3)
    first = rows.snapshot_rows(team_id)[-1][0]
    app = rows.open()
    for n in range(3):
        app.add_member(team_id, director, name=f"L{n}", role=Role.KEY_ACCOUNT_MANAGER, at=at(2))
    app.take_snapshot(team_id)
    app.close()
    last = rows.snapshot_rows(team_id)[-1][0]
    for version in (first, first + 1, last - 1, last):
        assert rows.loaded(team_id, version=version) == rows.expected(team_id, version=version)


def test_a_relabelled_snapshot_does_not_change_a_load_as_of_a_version(rows: Rows) -> None:
    """Given a team's sealed snapshot relabelled as a later version, a load of the team at that
    later version equals the record replayed from its events."""
    team_id, director = _team_with_history(rows, members=2)
    version = rows.snapshot_rows(team_id)[-1][0]
    app = rows.open()
    app.add_member(team_id, director, name="After", role=Role.KEY_ACCOUNT_MANAGER, at=at(2))
    app.close()
    rows.relabel(team_id, version, version + 1)
    assert rows.loaded(team_id, version=version + 1) == rows.expected(team_id, version=version + 1)


def test_an_event_swapped_under_a_snapshot_and_rechained_is_caught(rows: Rows) -> None:
    """Given a team snapshotted after a member was added, and that event's row replaced by the
    grant of 9 % recorded at the same version in a copy of the store (same key), links
    recomputed: the snapshot is passed over (the team loads as its edited events say), verify
    passes without a checkpoint but not against one taken before, and verify --deep names the
    snapshot as differing from the events."""
    org, copy, _ = _granted_in_the_copy(rows)
    app = rows.open()
    app.add_member(org.team_id, org.director, name="Own", role=Role.KEY_ACCOUNT_MANAGER, at=at(2))
    app.take_snapshot(org.team_id)
    version = app.get_team(org.team_id).version
    app.close()
    before = checkpoint_store(rows.url)
    [(topic, state)] = copy.run(
        "SELECT topic, state FROM {events} WHERE originator_id = {mark} "
        "AND originator_version = {mark}",
        copy._id(org.team_id), version,
    )  # fmt: skip
    rows.run(
        "UPDATE {events} SET topic = {mark}, state = {mark} "
        "WHERE originator_id = {mark} AND originator_version = {mark}",
        topic, state, rows._id(org.team_id), version,
    )  # fmt: skip
    rechain_written(rows.path)

    assert verify_store(rows.url).intact
    assert not verify_store(rows.url, checkpoints=[before]).intact
    assert ("snapshot", org.team_id) in _deep_findings(rows)
    assert rows.loaded(org.team_id) == rows.expected(org.team_id)


def test_a_relabelled_snapshot_does_not_change_a_load_as_of_a_moment(rows: Rows) -> None:
    """Given a team snapshotted, changed a day later, and its snapshot relabelled as the later
    version and as a version past its last event, a load of the team as of a moment before and
    after the change, and now, equals the record replayed from its events."""
    team_id, director = _team_with_history(rows, members=2)
    version = rows.snapshot_rows(team_id)[-1][0]
    app = rows.open()
    app.add_member(team_id, director, name="After", role=Role.KEY_ACCOUNT_MANAGER, at=at(3))
    app.close()
    rows.relabel(team_id, version, version + 1)
    _, topic, state = rows.snapshot_rows(team_id)[-1]
    rows.insert_snapshot(team_id, version + 40, topic, state)
    for moment in (at(2), at(4)):
        assert rows.loaded(team_id, at=moment) == rows.expected(team_id, at=moment)
    assert rows.loaded(team_id) == rows.expected(team_id)
    assert rows.loaded(team_id)["_version"] == version + 1
