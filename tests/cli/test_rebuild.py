"""``kam policies rebuild``: the policies' state folded again from the log, and compared."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kam_domain.application import KamApplication
from kam_domain.cli import main
from kam_domain.values import Tier
from tests.policies.history import Op, play


@pytest.fixture(name="store")
def fixture_store(tmp_path: Path) -> str:
    """An SQLite file whose commands a worker-like engine settled, checkpointing its state."""
    url = f"sqlite:///{tmp_path / 'kam.db'}"
    app = KamApplication(url, run_policies=False)
    play(
        app,
        [Op("kam", 0, 3), Op("kam", 1, 3), *(Op("designate", n, Tier.STANDARD) for n in range(4))],
    )
    app.policies.run(limit=100)
    app.close()
    return url


def kam(capsys: pytest.CaptureFixture[str], store: str, *arguments: str) -> tuple[int, str]:
    status = main(["policies", "rebuild", *arguments, "--store", store])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def cells(store: str) -> dict[str, bytes]:
    with sqlite3.connect(store.removeprefix("sqlite:///")) as conn:
        return dict(conn.execute("SELECT key, value FROM kam_state"))


def test_a_state_equal_to_the_log_is_reported_equal_and_left_alone(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a store whose state a worker checkpointed, rebuild reports it equal (status 0)
    and writes nothing."""
    before = cells(store)

    status, out = kam(capsys, store)

    assert status == 0, out
    assert out.startswith("equal: the stored state is the log's")
    assert cells(store) == before


def test_an_edited_cell_is_named_and_replaced(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a record cell of the state replaced by another record's, rebuild names that cell,
    exits 3 and puts the rebuilt state back; a second rebuild finds it equal."""
    records = sorted(key for key in cells(store) if key.startswith("r:"))
    first, second = records[:2]
    with sqlite3.connect(store.removeprefix("sqlite:///")) as conn:
        conn.execute(
            "UPDATE kam_state SET value = (SELECT value FROM kam_state WHERE key = ?)"
            " WHERE key = ?",
            (second, first),
        )

    status, out = kam(capsys, store)

    assert status == 3, out
    assert f"differs: {first}" in out
    assert "replaced by the rebuilt one" in out
    assert kam(capsys, store)[0] == 0


def test_check_compares_and_writes_nothing(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Given an edited cell, rebuild --check names it and exits 3, leaving the state as it was."""
    key = next(key for key in cells(store) if key.startswith("x:team:"))
    with sqlite3.connect(store.removeprefix("sqlite:///")) as conn:
        conn.execute("UPDATE kam_state SET value = X'00' WHERE key = ?", (key,))
    before = cells(store)

    status, out = kam(capsys, store, "--check")

    assert status == 3, out
    assert f"differs: {key}" in out
    assert "unreadable" in out
    assert cells(store) == before


def test_a_store_without_state_gets_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Given a store whose commands no engine checkpointed, rebuild writes the state folded
    from the log (status 0), and a second rebuild finds it equal."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    app = KamApplication(url, run_policies=False)
    play(app, [Op("kam", 0, 3), Op("designate", 1, Tier.STANDARD)])
    app.close()

    status, out = kam(capsys, url)

    assert status == 0, out
    assert out.startswith("no stored state to compare: rebuilt")
    assert kam(capsys, url)[1].startswith("equal")
