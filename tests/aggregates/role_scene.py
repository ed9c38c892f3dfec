"""One team with a member in every role, and records of each aggregate in the states that the
commands of the role table need: each state is built once, then handed out as a fresh copy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import uuid4

from kam_domain.aggregates.base import KamAggregate, Meta
from kam_domain.aggregates.client_account import AccountStrategies, ClientAccount, ContactInfluence
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.opportunity import DEFAULT_PROBABILITIES, Opportunity, PipelineSettings
from kam_domain.aggregates.project import FeasibilityVerdict, Project
from kam_domain.aggregates.target import RevenueActual, RevenueGoal, Target, TargetScope
from kam_domain.aggregates.team import (
    ApprovalChainRules,
    ChainCondition,
    ChainRule,
    DelegationId,
    EvaluationStandard,
    Team,
)
from kam_domain.values import (
    AccountId,
    CaseId,
    CaseKind,
    ContactId,
    DiscountRequestId,
    GrantId,
    InvoiceId,
    MemberId,
    Money,
    OpportunityId,
    Percentage,
    Period,
    ProjectId,
    QuoteId,
    RiskId,
    Role,
    Severity,
    TargetId,
    TeamId,
    Tier,
)
from tests.support import at, given, history, meta

#: When the table's commands take effect, after every state they need.
WHEN = at(10)
#: The quarter the targets are set for, and a moment after it closed and was evaluated.
QUARTER = Period.parse("2026-Q1")
CLOSED = datetime(2026, 4, 2, 9, 0, tzinfo=QUARTER.end.tzinfo)
AFTER_CLOSE = datetime(2026, 4, 20, 9, 0, tzinfo=QUARTER.end.tzinfo)

STRATEGIES = AccountStrategies(
    market="grow in the provincial networks",
    client="win the CTO's office",
    marketing="joint case study",
    competitive="out-service the incumbent",
)

#: Discount authority granted at formation (the senior sales director) and by the company.
AUTHORITY = {
    Role.SENIOR_SALES_DIRECTOR: 30,
    Role.SALES_DIRECTOR: 20,
    Role.PROJECT_DIRECTOR: 10,
    Role.KEY_ACCOUNT_MANAGER: 5,
}


#: A chain for every request above 1 %: the project director, then the financial planner.
CHAIN_RULES = ApprovalChainRules(
    (
        ChainRule(ChainCondition.ABOVE, 1, (Role.PROJECT_DIRECTOR,), Percentage.of(1)),
        ChainRule(ChainCondition.ABOVE, 2, (Role.FINANCIAL_PLANNER,), Percentage.of(1)),
    )
)


def cny(amount: int | str) -> Money:
    return Money.of(amount, "CNY")


class Scene:
    """The team, one member per role (``by[role]``), a few extra members, and the givens."""

    def __init__(self) -> None:
        self.team_id = TeamId(uuid4())
        self.ids = {role: MemberId(uuid4()) for role in Role}
        #: A second KAM and project director, named by commands that hand work over.
        self.kam2 = MemberId(uuid4())
        self.pd2 = MemberId(uuid4())
        self.kam_grant = GrantId(uuid4())
        self.account_id = AccountId(uuid4())
        self.invoice_id = InvoiceId(uuid4())
        self.case_id = CaseId(uuid4())
        self.contact_id = ContactId(uuid4())
        self.request_id = DiscountRequestId(uuid4())
        self.delegation_id = DelegationId(uuid4())
        self.quote_id = QuoteId(uuid4())
        self.risk_id = RiskId(uuid4())
        self._histories: dict[str, list[Any]] = {}
        self._last: tuple[Any, list[Any]] = (None, [])
        team = self._team()
        self.by = {role: team.credentials(self.ids[role], WHEN) for role in Role}
        self.kam2_by = team.credentials(self.kam2, WHEN)
        self.pd2_by = team.credentials(self.pd2, WHEN)

    def meta(self, by: Credentials, when: datetime = WHEN) -> Meta:
        return meta(by, when)

    def fresh(self, state: str | None) -> Any:
        """A fresh copy of the record in ``state`` (None for a command that creates one)."""
        if state is None:
            return None
        if state not in self._histories:
            record = _GIVENS[state](self)
            # A state built on another one continues that one's history.
            base = self._last[1] if self._last[0] is record else []
            self._histories[state] = base + history(record)
        events = self._histories[state]
        record = given(events)
        self._last = (record, list(events))
        return record

    # -- the team ------------------------------------------------------------------------------

    def _team(self) -> Team:
        senior = self.ids[Role.SENIOR_SALES_DIRECTOR]
        team = Team.form(
            meta(None, at(0)),
            self.team_id,
            name="East key accounts",
            segment="telecom",
            region="east",
            director_id=senior,
            director_name="Wang",
            top_authority=Percentage.of(AUTHORITY[Role.SENIOR_SALES_DIRECTOR]),
        )
        head = team.credentials(senior, at(0))
        director = self.ids[Role.SALES_DIRECTOR]
        kam = self.ids[Role.KEY_ACCOUNT_MANAGER]
        supervisors = {
            Role.KEY_ACCOUNT_MANAGER: director,
            Role.KEY_ACCOUNT_REPRESENTATIVE: kam,
            Role.PROJECT_DIRECTOR: director,
        }
        for role in Role:
            if role is not Role.SENIOR_SALES_DIRECTOR:
                team.join(
                    meta(head, at(0)),
                    head,
                    self.ids[role],
                    name=role.label.title(),
                    role=role,
                    supervisor_id=supervisors.get(role),
                )
        for extra, role in (
            (self.kam2, Role.KEY_ACCOUNT_MANAGER),
            (self.pd2, Role.PROJECT_DIRECTOR),
        ):
            team.join(
                meta(head, at(0)), head, extra, name="Second", role=role, supervisor_id=director
            )
        for role in (Role.SALES_DIRECTOR, Role.PROJECT_DIRECTOR, Role.KEY_ACCOUNT_MANAGER):
            grant = self.kam_grant if role is Role.KEY_ACCOUNT_MANAGER else GrantId(uuid4())
            team.grant_authority(
                meta(None, at(0)),
                None,
                grant,
                self.ids[role],
                max_discount=Percentage.of(AUTHORITY[role]),
            )
        self._histories["team"] = history(team)
        return team

    # -- the givens ----------------------------------------------------------------------------

    def _delegated(self) -> Team:
        """The team, where the KAM lets the second KAM approve for her from day 1 to day 90."""
        team: Team = self.fresh("team")
        kam = self.by[Role.KEY_ACCOUNT_MANAGER]
        team.delegate_authority(
            meta(kam, at(1)),
            kam,
            self.delegation_id,
            delegator_id=kam.member_id,
            delegate_id=self.kam2,
            valid_from=at(1),
            valid_until=at(90),
            reason="leave",
        )
        return team

    def _importing(self) -> Team:
        """The team, where the KAM may import history."""
        team: Team = self.fresh("team")
        head = self.by[Role.SENIOR_SALES_DIRECTOR]
        team.grant_history_import(meta(head, at(1)), head, self.ids[Role.KEY_ACCOUNT_MANAGER])
        return team

    def _registered(self) -> ClientAccount:
        kam = self.by[Role.KEY_ACCOUNT_MANAGER]
        return ClientAccount.register(
            meta(kam, at(0)),
            kam,
            self.account_id,
            team_id=self.team_id,
            name="Acme Telecom",
            industry="telecom",
            region="east",
        )

    def _key(self) -> ClientAccount:
        """Designated key, with the scene's KAM accountable (no representative yet)."""
        account: ClientAccount = self.fresh("registered")
        director = self.by[Role.SALES_DIRECTOR]
        account.designate_key(
            meta(director, at(1)), director, tier=Tier.MAJOR, strategies=STRATEGIES
        )
        account.assign_kam(
            meta(director, at(1)), director, self.by[Role.KEY_ACCOUNT_MANAGER], reason="region"
        )
        return account

    def _planned(self) -> ClientAccount:
        account: ClientAccount = self.fresh("key")
        kam = self.by[Role.KEY_ACCOUNT_MANAGER]
        account.agree_plan(
            meta(kam, at(2)),
            kam,
            self.by[Role.SALES_DIRECTOR],
            client_goals="renew the core network",
            execution_plan="quarterly reviews",
        )
        return account

    def _contact(self) -> ClientAccount:
        """A contact on the relationship map since day 2, owned by the KAM, unassessed."""
        account: ClientAccount = self.fresh("key")
        admin = self.by[Role.SENIOR_ADMIN_MANAGER]
        account.add_contact(
            meta(admin, at(2)),
            admin,
            self.by[Role.KEY_ACCOUNT_MANAGER],
            self.contact_id,
            name="Ms Zhang",
            title="CTO",
            influence=ContactInfluence.HIGH,
        )
        return account

    def _invoiced(self) -> ClientAccount:
        """An invoice of 1000 CNY issued on day 2, due on day 5, unpaid."""
        account: ClientAccount = self.fresh("key")
        finance = self.by[Role.FINANCIAL_PLANNER]
        account.issue_invoice(
            meta(finance, at(2)), finance, self.invoice_id, amount=cny(1000), due_at=at(5)
        )
        return account

    def _case_open(self) -> ClientAccount:
        account: ClientAccount = self.fresh("key")
        rep = self.by[Role.KEY_ACCOUNT_REPRESENTATIVE]
        account.open_case(
            meta(rep, at(2)),
            rep,
            self.case_id,
            kind=CaseKind.COMPLAINT,
            severity=Severity.HIGH,
            subject="outage",
        )
        return account

    def _case_acknowledged(self) -> ClientAccount:
        account: ClientAccount = self.fresh("case_open")
        kam = self.by[Role.KEY_ACCOUNT_MANAGER]
        account.acknowledge_case(meta(kam, at(3)), kam, self.case_id)
        return account

    def _project(self) -> Project:
        """Initiated by the account's KAM on day 1, led by the scene's project director."""
        kam = self.by[Role.KEY_ACCOUNT_MANAGER]
        return Project.initiate(
            meta(kam, at(1)),
            kam,
            ProjectId(uuid4()),
            team_id=self.team_id,
            account_id=self.account_id,
            name="Core network",
            currency="CNY",
            project_director=self.by[Role.PROJECT_DIRECTOR],
            account_manager_id=kam.member_id,
        )

    def _assessed(self) -> Project:
        project: Project = self.fresh("project")
        pd = self.by[Role.PROJECT_DIRECTOR]
        project.assess_feasibility(
            meta(pd, at(2)), pd, verdict=FeasibilityVerdict.FEASIBLE, value_positioning="core"
        )
        return project

    def _proposed(self) -> Project:
        project: Project = self.fresh("assessed")
        pd = self.by[Role.PROJECT_DIRECTOR]
        project.submit_proposal(meta(pd, at(3)), pd, amount=cny(1000), summary="the bid")
        return project

    def _contracted(self) -> Project:
        project: Project = self.fresh("proposed")
        rep = self.by[Role.KEY_ACCOUNT_REPRESENTATIVE]
        project.sign_contract(meta(rep, at(4)), rep, value=cny(1000))
        return project

    def _implementing(self) -> Project:
        project: Project = self.fresh("contracted")
        pd = self.by[Role.PROJECT_DIRECTOR]
        project.plan_implementation(
            meta(pd, at(5)), pd, milestones=[("install", at(30))], headcount=3
        )
        return project

    def _priced(self) -> Project:
        """A band of 1000 CNY with a floor of 900 (10 % deep), set by the project director."""
        project: Project = self.fresh("project")
        pd = self.by[Role.PROJECT_DIRECTOR]
        project.set_price_band(meta(pd, at(2)), pd, list_price=cny(1000), floor=cny(900))
        return project

    def _requested(self) -> Project:
        """A 4 % discount requested by the representative, pending."""
        project: Project = self.fresh("priced")
        rep = self.by[Role.KEY_ACCOUNT_REPRESENTATIVE]
        project.request_discount(
            meta(rep, at(3)),
            rep,
            self.request_id,
            percentage=Percentage.of(4),
            justification="multi-year",
        )
        return project

    def _chained(self) -> Project:
        """A 4 % discount requested by the representative under a chain: the project director,
        then the financial planner; step 1 open."""
        project: Project = self.fresh("priced")
        rep = self.by[Role.KEY_ACCOUNT_REPRESENTATIVE]
        project.request_discount(
            meta(rep, at(3)),
            rep,
            self.request_id,
            percentage=Percentage.of(4),
            justification="multi-year",
            chain_rules=CHAIN_RULES,
        )
        return project

    def _quoted(self) -> Project:
        """A vendor's quote recorded by the financial planner."""
        project: Project = self.fresh("project")
        finance = self.by[Role.FINANCIAL_PLANNER]
        project.record_quote(
            meta(finance, at(2)),
            finance,
            self.quote_id,
            vendor="Routers Inc",
            list_price=cny(200),
            discount=Percentage.of(10),
        )
        return project

    def _risky(self) -> Project:
        project: Project = self.fresh("project")
        kam = self.by[Role.KEY_ACCOUNT_MANAGER]
        project.identify_risk(meta(kam, at(2)), kam, self.risk_id, description="late delivery")
        return project

    def _target(self) -> Target:
        """The KAM's target for the quarter, 1000 CNY, set by their sales director on day 1."""
        director = self.by[Role.SALES_DIRECTOR]
        kam = self.by[Role.KEY_ACCOUNT_MANAGER]
        return Target.set(
            meta(director, at(1)),
            director,
            kam,
            TargetId(uuid4()),
            team_id=self.team_id,
            scope=TargetScope.member(kam.member_id),
            period=QUARTER,
            goals=(RevenueGoal(cny(1000)),),
        )

    def _closed(self) -> Target:
        target: Target = self.fresh("target")
        director = self.by[Role.SALES_DIRECTOR]
        target.close_period(meta(director, CLOSED), director)
        return target

    def _evaluated(self) -> Target:
        target: Target = self.fresh("closed")
        director = self.by[Role.SALES_DIRECTOR]
        target.evaluate(
            meta(director, CLOSED),
            director,
            EvaluationStandard.default(),
            actuals=(RevenueActual(cny(600)),),
        )
        return target

    def _opportunity(self) -> Opportunity:
        """1000 CNY in prospecting, opened by the account's KAM on day 1, closing on day 60."""
        kam = self.by[Role.KEY_ACCOUNT_MANAGER]
        return Opportunity.open(
            meta(kam, at(1)),
            kam,
            OpportunityId(uuid4()),
            team_id=self.team_id,
            account_id=self.account_id,
            name="Core renewal",
            amount=cny(1000),
            expected_close=at(60),
            owned_by=kam,
            account_manager_id=kam.member_id,
            account_is_key=True,
        )

    def _pipeline(self) -> PipelineSettings:
        """The team's pipeline settings, the defaults, configured by its sales director."""
        director = self.by[Role.SALES_DIRECTOR]
        return PipelineSettings.configure(
            meta(director, at(1)),
            director,
            team_id=self.team_id,
            probabilities=DEFAULT_PROBABILITIES,
        )


_GIVENS: dict[str, Callable[[Scene], KamAggregate]] = {
    "importing": Scene._importing,
    "delegated": Scene._delegated,
    "registered": Scene._registered,
    "key": Scene._key,
    "planned": Scene._planned,
    "contact": Scene._contact,
    "invoiced": Scene._invoiced,
    "case_open": Scene._case_open,
    "case_acknowledged": Scene._case_acknowledged,
    "project": Scene._project,
    "assessed": Scene._assessed,
    "proposed": Scene._proposed,
    "contracted": Scene._contracted,
    "implementing": Scene._implementing,
    "priced": Scene._priced,
    "requested": Scene._requested,
    "chained": Scene._chained,
    "quoted": Scene._quoted,
    "risky": Scene._risky,
    "target": Scene._target,
    "closed": Scene._closed,
    "evaluated": Scene._evaluated,
    "opportunity": Scene._opportunity,
    "pipeline": Scene._pipeline,
}
