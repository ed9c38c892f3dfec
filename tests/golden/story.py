"""The coverage history: one small team's quarter in which every event class is recorded.

Played through the application with fixed ids and effective times, so a release writes the
same events every time it plays it. Besides the commands of every aggregate it records policy
decisions, a parked event and its retry (a policy that fails once), policy settings, the clock
and the directories, a snapshot of an account with contacts, and the classes added since the
release that first wrote it (not in its topics.json: the next release's stores hold them).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID, uuid5

from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.client_account import AccountStrategies, PaymentInstallment
from kam_domain.aggregates.client_account.records import ContactInfluence, RelationshipStrength
from kam_domain.aggregates.opportunity import OpportunityStage, StageProbabilities
from kam_domain.aggregates.project import FeasibilityVerdict, ProjectMilestone, ProjectOutcome
from kam_domain.aggregates.target import (
    RevenueGoal,
    SatisfactionGoal,
    ServiceLevelGoal,
    Signatory,
    TargetScope,
)
from kam_domain.aggregates.team import EvaluationStandard, Team, TierWeights, TrainingKind
from kam_domain.application import KamApplication
from kam_domain.application.directory import Directory
from kam_domain.policies import Decision, Policy, World
from kam_domain.values import (
    Actor,
    CaseKind,
    Money,
    Percentage,
    Period,
    Role,
    Severity,
    Tier,
)

__all__ = ["QUARTER", "START", "Flaky", "ids", "play"]

START = datetime(2026, 1, 5, 9, tzinfo=UTC)
QUARTER = Period(2026, 1)
CURRENCY = "CNY"
CLOCK = Actor.system("clock")
STRATEGIES = AccountStrategies(
    market="grow share", client="executive sponsor", marketing="showcases", competitive="bundles"
)
_NAMESPACE = UUID("5b0f6f0e-3c2a-4d55-9d1e-2f7c0b9a6e11")


def ids(name: str) -> UUID:
    """The fixed id the history gives the record or item called ``name``."""
    return uuid5(_NAMESPACE, name)


def at(days: float, hours: float = 0) -> datetime:
    """The history's effective time ``days`` (and ``hours``) after its start."""
    return START + timedelta(days=days, hours=hours)


class Flaky(Policy):
    """Fails on the first capacity change it sees, then handles every one: a parked event and
    its retry, recorded as a host's failing policy would record them."""

    name = "flaky"
    version = 1
    handles = (Team.CapacitySet,)
    failing: ClassVar[bool] = True

    def decide(self, event: Any, world: World) -> Decision | None:
        if Flaky.failing:
            raise RuntimeError("the capacity planner is down")
        return Decision("noted", "capacity change noted")


def play(app: KamApplication) -> None:
    """Record the whole history in ``app`` (a fresh store; the library's policies and Flaky)."""
    # Stores written before directories were split open the store's directory empty; the
    # release no longer records that event but reads it, so the history records it as they did.
    app.save(
        Directory.open(Meta.command(Actor.system("directory"), at=at(0), command_id=ids("dir")))
    )
    _team(app)
    _accounts(app)
    _projects(app)
    _money(app)
    _cases(app)
    _targets(app)
    _pipeline(app)
    _relationships(app)
    _policies(app)
    _end(app)


