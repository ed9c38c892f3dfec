"""Given-when-then tests of the evaluation policy: period close, actuals from the log, lapses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam_domain.aggregates.actuals import measure
from kam_domain.aggregates.target import (
    RevenueActual,
    RevenueGoal,
    SatisfactionActual,
    SatisfactionGoal,
    ServiceLevelActual,
    ServiceLevelGoal,
    Signatory,
    Target,
    TargetScope,
)
from kam_domain.aggregates.team import EvaluationStandard, RatingBand
from kam_domain.application import KamApplication
from kam_domain.policies.evaluation import CloseTargetPeriod, EvaluateTarget, EvaluationPolicy
from kam_domain.values import Actor, ActorKind, CaseKind, Metric, Money, Severity
from tests.conftest import Org, build_org, key_account
from tests.policies.target_story import AFTER_Q1, Q1, Q2, TargetStory, cny, day

REVENUE = (RevenueGoal(cny(1000)),)
ALL_THREE = (RevenueGoal(cny(1000)), ServiceLevelGoal(90), SatisfactionGoal(80))
#: Ten days after the first quarter: the default standard's sign-off deadline.
DEADLINE = Q1.end + timedelta(days=10)


def actions_of(decision: Any) -> dict[Any, Any]:
    return {action.aggregate_id: action for action in decision.actions}


def evaluated(story: TargetStory, target: Target) -> Target:
    """Given: the period closed and the policy's decision carried out."""
    decision = story.close_period()
    assert decision is not None
    story.carry_out(decision, AFTER_Q1)
    return target


# -- period close: what is evaluated -----------------------------------------------------------


def test_closes_and_evaluates_every_target_of_the_closed_period() -> None:
    """Each target of the period gets one action that closes and evaluates it."""
    story = TargetStory(EvaluationPolicy())
    team = story.set_target(TargetScope.team(story.team.id), REVENUE)
    member = story.set_target(TargetScope.member(story.kam), REVENUE)

    decision = story.close_period()

    assert decision is not None
    assert decision.outcome == "evaluate 2"
    assert all(isinstance(action, EvaluateTarget) for action in decision.actions)
    assert [action.aggregate_id for action in decision.actions] == [team.id, member.id]
    assert "evaluated from the log" in decision.reason
    assert decision.inputs[f"target {member.id}"].endswith("action: close and evaluate}")


def test_leaves_targets_of_other_periods_alone() -> None:
    """A Q2 target is not touched when Q1 closes; nothing due means no decision."""
    story = TargetStory(EvaluationPolicy())
    story.set_target(TargetScope.member(story.kam), REVENUE, period=Q2)

    decision = story.close_period()

    assert decision is None


def test_orders_targets_by_team_then_scope_kind_then_creation() -> None:
    """Team by team as formed; team target, member targets, account targets, each as set."""
    policy = EvaluationPolicy()
    first = TargetStory(policy)
    second = TargetStory(policy, team_name="West key accounts", scenario=first.scenario)
    account = first.account("Acme", first.kam)
    a1 = first.set_target(TargetScope.account(account), REVENUE)
    m2 = first.set_target(TargetScope.member(first.kam2), REVENUE)
    w1 = second.set_target(TargetScope.member(second.kam), REVENUE)
    m1 = first.set_target(TargetScope.member(first.kam), REVENUE)
    t1 = first.set_target(TargetScope.team(first.team.id), REVENUE)
    w0 = second.set_target(TargetScope.team(second.team.id), REVENUE)

    decision = first.close_period()

    assert decision is not None
    order = [action.aggregate_id for action in decision.actions]
    assert order == [t1.id, m2.id, m1.id, a1.id, w0.id, w1.id]


