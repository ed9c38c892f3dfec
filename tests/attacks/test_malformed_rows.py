"""A row made unreadable behind the library's back is a breach verify names, not a failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.attacks.conftest import kam, position_of, run, url

EDITS = {
    "version removed": "UPDATE stored_events SET originator_version = NULL WHERE rowid = ?",
    "version as text": "UPDATE stored_events SET originator_version = 'x' WHERE rowid = ?",
    "id not a uuid": "UPDATE stored_events SET originator_id = 'zzz' WHERE rowid = ?",
    "id removed": "UPDATE stored_events SET originator_id = NULL WHERE rowid = ?",
    "link as text": "UPDATE stored_events_chain SET link = 'abc' WHERE position = ?",
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_verify_names_a_malformed_row_as_not_intact(demo: Path, edit: str) -> None:
    """A row made unreadable is reported NOT INTACT at its position, not a failure."""
    [position, *_] = position_of(demo, "ClientAccount.KamAssigned")
    run(demo, EDITS[edit], (position,))
    result = kam("audit", "verify", "--store", url(demo))
    assert result.returncode == 3, (result.returncode, result.stdout, result.stderr)
    assert f"NOT INTACT at position {position}" in result.stdout


def test_export_of_a_store_whose_chain_table_was_dropped_is_refused(demo: Path) -> None:
    """A store without its chain is refused (status 1, "keeps no hash chain"), not a failure."""
    run(demo, "DROP TABLE stored_events_chain")
    result = kam("audit", "export", "--store", url(demo), "--format", "jsonl", "--output", "-")
    assert result.returncode == 1, (result.returncode, result.stderr)
