"""Price approval: within the requester's own authority, routed up to the first role that covers
the discount, rejected beyond the top; the floor and the margin minimum; nothing decided twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam_domain.aggregates.project import (
    DiscountOutcome,
    FeasibilityVerdict,
    Project,
    ProjectOutcome,
)
from kam_domain.aggregates.team import APPROVER_ROLES, Team
from kam_domain.errors import SelfApproval
from kam_domain.policies import Decision
from kam_domain.policies.price_approval import (
    ROUTE,
    ApproveDiscount,
    EscalateDiscount,
    PriceApprovalPolicy,
    RejectDiscount,
)
from kam_domain.testing.policies import PolicyScenario
from kam_domain.values import (
    AccountId,
    DiscountRequestId,
    MemberId,
    Money,
    Percentage,
    ProjectId,
    QuoteId,
    Role,
)
from tests.policies.staff import Staff, carry_out, staffed
from tests.support import at, meta, unchanged

ACCOUNT = AccountId(uuid4())
REQUESTED = at(1)


def cny(amount: int | str) -> Money:
    return Money.of(amount, "CNY")


def priced(staff: Staff, *, floor: int = 700) -> Project:
    """A project of the standard team with a band of 1000 / ``floor`` set by the senior director."""
    kam, pd, senior = staff.creds(staff.kam), staff.creds(staff.pd), staff.creds(staff.senior)
    project = Project.initiate(
        meta(kam),
        kam,
        ProjectId(uuid4()),
        team_id=staff.team_id,
        account_id=ACCOUNT,
        name="Core network upgrade",
        currency="CNY",
        project_director=pd,
        account_manager_id=staff.kam,
    )
    project.assess_feasibility(
        meta(pd), pd, verdict=FeasibilityVerdict.FEASIBLE, value_positioning="lowest latency"
    )
    project.set_price_band(meta(senior), senior, list_price=cny(1000), floor=cny(floor))
    return project


def cost(staff: Staff, project: Project, amount: int) -> None:
    """The project director records a cost before the request."""
    pd = staff.creds(staff.pd, at(0.5))
    project.record_cost(meta(pd, at(0.5)), pd, amount=cny(amount), category="hardware")


def request(
    staff: Staff, project: Project, who: MemberId, percentage: int, when: datetime = REQUESTED
) -> DiscountRequestId:
    request_id = DiscountRequestId(uuid4())
    by = staff.creds(who, when)
    project.request_discount(
        meta(by, when), by, request_id, percentage=Percentage.of(percentage), justification="bid"
    )
    return request_id


def decide(
    staff: Staff, project: Project, who: MemberId, percentage: int
) -> tuple[Decision | None, DiscountRequestId, PolicyScenario]:
    """Given the team and the project so far, when ``who`` asks for ``percentage``: the decision."""
    scenario = PolicyScenario(PriceApprovalPolicy()).given(
        *staff.events(), *project.collect_events()
    )
    request_id = request(staff, project, who, percentage)
    decision = scenario.when(*project.collect_events())
    return decision, request_id, scenario


def carried_out(decision: Decision, staff: Staff, project: Project) -> list[Any]:
    return carry_out(PriceApprovalPolicy(), decision, staff.team, project, when=REQUESTED)


# -- within the requester's own authority ------------------------------------------------------


def test_approves_a_request_within_the_requesters_own_authority() -> None:
    """A KAM's 4 % lies within their own 5 %: approved on their authority, naming the policy."""
    staff = staffed()
    project = priced(staff)

    decision, request_id, _ = decide(staff, project, staff.kam, 4)

    assert decision is not None
    assert decision.outcome == "approve"
    assert "within Li Manager's own authority of 5%" in decision.reason
    assert decision.actions == (ApproveDiscount(project.id, request_id, staff.team_id, staff.kam),)
    [event] = carried_out(decision, staff, project)
    assert isinstance(event, Project.DiscountApproved)
    assert (event.approver.member_id, event.decided_by) == (staff.kam, "price_approval@1")


