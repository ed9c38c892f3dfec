"""The exceptions report: each kind found in a small history made to contain it, as of a moment,
with the events behind it; the demo's known exceptions and none it does not have."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID, uuid4

import attrs
import pytest

from kam_domain.aggregates.client_account import ClientAccount, PaymentInstallment
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.project import FeasibilityVerdict, Project
from kam_domain.aggregates.target import (
    RevenueActual,
    RevenueGoal,
    Signatory,
    TargetScope,
)
from kam_domain.aggregates.team import Team, TrainingKind
from kam_domain.application import KamApplication
from kam_domain.audit.exceptions import ExceptionsReport, Finding, FindingKind, exceptions_report
from kam_domain.demo import QUARTER, build_demo
from kam_domain.policies import Decision, Policy, World
from kam_domain.policies.escalation import CaseEscalationPolicy
from kam_domain.values import (
    Actor,
    CaseKind,
    DiscountRequestId,
    Money,
    Percentage,
    Period,
    Severity,
    Tier,
)
from tests.conftest import STRATEGIES, Org, build_org, key_account
from tests.policy_acts import act_as_policy
from tests.support import at

Q1 = Period(2026, 1)
AFTER_Q1 = Q1.end


def cny(amount: int | str) -> Money:
    return Money.of(amount, "CNY")


def found(report: ExceptionsReport, kind: FindingKind) -> list[Finding]:
    return report.of(kind)


def project(app: KamApplication, org: Org, name: str = "Core network") -> UUID:
    """A project with a 1000 / 900 CNY band (day 1) on a key account of org.kam."""
    account_id = key_account(app, org, f"{name} client")
    project_id = app.initiate_project(
        account_id,
        org.kam,
        name=name,
        currency="CNY",
        project_director_id=org.project_director,
        at=at(1),
    )
    app.assess_feasibility(
        project_id,
        org.project_director,
        verdict=FeasibilityVerdict.FEASIBLE,
        value_positioning="lowest latency",
        at=at(1),
    )
    app.set_price_band(
        project_id, org.project_director, list_price=cny(1000), floor=cny(900), at=at(1)
    )
    return project_id


def forge_approval(
    app: KamApplication,
    project_id: UUID,
    request_id: UUID,
    approver: Credentials,
    when: datetime,
    **claims: Any,
) -> int:
    """Append a DiscountApproved the library would refuse, through the event class itself;
    ``claims`` overrides what the event says (price, floor). Returns the event's version."""
    record = app.get_project(project_id)
    band = record.price_band
    assert band is not None
    request = record.discount_request(DiscountRequestId(request_id))
    price = claims.get("price", band.price_after(request.percentage))
    command = uuid4()
    record.trigger_event(
        Project.DiscountApproved,
        timestamp=when,
        actor=Actor.member(approver.member_id),
        correlation_id=command,
        causation_id=command,
        request_id=request_id,
        approver=approver,
        decided_by="manual",
        price=price,
        floor=claims.get("floor", band.floor),
        margin=record.margin_at(price),
        minimum_margin=record.minimum_margin,
    )
    app.save(record)
    return record.version


def position_of(app: KamApplication, record_id: UUID, version: int) -> int:
    recorder: Any = app.recorder
    return next(e.position for e in recorder.timeline(record_id) if e.originator_version == version)


# -- discount decisions ---------------------------------------------------------------------------


def test_an_approval_beyond_the_authority_the_team_then_held_is_caught(
    app: KamApplication, org: Org
) -> None:
    """A forged approval claiming 10 % for a member the Team gave 5 % that day is listed, with
    the forged event and the grant then in force; the Team granting 10 % later changes nothing."""
    project_id = project(app, org)
    request_id = app.request_discount(
        project_id, org.kam, percentage=Percentage.of(8), justification="rival", at=at(2)
    )
    honest = app.request_discount(
        project_id, org.kam, percentage=Percentage.of(8), justification="rival", at=at(2)
    )
    app.approve_discount(project_id, org.project_director, honest, at=at(3))
    real = app.credentials(org.team_id, org.kam2, at(3))
    claimed = attrs.evolve(real, discount_authority=Percentage.of(10))
    version = forge_approval(app, project_id, request_id, claimed, at(3))
    app.grant_authority(
        org.team_id, org.senior, org.kam2, max_discount=Percentage.of(10), at=at(10)
    )

    report = exceptions_report(app)

    [finding] = found(report, FindingKind.APPROVAL_OUTSIDE_AUTHORITY)
    assert finding.record_id == project_id
    assert finding.at == at(3)
    assert "the team's record gives Chen Manager 5%" in finding.summary
    assert "the approval itself records" not in finding.summary
    events = [ref.event for ref in finding.events]
    assert events == ["Team.AuthorityGranted", "Project.DiscountApproved"]
    assert finding.events[1].position == position_of(app, project_id, version)
    assert finding.events[0].record_id == org.team_id


