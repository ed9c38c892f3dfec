"""Given-when-then tests of the target decomposition policy (分解落实): children add up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam_domain.aggregates.target import (
    RevenueGoal,
    SatisfactionGoal,
    ServiceLevelGoal,
    Target,
    TargetScope,
)
from kam_domain.application import KamApplication
from kam_domain.policies.decomposition import DecompositionPolicy
from kam_domain.values import Money, Period
from tests.conftest import build_org, key_account
from tests.policies.target_story import Q1, YEAR, TargetStory, cny, day


def team_plan(story: TargetStory, *goals: object) -> Target:
    """Given: the team's Q1 target (revenue 1000 CNY unless other goals are given)."""
    chosen = goals or (RevenueGoal(cny(1000)),)
    return story.set_target(TargetScope.team(story.team.id), chosen)


def kam_share(story: TargetStory, parent: Target, amount: int, *, second: bool = False) -> Target:
    """Given: a KAM's Q1 revenue target as part of ``parent``."""
    kam = story.kam2 if second else story.kam
    return story.set_target(TargetScope.member(kam), (RevenueGoal(cny(amount)),), parent=parent)


def test_flags_children_that_fall_short_of_the_parent() -> None:
    """One KAM's 600 of the team's 1000: a gap of 400 on revenue."""
    story = TargetStory(DecompositionPolicy())
    parent = team_plan(story)

    decision = story.target_set(
        TargetScope.member(story.kam), (RevenueGoal(cny(600)),), parent=parent
    )

    assert decision is not None
    assert decision.outcome == "flag"
    assert decision.actions == ()
    assert decision.reason == (
        f"the children of team {story.team.id} 2026-Q1 do not add up to it: "
        "sales_revenue -400.00 CNY"
    )
    line = decision.inputs[f"parent {parent.id} sales_revenue"]
    assert line == (
        "{parent goal: 1,000.00 CNY, children sum: 600.00 CNY, children setting it: 1, "
        "gap: 400.00 CNY}"
    )
    summary = decision.inputs[f"parent {parent.id}"]
    assert "status: gap" in summary
    assert "previously: not checked" in summary


def test_flags_children_that_exceed_the_parent() -> None:
    """Two KAMs' 700 + 500 exceed the team's 1000 by 200."""
    story = TargetStory(DecompositionPolicy())
    parent = team_plan(story)
    kam_share(story, parent, 700)

    decision = story.target_set(
        TargetScope.member(story.kam2), (RevenueGoal(cny(500)),), parent=parent
    )

    assert decision is not None
    assert decision.outcome == "flag"
    assert "excess: 200.00 CNY" in decision.inputs[f"parent {parent.id} sales_revenue"]
    assert "previously: gap" in decision.inputs[f"parent {parent.id}"]


def test_no_decision_when_children_add_up_at_the_first_check() -> None:
    """A single child equal to its parent leaves nothing to report."""
    story = TargetStory(DecompositionPolicy())
    parent = team_plan(story)

    decision = story.target_set(
        TargetScope.member(story.kam), (RevenueGoal(cny(1000)),), parent=parent
    )

    assert decision is None


def test_records_consistent_when_a_later_child_closes_the_gap() -> None:
    """600 then 400 of 1000: the open gap is closed, and that is recorded."""
    story = TargetStory(DecompositionPolicy())
    parent = team_plan(story)
    kam_share(story, parent, 600)

    decision = story.target_set(
        TargetScope.member(story.kam2), (RevenueGoal(cny(400)),), parent=parent
    )

    assert decision is not None
    assert decision.outcome == "consistent"
    assert decision.reason == (
        f"the children of team {story.team.id} 2026-Q1 now add up to it on every metric"
    )
    assert "gap: none" in decision.inputs[f"parent {parent.id} sales_revenue"]
    assert "previously: gap" in decision.inputs[f"parent {parent.id}"]


def test_records_consistent_when_the_parent_is_revised_to_match() -> None:
    """Revising the parent down to what its children allocate closes the gap."""
    story = TargetStory(DecompositionPolicy())
    parent = team_plan(story)
    kam_share(story, parent, 600)

    decision = story.target_revised(parent, (RevenueGoal(cny(600)),))

    assert decision is not None
    assert decision.outcome == "consistent"


