"""Synthetic histories: several teams over several years, recorded through the facade.

Each team has two sales directors, KAMs, representatives, project directors, finance, admin and
technical staff, and a few dozen key accounts. Every quarter its accounts sign agreements, are
invoiced and pay (on time, late or not at all), open complaints and inquiries that are
acknowledged (some late) and resolved, and answer a satisfaction survey; the team runs projects
from initiation through a discount request, a contract or its loss, implementation and closing;
targets are set team → KAM → account, evaluated at the quarter's close and signed off. Once a
year a KAM leaves and another joins. The clock ticks twice a week. The built-in policies decide
what they decide: KAM assignment and reassignment, discount routing, overdue flags, case
escalation, evaluations, decomposition and coverage flags.

Commands are issued half a week and one team at a time inside ``app.batch()``: one transaction
per batch, policies once after it (the facade's bulk path). The same plan can be played one
command at a time (``batch=False``), which is what the bulk-import benchmark compares.

Histories are cached as SQLite files under ``benchmarks/.cache/`` (see :func:`cached_history`),
keyed by size and :data:`GENERATOR_VERSION`; other backends get a copy of the cached stored
events (:mod:`benchmarks.stores`).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from kam_domain.aggregates.client_account import (
    AccountStrategies,
    ContactInfluence,
    PaymentInstallment,
)
from kam_domain.aggregates.project import FeasibilityVerdict, ProjectMilestone, ProjectOutcome
from kam_domain.aggregates.target import (
    RevenueGoal,
    SatisfactionGoal,
    ScopeKind,
    ServiceLevelGoal,
    Signatory,
    TargetScope,
)
from kam_domain.aggregates.team import TierWeights, TrainingKind
from kam_domain.application import KamApplication
from kam_domain.errors import KamDomainError
from kam_domain.runtime.engine import PolicyEngine
from kam_domain.values import (
    Actor,
    CaseKind,
    DiscountRequestId,
    Money,
    Percentage,
    Period,
    Role,
    Severity,
    Tier,
)

__all__ = [
    "CACHE",
    "GENERATOR_VERSION",
    "History",
    "Summary",
    "cached_history",
    "generate",
]

#: Bump when the plan changes, so that cached histories are generated again.
GENERATOR_VERSION = 2
#: Where generated histories are kept (``KAM_BENCH_CACHE`` moves it, e.g. for the smoke test).
CACHE = Path(os.environ.get("KAM_BENCH_CACHE") or Path(__file__).resolve().parent / ".cache")
CURRENCY = "CNY"
FIRST_QUARTER = Period(2020, 1)
CLOCK = Actor.system("clock")
ACCOUNTS_PER_TEAM = 32
KAMS_PER_TEAM = 6
#: Events one team records in a quarter, roughly (measured): sizes the number of teams.
EVENTS_PER_TEAM_QUARTER = 950
#: Half-weeks in a quarter: commands are batched per team and half-week, the clock ticks after.
HALVES = 26
STRATEGIES = AccountStrategies(
    market="lead the segment in the region",
    client="executive sponsorship and quarterly reviews",
    marketing="joint solution showcases",
    competitive="bundle implementation and maintenance",
)
_SLA_HOURS = {Severity.CRITICAL: 4, Severity.HIGH: 24, Severity.MEDIUM: 48, Severity.LOW: 72}


def quarters_for(events: int) -> int:
    """How many quarters a history of ``events`` spans: a year for small ones, more for big."""
    if events <= 20_000:
        return 4
    if events <= 200_000:
        return 8
    return 12


def teams_for(events: int) -> int:
    return max(2, round(events / (EVENTS_PER_TEAM_QUARTER * quarters_for(events))))


@dataclass
class Account:
    id: UUID
    name: str
    tier: Tier
    registrar: UUID
    kam: UUID | None = None
    rep: UUID | None = None
    contact: UUID | None = None
    #: (invoice id, amount, due, when paid or None)
    invoices: list[tuple[UUID, Decimal, datetime, datetime | None]] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)


@dataclass
class Case:
    """A case still open: when (half-week index) it is acknowledged, if late, and resolved."""

    id: UUID
    acknowledge: int | None
    resolve: int


@dataclass
class ProjectPlan:
    id: UUID
    account: Account
    started: int  # half-week index
    list_price: Decimal
    request: UUID | None = None
    percentage: int = 0
    won: bool = True
    requester: UUID | None = None
    pd: UUID | None = None


@dataclass
class Crew:
    """One team: its people, accounts and running projects."""

    index: int
    team_id: UUID
    senior: UUID
    directors: list[UUID]
    kams: list[UUID]
    supervisor: dict[UUID, UUID]
    reps: list[UUID]
    pds: list[UUID]
    finance: UUID
    admin: UUID
    technical: list[UUID]
    accounts: list[Account] = field(default_factory=list)
    projects: list[ProjectPlan] = field(default_factory=list)
    targets: dict[Period, list[tuple[UUID, ScopeKind, UUID]]] = field(default_factory=dict)
    hired: int = 0


@dataclass
class Summary:
    """What a generated history holds and how it was made."""

    events: int
    teams: int
    quarters: int
    accounts: int
    commands: int
    refused: int
    seconds: float
    method: str
    first: str
    last: str
    account_ids: list[str]
    team_ids: list[str]

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Plan:
    """Issues the commands of a history through ``app``, in batches or one at a time."""

    def __init__(
        self,
        app: KamApplication,
        *,
        seed: int = 1,
        teams: int = 2,
        batch: bool = True,
        accounts_per_team: int = ACCOUNTS_PER_TEAM,
    ) -> None:
        self.app = app
        self.rng = random.Random(seed)
        self.batch = batch
        self.team_count = teams
        self.accounts_per_team = accounts_per_team
        self.crews: list[Crew] = []
        self.commands = 0
        self.refused: list[str] = []
        self.quarters = 0
        self.first: datetime | None = None
        self.last: datetime | None = None

    # -- driving -------------------------------------------------------------------------------

    def uuid(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def run(
        self, *, events: int, quarters: int, progress: Callable[[int], None] | None = None
    ) -> None:
        """Play quarters until the store holds ``events`` events (or ``quarters`` have passed)."""
        start = FIRST_QUARTER.start + timedelta(hours=1)
        for index in range(self.team_count):
            self._team(index, start)
        quarter = FIRST_QUARTER
        for _ in range(quarters):
            self.quarters += 1
            for moment, half in self._halves(quarter):
                for crew in self.crews:
                    self._issue(self._steps(crew, quarter, half, moment))
                self._do(self.app.tick, CLOCK, at=moment + self._half_length(quarter))
                if self._head() >= events:
                    break
                if progress is not None:
                    progress(self._head())
            else:
                self._do(self.app.close_period, quarter, CLOCK, at=quarter.end + timedelta(hours=1))
                quarter = _next(quarter)
                continue
            break

    def _head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def _halves(self, quarter: Period) -> Iterator[tuple[datetime, int]]:
        length = self._half_length(quarter)
        begin = quarter.start + timedelta(hours=2)
        for half in range(HALVES):
            yield begin + half * length, half

    @staticmethod
    def _half_length(quarter: Period) -> timedelta:
        return (quarter.end - quarter.start - timedelta(hours=3)) / HALVES

    def _issue(
        self, steps: list[tuple[datetime, Callable[..., Any], tuple[Any, ...], dict[str, Any]]]
    ) -> None:
        steps.sort(key=lambda step: step[0])
        if self.batch:
            with self.app.batch():
                for when, command, args, kwargs in steps:
                    self._do(command, *args, at=when, **kwargs)
        else:
            for when, command, args, kwargs in steps:
                self._do(command, *args, at=when, **kwargs)

    def _do(self, command: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.commands += 1
        when = kwargs.get("at")
        if when is not None:
            self.first = when if self.first is None else min(self.first, when)
            self.last = when if self.last is None else max(self.last, when)
        try:
            return command(*args, **kwargs)
        except KamDomainError as error:
            self.refused.append(f"{command.__name__}: {type(error).__name__}: {error}")
            return None

    # -- a team and its accounts ---------------------------------------------------------------

    def _team(self, index: int, when: datetime) -> None:
        app, rng = self.app, self.rng
        team_id, senior = self.uuid(), self.uuid()
        crew = Crew(
            index=index,
            team_id=team_id,
            senior=senior,
            directors=[self.uuid(), self.uuid()],
            kams=[self.uuid() for _ in range(KAMS_PER_TEAM)],
            supervisor={},
            reps=[self.uuid(), self.uuid()],
            pds=[self.uuid(), self.uuid()],
            finance=self.uuid(),
            admin=self.uuid(),
            technical=[self.uuid(), self.uuid()],
        )
        self.crews.append(crew)
        steps: list[Any] = []

        def step(command: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
            steps.append((when, command, args, kwargs))

        step(
            app.form_team,
            name=f"Team {index + 1}",
            segment="large enterprises",
            region=["east", "south", "north", "west"][index % 4],
            director_name=f"Senior {index + 1}",
            top_authority=Percentage.of(30),
            team_id=team_id,
            director_id=senior,
        )
        people: list[tuple[UUID, str, Role, UUID, int | None]] = []
        for n, director in enumerate(crew.directors):
            people.append((director, f"Director {n}", Role.SALES_DIRECTOR, senior, 20))
        for n, kam in enumerate(crew.kams):
            crew.supervisor[kam] = crew.directors[n % 2]
            people.append((kam, f"KAM {n}", Role.KEY_ACCOUNT_MANAGER, crew.directors[n % 2], 5))
        for n, rep in enumerate(crew.reps):
            people.append(
                (rep, f"Rep {n}", Role.KEY_ACCOUNT_REPRESENTATIVE, crew.directors[n], None)
            )
        for n, pd in enumerate(crew.pds):
            people.append((pd, f"PD {n}", Role.PROJECT_DIRECTOR, crew.directors[n], 10))
        people.append((crew.admin, "Admin", Role.SENIOR_ADMIN_MANAGER, senior, None))
        people.append((crew.finance, "Finance", Role.FINANCIAL_PLANNER, crew.admin, None))
        people.append(
            (crew.technical[0], "Support", Role.TECHNICAL_SUPPORT, crew.directors[0], None)
        )
        people.append((crew.technical[1], "Consultant", Role.CONSULTANT, crew.directors[1], None))
        for member, name, role, boss, _ in people:
            step(
                app.add_member,
                team_id,
                senior,
                name=name,
                role=role,
                supervisor_id=boss,
                member_id=member,
            )
        for member, _, _, _, limit in people:
            if limit is not None:
                step(
                    app.grant_authority, team_id, senior, member, max_discount=Percentage.of(limit)
                )
        step(app.set_tier_weights, team_id, senior, TierWeights(strategic=3, major=2, standard=1))
        # Every KAM but the last is cross-trained to cover the next one: coverage flags the gap.
        for covered, backup in zip(crew.kams[:-2], crew.kams[1:-1], strict=True):
            step(
                app.record_training,
                team_id,
                crew.admin,
                backup,
                kind=TrainingKind.CROSS_TRAINING,
                skill="key-account handover",
                covers_member_id=covered,
            )
            step(app.designate_backup, team_id, senior, covered, backup_id=backup)
        tiers = [Tier.STRATEGIC] * 4 + [Tier.MAJOR] * 10
        tiers += [Tier.STANDARD] * (self.accounts_per_team - len(tiers))
        rng.shuffle(tiers)
        for n, tier in enumerate(tiers[: self.accounts_per_team]):
            account = Account(
                self.uuid(), f"Client {index + 1}-{n + 1}", tier, crew.directors[n % 2]
            )
            crew.accounts.append(account)
            step(
                app.register_account,
                team_id,
                account.registrar,
                name=account.name,
                industry=["telecom", "energy", "finance", "logistics"][n % 4],
                region=["east", "south", "north", "west"][n % 4],
                account_id=account.id,
            )
            # The assignment policy gives it its KAM once the batch is recorded.
            step(
                app.designate_key_account,
                account.id,
                account.registrar,
                tier=tier,
                strategies=STRATEGIES,
            )
        self._issue(steps)
        self._refresh(crew)
        steps = []
        for n, account in enumerate(crew.accounts):
            if account.kam is None:
                continue
            director = crew.supervisor[account.kam]
            account.rep = crew.reps[crew.directors.index(director)]
            account.contact = self.uuid()
            step(app.assign_representative, account.id, director, account.rep)
            step(app.assign_technical_contact, account.id, director, crew.technical[n % 2])
            step(
                app.add_client_contact,
                account.id,
                account.kam,
                name=f"CIO of {account.name}",
                title="Chief Information Officer",
                influence=ContactInfluence.HIGH,
                owner_id=account.kam,
                contact_id=account.contact,
            )
            if account.tier is Tier.STRATEGIC:
                step(
                    app.agree_account_plan,
                    account.id,
                    account.kam,
                    supervisor_id=director,
                    client_goals="digitise operations across all sites",
                    execution_plan="quarterly roadmap workshops; a dedicated delivery team",
                )
        self._issue(steps)

    def _refresh(self, crew: Crew) -> None:
        """Read back whom the assignment policy made accountable for each account."""
        for account in crew.accounts:
            account.kam = self.app.get_account(account.id).accountable_kam

    # -- half a week of one team ---------------------------------------------------------------

    def _steps(
        self, crew: Crew, quarter: Period, half: int, begin: datetime
    ) -> list[tuple[datetime, Callable[..., Any], tuple[Any, ...], dict[str, Any]]]:
        length = self._half_length(quarter)
        steps: list[tuple[datetime, Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []
        tick = _half_index(quarter, half)

        def at(fraction: float) -> datetime:
            return begin + length * fraction

        def step(fraction: float, command: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
            steps.append((at(fraction), command, args, kwargs))

        if half == 0:
            self._close_out(crew, quarter, step)
            if quarter.quarter == 3:
                self._rotate(crew, step)
        if half == 1:
            self._refresh(crew)
            self._set_targets(crew, quarter, step)
        for account in crew.accounts:
            if account.kam is None or account.rep is None:
                continue
            self._account_half(crew, account, quarter, half, tick, step, at)
        if half in (2, 10, 18):
            self._start_project(crew, tick, step)
        for project in list(crew.projects):
            self._project_half(crew, project, tick, step, at)
        return steps

    def _account_half(
        self,
        crew: Crew,
        account: Account,
        quarter: Period,
        half: int,
        tick: int,
        step: Callable[..., None],
        at: Callable[[float], datetime],
    ) -> None:
        app, rng = self.app, self.rng
        # An agreement every quarter, in its second half-week, paid in two installments.
        if half == 2:
            value = Decimal(rng.randrange(100, 900) * 1000)
            first = (value * 6 / 10).quantize(Decimal(1))
            parts = (first, value - first)
            dues = (at(0) + timedelta(days=35), at(0) + timedelta(days=65))
            agreement = self.uuid()
            step(
                0.1,
                app.sign_agreement,
                account.id,
                account.rep,
                number=f"KA-{quarter}-{agreement.hex[:8]}",
                value=Money(value, CURRENCY),
                schedule=[
                    PaymentInstallment(d, Money(p, CURRENCY))
                    for p, d in zip(parts, dues, strict=True)
                ],
                agreement_id=agreement,
            )
            for part, due in zip(parts, dues, strict=True):
                fate = rng.random()
                paid = None
                if fate < 0.6:
                    paid = due - timedelta(days=rng.randrange(1, 6))
                elif fate < 0.85:
                    paid = due + timedelta(days=rng.randrange(4, 15))
                account.invoices.append((self.uuid(), part, due, paid))
        for invoice in list(account.invoices):
            invoice_id, amount, due, paid = invoice
            issued = due - timedelta(days=25)
            if at(0) <= issued < at(1):
                step(
                    (issued - at(0)) / (at(1) - at(0)),
                    app.issue_invoice,
                    account.id,
                    crew.finance,
                    amount=Money(amount, CURRENCY),
                    due_at=due,
                    invoice_id=invoice_id,
                )
            if paid is not None and at(0) <= paid < at(1):
                step(
                    (paid - at(0)) / (at(1) - at(0)),
                    app.record_payment,
                    account.id,
                    crew.finance,
                    invoice_id,
                    amount=Money(amount, CURRENCY),
                    payment_id=self.uuid(),
                )
            if (paid or due) < at(0) - timedelta(days=30):
                account.invoices.remove(invoice)
        # Cases: opened early in a half-week and acknowledged soon after, or (a quarter of them)
        # in the next half-week, with a tick in between for the escalation policy to see.
        for case in list(account.cases):
            if case.acknowledge == tick:
                step(0.02, app.acknowledge_case, account.id, account.kam, case.id)
            if case.resolve == tick:
                resolution = "fixed and confirmed with the client"
                step(0.2, app.resolve_case, account.id, account.kam, case.id, resolution=resolution)
                account.cases.remove(case)
        if rng.random() < 0.2:
            case = Case(self.uuid(), None, tick + 1)
            step(
                0.05,
                app.open_case,
                account.id,
                account.rep,
                kind=CaseKind.COMPLAINT if rng.random() < 0.7 else CaseKind.INQUIRY,
                severity=rng.choice(list(Severity)),
                subject="service interruption" if rng.random() < 0.5 else "contract question",
                case_id=case.id,
            )
            if rng.random() < 0.75:
                step(0.06, app.acknowledge_case, account.id, account.kam, case.id)
            else:
                case.acknowledge = tick + 1
                case.resolve = tick + 2 if rng.random() < 0.85 else tick + 4
            account.cases.append(case)
        if half == 21:
            step(
                0.5,
                app.record_satisfaction,
                account.id,
                account.kam,
                score=Decimal(rng.randrange(55, 100)),
                comment="quarterly survey",
            )
        if half in (6, 19) and rng.random() < 0.5:
            step(
                0.4,
                app.record_client_need,
                account.id,
                account.kam,
                description="capacity for the new plant",
            )
        if half == 14 and account.tier is not Tier.STANDARD:
            step(
                0.4,
                app.record_competitor_intelligence,
                account.id,
                account.kam,
                competitor="Rival Systems",
                note="offered a steep discount for a three-year term",
            )

    # -- projects ------------------------------------------------------------------------------

    def _start_project(self, crew: Crew, tick: int, step: Callable[..., None]) -> None:
        app, rng = self.app, self.rng
        candidates = [a for a in crew.accounts if a.kam is not None and a.rep is not None]
        account = rng.choice(candidates)
        assert account.kam is not None
        project = ProjectPlan(self.uuid(), account, tick, Decimal(rng.randrange(80, 400) * 10000))
        crew.projects.append(project)
        pd = crew.pds[crew.directors.index(crew.supervisor[account.kam])]
        project.pd = pd
        step(
            0.3,
            app.initiate_project,
            account.id,
            account.kam,
            name=f"Project {project.id.hex[:8]}",
            currency=CURRENCY,
            project_director_id=pd,
            project_id=project.id,
        )
        step(
            0.31,
            app.assess_feasibility,
            project.id,
            pd,
            verdict=FeasibilityVerdict.FEASIBLE,
            value_positioning="fits the client's digitisation plan",
            risks=["vendor lead times"],
        )
        step(0.32, app.assign_presales_support, project.id, pd, crew.technical[0])
        step(
            0.33,
            app.submit_proposal,
            project.id,
            account.kam,
            amount=Money(project.list_price, CURRENCY),
            summary="design, supply, installation and a year of maintenance",
        )
        floor = (project.list_price * Decimal("0.7")).quantize(Decimal(1))
        step(
            0.34,
            app.set_price_band,
            project.id,
            crew.senior,
            list_price=Money(project.list_price, CURRENCY),
            floor=Money(floor, CURRENCY),
        )

    def _project_half(
        self,
        crew: Crew,
        project: ProjectPlan,
        tick: int,
        step: Callable[..., None],
        at: Callable[[float], datetime],
    ) -> None:
        app, rng = self.app, self.rng
        account = project.account
        if account.kam is None:
            return
        age = tick - project.started
        pd = project.pd
        if age == 2:
            project.request = self.uuid()
            project.percentage = rng.randrange(2, 29)
            project.requester = rng.choice([account.kam, account.rep, pd])
            # The price-approval policy approves it, routes it up or rejects it.
            step(
                0.2,
                app.request_discount,
                project.id,
                project.requester,
                percentage=Percentage.of(project.percentage),
                justification="match a competing offer for a multi-year commitment",
                request_id=project.request,
            )
        elif age == 3 and project.request is not None:
            found = app.get_project(project.id).discount_requests.get(
                DiscountRequestId(project.request)
            )
            if found is not None and found.decision is None and found.escalated_to is not None:
                decider = {
                    Role.PROJECT_DIRECTOR: pd,
                    Role.SALES_DIRECTOR: crew.supervisor.get(account.kam, crew.directors[0]),
                    Role.SENIOR_SALES_DIRECTOR: crew.senior,
                }.get(found.escalated_to)
                if decider is not None and decider != project.requester:
                    if rng.random() < 0.8:
                        step(0.3, app.approve_discount, project.id, decider, project.request)
                    else:
                        step(
                            0.3,
                            app.reject_discount,
                            project.id,
                            decider,
                            project.request,
                            reason="margin too thin",
                        )
        elif age == 4:
            project.won = rng.random() < 0.75
            if project.won:
                value = (project.list_price * (100 - project.percentage) / 100).quantize(Decimal(1))
                step(0.3, app.sign_contract, project.id, account.rep, value=Money(value, CURRENCY))
            else:
                step(
                    0.3,
                    app.mark_project_lost,
                    project.id,
                    account.kam,
                    reason="the client chose a rival",
                )
                step(0.31, app.close_project, project.id, pd, outcome=ProjectOutcome.LOST)
                crew.projects.remove(project)
        elif age == 6:
            step(
                0.3,
                app.plan_implementation,
                project.id,
                pd,
                milestones=[
                    ("installed", at(0) + timedelta(days=20)),
                    ("trial run", at(0) + timedelta(days=35)),
                ],
                headcount=rng.randrange(3, 12),
            )
            if rng.random() < 0.3:
                quote = self.uuid()
                step(
                    0.31,
                    app.record_quote,
                    project.id,
                    account.kam,
                    vendor="Shenzhen Devices",
                    list_price=Money(
                        (project.list_price * Decimal("0.2")).quantize(Decimal(1)), CURRENCY
                    ),
                    discount=Percentage.of(12),
                    quote_id=quote,
                )
                step(0.32, app.confirm_quote, project.id, pd, quote)
        elif age == 10:
            step(0.3, app.reach_milestone, project.id, pd, ProjectMilestone.INSTALLED)
            cost = (project.list_price * Decimal("0.5")).quantize(Decimal(1))
            step(
                0.31,
                app.record_cost,
                project.id,
                crew.finance,
                amount=Money(cost, CURRENCY),
                category="equipment",
            )
            revenue = (project.list_price * (100 - project.percentage) / 100).quantize(Decimal(1))
            step(
                0.32,
                app.record_revenue,
                project.id,
                crew.finance,
                amount=Money(revenue, CURRENCY),
                category="contract",
            )
        elif age == 14:
            step(0.3, app.reach_milestone, project.id, pd, ProjectMilestone.TRIAL_RUN)
            step(0.31, app.reach_milestone, project.id, pd, ProjectMilestone.ACCEPTED)
            step(0.32, app.close_project, project.id, pd, outcome=ProjectOutcome.WON)
            crew.projects.remove(project)

    # -- targets, sign-offs, rotation ----------------------------------------------------------

    def _set_targets(self, crew: Crew, quarter: Period, step: Callable[..., None]) -> None:
        app, rng = self.app, self.rng

        def goals(amount: int) -> tuple[Any, ...]:
            return (
                RevenueGoal(Money(Decimal(amount), CURRENCY)),
                ServiceLevelGoal(Decimal(90)),
                SatisfactionGoal(Decimal(80)),
            )

        team_target = self.uuid()
        shares = {kam: rng.randrange(400, 1200) * 1000 for kam in crew.kams}
        chosen: list[tuple[UUID, ScopeKind, UUID]] = [(team_target, ScopeKind.TEAM, crew.team_id)]
        step(
            0.1,
            app.set_target,
            crew.team_id,
            crew.senior,
            scope=TargetScope.team(crew.team_id),
            period=quarter,
            goals=goals(sum(shares.values()) + rng.choice([0, 0, 50_000])),
            target_id=team_target,
        )
        kam_targets: dict[UUID, UUID] = {}
        for kam, share in shares.items():
            kam_targets[kam] = self.uuid()
            chosen.append((kam_targets[kam], ScopeKind.MEMBER, kam))
            step(
                0.11,
                app.set_target,
                crew.team_id,
                crew.supervisor[kam],
                scope=TargetScope.member(kam),
                period=quarter,
                goals=goals(share),
                parent_id=team_target,
                target_id=kam_targets[kam],
            )
        for account in rng.sample(crew.accounts, 2):
            if account.kam is None or account.kam not in kam_targets:
                continue
            target = self.uuid()
            chosen.append((target, ScopeKind.ACCOUNT, account.id))
            step(
                0.12,
                app.set_target,
                crew.team_id,
                account.kam,
                scope=TargetScope.account(account.id),
                period=quarter,
                goals=goals(rng.randrange(100, 300) * 1000),
                parent_id=kam_targets[account.kam],
                target_id=target,
            )
        crew.targets[quarter] = chosen

    def _close_out(self, crew: Crew, quarter: Period, step: Callable[..., None]) -> None:
        """Sign off (most of) the previous quarter's evaluations; adjust action plans."""
        app, rng = self.app, self.rng
        previous = _previous(quarter)
        for target_id, kind, scope_id in crew.targets.pop(previous, []):
            target = app.get_target(target_id)
            evaluation = target.latest_evaluation
            if evaluation is None or rng.random() < 0.1:
                continue
            if kind is ScopeKind.TEAM:
                kam, supervisor = crew.directors[0], crew.senior
            else:
                kam = (
                    scope_id
                    if kind is ScopeKind.MEMBER
                    else app.get_account(scope_id).accountable_kam
                )
                if kam is None or kam not in crew.supervisor:
                    continue
                supervisor = crew.supervisor[kam]
            comments = "agreed; actuals match our records"
            step(
                0.2, app.sign_off_target, target_id, kam, signatory=Signatory.KAM, comments=comments
            )
            step(
                0.21,
                app.sign_off_target,
                target_id,
                supervisor,
                signatory=Signatory.SUPERVISOR,
                comments=comments,
            )
            if evaluation.action_plan_required:
                step(
                    0.22,
                    app.adjust_action_plan,
                    target_id,
                    kam,
                    plan="weekly calls; a named engineer per case",
                )

    def _rotate(self, crew: Crew, step: Callable[..., None]) -> None:
        """A KAM joins and another leaves: the assignment policy moves the leaver's accounts."""
        app, rng = self.app, self.rng
        leaver = rng.choice(crew.kams[:-1])
        director = crew.supervisor[leaver]
        newcomer = self.uuid()
        crew.hired += 1
        step(
            0.9,
            app.add_member,
            crew.team_id,
            crew.senior,
            name=f"KAM hired {crew.hired}",
            role=Role.KEY_ACCOUNT_MANAGER,
            supervisor_id=director,
            member_id=newcomer,
        )
        step(
            0.91,
            app.grant_authority,
            crew.team_id,
            crew.senior,
            newcomer,
            max_discount=Percentage.of(5),
        )
        step(
            0.92,
            app.remove_member,
            crew.team_id,
            crew.senior,
            leaver,
            reason="moved to another region",
        )
        crew.kams.remove(leaver)
        crew.kams.append(newcomer)
        crew.supervisor[newcomer] = director


