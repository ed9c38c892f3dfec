"""A stored field changed into another spelling of the same value is refused as tampering.

The attack: with write access to the database, respell a field so that it still means the
same value to a lenient reader (``UUID()`` takes capitals, SQLite gives back text written over
a number), while the application, which finds rows by their exact stored form, reads another
history: a revoked authority comes back. Each test respells one field through the database's
own driver and checks that ``kam audit verify`` names the position and the field, and that
the readers refuse the row instead of reading it another way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam_domain.application import KamApplication
from kam_domain.audit import open_log, verify_store
from kam_domain.errors import StoreTampered
from kam_domain.ledger import canonical_id
from kam_domain.values import Percentage, Role
from tests import postgres_server

REVOKED = "%Team.AuthorityRevoked"


def build(store: str) -> tuple[Any, Any]:
    """A team whose KAM was granted 5 % and then had it revoked; the team and the KAM."""
    app = KamApplication(store)
    team_id, director = app.form_team(
        name="Respelled team",
        segment="s",
        region="r",
        director_name="D",
        top_authority=Percentage.of(30),
    )
    kam = app.add_member(
        team_id, director, name="K", role=Role.KEY_ACCOUNT_MANAGER, supervisor_id=director
    )
    grant = app.grant_authority(team_id, director, kam, max_discount=Percentage.of(5))
    app.revoke_authority(team_id, director, grant, reason="left the region")
    app.close()
    return team_id, kam


@pytest.fixture(name="sqlite_path")
def fixture_sqlite_path(tmp_path: Path) -> Path:
    path = tmp_path / "kam.db"
    build(f"sqlite:///{path}")
    return path


def sqlite_run(path: Path, statement: str) -> None:
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(statement)


def revoked_position(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        (position,) = db.execute(
            "SELECT rowid FROM stored_events WHERE topic LIKE ?", (REVOKED,)
        ).fetchone()
    return int(position)


#: SQLite: each column the chain binds, respelled as another form of the same value.
SQLITE_RESPELLINGS = {
    "id in capitals": ("stored_events", "originator_id = upper(originator_id)", "originator_id"),
    "id with hyphens": (
        "stored_events",
        "originator_id = substr(originator_id, 1, 8) || '-' || substr(originator_id, 9, 4) "
        "|| '-' || substr(originator_id, 13, 4) || '-' || substr(originator_id, 17, 4) || '-' "
        "|| substr(originator_id, 21)",
        "originator_id",
    ),
    "id in braces": (
        "stored_events",
        "originator_id = '{' || originator_id || '}'",
        "originator_id",
    ),
    "id as a blob": (
        "stored_events",
        "originator_id = CAST(originator_id AS BLOB)",
        "originator_id",
    ),
    # Text that looks like a number is turned back into one by the column's affinity; the
    # same digits as a blob are kept as they are.
    "version as a blob": (
        "stored_events",
        "originator_version = CAST(CAST(originator_version AS TEXT) AS BLOB)",
        "originator_version",
    ),
    "version as a real": (
        "stored_events",
        "originator_version = originator_version + 0.5",
        "originator_version",
    ),
    "topic as a blob": ("stored_events", "topic = CAST(topic AS BLOB)", "topic"),
    "state as text": ("stored_events", "state = CAST(state AS TEXT)", "state"),
    "link as text": ("stored_events_chain", "link = CAST(link AS TEXT)", "link"),
    "written time as a blob": (
        "stored_events_chain",
        "written_at = CAST(CAST(written_at AS TEXT) AS BLOB)",
        "written_at",
    ),
}


@pytest.mark.parametrize("respelling", list(SQLITE_RESPELLINGS))
def test_sqlite_respelled_fields_are_named_at_their_position(
    sqlite_path: Path, respelling: str
) -> None:
    """Given one field of the revocation respelled on SQLite, verify names position and field."""
    table, change, field = SQLITE_RESPELLINGS[respelling]
    position = revoked_position(sqlite_path)
    key = "rowid" if table == "stored_events" else "position"

    sqlite_run(sqlite_path, f"UPDATE {table} SET {change} WHERE {key} = {position}")

    result = verify_store(f"sqlite:///{sqlite_path}?mode=ro")
    assert result.breach is not None
    assert (result.breach.position, result.breach.kind) == (position, "respelled")
    assert field in result.breach.reason


def test_a_respelled_id_no_longer_brings_a_revoked_authority_back(sqlite_path: Path) -> None:
    """Given the revocation's id in capitals, the log readers refuse the row, naming the field."""
    position = revoked_position(sqlite_path)

    sqlite_run(
        sqlite_path,
        f"UPDATE stored_events SET originator_id = upper(originator_id) WHERE rowid = {position}",
    )

    with (
        open_log(f"sqlite:///{sqlite_path}?mode=ro") as recorder,
        pytest.raises(StoreTampered, match="originator_id"),
    ):
        recorder.select_notifications(position, 1)


