"""`kam report forecast`: table, JSON, CSV and an HTML page with a bar chart, as of any
moment, on SQLite and PostgreSQL, reading the store without writing to it."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kam_domain.aggregates.opportunity import OpportunityStage
from kam_domain.aggregates.target import RevenueGoal, TargetScope
from kam_domain.application import KamApplication
from kam_domain.audit.records import open_app
from kam_domain.cli import main
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.reports.forecast import RECORD_COLUMNS
from kam_domain.reports.forecast_reading import read_forecast
from kam_domain.values import Money, Period, Role
from tests import postgres_server
from tests.conftest import build_org, key_account
from tests.reports.browser import launched
from tests.support import at

Q1 = Period.parse("2026-Q1")
TEAM = "East key accounts"
#: A member's name that would be markup if it reached the page unescaped.
MARKUP = "Wu <b>Bold</b> & Co"


def cny(amount: int) -> Money:
    return Money.of(amount, "CNY")


def build(store: str) -> None:
    """By day 5: a deal won for 3000, one in proposal for 2000 (owned by a representative
    whose name holds markup), goals of 10000 (team) and 6000 (the KAM); on day 8 the deal in
    proposal moves to negotiation."""
    app = KamApplication(store, policies=PolicyRegistry())
    try:
        org = build_org(app)
        rep = app.add_member(
            org.team_id, org.senior, name=MARKUP, role=Role.KEY_ACCOUNT_REPRESENTATIVE, at=at(0)
        )
        account = key_account(app, org)
        app.set_target(
            org.team_id,
            org.senior,
            scope=TargetScope.team(org.team_id),
            period=Q1,
            goals=(RevenueGoal(cny(10000)),),
            at=at(1),
        )
        app.set_target(
            org.team_id,
            org.director,
            scope=TargetScope.member(org.kam),
            period=Q1,
            goals=(RevenueGoal(cny(6000)),),
            at=at(1),
        )
        won = app.open_opportunity(
            account, org.kam, name="Core", amount=cny(3000), expected_close=at(40), at=at(2)
        )
        project = app.initiate_project(
            account,
            org.kam,
            name="Core",
            currency="CNY",
            project_director_id=org.project_director,
            at=at(3),
        )
        app.win_opportunity(won, org.kam, project_id=project, at=at(4))
        edge = app.open_opportunity(
            account,
            org.kam,
            name="Edge",
            amount=cny(2000),
            expected_close=at(50),
            owner_id=rep,
            stage=OpportunityStage.PROPOSAL,
            at=at(5),
        )
        app.move_opportunity(edge, org.kam, stage=OpportunityStage.NEGOTIATION, at=at(8))
    finally:
        app.close()


@pytest.fixture(name="store", scope="module")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The story in an SQLite file, opened read-only by the report."""
    path = tmp_path_factory.mktemp("forecast") / "kam.db"
    build(f"sqlite:///{path}")
    return f"sqlite:///{path}"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["report", "forecast", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_the_table_shows_the_team_and_each_member_against_their_goals(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table has the team's line and a line per member who owns a deal or has a goal, with
    committed, weighted, best case, the goal and the shares of it."""
    status, out, err = run(capsys, "--store", store, "--team", TEAM, "--period", "2026-Q1")

    assert (status, err) == (0, "")
    assert out.startswith(f"{TEAM} — forecast 2026-Q1 (as of now)")
    team = next(line for line in out.splitlines() if line.startswith("team "))
    assert team.split()[-9:] == [
        "CNY", "3,000.00", "1,500.00", "5,000.00", "10,000.00", "30.0%", "45.0%", "1", "1",
    ]  # fmt: skip
    kam = next(line for line in out.splitlines() if "Li Manager" in line)
    assert kam.split()[-9:] == [
        "CNY", "3,000.00", "0.00", "3,000.00", "6,000.00", "50.0%", "50.0%", "1", "0",
    ]  # fmt: skip
    assert "stage probabilities: prospecting 10%" in out


def test_json_is_the_forecast_as_the_library_reads_it(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--format json prints what read_forecast gives, lines and counted opportunities."""
    status, out, _ = run(
        capsys, "--store", store, "--team", TEAM, "--period", "2026-Q1", "--format", "json"
    )

    with open_app(store) as app:
        expected = read_forecast(app, TEAM, Q1).as_dict()
    assert status == 0
    assert json.loads(out) == expected
    assert {item["name"] for item in expected["opportunities"]} == {"Core", "Edge"}


def test_csv_has_one_record_per_line(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--format csv writes the columns RECORD_COLUMNS names, one row per member and team line."""
    status, out, _ = run(
        capsys, "--store", store, "--team", TEAM, "--period", "2026-Q1", "--format", "csv"
    )

    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0
    assert list(rows[0]) == RECORD_COLUMNS
    assert [row["scope"] for row in rows] == ["team", "member", "member"]
    assert {row["name"] for row in rows} == {TEAM, "Li Manager", MARKUP}


def test_as_of_a_moment_the_forecast_is_as_it_was_then(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--at day 6 gives the forecast of that day: the open deal still in proposal (50 %), and
    before day 2 nothing is counted."""
    day6 = at(6).isoformat()
    status, out, _ = run(
        capsys,
        "--store", store, "--team", TEAM, "--period", "2026-Q1", "--at", day6, "--format", "json",
    )  # fmt: skip
    early = run(
        capsys,
        "--store", store, "--team", TEAM, "--period", "2026-Q1", "--at", at(1).isoformat(),
        "--format", "json",
    )[1]  # fmt: skip

    then = json.loads(out)
    team = next(line for line in then["lines"] if line["scope"] == "team")
    assert (status, team["weighted"], then["as_of"]) == (0, "1000.00", day6)
    assert json.loads(early)["opportunities"] == []


def test_the_html_page_escapes_names_draws_bars_and_loads_nothing(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--format html writes one page to --output: names escaped, a bar per figure and line in
    inline SVG with the goals marked, no script and nothing referenced outside the page."""
    page = tmp_path / "forecast.html"

    status, out, _ = run(
        capsys,
        "--store", store, "--team", TEAM, "--period", "2026-Q1", "--format", "html",
        "--output", str(page),
    )  # fmt: skip

    html = page.read_text(encoding="utf-8")
    assert (status, out) == (0, "")
    assert "Wu &lt;b&gt;Bold&lt;/b&gt; &amp; Co" in html
    assert "<b>Bold" not in html
    assert html.count("<svg") == 1
    assert html.count("<rect") == 3 * 3
    assert html.count('class="goal"') == 2
    assert "<script" not in html
    assert "src=" not in html
    assert "http" not in html.replace('http-equiv="Content-Security-Policy"', "")


def test_refusals_say_what_and_exit_with_their_status(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown team is refused with status 1 and the closest names; a malformed period or
    a moment without its offset is a usage error (status 2)."""
    status, _, err = run(
        capsys, "--store", store, "--team", "East key acounts", "--period", "2026-Q1"
    )
    assert status == 1
    assert "East key accounts" in err

    with pytest.raises(SystemExit) as period:
        run(capsys, "--store", store, "--team", TEAM, "--period", "2026-Q5")
    with pytest.raises(SystemExit) as naive:
        run(
            capsys,
            "--store",
            store,
            "--team",
            TEAM,
            "--period",
            "2026-Q1",
            "--at",
            "2026-02-01T00:00",
        )
    assert (period.value.code, naive.value.code) == (2, 2)


def test_a_read_only_sqlite_file_is_read_and_left_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given the store's file made read-only, when the forecast is read in every format, then
    each succeeds, no byte of the file changed and nothing was written beside it."""
    path = tmp_path / "kam.db"
    store = f"sqlite:///{path}"
    build(store)
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        for form in ("table", "json", "csv", "html"):
            status, _, err = run(
                capsys, "--store", store, "--team", TEAM, "--period", "2026-Q1", "--format", form
            )
            assert (status, err) == (0, ""), form
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)

    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    # A reader of a WAL-mode file may create the side files it needs; nothing is written there.
    wal = tmp_path / "kam.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0


@pytest.fixture(name="postgres_store")
def fixture_postgres_store() -> Iterator[str]:
    """The story in a fresh schema on the test server, dropped afterwards."""
    postgres_server.require_driver()
    url = postgres_server.fresh_store_url()
    try:
        build(url)
        yield url
    finally:
        postgres_server.drop_schema(url)


def test_on_postgresql_the_forecast_is_read_without_writing(
    postgres_store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """On PostgreSQL the table and the JSON are the same forecast as the library reads, as of
    now and as of day 6, and the log holds no new event afterwards."""
    with open_app(postgres_store) as app:
        expected = read_forecast(app, TEAM, Q1, at=at(6)).as_dict()
        before = app.recorder.max_notification_id()

    status, out, _ = run(
        capsys,
        "--store", postgres_store, "--team", TEAM, "--period", "2026-Q1", "--at",
        at(6).isoformat(), "--format", "json",
    )  # fmt: skip
    table_status, table, _ = run(
        capsys, "--store", postgres_store, "--team", TEAM, "--period", "2026-Q1"
    )

    assert (status, table_status) == (0, 0)
    assert json.loads(out) == expected
    assert "Li Manager" in table
    with open_app(postgres_store) as app:
        assert app.recorder.max_notification_id() == before


def test_the_browser_renders_the_page_without_a_console_error(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], record_property: Any
) -> None:
    """Headless Chromium loads the page with nothing refused or failing, the chart's bars in
    its DOM and the names shown as text; a screenshot is saved and its path recorded."""
    page = tmp_path / "forecast.html"
    run(
        capsys,
        "--store", store, "--team", TEAM, "--period", "2026-Q1", "--format", "html",
        "--output", str(page),
    )  # fmt: skip

    with launched(tmp_path / "profile") as browser:
        loaded = browser.load(page.as_uri())
        shot = browser.screenshot(tmp_path / "forecast.png")

    assert loaded.errors == ()
    assert loaded.dom.count("<rect") == 9
    assert "Wu &lt;b&gt;Bold&lt;/b&gt; &amp; Co" in loaded.dom
    assert shot.stat().st_size > 10_000
    record_property("screenshot forecast", str(shot))
    print(f"screenshot: {shot}")