def test_skips_a_target_already_closed_and_evaluated() -> None:
    """A target a director closed and evaluated by hand is not evaluated again."""
    story = TargetStory(EvaluationPolicy())
    target = story.set_target(TargetScope.member(story.kam), REVENUE)
    meta_, by = story.as_(story.director, AFTER_Q1)
    target.close_period(meta_, by)
    target.evaluate(meta_, by, EvaluationStandard.default(), actuals=[RevenueActual(cny(5))])
    story.fold(target)

    decision = story.close_period(when=AFTER_Q1 + timedelta(hours=1))

    assert decision is None


def test_only_closes_a_target_evaluated_by_hand_but_not_closed() -> None:
    """A manual evaluation stands: the policy records the close and nothing more."""
    story = TargetStory(EvaluationPolicy())
    target = story.set_target(TargetScope.member(story.kam), REVENUE)
    target.evaluate(
        *story.as_(story.director, AFTER_Q1),
        EvaluationStandard.default(),
        actuals=[RevenueActual(cny(5))],
    )
    story.fold(target)

    decision = story.close_period(when=AFTER_Q1 + timedelta(hours=1))

    assert decision is not None
    assert decision.outcome == "close 1"
    assert decision.actions == (CloseTargetPeriod(target.id),)


# -- period close: the actuals -----------------------------------------------------------------


def test_revenue_is_the_payments_received_in_the_period_on_the_scope_accounts() -> None:
    """Payments within Q1 on the KAM's accounts count; other KAMs' and Q2's do not."""
    story = TargetStory(EvaluationPolicy())
    mine = story.account("Acme", story.kam)
    theirs = story.account("Globex", story.kam2)
    p1 = story.pay(mine, cny(300), day(10))
    p2 = story.pay(mine, cny(450), day(80))
    story.pay(theirs, cny(999), day(20))
    target = story.set_target(TargetScope.member(story.kam), REVENUE, when=day(30))
    story.pay(mine, cny(70), day(95))

    decision = story.close_period(when=day(96))

    assert decision is not None
    action = actions_of(decision)[target.id]
    assert action.actuals == (RevenueActual(cny(750), (p1, p2)),)
    line = decision.inputs[f"target {target.id}"]
    assert "sales_revenue actual: 750.00 CNY" in line
    assert f"sales_revenue events: [{p1}, {p2}]" in line
    assert f"accounts: [{mine}]" in line


def test_revenue_counts_only_the_goals_currency() -> None:
    """A payment in another currency is not converted: it does not count."""
    story = TargetStory(EvaluationPolicy())
    account = story.account("Acme", story.kam)
    paid = story.pay(account, cny(100), day(3))
    story.pay(account, Money.of(100, "USD"), day(4))
    target = story.set_target(TargetScope.account(account), REVENUE, when=day(5))

    decision = story.close_period()

    assert decision is not None
    assert actions_of(decision)[target.id].actuals == (RevenueActual(cny(100), (paid,)),)


def test_member_scope_takes_the_accounts_held_at_the_period_end() -> None:
    """An account reassigned during the quarter counts wholly for its KAM at the end."""
    story = TargetStory(EvaluationPolicy())
    account = story.account("Acme", story.kam)
    paid = story.pay(account, cny(500), day(10))
    story.reassign(account, story.kam2, day(40))
    old = story.set_target(TargetScope.member(story.kam), REVENUE, when=day(41))
    new = story.set_target(TargetScope.member(story.kam2), REVENUE, when=day(41))

    decision = story.close_period()

    assert decision is not None
    actions = actions_of(decision)
    assert actions[old.id].actuals == (RevenueActual(cny(0)),)
    assert actions[new.id].actuals == (RevenueActual(cny(500), (paid,)),)


def test_team_scope_takes_every_account_of_the_team() -> None:
    """The team target sums the payments of all the team's accounts."""
    story = TargetStory(EvaluationPolicy())
    a = story.pay(story.account("Acme", story.kam), cny(100), day(5))
    b = story.pay(story.account("Globex", story.kam2), cny(200), day(6))
    target = story.set_target(TargetScope.team(story.team.id), REVENUE, when=day(7))

    decision = story.close_period()

    assert decision is not None
    assert actions_of(decision)[target.id].actuals == (RevenueActual(cny(300), (a, b)),)


