"""Attacks on approval chains and delegation through the public API: a member of the team tries
to get a discount approved beyond what the rules allow; each attempt is refused with nothing
recorded, or listed by the exceptions report."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from kam_domain.aggregates.base import utc_now
from kam_domain.aggregates.team import ApprovalChainRules, ChainCondition, ChainRule
from kam_domain.application import KamApplication
from kam_domain.audit.exceptions import FindingKind, exceptions_report
from kam_domain.errors import (
    AlreadyDecided,
    ApprovalStepsPending,
    AuthorityExceeded,
    BackdatedBeyondWindow,
    GrantBeyondOwnAuthority,
    InvalidTransition,
    KamDomainError,
    MemberInactive,
    NoDelegation,
    NotTheRequester,
    RoleRequired,
    SelfApproval,
    StepApproverRepeated,
)
from kam_domain.values import Actor, Percentage
from tests.application.test_approval_chains import FP, PD, RULES, SD, ask, chained
from tests.application.test_projects import cny
from tests.conftest import Org
from tests.support import at, unchanged

#: Above 3 %: the project director and the financial planner in parallel, then the sales
#: director.
PARALLEL = ApprovalChainRules(
    (
        ChainRule(ChainCondition.ABOVE, 1, (PD, FP), Percentage.of(3)),
        ChainRule(ChainCondition.ABOVE, 2, (SD,), Percentage.of(3)),
    ),
    step_hours=24,
)


def parallel(app: KamApplication, org: Org) -> UUID:
    """The parallel rules in force from day 0, a started project with a band down to 20 %."""
    project_id = chained(app, org)
    app.set_approval_chain_rules(org.team_id, org.director, PARALLEL, at=at(0, 1))
    app.set_price_band(project_id, org.director, list_price=cny(1000), floor=cny(800), at=at(1))
    return project_id


def delegate(
    app: KamApplication,
    org: Org,
    by: UUID,
    delegator: UUID,
    to: UUID,
    limit: int | None = None,
    *,
    day: float = 1,
    start: float = 2,
) -> UUID:
    return app.delegate_authority(
        org.team_id,
        by,
        delegator_id=delegator,
        delegate_id=to,
        valid_from=at(start),
        valid_until=at(10),
        reason="away",
        max_discount=None if limit is None else Percentage.of(limit),
        at=at(day),
    )


def step(
    app: KamApplication,
    project_id: UUID,
    who: UUID,
    request_id: UUID,
    number: int,
    *,
    day: float = 3,
    for_: UUID | None = None,
) -> None:
    app.approve_discount_step(
        project_id, who, request_id, step=number, on_behalf_of=for_, at=at(day)
    )


# -- one person, two steps -----------------------------------------------------------------------


def test_one_director_cannot_approve_two_parallel_steps(app: KamApplication, org: Org) -> None:
    """The sales director approves the project director's step (a higher role may): the sales
    director's own step later needs another approver."""
    project_id = parallel(app, org)
    request_id = ask(app, org, project_id, 8)
    step(app, project_id, org.director, request_id, 1)
    step(app, project_id, org.finance, request_id, 2)
    with unchanged(app), pytest.raises(StepApproverRepeated):
        step(app, project_id, org.director, request_id, 3)


def test_a_member_cannot_approve_once_directly_and_once_on_behalf(
    app: KamApplication, org: Org
) -> None:
    """The project director approves his step, then the sales director's on her behalf (she
    delegated to him): refused; and the other way round on a second request."""
    project_id = chained(app, org)
    delegate(app, org, org.director, org.director, org.project_director)
    first, second = ask(app, org, project_id, 8), ask(app, org, project_id, 7)
    step(app, project_id, org.project_director, first, 1)
    with unchanged(app), pytest.raises(StepApproverRepeated):
        step(app, project_id, org.project_director, first, 2, day=4, for_=org.director)

    step(app, project_id, org.project_director, second, 1, day=4, for_=org.director)
    with unchanged(app), pytest.raises(StepApproverRepeated):
        step(app, project_id, org.director, second, 2, day=5)


