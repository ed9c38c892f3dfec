"""The stored shape of every class the library writes into its store, and the record of it.

An event is stored as its fields (names and types) under its topic, with its ``class_version``
when that is above 1; a value inside an event or snapshot (a transcoded attrs class or enum) as
its fields or members under its stored name. ``stored_shapes.json`` records, for each event
topic, the shape of every version the library has written, and for each stored value name
its class and shape; for each aggregate, the attributes its snapshots hold at each of its
versions (found by loading every record of the golden coverage history, as written or as
played now, and, for an aggregate only a store opened with a key ring holds, a record built
here: :data:`KEY_RING_ONLY`).
Old stores hold those shapes forever; tests/aggregates/test_stored_shapes.py fails when the
code no longer reads one of them as the record says.

    python -m tests.aggregates.stored_shapes

adds what is new (an event class, an event's next version, a value class) to the record. It
never rewrites a version already recorded: a changed shape needs a new version and an upcaster
(see docs/architecture.md, "Changing an event").
"""

from __future__ import annotations

import dataclasses
import enum
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.utils import get_topic, resolve_topic

from kam_domain.application import KamApplication
from kam_domain.application.store_settings import STORE_SETTINGS_ID
from kam_domain.keyring import KeyRing
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.topics import LIBRARY_AGGREGATES, event_topics
from kam_domain.transcoding import stored_names
from kam_domain.values import Actor
from tests.golden.stores import GOLDEN, unpack_sqlite

__all__ = [
    "KEY_RING_ONLY",
    "RECORD",
    "aggregate_states",
    "aggregate_versions",
    "event_shape",
    "event_shapes",
    "library_events",
    "main",
    "merged",
    "read_record",
    "value_shape",
    "value_shapes",
]

RECORD = Path(__file__).with_name("stored_shapes.json")
#: eventsourcing's snapshot class, shared by every aggregate (its state is versioned by the
#: aggregate's own ``class_version``).
SNAPSHOT = "eventsourcing.domain:Snapshot"
#: The golden history that records every event class, and so builds every kind of record.
COVERAGE = GOLDEN / "v0_1_0" / "coverage.sqlite.gz"
#: What eventsourcing leaves out of a snapshot's state.
NOT_IN_SNAPSHOTS = frozenset({"_id", "_version", "_pending_events"})


def _store_settings() -> Any:
    """A store's settings record after a rotation of its key (written by no golden store)."""
    ring = KeyRing((bytes(range(32)), bytes(range(100, 132))))
    app = KamApplication("memory://", cipher_key=ring.text(), policies=PolicyRegistry())
    try:
        app.record_key_rotation(Actor.system("stored-shapes"), reason="a record of its state")
        return app.repository.get(STORE_SETTINGS_ID)
    finally:
        app.close()


#: Aggregates whose events are written only in a store opened with a key ring, which neither the
#: golden stores nor the coverage history as played now (both read without a key) hold: a
#: record of each, built by the code as it is, by aggregate topic.
KEY_RING_ONLY: dict[str, Callable[[], Any]] = {
    "kam_domain.application.store_settings:StoreSettings": _store_settings,
}


def library_events() -> dict[str, type[Any]]:
    """The library's own event and snapshot classes by topic (tests register toy ones too)."""
    found = {}
    for topic in sorted(event_topics()):
        if topic.startswith("kam_domain.") or topic == SNAPSHOT:
            cls = resolve_topic(topic)
            # An old topic registered for a renamed class is the class's, under its own topic.
            found[get_topic(cls)] = cls
    return found


def _declared(cls: type[Any]) -> dict[str, str]:
    """The annotations of ``cls`` and its bases as written in the source (attrs and others may
    replace a field's ``type`` with the resolved type, which spells differently)."""
    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        for name, annotation in vars(klass).get("__annotations__", {}).items():
            found[name] = _type_name(annotation)
    return found


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, type):
        return annotation.__qualname__
    return repr(annotation).replace("typing.", "")


def event_shape(cls: type[Any]) -> dict[str, str]:
    """The event's stored fields and their declared types."""
    declared = _declared(cls)
    return {
        field.name: declared.get(field.name, _type_name(field.type))
        for field in dataclasses.fields(cls)
    }


def event_shapes() -> dict[str, dict[str, Any]]:
    """Each library event topic's class version and shape, as the code is now."""
    return {
        topic: {"class_version": getattr(cls, "class_version", 1), "fields": event_shape(cls)}
        for topic, cls in library_events().items()
    }


def value_shape(cls: type[Any]) -> dict[str, Any]:
    """A stored value's class, and its fields (with whether each has a default) or members."""
    shape: dict[str, Any] = {"class": get_topic(cls)}
    if issubclass(cls, enum.Enum):
        shape["members"] = sorted(str(member.value) for member in cls)
    else:
        declared = _declared(cls)
        shape["fields"] = {
            field.name: declared.get(field.name, _type_name(field.type))
            + ("" if field.default is attrs.NOTHING else " = default")
            for field in attrs.fields(cls)
        }
    return shape


