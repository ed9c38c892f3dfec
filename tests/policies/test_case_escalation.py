"""Case escalation: cases not acknowledged within their SLA go to the KAM's supervisor (level 1),
cases unresolved after the resolution time to a sales director (level 2), once per level."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.policies import Decision
from kam_domain.policies.escalation import CaseEscalationPolicy, EscalateCase
from kam_domain.policies.records import Clock, PolicySettings
from kam_domain.testing.policies import PolicyScenario
from kam_domain.values import AccountId, Actor, CaseId, CaseKind, MemberId, Severity, Tier
from tests.conftest import STRATEGIES
from tests.policies.staff import Staff, carry_out, staffed
from tests.support import T0, at, meta

SLA_HOURS = {Severity.CRITICAL: 4, Severity.HIGH: 24, Severity.MEDIUM: 48, Severity.LOW: 72}
WEEK_AND_A_BIT = at(days=7, hours=1)


def account(
    staff: Staff, name: str = "Acme Telecom", *, kam: bool = True, when: datetime = T0
) -> ClientAccount:
    """A key account of the standard team, its KAM accountable unless ``kam=False``."""
    director = staff.creds(staff.director, when)
    record = ClientAccount.register(
        meta(director, when),
        director,
        AccountId(uuid4()),
        team_id=staff.team_id,
        name=name,
        industry="telecom",
        region="east",
    )
    record.designate_key(meta(director, when), director, tier=Tier.MAJOR, strategies=STRATEGIES)
    if kam:
        record.assign_kam(meta(director, when), director, staff.creds(staff.kam), reason="region")
    return record


def opened(
    staff: Staff,
    record: ClientAccount,
    severity: Severity = Severity.CRITICAL,
    kind: CaseKind = CaseKind.COMPLAINT,
    when: datetime = T0,
) -> CaseId:
    case_id = CaseId(uuid4())
    rep = staff.creds(staff.rep, when)
    record.open_case(
        meta(rep, when), rep, case_id, kind=kind, severity=severity, subject="outage in Hangzhou"
    )
    return case_id


def acknowledged(staff: Staff, record: ClientAccount, case_id: CaseId, when: datetime) -> None:
    rep = staff.creds(staff.rep, when)
    record.acknowledge_case(meta(rep, when), rep, case_id)


def resolved(staff: Staff, record: ClientAccount, case_id: CaseId, when: datetime) -> None:
    kam = staff.creds(staff.kam, when)
    record.resolve_case(meta(kam, when), kam, case_id, resolution="link restored")


def escalated_by_hand(
    staff: Staff, record: ClientAccount, case_id: CaseId, level: int, when: datetime
) -> None:
    kam, senior = staff.creds(staff.kam, when), staff.creds(staff.senior, when)
    record.escalate_case(meta(kam, when), kam, senior, case_id, level=level, reason="VIP client")


def started() -> Clock:
    return Clock.start(meta())


def tick(clock: Clock, when: datetime) -> list[Any]:
    clock.tick(meta(Actor.system("clock"), when))
    return list(clock.collect_events())


def configured(**parameters: Any) -> list[Any]:
    settings = PolicySettings.open(meta(), "case_escalation")
    settings.configure(
        meta(), parameters, frozenset(CaseEscalationPolicy.parameters), reason="new contract"
    )
    return list(settings.collect_events())


def world(staff: Staff, *records: Any, clock: Clock) -> PolicyScenario:
    return PolicyScenario(CaseEscalationPolicy()).given(
        *staff.events(),
        *(event for record in records for event in record.collect_events()),
        *clock.collect_events(),
    )


def decide_at(
    staff: Staff, *records: ClientAccount, when: datetime
) -> tuple[Decision | None, PolicyScenario, Clock]:
    """When the clock ticks at ``when``: the decision, the scenario and the clock."""
    clock = started()
    scenario = world(staff, *records, clock=clock)
    return scenario.when(*tick(clock, when)), scenario, clock


def escalated(decision: Decision) -> list[EscalateCase]:
    actions = [a for a in decision.actions if isinstance(a, EscalateCase)]
    assert len(actions) == len(decision.actions)
    return actions


def targets(decision: Decision) -> list[tuple[CaseId, MemberId, int]]:
    return [(a.case_id, a.to_id, a.level) for a in escalated(decision)]


def reason(decision: Decision) -> str:
    [action] = escalated(decision)
    return action.reason


# -- level 1: not acknowledged within the SLA --------------------------------------------------


def test_a_complaint_not_acknowledged_within_its_sla_goes_to_the_kams_supervisor() -> None:
    """Five hours after a critical complaint (SLA 4 h), the KAM's supervisor gets it."""
    staff = staffed()
    record = account(staff)
    case_id = opened(staff, record)

    decision, scenario, _ = decide_at(staff, record, when=at(hours=5))

    assert decision is not None
    assert decision.outcome == "escalate_cases 1"
    [action] = escalated(decision)
    assert action == EscalateCase(
        record.id, staff.team_id, case_id, staff.director, 1, action.reason
    )
    assert "not acknowledged within 4 hours; to Zhao Director, the KAM's supervisor" in (
        action.reason
    )
    [event] = carry_out(scenario.policy, decision, staff.team, record, when=at(hours=5))
    assert isinstance(event, ClientAccount.CaseEscalated)
    assert (event.case_id, event.escalated_to, event.level) == (case_id, staff.director, 1)
    assert event.actor == Actor.policy("case_escalation", 1)


