"""Project: lifecycle from 立项 to closing, the price band, discount approvals within authority,
procurement, risks, costs and revenue, each command given-when-then."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.project import (
    DEFAULT_MINIMUM_MARGIN,
    DiscountOutcome,
    FeasibilityVerdict,
    PlannedMilestone,
    Project,
    ProjectMilestone,
    ProjectOutcome,
    ProjectStatus,
)
from kam_domain.errors import (
    AlreadyDecided,
    AlreadyExists,
    AuthorityExceeded,
    CurrencyMismatch,
    DiscountRequestNotFound,
    InvalidTransition,
    MarginBelowMinimum,
    MemberInactive,
    NotAuthorised,
    PriceBelowFloor,
    QuoteNotFound,
    RiskNotFound,
    RoleRequired,
    SelfApproval,
    TimestampOutOfOrder,
    ValidationError,
)
from kam_domain.values import (
    AccountId,
    Actor,
    DiscountRequestId,
    Money,
    Percentage,
    ProjectId,
    QuoteId,
    RiskId,
    Role,
    Severity,
    TeamId,
)
from tests.support import (
    T0,
    at,
    creds,
    given,
    history,
    meta,
    recorded,
    then,
    unchanged,
)

ACCOUNT = AccountId(uuid4())
POLICY = Actor.policy("price_approval", 1)


def cny(amount: int | str) -> Money:
    return Money.of(amount, "CNY")


def pct(value: int | str) -> Percentage:
    return Percentage.of(value)


@dataclass(frozen=True)
class Cast:
    """One team's people as their Team would credential them (authorities as in tests/conftest)."""

    team_id: TeamId
    senior: Credentials
    director: Credentials
    kam: Credentials
    kam2: Credentials
    rep: Credentials
    pd: Credentials
    pd2: Credentials
    finance: Credentials
    admin: Credentials
    support: Credentials
    consultant: Credentials


def cast() -> Cast:
    team_id = TeamId(uuid4())

    def member(role: Role, authority: int | None = None) -> Credentials:
        return creds(role, team_id=team_id, authority=authority)

    return Cast(
        team_id=team_id,
        senior=member(Role.SENIOR_SALES_DIRECTOR, 30),
        director=member(Role.SALES_DIRECTOR, 20),
        kam=member(Role.KEY_ACCOUNT_MANAGER, 5),
        kam2=member(Role.KEY_ACCOUNT_MANAGER, 5),
        rep=member(Role.KEY_ACCOUNT_REPRESENTATIVE),
        pd=member(Role.PROJECT_DIRECTOR, 10),
        pd2=member(Role.PROJECT_DIRECTOR, 10),
        finance=member(Role.FINANCIAL_PLANNER),
        admin=member(Role.SENIOR_ADMIN_MANAGER),
        support=member(Role.TECHNICAL_SUPPORT),
        consultant=member(Role.CONSULTANT),
    )


def outsider(role: Role, authority: int | None = None) -> Credentials:
    """Someone of another team."""
    return creds(role, authority=authority)


def left(member: Credentials) -> Credentials:
    """The same member after they left the team."""
    return Credentials(
        member.member_id,
        member.team_id,
        member.name,
        member.role,
        False,
        member.supervisor_id,
        member.at,
    )


# -- givens ------------------------------------------------------------------------------------


def initiated(c: Cast, **changes: Any) -> Project:
    kwargs: dict[str, Any] = {
        "team_id": c.team_id,
        "account_id": ACCOUNT,
        "name": "Core network upgrade",
        "currency": "CNY",
        "project_director": c.pd,
        "account_manager_id": c.kam.member_id,
    }
    kwargs.update(changes)
    project = Project.initiate(meta(c.kam), c.kam, ProjectId(uuid4()), **kwargs)
    history(project)
    return project


def initiated_by(c: Cast, by: Credentials, **changes: Any) -> Project:
    kwargs: dict[str, Any] = {
        "team_id": c.team_id,
        "account_id": ACCOUNT,
        "name": "Core",
        "currency": "CNY",
        "project_director": c.pd,
        "account_manager_id": c.kam.member_id,
    }
    kwargs.update(changes)
    return Project.initiate(meta(by), by, ProjectId(uuid4()), **kwargs)


def assessed(c: Cast, verdict: FeasibilityVerdict = FeasibilityVerdict.FEASIBLE) -> Project:
    project = initiated(c)
    project.assess_feasibility(
        meta(c.pd), c.pd, verdict=verdict, value_positioning="lowest latency", risks=["supply"]
    )
    history(project)
    return project


def priced(
    c: Cast,
    project: Project | None = None,
    *,
    list_price: int = 1000,
    floor: int = 900,
    by: Credentials | None = None,
) -> Project:
    """A band of 1000 / 900 set by the project director (within their 10 %), or as given."""
    project = project or assessed(c)
    setter = by or c.pd
    project.set_price_band(meta(setter), setter, list_price=cny(list_price), floor=cny(floor))
    history(project)
    return project


def requested(
    project: Project, by: Credentials, percentage: int | str, when: datetime = T0
) -> DiscountRequestId:
    request_id = DiscountRequestId(uuid4())
    project.request_discount(
        meta(by, when), by, request_id, percentage=pct(percentage), justification="competitor bid"
    )
    history(project)
    return request_id


def proposed(c: Cast) -> Project:
    project = priced(c)
    project.submit_proposal(meta(c.kam), c.kam, amount=cny(950), summary="phase one")
    history(project)
    return project


def contracted(c: Cast) -> Project:
    project = proposed(c)
    project.sign_contract(meta(c.rep), c.rep, value=cny(950))
    history(project)
    return project


PLAN = (("install", at(30)), ("trial run", at(45)), ("acceptance", at(60)))


def implementing(c: Cast) -> Project:
    project = contracted(c)
    project.plan_implementation(meta(c.pd), c.pd, milestones=PLAN, headcount=4)
    history(project)
    return project


def recorded_quote(
    project: Project, by: Credentials, list_price: int = 1000, discount: int = 20
) -> QuoteId:
    quote_id = QuoteId(uuid4())
    project.record_quote(
        meta(by),
        by,
        quote_id,
        vendor="Acme Optics",
        list_price=cny(list_price),
        discount=pct(discount),
    )
    history(project)
    return quote_id


# -- initiation (立项) ---------------------------------------------------------------------------


def test_kam_initiates_a_project_led_by_a_project_director() -> None:
    """Given a KAM and a project director, when the KAM initiates, then Initiated records both."""
    c = cast()
    project_id = ProjectId(uuid4())

    project = Project.initiate(
        meta(c.kam),
        c.kam,
        project_id,
        team_id=c.team_id,
        account_id=ACCOUNT,
        name="  Core network upgrade ",
        currency="CNY",
        project_director=c.pd,
        account_manager_id=c.kam.member_id,
    )

    assert then(project) == [Project.Initiated]
    assert project.id == project_id
    assert (project.team_id, project.account_id) == (c.team_id, ACCOUNT)
    assert project.name == "Core network upgrade"
    assert project.project_director_id == c.pd.member_id
    assert project.minimum_margin == DEFAULT_MINIMUM_MARGIN == pct(15)
    assert project.status is ProjectStatus.INITIATED


def test_a_kam_of_another_team_cannot_initiate() -> None:
    """Credentials from another team are refused for the team's account."""
    c = cast()

    with pytest.raises(NotAuthorised, match="actor"):
        initiated_by(c, outsider(Role.KEY_ACCOUNT_MANAGER))


def test_a_kam_who_left_cannot_initiate() -> None:
    """A member who has left the team cannot act."""
    c = cast()

    with pytest.raises(MemberInactive, match="actor"):
        initiated_by(c, left(c.kam))


def test_a_kam_initiates_only_for_an_account_they_are_accountable_for() -> None:
    """When the account's accountable KAM is known, another KAM is refused; a director is not."""
    c = cast()

    with pytest.raises(NotAuthorised, match="accountable"):
        initiated_by(c, c.kam2, account_manager_id=c.kam.member_id)

    assert initiated_by(c, c.kam, account_manager_id=c.kam.member_id).pending_events
    assert initiated_by(c, c.director, account_manager_id=c.kam.member_id).pending_events