def _team(app: KamApplication) -> None:
    team, senior = ids("team"), ids("senior")
    app.form_team(
        name="North key accounts",
        segment="large enterprises",
        region="north",
        director_name="Wang Jun",
        top_authority=Percentage.of(30),
        default_capacity=8,
        team_id=team,
        director_id=senior,
        import_history=True,
        at=at(0),
    )
    people = [
        ("director", Role.SALES_DIRECTOR, "senior"),
        ("kam_1", Role.KEY_ACCOUNT_MANAGER, "director"),
        ("kam_2", Role.KEY_ACCOUNT_MANAGER, "director"),
        ("rep", Role.KEY_ACCOUNT_REPRESENTATIVE, "kam_1"),
        ("pd", Role.PROJECT_DIRECTOR, "director"),
        ("pd_2", Role.PROJECT_DIRECTOR, "director"),
        ("pd_3", Role.PROJECT_DIRECTOR, "director"),
        ("admin", Role.SENIOR_ADMIN_MANAGER, "senior"),
        ("finance", Role.FINANCIAL_PLANNER, "admin"),
        ("support", Role.TECHNICAL_SUPPORT, "director"),
        ("leaver", Role.CONSULTANT, "director"),
    ]
    for key, role, boss in people:
        app.add_member(
            team,
            senior,
            name=key.replace("_", " ").title(),
            role=role,
            supervisor_id=ids(boss),
            member_id=ids(key),
            at=at(0),
        )
    for key, limit, grantor in (
        ("director", 20, "senior"),
        ("kam_1", 5, "director"),
        ("kam_2", 5, "director"),
        ("pd", 10, "director"),
    ):
        app.grant_authority(
            team,
            ids(grantor),
            ids(key),
            max_discount=Percentage.of(limit),
            grant_id=ids(f"grant {key}"),
            at=at(0),
        )
    app.grant_authority(
        team,
        senior,
        ids("pd_2"),
        max_discount=Percentage.of(8),
        grant_id=ids("grant pd_2"),
        at=at(0),
    )
    app.set_tier_weights(team, senior, TierWeights(strategic=3, major=2, standard=1), at=at(0))
    standard = EvaluationStandard.default()
    app.set_evaluation_standard(team, senior, standard, at=at(0))
    app.record_training(
        team,
        ids("admin"),
        ids("kam_2"),
        kind=TrainingKind.CROSS_TRAINING,
        skill="key-account handover",
        covers_member_id=ids("kam_1"),
        at=at(0),
    )
    app.designate_backup(team, senior, ids("kam_1"), backup_id=ids("kam_2"), at=at(0))
    app.revoke_authority(team, senior, ids("grant pd_2"), reason="moved to delivery", at=at(0, 1))
    app.set_capacity(team, senior, ids("kam_1"), capacity=6, at=at(0, 2))
    app.change_role(
        team, senior, ids("pd_2"), role=Role.CONSULTANT, reason="moved to delivery", at=at(0, 3)
    )
    app.set_supervisor(team, senior, ids("rep"), supervisor_id=ids("kam_2"), at=at(0, 3))
    app.set_top_authority(team, top_authority=Percentage.of(25), at=at(0, 4))
    app.set_backdating_window(team, senior, window=timedelta(days=366), at=at(0, 4))
    app.remove_member(team, senior, ids("leaver"), reason="moved on", at=at(0, 5))


def _accounts(app: KamApplication) -> None:
    team, director = ids("team"), ids("director")
    for number, tier in enumerate((Tier.STRATEGIC, Tier.MAJOR, Tier.STANDARD), start=1):
        account = ids(f"account {number}")
        app.register_account(
            team,
            director,
            name=f"Client {number}",
            industry="telecom",
            region="north",
            account_id=account,
            at=at(1),
        )
        app.designate_key_account(account, director, tier=tier, strategies=STRATEGIES, at=at(1))
    one = ids("account 1")
    # The assignment policy has chosen a KAM already; the director hands the account over.
    if app.get_account(one).accountable_kam == ids("kam_1"):
        app.assign_kam(one, director, ids("kam_2"), reason="covers a leave", at=at(1, 1))
    app.assign_kam(one, director, ids("kam_1"), reason="knows the client", at=at(1, 1))
    app.assign_representative(one, director, ids("rep"), at=at(1, 1))
    app.assign_technical_contact(one, director, ids("support"), at=at(1, 1))
    app.add_client_contact(
        one,
        ids("kam_1"),
        name="Zhang Wei",
        title="CIO",
        influence=ContactInfluence.HIGH,
        owner_id=ids("kam_1"),
        contact_id=ids("contact 1"),
        at=at(1, 2),
    )
    app.add_client_contact(
        one,
        ids("kam_1"),
        name="Li Qing",
        title="Head of procurement",
        influence=ContactInfluence.MEDIUM,
        owner_id=ids("rep"),
        contact_id=ids("contact 2"),
        at=at(1, 2),
    )
    app.record_client_need(
        one,
        ids("kam_1"),
        description="a private 5G campus network",
        need_id=ids("need 1"),
        at=at(1, 3),
    )
    app.record_competitor_intelligence(
        one,
        ids("kam_1"),
        competitor="Rival Telecom",
        note="bundles hardware at cost",
        at=at(1, 3),
    )
    app.agree_account_plan(
        one,
        ids("kam_1"),
        supervisor_id=director,
        client_goals="digitise the plants",
        execution_plan="pilot one plant, then roll out",
        at=at(1, 4),
    )
    app.revise_account_plan(
        one,
        ids("kam_1"),
        supervisor_id=director,
        client_goals="digitise the plants",
        execution_plan="pilot two plants, then roll out",
        at=at(1, 5),
    )
    app.undesignate_key_account(
        ids("account 3"), director, reason="below the key-account threshold", at=at(1, 6)
    )


