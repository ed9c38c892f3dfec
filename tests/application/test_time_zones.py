"""Given-when-then tests of a team's time zone: recorded as a dated setting, refused when
unknown, and followed by its quarters, its targets' evaluation and its deadlines.

The team of these tests keeps Asia/Shanghai (UTC+8, no daylight saving): its 2026-Q2 closes at
2026-07-01T00:00+08:00, which is 2026-06-30T16:00Z. Everything stays stored in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kam_domain.aggregates.target import RevenueGoal, TargetScope
from kam_domain.aggregates.team import Team
from kam_domain.application import KamApplication
from kam_domain.errors import (
    InvalidTransition,
    PeriodClosed,
    RoleRequired,
    UnknownTimeZone,
    ValidationError,
)
from kam_domain.policies.escalation import CaseEscalationPolicy
from kam_domain.policies.evaluation import EvaluationPolicy
from kam_domain.policies.receivables import CollectionsPolicy
from kam_domain.reports.forecast_reading import read_forecast
from kam_domain.runtime.rebuild import rebuild
from kam_domain.runtime.state import state_of
from kam_domain.values import Actor, CaseKind, Money, Percentage, Period, Severity
from tests.conftest import Org, build_org, key_account
from tests.support import T0, unchanged

SHANGHAI = ZoneInfo("Asia/Shanghai")
Q1 = Period(2026, 1)
Q2 = Period(2026, 2)
#: Q2's end for a team in Shanghai: local midnight of 1 July, eight hours before UTC's.
Q2_ENDS = datetime(2026, 6, 30, 16, 0, tzinfo=UTC)
CLOCK = Actor.system("clock")


def cny(amount: int) -> Money:
    return Money.of(amount, "CNY")


@pytest.fixture(name="zoned")
def fixture_zoned(store: str) -> Iterator[KamApplication]:
    """An application running the time-driven policies a zone moves."""
    app = KamApplication(
        store, policies=[EvaluationPolicy, CollectionsPolicy, CaseEscalationPolicy]
    )
    yield app
    app.close()


def in_shanghai(app: KamApplication) -> Org:
    """Given: the standard test team, keeping Asia/Shanghai from its formation on."""
    org = build_org(app)
    app.set_time_zone(org.team_id, org.senior, "Asia/Shanghai", effective_from=T0, at=T0)
    return org


def decision(app: KamApplication, policy: str, outcome_start: str) -> Any:
    found = [d for d in app.decisions(policy) if d.outcome.startswith(outcome_start)]
    assert len(found) == 1, [d.outcome for d in app.decisions(policy)]
    return found[0]


# -- recording the zone ------------------------------------------------------------------------


def test_a_team_keeps_utc_until_it_records_a_zone(app: KamApplication) -> None:
    """Given a team that recorded no zone, its Q2 ends at midnight UTC, as before zones."""
    org = build_org(app)

    team = app.get_team(org.team_id)

    assert team.zone_name_at(T0) == "UTC"
    assert team.zone_for(Q2) is UTC
    assert team.period_end(Q2) == datetime(2026, 7, 1, tzinfo=UTC)


def test_a_shanghai_teams_quarter_closes_at_local_midnight(app: KamApplication) -> None:
    """Given a team in Asia/Shanghai, its Q2 runs from 1 April to 1 July, local midnights."""
    org = in_shanghai(app)

    team = app.get_team(org.team_id)

    assert team.period_start(Q2) == datetime(2026, 4, 1, tzinfo=SHANGHAI)
    assert team.period_end(Q2) == datetime(2026, 7, 1, tzinfo=SHANGHAI) == Q2_ENDS
    assert team.period_end(Q2).tzinfo is UTC


def test_an_unknown_zone_is_refused_and_nothing_is_recorded(app: KamApplication) -> None:
    """A name the IANA database does not know is refused with a named error; the log is
    unchanged."""
    org = build_org(app)

    for name in ("Asia/Shangai", "+08:00", "", "../etc/passwd", 8):
        with unchanged(app), pytest.raises(UnknownTimeZone, match=r"^zone: "):
            app.set_time_zone(org.team_id, org.senior, name, at=T0)  # type: ignore[arg-type]


def test_only_a_director_sets_the_zone(app: KamApplication) -> None:
    """A KAM may not move the team's calendar; nothing is recorded."""
    org = build_org(app)

    with unchanged(app), pytest.raises(RoleRequired, match="actor"):
        app.set_time_zone(org.team_id, org.kam, "Asia/Shanghai", at=T0)