def test_a_respelled_id_under_a_recomputed_link_is_still_refused(sqlite_path: Path) -> None:
    """Given a respelled id whose link an attacker recomputed over the new spelling, verify
    still names it: the fast path never hashes a non-canonical id."""
    from kam_domain.ledger import GENESIS, chain_link, state_digest

    position = revoked_position(sqlite_path)
    sqlite_run(
        sqlite_path,
        f"UPDATE stored_events SET originator_id = upper(originator_id) WHERE rowid = {position}",
    )
    with closing(sqlite3.connect(sqlite_path)) as db, db:
        before = db.execute(
            "SELECT link FROM stored_events_chain WHERE position = ?", (position - 1,)
        ).fetchone()
        identity, version, topic, state, written = db.execute(
            "SELECT e.originator_id, e.originator_version, e.topic, e.state, c.written_at "
            "FROM stored_events e JOIN stored_events_chain c ON c.position = e.rowid "
            "WHERE e.rowid = ?",
            (position,),
        ).fetchone()
        forged = chain_link(
            before[0] if before else GENESIS,
            position,
            identity,
            version,
            topic,
            state_digest(state),
            written,
        )
        db.execute("UPDATE stored_events_chain SET link = ? WHERE position = ?", (forged, position))

    result = verify_store(f"sqlite:///{sqlite_path}?mode=ro")

    assert result.breach is not None
    assert (result.breach.position, result.breach.kind) == (position, "respelled")


@pytest.fixture(name="postgres_url")
def fixture_postgres_url() -> Iterator[str]:
    url = postgres_server.fresh_store_url()
    try:
        build(url)
        yield url
    finally:
        postgres_server.drop_schema(url)


def postgres_revoked(url: str) -> int:
    (row,) = postgres_server.rows(
        url,
        "SELECT notification_id FROM {}.kam_events WHERE topic LIKE %s",
        postgres_server.schema_of(url),
        params=(REVOKED,),
    )
    return int(row[0])


#: PostgreSQL: typed columns keep one stored form, whatever spelling is written into them.
POSTGRES_SPELLINGS = {
    "id in capitals": "originator_id = upper(originator_id::text)::uuid",
    "id in braces": "originator_id = ('{{' || originator_id::text || '}}')::uuid",
    "version as text": "originator_version = (' ' || originator_version::text)::bigint",
}


@pytest.mark.parametrize("spelling", list(POSTGRES_SPELLINGS))
def test_postgres_typed_columns_store_one_form_of_each_value(
    postgres_url: str, spelling: str
) -> None:
    """Given a respelled id or version written on PostgreSQL, the column keeps its one form:
    the log verifies and the application reads the revocation as before."""
    position = postgres_revoked(postgres_url)
    schema = postgres_server.schema_of(postgres_url)
    change = POSTGRES_SPELLINGS[spelling]

    postgres_server.rows(
        postgres_url,
        f"UPDATE {{}}.kam_events SET {change} WHERE notification_id = %s",
        schema,
        params=(position,),
    )

    assert verify_store(postgres_url).intact
    team_id, kam = _team_and_kam(postgres_url)
    app = KamApplication(postgres_url, run_policies=False)
    try:
        assert app.credentials(team_id, kam).discount_authority is None
    finally:
        app.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_respelled_topic_is_caught(backend: str, tmp_path: Path) -> None:
    """Given the revocation's topic respelled (an alias that resolves to the same class), verify
    names its position: the chain binds the topic's exact text."""
    alias = "kam_domain.aggregates.team:Team.AuthorityRevoked "
    if backend == "sqlite":
        path = tmp_path / "kam.db"
        build(f"sqlite:///{path}")
        position = revoked_position(path)
        sqlite_run(path, f"UPDATE stored_events SET topic = '{alias}' WHERE rowid = {position}")
        store = f"sqlite:///{path}?mode=ro"
    else:
        store = postgres_server.fresh_store_url()
        build(store)
        position = postgres_revoked(store)
        postgres_server.rows(
            store,
            "UPDATE {}.kam_events SET topic = %s WHERE notification_id = %s",
            postgres_server.schema_of(store),
            params=(alias, position),
        )
    try:
        result = verify_store(store)
    finally:
        if backend == "postgres":
            postgres_server.drop_schema(store)

    assert result.breach is not None
    assert result.breach.position == position


def _team_and_kam(url: str) -> tuple[Any, Any]:
    app = KamApplication(url, run_policies=False)
    try:
        (team,) = app.teams()
        kam = next(m.member_id for m in team.members.values() if m.name == "K")
        return team.id, kam
    finally:
        app.close()


@given(value=st.uuids(), data=st.data())
def test_only_the_written_form_of_an_id_is_read(value: UUID, data: st.DataObject) -> None:
    """Every other spelling UUID() accepts (capitals, hyphens, braces, urn:) is refused; the
    32 lowercase hex digits the library writes are read as the id."""
    text = value.hex
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    spellings = [str(value), "{" + value.hex + "}", value.urn, str(value).upper()]
    if letters:
        raised = data.draw(st.sets(st.sampled_from(letters), min_size=1))
        spellings.append("".join(c.upper() if i in raised else c for i, c in enumerate(text)))

    assert canonical_id(text) == value
    for spelling in spellings:
        assert UUID(spelling) == value  # a lenient reader takes it as the same id
        with pytest.raises(StoreTampered, match="originator_id"):
            canonical_id(spelling, position=7)