def test_inputs_show_the_parameters_and_each_case_weighed() -> None:
    """The decision lists the tick, the SLA per severity, the resolution time and each case."""
    staff = staffed()
    record = account(staff)
    case_id = opened(staff, record)

    decision, _, _ = decide_at(staff, record, when=at(hours=5))

    assert decision is not None
    assert decision.inputs == {
        "at": at(hours=5).isoformat(),
        "sla_hours": "critical 4, high 24, medium 48, low 72",
        "resolve_days": "7",
        f"case {case_id}": (
            f"account Acme Telecom ({record.id}); complaint, critical; opened {T0.isoformat()};"
            f" not acknowledged; level 0 -> 1; to Zhao Director ({staff.director}),"
            " the KAM's supervisor"
        ),
    }


@pytest.mark.parametrize("severity", list(Severity))
def test_each_severity_has_its_own_sla(severity: Severity) -> None:
    """At exactly the SLA nothing is due; a minute later the case is escalated."""
    staff = staffed()
    record = account(staff)
    opened(staff, record, severity)
    clock = started()
    scenario = world(staff, record, clock=clock)
    hours = SLA_HOURS[severity]

    on_time = scenario.when(*tick(clock, at(hours=hours)))
    late = scenario.when(*tick(clock, at(hours=hours + 1 / 60)))

    assert on_time is None
    assert late is not None
    assert late.outcome == "escalate_cases 1"


def test_a_case_acknowledged_in_time_is_not_escalated_for_response() -> None:
    """Acknowledged within an hour, a critical complaint is not escalated at five hours."""
    staff = staffed()
    record = account(staff)
    case_id = opened(staff, record)
    acknowledged(staff, record, case_id, at(hours=1))

    decision, _, _ = decide_at(staff, record, when=at(hours=5))

    assert decision is None


def test_inquiries_are_escalated_like_complaints() -> None:
    """A client's unanswered question waits all the same: an inquiry is escalated too."""
    staff = staffed()
    record = account(staff)
    case_id = opened(staff, record, Severity.HIGH, CaseKind.INQUIRY)

    decision, _, _ = decide_at(staff, record, when=at(hours=25))

    assert decision is not None
    assert targets(decision) == [(case_id, staff.director, 1)]
    assert reason(decision).startswith("inquiry of high severity")


# -- level 1: whom it goes to ------------------------------------------------------------------