def test_a_decision_by_the_requester_is_a_self_approval(app: KamApplication, org: Org) -> None:
    """A forged approval by the requester is listed; a policy approving a request on the
    requester's own authority is not."""
    project_id = project(app, org)
    own = app.request_discount(
        project_id, org.director, percentage=Percentage.of(5), justification="j", at=at(2)
    )
    within = app.request_discount(
        project_id, org.kam, percentage=Percentage.of(4), justification="j", at=at(2)
    )
    kam = app.credentials(org.team_id, org.kam, at(3))
    act_as_policy(
        app,
        project_id,
        Actor.policy("price_approval", 1),
        lambda record, meta: record.approve_discount(meta, kam, within),
        at(3),
    )
    forge_approval(app, project_id, own, app.credentials(org.team_id, org.director, at(3)), at(3))

    report = exceptions_report(app)

    [finding] = found(report, FindingKind.SELF_APPROVAL)
    assert "5% discount requested and approved by Zhao Director by hand" in finding.summary
    assert [ref.event for ref in finding.events] == [
        "Project.DiscountRequested",
        "Project.DiscountApproved",
    ]
    assert not found(report, FindingKind.APPROVAL_OUTSIDE_AUTHORITY)


def test_a_price_under_the_floor_then_in_force_is_caught(app: KamApplication, org: Org) -> None:
    """The band's floor rose to 950 before a forged approval at 920 that claims the old floor
    of 900: the report reads the floor from the project as it stood, not from the event."""
    project_id = project(app, org)
    request_id = app.request_discount(
        project_id, org.kam, percentage=Percentage.of(8), justification="rival", at=at(2)
    )
    app.set_price_band(
        project_id, org.project_director, list_price=cny(1000), floor=cny(950), at=at(3)
    )
    director = app.credentials(org.team_id, org.director, at(4))
    forge_approval(app, project_id, request_id, director, at(4), floor=cny(900))

    report = exceptions_report(app)

    [finding] = found(report, FindingKind.PRICE_UNDER_FLOOR)
    assert "approved at 920.00 CNY, under the floor 950.00 CNY" in finding.summary
    assert [ref.event for ref in finding.events] == [
        "Project.PriceBandSet",
        "Project.DiscountApproved",
    ]
    assert not found(report, FindingKind.APPROVAL_OUTSIDE_AUTHORITY)


def test_a_margin_under_the_minimum_names_who_approved_it(app: KamApplication, org: Org) -> None:
    """Costs of 950 leave no margin at 920: a sales director may approve, and the report lists
    the approval with the director's name and the costs behind it."""
    project_id = project(app, org)
    app.record_cost(project_id, org.finance, amount=cny(950), category="equipment", at=at(2))
    request_id = app.request_discount(
        project_id, org.kam, percentage=Percentage.of(8), justification="rival", at=at(3)
    )
    app.approve_discount(project_id, org.director, request_id, at=at(4))

    report = exceptions_report(app)

    [finding] = found(report, FindingKind.MARGIN_UNDER_MINIMUM)
    assert "margin of -3.26% at 920.00 CNY, under the minimum 15%" in finding.summary
    assert finding.summary.endswith("approved by Zhao Director, sales director")
    assert [ref.event for ref in finding.events] == [
        "Project.CostRecorded",
        "Project.DiscountApproved",
    ]


# -- targets --------------------------------------------------------------------------------------


def member_target(app: KamApplication, org: Org, kam: UUID, goal: int = 1000) -> UUID:
    return app.set_target(
        org.team_id,
        org.director,
        scope=TargetScope.member(kam),
        period=Q1,
        goals=[RevenueGoal(cny(goal))],
        at=at(1),
    )


def evaluated(app: KamApplication, org: Org, kam: UUID, when: datetime) -> UUID:
    target_id = member_target(app, org, kam)
    app.evaluate_target(target_id, org.director, actuals=[RevenueActual(cny(900))], at=when)
    return target_id


