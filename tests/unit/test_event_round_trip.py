"""Every event class of every aggregate survives the stored-event transcoder unchanged."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest
from eventsourcing.persistence import JSONTranscoder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kam_domain.aggregates
from kam_domain.aggregates.base import KamAggregate
from kam_domain.transcoding import EventMapper, register_transcodings
from tests.strategies import register_type_strategies, utc_datetimes

register_type_strategies()
for module in pkgutil.iter_modules(kam_domain.aggregates.__path__):
    importlib.import_module(f"kam_domain.aggregates.{module.name}")
importlib.import_module("kam_domain.application.directory")
importlib.import_module("kam_domain.policies.records")


def event_classes() -> list[type[Any]]:
    """Every event class the library's aggregates declare (not the engine's generated bases)."""
    found: list[type[Any]] = []
    aggregates = [KamAggregate]
    while aggregates:
        aggregate = aggregates.pop()
        aggregates.extend(aggregate.__subclasses__())
        for name, value in vars(aggregate).items():
            if (
                isinstance(value, type)
                and issubclass(value, KamAggregate.Event)
                and name not in ("Event", "Created")
                and value.__module__.startswith("kam_domain.")
            ):
                found.append(value)
    return sorted(found, key=lambda cls: (cls.__module__, cls.__qualname__))


def events_of(event_class: type[Any]) -> st.SearchStrategy[Any]:
    """Events of ``event_class`` with valid engine fields and any values for the rest."""
    engine_fields: dict[str, st.SearchStrategy[Any]] = {
        "originator_id": st.uuids(),
        "originator_version": st.integers(min_value=1, max_value=10**9),
        "timestamp": utc_datetimes,
    }
    if issubclass(event_class, KamAggregate.Created):
        # A Created event names its record's class: the class the event is nested in.
        record = event_class.__qualname__.rpartition(".")[0]
        engine_fields["originator_topic"] = st.just(f"{event_class.__module__}:{record}")
    return st.builds(event_class, **engine_fields)


def mapper() -> EventMapper:
    transcoder = JSONTranscoder()
    for name in ("UUIDAsHex", "DecimalAsStr", "DatetimeAsISO"):
        transcoder.register(getattr(importlib.import_module("eventsourcing.persistence"), name)())
    register_transcodings(transcoder)
    return EventMapper(transcoder=transcoder)


MAPPER = mapper()
EVENTS = event_classes()


def test_the_library_declares_events() -> None:
    """Discovery finds the aggregates' events (so the property below covers something)."""
    names = {cls.__qualname__ for cls in EVENTS}

    assert {"Team.Formed", "Team.AuthorityGranted", "Directory.Listed"} <= names


@pytest.mark.parametrize("event_class", EVENTS, ids=lambda cls: cls.__qualname__)
# Validators refuse many drawn values for the richer records; that is filtering, not a failure.
@settings(suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(data=st.data())
def test_event_round_trips_through_the_store_format(event_class: type[Any], data: Any) -> None:
    """Any event of this class, stored and read back, equals the original."""
    event = data.draw(events_of(event_class))

    stored = MAPPER.to_stored_event(event)
    restored = MAPPER.to_domain_event(stored)

    assert restored == event
    assert type(restored) is event_class
