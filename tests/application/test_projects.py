"""The facade's project commands and queries, on every backend."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID, uuid4

import pytest

from kam_domain.aggregates.project import (
    DiscountOutcome,
    FeasibilityVerdict,
    Project,
    ProjectMilestone,
    ProjectOutcome,
    ProjectStatus,
)
from kam_domain.application import KamApplication
from kam_domain.application.directory import Entry
from kam_domain.errors import (
    AccountNotFound,
    AlreadyExists,
    AuthorityExceeded,
    MemberInactive,
    MemberNotFound,
    PolicyImpersonation,
    ProjectNotFound,
    RoleRequired,
    SelfApproval,
    TeamNotFound,
    ValidationError,
)
from kam_domain.values import Actor, Money, Percentage, Role, Severity
from tests.conftest import Org, build_org, key_account
from tests.support import at, unchanged

POLICY = Actor.policy("price_approval", 1)
#: The host's own system, acting without credentials.
PRICING_DESK = Actor.system("pricing-desk")


def cny(amount: int | str | Decimal) -> Money:
    return Money.of(amount, "CNY")


def listed_account(app: KamApplication, org: Org, name: str = "Acme Telecom") -> UUID:
    """A key account of the team, registered through the account facade, with org.kam as KAM."""
    return key_account(app, org, name)


def started(app: KamApplication, org: Org, name: str = "Core network upgrade") -> UUID:
    """A feasible project with a 1000 / 900 band, initiated by the KAM on day 1."""
    account_id = listed_account(app, org, name=f"{name} client")
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


def test_a_project_runs_from_initiation_to_closing(app: KamApplication, org: Org) -> None:
    """The whole lifecycle through the facade: pricing, bid, contract, delivery, P&L, closing."""
    project_id = started(app, org)
    request_id = app.request_discount(
        project_id, org.kam, percentage=Percentage.of(8), justification="rival", at=at(2)
    )
    app.approve_discount(project_id, org.project_director, request_id, at=at(3))
    app.assign_presales_support(project_id, org.project_director, org.support, at=at(3))
    quote_id = app.record_quote(
        project_id,
        org.support,
        vendor="Acme Optics",
        list_price=cny(300),
        discount=Percentage.of(10),
        at=at(4),
    )
    app.confirm_quote(project_id, org.project_director, quote_id, at=at(4))
    risk_id = app.identify_risk(
        project_id, org.support, description="permits", severity=Severity.HIGH, at=at(4)
    )
    app.close_risk(project_id, org.project_director, risk_id, resolution="granted", at=at(5))
    app.submit_proposal(project_id, org.kam, amount=cny(920), summary="phase one", at=at(5))
    app.sign_contract(project_id, org.rep, value=cny(920), at=at(6))
    app.plan_implementation(
        project_id,
        org.project_director,
        milestones=[("install", at(30)), ("acceptance", at(60))],
        headcount=3,
        at=at(7),
    )
    for day, milestone in enumerate(ProjectMilestone, start=30):
        app.reach_milestone(project_id, org.support, milestone, at=at(day))
    app.record_revenue(project_id, org.finance, amount=cny(920), category="contract", at=at(40))
    app.record_cost(project_id, org.finance, amount=cny(100), category="labour", at=at(40))

    app.close_project(project_id, org.project_director, outcome=ProjectOutcome.WON, at=at(41))

    project = app.get_project(project_id)
    assert (project.status, project.outcome) == (ProjectStatus.CLOSED, ProjectOutcome.WON)
    decision = project.decision(request_id)
    assert decision is not None
    assert decision.outcome is DiscountOutcome.APPROVED
    assert decision.credentials is not None
    assert decision.credentials.discount_authority == Percentage.of(10)
    assert [m.milestone for m in project.milestones] == list(ProjectMilestone)
    assert project.open_risks() == []
    pnl = project.profit_and_loss()
    assert (pnl.revenue, pnl.cost, pnl.profit) == (cny(920), cny(370), cny(550))


def test_an_initiated_project_is_listed_by_team_and_account(app: KamApplication, org: Org) -> None:
    """The directory lists the project under its team and account in the same commit."""
    account_id = listed_account(app, org)
    other_account = listed_account(app, org, name="Beta Power")

    project_id = app.initiate_project(
        account_id,
        org.director,
        name="Core",
        currency="CNY",
        project_director_id=org.project_director,
        at=at(1),
    )

    entry = app._listing().entry(project_id)
    assert entry == Entry("project", "Core", org.team_id, account_id)
    assert [p.id for p in app.projects()] == [project_id]
    assert [p.id for p in app.projects(team_id=org.team_id)] == [project_id]
    assert [p.id for p in app.projects(account_id=account_id)] == [project_id]
    assert app.projects(account_id=other_account) == []
    assert app.projects(team_id=uuid4()) == []


def test_project_names_are_unique_within_an_account(app: KamApplication, org: Org) -> None:
    """A second "core" on the same account is refused; another account may use the name."""
    account_id = listed_account(app, org)
    other_account = listed_account(app, org, name="Beta Power")
    kwargs: dict[str, Any] = {
        "currency": "CNY",
        "project_director_id": org.project_director,
        "at": at(1),
    }
    app.initiate_project(account_id, org.kam, name="Core", **kwargs)

    with unchanged(app), pytest.raises(AlreadyExists, match="name"):
        app.initiate_project(account_id, org.kam, name=" core ", **kwargs)

    assert app.initiate_project(other_account, org.kam, name="Core", **kwargs)
    assert len(app.projects(account_id=account_id)) == 1


@pytest.mark.parametrize(
    ("account", "error"),
    [("unknown", AccountNotFound), ("team", AccountNotFound), ("text", ValidationError)],
)
def test_a_project_needs_a_listed_account(
    app: KamApplication, org: Org, account: str, error: type[Exception]
) -> None:
    """Unknown ids, ids of other kinds of record and non-UUIDs are refused as account ids."""
    account_id: Any = {"unknown": uuid4(), "team": org.team_id, "text": "acme"}[account]

    with unchanged(app), pytest.raises(error, match="account_id"):
        app.initiate_project(
            account_id,
            org.kam,
            name="Core",
            currency="CNY",
            project_director_id=org.project_director,
            at=at(1),
        )

    assert app.projects() == []


@pytest.mark.parametrize(
    ("director", "error"), [("unknown", MemberNotFound), ("kam2", RoleRequired)]
)
def test_the_project_director_is_looked_up_in_the_team(
    app: KamApplication, org: Org, director: str, error: type[Exception]
) -> None:
    """An unknown member or a KAM named as project director is refused."""
    account_id = listed_account(app, org)
    director_id = uuid4() if director == "unknown" else org.kam2

    with unchanged(app), pytest.raises(error, match="project_director_id"):
        app.initiate_project(
            account_id,
            org.kam,
            name="Core",
            currency="CNY",
            project_director_id=director_id,
            at=at(1),
        )

    assert app.projects() == []


def test_a_host_project_id_is_used_once(app: KamApplication, org: Org) -> None:
    """A host may bring its own id, but not one already in the store."""
    account_id = listed_account(app, org)
    project_id = uuid4()
    kwargs: dict[str, Any] = {
        "currency": "CNY",
        "project_director_id": org.project_director,
        "at": at(1),
    }

    assert (
        app.initiate_project(account_id, org.kam, name="A", project_id=project_id, **kwargs)
        == project_id
    )
    with unchanged(app), pytest.raises(AlreadyExists, match="project_id"):
        app.initiate_project(account_id, org.kam, name="B", project_id=project_id, **kwargs)


def test_a_refused_command_leaves_the_project_unchanged(app: KamApplication, org: Org) -> None:
    """The KAM (5 %) approving a representative's 8 % is refused and nothing is stored."""
    project_id = started(app, org)
    request_id = app.request_discount(
        project_id, org.rep, percentage=Percentage.of(8), justification="j", at=at(2)
    )
    before = app.get_project(project_id)

    with unchanged(app), pytest.raises(AuthorityExceeded):
        app.approve_discount(project_id, org.kam, request_id, at=at(3))

    after = app.get_project(project_id)
    assert after.version == before.version
    assert after == before


