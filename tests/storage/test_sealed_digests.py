"""Links as this library has always laid them out: a fixed history sealed on each backend.

Stored chains are forever: an existing store must verify unchanged after any change to how
links are computed or written. The digests below were recorded from the adapters before they
shared the sealing core (:mod:`kam_domain.sealing`); each backend must still give them, in
format 2 (written times pinned) and in format 1 (a chain created over events already stored).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import InfrastructureFactory, StoredEvent, Tracking
from eventsourcing.utils import Environment

from kam_domain import sealing
from kam_domain.application import KamApplication
from kam_domain.ledger import ChainFormat
from kam_domain.storage import resolve_store, store_settings
from tests import postgres_server

#: The first written time (2026-01-01, in microseconds since 1970); each write adds 7.
WRITTEN = 1_767_225_600_000_000
A = UUID("00000000-0000-4000-8000-00000000000a")
B = UUID("00000000-0000-4000-8000-00000000000b")
C = UUID("00000000-0000-4000-8000-00000000000c")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TOPIC = "kam_domain.aggregates.team:Team.Formed"
BATCHES = [
    [StoredEvent(A, 1, TOPIC, b'{"a":1}'), StoredEvent(A, 2, TOPIC, b'{"a":2}')],
    [StoredEvent(B, 1, TOPIC, b"\x00\xff binary"), StoredEvent(A, 3, TOPIC, b"")],
    [StoredEvent(C, 1, "kam_domain.policies.records:PolicyDecision.Made", b"{}" * 50)],
]
#: One more event, written after the chain adopted the batches above.
AFTER = [StoredEvent(C, 2, TOPIC, b"after adoption")]

#: The links of BATCHES written by this library, in format 2.
SEALED = [
    "68ae85c5457c8745990d347233e1366ca53e1dc2fe5974b038cf635b64e12b8a",
    "82398c7ae83f5b5ab035b34c47472bf8d6b0f986101b1984e7541d94cf725247",
    "bf622ecc1e0122f709bf59c41d46b1174ef86cc2094e863c47d0f4e412774d75",
    "1d0eb925b31de2eb0fd165c5289e73a6923255436ff9244cae1c88a4f8ab571f",
    "74de3872aa44f17570704316d656ef3b8043677f848bda5c178e8795d895fb87",
]
#: The links of BATCHES stored before the chain existed (format 1), then of AFTER (format 2).
ADOPTED = [
    "21fd496fa55235b5a8491862a07e52baf9efed8ca807e49dd6a608013240278c",
    "17aa230135dee20f577025f7fa492ea44c3b69c0a10acbb620973e493eaea4f6",
    "bb3907ea41f5e6372928517e0883748e7b7dde73dff2ce5c2d640bf1bbf15797",
    "ba8831469faf2b1500fcfe82655ffadb9d3b3fe6c6c3fdb7e9680d7207e79b49",
    "7a3106ea789d97f12f19324cf6875e03d77dda742d1a330e7183153005150fca",
    "8f53bc9021f6d0e1ad64d7f29a14c9ff160080b8ecc100c2e2b214fa3739292a",
]


@pytest.fixture(autouse=True)
def fixture_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Written times that do not depend on the clock: the first write's, then 7 µs per write."""
    monkeypatch.setattr(sealing, "written_now", lambda last: WRITTEN if last is None else last + 7)


@pytest.fixture(name="sqlite_url")
def fixture_sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file's URL."""
    return f"sqlite:///{tmp_path / 'kam.db'}"


@pytest.fixture(name="pg_url")
def fixture_pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema's URL, dropped afterwards."""
    url = postgres_server.fresh_store_url()
    yield url
    postgres_server.drop_schema(url)


def factory(url: str, module: str | None = None) -> InfrastructureFactory[Any]:
    parsed, adapter = resolve_store(url)
    settings = store_settings(parsed, adapter)
    if module is not None:
        settings["PERSISTENCE_MODULE"] = module
    return InfrastructureFactory.construct(Environment(KamApplication.name, settings))