def value_shapes() -> dict[str, dict[str, Any]]:
    """Each stored value name's class and shape, as the code is now (the library's own: tests
    mark toy values too)."""
    library_events()  # imports every aggregate, and so every value class they store
    return {
        name: value_shape(cls)
        for name, cls in sorted(stored_names().items())
        if cls.__module__.startswith("kam_domain.")
    }


def aggregate_versions() -> dict[str, int]:
    """Each library aggregate's ``class_version``: what versions the state its snapshots hold."""
    return {path: getattr(resolve_topic(path), "class_version", 1) for path in LIBRARY_AGGREGATES}


def aggregate_states() -> dict[str, list[str]]:
    """The attributes a snapshot of each library aggregate holds, as the code is now: the union
    over every record of the golden coverage history, rebuilt from its events; for an aggregate
    added after that history's release (not in its topics.json), over its records in the
    coverage history as the code plays it now (tests/golden/story.py); for one only a store
    opened with a key ring holds, over the record :data:`KEY_RING_ONLY` builds."""
    found: dict[str, set[str]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        copy = unpack_sqlite(COVERAGE, Path(scratch))
        _collect(f"sqlite:///{copy}", found)
        later = set(LIBRARY_AGGREGATES) - set(found) - set(KEY_RING_ONLY)
        if later:
            from tests.golden.regenerate import write_story

            played = Path(scratch) / "story.db"
            write_story(f"sqlite:///{played}")
            _collect(f"sqlite:///{played}", found, only=later)
    for topic, build in KEY_RING_ONLY.items():
        record = build()
        found.setdefault(topic, set()).update(set(vars(record)) - NOT_IN_SNAPSHOTS)
    return {topic: sorted(names) for topic, names in sorted(found.items())}


def _collect(store: str, found: dict[str, set[str]], only: set[str] | None = None) -> None:
    """Add the attributes of every record in ``store`` (of the aggregates ``only`` names)."""
    app = KamApplication(store, read_only=True)
    try:
        ids = {n.originator_id for n in app.recorder.select_notifications(None, 1_000_000)}
        for record_id in sorted(ids, key=str):
            record: Any = app.repository.get(UUID(str(record_id)))
            topic = get_topic(type(record))
            if only is None or topic in only:
                found.setdefault(topic, set()).update(set(vars(record)) - NOT_IN_SNAPSHOTS)
    finally:
        app.close()


def read_record(path: Path = RECORD) -> dict[str, Any]:
    """The recorded shapes (empty sections when nothing is recorded yet)."""
    record: dict[str, Any] = {"events": {}, "values": {}, "aggregates": {}}
    if path.exists():
        record.update(json.loads(path.read_text(encoding="utf-8")))
    return record


def merged(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with what the code adds: new event topics and versions, new value names,
    aggregate versions. A recorded event version with another shape is refused."""
    events: dict[str, dict[str, Any]] = {
        topic: dict(versions) for topic, versions in record["events"].items()
    }
    for topic, now in event_shapes().items():
        versions = events.setdefault(topic, {})
        key = str(now["class_version"])
        if key in versions and versions[key] != now["fields"]:
            msg = (
                f"{topic} version {key} is recorded with another shape; stored events of that "
                "version keep it: bump class_version and add an upcaster instead"
            )
            raise SystemExit(msg)
        versions[key] = now["fields"]
    values = {**record["values"], **value_shapes()}
    aggregates: dict[str, dict[str, Any]] = {
        topic: dict(versions) for topic, versions in record["aggregates"].items()
    }
    states = aggregate_states()
    for path, version in aggregate_versions().items():
        versions = aggregates.setdefault(path, {})
        key = str(version)
        if key in versions and versions[key] != states[path]:
            msg = (
                f"{path} version {key} is recorded with other attributes; its snapshots keep "
                "them: bump the aggregate's class_version and add an upcaster instead"
            )
            raise SystemExit(msg)
        versions[key] = states[path]
    return {
        "events": {
            topic: dict(sorted(versions.items(), key=lambda item: int(item[0])))
            for topic, versions in sorted(events.items())
        },
        "values": dict(sorted(values.items())),
        "aggregates": {
            path: dict(sorted(versions.items(), key=lambda item: int(item[0])))
            for path, versions in sorted(aggregates.items())
        },
    }


def main() -> int:
    """Add the code's new shapes to the record."""
    record = merged(read_record())
    RECORD.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"recorded {len(record['events'])} event topics, {len(record['values'])} values")
    return 0


if __name__ == "__main__":
    sys.exit(main())