def test_a_naive_effective_time_is_refused(app: KamApplication) -> None:
    """The moment a zone takes effect is an instant: a naive datetime is refused."""
    org = build_org(app)

    with unchanged(app), pytest.raises(ValidationError, match="effective_from"):
        app.set_time_zone(
            org.team_id, org.senior, "Asia/Shanghai", effective_from=datetime(2026, 1, 1), at=T0
        )


def test_setting_the_zone_in_force_again_is_refused(app: KamApplication) -> None:
    """Recording the zone already in force changes nothing and is refused."""
    org = in_shanghai(app)

    with unchanged(app), pytest.raises(InvalidTransition, match="Asia/Shanghai"):
        app.set_time_zone(org.team_id, org.senior, "Asia/Shanghai", at=T0 + timedelta(days=1))


def test_the_zone_in_force_changes_over_time(app: KamApplication) -> None:
    """Given UTC in Q1 and Asia/Shanghai from 1 April on, Q1 ends at UTC midnight and Q2 at
    Shanghai's; a quarter follows the zone in force at its last moment."""
    org = build_org(app)
    app.set_time_zone(
        org.team_id,
        org.senior,
        "Asia/Shanghai",
        effective_from=datetime(2026, 4, 1, tzinfo=UTC),
        at=T0,
    )

    team = app.get_team(org.team_id)

    assert team.zone_name_at(datetime(2026, 3, 31, tzinfo=UTC)) == "UTC"
    assert team.period_end(Q1) == datetime(2026, 4, 1, tzinfo=UTC)
    assert team.period_end(Q2) == Q2_ENDS
    recorded = [e for e in app.events.get(org.team_id) if isinstance(e, Team.TimeZoneSet)]
    assert [(e.zone, e.effective_from) for e in recorded] == [
        ("Asia/Shanghai", datetime(2026, 4, 1, tzinfo=UTC))
    ]


def test_a_version_1_team_snapshot_reads_as_keeping_utc() -> None:
    """A snapshot taken before teams recorded zones upcasts to one without any."""
    state: dict[str, Any] = {"name": "East"}

    Team.upcast_v1_v2(state)

    assert state["time_zones"] == []


# -- targets and the period close --------------------------------------------------------------


def test_a_target_cannot_be_set_after_the_local_end(app: KamApplication) -> None:
    """Given a team in Shanghai, a Q2 target set at 17:00Z on 30 June (01:00 on 1 July there)
    is refused, the local end named with its offset; nothing is recorded."""
    org = in_shanghai(app)

    with unchanged(app), pytest.raises(PeriodClosed, match=r"ended at 2026-07-01T00:00:00\+08:00"):
        app.set_target(
            org.team_id,
            org.director,
            scope=TargetScope.member(org.kam),
            period=Q2,
            goals=(RevenueGoal(cny(1000)),),
            at=Q2_ENDS + timedelta(hours=1),
        )


def test_the_clock_closes_a_shanghai_quarter_at_local_midnight(zoned: KamApplication) -> None:
    """Given every team in Shanghai, closing Q2 a second before 16:00Z on 30 June is refused,
    the local end named; at 16:00Z it is recorded."""
    in_shanghai(zoned)

    with unchanged(zoned), pytest.raises(InvalidTransition, match=r"2026-07-01T00:00:00\+08:00"):
        zoned.close_period(Q2, CLOCK, at=Q2_ENDS - timedelta(seconds=1))

    zoned.close_period(Q2, CLOCK, at=Q2_ENDS)
    assert zoned.recorded_time() == Q2_ENDS


def test_a_store_with_teams_in_two_zones_closes_a_period_when_it_ended_for_both(
    zoned: KamApplication,
) -> None:
    """Given a team in Shanghai and one in UTC, Q2 closes at UTC's midnight, the later end."""
    in_shanghai(zoned)
    zoned.form_team(
        name="West key accounts",
        segment="energy",
        region="west",
        director_name="Li Senior",
        top_authority=Percentage.of(30),
        at=T0,
    )

    with pytest.raises(InvalidTransition, match=r"runs until 2026-07-01T00:00:00\+00:00"):
        zoned.close_period(Q2, CLOCK, at=Q2_ENDS)