def test_an_evaluation_not_signed_off_by_its_deadline_is_unsigned(
    app: KamApplication, org: Org
) -> None:
    """Unsigned ten days after the period's end (the default standard's deadline) is not yet an
    exception; a day later it is, pointing to the evaluation."""
    target_id = evaluated(app, org, org.kam, AFTER_Q1 + timedelta(days=1))
    deadline = AFTER_Q1 + timedelta(days=10)

    before = exceptions_report(app, at=deadline)
    after = exceptions_report(app, at=deadline + timedelta(hours=1))

    assert not found(before, FindingKind.EVALUATION_UNSIGNED)
    [finding] = found(after, FindingKind.EVALUATION_UNSIGNED)
    assert finding.record_id == target_id
    assert finding.record == "target KAM Li Manager 2026-Q1"
    assert "without the sign-off of the KAM and the supervisor" in finding.summary
    assert [ref.event for ref in finding.events] == ["Target.Evaluated"]


def test_a_late_sign_off_and_a_missing_evaluation_are_late(app: KamApplication, org: Org) -> None:
    """Sign-offs twelve days after the period's end are late, each; a target never evaluated
    is late once the deadline has passed."""
    signed = evaluated(app, org, org.kam, AFTER_Q1 + timedelta(days=1))
    never = member_target(app, org, org.kam2)
    late = AFTER_Q1 + timedelta(days=12)
    app.sign_off_target(signed, org.kam, signatory=Signatory.KAM, comments="ok", at=late)
    app.sign_off_target(
        signed, org.director, signatory=Signatory.SUPERVISOR, comments="ok", at=late
    )

    report = exceptions_report(app, at=late + timedelta(days=1))

    lines = found(report, FindingKind.EVALUATION_LATE)
    assert [(f.record_id, f.at) for f in lines] == [
        (never, AFTER_Q1 + timedelta(days=10)),
        (signed, late),
        (signed, late),
    ]
    assert lines[0].summary.startswith("not evaluated by the deadline")
    assert "signed off as KAM by Li Manager" in lines[1].summary
    assert "signed off as supervisor by Zhao Director" in lines[2].summary
    assert [ref.event for ref in lines[1].events] == [
        "Target.Evaluated",
        "Target.SignedOff",
        "Target.SignedOff",
    ]
    assert not found(report, FindingKind.EVALUATION_UNSIGNED)


def test_a_target_revised_after_its_period_closed(app: KamApplication, org: Org) -> None:
    """A revision before the period's end is not listed; the supervisor's revision after it is,
    with who approved it and why, pointing to the revision."""
    target_id = member_target(app, org, org.kam)
    app.revise_target(
        target_id, org.director, goals=[RevenueGoal(cny(1100))], reason="new deal", at=at(20)
    )
    app.revise_target(
        target_id,
        org.director,
        goals=[RevenueGoal(cny(800))],
        reason="the client delayed its order",
        at=AFTER_Q1 + timedelta(days=2),
    )

    report = exceptions_report(app)

    [finding] = found(report, FindingKind.TARGET_REVISED_AFTER_CLOSE)
    assert finding.at == AFTER_Q1 + timedelta(days=2)
    assert "approved by Zhao Director, sales director" in finding.summary
    assert finding.summary.endswith("reason: the client delayed its order")
    [ref] = finding.events
    assert ref.event == "Target.Revised"
    assert ref.version == app.get_target(target_id).version


def test_child_targets_that_do_not_add_up_to_their_parent(app: KamApplication, org: Org) -> None:
    """A team target of 1000 with one KAM target of 800 has a revenue gap of 200."""
    parent = app.set_target(
        org.team_id,
        org.senior,
        scope=TargetScope.team(org.team_id),
        period=Q1,
        goals=[RevenueGoal(cny(1000))],
        at=at(1),
    )
    app.set_target(
        org.team_id,
        org.director,
        scope=TargetScope.member(org.kam),
        period=Q1,
        goals=[RevenueGoal(cny(800))],
        parent_id=parent,
        at=at(2),
    )

    report = exceptions_report(app)

    [finding] = found(report, FindingKind.DECOMPOSITION_GAP)
    assert finding.record_id == parent
    assert "sales_revenue gap 200.00 CNY (goal 1,000.00 CNY" in finding.summary
    assert [ref.event for ref in finding.events] == ["Target.Set"]


# -- accounts -------------------------------------------------------------------------------------


