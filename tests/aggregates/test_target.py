"""Given-when-then tests of the Target aggregate: set, revise, close, evaluate, sign off, plan."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.target import (
    ATTAINMENT_CAP,
    RevenueActual,
    RevenueGoal,
    SatisfactionActual,
    SatisfactionGoal,
    ScopeKind,
    ServiceLevelActual,
    ServiceLevelGoal,
    Signatory,
    Target,
    TargetScope,
    score_of,
)
from kam_domain.aggregates.team import EvaluationStandard, RatingBand
from kam_domain.errors import (
    CurrencyMismatch,
    InvalidTransition,
    MemberInactive,
    NoAccountableManager,
    NotAuthorised,
    PeriodClosed,
    PeriodNotClosed,
    RoleRequired,
    SelfApproval,
    SignOffIncomplete,
    SupervisorRequired,
    TimestampOutOfOrder,
    ValidationError,
)
from kam_domain.values import Actor, Metric, Money, Period, Role, TargetId, TeamId
from tests.support import at, creds, history, meta, recorded, then, unchanged

Q1 = Period.parse("2026-Q1")
YEAR = Period.parse("2026")
#: A moment after the first quarter ended.
AFTER_Q1 = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
POLICY = Actor.policy("evaluation", 1)


def cny(amount: int | str) -> Money:
    return Money.of(amount, "CNY")


GOALS = (RevenueGoal(cny(1000)), ServiceLevelGoal(95), SatisfactionGoal(85))
ON_GOAL = (RevenueActual(cny(1000)), ServiceLevelActual(95), SatisfactionActual(85))
POOR = (RevenueActual(cny(300)), ServiceLevelActual(50), SatisfactionActual(40))


@dataclass(frozen=True)
class Cast:
    """One team's people as their credentials: a KAM supervised by ``director``."""

    team_id: TeamId
    senior: Credentials
    director: Credentials  # supervises kam and kam2
    other_director: Credentials  # supervises nobody here
    kam: Credentials
    kam2: Credentials
    rep: Credentials
    left: Credentials  # a director who has left the team
    outsider: Credentials  # a director of another team


@pytest.fixture(name="c")
def fixture_cast() -> Cast:
    team_id = TeamId(uuid4())
    director = creds(Role.SALES_DIRECTOR, name="Zhao", team_id=team_id)
    kam = creds(
        Role.KEY_ACCOUNT_MANAGER, name="Li", team_id=team_id, supervisor_id=director.member_id
    )
    return Cast(
        team_id=team_id,
        senior=creds(Role.SENIOR_SALES_DIRECTOR, name="Wang", team_id=team_id),
        director=director,
        other_director=creds(Role.SALES_DIRECTOR, name="Qian", team_id=team_id),
        kam=kam,
        kam2=creds(
            Role.KEY_ACCOUNT_MANAGER,
            name="Chen",
            team_id=team_id,
            supervisor_id=director.member_id,
        ),
        rep=creds(
            Role.KEY_ACCOUNT_REPRESENTATIVE,
            name="Sun",
            team_id=team_id,
            supervisor_id=kam.member_id,
        ),
        left=creds(Role.SALES_DIRECTOR, name="Gone", team_id=team_id, active=False),
        outsider=creds(Role.SALES_DIRECTOR, name="Far"),
    )


def member_target(
    c: Cast,
    *,
    goals: tuple[Any, ...] = GOALS,
    period: Period = Q1,
    parent: Target | None = None,
) -> Target:
    """Given: a member target for ``c.kam`` set by their director, its history collected."""
    target = Target.set(
        meta(c.director),
        c.director,
        c.kam,
        TargetId(uuid4()),
        team_id=c.team_id,
        scope=TargetScope.member(c.kam.member_id),
        period=period,
        goals=goals,
        parent=parent,
    )
    history(target)
    return target


def team_target(c: Cast, *, goals: tuple[Any, ...] = GOALS, period: Period = Q1) -> Target:
    target = Target.set(
        meta(c.senior),
        c.senior,
        None,
        TargetId(uuid4()),
        team_id=c.team_id,
        scope=TargetScope.team(c.team_id),
        period=period,
        goals=goals,
    )
    history(target)
    return target


def account_target(
    c: Cast, *, kam: Credentials | None, parent: Target | None = None, goals: Any = GOALS
) -> Target:
    by = kam or c.director
    target = Target.set(
        meta(by),
        by,
        kam,
        TargetId(uuid4()),
        team_id=c.team_id,
        scope=TargetScope.account(uuid4()),
        period=Q1,
        goals=goals,
        parent=parent,
    )
    history(target)
    return target


def evaluated(target: Target, actuals: tuple[Any, ...] = ON_GOAL) -> Target:
    """Given: the period closed and evaluated by the evaluation policy."""
    target.close_period(meta(POLICY, AFTER_Q1), None)
    target.evaluate(meta(POLICY, at(90)), None, EvaluationStandard.default(), actuals=actuals)
    history(target)
    return target


def signed(target: Target, c: Cast) -> Target:
    target.sign_off(meta(c.kam, at(91)), c.kam, c.kam, signatory=Signatory.KAM, comments="Agreed")
    target.sign_off(
        meta(c.director, at(92)), c.director, c.kam, signatory=Signatory.SUPERVISOR, comments="Ok"
    )
    history(target)
    return target


# -- set ---------------------------------------------------------------------------------------