def test_service_level_is_the_share_of_cases_acknowledged_within_their_sla() -> None:
    """A critical case acknowledged after 5 hours misses its 4-hour SLA; a low one after 70
    hours is in time; a case never acknowledged is missed."""
    story = TargetStory(EvaluationPolicy())
    account = story.account("Acme", story.kam)
    late, late_opened = story.open_case(account, Severity.CRITICAL, day(10))
    late_ack = story.acknowledge(account, late, day(10) + timedelta(hours=5))
    ok, ok_opened = story.open_case(account, Severity.LOW, day(20))
    ok_ack = story.acknowledge(account, ok, day(20) + timedelta(hours=70))
    _, never_opened = story.open_case(account, Severity.HIGH, day(30))
    goals = (ServiceLevelGoal(90),)
    target = story.set_target(TargetScope.account(account), goals, when=day(31))

    decision = story.close_period()

    assert decision is not None
    sources = (late_opened, late_ack, ok_opened, ok_ack, never_opened)
    expected = ServiceLevelActual(Decimal("33.33"), sources)
    assert actions_of(decision)[target.id].actuals == (expected,)


def test_service_level_is_100_when_no_case_was_opened() -> None:
    """Nothing was missed when no client raised a case."""
    story = TargetStory(EvaluationPolicy())
    account = story.account("Acme", story.kam)
    target = story.set_target(TargetScope.account(account), (ServiceLevelGoal(90),))

    decision = story.close_period()

    assert decision is not None
    assert actions_of(decision)[target.id].actuals == (ServiceLevelActual(100),)


def test_recorded_sla_hours_override_the_defaults() -> None:
    """With sla_hours_critical configured to 6, a 5-hour acknowledgement is in time."""
    story = TargetStory(EvaluationPolicy())
    story.configure({"sla_hours_critical": 6})
    account = story.account("Acme", story.kam)
    case, _ = story.open_case(account, Severity.CRITICAL, day(10))
    story.acknowledge(account, case, day(10) + timedelta(hours=5))
    target = story.set_target(TargetScope.account(account), (ServiceLevelGoal(90),))

    decision = story.close_period()

    assert decision is not None
    assert actions_of(decision)[target.id].actuals[0].value == Decimal(100)
    assert "critical: 6" in decision.inputs["sla_hours"]


def test_satisfaction_is_the_mean_score_surveyed_in_the_period() -> None:
    """Scores 70 and 91 in Q1 average 80.50; a Q2 survey does not count."""
    story = TargetStory(EvaluationPolicy())
    account = story.account("Acme", story.kam)
    s1 = story.survey(account, 70, day(10))
    s2 = story.survey(account, 91, day(50))
    story.survey(account, 10, day(91))
    goals = (SatisfactionGoal(80),)
    target = story.set_target(TargetScope.account(account), goals, when=day(51))

    decision = story.close_period(when=day(92))

    assert decision is not None
    expected = SatisfactionActual(Decimal("80.50"), (s1, s2))
    assert actions_of(decision)[target.id].actuals == (expected,)


def test_a_target_without_any_survey_is_not_evaluable_and_only_closed() -> None:
    """No survey, no satisfaction number: the target is closed and reported, not scored."""
    story = TargetStory(EvaluationPolicy())
    account = story.account("Acme", story.kam)
    story.pay(account, cny(900), day(10))
    blind = story.set_target(TargetScope.member(story.kam), ALL_THREE, when=day(11))
    fine = story.set_target(TargetScope.account(account), REVENUE, when=day(11))

    decision = story.close_period()

    assert decision is not None
    assert decision.outcome == "evaluate 1; not evaluable 1"
    assert actions_of(decision)[blind.id] == CloseTargetPeriod(blind.id)
    assert isinstance(actions_of(decision)[fine.id], EvaluateTarget)
    assert (
        "not evaluable: the log has nothing to measure customer_satisfaction"
        in (decision.inputs[f"target {blind.id}"])
    )
    assert "1 target(s) not evaluable" in decision.reason


