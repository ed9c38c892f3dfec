"""Where the golden stores are, and how a test opens one without touching the fixture.

Each release that wrote golden stores has a directory here (``v0_1_0`` ...); they are kept
forever. A SQLite store is unpacked into a scratch directory; PostgreSQL rows are loaded into
a fresh schema, in the layout the release created (its recorded ``layout.sql``).
"""

from __future__ import annotations

import base64
import gzip
import json
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from tests.postgres_server import connect, schema_of

__all__ = ["GOLDEN", "LAYOUT_SCHEMA", "load_postgres", "recorded", "stores", "unpack_sqlite"]

GOLDEN = Path(__file__).parent
#: What stands for the schema's name in a recorded layout.
LAYOUT_SCHEMA = "__SCHEMA__"


def releases() -> list[Path]:
    """Every release's directory of golden stores, oldest first."""
    return sorted(path.parent for path in GOLDEN.glob("v*/answers.json"))


def stores(suffix: str) -> Iterator[tuple[str, Path]]:
    """(release/name, path) of every golden store whose file name ends with ``suffix``."""
    for release in releases():
        for name in sorted(recorded(release)):
            if name.endswith(suffix):
                yield f"{release.name}/{name}", release / name


def recorded(release: Path) -> dict[str, Any]:
    """The release's questions and answers, by store file name."""
    answers: dict[str, Any] = json.loads((release / "answers.json").read_text())
    return answers


def unpack_sqlite(packed: Path, scratch: Path) -> Path:
    """A copy of the gzipped SQLite store in ``scratch`` (the fixture itself is never opened)."""
    target = scratch / packed.name.removesuffix(".gz")
    with gzip.open(packed, "rb") as source, target.open("wb") as copy:
        shutil.copyfileobj(source, copy)
    return target


def load_postgres(rows: Path, url: str) -> None:
    """Create the release's layout in the fresh schema of ``url`` and insert its rows."""
    from psycopg.sql import SQL, Identifier

    schema = schema_of(url)
    layout = rows.with_name(rows.name.removesuffix(".jsonl") + ".layout.sql").read_text()
    with connect(url) as conn, conn.transaction():
        conn.execute(layout.replace(LAYOUT_SCHEMA, schema))
        for line in rows.read_text().splitlines():
            record = json.loads(line)
            row = {column: _value(value) for column, value in record["row"].items()}
            statement = SQL("INSERT INTO {}.{} ({}) VALUES ({})").format(
                Identifier(schema),
                Identifier(record["table"]),
                SQL(", ").join(Identifier(column) for column in row),
                SQL(", ").join(SQL("%s") for _ in row),
            )
            conn.execute(statement, tuple(row.values()))
        # Rows were inserted with their recorded ids: each sequence continues after them.
        serial = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND column_default LIKE 'nextval%%'",
            (schema,),
        ).fetchall()
        for table, column in serial:
            conn.execute(
                SQL("SELECT setval(pg_get_serial_sequence(%s, %s), max({})) FROM {}.{}").format(
                    Identifier(column), Identifier(schema), Identifier(table)
                ),
                (f'"{schema}"."{table}"', column),
            )


def _value(value: Any) -> Any:
    if isinstance(value, dict):
        [(kind, text)] = value.items()
        if kind == "base64":
            return base64.b64decode(text)
        if kind == "timestamptz":
            return datetime.fromisoformat(text)
        if kind == "uuid":
            return UUID(text)
    return value