def test_the_evaluation_measures_the_local_quarter_and_names_the_zone(
    zoned: KamApplication,
) -> None:
    """Given a team in Shanghai, a payment at 16:30Z on 31 March (00:30 on 1 April there)
    counts for Q2 and one at 16:30Z on 30 June (00:30 on 1 July there) does not; the decision
    names the zone and the local bounds it used."""
    app = zoned
    org = in_shanghai(app)
    account = key_account(app, org)
    invoice = app.issue_invoice(
        account, org.finance, amount=cny(900), due_at=datetime(2026, 8, 1, tzinfo=UTC), at=T0
    )
    early = datetime(2026, 3, 31, 16, 30, tzinfo=UTC)
    late = Q2_ENDS + timedelta(minutes=30)
    target_id = app.set_target(
        org.team_id,
        org.director,
        scope=TargetScope.member(org.kam),
        period=Q2,
        goals=(RevenueGoal(cny(1000)),),
        at=T0,
    )
    app.record_payment(account, org.finance, invoice, amount=cny(300), at=early)
    app.record_payment(account, org.finance, invoice, amount=cny(200), at=late)

    app.close_period(Q2, CLOCK, at=late + timedelta(minutes=1))

    target = app.get_target(target_id)
    evaluation = target.latest_evaluation
    assert evaluation is not None
    assert [actual.value for actual in evaluation.actuals] == [cny(300)]
    assert evaluation.actuals == app.measure_target(target_id)
    made = decision(app, "evaluation", "evaluate")
    assert made.inputs[f"time zone {org.team_id}"] == (
        "Asia/Shanghai: 2026-Q2 from 2026-04-01T00:00:00+08:00 to 2026-07-01T00:00:00+08:00"
    )
    assert app.replay().reproduced


def test_a_utc_teams_evaluation_does_not_name_a_zone(zoned: KamApplication) -> None:
    """Given a team that recorded no zone, the decision's inputs are as before zones."""
    app = zoned
    org = build_org(app)
    app.set_target(
        org.team_id,
        org.director,
        scope=TargetScope.member(org.kam),
        period=Q1,
        goals=(RevenueGoal(cny(1000)),),
        at=T0,
    )

    app.close_period(Q1, CLOCK, at=datetime(2026, 4, 1, tzinfo=UTC))

    made = decision(app, "evaluation", "evaluate")
    assert not any(key.startswith("time zone") for key in made.inputs)


def test_the_sign_off_deadline_is_counted_from_the_local_end(zoned: KamApplication) -> None:
    """Given a Shanghai team's Q2 evaluation not signed off, a tick just after 16:00Z on
    10 July (ten days after the local end) flags it, the deadline named in local time."""
    app = zoned
    org = in_shanghai(app)
    account = key_account(app, org)
    invoice = app.issue_invoice(
        account, org.finance, amount=cny(900), due_at=datetime(2026, 8, 1, tzinfo=UTC), at=T0
    )
    app.record_payment(
        account, org.finance, invoice, amount=cny(900), at=datetime(2026, 5, 1, tzinfo=UTC)
    )
    target_id = app.set_target(
        org.team_id,
        org.director,
        scope=TargetScope.member(org.kam),
        period=Q2,
        goals=(RevenueGoal(cny(1000)),),
        at=T0,
    )
    app.close_period(Q2, CLOCK, at=Q2_ENDS)
    deadline = Q2_ENDS + timedelta(days=10)

    app.tick(CLOCK, at=deadline)
    assert [d.outcome for d in app.decisions("evaluation")] == ["evaluate 1"]
    app.tick(CLOCK, at=deadline + timedelta(seconds=1))

    flag = decision(app, "evaluation", "flag")
    (facts,) = flag.inputs.values()
    assert f"target {target_id}" in next(iter(flag.inputs))
    assert "deadline: 2026-07-11T00:00:00+08:00" in facts
    assert "period end: 2026-07-01T00:00:00+08:00" in facts
    assert "time zone: Asia/Shanghai" in facts
    assert app.replay().reproduced


# -- invoices and SLAs: instants, whatever the zone --------------------------------------------


