"""The facade's target commands and queries, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from kam_domain.aggregates.target import (
    RevenueActual,
    RevenueGoal,
    SatisfactionActual,
    SatisfactionGoal,
    ServiceLevelActual,
    ServiceLevelGoal,
    Signatory,
    TargetScope,
)
from kam_domain.aggregates.team import EvaluationStandard, RatingBand
from kam_domain.application import KamApplication
from kam_domain.errors import (
    AccountNotFound,
    AlreadyExists,
    MemberNotFound,
    PeriodNotClosed,
    RoleRequired,
    SupervisorRequired,
    TargetNotFound,
    ValidationError,
)
from kam_domain.values import Actor, Metric, Money, Percentage, Period, TargetId
from tests.conftest import Org, key_account
from tests.support import T0, at, unchanged

Q1 = Period.parse("2026-Q1")
Q2 = Period.parse("2026-Q2")
YEAR = Period.parse("2026")
AFTER_Q1 = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
#: The host's scheduler: a system actor (a policy acts only through the engine).
SCHEDULER = Actor.system("scheduler")


def cny(amount: int) -> Money:
    return Money.of(amount, "CNY")


GOALS = (RevenueGoal(cny(1000)), ServiceLevelGoal(95), SatisfactionGoal(85))
ACTUALS = (RevenueActual(cny(800), (uuid4(),)), ServiceLevelActual(95), SatisfactionActual(85))


@pytest.fixture(name="account")
def fixture_account(app: KamApplication, org: Org) -> UUID:
    """A key account of the team whose accountable KAM is ``org.kam``."""
    return key_account(app, org)


def member_target(app: KamApplication, org: Org, **kwargs: object) -> TargetId:
    return app.set_target(
        org.team_id,
        org.director,
        scope=TargetScope.member(org.kam),
        period=Q1,
        goals=GOALS,
        at=at(1),
        **kwargs,  # type: ignore[arg-type]
    )


def test_decomposes_the_plan_into_team_kam_and_account_targets(
    app: KamApplication, org: Org, account: UUID
) -> None:
    """Team → KAM → account targets link to their parents and report gaps per metric."""
    year = app.set_target(
        org.team_id,
        org.senior,
        scope=TargetScope.team(org.team_id),
        period=YEAR,
        goals=(RevenueGoal(cny(5000)), ServiceLevelGoal(90)),
        at=at(1),
    )
    first = member_target(app, org, parent_id=year)
    second = app.set_target(
        org.team_id,
        org.director,
        scope=TargetScope.member(org.kam2),
        period=Q1,
        goals=(RevenueGoal(cny(1500)), ServiceLevelGoal(95)),
        parent_id=year,
        at=at(1),
    )

    acme = app.set_target(
        org.team_id,
        org.kam,
        scope=TargetScope.account(account),
        period=Q1,
        goals=(RevenueGoal(cny(600)),),
        parent_id=first,
        at=at(2),
    )

    assert [t.id for t in app.child_targets(year)] == [first, second]
    assert [t.id for t in app.child_targets(first)] == [acme]
    lines = {line.metric: line for line in app.target_decomposition(year)}
    assert lines[Metric.SALES_REVENUE].difference == cny(-2500)
    assert lines[Metric.SERVICE_LEVEL].difference == Decimal(5)
    assert app.get_target(acme).kam_id == org.kam
    entry = app._listing().entry(acme)
    assert entry is not None
    assert (entry.kind, entry.team_id, entry.account_id) == ("target", org.team_id, account)


def test_a_quarter_is_closed_evaluated_and_signed_off(app: KamApplication, org: Org) -> None:
    """The scheduler closes and evaluates; the KAM and their director sign; progress shows it."""
    target_id = member_target(app, org)

    app.close_target_period(target_id, SCHEDULER, at=AFTER_Q1)
    evaluation = app.evaluate_target(target_id, SCHEDULER, actuals=ACTUALS, at=at(90))
    app.sign_off_target(target_id, org.kam, signatory=Signatory.KAM, comments="Agreed", at=at(91))
    app.sign_off_target(
        target_id, org.director, signatory=Signatory.SUPERVISOR, comments="Ok", at=at(92)
    )

    # 800/1000 x 60 + 20 + 20
    assert (evaluation.number, evaluation.score, evaluation.rating) == (1, Decimal(88), "B")
    target = app.get_target(target_id)
    assert target.is_signed_off
    progress = app.target_progress(target_id)
    assert progress.lines[0].attainment == Decimal("80.00")
    assert (progress.score, progress.signed_off, progress.closed_at) == (
        Decimal(88),
        True,
        AFTER_Q1,
    )


def test_evaluation_uses_the_standard_in_force_on_the_periods_last_day(
    app: KamApplication, org: Org
) -> None:
    """The standard set during the quarter applies; one starting the next quarter does not."""
    revenue_heavy = EvaluationStandard(
        weights=((Metric.SALES_REVENUE, Decimal(100)),),
        bands=(RatingBand(Decimal(80), "Good"), RatingBand(Decimal(0), "Poor")),
        action_threshold=Decimal(90),
    )
    app.set_evaluation_standard(
        org.team_id, org.director, revenue_heavy, effective_from=at(30), at=at(2)
    )
    app.set_evaluation_standard(
        org.team_id, org.director, EvaluationStandard.default(), effective_from=Q2.start, at=at(3)
    )
    target_id = member_target(app, org)

    evaluation = app.evaluate_target(target_id, org.director, actuals=ACTUALS, at=AFTER_Q1)

    assert evaluation.standard == revenue_heavy
    assert (evaluation.score, evaluation.rating, evaluation.action_plan_required) == (
        Decimal(80),
        "Good",
        True,
    )
    assert app.target_progress(target_id).action_plan_missing
    app.adjust_action_plan(target_id, org.kam, plan="Two more site visits a month", at=at(91))
    assert not app.target_progress(target_id).action_plan_missing


def test_after_close_only_the_supervisor_revises_and_history_keeps_the_original(
    app: KamApplication, org: Org
) -> None:
    """The KAM is refused after close; the supervisor's revision is marked as after close."""
    target_id = member_target(app, org)
    app.close_target_period(target_id, org.director, at=AFTER_Q1)

    with unchanged(app), pytest.raises(SupervisorRequired):
        app.revise_target(
            target_id, org.kam, goals=(RevenueGoal(cny(500)),), reason="Too high", at=at(90)
        )
    app.revise_target(
        target_id, org.director, goals=(RevenueGoal(cny(900)),), reason="Audit", at=at(91)
    )

    target = app.get_target(target_id)
    assert [r.after_close for r in target.revisions] == [True]
    assert target.current_goals == (RevenueGoal(cny(900)),)
    assert app.get_target(target_id, version=1).current_goals == GOALS
    assert target.goals_at(1) == GOALS