def test_flags_a_parent_revised_away_from_its_children() -> None:
    """Raising the parent after its children added up opens a gap."""
    story = TargetStory(DecompositionPolicy())
    parent = team_plan(story)
    kam_share(story, parent, 1000)

    decision = story.target_revised(parent, (RevenueGoal(cny(1500)),))

    assert decision is not None
    assert decision.outcome == "flag"
    assert "gap: 500.00 CNY" in decision.inputs[f"parent {parent.id} sales_revenue"]
    assert "previously: consistent" in decision.inputs[f"parent {parent.id}"]


def test_the_same_gap_is_not_flagged_twice() -> None:
    """A child's revision of a metric the parent does not set changes nothing to report."""
    story = TargetStory(DecompositionPolicy())
    parent = team_plan(story)
    child = kam_share(story, parent, 600)

    decision = story.target_revised(child, (RevenueGoal(cny(600)), SatisfactionGoal(80)))

    assert decision is None


def test_a_changed_gap_is_flagged_again() -> None:
    """A child revised from 600 to 700 leaves a different gap: flagged anew."""
    story = TargetStory(DecompositionPolicy())
    parent = team_plan(story)
    child = kam_share(story, parent, 600)

    decision = story.target_revised(child, (RevenueGoal(cny(700)),))

    assert decision is not None
    assert decision.outcome == "flag"
    assert "gap: 300.00 CNY" in decision.inputs[f"parent {parent.id} sales_revenue"]


def test_levels_are_compared_with_the_childrens_mean() -> None:
    """Service levels 90 and 96 average 93, short of the team's 95 by 2."""
    story = TargetStory(DecompositionPolicy())
    parent = team_plan(story, ServiceLevelGoal(95))
    story.set_target(TargetScope.member(story.kam), (ServiceLevelGoal(90),), parent=parent)

    decision = story.target_set(
        TargetScope.member(story.kam2), (ServiceLevelGoal(96),), parent=parent
    )

    assert decision is not None
    line = decision.inputs[f"parent {parent.id} service_level"]
    assert line == "{parent goal: 95, children mean: 93.00, children setting it: 2, gap: 2.00}"


def test_a_metric_no_child_sets_is_a_gap() -> None:
    """The team sets satisfaction; its KAM's target does not: nothing allocated to it."""
    story = TargetStory(DecompositionPolicy())
    parent = team_plan(story, RevenueGoal(cny(1000)), SatisfactionGoal(85))

    decision = story.target_set(
        TargetScope.member(story.kam), (RevenueGoal(cny(1000)),), parent=parent
    )

    assert decision is not None
    assert decision.outcome == "flag"
    line = decision.inputs[f"parent {parent.id} customer_satisfaction"]
    assert "children setting it: 0" in line
    assert "gap: 85.00" in line


def test_a_revised_middle_target_checks_its_parent_and_its_children() -> None:
    """A KAM target under the team and over an account target: both levels are reported."""
    story = TargetStory(DecompositionPolicy())
    team = team_plan(story)
    account = story.account("Acme", story.kam)
    middle = kam_share(story, team, 1000)
    story.set_target(TargetScope.account(account), (RevenueGoal(cny(1000)),), parent=middle)

    decision = story.target_revised(middle, (RevenueGoal(cny(800)),))

    assert decision is not None
    assert decision.outcome == "flag"
    assert "gap: 200.00 CNY" in decision.inputs[f"parent {team.id} sales_revenue"]
    assert "excess: 200.00 CNY" in decision.inputs[f"parent {middle.id} sales_revenue"]
    assert list(decision.inputs) == [
        f"parent {team.id}",
        f"parent {team.id} sales_revenue",
        f"parent {middle.id}",
        f"parent {middle.id} sales_revenue",
    ]


def test_quarter_children_count_towards_a_year_parent() -> None:
    """A yearly team plan decomposed into a quarter's KAM target: the quarter falls short."""
    story = TargetStory(DecompositionPolicy())
    parent = story.set_target(
        TargetScope.team(story.team.id), (RevenueGoal(cny(4000)),), period=YEAR
    )

    decision = story.target_set(
        TargetScope.member(story.kam), (RevenueGoal(cny(1000)),), period=Q1, parent=parent
    )

    assert decision is not None
    assert "gap: 3,000.00 CNY" in decision.inputs[f"parent {parent.id} sales_revenue"]