def test_inputs_show_the_request_the_band_the_margin_and_each_roles_authority() -> None:
    """The decision lists what it weighed: requester, percentage, prices, margin, authorities."""
    staff = staffed()
    project = priced(staff)

    decision, request_id, _ = decide(staff, project, staff.kam, 4)

    assert decision is not None
    assert decision.inputs == {
        "request": str(request_id),
        "requested_at": REQUESTED.isoformat(),
        "requester": f"Li Manager ({staff.kam}), key_account_manager",
        "requester_authority": "5%",
        "percentage": "4%",
        "authority project_director": "10%",
        "authority sales_director": "20%",
        "authority senior_sales_director": "30%",
        "list_price": "1,000.00 CNY",
        "price": "960.00 CNY",
        "floor": "700.00 CNY",
        "margin": "100.00%",
        "minimum_margin": "15%",
    }


def test_a_representative_is_never_approved_on_their_own_authority() -> None:
    """Representatives hold no authority: even 3 % goes up to the project director."""
    staff = staffed()
    project = priced(staff)

    decision, _, _ = decide(staff, project, staff.rep, 3)

    assert decision is not None
    assert decision.outcome == "escalate project_director"
    assert decision.inputs["requester_authority"] == "none"


def test_the_authority_counted_is_the_one_in_force_when_the_request_was_made() -> None:
    """A KAM whose grant was revoked before asking has no authority of their own to use."""
    staff = staffed()
    project = priced(staff)
    staff.revoke(staff.grants[staff.kam], at(0.5))

    decision, _, _ = decide(staff, project, staff.kam, 4)

    assert decision is not None
    assert decision.outcome == "escalate project_director"
    assert decision.inputs["requester_authority"] == "none"


# -- routed upward -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("percentage", "role"),
    [
        (8, Role.PROJECT_DIRECTOR),
        (10, Role.PROJECT_DIRECTOR),
        (15, Role.SALES_DIRECTOR),
        (20, Role.SALES_DIRECTOR),
        (25, Role.SENIOR_SALES_DIRECTOR),
        (30, Role.SENIOR_SALES_DIRECTOR),
    ],
)
def test_routes_beyond_the_requesters_authority_to_the_first_role_that_covers_it(
    percentage: int, role: Role
) -> None:
    """Beyond the KAM's 5 %, the request goes to the first of 10 / 20 / 30 % that covers it."""
    staff = staffed()
    project = priced(staff)

    decision, request_id, _ = decide(staff, project, staff.kam, percentage)

    assert decision is not None
    assert decision.outcome == f"escalate {role.value}"
    assert f"the first role whose authority covers it: {role.label}" in decision.reason
    [action] = decision.actions
    assert action == EscalateDiscount(project.id, request_id, role, decision.reason)
    [event] = carried_out(decision, staff, project)
    assert isinstance(event, Project.DiscountEscalated)
    assert (event.to_role, event.escalated_by) == (role, None)
    assert project.discount_requests[request_id].escalated_to is role


def test_the_role_escalated_to_can_then_approve_by_hand() -> None:
    """After routing a KAM's 15 % to the sales director, the sales director approves it."""
    staff = staffed()
    project = priced(staff)
    decision, request_id, _ = decide(staff, project, staff.kam, 15)
    assert decision is not None
    carried_out(decision, staff, project)
    director = staff.creds(staff.director, at(2))

    project.approve_discount(meta(director, at(2)), director, request_id)

    approved = project.decision(request_id)
    assert approved is not None
    assert approved.outcome is DiscountOutcome.APPROVED


def test_members_who_left_do_not_count_for_their_role() -> None:
    """With the only project director gone, an 8 % request skips to the sales director."""
    staff = staffed()
    project = priced(staff)
    staff.leave(staff.pd, at(0.5))

    decision, _, _ = decide(staff, project, staff.kam, 8)

    assert decision is not None
    assert decision.outcome == "escalate sales_director"
    assert decision.inputs["authority project_director"] == "none"


def test_another_member_of_the_requesters_role_may_cover_it() -> None:
    """A project director's 12 % goes to project directors when another one holds 15 %;
    the requester still cannot approve it themselves."""
    staff = staffed()
    project = priced(staff)
    pd2 = staff.join("Qian Project", Role.PROJECT_DIRECTOR, authority=15)

    decision, request_id, _ = decide(staff, project, staff.pd, 12)

    assert decision is not None
    assert decision.outcome == "escalate project_director"
    carried_out(decision, staff, project)
    requester = staff.creds(staff.pd, at(2))
    with unchanged(project), pytest.raises(SelfApproval):
        project.approve_discount(meta(requester, at(2)), requester, request_id)
    other = staff.creds(pd2, at(2))
    project.approve_discount(meta(other, at(2)), other, request_id)
    assert project.discount_requests[request_id].decision is not None


