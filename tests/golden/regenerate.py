"""Write a release's golden stores: run by hand for a new release, never by the test suite.

    python -m tests.golden.regenerate tests/golden/v0_1_0

writes, into a directory named after the release (the stores of earlier releases are kept
beside it, untouched: every later release must keep reading them):

- ``demo.sqlite.gz``: ``kam demo --seed 1`` into a SQLite store, gzipped;
- ``coverage.sqlite.gz``: the coverage history (tests/golden/story.py, every event class),
  gzipped;
- ``coverage.postgres.jsonl``: the same history recorded on PostgreSQL, every row of every
  table of its schema as a JSON line (``{"table": ..., "row": {...}}``, bytes in base64);
- ``coverage.postgres.layout.sql``: the tables, types and functions of that schema as the
  release creates them (``pg_dump --schema-only``, the schema's name as ``__SCHEMA__``), so the
  rows are loaded into the layout that wrote them, not the current one;
- ``answers.json``: for each store, the questions asked of it and the answers it gave
  (tests/golden/answers.py), which the tests ask again of every later release.

PostgreSQL comes from ``KAM_TEST_POSTGRES_URL`` (default: the local server, database ``test``).
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from kam_domain.application import KamApplication
from kam_domain.policies.registry import PolicyRegistry
from tests.golden import story
from tests.golden.answers import Questions, ask, cli
from tests.golden.stores import LAYOUT_SCHEMA
from tests.postgres_server import (
    connect,
    connect_kwargs,
    drop_schema,
    schema_of,
    server_url,
    with_query,
)

__all__ = ["STORY_QUESTIONS", "main"]

STORY_QUESTIONS = Questions(
    account="Client 1",
    team_id=str(story.ids("team")),
    target_id=str(story.ids("target kam")),
    moments=("2026-01-08T12:00:00+00:00", "2026-02-20T00:00:00+00:00", "2026-04-10T00:00:00+00:00"),
    exceptions_at="2026-02-20T00:00:00+00:00",
)


def story_app(store: str) -> KamApplication:
    """The application the coverage history is played through: the library's policies and
    one that fails once."""
    registry = PolicyRegistry.default()
    registry.register(story.Flaky)
    story.Flaky.failing = True
    return KamApplication(store, policies=registry)


def write_demo(path: Path) -> None:
    status, text = cli("demo", "--store", f"sqlite:///{path}", "--seed", "1")
    if status != 0:
        raise SystemExit(f"kam demo failed: {text}")


def write_story(store: str) -> None:
    app = story_app(store)
    try:
        story.play(app)
    finally:
        app.close()


def demo_questions(path: Path) -> Questions:
    """Questions for the demo store: its first account by name, its team, the team's target."""
    app = KamApplication(f"sqlite:///{path}", read_only=True)
    try:
        [team] = app.teams()
        account = min(app.accounts(team.id), key=lambda a: a.name)
        target = next(t for t in app.targets(team.id) if t.scope.kind.value == "team")
    finally:
        app.close()
    return Questions(
        account=account.name,
        team_id=str(team.id),
        target_id=str(target.id),
        moments=(
            "2026-01-10T00:00:00+00:00",
            "2026-02-15T12:00:00+00:00",
            "2026-04-20T00:00:00+00:00",
        ),
        exceptions_at="2026-03-15T00:00:00+00:00",
    )


def dump_schema(url: str, out: Path) -> None:
    """Every row of every table of the store's schema, as JSON lines, in a stable order."""
    schema = schema_of(url)
    lines: list[str] = []
    with connect(url) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                "ORDER BY table_name",
                (schema,),
            ).fetchall()
        ]
        for table in tables:
            cursor = conn.execute(f'SELECT * FROM "{schema}"."{table}" ORDER BY 1, 2')
            columns = [column.name for column in cursor.description or ()]
            for values in cursor.fetchall():
                row = {c: _jsonable(v) for c, v in zip(columns, values, strict=True)}
                lines.append(json.dumps({"table": table, "row": row}, sort_keys=True))
    out.write_text("\n".join(lines) + "\n")


def dump_layout(url: str, out: Path) -> None:
    """The schema's layout as ``pg_dump`` prints it, without ownership, session settings or
    comments, the schema's name replaced by ``__SCHEMA__``."""
    parts = connect_kwargs(url)
    schema = schema_of(url)
    printed = subprocess.run(
        [
            "pg_dump",
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "-n",
            schema,
            "-h",
            parts["host"],
            "-p",
            str(parts["port"]),
            "-U",
            parts["user"],
            parts["dbname"],
        ],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PGPASSWORD": parts["password"]},
    ).stdout
    kept = [
        line
        for line in printed.splitlines()
        if line.strip()
        and not line.startswith(("--", "SET ", "SELECT pg_catalog.set_config", "\\"))
    ]
    out.write_text("\n".join(kept).replace(schema, LAYOUT_SCHEMA) + "\n")


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, datetime):
        return {"timestamptz": value.isoformat()}
    if isinstance(value, UUID):
        return {"uuid": str(value)}
    if isinstance(value, Decimal):
        return str(value)
    return value


def gzip_to(source: Path, target: Path) -> None:
    with source.open("rb") as raw, gzip.GzipFile(target, "wb", mtime=0) as packed:
        shutil.copyfileobj(raw, packed)


def main(argv: list[str]) -> int:
    [directory] = argv
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=False)
    answers: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch:
        demo = Path(scratch) / "demo.sqlite"
        write_demo(demo)
        questions = demo_questions(demo)
        answers["demo.sqlite.gz"] = {
            "questions": questions.to_json(),
            "answers": ask(f"sqlite:///{demo}", questions),
        }
        gzip_to(demo, out / "demo.sqlite.gz")

        coverage = Path(scratch) / "coverage.sqlite"
        write_story(f"sqlite:///{coverage}")
        answers["coverage.sqlite.gz"] = {
            "questions": STORY_QUESTIONS.to_json(),
            "answers": ask(f"sqlite:///{coverage}", STORY_QUESTIONS),
        }
        gzip_to(coverage, out / "coverage.sqlite.gz")

    url = with_query(server_url(), schema=f"kamgolden_{uuid4().hex[:12]}")
    try:
        write_story(url)
        answers["coverage.postgres.jsonl"] = {
            "questions": STORY_QUESTIONS.to_json(),
            "answers": ask(url, STORY_QUESTIONS),
        }
        dump_schema(url, out / "coverage.postgres.jsonl")
        dump_layout(url, out / "coverage.postgres.layout.sql")
    finally:
        drop_schema(url)
    (out / "answers.json").write_text(json.dumps(answers, indent=1, sort_keys=True) + "\n")
    # The event classes of this release: its coverage history holds one of each; a class added
    # later is held by the next release's golden stores.
    (out / "topics.json").write_text(json.dumps(sorted(release_topics()), indent=1) + "\n")
    return 0


def release_topics() -> set[str]:
    """The library's own concrete event (and snapshot) topics, as registered now."""
    from kam_domain.topics import LIBRARY_AGGREGATES, event_topics

    abstract = {f"{path}.{base}" for path in LIBRARY_AGGREGATES for base in ("Event", "Created")}
    own = {t for t in event_topics() if t.split(":")[0].startswith("kam_domain.")}
    return own - abstract


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
