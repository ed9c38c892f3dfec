"""Only the event types the library writes are decoded: a forged topic imports nothing.

eventsourcing resolves a stored topic (``module:Class``) by importing its module, so a row
written behind the library's back could make an auditor's tools import and run any module.
Each attack here writes such a row through the database's own driver (SQLite and PostgreSQL),
with a module whose import leaves a mark, and checks that every reader refuses it as tampering,
naming the position (or the record and version), and that the module was never imported.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from kam_domain.application import KamApplication
from kam_domain.audit import verify_store
from kam_domain.cli import main
from kam_domain.errors import UnregisteredTopic
from kam_domain.ledger import GENESIS, chain_link, state_digest
from kam_domain.topics import (
    aggregate_topics,
    event_topics,
    is_event_topic,
    register_aggregate,
)
from kam_domain.values import Percentage
from tests import postgres_server
from tests.conftest import fresh_store
from tests.policies.toy import Ping

#: Commands that decode the events of the whole log (or, for replay, fold it).
LOG_READERS = {
    "export": ["audit", "export"],
    "member trail": ["audit", "trail", "--member", "{member}"],
    "exceptions": ["audit", "exceptions"],
    "replay": ["replay"],
}


class Rows:
    """A store's tables through the database's own driver: SQLite's sqlite3 or psycopg."""

    def __init__(self, store: str) -> None:
        self.store = store
        self.sqlite = store.startswith("sqlite")
        self.path = store.removeprefix("sqlite:///").partition("?")[0]

    def execute(self, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Run ``statement``; ``{events}``, ``{snapshots}``, ``{chain}`` and ``{position}``
        name the backend's tables and position column, ``?`` its parameters."""
        if self.sqlite:
            names = {"events": "stored_events", "snapshots": "stored_snapshots"}
            names |= {"chain": "stored_events_chain", "position": "rowid"}
            with closing(sqlite3.connect(self.path)) as db, db:
                return db.execute(statement.format(**names), params).fetchall()
        schema = postgres_server.schema_of(self.store)
        names = {name: f"{schema}.kam_{name}" for name in ("events", "snapshots")}
        names |= {"chain": f"{schema}.kam_events_chain", "position": "notification_id"}
        text = statement.format(**names).replace("?", "%s")
        with postgres_server.connect(self.store) as conn:
            cursor = conn.execute(text, params)
            return list(cursor.fetchall()) if cursor.description else []

    def position_of(self, topic_suffix: str) -> int:
        ((position,),) = self.execute(
            "SELECT {position} FROM {events} WHERE topic LIKE ? ORDER BY {position} LIMIT 1",
            (f"%{topic_suffix}",),
        )
        return int(position)

    def forge_links(self, start: int) -> None:
        """Recompute every link from ``start`` on, as an attacker who read ledger.py would
        (with each link's written time, as the chain stores it)."""
        previous_rows = self.execute("SELECT link FROM {chain} WHERE position = ?", (start - 1,))
        link = bytes(previous_rows[0][0]) if previous_rows else GENESIS
        rows = self.execute(
            "SELECT e.{position}, e.originator_id, e.originator_version, e.topic, e.state, "
            "c.written_at FROM {events} AS e JOIN {chain} AS c ON c.position = e.{position} "
            "WHERE e.{position} >= ? ORDER BY e.{position}",
            (start,),
        )
        for position, originator, version, topic, state, written in rows:
            identity = str(UUID(str(originator)))
            digest = state_digest(bytes(state))
            link = chain_link(link, position, identity, version, topic, digest, written)
            self.execute("UPDATE {chain} SET link = ? WHERE position = ?", (link, position))


@pytest.fixture(name="backend", params=["sqlite", "postgres"])
def fixture_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store URL on a real database."""
    with fresh_store(request.param, tmp_path) as url:
        yield url


@pytest.fixture(name="probe")
def fixture_probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """An importable module whose import writes a mark: its name, and the mark's path."""
    name = f"kam_probe_{uuid4().hex[:12]}"
    mark = tmp_path / f"{name}.imported"
    folder = tmp_path / "modules"
    folder.mkdir()
    (folder / f"{name}.py").write_text(
        f"import pathlib\npathlib.Path({str(mark)!r}).write_text('imported')\n"
        "class Evil:\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(folder))
    return name, mark


def build(store: str, changes: int = 3) -> tuple[UUID, UUID]:
    """A team formed and changed a few times; its id and its director's."""
    with KamApplication(store) as app:
        team_id, director = app.form_team(
            name="Audited team",
            segment="s",
            region="r",
            director_name="D",
            top_authority=Percentage.of(10),
        )
        for capacity in range(1, changes + 1):
            app.set_capacity(team_id, director, None, capacity=capacity)
    return team_id, director


def not_imported(probe: tuple[str, Path]) -> bool:
    name, mark = probe
    return name not in sys.modules and not mark.exists()


def run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out + err


# -- the registry ---------------------------------------------------------------------------------


def test_every_topic_the_demo_writes_is_registered(tmp_path: Path) -> None:
    """The demo scenario's stored topics (every kind of record, decisions, clock) are known."""
    store = tmp_path / "demo.db"
    assert main(["demo", "--store", f"sqlite:///{store}"]) == 0

    with closing(sqlite3.connect(store)) as db:
        topics = {topic for (topic,) in db.execute("SELECT DISTINCT topic FROM stored_events")}

    assert topics
    assert topics <= event_topics()


def test_snapshots_are_decoded_and_their_record_class_checked() -> None:
    """Given a team long enough to be snapshotted, when it is loaded, its snapshot decodes."""
    with KamApplication("memory://", run_policies=False) as app:
        team_id, director = app.form_team(
            name="Long team",
            segment="s",
            region="r",
            director_name="D",
            top_authority=Percentage.of(10),
        )
        for capacity in range(1, 102):
            app.set_capacity(team_id, director, None, capacity=capacity)
        snapshots = list(app.snapshots.get(team_id)) if app.snapshots else []

        assert app.get_team(team_id).capacity_of(director) == 101
    assert snapshots
    assert "kam_domain.aggregates.team:Team" in aggregate_topics()


def test_a_host_registers_its_own_aggregate() -> None:
    """An aggregate registered by a host (the toy's Ping) is decoded; an unknown topic is not."""
    assert is_event_topic("tests.policies.toy:Ping.Sent")
    assert register_aggregate(Ping) is Ping
    assert not is_event_topic("os:system")
    assert not is_event_topic(None)
    with pytest.raises(TypeError):
        register_aggregate(int)  # type: ignore[arg-type]


# -- attacks through the database -----------------------------------------------------------------


@pytest.mark.parametrize("forged", ["probe", "os:system"])
def test_a_forged_event_topic_is_refused_by_every_reader_and_nothing_is_imported(
    forged: str,
    backend: str,
    probe: tuple[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Given an event's topic rewritten by SQL to name another module (links recomputed), when
    verify, export, trail, exceptions, replay and the facade read the store, then each refuses
    it naming the position (or record and version), and the module is never imported."""
    team_id, director = build(backend)
    rows = Rows(backend)
    position = rows.position_of("Team.CapacitySet")
    topic = f"{probe[0]}:Evil" if forged == "probe" else forged
    rows.execute("UPDATE {events} SET topic = ? WHERE {position} = ?", (topic, position))
    rows.forge_links(position)

    verified = verify_store(backend)
    readers = {
        name: run(capsys, [*(a.format(member=director) for a in argv), "--store", backend])
        for name, argv in LOG_READERS.items()
    }
    with (
        KamApplication(backend, read_only=True, run_policies=False) as app,
        pytest.raises(UnregisteredTopic, match=repr(topic)) as refused,
    ):
        app.get_team(team_id)

    assert verified.breach is not None
    assert (verified.breach.position, verified.breach.kind) == (position, "unregistered")
    assert topic in verified.breach.reason
    assert {name: status for name, (status, _) in readers.items()} == dict.fromkeys(LOG_READERS, 1)
    for name, (_, text) in readers.items():
        # Read from the log, an event has a position; loaded as a record, its version.
        where = (f"position {position}", f"record {team_id} version")
        assert any(f"{place}" in text for place in where), (name, text)
        assert f"topic {topic!r} is not an event type this library writes" in text, name
        assert "Traceback" not in text
    assert f"record {team_id} version" in str(refused.value)
    assert not_imported(probe)


def test_a_forged_class_inside_a_created_event_is_refused(
    backend: str, probe: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a Created event whose body names another module's class as its record's class,
    when the store is opened or the log exported, then it is refused and nothing imported."""
    build(backend)
    rows = Rows(backend)
    position = rows.position_of("Team.Formed")
    ((state,),) = rows.execute("SELECT state FROM {events} WHERE {position} = ?", (position,))
    forged = bytes(state).replace(b"kam_domain.aggregates.team:Team", f"{probe[0]}:Evil".encode())
    rows.execute("UPDATE {events} SET state = ? WHERE {position} = ?", (forged, position))
    rows.forge_links(position)

    exported = run(capsys, ["audit", "export", "--store", backend])
    # Opening decodes the first event (to check the cipher key): the team's Created event.
    with pytest.raises(UnregisteredTopic, match=f"position {position}: topic '{probe[0]}"):
        KamApplication(backend, read_only=True, run_policies=False)

    assert exported[0] == 1
    assert f"position {position}: topic '{probe[0]}:Evil' is not a record type" in exported[1]
    assert not_imported(probe)


def test_a_forged_class_inside_a_snapshot_is_refused(
    backend: str, probe: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a snapshot whose body names another module's class: records are never loaded from
    snapshots, so the record reads as its events say; verify --deep, which decodes every
    snapshot, lists it as undecodable naming the record and version; nothing is imported."""
    team_id, _ = build(backend, changes=101)
    rows = Rows(backend)
    ((version, state),) = rows.execute(
        "SELECT originator_version, state FROM {snapshots} ORDER BY originator_version DESC LIMIT 1"
    )
    forged = bytes(state).replace(b"kam_domain.aggregates.team:Team", f"{probe[0]}:Evil".encode())
    rows.execute("UPDATE {snapshots} SET state = ?", (forged,))

    with KamApplication(backend, run_policies=False) as app:
        team = app.get_team(team_id)
    status, text = run(capsys, ["audit", "verify", "--deep", "--store", backend])

    assert team.version >= version
    assert status == 3, text
    assert f"record {team_id} version {version}: " in text
    assert "the snapshot cannot be decoded: UnregisteredTopic" in text
    assert not_imported(probe)
