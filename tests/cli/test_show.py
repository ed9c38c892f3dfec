"""``kam show`` and ``--at`` on trail, decisions and export: records as they stood, by name.

Read from the demo's record in an SQLite file opened read-only, and once on PostgreSQL.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from kam_domain.application import KamApplication
from kam_domain.audit.names import resolve
from kam_domain.audit.records import open_app
from kam_domain.cli import main
from kam_domain.demo import build_demo
from kam_domain.errors import NothingNamed
from tests import postgres_server

ACCOUNT = "Huaxia Mobile"
TARGET = "Huaxia Mobile 2026-Q1"
#: Mid-quarter: the target is set, its period not closed, nothing evaluated.
MID_QUARTER = "2026-02-15T00:00:00+00:00"
GUIDE = Path(__file__).parents[2] / "docs" / "audit.md"


@pytest.fixture(name="store", scope="module")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("show") / "kam.db"
    with KamApplication(f"sqlite:///{path}") as app:
        build_demo(app)
    return f"sqlite:///{path}?mode=ro"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def shown(capsys: pytest.CaptureFixture[str], store: str, *argv: str) -> dict[str, Any]:
    status, out, err = run(capsys, "show", *argv, "--format", "json", "--store", store)
    assert status == 0, err
    found: dict[str, Any] = json.loads(out)
    return found


def test_show_prints_each_kind_named_by_name_or_by_id(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A team, account, project and target are each shown by name and by id, the same."""
    with open_app(store) as app:
        named = {
            "team": app.teams()[0].name,
            "account": ACCOUNT,
            "project": app.projects()[0].name,
            "target": TARGET,
        }
        ids = {kind: str(resolve(app, kind, name)) for kind, name in named.items()}

    for kind, name in named.items():
        by_name = shown(capsys, store, kind, name)
        by_id = shown(capsys, store, kind, ids[kind])

        assert by_name == by_id
        assert (by_name["kind"], by_name["id"], by_name["name"]) == (kind, ids[kind], name)