def test_without_a_kam_supervisor_it_goes_to_the_senior_admin_manager() -> None:
    """KAMs with no supervisor recorded: the senior admin manager supervises response times."""
    staff = staffed(supervised=False)
    record = account(staff)
    case_id = opened(staff, record)

    decision, _, _ = decide_at(staff, record, when=at(hours=5))

    assert decision is not None
    assert targets(decision) == [(case_id, staff.admin, 1)]
    assert reason(decision).endswith("the senior admin manager (the KAM has no supervisor)")


def test_an_account_without_a_kam_goes_to_the_senior_admin_manager() -> None:
    """No accountable KAM, no supervisor: the senior admin manager gets the case."""
    staff = staffed()
    record = account(staff, kam=False)
    case_id = opened(staff, record)

    decision, _, _ = decide_at(staff, record, when=at(hours=5))

    assert decision is not None
    assert targets(decision) == [(case_id, staff.admin, 1)]


def test_a_supervisor_who_left_is_passed_over() -> None:
    """With the KAM's supervisor gone from the team, the senior admin manager gets the case."""
    staff = staffed()
    record = account(staff)
    case_id = opened(staff, record)
    staff.leave(staff.director, at(hours=1))

    decision, _, _ = decide_at(staff, record, when=at(hours=5))

    assert decision is not None
    assert targets(decision) == [(case_id, staff.admin, 1)]


def test_with_no_supervisor_and_no_admin_manager_a_sales_director_gets_it() -> None:
    """Neither a supervisor nor a senior admin manager: the first sales director."""
    staff = staffed(supervised=False, admin=False)
    record = account(staff)
    case_id = opened(staff, record)

    decision, _, _ = decide_at(staff, record, when=at(hours=5))

    assert decision is not None
    assert targets(decision) == [(case_id, staff.director, 1)]
    assert reason(decision).endswith("a sales director (no supervisor or senior admin manager)")


# -- level 2: unresolved after the resolution time ---------------------------------------------


def test_a_case_unresolved_after_seven_days_goes_to_the_supervising_sales_director() -> None:
    """Acknowledged but unresolved a week on, the case goes to the KAM's supervisor, a director."""
    staff = staffed()
    record = account(staff)
    case_id = opened(staff, record)
    acknowledged(staff, record, case_id, at(hours=1))

    decision, scenario, _ = decide_at(staff, record, when=WEEK_AND_A_BIT)

    assert decision is not None
    assert targets(decision) == [(case_id, staff.director, 2)]
    assert "unresolved 7 days after opening; to Zhao Director, the KAM's supervisor" in (
        reason(decision)
    )
    [event] = carry_out(scenario.policy, decision, staff.team, record, when=WEEK_AND_A_BIT)
    assert (event.level, event.escalated_to) == (2, staff.director)


@pytest.mark.parametrize(("when", "due"), [(at(days=7), False), (at(days=7, hours=1 / 60), True)])
def test_the_resolution_time_is_counted_from_opening(when: datetime, due: bool) -> None:
    """At exactly seven days nothing is due; a minute later the case goes to level 2."""
    staff = staffed()
    record = account(staff)
    case_id = opened(staff, record)
    acknowledged(staff, record, case_id, at(hours=1))

    decision, _, _ = decide_at(staff, record, when=when)

    assert (decision is not None) is due
    if decision is not None:
        assert targets(decision) == [(case_id, staff.director, 2)]


def test_level_two_goes_to_the_senior_director_when_the_supervisor_is_not_a_director() -> None:
    """A KAM supervised by a project director: level 2 goes to the first senior director."""
    staff = staffed()
    senior = staff.creds(staff.senior)
    staff.team.set_supervisor(meta(senior), senior, staff.kam, supervisor_id=staff.pd)
    record = account(staff)
    case_id = opened(staff, record)
    acknowledged(staff, record, case_id, at(hours=1))

    decision, _, _ = decide_at(staff, record, when=WEEK_AND_A_BIT)

    assert decision is not None
    assert targets(decision) == [(case_id, staff.senior, 2)]
    assert reason(decision).endswith("to Wang Senior, the first senior sales director")