def test_a_member_cannot_initiate_with_someone_elses_credentials() -> None:
    """The acting member and the credentials offered must be the same person."""
    c = cast()

    with pytest.raises(NotAuthorised, match="actor"):
        Project.initiate(
            meta(c.kam2),
            c.kam,
            ProjectId(uuid4()),
            team_id=c.team_id,
            account_id=ACCOUNT,
            name="Core",
            currency="CNY",
            project_director=c.pd,
            account_manager_id=c.kam.member_id,
        )


@pytest.mark.parametrize(
    ("director", "error"),
    [
        ("kam2", RoleRequired),
        ("other_team", NotAuthorised),
        ("left", MemberInactive),
    ],
)
def test_the_project_director_is_an_active_project_director_of_the_team(
    director: str, error: type[Exception]
) -> None:
    """A KAM, someone of another team, or a project director who left cannot lead the project."""
    c = cast()
    candidates = {
        "kam2": c.kam2,
        "other_team": outsider(Role.PROJECT_DIRECTOR, 10),
        "left": left(c.pd),
    }

    with pytest.raises(error, match="project_director_id"):
        initiated_by(c, c.kam, project_director=candidates[director])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": 7}, "name"),
        ({"currency": "XXY"}, "currency"),
        ({"currency": "cny"}, "currency"),
        ({"currency": None}, "currency"),
        ({"account_id": "acme"}, "account_id"),
        ({"team_id": None}, "team_id"),
    ],
)
def test_initiation_refuses_bad_input(changes: dict[str, Any], field: str) -> None:
    """Empty names, unknown currencies and ids that are not UUIDs are refused, naming the field."""
    c = cast()

    with pytest.raises(ValidationError, match=field):
        initiated_by(c, c.kam, **changes)


# -- project director --------------------------------------------------------------------------


def test_director_hands_the_project_to_another_project_director() -> None:
    """Given a project, when a director changes its project director, then the new one leads."""
    c = cast()
    project = initiated(c)

    project.change_project_director(meta(c.director), c.director, c.pd2, reason="workload")

    assert then(project) == [Project.ProjectDirectorChanged]
    assert project.project_director_id == c.pd2.member_id
    with unchanged(project), pytest.raises(RoleRequired, match="actor"):
        project.assess_feasibility(
            meta(c.pd), c.pd, verdict=FeasibilityVerdict.FEASIBLE, value_positioning="v"
        )


def test_changing_to_the_same_project_director_is_refused() -> None:
    """Handing the project to the director who already leads it is not a change."""
    c = cast()
    project = initiated(c)

    with unchanged(project), pytest.raises(InvalidTransition, match="project_director_id"):
        project.change_project_director(meta(c.senior), c.senior, c.pd, reason="again")


# -- feasibility -------------------------------------------------------------------------------


def test_project_director_assesses_feasibility() -> None:
    """When the project director assesses, then verdict, positioning and risks are recorded."""
    c = cast()
    project = initiated(c)

    project.assess_feasibility(
        meta(c.pd, at(1)),
        c.pd,
        verdict=FeasibilityVerdict.FEASIBLE_WITH_CONDITIONS,
        value_positioning=" lowest latency in the region ",
        risks=["vendor lead time", "site access"],
    )

    assert then(project) == [Project.FeasibilityAssessed]
    assert project.status is ProjectStatus.ASSESSED
    assessment = project.feasibility
    assert assessment is not None
    assert assessment.verdict is FeasibilityVerdict.FEASIBLE_WITH_CONDITIONS
    assert assessment.value_positioning == "lowest latency in the region"
    assert assessment.risks == ("vendor lead time", "site access")
    assert (assessment.assessed_at, assessment.assessed_by) == (at(1), c.pd.member_id)


def test_reassessing_replaces_the_verdict() -> None:
    """Given an assessment, when the project director reassesses, then the latest one counts."""
    c = cast()
    project = assessed(c)

    project.assess_feasibility(
        meta(c.pd), c.pd, verdict=FeasibilityVerdict.NOT_FEASIBLE, value_positioning="none left"
    )

    assert project.feasibility is not None
    assert project.feasibility.verdict is FeasibilityVerdict.NOT_FEASIBLE
    assert project.feasibility.risks == ()


def test_only_the_projects_own_director_assesses_feasibility() -> None:
    """Another project director cannot assess; nothing is recorded."""
    c = cast()
    project = initiated(c)
    by = c.pd2

    with unchanged(project), pytest.raises(RoleRequired, match="actor"):
        project.assess_feasibility(
            meta(by), by, verdict=FeasibilityVerdict.FEASIBLE, value_positioning="v"
        )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"verdict": "feasible"}, "verdict"),
        ({"value_positioning": ""}, "value_positioning"),
        ({"risks": ["ok", " "]}, "risks"),
        ({"risks": "one risk"}, "risks"),
    ],
)
def test_feasibility_refuses_bad_input(changes: dict[str, Any], field: str) -> None:
    """A verdict that is not a FeasibilityVerdict, empty texts or a bare string are refused."""
    c = cast()
    project = initiated(c)
    kwargs: dict[str, Any] = {
        "verdict": FeasibilityVerdict.FEASIBLE,
        "value_positioning": "v",
        "risks": [],
    }
    kwargs.update(changes)

    with unchanged(project), pytest.raises(ValidationError, match=field):
        project.assess_feasibility(meta(c.pd), c.pd, **kwargs)


# -- presales ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "by"), [("support", "pd"), ("consultant", "director")])
def test_technical_staff_are_assigned_to_presales(who: str, by: str) -> None:
    """The project director or a sales director brings in support engineers and consultants."""
    c = cast()
    project = initiated(c)
    member, actor = getattr(c, who), getattr(c, by)

    project.assign_presales_support(meta(actor), actor, member)

    events = recorded(project)
    assert [type(e) for e in events] == [Project.PresalesSupportAssigned]
    assert events[0].role is member.role
    assert project.presales_support == [member.member_id]


def test_assigning_the_same_engineer_twice_is_refused() -> None:
    """An engineer already supporting the project cannot be assigned again."""
    c = cast()
    project = initiated(c)
    project.assign_presales_support(meta(c.pd), c.pd, c.support)
    history(project)

    with unchanged(project), pytest.raises(AlreadyExists, match="member_id"):
        project.assign_presales_support(meta(c.pd), c.pd, c.support)


@pytest.mark.parametrize(
    ("member", "error"),
    [
        ("kam2", RoleRequired),
        ("other_team", NotAuthorised),
        ("left", MemberInactive),
    ],
)
def test_presales_support_is_active_technical_staff_of_the_team(
    member: str, error: type[Exception]
) -> None:
    """A KAM, an engineer of another team or one who left cannot be assigned."""
    c = cast()
    project = initiated(c)
    candidates = {
        "kam2": c.kam2,
        "other_team": outsider(Role.TECHNICAL_SUPPORT),
        "left": left(c.support),
    }

    with unchanged(project), pytest.raises(error, match="member_id"):
        project.assign_presales_support(meta(c.pd), c.pd, candidates[member])


def test_presales_support_ends_with_the_contract() -> None:
    """Once the contract is signed, presales assignments are refused."""
    c = cast()
    project = contracted(c)

    with unchanged(project), pytest.raises(InvalidTransition, match="presales"):
        project.assign_presales_support(meta(c.pd), c.pd, c.support)


# -- proposal ----------------------------------------------------------------------------------


def test_kam_submits_proposals_in_revisions() -> None:
    """Given a feasible project, when two proposals are submitted, then they are revisions 1, 2."""
    c = cast()
    project = assessed(c)

    project.submit_proposal(meta(c.kam), c.kam, amount=cny(1000), summary="phase one")
    project.submit_proposal(meta(c.pd), c.pd, amount=cny(960), summary="phase one, revised")

    assert then(project) == [Project.ProposalSubmitted, Project.ProposalSubmitted]
    assert [p.revision for p in project.proposals] == [1, 2]
    assert project.latest_proposal is not None
    assert project.latest_proposal.amount == cny(960)
    assert project.status is ProjectStatus.PROPOSED