def test_mutual_delegations_do_not_let_two_members_pass_for_four(
    app: KamApplication, org: Org
) -> None:
    """The project director and the sales director delegate to each other: one approves step 1
    on the other's behalf, and the other cannot then approve step 2 on the first's behalf."""
    project_id = chained(app, org)
    delegate(app, org, org.project_director, org.project_director, org.director)
    delegate(app, org, org.director, org.director, org.project_director)
    request_id = ask(app, org, project_id, 8)
    step(app, project_id, org.director, request_id, 1, for_=org.project_director)
    with unchanged(app), pytest.raises(StepApproverRepeated):
        step(app, project_id, org.project_director, request_id, 2, day=4, for_=org.director)


def test_two_delegates_of_one_member_cannot_approve_two_steps(
    app: KamApplication, org: Org
) -> None:
    """The sales director delegates to the project director and to a KAM: her authority
    approves one step of a chain, however many delegates hold it."""
    project_id = chained(app, org)
    delegate(app, org, org.director, org.director, org.project_director)
    delegate(app, org, org.director, org.director, org.kam2)
    request_id = ask(app, org, project_id, 8)
    step(app, project_id, org.project_director, request_id, 1, for_=org.director)
    with unchanged(app), pytest.raises(StepApproverRepeated):
        step(app, project_id, org.kam2, request_id, 2, day=4, for_=org.director)


# -- the requester -------------------------------------------------------------------------------


def test_a_delegate_cannot_approve_their_own_request(app: KamApplication, org: Org) -> None:
    """The KAM who asked holds the project director's delegation: she approves none of her
    request's steps on his behalf."""
    project_id = chained(app, org)
    delegate(app, org, org.project_director, org.project_director, org.kam)
    request_id = ask(app, org, project_id, 8)
    with unchanged(app), pytest.raises(SelfApproval):
        step(app, project_id, org.kam, request_id, 1, for_=org.project_director)


def test_a_delegate_cannot_approve_the_delegators_request(app: KamApplication, org: Org) -> None:
    """The requesting KAM delegates to the project director: he cannot approve her request on
    her behalf (her role decides no step, and she asked)."""
    project_id = chained(app, org)
    delegate(app, org, org.kam, org.kam, org.project_director)
    request_id = ask(app, org, project_id, 8)
    with unchanged(app), pytest.raises((SelfApproval, RoleRequired)):
        step(app, project_id, org.project_director, request_id, 1, for_=org.kam)


# -- authority passed along ----------------------------------------------------------------------


def test_a_re_delegation_passes_only_the_re_delegators_own_authority(
    app: KamApplication, org: Org
) -> None:
    """The sales director (20 %) delegates to the project director (10 %), who re-delegates to
    a KAM: the KAM holds the project director's 10 % and role, never the sales director's; and
    the project director cannot re-delegate more than his own 10 %."""
    project_id = parallel(app, org)
    delegate(app, org, org.director, org.director, org.project_director)
    with unchanged(app), pytest.raises(GrantBeyondOwnAuthority):
        delegate(app, org, org.project_director, org.project_director, org.kam2, 15)
    delegate(app, org, org.project_director, org.project_director, org.kam2)
    request_id = ask(app, org, project_id, 15)
    with unchanged(app), pytest.raises(AuthorityExceeded):
        step(app, project_id, org.kam2, request_id, 1, for_=org.project_director)
    step(app, project_id, org.finance, request_id, 2)
    with unchanged(app), pytest.raises(NoDelegation):
        step(app, project_id, org.kam2, request_id, 1, for_=org.director)


def test_a_director_cannot_delegate_a_higher_members_authority_to_themselves(
    app: KamApplication, org: Org
) -> None:
    """The sales director (20 %) records a delegation from the senior sales director (30 %) to
    herself: refused, as granting herself authority is."""
    with unchanged(app), pytest.raises((SelfApproval, GrantBeyondOwnAuthority, RoleRequired)):
        delegate(app, org, org.director, org.senior, org.director)


