"""The as-of index is derived data outside the chain: editing it must not change what an audit
command answers as of a moment."""

from __future__ import annotations

import json
from pathlib import Path

from tests.attacks.conftest import kam, rows, run, url

AT = "2026-04-20T00:00:00+08:00"
YEAR = 365 * 86400 * 1_000_000


REFUSED = ["refused: the as-of index contradicts the events"]


def overdue(demo: Path) -> list[str]:
    result = kam("audit", "exceptions", "--store", url(demo), "--at", AT, "--format", "json")
    if result.returncode == 1 and "as-of index" in result.stderr:
        return REFUSED
    assert result.returncode == 0, result.stderr
    findings = json.loads(result.stdout)["findings"]
    return sorted(
        f["record"] + ": " + f["summary"] for f in findings if f["kind"] == "overdue_payment"
    )


def jinling(demo: Path) -> str:
    [(identity,)] = rows(
        demo,
        "SELECT originator_id FROM stored_events WHERE topic LIKE '%ClientAccount.Registered' "
        "AND CAST(state AS TEXT) LIKE '%Jinling Steel%'",
    )
    return str(identity)


def test_exceptions_as_of_a_moment_are_not_hidden_by_moving_index_rows(demo: Path) -> None:
    """Jinling Steel's invoices (account version 8 on) are dated a year later in the index:
    as of the 20th of April, the overdue invoices vanish, while verify stays intact."""
    before = overdue(demo)
    assert any("Jinling Steel" in summary for summary in before)
    run(
        demo,
        "UPDATE stored_events_asof SET timestamp = timestamp + ? "
        "WHERE originator_id = ? AND originator_version >= 8",
        (YEAR, jinling(demo)),
    )
    verified = kam("audit", "verify", "--store", url(demo))
    after = overdue(demo)
    assert after in (before, REFUSED) or verified.returncode == 3, (before, after, verified.stdout)


def test_exceptions_as_of_a_moment_do_not_invent_a_key_account_without_kam(demo: Path) -> None:
    """As-of rows moved never invent a key account without a KAM: refused, or caught."""
    [(identity,)] = rows(
        demo,
        "SELECT originator_id FROM stored_events WHERE topic LIKE '%ClientAccount.Registered' "
        "AND CAST(state AS TEXT) LIKE '%Huaxia Mobile%'",
    )
    run(
        demo,
        "UPDATE stored_events_asof SET timestamp = timestamp + ? "
        "WHERE originator_id = ? AND originator_version >= 3",
        (YEAR, identity),
    )
    result = kam("audit", "exceptions", "--store", url(demo), "--at", AT, "--format", "json")
    if result.returncode == 1:
        # Refused: the index's answer is proved against the events before it is used.
        assert "as-of index" in result.stderr, result.stderr
        return
    counts = json.loads(result.stdout)["counts"]
    verified = kam("audit", "verify", "--store", url(demo))
    assert counts["key_account_without_kam"] == 0 or verified.returncode == 3, counts