def test_a_proposal_needs_a_feasibility_assessment() -> None:
    """Before feasibility is assessed, a proposal is refused."""
    c = cast()
    project = initiated(c)

    with unchanged(project), pytest.raises(InvalidTransition, match="feasibility"):
        project.submit_proposal(meta(c.kam), c.kam, amount=cny(1000), summary="s")


def test_a_project_assessed_not_feasible_takes_no_proposal() -> None:
    """When the latest verdict is "not feasible", a proposal is refused."""
    c = cast()
    project = assessed(c, FeasibilityVerdict.NOT_FEASIBLE)

    with unchanged(project), pytest.raises(InvalidTransition, match="not feasible"):
        project.submit_proposal(meta(c.kam), c.kam, amount=cny(1000), summary="s")


def test_admin_staff_submit_proposals() -> None:
    """The seed gives admin staff the proposals; the senior admin manager may submit one."""
    c = cast()
    project = assessed(c)

    project.submit_proposal(meta(c.admin), c.admin, amount=cny(1000), summary="tender")

    assert then(project) == [Project.ProposalSubmitted]
    assert project.latest_proposal is not None
    assert (project.latest_proposal.submitted_by, project.latest_proposal.summary) == (
        c.admin.member_id,
        "tender",
    )
    assert project.status is ProjectStatus.PROPOSED


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        (Decimal(1000), ValidationError),
        (1000.0, ValidationError),
        (Money.of(-1, "CNY"), ValidationError),
        (Money.zero("CNY"), ValidationError),
        (Money.of(1000, "USD"), CurrencyMismatch),
    ],
)
def test_a_proposal_amount_is_positive_money_in_the_projects_currency(
    amount: object, error: type[Exception]
) -> None:
    """Bare numbers, floats, negative or zero money and other currencies are refused."""
    c = cast()
    project = assessed(c)

    with unchanged(project), pytest.raises(error, match="amount"):
        project.submit_proposal(meta(c.kam), c.kam, amount=amount, summary="s")  # type: ignore[arg-type]


# -- contract ----------------------------------------------------------------------------------


def test_a_representative_signs_the_contract() -> None:
    """Given a proposal, when a representative signs, then ContractSigned and the project is
    contracted with pricing closed."""
    c = cast()
    project = proposed(c)
    by = c.rep

    project.sign_contract(meta(by, at(5)), by, value=cny(950))

    assert then(project) == [Project.ContractSigned]
    assert project.contract is not None
    assert (project.contract.value, project.contract.signed_by) == (cny(950), by.member_id)
    assert project.contract.signed_at == at(5)
    assert project.status is ProjectStatus.CONTRACTED
    assert not project.pricing_open


def test_a_contract_follows_a_proposal() -> None:
    """Without a submitted proposal there is nothing to sign."""
    c = cast()
    project = assessed(c)

    with unchanged(project), pytest.raises(InvalidTransition, match="contract"):
        project.sign_contract(meta(c.rep), c.rep, value=cny(950))


def test_a_contract_is_signed_once() -> None:
    """A second signature on the same project is refused."""
    c = cast()
    project = contracted(c)

    with unchanged(project), pytest.raises(InvalidTransition, match="contract"):
        project.sign_contract(meta(c.rep), c.rep, value=cny(950))


def test_a_contract_value_below_the_floor_is_refused() -> None:
    """The price band's floor holds for the contract too, whoever signs."""
    c = cast()
    project = proposed(c)

    with unchanged(project), pytest.raises(PriceBelowFloor, match="value"):
        project.sign_contract(meta(c.senior), c.senior, value=cny(899))


def test_a_contract_is_lost_before_signing() -> None:
    """When the KAM records the contract lost, the project is lost and takes no proposal."""
    c = cast()
    project = proposed(c)

    project.mark_lost(meta(c.kam), c.kam, reason="competitor undercut us")

    assert then(project) == [Project.ContractLost]
    assert project.status is ProjectStatus.LOST
    assert project.lost_reason == "competitor undercut us"
    with unchanged(project), pytest.raises(InvalidTransition):
        project.submit_proposal(meta(c.kam), c.kam, amount=cny(900), summary="s")


def test_a_signed_contract_cannot_be_lost() -> None:
    """After signing, "lost" is refused (close the project as cancelled instead)."""
    c = cast()
    project = contracted(c)

    with unchanged(project), pytest.raises(InvalidTransition, match="contract"):
        project.mark_lost(meta(c.kam), c.kam, reason="r")


@pytest.mark.parametrize(
    ("who", "reason", "error"), [("support", "r", RoleRequired), ("kam", " ", ValidationError)]
)
def test_marking_lost_needs_a_sales_role_and_a_reason(
    who: str, reason: str, error: type[Exception]
) -> None:
    """A support engineer cannot record the loss; an empty reason is refused."""
    c = cast()
    project = proposed(c)
    by = getattr(c, who)

    with unchanged(project), pytest.raises(error):
        project.mark_lost(meta(by), by, reason=reason)


# -- implementation ----------------------------------------------------------------------------


def test_project_director_plans_implementation_after_signing() -> None:
    """Given a contract, when the project director plans, then milestones and headcount count."""
    c = cast()
    project = contracted(c)

    project.plan_implementation(meta(c.pd, at(6)), c.pd, milestones=PLAN, headcount=4)

    assert then(project) == [Project.ImplementationPlanned]
    assert project.status is ProjectStatus.IMPLEMENTING
    assert project.plan is not None
    assert project.plan.milestones == tuple(PlannedMilestone(name, due) for name, due in PLAN)
    assert (project.plan.headcount, project.plan.planned_by) == (4, c.pd.member_id)


def test_replanning_replaces_the_plan() -> None:
    """A later plan supersedes the earlier one."""
    c = cast()
    project = implementing(c)

    project.plan_implementation(
        meta(c.pd), c.pd, milestones=[PlannedMilestone("install", at(40))], headcount=6
    )

    assert project.plan is not None
    assert [m.name for m in project.plan.milestones] == ["install"]
    assert project.plan.headcount == 6


def test_implementation_is_planned_only_after_signing() -> None:
    """Before the contract is signed, planning is refused."""
    c = cast()
    project = proposed(c)

    with unchanged(project), pytest.raises(InvalidTransition, match="plan"):
        project.plan_implementation(meta(c.pd), c.pd, milestones=PLAN, headcount=4)


@pytest.mark.parametrize(
    ("milestones", "headcount", "field"),
    [
        (PLAN, 0, "headcount"),
        (PLAN, True, "headcount"),
        (PLAN, "4", "headcount"),
        ((), 4, "milestones"),
        ((("install", datetime(2026, 2, 1)),), 4, "milestones"),
        ((("", at(30)),), 4, "milestones"),
        ((("install", at(30)), ("Install", at(31))), 4, "milestones"),
        (("install",), 4, "milestones"),
        ("install", 4, "milestones"),
    ],
)
def test_a_plan_needs_named_dated_milestones_and_a_headcount(
    milestones: Any, headcount: Any, field: str
) -> None:
    """Headcount is a whole number above 0; milestones are distinct names with aware dates."""
    c = cast()
    project = contracted(c)

    with unchanged(project), pytest.raises(ValidationError, match=field):
        project.plan_implementation(meta(c.pd), c.pd, milestones=milestones, headcount=headcount)


def test_milestones_are_reached_in_order() -> None:
    """Given a plan, the project director and technical staff record each milestone in turn."""
    c = cast()
    project = implementing(c)

    project.reach_milestone(meta(c.support, at(30)), c.support, ProjectMilestone.INSTALLED)
    project.reach_milestone(meta(c.consultant, at(45)), c.consultant, ProjectMilestone.TRIAL_RUN)
    project.reach_milestone(meta(c.pd, at(60)), c.pd, ProjectMilestone.ACCEPTED)

    assert then(project) == [Project.MilestoneReached] * 3
    assert [m.milestone for m in project.milestones] == [
        ProjectMilestone.INSTALLED,
        ProjectMilestone.TRIAL_RUN,
        ProjectMilestone.ACCEPTED,
    ]
    assert project.milestones[1].reached_by == c.consultant.member_id
    assert project.next_milestone is ProjectMilestone.MAINTENANCE


