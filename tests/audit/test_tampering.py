"""Rows changed behind the library's back, through the database's own driver, are caught.

Each test builds a small store through the facade, tampers with the stored rows directly (as an
administrator with write access could), and checks that ``kam audit verify`` names the first
bad position. SQLite through ``sqlite3``, PostgreSQL through ``psycopg``, memory through the
recorder's own lists.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from kam_domain.application import KamApplication
from kam_domain.audit import Checkpoint, checkpoint_store, verify_chain, verify_store
from kam_domain.ledger import GENESIS, chain_link, state_digest
from kam_domain.values import Percentage
from tests import postgres_server

#: Events the store holds after :func:`build` (a team formed, then capacities set).
CHANGES = 6


def build(store: str) -> tuple[KamApplication, UUID, UUID]:
    """A store holding a team and a few changes to it; the app, the team and its director."""
    app = KamApplication(store)
    team_id, director = app.form_team(
        name="Audited team",
        segment="s",
        region="r",
        director_name="D",
        top_authority=Percentage.of(10),
    )
    for capacity in range(1, CHANGES + 1):
        app.set_capacity(team_id, director, None, capacity=capacity)
    return app, team_id, director


class SQLiteRows:
    """The store's tables, through sqlite3."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def run(self, *statements: tuple[str, tuple[Any, ...]]) -> None:
        with closing(sqlite3.connect(self.path)) as db, db:
            for statement, params in statements:
                db.execute(statement, params)

    def one(self, statement: str, params: tuple[Any, ...] = ()) -> Any:
        with closing(sqlite3.connect(self.path)) as db:
            return db.execute(statement, params).fetchone()

    def change_state(self, position: int) -> None:
        self.run(("UPDATE stored_events SET state = ? WHERE rowid = ?", (b"{}", position)))

    def delete_event(self, position: int) -> None:
        self.run(("DELETE FROM stored_events WHERE rowid = ?", (position,)))

    def append_forged(self) -> int:
        rowid, originator, version, topic = self.one(
            "SELECT rowid, originator_id, originator_version, topic FROM stored_events "
            "ORDER BY rowid DESC LIMIT 1"
        )
        self.run(
            (
                "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, "
                "state) VALUES (?, ?, ?, ?, ?)",
                (rowid + 1, originator, version + 1, topic, b'{"capacity": 99}'),
            )
        )
        return int(rowid) + 1

    def swap(self, first: int, second: int) -> None:
        self.run(
            ("UPDATE stored_events SET rowid = -1 WHERE rowid = ?", (first,)),
            ("UPDATE stored_events SET rowid = ? WHERE rowid = ?", (first, second)),
            ("UPDATE stored_events SET rowid = ? WHERE rowid = -1", (second,)),
        )

    def cut_tail(self, after: int) -> None:
        self.run(
            ("DELETE FROM stored_events WHERE rowid > ?", (after,)),
            ("DELETE FROM stored_events_chain WHERE position > ?", (after,)),
        )

    def forge_link(self, position: int) -> None:
        """Recompute the links from ``position`` on, as an attacker who knows the format."""
        with closing(sqlite3.connect(self.path)) as db, db:
            previous = db.execute(
                "SELECT link FROM stored_events_chain WHERE position = ?", (position - 1,)
            ).fetchone()
            link = previous[0] if previous else GENESIS
            rows = db.execute(
                "SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state, "
                "c.written_at FROM stored_events AS e JOIN stored_events_chain AS c "
                "ON c.position = e.rowid WHERE e.rowid >= ? ORDER BY e.rowid",
                (position,),
            ).fetchall()
            for rowid, originator, version, topic, state, written in rows:
                identity = str(UUID(originator))
                digest = state_digest(state)
                link = chain_link(link, rowid, identity, version, topic, digest, written)
                db.execute(
                    "UPDATE stored_events_chain SET link = ? WHERE position = ?", (link, rowid)
                )