def test_show_at_a_moment_is_the_version_in_force_then(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """As of mid-quarter the target has no evaluation and is not closed; now it has both; the
    version shown is the facade's as-of version."""
    with open_app(store) as app:
        target_id = resolve(app, "target", TARGET)
        then = app.get_target(target_id, at=datetime.fromisoformat(MID_QUARTER))

    before = shown(capsys, store, "target", TARGET, "--at", MID_QUARTER)
    now = shown(capsys, store, "target", TARGET)

    assert before["version"] == then.version < now["version"]
    assert before["as_of"] == MID_QUARTER
    assert before["fields"]["evaluations"] == []
    assert before["fields"]["closed_at"] is None
    assert now["fields"]["evaluations"]


def test_the_table_shows_who_what_and_which_version(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table's first lines name the record, its id, the moment and the version."""
    status, out, _ = run(capsys, "show", "account", ACCOUNT.upper(), "--store", store)

    lines = out.splitlines()
    assert status == 0
    assert lines[0].startswith(f"account {ACCOUNT} (")
    assert lines[1].startswith("as of now: version ")
    assert f"name: {ACCOUNT}" in lines


def test_an_unknown_name_is_refused_with_the_closest_names(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A misspelt account is refused (status 1) with the names it is close to; an unknown
    kind is a usage error (status 2) listing the kinds."""
    status, _, err = run(capsys, "show", "account", "Huaxia Mobil", "--store", store)
    with pytest.raises(SystemExit) as usage:
        main(["show", "teem", "x", "--store", store])
    _, kinds = capsys.readouterr()

    assert status == 1
    assert "no account named 'Huaxia Mobil'" in err
    assert f"did you mean '{ACCOUNT}'" in err
    assert usage.value.code == 2
    assert "'team', 'account', 'project', 'target'" in kinds


def test_a_moment_before_the_record_or_a_malformed_one_is_refused(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before its first event a record is refused as not recorded yet (1); a moment without an
    offset or that is no moment is a usage error (2)."""
    status, _, err = run(
        capsys, "show", "account", ACCOUNT, "--at", "2025-01-01T00:00:00Z", "--store", store
    )
    codes = []
    for moment in ("2026-02-15T00:00:00", "soon"):
        with pytest.raises(SystemExit) as usage:
            main(["show", "account", ACCOUNT, "--at", moment, "--store", store])
        codes.append(usage.value.code)
    capsys.readouterr()

    assert status == 1
    assert "was not recorded yet at 2025-01-01" in err
    assert codes == [2, 2]


def test_the_resolver_refuses_an_id_of_another_kind(store: str) -> None:
    """An account's id given as a target's is refused like an unknown name."""
    with open_app(store) as app:
        account_id = resolve(app, "account", ACCOUNT)

        with pytest.raises(NothingNamed, match="no target named"):
            resolve(app, "target", account_id)


# -- --at on trail, decisions and export ---------------------------------------------------------


def test_trail_at_a_moment_lists_the_events_in_effect_by_then(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The target's trail as of mid-quarter is the prefix of its trail dated by then."""
    argv = ["audit", "trail", "--target", TARGET, "--format", "json", "--store", store]
    _, whole, _ = run(capsys, *argv)
    status, cut, _ = run(capsys, *argv, "--at", MID_QUARTER)

    every, then = json.loads(whole), json.loads(cut)
    moment = datetime.fromisoformat(MID_QUARTER)
    assert status == 0
    assert then == [e for e in every if datetime.fromisoformat(e["when"]) <= moment]
    assert 0 < len(then) < len(every)


def test_trail_names_a_member_by_name(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``--member`` takes a member's name as well as the id."""
    with open_app(store) as app:
        member_id = resolve(app, "member", "Li Na")
    argv = ["audit", "trail", "--format", "json", "--store", store, "--at", MID_QUARTER]

    _, by_name, _ = run(capsys, *argv, "--member", "Li Na")
    _, by_id, _ = run(capsys, *argv, "--member", str(member_id))

    assert json.loads(by_name) == json.loads(by_id) != []


def test_decisions_at_a_moment_are_those_recorded_by_then(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``kam policies decisions --at`` lists the decisions recorded by then, no later one."""
    argv = ["policies", "decisions", "--format", "json", "--store", store]
    _, whole, _ = run(capsys, *argv)
    status, cut, _ = run(capsys, *argv, "--at", MID_QUARTER)

    every, then = json.loads(whole), json.loads(cut)
    with open_app(store) as app:
        moment = datetime.fromisoformat(MID_QUARTER)
        expected = sum(d.created_on <= moment for d in app.decisions())
    assert status == 0
    assert len(then) == expected
    assert 0 < len(then) < len(every)


def test_an_export_at_a_moment_is_the_log_written_by_then_and_verifies(
    store: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``kam audit export --at`` cuts the log at the last event written by then: a prefix that
    the guide's verifier finds intact up to its last link."""
    whole = tmp_path / "whole.jsonl"
    assert main(["audit", "export", "--store", store, "--output", str(whole)]) == 0
    records = [json.loads(line) for line in whole.read_text().splitlines()]
    middle = records[len(records) // 2]["written_at"]
    cut = tmp_path / "cut.jsonl"

    status = main(["audit", "export", "--store", store, "--output", str(cut), "--at", middle])

    kept = [json.loads(line) for line in cut.read_text().splitlines()]
    assert status == 0
    assert kept == records[: len(kept)]
    assert all(r["written_at"] <= middle for r in kept)
    assert records[len(kept)]["written_at"] > middle
    script = tmp_path / "verify_export.py"
    script.write_text(_guide_script())
    checkpoint = f"kam-chain-1:{kept[-1]['position']}:{kept[-1]['link']}"
    done = subprocess.run(
        [sys.executable, "-I", str(script), str(cut), checkpoint],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout


def _guide_script() -> str:
    import re

    text = GUIDE.read_text(encoding="utf-8")
    (script,) = re.findall(r"```python\n(# verify_export\.py.*?)```", text, re.DOTALL)
    return str(script)


# -- PostgreSQL ----------------------------------------------------------------------------------


@pytest.fixture(name="pg_store")
def fixture_pg_store() -> Iterator[str]:
    url = postgres_server.fresh_store_url()
    yield url
    postgres_server.drop_schema(url)


def test_on_postgresql_show_and_trail_answer_as_on_sqlite(
    pg_store: str, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo in a PostgreSQL schema: the target shown as of mid-quarter and its trail cut
    there hold the same fields and events as the SQLite store's (ids aside)."""
    with KamApplication(pg_store) as app:
        build_demo(app)

    def answers(url: str) -> tuple[Any, ...]:
        target = shown(capsys, url, "target", TARGET, "--at", MID_QUARTER)
        argv = ["audit", "trail", "--target", TARGET, "--format", "json", "--at", MID_QUARTER]
        _, out, _ = run(capsys, *argv, "--store", url)
        events = [(e["when"], e["event"]) for e in json.loads(out)]
        return target["version"], target["fields"]["goals"], target["fields"]["period"], events

    assert answers(pg_store) == answers(store)
