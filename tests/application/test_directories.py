"""The directories: bounded per team and per name, and stores listed the earlier way still read."""

from __future__ import annotations

from uuid import uuid4

import pytest

from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.aggregates.target import RevenueGoal, TargetScope
from kam_domain.application import KamApplication
from kam_domain.application.directory import (
    DIRECTORY_ID,
    Directory,
    Entry,
    name_directory_id,
    team_directory_id,
)
from kam_domain.errors import AlreadyExists, ConcurrencyConflict
from kam_domain.values import AccountId, Actor, Money, Percentage, Period, TeamId
from tests.conftest import Org, build_org
from tests.support import at


def register(app: KamApplication, org: Org, name: str, day: float = 1) -> AccountId:
    """Given a client registered by the KAM."""
    return app.register_account(
        org.team_id, org.kam, name=name, industry="telecom", region="east", at=at(day)
    )


def second_team(app: KamApplication) -> tuple[TeamId, object]:
    """Given a second team, formed on day 0: its id and its director's."""
    return app.form_team(
        name="West key accounts",
        segment="power",
        region="west",
        director_name="Qian West",
        top_authority=Percentage.of(30),
        at=at(0),
    )


def directory(app: KamApplication, directory_id: object) -> Directory:
    found = app.repository.get(directory_id)
    assert isinstance(found, Directory)
    return found


def test_the_stores_directory_lists_teams_and_each_team_its_own_records(
    app: KamApplication, org: Org
) -> None:
    """Given two teams, when each registers accounts, then the store's directory lists only the
    teams and each team's directory only that team's accounts."""
    other_id, other_director = second_team(app)
    east = [register(app, org, f"East client {n}") for n in range(3)]
    west = app.register_account(
        other_id, other_director, name="West client", industry="power", region="west", at=at(1)
    )

    assert directory(app, DIRECTORY_ID).ids("account") == []
    assert directory(app, DIRECTORY_ID).ids("team") == [org.team_id, other_id]
    assert directory(app, team_directory_id(org.team_id)).ids("account") == east
    assert directory(app, team_directory_id(other_id)).ids("account") == [west]
    assert [a.id for a in app.accounts()] == [*east, west]
    assert [a.id for a in app.accounts(team_id=other_id)] == [west]


def test_an_account_name_is_held_by_a_directory_of_its_own(app: KamApplication, org: Org) -> None:
    """Given a registered account, then the directory of its name holds it alone, and the
    account is found by its name in any case and spacing."""
    account_id = register(app, org, "Acme Telecom")

    named = directory(app, name_directory_id("  acme   TELECOM "))
    assert list(named.entries) == [account_id]
    assert app.find_account("ACME  telecom").id == account_id


def test_a_name_taken_in_another_team_is_refused_and_nothing_recorded(
    app: KamApplication, org: Org
) -> None:
    """Given an account of one team, when another team registers the same name, then it is
    refused and nothing is recorded: names are unique across the store."""
    register(app, org, "Acme Telecom")
    other_id, other_director = second_team(app)
    before = app.recorder.max_notification_id()

    with pytest.raises(AlreadyExists, match="name"):
        app.register_account(
            other_id, other_director, name="acme telecom", industry="x", region="y", at=at(2)
        )

    assert app.recorder.max_notification_id() == before


def test_a_second_stream_for_a_taken_name_conflicts_in_the_store(
    app: KamApplication, org: Org
) -> None:
    """Given a taken name, when a writer that did not see it saves a second directory for the
    name (a race), then the store refuses the save and nothing of it is recorded."""
    register(app, org, "Acme Telecom")
    before = app.recorder.max_notification_id()
    meta = Meta.command(Actor.system("directory"))
    racing = ClientAccount.register(
        meta,
        app.get_team(org.team_id).credentials(org.kam, meta.at),
        AccountId(uuid4()),
        team_id=TeamId(org.team_id),
        name="Acme Telecom",
        industry="telecom",
        region="east",
    )
    entry = Entry("account", "Acme Telecom", org.team_id)
    named = Directory.open_with(meta, name_directory_id("Acme Telecom"), racing.id, entry)

    with pytest.raises(ConcurrencyConflict):
        app._commit(racing, named)

    assert app.recorder.max_notification_id() == before


@pytest.fixture(name="earlier")
def fixture_earlier(app: KamApplication) -> tuple[KamApplication, Org, AccountId]:
    """A store written when one directory listed everything: a team and an account listed
    only in the store's directory, as releases before per-team directories wrote them."""
    org = build_org(app)
    store = directory(app, DIRECTORY_ID)
    meta = Meta.command(Actor.member(org.kam), at=at(1))
    team = app.get_team(org.team_id)
    account = ClientAccount.register(
        meta,
        team.credentials(org.kam, meta.at),
        AccountId(uuid4()),
        team_id=TeamId(org.team_id),
        name="Legacy Telecom",
        industry="telecom",
        region="east",
    )
    store.add(meta, account.id, Entry("account", "Legacy Telecom", org.team_id))
    app.save(account, store)
    return app, org, account.id


def test_accounts_listed_the_earlier_way_are_still_listed_and_found(
    earlier: tuple[KamApplication, Org, AccountId],
) -> None:
    """Given an account listed in the store's directory only, then it is listed first, found
    by name, and accounts registered now are listed after it."""
    app, org, legacy = earlier

    newer = register(app, org, "Newer Telecom", day=2)

    assert [a.id for a in app.accounts()] == [legacy, newer]
    assert [a.id for a in app.accounts(team_id=org.team_id)] == [legacy, newer]
    assert app.find_account("legacy telecom").id == legacy


def test_a_name_taken_the_earlier_way_stays_taken(
    earlier: tuple[KamApplication, Org, AccountId],
) -> None:
    """Given an account listed in the store's directory only, when its name is registered
    again, then it is refused and nothing is recorded."""
    app, org, _ = earlier
    before = app.recorder.max_notification_id()

    with pytest.raises(AlreadyExists, match="name: an account named"):
        register(app, org, "LEGACY telecom", day=2)

    assert app.recorder.max_notification_id() == before


def test_projects_and_targets_work_on_accounts_listed_the_earlier_way(
    earlier: tuple[KamApplication, Org, AccountId],
) -> None:
    """Given an account listed the earlier way, then a project and an account target can be
    set for it and are listed under its team."""
    app, org, legacy = earlier
    project_id = app.initiate_project(
        legacy,
        org.director,
        name="Core",
        currency="CNY",
        project_director_id=org.project_director,
        at=at(2),
    )
    target_id = app.set_target(
        org.team_id,
        org.director,
        scope=TargetScope.account(legacy),
        period=Period.parse("2026-Q1"),
        goals=[RevenueGoal(Money.of(1000, "CNY"))],
        at=at(2),
    )

    assert [p.id for p in app.projects(account_id=legacy)] == [project_id]
    assert [t.id for t in app.targets(team_id=org.team_id)] == [target_id]