def test_uses_the_standard_in_force_at_the_periods_last_moment() -> None:
    """A standard effective from mid-Q1 applies; one effective from Q2 does not."""
    story = TargetStory(EvaluationPolicy())
    mid = EvaluationStandard.default()
    mid = EvaluationStandard(
        weights=mid.weights, bands=mid.bands, action_threshold=Decimal(95), sign_off_days=3
    )
    later = EvaluationStandard(
        weights=mid.weights, bands=(RatingBand(Decimal(0), "Z"),), action_threshold=Decimal(1)
    )
    story.set_standard(mid, effective_from=day(45), when=day(1))
    story.set_standard(later, effective_from=Q2.start, when=day(2))
    target = story.set_target(TargetScope.member(story.kam), REVENUE, when=day(3))

    decision = story.close_period()

    assert decision is not None
    assert actions_of(decision)[target.id].standard == mid
    assert "action threshold: 95" in decision.inputs[f"standard {story.team.id}"]


# -- period close: carrying the decision out ---------------------------------------------------


def test_carrying_out_closes_and_evaluates_as_the_policy() -> None:
    """The target ends closed, evaluated by the policy, scored as the inputs said."""
    story = TargetStory(EvaluationPolicy())
    account = story.account("Acme", story.kam)
    story.pay(account, cny(400), day(10))
    target = story.set_target(TargetScope.account(account), REVENUE, when=day(11))
    decision = story.close_period()
    assert decision is not None

    events = story.carry_out(decision, AFTER_Q1)

    assert [type(e) for e in events] == [Target.PeriodClosed, Target.Evaluated]
    evaluation = target.latest_evaluation
    assert evaluation is not None
    assert evaluation.evaluated_by.kind is ActorKind.POLICY
    assert evaluation.score == Decimal("40.00")
    assert evaluation.action_plan_required
    line = decision.inputs[f"target {target.id}"]
    assert "score: 40.00" in line
    assert "rating: D" in line
    assert "action plan required: yes" in line


def test_a_close_recorded_by_hand_meanwhile_stands() -> None:
    """If a director closed the period after the decision, the action only evaluates."""
    story = TargetStory(EvaluationPolicy())
    target = story.set_target(TargetScope.member(story.kam), REVENUE)
    decision = story.close_period()
    assert decision is not None
    target.close_period(*story.as_(story.director, AFTER_Q1))
    story.fold(target)

    events = story.carry_out(decision, AFTER_Q1 + timedelta(hours=1))

    assert [type(e) for e in events] == [Target.Evaluated]


def test_an_evaluation_recorded_by_hand_meanwhile_stands() -> None:
    """If a director evaluated after the decision, the action leaves that evaluation alone."""
    story = TargetStory(EvaluationPolicy())
    target = story.set_target(TargetScope.member(story.kam), REVENUE)
    decision = story.close_period()
    assert decision is not None
    by = story.as_(story.director, AFTER_Q1)
    target.evaluate(*by, EvaluationStandard.default(), actuals=[RevenueActual(cny(5))])
    story.fold(target)

    events = story.carry_out(decision, AFTER_Q1 + timedelta(hours=1))

    assert [type(e) for e in events] == [Target.PeriodClosed]
    assert len(target.evaluations) == 1


def test_deciding_twice_on_the_same_world_gives_equal_decisions() -> None:
    """The period-close decision is a function of the world and what was learned."""
    story = TargetStory(EvaluationPolicy())
    account = story.account("Acme", story.kam)
    story.pay(account, cny(400), day(10))
    story.survey(account, 77, day(12))
    story.set_target(TargetScope.member(story.kam), ALL_THREE, when=day(13))
    first = story.close_period()

    again = story.policy.decide(story.last_event, story.scenario.world)

    assert first is not None
    assert again == first