def test_director_sets_a_member_target_with_goals_in_metric_order(c: Cast) -> None:
    """A director sets a KAM's quarterly target; the goals are kept in metric order."""
    shuffled = (SatisfactionGoal(85), RevenueGoal(cny(1000)), ServiceLevelGoal(95))

    target = Target.set(
        meta(c.director),
        c.director,
        c.kam,
        TargetId(uuid4()),
        team_id=c.team_id,
        scope=TargetScope.member(c.kam.member_id),
        period=Q1,
        goals=shuffled,
    )

    [event] = recorded(target)
    assert isinstance(event, Target.Set)
    assert event.goals == GOALS
    assert event.kam_id == c.kam.member_id
    assert target.current_goals == GOALS
    assert target.scope.kind is ScopeKind.MEMBER


def test_senior_director_sets_the_team_target(c: Cast) -> None:
    """A senior sales director sets the team's target, which has no KAM of its own."""
    target = Target.set(
        meta(c.senior),
        c.senior,
        None,
        TargetId(uuid4()),
        team_id=c.team_id,
        scope=TargetScope.team(c.team_id),
        period=YEAR,
        goals=GOALS,
    )

    assert then(target) == [Target.Set]
    assert target.kam_id is None
    assert target.period == YEAR


def test_account_kam_sets_their_account_target(c: Cast) -> None:
    """The account's accountable KAM sets the account's target themselves."""
    target = Target.set(
        meta(c.kam),
        c.kam,
        c.kam,
        TargetId(uuid4()),
        team_id=c.team_id,
        scope=TargetScope.account(uuid4()),
        period=Q1,
        goals=(RevenueGoal(cny(200)),),
    )

    assert then(target) == [Target.Set]
    assert target.kam_id == c.kam.member_id


def test_director_sets_the_target_of_an_account_without_kam(c: Cast) -> None:
    """A director sets an account target even while the account has no accountable KAM."""
    target = account_target(c, kam=None)

    assert target.kam_id is None
    assert target.scope.kind is ScopeKind.ACCOUNT


def test_sets_a_child_target_under_a_wider_parent(c: Cast) -> None:
    """A member target for Q1 may be part of the team's target for the year."""
    parent = team_target(c, period=YEAR)

    child = member_target(c, parent=parent)

    assert child.parent_id == parent.id


def test_rejects_an_account_target_set_by_another_kam(c: Cast) -> None:
    """An account's target is set by a director or the account's own KAM, not another KAM."""
    by = c.kam2
    scope = TargetScope.account(uuid4())
    kam = c.kam

    with pytest.raises(RoleRequired):
        Target.set(
            meta(by),
            by,
            kam,
            TargetId(uuid4()),
            team_id=c.team_id,
            scope=scope,
            period=Q1,
            goals=GOALS,
        )


def test_rejects_a_target_set_by_a_member_who_left(c: Cast) -> None:
    """A director who has left the team sets nothing."""
    with pytest.raises(MemberInactive):
        Target.set(
            meta(c.left),
            c.left,
            None,
            TargetId(uuid4()),
            team_id=c.team_id,
            scope=TargetScope.team(c.team_id),
            period=Q1,
            goals=GOALS,
        )


def test_rejects_a_target_set_by_a_director_of_another_team(c: Cast) -> None:
    """Credentials from another team carry no authority over this team's targets."""
    with pytest.raises(NotAuthorised):
        Target.set(
            meta(c.outsider),
            c.outsider,
            None,
            TargetId(uuid4()),
            team_id=c.team_id,
            scope=TargetScope.team(c.team_id),
            period=Q1,
            goals=GOALS,
        )


def test_rejects_a_member_target_for_someone_who_is_not_a_kam(c: Cast) -> None:
    """A member target is a KAM's: a representative's is refused."""
    with pytest.raises(RoleRequired):
        Target.set(
            meta(c.director),
            c.director,
            c.rep,
            TargetId(uuid4()),
            team_id=c.team_id,
            scope=TargetScope.member(c.rep.member_id),
            period=Q1,
            goals=GOALS,
        )


@pytest.mark.parametrize(
    ("scope_of", "kam_of"),
    [
        (lambda c: TargetScope.team(uuid4()), lambda c: None),
        (lambda c: TargetScope.team(c.team_id), lambda c: c.kam),
        (lambda c: TargetScope.member(c.kam.member_id), lambda c: None),
        (lambda c: TargetScope.member(c.kam.member_id), lambda c: c.kam2),
        (lambda c: "member", lambda c: c.kam),
    ],
    ids=["other-team", "team-with-kam", "member-without-kam", "kam-mismatch", "not-a-scope"],
)
def test_rejects_a_scope_that_does_not_fit(
    c: Cast,
    scope_of: Callable[[Cast], Any],
    kam_of: Callable[[Cast], Credentials | None],
) -> None:
    """The scope is this team, a member with their credentials, or an account."""
    with pytest.raises(ValidationError):
        Target.set(
            meta(c.senior),
            c.senior,
            kam_of(c),
            TargetId(uuid4()),
            team_id=c.team_id,
            scope=scope_of(c),
            period=Q1,
            goals=GOALS,
        )


@pytest.mark.parametrize(
    "goals",
    [
        (),
        (RevenueGoal(cny(1)), RevenueGoal(cny(2))),
        ("sales_revenue",),
        "sales_revenue 1000",
        ({"metric": "sales_revenue", "value": 1000},),
        (RevenueActual(cny(1000)),),
    ],
    ids=["none", "duplicate", "string-item", "string", "dict", "actual-not-goal"],
)
def test_rejects_goals_that_are_not_one_goal_per_metric(c: Cast, goals: Any) -> None:
    """Goals are goal values, at least one, each metric at most once."""
    with pytest.raises(ValidationError, match=r"^goals:"):
        member_target(c, goals=goals)


