"""Approval chains: the team's rules give a discount request steps, in sequence and in parallel;
each step keeps its approver's authority in force; the requester may recall; a step past its
deadline is escalated by version 2 of the case_escalation policy."""

from __future__ import annotations

from uuid import UUID

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kam_domain.aggregates.project import DiscountOutcome, Project
from kam_domain.aggregates.team import ApprovalChainRules, ChainCondition, ChainRule, Team
from kam_domain.application import KamApplication
from kam_domain.errors import (
    AlreadyDecided,
    ApprovalStepNotFound,
    ApprovalStepsPending,
    AuthorityExceeded,
    InvalidTransition,
    KamDomainError,
    MarginBelowMinimum,
    NotTheRequester,
    RoleRequired,
    SelfApproval,
    StepApproverRepeated,
    ValidationError,
)
from kam_domain.policies.escalation import CaseEscalationPolicy
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.policies.step_deadlines import CaseEscalationPolicyV2
from kam_domain.values import Actor, CaseKind, Percentage, Role, Severity
from tests.application.test_projects import cny, started
from tests.conftest import Org, build_org
from tests.support import at, unchanged

PD, SD, SSD = Role.PROJECT_DIRECTOR, Role.SALES_DIRECTOR, Role.SENIOR_SALES_DIRECTOR
FP, LEGAL = Role.FINANCIAL_PLANNER, Role.LEGAL_AFFAIRS_SPECIALIST
CLOCK = Actor.system("clock")
COMPANY = Actor.system("company")

#: Above 3 %: the project director, then the sales director; a margin under the minimum: the
#: sales director and the financial planner together; unusual terms: the legal affairs specialist.
RULES = ApprovalChainRules(
    (
        ChainRule(ChainCondition.ABOVE, 1, (PD,), Percentage.of(3)),
        ChainRule(ChainCondition.ABOVE, 2, (SD,), Percentage.of(3)),
        ChainRule(ChainCondition.MARGIN_SHORT, 2, (SD, FP)),
        ChainRule(ChainCondition.UNUSUAL_TERMS, 2, (LEGAL,)),
    ),
    step_hours=24,
)


@pytest.fixture(name="legal")
def fixture_legal(app: KamApplication, org: Org) -> UUID:
    return app.add_member(org.team_id, org.senior, name="Qian Legal", role=LEGAL, at=at(0))


def chained(app: KamApplication, org: Org) -> UUID:
    """The rules in force from day 0 and a started project (band 1000, floor 900)."""
    app.set_approval_chain_rules(org.team_id, org.director, RULES, at=at(0))
    return started(app, org)


def ask(app: KamApplication, org: Org, project_id: UUID, pct: int, **options: object) -> UUID:
    """The KAM asks for ``pct`` on day 2."""
    return app.request_discount(
        project_id,
        org.kam,
        percentage=Percentage.of(pct),
        justification="rival",
        at=at(2),
        **options,  # type: ignore[arg-type]
    )


def outcome(app: KamApplication, project_id: UUID, request_id: UUID) -> DiscountOutcome | None:
    decision = app.get_project(project_id).discount_request(request_id).decision  # type: ignore[arg-type]
    return None if decision is None else decision.outcome


# -- which steps ---------------------------------------------------------------------------------


def test_a_team_without_rules_decides_as_a_single_approval(app: KamApplication, org: Org) -> None:
    """Given no chain rules, when a discount is requested, then it has no chain and one
    approver decides it, as before."""
    project_id = started(app, org)
    request_id = ask(app, org, project_id, 8)

    assert app.approval_chain(project_id, request_id) is None
    app.approve_discount(project_id, org.project_director, request_id, at=at(3))
    assert outcome(app, project_id, request_id) is DiscountOutcome.APPROVED


def test_a_request_meeting_no_rule_is_a_single_approval(app: KamApplication, org: Org) -> None:
    """Given rules from 3 % up, when 2 % is asked, then the request has no chain."""
    project_id = chained(app, org)
    request_id = ask(app, org, project_id, 2)

    assert app.approval_chain(project_id, request_id) is None
    events = [type(e).__name__ for e in app.events.get(project_id)]
    assert "DiscountRequested" in events