def _projects(app: KamApplication) -> None:
    one, kam, pd = ids("account 1"), ids("kam_1"), ids("pd")
    won, lost = ids("project won"), ids("project lost")
    for project, name, lead in ((won, "Campus network", pd), (lost, "Video walls", ids("pd_3"))):
        app.initiate_project(
            one,
            kam,
            name=name,
            currency=CURRENCY,
            project_director_id=lead,
            project_id=project,
            at=at(2),
        )
        app.assess_feasibility(
            project,
            lead,
            verdict=FeasibilityVerdict.FEASIBLE,
            value_positioning="fits the client's plan",
            risks=["lead times"],
            at=at(2),
        )
        app.assign_presales_support(project, lead, ids("support"), at=at(2))
        app.submit_proposal(
            project,
            kam,
            amount=Money(Decimal(100_000), CURRENCY),
            summary="design, supply and installation",
            at=at(2),
        )
        app.set_price_band(
            project,
            ids("director"),
            list_price=Money(Decimal(100_000), CURRENCY),
            floor=Money(Decimal(90_000), CURRENCY),
            at=at(2),
        )
    app.set_minimum_margin(
        won,
        ids("director"),
        minimum_margin=Percentage.of(15),
        reason="strategic client",
        at=at(2, 1),
    )
    app.change_project_director(
        lost, ids("director"), project_director_id=pd, reason="one director for both", at=at(2, 1)
    )
    # Within the KAM's authority: the price-approval policy approves it.
    app.request_discount(
        won,
        kam,
        percentage=Percentage.of(4),
        justification="multi-year commitment",
        request_id=ids("request small"),
        at=at(3),
    )
    # Beyond it: escalated; the sales director approves.
    app.request_discount(
        won,
        kam,
        percentage=Percentage.of(8),
        justification="competing offer",
        request_id=ids("request large"),
        at=at(3, 1),
    )
    app.approve_discount(won, ids("director"), ids("request large"), at=at(3, 2))
    app.request_discount(
        lost,
        kam,
        percentage=Percentage.of(9),
        justification="match a bundle",
        request_id=ids("request rejected"),
        at=at(3, 3),
    )
    app.reject_discount(
        lost, ids("director"), ids("request rejected"), reason="margin too thin", at=at(3, 4)
    )
    risk = app.identify_risk(
        won,
        pd,
        description="vendor lead times",
        severity=Severity.HIGH,
        risk_id=ids("risk"),
        at=at(4),
    )
    app.close_risk(won, pd, risk, resolution="second vendor qualified", at=at(5))
    quote = app.record_quote(
        won,
        kam,
        vendor="Imaging Devices",
        list_price=Money(Decimal(30_000), CURRENCY),
        discount=Percentage.of(10),
        quote_id=ids("quote"),
        at=at(5),
    )
    app.confirm_quote(won, pd, quote, at=at(5))
    app.sign_contract(won, ids("rep"), value=Money(Decimal(92_000), CURRENCY), at=at(6))
    app.plan_implementation(
        won, pd, milestones=[("installed", at(20)), ("trial run", at(30))], headcount=4, at=at(6)
    )
    app.reach_milestone(won, pd, ProjectMilestone.INSTALLED, at=at(20))
    app.record_cost(
        won,
        ids("finance"),
        amount=Money(Decimal(50_000), CURRENCY),
        category="equipment",
        at=at(20),
    )
    app.record_revenue(
        won,
        ids("finance"),
        amount=Money(Decimal(92_000), CURRENCY),
        category="contract",
        at=at(20),
    )
    app.mark_project_lost(lost, kam, reason="client chose a bundle", at=at(7))
    app.close_project(lost, pd, outcome=ProjectOutcome.LOST, at=at(7))
    app.close_project(won, pd, outcome=ProjectOutcome.WON, note="delivered", at=at(31))


def _money(app: KamApplication) -> None:
    one, finance = ids("account 1"), ids("finance")
    schedule = [
        PaymentInstallment(at(30), Money(Decimal(50_000), CURRENCY)),
        PaymentInstallment(at(40), Money(Decimal(42_000), CURRENCY)),
    ]
    app.sign_agreement(
        one,
        ids("rep"),
        number="KA-2026-001",
        value=Money(Decimal(92_000), CURRENCY),
        schedule=schedule,
        agreement_id=ids("agreement"),
        at=at(6),
    )
    app.issue_invoice(
        one,
        finance,
        amount=Money(Decimal(50_000), CURRENCY),
        due_at=at(30),
        agreement_id=ids("agreement"),
        invoice_id=ids("invoice 1"),
        at=at(6),
    )
    app.issue_invoice(
        one,
        finance,
        amount=Money(Decimal(42_000), CURRENCY),
        due_at=at(40),
        agreement_id=ids("agreement"),
        invoice_id=ids("invoice 2"),
        at=at(6),
    )
    app.record_payment(
        one,
        finance,
        ids("invoice 1"),
        amount=Money(Decimal(50_000), CURRENCY),
        payment_id=ids("payment 1"),
        at=at(28),
    )
    app.flag_overdue(one, finance, ids("invoice 2"), at=at(42))
    app.record_satisfaction(one, ids("kam_1"), score=82, comment="responsive", at=at(43))


