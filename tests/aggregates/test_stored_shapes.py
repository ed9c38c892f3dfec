"""Stored shapes are forever: every event class, value and aggregate is read as recorded.

``stored_shapes.json`` (see tests/aggregates/stored_shapes.py) records the shape of every
version of every event class the library has written, and of every value stored inside them.
These tests fail, saying what to do, when a change to the code would leave a stored shape
unread: a changed event without a new ``class_version`` and its upcaster, a value losing a field
or a stored name, an event class or an aggregate gone.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.aggregates.stored_shapes import (
    aggregate_states,
    aggregate_versions,
    event_shapes,
    library_events,
    read_record,
    value_shapes,
)

RECORD = read_record()
NOW = event_shapes()
VALUES = value_shapes()
WRITE = "python -m tests.aggregates.stored_shapes"
DEFAULT = " = default"
RULES = "see docs/architecture.md, 'Changing an event'"


def recorded_versions(topic: str) -> dict[int, dict[str, str]]:
    return {int(version): fields for version, fields in RECORD["events"][topic].items()}


def test_every_event_class_has_a_recorded_shape() -> None:
    """Each of the library's event classes is in the record: a new one is recorded with it."""
    missing = sorted(set(NOW) - set(RECORD["events"]))

    assert not missing, f"event classes with no recorded stored shape: {missing}; run {WRITE}"


def test_no_recorded_event_class_is_gone() -> None:
    """Every recorded topic still names a class: stored events name their topic forever."""
    gone = sorted(set(RECORD["events"]) - set(NOW))

    assert not gone, (
        f"stored events name {gone}, which no class has now: keep the class where its topic "
        f"says, or register the old topic with kam_domain.topics.renamed ({RULES})"
    )


@pytest.mark.parametrize("topic", sorted(NOW))
def test_an_event_class_stores_the_shape_recorded_for_its_version(topic: str) -> None:
    """The class's fields are those recorded for its class_version; a change of fields without a
    new version fails, saying to bump the version and write the upcaster."""
    now = NOW[topic]
    version: int = now["class_version"]
    versions = recorded_versions(topic) if topic in RECORD["events"] else {}
    latest = max(versions, default=0)

    if version not in versions:
        assert version == latest + 1, (
            f"{topic}: class_version {version} follows recorded version {latest}; versions go "
            "up by one"
        )
        pytest.fail(f"{topic}: version {version} has no recorded shape yet; run {WRITE}")
    assert version == latest, f"{topic}: version {latest} is recorded, the class is at {version}"
    if now["fields"] != versions[version]:
        pytest.fail(
            f"{topic}: its stored shape changed ({_difference(versions[version], now['fields'])}) "
            f"but class_version is still {version}. Stored events of version {version} keep the "
            f"old shape: set class_version = {version + 1}, add a static method "
            f"upcast_v{version}_v{version + 1}(state) that turns a version {version} event's "
            f"state into version {version + 1}'s, then run {WRITE} ({RULES})"
        )


@pytest.mark.parametrize("topic", sorted(NOW))
def test_each_older_version_of_an_event_has_its_upcaster(topic: str) -> None:
    """A class at version n > 1 has ``upcast_vk_vk+1`` for every k below n, each a callable."""
    cls = library_events()[topic]
    version: int = NOW[topic]["class_version"]

    for older in range(1, version):
        name = f"upcast_v{older}_v{older + 1}"
        assert callable(getattr(cls, name, None)), (
            f"{topic} is at version {version} and has no {name}: stored events of version "
            f"{older} cannot be read ({RULES})"
        )


def test_every_stored_value_name_still_names_its_class() -> None:
    """A value name stored in events keeps naming a class: a renamed class keeps its old name."""
    gone = sorted(set(RECORD["values"]) - set(VALUES))

    assert not gone, (
        f"stored values are named {gone}, which no class is now: pass the old name, "
        f'transcoded(Renamed, name="OldName") ({RULES})'
    )


@pytest.mark.parametrize("name", sorted(VALUES))
def test_a_stored_value_reads_every_recorded_form(name: str) -> None:
    """A value's fields only grow, each new one with a default that old stored values read as;
    an enum's members only grow. What is new is recorded."""
    now = VALUES[name]
    then = RECORD["values"].get(name)
    assert then is not None, f"value {name} has no recorded stored shape; run {WRITE}"

    if "members" in then:
        lost = sorted(set(then["members"]) - set(now.get("members", ())))
        assert not lost, f"{name}: stored values {lost} are no longer members ({RULES})"
    else:
        fields: dict[str, str] = now.get("fields", {})
        lost = sorted(set(then["fields"]) - set(fields))
        assert not lost, f"{name}: stored values hold {lost}, which it no longer has ({RULES})"
        changed = sorted(f for f in then["fields"] if _type(fields[f]) != _type(then["fields"][f]))
        assert not changed, f"{name}: the type of {changed} changed under stored values ({RULES})"
        new = set(fields) - set(then["fields"])
        without = sorted(f for f in new if not fields[f].endswith(DEFAULT))
        assert not without, (
            f"{name}: new fields {without} need a default, which values stored before them "
            f"read as ({RULES})"
        )
    assert now == then, f"{name}: its new shape is not recorded yet; run {WRITE}"


@pytest.fixture(name="states", scope="module")
def fixture_states() -> dict[str, list[str]]:
    """The attributes each aggregate's snapshots hold now (from the golden coverage history)."""
    return aggregate_states()


@pytest.mark.parametrize("path", sorted(aggregate_versions()))
def test_an_aggregate_snapshot_holds_what_its_version_recorded(
    path: str, states: dict[str, list[str]]
) -> None:
    """The attributes a snapshot holds are those recorded for the aggregate's class_version,
    and each older version has its upcaster, so snapshots of earlier state are read."""
    version = aggregate_versions()[path]
    recorded: dict[str, list[str]] = RECORD["aggregates"].get(path, {})
    cls = _aggregate(path)

    assert str(version) in recorded, (
        f"{path} is at class_version {version}, which has no recorded snapshot state; run {WRITE}"
    )
    latest = max(int(v) for v in recorded)
    assert version == latest, f"{path}: version {latest} is recorded, the class is at {version}"
    if states[path] != recorded[str(version)]:
        then, now = set(recorded[str(version)]), set(states[path])
        pytest.fail(
            f"{path}: what its snapshots hold changed (added {sorted(now - then)}, removed "
            f"{sorted(then - now)}) but class_version is still {version}. Snapshots of version "
            f"{version} keep the old state: set class_version = {version + 1} on the aggregate, "
            f"add a static method upcast_v{version}_v{version + 1}(state), then run {WRITE} "
            f"({RULES})"
        )
    for older in range(1, version):
        assert callable(getattr(cls, f"upcast_v{older}_v{older + 1}", None)), path


def _type(declared: str) -> str:
    return declared.removesuffix(DEFAULT)


def _aggregate(path: str) -> type[Any]:
    from eventsourcing.utils import resolve_topic

    cls: type[Any] = resolve_topic(path)
    return cls


def _difference(then: dict[str, str], now: dict[str, str]) -> str:
    added = sorted(set(now) - set(then))
    removed = sorted(set(then) - set(now))
    retyped = sorted(f for f in set(now) & set(then) if now[f] != then[f])
    parts = [
        f"{label} {', '.join(names)}"
        for label, names in (("added", added), ("removed", removed), ("retyped", retyped))
        if names
    ]
    return "; ".join(parts)
