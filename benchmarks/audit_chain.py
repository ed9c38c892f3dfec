"""What the hash chain and the as-of index cost, and how fast ``kam audit verify`` reads.

    python benchmarks/audit_chain.py [EVENTS]   (default 100000)

Writes EVENTS events (300-byte states, 10 per write, 1000 records) to a fresh SQLite file twice,
through this library's recorder and through eventsourcing's plain one, then verifies the first.
Prints write times, bytes per event of the chain and index tables (SQLite's dbstat), and verify
throughput.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from eventsourcing.persistence import InfrastructureFactory, StoredEvent
from eventsourcing.utils import Environment

from kam_domain.audit import verify_store
from kam_domain.ledger import TIMESTAMPS

BATCH = 10
RECORDS = 1000
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def write(path: Path, module: str, events: int) -> float:
    env = Environment("kam", {"PERSISTENCE_MODULE": module, "SQLITE_DBNAME": str(path)})
    factory = InfrastructureFactory.construct(env)
    recorder = factory.process_recorder()
    ids = [uuid4() for _ in range(RECORDS)]
    versions = dict.fromkeys(ids, 0)
    state = os.urandom(150).hex().encode()
    started = time.perf_counter()
    for start in range(0, events, BATCH):
        batch, timestamps = [], {}
        for n in range(start, min(start + BATCH, events)):
            record = ids[n % RECORDS]
            versions[record] += 1
            batch.append(StoredEvent(record, versions[record], "bench:Happened", state))
            timestamps[(record, versions[record])] = T0 + timedelta(seconds=n)
        recorder.insert_events(batch, **{TIMESTAMPS: timestamps})
    elapsed = time.perf_counter() - started
    factory.close()
    return elapsed


def table_bytes(path: Path) -> dict[str, int]:
    """Bytes of pages per table and index (SQLite's dbstat)."""
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
    return dict(rows)


def main(events: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        sealed, plain = Path(folder) / "sealed.db", Path(folder) / "plain.db"
        sealed_time = write(sealed, "kam_adapters.sqlite:Factory", events)
        plain_time = write(plain, "eventsourcing.sqlite", events)
        sizes = table_bytes(sealed)
        started = time.perf_counter()
        result = verify_store(f"sqlite:///{sealed}?mode=ro")
        verify_time = time.perf_counter() - started
    assert result.intact, result.breach
    assert result.checked == events, result
    print(f"events: {events:,}")
    print(
        f"write, sealed and indexed: {sealed_time:.2f} s; eventsourcing alone: {plain_time:.2f} s"
    )
    chain = sizes.get("stored_events_chain", 0)
    index = sizes.get("stored_events_asof", 0)
    events_bytes = sizes.get("stored_events", 0) + sizes.get("sqlite_autoindex_stored_events_1", 0)
    print(
        f"bytes per event: chain {chain / events:.1f}, as-of index {index / events:.1f}, "
        f"events table and key {events_bytes / events:.1f}"
    )
    print(f"verify: {verify_time:.2f} s, {events / verify_time:,.0f} events/s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