def test_a_key_account_without_a_kam(app: KamApplication, org: Org) -> None:
    """Designated key with nobody accountable: listed from its designation on, not before;
    an account whose KAM left the team (no policy moved it) is listed from the departure."""
    account_id = app.register_account(
        org.team_id, org.director, name="Orphan Telecom", industry="t", region="e", at=at(1)
    )
    app.designate_key_account(
        account_id, org.director, tier=Tier.STRATEGIC, strategies=STRATEGIES, at=at(2)
    )
    key_account(app, org, "Abandoned Telecom", kam=org.kam2, when=at(2))
    app.remove_member(org.team_id, org.director, org.kam2, reason="moved abroad", at=at(4))

    earlier = exceptions_report(app, at=at(1, hours=1))
    report = exceptions_report(app, at=at(5))

    assert not found(earlier, FindingKind.KEY_ACCOUNT_WITHOUT_KAM)
    orphan, abandoned = found(report, FindingKind.KEY_ACCOUNT_WITHOUT_KAM)
    assert orphan.record == "account Orphan Telecom"
    assert orphan.summary == "strategic key account with no accountable KAM"
    assert [ref.event for ref in orphan.events] == ["ClientAccount.KeyAccountDesignated"]
    assert abandoned.at == at(4)
    assert abandoned.summary == (
        "major key account whose accountable KAM Chen Manager has left the team"
    )
    assert [ref.event for ref in abandoned.events] == [
        "ClientAccount.KeyAccountDesignated",
        "ClientAccount.KamAssigned",
        "Team.MemberLeft",
    ]


def test_a_key_account_whose_kam_has_no_cross_trained_backup(app: KamApplication, org: Org) -> None:
    """A backup designated but not cross-trained leaves a gap until the training is recorded;
    as of a moment in between it is listed, after it not."""
    key_account(app, org, "Covered Telecom")
    app.designate_backup(org.team_id, org.director, org.kam, backup_id=org.kam2, at=at(1))
    app.record_training(
        org.team_id,
        org.admin,
        org.kam2,
        kind=TrainingKind.CROSS_TRAINING,
        skill="handover",
        covers_member_id=org.kam,
        at=at(5),
    )

    between = exceptions_report(app, at=at(2))
    after = exceptions_report(app, at=at(6))

    [finding] = found(between, FindingKind.KEY_ACCOUNT_WITHOUT_BACKUP)
    assert (
        finding.summary
        == "KAM Li Manager: its backup Chen Manager is not cross-trained to cover them"
    )
    assert [ref.event for ref in finding.events] == [
        "ClientAccount.KamAssigned",
        "Team.BackupDesignated",
    ]
    assert not found(after, FindingKind.KEY_ACCOUNT_WITHOUT_BACKUP)


def test_an_open_balance_past_its_due_date_is_an_overdue_payment(
    app: KamApplication, org: Org
) -> None:
    """An invoice due day 30 is overdue from then until it is paid on day 40."""
    account_id = key_account(app, org, "Slow Payer")
    app.assign_representative(account_id, org.kam, org.rep, at=at(1))
    agreement_id = app.sign_agreement(
        account_id,
        org.rep,
        number="HT-9",
        value=cny(100),
        schedule=[PaymentInstallment(at(30), cny(100))],
        at=at(2),
    )
    invoice_id = app.issue_invoice(
        account_id, org.finance, amount=cny(100), due_at=at(30), agreement_id=agreement_id, at=at(3)
    )
    app.record_payment(account_id, org.finance, invoice_id, amount=cny(100), at=at(40))

    counts = [
        len(found(exceptions_report(app, at=at(day)), FindingKind.OVERDUE_PAYMENT))
        for day in (29, 31, 41)
    ]
    [finding] = found(exceptions_report(app, at=at(31)), FindingKind.OVERDUE_PAYMENT)

    assert counts == [0, 1, 0]
    assert f"invoice {invoice_id} of 100.00 CNY: 100.00 CNY open" in finding.summary
    assert "not flagged overdue" in finding.summary
    assert [ref.event for ref in finding.events] == ["ClientAccount.InvoiceIssued"]