def test_rules_above_a_threshold_give_steps_in_sequence(app: KamApplication, org: Org) -> None:
    """Given rules above 3 %, when 8 % is asked, then the project director decides first and the
    sales director's step waits, with no deadline, until that step is approved."""
    project_id = chained(app, org)
    request_id = ask(app, org, project_id, 8)

    chain = app.approval_chain(project_id, request_id)
    assert chain is not None
    assert [(s.number, s.stage, s.role) for s in chain.steps] == [(1, 1, PD), (2, 2, SD)]
    assert chain.steps[0].due_at == at(3)
    assert chain.steps[1].due_at is None
    assert chain.conditions == (ChainCondition.ABOVE,)


def test_a_margin_under_the_minimum_adds_parallel_steps(app: KamApplication, org: Org) -> None:
    """Given costs that leave a margin under 15 % at the asked price, when 8 % is asked, then
    the sales director and the financial planner both decide at stage 2."""
    project_id = chained(app, org)
    app.record_cost(
        project_id, org.project_director, amount=cny(800), category="hardware", at=at(1)
    )
    request_id = ask(app, org, project_id, 8)

    chain = app.approval_chain(project_id, request_id)
    assert chain is not None
    assert [(s.stage, s.role) for s in chain.steps] == [(1, PD), (2, SD), (2, FP)]
    assert set(chain.conditions) == {ChainCondition.ABOVE, ChainCondition.MARGIN_SHORT}


def test_unusual_terms_add_a_legal_step(app: KamApplication, org: Org, legal: UUID) -> None:
    """Given the rules, when the KAM names unusual terms, then the legal affairs specialist
    decides at stage 2 and the chain keeps the terms."""
    project_id = chained(app, org)
    request_id = ask(app, org, project_id, 8, unusual_terms="unlimited liability")

    chain = app.approval_chain(project_id, request_id)
    assert chain is not None
    assert [s.role for s in chain.steps] == [PD, SD, LEGAL]
    assert chain.unusual_terms == "unlimited liability"


def test_unusual_terms_without_rules_are_refused(app: KamApplication, org: Org) -> None:
    """Given no chain rules, when unusual terms are named, then the request is refused and
    nothing is written."""
    project_id = started(app, org)
    with unchanged(app), pytest.raises(ValidationError, match="unusual_terms"):
        ask(app, org, project_id, 8, unusual_terms="penalties")


def test_rules_take_effect_from_their_date(app: KamApplication, org: Org) -> None:
    """Given rules effective from day 3 and switched off on day 5, then a request on day 2 and
    one on day 6 are single approvals, one on day 4 is chained."""
    app.set_approval_chain_rules(org.team_id, org.director, RULES, effective_from=at(3), at=at(0))
    app.set_approval_chain_rules(
        org.team_id, org.director, ApprovalChainRules.none(), effective_from=at(5), at=at(0)
    )
    project_id = started(app, org)
    chains = []
    for day in (2, 4, 6):
        rid = app.request_discount(
            project_id, org.kam, percentage=Percentage.of(8), justification="r", at=at(day)
        )
        chains.append(app.approval_chain(project_id, rid) is not None)
    assert chains == [False, True, False]


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        (ApprovalChainRules((ChainRule(ChainCondition.ABOVE, 1, (PD,)),)), "threshold"),
        (ApprovalChainRules((ChainRule(ChainCondition.MARGIN_SHORT, 0, (SD,)),)), "stage"),
        (ApprovalChainRules((ChainRule(ChainCondition.MARGIN_SHORT, 1, ()),)), "roles"),
        (
            ApprovalChainRules((ChainRule(ChainCondition.MARGIN_SHORT, 1, (Role.CONSULTANT,)),)),
            "approves no step",
        ),
        (ApprovalChainRules(RULES.rules, step_hours=0), "step_hours"),
    ],
)
def test_malformed_rules_are_refused(
    app: KamApplication, org: Org, rules: ApprovalChainRules, field: str
) -> None:
    """When a director sets malformed rules, then they are refused and nothing is written."""
    with unchanged(app), pytest.raises(ValidationError, match=field):
        app.set_approval_chain_rules(org.team_id, org.director, rules, at=at(0))


def test_only_a_director_sets_rules(app: KamApplication, org: Org) -> None:
    """When a KAM sets chain rules, then it is refused and nothing is written."""
    with unchanged(app), pytest.raises(RoleRequired):
        app.set_approval_chain_rules(org.team_id, org.kam, RULES, at=at(0))


