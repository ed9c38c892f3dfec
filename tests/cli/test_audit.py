"""`kam audit`: verify, checkpoint, accountable, trail and export, as an auditor runs them."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from kam_domain.application import KamApplication
from kam_domain.cli import main
from kam_domain.cli.audit import EXIT_NOT_INTACT
from kam_domain.values import Actor
from tests import postgres_server
from tests.conftest import Org, build_org, key_account
from tests.policy_acts import act_as_policy
from tests.support import at, unchanged

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(name="recorded")
def fixture_recorded(tmp_path: Path) -> tuple[str, Org, Any]:
    """A SQLite store with a team and a key account reassigned twice (once by a policy)."""
    url = f"sqlite:///{tmp_path / 'kam.db'}"
    app = KamApplication(url, run_policies=False)
    org = build_org(app)
    account = key_account(app, org, "Huaxia Mobile")
    app.assign_kam(account, org.director, org.kam2, reason="rebalanced the load", at=at(10))
    policy = Actor.policy("assignment", 2)
    kam = app.credentials(org.team_id, org.kam, at(20))
    act_as_policy(
        app,
        account,
        policy,
        lambda record, meta: record.assign_kam(meta, None, kam, reason="lowest tier-weighted load"),
        at(20),
    )
    app.close()
    return url, org, account


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["audit", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_verify_reports_an_intact_store_and_its_checkpoint(
    recorded: tuple[str, Org, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """On an untouched store opened read-only, verify exits 0, says so, and prints a digest."""
    url, _, _ = recorded

    status, out, err = run(capsys, "verify", "--store", f"{url}?mode=ro")

    assert status == 0
    assert out.startswith("intact: ")
    assert re.search(r"^checkpoint: kam-chain-1:\d+:[0-9a-f]{64}$", out, re.MULTILINE)
    assert err == ""  # not a terminal: no progress


def test_verify_names_the_first_bad_position_and_exits_3(
    recorded: tuple[str, Org, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """After a stored event's bytes change, verify exits 3 and names its position."""
    url, _, _ = recorded
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as db, db:
        db.execute("UPDATE stored_events SET state = x'7b7d' WHERE rowid = 7")

    status, out, _ = run(capsys, "verify", "--store", f"{url}?mode=ro")

    assert status == EXIT_NOT_INTACT == 3
    assert out.startswith("NOT INTACT at position 7 (altered)")


