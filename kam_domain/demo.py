"""The seed document's scenario, built through the facade: ``kam demo``.

One key-account team with every role runs a quarter (2026-Q1): key accounts of each tier with
their accountable KAMs, agreements, invoices and payments (some late, some overdue), complaints
(some acknowledged late, escalated), projects whose discount requests are decided at every
authority level (and some rejected), a confirmed third-party quote, targets decomposed
team → KAM → account, the quarter's close, evaluations from the log, and sign-offs.

Every step is an ordinary command with an effective time in the quarter, so the record reads like
a real one. The same seed always builds the same record (ids included); building it again on the
same store adds nothing and says so.
"""

from __future__ import annotations

import random
from collections import Counter
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
from kam_domain.aggregates.project import (
    FeasibilityVerdict,
    ProjectMilestone,
    ProjectOutcome,
)
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
from kam_domain.errors import TeamNotFound
from kam_domain.values import CaseKind, Money, Percentage, Period, Role, Severity, Tier

__all__ = ["QUARTER", "DemoSummary", "build_demo"]

QUARTER = Period(2026, 1)
CURRENCY = "CNY"
START = datetime(2026, 1, 5, 9, tzinfo=UTC)

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
_ACK_DELAYS = {  # hours to acknowledge: on time, and late
    Severity.CRITICAL: (2, 9),
    Severity.HIGH: (10, 40),
    Severity.MEDIUM: (20, 70),
    Severity.LOW: (30, 90),
}


@attrs.frozen
class DemoSummary:
    """What the demo store holds, as lines a person reads."""

    lines: tuple[str, ...]

    def render(self) -> str:
        return "\n".join(self.lines)


def build_demo(app: KamApplication, *, seed: int = 1) -> DemoSummary:
    """Build the scenario for ``seed`` in ``app``'s store (once) and summarise the store."""
    scenario = _Scenario(app, seed)
    try:
        app.get_team(scenario.team_id)
    except TeamNotFound:
        scenario.build()
        note = f"Built the demo scenario (seed {seed}) in {app.store_url}."
    else:
        note = (
            f"The demo scenario for seed {seed} is already in {app.store_url}; nothing was added."
        )
    return _summarise(app, scenario, note)


