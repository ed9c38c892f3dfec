"""Verify's joined read path (``select_sealed``) against the two-stream walk, on tampered stores.

The rows of a tampered store (an event changed, removed, forged, moved; a link without its
event; a tail cut) must still say exactly what ``select_notifications`` and ``select_links``
say, and verify must find the same breach, in the same words, through either path, with
every page size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kam_domain.audit import (
    Checkpoint,
    Verification,
    checkpoint_store,
    head,
    open_log,
    verify_chain,
)
from kam_domain.ledger import JoinedRecorder
from kam_domain.testing.storage import TwoStreams, canonical_rows, sealed_rows
from tests.audit.test_tampering import (
    SQLiteRows,
    _memory_change,
    _memory_delete,
    _memory_insert,
    _memory_swap,
    build,
    built_store,
)

Tamper = Callable[[Any], object]

#: Each tampering the tampering tests catch, by name, done through a handle on the rows.
TAMPERINGS: dict[str, Tamper] = {
    "untouched": lambda rows: None,
    "changed": lambda rows: rows.change_state(5),
    "deleted": lambda rows: rows.delete_event(4),
    "deleted first": lambda rows: rows.delete_event(1),
    "deleted last": lambda rows: rows.delete_event(rows.one(_LAST)[0]),
    "forged": lambda rows: rows.append_forged(),
    "swapped": lambda rows: rows.swap(3, 6),
    "cut": lambda rows: rows.cut_tail(4),
}
_LAST = "SELECT MAX(position) FROM {}.kam_events_chain"


@pytest.fixture(name="built", params=["sqlite", "postgres"])
def fixture_built(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """A built store (read-only URL for SQLite) and a handle on its rows."""
    yield from built_store(request.param, tmp_path, _SQLite)


class _SQLite(SQLiteRows):
    """SQLite's rows, answering the few queries written for PostgreSQL's tables here too."""

    def one(self, statement: str, params: tuple[Any, ...] = ()) -> Any:
        statement = statement.replace("{}.kam_events_chain", "stored_events_chain")
        return super().one(statement, params)


def both_ways(recorder: Any, checkpoints: list[Checkpoint], page_size: int) -> Verification:
    """The joined walk's answer, after checking the two-stream walk gives the same."""
    offered = isinstance(recorder, JoinedRecorder)  # else both calls take the same path
    assert offered
    streams: Any = TwoStreams(recorder)
    joined = verify_chain(recorder, checkpoints=checkpoints, page_size=page_size)
    assert joined == verify_chain(streams, checkpoints=checkpoints, page_size=page_size)
    return joined


@pytest.mark.parametrize("tampering", list(TAMPERINGS))
def test_tampered_rows_and_verdicts_match_the_two_streams(
    built: tuple[str, Any], tampering: str
) -> None:
    """Whatever was done to the rows, select_sealed and verify agree with the two streams."""
    store, rows = built
    kept = checkpoint_store(store)

    TAMPERINGS[tampering](rows)

    with open_log(store) as recorder:
        assert_rows_match(recorder)
        for page_size in (1, 2, 3, 1000):
            plain = both_ways(recorder, [], page_size)
            both_ways(recorder, [kept], page_size)
        both_ways(recorder, [Checkpoint(2, kept.link), kept], 2)
    assert (plain.breach is None) == (tampering in ("untouched", "cut"))


def test_a_link_without_an_event_below_the_first_position_is_read(built: tuple[str, Any]) -> None:
    """A chain row slipped in at a position below 1 is read, and named as a missing event."""
    store, rows = built
    table = "stored_events_chain" if isinstance(rows, SQLiteRows) else "{}.kam_events_chain"
    mark = "?" if isinstance(rows, SQLiteRows) else "%s"

    rows.run((f"INSERT INTO {table} (position, link) VALUES ({mark}, {mark})", (-3, bytes(32))))

    with open_log(store) as recorder:
        assert_rows_match(recorder)
        result = both_ways(recorder, [], 1000)
    assert result.breach is not None
    assert (result.breach.position, result.breach.kind) == (-3, "missing")


def test_an_id_spelt_otherwise_is_named_as_respelled_by_both_walks(tmp_path: Path) -> None:
    """An id stored in capitals is refused as respelled at its position, by both walks."""
    path = tmp_path / "kam.db"
    build(f"sqlite:///{path}")[0].close()
    rows = SQLiteRows(path)

    rows.run(("UPDATE stored_events SET originator_id = upper(originator_id) WHERE rowid = 3", ()))

    with open_log(f"sqlite:///{path}?mode=ro") as recorder:
        result = verify_chain(recorder)
    assert result.breach is not None
    assert (result.breach.position, result.breach.kind) == (3, "respelled")
    assert "originator_id" in result.breach.reason


@pytest.mark.parametrize(
    "tamper", [_memory_change, _memory_delete, _memory_swap, _memory_insert, lambda r: 0]
)
def test_memory_rows_and_verdicts_match_the_two_streams(tamper: Callable[[Any], int]) -> None:
    """In memory too, select_sealed and verify agree with the two streams, tampered or not."""
    app, _, _ = build("memory://")
    kept = head(app.recorder)

    tamper(app.recorder)

    assert_rows_match(app.recorder)
    for page_size in (1, 4, 1000):
        both_ways(app.recorder, [], page_size)
        both_ways(app.recorder, [kept], page_size)


def assert_rows_match(recorder: Any) -> None:
    assert canonical_rows(recorder.select_sealed(None, 1_000)) == sealed_rows(recorder)