def test_refused_commands_leave_the_target_unchanged(app: KamApplication, org: Org) -> None:
    """Evaluating an open period, or a representative adjusting the plan, records nothing."""
    target_id = member_target(app, org)

    with unchanged(app), pytest.raises(PeriodNotClosed):
        app.evaluate_target(target_id, SCHEDULER, actuals=ACTUALS, at=at(10))
    with unchanged(app), pytest.raises(RoleRequired):
        app.adjust_action_plan(target_id, org.rep, plan="Visit", at=at(10))
    with unchanged(app), pytest.raises(ValidationError):
        app.revise_target(target_id, org.kam, goals=GOALS, reason="x", at=datetime(2026, 2, 1))


def test_rejects_a_second_target_for_the_same_scope_and_period(
    app: KamApplication, org: Org
) -> None:
    """A scope has one target per period; a change of goals is a revision."""
    member_target(app, org)

    with unchanged(app), pytest.raises(AlreadyExists):
        member_target(app, org)

    assert len(app.targets(org.team_id, Q1)) == 1


def test_lists_targets_by_team_and_period(app: KamApplication, org: Org) -> None:
    """Targets are listed in the order set, filtered by team and period."""
    q1 = member_target(app, org)
    q2 = app.set_target(
        org.team_id,
        org.director,
        scope=TargetScope.member(org.kam),
        period=Q2,
        goals=GOALS,
        at=at(2),
    )

    assert [t.id for t in app.targets()] == [q1, q2]
    assert [t.id for t in app.targets(org.team_id, Q2)] == [q2]
    assert app.targets(uuid4()) == []
    with unchanged(app), pytest.raises(ValidationError):
        app.targets(org.team_id, "2026-Q1")  # type: ignore[arg-type]