def test_checkpoint_then_verify_against_it_and_after_a_cut(
    recorded: tuple[str, Org, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """A printed checkpoint is confirmed later; once the tail is cut, verify exits 3."""
    url, _, _ = recorded
    _, digest, _ = run(capsys, "checkpoint", "--store", f"{url}?mode=ro")
    digest = digest.strip()

    confirmed, out, _ = run(capsys, "verify", "--store", url, "--checkpoint", digest)
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as db, db:
        db.execute("DELETE FROM stored_events WHERE rowid > 10")
        db.execute("DELETE FROM stored_events_chain WHERE position > 10")
    cut, cut_out, _ = run(capsys, "verify", "--store", url, "--checkpoint", digest)

    assert confirmed == 0
    assert f"agrees with checkpoint {digest}" in out
    assert cut == 3
    assert "(truncated)" in cut_out


def test_a_malformed_checkpoint_is_refused(
    recorded: tuple[str, Org, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """A digest that is not kam-chain-N:POSITION:LINK is a usage error (status 2) saying why."""
    url, _, _ = recorded

    with pytest.raises(SystemExit) as exited:
        run(capsys, "verify", "--store", url, "--checkpoint", "12:abc")

    assert exited.value.code == 2
    assert "argument --checkpoint: expected kam-chain-1:POSITION:LINK" in capsys.readouterr().err


def test_a_store_without_a_chain_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store whose adapter keeps no chain is refused (status 1), never reported intact."""
    path = tmp_path / "plain.db"
    plain = KamApplication(f"sqlite:///{path}", env={"PERSISTENCE_MODULE": "eventsourcing.sqlite"})
    plain.close()
    url = f"sqlite:///{path}?mode=ro"

    status, _, err = run(capsys, "verify", "--store", url)

    assert status == 1
    assert "kam: store: its hash chain cannot be read" in err


def test_verify_and_export_need_only_select_on_postgresql(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A PostgreSQL role that may only SELECT can verify, checkpoint, trail and export."""
    owner = postgres_server.fresh_store_url()
    role = f"kam_auditor_{uuid4().hex[:10]}"
    schema = postgres_server.schema_of(owner)
    try:
        app = KamApplication(owner, run_policies=False)
        org = build_org(app)
        account = key_account(app, org, "Read Only Telecom")
        app.close()
        with postgres_server.connect(owner) as conn:
            conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'audit-only'")
            conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
            conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}")
        url = re.sub(r"://[^@/]*@", f"://{role}:audit-only@", owner, count=1)

        verified, out, _ = run(capsys, "verify", "--store", url)
        checkpoint, digest, _ = run(capsys, "checkpoint", "--store", url)
        trail, trail_out, _ = run(
            capsys, "trail", "--store", url, "--account", str(account), "--format", "json"
        )
        exported, export_out, _ = run(capsys, "export", "--store", url)
        with postgres_server.connect(url) as rogue, pytest.raises(Exception, match="denied"):
            rogue.execute(f"DELETE FROM {schema}.kam_events")
    finally:
        postgres_server.drop_schema(owner)
        with postgres_server.connect(owner) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE IF EXISTS {role}")

    assert (verified, checkpoint, trail, exported) == (0, 0, 0, 0)
    assert out.startswith("intact: ")
    assert f"checkpoint: {digest.strip()}" in out
    assert [e["event"] for e in json.loads(trail_out)][:1] == ["ClientAccount.Registered"]
    assert len(export_out.splitlines()) == int(digest.split(":")[1])


def test_accountable_names_the_kam_at_each_moment_with_reasons(
    recorded: tuple[str, Org, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, between and after the reassignments, the KAM named is the one then in force."""
    url, org, _ = recorded

    answers = {
        day: json.loads(
            main_json(
                capsys,
                "accountable",
                "--store",
                url,
                "--account",
                "huaxia  MOBILE",
                "--at",
                at(day).isoformat(),
            )
        )
        for day in (0, 15, 25)
    }
    status, table, _ = run(
        capsys,
        "accountable",
        "--store",
        url,
        "--account",
        "Huaxia Mobile",
        "--at",
        at(15).isoformat(),
    )

    assert [answers[day]["kam_id"] for day in (0, 15, 25)] == [
        str(org.kam),
        str(org.kam2),
        str(org.kam),
    ]
    assert status == 0
    assert table.startswith("Huaxia Mobile: accountable at 2026-01-20T09:00:00+00:00: Chen Manager")
    history = answers[15]["history"]
    assert [h["reason"] for h in history] == [
        "covers the region",
        "rebalanced the load",
        "lowest tier-weighted load",
    ]
    assert [h["in_force"] for h in history] == [False, True, False]
    assert history[2]["decided_by"] == "policy:assignment@2"
    assert history[1]["decided_by_name"] == "Zhao Director"


def main_json(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    status, out, _ = run(capsys, *argv, "--format", "json")
    assert status == 0
    return out


def test_accountable_as_csv_and_with_a_naive_moment(
    recorded: tuple[str, Org, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """CSV lists every assignment; a moment without an offset is a usage error (status 2)."""
    url, _, account = recorded

    status, out, _ = run(
        capsys,
        "accountable",
        "--store",
        url,
        "--account",
        str(account),
        "--at",
        at(15).isoformat(),
        "--format",
        "csv",
    )
    with pytest.raises(SystemExit) as naive:
        run(capsys, "accountable", "--store", url, "--account", str(account), "--at", "2026-01-20")
    err = capsys.readouterr().err

    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0
    assert [r["in_force"] for r in rows] == ["False", "True", "False"]
    assert naive.value.code == 2
    assert "argument --at: must be timezone-aware" in err


def test_trail_of_an_account_lists_its_events_with_positions_and_metadata(
    recorded: tuple[str, Org, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """The account's trail: every event in order, with position, actor, causation, fields."""
    url, org, account = recorded

    status, out, _ = run(
        capsys, "trail", "--store", url, "--account", "Huaxia Mobile", "--format", "json"
    )

    entries = json.loads(out)
    assert status == 0
    assert [e["event"] for e in entries] == [
        "ClientAccount.Registered",
        "ClientAccount.KeyAccountDesignated",
        "ClientAccount.KamAssigned",
        "ClientAccount.KamAssigned",
        "ClientAccount.KamAssigned",
    ]
    positions = [e["position"] for e in entries]
    assert positions == sorted(positions)
    assert all(isinstance(p, int) for p in positions)
    assert entries[-1]["actor"] == "policy:assignment@2"
    assert entries[1]["actor_name"] == "Zhao Director"
    assert entries[3]["fields"]["reason"] == "rebalanced the load"
    assert entries[3]["fields"]["kam_id"] == str(org.kam2)
    assert all(e["causation_id"] and e["correlation_id"] for e in entries)
    assert {e["record_id"] for e in entries} == {str(account)}


def test_trail_of_a_member_finds_what_they_did_and_where_they_are_named(
    recorded: tuple[str, Org, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """A member's trail holds events they issued and events naming them, anywhere in the log."""
    url, org, _ = recorded

    status, out, _ = run(
        capsys, "trail", "--store", url, "--member", str(org.kam2), "--format", "csv"
    )

    rows = list(csv.DictReader(io.StringIO(out)))
    events = [r["event"] for r in rows]
    assert status == 0
    assert "Team.MemberJoined" in events
    assert "ClientAccount.KamAssigned" in events
    assert all(r["position"] for r in rows)


def test_trail_table_and_unknown_records(
    recorded: tuple[str, Org, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """The table shows both times and names actors; an unknown id or name is refused by kind."""
    url, _, _ = recorded

    status, out, _ = run(capsys, "trail", "--store", url, "--account", "Huaxia Mobile")
    unknown, _, err = run(capsys, "trail", "--store", url, "--project", str(uuid4()))
    with unchanged(url):
        unnamed, _, named_err = run(capsys, "trail", "--store", url, "--target", "not-a-target")

    assert status == 0
    assert out.splitlines()[0].split()[:4] == ["pos", "when", "written", "event"]
    assert "Zhao Director" in out
    assert unknown == 1
    assert "project: no project" in err
    assert unnamed == 1
    assert "no target named 'not-a-target'" in named_err


def test_export_writes_one_record_per_event_with_links_and_policies(
    recorded: tuple[str, Org, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """JSON lines: one per event, chained previous -> link, policy and version where one acted."""
    url, _, _ = recorded
    output = tmp_path / "export.jsonl"

    status, out, _ = run(capsys, "export", "--store", url, "--output", str(output))

    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert status == 0
    assert out == ""
    assert [r["position"] for r in records] == list(range(1, len(records) + 1))
    assert all(r["previous_link"] == p["link"] for p, r in itertools.pairwise(records))
    assert records[0]["previous_link"] == "0" * 64
    by_policy = [r for r in records if r["actor_kind"] == "policy"]
    assert {(r["policy"], r["policy_version"]) for r in by_policy} == {("assignment", "2")}
    assert {r["event"] for r in by_policy} == {"ClientAccount.KamAssigned", "PolicyDecision.Made"}


def test_export_script_in_the_guide_verifies_an_export_and_catches_tampering(
    recorded: tuple[str, Org, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """docs/audit.md's standard-library script accepts a real export and rejects edited ones."""
    url, _, _ = recorded
    script = tmp_path / "verify_export.py"
    script.write_text(guide_script())
    jsonl, table = tmp_path / "export.jsonl", tmp_path / "export.csv"
    run(capsys, "export", "--store", url, "--output", str(jsonl))
    run(capsys, "export", "--store", url, "--format", "csv", "--output", str(table))
    _, digest, _ = run(capsys, "checkpoint", "--store", url)
    lines = jsonl.read_text().splitlines()
    edited = json.loads(lines[6])
    edited["topic"] += "Forged"
    variants = {
        "edited": [*lines[:6], json.dumps(edited), *lines[7:]],
        "dropped": [*lines[:4], *lines[5:]],
        "swapped": [*lines[:2], lines[3], lines[2], *lines[4:]],
        "cut": lines[:-2],
    }

    def verify(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, str(script), str(path), *extra]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    assert verify(jsonl).returncode == 0
    assert verify(table).returncode == 0
    assert verify(jsonl, digest.strip()).returncode == 0
    results = {}
    for name, variant in variants.items():
        path = tmp_path / f"{name}.jsonl"
        path.write_text("\n".join(variant) + "\n")
        results[name] = verify(path, digest.strip())
    assert {name: r.returncode for name, r in results.items()} == dict.fromkeys(variants, 1)
    assert "position 7" in results["edited"].stdout
    assert "position 6" in results["dropped"].stdout
    assert "position 4" in results["swapped"].stdout
    assert "checkpoint" in results["cut"].stdout


def guide_script() -> str:
    text = (ROOT / "docs" / "audit.md").read_text(encoding="utf-8")
    (script,) = re.findall(r"```python\n(# verify_export\.py.*?)```", text, re.DOTALL)
    return script


def test_help_documents_the_exit_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    """``kam audit verify --help`` lists every exit status."""
    with pytest.raises(SystemExit):
        main(["audit", "verify", "--help"])

    out = capsys.readouterr().out
    for status in ("0", "1", "2", "3"):
        assert re.search(rf"^  {status}  ", out, re.MULTILINE), status


def test_trail_and_export_show_both_times_of_a_backdated_event(
    recorded: tuple[str, Org, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """An event dated in January and written now shows both times in trail and export."""
    url, _, account = recorded

    _, trail, _ = run(
        capsys, "trail", "--store", url, "--account", "Huaxia Mobile", "--format", "json"
    )
    _, export, _ = run(capsys, "export", "--store", url, "--format", "jsonl")

    last = json.loads(trail)[-1]
    assert last["when"] == at(20).isoformat()
    assert last["written"] > "2026-02"  # written when the test ran, long after its date
    records = [json.loads(line) for line in export.splitlines()]
    mine = [r for r in records if r["originator_id"] == str(account)]
    assert mine[-1]["timestamp"] == at(20).isoformat()
    assert mine[-1]["written_at"] == last["written"]
    assert isinstance(mine[-1]["written_us"], int)


def test_verify_deep_lists_an_edited_asof_row(
    recorded: tuple[str, Org, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """verify --deep exits 3 and names the position of an as-of row moved in time."""
    url, _, account = recorded
    path = url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "UPDATE stored_events_asof SET timestamp = timestamp - 86400000000 "
            "WHERE originator_id = ? AND originator_version = 2",
            (account.hex,),
        )
        (position,) = db.execute(
            "SELECT notification_id FROM stored_events_asof "
            "WHERE originator_id = ? AND originator_version = 2",
            (account.hex,),
        ).fetchone()

    plain, _, _ = run(capsys, "verify", "--store", f"{url}?mode=ro")
    status, out, _ = run(capsys, "verify", "--deep", "--store", f"{url}?mode=ro")

    assert plain == 0  # the chain does not cover the index
    assert status == EXIT_NOT_INTACT
    assert f"asof position {position}, record {account} version 2" in out
