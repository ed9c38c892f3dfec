"""Every readable column of an export is checked by the guide's standard-library verifier.

An auditor takes an export away and checks it with docs/audit.md's ``verify_export.py``
alone. Editing any column of any row — the actor, the times, the topic, the ids, the stored
bytes, an added or a dropped column — must make that script fail, naming the row (by its
position) and, where the column is not sealed into the link itself, the column.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam_domain.application import KamApplication
from kam_domain.audit.export import COLUMNS, export_records, write_csv, write_jsonl
from kam_domain.audit.records import open_app
from kam_domain.storage import new_cipher_key
from kam_domain.values import Actor
from tests.cli.test_audit import guide_script
from tests.conftest import build_org, key_account
from tests.policy_acts import act_as_policy
from tests.support import at

#: Columns the link seals directly: an edit breaks the chain at that row.
SEALED = {"position", "originator_id", "originator_version", "topic", "state_sha256", "written_us"}
#: Columns the verifier recomputes from the stored body (the written time: from the link's
#: written_us): an edit is named with its column.
READABLE = {
    "event",
    "timestamp",
    "written_at",
    "actor",
    "actor_kind",
    "policy",
    "policy_version",
    "causation_id",
    "correlation_id",
}


def verifier() -> Callable[[str], tuple[str | None, int]]:
    """The guide's ``verify`` function, loaded as an auditor would save and run it."""
    namespace: dict[str, Any] = {"__name__": "verify_export"}
    exec(compile(guide_script(), "verify_export.py", "exec"), namespace)
    found: Callable[[str], tuple[str | None, int]] = namespace["verify"]
    return found


VERIFY = verifier()


def build(store: str, **options: Any) -> None:
    """A team, a key account assigned by hand and by a policy (with its decision record)."""
    with KamApplication(store, run_policies=False, **options) as app:
        record(app)


def record(app: KamApplication) -> None:
    org = build_org(app)
    account = key_account(app, org, "Huaxia Mobile")
    app.assign_kam(account, org.director, org.kam2, reason="rebalanced", at=at(10))
    # As the engine records a policy's act (the facade refuses a policy actor).
    kam = app.credentials(org.team_id, org.kam, at(20))
    act_as_policy(
        app,
        account,
        Actor.policy("assignment", 2),
        lambda record, meta: record.assign_kam(meta, None, kam, reason="load"),
        at(20),
    )


def exported(store: str, **options: Any) -> list[dict[str, Any]]:
    with open_app(store) if not options else _reading(store, **options) as app:
        return list(export_records(app))


def _reading(store: str, **options: Any) -> Any:
    return KamApplication(store, read_only=True, run_policies=False, **options)


def as_jsonl(records: list[dict[str, Any]], path: Path) -> str:
    with path.open("w", encoding="utf-8") as out:
        write_jsonl(records, out)
    return str(path)


def as_csv(records: list[dict[str, Any]], path: Path) -> str:
    with path.open("w", encoding="utf-8", newline="") as out:
        write_csv(records, out)
    return str(path)


