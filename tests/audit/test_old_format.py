"""Stores sealed in chain format 1 (before written times were recorded) keep verifying.

Each test builds a store exactly as the library wrote it before format 2: a chain table of
positions and links only, every link in format 1, and one format row (1 from position 1). It
must verify read-only as it is, open for writing, go on in format 2 from its next position, and
keep agreeing with a checkpoint taken before the upgrade.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from kam_domain.application import KamApplication
from kam_domain.audit import Checkpoint, checkpoint_store, verify_store
from kam_domain.audit.proofs import prove_account
from kam_domain.audit.records import open_app
from kam_domain.audit.signing import generate_key_pair, load_signing_key
from kam_domain.audit.verifier import Problem, check_inclusion_proof
from kam_domain.ledger import GENESIS, ChainFormat, chain_link, state_digest
from kam_domain.values import Percentage
from tests import postgres_server


def build(store: str) -> tuple[Any, Any]:
    app = KamApplication(store)
    team_id, director = app.form_team(
        name="Old team",
        segment="s",
        region="r",
        director_name="D",
        top_authority=Percentage.of(10),
    )
    app.set_capacity(team_id, director, None, capacity=4)
    app.close()
    return team_id, director


def format_1_links(rows: list[tuple[int, str, int, str, bytes]]) -> list[tuple[bytes, int]]:
    links, previous = [], GENESIS
    for position, identity, version, topic, state in rows:
        previous = chain_link(previous, position, identity, version, topic, state_digest(state))
        links.append((previous, position))
    return links


def sqlite_format_1(path: Path) -> None:
    """Rewrite a SQLite store into the layout and chain format 1 of the earlier library."""
    with closing(sqlite3.connect(path)) as db, db:
        rows = db.execute(
            "SELECT rowid, substr(originator_id, 1, 8) || '-' || substr(originator_id, 9, 4) "
            "|| '-' || substr(originator_id, 13, 4) || '-' || substr(originator_id, 17, 4) "
            "|| '-' || substr(originator_id, 21), originator_version, topic, state "
            "FROM stored_events ORDER BY rowid"
        ).fetchall()
        db.execute("ALTER TABLE stored_events_chain DROP COLUMN written_at")
        db.executemany(
            "UPDATE stored_events_chain SET link = ? WHERE position = ?", format_1_links(rows)
        )
        db.execute("DELETE FROM stored_events_chain_format")
        db.execute(
            "INSERT INTO stored_events_chain_format VALUES (1, 1, NULL, '2026-01-01T00:00:00')"
        )


def postgres_format_1(url: str) -> None:
    """Rewrite a PostgreSQL store into the layout and chain format 1 of the earlier library."""
    schema = postgres_server.schema_of(url)
    with postgres_server.connect(url) as conn, conn.transaction():
        rows = conn.execute(
            f"SELECT notification_id, originator_id::text, originator_version, topic, state "
            f"FROM {schema}.kam_events ORDER BY notification_id"
        ).fetchall()
        conn.execute(f"ALTER TABLE {schema}.kam_events_chain DROP COLUMN written_at")
        for link, position in format_1_links([tuple(row) for row in rows]):
            conn.execute(
                f"UPDATE {schema}.kam_events_chain SET link = %s WHERE position = %s",
                (link, position),
            )
        conn.execute(f"DELETE FROM {schema}.kam_events_chain_format")
        conn.execute(f"INSERT INTO {schema}.kam_events_chain_format (format, since) VALUES (1, 1)")


@pytest.fixture(name="old_store", params=["sqlite", "postgres"])
def fixture_old_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A store in chain format 1: its writable and its read-only URL."""
    if request.param == "sqlite":
        path = tmp_path / "kam.db"
        url = f"sqlite:///{path}"
        build(url)
        sqlite_format_1(path)
        yield url, f"{url}?mode=ro"
        return
    url = postgres_server.fresh_store_url()
    try:
        build(url)
        postgres_format_1(url)
        yield url, url
    finally:
        postgres_server.drop_schema(url)


def test_a_format_1_store_verifies_read_only_as_it_is(old_store: tuple[str, str]) -> None:
    """Given a store sealed in format 1, verify (read access only) finds it intact."""
    _, read_only = old_store

    result = verify_store(read_only)

    assert result.intact, result.breach
    assert result.formats == (ChainFormat(1, 1, None),)


def test_a_format_1_store_goes_on_in_format_2(old_store: tuple[str, str]) -> None:
    """Given a store in format 1 and a checkpoint of it, opened and written again: the new
    events are in format 2, the whole log verifies, and the old checkpoint still agrees."""
    url, read_only = old_store
    kept = checkpoint_store(read_only)
    old_text = f"kam-chain-1:{kept.position}:{kept.link.hex()}"

    app = KamApplication(url)
    (team,) = app.teams()
    director = next(iter(team.members))
    app.set_capacity(team.id, director, None, capacity=5)
    app.close()

    result = verify_store(read_only, checkpoints=[Checkpoint.parse(old_text)])
    assert result.intact, result.breach
    assert result.formats == (ChainFormat(1, 1, None), ChainFormat(2, kept.position + 1))
    assert [str(c) for c in result.confirmed] == [old_text]
    assert result.head is not None
    assert result.head.position > kept.position


def test_an_account_proved_across_both_formats_binds_every_event_to_its_link(
    tmp_path: Path,
) -> None:
    """Given an account whose first event is sealed in format 1 and later ones in format 2, the
    stand-alone verifier recomputes each link from the event's fields in its own format (the
    written time too, in format 2), and refuses an event moved into the other format."""
    path = tmp_path / "kam.db"
    url = f"sqlite:///{path}"
    app = KamApplication(url)
    team_id, director = app.form_team(
        name="Old team",
        segment="s",
        region="r",
        director_name="D",
        top_authority=Percentage.of(10),
    )
    account = app.register_account(team_id, director, name="Old client", industry="i", region="r")
    app.close()
    sqlite_format_1(path)
    app = KamApplication(url)
    app.record_client_need(account, director, description="a new need")
    app.close()
    public = generate_key_pair(tmp_path / "kam.key", tmp_path / "kam.pub")

    with open_app(f"{url}?mode=ro") as reader:
        document = prove_account(reader, account, key=load_signing_key(tmp_path / "kam.key"))

    events = document["events"]
    assert [e["chain_format"] for e in events] == [1, 2]
    assert events[0]["written_us"] is None
    assert isinstance(events[1]["written_us"], int)
    assert check_inclusion_proof(document, public).endswith(": 2")
    for index, changes in ((0, {"chain_format": 2}), (1, {"chain_format": 1, "written_us": None})):
        edited = json.loads(json.dumps(document))
        edited["events"][index].update(changes, written_at=None)
        with pytest.raises(Problem, match=f"^position {events[index]['position']}: "):
            check_inclusion_proof(edited, public)
