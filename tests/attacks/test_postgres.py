"""The same attacks on PostgreSQL, with psycopg, in a schema of their own."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

from kam_domain.ledger import GENESIS, chain_link, state_digest
from tests.attacks.conftest import kam

psycopg = pytest.importorskip("psycopg")
SERVER = "postgresql://postgres@127.0.0.1:5432/test"
AT = "2026-04-20T00:00:00+08:00"


@pytest.fixture
def schema() -> Iterator[str]:
    name = f"atk_{uuid.uuid4().hex[:10]}"
    try:
        psycopg.connect(SERVER).close()
    except psycopg.OperationalError:
        pytest.skip("no PostgreSQL at 127.0.0.1:5432")
    result = kam("demo", "--store", f"{SERVER}?schema={name}")
    assert result.returncode == 0, result.stderr
    yield name
    with psycopg.connect(SERVER, autocommit=True) as db:
        db.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def store(schema: str) -> str:
    return f"{SERVER}?schema={schema}"


def counts(schema: str, *extra: str) -> dict[str, int] | None:
    """The exceptions report's counts; None when it refused a contradicted as-of index."""
    result = kam("audit", "exceptions", "--store", store(schema), "--format", "json", *extra)
    if result.returncode == 1 and "as-of index" in result.stderr:
        return None
    assert result.returncode == 0, result.stderr
    counts: dict[str, int] = json.loads(result.stdout)["counts"]
    return counts


def test_postgres_asof_rows_moved_hide_overdue_invoices(schema: str) -> None:
    """As-of rows moved on PostgreSQL never change the report in silence: refused, or caught."""
    before = counts(schema, "--at", AT)
    with psycopg.connect(SERVER, autocommit=True) as db:
        db.execute(
            f"UPDATE \"{schema}\".kam_events_asof SET timestamp = timestamp + interval '400 days' "
            f"WHERE originator_version >= 8 AND originator_id IN (SELECT originator_id FROM "
            f"\"{schema}\".kam_events WHERE topic LIKE '%ClientAccount.Registered' "
            f"AND convert_from(state, 'UTF8') LIKE '%Jinling Steel%')"
        )
    after = counts(schema, "--at", AT)
    verified = kam("audit", "verify", "--store", store(schema))
    # Refused (None), unchanged, or caught by verify: never a different answer in silence.
    assert after is None or after == before or verified.returncode == 3, (before, after)


def test_postgres_policy_price_altered_and_rechained_is_caught_by_replay(schema: str) -> None:
    """A policy's approval edited on PostgreSQL, links recomputed, is a replay divergence."""
    with psycopg.connect(SERVER, autocommit=True) as db:
        table = f'"{schema}".kam_events'
        [(position, raw)] = db.execute(
            f"SELECT notification_id, state FROM {table} WHERE topic LIKE "
            "'%Project.DiscountApproved' AND position('price_approval@1' in "
            "convert_from(state, 'UTF8')) > 0"
        ).fetchall()
        fields = json.loads(bytes(raw))
        fields["price"]["_data_"]["amount"]["_data_"] = "1880000.00"
        forged = json.dumps(fields, separators=(",", ":")).encode()
        db.execute(f"UPDATE {table} SET state = %s WHERE notification_id = %s", (forged, position))
        previous = GENESIS
        for pos, identity, version, topic, state in db.execute(
            f"SELECT notification_id, originator_id, originator_version, topic, state FROM {table} "
            "ORDER BY notification_id"
        ).fetchall():
            previous = chain_link(
                previous, pos, str(identity), version, topic, state_digest(bytes(state))
            )
            db.execute(
                f'UPDATE "{schema}".kam_events_chain SET link = %s WHERE position = %s',
                (previous, pos),
            )
    # Links recomputed in the first format no longer pass verify (the chain binds written
    # times now); replay catches the edit on its own, whatever the chain says.
    replay = kam("replay", "--store", store(schema))
    assert replay.returncode == 3, replay.stdout