@pytest.fixture(name="records", scope="module")
def fixture_records(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The export of a small SQLite store, as records."""
    path = tmp_path_factory.mktemp("export") / "kam.db"
    build(f"sqlite:///{path}")
    return exported(f"sqlite:///{path}")


def policy_row(records: list[dict[str, Any]]) -> int:
    """The index of the row a policy actor recorded (every readable column is filled)."""
    return next(i for i, record in enumerate(records) if record["policy"])


def test_an_untouched_export_verifies_on_every_backend(store: str, tmp_path: Path) -> None:
    """Given an export of a store on any backend, the verifier finds it intact, as JSON lines
    and as CSV, with every column checked against the stored bytes."""
    # One application: a memory store lives as long as the application that holds it.
    with KamApplication(store, run_policies=False) as app:
        record(app)
        records = list(export_records(app))

    assert VERIFY(as_jsonl(records, tmp_path / "log.jsonl")) == (None, 0)
    assert VERIFY(as_csv(records, tmp_path / "log.csv")) == (None, 0)
    assert all(record["state"] and not record["body"] for record in records)
    assert set(records[0]) == set(COLUMNS)


@pytest.mark.parametrize("column", sorted(READABLE))
@pytest.mark.parametrize("form", ["jsonl", "csv"])
def test_an_edited_readable_column_is_named_with_its_row(
    column: str, form: str, records: list[dict[str, Any]], tmp_path: Path
) -> None:
    """Given an export whose readable column was edited in one row, the verifier names that
    row's position and the column."""
    edited = [dict(record) for record in records]
    row = edited[policy_row(edited)]
    row[column] = "member:00000000-0000-0000-0000-000000000000" if column == "actor" else "X"
    write = as_jsonl if form == "jsonl" else as_csv

    problem, _ = VERIFY(write(edited, tmp_path / f"log.{form}"))

    assert problem is not None
    assert problem.startswith(f"position {row['position']}, column {column}: ")


@pytest.mark.parametrize("column", sorted(SEALED | {"previous_link", "link"}))
def test_an_edited_sealed_column_breaks_the_chain_at_its_row(
    column: str, records: list[dict[str, Any]], tmp_path: Path
) -> None:
    """Given an export whose position, ids, topic, digest or links were edited in one row, the
    verifier names that row."""
    edited = [dict(record) for record in records]
    index = policy_row(edited)
    row = edited[index]
    value = str(row[column])
    row[column] = value[:-1] + ("0" if value[-1] != "0" else "1")

    problem, _ = VERIFY(as_csv(edited, tmp_path / "log.csv"))

    assert problem is not None
    assert problem.startswith(f"position {row['position']}, "), problem


def test_edited_stored_bytes_or_body_and_changed_column_sets_are_named(
    records: list[dict[str, Any]], tmp_path: Path
) -> None:
    """Given a row whose stored bytes, body or set of columns was changed, the verifier names
    the row and what is wrong."""
    index = policy_row(records)
    position = records[index]["position"]
    cases = {
        "state": {"state": records[index - 1]["state"]},
        "body": {"body": '{"actor": "forged"}'},
        "added": {"approved_by": "the CFO"},
    }
    problems = {}
    for name, change in cases.items():
        edited = [dict(record) for record in records]
        edited[index].update(change)
        problems[name] = VERIFY(as_jsonl(edited, tmp_path / f"{name}.jsonl"))[0]
    dropped = [dict(record) for record in records]
    del dropped[index]["actor"]
    problems["dropped"] = VERIFY(as_jsonl(dropped, tmp_path / "dropped.jsonl"))[0]

    assert problems["state"] == f"position {position}, column state: does not match its digest"
    assert problems["body"] == f"position {position}, column body: differs from the stored bytes"
    assert "extra ['approved_by']" in str(problems["added"])
    assert "missing ['actor']" in str(problems["dropped"])


@given(data=st.data())
def test_any_single_edit_of_a_csv_export_is_caught_naming_its_row(
    records: list[dict[str, Any]], data: st.DataObject
) -> None:
    """Whatever cell of whatever row is changed to whatever other text, the verifier fails and
    names the position the edited row shows."""
    index = data.draw(st.integers(0, len(records) - 1), label="row")
    column = data.draw(st.sampled_from(COLUMNS), label="column")
    old = str(records[index][column])
    text = st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=20)
    new = data.draw(text.filter(lambda value: value != old), label="new")
    edited = [dict(record) for record in records]
    edited[index][column] = new
    out = io.StringIO()
    write_csv(edited, out)

    problem = _verify_text(out.getvalue(), ".csv")

    assert problem is not None
    assert problem.startswith(f"position {edited[index]['position']}"), problem


def test_a_compressed_store_export_is_checked_through_its_decompressed_bytes(
    tmp_path: Path,
) -> None:
    """Given a compressed store, its export verifies (bytes decompressed with zlib) and an
    edited actor is still named."""
    store = f"sqlite:///{tmp_path / 'kam.db'}"
    build(store, compress=True)
    records = exported(store, compress=True)
    index = policy_row(records)
    records[index]["actor"] = "system:company"

    assert VERIFY(as_jsonl(records[:index], tmp_path / "head.jsonl")) == (None, 0)
    problem, _ = VERIFY(as_jsonl(records, tmp_path / "log.jsonl"))
    assert problem is not None
    assert problem.startswith(f"position {records[index]['position']}, column actor: ")


def test_an_encrypted_store_export_checks_columns_against_its_decrypted_bodies(
    tmp_path: Path,
) -> None:
    """Given an encrypted store, its export carries each decrypted body: the verifier checks
    every column against it, and says how many bodies only the key can tie to the chain."""
    key = new_cipher_key()
    store = f"sqlite:///{tmp_path / 'kam.db'}"
    build(store, cipher_key=key)
    records = exported(store, cipher_key=key)
    index = policy_row(records)
    intact = VERIFY(as_jsonl(records, tmp_path / "log.jsonl"))
    records[index]["actor"] = "system:company"

    problem, _ = VERIFY(as_jsonl(records, tmp_path / "edited.jsonl"))

    assert intact == (None, len(records))
    assert all(json.loads(record["body"])["timestamp"] for record in records)
    assert problem is not None
    assert problem.startswith(f"position {records[index]['position']}, column actor: ")


def _verify_text(text: str, suffix: str) -> str | None:
    # Hypothesis runs many examples per test: a temporary folder of its own for each.
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export{suffix}"
        path.write_text(text, encoding="utf-8")
        problem, _ = VERIFY(str(path))
    return problem


def test_csv_and_jsonl_exports_hold_the_same_columns(records: list[dict[str, Any]]) -> None:
    """The CSV header is the export's columns, in order."""
    out = io.StringIO()
    write_csv(records, out)

    assert next(csv.reader(io.StringIO(out.getvalue()))) == list(COLUMNS)
