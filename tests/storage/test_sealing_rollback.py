"""A failure while sealing rolls the whole write back and arrives as itself.

eventsourcing's PostgreSQL insert commits before it raises what failed after the events were
inserted; the adapter's insert runs in a transaction of its own instead. The SQL backends are
failed at the write's last step, the as-of index rows, after the events, tracking row and
links; the memory backend, which has nothing to roll back, computes what may fail first.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import InfrastructureFactory, StoredEvent, Tracking
from eventsourcing.utils import Environment

from kam_domain.application import KamApplication
from kam_domain.storage import resolve_store, store_settings
from tests import postgres_server

TOPIC = "kam_domain.aggregates.team:Team.Formed"


class Failed(Exception):
    """Raised by the index hook these tests break."""


def test_a_failure_while_sealing_in_memory_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """In memory, a seal that fails leaves the events, links, index and tracking as they were."""
    opened = InfrastructureFactory.construct(
        Environment(KamApplication.name, store_settings(*resolve_store("memory://")))
    )
    recorder: Any = opened.process_recorder()
    write(recorder, event(), 1)

    def fail(*_: object) -> None:
        raise Failed("the seal refused")

    monkeypatch.setattr(recorder, "_as_read", fail)
    broken = event()
    with pytest.raises(Failed):
        write(recorder, broken, 2)

    assert (recorder.max_notification_id(), recorder.max_link_position()) == (1, 1)
    assert recorder.max_tracking_id("upstream") == 1
    assert recorder.select_events(broken.originator_id) == []


@pytest.fixture(name="recorder", params=["sqlite", "pg"])
def fixture_recorder(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A process recorder of a fresh store on each backend that runs SQL transactions."""
    sqlite = request.param == "sqlite"
    url = f"sqlite:///{tmp_path / 'kam.db'}" if sqlite else postgres_server.fresh_store_url()
    parsed, adapter = resolve_store(url)
    env = Environment(KamApplication.name, store_settings(parsed, adapter))
    factory: InfrastructureFactory[Any] = InfrastructureFactory.construct(env)
    yield factory.process_recorder()
    factory.close()
    if not sqlite:
        postgres_server.drop_schema(url)


def event(version: int = 1) -> StoredEvent:
    """A new record's event."""
    return StoredEvent(originator_id=uuid4(), originator_version=version, topic=TOPIC, state=b"{}")


def write(recorder: Any, stored: StoredEvent, position: int) -> Any:
    """``stored`` recorded with its timestamp, as processing ``position`` upstream."""
    at = {(stored.originator_id, stored.originator_version): datetime(2026, 1, 5, tzinfo=UTC)}
    return recorder.insert_events([stored], tracking=Tracking("upstream", position), timestamps=at)


def test_a_failure_while_sealing_records_nothing_and_arrives_as_itself(
    recorder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The error raised while writing index rows is the one the caller gets, and the write's
    events, links, index rows and tracking row are all rolled back."""
    write(recorder, event(), 1)
    before = (recorder.max_notification_id(), recorder.max_link_position())

    def fail(*_: object) -> None:
        raise Failed("the index refused")

    monkeypatch.setattr(recorder, "_write_index", fail)
    broken = event()
    with pytest.raises(Failed):
        write(recorder, broken, 2)

    assert (recorder.max_notification_id(), recorder.max_link_position()) == before
    assert recorder.max_tracking_id("upstream") == 1
    assert recorder.select_events(broken.originator_id) == []
    assert recorder.timeline(broken.originator_id) == []


def test_the_store_takes_the_next_write_after_a_failed_one(
    recorder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a write failed while sealing, the next one is sealed and indexed as usual."""
    with monkeypatch.context() as patched:
        patched.setattr(recorder, "_write_index", lambda *_: (_ for _ in ()).throw(Failed()))
        with pytest.raises(Failed):
            write(recorder, event(), 1)

    stored = event()
    ids = write(recorder, stored, 1)

    assert recorder.max_link_position() == ids[0]
    assert [entry.position for entry in recorder.timeline(stored.originator_id)] == ids
    assert recorder.max_tracking_id("upstream") == 1