def test_approval_uses_the_authority_in_force_at_that_moment(app: KamApplication, org: Org) -> None:
    """kam2 holds 5 % until a 10 % grant starts on day 10: refused on day 5, approved on day 11."""
    project_id = started(app, org)
    app.grant_authority(
        org.team_id,
        org.senior,
        org.kam2,
        max_discount=Percentage.of(10),
        valid_from=at(10),
        at=at(1),
    )
    request_id = app.request_discount(
        project_id, org.rep, percentage=Percentage.of(8), justification="j", at=at(2)
    )

    with unchanged(app), pytest.raises(AuthorityExceeded, match="approver"):
        app.approve_discount(project_id, org.kam2, request_id, at=at(5))
    app.approve_discount(project_id, org.kam2, request_id, at=at(11))

    decision = app.get_project(project_id).decision(request_id)
    assert decision is not None
    assert decision.credentials is not None
    assert decision.credentials.discount_authority == Percentage.of(10)
    assert decision.credentials.at == at(11)


def test_a_member_who_left_cannot_approve(app: KamApplication, org: Org) -> None:
    """Once the project director has left the team, their approval is refused."""
    project_id = started(app, org)
    request_id = app.request_discount(
        project_id, org.kam, percentage=Percentage.of(5), justification="j", at=at(2)
    )
    app.remove_member(org.team_id, org.senior, org.project_director, reason="moved", at=at(3))

    with unchanged(app), pytest.raises(MemberInactive):
        app.approve_discount(project_id, org.project_director, request_id, at=at(4))

    assert app.get_project(project_id).pending_discount_requests()