# -- ticks: sign-off and action-plan deadlines -------------------------------------------------


def on_goal(story: TargetStory, scope: TargetScope | None = None) -> Target:
    """Given: a revenue target met in Q1 (no action plan required), closed and evaluated."""
    account = story.account("Acme", story.kam)
    story.pay(account, cny(1000), day(10))
    target = story.set_target(scope or TargetScope.member(story.kam), REVENUE, when=day(11))
    return evaluated(story, target)


def under_threshold(story: TargetStory) -> Target:
    """Given: a revenue target missed badly in Q1 (an action plan required), evaluated."""
    account = story.account("Acme", story.kam)
    story.pay(account, cny(100), day(10))
    target = story.set_target(TargetScope.member(story.kam), REVENUE, when=day(11))
    return evaluated(story, target)


def test_flags_an_evaluation_not_signed_off_by_the_deadline() -> None:
    """Only the KAM signed within ten days: the first tick after the deadline flags it."""
    story = TargetStory(EvaluationPolicy())
    target = on_goal(story)
    signed_at = DEADLINE - timedelta(days=1)
    story.sign(target, Signatory.KAM, signed_at)

    decision = story.tick(DEADLINE + timedelta(hours=1))

    assert decision is not None
    assert decision.outcome == "flag"
    assert decision.actions == ()
    assert "not signed off by both KAM and supervisor" in decision.reason
    line = decision.inputs[f"target {target.id} evaluation 1 sign_off"]
    assert f"period end: {Q1.end.isoformat()}" in line
    assert f"deadline: {DEADLINE.isoformat()}" in line
    assert f"kam signed: Li Manager ({story.kam}) at {signed_at.isoformat()}" in line
    assert "supervisor signed: no" in line
    assert f"sales director: [{story.director}]" in line


def test_no_flag_until_the_deadline_has_passed() -> None:
    """A tick at the deadline itself is still within it."""
    story = TargetStory(EvaluationPolicy())
    on_goal(story)

    decision = story.tick(DEADLINE)

    assert decision is None


def test_no_flag_when_both_signed_in_time() -> None:
    """KAM and supervisor signed within the sign-off days: nothing to flag."""
    story = TargetStory(EvaluationPolicy())
    target = on_goal(story)
    story.sign(target, Signatory.KAM, DEADLINE - timedelta(days=2))
    story.sign(target, Signatory.SUPERVISOR, DEADLINE - timedelta(days=1))

    decision = story.tick(DEADLINE + timedelta(days=1))

    assert decision is None


def test_flags_a_sign_off_completed_after_the_deadline() -> None:
    """Signed late, before any tick noticed: still flagged, with when each signed."""
    story = TargetStory(EvaluationPolicy())
    target = on_goal(story)
    story.sign(target, Signatory.KAM, DEADLINE - timedelta(days=1))
    late = DEADLINE + timedelta(hours=2)
    story.sign(target, Signatory.SUPERVISOR, late)

    decision = story.tick(DEADLINE + timedelta(days=1))

    assert decision is not None
    line = decision.inputs[f"target {target.id} evaluation 1 sign_off"]
    assert f"supervisor signed: Zhao Director ({story.director}) at {late.isoformat()}" in line


def test_flags_each_evaluation_once() -> None:
    """A second tick after the deadline does not flag the same evaluation again."""
    story = TargetStory(EvaluationPolicy())
    on_goal(story)
    story.tick(DEADLINE + timedelta(hours=1))

    decision = story.tick(DEADLINE + timedelta(days=1))

    assert decision is None