def test_a_director_cannot_delegate_beyond_their_own_authority_for_another(
    app: KamApplication, org: Org
) -> None:
    """The sales director (20 %) records the senior sales director's whole 30 % to a KAM: she
    cannot grant that KAM more than 20 % herself, nor through a delegation she records."""
    with unchanged(app), pytest.raises((GrantBeyondOwnAuthority, RoleRequired)):
        delegate(app, org, org.director, org.senior, org.kam2)
    with unchanged(app), pytest.raises((GrantBeyondOwnAuthority, RoleRequired)):
        delegate(app, org, org.director, org.senior, org.kam2, 25)


def test_a_partial_delegation_follows_the_delegators_lowered_authority(
    app: KamApplication, org: Org
) -> None:
    """The project director (10 %) delegates 9 %; his grant is revoked and 5 % granted on day
    2: his delegate approves no step at 8 % on his behalf on day 3."""
    project_id = parallel(app, org)
    delegate(app, org, org.project_director, org.project_director, org.kam2, 9)
    team = app.get_team(org.team_id)
    [grant] = [g for g in team.grants.values() if g.member_id == org.project_director]
    app.revoke_authority(org.team_id, org.senior, grant.grant_id, reason="cut", at=at(2))
    app.grant_authority(
        org.team_id, org.senior, org.project_director, max_discount=Percentage.of(5), at=at(2)
    )
    request_id = ask(app, org, project_id, 8)
    with unchanged(app), pytest.raises(AuthorityExceeded):
        step(app, project_id, org.kam2, request_id, 1, for_=org.project_director)


# -- dates ---------------------------------------------------------------------------------------


def test_an_approval_dated_back_into_an_ended_delegation_is_refused(
    app: KamApplication, org: Org
) -> None:
    """The delegation ended on day 5; a step approved on day 6 dated day 4 (inside the window)
    is refused: an end recorded by then counts."""
    project_id = chained(app, org)
    delegation_id = delegate(app, org, org.project_director, org.project_director, org.kam2)
    request_id = ask(app, org, project_id, 8)
    app.end_delegation(org.team_id, org.project_director, delegation_id, reason="back", at=at(5))
    with unchanged(app), pytest.raises(NoDelegation):
        step(app, project_id, org.kam2, request_id, 1, day=4, for_=org.project_director)


def test_a_delegation_dated_back_before_it_was_recorded_is_listed(
    app: KamApplication, org: Org
) -> None:
    """A delegation recorded on day 5 but in force from day 2, and a step approved under it
    dated day 3: the exceptions report, reading the team as it stood on day 3, lists the
    approval as outside any delegation in force."""
    project_id = wide(app, org)
    delegate(app, org, org.project_director, org.project_director, org.kam2, day=5)
    request_id = app.request_discount(
        project_id, org.kam, percentage=Percentage.of(8), justification="rival", at=at(2)
    )
    app.approve_discount_on_behalf(
        project_id, org.kam2, request_id, delegator_id=org.project_director, at=at(3)
    )
    report = exceptions_report(app)
    [finding] = report.of(FindingKind.APPROVAL_OUTSIDE_AUTHORITY)
    assert "no delegation" in finding.summary


def wide(app: KamApplication, org: Org) -> UUID:
    """A started project without chain rules, its band reaching 20 % down."""
    from tests.application.test_projects import started

    project_id = started(app, org)
    app.set_price_band(project_id, org.director, list_price=cny(1000), floor=cny(800), at=at(1))
    return project_id