@pytest.mark.parametrize(
    ("done", "milestone", "match"),
    [
        (0, ProjectMilestone.TRIAL_RUN, "installed comes before trial_run"),
        (1, ProjectMilestone.INSTALLED, "already reached"),
        (4, ProjectMilestone.MAINTENANCE, "already reached"),
    ],
)
def test_milestones_are_neither_skipped_nor_repeated(
    done: int, milestone: ProjectMilestone, match: str
) -> None:
    """Skipping ahead or reaching a milestone twice is refused."""
    c = cast()
    project = implementing(c)
    for step in list(ProjectMilestone)[:done]:
        project.reach_milestone(meta(c.pd), c.pd, step)
    history(project)

    with unchanged(project), pytest.raises(InvalidTransition, match=match):
        project.reach_milestone(meta(c.pd), c.pd, milestone)


def test_milestones_need_a_plan() -> None:
    """Before implementation is planned, no milestone is reached."""
    c = cast()
    project = contracted(c)

    with unchanged(project), pytest.raises(InvalidTransition, match="planned"):
        project.reach_milestone(meta(c.pd), c.pd, ProjectMilestone.INSTALLED)


@pytest.mark.parametrize(
    ("who", "milestone", "error"),
    [
        ("rep", ProjectMilestone.INSTALLED, RoleRequired),
        ("pd2", ProjectMilestone.INSTALLED, RoleRequired),
        ("pd", "installed", ValidationError),
    ],
)
def test_milestones_come_from_the_project_director_or_technical_staff(
    who: str, milestone: Any, error: type[Exception]
) -> None:
    """A representative or another project director cannot record one; a string is no milestone."""
    c = cast()
    project = implementing(c)
    by = getattr(c, who)

    with unchanged(project), pytest.raises(error):
        project.reach_milestone(meta(by), by, milestone)


# -- risks -------------------------------------------------------------------------------------


def test_any_member_identifies_a_risk_and_the_project_director_closes_it() -> None:
    """A support engineer records a risk; the project director closes it with a resolution."""
    c = cast()
    project = initiated(c)
    risk_id = RiskId(uuid4())

    project.identify_risk(
        meta(c.support), c.support, risk_id, description="fibre permits", severity=Severity.HIGH
    )
    assert [r.risk_id for r in project.open_risks()] == [risk_id]
    project.close_risk(meta(c.pd, at(3)), c.pd, risk_id, resolution="permits granted")

    assert then(project) == [Project.RiskIdentified, Project.RiskClosed]
    assert project.open_risks() == []
    risk = project.risks[risk_id]
    assert (risk.severity, risk.closed_at, risk.resolution) == (
        Severity.HIGH,
        at(3),
        "permits granted",
    )


def test_a_risk_id_is_identified_once() -> None:
    """The same risk id cannot be recorded twice."""
    c = cast()
    project = initiated(c)
    risk_id = RiskId(uuid4())
    project.identify_risk(meta(c.kam), c.kam, risk_id, description="d")
    history(project)

    with unchanged(project), pytest.raises(AlreadyExists, match="risk_id"):
        project.identify_risk(meta(c.kam), c.kam, risk_id, description="d")


@pytest.mark.parametrize(
    ("changes", "error", "field"),
    [
        ({"description": ""}, ValidationError, "description"),
        ({"severity": "high"}, ValidationError, "severity"),
        ({"risk_id": "r1"}, ValidationError, "risk_id"),
    ],
)
def test_identifying_a_risk_refuses_bad_input(
    changes: dict[str, Any], error: type[Exception], field: str
) -> None:
    """An empty description, a severity that is not a Severity or a non-UUID id is refused."""
    c = cast()
    project = initiated(c)
    kwargs: dict[str, Any] = {"risk_id": RiskId(uuid4()), "description": "d"}
    kwargs.update(changes)
    risk_id = kwargs.pop("risk_id")

    with unchanged(project), pytest.raises(error, match=field):
        project.identify_risk(meta(c.kam), c.kam, risk_id, **kwargs)


def test_closing_a_risk_needs_a_known_open_risk_and_the_project_director() -> None:
    """Unknown risks, risks already closed and closers other than the leads are refused."""
    c = cast()
    project = initiated(c)
    risk_id = RiskId(uuid4())
    project.identify_risk(meta(c.kam), c.kam, risk_id, description="d")
    history(project)

    with unchanged(project), pytest.raises(RiskNotFound, match="risk_id"):
        project.close_risk(meta(c.pd), c.pd, RiskId(uuid4()), resolution="r")
    with unchanged(project), pytest.raises(RoleRequired, match="actor"):
        project.close_risk(meta(c.kam), c.kam, risk_id, resolution="r")
    project.close_risk(meta(c.director), c.director, risk_id, resolution="r")
    history(project)
    with unchanged(project), pytest.raises(InvalidTransition, match="already closed"):
        project.close_risk(meta(c.pd), c.pd, risk_id, resolution="r")


# -- closing -----------------------------------------------------------------------------------


def test_a_signed_project_closes_won_and_nothing_follows() -> None:
    """After closing, every command is refused and no request is pending any more."""
    c = cast()
    project = proposed(c)
    request_id = requested(project, c.kam, 5)
    project.sign_contract(meta(c.rep), c.rep, value=cny(950))
    history(project)

    project.close(meta(c.pd), c.pd, outcome=ProjectOutcome.WON, note="accepted by client")

    assert then(project) == [Project.Closed]
    assert (project.status, project.outcome) == (ProjectStatus.CLOSED, ProjectOutcome.WON)
    assert project.pending_discount_requests() == []
    with unchanged(project), pytest.raises(InvalidTransition, match="closed"):
        project.record_cost(meta(c.finance), c.finance, amount=cny(1), category="travel")
    with unchanged(project), pytest.raises(InvalidTransition, match="closed"):
        project.identify_risk(meta(c.kam), c.kam, RiskId(uuid4()), description="d")
    with unchanged(project), pytest.raises(InvalidTransition, match="closed"):
        project.reject_discount(meta(c.pd), c.pd, request_id, reason="stale")
    with unchanged(project), pytest.raises(InvalidTransition, match="closed"):
        project.close(meta(c.pd), c.pd, outcome=ProjectOutcome.CANCELLED)


@pytest.mark.parametrize(
    ("given", "outcome", "match"),
    [
        ("proposed", ProjectOutcome.WON, "without a contract"),
        ("contracted", ProjectOutcome.LOST, "signed contract"),
        ("lost", ProjectOutcome.CANCELLED, "was lost"),
        ("lost", ProjectOutcome.WON, "without a contract"),
    ],
)
def test_the_outcome_must_match_the_project(
    given: str, outcome: ProjectOutcome, match: str
) -> None:
    """Won needs a contract; lost needs none; a lost contract closes as lost."""
    c = cast()
    project = contracted(c) if given == "contracted" else proposed(c)
    if given == "lost":
        project.mark_lost(meta(c.kam), c.kam, reason="price")
        history(project)

    with unchanged(project), pytest.raises(InvalidTransition, match=match):
        project.close(meta(c.pd), c.pd, outcome=outcome)


@pytest.mark.parametrize(
    ("given", "outcome"),
    [
        ("proposed", ProjectOutcome.CANCELLED),
        ("contracted", ProjectOutcome.CANCELLED),
        ("proposed", ProjectOutcome.LOST),
    ],
)
def test_projects_close_cancelled_or_lost(given: str, outcome: ProjectOutcome) -> None:
    """A director may cancel any project and close an unsigned one as lost."""
    c = cast()
    project = contracted(c) if given == "contracted" else proposed(c)

    project.close(meta(c.director), c.director, outcome=outcome)

    assert then(project) == [Project.Closed]
    assert project.outcome is outcome


@pytest.mark.parametrize(
    ("who", "outcome", "note", "error"),
    [
        ("kam", ProjectOutcome.CANCELLED, None, RoleRequired),
        ("pd", "cancelled", None, ValidationError),
        ("pd", ProjectOutcome.CANCELLED, " ", ValidationError),
    ],
)
def test_closing_needs_the_leads_an_outcome_and_a_real_note(
    who: str, outcome: Any, note: Any, error: type[Exception]
) -> None:
    """A KAM cannot close; the outcome is a ProjectOutcome; a note, when given, is not empty."""
    c = cast()
    project = proposed(c)
    by = getattr(c, who)

    with unchanged(project), pytest.raises(error):
        project.close(meta(by), by, outcome=outcome, note=note)