def test_a_new_evaluation_is_flagged_in_its_turn() -> None:
    """Re-evaluated after the deadline, evaluation 2 is flagged at the next tick."""
    story = TargetStory(EvaluationPolicy())
    target = on_goal(story)
    story.tick(DEADLINE + timedelta(hours=1))
    target.evaluate(
        *story.as_(story.director, DEADLINE + timedelta(hours=2)),
        EvaluationStandard.default(),
        actuals=[RevenueActual(cny(900))],
    )
    story.fold(target)

    decision = story.tick(DEADLINE + timedelta(hours=3))

    assert decision is not None
    assert list(decision.inputs) == [f"target {target.id} evaluation 2 sign_off"]


def test_flags_a_required_action_plan_adjustment_missing_at_the_deadline() -> None:
    """Scored under the threshold, signed in time, no adjusted plan: flagged for the plan."""
    story = TargetStory(EvaluationPolicy())
    target = under_threshold(story)
    story.sign(target, Signatory.KAM, DEADLINE - timedelta(days=2))
    story.sign(target, Signatory.SUPERVISOR, DEADLINE - timedelta(days=1))

    decision = story.tick(DEADLINE + timedelta(days=1))

    assert decision is not None
    assert list(decision.inputs) == [f"target {target.id} evaluation 1 action_plan"]
    line = decision.inputs[f"target {target.id} evaluation 1 action_plan"]
    assert "score: 10.00" in line
    assert "action threshold: 60" in line
    assert "action plan adjusted: no" in line
    assert "without an action-plan adjustment" in decision.reason


def test_no_action_plan_flag_when_the_plan_was_adjusted_in_time() -> None:
    """An adjustment answering the evaluation before the deadline satisfies the rule."""
    story = TargetStory(EvaluationPolicy())
    target = under_threshold(story)
    story.sign(target, Signatory.KAM, DEADLINE - timedelta(days=3))
    story.sign(target, Signatory.SUPERVISOR, DEADLINE - timedelta(days=2))
    story.adjust_plan(target, DEADLINE - timedelta(days=1))

    decision = story.tick(DEADLINE + timedelta(days=1))

    assert decision is None


def test_a_team_targets_lapse_goes_to_the_senior_sales_director() -> None:
    """A team target has no KAM with a supervisor: the senior sales director is told."""
    story = TargetStory(EvaluationPolicy())
    target = on_goal(story, TargetScope.team(story.team.id))

    decision = story.tick(DEADLINE + timedelta(days=1))

    assert decision is not None
    line = decision.inputs[f"target {target.id} evaluation 1 sign_off"]
    assert f"sales director: [{story.senior}]" in line


def test_deciding_twice_about_a_tick_gives_equal_decisions() -> None:
    """The tick's flag is a function of the log up to it."""
    story = TargetStory(EvaluationPolicy())
    on_goal(story)
    first = story.tick(DEADLINE + timedelta(days=1))

    again = story.policy.decide(story.last_event, story.scenario.world)

    assert first is not None
    assert again == first


# -- properties --------------------------------------------------------------------------------

_payments = st.lists(
    st.tuples(st.integers(0, 2), st.integers(1, 10_000), st.integers(0, 120)), max_size=12
)
_cases = st.lists(
    st.tuples(st.sampled_from(list(Severity)), st.none() | st.integers(0, 100)), max_size=8
)


