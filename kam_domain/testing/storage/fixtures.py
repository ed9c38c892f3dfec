"""What the conformance cases record and look for: a team, timed changes, names to hide."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import TestCase
from urllib.parse import quote
from uuid import UUID

from kam_domain.aggregates.team import Team
from kam_domain.application import KamApplication
from kam_domain.values import MemberId, Percentage, Role, TeamId

__all__ = [
    "DIRECTOR_NAME",
    "MEMBER_NAMES",
    "SUBSCRIPTION_TIMEOUT",
    "TEAM_NAME",
    "T_KIT",
    "assert_names_hidden",
    "build_team",
    "capacities",
    "form_team",
    "notification_ids",
    "pct",
    "state",
    "timed_team",
    "with_parameter",
]


#: Names the raw-bytes tests look for: none may be readable in an encrypted store.
TEAM_NAME = "Zhongshan Telecom Key Accounts"
DIRECTOR_NAME = "Qian Weiming"
MEMBER_NAMES = ("Lu Xiaofeng", "He Jingyi", "Tang Shuhua")
#: Seconds a subscription may take to deliver what was recorded (polling stores included).
SUBSCRIPTION_TIMEOUT = 10.0


def notification_ids(app: KamApplication) -> list[int]:
    return [n.id for n in app.recorder.select_notifications(start=None, limit=1_000_000)]


def form_team(app: KamApplication, at: datetime | None = None) -> tuple[TeamId, MemberId]:
    """The test team, formed at ``at`` (or now); its id and its director's."""
    return app.form_team(
        name=TEAM_NAME,
        segment="telecom",
        region="south",
        director_name=DIRECTOR_NAME,
        top_authority=pct(30),
        at=at,
    )


def build_team(app: KamApplication) -> tuple[TeamId, MemberId, list[MemberId]]:
    """Form the test team, add three members, grant two of them authority."""
    team_id, director = form_team(app)
    roles = (Role.SALES_DIRECTOR, Role.KEY_ACCOUNT_MANAGER, Role.KEY_ACCOUNT_REPRESENTATIVE)
    members = [
        app.add_member(team_id, director, name=name, role=role)
        for name, role in zip(MEMBER_NAMES, roles, strict=True)
    ]
    app.grant_authority(team_id, director, members[0], max_discount=pct(20))
    app.grant_authority(team_id, director, members[1], max_discount=pct(5))
    app.set_capacity(team_id, director, director, capacity=15)
    return team_id, director, members


def state(aggregate: Any) -> dict[str, Any]:
    """An aggregate's state, comparable between two loads of it."""
    return {key: value for key, value in vars(aggregate).items() if key != "_pending_events"}


def capacities(app: KamApplication, team_id: UUID, member: UUID) -> list[int]:
    """The capacities set for ``member``, in the order the store recorded them."""
    return [
        event.capacity
        for event in app.events.get(team_id)
        if isinstance(event, Team.CapacitySet) and event.member_id == member
    ]


def assert_names_hidden(case: TestCase, states: list[bytes]) -> None:
    case.assertTrue(states, "the store holds no events")
    raw = b"".join(states)
    for name in (TEAM_NAME, DIRECTOR_NAME, *MEMBER_NAMES):
        case.assertNotIn(name.encode(), raw, f"{name!r} is readable in the stored bytes")


def with_parameter(url: str, name: str, value: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{name}={quote(value, safe='')}"


def pct(value: int) -> Percentage:
    return Percentage.of(value)


#: When :func:`timed_team` starts.
T_KIT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def timed_team(app: KamApplication) -> tuple[TeamId, MemberId, list[tuple[datetime, int | None]]]:
    """A team changed on three days (twice on the second); moments and the version at each."""
    team_id, director = form_team(app, at=T_KIT)
    formed = app.get_team(team_id).version
    day = timedelta(days=1)
    app.set_capacity(team_id, director, director, capacity=10, at=T_KIT + day)
    app.set_capacity(team_id, director, director, capacity=11, at=T_KIT + day)
    app.set_capacity(team_id, director, director, capacity=12, at=T_KIT + 3 * day)
    second = timedelta(seconds=1)
    versions = [
        (T_KIT - second, None),
        (T_KIT, formed),
        (T_KIT + day - second, formed),
        (T_KIT + day, formed + 2),
        (T_KIT + 2 * day, formed + 2),
        (T_KIT + 3 * day, formed + 3),
        (T_KIT + 30 * day, formed + 3),
    ]
    return team_id, director, versions