def test_when_both_levels_are_due_at_once_the_case_goes_straight_to_level_two() -> None:
    """Never acknowledged and a week old at the first tick: one escalation, to level 2."""
    staff = staffed()
    record = account(staff)
    case_id = opened(staff, record)

    decision, _, _ = decide_at(staff, record, when=WEEK_AND_A_BIT)

    assert decision is not None
    assert targets(decision) == [(case_id, staff.director, 2)]


# -- once per level ----------------------------------------------------------------------------


def test_a_case_is_escalated_once_per_level() -> None:
    """After level 1, later ticks stay quiet until the week is up, then level 2 follows."""
    staff = staffed()
    record = account(staff)
    case_id = opened(staff, record)
    decision, scenario, clock = decide_at(staff, record, when=at(hours=5))
    assert decision is not None
    scenario.given(*carry_out(scenario.policy, decision, staff.team, record, when=at(hours=5)))

    quiet = scenario.when(*tick(clock, at(days=3)))
    later = scenario.when(*tick(clock, WEEK_AND_A_BIT))

    assert quiet is None
    assert later is not None
    assert targets(later) == [(case_id, staff.director, 2)]


def test_a_case_escalated_to_level_two_by_hand_is_left_alone() -> None:
    """Escalated by hand to level 2, the case is past both of the policy's levels."""
    staff = staffed()
    record = account(staff)
    case_id = opened(staff, record)
    escalated_by_hand(staff, record, case_id, 2, at(hours=1))

    decision, _, _ = decide_at(staff, record, when=WEEK_AND_A_BIT)

    assert decision is None


def test_a_resolved_case_is_never_escalated() -> None:
    """Resolved within the week, a case has nothing left to escalate."""
    staff = staffed()
    record = account(staff)
    case_id = opened(staff, record)
    acknowledged(staff, record, case_id, at(hours=5))
    resolved(staff, record, case_id, at(days=2))

    decision, _, _ = decide_at(staff, record, when=WEEK_AND_A_BIT)

    assert decision is None


# -- parameters, order, determinism ------------------------------------------------------------


def test_recorded_parameters_override_the_defaults() -> None:
    """With a 1-hour critical SLA and 3 resolution days, the clock bites sooner."""
    staff = staffed()
    record = account(staff)
    first = opened(staff, record)
    second = opened(staff, record, when=at(days=1))
    acknowledged(staff, record, first, at(days=1))
    clock = started()
    scenario = world(staff, record, clock=clock).given(
        *configured(sla_hours_critical=1, resolve_days=3)
    )

    decision = scenario.when(*tick(clock, at(days=3, hours=1)))

    assert decision is not None
    assert targets(decision) == [(first, staff.director, 2), (second, staff.director, 1)]
    assert decision.inputs["sla_hours"] == "critical 1, high 24, medium 48, low 72"
    assert decision.inputs["resolve_days"] == "3"


def test_cases_are_escalated_in_account_then_opening_order() -> None:
    """Accounts in the order registered, each account's cases in the order opened."""
    staff = staffed()
    first = account(staff, "Acme Telecom")
    later = account(staff, "Bolt Mobile")
    b1 = opened(staff, later)
    a1 = opened(staff, first, Severity.LOW, when=at(hours=1))
    a2 = opened(staff, first, Severity.HIGH, when=at(hours=2))

    decision, scenario, _ = decide_at(staff, first, later, when=at(days=4))

    assert decision is not None
    assert [case for case, _, _ in targets(decision)] == [a1, a2, b1]
    assert decision.outcome == "escalate_cases 3"
    events = carry_out(scenario.policy, decision, staff.team, first, later, when=at(days=4))
    assert [e.case_id for e in events] == [a1, a2, b1]


