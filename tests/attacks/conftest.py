"""Stores to attack: the demo scenario in an SQLite file, copied afresh for every test."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from kam_domain.ledger import GENESIS, chain_link, state_digest

KAM = [sys.executable, "-m", "kam_domain.cli"]


def kam(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the ``kam`` command line, as an auditor would."""
    return subprocess.run([*KAM, *args], capture_output=True, text=True, timeout=300, check=False)


def url(path: Path, *, read_only: bool = True) -> str:
    return f"sqlite:///{path}" + ("?mode=ro" if read_only else "")


def rows(path: Path, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute(statement, params).fetchall()


def run(path: Path, statement: str, params: tuple[Any, ...] = ()) -> None:
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(statement, params)


def state(path: Path, position: int) -> dict[str, Any]:
    [(raw,)] = rows(path, "SELECT state FROM stored_events WHERE rowid = ?", (position,))
    return json.loads(raw)


def write_state(path: Path, position: int, fields: dict[str, Any]) -> None:
    raw = json.dumps(fields, separators=(",", ":")).encode()
    run(path, "UPDATE stored_events SET state = ? WHERE rowid = ?", (raw, position))


def rechain(path: Path) -> None:
    """Recompute every link, as an insider with write access can."""
    with closing(sqlite3.connect(path)) as db, db:
        events = db.execute(
            "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
            "ORDER BY rowid"
        ).fetchall()
        db.execute("DELETE FROM stored_events_chain")
        previous = GENESIS
        for position, identity, version, topic, stored in events:
            previous = chain_link(
                previous, position, str(UUID(identity)), version, topic, state_digest(stored)
            )
            db.execute(
                "INSERT INTO stored_events_chain (position, link) VALUES (?, ?)",
                (position, previous),
            )


def position_of(path: Path, topic_suffix: str, contains: str = "") -> list[int]:
    """Positions of the events whose topic ends so (and whose state contains ``contains``)."""
    found = rows(
        path,
        "SELECT rowid, state FROM stored_events WHERE topic LIKE ? ORDER BY rowid",
        (f"%{topic_suffix}",),
    )
    return [position for position, raw in found if contains.encode() in bytes(raw)]


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    result = kam("demo", "--store", url(path, read_only=False))
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture
def demo(demo_file: Path, tmp_path: Path) -> Path:
    """A fresh copy of the demo store."""
    path = tmp_path / "kam.db"
    shutil.copy(demo_file, path)
    return path
