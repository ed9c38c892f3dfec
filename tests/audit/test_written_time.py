"""The written time is inside the chain: moving it to hide a backdated event is caught.

The attack: with write access to the database, set an event's recorded written time back to
its effective time, so that it no longer looks dated back (the trail, the export and the
exceptions report read it from there). Through sqlite3 and psycopg.
"""

from __future__ import annotations

from typing import Any

from kam_domain.audit import verify_store
from tests.audit.test_tampering import PostgresRows, SQLiteRows
from tests.audit.test_tampering import fixture_tampered as fixture_tampered  # the same stores


def test_a_moved_written_time_is_caught(tampered: tuple[str, Any]) -> None:
    """Given the written time at one position moved a day back, verify names that position."""
    store, rows = tampered
    if isinstance(rows, SQLiteRows):
        rows.run(
            (
                "UPDATE stored_events_chain SET written_at = written_at - 86400000000 "
                "WHERE position = ?",
                (4,),
            )
        )
    else:
        assert isinstance(rows, PostgresRows)
        rows.run(
            (
                "UPDATE {}.kam_events_chain SET written_at = written_at - 86400000000 "
                "WHERE position = %s",
                (4,),
            )
        )

    result = verify_store(store)

    assert result.breach is not None
    assert (result.breach.position, result.breach.kind) == (4, "altered")


def test_a_removed_written_time_is_named(tampered: tuple[str, Any]) -> None:
    """Given the written time at one position set to NULL, verify names the field there."""
    store, rows = tampered
    table = "stored_events_chain" if isinstance(rows, SQLiteRows) else "{}.kam_events_chain"
    mark = "?" if isinstance(rows, SQLiteRows) else "%s"

    rows.run((f"UPDATE {table} SET written_at = NULL WHERE position = {mark}", (3,)))

    result = verify_store(store)
    assert result.breach is not None
    assert (result.breach.position, result.breach.kind) == (3, "respelled")
    assert "written_at" in result.breach.reason