def timestamps(batch: list[StoredEvent], hours: int) -> dict[tuple[UUID, int], datetime]:
    return {
        (UUID(str(e.originator_id)), e.originator_version): T0
        + timedelta(hours=hours, minutes=e.originator_version)
        for e in batch
    }


def write(url: str, batches: list[list[StoredEvent]], *, process: bool = False) -> Any:
    """Write ``batches`` through the adapter's recorder; what the recorder then reads back."""
    opened = factory(url)
    recorder: Any = opened.process_recorder() if process else opened.application_recorder()
    for hours, batch in enumerate(batches):
        extra: dict[str, Any] = {"tracking": Tracking("upstream", hours + 1)} if process else {}
        recorder.insert_events(batch, timestamps=timestamps(batch, hours), **extra)
    found = (
        [link.link.hex() for link in recorder.select_links(None, 100)],
        [(link.position, link.written_at) for link in recorder.select_links(None, 100)],
        list(recorder.chain_formats()),
        [entry.position for entry in recorder.timeline(A)],
        recorder.version_at(A, T0 + timedelta(hours=1)),
    )
    opened.close()
    return found


def adopted(url: str, module: str) -> Any:
    """BATCHES stored by eventsourcing's own recorder, then the store opened by the adapter."""
    plain = factory(url, module)
    recorder = plain.application_recorder()
    for batch in BATCHES:
        recorder.insert_events(batch)
    plain.close()
    return write(url, [AFTER])


def create_schema(url: str) -> None:
    """The store's schema, made empty beforehand (eventsourcing's factory creates none)."""
    import psycopg
    from psycopg.sql import SQL, Identifier

    with psycopg.connect(**postgres_server.connect_kwargs(url), autocommit=True) as conn:
        schema = Identifier(postgres_server.schema_of(url))
        conn.execute(SQL("CREATE SCHEMA {}").format(schema))


@pytest.mark.parametrize("process", [False, True], ids=["application", "process"])
@pytest.mark.parametrize("backend", ["memory", "sqlite", "pg"])
def test_a_fixed_history_is_sealed_into_the_links_it_always_was(
    backend: str, process: bool, request: pytest.FixtureRequest
) -> None:
    """Each backend seals the fixed history into the recorded digests, indexed alike."""
    url = "memory://" if backend == "memory" else request.getfixturevalue(f"{backend}_url")

    links, written, formats, positions, version = write(url, BATCHES, process=process)

    assert links == SEALED
    assert [w for _, w in written] == [WRITTEN, WRITTEN, WRITTEN + 7, WRITTEN + 7, WRITTEN + 14]
    assert formats == [ChainFormat(2, 1, None)]
    assert positions == [1, 2, 4]
    assert version == 2


def test_events_stored_before_the_chain_are_adopted_into_the_links_they_always_were_sqlite(
    sqlite_url: str,
) -> None:
    """SQLite seals events stored without a chain in format 1, then goes on in format 2."""
    links, written, formats, _, _ = adopted(sqlite_url, "eventsourcing.sqlite")

    assert links == ADOPTED
    assert [w for _, w in written] == [None] * 5 + [WRITTEN]
    assert formats == [ChainFormat(1, 1, 5), ChainFormat(2, 6, None)]


def test_events_stored_before_the_chain_are_adopted_into_the_links_they_always_were_postgres(
    pg_url: str,
) -> None:
    """PostgreSQL seals events stored without a chain in format 1, then goes on in format 2."""
    create_schema(pg_url)

    links, written, formats, _, _ = adopted(pg_url, "eventsourcing.postgres")

    assert links == ADOPTED
    assert [w for _, w in written] == [None] * 5 + [WRITTEN]
    assert formats == [ChainFormat(1, 1, 5), ChainFormat(2, 6, None)]