def test_a_member_cannot_approve_their_own_request(app: KamApplication, org: Org) -> None:
    """The director asks for 5 % and cannot approve it."""
    project_id = started(app, org)
    request_id = app.request_discount(
        project_id, org.director, percentage=Percentage.of(5), justification="j", at=at(2)
    )

    with unchanged(app), pytest.raises(SelfApproval):
        app.approve_discount(project_id, org.director, request_id, at=at(3))

    assert app.get_project(project_id).decision(request_id) is None


def test_the_facade_refuses_to_approve_as_a_policy(app: KamApplication, org: Org) -> None:
    """A caller naming a policy as the actor is refused and nothing is recorded: only the engine
    acts as a policy, with its decision record."""
    project_id = started(app, org)
    request_id = app.request_discount(
        project_id, org.kam, percentage=Percentage.of(4), justification="j", at=at(2)
    )

    with unchanged(app), pytest.raises(PolicyImpersonation, match="actor: policy:price_approval@1"):
        app.approve_discount(project_id, POLICY, request_id, approver_id=org.kam, at=at(2))

    assert app.get_project(project_id).decision(request_id) is None


@pytest.mark.parametrize(("actor", "approver"), [("system", None), ("member", "director")])
def test_the_approver_is_the_member_or_named_by_the_policy(
    app: KamApplication, org: Org, actor: str, approver: str | None
) -> None:
    """A system actor must name its approver; a member cannot approve in someone else's name."""
    project_id = started(app, org)
    request_id = app.request_discount(
        project_id, org.kam, percentage=Percentage.of(4), justification="j", at=at(2)
    )
    acting: Any = PRICING_DESK if actor == "system" else org.project_director
    approver_id = None if approver is None else getattr(org, approver)

    with unchanged(app), pytest.raises(ValidationError, match="approver_id"):
        app.approve_discount(project_id, acting, request_id, approver_id=approver_id, at=at(3))

    assert app.get_project(project_id).decision(request_id) is None