@pytest.mark.parametrize(
    "make",
    [
        lambda: RevenueGoal(cny(0)),
        lambda: RevenueGoal(cny(-5)),
        lambda: RevenueGoal(Decimal(1000)),
        lambda: ServiceLevelGoal(95.0),
        lambda: ServiceLevelGoal(0),
        lambda: ServiceLevelGoal(101),
        lambda: SatisfactionGoal("a lot"),
        lambda: SatisfactionGoal(True),
    ],
    ids=["zero", "negative", "no-currency", "float", "zero-level", "over-100", "text", "bool"],
)
def test_rejects_malformed_goal_values(make: Callable[[], object]) -> None:
    """Revenue goals are positive Money; levels are exact numbers above 0 up to 100."""
    with pytest.raises(ValidationError):
        make()


def test_rejects_an_unknown_currency() -> None:
    """A revenue goal in a currency ISO 4217 does not know is refused."""
    with pytest.raises(ValidationError, match="currency"):
        RevenueGoal(Money.of(100, "ABC"))


def test_rejects_a_target_for_a_period_that_already_ended(c: Cast) -> None:
    """Goals are set before their period ends, not afterwards."""
    with pytest.raises(PeriodClosed):
        Target.set(
            meta(c.director, AFTER_Q1),
            c.director,
            c.kam,
            TargetId(uuid4()),
            team_id=c.team_id,
            scope=TargetScope.member(c.kam.member_id),
            period=Q1,
            goals=GOALS,
        )


def test_rejects_a_parent_that_is_not_wider(c: Cast) -> None:
    """An account target cannot be the parent of a member target."""
    parent = account_target(c, kam=c.kam)

    with pytest.raises(ValidationError, match=r"^parent_id:"):
        member_target(c, parent=parent)


def test_rejects_a_parent_of_the_same_scope_kind(c: Cast) -> None:
    """A member target cannot be part of another member target."""
    parent = member_target(c, period=YEAR)

    with pytest.raises(ValidationError, match=r"^parent_id:"):
        member_target(c, parent=parent)


def test_rejects_a_parent_whose_period_does_not_cover_the_child(c: Cast) -> None:
    """A Q1 team target cannot hold a member target for the whole year."""
    parent = team_target(c, period=Q1)

    with pytest.raises(ValidationError, match=r"^parent_id:"):
        member_target(c, period=YEAR, parent=parent)


def test_rejects_a_parent_of_another_team(c: Cast) -> None:
    """Decomposition stays inside one team."""
    other_team = TeamId(uuid4())
    other_senior = creds(Role.SENIOR_SALES_DIRECTOR, team_id=other_team)
    parent = Target.set(
        meta(other_senior),
        other_senior,
        None,
        TargetId(uuid4()),
        team_id=other_team,
        scope=TargetScope.team(other_team),
        period=YEAR,
        goals=GOALS,
    )

    with pytest.raises(ValidationError, match=r"^parent_id:"):
        member_target(c, parent=parent)


def test_rejects_a_child_revenue_in_another_currency_than_the_parent(c: Cast) -> None:
    """A child's revenue goal is in its parent's currency."""
    parent = team_target(c, period=YEAR)

    with pytest.raises(CurrencyMismatch):
        member_target(c, goals=(RevenueGoal(Money.of(10, "USD")),), parent=parent)


# -- revise ------------------------------------------------------------------------------------


def test_kam_revises_their_own_target_before_the_period_closes(c: Cast) -> None:
    """Before the close the target's KAM revises; before, after, reason and approver recorded."""
    target = member_target(c)
    new = (RevenueGoal(cny(1200)), ServiceLevelGoal(95))

    target.revise(meta(c.kam, at(10)), c.kam, c.kam, goals=new, reason="New contract")

    [event] = recorded(target)
    assert isinstance(event, Target.Revised)
    assert (event.before, event.after, event.after_close) == (GOALS, new, False)
    assert event.approver.member_id == c.kam.member_id
    [revision] = target.revisions
    assert (revision.number, revision.approved_by, revision.approver_role) == (
        1,
        c.kam.member_id,
        Role.KEY_ACCOUNT_MANAGER,
    )
    assert target.current_goals == new


def test_any_director_revises_before_the_period_closes(c: Cast) -> None:
    """Before the close, a director who does not supervise the KAM may revise too."""
    target = member_target(c)

    target.revise(
        meta(c.other_director, at(10)),
        c.other_director,
        c.kam,
        goals=(RevenueGoal(cny(900)),),
        reason="Market shrank",
    )

    assert then(target) == [Target.Revised]
    assert target.current_goals == (RevenueGoal(cny(900)),)
    [revision] = target.revisions
    assert (revision.approved_by, revision.after_close) == (c.other_director.member_id, False)


def test_rejects_a_revision_by_another_kam(c: Cast) -> None:
    """Another KAM cannot revise a colleague's target."""
    target = member_target(c)

    with unchanged(target), pytest.raises(RoleRequired):
        target.revise(
            meta(c.kam2, at(10)), c.kam2, c.kam, goals=(RevenueGoal(cny(1)),), reason="Mine now"
        )


def test_after_the_period_closed_only_the_supervisor_revises(c: Cast) -> None:
    """After the close a sales director who does not supervise the KAM does not revise."""
    target = member_target(c)
    target.close_period(meta(POLICY, AFTER_Q1), None)
    history(target)
    by = c.other_director

    with unchanged(target), pytest.raises(SupervisorRequired):
        target.revise(meta(by, at(95)), by, c.kam, goals=(RevenueGoal(cny(1)),), reason="Late")


