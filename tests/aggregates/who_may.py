"""Who may run each command: one declared table over every command of every aggregate.

Each entry names the roles that may run the command (as the code enforces it and docs/domain.md
describes it), the exception everyone else gets, the event an allowed role records, and, where
the command needs discount authority, how much. Written out role by role rather than imported
from the package, so that a changed rule there fails here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import attrs

from kam_domain.aggregates.base import KamAggregate
from kam_domain.aggregates.client_account import (
    ClientAccount,
    ContactInfluence,
    PaymentInstallment,
    RelationshipStrength,
)
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.opportunity import (
    Opportunity,
    OpportunityStage,
    PipelineSettings,
    StageProbabilities,
)
from kam_domain.aggregates.project import (
    FeasibilityVerdict,
    Project,
    ProjectMilestone,
    ProjectOutcome,
)
from kam_domain.aggregates.target import RevenueActual, RevenueGoal, Signatory, Target, TargetScope
from kam_domain.aggregates.team import (
    DelegationId,
    EvaluationStandard,
    Team,
    TierWeights,
    TrainingKind,
)
from kam_domain.errors import (
    AuthorityExceeded,
    GrantBeyondOwnAuthority,
    InvalidTransition,
    NotTheRequester,
    RoleRequired,
    SelfApproval,
    SupervisorRequired,
)
from kam_domain.values import (
    AccountId,
    AgreementId,
    CaseId,
    CaseKind,
    ContactId,
    DiscountRequestId,
    GrantId,
    InvoiceId,
    MemberId,
    OpportunityId,
    Percentage,
    ProjectId,
    QuoteId,
    RiskId,
    Role,
    Severity,
    TargetId,
    Tier,
)
from tests.aggregates.role_scene import (
    AFTER_CLOSE,
    CHAIN_RULES,
    QUARTER,
    STRATEGIES,
    WHEN,
    Scene,
    cny,
)

Command = Callable[[Scene, Any, Credentials], KamAggregate]

SENIOR = Role.SENIOR_SALES_DIRECTOR
DIRECTOR = Role.SALES_DIRECTOR
KAM = Role.KEY_ACCOUNT_MANAGER
REP = Role.KEY_ACCOUNT_REPRESENTATIVE
PD = Role.PROJECT_DIRECTOR
ADMIN = Role.SENIOR_ADMIN_MANAGER
FINANCE = Role.FINANCIAL_PLANNER
LEGAL = Role.LEGAL_AFFAIRS_SPECIALIST
ASSISTANT = Role.DEPARTMENT_ASSISTANT
SUPPORT = Role.TECHNICAL_SUPPORT
CONSULTANT = Role.CONSULTANT

DIRECTORS = frozenset({SENIOR, DIRECTOR})
ADMIN_STAFF = frozenset({ADMIN, FINANCE, LEGAL, ASSISTANT})
TECHNICAL = frozenset({SUPPORT, CONSULTANT})
APPROVERS = DIRECTORS | {KAM, PD}
ANYONE = frozenset(Role)
#: Those who work with the client: they record its needs, contacts and competitors.
FIELD = DIRECTORS | TECHNICAL | {KAM, REP}

#: The company's own commands: a system actor runs them, with no member's credentials.
COMPANY_COMMANDS = {(Team, "form"), (Team, "set_top_authority")}


@attrs.frozen
class Case:
    """One command (in one situation, ``variant``) and who may run it."""

    cls: type[KamAggregate]
    name: str
    roles: frozenset[Role]
    event: type[Any]
    #: The state of the record the command runs on (None: the command creates the record).
    state: str | None
    command: Command
    variant: str = ""
    #: What the roles not allowed are refused with; ``refusals`` for roles refused otherwise.
    refusal: type[Exception] = RoleRequired
    refusals: Mapping[Role, type[Exception]] = attrs.field(factory=dict)
    #: The discount authority the command needs here: less is refused with ``short``.
    authority: int | None = None
    short: type[Exception] = AuthorityExceeded
    #: Roles docs/domain.md gives this work but the code refuses: the role and why.
    documented: Mapping[Role, str] = attrs.field(factory=dict)

    @property
    def id(self) -> str:
        suffix = f" ({self.variant})" if self.variant else ""
        return f"{self.cls.__name__}.{self.name}{suffix}"

    def refusal_for(self, role: Role) -> type[Exception]:
        return self.refusals.get(role, self.refusal)


CASES: list[Case] = []


def case(
    cls: type[KamAggregate], name: str, roles: frozenset[Role], event: type[Any], **options: Any
) -> Callable[[Command], Command]:
    """Declare who may run ``cls.name``: the decorated function issues it as ``by``."""

    def declare(command: Command) -> Command:
        state = options.pop("state", None)
        CASES.append(Case(cls, name, roles, event, state, command, **options))
        return command

    return declare


def commands_of(cls: type[KamAggregate]) -> Iterator[str]:
    """The public methods of ``cls`` that take command metadata, wherever in its classes (the
    command families it is composed from included) they are defined."""
    names = {name for owner in cls.__mro__ if owner is not object for name in vars(owner)}
    for name in sorted(names):
        member = inspect.getattr_static(cls, name)
        function = member.__func__ if isinstance(member, classmethod) else member
        if name.startswith("_") or not inspect.isfunction(function):
            continue
        if "meta" in inspect.signature(function).parameters:
            yield name


# -- Team --------------------------------------------------------------------------------------


@case(Team, "join", DIRECTORS | {ADMIN}, Team.MemberJoined, state="team")
def _join(s: Scene, team: Team, by: Credentials) -> Team:
    team.join(s.meta(by), by, MemberId(uuid4()), name="New", role=KAM)
    return team


@case(Team, "leave", DIRECTORS, Team.MemberLeft, state="team")
def _leave(s: Scene, team: Team, by: Credentials) -> Team:
    team.leave(s.meta(by), by, s.kam2, reason="moved on")
    return team


@case(Team, "change_role", DIRECTORS, Team.RoleChanged, state="team")
def _change_role(s: Scene, team: Team, by: Credentials) -> Team:
    team.change_role(s.meta(by), by, s.kam2, role=REP, reason="asked to")
    return team


@case(Team, "set_supervisor", DIRECTORS, Team.SupervisorSet, state="team")
def _set_supervisor(s: Scene, team: Team, by: Credentials) -> Team:
    team.set_supervisor(s.meta(by), by, s.kam2, supervisor_id=s.ids[SENIOR])
    return team


@case(
    Team,
    "grant_authority",
    DIRECTORS,
    Team.AuthorityGranted,
    state="team",
    authority=5,
    short=GrantBeyondOwnAuthority,
)
def _grant_authority(s: Scene, team: Team, by: Credentials) -> Team:
    team.grant_authority(s.meta(by), by, GrantId(uuid4()), s.kam2, max_discount=Percentage.of(5))
    return team


@case(Team, "revoke_authority", DIRECTORS, Team.AuthorityRevoked, state="team")
def _revoke_authority(s: Scene, team: Team, by: Credentials) -> Team:
    team.revoke_authority(s.meta(by), by, s.kam_grant, reason="restructured")
    return team


@case(Team, "set_capacity", DIRECTORS, Team.CapacitySet, state="team")
def _set_capacity(s: Scene, team: Team, by: Credentials) -> Team:
    team.set_capacity(s.meta(by), by, s.ids[KAM], capacity=8)
    return team


@case(Team, "set_tier_weights", DIRECTORS, Team.TierWeightsSet, state="team")
def _set_tier_weights(s: Scene, team: Team, by: Credentials) -> Team:
    team.set_tier_weights(s.meta(by), by, TierWeights(strategic=4))
    return team


@case(Team, "record_training", DIRECTORS | ADMIN_STAFF, Team.TrainingRecorded, state="team")
def _record_training(s: Scene, team: Team, by: Credentials) -> Team:
    team.record_training(
        s.meta(by),
        by,
        s.kam2,
        kind=TrainingKind.CROSS_TRAINING,
        skill="core networks",
        covers_member_id=s.ids[KAM],
    )
    return team


@case(Team, "designate_backup", DIRECTORS, Team.BackupDesignated, state="team")
def _designate_backup(s: Scene, team: Team, by: Credentials) -> Team:
    team.designate_backup(s.meta(by), by, s.ids[KAM], backup_id=s.kam2)
    return team


@case(Team, "set_evaluation_standard", DIRECTORS, Team.EvaluationStandardSet, state="team")
def _set_evaluation_standard(s: Scene, team: Team, by: Credentials) -> Team:
    team.set_evaluation_standard(s.meta(by), by, EvaluationStandard.default())
    return team


@case(Team, "grant_history_import", frozenset({SENIOR}), Team.HistoryImportGranted, state="team")
def _grant_history_import(s: Scene, team: Team, by: Credentials) -> Team:
    team.grant_history_import(s.meta(by), by, s.ids[KAM])
    return team


@case(
    Team, "revoke_history_import", frozenset({SENIOR}), Team.HistoryImportRevoked, state="importing"
)
def _revoke_history_import(s: Scene, team: Team, by: Credentials) -> Team:
    team.revoke_history_import(s.meta(by), by, s.ids[KAM], reason="import done")
    return team


@case(Team, "set_approval_chain_rules", DIRECTORS, Team.ApprovalChainRulesSet, state="team")
def _set_approval_chain_rules(s: Scene, team: Team, by: Credentials) -> Team:
    team.set_approval_chain_rules(s.meta(by), by, CHAIN_RULES)
    return team


@case(Team, "delegate_authority", APPROVERS, Team.AuthorityDelegated, state="team")
def _delegate_authority(s: Scene, team: Team, by: Credentials) -> Team:
    delegate = s.kam2 if by.member_id != s.kam2 else s.ids[KAM]
    team.delegate_authority(
        s.meta(by),
        by,
        DelegationId(uuid4()),
        delegator_id=by.member_id,
        delegate_id=delegate,
        valid_from=WHEN,
        valid_until=WHEN + timedelta(days=14),
        reason="travel",
    )
    return team


@case(Team, "end_delegation", DIRECTORS | {KAM}, Team.DelegationEnded, state="delegated")
def _end_delegation(s: Scene, team: Team, by: Credentials) -> Team:
    team.end_delegation(s.meta(by), by, s.delegation_id, reason="back early")
    return team


@case(Team, "set_backdating_window", DIRECTORS, Team.BackdatingWindowSet, state="team")
def _set_backdating_window(s: Scene, team: Team, by: Credentials) -> Team:
    team.set_backdating_window(s.meta(by), by, window=timedelta(days=7))
    return team


@case(Team, "set_time_zone", DIRECTORS, Team.TimeZoneSet, state="team")
def _set_time_zone(s: Scene, team: Team, by: Credentials) -> Team:
    team.set_time_zone(s.meta(by), by, "Asia/Shanghai")
    return team


@case(Team, "set_reporting_currency", DIRECTORS, Team.ReportingCurrencySet, state="team")
def _set_reporting_currency(s: Scene, team: Team, by: Credentials) -> Team:
    team.set_reporting_currency(s.meta(by), by, "CNY")
    return team


@case(
    Team,
    "record_exchange_rate",
    DIRECTORS | {FINANCE},
    Team.ExchangeRateRecorded,
    state="team",
)
def _record_exchange_rate(s: Scene, team: Team, by: Credentials) -> Team:
    team.record_exchange_rate(s.meta(by), by, currency="USD", into="CNY", rate=Decimal("7.1"))
    return team


# -- ClientAccount -----------------------------------------------------------------------------


@case(ClientAccount, "register", DIRECTORS | {KAM, REP, ADMIN}, ClientAccount.Registered)
def _register(s: Scene, _: None, by: Credentials) -> ClientAccount:
    return ClientAccount.register(
        s.meta(by),
        by,
        AccountId(uuid4()),
        team_id=s.team_id,
        name="Beta Mobile",
        industry="telecom",
        region="east",
    )


@case(
    ClientAccount,
    "designate_key",
    DIRECTORS,
    ClientAccount.KeyAccountDesignated,
    state="registered",
)
def _designate_key(s: Scene, account: ClientAccount, by: Credentials) -> ClientAccount:
    account.designate_key(s.meta(by), by, tier=Tier.MAJOR, strategies=STRATEGIES)
    return account


@case(
    ClientAccount, "undesignate_key", DIRECTORS, ClientAccount.KeyAccountUndesignated, state="key"
)
def _undesignate_key(s: Scene, account: ClientAccount, by: Credentials) -> ClientAccount:
    account.undesignate_key(s.meta(by), by, reason="strategy changed")
    return account


@case(ClientAccount, "assign_kam", DIRECTORS, ClientAccount.KamAssigned, state="key")
def _assign_kam(s: Scene, account: ClientAccount, by: Credentials) -> ClientAccount:
    account.assign_kam(s.meta(by), by, s.kam2_by, reason="rebalanced")
    return account


@case(
    ClientAccount,
    "assign_representative",
    DIRECTORS | {KAM},
    ClientAccount.RepresentativeAssigned,
    state="key",
    variant="the account's KAM",
)
def _assign_representative(s: Scene, account: ClientAccount, by: Credentials) -> ClientAccount:
    account.assign_representative(s.meta(by), by, s.by[REP])
    return account


@case(
    ClientAccount,
    "assign_technical_contact",
    DIRECTORS | {KAM},
    ClientAccount.TechnicalContactAssigned,
    state="key",
    variant="the account's KAM",
)
def _assign_technical_contact(s: Scene, account: ClientAccount, by: Credentials) -> ClientAccount:
    account.assign_technical_contact(s.meta(by), by, s.by[SUPPORT])
    return account


@case(
    ClientAccount,
    "agree_plan",
    frozenset({KAM}),
    ClientAccount.PlanAgreed,
    state="key",
    variant="the account's KAM",
)
def _agree_plan(s: Scene, account: ClientAccount, by: Credentials) -> ClientAccount:
    account.agree_plan(
        s.meta(by), by, s.by[DIRECTOR], client_goals="renew", execution_plan="reviews"
    )
    return account


@case(
    ClientAccount,
    "revise_plan",
    frozenset({KAM}),
    ClientAccount.PlanRevised,
    state="planned",
    variant="the account's KAM",
)
def _revise_plan(s: Scene, account: ClientAccount, by: Credentials) -> ClientAccount:
    account.revise_plan(
        s.meta(by), by, s.by[DIRECTOR], client_goals="expand", execution_plan="monthly reviews"
    )
    return account


@case(ClientAccount, "record_need", FIELD, ClientAccount.NeedRecorded, state="key")
def _record_need(s: Scene, account: ClientAccount, by: Credentials) -> ClientAccount:
    account.record_need(s.meta(by), by, uuid4(), description="more bandwidth")
    return account


@case(
    ClientAccount,
    "add_contact",
    FIELD | ADMIN_STAFF,
    ClientAccount.ContactAdded,
    state="key",
)
def _add_contact(s: Scene, account: ClientAccount, by: Credentials) -> ClientAccount:
    account.add_contact(
        s.meta(by),
        by,
        by,
        ContactId(uuid4()),
        name="Ms Zhang",
        title="CTO",
        influence=ContactInfluence.HIGH,
    )
    return account


@case(
    ClientAccount,
    "assess_contact",
    FIELD | ADMIN_STAFF,
    ClientAccount.ContactRelationshipAssessed,
    state="contact",
)
def _assess_contact(s: Scene, account: ClientAccount, by: Credentials) -> ClientAccount:
    account.assess_contact(
        s.meta(by), by, s.contact_id, strength=RelationshipStrength.STRONG, note="met twice"
    )
    return account


@case(
    ClientAccount,
    "record_competitor_intelligence",
    FIELD,
    ClientAccount.CompetitorIntelligenceRecorded,
    state="key",
)
def _record_competitor_intelligence(
    s: Scene, account: ClientAccount, by: Credentials
) -> ClientAccount:
    account.record_competitor_intelligence(s.meta(by), by, competitor="Rival", note="cheaper")
    return account


@case(ClientAccount, "sign_agreement", frozenset({REP}), ClientAccount.AgreementSigned, state="key")
def _sign_agreement(s: Scene, account: ClientAccount, by: Credentials) -> ClientAccount:
    account.sign_agreement(
        s.meta(by),
        by,
        AgreementId(uuid4()),
        number="A-1",
        value=cny(1000),
        schedule=[PaymentInstallment(WHEN + timedelta(days=30), cny(1000))],
    )
    return account


@case(
    ClientAccount,
    "issue_invoice",
    frozenset({REP, FINANCE}),
    ClientAccount.InvoiceIssued,
    state="key",
)
def _issue_invoice(s: Scene, account: ClientAccount, by: Credentials) -> ClientAccount:
    account.issue_invoice(
        s.meta(by), by, InvoiceId(uuid4()), amount=cny(500), due_at=WHEN + timedelta(days=30)
    )
    return account


@case(
    ClientAccount,
    "receive_payment",
    frozenset({REP, FINANCE}),
    ClientAccount.PaymentReceived,
    state="invoiced",
)
def _receive_payment(s: Scene, account: ClientAccount, by: Credentials) -> ClientAccount:
    account.receive_payment(s.meta(by), by, uuid4(), s.invoice_id, amount=cny(400))
    return account


@case(
    ClientAccount,
    "flag_overdue",
    frozenset({REP, KAM, FINANCE}),
    ClientAccount.PaymentOverdue,
    state="invoiced",
)
def _flag_overdue(s: Scene, account: ClientAccount, by: Credentials) -> ClientAccount:
    account.flag_overdue(s.meta(by), by, s.invoice_id)
    return account


@case(
    ClientAccount,
    "open_case",
    DIRECTORS | ADMIN_STAFF | {KAM, REP},
    ClientAccount.CaseOpened,
    state="key",
)
def _open_case(s: Scene, account: ClientAccount, by: Credentials) -> ClientAccount:
    account.open_case(
        s.meta(by),
        by,
        CaseId(uuid4()),
        kind=CaseKind.INQUIRY,
        severity=Severity.LOW,
        subject="invoice question",
    )
    return account


@case(ClientAccount, "acknowledge_case", ANYONE, ClientAccount.CaseAcknowledged, state="case_open")
def _acknowledge_case(s: Scene, account: ClientAccount, by: Credentials) -> ClientAccount:
    account.acknowledge_case(s.meta(by), by, s.case_id)
    return account


@case(
    ClientAccount,
    "escalate_case",
    DIRECTORS | ADMIN_STAFF | {KAM},
    ClientAccount.CaseEscalated,
    state="case_open",
)
def _escalate_case(s: Scene, account: ClientAccount, by: Credentials) -> ClientAccount:
    account.escalate_case(s.meta(by), by, s.by[DIRECTOR], s.case_id, level=1, reason="no answer")
    return account


@case(
    ClientAccount,
    "resolve_case",
    DIRECTORS | TECHNICAL | {KAM, REP},
    ClientAccount.CaseResolved,
    state="case_acknowledged",
)
def _resolve_case(s: Scene, account: ClientAccount, by: Credentials) -> ClientAccount:
    account.resolve_case(s.meta(by), by, s.case_id, resolution="link restored")
    return account


@case(
    ClientAccount,
    "survey_satisfaction",
    ADMIN_STAFF | {KAM, REP},
    ClientAccount.SatisfactionSurveyed,
    state="key",
)
def _survey_satisfaction(s: Scene, account: ClientAccount, by: Credentials) -> ClientAccount:
    account.survey_satisfaction(s.meta(by), by, score=80)
    return account


# -- Project -----------------------------------------------------------------------------------


@case(
    Project,
    "initiate",
    DIRECTORS | {KAM, PD},
    Project.Initiated,
    variant="the account's KAM",
)
def _initiate(s: Scene, _: None, by: Credentials) -> Project:
    return Project.initiate(
        s.meta(by),
        by,
        ProjectId(uuid4()),
        team_id=s.team_id,
        account_id=s.account_id,
        name="Backbone",
        currency="CNY",
        project_director=s.by[PD],
        account_manager_id=s.ids[KAM],
    )


@case(
    Project,
    "change_project_director",
    DIRECTORS,
    Project.ProjectDirectorChanged,
    state="project",
)
def _change_project_director(s: Scene, project: Project, by: Credentials) -> Project:
    project.change_project_director(s.meta(by), by, s.pd2_by, reason="workload")
    return project


@case(
    Project,
    "assess_feasibility",
    frozenset({PD}),
    Project.FeasibilityAssessed,
    state="project",
    variant="the project's director",
)
def _assess_feasibility(s: Scene, project: Project, by: Credentials) -> Project:
    project.assess_feasibility(
        s.meta(by), by, verdict=FeasibilityVerdict.FEASIBLE, value_positioning="core"
    )
    return project


@case(
    Project,
    "assign_presales_support",
    DIRECTORS | {PD},
    Project.PresalesSupportAssigned,
    state="project",
)
def _assign_presales_support(s: Scene, project: Project, by: Credentials) -> Project:
    project.assign_presales_support(s.meta(by), by, s.by[CONSULTANT])
    return project


@case(
    Project,
    "submit_proposal",
    DIRECTORS | ADMIN_STAFF | {KAM, PD},
    Project.ProposalSubmitted,
    state="assessed",
)
def _submit_proposal(s: Scene, project: Project, by: Credentials) -> Project:
    project.submit_proposal(s.meta(by), by, amount=cny(1200), summary="revised bid")
    return project


@case(Project, "sign_contract", DIRECTORS | {REP}, Project.ContractSigned, state="proposed")
def _sign_contract(s: Scene, project: Project, by: Credentials) -> Project:
    project.sign_contract(s.meta(by), by, value=cny(1000))
    return project


@case(Project, "mark_lost", APPROVERS | {REP}, Project.ContractLost, state="proposed")
def _mark_lost(s: Scene, project: Project, by: Credentials) -> Project:
    project.mark_lost(s.meta(by), by, reason="the client chose a rival")
    return project


@case(
    Project,
    "plan_implementation",
    frozenset({PD}),
    Project.ImplementationPlanned,
    state="contracted",
    variant="the project's director",
)
def _plan_implementation(s: Scene, project: Project, by: Credentials) -> Project:
    project.plan_implementation(
        s.meta(by), by, milestones=[("install", WHEN + timedelta(days=40))], headcount=4
    )
    return project


@case(
    Project,
    "reach_milestone",
    TECHNICAL | {PD},
    Project.MilestoneReached,
    state="implementing",
    variant="the project's director",
)
def _reach_milestone(s: Scene, project: Project, by: Credentials) -> Project:
    project.reach_milestone(s.meta(by), by, ProjectMilestone.INSTALLED)
    return project


@case(Project, "close", DIRECTORS | {PD}, Project.Closed, state="project")
def _close(s: Scene, project: Project, by: Credentials) -> Project:
    project.close(s.meta(by), by, outcome=ProjectOutcome.CANCELLED)
    return project


@case(Project, "identify_risk", ANYONE, Project.RiskIdentified, state="project")
def _identify_risk(s: Scene, project: Project, by: Credentials) -> Project:
    project.identify_risk(s.meta(by), by, RiskId(uuid4()), description="permits")
    return project


@case(Project, "close_risk", DIRECTORS | {PD}, Project.RiskClosed, state="risky")
def _close_risk(s: Scene, project: Project, by: Credentials) -> Project:
    project.close_risk(s.meta(by), by, s.risk_id, resolution="delivered")
    return project


@case(
    Project, "set_price_band", DIRECTORS | {PD}, Project.PriceBandSet, state="project", authority=5
)
def _set_price_band(s: Scene, project: Project, by: Credentials) -> Project:
    # A floor 5 % under the list price: within every allowed role's authority.
    project.set_price_band(s.meta(by), by, list_price=cny(1000), floor=cny(950))
    return project


@case(Project, "set_minimum_margin", DIRECTORS, Project.MinimumMarginSet, state="project")
def _set_minimum_margin(s: Scene, project: Project, by: Credentials) -> Project:
    project.set_minimum_margin(
        s.meta(by), by, minimum_margin=Percentage.of(20), reason="thin vendor margins"
    )
    return project


@case(Project, "request_discount", APPROVERS | {REP}, Project.DiscountRequested, state="priced")
def _request_discount(s: Scene, project: Project, by: Credentials) -> Project:
    project.request_discount(
        s.meta(by),
        by,
        DiscountRequestId(uuid4()),
        percentage=Percentage.of(3),
        justification="volume",
    )
    return project


@case(
    Project,
    "approve_discount",
    APPROVERS,
    Project.DiscountApproved,
    state="requested",
    authority=4,
)
def _approve_discount(s: Scene, project: Project, by: Credentials) -> Project:
    project.approve_discount(s.meta(by), by, s.request_id)
    return project


@case(
    Project,
    "escalate_discount",
    APPROVERS - {SENIOR},
    Project.DiscountEscalated,
    state="requested",
    # The senior sales director is the top: there is no higher role to pass a request to.
    refusals={SENIOR: InvalidTransition},
)
def _escalate_discount(s: Scene, project: Project, by: Credentials) -> Project:
    project.escalate_discount(s.meta(by), by, s.request_id, to_role=SENIOR, reason="too deep")
    return project


@case(Project, "reject_discount", APPROVERS, Project.DiscountRejected, state="requested")
def _reject_discount(s: Scene, project: Project, by: Credentials) -> Project:
    project.reject_discount(s.meta(by), by, s.request_id, reason="not justified")
    return project


@case(
    Project,
    "approve_discount_step",
    APPROVERS - {KAM},
    Project.ApprovalStepApproved,
    state="chained",
    authority=4,
)
def _approve_discount_step(s: Scene, project: Project, by: Credentials) -> Project:
    project.approve_discount_step(s.meta(by), by, s.request_id, step=1)
    return project


@case(
    Project,
    "escalate_discount_step",
    frozenset({PD}),
    Project.ApprovalStepEscalated,
    state="chained",
    # A step waiting for a project director goes to a sales director: not passed by one.
    refusals={SENIOR: InvalidTransition, DIRECTOR: InvalidTransition},
)
def _escalate_discount_step(s: Scene, project: Project, by: Credentials) -> Project:
    project.escalate_discount_step(s.meta(by), by, s.request_id, step=1, reason="away")
    return project


@case(
    Project,
    "recall_discount",
    frozenset({REP}),
    Project.DiscountRecalled,
    state="requested",
    refusal=NotTheRequester,
)
def _recall_discount(s: Scene, project: Project, by: Credentials) -> Project:
    project.recall_discount(s.meta(by), by, s.request_id, reason="client withdrew")
    return project


@case(
    Project,
    "record_quote",
    DIRECTORS | TECHNICAL | {KAM, PD, ADMIN, FINANCE},
    Project.QuoteRecorded,
    state="project",
)
def _record_quote(s: Scene, project: Project, by: Credentials) -> Project:
    project.record_quote(
        s.meta(by),
        by,
        QuoteId(uuid4()),
        vendor="Fibre Co",
        list_price=cny(100),
        discount=Percentage.of(5),
    )
    return project


@case(
    Project,
    "confirm_quote",
    DIRECTORS | {PD},
    Project.QuoteConfirmed,
    state="quoted",
)
def _confirm_quote(s: Scene, project: Project, by: Credentials) -> Project:
    project.confirm_quote(s.meta(by), by, s.quote_id)
    return project


@case(
    Project,
    "record_cost",
    frozenset({PD, FINANCE}),
    Project.CostRecorded,
    state="project",
    variant="the project's director",
)
def _record_cost(s: Scene, project: Project, by: Credentials) -> Project:
    project.record_cost(s.meta(by), by, amount=cny(50), category="travel")
    return project


@case(
    Project,
    "record_revenue",
    frozenset({PD, FINANCE}),
    Project.RevenueRecorded,
    state="project",
    variant="the project's director",
)
def _record_revenue(s: Scene, project: Project, by: Credentials) -> Project:
    project.record_revenue(s.meta(by), by, amount=cny(300), category="licences")
    return project


# -- Target ------------------------------------------------------------------------------------


@case(Target, "set", DIRECTORS, Target.Set, variant="a member's target")
def _set_member_target(s: Scene, _: None, by: Credentials) -> Target:
    kam = s.by[KAM]
    return Target.set(
        s.meta(by),
        by,
        kam,
        TargetId(uuid4()),
        team_id=s.team_id,
        scope=TargetScope.member(kam.member_id),
        period=QUARTER,
        goals=(RevenueGoal(cny(800)),),
    )


@case(Target, "set", DIRECTORS, Target.Set, variant="the team's target")
def _set_team_target(s: Scene, _: None, by: Credentials) -> Target:
    return Target.set(
        s.meta(by),
        by,
        None,
        TargetId(uuid4()),
        team_id=s.team_id,
        scope=TargetScope.team(s.team_id),
        period=QUARTER,
        goals=(RevenueGoal(cny(5000)),),
    )


@case(Target, "set", DIRECTORS | {KAM}, Target.Set, variant="an account's target, by its KAM")
def _set_account_target(s: Scene, _: None, by: Credentials) -> Target:
    return Target.set(
        s.meta(by),
        by,
        s.by[KAM],
        TargetId(uuid4()),
        team_id=s.team_id,
        scope=TargetScope.account(s.account_id),
        period=QUARTER,
        goals=(RevenueGoal(cny(300)),),
    )


@case(
    Target,
    "revise",
    DIRECTORS | {KAM},
    Target.Revised,
    state="target",
    variant="before the period closed, the target's KAM",
)
def _revise(s: Scene, target: Target, by: Credentials) -> Target:
    target.revise(s.meta(by), by, s.by[KAM], goals=(RevenueGoal(cny(900)),), reason="market")
    return target


@case(
    Target,
    "revise",
    DIRECTORS,
    Target.Revised,
    state="closed",
    variant="after the period closed, the KAM's supervisor",
    refusal=SupervisorRequired,
)
def _revise_after_close(s: Scene, target: Target, by: Credentials) -> Target:
    target.revise(
        s.meta(by, AFTER_CLOSE), by, s.by[KAM], goals=(RevenueGoal(cny(900)),), reason="audit"
    )
    return target


@case(Target, "close_period", DIRECTORS, Target.PeriodClosed, state="target")
def _close_period(s: Scene, target: Target, by: Credentials) -> Target:
    target.close_period(s.meta(by, AFTER_CLOSE), by)
    return target


@case(Target, "evaluate", DIRECTORS, Target.Evaluated, state="closed")
def _evaluate(s: Scene, target: Target, by: Credentials) -> Target:
    target.evaluate(
        s.meta(by, AFTER_CLOSE),
        by,
        EvaluationStandard.default(),
        actuals=(RevenueActual(cny(700)),),
    )
    return target


@case(
    Target,
    "sign_off",
    frozenset({KAM}),
    Target.SignedOff,
    state="evaluated",
    variant="as the target's KAM",
)
def _sign_off_as_kam(s: Scene, target: Target, by: Credentials) -> Target:
    target.sign_off(
        s.meta(by, AFTER_CLOSE), by, s.by[KAM], signatory=Signatory.KAM, comments="agreed"
    )
    return target


@case(
    Target,
    "sign_off",
    DIRECTORS,
    Target.SignedOff,
    state="evaluated",
    variant="as the KAM's supervisor",
    refusal=SupervisorRequired,
    # The KAM does not sign their own evaluation as its supervisor too.
    refusals={KAM: SelfApproval},
)
def _sign_off_as_supervisor(s: Scene, target: Target, by: Credentials) -> Target:
    target.sign_off(
        s.meta(by, AFTER_CLOSE),
        by,
        s.by[KAM],
        signatory=Signatory.SUPERVISOR,
        comments="confirmed",
    )
    return target


@case(
    Target,
    "adjust_action_plan",
    DIRECTORS | {KAM},
    Target.ActionPlanAdjusted,
    state="evaluated",
    variant="the target's KAM",
)
def _adjust_action_plan(s: Scene, target: Target, by: Credentials) -> Target:
    target.adjust_action_plan(s.meta(by, AFTER_CLOSE), by, s.by[KAM], plan="two more visits")
    return target


# -- Opportunity and the pipeline's settings -------------------------------------------------------

#: Who works a key account's pipeline: its accountable KAM (the scene's KAM) and the directors.
SELLERS = DIRECTORS | {KAM}


@case(Opportunity, "open", SELLERS, Opportunity.Opened, variant="the account's KAM")
def _open_opportunity(s: Scene, _: None, by: Credentials) -> Opportunity:
    return Opportunity.open(
        s.meta(by),
        by,
        OpportunityId(uuid4()),
        team_id=s.team_id,
        account_id=s.account_id,
        name="Edge computing",
        amount=cny(500),
        expected_close=WHEN + timedelta(days=30),
        owned_by=s.by[KAM],
        account_manager_id=s.ids[KAM],
        account_is_key=True,
    )


@case(Opportunity, "move_to_stage", SELLERS, Opportunity.StageChanged, state="opportunity")
def _move_to_stage(s: Scene, opportunity: Opportunity, by: Credentials) -> Opportunity:
    opportunity.move_to_stage(
        s.meta(by), by, stage=OpportunityStage.PROPOSAL, account_manager_id=s.ids[KAM]
    )
    return opportunity


@case(Opportunity, "revise", SELLERS, Opportunity.Revised, state="opportunity")
def _revise_opportunity(s: Scene, opportunity: Opportunity, by: Credentials) -> Opportunity:
    opportunity.revise(
        s.meta(by), by, account_manager_id=s.ids[KAM], reason="scope", amount=cny(1200)
    )
    return opportunity


@case(Opportunity, "reassign", SELLERS, Opportunity.OwnerReassigned, state="opportunity")
def _reassign_opportunity(s: Scene, opportunity: Opportunity, by: Credentials) -> Opportunity:
    opportunity.reassign(
        s.meta(by), by, s.by[REP], account_manager_id=s.ids[KAM], reason="day-to-day contact"
    )
    return opportunity


@case(Opportunity, "win", SELLERS, Opportunity.Won, state="opportunity")
def _win_opportunity(s: Scene, opportunity: Opportunity, by: Credentials) -> Opportunity:
    opportunity.win(
        s.meta(by),
        by,
        account_manager_id=s.ids[KAM],
        project_id=ProjectId(uuid4()),
        project_account_id=s.account_id,
    )
    return opportunity


@case(Opportunity, "lose", SELLERS, Opportunity.Lost, state="opportunity")
def _lose_opportunity(s: Scene, opportunity: Opportunity, by: Credentials) -> Opportunity:
    opportunity.lose(s.meta(by), by, account_manager_id=s.ids[KAM], reason="price")
    return opportunity


@case(PipelineSettings, "configure", DIRECTORS, PipelineSettings.Configured)
def _configure_pipeline(s: Scene, _: None, by: Credentials) -> PipelineSettings:
    return PipelineSettings.configure(
        s.meta(by), by, team_id=s.team_id, probabilities=StageProbabilities.of(proposal=40)
    )


@case(PipelineSettings, "change", DIRECTORS, PipelineSettings.Changed, state="pipeline")
def _change_pipeline(s: Scene, settings: PipelineSettings, by: Credentials) -> PipelineSettings:
    settings.change(s.meta(by), by, probabilities=StageProbabilities.of(negotiation=90))
    return settings
