"""The facade's pipeline: opportunities opened, worked, won and lost through the application,
listed by team and account as of any moment, with the team's stage probabilities; refused
commands leave the log as it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from kam_domain.aggregates.opportunity import (
    DEFAULT_PROBABILITIES,
    OpportunityStage,
    StageProbabilities,
)
from kam_domain.application import KamApplication
from kam_domain.errors import (
    AccountNotKey,
    AlreadyExists,
    CurrencyMismatch,
    NotAssignedToAccount,
    OpportunityNotFound,
    ProjectNotFound,
    ProjectOfAnotherAccount,
    RoleRequired,
    ValidationError,
)
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.values import AccountId, Money, OpportunityId, Percentage
from tests.conftest import Org, build_org, key_account
from tests.support import at, unchanged

Stage = OpportunityStage


def cny(amount: int) -> Money:
    return Money.of(amount, "CNY")


@pytest.fixture(name="app")
def fixture_app() -> Iterator[KamApplication]:
    """An application in memory without policies."""
    app = KamApplication("memory://", policies=PolicyRegistry())
    yield app
    app.close()


@pytest.fixture(name="org")
def fixture_org(app: KamApplication) -> Org:
    return build_org(app)


@pytest.fixture(name="account")
def fixture_account(app: KamApplication, org: Org) -> AccountId:
    """A key account whose accountable KAM is the org's first KAM."""
    return key_account(app, org)


def open_one(app: KamApplication, org: Org, account: AccountId, **changes: object) -> OpportunityId:
    options: dict[str, object] = {
        "name": "Core renewal",
        "amount": cny(1000),
        "expected_close": at(60),
        "at": at(1),
    }
    options.update(changes)
    return app.open_opportunity(account, org.kam, **options)  # type: ignore[arg-type]


def test_an_opportunity_is_opened_worked_and_won_with_its_project(
    app: KamApplication, org: Org, account: AccountId
) -> None:
    """Given a key account, when its KAM opens an opportunity, moves it, revises it and wins
    it with a project of the account, then the record holds each step."""
    opportunity_id = open_one(app, org, account)
    app.move_opportunity(opportunity_id, org.kam, stage=Stage.NEGOTIATION, at=at(2))
    app.revise_opportunity(opportunity_id, org.director, reason="scope", amount=cny(1200), at=at(3))
    project_id = app.initiate_project(
        account,
        org.kam,
        name="Core",
        currency="CNY",
        project_director_id=org.project_director,
        at=at(4),
    )

    app.win_opportunity(opportunity_id, org.kam, project_id=project_id, at=at(5))

    opportunity = app.get_opportunity(opportunity_id)
    assert opportunity.stage is Stage.CLOSED_WON
    assert opportunity.project_id == project_id
    assert opportunity.amount == cny(1200)
    assert [change.stage for change in opportunity.stage_history] == [
        Stage.PROSPECTING,
        Stage.NEGOTIATION,
        Stage.CLOSED_WON,
    ]


def test_opportunities_are_listed_by_team_and_account_as_of_a_moment(
    app: KamApplication, org: Org, account: AccountId
) -> None:
    """Given two accounts with opportunities opened on days 1 and 3, when they are listed by
    team, by account and as of day 2, then each listing holds what it should, as it stood."""
    other = key_account(app, org, "Beta Mobile", kam=org.kam2)
    first = open_one(app, org, account)
    second = app.open_opportunity(
        other, org.kam2, name="Edge", amount=cny(500), expected_close=at(30), at=at(3)
    )
    app.move_opportunity(first, org.kam, stage=Stage.PROPOSAL, at=at(4))

    assert [o.id for o in app.opportunities(org.team_id)] == [first, second]
    assert [o.id for o in app.opportunities(account_id=other)] == [second]
    then = app.opportunities(org.team_id, at=at(2))
    assert [o.id for o in then] == [first]
    assert then[0].stage is Stage.PROSPECTING