def test_a_child_revenue_in_another_currency_is_flagged_as_not_comparable() -> None:
    """A child that later adds revenue in USD cannot be summed with the parent's CNY."""
    story = TargetStory(DecompositionPolicy())
    parent = team_plan(story, RevenueGoal(cny(1000)), ServiceLevelGoal(90))
    child = story.set_target(TargetScope.member(story.kam), (ServiceLevelGoal(90),), parent=parent)

    usd = (RevenueGoal(Money.of(1000, "USD")), ServiceLevelGoal(90))
    decision = story.target_revised(child, usd)

    assert decision is not None
    assert decision.outcome == "flag"
    assert "cannot be compared with it" in decision.reason
    assert "status: not comparable" in decision.inputs[f"parent {parent.id}"]


def test_a_target_without_parent_or_children_is_not_checked() -> None:
    """Setting a lone target decides nothing."""
    story = TargetStory(DecompositionPolicy())

    decision = story.target_set(TargetScope.team(story.team.id), (RevenueGoal(cny(1000)),))

    assert decision is None


def test_deciding_twice_on_the_same_world_gives_equal_decisions() -> None:
    """The decision is a function of the log up to its cause."""
    story = TargetStory(DecompositionPolicy())
    parent = team_plan(story)
    first = story.target_set(TargetScope.member(story.kam), (RevenueGoal(cny(600)),), parent=parent)

    again = story.policy.decide(story.last_event, story.scenario.world)

    assert first is not None
    assert again == first


@given(shares=st.lists(st.integers(1, 1000), min_size=1, max_size=6), total=st.integers(1, 3000))
def test_flags_exactly_while_the_running_sum_differs(shares: list[int], total: int) -> None:
    """Children set one by one: each set is flagged iff the sum differs from the parent (with
    the gap as parent minus sum), and a sum that comes to match after a flag is consistent."""
    story = TargetStory(DecompositionPolicy())
    parent = team_plan(story, RevenueGoal(cny(total)))
    account_ids = [story.account(f"Client {i}", story.kam) for i in range(len(shares))]
    running, flagged_before = 0, False

    for account_id, share in zip(account_ids, shares, strict=True):
        decision = story.target_set(
            TargetScope.account(account_id), (RevenueGoal(cny(share)),), parent=parent
        )
        running += share

        if running == total:
            assert (decision.outcome if decision else None) == (
                "consistent" if flagged_before else None
            )
        else:
            assert decision is not None
            assert decision.outcome == "flag"
            word = "gap" if running < total else "excess"
            amount = Money.of(abs(total - running), "CNY")
            assert f"{word}: {amount}" in decision.inputs[f"parent {parent.id} sales_revenue"]
            flagged_before = True


# -- through the application -------------------------------------------------------------------


@pytest.fixture(name="policy_app")
def fixture_policy_app(store: str) -> Iterator[KamApplication]:
    app = KamApplication(store, policies=[DecompositionPolicy])
    yield app
    app.close()


def test_the_application_records_the_gap_and_its_closing(policy_app: KamApplication) -> None:
    """Through the facade: a team target, a short KAM target, then the rest on an account."""
    app = policy_app
    org = build_org(app)
    account = key_account(app, org, kam=org.kam2)
    q1 = Period.parse("2026-Q1")
    parent = app.set_target(
        org.team_id,
        org.senior,
        scope=TargetScope.team(org.team_id),
        period=q1,
        goals=(RevenueGoal(cny(1000)),),
        at=day(1),
    )
    app.set_target(
        org.team_id,
        org.director,
        scope=TargetScope.member(org.kam),
        period=q1,
        goals=(RevenueGoal(cny(700)),),
        parent_id=parent,
        at=day(2),
    )

    app.set_target(
        org.team_id,
        org.director,
        scope=TargetScope.account(account),
        period=q1,
        goals=(RevenueGoal(cny(300)),),
        parent_id=parent,
        at=day(3),
    )

    decisions = app.decisions("target_decomposition")
    assert [d.outcome for d in decisions] == ["flag", "consistent"]
    assert decisions[0].inputs[f"parent {parent} sales_revenue"].endswith("gap: 300.00 CNY}")
