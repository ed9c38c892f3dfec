"""The engine checkpoints its state when its application closes: a close on a store that may
not be written to, whose state tables were dropped, or of an application closed already (or
only garbage-collected) raises nothing, reports nothing unraisable, and writes nothing where it
must not."""

from __future__ import annotations

import gc
import sqlite3
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from kam_domain.application import KamApplication
from tests.conftest import build_org

TABLES = ("tracking", "kam_state", "kam_state_checkpoint")


@pytest.fixture(name="unraisable")
def fixture_unraisable(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What would be reported as 'Exception ignored in …' while the test runs."""
    found: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", found.append)
    return found


def _store(tmp_path: Path) -> Path:
    """An SQLite store whose policies have run (the engine's state checkpointed)."""
    path = tmp_path / "kam.db"
    with KamApplication(f"sqlite:///{path}") as app:
        build_org(app)
    return path


def _dump(path: Path) -> dict[str, list[Any]]:
    with closing(sqlite3.connect(path)) as db:
        names = {n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return {t: db.execute(f"SELECT * FROM {t}").fetchall() for t in TABLES if t in names}


def _started(url: str) -> KamApplication:
    """An application over ``url`` whose engine settled commands not yet checkpointed."""
    app = KamApplication(url)
    build_org(app)
    return app


def test_an_application_closed_twice_reports_nothing(tmp_path: Path, unraisable: list[Any]) -> None:
    """Given an application whose engine ran, when it is closed, closed again and collected,
    then nothing is raised or reported unraisable."""
    app = _started(f"sqlite:///{_store(tmp_path)}")
    app.close()
    app.close()
    del app
    gc.collect()
    assert unraisable == []


def test_an_application_whose_store_was_closed_under_it_closes_quietly(
    tmp_path: Path, unraisable: list[Any]
) -> None:
    """Given an application whose engine ran and whose store connections were closed under it,
    when it is closed and collected, then nothing is raised or reported unraisable."""
    app = _started(f"sqlite:///{_store(tmp_path)}")
    app.factory.close()
    app.close()
    del app
    gc.collect()
    assert unraisable == []


def test_a_read_only_application_closed_or_collected_writes_nothing(
    tmp_path: Path, unraisable: list[Any]
) -> None:
    """Given a store opened for reading only whose engine looked at the log, when one such
    application is closed and another only collected, then nothing is raised or reported, and
    the tracking and state tables are as they were."""
    path = _store(tmp_path)
    before = _dump(path)
    app = KamApplication(f"sqlite:///{path}?mode=ro", read_only=True)
    app.teams()
    app.close()
    collected = KamApplication(f"sqlite:///{path}?mode=ro", read_only=True)
    collected.teams()
    del collected
    gc.collect()
    assert unraisable == []
    assert _dump(path) == before


def test_a_close_after_the_state_tables_were_dropped_raises_nothing(
    tmp_path: Path, unraisable: list[Any]
) -> None:
    """Given an application whose engine ran and a store whose state tables were then dropped,
    when it is closed and collected, then nothing is raised or reported unraisable, and the
    next application over the store folds the log again and settles as before."""
    path = _store(tmp_path)
    app = _started(f"sqlite:///{path}")
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("DROP TABLE kam_state")
        db.execute("DROP TABLE kam_state_checkpoint")
    app.close()
    del app
    gc.collect()
    assert unraisable == []
    with KamApplication(f"sqlite:///{path}") as again:
        assert again.run_policies() == 0


def test_a_garbage_collected_application_reports_nothing(
    tmp_path: Path, unraisable: list[Any]
) -> None:
    """Given an application whose engine ran and that was never closed, when it is collected,
    then nothing is reported unraisable and the store opens and settles as before."""
    path = _store(tmp_path)
    app = _started(f"sqlite:///{path}")
    del app
    gc.collect()
    assert unraisable == []
    with KamApplication(f"sqlite:///{path}") as again:
        assert again.run_policies() == 0