def test_the_supervisor_revises_after_close_and_it_is_marked(c: Cast) -> None:
    """The KAM's supervisor revises after close; the revision says so."""
    target = member_target(c)
    target.close_period(meta(POLICY, AFTER_Q1), None)
    history(target)
    by = c.director

    target.revise(meta(by, at(95)), by, c.kam, goals=(RevenueGoal(cny(800)),), reason="Audit")

    assert then(target) == [Target.Revised]
    assert [r.after_close for r in target.revisions] == [True]
    assert target.revised_after_close == target.revisions


def test_a_period_that_ended_counts_as_closed_without_a_recorded_close(c: Cast) -> None:
    """Once the period's end has passed, revising needs the supervisor even before a close."""
    target = member_target(c)

    with unchanged(target), pytest.raises(SupervisorRequired):
        target.revise(
            meta(c.kam, AFTER_Q1), c.kam, c.kam, goals=(RevenueGoal(cny(1)),), reason="Late"
        )

    assert target.is_closed(AFTER_Q1)
    assert not target.is_closed(at(10))


def test_after_close_a_team_target_is_revised_only_by_a_senior_director(c: Cast) -> None:
    """A team target's supervisor is the senior sales director."""
    target = team_target(c)
    target.close_period(meta(c.director, AFTER_Q1), c.director)
    history(target)

    with unchanged(target), pytest.raises(SupervisorRequired):
        target.revise(
            meta(c.director, at(95)), c.director, None, goals=(RevenueGoal(cny(1)),), reason="x"
        )
    target.revise(meta(c.senior, at(95)), c.senior, None, goals=(RevenueGoal(cny(1)),), reason="x")

    assert then(target) == [Target.Revised]
    assert target.current_goals == (RevenueGoal(cny(1)),)
    assert [(r.approved_by, r.after_close) for r in target.revisions] == [
        (c.senior.member_id, True)
    ]


@pytest.mark.parametrize(
    ("goals", "reason", "error"),
    [
        ((RevenueGoal(cny(1200)),), "", ValidationError),
        ((RevenueGoal(cny(1200)),), 42, ValidationError),
        ((), "Because", ValidationError),
        (GOALS, "Because", InvalidTransition),
        ((RevenueGoal(Money.of(1200, "USD")),), "Because", CurrencyMismatch),
    ],
    ids=["empty-reason", "reason-not-text", "no-goals", "unchanged", "other-currency"],
)
def test_rejects_a_malformed_revision(c: Cast, goals: Any, reason: Any, error: type) -> None:
    """A revision changes the goals, keeps the revenue currency and says why."""
    target = member_target(c)

    with unchanged(target), pytest.raises(error):
        target.revise(meta(c.director, at(10)), c.director, c.kam, goals=goals, reason=reason)


def test_rejects_a_revision_once_the_evaluation_is_signed_off(c: Cast) -> None:
    """A signed-off target is final."""
    target = signed(evaluated(member_target(c)), c)

    with unchanged(target), pytest.raises(InvalidTransition):
        target.revise(
            meta(c.senior, at(95)), c.senior, c.kam, goals=(RevenueGoal(cny(1)),), reason="x"
        )


def test_goals_at_a_version_show_the_original_and_each_revision(c: Cast) -> None:
    """The goals at version 1 are the original ones; later versions show each revision."""
    target = member_target(c)
    first = (RevenueGoal(cny(1100)),)
    second = (RevenueGoal(cny(1300)), SatisfactionGoal(90))
    target.revise(meta(c.kam, at(10)), c.kam, c.kam, goals=first, reason="One")
    target.revise(meta(c.kam, at(20)), c.kam, c.kam, goals=second, reason="Two")

    versions = [target.goals_at(version) for version in (1, 2, 3, 99)]

    assert versions == [GOALS, first, second, second]
    assert target.original_goals == list(GOALS)
    with unchanged(target), pytest.raises(ValidationError):
        target.goals_at(0)


def test_rejects_a_command_dated_before_the_last_change(c: Cast) -> None:
    """Effective times move forward: a command cannot be backdated before the last event."""
    target = member_target(c)
    target.revise(meta(c.kam, at(20)), c.kam, c.kam, goals=(RevenueGoal(cny(9)),), reason="x")
    history(target)

    with unchanged(target), pytest.raises(TimestampOutOfOrder):
        target.revise(meta(c.kam, at(10)), c.kam, c.kam, goals=GOALS, reason="Back")


# -- close -------------------------------------------------------------------------------------


def test_policy_closes_the_period_after_it_ends(c: Cast) -> None:
    """A policy closes the period once it has ended; the close time is recorded."""
    target = member_target(c)

    target.close_period(meta(POLICY, AFTER_Q1), None)

    assert then(target) == [Target.PeriodClosed]
    assert target.closed_at == AFTER_Q1


def test_director_closes_the_period(c: Cast) -> None:
    """A director may record the close too."""
    target = member_target(c)

    target.close_period(meta(c.other_director, AFTER_Q1), c.other_director)

    assert then(target) == [Target.PeriodClosed]
    assert target.closed_at == AFTER_Q1


def test_rejects_closing_before_the_period_ends(c: Cast) -> None:
    """A quarter is not closed before its last day has passed."""
    target = member_target(c)

    with unchanged(target), pytest.raises(InvalidTransition, match=r"^period:"):
        target.close_period(meta(POLICY, at(30)), None)


