"""Every reading command opens the store read-only, and refuses what is not a kam store.

An auditor points ``kam replay``, ``kam policies list``, ``kam audit …`` or ``kam report …`` at
a store; none of them may create, upgrade or write anything there. Each test runs every reading
command and compares the store afterwards: the SQLite file's bytes, or every PostgreSQL table's
rows and the database's schemas. A missing file or schema is refused (a mistyped name must not
become a new, empty store reported "0 diverged"), and a foreign database is "not a kam store".
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from kam_domain.application import KamApplication
from kam_domain.audit.signing import generate_key_pair
from kam_domain.cli import build_parser, main
from kam_domain.errors import NotAKamStore, StoreNotFound
from kam_domain.storage import resolve_store, store_settings
from tests import postgres_server
from tests.conftest import build_org, key_account

#: The key ``kam audit prove --key`` signs the current tree head with (made before the tests).
KEY = Path(tempfile.mkdtemp(prefix="kam-read-only-")) / "signer.key"
#: Where ``kam report pack`` writes (outside the store's folder; --force: once per command run).
PACK = KEY.parent / "pack"

#: Every command documented as reading, with arguments that make it read something.
READING: dict[str, list[str]] = {
    "replay": ["replay"],
    "policies list": ["policies", "list"],
    "policies decisions": ["policies", "decisions"],
    "policies dead-letters": ["policies", "dead-letters", "--all"],
    "audit verify": ["audit", "verify"],
    "audit checkpoint": ["audit", "checkpoint"],
    "audit accountable": [
        "audit", "accountable", "--account", "Read Only Telecom", "--at", "2030-01-01T00:00:00Z",
    ],
    "audit trail": ["audit", "trail", "--account", "Read Only Telecom"],
    "audit export": ["audit", "export"],
    "audit exceptions": ["audit", "exceptions"],
    "audit prove": ["audit", "prove", "--account", "Read Only Telecom", "--key", str(KEY)],
    "report scorecard": ["report", "scorecard", "--period", "2026-Q1"],
    "report pack": ["report", "pack", "--output", str(PACK), "--force"],
    "report forecast": [
        "report", "forecast", "--team", "East key accounts", "--period", "2026-Q1",
    ],
    "show": ["show", "account", "Read Only Telecom", "--at", "2030-01-01T00:00:00Z"],
}  # fmt: skip

#: The commands that record something (and so may create a store; store rotate-key reads the
#: store read-only first, so it refuses a missing one).
WRITING = {
    "demo",
    "worker",
    "policies retry",
    "policies activate",
    "policies configure",
    "policies rebuild",
    "clock tick",
    "clock close-period",
    "store rotate-key",
}


#: The commands that open no store at all.
STORELESS = {"audit keygen"}


@pytest.fixture(autouse=True, scope="module")
def fixture_key() -> None:
    if not KEY.exists():
        generate_key_pair(KEY, KEY.with_suffix(".pub"))


def run(capsys: pytest.CaptureFixture[str], store: str, name: str) -> tuple[int, str]:
    status = main([*READING[name], "--store", store])
    out, err = capsys.readouterr()
    return status, out + err


def build(store: str) -> None:
    """A store with a team, a key account assigned by the policy, and its decisions."""
    with KamApplication(store) as app:
        org = build_org(app)
        key_account(app, org, "Read Only Telecom")


# -- SQLite ---------------------------------------------------------------------------------------


def files(folder: Path) -> dict[str, str]:
    """Each file in ``folder`` and the SHA-256 of its bytes; SQLite's side files aside."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.iterdir())
        if not path.name.endswith(("-wal", "-shm"))
    }


def test_every_documented_reading_command_is_tested_here() -> None:
    """The parser's commands are exactly the reading ones above, the writing ones and those
    that open no store."""
    found = set(_commands(build_parser()))

    assert found == set(READING) | WRITING | STORELESS