class _Scenario:
    """The steps of the quarter, gathered on a timeline and then run in time order."""

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

    def step(self, when: datetime, action: Callable[[], Any]) -> None:
        self.steps.append((when, len(self.steps), action))

    def build(self) -> None:
        self._team()
        self._accounts()
        self._collections()
        self._cases()
        self._projects()
        self._targets()
        for _, _, action in sorted(self.steps, key=lambda item: (item[0], item[1])):
            action()

    # -- the team ------------------------------------------------------------------------------

    def _team(self) -> None:
        app, m = self.app, self.members
        when = self.at(0)
        m["senior"] = self.uuid()
        app.form_team(
            name=f"East China key accounts{self.suffix}",
            segment="large enterprises",
            region="east China",
            director_name="Wang Jun",
            top_authority=Percentage.of(30),
            default_capacity=12,
            team_id=self.team_id,
            director_id=m["senior"],
            at=when,
        )
        people = [
            ("director_1", "Zhao Min", Role.SALES_DIRECTOR, "senior", 20),
            ("director_2", "Qian Li", Role.SALES_DIRECTOR, "senior", 20),
            ("kam_1", "Li Na", Role.KEY_ACCOUNT_MANAGER, "director_1", 5),
            ("kam_2", "Chen Gang", Role.KEY_ACCOUNT_MANAGER, "director_1", 5),
            ("kam_3", "Liu Yang", Role.KEY_ACCOUNT_MANAGER, "director_2", 5),
            ("kam_4", "Huang Wei", Role.KEY_ACCOUNT_MANAGER, "director_2", 5),
            ("rep_1", "Sun Hui", Role.KEY_ACCOUNT_REPRESENTATIVE, "kam_1", None),
            ("rep_2", "Zhou Jie", Role.KEY_ACCOUNT_REPRESENTATIVE, "kam_3", None),
            ("pd_1", "Wu Tao", Role.PROJECT_DIRECTOR, "director_1", 10),
            ("pd_2", "Xu Fang", Role.PROJECT_DIRECTOR, "director_2", 10),
            ("admin", "Zheng Hong", Role.SENIOR_ADMIN_MANAGER, "senior", None),
            ("finance", "Feng Lei", Role.FINANCIAL_PLANNER, "admin", None),
            ("legal", "He Ping", Role.LEGAL_AFFAIRS_SPECIALIST, "admin", None),
            ("assistant", "Ma Lin", Role.DEPARTMENT_ASSISTANT, "admin", None),
            ("support", "Guo Qiang", Role.TECHNICAL_SUPPORT, "director_1", None),
            ("consultant", "Lin Yu", Role.CONSULTANT, "director_2", None),
        ]
        for key, _, _, _, _ in people:
            m[key] = self.uuid()

        def staff() -> None:
            for key, name, role, boss, _ in people:
                app.add_member(
                    self.team_id,
                    m["senior"],
                    name=name,
                    role=role,
                    supervisor_id=m[boss],
                    member_id=m[key],
                    at=when,
                )
            for key, _, _, _, limit in people:
                if limit is not None:
                    grantor = "senior" if key.startswith("director") else _grantor(key)
                    app.grant_authority(
                        self.team_id,
                        m[grantor],
                        m[key],
                        max_discount=Percentage.of(limit),
                        grant_id=self.uuid(),
                        at=when,
                    )
            app.set_tier_weights(
                self.team_id, m["senior"], TierWeights(strategic=3, major=2, standard=1), at=when
            )
            # The team asks for an action plan below 75 points, stricter than the default 60.
            standard = attrs.evolve(EvaluationStandard.default(), action_threshold=Decimal(75))
            app.set_evaluation_standard(self.team_id, m["senior"], standard, at=when)
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

        self.step(when, staff)

    # -- accounts ------------------------------------------------------------------------------

    def _accounts(self) -> None:
        tiers = list(_TIERS)
        self.rng.shuffle(tiers)
        loads = dict.fromkeys(("kam_1", "kam_2", "kam_3", "kam_4"), 0)
        weights = {Tier.STRATEGIC: 3, Tier.MAJOR: 2, Tier.STANDARD: 1}
        for index, ((name, industry), tier) in enumerate(zip(_ACCOUNTS, tiers, strict=True)):
            # Heaviest accounts first would balance better; arrival order is how it happens.
            kam = min(loads, key=lambda key: (loads[key], key))
            loads[kam] += weights[tier]
            director = "director_1" if kam in ("kam_1", "kam_2") else "director_2"
            rep = "rep_1" if director == "director_1" else "rep_2"
            account = {
                "id": self.uuid(),
                "name": name + self.suffix,
                "tier": tier,
                "kam": kam,
                "director": director,
                "rep": rep,
                "region": _REGIONS[index % len(_REGIONS)],
            }
            self.accounts.append(account)
            when = self.at(1, hours=index / 4)
            self.step(when, _bind(self._open_account, account, industry, when, loads[kam]))

    def _open_account(
        self, account: dict[str, Any], industry: str, when: datetime, load: int
    ) -> None:
        app, m = self.app, self.members
        aid = account["id"]
        app.register_account(
            self.team_id,
            m[account["director"]],
            name=account["name"],
            industry=industry,
            region=account["region"],
            account_id=aid,
            at=when,
        )
        app.designate_key_account(
            aid,
            m[account["director"]],
            tier=account["tier"],
            strategies=AccountStrategies(
                market=f"lead the {industry} segment in the {account['region']}",
                client="senior-executive sponsorship and quarterly reviews",
                marketing="joint solution showcases",
                competitive="bundle implementation and maintenance",
            ),
            at=when,
        )
        app.assign_kam(
            aid,
            m[account["director"]],
            m[account["kam"]],
            reason=f"lowest tier-weighted load (now {load})",
            at=when,
        )
        app.assign_representative(aid, m[account["director"]], m[account["rep"]], at=when)
        technical = "support" if account["director"] == "director_1" else "consultant"
        app.assign_technical_contact(aid, m[account["director"]], m[technical], at=when)
        app.add_client_contact(
            aid,
            m[account["kam"]],
            name=f"CIO of {account['name']}",
            title="Chief Information Officer",
            influence=ContactInfluence.HIGH,
            owner_id=m[account["kam"]],
            contact_id=self.uuid(),
            at=when,
        )
        if account["tier"] is Tier.STRATEGIC:
            app.agree_account_plan(
                aid,
                m[account["kam"]],
                supervisor_id=m[account["director"]],
                client_goals="digitise operations across all plants",
                execution_plan="quarterly roadmap workshops; dedicated implementation team",
                at=when,
            )
            app.record_competitor_intelligence(
                aid,
                m[account["kam"]],
                competitor="Rival Systems",
                note="offered 20 % off list for a three-year term",
                at=when,
            )

    # -- agreements, invoices, payments --------------------------------------------------------

    def _collections(self) -> None:
        for index, account in enumerate(self.accounts):
            if index % 2:  # every other account signed an agreement this quarter
                continue
            value = Decimal(self.rng.randrange(200, 900) * 1000)
            first, second = (value * 6 / 10).quantize(Decimal(1)), None
            second = value - first
            signed = self.at(3, hours=index)
            dues = (self.at(30, hours=index), self.at(60, hours=index))
            agreement_id, invoices = self.uuid(), (self.uuid(), self.uuid())
            # How each invoice is settled: on time, late, or not at all by the quarter's end.
            fates = self.rng.choices(["on time", "late", "unpaid"], weights=[6, 2, 2], k=2)
            account["invoices"] = list(zip(invoices, (first, second), dues, fates, strict=True))
            self.step(
                signed,
                _bind(self._sign, account, agreement_id, value, (first, second), dues, signed),
            )
            for invoice_id, amount, due, fate in account["invoices"]:
                issued = due - timedelta(days=25)
                self.step(
                    issued,
                    _bind(self._invoice, account, invoice_id, agreement_id, amount, due, issued),
                )
                if fate == "on time":
                    paid = due - timedelta(days=self.rng.randrange(1, 10))
                elif fate == "late":
                    paid = due + timedelta(days=self.rng.randrange(3, 20))
                else:
                    paid = None
                if paid is not None:
                    self.step(paid, _bind(self._pay, account, invoice_id, amount, paid))
            quarter_end = QUARTER.end - timedelta(hours=12)
            for invoice_id, _, due, fate in account["invoices"]:
                if fate == "unpaid" and due < quarter_end:
                    self.step(quarter_end, _bind(self._overdue, account, invoice_id, quarter_end))

    def _sign(
        self,
        account: dict[str, Any],
        agreement_id: UUID,
        value: Decimal,
        parts: tuple[Decimal, Decimal],
        dues: tuple[datetime, datetime],
        when: datetime,
    ) -> None:
        schedule = [
            PaymentInstallment(due, Money(part, CURRENCY))
            for part, due in zip(parts, dues, strict=True)
        ]
        self.app.sign_agreement(
            account["id"],
            self.members[account["rep"]],
            number=f"KA-2026-{account['name'][:3].upper()}-{agreement_id.hex[:4]}",
            value=Money(value, CURRENCY),
            schedule=schedule,
            agreement_id=agreement_id,
            at=when,
        )

    def _invoice(
        self,
        account: dict[str, Any],
        invoice_id: UUID,
        agreement_id: UUID,
        amount: Decimal,
        due: datetime,
        when: datetime,
    ) -> None:
        self.app.issue_invoice(
            account["id"],
            self.members["finance"],
            amount=Money(amount, CURRENCY),
            due_at=due,
            agreement_id=agreement_id,
            invoice_id=invoice_id,
            at=when,
        )

    def _pay(
        self, account: dict[str, Any], invoice_id: UUID, amount: Decimal, when: datetime
    ) -> None:
        self.app.record_payment(
            account["id"],
            self.members["finance"],
            invoice_id,
            amount=Money(amount, CURRENCY),
            payment_id=self.uuid(),
            at=when,
        )

    def _overdue(self, account: dict[str, Any], invoice_id: UUID, when: datetime) -> None:
        self.app.flag_overdue(account["id"], self.members["finance"], invoice_id, at=when)

    # -- complaints and inquiries --------------------------------------------------------------

    def _cases(self) -> None:
        severities = list(Severity)
        for number in range(16):
            account = self.accounts[self.rng.randrange(len(self.accounts))]
            severity = severities[self.rng.randrange(len(severities))]
            kind = CaseKind.COMPLAINT if number % 3 else CaseKind.INQUIRY
            opened = self.at(20 + number * 3.5, hours=self.rng.randrange(0, 8))
            late = self.rng.random() < 0.3
            delay = _ACK_DELAYS[severity][1 if late else 0]
            case_id = self.uuid()
            acknowledged = opened + timedelta(hours=delay)
            resolved = acknowledged + timedelta(days=self.rng.randrange(1, 6))
            self.step(
                opened, _bind(self._open_case, account, case_id, kind, severity, number, opened)
            )
            if late:
                escalated = opened + timedelta(hours=_ACK_DELAYS[severity][0] + 1)
                self.step(escalated, _bind(self._escalate, account, case_id, escalated))
            self.step(acknowledged, _bind(self._acknowledge, account, case_id, acknowledged))
            if resolved < QUARTER.end - timedelta(days=2):
                self.step(resolved, _bind(self._resolve, account, case_id, resolved))
        for index, account in enumerate(self.accounts):
            score = Decimal(self.rng.randrange(62, 99))
            when = self.at(75, hours=index)
            self.step(when, _bind(self._survey, account, score, when))

    def _open_case(
        self,
        account: dict[str, Any],
        case_id: UUID,
        kind: CaseKind,
        severity: Severity,
        number: int,
        when: datetime,
    ) -> None:
        subject = {
            CaseKind.COMPLAINT: f"service interruption report #{number + 1}",
            CaseKind.INQUIRY: f"question about contract terms #{number + 1}",
        }[kind]
        self.app.open_case(
            account["id"],
            self.members[account["rep"]],
            kind=kind,
            severity=severity,
            subject=subject,
            case_id=case_id,
            at=when,
        )

    def _escalate(self, account: dict[str, Any], case_id: UUID, when: datetime) -> None:
        self.app.escalate_case(
            account["id"],
            self.members["admin"],
            case_id,
            to=self.members[account["director"]],
            level=1,
            reason="not acknowledged within its response window",
            at=when,
        )

    def _acknowledge(self, account: dict[str, Any], case_id: UUID, when: datetime) -> None:
        self.app.acknowledge_case(account["id"], self.members[account["kam"]], case_id, at=when)

    def _resolve(self, account: dict[str, Any], case_id: UUID, when: datetime) -> None:
        self.app.resolve_case(
            account["id"],
            self.members[account["kam"]],
            case_id,
            resolution="root cause fixed and confirmed with the client",
            at=when,
        )

    def _survey(self, account: dict[str, Any], score: Decimal, when: datetime) -> None:
        self.app.record_satisfaction(
            account["id"],
            self.members[account["kam"]],
            score=score,
            comment="quarterly satisfaction survey",
            at=when,
        )

    # -- projects and discounts ----------------------------------------------------------------

    def _projects(self) -> None:
        # (account, project, band setter, floor %, requests: (requester, %, decider, decision))
        plans: list[tuple[int, str, str, int, list[tuple[str, int, str, str]]]] = [
            (0, "Private 5G campus network", "pd", 10, [("rep", 4, "kam", "approve")]),
            (2, "Smart factory MES rollout", "pd", 10, [("kam", 8, "pd", "approve")]),
            (
                4,
                "Core banking data centre",
                "director",
                20,
                [("kam", 15, "director", "approve"), ("kam", 18, "director", "reject")],
            ),
            (6, "Hospital imaging cloud", "senior", 30, [("pd", 25, "senior", "approve")]),
            (8, "Metro broadband upgrade", "senior", 30, [("pd", 28, "senior", "reject")]),
            (10, "Port logistics tracking", "director", 20, [("kam", 12, "escalate", "approve")]),
            (12, "Textile ERP migration", "pd", 10, [("kam", 6, "pd", "approve")]),
            (14, "Wind farm monitoring", "pd", 10, [("kam", 9, "none", "pending")]),
        ]
        for number, (index, name, setter, floor, requests) in enumerate(plans):
            account = self.accounts[index]
            project = {
                "id": self.uuid(),
                "name": name + self.suffix,
                "account": account,
                "pd": "pd_1" if account["director"] == "director_1" else "pd_2",
            }
            day = 8 + number * 6
            list_price = Decimal(self.rng.randrange(80, 400) * 10000)
            self.step(
                self.at(day),
                _bind(self._start_project, project, setter, list_price, floor, self.at(day)),
            )
            for offset, (requester, pct, decider, decision) in enumerate(requests):
                when = self.at(day + 2 + offset)
                self.step(
                    when, _bind(self._discount, project, requester, pct, decider, decision, when)
                )
            if number == 3:  # one bought-in component, priced and confirmed
                when = self.at(day + 4)
                self.step(when, _bind(self._procure, project, list_price, when))
            if number in (0, 1, 3, 6):
                when = self.at(day + 8)
                self.step(when, _bind(self._deliver, project, list_price, requests[0][1], when))
            if number == 4:
                when = self.at(day + 8)
                self.step(when, _bind(self._lose, project, when))

    def _start_project(
        self,
        project: dict[str, Any],
        setter: str,
        list_price: Decimal,
        floor_pct: int,
        when: datetime,
    ) -> None:
        app, m, account = self.app, self.members, project["account"]
        pid = app.initiate_project(
            account["id"],
            m[account["kam"]],
            name=project["name"],
            currency=CURRENCY,
            project_director_id=m[project["pd"]],
            project_id=project["id"],
            at=when,
        )
        app.assess_feasibility(
            pid,
            m[project["pd"]],
            verdict=FeasibilityVerdict.FEASIBLE,
            value_positioning="fits the client's digitisation plan",
            risks=["vendor lead times"],
            at=when,
        )
        support = "support" if account["director"] == "director_1" else "consultant"
        app.assign_presales_support(pid, m[project["pd"]], m[support], at=when)
        app.submit_proposal(
            pid,
            m[account["kam"]],
            amount=Money(list_price, CURRENCY),
            summary="design, supply, installation and a year of maintenance",
            at=when,
        )
        band_setter = {"pd": project["pd"], "director": account["director"], "senior": "senior"}[
            setter
        ]
        floor = (list_price * (100 - floor_pct) / 100).quantize(Decimal(1))
        app.set_price_band(
            pid,
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
        decider: str,
        decision: str,
        when: datetime,
    ) -> None:
        app, m, account = self.app, self.members, project["account"]
        who = {"rep": account["rep"], "kam": account["kam"], "pd": project["pd"]}[requester]
        request_id = app.request_discount(
            project["id"],
            m[who],
            percentage=Percentage.of(pct),
            justification="match a competing offer for a multi-year commitment",
            request_id=self.uuid(),
            at=when,
        )
        if decision == "pending":
            return
        if decider == "escalate":
            app.escalate_discount(
                project["id"],
                m[project["pd"]],
                request_id,
                to_role=Role.SALES_DIRECTOR,
                reason="beyond the project director's authority",
                at=when,
            )
            decider = "director"
        approver = {
            "kam": account["kam"],
            "pd": project["pd"],
            "director": account["director"],
            "senior": "senior",
        }[decider]
        if decision == "approve":
            app.approve_discount(project["id"], m[approver], request_id, at=when)
        else:
            app.reject_discount(
                project["id"],
                m[approver],
                request_id,
                reason="margin too thin for the value the client gets",
                at=when,
            )

    def _procure(self, project: dict[str, Any], list_price: Decimal, when: datetime) -> None:
        app, m = self.app, self.members
        quote_id = app.record_quote(
            project["id"],
            m[project["account"]["kam"]],
            vendor="Shenzhen Imaging Devices",
            list_price=Money((list_price * Decimal("0.3")).quantize(Decimal(1)), CURRENCY),
            discount=Percentage.of(12),
            quote_id=self.uuid(),
            at=when,
        )
        app.confirm_quote(project["id"], m[project["pd"]], quote_id, at=when)

    def _deliver(
        self, project: dict[str, Any], list_price: Decimal, pct: int, when: datetime
    ) -> None:
        app, m = self.app, self.members
        value = (list_price * (100 - pct) / 100).quantize(Decimal(1))
        app.sign_contract(
            project["id"], m[project["account"]["rep"]], value=Money(value, CURRENCY), at=when
        )
        app.plan_implementation(
            project["id"],
            m[project["pd"]],
            milestones=[
                ("installed", when + timedelta(days=20)),
                ("trial run", when + timedelta(days=35)),
            ],
            headcount=6,
            at=when,
        )
        app.reach_milestone(
            project["id"],
            m[project["pd"]],
            ProjectMilestone.INSTALLED,
            at=when + timedelta(days=18),
        )
        app.record_cost(
            project["id"],
            m["finance"],
            amount=Money((value * Decimal("0.55")).quantize(Decimal(1)), CURRENCY),
            category="equipment and labour",
            at=when + timedelta(days=18),
        )
        app.record_revenue(
            project["id"],
            m["finance"],
            amount=Money(value, CURRENCY),
            category="contract value",
            at=when + timedelta(days=18),
        )

    def _lose(self, project: dict[str, Any], when: datetime) -> None:
        app, m = self.app, self.members
        app.mark_project_lost(
            project["id"],
            m[project["account"]["kam"]],
            reason="client chose a competitor's bundled offer",
            at=when,
        )
        app.close_project(project["id"], m[project["pd"]], outcome=ProjectOutcome.LOST, at=when)

    # -- targets, close, evaluation, sign-off ---------------------------------------------------

    def _targets(self) -> None:
        kams = ("kam_1", "kam_2", "kam_3", "kam_4")
        signed_accounts = [a for a in self.accounts if "invoices" in a]
        revenue = {
            id(a): sum((amount for _, amount, _, _ in a["invoices"]), Decimal(0))
            for a in signed_accounts
        }
        per_kam = {
            kam: sum((revenue[id(a)] for a in signed_accounts if a["kam"] == kam), Decimal(0))
            for kam in kams
        }
        team_target = self.uuid()
        kam_targets = {kam: self.uuid() for kam in kams if per_kam[kam]}
        account_targets = {id(a): self.uuid() for a in signed_accounts}
        self.targets = (team_target, kam_targets, account_targets, signed_accounts)

        def goals(amount: Decimal) -> tuple[Any, ...]:
            return (
                RevenueGoal(Money(amount, CURRENCY)),
                ServiceLevelGoal(Decimal(90)),
                SatisfactionGoal(Decimal(80)),
            )

        def set_targets() -> None:
            app, m, when = self.app, self.members, self.at(2)
            app.set_target(
                self.team_id,
                m["senior"],
                scope=TargetScope.team(self.team_id),
                period=QUARTER,
                goals=goals(sum(per_kam.values(), Decimal(0))),
                target_id=team_target,
                at=when,
            )
            for kam, target_id in kam_targets.items():
                director = "director_1" if kam in ("kam_1", "kam_2") else "director_2"
                app.set_target(
                    self.team_id,
                    m[director],
                    scope=TargetScope.member(m[kam]),
                    period=QUARTER,
                    goals=goals(per_kam[kam]),
                    parent_id=team_target,
                    target_id=target_id,
                    at=when,
                )
            for account in signed_accounts:
                app.set_target(
                    self.team_id,
                    m[account["kam"]],
                    scope=TargetScope.account(account["id"]),
                    period=QUARTER,
                    goals=goals(revenue[id(account)]),
                    parent_id=kam_targets[account["kam"]],
                    target_id=account_targets[id(account)],
                    at=when,
                )

        self.step(self.at(2), set_targets)
        self.step(QUARTER.end + timedelta(days=1), self._close_and_evaluate)

    def _close_and_evaluate(self) -> None:
        app, m = self.app, self.members
        team_target, kam_targets, account_targets, signed_accounts = self.targets
        closed, evaluated = QUARTER.end + timedelta(days=1), QUARTER.end + timedelta(days=2)
        everything = [team_target, *kam_targets.values(), *account_targets.values()]
        for target_id in everything:
            app.close_target_period(target_id, m["senior"], at=closed)
            app.evaluate_target(
                target_id, m["senior"], actuals=app.measure_target(target_id), at=evaluated
            )
        # Sign-offs over the following week; the last two accounts' are still missing.
        signing = QUARTER.end + timedelta(days=5)
        for account in signed_accounts[:-2]:
            target_id = account_targets[id(account)]
            self._sign_off(target_id, account["kam"], account["director"], signing)
        for kam, target_id in kam_targets.items():
            director = "director_1" if kam in ("kam_1", "kam_2") else "director_2"
            self._sign_off(target_id, kam, director, signing)
        self._sign_off(team_target, "director_1", "senior", signing)
        for target_id in everything:
            target = app.get_target(target_id)
            evaluation = target.latest_evaluation
            if evaluation is None or not evaluation.action_plan_required:
                continue
            actor: UUID = m["director_1"]
            if target.scope.kind is ScopeKind.MEMBER:
                actor = target.scope.id
            elif target.scope.kind is ScopeKind.ACCOUNT:
                actor = app.get_account(target.scope.id).accountable_kam or m["senior"]
            app.adjust_action_plan(
                target_id,
                actor,
                plan="weekly collection calls; a named engineer per open complaint",
                at=signing + timedelta(days=1),
            )

    def _sign_off(self, target_id: UUID, kam: str, supervisor: str, when: datetime) -> None:
        app, m = self.app, self.members
        app.sign_off_target(
            target_id,
            m[kam],
            signatory=Signatory.KAM,
            comments="agreed; actuals match our records",
            at=when,
        )
        app.sign_off_target(
            target_id,
            m[supervisor],
            signatory=Signatory.SUPERVISOR,
            comments="reviewed with the KAM",
            at=when,
        )


