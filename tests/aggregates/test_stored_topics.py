"""The topics the four aggregates write are stored forever: they stay the ones recorded here.

``stored_topics.json`` lists, per aggregate topic (which ``Created`` events and snapshots name),
the topic of every event and snapshot class the aggregate has, as the release that split the
aggregate modules into packages found them before the split. Stored rows name these topics, so
each must keep resolving to the class the aggregate records, and new events must keep being
written under them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.domain import DomainEvent
from eventsourcing.utils import get_topic, resolve_topic

from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.aggregates.project import Project
from kam_domain.aggregates.target import Target
from kam_domain.aggregates.team import Team
from kam_domain.application import KamApplication
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.topics import LIBRARY_AGGREGATES, aggregate_topics, event_topics
from tests.conftest import build_org, key_account
from tests.support import at

RECORDED: dict[str, list[str]] = json.loads(
    (Path(__file__).with_name("stored_topics.json")).read_text(encoding="utf-8")
)
AGGREGATES: dict[str, type[Any]] = {
    "kam_domain.aggregates.team:Team": Team,
    "kam_domain.aggregates.client_account:ClientAccount": ClientAccount,
    "kam_domain.aggregates.project:Project": Project,
    "kam_domain.aggregates.target:Target": Target,
}
#: eventsourcing's own snapshot class, which every aggregate shares.
SNAPSHOT = "eventsourcing.domain:Snapshot"


def event_classes(cls: type[Any]) -> dict[str, type[Any]]:
    """The aggregate's event and snapshot classes by attribute, as the topic registry finds them."""
    found = {}
    for name in dir(cls):
        member = getattr(cls, name, None)
        if isinstance(member, type) and issubclass(member, DomainEvent):
            found[name] = member
    return found


def test_the_recorded_aggregates_are_the_librarys_four() -> None:
    """The fixture covers exactly the four aggregates, each still listed in the topic registry."""
    assert set(RECORDED) == set(AGGREGATES)
    assert set(RECORDED) <= set(LIBRARY_AGGREGATES)


@pytest.mark.parametrize("topic", sorted(AGGREGATES))
def test_an_aggregate_topic_resolves_to_its_class(topic: str) -> None:
    """The aggregate's topic is what its class gives, and resolves back to that class."""
    cls = AGGREGATES[topic]

    assert get_topic(cls) == topic
    assert resolve_topic(topic) is cls
    assert topic in aggregate_topics()


@pytest.mark.parametrize("topic", sorted(AGGREGATES))
def test_the_event_topics_are_the_recorded_ones(topic: str) -> None:
    """The aggregate's classes give exactly the event and snapshot topics recorded before."""
    produced = sorted(get_topic(member) for member in event_classes(AGGREGATES[topic]).values())

    assert produced == RECORDED[topic]


@pytest.mark.parametrize("topic", sorted(AGGREGATES))
def test_every_recorded_event_topic_resolves_to_the_class_the_aggregate_records(
    topic: str,
) -> None:
    """Each recorded topic resolves to the very class the aggregate triggers, and is decoded."""
    cls = AGGREGATES[topic]
    by_topic = {get_topic(member): member for member in event_classes(cls).values()}
    registered = event_topics()

    for event_topic in RECORDED[topic]:
        assert resolve_topic(event_topic) is by_topic[event_topic], event_topic
        assert event_topic in registered, event_topic


@pytest.mark.parametrize("topic", sorted(AGGREGATES))
def test_every_event_is_named_under_its_aggregate(topic: str) -> None:
    """Wherever an event is declared, it is written as ``<aggregate topic>.<Name>``."""
    cls = AGGREGATES[topic]
    for name, member in event_classes(cls).items():
        if get_topic(member) != SNAPSHOT:
            assert get_topic(member) == f"{topic}.{name}"
            # Replay and the audit name events by their qualified name.
            assert member.__qualname__ == f"{cls.__qualname__}.{name}"


def test_events_written_through_the_application_use_the_recorded_topics() -> None:
    """A team, a key account and a project written in memory store only recorded topics, and
    the stored rows decode to the classes that wrote them."""
    app = KamApplication("memory://", policies=PolicyRegistry())
    org = build_org(app)
    account_id = key_account(app, org)
    app.initiate_project(
        account_id,
        org.kam,
        name="Core",
        currency="CNY",
        project_director_id=org.project_director,
        at=at(1),
    )
    recorded = {event_topic for topics in RECORDED.values() for event_topic in topics}

    notifications = app.recorder.select_notifications(start=1, limit=1000)
    # The application also keeps a directory of records (not one of the four).
    written = {n.topic for n in notifications if n.topic.startswith("kam_domain.aggregates.")}

    assert written <= recorded
    assert {t.partition(":")[0] for t in written} >= {
        "kam_domain.aggregates.team",
        "kam_domain.aggregates.client_account",
        "kam_domain.aggregates.project",
    }
    for notification in notifications:
        event = app.mapper.to_domain_event(notification)
        assert get_topic(type(event)) == notification.topic
    app.close()