def test_an_invoice_due_at_local_midnight_is_overdue_just_after_it(zoned: KamApplication) -> None:
    """Given an invoice due at 00:00 on 1 May in Shanghai (16:00Z on 30 April), a tick at
    16:00Z flags nothing and one a second later flags it overdue."""
    app = zoned
    org = in_shanghai(app)
    account = key_account(app, org)
    due = datetime(2026, 5, 1, tzinfo=SHANGHAI)
    app.issue_invoice(account, org.finance, amount=cny(500), due_at=due, at=T0)

    app.tick(CLOCK, at=datetime(2026, 4, 30, 16, 0, tzinfo=UTC))
    assert app.decisions("collections") == []
    app.tick(CLOCK, at=datetime(2026, 4, 30, 16, 0, 1, tzinfo=UTC))

    flagged = decision(app, "collections", "flag_overdue 1")
    assert "due 2026-04-30T16:00:00+00:00" in " ".join(flagged.inputs.values())


def test_an_sla_runs_in_hours_from_a_local_opening(zoned: KamApplication) -> None:
    """Given a critical case opened at 09:00 in Shanghai, a tick at 13:00 there escalates
    nothing and one at 13:01 escalates it: SLA hours are elapsed hours from the opening."""
    app = zoned
    org = in_shanghai(app)
    account = key_account(app, org)
    opened = datetime(2026, 2, 2, 9, 0, tzinfo=SHANGHAI)
    app.open_case(
        account,
        org.rep,
        kind=CaseKind.COMPLAINT,
        severity=Severity.CRITICAL,
        subject="outage",
        at=opened,
    )

    app.tick(CLOCK, at=datetime(2026, 2, 2, 13, 0, tzinfo=SHANGHAI))
    assert app.decisions("case_escalation") == []
    app.tick(CLOCK, at=datetime(2026, 2, 2, 13, 1, tzinfo=SHANGHAI))

    decision(app, "case_escalation", "escalate_cases 1")


def test_a_zone_recorded_after_an_evaluation_moves_its_deadline(zoned: KamApplication) -> None:
    """Given a UTC team's Q1 evaluated, a zone then recorded from the quarter's start moves
    the sign-off deadline to Shanghai's: a tick at 17:00Z on 10 April (01:00 on 11 April
    there) flags it, seven hours before UTC's deadline."""
    app = zoned
    org = build_org(app)
    account = key_account(app, org)
    invoice = app.issue_invoice(
        account, org.finance, amount=cny(900), due_at=datetime(2026, 8, 1, tzinfo=UTC), at=T0
    )
    app.record_payment(account, org.finance, invoice, amount=cny(900), at=T0 + timedelta(days=1))
    app.set_target(
        org.team_id,
        org.director,
        scope=TargetScope.member(org.kam),
        period=Q1,
        goals=(RevenueGoal(cny(1000)),),
        at=T0,
    )
    app.close_period(Q1, CLOCK, at=datetime(2026, 4, 1, tzinfo=UTC))
    app.set_time_zone(
        org.team_id,
        org.senior,
        "Asia/Shanghai",
        effective_from=datetime(2026, 1, 1, tzinfo=UTC),
        at=datetime(2026, 4, 2, tzinfo=UTC),
    )

    app.tick(CLOCK, at=datetime(2026, 4, 10, 17, 0, tzinfo=UTC))

    flag = decision(app, "evaluation", "flag")
    assert "deadline: 2026-04-11T00:00:00+08:00" in next(iter(flag.inputs.values()))
    assert app.replay().reproduced
    if state_of(app.recorder) is not None:  # a memory store keeps no state to rebuild
        assert rebuild(app, app.policies.registry, write=False).equal


def test_the_forecast_reads_close_dates_on_the_teams_calendar(app: KamApplication) -> None:
    """Given a Shanghai team, an opportunity expected to close at 17:00Z on 30 June (01:00 on
    1 July there) is in its Q3 forecast, not its Q2."""
    org = in_shanghai(app)
    account = key_account(app, org)
    opportunity = app.open_opportunity(
        account,
        org.kam,
        name="Core network",
        amount=cny(5000),
        expected_close=Q2_ENDS + timedelta(hours=1),
        at=T0,
    )

    q2 = read_forecast(app, org.team_id, Q2)
    q3 = read_forecast(app, org.team_id, Period(2026, 3))

    assert [item.opportunity_id for item in q2.items] == []
    assert [item.opportunity_id for item in q3.items] == [opportunity]