def test_rejects_closing_twice(c: Cast) -> None:
    """The close is recorded once."""
    target = member_target(c)
    target.close_period(meta(POLICY, AFTER_Q1), None)
    history(target)

    with unchanged(target), pytest.raises(InvalidTransition):
        target.close_period(meta(POLICY, at(95)), None)


def test_rejects_a_member_acting_without_credentials(c: Cast) -> None:
    """Only a policy or the system acts without credentials."""
    target = member_target(c)

    with unchanged(target), pytest.raises(ValidationError, match=r"^actor:"):
        target.close_period(meta(c.director, AFTER_Q1), None)


# -- evaluate ----------------------------------------------------------------------------------


def test_policy_evaluates_after_the_close_with_score_rating_and_sources(c: Cast) -> None:
    """Each evaluation keeps the actuals with their source events, standard, score and rating."""
    target = member_target(c)
    target.close_period(meta(POLICY, AFTER_Q1), None)
    history(target)
    payments = (uuid4(), uuid4())
    actuals = (
        RevenueActual(cny(1320), payments),
        ServiceLevelActual(90),
        SatisfactionActual(80),
    )

    target.evaluate(meta(POLICY, at(90)), None, EvaluationStandard.default(), actuals=actuals)

    [event] = recorded(target)
    assert isinstance(event, Target.Evaluated)
    assert event.number == 1
    # 1.2 x 60 (capped) + 90/95 x 20 + 80/85 x 20 = 72 + 18.947 + 18.824
    assert event.score == Decimal("109.77")
    assert (event.rating, event.action_plan_required) == ("A", False)
    evaluation = target.latest_evaluation
    assert evaluation is not None
    assert evaluation.evaluated_by == POLICY
    assert evaluation.actual(Metric.SALES_REVENUE) == RevenueActual(cny(1320), payments)
    assert evaluation.goals == GOALS


def test_evaluation_is_possible_once_the_period_ended_without_a_recorded_close(c: Cast) -> None:
    """The end of the period closes it for evaluation, recorded close or not."""
    target = member_target(c)

    target.evaluate(
        meta(c.director, AFTER_Q1), c.director, EvaluationStandard.default(), actuals=ON_GOAL
    )

    assert then(target) == [Target.Evaluated]
    assert target.closed_at is None
    assert target.latest_evaluation is not None
    assert (target.latest_evaluation.number, target.latest_evaluation.at) == (1, AFTER_Q1)


def test_rejects_an_evaluation_before_the_period_closed(c: Cast) -> None:
    """Actuals of an open period are not evaluated."""
    target = member_target(c)

    with unchanged(target), pytest.raises(PeriodNotClosed):
        target.evaluate(meta(POLICY, at(30)), None, EvaluationStandard.default(), actuals=ON_GOAL)


def test_a_score_under_the_threshold_requires_an_action_plan(c: Cast) -> None:
    """Under the standard's threshold the evaluation requires an action-plan adjustment."""
    target = evaluated(member_target(c), POOR)

    evaluation = target.latest_evaluation
    assert evaluation is not None
    # 300/1000 x 60 + 50/95 x 20 + 40/85 x 20 = 18 + 10.53 + 9.41
    assert evaluation.score == Decimal("37.94")
    assert (evaluation.rating, evaluation.action_plan_required) == ("D", True)
    assert target.action_plan_state().missing


def test_re_evaluation_before_sign_off_gets_the_next_number(c: Cast) -> None:
    """A target is evaluated again until signed off; each evaluation has its own number."""
    target = evaluated(member_target(c), POOR)
    target.sign_off(meta(c.kam, at(91)), c.kam, c.kam, signatory=Signatory.KAM, comments="Hmm")
    history(target)

    target.evaluate(meta(POLICY, at(93)), None, EvaluationStandard.default(), actuals=ON_GOAL)

    assert then(target) == [Target.Evaluated]
    assert [e.number for e in target.evaluations] == [1, 2]
    assert target.sign_off_state().kam is None


def test_rejects_an_evaluation_once_signed_off(c: Cast) -> None:
    """A signed-off evaluation is final."""
    target = signed(evaluated(member_target(c)), c)

    with unchanged(target), pytest.raises(InvalidTransition):
        target.evaluate(meta(POLICY, at(95)), None, EvaluationStandard.default(), actuals=POOR)


@pytest.mark.parametrize(
    ("actuals", "error"),
    [
        (ON_GOAL[:2], ValidationError),
        ((*ON_GOAL, ServiceLevelActual(3)), ValidationError),
        ((RevenueActual(Money.of(1000, "USD")), *ON_GOAL[1:]), CurrencyMismatch),
        ((RevenueGoal(cny(1000)), *ON_GOAL[1:]), ValidationError),
        ("1000", ValidationError),
    ],
    ids=["missing-metric", "duplicate-metric", "other-currency", "goal-not-actual", "text"],
)
def test_rejects_actuals_that_do_not_match_the_goals(
    c: Cast, actuals: Any, error: type[Exception]
) -> None:
    """Actuals give exactly the target's metrics once each, revenue in the goal's currency."""
    target = member_target(c)

    with unchanged(target), pytest.raises(error):
        target.evaluate(meta(POLICY, AFTER_Q1), None, EvaluationStandard.default(), actuals=actuals)


@pytest.mark.parametrize(
    "make",
    [
        lambda: RevenueActual(cny(-1)),
        lambda: RevenueActual(1000),
        lambda: ServiceLevelActual(99.5),
        lambda: SatisfactionActual(101),
        lambda: RevenueActual(cny(1), ("not-an-event",)),
        lambda: RevenueActual(cny(1), "abc"),
    ],
    ids=["negative", "no-money", "float", "over-100", "source-not-uuid", "source-string"],
)
def test_rejects_malformed_actual_values(make: Callable[[], object]) -> None:
    """Actual revenue is Money ≥ 0, levels 0 to 100 exactly, sources are event ids."""
    with pytest.raises(ValidationError):
        make()