# -- deciding steps ------------------------------------------------------------------------------


def test_the_last_step_approves_the_request(app: KamApplication, org: Org) -> None:
    """Given an 8 % chained request, when the project director and then the sales director
    approve their steps, then the request is approved on the sales director's authority, and
    each step keeps the credentials it was approved under."""
    project_id = chained(app, org)
    request_id = ask(app, org, project_id, 8)

    app.approve_discount_step(project_id, org.project_director, request_id, step=1, at=at(3))
    assert outcome(app, project_id, request_id) is None
    app.approve_discount_step(project_id, org.director, request_id, step=2, at=at(4))

    assert outcome(app, project_id, request_id) is DiscountOutcome.APPROVED
    chain = app.approval_chain(project_id, request_id)
    assert chain is not None
    kept = [s.approval.credentials for s in chain.steps if s.approval is not None]
    assert [(c.member_id, c.discount_authority) for c in kept] == [
        (org.project_director, Percentage.of(10)),
        (org.director, Percentage.of(20)),
    ]
    decision = app.get_project(project_id).discount_request(request_id).decision  # type: ignore[arg-type]
    assert decision is not None
    assert decision.credentials is not None
    assert decision.credentials.member_id == org.director


def test_a_step_waits_for_the_stages_before_it(app: KamApplication, org: Org) -> None:
    """When the sales director approves step 2 before step 1, then it is refused and nothing
    is written."""
    project_id = chained(app, org)
    request_id = ask(app, org, project_id, 8)
    with unchanged(app), pytest.raises(ApprovalStepsPending):
        app.approve_discount_step(project_id, org.director, request_id, step=2, at=at(3))


def test_a_chained_request_is_not_approved_whole(app: KamApplication, org: Org) -> None:
    """When a director approves or escalates a chained request as a single approval, then it
    is refused and nothing is written."""
    project_id = chained(app, org)
    request_id = ask(app, org, project_id, 8)
    with unchanged(app), pytest.raises(ApprovalStepsPending):
        app.approve_discount(project_id, org.senior, request_id, at=at(3))
    with unchanged(app), pytest.raises(ApprovalStepsPending):
        app.escalate_discount(project_id, org.project_director, request_id, to_role=SD, reason="x")


def test_parallel_steps_all_approve(app: KamApplication, org: Org) -> None:
    """Given a short margin, when the sales director approves stage 2 but the financial planner
    has not, then the request is still pending; once she approves, it is approved."""
    project_id = chained(app, org)
    app.record_cost(
        project_id, org.project_director, amount=cny(800), category="hardware", at=at(1)
    )
    request_id = ask(app, org, project_id, 8)
    app.approve_discount_step(project_id, org.project_director, request_id, step=1, at=at(3))
    app.approve_discount_step(project_id, org.director, request_id, step=2, at=at(3))
    assert outcome(app, project_id, request_id) is None

    app.approve_discount_step(project_id, org.finance, request_id, step=3, at=at(3))
    assert outcome(app, project_id, request_id) is DiscountOutcome.APPROVED


def test_a_short_margin_needs_a_director_among_the_steps(app: KamApplication, org: Org) -> None:
    """Given rules that ask only the project director and costs that leave a short margin,
    when the project director approves, then it is refused: no sales director approved."""
    rules = ApprovalChainRules((ChainRule(ChainCondition.ABOVE, 1, (PD,), Percentage.of(3)),))
    app.set_approval_chain_rules(org.team_id, org.director, rules, at=at(0))
    project_id = started(app, org)
    app.record_cost(
        project_id, org.project_director, amount=cny(800), category="hardware", at=at(1)
    )
    request_id = ask(app, org, project_id, 8)
    with unchanged(app), pytest.raises(MarginBelowMinimum):
        app.approve_discount_step(project_id, org.project_director, request_id, step=1, at=at(3))


@pytest.mark.parametrize(
    ("who", "step", "error"),
    [
        ("kam", 1, RoleRequired),  # a KAM decides no project director's step
        ("finance", 1, RoleRequired),
        ("support", 1, RoleRequired),
    ],
)
def test_only_the_role_a_step_waits_for_approves_it(
    app: KamApplication, org: Org, who: str, step: int, error: type[Exception]
) -> None:
    """When a member of another role approves a step, then it is refused, nothing written."""
    project_id = chained(app, org)
    request_id = ask(app, org, project_id, 8)
    with unchanged(app), pytest.raises(error):
        app.approve_discount_step(project_id, getattr(org, who), request_id, step=step, at=at(3))


