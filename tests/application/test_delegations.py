"""Delegation: a member away lets another approve on their behalf for a dated window, within a
limit and the delegator's authority in force; granted, ended and audited like grants."""

from __future__ import annotations

from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kam_domain.aggregates.project import DiscountOutcome, Project
from kam_domain.aggregates.team import ApprovalChainRules, ChainCondition, ChainRule
from kam_domain.application import KamApplication
from kam_domain.audit.exceptions import FindingKind, exceptions_report
from kam_domain.errors import (
    AuthorityExceeded,
    GrantBeyondOwnAuthority,
    InvalidTransition,
    KamDomainError,
    NoDelegation,
    RoleRequired,
    SelfApproval,
    StepApproverRepeated,
    ValidationError,
)
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.values import Percentage, Role
from tests.application.test_projects import cny, started
from tests.conftest import Org, build_org
from tests.support import at, unchanged


def away(app: KamApplication, org: Org, limit: int | None = 9, **options: object) -> UUID:
    """The project director, away from day 2 to day 10, lets the second KAM approve for him."""
    return app.delegate_authority(
        org.team_id,
        org.project_director,
        delegator_id=org.project_director,
        delegate_id=org.kam2,
        valid_from=at(2),
        valid_until=at(10),
        reason="annual leave",
        max_discount=None if limit is None else Percentage.of(limit),
        at=at(1),
        **options,  # type: ignore[arg-type]
    )


def wide_band(app: KamApplication, org: Org) -> UUID:
    """A project whose band reaches 20 % below the list price (set by the sales director)."""
    project_id = started(app, org)
    app.set_price_band(project_id, org.director, list_price=cny(1000), floor=cny(800), at=at(1))
    return project_id


def ask(app: KamApplication, org: Org, project_id: UUID, pct: int, day: float = 3) -> UUID:
    return app.request_discount(
        project_id, org.kam, percentage=Percentage.of(pct), justification="rival", at=at(day)
    )


def outcome(app: KamApplication, project_id: UUID, request_id: UUID) -> DiscountOutcome | None:
    request = app.get_project(project_id).discount_request(request_id)  # type: ignore[arg-type]
    return None if request.decision is None else request.decision.outcome


def test_a_delegate_approves_on_behalf_within_the_limit(app: KamApplication, org: Org) -> None:
    """Given the project director (10 %) delegated 9 % to the second KAM (5 %), when she approves
    8 % on his behalf, then it is approved, recording her identity, his role and the delegated
    authority, and the delegator's own credentials."""
    project_id = wide_band(app, org)
    delegation_id = away(app, org)
    request_id = ask(app, org, project_id, 8)

    app.approve_discount_on_behalf(
        project_id, org.kam2, request_id, delegator_id=org.project_director, at=at(4)
    )

    assert outcome(app, project_id, request_id) is DiscountOutcome.APPROVED
    (event,) = [
        e for e in app.events.get(project_id) if isinstance(e, Project.DiscountApprovedOnBehalf)
    ]
    assert event.approver.member_id == org.kam2
    assert event.approver.discount_authority == Percentage.of(9)
    assert event.delegator.member_id == org.project_director
    assert event.delegation_id == delegation_id


def test_a_delegate_never_exceeds_the_limit(app: KamApplication, org: Org) -> None:
    """Given 9 % delegated, when the delegate approves 9.5 %, then it is refused, nothing
    written."""
    project_id = wide_band(app, org)
    away(app, org)
    request_id = app.request_discount(
        project_id, org.kam, percentage=Percentage.of("9.5"), justification="r", at=at(3)
    )
    with unchanged(app), pytest.raises(AuthorityExceeded):
        app.approve_discount_on_behalf(
            project_id, org.kam2, request_id, delegator_id=org.project_director, at=at(4)
        )


def test_a_whole_delegation_follows_the_delegators_authority(app: KamApplication, org: Org) -> None:
    """Given the whole authority delegated and the delegator's grant revoked on day 4, when the
    delegate approves on day 5, then it is refused: the delegator holds nothing then."""
    project_id = wide_band(app, org)
    away(app, org, limit=None)
    request_id = ask(app, org, project_id, 8)
    grant = app.credentials(org.team_id, org.project_director, at(3)).grant_id
    assert grant is not None
    app.revoke_authority(org.team_id, org.senior, grant, reason="restructured", at=at(4))
    with unchanged(app), pytest.raises(NoDelegation):
        app.approve_discount_on_behalf(
            project_id, org.kam2, request_id, delegator_id=org.project_director, at=at(5)
        )