def test_a_system_actor_escalates_and_then_rejects(app: KamApplication, org: Org) -> None:
    """Routed up to the senior director by the host's pricing desk, then rejected by it: no
    longer pending."""
    project_id = started(app, org)
    app.set_price_band(project_id, org.senior, list_price=cny(1000), floor=cny(700), at=at(2))
    request_id = app.request_discount(
        project_id, org.kam, percentage=Percentage.of(25), justification="j", at=at(2)
    )

    app.escalate_discount(
        project_id,
        PRICING_DESK,
        request_id,
        to_role=Role.SENIOR_SALES_DIRECTOR,
        reason="beyond 20 %",
        at=at(2),
    )
    assert [p.request.escalated_to for p in app.pending_discount_requests(org.team_id)] == [
        Role.SENIOR_SALES_DIRECTOR
    ]
    app.reject_discount(
        project_id, PRICING_DESK, request_id, reason="the account is under review", at=at(2)
    )

    assert app.pending_discount_requests(org.team_id) == []
    decision = app.get_project(project_id).decision(request_id)
    assert decision is not None
    assert (decision.outcome, decision.decided_by) == (DiscountOutcome.REJECTED, "pricing-desk")


def test_members_escalate_and_reject_with_their_credentials(app: KamApplication, org: Org) -> None:
    """The project director passes a request up; the sales director rejects it."""
    project_id = started(app, org)
    request_id = app.request_discount(
        project_id, org.rep, percentage=Percentage.of(9), justification="j", at=at(2)
    )

    app.escalate_discount(
        project_id,
        org.project_director,
        request_id,
        to_role=Role.SALES_DIRECTOR,
        reason="strategic",
        at=at(3),
    )
    app.reject_discount(project_id, org.director, request_id, reason="not now", at=at(4))

    decision = app.get_project(project_id).decision(request_id)
    assert decision is not None
    assert decision.credentials is not None
    assert decision.credentials.member_id == org.director


def test_pending_requests_of_a_team_across_projects_oldest_first(
    app: KamApplication, org: Org
) -> None:
    """Each pending request comes with its project, in the order they were made."""
    first = started(app, org, "Core")
    second = started(app, org, "Edge")
    late = app.request_discount(
        first, org.kam, percentage=Percentage.of(3), justification="j", at=at(5)
    )
    early = app.request_discount(
        second, org.rep, percentage=Percentage.of(4), justification="j", at=at(2)
    )
    decided = app.request_discount(
        second, org.kam, percentage=Percentage.of(2), justification="j", at=at(3)
    )
    app.approve_discount(second, org.project_director, decided, at=at(4))

    pending = app.pending_discount_requests(org.team_id)

    assert [(p.project_id, p.request.request_id) for p in pending] == [
        (second, early),
        (first, late),
    ]
    assert pending[0].project_name == "Edge"
    with unchanged(app), pytest.raises(TeamNotFound):
        app.pending_discount_requests(uuid4())


def test_the_project_director_is_handed_over_through_the_facade(
    app: KamApplication, org: Org
) -> None:
    """A director hands the project to a newly joined project director."""
    project_id = started(app, org)
    newcomer = app.add_member(
        org.team_id, org.senior, name="Qian Project", role=Role.PROJECT_DIRECTOR, at=at(2)
    )

    app.change_project_director(
        project_id, org.director, project_director_id=newcomer, reason="workload", at=at(3)
    )

    assert app.get_project(project_id).project_director_id == newcomer


def test_a_lost_project_closes_as_lost(app: KamApplication, org: Org) -> None:
    """The KAM records the loss and the project director closes the project as lost."""
    project_id = started(app, org)
    app.submit_proposal(project_id, org.kam, amount=cny(950), summary="bid", at=at(2))

    app.mark_project_lost(project_id, org.kam, reason="lower bid won", at=at(3))
    app.close_project(project_id, org.project_director, outcome=ProjectOutcome.LOST, at=at(4))

    project = app.get_project(project_id)
    assert (project.lost_reason, project.outcome) == ("lower bid won", ProjectOutcome.LOST)