@pytest.mark.parametrize(
    ("requester", "outcome"),
    [
        ("kam", "escalate project_director"),
        ("director", "escalate senior_sales_director"),
    ],
)
def test_a_request_never_goes_down_the_hierarchy(requester: str, outcome: str) -> None:
    """With a project director holding 28 %, a KAM's 25 % goes to them, but a sales director's
    25 % goes up to the senior sales director, not down."""
    staff = staffed()
    project = priced(staff)
    staff.grant(staff.pd, 28)

    decision, _, _ = decide(staff, project, getattr(staff, requester), 25)

    assert decision is not None
    assert decision.outcome == outcome


# -- beyond the top ----------------------------------------------------------------------------


def test_rejects_a_request_no_role_covers() -> None:
    """Once the senior director's temporary 50 % has lapsed, 35 % is beyond everyone: rejected."""
    staff = staffed()
    staff.grant(staff.senior, 50, until=at(0.5), by_company=True)
    project = priced(staff, floor=500)

    decision, request_id, _ = decide(staff, project, staff.kam, 35)

    assert decision is not None
    assert decision.outcome == "reject"
    assert "holds an authority covering 35%" in decision.reason
    assert decision.inputs["authority senior_sales_director"] == "30%"
    assert decision.inputs["route"] == "[project_director, sales_director, senior_sales_director]"
    assert decision.actions == (RejectDiscount(project.id, request_id, decision.reason),)
    [event] = carried_out(decision, staff, project)
    assert isinstance(event, Project.DiscountRejected)
    assert (event.rejected_by, event.decided_by) == (None, "price_approval@1")


def test_a_senior_directors_request_beyond_every_authority_is_rejected() -> None:
    """The senior director's own 35 % (beyond their lapsed 50 %) has nowhere higher to go."""
    staff = staffed()
    staff.grant(staff.senior, 50, until=at(0.5), by_company=True)
    project = priced(staff, floor=500)

    decision, _, _ = decide(staff, project, staff.senior, 35)

    assert decision is not None
    assert decision.outcome == "reject"
    assert decision.inputs["route"] == "[senior_sales_director]"


# -- the floor ---------------------------------------------------------------------------------


def test_rejects_a_price_that_a_revised_band_puts_below_the_floor() -> None:
    """Decided after the band's floor rose to 800 (a retry), a 25 % request is rejected."""
    staff = staffed()
    project = priced(staff)
    scenario = PolicyScenario(PriceApprovalPolicy()).given(
        *staff.events(), *project.collect_events()
    )
    request_id = request(staff, project, staff.kam, 25)
    [cause] = project.collect_events()
    senior = staff.creds(staff.senior, at(2))
    project.set_price_band(meta(senior, at(2)), senior, list_price=cny(1000), floor=cny(800))
    scenario.given(cause, *project.collect_events())

    decision = scenario.policy.decide(cause, scenario.world)

    assert decision is not None
    assert decision.outcome == "reject"
    assert "750.00 CNY after 25% is below the floor 800.00 CNY" in decision.reason
    assert (decision.inputs["price"], decision.inputs["floor"]) == ("750.00 CNY", "800.00 CNY")
    carry_out(scenario.policy, decision, staff.team, project, when=at(2))
    rejected = project.decision(request_id)
    assert rejected is not None
    assert rejected.outcome is DiscountOutcome.REJECTED


# -- the margin minimum ------------------------------------------------------------------------


@pytest.mark.parametrize(("requester", "percentage"), [("kam", 4), ("pd", 8)])
def test_a_margin_under_the_minimum_goes_to_a_sales_director_even_within_authority(
    requester: str, percentage: int
) -> None:
    """With 850 of costs the margin falls under 15 %: a KAM's or project director's request
    within their own authority still goes to the sales director."""
    staff = staffed()
    project = priced(staff)
    cost(staff, project, 850)

    decision, _, _ = decide(staff, project, getattr(staff, requester), percentage)

    assert decision is not None
    assert decision.outcome == "escalate sales_director"
    assert "under the minimum 15%, so a sales director must approve" in decision.reason
    assert decision.inputs["route"] == "[sales_director, senior_sales_director]"
    carried_out(decision, staff, project)


