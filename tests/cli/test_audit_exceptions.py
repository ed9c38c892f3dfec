"""`kam audit exceptions`: the report as a table, JSON and CSV, as of a moment, exit statuses."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from kam_domain.application import KamApplication
from kam_domain.cli import main
from kam_domain.cli.audit_exceptions import CSV_COLUMNS, EXIT_EXCEPTIONS_FOUND
from kam_domain.values import Percentage, Role
from tests.conftest import build_org, key_account
from tests.support import at


@pytest.fixture(name="store")
def fixture_store(tmp_path: Path) -> str:
    """A SQLite store (read-only URL) with one exception: a key account whose KAM, assigned on
    day 2, has no backup."""
    url = f"sqlite:///{tmp_path / 'kam.db'}"
    app = KamApplication(url, run_policies=False)
    org = build_org(app)
    key_account(app, org, "Huaxia Mobile", when=at(2))
    app.close()
    return f"{url}?mode=ro"


@pytest.fixture(name="clean")
def fixture_clean(tmp_path: Path) -> str:
    """A SQLite store with a team, recorded as it happens (nothing dated back), and nothing to
    report."""
    url = f"sqlite:///{tmp_path / 'clean.db'}"
    app = KamApplication(url, run_policies=False)
    team_id, senior = app.form_team(
        name="T", segment="s", region="r", director_name="D", top_authority=Percentage.of(10)
    )
    app.add_member(team_id, senior, name="K", role=Role.KEY_ACCOUNT_MANAGER)
    app.close()
    return f"{url}?mode=ro"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["audit", "exceptions", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_the_table_lists_every_kind_and_the_exceptions_found(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """As of a moment, the table heads each kind, says none where there is none, and lists
    the exception with the events behind it; the report ran, so the status is 0."""
    status, out, _ = run(capsys, "--store", store, "--at", at(3).isoformat())

    assert status == 0
    assert out.startswith(
        "exceptions as of 2026-01-08T09:00:00+00:00 (records as they stood then): 1 found"
    )
    assert "approvals outside the authority then in force [approval_outside_authority]: none" in out
    assert (
        "key accounts whose KAM has no cross-trained backup [key_account_without_backup]: 1" in out
    )
    assert "account Huaxia Mobile  KAM Li Manager: no backup designated" in out
    assert "ClientAccount.KamAssigned" in out


def test_json_counts_every_kind_and_points_to_positions(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """JSON gives the moment, a count per kind and each finding with its events' positions;
    before the account existed there is nothing to report."""
    status, out, _ = run(capsys, "--store", store, "--format", "json")
    _, before, _ = run(capsys, "--store", store, "--format", "json", "--at", at(1).isoformat())

    document = json.loads(out)
    assert status == 0
    assert document["as_of"] is False
    assert document["counts"]["key_account_without_backup"] == 1
    # The fixture's history is dated in January and written now: every event is dated back.
    assert document["counts"]["backdated"] > 0
    assert sum(document["counts"].values()) == 1 + document["counts"]["backdated"]
    [finding] = [f for f in document["findings"] if f["kind"] != "backdated"]
    assert finding["record"] == "account Huaxia Mobile"
    assert [e["event"] for e in finding["events"]] == ["ClientAccount.KamAssigned"]
    assert isinstance(finding["events"][0]["position"], int)
    assert json.loads(before)["findings"] == []


def test_csv_has_one_row_per_exception(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    """CSV: one row per finding, the positions in a column of their own."""
    status, out, _ = run(capsys, "--store", store, "--format", "csv")

    reader = csv.DictReader(io.StringIO(out))
    rows = list(reader)
    assert status == 0
    assert reader.fieldnames == CSV_COLUMNS
    rows = [row for row in rows if row["kind"] != "backdated"]  # the fixture is dated back
    assert [row["kind"] for row in rows] == ["key_account_without_backup"]
    assert rows[0]["positions"] == str(json.loads(rows[0]["events"])[0]["position"])


def test_fail_on_exceptions_exits_3_only_when_something_is_listed(
    store: str, clean: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --fail-on-exceptions the status is 3 when anything is listed, 0 when nothing is."""
    failed, _, _ = run(capsys, "--store", store, "--fail-on-exceptions")
    passed, out, _ = run(capsys, "--store", clean, "--fail-on-exceptions")

    assert failed == EXIT_EXCEPTIONS_FOUND == 3
    assert passed == 0
    assert ": 0 found" in out.splitlines()[0]


def test_a_moment_without_an_offset_is_refused(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An --at without its UTC offset could mean any time zone: usage status 2, saying why."""
    with pytest.raises(SystemExit) as exited:
        run(capsys, "--store", store, "--at", "2026-01-08T09:00")

    assert exited.value.code == 2
    assert "argument --at: must be timezone-aware" in capsys.readouterr().err