def test_rejects_a_standard_that_is_not_an_evaluation_standard(c: Cast) -> None:
    """The standard is the team's EvaluationStandard."""
    target = member_target(c)

    with unchanged(target), pytest.raises(ValidationError, match=r"^standard:"):
        target.evaluate(meta(POLICY, AFTER_Q1), None, "default", actuals=ON_GOAL)  # type: ignore[arg-type]


def test_rejects_a_standard_that_weighs_none_of_the_targets_metrics(c: Cast) -> None:
    """A target scored by a standard that gives its metrics no weight has no score."""
    target = member_target(c, goals=(SatisfactionGoal(80),))
    revenue_only = EvaluationStandard(
        weights=((Metric.SALES_REVENUE, Decimal(100)),), bands=(RatingBand(Decimal(0), "D"),)
    )

    with unchanged(target), pytest.raises(ValidationError, match=r"^standard:"):
        target.evaluate(
            meta(POLICY, AFTER_Q1), None, revenue_only, actuals=(SatisfactionActual(90),)
        )


def test_score_scales_the_weights_of_the_metrics_a_target_sets() -> None:
    """A target with revenue and service only is scored over their weights (60 + 20)."""
    goals = (RevenueGoal(cny(1200)), ServiceLevelGoal(90))
    actuals = (RevenueActual(cny(600)), ServiceLevelActual(95))

    score = score_of(goals, actuals, EvaluationStandard.default())

    # 0.5 x 100 x 60/80 + (95/90) x 100 x 20/80 = 37.5 + 26.39
    assert score == Decimal("63.89")


@given(
    revenue=st.integers(min_value=0, max_value=10_000),
    service=st.integers(min_value=0, max_value=100),
    satisfaction=st.integers(min_value=0, max_value=100),
)
def test_score_stays_between_zero_and_the_cap(
    revenue: int, service: int, satisfaction: int
) -> None:
    """Whatever the actuals, the score lies between 0 and 120 (each metric capped at 1.2)."""
    actuals = (
        RevenueActual(cny(revenue)),
        ServiceLevelActual(service),
        SatisfactionActual(satisfaction),
    )

    score = score_of(GOALS, actuals, EvaluationStandard.default())

    assert Decimal(0) <= score <= ATTAINMENT_CAP * 100


def test_meeting_every_goal_scores_one_hundred() -> None:
    """Actuals equal to the goals score exactly 100."""
    assert score_of(GOALS, ON_GOAL, EvaluationStandard.default()) == Decimal(100)


# -- sign off ----------------------------------------------------------------------------------


def test_kam_and_supervisor_sign_the_evaluation_off(c: Cast) -> None:
    """Both the KAM and the supervisor sign, with comments; then it is signed off and final."""
    target = evaluated(member_target(c))

    target.sign_off(meta(c.kam, at(91)), c.kam, c.kam, signatory=Signatory.KAM, comments="Agreed")
    target.sign_off(
        meta(c.director, at(92)),
        c.director,
        c.kam,
        signatory=Signatory.SUPERVISOR,
        comments="Well done",
        evaluation_number=1,
    )

    assert then(target) == [Target.SignedOff, Target.SignedOff]
    state = target.sign_off_state()
    assert state.complete
    assert target.is_signed_off
    assert state.kam is not None
    assert state.kam.comments == "Agreed"
    assert state.supervisor is not None
    assert state.supervisor.member_id == c.director.member_id
    assert target.final_evaluation().number == 1


def test_one_signature_is_not_a_sign_off(c: Cast) -> None:
    """Until both have signed, the evaluation is not final."""
    target = evaluated(member_target(c))
    target.sign_off(meta(c.kam, at(91)), c.kam, c.kam, signatory=Signatory.KAM, comments="Agreed")
    history(target)

    with unchanged(target), pytest.raises(SignOffIncomplete):
        target.final_evaluation()

    assert not target.is_signed_off


def test_a_senior_director_may_sign_as_supervisor(c: Cast) -> None:
    """Any senior sales director can act as the supervisor."""
    target = evaluated(member_target(c))

    target.sign_off(
        meta(c.senior, at(91)), c.senior, c.kam, signatory=Signatory.SUPERVISOR, comments="Ok"
    )

    assert then(target) == [Target.SignedOff]
    signature = target.sign_off_state().signature(Signatory.SUPERVISOR)
    assert signature is not None
    assert (signature.member_id, signature.comments) == (c.senior.member_id, "Ok")
    assert not target.is_signed_off


def test_a_kam_cannot_sign_as_supervisor(c: Cast) -> None:
    """The KAM signing their own evaluation as supervisor is a self-approval."""
    target = evaluated(member_target(c))

    with unchanged(target), pytest.raises(SelfApproval):
        target.sign_off(
            meta(c.kam, at(91)), c.kam, c.kam, signatory=Signatory.SUPERVISOR, comments="Me"
        )


def test_nobody_signs_in_both_capacities(c: Cast) -> None:
    """A sales director who signed a team target as its KAM cannot, once promoted, supervise it."""
    target = evaluated(team_target(c))
    target.sign_off(
        meta(c.director, at(91)), c.director, None, signatory=Signatory.KAM, comments="Agreed"
    )
    history(target)
    promoted = creds(Role.SENIOR_SALES_DIRECTOR, team_id=c.team_id, member_id=c.director.member_id)

    with unchanged(target), pytest.raises(SelfApproval):
        target.sign_off(
            meta(promoted, at(92)), promoted, None, signatory=Signatory.SUPERVISOR, comments="Ok"
        )