def test_deciding_twice_on_the_same_world_gives_equal_decisions() -> None:
    """The same tick and world give the same decision, also to a new instance."""
    staff = staffed()
    record = account(staff)
    opened(staff, record)
    opened(staff, record, Severity.LOW)
    clock = started()
    scenario = world(staff, record, clock=clock)
    [cause] = tick(clock, at(days=4))

    first = scenario.when(cause)
    second = scenario.policy.decide(cause, scenario.world)
    fresh = CaseEscalationPolicy().decide(cause, scenario.world)

    assert first is not None
    assert first == second == fresh


def test_nothing_is_due_without_cases() -> None:
    """A tick over accounts without cases decides nothing."""
    staff = staffed()
    record = account(staff)

    decision, _, _ = decide_at(staff, record, when=WEEK_AND_A_BIT)

    assert decision is None


def test_the_policy_names_itself_and_reacts_to_clock_ticks() -> None:
    """Registered as case_escalation@1 with the default SLAs and resolution time."""
    policy = CaseEscalationPolicy()

    assert (policy.key(), policy.handles) == ("case_escalation@1", (Clock.Ticked,))
    assert policy.parameters == {
        "sla_hours_critical": 4,
        "sla_hours_high": 24,
        "sla_hours_medium": 48,
        "sla_hours_low": 72,
        "resolve_days": 7,
    }


# -- a property over cases and ticks -----------------------------------------------------------

CASES = st.lists(
    st.tuples(
        st.sampled_from(list(Severity)),
        st.sampled_from(list(CaseKind)),
        st.one_of(st.none(), st.integers(1, 200)),  # hours to acknowledgement, if any
        st.booleans(),  # resolved a day after acknowledgement
        st.sampled_from([0, 1, 2]),  # escalated by hand beforehand, to this level
    ),
    min_size=1,
    max_size=5,
)


@given(cases=CASES, hours=st.integers(0, 300))
def test_escalations_follow_the_deadlines_and_are_accepted_once_per_level(
    cases: list[tuple[Severity, CaseKind, int | None, bool, int]], hours: int
) -> None:
    """Exactly the cases due are escalated, each once and to the highest level due (level 2:
    unresolved past the resolution time; level 1: unacknowledged past the SLA), never to a level
    they already reached; every escalation is accepted, and a second tick at the same moment
    finds nothing more to do."""
    staff = staffed()
    record = account(staff)
    now = at(hours=hours)
    steps: list[tuple[int, Callable[..., None], CaseId]] = []
    for severity, kind, ack, resolve, level in cases:
        case_id = opened(staff, record, severity, kind)
        if level:
            escalated_by_hand(staff, record, case_id, level, T0)
        if ack is not None and ack <= hours:
            steps.append((ack, acknowledged, case_id))
            if resolve and ack + 24 <= hours:
                steps.append((ack + 24, resolved, case_id))
    # The record takes its changes in time order (a case's resolution follows its acknowledgement).
    for hour, step, case_id in sorted(steps, key=lambda item: item[0]):
        step(staff, record, case_id, at(hours=hour))
    clock = started()
    due: dict[CaseId, int] = {}
    for case in record.cases.values():
        age = now - case.opened_at
        if not case.is_open:
            continue
        if case.escalation_level < 2 and age > timedelta(days=7):
            due[case.case_id] = 2
        elif (
            case.escalation_level < 1
            and case.acknowledged_at is None
            and age > timedelta(hours=SLA_HOURS[case.severity])
        ):
            due[case.case_id] = 1
    scenario = world(staff, record, clock=clock)

    decision = scenario.when(*tick(clock, now))

    chosen = {} if decision is None else {a.case_id: a.level for a in escalated(decision)}
    assert chosen == due
    if decision is not None:
        scenario.given(*carry_out(scenario.policy, decision, staff.team, record, when=now))
    assert scenario.when(*tick(clock, now)) is None