def test_rules_turned_off_mid_chain_do_not_shorten_a_chain(app: KamApplication, org: Org) -> None:
    """A request made under the rules keeps its steps when the rules are turned off later, even
    from a date before it: it is not then approved in one go."""
    project_id = chained(app, org)
    request_id = ask(app, org, project_id, 8)
    app.set_approval_chain_rules(
        org.team_id, org.director, ApprovalChainRules.none(), effective_from=at(1), at=at(3)
    )
    with unchanged(app), pytest.raises(ApprovalStepsPending):
        app.approve_discount(project_id, org.director, request_id, at=at(3))
    chain = app.approval_chain(project_id, request_id)
    assert chain is not None
    assert len(chain.steps) == 2


def test_a_split_request_is_two_decisions_on_the_list_price(app: KamApplication, org: Org) -> None:
    """Open (a policy matter): 8 % asked as two 3 % requests meets no rule above 3 %; each is
    a single approval of 3 % off the list price, so the split gives no deeper discount."""
    project_id = chained(app, org)
    first, second = ask(app, org, project_id, 3), ask(app, org, project_id, 3)
    assert app.approval_chain(project_id, first) is None
    app.approve_discount(project_id, org.project_director, first, at=at(3))
    app.approve_discount(project_id, org.project_director, second, at=at(3))
    project = app.get_project(project_id)
    for request_id in (first, second):
        decision = project.discount_request(request_id).decision  # type: ignore[arg-type]
        assert decision is not None
        assert decision.price == cny(970)


# -- requests no longer pending, members gone, actors without credentials ------------------------


def test_only_the_requester_recalls(app: KamApplication, org: Org) -> None:
    """Another KAM, the sales director and the approver of a step do not recall a request."""
    project_id = chained(app, org)
    request_id = ask(app, org, project_id, 8)
    for who in (org.kam2, org.director, org.project_director):
        with unchanged(app), pytest.raises(NotTheRequester):
            app.recall_discount(project_id, who, request_id, reason="mine", at=at(3))


@pytest.mark.parametrize("how", ["recalled", "rejected"])
def test_a_recalled_or_rejected_request_takes_no_step(
    app: KamApplication, org: Org, how: str
) -> None:
    """Once recalled or rejected, none of the request's steps is approved."""
    project_id = chained(app, org)
    request_id = ask(app, org, project_id, 8)
    if how == "recalled":
        app.recall_discount(project_id, org.kam, request_id, reason="no", at=at(3))
    else:
        app.reject_discount(project_id, org.project_director, request_id, reason="no", at=at(3))
    with unchanged(app), pytest.raises((AlreadyDecided, InvalidTransition)):
        step(app, project_id, org.project_director, request_id, 1, day=4)


def test_a_member_who_left_approves_no_step(app: KamApplication, org: Org) -> None:
    """The project director left on day 3: he approves no step, directly or as a delegate, and
    his delegate approves none on his behalf."""
    project_id = chained(app, org)
    delegate(app, org, org.project_director, org.project_director, org.kam2)
    delegate(app, org, org.director, org.director, org.project_director)
    request_id = ask(app, org, project_id, 8)
    app.remove_member(org.team_id, org.senior, org.project_director, reason="left", at=at(3))
    with unchanged(app), pytest.raises(MemberInactive):
        step(app, project_id, org.project_director, request_id, 1, day=4)
    with unchanged(app), pytest.raises((MemberInactive, NoDelegation)):
        step(app, project_id, org.project_director, request_id, 1, day=4, for_=org.director)
    with unchanged(app), pytest.raises((MemberInactive, NoDelegation, RoleRequired)):
        step(app, project_id, org.kam2, request_id, 1, day=4, for_=org.project_director)


@pytest.mark.parametrize(
    "actor", [Actor.system("company"), Actor.system("clock"), Actor.policy("case_escalation", 2)]
)
def test_no_system_or_policy_actor_approves_a_step(
    app: KamApplication, org: Org, actor: Actor
) -> None:
    """The company, a system clock or a policy approves no step: steps need a member's
    credentials."""
    project_id = chained(app, org)
    request_id = ask(app, org, project_id, 8)
    with unchanged(app), pytest.raises(KamDomainError):
        app.approve_discount_step(project_id, actor, request_id, step=1, at=at(3))  # type: ignore[arg-type]


