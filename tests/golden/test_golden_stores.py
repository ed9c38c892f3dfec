"""Every golden store, written by an earlier release, opens, verifies intact, replays without
divergence and answers as it did when it was written."""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kam_domain.topics import LIBRARY_AGGREGATES, event_topics, is_event_topic
from tests.golden.answers import Questions, ask
from tests.golden.stores import load_postgres, recorded, stores, unpack_sqlite
from tests.postgres_server import drop_schema, fresh_store_url, require_driver

SQLITE = dict(stores(".sqlite.gz"))
POSTGRES = dict(stores(".postgres.jsonl"))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def expected(path: Path) -> tuple[Questions, dict[str, Any]]:
    entry = recorded(path.parent)[path.name]
    return Questions.from_json(entry["questions"]), entry["answers"]


def compare(store: str, path: Path) -> None:
    """Ask ``store`` what the release that wrote ``path`` recorded, one answer at a time, so a
    failure names the question."""
    questions, answers = expected(path)
    now = ask(store, questions)
    assert now["verify"]["status"] == 0, now["verify"]
    assert now["verify_deep"]["status"] == 0, now["verify_deep"]
    assert now["replay"]["report"]["divergences"] == []
    for question in ("verify", "verify_deep", "replay", "exceptions", "accountable"):
        assert now[question] == answers[question], f"{path.name}: {question} changed"
    for moment, then in answers["as_of"].items():
        for record, answer in then.items():
            assert now["as_of"][moment][record] == answer, f"{path.name}: {record} at {moment}"
    assert now.keys() == answers.keys()


def test_there_are_golden_stores_of_each_kind() -> None:
    """The suite finds SQLite stores (the demo and the coverage history) and PostgreSQL rows."""
    names = {Path(key).name for key in SQLITE}
    assert {"demo.sqlite.gz", "coverage.sqlite.gz"} <= names
    assert POSTGRES


@pytest.mark.parametrize("path", SQLITE.values(), ids=SQLITE.keys())
def test_a_sqlite_golden_store_verifies_replays_and_answers_as_recorded(
    path: Path, tmp_path: Path
) -> None:
    """A copy of the store verifies intact (deep too), replays with 0 divergences and gives the
    recorded answers; reading it changes neither the copy nor the fixture."""
    fixture = digest(path)
    copy = unpack_sqlite(path, tmp_path)
    before = digest(copy)
    compare(f"sqlite:///{copy}", path)
    assert digest(copy) == before
    assert digest(path) == fixture


@pytest.fixture(name="postgres_url")
def fixture_postgres_url() -> Iterator[str]:
    """A fresh schema on the test server, dropped afterwards."""
    require_driver()
    url = fresh_store_url()
    yield url
    drop_schema(url)


@pytest.mark.parametrize("path", POSTGRES.values(), ids=POSTGRES.keys())
def test_postgresql_golden_rows_load_into_a_fresh_schema_and_answer_as_recorded(
    path: Path, postgres_url: str
) -> None:
    """The recorded rows, loaded into the layout of the release that wrote them, verify intact,
    replay with 0 divergences and give the recorded answers."""
    load_postgres(path, postgres_url)
    compare(postgres_url, path)


def _library_topics() -> set[str]:
    """The library's own event topics: a test's toy aggregates register theirs too."""
    return {t for t in event_topics() if t.split(":")[0].startswith("kam_domain.")}


def _abstract_topics() -> set[str]:
    """The aggregates' own ``Event`` and ``Created`` bases: registered, never recorded."""
    return {f"{path}.{base}" for path in LIBRARY_AGGREGATES for base in ("Event", "Created")}


@pytest.mark.parametrize("path", [p for p in SQLITE.values() if "coverage" in p.name])
def test_the_coverage_history_records_every_event_class(path: Path, tmp_path: Path) -> None:
    """The coverage store holds an event (or snapshot) of every class of the library's own
    aggregates its release had (listed beside it), but their abstract bases: each class's
    stored form is read by these tests."""
    copy = unpack_sqlite(path, tmp_path)
    with contextlib.closing(sqlite3.connect(copy)) as conn:
        stored = {
            topic
            for table in ("stored_events", "stored_snapshots")
            for (topic,) in conn.execute(f"SELECT DISTINCT topic FROM {table}")
        }
    released = set(json.loads((path.parent / "topics.json").read_text()))
    missing = released - stored
    assert not missing, f"no event of these classes in {path.name}: {sorted(missing)}"


def test_every_release_lists_event_classes_the_library_still_registers() -> None:
    """Each release's list of event classes names only classes the library registers now, or
    topics kept for renamed ones: a class is never dropped while stores hold its events."""
    releases = sorted({p.parent for p in SQLITE.values()})
    current = _library_topics() - _abstract_topics()
    for release in releases:
        listed = set(json.loads((release / "topics.json").read_text()))
        gone = {topic for topic in listed - current if not is_event_topic(topic)}
        assert not gone, f"{release.name} holds events of classes no longer registered: {gone}"