def test_the_requester_approves_no_step(app: KamApplication, org: Org) -> None:
    """Given the project director's own chained request, when he approves step 1, then it is
    refused as self-approval and nothing is written."""
    project_id = chained(app, org)
    request_id = app.request_discount(
        project_id, org.project_director, percentage=Percentage.of(8), justification="r", at=at(2)
    )
    with unchanged(app), pytest.raises(SelfApproval):
        app.approve_discount_step(project_id, org.project_director, request_id, step=1, at=at(3))


def test_one_member_approves_one_step(app: KamApplication, org: Org) -> None:
    """Given the sales director approved step 1 (a higher role may), when she approves step 2
    too, then it is refused and nothing is written."""
    project_id = chained(app, org)
    request_id = ask(app, org, project_id, 8)
    app.approve_discount_step(project_id, org.director, request_id, step=1, at=at(3))
    with unchanged(app), pytest.raises(StepApproverRepeated):
        app.approve_discount_step(project_id, org.director, request_id, step=2, at=at(3))


def test_a_step_needs_the_approvers_authority_in_force(app: KamApplication, org: Org) -> None:
    """Given the project director's 10 % grant revoked on day 3, when he approves step 1 of an
    8 % request on day 4, then it is refused and nothing is written."""
    project_id = chained(app, org)
    request_id = ask(app, org, project_id, 8)
    grant = app.credentials(org.team_id, org.project_director, at(3)).grant_id
    assert grant is not None
    app.revoke_authority(org.team_id, org.senior, grant, reason="moved", at=at(3))
    with unchanged(app), pytest.raises(AuthorityExceeded):
        app.approve_discount_step(project_id, org.project_director, request_id, step=1, at=at(4))


def test_an_unknown_step_is_refused(app: KamApplication, org: Org) -> None:
    """When step 7 of a two-step chain is approved, then it is refused, nothing written."""
    project_id = chained(app, org)
    request_id = ask(app, org, project_id, 8)
    with unchanged(app), pytest.raises(ApprovalStepNotFound):
        app.approve_discount_step(project_id, org.project_director, request_id, step=7, at=at(3))


def test_a_member_of_an_open_step_rejects_the_request(
    app: KamApplication, org: Org, legal: UUID
) -> None:
    """Given a chain at stage 2, when the legal affairs specialist rejects it, then the request
    is rejected; a KAM may not reject it."""
    project_id = chained(app, org)
    request_id = ask(app, org, project_id, 8, unusual_terms="penalties")
    app.approve_discount_step(project_id, org.project_director, request_id, step=1, at=at(3))
    with unchanged(app), pytest.raises(RoleRequired):
        app.reject_discount(project_id, org.kam2, request_id, reason="no", at=at(3))

    app.reject_discount(project_id, legal, request_id, reason="liability", at=at(3))
    assert outcome(app, project_id, request_id) is DiscountOutcome.REJECTED


# -- recalling -----------------------------------------------------------------------------------


def test_the_requester_recalls_a_pending_request(app: KamApplication, org: Org) -> None:
    """Given a chained request with step 1 approved, when the KAM recalls it, then it is
    recalled and no step may be approved afterwards."""
    project_id = chained(app, org)
    request_id = ask(app, org, project_id, 8)
    app.approve_discount_step(project_id, org.project_director, request_id, step=1, at=at(3))

    app.recall_discount(project_id, org.kam, request_id, reason="client withdrew", at=at(3))

    assert outcome(app, project_id, request_id) is DiscountOutcome.RECALLED
    assert app.pending_discount_requests(org.team_id) == []
    with unchanged(app), pytest.raises(AlreadyDecided):
        app.approve_discount_step(project_id, org.director, request_id, step=2, at=at(4))


def test_only_the_requester_recalls(app: KamApplication, org: Org) -> None:
    """When another member recalls the KAM's request, then it is refused, nothing written."""
    project_id = started(app, org)
    request_id = ask(app, org, project_id, 8)
    with unchanged(app), pytest.raises(NotTheRequester):
        app.recall_discount(project_id, org.director, request_id, reason="x", at=at(3))