def test_the_exceptions_report_lists_a_step_approved_on_behalf(
    app: KamApplication, org: Org
) -> None:
    """A step approved on another's behalf, the request approved later under the approver's own
    authority, is still listed for review as an approval under delegation."""
    project_id = chained(app, org)
    delegate(app, org, org.project_director, org.project_director, org.kam2)
    request_id = ask(app, org, project_id, 8)
    step(app, project_id, org.kam2, request_id, 1, for_=org.project_director)
    step(app, project_id, org.director, request_id, 2, day=4)
    report = exceptions_report(app)
    [finding] = report.of(FindingKind.APPROVAL_UNDER_DELEGATION)
    assert "on behalf of Zhou Project" in finding.summary


def test_rules_recorded_later_with_an_earlier_start_are_no_finding(
    app: KamApplication, org: Org
) -> None:
    """A chain approved under the rules then in force, and stricter rules recorded on day 5 from
    day 1: the exceptions report holds the chain to the rules it was requested under."""
    project_id = chained(app, org)
    request_id = ask(app, org, project_id, 8)
    step(app, project_id, org.project_director, request_id, 1)
    step(app, project_id, org.director, request_id, 2, day=4)
    stricter = ApprovalChainRules(
        (*RULES.rules, ChainRule(ChainCondition.ABOVE, 3, (FP,), Percentage.of(3)))
    )
    app.set_approval_chain_rules(
        org.team_id, org.director, stricter, effective_from=at(1), at=at(5)
    )
    assert exceptions_report(app).of(FindingKind.APPROVAL_OUTSIDE_AUTHORITY) == []


def test_a_request_dated_back_before_the_rules_is_listed_as_backdated(
    app: KamApplication, org: Org
) -> None:
    """Open (by design, a backdating matter): rules in force from an hour ago, a request dated
    three hours ago meets none and is a single approval; the team's backdating window is the
    control, and the exceptions report lists the request as dated back."""
    project_id = wide(app, org)
    now = utc_now()
    app.set_approval_chain_rules(
        org.team_id, org.director, RULES, effective_from=now - timedelta(hours=1), at=now
    )
    request_id = app.request_discount(
        project_id,
        org.kam,
        percentage=Percentage.of(8),
        justification="rival",
        at=now - timedelta(hours=3),
    )
    assert app.approval_chain(project_id, request_id) is None
    backdated = exceptions_report(app).of(FindingKind.BACKDATED)
    assert any("DiscountRequested by Li Manager" in f.summary for f in backdated)


def test_a_backdating_window_refuses_a_request_dated_before_the_rules(
    app: KamApplication, org: Org
) -> None:
    """With a two-hour backdating window, the request dated three hours back is refused."""
    project_id = wide(app, org)
    now = utc_now()
    app.set_backdating_window(org.team_id, org.senior, window=timedelta(hours=2), at=now)
    app.set_approval_chain_rules(
        org.team_id, org.director, RULES, effective_from=now - timedelta(hours=1), at=now
    )
    with unchanged(app), pytest.raises(BackdatedBeyondWindow):
        app.request_discount(
            project_id,
            org.kam,
            percentage=Percentage.of(8),
            justification="rival",
            at=now - timedelta(hours=3),
        )


def test_a_chain_passed_by_the_rules_is_no_finding(app: KamApplication, org: Org) -> None:
    """A chain whose first step was escalated by hand, then approved by the sales director and
    the senior sales director: the exceptions report finds nothing outside authority."""
    project_id = chained(app, org)
    request_id = ask(app, org, project_id, 8)
    app.escalate_discount_step(
        project_id, org.project_director, request_id, step=1, reason="away", at=at(2, 1)
    )
    step(app, project_id, org.director, request_id, 1)
    step(app, project_id, org.senior, request_id, 2, day=4)
    assert exceptions_report(app).of(FindingKind.APPROVAL_OUTSIDE_AUTHORITY) == []