def test_rejects_signing_twice_in_the_same_capacity(c: Cast) -> None:
    """Each capacity signs once."""
    target = evaluated(member_target(c))
    target.sign_off(meta(c.kam, at(91)), c.kam, c.kam, signatory=Signatory.KAM, comments="One")
    history(target)

    with unchanged(target), pytest.raises(InvalidTransition, match=r"^signatory:"):
        target.sign_off(meta(c.kam, at(92)), c.kam, c.kam, signatory=Signatory.KAM, comments="Two")


def test_rejects_someone_else_signing_as_the_kam(c: Cast) -> None:
    """Only the target's own KAM signs as KAM."""
    target = evaluated(member_target(c))

    with unchanged(target), pytest.raises(RoleRequired):
        target.sign_off(meta(c.kam2, at(91)), c.kam2, c.kam, signatory=Signatory.KAM, comments="x")


def test_rejects_a_director_who_does_not_supervise_the_kam(c: Cast) -> None:
    """The supervisor is the KAM's own sales director, or a senior sales director."""
    target = evaluated(member_target(c))

    with unchanged(target), pytest.raises(SupervisorRequired):
        target.sign_off(
            meta(c.other_director, at(91)),
            c.other_director,
            c.kam,
            signatory=Signatory.SUPERVISOR,
            comments="x",
        )


def test_a_team_target_is_signed_by_a_sales_director_and_the_senior_director(c: Cast) -> None:
    """For the team's target, a sales director signs as KAM and a senior director supervises."""
    target = evaluated(team_target(c))

    with unchanged(target), pytest.raises(RoleRequired):
        target.sign_off(
            meta(c.senior, at(91)), c.senior, None, signatory=Signatory.KAM, comments="x"
        )
    with unchanged(target), pytest.raises(SupervisorRequired):
        target.sign_off(
            meta(c.director, at(91)), c.director, None, signatory=Signatory.SUPERVISOR, comments="x"
        )
    target.sign_off(
        meta(c.director, at(91)), c.director, None, signatory=Signatory.KAM, comments="Ok"
    )
    target.sign_off(
        meta(c.senior, at(92)), c.senior, None, signatory=Signatory.SUPERVISOR, comments="Ok"
    )

    assert then(target) == [Target.SignedOff, Target.SignedOff]
    assert target.is_signed_off


def test_an_account_without_kam_cannot_be_signed_as_kam(c: Cast) -> None:
    """An account target needs its accountable KAM to sign as KAM."""
    target = evaluated(account_target(c, kam=None))

    with unchanged(target), pytest.raises(NoAccountableManager):
        target.sign_off(meta(c.kam, at(91)), c.kam, None, signatory=Signatory.KAM, comments="x")


def test_rejects_a_sign_off_before_any_evaluation(c: Cast) -> None:
    """There is nothing to sign before the target is evaluated."""
    target = member_target(c)

    with unchanged(target), pytest.raises(InvalidTransition):
        target.sign_off(meta(c.kam, at(91)), c.kam, c.kam, signatory=Signatory.KAM, comments="x")


def test_rejects_a_sign_off_of_an_earlier_evaluation(c: Cast) -> None:
    """Signing names the latest evaluation, or none, so a stale view signs nothing."""
    target = evaluated(member_target(c), POOR)
    target.evaluate(meta(POLICY, at(91)), None, EvaluationStandard.default(), actuals=ON_GOAL)
    history(target)

    with unchanged(target), pytest.raises(InvalidTransition, match=r"^evaluation_number:"):
        target.sign_off(
            meta(c.kam, at(92)),
            c.kam,
            c.kam,
            signatory=Signatory.KAM,
            comments="x",
            evaluation_number=1,
        )


def test_rejects_a_sign_off_after_the_goals_were_revised(c: Cast) -> None:
    """An evaluation of goals that have since been revised is evaluated again before signing."""
    target = evaluated(member_target(c))
    target.revise(
        meta(c.director, at(91)), c.director, c.kam, goals=(RevenueGoal(cny(5)),), reason="x"
    )
    history(target)

    with unchanged(target), pytest.raises(InvalidTransition, match="evaluate again"):
        target.sign_off(meta(c.kam, at(92)), c.kam, c.kam, signatory=Signatory.KAM, comments="x")


@pytest.mark.parametrize(
    ("signatory", "comments"),
    [(Signatory.KAM, ""), (Signatory.KAM, None), ("kam", "Fine")],
    ids=["empty-comments", "no-comments", "signatory-text"],
)
def test_rejects_a_malformed_sign_off(c: Cast, signatory: Any, comments: Any) -> None:
    """A sign-off names its capacity as a Signatory and carries comments."""
    target = evaluated(member_target(c))

    with unchanged(target), pytest.raises(ValidationError):
        target.sign_off(meta(c.kam, at(91)), c.kam, c.kam, signatory=signatory, comments=comments)


def test_rejects_a_sign_off_by_a_kam_who_left(c: Cast) -> None:
    """A KAM who has left the team signs nothing."""
    target = evaluated(member_target(c))
    gone = creds(
        Role.KEY_ACCOUNT_MANAGER, team_id=c.team_id, member_id=c.kam.member_id, active=False
    )

    with unchanged(target), pytest.raises(MemberInactive):
        target.sign_off(meta(gone, at(91)), gone, gone, signatory=Signatory.KAM, comments="x")