def _half_index(quarter: Period, half: int) -> int:
    return ((quarter.year - FIRST_QUARTER.year) * 4 + quarter.quarter - 1) * HALVES + half


def _next(quarter: Period) -> Period:
    return (
        Period(quarter.year + 1, 1)
        if quarter.quarter == 4
        else Period(quarter.year, quarter.quarter + 1)
    )


def _previous(quarter: Period) -> Period:
    return (
        Period(quarter.year - 1, 4)
        if quarter.quarter == 1
        else Period(quarter.year, quarter.quarter - 1)
    )


@dataclass
class History:
    """A generated history: the store's URL and what it holds."""

    url: str
    summary: Summary


def generate(
    app: KamApplication,
    events: int,
    *,
    seed: int = 1,
    batch: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Record a history of about ``events`` events into ``app``'s (empty) store."""
    began = time.perf_counter()
    plan = Plan(app, seed=seed, teams=teams_for(events), batch=batch)
    plan.run(events=events, quarters=quarters_for(events) * 3, progress=progress)
    head = app.recorder.max_notification_id() or 0
    accounts = [a for crew in plan.crews for a in crew.accounts]
    return Summary(
        events=head,
        teams=len(plan.crews),
        quarters=plan.quarters,
        accounts=len(accounts),
        commands=plan.commands,
        refused=len(plan.refused),
        seconds=round(time.perf_counter() - began, 1),
        method="facade, app.batch() per team and half-week" if batch else "facade, one at a time",
        first=(plan.first or FIRST_QUARTER.start).isoformat(),
        last=(plan.last or FIRST_QUARTER.start).isoformat(),
        account_ids=[str(a.id) for a in accounts],
        team_ids=[str(c.team_id) for c in plan.crews],
    )


#: eventsourcing's aggregate cache, without copies: commands find their records in memory and
#: only read what was recorded since (fast-forward). Copies are what make the cache safe when a
#: command can fail half-way through changing a record; no command of the plan does (a command
#: the library refuses changes nothing, and folding the whole history again at the end checks
#: that every record's versions follow on).
LEAN_ENVIRONMENT = {"AGGREGATE_CACHE_MAXSIZE": "1000000", "DEEPCOPY_FROM_AGGREGATE_CACHE": "n"}
LEAN_METHOD = (
    "the facade's batches (app.batch() per team and half-week), eventsourcing's aggregate "
    "cache without copies, python -O"
)


def cache_path(events: int) -> Path:
    return CACHE / f"history-{events}-v{GENERATOR_VERSION}.db"


def cached_history(events: int, *, log: Callable[[str], None] = print) -> History:
    """The cached SQLite history of ``events`` events, generated first (in a child process,
    under ``python -O``) when missing."""
    path = cache_path(events)
    meta = path.with_suffix(".json")
    if not (path.exists() and meta.exists()):
        log(f"generating a history of {events:,} events (cached as {path.name}) ...")
        command = [sys.executable, "-O", "-m", "benchmarks.history", str(events)]
        subprocess.run(command, check=True, cwd=Path(__file__).resolve().parents[1])
    return History(f"sqlite:///{path}", Summary(**json.loads(meta.read_text())))


def _generate_cache(events: int) -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = cache_path(events)
    partial = path.with_name(path.name + ".partial")
    for leftover in CACHE.glob(partial.name + "*"):
        leftover.unlink()
    app = KamApplication(f"sqlite:///{partial}", env=LEAN_ENVIRONMENT)
    began = time.perf_counter()
    last = [began]

    def progress(head: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 30:
            last[0] = now
            rate = head / (now - began)
            print(f"  ... {head:,} events, {rate:,.0f} events/s", flush=True)

    try:
        summary = generate(app, events, progress=progress)
        summary.method = LEAN_METHOD
        # Folding every event again checks each record's versions follow on (the replay
        # benchmark checks the decisions).
        engine = PolicyEngine(app, app.policies.registry)
        if engine.run():
            raise SystemExit("the generated history's policies had not caught up")
        # The engine records its position every so many commands: record the last one, so
        # that an engine following the history read-only has nothing left to settle.
        engine.flush()
    finally:
        app.close()
    partial.rename(path)
    path.with_suffix(".json").write_text(json.dumps(summary.to_json(), indent=1))
    refused = f"{summary.refused} commands refused"
    print(f"  {summary.events:,} events in {summary.seconds:.0f} s ({refused})", flush=True)


if __name__ == "__main__":
    _generate_cache(int(sys.argv[1]))
