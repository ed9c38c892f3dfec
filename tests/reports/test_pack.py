"""The audit pack: a static site written from the demo's record, opened offline in a browser.

The pack is written by ``kam report pack`` from a store opened read-only (an SQLite file opened
with ``mode=ro``; a PostgreSQL schema under a role that may only SELECT). Its pages load
nothing, link only to its own files, escape every value, and render in headless Chromium
without a console error; its export re-verifies with the verifier shipped beside it.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import pytest

from kam_domain.application import KamApplication
from kam_domain.audit.records import open_app
from kam_domain.cli import main
from kam_domain.demo import build_demo
from kam_domain.reports.pack import MANIFEST
from tests import postgres_server
from tests.conftest import build_org, key_account
from tests.reports.browser import launched

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
#: Mid-quarter: payments and cases recorded, nothing closed or evaluated yet.
MID_QUARTER = "2026-02-15T00:00:00+00:00"
GUIDE = Path(__file__).parents[2] / "docs" / "audit.md"


def build(store: str) -> None:
    """The demo's quarter, and a team whose key account is named like a script."""
    with KamApplication(store) as app:
        build_demo(app)
        key_account(app, build_org(app), HOSTILE)


@pytest.fixture(name="store", scope="module")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo's record in an SQLite file, read through a read-only URL."""
    path = tmp_path_factory.mktemp("pack-store") / "kam.db"
    build(f"sqlite:///{path}")
    return f"sqlite:///{path}?mode=ro"


