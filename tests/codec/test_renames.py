"""Renaming a stored class keeps what was stored under its old name readable."""

from __future__ import annotations

from typing import Any, Self
from uuid import uuid4

import attrs
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from kam_domain.aggregates.base import KamAggregate, Meta
from kam_domain.application import KamApplication
from kam_domain.codec import EventTranscoder
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.topics import is_aggregate_topic, is_event_topic, register_aggregate, renamed
from kam_domain.transcoding import register_transcodings, transcoded
from kam_domain.values import Actor

OLD_EVENT = "tests.codec.old_badges:Badge.Pinned"
OLD_AGGREGATE = "tests.codec.old_badges:Badge"


@attrs.frozen
class Emblem:
    """A value whose class was renamed: it keeps the name its values were stored under."""

    shape: str


transcoded(Emblem, name="Insignia")


@register_aggregate
class Badge(KamAggregate):
    """A toy record whose module was renamed after its events were stored."""

    class Pinned(KamAggregate.Created):
        emblem: Emblem

    def __init__(self, emblem: Emblem) -> None:
        self.emblem = emblem

    @classmethod
    def pin(cls, shape: str) -> Self:
        meta = Meta.command(Actor.system("toy"))
        return cls._start(cls.Pinned, meta, uuid4(), emblem=Emblem(shape))


renamed(OLD_EVENT, Badge.Pinned)
renamed(OLD_AGGREGATE, Badge)


def test_a_renamed_value_class_is_stored_and_read_under_its_old_name() -> None:
    """A value class passed its old name writes that name and reads values stored under it."""
    transcoder = EventTranscoder()
    register_transcodings(transcoder)

    stored = transcoder.encode({"emblem": Emblem("star")})

    assert stored == b'{"emblem":{"_type_":"Insignia","_data_":{"shape":"star"}}}'
    assert transcoder.decode(stored) == {"emblem": Emblem("star")}


def test_a_value_class_is_stored_under_one_name() -> None:
    """Marking a class stored under one name again under another is refused."""
    with pytest.raises(TypeError, match="already stored as 'Insignia'"):
        transcoded(Emblem)


def test_an_event_stored_under_an_old_topic_is_read_as_the_renamed_class() -> None:
    """Rows naming the old event and aggregate topics decode to the classes as they are now."""
    (event,) = Badge.pin("star").collect_events()
    codec = KamApplication("memory://", policies=PolicyRegistry()).mapper
    now = codec.to_stored_event(event)
    state = now.state.replace(get_topic(Badge).encode(), OLD_AGGREGATE.encode())
    old = StoredEvent(now.originator_id, now.originator_version, OLD_EVENT, state)

    read: Any = codec.to_domain_event(old)

    assert type(read) is Badge.Pinned
    assert read.emblem == Emblem("star")
    badge = read.mutate(None)
    assert isinstance(badge, Badge)
    assert badge.emblem == Emblem("star")
    assert is_event_topic(OLD_EVENT)
    assert is_aggregate_topic(OLD_AGGREGATE)
    assert resolve_topic(OLD_EVENT) is Badge.Pinned
    assert now.topic == get_topic(Badge.Pinned) != OLD_EVENT