@given(payments=_payments, cases=_cases)
def test_actuals_are_what_the_scope_recorded_in_the_period(
    payments: list[tuple[int, int, int]], cases: list[tuple[Severity, int | None]]
) -> None:
    """Revenue is the sum of the KAM's in-period payments, with exactly their events; service
    level is the share of in-period cases acknowledged within their SLA."""
    story = TargetStory(EvaluationPolicy())
    owners = [story.kam, story.kam, story.kam2]
    accounts = [story.account(f"Client {i}", kam) for i, kam in enumerate(owners)]
    paid: list[tuple[Any, int]] = []
    for index, (which, amount, when) in enumerate(sorted(payments, key=lambda p: p[2])):
        moment = day(when) + timedelta(seconds=index)
        event_id = story.pay(accounts[which], cny(amount), moment)
        counts = moment < Q1.end and owners[which] == story.kam
        paid.append((event_id, amount if counts else 0))
    hours = {Severity.CRITICAL: 4, Severity.HIGH: 24, Severity.MEDIUM: 48, Severity.LOW: 72}
    on_time = 0
    for index, (severity, delay) in enumerate(cases):
        # One account per case, so each account's events stay in time order.
        serviced = story.account(f"Serviced {index}", story.kam)
        case_id, _ = story.open_case(serviced, severity, day(20))
        if delay is not None:
            story.acknowledge(serviced, case_id, day(20) + timedelta(hours=delay))
            on_time += delay <= hours[severity]
    goals = (RevenueGoal(cny(1000)), ServiceLevelGoal(90))
    target = story.set_target(TargetScope.member(story.kam), goals, when=day(1))
    story.reassign(accounts[2], story.kam, day(121))  # after the quarter: does not count

    decision = story.close_period(when=day(122))

    assert decision is not None
    revenue, service = actions_of(decision)[target.id].actuals
    assert revenue.value == cny(sum(amount for _, amount in paid))
    assert set(revenue.source_event_ids) == {event_id for event_id, amount in paid if amount}
    assert len(revenue.source_event_ids) == len([amount for _, amount in paid if amount])
    expected = Decimal(100) if not cases else Decimal(100) * on_time / len(cases)
    assert service.value == expected.quantize(Decimal("0.01"))


# -- through the application -------------------------------------------------------------------


@pytest.fixture(name="policy_app")
def fixture_policy_app(store: str) -> Iterator[KamApplication]:
    app = KamApplication(store, policies=[EvaluationPolicy])
    yield app
    app.close()


def test_the_application_evaluates_on_period_close_as_the_facade_measures(
    policy_app: KamApplication,
) -> None:
    """Closing the period through the facade evaluates the target with the same actuals that
    ``measure_target`` reads from the store; a late sign-off is flagged on a later tick."""
    app = policy_app
    org: Org = build_org(app)
    account = key_account(app, org)
    invoice = app.issue_invoice(account, org.finance, amount=cny(800), due_at=day(40), at=day(10))
    app.record_payment(account, org.finance, invoice, amount=cny(800), at=day(11))
    case = app.open_case(
        account,
        org.rep,
        kind=CaseKind.COMPLAINT,
        severity=Severity.HIGH,
        subject="slow",
        at=day(12),
    )
    app.acknowledge_case(account, org.rep, case, at=day(13))
    app.record_satisfaction(account, org.kam, score=88, at=day(14))
    target_id = app.set_target(
        org.team_id,
        org.director,
        scope=TargetScope.member(org.kam),
        period=Q1,
        goals=ALL_THREE,
        at=day(15),
    )
    app.close_period(Q1, Actor.system("clock"), at=AFTER_Q1)
    app.tick(Actor.system("clock"), at=DEADLINE + timedelta(days=1))

    target = app.get_target(target_id)
    evaluation = target.latest_evaluation
    assert evaluation is not None
    assert evaluation.actuals == app.measure_target(target_id)
    assert evaluation.evaluated_by.kind is ActorKind.POLICY
    outcomes = [d.outcome for d in app.decisions("evaluation")]
    assert outcomes == ["evaluate 1", "flag"]


def test_the_shared_measure_gives_one_actual_per_goal_and_names_the_unmeasured() -> None:
    """Without facts: revenue zero, service level 100, satisfaction unmeasured."""
    measured = measure(ALL_THREE, [], Q1)

    assert measured.actuals == (RevenueActual(cny(0)), ServiceLevelActual(100))
    assert measured.unmeasured == (Metric.CUSTOMER_SATISFACTION,)