# -- price band --------------------------------------------------------------------------------


def test_project_director_sets_the_price_band_within_their_authority() -> None:
    """A floor 10 % under list is within the project director's 10 %; the event keeps them."""
    c = cast()
    project = initiated(c)

    project.set_price_band(meta(c.pd, at(1)), c.pd, list_price=cny(1000), floor=cny(900))

    events = recorded(project)
    assert [type(e) for e in events] == [Project.PriceBandSet]
    assert events[0].set_by == c.pd
    band = project.price_band
    assert band is not None
    assert (band.list_price, band.floor, band.set_at) == (cny(1000), cny(900), at(1))


def test_a_floor_beyond_the_setters_authority_is_refused() -> None:
    """A floor 20 % under list is beyond the project director's 10 %, within a director's 20 %."""
    c = cast()
    project = initiated(c)

    with unchanged(project), pytest.raises(AuthorityExceeded, match="floor"):
        project.set_price_band(meta(c.pd), c.pd, list_price=cny(1000), floor=cny(800))
    project.set_price_band(meta(c.director), c.director, list_price=cny(1000), floor=cny(800))

    assert then(project) == [Project.PriceBandSet]
    assert project.price_band is not None
    assert (project.price_band.floor, project.price_band.set_by) == (cny(800), c.director.member_id)


def test_a_flat_band_needs_no_discount_authority() -> None:
    """A floor equal to the list price allows no discount, so no authority is needed."""
    c = cast()
    pd = creds(Role.PROJECT_DIRECTOR, team_id=c.team_id)
    project = initiated(c, project_director=pd)

    project.set_price_band(meta(pd), pd, list_price=cny(1000), floor=cny(1000))

    assert then(project) == [Project.PriceBandSet]
    assert project.price_band is not None
    assert (project.price_band.list_price, project.price_band.floor) == (cny(1000), cny(1000))


def test_the_band_is_revisable_and_the_latest_counts() -> None:
    """Setting the band again replaces it."""
    c = cast()
    project = priced(c)

    project.set_price_band(meta(c.pd), c.pd, list_price=cny(1200), floor=cny(1100))

    assert project.price_band is not None
    assert project.price_band.list_price == cny(1200)


@pytest.mark.parametrize(
    ("list_price", "floor", "error", "field"),
    [
        (cny(1000), cny(1001), ValidationError, "floor"),
        (cny(1000), Money.zero("CNY"), ValidationError, "floor"),
        (cny(1000), cny(-5), ValidationError, "floor"),
        (Money.of(1000, "USD"), cny(900), CurrencyMismatch, "list_price"),
        (1000, cny(900), ValidationError, "list_price"),
    ],
)
def test_a_band_is_positive_money_with_floor_at_most_list(
    list_price: Any, floor: Any, error: type[Exception], field: str
) -> None:
    """0 < floor <= list price, both in the project's currency."""
    c = cast()
    project = initiated(c)

    with unchanged(project), pytest.raises(error, match=field):
        project.set_price_band(meta(c.pd), c.pd, list_price=list_price, floor=floor)


def test_only_the_project_director_or_a_sales_director_sets_the_band() -> None:
    """Another project director (not this project's) cannot set the band."""
    c = cast()
    project = initiated(c)
    by = c.pd2

    with unchanged(project), pytest.raises(RoleRequired, match="actor"):
        project.set_price_band(meta(by), by, list_price=cny(1000), floor=cny(1000))


def test_the_band_is_fixed_once_the_contract_is_signed() -> None:
    """After signing, pricing is closed."""
    c = cast()
    project = contracted(c)

    with unchanged(project), pytest.raises(InvalidTransition, match="pricing"):
        project.set_price_band(meta(c.pd), c.pd, list_price=cny(1000), floor=cny(950))


# -- minimum margin ----------------------------------------------------------------------------


def test_a_director_sets_the_minimum_margin() -> None:
    """The minimum margin is configuration recorded as an event, set by a sales director."""
    c = cast()
    project = initiated(c)

    project.set_minimum_margin(
        meta(c.director), c.director, minimum_margin=pct(20), reason="hardware-heavy"
    )

    assert then(project) == [Project.MinimumMarginSet]
    assert project.minimum_margin == pct(20)


@pytest.mark.parametrize(
    ("who", "minimum", "error"),
    [("pd", pct(10), RoleRequired), ("director", Decimal(10), ValidationError)],
)
def test_the_minimum_margin_needs_a_director_and_a_percentage(
    who: str, minimum: Any, error: type[Exception]
) -> None:
    """A project director cannot lower it; a bare Decimal is refused."""
    c = cast()
    project = initiated(c)
    by = getattr(c, who)

    with unchanged(project), pytest.raises(error):
        project.set_minimum_margin(meta(by), by, minimum_margin=minimum, reason="r")


# -- discount requests -------------------------------------------------------------------------


def test_a_representative_requests_a_discount() -> None:
    """A request records the percentage, the requester and the price it asks for."""
    c = cast()
    project = priced(c)
    by = c.rep
    request_id = DiscountRequestId(uuid4())

    project.request_discount(
        meta(by, at(2)), by, request_id, percentage=pct(8), justification=" rival at 930 "
    )

    events = recorded(project)
    assert [type(e) for e in events] == [Project.DiscountRequested]
    assert (events[0].list_price, events[0].price) == (cny(1000), cny(920))
    [request] = project.pending_discount_requests()
    assert request.request_id == request_id
    assert (request.requester_id, request.percentage) == (by.member_id, pct(8))
    assert (request.justification, request.requested_at) == ("rival at 930", at(2))
    assert project.decision(request_id) is None


def test_a_discount_needs_a_price_band() -> None:
    """Without a band there is no list price to discount: InvalidTransition."""
    c = cast()
    project = assessed(c)

    with unchanged(project), pytest.raises(InvalidTransition, match="price band"):
        requested(project, c.kam, 5)


def test_a_request_below_the_floor_is_refused_at_once() -> None:
    """11 % off 1000 is 890, under the floor of 900."""
    c = cast()
    project = priced(c)

    with unchanged(project), pytest.raises(PriceBelowFloor, match="percentage"):
        requested(project, c.kam, 11)


@pytest.mark.parametrize(
    ("requester", "error"),
    [("left", MemberInactive), ("other_team", NotAuthorised)],
)
def test_requesters_are_active_members_of_the_team(requester: str, error: type[Exception]) -> None:
    """A KAM who left or one of another team cannot request."""
    c = cast()
    project = priced(c)
    by = left(c.kam) if requester == "left" else outsider(Role.KEY_ACCOUNT_MANAGER, 5)

    with unchanged(project), pytest.raises(error, match="actor"):
        requested(project, by, 5)


@pytest.mark.parametrize(
    ("changes", "error", "field"),
    [
        ({"percentage": pct(0)}, ValidationError, "percentage"),
        ({"percentage": Decimal(5)}, ValidationError, "percentage"),
        ({"justification": ""}, ValidationError, "justification"),
        ({"request_id": "r-1"}, ValidationError, "request_id"),
    ],
)
def test_a_request_refuses_bad_input(
    changes: dict[str, Any], error: type[Exception], field: str
) -> None:
    """A zero or bare-number percentage, an empty justification or a non-UUID id is refused."""
    c = cast()
    project = priced(c)
    kwargs: dict[str, Any] = {
        "request_id": DiscountRequestId(uuid4()),
        "percentage": pct(5),
        "justification": "j",
    }
    kwargs.update(changes)
    request_id = kwargs.pop("request_id")

    with unchanged(project), pytest.raises(error, match=field):
        project.request_discount(meta(c.kam), c.kam, request_id, **kwargs)


def test_a_request_id_is_used_once() -> None:
    """Requesting again under the same id is refused."""
    c = cast()
    project = priced(c)
    request_id = requested(project, c.kam, 5)

    with unchanged(project), pytest.raises(AlreadyExists, match="request_id"):
        project.request_discount(
            meta(c.kam), c.kam, request_id, percentage=pct(5), justification="j"
        )


