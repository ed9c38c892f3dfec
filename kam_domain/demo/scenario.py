"""The quarter the demo records, step by step, through the facade and its policies.

People do what people do — staff the team, register and designate accounts, sign agreements,
request discounts, answer complaints, sign evaluations off. The policies decide the rest as the
steps are recorded: who is accountable for each key account, where each discount request goes,
which invoices are overdue and which cases are escalated at each tick of the clock, how each
target scores when the quarter closes, and which gaps and lapses to flag.

Steps are gathered on a timeline first (all random draws happen then, so a seed fixes the whole
record) and run in time order afterwards.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs

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
from kam_domain.aggregates.team import EvaluationStandard, TierWeights, TrainingKind
from kam_domain.application import KamApplication
from kam_domain.values import (
    Actor,
    CaseKind,
    DiscountRequestId,
    MemberId,
    Money,
    Percentage,
    Period,
    Role,
    Severity,
    Tier,
)

__all__ = ["CURRENCY", "QUARTER", "START", "Scenario"]

QUARTER = Period(2026, 1)
CURRENCY = "CNY"
START = datetime(2026, 1, 5, 9, tzinfo=UTC)
CLOCK = Actor.system("clock")

_ACCOUNTS = [
    ("Huaxia Mobile", "telecom"),
    ("Eastern Grid Power", "energy"),
    ("Jinling Steel", "manufacturing"),
    ("Yangtze Shipping", "logistics"),
    ("Pearl River Bank", "finance"),
    ("Zhongyuan Rail", "transport"),
    ("Lotus Hospital Group", "healthcare"),
    ("Kunlun Petrochem", "energy"),
    ("Tianfu Broadband", "telecom"),
    ("Haixi Ports", "logistics"),
    ("Qilu Pharmaceuticals", "healthcare"),
    ("Songhua Foods", "consumer"),
    ("Minjiang Textiles", "manufacturing"),
    ("Taihu Semiconductors", "technology"),
    ("Xiang Electric", "energy"),
    ("Lingnan Retail", "consumer"),
    ("Bohai Chemicals", "manufacturing"),
    ("Changan Auto Parts", "manufacturing"),
    ("Dianchi Tourism", "services"),
    ("Guanzhong Water", "utilities"),
    ("Hexi Wind Farms", "energy"),
    ("Jiangnan Insurance", "finance"),
    ("Wuyi Tea Trading", "consumer"),
    ("Xinghai Data Centers", "technology"),
]
_REGIONS = ["east", "south", "north", "west"]
_TIERS = [Tier.STRATEGIC] * 4 + [Tier.MAJOR] * 8 + [Tier.STANDARD] * 12
#: Hours until a case is acknowledged: within its window, and late (well past the window, so
#: that a tick of the clock falls in between and the escalation policy sees it).
_ACK_DELAYS = {
    Severity.CRITICAL: (2, 20),
    Severity.HIGH: (10, 40),
    Severity.MEDIUM: (20, 70),
    Severity.LOW: (30, 90),
}
#: How often the host ticks the clock during the quarter.
TICK_EVERY = timedelta(hours=12)
#: (key, name, role, supervisor key, discount authority %, granted by)
_PEOPLE = [
    ("director_1", "Zhao Min", Role.SALES_DIRECTOR, "senior", 20, "senior"),
    ("director_2", "Qian Li", Role.SALES_DIRECTOR, "senior", 20, "senior"),
    ("kam_1", "Li Na", Role.KEY_ACCOUNT_MANAGER, "director_1", 5, "director_1"),
    ("kam_2", "Chen Gang", Role.KEY_ACCOUNT_MANAGER, "director_1", 5, "director_1"),
    ("kam_3", "Liu Yang", Role.KEY_ACCOUNT_MANAGER, "director_2", 5, "director_2"),
    ("kam_4", "Huang Wei", Role.KEY_ACCOUNT_MANAGER, "director_2", 5, "director_2"),
    ("rep_1", "Sun Hui", Role.KEY_ACCOUNT_REPRESENTATIVE, "kam_1", None, None),
    ("rep_2", "Zhou Jie", Role.KEY_ACCOUNT_REPRESENTATIVE, "kam_3", None, None),
    ("pd_1", "Wu Tao", Role.PROJECT_DIRECTOR, "director_1", 10, "director_1"),
    ("pd_2", "Xu Fang", Role.PROJECT_DIRECTOR, "director_2", 10, "director_2"),
    ("admin", "Zheng Hong", Role.SENIOR_ADMIN_MANAGER, "senior", None, None),
    ("finance", "Feng Lei", Role.FINANCIAL_PLANNER, "admin", None, None),
    ("legal", "He Ping", Role.LEGAL_AFFAIRS_SPECIALIST, "admin", None, None),
    ("assistant", "Ma Lin", Role.DEPARTMENT_ASSISTANT, "admin", None, None),
    ("support", "Guo Qiang", Role.TECHNICAL_SUPPORT, "director_1", None, None),
    ("consultant", "Lin Yu", Role.CONSULTANT, "director_2", None, None),
]
#: Each director's people: representative, project director, technical contact.
_CREW = {
    "director_1": ("rep_1", "pd_1", "support"),
    "director_2": ("rep_2", "pd_2", "consultant"),
}
#: (account index, project, who sets the band, floor % below list,
#:  requests: (requester, %, what the person the policy routes it to does))
_PROJECTS: list[tuple[int, str, str, int, list[tuple[str, int, str]]]] = [
    (0, "Private 5G campus network", "pd", 10, [("kam", 4, "—")]),
    (2, "Smart factory MES rollout", "pd", 10, [("kam", 8, "approve")]),
    (
        4,
        "Core banking data centre",
        "director",
        20,
        [("kam", 15, "approve"), ("kam", 18, "reject")],
    ),
    (6, "Hospital imaging cloud", "senior", 30, [("pd", 25, "approve")]),
    (8, "Metro broadband upgrade", "senior", 30, [("pd", 28, "reject")]),
    (10, "Port logistics tracking", "director", 20, [("rep", 12, "approve")]),
    (12, "Textile ERP migration", "pd", 10, [("rep", 6, "approve")]),
    (14, "Wind farm monitoring", "pd", 10, [("kam", 9, "wait")]),
]


class Scenario:
    """The demo's quarter for one seed."""

    def __init__(self, app: KamApplication, seed: int) -> None:
        self.app = app
        self.seed = seed
        self.rng = random.Random(seed)
        self.team_id = self.uuid()
        self.suffix = "" if seed == 1 else f" ({seed})"
        self.steps: list[tuple[datetime, int, Callable[[], Any]]] = []
        self.members: dict[str, UUID] = {}
        self.accounts: list[dict[str, Any]] = []

    def uuid(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def at(self, days: float, hours: float = 0) -> datetime:
        return START + timedelta(days=days, hours=hours)

    def step(self, when: datetime, action: Callable[..., Any], *args: Any) -> None:
        self.steps.append((when, len(self.steps), lambda: action(*args)))

    def build(self) -> None:
        self._team()
        self._accounts()
        self._collections()
        self._cases()
        self._projects()
        self._targets()
        self._clock()
        for _, _, action in sorted(self.steps, key=lambda item: (item[0], item[1])):
            action()

    # -- who is who, as the record says at the time ----------------------------------------------

    def kam_of(self, account: dict[str, Any]) -> UUID:
        """The accountable KAM the assignment policy (or a director) chose."""
        kam = self.app.get_account(account["id"]).accountable_kam
        assert kam is not None, f"{account['name']} has no KAM"
        return kam

    def key_of(self, member_id: UUID) -> str:
        return next(key for key, value in self.members.items() if value == member_id)

    def director_of(self, account: dict[str, Any]) -> str:
        """The sales director the account's KAM reports to."""
        team = self.app.get_team(self.team_id)
        supervisor = team.members[MemberId(self.kam_of(account))].supervisor_id
        assert supervisor is not None
        return self.key_of(supervisor)

    def crew_of(self, account: dict[str, Any]) -> tuple[str, str, str]:
        return _CREW[self.director_of(account)]

    # -- the team --------------------------------------------------------------------------------

    def _team(self) -> None:
        m = self.members
        m["senior"] = self.uuid()
        for key, *_ in _PEOPLE:
            m[key] = self.uuid()
        grants = {key: self.uuid() for key, *_ in _PEOPLE}
        self.step(self.at(0), self._staff, grants)

    def _staff(self, grants: dict[str, UUID]) -> None:
        app, m, when = self.app, self.members, self.at(0)
        app.form_team(
            name=f"East China key accounts{self.suffix}",
            segment="large enterprises",
            region="east China",
            director_name="Wang Jun",
            top_authority=Percentage.of(30),
            default_capacity=12,
            team_id=self.team_id,
            director_id=m["senior"],
            # The demo imports a scripted history: its director holds, on the record, the
            # permission to date commands in the past.
            import_history=True,
            at=when,
        )
        for key, name, role, boss, _, _ in _PEOPLE:
            app.add_member(
                self.team_id,
                m["senior"],
                name=name,
                role=role,
                supervisor_id=m[boss],
                member_id=m[key],
                at=when,
            )
        for key, _, _, _, limit, grantor in _PEOPLE:
            if limit is not None and grantor is not None:
                app.grant_authority(
                    self.team_id,
                    m[grantor],
                    m[key],
                    max_discount=Percentage.of(limit),
                    grant_id=grants[key],
                    at=when,
                )
        app.set_tier_weights(
            self.team_id, m["senior"], TierWeights(strategic=3, major=2, standard=1), at=when
        )
        # The team asks for an action plan below 75 points, stricter than the default 60.
        standard = attrs.evolve(EvaluationStandard.default(), action_threshold=Decimal(75))
        app.set_evaluation_standard(self.team_id, m["senior"], standard, at=when)
        # Huang Wei has no cross-trained backup: the coverage policy will say so.
        for covered, backup in (("kam_1", "kam_2"), ("kam_2", "kam_1"), ("kam_3", "kam_4")):
            app.record_training(
                self.team_id,
                m["admin"],
                m[backup],
                kind=TrainingKind.CROSS_TRAINING,
                skill="key-account handover",
                covers_member_id=m[covered],
                at=when,
            )
            app.designate_backup(
                self.team_id, m["senior"], m[covered], backup_id=m[backup], at=when
            )

    # -- accounts --------------------------------------------------------------------------------

    def _accounts(self) -> None:
        tiers = list(_TIERS)
        self.rng.shuffle(tiers)
        for index, ((name, industry), tier) in enumerate(zip(_ACCOUNTS, tiers, strict=True)):
            account = {
                "id": self.uuid(),
                "name": name + self.suffix,
                "industry": industry,
                "tier": tier,
                "region": _REGIONS[index % len(_REGIONS)],
                "contact": self.uuid(),
                # Which director registers it: the two split the list.
                "registrar": "director_1" if index % 2 == 0 else "director_2",
            }
            self.accounts.append(account)
            self.step(self.at(1, hours=index / 4), self._open_account, account)

    def _open_account(self, account: dict[str, Any]) -> None:
        app, m = self.app, self.members
        when = self.at(1, hours=self.accounts.index(account) / 4)
        registrar = m[account["registrar"]]
        app.register_account(
            self.team_id,
            registrar,
            name=account["name"],
            industry=account["industry"],
            region=account["region"],
            account_id=account["id"],
            at=when,
        )
        # The assignment policy gives the account its KAM as soon as it is designated.
        app.designate_key_account(
            account["id"],
            registrar,
            tier=account["tier"],
            strategies=AccountStrategies(
                market=f"lead the {account['industry']} segment in the {account['region']}",
                client="senior-executive sponsorship and quarterly reviews",
                marketing="joint solution showcases",
                competitive="bundle implementation and maintenance",
            ),
            at=when,
        )
        kam, director = self.kam_of(account), m[self.director_of(account)]
        rep, _, technical = self.crew_of(account)
        app.assign_representative(account["id"], director, m[rep], at=when)
        app.assign_technical_contact(account["id"], director, m[technical], at=when)
        app.add_client_contact(
            account["id"],
            kam,
            name=f"CIO of {account['name']}",
            title="Chief Information Officer",
            influence=ContactInfluence.HIGH,
            owner_id=kam,
            contact_id=account["contact"],
            at=when,
        )
        if account["tier"] is Tier.STRATEGIC:
            app.agree_account_plan(
                account["id"],
                kam,
                supervisor_id=director,
                client_goals="digitise operations across all plants",
                execution_plan="quarterly roadmap workshops; dedicated implementation team",
                at=when,
            )
            app.record_competitor_intelligence(
                account["id"],
                kam,
                competitor="Rival Systems",
                note="offered 20 % off list for a three-year term",
                at=when,
            )

    # -- agreements, invoices, payments ----------------------------------------------------------

    def _collections(self) -> None:
        for index, account in enumerate(self.accounts):
            if index % 2:  # every other account signed an agreement this quarter
                continue
            value = Decimal(self.rng.randrange(200, 900) * 1000)
            first = (value * 6 / 10).quantize(Decimal(1))
            parts = (first, value - first)
            dues = (self.at(30, hours=index), self.at(60, hours=index))
            invoices = (self.uuid(), self.uuid())
            # Each invoice is paid on time, late, or not by the quarter's end; the collections
            # policy flags the ones still open past their due date at a tick of the clock.
            fates = self.rng.choices(["on time", "late", "unpaid"], weights=[6, 2, 2], k=2)
            account["invoices"] = list(zip(invoices, parts, dues, fates, strict=True))
            agreement = self.uuid()
            self.step(self.at(3, hours=index), self._sign, account, agreement, value, parts, dues)
            for invoice, amount, due, fate in account["invoices"]:
                issued = due - timedelta(days=25)
                self.step(issued, self._invoice, account, invoice, agreement, amount, due, issued)
                if fate == "on time":
                    paid = due - timedelta(days=self.rng.randrange(1, 10))
                elif fate == "late":
                    paid = due + timedelta(days=self.rng.randrange(3, 20))
                else:
                    continue
                self.step(paid, self._pay, account, invoice, amount, paid, self.uuid())

    def _sign(
        self,
        account: dict[str, Any],
        agreement: UUID,
        value: Decimal,
        parts: tuple[Decimal, Decimal],
        dues: tuple[datetime, datetime],
    ) -> None:
        rep, _, _ = self.crew_of(account)
        schedule = [
            PaymentInstallment(due, Money(part, CURRENCY))
            for part, due in zip(parts, dues, strict=True)
        ]
        self.app.sign_agreement(
            account["id"],
            self.members[rep],
            number=f"KA-2026-{account['name'][:3].upper()}-{agreement.hex[:4]}",
            value=Money(value, CURRENCY),
            schedule=schedule,
            agreement_id=agreement,
            at=self.at(3, hours=self.accounts.index(account)),
        )

    def _invoice(
        self,
        account: dict[str, Any],
        invoice: UUID,
        agreement: UUID,
        amount: Decimal,
        due: datetime,
        issued: datetime,
    ) -> None:
        self.app.issue_invoice(
            account["id"],
            self.members["finance"],
            amount=Money(amount, CURRENCY),
            due_at=due,
            agreement_id=agreement,
            invoice_id=invoice,
            at=issued,
        )

    def _pay(
        self, account: dict[str, Any], invoice: UUID, amount: Decimal, when: datetime, paid: UUID
    ) -> None:
        self.app.record_payment(
            account["id"],
            self.members["finance"],
            invoice,
            amount=Money(amount, CURRENCY),
            payment_id=paid,
            at=when,
        )

    # -- complaints and inquiries ----------------------------------------------------------------

    def _cases(self) -> None:
        severities = list(Severity)
        for number in range(16):
            account = self.accounts[self.rng.randrange(len(self.accounts))]
            severity = severities[self.rng.randrange(len(severities))]
            kind = CaseKind.COMPLAINT if number % 3 else CaseKind.INQUIRY
            opened = self.at(20 + number * 3.5, hours=self.rng.randrange(0, 8))
            late = self.rng.random() < 0.3
            acknowledged = opened + timedelta(hours=_ACK_DELAYS[severity][1 if late else 0])
            resolved = acknowledged + timedelta(days=self.rng.randrange(1, 6))
            case = self.uuid()
            self.step(opened, self._open_case, account, case, kind, severity, number, opened)
            self.step(acknowledged, self._acknowledge, account, case, acknowledged)
            if resolved < QUARTER.end - timedelta(days=2):
                self.step(resolved, self._resolve, account, case, resolved)
        for index, account in enumerate(self.accounts):
            score = Decimal(self.rng.randrange(62, 99))
            self.step(self.at(75, hours=index), self._survey, account, score, index)

    def _open_case(
        self,
        account: dict[str, Any],
        case: UUID,
        kind: CaseKind,
        severity: Severity,
        number: int,
        when: datetime,
    ) -> None:
        subject = {
            CaseKind.COMPLAINT: f"service interruption report #{number + 1}",
            CaseKind.INQUIRY: f"question about contract terms #{number + 1}",
        }[kind]
        rep, _, _ = self.crew_of(account)
        self.app.open_case(
            account["id"],
            self.members[rep],
            kind=kind,
            severity=severity,
            subject=subject,
            case_id=case,
            at=when,
        )

    def _acknowledge(self, account: dict[str, Any], case: UUID, when: datetime) -> None:
        self.app.acknowledge_case(account["id"], self.kam_of(account), case, at=when)

    def _resolve(self, account: dict[str, Any], case: UUID, when: datetime) -> None:
        self.app.resolve_case(
            account["id"],
            self.kam_of(account),
            case,
            resolution="root cause fixed and confirmed with the client",
            at=when,
        )

    def _survey(self, account: dict[str, Any], score: Decimal, index: int) -> None:
        self.app.record_satisfaction(
            account["id"],
            self.kam_of(account),
            score=score,
            comment="quarterly satisfaction survey",
            at=self.at(75, hours=index),
        )

    # -- projects and discounts -----------------------------------------------------------------

    def _projects(self) -> None:
        for number, (index, name, setter, floor, requests) in enumerate(_PROJECTS):
            project = {
                "id": self.uuid(),
                "name": name + self.suffix,
                "account": self.accounts[index],
            }
            day = 8 + number * 6
            list_price = Decimal(self.rng.randrange(80, 400) * 10000)
            self.step(self.at(day), self._start_project, project, setter, list_price, floor, day)
            for offset, (requester, pct, then) in enumerate(requests):
                when = self.at(day + 2 + offset)
                self.step(when, self._discount, project, requester, pct, then, when, self.uuid())
            if number == 3:  # one bought-in component, priced and confirmed
                self.step(
                    self.at(day + 4), self._procure, project, list_price, day + 4, self.uuid()
                )
            if number in (0, 1, 3, 6):
                pct = requests[0][1]
                self.step(self.at(day + 8), self._deliver, project, list_price, pct, day + 8)
            if number == 4:
                self.step(self.at(day + 8), self._lose, project, day + 8)

    def _start_project(
        self, project: dict[str, Any], setter: str, list_price: Decimal, floor_pct: int, day: int
    ) -> None:
        app, m, account, when = self.app, self.members, project["account"], self.at(day)
        _, pd, technical = self.crew_of(account)
        kam = self.kam_of(account)
        app.initiate_project(
            account["id"],
            kam,
            name=project["name"],
            currency=CURRENCY,
            project_director_id=m[pd],
            project_id=project["id"],
            at=when,
        )
        app.assess_feasibility(
            project["id"],
            m[pd],
            verdict=FeasibilityVerdict.FEASIBLE,
            value_positioning="fits the client's digitisation plan",
            risks=["vendor lead times"],
            at=when,
        )
        app.assign_presales_support(project["id"], m[pd], m[technical], at=when)
        app.submit_proposal(
            project["id"],
            kam,
            amount=Money(list_price, CURRENCY),
            summary="design, supply, installation and a year of maintenance",
            at=when,
        )
        band_setter = {"pd": pd, "director": self.director_of(account), "senior": "senior"}[setter]
        floor = (list_price * (100 - floor_pct) / 100).quantize(Decimal(1))
        app.set_price_band(
            project["id"],
            m[band_setter],
            list_price=Money(list_price, CURRENCY),
            floor=Money(floor, CURRENCY),
            at=when,
        )

    def _discount(
        self,
        project: dict[str, Any],
        requester: str,
        pct: int,
        then: str,
        when: datetime,
        request_id: UUID,
    ) -> None:
        """Request a discount; the price-approval policy approves it within the requester's own
        authority or routes it up; the person of the role it reaches then decides."""
        app, m, account = self.app, self.members, project["account"]
        rep, pd, _ = self.crew_of(account)
        who = {"rep": m[rep], "kam": self.kam_of(account), "pd": m[pd]}[requester]
        app.request_discount(
            project["id"],
            who,
            percentage=Percentage.of(pct),
            justification="match a competing offer for a multi-year commitment",
            request_id=request_id,
            at=when,
        )
        request = app.get_project(project["id"]).discount_requests[DiscountRequestId(request_id)]
        if request.decision is not None or request.escalated_to is None or then == "wait":
            return
        decider = {
            Role.PROJECT_DIRECTOR: m[pd],
            Role.SALES_DIRECTOR: m[self.director_of(account)],
            Role.SENIOR_SALES_DIRECTOR: m["senior"],
        }[request.escalated_to]
        if then == "approve":
            app.approve_discount(project["id"], decider, request_id, at=when)
        else:
            app.reject_discount(
                project["id"],
                decider,
                request_id,
                reason="margin too thin for the value the client gets",
                at=when,
            )

    def _procure(self, project: dict[str, Any], list_price: Decimal, day: int, quote: UUID) -> None:
        app, m, account = self.app, self.members, project["account"]
        _, pd, _ = self.crew_of(account)
        app.record_quote(
            project["id"],
            self.kam_of(account),
            vendor="Shenzhen Imaging Devices",
            list_price=Money((list_price * Decimal("0.3")).quantize(Decimal(1)), CURRENCY),
            discount=Percentage.of(12),
            quote_id=quote,
            at=self.at(day),
        )
        app.confirm_quote(project["id"], m[pd], quote, at=self.at(day))

    def _deliver(self, project: dict[str, Any], list_price: Decimal, pct: int, day: int) -> None:
        app, m, account, when = self.app, self.members, project["account"], self.at(day)
        rep, pd, _ = self.crew_of(account)
        value = (list_price * (100 - pct) / 100).quantize(Decimal(1))
        app.sign_contract(project["id"], m[rep], value=Money(value, CURRENCY), at=when)
        app.plan_implementation(
            project["id"],
            m[pd],
            milestones=[
                ("installed", when + timedelta(days=20)),
                ("trial run", when + timedelta(days=35)),
            ],
            headcount=6,
            at=when,
        )
        done = when + timedelta(days=18)
        app.reach_milestone(project["id"], m[pd], ProjectMilestone.INSTALLED, at=done)
        cost = Money((value * Decimal("0.55")).quantize(Decimal(1)), CURRENCY)
        app.record_cost(project["id"], m["finance"], amount=cost, category="equipment", at=done)
        app.record_revenue(
            project["id"], m["finance"], amount=Money(value, CURRENCY), category="contract", at=done
        )

    def _lose(self, project: dict[str, Any], day: int) -> None:
        app, m, account, when = self.app, self.members, project["account"], self.at(day)
        _, pd, _ = self.crew_of(account)
        app.mark_project_lost(
            project["id"],
            self.kam_of(account),
            reason="client chose a competitor's bundled offer",
            at=when,
        )
        app.close_project(project["id"], m[pd], outcome=ProjectOutcome.LOST, at=when)

    # -- targets, close, evaluation, sign-off ----------------------------------------------------

    def _targets(self) -> None:
        ids = {"team": self.uuid()}
        ids.update({key: self.uuid() for key in ("kam_1", "kam_2", "kam_3", "kam_4")})
        ids.update({str(a["id"]): self.uuid() for a in self.accounts if "invoices" in a})
        self.targets = ids
        self.step(self.at(2), self._set_targets)
        self.step(QUARTER.end + timedelta(hours=1), self._close_quarter)
        for day in (5, 6):  # sign-offs over two days; two accounts' are never done
            self.step(QUARTER.end + timedelta(days=day), self._sign_offs, day)
        self.step(QUARTER.end + timedelta(days=7), self._action_plans)

    def _set_targets(self) -> None:
        app, m, when = self.app, self.members, self.at(2)
        signed = [a for a in self.accounts if "invoices" in a]
        revenue = {
            str(a["id"]): sum((p for _, p, _, _ in a["invoices"]), Decimal(0)) for a in signed
        }
        by_kam: dict[str, list[dict[str, Any]]] = {}
        for account in signed:
            by_kam.setdefault(self.key_of(self.kam_of(account)), []).append(account)

        def goals(amount: Decimal) -> tuple[Any, ...]:
            return (
                RevenueGoal(Money(amount, CURRENCY)),
                ServiceLevelGoal(Decimal(90)),
                SatisfactionGoal(Decimal(80)),
            )

        kam_totals = {
            kam: sum((revenue[str(a["id"])] for a in accounts), Decimal(0))
            for kam, accounts in sorted(by_kam.items())
        }
        # The company's plan asks 5 % more of the team than its KAMs committed to: the
        # decomposition policy flags the gap.
        company = (sum(kam_totals.values(), Decimal(0)) * Decimal("1.05")).quantize(Decimal(1))
        app.set_target(
            self.team_id,
            m["senior"],
            scope=TargetScope.team(self.team_id),
            period=QUARTER,
            goals=goals(company),
            target_id=self.targets["team"],
            at=when,
        )
        for kam, total in kam_totals.items():
            supervisor = self.app.get_team(self.team_id).members[MemberId(m[kam])].supervisor_id
            assert supervisor is not None
            director = self.key_of(supervisor)
            app.set_target(
                self.team_id,
                m[director],
                scope=TargetScope.member(m[kam]),
                period=QUARTER,
                goals=goals(total),
                parent_id=self.targets["team"],
                target_id=self.targets[kam],
                at=when,
            )
            for account in by_kam[kam]:
                app.set_target(
                    self.team_id,
                    m[kam],
                    scope=TargetScope.account(account["id"]),
                    period=QUARTER,
                    goals=goals(revenue[str(account["id"])]),
                    parent_id=self.targets[kam],
                    target_id=self.targets[str(account["id"])],
                    at=when,
                )

    def _close_quarter(self) -> None:
        """The quarter ends: the evaluation policy closes and scores every target of it."""
        self.app.close_period(QUARTER, CLOCK, at=QUARTER.end + timedelta(hours=1))

    def _sign_offs(self, day: int) -> None:
        app, m = self.app, self.members
        when = QUARTER.end + timedelta(days=day)
        targets = [t for t in app.targets(self.team_id, QUARTER) if t.latest_evaluation]
        for target in targets:
            kam: UUID | None
            if target.scope.kind is ScopeKind.ACCOUNT:
                if day != 5 or target.id not in self._early():
                    continue
                kam = app.get_account(target.scope.id).accountable_kam
            elif target.scope.kind is ScopeKind.MEMBER:
                if day != 6:
                    continue
                kam = target.scope.id
            else:
                if day != 6:
                    continue
                kam = m["director_1"]
            if kam is None:
                continue
            team = app.get_team(self.team_id)
            supervisor = team.members[MemberId(kam)].supervisor_id or m["senior"]
            app.sign_off_target(
                target.id,
                kam,
                signatory=Signatory.KAM,
                comments="agreed; actuals match our records",
                at=when,
            )
            app.sign_off_target(
                target.id,
                supervisor,
                signatory=Signatory.SUPERVISOR,
                comments="reviewed with the KAM",
                at=when,
            )

    def _early(self) -> set[UUID]:
        """Account targets signed off on the fifth day: all but the last two."""
        signed = [a for a in self.accounts if "invoices" in a]
        return {self.targets[str(a["id"])] for a in signed[:-2]}

    def _action_plans(self) -> None:
        app, m = self.app, self.members
        when = QUARTER.end + timedelta(days=7)
        for target in app.targets(self.team_id, QUARTER):
            evaluation = target.latest_evaluation
            if evaluation is None or not evaluation.action_plan_required:
                continue
            actor = m["director_1"]
            if target.scope.kind is ScopeKind.MEMBER:
                actor = target.scope.id
            elif target.scope.kind is ScopeKind.ACCOUNT:
                actor = app.get_account(target.scope.id).accountable_kam or m["senior"]
            app.adjust_action_plan(
                target.id,
                actor,
                plan="weekly collection calls; a named engineer per open complaint",
                at=when,
            )

    # -- the clock -------------------------------------------------------------------------------

    def _clock(self) -> None:
        """Recorded time: twice a day through the quarter, then past the sign-off deadline."""
        moment = self.at(1)
        while moment < QUARTER.end:
            self.step(moment, self._tick, moment)
            moment += TICK_EVERY
        self.step(QUARTER.end + timedelta(days=12), self._tick, QUARTER.end + timedelta(days=12))

    def _tick(self, when: datetime) -> None:
        self.app.tick(CLOCK, at=when)