def test_reading_commands_leave_the_sqlite_file_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a store, when each reading command runs on it, then no byte of its file changed."""
    store = f"sqlite:///{tmp_path / 'kam.db'}"
    build(store)
    before = files(tmp_path)

    results = {name: run(capsys, store, name) for name in READING}

    assert {name: status for name, (status, _) in results.items()} == dict.fromkeys(READING, 0)
    assert files(tmp_path) == before
    # SQLite may add the side files a reader of a WAL-mode file needs; nothing is written there.
    wal = tmp_path / "kam.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0


def test_reading_commands_refuse_a_missing_sqlite_file_and_create_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given no file, when each reading command runs, then it is refused by name, file uncreated."""
    store = f"sqlite:///{tmp_path / 'mistyped.db'}"

    results = {name: run(capsys, store, name) for name in READING}

    assert {name: status for name, (status, _) in results.items()} == dict.fromkeys(READING, 1)
    assert all("no database file" in text for _, text in results.values()), results
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "content",
    ["a table of its own", "not a database", "empty"],
)
def test_reading_commands_say_not_a_kam_store_for_a_foreign_sqlite_file(
    content: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a foreign SQLite file (or none at all), when each reading command runs, then it
    says "not a kam store" and the file is unchanged."""
    path = tmp_path / "other.db"
    if content == "a table of its own":
        with closing(sqlite3.connect(path)) as db, db:
            db.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount TEXT)")
    else:
        path.write_bytes(b"" if content == "empty" else b"invoice,amount\n1,100\n")
    before = files(tmp_path)

    results = {name: run(capsys, f"sqlite:///{path}", name) for name in READING}

    assert {name: status for name, (status, _) in results.items()} == dict.fromkeys(READING, 1)
    assert all("not a kam store" in text for _, text in results.values()), results
    assert files(tmp_path) == before


def test_a_store_in_rollback_journal_mode_is_read_without_switching_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a store copied into rollback-journal mode, when it is verified, then it verifies
    and its journal mode is left as it was (switching it to WAL would be a write)."""
    path = tmp_path / "kam.db"
    build(f"sqlite:///{path}")
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode=DELETE")
    before = files(tmp_path)

    status, text = run(capsys, f"sqlite:///{path}", "audit verify")

    assert (status, text.split(":")[0]) == (0, "intact")
    assert files(tmp_path) == before
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_the_facade_opened_read_only_reads_and_refuses_to_write(tmp_path: Path) -> None:
    """KamApplication(read_only=True) reads an existing store; a missing one raises
    StoreNotFound, a foreign one NotAKamStore, and nothing is created."""
    store = f"sqlite:///{tmp_path / 'kam.db'}"
    build(store)
    (tmp_path / "foreign.db").write_bytes(b"")
    before = files(tmp_path)

    with KamApplication(store, read_only=True, run_policies=False) as app:
        names = [account.name for account in app.accounts()]
    with pytest.raises(StoreNotFound, match="no database file"):
        KamApplication(f"sqlite:///{tmp_path / 'missing.db'}", read_only=True)
    with pytest.raises(NotAKamStore, match="not a kam store"):
        KamApplication(f"sqlite:///{tmp_path / 'foreign.db'}", read_only=True)

    assert names == ["Read Only Telecom"]
    assert files(tmp_path) == before


def test_an_in_memory_sqlite_database_is_no_store_to_read() -> None:
    """Reading settings for sqlite:///:memory: are refused: it can only be a new, empty one."""
    url, adapter = resolve_store("sqlite:///:memory:")

    with pytest.raises(StoreNotFound, match="in-memory"):
        store_settings(url, adapter, read_only=True)


# -- PostgreSQL -----------------------------------------------------------------------------------


def tables(url: str) -> dict[str, str]:
    """Each table of the store's schema and an MD5 of its rows."""
    schema = postgres_server.schema_of(url)
    names = postgres_server.rows(
        url, "SELECT tablename FROM pg_tables WHERE schemaname = %s", params=(schema,)
    )
    return {
        name: postgres_server.rows(
            url,
            "SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {}.{} AS t",
            schema,
            name,
        )[0][0]
        for (name,) in sorted(names)
    }


@pytest.fixture(name="pg_store")
def fixture_pg_store() -> Iterator[str]:
    url = postgres_server.fresh_store_url()
    yield url
    postgres_server.drop_schema(url)


def test_reading_commands_leave_the_postgresql_schema_as_it_was(
    pg_store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a store, when each reading command runs as its owner, then no table changed."""
    build(pg_store)
    before = tables(pg_store)

    results = {name: run(capsys, pg_store, name) for name in READING}

    assert {name: status for name, (status, _) in results.items()} == dict.fromkeys(READING, 0)
    assert tables(pg_store) == before


def test_reading_commands_work_under_a_select_only_role(
    pg_store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a role granted only USAGE and SELECT on the store, when each reading command runs
    under it, then each succeeds and the tables are unchanged."""
    build(pg_store)
    schema = postgres_server.schema_of(pg_store)
    role = f"kam_reader_{uuid4().hex[:10]}"
    with postgres_server.connect(pg_store) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'reads-only'")
        conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}")
    reader = re.sub(r"://[^@/]*@", f"://{role}:reads-only@", pg_store, count=1)
    before = tables(pg_store)
    try:
        results = {name: run(capsys, reader, name) for name in READING}
    finally:
        with postgres_server.connect(pg_store) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE IF EXISTS {role}")

    statuses = {name: status for name, (status, _) in results.items()}
    assert statuses == dict.fromkeys(READING, 0), results
    assert tables(pg_store) == before
    assert "reads-only" not in "".join(text for _, text in results.values())


def test_reading_commands_refuse_a_missing_schema_and_create_none(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Given a mistyped schema, when each reading command runs, then it is refused by name and
    no schema is created."""
    store = postgres_server.fresh_store_url()
    schema = postgres_server.schema_of(store)

    results = {name: run(capsys, store, name) for name in READING}

    created = postgres_server.rows(
        store, "SELECT 1 FROM pg_namespace WHERE nspname = %s", params=(schema,)
    )
    assert {name: status for name, (status, _) in results.items()} == dict.fromkeys(READING, 1)
    assert all(f"has no schema {schema}" in text for _, text in results.values()), results
    assert created == []


def test_reading_commands_say_not_a_kam_store_for_a_foreign_schema(
    pg_store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a schema holding another application's table, when each reading command runs,
    then it says "not a kam store" and the schema is unchanged."""
    schema = postgres_server.schema_of(pg_store)
    with postgres_server.connect(pg_store) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"CREATE TABLE {schema}.invoices (id integer PRIMARY KEY, amount text)")
    before = tables(pg_store)

    results = {name: run(capsys, pg_store, name) for name in READING}

    assert {name: status for name, (status, _) in results.items()} == dict.fromkeys(READING, 1)
    assert all("not a kam store" in text for _, text in results.values()), results
    assert tables(pg_store) == before


# -- helpers --------------------------------------------------------------------------------------


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> Iterator[str]:
    """Every leaf command of ``parser``: "audit verify", "replay", …"""
    actions: list[Any] = [
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    ]
    if not actions:
        yield prefix.strip()
        return
    for name, sub in actions[0].choices.items():
        yield from _commands(sub, f"{prefix} {name}")
