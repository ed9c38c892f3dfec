"""The forecast of a period: committed, weighted pipeline and best case per member and team
against the period's revenue goals; its totals are the sums of their opportunities, and a
forecast as of a moment is reproduced from the log after later changes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kam_domain.aggregates.opportunity import (
    DEFAULT_PROBABILITIES,
    OPEN_STAGES,
    Opportunity,
    OpportunityStage,
    StageProbabilities,
)
from kam_domain.aggregates.target import RevenueGoal, TargetScope
from kam_domain.application import KamApplication
from kam_domain.audit.records import open_app
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.reports.forecast import COMMITTED, PIPELINE, forecast
from kam_domain.reports.forecast_reading import read_forecast
from kam_domain.values import (
    AccountId,
    Money,
    OpportunityId,
    Percentage,
    Period,
    ProjectId,
    Role,
    TeamId,
)
from tests import support
from tests.conftest import Org, build_org, key_account
from tests.support import at, creds, history, meta

Stage = OpportunityStage
Q1 = Period.parse("2026-Q1")
TEAM = TeamId(uuid4())
ACCOUNT = AccountId(uuid4())
OWNERS = [creds(Role.KEY_ACCOUNT_MANAGER, team_id=TEAM) for _ in range(3)]
OUTCOMES = [*OPEN_STAGES, Stage.CLOSED_WON, Stage.CLOSED_LOST]


def cny(amount: int) -> Money:
    return Money.of(amount, "CNY")


def record(
    owner: int, currency: str, amount: Decimal, close_day: int, outcome: OpportunityStage
) -> Opportunity:
    """An opportunity its owner opened on day 0, expected to close on ``close_day``, then
    moved to ``outcome`` (won or lost on ``close_day``)."""
    by = OWNERS[owner]
    kam = by.member_id
    opportunity = Opportunity.open(
        meta(by, at(0)),
        by,
        OpportunityId(uuid4()),
        team_id=TEAM,
        account_id=ACCOUNT,
        name="deal",
        amount=Money.of(amount, currency),
        expected_close=at(close_day),
        owned_by=by,
        account_manager_id=kam,
        account_is_key=True,
    )
    when = meta(by, at(close_day))
    if outcome is Stage.CLOSED_WON:
        opportunity.win(
            when,
            by,
            account_manager_id=kam,
            project_id=ProjectId(uuid4()),
            project_account_id=ACCOUNT,
        )
    elif outcome is Stage.CLOSED_LOST:
        opportunity.lose(when, by, account_manager_id=kam, reason="lost")
    elif outcome is not Stage.PROSPECTING:
        opportunity.move_to_stage(meta(by, at(0)), by, stage=outcome, account_manager_id=kam)
    return support.given(history(opportunity))  # type: ignore[no-any-return]


deals = st.builds(
    record,
    st.integers(0, len(OWNERS) - 1),
    st.sampled_from(["CNY", "USD"]),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e9"), places=2),
    st.integers(0, 200),
    st.sampled_from(OUTCOMES),
)
percentages = st.decimals(min_value=0, max_value=100, places=2).map(Percentage)
probabilities = st.builds(StageProbabilities, *[percentages for _ in OPEN_STAGES])


def _sum(amounts: list[Money], currency: str) -> Money:
    return sum(amounts, Money.zero(currency))


@settings(max_examples=60, deadline=None)
@given(st.lists(deals, max_size=12), probabilities)
def test_forecast_totals_are_the_sums_of_their_opportunities(
    records: list[Opportunity], chances: StageProbabilities
) -> None:
    """For any opportunities and probabilities, each line's committed is the sum of the won
    amounts closed in the quarter, its weighted the sum of the open amounts expected in it
    times their stage's probability, its best case committed plus those open amounts; and the
    members' lines add up to the team's, per currency."""
    result = forecast(Q1, records, chances, team_id=TEAM, team_name="East")

    for line in result.lines:
        mine = [
            o
            for o in records
            if o.currency == line.currency
            and (line.member_id is None or o.owner_id == line.member_id)
            and Q1.contains(o.close_date)
        ]
        won = [o.amount for o in mine if o.stage is Stage.CLOSED_WON]
        open_ = [o for o in mine if o.stage.is_open]
        assert line.committed == _sum(won, line.currency)
        assert line.weighted == _sum(
            [o.amount * chances.probability(o.stage).fraction for o in open_], line.currency
        )
        assert line.best_case == line.committed + _sum([o.amount for o in open_], line.currency)
        assert (line.won, line.open) == (len(won), len(open_))
    for team in result.team_lines:
        members = [m for m in result.member_lines if m.currency == team.currency]
        for figure in ("committed", "weighted", "best_case"):
            total = _sum([getattr(m, figure) for m in members], team.currency)
            assert total == getattr(team, figure)
    counted = {item.opportunity_id for item in result.items}
    assert counted == {
        o.id for o in records if o.stage is not Stage.CLOSED_LOST and Q1.contains(o.close_date)
    }


def test_only_won_in_the_period_is_committed_and_only_open_expected_in_it_is_pipeline() -> None:
    """Given a deal won in the quarter, one won after it, one lost, one open in negotiation
    expected in the quarter and one expected after it, then committed counts the first,
    weighted 75 % of the negotiation, best case both in full."""
    records = [
        record(0, "CNY", Decimal(1000), 30, Stage.CLOSED_WON),
        record(0, "CNY", Decimal(5000), 120, Stage.CLOSED_WON),
        record(0, "CNY", Decimal(7000), 30, Stage.CLOSED_LOST),
        record(0, "CNY", Decimal(400), 40, Stage.NEGOTIATION),
        record(0, "CNY", Decimal(900), 150, Stage.PROPOSAL),
    ]

    result = forecast(Q1, records, DEFAULT_PROBABILITIES, team_id=TEAM, team_name="East")

    (team,) = result.team_lines
    assert (team.committed, team.weighted, team.best_case) == (cny(1000), cny(300), cny(1400))
    assert sorted(item.counts_as for item in result.items) == [COMMITTED, PIPELINE]


# -- read from the record, as of a moment ---------------------------------------------------------


@pytest.fixture(name="story")
def fixture_story(tmp_path: Path) -> tuple[str, Org, dict[str, Any]]:
    """A SQLite store where, by day 5, the KAM has a won deal and an open one in Q1 against a
    6000 CNY goal and the team a 10000 CNY goal; the forecast as it stood then is kept."""
    url = f"sqlite:///{tmp_path / 'kam.db'}"
    app = KamApplication(url, policies=PolicyRegistry())
    org = build_org(app)
    account = key_account(app, org)
    team_goal = app.set_target(
        org.team_id,
        org.senior,
        scope=TargetScope.team(org.team_id),
        period=Q1,
        goals=(RevenueGoal(cny(10000)),),
        at=at(1),
    )
    app.set_target(
        org.team_id,
        org.director,
        scope=TargetScope.member(org.kam),
        period=Q1,
        goals=(RevenueGoal(cny(6000)),),
        at=at(1),
    )
    won = app.open_opportunity(
        account, org.kam, name="Core", amount=cny(3000), expected_close=at(40), at=at(2)
    )
    project = app.initiate_project(
        account,
        org.kam,
        name="Core",
        currency="CNY",
        project_director_id=org.project_director,
        at=at(3),
    )
    app.win_opportunity(won, org.kam, project_id=project, at=at(4))
    edge = app.open_opportunity(
        account,
        org.kam,
        name="Edge",
        amount=cny(2000),
        expected_close=at(50),
        stage=Stage.PROPOSAL,
        at=at(5),
    )
    then = read_forecast(app, org.team_id, Q1).as_dict()
    # Later: the open deal advances and grows, the probabilities change, a new deal opens,
    # the team's goal is revised.
    app.move_opportunity(edge, org.kam, stage=Stage.NEGOTIATION, at=at(6))
    app.revise_opportunity(edge, org.kam, reason="more sites", amount=cny(2600), at=at(7))
    app.set_stage_probabilities(
        org.team_id, org.director, probabilities=StageProbabilities.of(negotiation=90), at=at(8)
    )
    app.open_opportunity(
        account, org.kam, name="Cloud", amount=cny(800), expected_close=at(60), at=at(9)
    )
    app.revise_target(
        team_goal, org.senior, goals=(RevenueGoal(cny(12000)),), reason="new plan", at=at(10)
    )
    app.close()
    return url, org, then


def test_the_forecast_per_member_and_team_against_the_goals(
    story: tuple[str, Org, dict[str, Any]],
) -> None:
    """Given the story by day 5, then the KAM's and the team's lines show 3000 committed, 1000
    weighted (50 % of 2000 in proposal), 5000 best case, against their own goals."""
    _, _, then = story

    lines = {line["scope"]: line for line in then["lines"]}
    assert (lines["team"]["committed"], lines["team"]["weighted"]) == ("3000.00", "1000.00")
    assert lines["team"]["best_case"] == "5000.00"
    assert lines["team"]["goal"] == "10000.00"
    assert lines["member"]["name"] == "Li Manager"
    assert lines["member"]["goal"] == "6000.00"
    assert lines["member"]["committed_of_goal"] == "50.0"
    assert lines["member"]["forecast_of_goal"] == "66.7"


def test_a_forecast_as_of_a_moment_is_reproduced_from_the_log_after_later_changes(
    story: tuple[str, Org, dict[str, Any]],
) -> None:
    """Given a forecast made on day 5 and later changes to the deals, the probabilities and the
    goals, when the store is reopened read-only and asked for the forecast as of day 5, then
    it gives the forecast made then; asked as it stands, it shows the changes."""
    url, org, then = story
    moment = at(5, hours=12)

    with open_app(url) as app:
        again = read_forecast(app, "east key accounts", Q1, at=moment).as_dict()
        now = read_forecast(app, org.team_id, Q1).as_dict()

    assert again["as_of"] == moment.isoformat()
    assert {**again, "as_of": None} == then
    team_now = next(line for line in now["lines"] if line["scope"] == "team")
    assert team_now["weighted"] == "2420.00"  # 90 % of 2600, and 10 % of 800
    assert team_now["goal"] == "12000.00"
    assert len(now["opportunities"]) == 3


def test_the_forecast_before_anything_was_opened_is_empty_but_for_the_goals(
    story: tuple[str, Org, dict[str, Any]],
) -> None:
    """Given the story, when the forecast is asked as of day 1 (goals set, nothing opened),
    then the lines carry the goals with nothing committed or expected."""
    url, org, _ = story

    with open_app(url) as app:
        early = read_forecast(app, org.team_id, Q1, at=at(1, hours=1))

    assert early.items == ()
    assert {line.goal for line in early.lines} == {cny(10000), cny(6000)}
    assert all(line.best_case == cny(0) for line in early.lines)