def test_the_account_kam_in_force_at_the_moment_works_the_opportunity(
    app: KamApplication, org: Org, account: AccountId
) -> None:
    """Given an opportunity whose account moves to another KAM on day 3, when the former KAM
    moves it on day 4, then it is refused and nothing is recorded; the new KAM may."""
    opportunity_id = open_one(app, org, account)
    app.assign_kam(account, org.director, org.kam2, reason="rebalanced", at=at(3))

    with unchanged(app), pytest.raises(NotAssignedToAccount):
        app.move_opportunity(opportunity_id, org.kam, stage=Stage.PROPOSAL, at=at(4))

    app.move_opportunity(opportunity_id, org.kam2, stage=Stage.PROPOSAL, at=at(4))
    assert app.get_opportunity(opportunity_id).stage is Stage.PROPOSAL


def test_refused_commands_record_nothing(app: KamApplication, org: Org, account: AccountId) -> None:
    """Given an opportunity, when commands break a rule (another KAM, a duplicate name, an
    unknown project, another account's project), then each is refused and the log is as it
    was."""
    opportunity_id = open_one(app, org, account)
    other = key_account(app, org, "Beta Mobile", kam=org.kam2)
    foreign = app.initiate_project(
        other,
        org.kam2,
        name="Beta core",
        currency="CNY",
        project_director_id=org.project_director,
        at=at(2),
    )

    with unchanged(app), pytest.raises(NotAssignedToAccount):
        app.open_opportunity(
            account, org.kam2, name="Other", amount=cny(10), expected_close=at(9), at=at(3)
        )
    with unchanged(app), pytest.raises(AlreadyExists, match=r"^name"):
        open_one(app, org, account, name="core  RENEWAL", at=at(3))
    with unchanged(app), pytest.raises(ProjectNotFound):
        app.win_opportunity(opportunity_id, org.kam, project_id=uuid4(), at=at(3))
    with unchanged(app), pytest.raises(ProjectOfAnotherAccount):
        app.win_opportunity(opportunity_id, org.kam, project_id=foreign, at=at(3))
    with unchanged(app), pytest.raises(OpportunityNotFound):
        app.lose_opportunity(uuid4(), org.kam, reason="r", at=at(3))


def test_an_account_that_is_not_key_gets_no_opportunity(app: KamApplication, org: Org) -> None:
    """Given an account registered but not designated key, when a director opens an
    opportunity for it, then it is refused and nothing is recorded."""
    plain = app.register_account(
        org.team_id, org.director, name="Gamma", industry="retail", region="east", at=at(0)
    )

    with unchanged(app), pytest.raises(AccountNotKey):
        app.open_opportunity(
            plain, org.director, name="Shops", amount=cny(10), expected_close=at(9), at=at(1)
        )


def test_the_stage_probabilities_are_configuration_recorded_as_events(
    app: KamApplication, org: Org
) -> None:
    """Given a team on the default probabilities, when a sales director sets its own on day 2
    and changes them on day 4, then each moment reads the probabilities then in force."""
    app.set_stage_probabilities(
        org.team_id, org.director, probabilities=StageProbabilities.of(proposal=40), at=at(2)
    )
    app.set_stage_probabilities(
        org.team_id, org.senior, probabilities=StageProbabilities.of(proposal=60), at=at(4)
    )

    assert app.stage_probabilities(org.team_id, at=at(1)) == DEFAULT_PROBABILITIES
    assert app.stage_probabilities(org.team_id, at=at(3)).proposal == Percentage.of(40)
    assert app.stage_probabilities(org.team_id).proposal == Percentage.of(60)
    assert app.pipeline_settings(org.team_id, at=at(1)) is None


def test_only_a_director_sets_the_probabilities_through_the_facade(
    app: KamApplication, org: Org
) -> None:
    """Given a team, when its KAM sets the stage probabilities, then it is refused and nothing
    is recorded."""
    with unchanged(app), pytest.raises(RoleRequired):
        app.set_stage_probabilities(org.team_id, org.kam, probabilities=DEFAULT_PROBABILITIES)