# -- deadlines -------------------------------------------------------------------------------------


def deadlines(app: KamApplication) -> None:
    """The company activates version 2 of case escalation, which escalates steps too."""
    app.activate_policy_version("case_escalation", 2, COMPANY, reason="approval chains", at=at(0))


@pytest.fixture(name="timed")
def fixture_timed(store: str) -> KamApplication:
    """An application running case escalation alone, version 2 activated."""
    registry = PolicyRegistry([CaseEscalationPolicy, CaseEscalationPolicyV2])
    app = KamApplication(store, policies=registry)
    deadlines(app)
    return app


def test_a_step_past_its_deadline_is_escalated(timed: KamApplication) -> None:
    """Given step 1 due on day 3, when the clock ticks at day 3 then just after, then only the
    second tick escalates it to the sales director, who then approves it."""
    org = build_org(timed)
    project_id = chained(timed, org)
    request_id = ask(timed, org, project_id, 8)

    timed.tick(CLOCK, at=at(3))
    chain = timed.approval_chain(project_id, request_id)
    assert chain is not None
    assert chain.steps[0].escalated_to is None
    timed.tick(CLOCK, at=at(3, hours=1))

    chain = timed.approval_chain(project_id, request_id)
    assert chain is not None
    assert chain.steps[0].escalated_to is SD
    assert chain.steps[0].due_at == at(4, hours=1)
    (decision,) = timed.decisions()
    assert decision.outcome == "escalate_steps 1"
    with pytest.raises(RoleRequired):
        timed.approve_discount_step(project_id, org.project_director, request_id, step=1)
    timed.approve_discount_step(project_id, org.director, request_id, step=1, at=at(4))
    timed.close()


def test_a_step_with_the_senior_director_is_not_escalated(timed: KamApplication) -> None:
    """Given a step escalated twice, to the senior sales director, then later ticks leave it."""
    org = build_org(timed)
    project_id = chained(timed, org)
    request_id = ask(timed, org, project_id, 8)
    for day in (4, 6, 8, 10):
        timed.tick(CLOCK, at=at(day))

    chain = timed.approval_chain(project_id, request_id)
    assert chain is not None
    assert chain.steps[0].escalated_to is SSD
    assert len(timed.decisions()) == 2
    with pytest.raises(InvalidTransition):
        timed.escalate_discount_step(
            project_id, CLOCK, request_id, step=1, reason="again", at=at(11)
        )
    timed.close()


def test_replay_reproduces_chains_and_their_escalations(store: str) -> None:
    """Given a history with every built-in policy, chained requests and escalations, replay
    finds no divergence."""
    app = KamApplication(store)
    org = build_org(app)
    deadlines(app)
    project_id = chained(app, org)
    request_id = ask(app, org, project_id, 8)
    ask(app, org, project_id, 2)
    app.tick(CLOCK, at=at(4))
    app.approve_discount_step(project_id, org.director, request_id, step=1, at=at(4))
    app.approve_discount_step(project_id, org.senior, request_id, step=2, at=at(4))

    report = app.replay()

    assert report.reproduced, [d.describe() for d in report.divergences]
    assert {d.policy for d in app.decisions()} >= {"price_approval", "case_escalation"}
    assert outcome(app, project_id, request_id) is DiscountOutcome.APPROVED
    app.close()


def test_the_price_approval_policy_leaves_a_chained_request(store: str) -> None:
    """Given the built-in policies, when a chained request is made, then price_approval records
    no decision about it (its steps are people's)."""
    app = KamApplication(store)
    org = build_org(app)
    project_id = chained(app, org)
    ask(app, org, project_id, 4)
    assert app.decisions("price_approval") == []
    app.close()


def test_a_project_with_chains_reloads_from_its_events(app: KamApplication, org: Org) -> None:
    """A chained request and its steps survive the store's round trip."""
    project_id = chained(app, org)
    request_id = ask(app, org, project_id, 8)
    app.approve_discount_step(project_id, org.project_director, request_id, step=1, at=at(3))
    project = app.repository.get(project_id)
    assert isinstance(project, Project)
    chain = project.approval_chain(request_id)  # type: ignore[arg-type]
    assert chain is not None
    assert chain.steps[0].is_approved
    assert chain.open_stage == 2