def _grantor(key: str) -> str:
    """Directors grant their own people's authority, within their own."""
    return {
        "kam_1": "director_1",
        "kam_2": "director_1",
        "pd_1": "director_1",
        "kam_3": "director_2",
        "kam_4": "director_2",
        "pd_2": "director_2",
    }[key]


def _bind(function: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    return lambda: function(*args)


# -- the summary -------------------------------------------------------------------------------


def _summarise(app: KamApplication, scenario: _Scenario, note: str) -> DemoSummary:
    team = app.get_team(scenario.team_id)
    names = {member_id: member.name for member_id, member in team.members.items()}
    lines = [note, ""]
    members = team.active_members()
    lines.append(
        f"Team: {team.name} ({team.segment}, {team.region}) — {len(members)} members in "
        f"{len({m.role for m in members})} roles"
    )
    accounts = app.accounts(scenario.team_id)
    key = [a for a in accounts if a.is_key]
    tiers = Counter(a.tier.value for a in key if a.tier is not None)
    lines.append(
        f"Key accounts: {len(key)} ("
        + ", ".join(f"{tiers[t.value]} {t.value}" for t in Tier)
        + f"); without an accountable KAM: {sum(a.accountable_kam is None for a in key)}"
    )
    lines.append(f"  {'KAM':<12} {'accounts':>8} {'load':>5} {'capacity':>8}  backup")
    for member in team.active_members(Role.KEY_ACCOUNT_MANAGER):
        mine = [a for a in key if a.accountable_kam == member.member_id]
        load = sum(team.tier_weights.of(a.tier) for a in mine if a.tier is not None)
        backup = names.get(member.backup_id, "—") if member.backup_id else "—"
        lines.append(
            f"  {member.name:<12} {len(mine):>8} {load:>5} "
            f"{team.capacity_of(member.member_id):>8}  {backup}"
        )

    lines.append("")
    projects = app.projects(scenario.team_id)
    requests = [
        (project, request) for project in projects for request in project.discount_requests.values()
    ]
    outcomes = Counter(_outcome(request) for _, request in requests)
    lines.append(
        f"Projects: {len(projects)} — discount requests: {len(requests)} ("
        + ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
        + ")"
    )
    lines.append(f"  {'project':<28} {'asked':>6}  {'decision':<9} by (authority in force)")
    for project, request in requests:
        decision = request.decision
        outcome = _outcome(request)
        by = "—"
        if decision is not None and decision.credentials is not None:
            who = decision.credentials
            held = who.discount_authority or "none"
            by = f"{who.name}, {who.role.label} ({held})"
        lines.append(f"  {project.name[:28]:<28} {request.percentage!s:>6}  {outcome:<9} {by}")
    confirmed = [
        (project, quote)
        for project in projects
        for quote in project.quotes.values()
        if quote.is_confirmed
    ]
    for project, quote in confirmed:
        lines.append(
            f"  procurement: {quote.vendor} for {project.name}: net {quote.net_cost} confirmed"
        )

    lines.append("")
    invoices = [(a, i) for a in accounts for i in a.invoices.values()]
    paid_late = sum(
        1
        for a, i in invoices
        for p in a.payments.values()
        if p.invoice_id == i.invoice_id and p.received_at > i.due_at
    )
    overdue = [(a, i) for a, i in invoices if i.overdue_flagged_at is not None]
    open_total = sum((i.open_balance.amount for _, i in overdue), Decimal(0))
    lines.append(
        f"Collections: {len(invoices)} invoices; {paid_late} paid late; {len(overdue)} flagged "
        f"overdue with {Money(open_total, CURRENCY)} open"
    )
    cases = [(a, c) for a in accounts for c in a.cases.values()]
    windows = {
        Severity.CRITICAL: timedelta(hours=4),
        Severity.HIGH: timedelta(hours=24),
        Severity.MEDIUM: timedelta(hours=48),
        Severity.LOW: timedelta(hours=72),
    }
    late = sum(
        1
        for _, c in cases
        if c.acknowledged_at is not None and c.acknowledged_at > c.opened_at + windows[c.severity]
    )
    lines.append(
        f"Cases: {len(cases)} ({sum(c.kind is CaseKind.COMPLAINT for _, c in cases)} "
        f"complaints); acknowledged late {late}; escalated "
        f"{sum(c.escalation_level > 0 for _, c in cases)}; still open "
        f"{sum(c.resolved_at is None for _, c in cases)}"
    )

    lines.append("")
    targets = app.targets(scenario.team_id, QUARTER)
    lines.append(f"Targets {QUARTER}: {len(targets)} (team → KAM → account)")
    lines.append(
        f"  {'scope':<28} {'revenue goal':>18} {'actual':>18} {'score':>7} {'rating':<6} "
        "signed off  action plan"
    )
    order = {"team": 0, "member": 1, "account": 2}
    for target in sorted(targets, key=lambda t: order[t.scope.kind.value]):
        scope = _scope_name(app, target.scope, names)
        goal = next(g for g in target.current_goals if isinstance(g, RevenueGoal))
        evaluation = target.latest_evaluation
        actual = evaluation.actual(goal.metric) if evaluation else None
        lines.append(
            f"  {scope[:28]:<28} {goal.value!s:>18} "
            f"{(str(actual.value) if actual else '—'):>18} "
            f"{(str(evaluation.score) if evaluation else '—'):>7} "
            f"{(evaluation.rating if evaluation else '—'):<6} "
            f"{'yes' if target.is_signed_off else 'no':<10}  {_action_plan(target)}"
        )
    lines.append("")
    lines.append(f"Events recorded in the store: {app.recorder.max_notification_id() or 0}")
    return DemoSummary(tuple(lines))


def _action_plan(target: Any) -> str:
    state = target.action_plan_state()
    if state.missing:
        return "required, missing"
    return "adjusted" if state.required else "—"


def _outcome(request: Any) -> str:
    return "pending" if request.decision is None else str(request.decision.outcome.value)


def _scope_name(app: KamApplication, scope: TargetScope, names: dict[Any, str]) -> str:
    kind = scope.kind.value
    if kind == "team":
        return "team"
    if kind == "member":
        return f"KAM {names.get(scope.id, scope.id)}"
    return app.get_account(scope.id).name