def test_a_pipeline_currency_binds_the_opportunities_opened_after_it(
    app: KamApplication, org: Org, account: AccountId
) -> None:
    """Given a team whose pipeline is set to CNY, when an opportunity is opened in USD, then
    it is refused and nothing is recorded."""
    app.set_stage_probabilities(
        org.team_id, org.director, probabilities=DEFAULT_PROBABILITIES, currency="CNY", at=at(1)
    )

    with unchanged(app), pytest.raises(CurrencyMismatch):
        open_one(app, org, account, amount=Money.of(1000, "USD"), at=at(2))


def test_listing_needs_a_team_or_an_account(app: KamApplication) -> None:
    """Listing opportunities of nothing in particular is refused."""
    with pytest.raises(ValidationError):
        app.opportunities()


def test_a_sqlite_store_with_opportunities_reopens_and_replays(tmp_path: Path) -> None:
    """Given a SQLite store with an opportunity and pipeline settings, when it is reopened,
    then the records replay from their stored events as they were."""
    url = f"sqlite:///{tmp_path / 'kam.db'}"
    app = KamApplication(url, policies=PolicyRegistry())
    org = build_org(app)
    account = key_account(app, org)
    opportunity_id = open_one(app, org, account)
    app.lose_opportunity(opportunity_id, org.kam, reason="budget cut", at=at(2))
    app.set_stage_probabilities(
        org.team_id, org.director, probabilities=StageProbabilities.of(qualification=30), at=at(3)
    )
    app.close()

    reopened = KamApplication(url, policies=PolicyRegistry(), read_only=True)
    try:
        opportunity = reopened.get_opportunity(opportunity_id)
        assert opportunity.stage is Stage.CLOSED_LOST
        assert opportunity.lost_reason == "budget cut"
        assert reopened.stage_probabilities(org.team_id).qualification == Percentage.of(30)
    finally:
        reopened.close()


def test_a_project_knows_the_opportunity_it_came_from_and_came_from_one(
    app: KamApplication, org: Org, account: AccountId
) -> None:
    """Given an opportunity won as a project, then the project's opportunity is that one, and
    winning a second opportunity with the same project is refused, nothing recorded."""
    first = open_one(app, org, account)
    second = open_one(app, org, account, name="Core renewal, second site")
    project = app.initiate_project(
        account,
        org.kam,
        name="Core",
        currency="CNY",
        project_director_id=org.project_director,
        at=at(2),
    )
    assert app.opportunity_of_project(project) is None

    app.win_opportunity(first, org.kam, project_id=project, at=at(3))

    found = app.opportunity_of_project(project)
    assert found is not None
    assert found.id == first
    with unchanged(app), pytest.raises(AlreadyExists, match=r"^project_id"):
        app.win_opportunity(second, org.kam, project_id=project, at=at(4))


def test_the_pipeline_currency_stays_until_a_director_changes_or_lifts_it(
    app: KamApplication, org: Org
) -> None:
    """Given a pipeline in CNY, when only the probabilities are changed the currency stays;
    when None is given, any currency is accepted again."""
    app.set_stage_probabilities(
        org.team_id, org.director, probabilities=DEFAULT_PROBABILITIES, currency="CNY", at=at(1)
    )

    app.set_stage_probabilities(
        org.team_id, org.director, probabilities=StageProbabilities.of(proposal=60), at=at(2)
    )
    kept = app.pipeline_settings(org.team_id)
    app.set_stage_probabilities(
        org.team_id, org.director, probabilities=DEFAULT_PROBABILITIES, currency=None, at=at(3)
    )
    lifted = app.pipeline_settings(org.team_id)

    assert kept is not None
    assert kept.currency == "CNY"
    assert lifted is not None
    assert lifted.currency is None