@pytest.mark.parametrize("day", [1, 10, 11])
def test_outside_the_window_nothing_is_delegated(app: KamApplication, org: Org, day: int) -> None:
    """When the delegate approves before the window opens or once it closed, then it is
    refused, nothing written."""
    project_id = wide_band(app, org)
    away(app, org)
    request_id = ask(app, org, project_id, 8, day=1)
    with unchanged(app), pytest.raises(NoDelegation):
        app.approve_discount_on_behalf(
            project_id, org.kam2, request_id, delegator_id=org.project_director, at=at(day)
        )


def test_the_delegate_never_approves_their_own_request(app: KamApplication, org: Org) -> None:
    """When the delegate approves her own request on the delegator's behalf, then it is refused
    as self-approval; likewise a request of the delegator's own."""
    project_id = wide_band(app, org)
    away(app, org)
    own = app.request_discount(
        project_id, org.kam2, percentage=Percentage.of(8), justification="r", at=at(3)
    )
    his = app.request_discount(
        project_id, org.project_director, percentage=Percentage.of(8), justification="r", at=at(3)
    )
    for request_id in (own, his):
        with unchanged(app), pytest.raises(SelfApproval):
            app.approve_discount_on_behalf(
                project_id, org.kam2, request_id, delegator_id=org.project_director, at=at(4)
            )


def test_nobody_delegates_more_than_they_hold(app: KamApplication, org: Org) -> None:
    """When the project director (10 %) delegates 12 %, then it is refused, nothing written."""
    with unchanged(app), pytest.raises(GrantBeyondOwnAuthority):
        away(app, org, limit=12)


@pytest.mark.parametrize(
    ("actor", "delegate", "error"),
    [
        ("kam", "kam2", RoleRequired),  # a KAM records no delegation for another
        ("project_director", "rep", RoleRequired),  # a representative approves nothing
        ("project_director", "project_director", ValidationError),
    ],
)
def test_who_delegates_to_whom(
    app: KamApplication, org: Org, actor: str, delegate: str, error: type[Exception]
) -> None:
    """Only the delegator or a director records a delegation, to another approver; others
    are refused with nothing written."""
    with unchanged(app), pytest.raises(error):
        app.delegate_authority(
            org.team_id,
            getattr(org, actor),
            delegator_id=org.project_director,
            delegate_id=getattr(org, delegate),
            valid_from=at(2),
            valid_until=at(10),
            reason="leave",
            at=at(1),
        )


def test_a_director_delegates_for_a_member_away(app: KamApplication, org: Org) -> None:
    """A sales director records the delegation of a project director who is away."""
    delegation_id = app.delegate_authority(
        org.team_id,
        org.director,
        delegator_id=org.project_director,
        delegate_id=org.kam2,
        valid_from=at(2),
        valid_until=at(10),
        reason="sick leave",
        at=at(1),
    )
    (delegation,) = app.delegations(org.team_id)
    assert delegation.delegation_id == delegation_id
    assert delegation.max_discount is None


def test_an_ended_delegation_stops_and_past_approvals_stay(app: KamApplication, org: Org) -> None:
    """Given an approval on behalf on day 4 and the delegation ended on day 5, then a later
    approval on behalf is refused and the earlier one stands; ending it twice is refused."""
    project_id = wide_band(app, org)
    delegation_id = away(app, org)
    first = ask(app, org, project_id, 8)
    second = ask(app, org, project_id, 7)
    app.approve_discount_on_behalf(
        project_id, org.kam2, first, delegator_id=org.project_director, at=at(4)
    )

    app.end_delegation(org.team_id, org.project_director, delegation_id, reason="back", at=at(5))

    with unchanged(app), pytest.raises(NoDelegation):
        app.approve_discount_on_behalf(
            project_id, org.kam2, second, delegator_id=org.project_director, at=at(6)
        )
    assert outcome(app, project_id, first) is DiscountOutcome.APPROVED
    (delegation,) = app.delegations(org.team_id)
    assert delegation.ended_at == at(5)
    with unchanged(app), pytest.raises(InvalidTransition):
        app.end_delegation(org.team_id, org.director, delegation_id, reason="again", at=at(6))