# -- approval ----------------------------------------------------------------------------------


def test_an_approver_within_authority_approves_and_the_event_keeps_the_authority() -> None:
    """The project director (10 %) approves a KAM's 8 %: price, floor, margin and credentials."""
    c = cast()
    project = priced(c)
    request_id = requested(project, c.kam, 8)

    project.approve_discount(meta(c.pd, at(1)), c.pd, request_id)

    events = recorded(project)
    assert [type(e) for e in events] == [Project.DiscountApproved]
    event = events[0]
    assert event.approver == c.pd
    assert event.approver.discount_authority == pct(10)
    assert (event.price, event.floor) == (cny(920), cny(900))
    assert (event.margin, event.minimum_margin) == (Decimal(100), pct(15))
    decision = project.decision(request_id)
    assert decision is not None
    assert decision.outcome is DiscountOutcome.APPROVED
    assert (decision.decided_by, decision.decided_at, decision.price) == ("manual", at(1), cny(920))
    assert project.pending_discount_requests() == []
    assert [r.request_id for r in project.approved_discounts()] == [request_id]


def test_an_approval_beyond_authority_is_refused() -> None:
    """A KAM (5 %) cannot approve a representative's 8 %."""
    c = cast()
    project = priced(c)
    request_id = requested(project, c.rep, 8)

    with unchanged(project), pytest.raises(AuthorityExceeded, match="approver"):
        project.approve_discount(meta(c.kam), c.kam, request_id)


def test_nobody_approves_their_own_request() -> None:
    """The project director cannot approve the 5 % they asked for, though within authority."""
    c = cast()
    project = priced(c)
    request_id = requested(project, c.pd, 5)

    with unchanged(project), pytest.raises(SelfApproval, match="approver"):
        project.approve_discount(meta(c.pd), c.pd, request_id)


@pytest.mark.parametrize(
    ("approver", "error"),
    [
        ("rep", RoleRequired),
        ("left", MemberInactive),
        ("other_team", NotAuthorised),
    ],
)
def test_approvers_are_active_approvers_of_the_team(approver: str, error: type[Exception]) -> None:
    """A representative, a director who left or a director of another team cannot approve."""
    c = cast()
    project = priced(c)
    request_id = requested(project, c.kam, 5)
    by = {"rep": c.rep, "left": left(c.director), "other_team": outsider(Role.SALES_DIRECTOR, 20)}[
        approver
    ]

    with unchanged(project), pytest.raises(error, match="approver"):
        project.approve_discount(meta(by), by, request_id)


def test_a_member_approves_only_as_themselves() -> None:
    """A KAM cannot approve by presenting the project director's credentials."""
    c = cast()
    project = priced(c)
    request_id = requested(project, c.rep, 8)

    with unchanged(project), pytest.raises(NotAuthorised, match="approver"):
        project.approve_discount(meta(c.kam), c.pd, request_id)


def test_a_decided_request_is_not_decided_again() -> None:
    """After approval, approving or rejecting again raises AlreadyDecided."""
    c = cast()
    project = priced(c)
    request_id = requested(project, c.kam, 5)
    project.approve_discount(meta(c.pd), c.pd, request_id)
    history(project)

    with unchanged(project), pytest.raises(AlreadyDecided, match="request_id"):
        project.approve_discount(meta(c.director), c.director, request_id)
    with unchanged(project), pytest.raises(AlreadyDecided, match="request_id"):
        project.reject_discount(meta(c.director), c.director, request_id, reason="r")


def test_an_unknown_request_is_not_found() -> None:
    """Approving or querying a request the project does not have raises DiscountRequestNotFound."""
    c = cast()
    project = priced(c)

    with unchanged(project), pytest.raises(DiscountRequestNotFound, match="request_id"):
        project.approve_discount(meta(c.pd), c.pd, DiscountRequestId(uuid4()))
    with unchanged(project), pytest.raises(DiscountRequestNotFound):
        project.decision(DiscountRequestId(uuid4()))


def test_the_floor_holds_at_approval_whoever_approves() -> None:
    """An 8 % request under a band raised to a 950 floor is refused even to the senior director."""
    c = cast()
    project = priced(c)
    request_id = requested(project, c.kam, 8)
    project.set_price_band(meta(c.pd), c.pd, list_price=cny(1000), floor=cny(950))
    history(project)

    with unchanged(project), pytest.raises(PriceBelowFloor, match="floor"):
        project.approve_discount(meta(c.senior), c.senior, request_id)


def margin_squeezed(c: Cast) -> tuple[Project, DiscountRequestId]:
    """8 % off 1000 (920) with 850 of recorded cost: a margin of about 7.6 %, under 15 %."""
    project = priced(c)
    project.record_cost(meta(c.finance), c.finance, amount=cny(850), category="hardware")
    history(project)
    return project, requested(project, c.kam, 8)


def test_a_margin_under_the_minimum_needs_a_sales_director() -> None:
    """The project director's authority covers 8 %, but the margin is too thin for them."""
    c = cast()
    project, request_id = margin_squeezed(c)

    with unchanged(project), pytest.raises(MarginBelowMinimum, match="sales director"):
        project.approve_discount(meta(c.pd), c.pd, request_id)


def test_a_sales_director_approves_under_the_minimum_margin() -> None:
    """The sales director approves; the event records the thin margin it weighed."""
    c = cast()
    project, request_id = margin_squeezed(c)

    project.approve_discount(meta(c.director), c.director, request_id)

    [event] = recorded(project)
    assert event.margin == (Decimal(920) - Decimal(850)) / Decimal(920) * 100
    assert event.margin < event.minimum_margin.value


def test_a_lowered_minimum_margin_lets_the_project_director_approve() -> None:
    """With the minimum set to 5 %, a 7.6 % margin is the project director's to approve."""
    c = cast()
    project, request_id = margin_squeezed(c)
    project.set_minimum_margin(meta(c.director), c.director, minimum_margin=pct(5), reason="r")
    history(project)

    project.approve_discount(meta(c.pd), c.pd, request_id)

    assert then(project) == [Project.DiscountApproved]
    decision = project.decision(request_id)
    assert decision is not None
    assert decision.outcome is DiscountOutcome.APPROVED
    assert decision.credentials == c.pd
    assert project.pending_discount_requests() == []


def test_confirmed_procurement_counts_against_the_margin_and_unconfirmed_does_not() -> None:
    """A quote netting 800 leaves 13 % at 920: fine while unconfirmed, too thin once confirmed."""
    c = cast()
    project = priced(c)
    quote_id = recorded_quote(project, c.support, list_price=1000, discount=20)
    request_id = requested(project, c.kam, 8)
    assert project.margin_at(cny(920)) == Decimal(100)
    project.confirm_quote(meta(c.pd), c.pd, quote_id)
    history(project)

    with unchanged(project), pytest.raises(MarginBelowMinimum):
        project.approve_discount(meta(c.pd), c.pd, request_id)


def test_a_policy_approves_within_the_requesters_own_authority() -> None:
    """The price-approval policy approves a KAM's 4 % on the KAM's own 5 %, naming itself."""
    c = cast()
    project = priced(c)
    request_id = requested(project, c.kam, 4)

    project.approve_discount(meta(POLICY), c.kam, request_id)

    [event] = recorded(project)
    assert (event.approver, event.decided_by, event.actor) == (c.kam, "price_approval@1", POLICY)


def test_a_policy_does_not_stretch_the_requesters_authority() -> None:
    """A KAM's 8 % is beyond their 5 %, so the policy cannot approve it on their authority."""
    c = cast()
    project = priced(c)
    request_id = requested(project, c.kam, 8)

    with unchanged(project), pytest.raises(AuthorityExceeded):
        project.approve_discount(meta(POLICY), c.kam, request_id)


def test_decided_by_names_the_rule_when_given() -> None:
    """A host may say which rule a manual decision followed; an empty one is refused."""
    c = cast()
    project = priced(c)
    request_id = requested(project, c.kam, 5)

    with unchanged(project), pytest.raises(ValidationError, match="decided_by"):
        project.approve_discount(meta(c.pd), c.pd, request_id, decided_by=" ")
    project.approve_discount(meta(c.pd), c.pd, request_id, decided_by="board minute 12")

    decision = project.decision(request_id)
    assert decision is not None
    assert decision.decided_by == "board minute 12"