def _cases(app: KamApplication) -> None:
    one, rep, director = ids("account 1"), ids("rep"), ids("director")
    case = app.open_case(
        one,
        rep,
        kind=CaseKind.COMPLAINT,
        severity=Severity.HIGH,
        subject="outage",
        case_id=ids("case 1"),
        at=at(44),
    )
    app.acknowledge_case(one, director, case, at=at(44, 2))
    app.escalate_case(
        one, director, case, to=ids("senior"), level=2, reason="repeat outage", at=at(44, 3)
    )
    app.resolve_case(one, director, case, resolution="link replaced", at=at(45))


def _targets(app: KamApplication) -> None:
    team, senior = ids("team"), ids("senior")

    def goals(amount: int) -> tuple[Any, ...]:
        return (
            RevenueGoal(Money(Decimal(amount), CURRENCY)),
            ServiceLevelGoal(Decimal(90)),
            SatisfactionGoal(Decimal(80)),
        )

    app.set_target(
        team,
        senior,
        scope=TargetScope.team(team),
        period=QUARTER,
        goals=goals(100_000),
        target_id=ids("target team"),
        at=at(2),
    )
    app.set_target(
        team,
        ids("director"),
        scope=TargetScope.member(ids("kam_1")),
        period=QUARTER,
        goals=goals(90_000),
        parent_id=ids("target team"),
        target_id=ids("target kam"),
        at=at(2),
    )
    app.revise_target(
        ids("target kam"),
        ids("director"),
        goals=goals(95_000),
        reason="new pipeline",
        at=at(10),
    )


def _pipeline(app: KamApplication) -> None:
    """Opportunities (classes added after 0.1.0, not in its topics.json): the team's pipeline
    settings set and changed, one opportunity worked and won as the won project, one lost."""
    team, senior, kam = ids("team"), ids("senior"), ids("kam_1")
    one = ids("account 1")
    app.set_stage_probabilities(
        team, senior, probabilities=StageProbabilities.of(proposal=40), at=at(40)
    )
    app.set_stage_probabilities(
        team, senior, probabilities=StageProbabilities.of(proposal=45), currency=CURRENCY, at=at(41)
    )
    won, lost = ids("opportunity won"), ids("opportunity lost")
    for opportunity, name in ((won, "Campus network phase two"), (lost, "Video walls refresh")):
        app.open_opportunity(
            one,
            kam,
            name=name,
            amount=Money.of(300000, CURRENCY),
            expected_close=at(70),
            opportunity_id=opportunity,
            at=at(41),
        )
    app.move_opportunity(won, kam, stage=OpportunityStage.NEGOTIATION, at=at(42))
    app.revise_opportunity(
        won, kam, reason="two more buildings", amount=Money.of(360000, CURRENCY), at=at(42)
    )
    app.reassign_opportunity(won, kam, owner_id=ids("rep"), reason="day-to-day", at=at(43))
    app.win_opportunity(won, kam, project_id=ids("project won"), at=at(44))
    app.lose_opportunity(lost, kam, reason="the client chose the incumbent", at=at(44))


def _relationships(app: KamApplication) -> None:
    """Relationship strengths judged after the contacts were added (a class added after 0.1.0,
    not in its topics.json): one judged strong with a note, the other weak by admin staff."""
    one = ids("account 1")
    app.assess_client_contact(
        one,
        ids("kam_1"),
        ids("contact 1"),
        strength=RelationshipStrength.STRONG,
        note="sponsors the campus network",
        at=at(45),
    )
    app.assess_client_contact(
        one, ids("admin"), ids("contact 2"), strength=RelationshipStrength.WEAK, at=at(45)
    )


def _policies(app: KamApplication) -> None:
    senior = ids("senior")
    app.configure_policy(
        "collections",
        {"grace_days": 3},
        senior,
        reason="finance asks for a grace period",
        at=at(46),
    )
    app.activate_policy_version("collections", 1, senior, reason="the reviewed version", at=at(46))
    Flaky.failing = False
    app.retry_dead_letters()


def _end(app: KamApplication) -> None:
    for day in range(47, 85, 10):
        app.tick(CLOCK, at=at(day))
    app.close_period(QUARTER, CLOCK, at=QUARTER.end + timedelta(hours=1))
    for target in (ids("target kam"), ids("target team")):
        app.sign_off_target(
            target,
            ids("director") if target == ids("target kam") else ids("senior"),
            signatory=Signatory.SUPERVISOR,
            comments="reviewed",
            at=QUARTER.end + timedelta(days=2),
        )
        app.adjust_action_plan(
            target,
            ids("director"),
            plan="two more pilots next quarter",
            at=QUARTER.end + timedelta(days=3),
        )
    app.revoke_history_import(
        ids("team"),
        ids("senior"),
        ids("senior"),
        reason="the import is done",
        at=QUARTER.end + timedelta(days=4),
    )
    app.take_snapshot(ids("account 1"))