def test_an_end_recorded_later_counts_for_a_command_dated_back(
    app: KamApplication, org: Org
) -> None:
    """Given the delegation ended on day 5, when an approval on behalf dated day 4 is written
    afterwards, then it is refused: it would act under a delegation already withdrawn."""
    project_id = wide_band(app, org)
    delegation_id = away(app, org)
    request_id = ask(app, org, project_id, 8)
    app.end_delegation(org.team_id, org.project_director, delegation_id, reason="back", at=at(5))
    with unchanged(app), pytest.raises(NoDelegation):
        app.approve_discount_on_behalf(
            project_id, org.kam2, request_id, delegator_id=org.project_director, at=at(4)
        )


def test_the_exceptions_report_lists_approvals_under_delegation(
    app: KamApplication, org: Org
) -> None:
    """Given an approval on behalf, the exceptions report lists it, with the delegation behind
    it, and finds no approval outside authority."""
    project_id = wide_band(app, org)
    away(app, org)
    request_id = ask(app, org, project_id, 8)
    app.approve_discount_on_behalf(
        project_id, org.kam2, request_id, delegator_id=org.project_director, at=at(4)
    )

    report = exceptions_report(app)

    (finding,) = report.of(FindingKind.APPROVAL_UNDER_DELEGATION)
    assert "on behalf of Zhou Project" in finding.summary
    assert [ref.event for ref in finding.events] == [
        "Team.AuthorityDelegated",
        "Project.DiscountApprovedOnBehalf",
    ]
    assert report.of(FindingKind.APPROVAL_OUTSIDE_AUTHORITY) == []
    assert report.of(FindingKind.SELF_APPROVAL) == []


def test_replay_reproduces_a_history_with_delegations(store: str) -> None:
    """Given the built-in policies and approvals on behalf, replay finds no divergence."""
    app = KamApplication(store)
    org = build_org(app)
    project_id = wide_band(app, org)
    away(app, org)
    request_id = ask(app, org, project_id, 8)
    app.approve_discount_on_behalf(
        project_id, org.kam2, request_id, delegator_id=org.project_director, at=at(4)
    )
    report = app.replay()
    assert report.reproduced, [d.describe() for d in report.divergences]
    app.close()


@settings(max_examples=30)
@given(
    held=st.integers(1, 20),
    limit=st.one_of(st.none(), st.integers(1, 20)),
    pct=st.integers(1, 20),
    day=st.integers(1, 11),
    revoked_on=st.one_of(st.none(), st.integers(3, 9)),
)
def test_a_delegate_never_exceeds_the_delegators_authority(
    held: int, limit: int | None, pct: int, day: int, revoked_on: int | None
) -> None:
    """Whatever the delegator holds, the delegation's limit, the percentage and the day, an
    approval on behalf succeeds only within the window and at most the lesser of the limit and
    the delegator's authority in force that day; a refusal writes nothing."""
    app = KamApplication("memory://", policies=PolicyRegistry())
    org = build_org(app)
    delegator = app.add_member(
        org.team_id, org.senior, name="Away", role=Role.SALES_DIRECTOR, at=at(0)
    )
    app.grant_authority(
        org.team_id, org.senior, delegator, max_discount=Percentage.of(held), at=at(0)
    )
    project_id = wide_band(app, org)
    try:
        app.delegate_authority(
            org.team_id,
            delegator,
            delegator_id=delegator,
            delegate_id=org.kam2,
            valid_from=at(2),
            valid_until=at(10),
            reason="travel",
            max_discount=None if limit is None else Percentage.of(limit),
            at=at(1),
        )
    except GrantBeyondOwnAuthority:
        assert limit is not None
        assert limit > held
        return
    if revoked_on is not None:
        grant = app.credentials(org.team_id, delegator, at(1)).grant_id
        assert grant is not None
        app.revoke_authority(org.team_id, org.senior, grant, reason="cut", at=at(revoked_on))
    request_id = ask(app, org, project_id, pct, day=1.5)
    before = len(list(app.events.get(project_id)))
    try:
        app.approve_discount_on_behalf(
            project_id, org.kam2, request_id, delegator_id=delegator, at=at(day)
        )
    except KamDomainError:
        assert len(list(app.events.get(project_id))) == before
    else:
        in_force = held if revoked_on is None or day < revoked_on else None
        assert 2 <= day < 10
        assert in_force is not None
        assert pct <= min(in_force, limit if limit is not None else in_force)
    app.close()


# -- steps of an approval chain --------------------------------------------------------------------