def test_account_kam_sets_and_signs_their_account_target(
    app: KamApplication, org: Org, account: UUID
) -> None:
    """The account's accountable KAM sets its target and signs it as KAM."""
    target_id = app.set_target(
        org.team_id,
        org.kam,
        scope=TargetScope.account(account),
        period=Q1,
        goals=(RevenueGoal(cny(300)),),
        at=at(1),
    )
    app.evaluate_target(target_id, SCHEDULER, actuals=(RevenueActual(cny(300)),), at=AFTER_Q1)

    with unchanged(app), pytest.raises(RoleRequired):
        app.sign_off_target(
            target_id, org.kam2, signatory=Signatory.KAM, comments="Not mine", at=at(90)
        )
    app.sign_off_target(target_id, org.kam, signatory=Signatory.KAM, comments="Mine", at=at(90))

    state = app.get_target(target_id).sign_off_state()
    assert state.kam is not None
    assert state.kam.member_id == org.kam


def test_rejects_targets_for_unknown_or_foreign_scopes(
    app: KamApplication, org: Org, account: UUID
) -> None:
    """Accounts must be listed and the team's, members on the team, parents existing."""
    other_team, other_director = app.form_team(
        name="West",
        segment="energy",
        region="west",
        director_name="Ma",
        top_authority=Percentage.of(10),
        at=T0,
    )
    foreign = app.register_account(
        other_team, other_director, name="Far Away Ltd", industry="energy", region="west", at=T0
    )

    def attempt(scope: TargetScope, **kwargs: object) -> None:
        app.set_target(
            org.team_id,
            org.director,
            scope=scope,
            period=Q1,
            goals=GOALS,
            at=at(1),
            **kwargs,  # type: ignore[arg-type]
        )

    with unchanged(app), pytest.raises(AccountNotFound):
        attempt(TargetScope.account(uuid4()))
    with unchanged(app), pytest.raises(ValidationError):
        attempt(TargetScope.account(foreign))
    with unchanged(app), pytest.raises(MemberNotFound):
        attempt(TargetScope.member(uuid4()))
    with unchanged(app), pytest.raises(TargetNotFound):
        attempt(TargetScope.member(org.kam), parent_id=uuid4())
    with unchanged(app), pytest.raises(TargetNotFound):
        app.get_target(uuid4())
    assert app.targets(org.team_id) == []


def test_state_reloaded_from_the_store_equals_the_state_in_memory(
    app: KamApplication, org: Org, store: str, backend: str
) -> None:
    """A fresh application on the same store, and a snapshot, rebuild the same target."""
    target_id = member_target(app, org)
    app.revise_target(
        target_id,
        org.kam,
        goals=(RevenueGoal(cny(1200)), SatisfactionGoal(90)),
        reason="Up",
        at=at(5),
    )
    app.close_target_period(target_id, SCHEDULER, at=AFTER_Q1)
    app.evaluate_target(
        target_id,
        SCHEDULER,
        actuals=(RevenueActual(cny(700), (uuid4(), uuid4())), SatisfactionActual(70)),
        at=at(90),
    )
    app.sign_off_target(target_id, org.kam, signatory=Signatory.KAM, comments="Ok", at=at(91))
    app.adjust_action_plan(target_id, org.kam, plan="Recover the shortfall", at=at(92))
    in_memory = app.get_target(target_id)

    app.take_snapshot(target_id)
    from_snapshot = app.get_target(target_id)

    assert vars(from_snapshot) == vars(in_memory)
    if backend == "sqlite":
        fresh = KamApplication(store)
        try:
            assert vars(fresh.get_target(target_id)) == vars(in_memory)
        finally:
            fresh.close()