def test_cases_acknowledged_late_or_not_at_all_breach_their_sla(
    app: KamApplication, org: Org
) -> None:
    """With the escalation policy's default SLA (high 24 h, critical 4 h): a high complaint
    acknowledged after 30 h and a critical one never acknowledged breach; a medium one
    acknowledged in 10 h does not."""
    account_id = key_account(app, org, "Impatient Telecom")

    def case(severity: Severity) -> UUID:
        return app.open_case(
            account_id,
            org.kam,
            kind=CaseKind.COMPLAINT,
            severity=severity,
            subject="down",
            at=at(1),
        )

    late, medium, never = (case(Severity.HIGH), case(Severity.MEDIUM), case(Severity.CRITICAL))
    app.acknowledge_case(account_id, org.kam, medium, at=at(1, hours=10))
    app.acknowledge_case(account_id, org.kam, late, at=at(1, hours=30))

    report = exceptions_report(app, at=at(3))

    lines = found(report, FindingKind.SLA_BREACH)
    assert [f.at for f in lines] == [at(1, hours=4), at(1, hours=24)]
    assert str(never) in lines[0].summary
    assert "(SLA 4 h): not acknowledged, 44.0 h past its window" in lines[0].summary
    assert str(late) in lines[1].summary
    assert "(SLA 24 h): acknowledged 30.0 h after opening, 6.0 h late" in lines[1].summary
    assert [ref.event for ref in lines[1].events] == [
        "ClientAccount.CaseOpened",
        "ClientAccount.CaseAcknowledged",
    ]