def test_approval_closes_with_the_contract() -> None:
    """A request still pending when the contract is signed can no longer be approved."""
    c = cast()
    project = proposed(c)
    request_id = requested(project, c.kam, 5)
    project.sign_contract(meta(c.rep), c.rep, value=cny(950))
    history(project)

    with unchanged(project), pytest.raises(InvalidTransition, match="pricing"):
        project.approve_discount(meta(c.pd), c.pd, request_id)


# -- escalation --------------------------------------------------------------------------------


def test_an_approver_escalates_beyond_their_authority_and_only_that_level_approves() -> None:
    """Once the project director passes 9 % up, only the sales director (or above) approves it."""
    c = cast()
    project = priced(c, floor=800, by=c.director)
    request_id = requested(project, c.kam, 9)

    project.escalate_discount(
        meta(c.pd), c.pd, request_id, to_role=Role.SALES_DIRECTOR, reason="strategic account"
    )
    [event] = recorded(project)
    assert (event.to_role, event.escalated_by) == (Role.SALES_DIRECTOR, c.pd)
    assert project.discount_requests[request_id].escalated_to is Role.SALES_DIRECTOR
    with unchanged(project), pytest.raises(RoleRequired, match="escalated"):
        project.approve_discount(meta(c.pd), c.pd, request_id)
    project.approve_discount(meta(c.director), c.director, request_id)

    assert then(project) == [Project.DiscountApproved]


def test_a_policy_escalates_without_credentials() -> None:
    """The price-approval policy routes a request upward with by=None."""
    c = cast()
    project = priced(c, floor=700, by=c.senior)
    request_id = requested(project, c.kam, 25)

    project.escalate_discount(
        meta(POLICY), None, request_id, to_role=Role.SENIOR_SALES_DIRECTOR, reason="beyond 20 %"
    )

    [event] = recorded(project)
    assert (event.escalated_by, event.actor) == (None, POLICY)
    assert project.discount_requests[request_id].is_pending


def test_only_policies_and_systems_escalate_without_credentials() -> None:
    """A member actor must present credentials."""
    c = cast()
    project = priced(c)
    request_id = requested(project, c.kam, 5)

    with unchanged(project), pytest.raises(ValidationError, match="actor"):
        project.escalate_discount(
            meta(c.pd), None, request_id, to_role=Role.SALES_DIRECTOR, reason="r"
        )


@pytest.mark.parametrize(
    ("by", "to_role", "error", "match"),
    [
        ("pd", Role.KEY_ACCOUNT_REPRESENTATIVE, ValidationError, "to_role"),
        ("pd", "sales_director", ValidationError, "to_role"),
        ("pd", Role.PROJECT_DIRECTOR, InvalidTransition, "above their own role"),
        ("kam", Role.SALES_DIRECTOR, SelfApproval, "actor"),
        ("rep2", Role.SALES_DIRECTOR, RoleRequired, "actor"),
    ],
)
def test_escalation_goes_up_from_an_approver_who_is_not_the_requester(
    by: str, to_role: Any, error: type[Exception], match: str
) -> None:
    """Escalation goes to an approver role above the escalator, never by requester or rep."""
    c = cast()
    project = priced(c)
    request_id = requested(project, c.kam, 5)
    actor = (
        creds(Role.KEY_ACCOUNT_REPRESENTATIVE, team_id=c.team_id)
        if by == "rep2"
        else getattr(c, by)
    )

    with unchanged(project), pytest.raises(error, match=match):
        project.escalate_discount(meta(actor), actor, request_id, to_role=to_role, reason="r")


def test_escalation_never_goes_back_down() -> None:
    """Once with the senior sales director, a request is not escalated to a sales director."""
    c = cast()
    project = priced(c)
    request_id = requested(project, c.kam, 5)
    project.escalate_discount(
        meta(POLICY), None, request_id, to_role=Role.SENIOR_SALES_DIRECTOR, reason="r"
    )
    history(project)

    with unchanged(project), pytest.raises(InvalidTransition, match="already escalated"):
        project.escalate_discount(
            meta(POLICY), None, request_id, to_role=Role.SALES_DIRECTOR, reason="r"
        )


# -- rejection ---------------------------------------------------------------------------------


def test_an_approver_rejects_with_a_reason() -> None:
    """The project director rejects; the decision keeps the reason and their credentials."""
    c = cast()
    project = priced(c)
    request_id = requested(project, c.rep, 8)

    project.reject_discount(meta(c.pd, at(1)), c.pd, request_id, reason="margin too thin")

    assert then(project) == [Project.DiscountRejected]
    decision = project.decision(request_id)
    assert decision is not None
    assert decision.outcome is DiscountOutcome.REJECTED
    assert (decision.reason, decision.credentials, decision.decided_at) == (
        "margin too thin",
        c.pd,
        at(1),
    )
    assert project.pending_discount_requests() == []


def test_a_policy_rejects_beyond_the_top_authority() -> None:
    """With by=None the policy rejects and is named as the decider."""
    c = cast()
    project = priced(c)
    request_id = requested(project, c.kam, 5)

    project.reject_discount(meta(POLICY), None, request_id, reason="beyond every authority")

    decision = project.decision(request_id)
    assert decision is not None
    assert (decision.decided_by, decision.credentials) == ("price_approval@1", None)


def test_stale_requests_are_rejected_after_signing() -> None:
    """Rejection stays open after the contract is signed, so pending requests can be cleared."""
    c = cast()
    project = proposed(c)
    request_id = requested(project, c.kam, 5)
    project.sign_contract(meta(c.rep), c.rep, value=cny(950))
    history(project)

    project.reject_discount(meta(c.pd), c.pd, request_id, reason="contract signed")

    assert then(project) == [Project.DiscountRejected]
    decision = project.decision(request_id)
    assert decision is not None
    assert (decision.outcome, decision.reason) == (DiscountOutcome.REJECTED, "contract signed")
    assert project.pending_discount_requests() == []


@pytest.mark.parametrize(
    ("by", "error"),
    [("rep", RoleRequired), ("kam", SelfApproval), ("pd_after_escalation", RoleRequired)],
)
def test_rejection_needs_an_approver_at_the_requests_level(by: str, error: type[Exception]) -> None:
    """A representative, the requester, or an approver below the escalated level cannot reject."""
    c = cast()
    project = priced(c)
    request_id = requested(project, c.kam, 5)
    if by == "pd_after_escalation":
        project.escalate_discount(
            meta(POLICY), None, request_id, to_role=Role.SALES_DIRECTOR, reason="r"
        )
        history(project)
    actor = c.pd if by == "pd_after_escalation" else getattr(c, by)

    with unchanged(project), pytest.raises(error, match="actor"):
        project.reject_discount(meta(actor), actor, request_id, reason="no")


def test_a_rejection_needs_a_reason() -> None:
    """An empty reason is refused."""
    c = cast()
    project = priced(c)
    request_id = requested(project, c.kam, 5)

    with unchanged(project), pytest.raises(ValidationError, match="reason"):
        project.reject_discount(meta(c.pd), c.pd, request_id, reason="")


# -- procurement -------------------------------------------------------------------------------


def test_a_quote_is_recorded_and_confirmed_by_the_project_director() -> None:
    """Net cost is price less discount; once confirmed it counts as procurement cost."""
    c = cast()
    project = initiated(c)
    quote_id = QuoteId(uuid4())

    project.record_quote(
        meta(c.support),
        c.support,
        quote_id,
        vendor=" Acme ",
        list_price=cny(1000),
        discount=pct("12.5"),
    )
    assert project.procurement_cost() == Money.zero("CNY")
    project.confirm_quote(meta(c.pd, at(2)), c.pd, quote_id)

    assert then(project) == [Project.QuoteRecorded, Project.QuoteConfirmed]
    quote = project.quotes[quote_id]
    assert (quote.vendor, quote.net_cost) == ("Acme", cny("875.000"))
    assert (quote.confirmed_by, quote.confirmed_at) == (c.pd.member_id, at(2))
    assert project.procurement_cost() == cny(875)


