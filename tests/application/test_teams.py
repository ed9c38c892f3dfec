"""The facade's team commands, on every backend."""

from __future__ import annotations

from datetime import UTC
from uuid import uuid4

import pytest

from kam_domain.application import KamApplication
from kam_domain.errors import MemberNotFound, RoleRequired, TeamNotFound
from kam_domain.values import Actor, Percentage, Role
from tests.conftest import Org
from tests.support import unchanged


def test_org_fixture_gives_every_role_its_authority(app: KamApplication, org: Org) -> None:
    """Given the standard team, each approver holds the authority it was granted."""
    limits = {
        member: app.credentials(org.team_id, member).discount_authority
        for member in (org.kam, org.project_director, org.director, org.senior)
    }

    assert [str(limit) for limit in limits.values()] == ["5%", "10%", "20%", "30%"]
    assert app.credentials(org.team_id, org.rep).role is Role.KEY_ACCOUNT_REPRESENTATIVE


def test_team_reloads_equal_from_a_fresh_application(
    store: str, app: KamApplication, org: Org
) -> None:
    """State rebuilt from the store by a new application equals the state in memory."""
    reopened = KamApplication(store)

    try:
        if store == "memory://":
            assert reopened.teams() == []
        else:
            assert reopened.get_team(org.team_id) == app.get_team(org.team_id)
    finally:
        reopened.close()


def test_refused_command_leaves_the_team_unchanged(app: KamApplication, org: Org) -> None:
    """A representative adding a member is refused and nothing is recorded."""
    with unchanged(app), pytest.raises(RoleRequired):
        app.add_member(org.team_id, org.rep, name="Intruder", role=Role.CONSULTANT)


def test_unknown_team_is_named(app: KamApplication) -> None:
    """A command on a team that does not exist is TeamNotFound naming team_id."""
    with unchanged(app), pytest.raises(TeamNotFound, match="team_id"):
        app.add_member(uuid4(), uuid4(), name="X", role=Role.CONSULTANT)


def test_unknown_actor_is_named(app: KamApplication, org: Org) -> None:
    """An actor who is not on the team is MemberNotFound naming the actor."""
    with unchanged(app), pytest.raises(MemberNotFound, match="actor"):
        app.add_member(org.team_id, uuid4(), name="X", role=Role.CONSULTANT)


def test_events_carry_actor_correlation_and_causation(app: KamApplication, org: Org) -> None:
    """Every recorded event names its actor and carries correlation and causation ids."""
    chain = uuid4()

    app.set_capacity(org.team_id, org.director, org.kam, capacity=5, correlation_id=chain)

    events = list(app.repository.event_store.get(org.team_id))
    last = events[-1]
    assert last.actor == Actor.member(org.director)
    assert last.correlation_id == chain
    assert last.causation_id != chain
    assert all(event.timestamp.tzinfo is UTC for event in events)


def test_long_team_histories_load_from_snapshots(app: KamApplication, org: Org) -> None:
    """After many changes a snapshot exists and loading from it gives the same team."""
    for capacity in range(120):
        app.set_capacity(org.team_id, org.senior, org.kam, capacity=capacity % 20)

    snapshots = list(app.snapshots.get(org.team_id)) if app.snapshots else []
    team = app.get_team(org.team_id)

    assert snapshots, "a snapshot was taken"
    assert team.capacity_of(org.kam) == 119 % 20
    assert team == app.get_team(org.team_id, version=team.version)


def test_teams_are_listed_in_order(app: KamApplication, org: Org) -> None:
    """The facade lists every team formed, oldest first."""
    second, _ = app.form_team(
        name="West",
        segment="energy",
        region="west",
        director_name="Ma",
        top_authority=Percentage.of(25),
    )

    assert [team.id for team in app.teams()] == [org.team_id, second]