# -- properties ------------------------------------------------------------------------------------

RULE_ROLES = st.sampled_from([PD, SD, SSD, FP])
RULE = st.builds(
    lambda condition, stage, roles, threshold: ChainRule(
        condition,
        stage,
        tuple(roles),
        Percentage.of(threshold) if condition is ChainCondition.ABOVE else None,
    ),
    st.sampled_from([ChainCondition.ABOVE, ChainCondition.MARGIN_SHORT]),
    st.integers(1, 3),
    st.lists(RULE_ROLES, min_size=1, max_size=2, unique=True),
    st.integers(0, 9),
)
MEMBERS = ("project_director", "director", "senior", "finance", "kam2")


@settings(max_examples=25)
@example(
    rules=list(RULES.rules[:3]),
    pct=8,
    cost=800,
    attempts=[("project_director", 1), ("director", 2), ("director", 3), ("finance", 3)],
)
@given(
    rules=st.lists(RULE, min_size=1, max_size=4),
    pct=st.integers(1, 10),
    cost=st.sampled_from([0, 800]),
    attempts=st.lists(st.tuples(st.sampled_from(MEMBERS), st.integers(1, 4)), max_size=10),
)
def test_no_request_is_approved_without_every_step(
    rules: list[ChainRule], pct: int, cost: int, attempts: list[tuple[str, int]]
) -> None:
    """Whatever the rules and whoever tries which step in which order, a chained request is
    approved only once every step is, each by a different member who is not the requester, with
    an approver whose authority in force covered it; a refused attempt writes nothing."""
    app = KamApplication("memory://", policies=PolicyRegistry())
    org = build_org(app)
    app.set_approval_chain_rules(org.team_id, org.director, ApprovalChainRules(rules), at=at(0))
    project_id = started(app, org)
    if cost:
        app.record_cost(
            project_id, org.project_director, amount=cny(cost), category="hardware", at=at(1)
        )
    request_id = ask(app, org, project_id, pct)
    for member, step in attempts:
        before = len(list(app.events.get(project_id)))
        try:
            app.approve_discount_step(
                project_id, getattr(org, member), request_id, step=step, at=at(3)
            )
        except KamDomainError:
            assert len(list(app.events.get(project_id))) == before
    chain = app.approval_chain(project_id, request_id)
    if outcome(app, project_id, request_id) is DiscountOutcome.APPROVED:
        assert chain is not None
        approvals = [s.approval for s in chain.steps]
        assert all(a is not None for a in approvals)
        ids = [a.credentials.member_id for a in approvals if a is not None]
        assert len(set(ids)) == len(ids)
        assert org.kam not in ids
        assert any(a.credentials.covers(Percentage.of(pct)) for a in approvals if a is not None)
    app.close()


def test_version_2_changes_nothing_over_a_history_without_chains(store: str) -> None:
    """Given a history of cases and ticks decided by version 1, a what-if of case escalation
    version 2 finds no difference."""
    app = KamApplication(store)
    org = build_org(app)
    project_id = started(app, org)
    ask(app, org, project_id, 8)
    account_id = app.get_project(project_id).account_id
    app.open_case(
        account_id,
        org.kam,
        kind=CaseKind.COMPLAINT,
        severity=Severity.CRITICAL,
        subject="outage",
        at=at(2),
    )
    app.tick(CLOCK, at=at(4))
    app.tick(CLOCK, at=at(12))

    report = app.replay(what_if={"case_escalation": 2})

    assert [d.outcome for d in app.decisions("case_escalation")] == ["escalate_cases 1"] * 2
    assert report.reproduced, [d.describe() for d in report.divergences]
    app.close()


def test_snapshots_taken_before_chains_read_with_none() -> None:
    """A version 1 snapshot of a team or a project (before chains and delegations) reads as
    holding no chain rules, no delegations and no approval chains."""
    team_state: dict[str, object] = {}
    Team.upcast_v1_v2(team_state)
    project_state: dict[str, object] = {}
    Project.upcast_v1_v2(project_state)
    assert team_state["chain_rules"] == []
    assert dict(team_state["delegations"]) == {}  # type: ignore[call-overload]
    assert dict(project_state["approval_chains"]) == {}  # type: ignore[call-overload]