def test_nobody_confirms_a_quote_they_recorded() -> None:
    """The project director's own quote needs a sales director to confirm it."""
    c = cast()
    project = initiated(c)
    quote_id = recorded_quote(project, c.pd)

    with unchanged(project), pytest.raises(SelfApproval, match="actor"):
        project.confirm_quote(meta(c.pd), c.pd, quote_id)
    project.confirm_quote(meta(c.director), c.director, quote_id)

    assert then(project) == [Project.QuoteConfirmed]
    assert project.quotes[quote_id].confirmed_by == c.director.member_id
    assert project.procurement_cost() == cny(800)


def test_confirming_needs_the_project_director_a_known_quote_and_only_once() -> None:
    """A KAM cannot confirm; unknown quotes are not found; a confirmed quote is not reconfirmed."""
    c = cast()
    project = initiated(c)
    quote_id = recorded_quote(project, c.support)

    with unchanged(project), pytest.raises(RoleRequired, match="actor"):
        project.confirm_quote(meta(c.kam), c.kam, quote_id)
    with unchanged(project), pytest.raises(QuoteNotFound, match="quote_id"):
        project.confirm_quote(meta(c.pd), c.pd, QuoteId(uuid4()))
    project.confirm_quote(meta(c.pd), c.pd, quote_id)
    history(project)
    with unchanged(project), pytest.raises(InvalidTransition, match="already confirmed"):
        project.confirm_quote(meta(c.pd), c.pd, quote_id)


@pytest.mark.parametrize(
    ("who", "changes", "error", "field"),
    [
        ("rep", {}, RoleRequired, "actor"),
        ("support", {"vendor": ""}, ValidationError, "vendor"),
        ("support", {"list_price": Money.of(10, "USD")}, CurrencyMismatch, "list_price"),
        ("support", {"list_price": cny(0)}, ValidationError, "list_price"),
        ("support", {"discount": Decimal(5)}, ValidationError, "discount"),
        ("support", {"quote_id": "q"}, ValidationError, "quote_id"),
    ],
)
def test_recording_a_quote_refuses_bad_input(
    who: str, changes: dict[str, Any], error: type[Exception], field: str
) -> None:
    """A representative cannot record; vendor, price, discount and id are checked."""
    c = cast()
    project = initiated(c)
    by = getattr(c, who)
    kwargs: dict[str, Any] = {
        "quote_id": QuoteId(uuid4()),
        "vendor": "Acme",
        "list_price": cny(100),
        "discount": pct(5),
    }
    kwargs.update(changes)
    quote_id = kwargs.pop("quote_id")

    with unchanged(project), pytest.raises(error, match=field):
        project.record_quote(meta(by), by, quote_id, **kwargs)


def test_a_quote_id_is_recorded_once() -> None:
    """The same quote id cannot be recorded twice."""
    c = cast()
    project = initiated(c)
    quote_id = recorded_quote(project, c.support)

    with unchanged(project), pytest.raises(AlreadyExists, match="quote_id"):
        project.record_quote(
            meta(c.support), c.support, quote_id, vendor="V", list_price=cny(1), discount=pct(0)
        )


# -- costs, revenue and P&L --------------------------------------------------------------------


def test_profit_and_loss_adds_revenue_costs_and_confirmed_procurement() -> None:
    """Revenue 1000, costs 300 + 100, confirmed procurement 200: profit 400, margin 40 %."""
    c = cast()
    project = initiated(c)
    quote_id = recorded_quote(project, c.support, list_price=250, discount=20)
    recorded_quote(project, c.support, list_price=999, discount=0)
    project.confirm_quote(meta(c.pd), c.pd, quote_id)

    project.record_revenue(meta(c.finance), c.finance, amount=cny(1000), category="milestone 1")
    project.record_cost(meta(c.finance), c.finance, amount=cny(300), category="labour")
    project.record_cost(meta(c.pd), c.pd, amount=cny(100), category="travel")

    assert then(project) == [
        Project.QuoteConfirmed,
        Project.RevenueRecorded,
        Project.CostRecorded,
        Project.CostRecorded,
    ]
    pnl = project.profit_and_loss()
    assert (pnl.revenue, pnl.recorded_costs, pnl.procurement_costs) == (
        cny(1000),
        cny(400),
        cny(200),
    )
    assert (pnl.cost, pnl.profit, pnl.margin) == (cny(600), cny(400), Decimal(40))
    assert project.costs[1].recorded_by == c.pd.member_id


def test_margin_is_none_without_revenue() -> None:
    """With costs and no revenue, the margin is undefined rather than zero."""
    c = cast()
    project = initiated(c)

    project.record_cost(meta(c.finance), c.finance, amount=cny(10), category="travel")

    pnl = project.profit_and_loss()
    assert (pnl.margin, pnl.profit) == (None, cny(-10))


@pytest.mark.parametrize(
    ("who", "amount", "category", "error", "field"),
    [
        ("kam", cny(1), "c", RoleRequired, "actor"),
        ("pd2", cny(1), "c", RoleRequired, "actor"),
        ("finance", cny(0), "c", ValidationError, "amount"),
        ("finance", cny(-1), "c", ValidationError, "amount"),
        ("finance", Money.of(1, "EUR"), "c", CurrencyMismatch, "amount"),
        ("finance", "1", "c", ValidationError, "amount"),
        ("finance", cny(1), " ", ValidationError, "category"),
    ],
)
@pytest.mark.parametrize("command", ["record_cost", "record_revenue"])
def test_costs_and_revenue_come_from_finance_or_the_project_director(
    command: str, who: str, amount: Any, category: Any, error: type[Exception], field: str
) -> None:
    """Only they record; amounts are positive money in the project's currency with a category."""
    c = cast()
    project = initiated(c)
    by = getattr(c, who)

    with unchanged(project), pytest.raises(error, match=field):
        getattr(project, command)(meta(by), by, amount=amount, category=category)


# -- time --------------------------------------------------------------------------------------


def test_a_command_dated_before_the_last_change_is_refused() -> None:
    """Effective times never go backwards on a project."""
    c = cast()
    project = initiated(c)
    project.record_cost(meta(c.finance, at(5)), c.finance, amount=cny(1), category="c")
    history(project)

    with unchanged(project), pytest.raises(TimestampOutOfOrder, match="at"):
        project.record_cost(meta(c.finance, at(4)), c.finance, amount=cny(1), category="c")


def test_state_rebuilt_from_the_events_equals_the_state_that_recorded_them() -> None:
    """Replaying a full history yields the same project, field for field."""
    c = cast()
    project = Project.initiate(
        meta(c.kam),
        c.kam,
        ProjectId(uuid4()),
        team_id=c.team_id,
        account_id=ACCOUNT,
        name="Core",
        currency="CNY",
        project_director=c.pd,
        account_manager_id=c.kam.member_id,
    )
    project.assess_feasibility(
        meta(c.pd), c.pd, verdict=FeasibilityVerdict.FEASIBLE, value_positioning="v", risks=["r"]
    )
    project.set_price_band(meta(c.pd), c.pd, list_price=cny(1000), floor=cny(900))
    request_id = DiscountRequestId(uuid4())
    project.request_discount(meta(c.kam), c.kam, request_id, percentage=pct(5), justification="j")
    project.approve_discount(meta(c.pd), c.pd, request_id)
    quote_id = QuoteId(uuid4())
    project.record_quote(
        meta(c.support), c.support, quote_id, vendor="V", list_price=cny(100), discount=pct(5)
    )
    project.confirm_quote(meta(c.pd), c.pd, quote_id)
    project.identify_risk(meta(c.kam), c.kam, RiskId(uuid4()), description="d")
    project.submit_proposal(meta(c.kam), c.kam, amount=cny(950), summary="s")
    project.sign_contract(meta(c.rep), c.rep, value=cny(950))
    project.plan_implementation(meta(c.pd), c.pd, milestones=PLAN, headcount=3)
    project.reach_milestone(meta(c.support), c.support, ProjectMilestone.INSTALLED)
    project.record_revenue(meta(c.finance), c.finance, amount=cny(500), category="c")

    rebuilt = given(history(project))

    assert vars(rebuilt) == vars(project)