STEPS = ApprovalChainRules(
    (
        ChainRule(ChainCondition.ABOVE, 1, (Role.PROJECT_DIRECTOR,), Percentage.of(3)),
        ChainRule(ChainCondition.ABOVE, 2, (Role.SALES_DIRECTOR,), Percentage.of(3)),
    )
)


def test_a_delegate_approves_a_step_on_behalf(app: KamApplication, org: Org) -> None:
    """Given a chain (project director, then sales director) and the project director's 9 %
    delegated to the second KAM, when she approves step 1 for him and the sales director step
    2, then the request is approved and step 1 keeps the delegation and his credentials."""
    app.set_approval_chain_rules(org.team_id, org.director, STEPS, at=at(0))
    project_id = wide_band(app, org)
    delegation_id = away(app, org)
    request_id = ask(app, org, project_id, 8)

    app.approve_discount_step(
        project_id, org.kam2, request_id, step=1, on_behalf_of=org.project_director, at=at(4)
    )
    app.approve_discount_step(project_id, org.director, request_id, step=2, at=at(4))

    assert outcome(app, project_id, request_id) is DiscountOutcome.APPROVED
    chain = app.approval_chain(project_id, request_id)
    assert chain is not None
    approval = chain.steps[0].approval
    assert approval is not None
    assert approval.credentials.member_id == org.kam2
    assert approval.delegation_id == delegation_id
    assert approval.delegator is not None
    assert approval.delegator.member_id == org.project_director


def test_a_delegated_step_stays_within_the_delegation(app: KamApplication, org: Org) -> None:
    """Given 5 % delegated, when the delegate approves step 1 of an 8 % request for the project
    director, then it is refused and nothing is written; without a delegation, too."""
    app.set_approval_chain_rules(org.team_id, org.director, STEPS, at=at(0))
    project_id = wide_band(app, org)
    away(app, org, limit=5)
    request_id = ask(app, org, project_id, 8)
    with unchanged(app), pytest.raises(AuthorityExceeded):
        app.approve_discount_step(
            project_id, org.kam2, request_id, step=1, on_behalf_of=org.project_director, at=at(4)
        )
    with unchanged(app), pytest.raises(NoDelegation):
        app.approve_discount_step(
            project_id, org.kam, request_id, step=1, on_behalf_of=org.project_director, at=at(4)
        )


def test_a_delegator_and_delegate_approve_one_step_between_them(
    app: KamApplication, org: Org
) -> None:
    """Given the sales director approved step 1 herself and delegated to the second KAM, when
    the delegate approves step 2 for her, then it is refused: one approver per step."""
    app.set_approval_chain_rules(org.team_id, org.director, STEPS, at=at(0))
    project_id = wide_band(app, org)
    app.delegate_authority(
        org.team_id,
        org.director,
        delegator_id=org.director,
        delegate_id=org.kam2,
        valid_from=at(2),
        valid_until=at(10),
        reason="travel",
        at=at(1),
    )
    request_id = ask(app, org, project_id, 8)
    app.approve_discount_step(project_id, org.director, request_id, step=1, at=at(4))
    with unchanged(app), pytest.raises(StepApproverRepeated):
        app.approve_discount_step(
            project_id, org.kam2, request_id, step=2, on_behalf_of=org.director, at=at(4)
        )


def test_the_last_step_on_behalf_approves_on_behalf(app: KamApplication, org: Org) -> None:
    """Given the sales director's authority delegated, when the delegate approves the last step
    for her, then the request is approved on behalf (the audit reads it against the
    delegation) and the exceptions report lists it, with no approval outside authority."""
    app.set_approval_chain_rules(org.team_id, org.director, STEPS, at=at(0))
    project_id = wide_band(app, org)
    app.delegate_authority(
        org.team_id,
        org.director,
        delegator_id=org.director,
        delegate_id=org.kam2,
        valid_from=at(2),
        valid_until=at(10),
        reason="travel",
        max_discount=Percentage.of(15),
        at=at(1),
    )
    request_id = ask(app, org, project_id, 12)
    app.approve_discount_step(project_id, org.senior, request_id, step=1, at=at(4))
    app.approve_discount_step(
        project_id, org.kam2, request_id, step=2, on_behalf_of=org.director, at=at(4)
    )

    assert outcome(app, project_id, request_id) is DiscountOutcome.APPROVED
    report = exceptions_report(app)
    assert len(report.of(FindingKind.APPROVAL_UNDER_DELEGATION)) == 1
    assert report.of(FindingKind.APPROVAL_OUTSIDE_AUTHORITY) == []