@pytest.fixture(name="pack", scope="module")
def fixture_pack(store: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("pack") / "pack"
    assert main(["report", "pack", "--store", store, "--output", str(output)]) == 0
    return output


def pages(pack: Path) -> list[Path]:
    return sorted(pack.glob("*.html"))


class _Links(HTMLParser):
    """Every URL a page refers to (links, sources, style sheets), and its tags."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for name, value in attrs:
            if name in ("href", "src", "action", "data", "poster") and value is not None:
                self.urls.append(value)


def links(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def summary(pack: Path) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((pack / "pack.json").read_text(encoding="utf-8"))
    return found


def verify_export(pack: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """The pack's own ``verify_export.py``, run by a plain Python on the pack's export."""
    return subprocess.run(
        [sys.executable, "-I", "verify_export.py", "export.jsonl", *arguments],
        cwd=pack,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# -- the files -----------------------------------------------------------------------------------


def test_the_pack_holds_every_page_and_its_manifest_lists_every_file_with_its_digest(
    pack: Path, store: str
) -> None:
    """SHA256SUMS names every other file of the pack, each with the SHA-256 of its bytes."""
    listed: dict[str, str] = {}
    for line in (pack / MANIFEST).read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    with open_app(store) as app:
        targets = app.targets()

    assert set(listed) == {path.name for path in pack.iterdir()} - {MANIFEST}
    assert all(
        hashlib.sha256((pack / name).read_bytes()).hexdigest() == digest
        for name, digest in listed.items()
    )
    expected = {
        "index.html",
        "verification.html",
        "accounts.html",
        "discounts.html",
        "targets.html",
        "exceptions.html",
        "scorecard-2026-Q1.html",
        "export.jsonl",
        "verify_export.py",
        "pack.json",
        *(f"target-{target.id}.html" for target in targets),
    }
    assert expected <= set(listed)


def test_every_relative_link_resolves_to_a_file_of_the_pack_and_none_leaves_it(
    pack: Path,
) -> None:
    """Every href and src of every page is relative and names a file in the pack (anchors
    aside); nothing points to a scheme, a host or a parent directory."""
    checked = 0
    for page in pages(pack):
        for url in links(page).urls:
            parts = urlsplit(url)
            assert not parts.scheme, (page.name, url)
            assert not parts.netloc, (page.name, url)
            if not parts.path:
                continue
            assert "/" not in parts.path, (page.name, url)
            assert (pack / parts.path).is_file(), (page.name, url)
            checked += 1

    assert checked > len(pages(pack))


def test_no_page_holds_a_script_or_loads_anything(pack: Path) -> None:
    """Each page forbids every load in its content security policy and has no script, no
    linked style sheet, no image or frame from anywhere."""
    for page in pages(pack):
        text = page.read_text(encoding="utf-8")
        tags = links(page).tags

        assert "default-src 'none'" in text, page.name
        assert not {"script", "link", "iframe", "img", "object", "embed"} & set(tags), page.name


def test_a_script_in_an_account_name_is_shown_escaped_and_never_as_a_tag(pack: Path) -> None:
    """The account named ``<script>alert(1)</script>`` appears escaped on the accountability
    and target pages, and no page holds a raw ``<script``."""
    shown = {page.name for page in pages(pack) if ESCAPED in page.read_text(encoding="utf-8")}

    assert "accounts.html" in shown
    for page in pages(pack):
        assert "<script" not in page.read_text(encoding="utf-8").lower(), page.name


def test_the_summary_counts_what_the_record_holds(pack: Path, store: str) -> None:
    """pack.json's counts are the facade's: accounts, discount requests, targets, events."""
    with open_app(store) as app:
        accounts = len(app.accounts())
        requests = sum(len(p.discount_requests) for p in app.projects())
        targets = len(app.targets())
        events = app.recorder.max_notification_id()

    found = summary(pack)

    assert found["verification"]["intact"] is True
    assert found["verification"]["checked"] == events
    assert (found["accounts"], found["discount_requests"], found["targets"]) == (
        accounts,
        requests,
        targets,
    )
    assert found["export"]["events"] == events
    assert found["store"] == "sqlite"


def test_the_export_reverifies_with_the_verifier_shipped_in_the_pack(pack: Path) -> None:
    """``python verify_export.py export.jsonl CHECKPOINT``, run in the pack, says intact."""
    done = verify_export(pack, summary(pack)["export"]["checkpoint"])

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("intact")


def test_the_shipped_verifier_is_the_one_the_auditors_guide_prints() -> None:
    """The packaged verify_export.py is byte for byte the script in docs/audit.md."""
    guide = GUIDE.read_text(encoding="utf-8")
    (script,) = re.findall(r"```python\n(# verify_export\.py.*?)```", guide, re.DOTALL)
    packaged = Path(__file__).parents[2] / "kam_domain/reports/templates/verify_export.py.txt"

    assert packaged.read_text(encoding="utf-8") == script


def test_each_discount_shows_the_authority_the_team_gave_its_approver_then(
    pack: Path, store: str
) -> None:
    """Every decided request is a row naming its approver and the authority in force at the
    decision, as the Team's record held it; the demo's are all within it."""
    with open_app(store) as app:
        decided = [
            (project, request)
            for project in app.projects()
            for request in project.discount_requests.values()
            if request.decision is not None and request.decision.credentials is not None
        ]
        in_force = [
            app.get_team(project.team_id, at=request.decision.decided_at).credentials(
                request.decision.credentials.member_id, request.decision.decided_at
            )
            for project, request in decided
        ]
    text = (pack / "discounts.html").read_text(encoding="utf-8")

    assert decided
    for credentials in in_force:
        assert credentials.name in text
        assert str(credentials.discount_authority) in text
    assert ">NO<" not in text


def test_each_evaluated_target_names_the_stored_events_of_its_actuals_by_position(
    pack: Path, store: str
) -> None:
    """For each evaluated target, every source event of every actual is on its page by log
    position, and the export holds that event at that position."""
    exported = {
        record["position"]: record
        for record in map(json.loads, (pack / "export.jsonl").read_text().splitlines())
    }
    with open_app(store) as app:
        evaluated = [target for target in app.targets() if target.evaluations]
    assert evaluated
    for target in evaluated:
        text = (pack / f"target-{target.id}.html").read_text(encoding="utf-8")
        for actual in target.evaluations[-1].actuals:
            for source in actual.source_event_ids:
                found = [
                    r for r in exported.values() if r["originator_id"] and source == _event_id(r)
                ]
                assert len(found) == 1, source
                assert f"{found[0]['position']} {found[0]['event']}" in text


def _event_id(record: dict[str, Any]) -> Any:
    from uuid import UUID

    from kam_domain.aggregates.base import event_id

    return event_id(UUID(record["originator_id"]), int(record["originator_version"]))


# -- --at ----------------------------------------------------------------------------------------


def test_at_a_moment_the_pack_shows_the_records_as_they_stood_then_beside_the_whole_log(
    store: str, tmp_path: Path, pack: Path
) -> None:
    """With --at mid-quarter nothing is evaluated yet and the scorecard says so, while the
    verification and the export still cover the whole log."""
    output = tmp_path / "mid"
    argv = ["report", "pack", "--store", store, "--output", str(output), "--at", MID_QUARTER]

    status = main(argv)

    found = summary(output)
    assert status == 0
    assert found["at"] == MID_QUARTER
    assert found["export"] == summary(pack)["export"]
    assert found["targets"] == summary(pack)["targets"]
    assert "Evaluation 1" not in "".join(p.read_text() for p in output.glob("target-*.html"))
    assert "Evaluation 1" in "".join(p.read_text() for p in pack.glob("target-*.html"))
    assert "not evaluated" in (output / "scorecard-2026-Q1.html").read_text()
    assert f"as of {MID_QUARTER[:10]}" in (output / "index.html").read_text()


# -- refusals ------------------------------------------------------------------------------------


def test_a_directory_that_holds_files_is_refused_unless_forced(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An output directory with a file in it is refused (status 1, named, nothing written);
    --force replaces a pack written there before and leaves the other file alone."""
    output = tmp_path / "out"
    output.mkdir()
    (output / "notes.txt").write_text("mine")

    refused = main(["report", "pack", "--store", store, "--output", str(output)])
    _, err = capsys.readouterr()
    untouched = sorted(path.name for path in output.iterdir())
    forced = main(["report", "pack", "--store", store, "--output", str(output), "--force"])
    (output / "stale.html").write_text("x")
    lines = (output / MANIFEST).read_text().splitlines()
    (output / MANIFEST).write_text("\n".join([*lines, "0" * 64 + "  stale.html"]) + "\n")
    again = main(["report", "pack", "--store", store, "--output", str(output), "--force"])

    assert refused == 1
    assert "is not empty" in err
    assert "--force" in err
    assert untouched == ["notes.txt"]
    assert (forced, again) == (0, 0)
    assert (output / "notes.txt").read_text() == "mine"
    assert not (output / "stale.html").exists()
    assert (output / "index.html").is_file()


def test_a_missing_output_or_a_malformed_moment_is_a_usage_error(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --output, or with --at that is no moment, argparse refuses with status 2."""
    for argv in (
        ["report", "pack", "--store", store],
        ["report", "pack", "--store", store, "--output", str(tmp_path / "x"), "--at", "soon"],
    ):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
    assert not (tmp_path / "x").exists()
    capsys.readouterr()


def test_a_signed_tree_head_given_is_checked_and_put_in_the_pack(
    store: str, tmp_path: Path
) -> None:
    """A head signed by kam audit checkpoint --key is checked against the store and shipped
    with its public key and the standard-library verifier."""
    from kam_domain.audit.signing import generate_key_pair

    key, public = tmp_path / "signer.key", tmp_path / "signer.pub"
    generate_key_pair(key, public)
    head = tmp_path / "head.json"
    argv = ["audit", "checkpoint", "--store", store, "--key", str(key), "--output", str(head)]
    assert main(argv) == 0
    output = tmp_path / "signed"

    status = main(
        [
            "report", "pack", "--store", store, "--output", str(output),
            "--signed-head", str(head), "--public-key", str(public),
        ]
    )  # fmt: skip

    assert status == 0
    assert summary(output)["signed_tree_head"]["agrees"] is True
    assert {"signed-tree-head.json", "public-key.pub", "verifier.py"} <= {
        path.name for path in output.iterdir()
    }
    assert "the store agrees with it" in (output / "verification.html").read_text()


# -- in the browser ------------------------------------------------------------------------------


def test_the_console_check_sees_an_error_when_a_page_has_one(tmp_path: Path) -> None:
    """A page whose policy refuses its image reports an error to the console, and the
    browser helper collects it: a silent console is evidence, not an unread log."""
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><meta http-equiv="Content-Security-Policy" content="default-src'
        ' \'none\'"><img src="missing.png">'
    )

    with launched(tmp_path / "profile") as browser:
        loaded = browser.load(page.as_uri())

    assert loaded.errors


def test_every_page_renders_without_console_errors_with_its_charts(
    pack: Path, tmp_path: Path, record_property: Any
) -> None:
    """Headless Chromium loads every page of the pack with no console error, the scorecard
    with its charts; screenshots of three pages are saved and their paths recorded."""
    shots = []
    with launched(tmp_path / "profile") as browser:
        loaded = {page.name: browser.load(page.as_uri()) for page in pages(pack)}
        for name in ("index.html", "discounts.html", "scorecard-2026-Q1.html"):
            browser.load((pack / name).as_uri())
            shots.append(browser.screenshot(tmp_path / name.replace(".html", ".png")))

    errors = {name: page.errors for name, page in loaded.items() if page.errors}
    assert errors == {}
    scorecard = loaded["scorecard-2026-Q1.html"].dom
    assert scorecard.count("<svg") >= 4
    assert scorecard.count("<rect") > 10
    assert "Audit pack" in loaded["index.html"].dom
    for shot in shots:
        assert shot.stat().st_size > 10_000
        record_property(f"screenshot {shot.stem}", str(shot))
        print(f"screenshot: {shot}")


# -- PostgreSQL, read only -----------------------------------------------------------------------


@pytest.fixture(name="pg_store")
def fixture_pg_store() -> Iterator[str]:
    url = postgres_server.fresh_store_url()
    yield url
    postgres_server.drop_schema(url)


def test_on_postgresql_under_a_select_only_role_the_pack_is_written_and_nothing_changes(
    pg_store: str, tmp_path: Path
) -> None:
    """Given the demo in a PostgreSQL schema, a role granted only USAGE and SELECT writes the
    pack; no table, row or schema changed, the export verifies, and every page renders without
    a console error."""
    build(pg_store)
    schema = postgres_server.schema_of(pg_store)
    role = f"kam_pack_{uuid4().hex[:10]}"
    with postgres_server.connect(pg_store) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'reads-only'")
        conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}")
    reader = re.sub(r"://[^@/]*@", f"://{role}:reads-only@", pg_store, count=1)
    before = _tables(pg_store), _schemas(pg_store)
    output = tmp_path / "pack"
    try:
        status = main(["report", "pack", "--store", reader, "--output", str(output)])
    finally:
        with postgres_server.connect(pg_store) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE IF EXISTS {role}")

    assert status == 0
    assert (_tables(pg_store), _schemas(pg_store)) == before
    assert summary(output)["store"] == "postgresql"
    assert summary(output)["verification"]["intact"] is True
    assert verify_export(output, summary(output)["export"]["checkpoint"]).returncode == 0
    assert "reads-only" not in "".join(p.read_text() for p in output.iterdir())
    with launched(tmp_path / "profile") as browser:
        errors = {p.name: browser.load(p.as_uri()).errors for p in pages(output)}
    assert {name: found for name, found in errors.items() if found} == {}


def _tables(url: str) -> dict[str, str]:
    schema = postgres_server.schema_of(url)
    names = postgres_server.rows(
        url, "SELECT tablename FROM pg_tables WHERE schemaname = %s", params=(schema,)
    )
    return {
        name: postgres_server.rows(
            url,
            "SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {}.{} AS t",
            schema,
            name,
        )[0][0]
        for (name,) in sorted(names)
    }


def _schemas(url: str) -> list[str]:
    return sorted(name for (name,) in postgres_server.rows(url, "SELECT nspname FROM pg_namespace"))