def test_a_short_margin_beyond_the_sales_directors_authority_goes_to_the_senior() -> None:
    """A short margin starts the route at the sales director, and 25 % climbs past them."""
    staff = staffed()
    project = priced(staff)
    cost(staff, project, 700)

    decision, _, _ = decide(staff, project, staff.kam, 25)

    assert decision is not None
    assert decision.outcome == "escalate senior_sales_director"
    assert decision.inputs["margin"] == "6.67%"


@pytest.mark.parametrize("requester", ["director", "senior"])
def test_a_sales_director_within_authority_is_approved_despite_a_short_margin(
    requester: str,
) -> None:
    """A sales director of either grade is who a short margin needs: approved on their own."""
    staff = staffed()
    project = priced(staff)
    cost(staff, project, 850)

    decision, _, _ = decide(staff, project, getattr(staff, requester), 4)

    assert decision is not None
    assert decision.outcome == "approve"
    assert "is under the minimum 15%" in decision.reason
    [event] = carried_out(decision, staff, project)
    assert isinstance(event, Project.DiscountApproved)


@pytest.mark.parametrize(("confirmed", "outcome"), [(False, "approve"), (True, "escalate")])
def test_only_confirmed_third_party_quotes_count_against_the_margin(
    confirmed: bool, outcome: str
) -> None:
    """A vendor quote of 850 net cuts the margin under the minimum once it is confirmed."""
    staff = staffed()
    project = priced(staff)
    quote_id = QuoteId(uuid4())
    support = staff.creds(staff.support, at(0.5))
    project.record_quote(
        meta(support, at(0.5)),
        support,
        quote_id,
        vendor="Acme Optics",
        list_price=cny(1000),
        discount=Percentage.of(15),
    )
    if confirmed:
        pd = staff.creds(staff.pd, at(0.5))
        project.confirm_quote(meta(pd, at(0.5)), pd, quote_id)

    decision, _, _ = decide(staff, project, staff.kam, 4)

    assert decision is not None
    assert decision.outcome.split()[0] == outcome


# -- nothing decided twice ---------------------------------------------------------------------


def test_nothing_is_decided_about_a_request_decided_by_hand_meanwhile() -> None:
    """Retried after the project director approved by hand, the policy has nothing to do."""
    staff = staffed()
    project = priced(staff)
    scenario = PolicyScenario(PriceApprovalPolicy()).given(
        *staff.events(), *project.collect_events()
    )
    request_id = request(staff, project, staff.kam, 8)
    [cause] = project.collect_events()
    pd = staff.creds(staff.pd, at(2))
    project.approve_discount(meta(pd, at(2)), pd, request_id)
    scenario.given(cause, *project.collect_events())

    assert scenario.policy.decide(cause, scenario.world) is None


def test_nothing_is_decided_about_a_request_already_routed() -> None:
    """Retried after the project director passed the request up by hand: nothing to do."""
    staff = staffed()
    project = priced(staff)
    scenario = PolicyScenario(PriceApprovalPolicy()).given(
        *staff.events(), *project.collect_events()
    )
    request_id = request(staff, project, staff.kam, 8)
    [cause] = project.collect_events()
    pd = staff.creds(staff.pd, at(2))
    project.escalate_discount(
        meta(pd, at(2)), pd, request_id, to_role=Role.SALES_DIRECTOR, reason="strategic client"
    )
    scenario.given(cause, *project.collect_events())

    assert scenario.policy.decide(cause, scenario.world) is None


def test_a_request_left_pending_when_the_contract_was_signed_is_rejected() -> None:
    """Retried after the contract was signed, pricing is closed: the stale request is rejected."""
    staff = staffed()
    project = priced(staff)
    scenario = PolicyScenario(PriceApprovalPolicy()).given(
        *staff.events(), *project.collect_events()
    )
    request_id = request(staff, project, staff.kam, 8)
    [cause] = project.collect_events()
    kam, rep = staff.creds(staff.kam, at(2)), staff.creds(staff.rep, at(2))
    project.submit_proposal(meta(kam, at(2)), kam, amount=cny(950), summary="phase one")
    project.sign_contract(meta(rep, at(2)), rep, value=cny(950))
    scenario.given(cause, *project.collect_events())

    decision = scenario.policy.decide(cause, scenario.world)

    assert decision is not None
    assert decision.outcome == "reject"
    assert decision.reason == "pricing closed: the project is contracted"
    carry_out(scenario.policy, decision, staff.team, project, when=at(3))
    assert not project.discount_requests[request_id].is_pending