# -- action plan -------------------------------------------------------------------------------


def test_kam_adjusts_the_action_plan_a_poor_score_requires(c: Cast) -> None:
    """A required adjustment is missing until the KAM (or a director) records the new plan."""
    target = evaluated(member_target(c), POOR)

    target.adjust_action_plan(meta(c.kam, at(91)), c.kam, c.kam, plan="Weekly visits to the CIO")

    [event] = recorded(target)
    assert isinstance(event, Target.ActionPlanAdjusted)
    assert event.evaluation_number == 1
    state = target.action_plan_state()
    assert (state.required, state.adjusted, state.missing) == (True, True, False)
    assert state.plan == "Weekly visits to the CIO"


def test_a_plan_adjusted_before_a_re_evaluation_does_not_answer_it(c: Cast) -> None:
    """A new evaluation that requires an adjustment needs one of its own."""
    target = evaluated(member_target(c), POOR)
    target.adjust_action_plan(meta(c.director, at(91)), c.director, c.kam, plan="Plan A")
    target.evaluate(meta(POLICY, at(92)), None, EvaluationStandard.default(), actuals=POOR)
    history(target)

    assert target.action_plan_state().missing


def test_a_good_score_requires_no_adjustment(c: Cast) -> None:
    """Above the threshold nothing is missing, and a plan may still be adjusted at any time."""
    target = evaluated(member_target(c))

    target.adjust_action_plan(meta(c.kam, at(91)), c.kam, c.kam, plan="Keep going")

    assert then(target) == [Target.ActionPlanAdjusted]
    state = target.action_plan_state()
    assert (state.required, state.missing) == (False, False)


@pytest.mark.parametrize(
    ("who", "plan", "error"),
    [
        ("rep", "Visit", RoleRequired),
        ("kam2", "Visit", RoleRequired),
        ("left", "Visit", MemberInactive),
        ("kam", "  ", ValidationError),
        ("kam", "x" * 4001, ValidationError),
    ],
    ids=["representative", "other-kam", "left", "blank", "too-long"],
)
def test_rejects_an_action_plan_adjustment(c: Cast, who: str, plan: str, error: type) -> None:
    """The plan is text, adjusted by the target's KAM or a director still on the team."""
    target = evaluated(member_target(c), POOR)
    by: Credentials = getattr(c, who)

    with unchanged(target), pytest.raises(error):
        target.adjust_action_plan(meta(by, at(91)), by, c.kam, plan=plan)


# -- queries -----------------------------------------------------------------------------------


def test_decomposition_reports_gaps_and_excesses_per_metric(c: Cast) -> None:
    """Revenue adds up over the children; levels compare with their mean; unset counts as zero."""
    parent = team_target(
        c, goals=(RevenueGoal(cny(1000)), ServiceLevelGoal(90), SatisfactionGoal(80))
    )
    children = [
        (RevenueGoal(cny(400)), ServiceLevelGoal(95)),
        (RevenueGoal(cny(500)), ServiceLevelGoal(90)),
    ]

    lines = {line.metric: line for line in parent.decomposition(children)}

    revenue = lines[Metric.SALES_REVENUE]
    assert (revenue.allocated, revenue.difference, revenue.is_gap) == (cny(900), cny(-100), True)
    service = lines[Metric.SERVICE_LEVEL]
    assert (service.allocated, service.difference, service.is_excess) == (
        Decimal("92.50"),
        Decimal("2.50"),
        True,
    )
    satisfaction = lines[Metric.CUSTOMER_SATISFACTION]
    assert (satisfaction.children, satisfaction.is_gap) == (0, True)


def test_decomposition_that_adds_up_has_neither_gap_nor_excess(c: Cast) -> None:
    """Children that split the parent's revenue exactly leave no gap."""
    parent = team_target(c, goals=(RevenueGoal(cny(1000)),))

    [line] = parent.decomposition([(RevenueGoal(cny(600)),), (RevenueGoal(cny(400)),)])

    assert (line.is_gap, line.is_excess) == (False, False)


def test_decomposition_refuses_children_in_another_currency(c: Cast) -> None:
    """Children's revenue is added in the parent's currency only."""
    parent = team_target(c, goals=(RevenueGoal(cny(1000)),))

    with pytest.raises(CurrencyMismatch):
        parent.decomposition([(RevenueGoal(Money.of(600, "USD")),)])


def test_progress_sets_goals_beside_the_latest_actuals(c: Cast) -> None:
    """Progress shows each goal, its latest actual, attainment, score and sign-off state."""
    target = member_target(c)
    before = target.progress()
    evaluated(target, POOR)

    progress = target.progress()

    assert [line.actual for line in before.lines] == [None, None, None]
    assert before.evaluation_number is None
    revenue = progress.lines[0]
    assert (revenue.metric, revenue.actual, revenue.attainment) == (
        Metric.SALES_REVENUE,
        cny(300),
        Decimal("30.00"),
    )
    assert (progress.score, progress.rating) == (Decimal("37.94"), "D")
    assert (progress.action_plan_missing, progress.signed_off) == (True, False)
    assert progress.closed_at == AFTER_Q1


def test_target_scope_validates_and_names_itself() -> None:
    """A scope has a kind and a UUID, and prints as both."""
    team_id = UUID(int=7)

    scope = TargetScope.team(team_id)

    assert str(scope) == f"team {team_id}"
    with pytest.raises(ValidationError):
        TargetScope(ScopeKind.TEAM, "team-7")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        TargetScope("team", team_id)  # type: ignore[arg-type]