def test_a_breach_is_reported_after_the_account_retired_the_case(
    app: KamApplication, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a high complaint acknowledged 30 h after opening and resolved, which the account
    no longer holds once its retention window (shortened here to 30 days) has passed, the
    breach is still reported: the audit reads cases from the account's events."""
    monkeypatch.setattr(ClientAccount, "retention_days", 30)
    account_id = key_account(app, org, "Forgetful Telecom")
    case_id = app.open_case(
        account_id,
        org.kam,
        kind=CaseKind.COMPLAINT,
        severity=Severity.HIGH,
        subject="down",
        at=at(1),
    )
    app.acknowledge_case(account_id, org.kam, case_id, at=at(1, hours=30))
    app.resolve_case(account_id, org.kam, case_id, resolution="restarted", at=at(3))
    app.record_client_need(account_id, org.kam, description="a later need", at=at(40))
    assert case_id not in app.get_account(account_id).cases

    [finding] = found(exceptions_report(app, at=at(41)), FindingKind.SLA_BREACH)

    assert str(case_id) in finding.summary
    assert "acknowledged 30.0 h after opening, 6.0 h late" in finding.summary


def test_the_sla_is_the_one_recorded_for_the_escalation_policy(
    app: KamApplication, org: Org
) -> None:
    """Configured to 48 h for high severity before the case opened, 30 h is within the SLA."""
    app.policies.registry.register(CaseEscalationPolicy)
    app.configure_policy(
        "case_escalation", {"sla_hours_high": 48}, org.senior, reason="new contract", at=at(0)
    )
    account_id = key_account(app, org, "Patient Telecom")
    case_id = app.open_case(
        account_id, org.kam, kind=CaseKind.INQUIRY, severity=Severity.HIGH, subject="?", at=at(1)
    )
    app.acknowledge_case(account_id, org.kam, case_id, at=at(1, hours=30))

    report = exceptions_report(app, at=at(5))

    assert not found(report, FindingKind.SLA_BREACH)


# -- parked events --------------------------------------------------------------------------------


class Fragile(Policy):
    """Fails on every capacity change while ``failing`` is set."""

    name = "fragile"
    version = 1
    handles = (Team.CapacitySet,)
    failing: ClassVar[bool] = True

    def decide(self, event: Any, world: World) -> Decision | None:
        if Fragile.failing:
            raise RuntimeError("the rates service is down")
        return None


@pytest.fixture(name="fragile")
def fixture_fragile(store: str) -> Iterator[KamApplication]:
    """An application whose only policy is :class:`Fragile`."""
    Fragile.failing = True
    app = KamApplication(store, policies=[Fragile])
    yield app
    app.close()


def test_a_parked_event_is_listed_until_it_is_processed(fragile: KamApplication) -> None:
    """The event the policy failed on is listed (pointing to it) while parked; once a retry
    succeeds (day 3) it is not, except as of a moment before that."""
    org = build_org(fragile)
    fragile.set_capacity(org.team_id, org.director, org.kam, capacity=5, at=at(1))
    parked = exceptions_report(fragile)
    Fragile.failing = False
    # Recorded time moves on to day 3 before the retry, which is stamped with it.
    fragile.set_capacity(org.team_id, org.director, org.kam, capacity=6, at=at(3))
    fragile.retry_dead_letters()

    retried = exceptions_report(fragile)
    then = exceptions_report(fragile, at=at(2))

    [finding] = found(parked, FindingKind.PARKED_EVENT)
    assert finding.record == "policy fragile@1"
    assert finding.at == at(1)
    assert "Team.CapacitySet" in finding.summary
    assert "RuntimeError: the rates service is down" in finding.summary
    cause, letter = finding.events
    assert (cause.event, cause.record_id) == ("Team.CapacitySet", org.team_id)
    assert letter.event == "DeadLetter.Parked"
    assert not found(retried, FindingKind.PARKED_EVENT)
    assert len(found(then, FindingKind.PARKED_EVENT)) == 1


# -- the demo -------------------------------------------------------------------------------------


@pytest.fixture(name="demo", scope="module")
def fixture_demo() -> Iterator[tuple[KamApplication, str]]:
    """The demo's quarter in memory (built once for this module) and its printed summary."""
    app = KamApplication("memory://")
    summary = build_demo(app)
    yield app, "\n".join(summary.lines)
    app.close()


def test_the_demo_has_its_known_exceptions_and_no_others(
    demo: tuple[KamApplication, str],
) -> None:
    """Two unsigned evaluations, the invoices still open, the late acknowledgements, the KAM
    without a backup, the team target's gap — and nothing else."""
    app, summary = demo
    moment = QUARTER.end + timedelta(days=19)
    team_id = app.teams()[0].id

    report = exceptions_report(app, at=moment)

    counts = {kind.value: n for kind, n in report.counts().items() if n}
    # As the demo's summary says: 10 invoices flagged overdue, 4 of them paid since; 4 cases
    # acknowledged late.
    assert "10 flagged overdue by the collections policy (4 paid late since)" in summary
    assert "acknowledged late 4" in summary
    assert counts == {
        "evaluation_unsigned": 2,
        "decomposition_gap": 1,
        "key_account_without_backup": 6,
        "overdue_payment": 6,
        "sla_breach": 4,
    }
    unsigned = found(report, FindingKind.EVALUATION_UNSIGNED)
    assert [f.record for f in unsigned] == [
        "target Hexi Wind Farms 2026-Q1",
        "target Wuyi Tea Trading 2026-Q1",
    ]
    assert all(f.events[-1].note == "evaluation@1: flag" for f in unsigned)
    assert {f.summary for f in found(report, FindingKind.KEY_ACCOUNT_WITHOUT_BACKUP)} == {
        "KAM Huang Wei: no backup designated"
    }
    assert {f.record_id for f in found(report, FindingKind.OVERDUE_PAYMENT)} == {
        o.account_id for o in app.overdue_invoices(team_id, moment)
    }
    [gap] = found(report, FindingKind.DECOMPOSITION_GAP)
    assert gap.record.startswith("target team East China key accounts")
    assert all(ref.position is not None for f in report.findings for ref in f.events)


def test_as_of_a_day_in_the_quarter_only_what_was_due_then_is_listed(
    demo: tuple[KamApplication, str],
) -> None:
    """On 1 March no evaluation was due yet and only the invoices due in February were open."""
    app, _ = demo

    report = exceptions_report(app, at=datetime(2026, 3, 1, tzinfo=UTC))

    counts = report.counts()
    assert report.as_of
    assert counts[FindingKind.EVALUATION_UNSIGNED] == 0
    assert counts[FindingKind.OVERDUE_PAYMENT] == 2
    assert all(f.at <= report.at for f in report.findings)


def test_the_auditors_guide_explains_every_kind() -> None:
    """docs/audit.md has a line for every kind the report lists."""
    guide = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text(encoding="utf-8")

    missing = [kind.value for kind in FindingKind if f"| `{kind.value}` |" not in guide]

    assert missing == []


def test_positions_are_found_on_a_store_without_the_as_of_index(tmp_path: Path) -> None:
    """On an adapter that keeps no as-of index, one pass over the log finds the positions."""
    plain = {"PERSISTENCE_MODULE": "eventsourcing.sqlite"}
    app = KamApplication(f"sqlite:///{tmp_path / 'plain.db'}", env=plain, run_policies=False)
    org = build_org(app)
    account_id = key_account(app, org, "Plain Telecom")
    assigned = app.get_account(account_id).version
    expected = next(
        n.id
        for n in app.recorder.select_notifications(1, 1000)
        if n.originator_id == account_id and n.originator_version == assigned
    )

    report = exceptions_report(app)
    app.close()

    [finding] = found(report, FindingKind.KEY_ACCOUNT_WITHOUT_BACKUP)
    assert [(ref.event, ref.position) for ref in finding.events] == [
        ("ClientAccount.KamAssigned", expected)
    ]