def test_nothing_is_decided_about_a_request_on_a_closed_project() -> None:
    """Retried after the project was closed (cancelled), the request is left alone."""
    staff = staffed()
    project = priced(staff)
    scenario = PolicyScenario(PriceApprovalPolicy()).given(
        *staff.events(), *project.collect_events()
    )
    request(staff, project, staff.kam, 8)
    [cause] = project.collect_events()
    pd = staff.creds(staff.pd, at(2))
    project.close(meta(pd, at(2)), pd, outcome=ProjectOutcome.CANCELLED, note="client withdrew")
    scenario.given(cause, *project.collect_events())

    assert scenario.policy.decide(cause, scenario.world) is None


def test_deciding_twice_on_the_same_world_gives_equal_decisions() -> None:
    """Decide is pure: the same event and world give the same decision, also to a new instance."""
    staff = staffed()
    project = priced(staff)
    scenario = PolicyScenario(PriceApprovalPolicy()).given(
        *staff.events(), *project.collect_events()
    )
    request(staff, project, staff.kam, 15)
    [cause] = project.collect_events()

    first = scenario.when(cause)
    second = scenario.policy.decide(cause, scenario.world)
    fresh = PriceApprovalPolicy().decide(cause, scenario.world)

    assert first is not None
    assert first == second == fresh
    assert first.outcome == "escalate sales_director"


# -- a property over teams and requests --------------------------------------------------------

REQUESTERS = ("kam", "rep", "pd", "director", "senior")


@given(
    kam=st.integers(1, 30),
    pd=st.integers(1, 30),
    director=st.integers(1, 30),
    requester=st.sampled_from(REQUESTERS),
    percentage=st.integers(1, 30),
    costs=st.sampled_from([0, 700, 850]),
)
def test_every_decision_follows_the_rule_and_can_be_carried_out(
    kam: int, pd: int, director: int, requester: str, percentage: int, costs: int
) -> None:
    """Approve only within the requester's authority (a director's when the margin is short);
    escalate to the lowest eligible covering role, where someone else can then approve;
    reject only when no eligible role covers; every decision's actions are accepted."""
    staff = staffed()
    for member, limit in ((staff.kam, kam), (staff.pd, pd), (staff.director, director)):
        staff.grant(member, limit)
    project = priced(staff)
    if costs:
        cost(staff, project, costs)
    who: MemberId = getattr(staff, requester)

    decision, request_id, _ = decide(staff, project, who, percentage)

    assert decision is not None
    wanted = Percentage.of(percentage)
    asker = staff.creds(who, REQUESTED)
    price = project.discount_requests[request_id].price
    short = project.margin_at(price) < project.minimum_margin.value
    own = asker.role in APPROVER_ROLES and asker.covers(wanted)
    eligible = [
        role
        for role in ROUTE
        if (not short or role.is_director)
        and (asker.role not in ROUTE or ROUTE.index(role) >= ROUTE.index(asker.role))
    ]
    covering = [role for role in eligible if _someone_covers(staff.team, role, wanted)]
    if own and (not short or asker.role.is_director):
        assert decision.outcome == "approve"
    elif covering:
        assert decision.outcome == f"escalate {covering[0].value}"
    else:
        assert decision.outcome == "reject"
    carried_out(decision, staff, project)
    request_now = project.discount_requests[request_id]
    if request_now.escalated_to is not None:
        _someone_else_approves(staff, project, request_id, request_now.escalated_to, who)


def _someone_covers(team: Team, role: Role, wanted: Percentage) -> bool:
    members = team.active_members(role)
    return any(team.credentials(m.member_id, REQUESTED).covers(wanted) for m in members)


def _someone_else_approves(
    staff: Staff, project: Project, request_id: DiscountRequestId, role: Role, requester: MemberId
) -> None:
    when = at(2)
    approvers = [
        staff.creds(m.member_id, when)
        for m in staff.team.active_members(role)
        if m.member_id != requester
    ]
    wanted = project.discount_requests[request_id].percentage
    approver = next(c for c in approvers if c.covers(wanted))
    project.approve_discount(meta(approver, when), approver, request_id)
    assert project.decision(request_id) is not None


def test_the_policy_names_itself_and_reacts_to_discount_requests() -> None:
    """Registered as price_approval@1, it reacts to DiscountRequested and reads no parameters."""
    policy = PriceApprovalPolicy()

    assert (policy.key(), policy.handles, policy.parameters) == (
        "price_approval@1",
        (Project.DiscountRequested,),
        {},
    )