class PostgresRows:
    """The store's tables, through psycopg."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.schema = postgres_server.schema_of(url)

    def run(self, *statements: tuple[str, tuple[Any, ...]]) -> None:
        from psycopg.sql import SQL, Identifier

        with postgres_server.connect(self.url) as conn, conn.transaction():
            for statement, params in statements:
                conn.execute(SQL(statement).format(Identifier(self.schema)), params)

    def one(self, statement: str, params: tuple[Any, ...] = ()) -> Any:
        from psycopg.sql import SQL, Identifier

        with postgres_server.connect(self.url) as conn:
            query = SQL(statement).format(Identifier(self.schema))
            return conn.execute(query, params).fetchone()

    def change_state(self, position: int) -> None:
        self.run(
            (
                "UPDATE {}.kam_events SET state = state || '\\x00'::bytea "
                "WHERE notification_id = %s",
                (position,),
            )
        )

    def delete_event(self, position: int) -> None:
        self.run(("DELETE FROM {}.kam_events WHERE notification_id = %s", (position,)))

    def append_forged(self) -> int:
        _, originator, version, topic = self.one(
            "SELECT notification_id, originator_id, originator_version, topic "
            "FROM {}.kam_events ORDER BY notification_id DESC LIMIT 1"
        )
        self.run(
            (
                "INSERT INTO {}.kam_events (originator_id, originator_version, topic, state) "
                "VALUES (%s, %s, %s, %s)",
                (originator, version + 1, topic, b'{"capacity": 99}'),
            )
        )
        (forged,) = self.one("SELECT MAX(notification_id) FROM {}.kam_events")
        return int(forged)

    def swap(self, first: int, second: int) -> None:
        statement = "UPDATE {}.kam_events SET notification_id = %s WHERE notification_id = %s"
        self.run((statement, (-1, first)), (statement, (first, second)), (statement, (second, -1)))

    def cut_tail(self, after: int) -> None:
        self.run(
            ("DELETE FROM {}.kam_events WHERE notification_id > %s", (after,)),
            ("DELETE FROM {}.kam_events_chain WHERE position > %s", (after,)),
        )


@pytest.fixture(name="sqlite_store")
def fixture_sqlite_store(tmp_path: Path) -> tuple[str, SQLiteRows]:
    """A built SQLite store (its read-only URL) and a handle on its rows."""
    build(f"sqlite:///{tmp_path / 'kam.db'}")[0].close()
    return f"sqlite:///{tmp_path / 'kam.db'}?mode=ro", SQLiteRows(tmp_path / "kam.db")


def built_store(
    backend: str, tmp_path: Path, sqlite_rows: type[SQLiteRows] = SQLiteRows
) -> Iterator[tuple[str, Any]]:
    """A built store of ``backend`` (read-only URL for SQLite) and a handle on its rows."""
    if backend == "sqlite":
        path = tmp_path / "kam.db"
        build(f"sqlite:///{path}")[0].close()
        yield f"sqlite:///{path}?mode=ro", sqlite_rows(path)
        return
    url = postgres_server.fresh_store_url()
    try:
        build(url)[0].close()
        yield url, PostgresRows(url)
    finally:
        postgres_server.drop_schema(url)


@pytest.fixture(name="tampered", params=["sqlite", "postgres"])
def fixture_tampered(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """A built store (read-only URL for SQLite) and a handle on its rows."""
    yield from built_store(request.param, tmp_path)


def breach(store: str, *checkpoints: Checkpoint) -> tuple[int, str] | None:
    result = verify_store(store, checkpoints=checkpoints)
    return None if result.breach is None else (result.breach.position, result.breach.kind)


def test_an_untouched_store_verifies(tampered: tuple[str, Any]) -> None:
    """Given a store as the library wrote it, verify finds it intact."""
    store, _ = tampered

    result = verify_store(store)

    assert result.intact, result.breach
    assert result.checked == result.head.position


def test_changed_bytes_in_an_event_are_caught(tampered: tuple[str, Any]) -> None:
    """Given an event whose stored bytes were changed, verify names its position."""
    store, rows = tampered

    rows.change_state(5)

    assert breach(store) == (5, "altered")


def test_a_deleted_event_is_caught(tampered: tuple[str, Any]) -> None:
    """Given an event deleted from the events table, verify names its position."""
    store, rows = tampered

    rows.delete_event(4)

    assert breach(store) == (4, "missing")


def test_a_forged_event_is_caught(tampered: tuple[str, Any]) -> None:
    """Given an event inserted without going through the library, verify names it."""
    store, rows = tampered

    forged = rows.append_forged()

    assert breach(store) == (forged, "inserted")


def test_two_swapped_events_are_caught(tampered: tuple[str, Any]) -> None:
    """Given two events whose positions were exchanged, verify names the first."""
    store, rows = tampered

    rows.swap(3, 6)

    assert breach(store) == (3, "altered")


def test_a_cut_tail_is_caught_against_a_checkpoint(tampered: tuple[str, Any]) -> None:
    """Given a checkpoint and then the last events removed with their links, verify says so."""
    store, rows = tampered
    kept = checkpoint_store(store)

    rows.cut_tail(kept.position - 3)

    assert breach(store) is None  # the chain alone cannot see a clean cut
    assert breach(store, kept) == (kept.position - 2, "truncated")


def test_a_recomputed_chain_is_caught_against_a_checkpoint(sqlite_store: Any) -> None:
    """Given an altered event whose links were recomputed, only a checkpoint catches it."""
    store, rows = sqlite_store
    kept = checkpoint_store(store)

    rows.change_state(4)
    rows.forge_link(4)

    assert breach(store) is None
    assert breach(store, kept) == (kept.position, "rewritten")


def test_an_event_slipped_in_below_the_first_position_is_caught(sqlite_store: Any) -> None:
    """Given a forged row at a position below 1, verify still reads it and names it."""
    store, rows = sqlite_store
    originator, topic = rows.one("SELECT originator_id, topic FROM stored_events LIMIT 1")

    rows.run(
        (
            "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?, ?)",
            (-7, originator, 999, topic, b"{}"),
        )
    )

    assert breach(store) == (-7, "inserted")


def test_writing_after_the_tail_was_cut_refuses_to_reuse_a_position(tmp_path: Path) -> None:
    """SQLite reuses a removed last rowid: the next write refuses rather than chain over it."""
    from kam_domain.errors import StoreUnavailable

    path = tmp_path / "kam.db"
    app, team_id, director = build(f"sqlite:///{path}")
    SQLiteRows(path).delete_event(app.recorder.max_notification_id())

    with pytest.raises(StoreUnavailable, match="events were removed"):
        app.set_capacity(team_id, director, None, capacity=50)
    app.close()


MemoryTamper = Callable[[Any], int]


def _memory_change(recorder: Any) -> int:
    event = recorder._stored_events[4]
    recorder._stored_events[4] = dataclasses.replace(event, state=event.state + b" ")
    return 5


def _memory_delete(recorder: Any) -> int:
    del recorder._stored_events[3]
    return 4


def _memory_swap(recorder: Any) -> int:
    events = recorder._stored_events
    events[2], events[5] = events[5], events[2]
    return 3


def _memory_insert(recorder: Any) -> int:
    recorder._stored_events.insert(2, recorder._stored_events[0])
    return 3


@pytest.mark.parametrize(
    ("tamper", "kind"),
    [
        (_memory_change, "altered"),
        (_memory_delete, "altered"),
        (_memory_swap, "altered"),
        (_memory_insert, "altered"),
    ],
    ids=["changed", "deleted", "swapped", "inserted"],
)
def test_tampering_with_a_memory_store_is_caught(tamper: MemoryTamper, kind: str) -> None:
    """In memory, positions are list places: any change shows at the first place it moves."""
    app, _, _ = build("memory://")

    position = tamper(app.recorder)

    result = verify_chain(app.recorder)
    assert result.breach is not None
    assert (result.breach.position, result.breach.kind) == (position, kind)