def test_the_minimum_margin_is_set_through_the_facade(app: KamApplication, org: Org) -> None:
    """A sales director raises the minimum margin for a project."""
    project_id = started(app, org)

    app.set_minimum_margin(
        project_id,
        org.director,
        minimum_margin=Percentage.of(25),
        reason="hardware-heavy",
        at=at(2),
    )

    assert app.get_project(project_id).minimum_margin == Percentage.of(25)


def test_earlier_versions_of_a_project_can_be_read(app: KamApplication, org: Org) -> None:
    """get_project(version=n) shows the project as it was after its n-th event."""
    project_id = started(app, org)

    first = app.get_project(project_id, version=1)

    assert (first.version, first.status, first.price_band) == (1, ProjectStatus.INITIATED, None)
    assert app.get_project(project_id).price_band is not None


@pytest.mark.parametrize("project_id", ["team", "unknown", "text"])
def test_unknown_projects_are_not_found(app: KamApplication, org: Org, project_id: str) -> None:
    """A team's id, an unknown id and a non-UUID are refused, naming project_id."""
    given: Any = {"team": org.team_id, "unknown": uuid4(), "text": "p-1"}[project_id]
    error = ValidationError if project_id == "text" else ProjectNotFound

    with unchanged(app), pytest.raises(error, match="project_id"):
        app.get_project(given)
    with unchanged(app), pytest.raises(error, match="project_id"):
        app.record_cost(given, org.finance, amount=cny(1), category="c", at=at(1))


def test_state_reloaded_from_the_store_equals_the_state_in_memory(
    app: KamApplication, org: Org, store: str, backend: str
) -> None:
    """A second application on the same store reads the same project back."""
    if backend == "memory":
        pytest.skip("a memory store is private to its application")
    project_id = started(app, org)
    request_id = app.request_discount(
        project_id, org.kam, percentage=Percentage.of(8), justification="j", at=at(2)
    )
    app.approve_discount(project_id, org.project_director, request_id, at=at(3))
    app.record_quote(
        project_id, org.support, vendor="V", list_price=cny(10), discount=Percentage.of(1), at=at(3)
    )
    app.identify_risk(project_id, org.kam, description="d", at=at(3))
    in_memory = app.get_project(project_id)

    reopened = KamApplication(store)
    try:
        assert reopened.get_project(project_id) == in_memory
        assert reopened.projects(team_id=org.team_id) == [in_memory]
    finally:
        reopened.close()


class SnapshottingApplication(KamApplication):
    """Snapshots projects every three events, so tests load them from snapshots."""

    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        **KamApplication.snapshotting_intervals,
        Project: 3,
    }


def test_a_project_survives_snapshots(store: str, backend: str) -> None:
    """Loaded from a snapshot (plus later events), a project equals the one that was saved."""
    if backend == "memory":
        pytest.skip("a memory store is private to its application")
    app = SnapshottingApplication(store)
    try:
        org = build_org(app)
        project_id = started(app, org)
        request_id = app.request_discount(
            project_id, org.kam, percentage=Percentage.of(8), justification="j", at=at(2)
        )
        app.approve_discount(project_id, org.project_director, request_id, at=at(3))
        app.assess_feasibility(
            project_id,
            org.project_director,
            verdict=FeasibilityVerdict.FEASIBLE_WITH_CONDITIONS,
            value_positioning="v",
            risks=["a", "b"],
            at=at(3),
        )
        app.submit_proposal(project_id, org.kam, amount=cny(920), summary="s", at=at(4))
        app.sign_contract(project_id, org.rep, value=cny(920), at=at(5))
        app.plan_implementation(
            project_id, org.project_director, milestones=[("go live", at(9))], headcount=2, at=at(6)
        )
        app.record_revenue(
            project_id, org.finance, amount=cny(Decimal("920.50")), category="c", at=at(7)
        )
        in_memory = app.get_project(project_id)
        assert app.snapshots is not None
        assert list(app.snapshots.get(project_id))
    finally:
        app.close()

    reopened = SnapshottingApplication(store)
    try:
        assert reopened.get_project(project_id) == in_memory
    finally:
        reopened.close()
