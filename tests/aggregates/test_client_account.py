"""ClientAccount: key designation, one accountable KAM, plan, relationship map, billing, cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from kam_domain.aggregates.client_account import (
    AccountStrategies,
    CaseStatus,
    ClientAccount,
    ContactInfluence,
    PaymentInstallment,
    RelationshipStrength,
)
from kam_domain.aggregates.credentials import Credentials
from kam_domain.errors import (
    AccountNotKey,
    AgreementNotFound,
    AgreementValueExceeded,
    AlreadyExists,
    CaseNotFound,
    ContactNotFound,
    CurrencyMismatch,
    InvalidTransition,
    InvoiceNotFound,
    MemberInactive,
    NoAccountableManager,
    NotAssignedToAccount,
    NotAuthorised,
    NotYourCredentials,
    PaymentExceedsBalance,
    RoleRequired,
    SupervisorRequired,
    TimestampOutOfOrder,
    ValidationError,
)
from kam_domain.values import (
    AccountId,
    Actor,
    AgreementId,
    CaseId,
    CaseKind,
    ContactId,
    InvoiceId,
    Money,
    Percentage,
    Period,
    Role,
    Severity,
    TeamId,
    Tier,
)
from tests.support import at, creds, history, meta, recorded, then, unchanged

STRATEGIES = AccountStrategies(
    market="grow in the provincial networks",
    client="win the CTO's office",
    marketing="joint case study",
    competitive="out-service the incumbent",
)
POLICY = Actor.policy("assignment", 1)


@dataclass(frozen=True)
class Cast:
    """One team with a member in each role, a departed KAM and a stranger from another team."""

    team_id: TeamId
    senior: Credentials
    director: Credentials
    kam: Credentials
    kam2: Credentials
    rep: Credentials
    rep2: Credentials
    support: Credentials
    consultant: Credentials
    admin: Credentials
    finance: Credentials
    assistant: Credentials
    project_director: Credentials
    gone: Credentials
    stranger: Credentials


def cast() -> Cast:
    team_id = TeamId(uuid4())

    def member(role: Role, **kwargs: Any) -> Credentials:
        return creds(role, team_id=team_id, **kwargs)

    director = member(Role.SALES_DIRECTOR)
    kam = member(Role.KEY_ACCOUNT_MANAGER, name="Li", supervisor_id=director.member_id)
    return Cast(
        team_id=team_id,
        senior=member(Role.SENIOR_SALES_DIRECTOR),
        director=director,
        kam=kam,
        kam2=member(Role.KEY_ACCOUNT_MANAGER, name="Chen", supervisor_id=director.member_id),
        rep=member(Role.KEY_ACCOUNT_REPRESENTATIVE, name="Sun", supervisor_id=kam.member_id),
        rep2=member(Role.KEY_ACCOUNT_REPRESENTATIVE, name="Qian"),
        support=member(Role.TECHNICAL_SUPPORT),
        consultant=member(Role.CONSULTANT),
        admin=member(Role.SENIOR_ADMIN_MANAGER),
        finance=member(Role.FINANCIAL_PLANNER),
        assistant=member(Role.DEPARTMENT_ASSISTANT),
        project_director=member(Role.PROJECT_DIRECTOR),
        gone=member(Role.KEY_ACCOUNT_MANAGER, active=False, supervisor_id=director.member_id),
        stranger=creds(Role.KEY_ACCOUNT_MANAGER, supervisor_id=director.member_id),
    )


def cny(amount: int | str) -> Money:
    return Money.of(amount, "CNY")


# -- givens: each returns the account with its history collected, at day 0, 1, 2 ... ---------


def registered(c: Cast) -> ClientAccount:
    """Given a client registered by the KAM at T0."""
    account = ClientAccount.register(
        meta(c.kam),
        c.kam,
        AccountId(uuid4()),
        team_id=c.team_id,
        name="Acme Telecom",
        industry="telecom",
        region="east",
    )
    history(account)
    return account


def key(c: Cast, tier: Tier = Tier.MAJOR) -> ClientAccount:
    """Given a registered client designated key on day 1."""
    account = registered(c)
    account.designate_key(meta(c.director, at(1)), c.director, tier=tier, strategies=STRATEGIES)
    history(account)
    return account


def managed(c: Cast) -> ClientAccount:
    """Given a key account whose accountable KAM is ``c.kam`` from day 2."""
    account = key(c)
    account.assign_kam(meta(c.director, at(2)), c.director, c.kam, reason="knows the client")
    history(account)
    return account


def served(c: Cast) -> ClientAccount:
    """Given a managed account whose representative is ``c.rep`` from day 3."""
    account = managed(c)
    account.assign_representative(meta(c.kam, at(3)), c.kam, c.rep)
    history(account)
    return account


def schedule(*parts: tuple[float, int]) -> tuple[PaymentInstallment, ...]:
    """Installments as (due day, CNY amount) pairs."""
    return tuple(PaymentInstallment(at(day), cny(amount)) for day, amount in parts)


def contracted(c: Cast) -> tuple[ClientAccount, AgreementId]:
    """Given a served account with agreement HT-1 worth 100 CNY, signed on day 4."""
    account = served(c)
    agreement_id = AgreementId(uuid4())
    account.sign_agreement(
        meta(c.rep, at(4)),
        c.rep,
        agreement_id,
        number="HT-1",
        value=cny(100),
        schedule=schedule((30, 60), (60, 40)),
    )
    history(account)
    return account, agreement_id


def invoiced(c: Cast) -> tuple[ClientAccount, InvoiceId]:
    """Given a contracted account with a 60 CNY invoice issued on day 5, due on day 30."""
    account, agreement_id = contracted(c)
    invoice_id = InvoiceId(uuid4())
    account.issue_invoice(
        meta(c.finance, at(5)),
        c.finance,
        invoice_id,
        amount=cny(60),
        due_at=at(30),
        agreement_id=agreement_id,
    )
    history(account)
    return account, invoice_id


def with_case(c: Cast, severity: Severity = Severity.HIGH) -> tuple[ClientAccount, CaseId]:
    """Given a served account with a complaint opened on day 10."""
    account = served(c)
    case_id = CaseId(uuid4())
    account.open_case(
        meta(c.rep, at(10)),
        c.rep,
        case_id,
        kind=CaseKind.COMPLAINT,
        severity=severity,
        subject="outage not explained",
    )
    history(account)
    return account, case_id


def acknowledged(c: Cast) -> tuple[ClientAccount, CaseId]:
    """Given the day-10 complaint acknowledged two hours after it was opened."""
    account, case_id = with_case(c)
    account.acknowledge_case(meta(c.support, at(10, hours=2)), c.support, case_id)
    history(account)
    return account, case_id


def opened_case(
    account: ClientAccount, by: Credentials, when: datetime, severity: Severity = Severity.HIGH
) -> CaseId:
    """Open an inquiry on ``account`` at ``when`` (a step inside a given)."""
    case_id = CaseId(uuid4())
    account.open_case(
        meta(by, when), by, case_id, kind=CaseKind.INQUIRY, severity=severity, subject="question"
    )
    return case_id


# -- registration -----------------------------------------------------------------------------


def test_a_kam_registers_a_client_of_their_team() -> None:
    """Given nothing, when a KAM registers a client, then it is an ordinary account of the team."""
    c = cast()

    account = ClientAccount.register(
        meta(c.kam),
        c.kam,
        AccountId(uuid4()),
        team_id=c.team_id,
        name="  Acme Telecom ",
        industry="telecom",
        region="east",
    )

    assert then(account) == [ClientAccount.Registered]
    assert (account.name, account.team_id, account.is_key) == ("Acme Telecom", c.team_id, False)
    assert account.accountable_kam is None


def test_a_member_who_left_cannot_register() -> None:
    """A departed KAM's credentials are refused with MemberInactive."""
    c = cast()

    with pytest.raises(MemberInactive):
        ClientAccount.register(
            meta(c.gone),
            c.gone,
            AccountId(uuid4()),
            team_id=c.team_id,
            name="A",
            industry="i",
            region="r",
        )


def test_nobody_registers_for_another_team() -> None:
    """A KAM of another team cannot register a client for this team."""
    c = cast()

    with pytest.raises(NotAuthorised, match="actor"):
        ClientAccount.register(
            meta(c.stranger),
            c.stranger,
            AccountId(uuid4()),
            team_id=c.team_id,
            name="A",
            industry="i",
            region="r",
        )


@pytest.mark.parametrize("field", ["name", "industry", "region"])
def test_registration_refuses_empty_texts(field: str) -> None:
    """An empty name, industry or region is refused, naming the field."""
    c = cast()
    texts = {"name": "Acme", "industry": "telecom", "region": "east", field: "  "}

    with pytest.raises(ValidationError, match=field):
        ClientAccount.register(meta(c.kam), c.kam, AccountId(uuid4()), team_id=c.team_id, **texts)


def test_registration_refuses_an_id_that_is_not_a_uuid() -> None:
    """An account id must be a UUID."""
    c = cast()

    with pytest.raises(ValidationError, match="account_id"):
        ClientAccount.register(
            meta(c.kam),
            c.kam,
            "acme",  # type: ignore[arg-type]
            team_id=c.team_id,
            name="A",
            industry="i",
            region="r",
        )


def test_a_command_carries_the_acting_members_own_credentials() -> None:
    """Credentials of someone other than the command's actor are refused."""
    c = cast()

    with pytest.raises(NotYourCredentials, match="actor"):
        ClientAccount.register(
            meta(c.rep),
            c.kam,
            AccountId(uuid4()),
            team_id=c.team_id,
            name="A",
            industry="i",
            region="r",
        )


def test_a_command_dated_before_the_last_change_is_refused() -> None:
    """Effective times never go backwards on one account."""
    c = cast()
    account = key(c)

    with unchanged(account), pytest.raises(TimestampOutOfOrder):
        account.undesignate_key(meta(c.director, at(0)), c.director, reason="mistake")


# -- key-account designation ------------------------------------------------------------------


def test_a_director_designates_a_key_account() -> None:
    """Given an ordinary account, when a director designates it, then it is key with a tier."""
    c = cast()
    account = registered(c)

    account.designate_key(
        meta(c.senior, at(1)), c.senior, tier=Tier.STRATEGIC, strategies=STRATEGIES
    )

    (event,) = recorded(account)
    assert isinstance(event, ClientAccount.KeyAccountDesignated)
    assert (event.tier, event.previous_tier) == (Tier.STRATEGIC, None)
    assert account.is_key
    assert account.strategies == STRATEGIES
    assert account.designated_at == at(1)


def test_redesignation_changes_the_tier_and_keeps_the_previous_one_in_the_event() -> None:
    """Given a major key account, when made strategic, then the event names the old tier."""
    c = cast()
    account = key(c, Tier.MAJOR)

    account.designate_key(
        meta(c.director, at(2)), c.director, tier=Tier.STRATEGIC, strategies=STRATEGIES
    )

    (event,) = recorded(account)
    assert (event.tier, event.previous_tier) == (Tier.STRATEGIC, Tier.MAJOR)
    assert account.tier is Tier.STRATEGIC


def test_redesignation_that_changes_nothing_is_refused() -> None:
    """Designating again with the same tier and strategies is InvalidTransition."""
    c = cast()
    account = key(c, Tier.MAJOR)

    with unchanged(account), pytest.raises(InvalidTransition, match="tier"):
        account.designate_key(
            meta(c.director, at(2)), c.director, tier=Tier.MAJOR, strategies=STRATEGIES
        )


def test_designation_needs_a_tier() -> None:
    """A tier given as text is refused."""
    c = cast()
    account = registered(c)

    with unchanged(account), pytest.raises(ValidationError, match="tier"):
        account.designate_key(meta(c.director), c.director, tier="major", strategies=STRATEGIES)  # type: ignore[arg-type]


@pytest.mark.parametrize("strategy", ["market", "client", "marketing", "competitive"])
def test_designation_needs_all_four_strategies(strategy: str) -> None:
    """An empty strategy text is refused, naming which one."""
    c = cast()
    account = registered(c)
    texts = {"market": "m", "client": "c", "marketing": "k", "competitive": "p", strategy: ""}

    with unchanged(account), pytest.raises(ValidationError, match=f"strategies.{strategy}"):
        account.designate_key(
            meta(c.director), c.director, tier=Tier.MAJOR, strategies=AccountStrategies(**texts)
        )


def test_a_director_from_another_team_cannot_designate() -> None:
    """Credentials from another team are NotAuthorised."""
    c = cast()
    account = registered(c)
    outsider = creds(Role.SALES_DIRECTOR)

    with unchanged(account), pytest.raises(NotAuthorised, match="actor"):
        account.designate_key(meta(outsider), outsider, tier=Tier.MAJOR, strategies=STRATEGIES)


def test_undesignation_releases_the_accountable_kam() -> None:
    """Given a managed key account, when undesignated, then nobody is accountable any more."""
    c = cast()
    account = managed(c)

    account.undesignate_key(meta(c.director, at(5)), c.director, reason="contract ended")

    (event,) = recorded(account)
    assert isinstance(event, ClientAccount.KeyAccountUndesignated)
    assert event.released_kam_id == c.kam.member_id
    assert (account.is_key, account.accountable_kam, account.strategies) == (False, None, None)
    assert account.assignment_history[-1].kam_id is None
    assert account.assignment_history[-1].reason == "contract ended"


def test_undesignating_an_ordinary_account_is_refused() -> None:
    """Only a key account can stop being one."""
    c = cast()
    account = registered(c)

    with unchanged(account), pytest.raises(AccountNotKey):
        account.undesignate_key(meta(c.director, at(1)), c.director, reason="no")


def test_undesignation_needs_a_reason() -> None:
    """An empty reason is refused."""
    c = cast()
    account = key(c)

    with unchanged(account), pytest.raises(ValidationError, match="reason"):
        account.undesignate_key(meta(c.director, at(2)), c.director, reason="")


# -- the accountable KAM ----------------------------------------------------------------------


def test_a_director_assigns_the_accountable_kam() -> None:
    """Given a key account, when a director assigns a KAM, then that KAM is accountable."""
    c = cast()
    account = key(c)

    account.assign_kam(meta(c.director, at(2)), c.director, c.kam, reason="knows the client")

    (event,) = recorded(account)
    assert isinstance(event, ClientAccount.KamAssigned)
    assert (event.kam_id, event.previous_kam_id) == (c.kam.member_id, None)
    assert event.decided_by == f"member:{c.director.member_id}"
    assert account.accountable_kam == c.kam.member_id


def test_reassignment_replaces_the_kam_and_names_the_previous_one() -> None:
    """There is exactly one accountable KAM; the event records whom the new one replaced."""
    c = cast()
    account = managed(c)

    account.assign_kam(meta(c.senior, at(5)), c.senior, c.kam2, reason="rebalancing")

    (event,) = recorded(account)
    assert (event.kam_id, event.previous_kam_id) == (c.kam2.member_id, c.kam.member_id)
    assert account.accountable_kam == c.kam2.member_id
    assert [a.kam_id for a in account.assignment_history] == [c.kam.member_id, c.kam2.member_id]


def test_reassigning_the_same_kam_is_refused() -> None:
    """Assigning the KAM who is already accountable is InvalidTransition."""
    c = cast()
    account = managed(c)

    with unchanged(account), pytest.raises(InvalidTransition, match="kam"):
        account.assign_kam(meta(c.director, at(5)), c.director, c.kam, reason="again")


def test_only_a_key_account_gets_an_accountable_kam() -> None:
    """An ordinary account refuses a KAM with AccountNotKey."""
    c = cast()
    account = registered(c)

    with unchanged(account), pytest.raises(AccountNotKey):
        account.assign_kam(meta(c.director, at(1)), c.director, c.kam, reason="r")


@pytest.mark.parametrize("role", ["rep", "director", "project_director"])
def test_the_accountable_member_must_be_a_key_account_manager(role: str) -> None:
    """Only a key account manager can be made accountable."""
    c = cast()
    account = key(c)

    with unchanged(account), pytest.raises(RoleRequired, match="kam"):
        account.assign_kam(meta(c.director, at(2)), c.director, getattr(c, role), reason="r")


def test_a_kam_who_left_cannot_be_assigned() -> None:
    """A departed KAM is refused with MemberInactive."""
    c = cast()
    account = key(c)

    with unchanged(account), pytest.raises(MemberInactive, match="kam"):
        account.assign_kam(meta(c.director, at(2)), c.director, c.gone, reason="r")


def test_a_kam_of_another_team_cannot_be_assigned() -> None:
    """The KAM must belong to the account's team."""
    c = cast()
    account = key(c)

    with unchanged(account), pytest.raises(NotAuthorised, match="kam"):
        account.assign_kam(meta(c.director, at(2)), c.director, c.stranger, reason="r")


def test_a_kam_cannot_assign_accounts_to_themselves() -> None:
    """Manual assignment is a sales director's decision."""
    c = cast()
    account = key(c)

    with unchanged(account), pytest.raises(RoleRequired, match="actor"):
        account.assign_kam(meta(c.kam, at(2)), c.kam, c.kam, reason="I want it")


def test_manual_assignment_needs_a_reason() -> None:
    """An empty reason is refused."""
    c = cast()
    account = key(c)

    with unchanged(account), pytest.raises(ValidationError, match="reason"):
        account.assign_kam(meta(c.director, at(2)), c.director, c.kam, reason=" ")


def test_a_policy_assigns_without_credentials_and_says_what_decided() -> None:
    """The assignment policy acts with by=None and records its decision text and reason."""
    c = cast()
    account = key(c)

    account.assign_kam(
        meta(POLICY, at(2)),
        None,
        c.kam2,
        reason="lowest tier-weighted load (2 of 12)",
        decided_by="assignment@1: balanced workload",
    )

    (event,) = recorded(account)
    assert event.actor == POLICY
    assert event.decided_by == "assignment@1: balanced workload"
    assert account.assignment_history[0].reason == "lowest tier-weighted load (2 of 12)"


def test_a_policy_assignment_by_default_names_the_policy() -> None:
    """Without decided_by, the policy actor (name and version) is recorded as the decider."""
    c = cast()
    account = key(c)

    account.assign_kam(meta(POLICY, at(2)), None, c.kam, reason="no KAM yet")

    assert account.assignment_history[0].decided_by == "policy:assignment@1"


def test_a_member_cannot_assign_without_credentials() -> None:
    """Only a policy or system actor may omit credentials."""
    c = cast()
    account = key(c)

    with unchanged(account), pytest.raises(ValidationError, match="actor"):
        account.assign_kam(meta(c.director, at(2)), None, c.kam, reason="r")


def test_the_history_says_who_was_accountable_on_any_date() -> None:
    """Given assignments on days 2 and 5 and undesignation on day 8, each date has its KAM."""
    c = cast()
    account = managed(c)
    account.assign_kam(meta(POLICY, at(5)), None, c.kam2, reason="backup covers")
    account.undesignate_key(meta(c.director, at(8)), c.director, reason="downgraded")
    history(account)

    accountable = [account.accountable_kam_at(at(day)) for day in (1, 2, 4, 5, 7, 8, 9)]

    assert accountable == [
        None,
        c.kam.member_id,
        c.kam.member_id,
        c.kam2.member_id,
        c.kam2.member_id,
        None,
        None,
    ]


# -- representative and technical contact -----------------------------------------------------


def test_the_accounts_kam_assigns_its_representative() -> None:
    """Given a managed account, when its KAM names a representative, then it is recorded."""
    c = cast()
    account = managed(c)

    account.assign_representative(meta(c.kam, at(3)), c.kam, c.rep)

    (event,) = recorded(account)
    assert (event.representative_id, event.previous_id) == (c.rep.member_id, None)
    assert account.representative_id == c.rep.member_id


def test_a_director_replaces_the_representative() -> None:
    """A director may name another representative; the event keeps the previous one."""
    c = cast()
    account = served(c)

    account.assign_representative(meta(c.director, at(4)), c.director, c.rep2)

    (event,) = recorded(account)
    assert (event.representative_id, event.previous_id) == (c.rep2.member_id, c.rep.member_id)


def test_another_kam_cannot_staff_the_account() -> None:
    """A KAM who is not accountable for the account is NotAssignedToAccount."""
    c = cast()
    account = managed(c)

    with unchanged(account), pytest.raises(NotAssignedToAccount):
        account.assign_representative(meta(c.kam2, at(3)), c.kam2, c.rep)


def test_the_representative_must_hold_that_role() -> None:
    """A consultant cannot be the account's representative."""
    c = cast()
    account = managed(c)

    with unchanged(account), pytest.raises(RoleRequired, match="representative"):
        account.assign_representative(meta(c.kam, at(3)), c.kam, c.consultant)


def test_assigning_the_same_representative_again_is_refused() -> None:
    """Naming the current representative again is InvalidTransition."""
    c = cast()
    account = served(c)

    with unchanged(account), pytest.raises(InvalidTransition):
        account.assign_representative(meta(c.kam, at(4)), c.kam, c.rep)


@pytest.mark.parametrize("role", ["support", "consultant"])
def test_technical_support_or_a_consultant_is_the_technical_contact(role: str) -> None:
    """A director names technical support or a consultant as technical contact."""
    c = cast()
    account = managed(c)
    contact: Credentials = getattr(c, role)

    account.assign_technical_contact(meta(c.director, at(3)), c.director, contact)

    assert then(account) == [ClientAccount.TechnicalContactAssigned]
    assert account.technical_contact_id == contact.member_id


def test_the_technical_contact_must_be_technical_staff() -> None:
    """A representative cannot be the technical contact."""
    c = cast()
    account = managed(c)

    with unchanged(account), pytest.raises(RoleRequired, match="technical_contact"):
        account.assign_technical_contact(meta(c.kam, at(3)), c.kam, c.rep)


# -- the account plan -------------------------------------------------------------------------


def test_the_kam_agrees_the_plan_with_their_supervisor() -> None:
    """Given a managed account, when KAM and supervisor agree a plan, then it is version 1."""
    c = cast()
    account = managed(c)

    account.agree_plan(
        meta(c.kam, at(3)),
        c.kam,
        c.director,
        client_goals="cut network opex 10 %",
        execution_plan="pilot in Q1, roll out in Q2",
    )

    (event,) = recorded(account)
    assert isinstance(event, ClientAccount.PlanAgreed)
    assert (event.version, event.kam_id, event.supervisor_id) == (
        1,
        c.kam.member_id,
        c.director.member_id,
    )
    assert account.current_plan is not None
    assert account.current_plan.client_goals == "cut network opex 10 %"


def test_a_plan_needs_an_accountable_kam() -> None:
    """A key account without a KAM cannot have a plan: NoAccountableManager."""
    c = cast()
    account = key(c)

    with unchanged(account), pytest.raises(NoAccountableManager):
        account.agree_plan(
            meta(c.kam, at(2)), c.kam, c.director, client_goals="g", execution_plan="p"
        )


def test_only_the_accountable_kam_agrees_the_plan() -> None:
    """Another KAM is NotAssignedToAccount."""
    c = cast()
    account = managed(c)

    with unchanged(account), pytest.raises(NotAssignedToAccount):
        account.agree_plan(
            meta(c.kam2, at(3)), c.kam2, c.director, client_goals="g", execution_plan="p"
        )


def test_the_plan_needs_the_kams_recorded_supervisor() -> None:
    """Agreeing with a director who is not the KAM's supervisor is SupervisorRequired."""
    c = cast()
    account = managed(c)

    with unchanged(account), pytest.raises(SupervisorRequired, match="supervisor"):
        account.agree_plan(
            meta(c.kam, at(3)), c.kam, c.senior, client_goals="g", execution_plan="p"
        )


def test_a_kam_without_a_supervisor_cannot_agree_a_plan() -> None:
    """A KAM with no recorded supervisor gets SupervisorRequired."""
    c = cast()
    lone = creds(Role.KEY_ACCOUNT_MANAGER, team_id=c.team_id)
    account = key(c)
    account.assign_kam(meta(c.director, at(2)), c.director, lone, reason="r")
    history(account)

    with unchanged(account), pytest.raises(SupervisorRequired):
        account.agree_plan(
            meta(lone, at(3)), lone, c.director, client_goals="g", execution_plan="p"
        )


def test_a_supervisor_who_left_cannot_agree_the_plan() -> None:
    """The supervisor's credentials must be active."""
    c = cast()
    account = managed(c)
    departed = creds(
        Role.SALES_DIRECTOR, team_id=c.team_id, member_id=c.director.member_id, active=False
    )

    with unchanged(account), pytest.raises(MemberInactive, match="supervisor"):
        account.agree_plan(
            meta(c.kam, at(3)), c.kam, departed, client_goals="g", execution_plan="p"
        )


@pytest.mark.parametrize("field", ["client_goals", "execution_plan"])
def test_a_plan_needs_goals_and_an_execution_plan(field: str) -> None:
    """Empty goals or an empty execution plan are refused."""
    c = cast()
    account = managed(c)
    texts = {"client_goals": "g", "execution_plan": "p", field: ""}

    with unchanged(account), pytest.raises(ValidationError, match=field):
        account.agree_plan(meta(c.kam, at(3)), c.kam, c.director, **texts)


def test_agreeing_a_second_plan_is_refused() -> None:
    """Once agreed, a plan is revised, not agreed again."""
    c = cast()
    account = managed(c)
    account.agree_plan(meta(c.kam, at(3)), c.kam, c.director, client_goals="g", execution_plan="p")
    history(account)

    with unchanged(account), pytest.raises(InvalidTransition):
        account.agree_plan(
            meta(c.kam, at(4)), c.kam, c.director, client_goals="h", execution_plan="q"
        )


def test_a_revision_takes_the_next_version_number() -> None:
    """Given plan version 1, when revised with the supervisor, then version 2 is current."""
    c = cast()
    account = managed(c)
    account.agree_plan(meta(c.kam, at(3)), c.kam, c.director, client_goals="g", execution_plan="p")
    history(account)

    version = account.revise_plan(
        meta(c.kam, at(40)), c.kam, c.director, client_goals="g", execution_plan="p, then q"
    )

    (event,) = recorded(account)
    assert isinstance(event, ClientAccount.PlanRevised)
    assert version == event.version == 2
    assert [plan.version for plan in account.plans] == [1, 2]
    assert account.current_plan is not None
    assert account.current_plan.execution_plan == "p, then q"


def test_revising_before_any_plan_is_refused() -> None:
    """There is nothing to revise before a plan is agreed."""
    c = cast()
    account = managed(c)

    with unchanged(account), pytest.raises(InvalidTransition):
        account.revise_plan(
            meta(c.kam, at(3)), c.kam, c.director, client_goals="g", execution_plan="p"
        )


def test_a_revision_that_changes_nothing_is_refused() -> None:
    """Revising to the same goals and plan is InvalidTransition."""
    c = cast()
    account = managed(c)
    account.agree_plan(meta(c.kam, at(3)), c.kam, c.director, client_goals="g", execution_plan="p")
    history(account)

    with unchanged(account), pytest.raises(InvalidTransition):
        account.revise_plan(
            meta(c.kam, at(4)), c.kam, c.director, client_goals="g", execution_plan="p"
        )


def test_a_revision_needs_the_supervisor_too() -> None:
    """The revision rule is the agreement rule: the KAM's own supervisor."""
    c = cast()
    account = managed(c)
    account.agree_plan(meta(c.kam, at(3)), c.kam, c.director, client_goals="g", execution_plan="p")
    history(account)

    with unchanged(account), pytest.raises(SupervisorRequired):
        account.revise_plan(
            meta(c.kam, at(4)), c.kam, c.admin, client_goals="h", execution_plan="p"
        )


# -- knowing the client -----------------------------------------------------------------------


def test_the_people_serving_the_client_record_its_needs() -> None:
    """A need the KAM records is kept under its id with its description."""
    c = cast()
    account = served(c)
    by = c.kam
    need_id = uuid4()

    account.record_need(meta(by, at(5)), by, need_id, description="5G private network")

    assert then(account) == [ClientAccount.NeedRecorded]
    assert account.needs[need_id].description == "5G private network"


def test_a_need_is_recorded_once() -> None:
    """The same need id twice is AlreadyExists."""
    c = cast()
    account = served(c)
    need_id = uuid4()
    account.record_need(meta(c.kam, at(5)), c.kam, need_id, description="x")
    history(account)

    with unchanged(account), pytest.raises(AlreadyExists, match="need_id"):
        account.record_need(meta(c.kam, at(6)), c.kam, need_id, description="y")


def test_a_contact_joins_the_relationship_map_with_an_owner() -> None:
    """A client contact is recorded with title, influence and the member owning the relation."""
    c = cast()
    account = served(c)
    contact_id = ContactId(uuid4())

    account.add_contact(
        meta(c.rep, at(5)),
        c.rep,
        c.kam,
        contact_id,
        name="Ms Zhang",
        title="CTO",
        influence=ContactInfluence.HIGH,
    )

    (event,) = recorded(account)
    assert (event.influence, event.owner_id) == (ContactInfluence.HIGH, c.kam.member_id)
    assert account.contacts[contact_id].title == "CTO"


def test_a_contact_is_recorded_with_how_strong_the_relationship_is() -> None:
    """Given a served account, when a contact is added with a strong relationship, then the
    event and the contact on the map hold that strength."""
    c = cast()
    account = served(c)
    contact_id = ContactId(uuid4())

    account.add_contact(
        meta(c.rep, at(5)),
        c.rep,
        c.kam,
        contact_id,
        name="Ms Zhang",
        title="CTO",
        influence=ContactInfluence.HIGH,
        relationship_strength=RelationshipStrength.STRONG,
    )

    (event,) = recorded(account)
    assert event.relationship_strength is RelationshipStrength.STRONG
    assert account.contacts[contact_id].relationship_strength is RelationshipStrength.STRONG


def test_a_contact_added_without_a_strength_is_unassessed() -> None:
    """Given a served account, when a contact is added without a strength, then nobody has
    judged it: the contact reads as unassessed."""
    c = cast()
    account = served(c)
    contact_id = ContactId(uuid4())

    account.add_contact(
        meta(c.rep, at(5)),
        c.rep,
        c.kam,
        contact_id,
        name="Ms Zhang",
        title="CTO",
        influence=ContactInfluence.LOW,
    )

    strength = account.contacts[contact_id].relationship_strength
    assert strength is RelationshipStrength.UNASSESSED


def test_a_strength_given_as_text_is_refused() -> None:
    """Given a served account, when a contact's strength is given as text, then ValidationError
    names the field and nothing is recorded."""
    c = cast()
    account = served(c)

    with unchanged(account), pytest.raises(ValidationError, match="relationship_strength"):
        account.add_contact(
            meta(c.rep, at(5)),
            c.rep,
            c.kam,
            ContactId(uuid4()),
            name="Ms Zhang",
            title="CTO",
            influence=ContactInfluence.HIGH,
            relationship_strength="strong",  # type: ignore[arg-type]
        )


def test_the_relationship_owner_must_be_an_active_member() -> None:
    """A departed member cannot own a client relationship."""
    c = cast()
    account = served(c)

    with unchanged(account), pytest.raises(MemberInactive, match="owner"):
        account.add_contact(
            meta(c.rep, at(5)),
            c.rep,
            c.gone,
            ContactId(uuid4()),
            name="Ms Zhang",
            title="CTO",
            influence=ContactInfluence.HIGH,
        )


def test_the_relationship_owner_must_be_on_the_team() -> None:
    """A member of another team cannot own a relationship of this account."""
    c = cast()
    account = served(c)

    with unchanged(account), pytest.raises(NotAuthorised, match="owner"):
        account.add_contact(
            meta(c.rep, at(5)),
            c.rep,
            c.stranger,
            ContactId(uuid4()),
            name="Ms Zhang",
            title="CTO",
            influence=ContactInfluence.LOW,
        )


def test_influence_must_be_one_of_high_medium_low() -> None:
    """Influence given as text is refused."""
    c = cast()
    account = served(c)

    with unchanged(account), pytest.raises(ValidationError, match="influence"):
        account.add_contact(
            meta(c.rep, at(5)),
            c.rep,
            c.kam,
            ContactId(uuid4()),
            name="Ms Zhang",
            title="CTO",
            influence="high",  # type: ignore[arg-type]
        )


def test_a_contact_is_added_once() -> None:
    """The same contact id twice is AlreadyExists."""
    c = cast()
    account = served(c)
    contact_id = ContactId(uuid4())
    kwargs: dict[str, Any] = {"name": "Zhang", "title": "CTO", "influence": ContactInfluence.MEDIUM}
    account.add_contact(meta(c.rep, at(5)), c.rep, c.kam, contact_id, **kwargs)
    history(account)

    with unchanged(account), pytest.raises(AlreadyExists, match="contact_id"):
        account.add_contact(meta(c.rep, at(6)), c.rep, c.kam, contact_id, **kwargs)


def with_contact(
    c: Cast, strength: RelationshipStrength = RelationshipStrength.UNASSESSED
) -> tuple[ClientAccount, ContactId]:
    """Given a served account with Ms Zhang, the CTO, added by the representative on day 5 with
    ``strength``, her relation owned by the KAM."""
    account = served(c)
    contact_id = ContactId(uuid4())
    account.add_contact(
        meta(c.rep, at(5)),
        c.rep,
        c.kam,
        contact_id,
        name="Ms Zhang",
        title="CTO",
        influence=ContactInfluence.HIGH,
        relationship_strength=strength,
    )
    history(account)
    return account, contact_id


def test_a_contacts_relationship_is_assessed_after_she_was_added() -> None:
    """Given an unassessed contact, when the KAM judges the relationship strong with a note,
    then the event holds the new and previous strength and the note, and the contact holds
    the strength and who judged it when, the rest of her record as it was."""
    c = cast()
    account, contact_id = with_contact(c)
    added = account.contacts[contact_id]

    account.assess_contact(
        meta(c.kam, at(6)),
        c.kam,
        contact_id,
        strength=RelationshipStrength.STRONG,
        note="met at the trade fair; she asked for the roadmap",
    )

    (event,) = recorded(account)
    assert isinstance(event, ClientAccount.ContactRelationshipAssessed)
    assert (event.contact_id, event.strength, event.previous_strength) == (
        contact_id,
        RelationshipStrength.STRONG,
        RelationshipStrength.UNASSESSED,
    )
    assert event.note == "met at the trade fair; she asked for the roadmap"
    contact = account.contacts[contact_id]
    assert contact.relationship_strength is RelationshipStrength.STRONG
    assert (contact.assessed_by, contact.assessed_at) == (c.kam.member_id, at(6))
    assert (contact.name, contact.owner_id, contact.added_at) == (
        added.name,
        added.owner_id,
        added.added_at,
    )


def test_a_contact_added_with_a_strength_has_no_later_judgement() -> None:
    """Given a contact added as moderate, then she holds that strength and nobody has judged
    it since: who added her, and when, is her ContactAdded event's."""
    c = cast()
    account, contact_id = with_contact(c, RelationshipStrength.MODERATE)

    contact = account.contacts[contact_id]

    assert contact.relationship_strength is RelationshipStrength.MODERATE
    assert (contact.assessed_by, contact.assessed_at) == (None, None)


def test_admin_staff_who_know_the_client_assess_the_relationship() -> None:
    """Given a moderate contact, when the department assistant judges it weak without a note,
    then it is recorded, the note absent and the assistant named as who judged."""
    c = cast()
    account, contact_id = with_contact(c, RelationshipStrength.MODERATE)

    account.assess_contact(
        meta(c.assistant, at(6)), c.assistant, contact_id, strength=RelationshipStrength.WEAK
    )

    (event,) = recorded(account)
    assert (event.previous_strength, event.strength, event.note) == (
        RelationshipStrength.MODERATE,
        RelationshipStrength.WEAK,
        None,
    )
    assert account.contacts[contact_id].assessed_by == c.assistant.member_id


def test_the_same_strength_again_confirms_it_dated() -> None:
    """Given a contact judged strong on day 6, when she is judged strong again on day 40, then
    the confirmation is recorded and the contact says when she was last judged."""
    c = cast()
    account, contact_id = with_contact(c)
    strong = RelationshipStrength.STRONG
    account.assess_contact(meta(c.kam, at(6)), c.kam, contact_id, strength=strong)
    history(account)

    account.assess_contact(meta(c.rep, at(40)), c.rep, contact_id, strength=strong)

    (event,) = recorded(account)
    assert event.previous_strength is event.strength is strong
    contact = account.contacts[contact_id]
    assert (contact.assessed_by, contact.assessed_at) == (c.rep.member_id, at(40))


def test_unassessed_withdraws_a_judgement() -> None:
    """Given a strong contact, when the KAM resets her to unassessed (the judgement no longer
    holds), then she reads as unassessed, the withdrawal dated and attributed."""
    c = cast()
    account, contact_id = with_contact(c, RelationshipStrength.STRONG)

    account.assess_contact(
        meta(c.kam, at(6)),
        c.kam,
        contact_id,
        strength=RelationshipStrength.UNASSESSED,
        note="she moved to the subsidiary",
    )

    (event,) = recorded(account)
    assert event.previous_strength is RelationshipStrength.STRONG
    contact = account.contacts[contact_id]
    assert contact.relationship_strength is RelationshipStrength.UNASSESSED
    assert contact.assessed_at == at(6)


def test_an_unassessed_contact_cannot_be_reset() -> None:
    """Given a contact nobody has judged, when she is reset to unassessed, then InvalidTransition
    names the strength and nothing is recorded."""
    c = cast()
    account, contact_id = with_contact(c)

    with unchanged(account), pytest.raises(InvalidTransition, match="strength"):
        account.assess_contact(
            meta(c.kam, at(6)), c.kam, contact_id, strength=RelationshipStrength.UNASSESSED
        )


def test_assessing_a_contact_not_on_the_map_is_refused() -> None:
    """Given a contact on the map, when another id is assessed, then ContactNotFound (a
    NotFound) names the field and nothing is recorded."""
    c = cast()
    account, _ = with_contact(c)
    unknown = ContactId(uuid4())

    with unchanged(account), pytest.raises(ContactNotFound, match="contact_id") as refused:
        account.assess_contact(
            meta(c.kam, at(6)), c.kam, unknown, strength=RelationshipStrength.STRONG
        )

    assert refused.value.value == unknown
    assert then(account) == []


def test_an_assessment_needs_a_strength_not_text() -> None:
    """A strength given as text is ValidationError naming the field; nothing is recorded."""
    c = cast()
    account, contact_id = with_contact(c)

    with unchanged(account), pytest.raises(ValidationError, match="strength"):
        account.assess_contact(
            meta(c.kam, at(6)),
            c.kam,
            contact_id,
            strength="strong",  # type: ignore[arg-type]
        )


def test_an_empty_note_is_refused() -> None:
    """A note, when given, says something: an empty one is ValidationError naming it."""
    c = cast()
    account, contact_id = with_contact(c)

    with unchanged(account), pytest.raises(ValidationError, match="note"):
        account.assess_contact(
            meta(c.kam, at(6)), c.kam, contact_id, strength=RelationshipStrength.WEAK, note=" "
        )


def test_the_project_director_does_not_keep_the_relationship_map() -> None:
    """Someone who may not add a contact may not assess one: RoleRequired, nothing recorded."""
    c = cast()
    account, contact_id = with_contact(c)
    director = c.project_director

    with unchanged(account), pytest.raises(RoleRequired, match="actor"):
        account.assess_contact(
            meta(director, at(6)), director, contact_id, strength=RelationshipStrength.WEAK
        )


def test_nobody_from_another_team_assesses_a_contact() -> None:
    """A member of another team is refused by the guard every command passes (NotOnTeam, a
    NotAuthorised); nothing is recorded."""
    c = cast()
    account, contact_id = with_contact(c)

    with unchanged(account), pytest.raises(NotAuthorised, match="actor"):
        account.assess_contact(
            meta(c.stranger, at(6)), c.stranger, contact_id, strength=RelationshipStrength.WEAK
        )


def test_an_assessment_dated_before_the_contact_was_added_is_refused() -> None:
    """An assessment dated before the account's last event is TimestampOutOfOrder."""
    c = cast()
    account, contact_id = with_contact(c)

    with unchanged(account), pytest.raises(TimestampOutOfOrder):
        account.assess_contact(
            meta(c.kam, at(4)), c.kam, contact_id, strength=RelationshipStrength.WEAK
        )


def test_competitor_intelligence_is_recorded() -> None:
    """A consultant records what a competitor is doing at the client."""
    c = cast()
    account = served(c)

    account.record_competitor_intelligence(
        meta(c.consultant, at(5)), c.consultant, competitor="Rival Co", note="offered 20 % off"
    )

    assert then(account) == [ClientAccount.CompetitorIntelligenceRecorded]
    assert account.intelligence[0].competitor == "Rival Co"
    assert account.intelligence[0].recorded_at == at(5)


def test_competitor_intelligence_names_the_competitor() -> None:
    """An empty competitor name is refused."""
    c = cast()
    account = served(c)

    with unchanged(account), pytest.raises(ValidationError, match="competitor"):
        account.record_competitor_intelligence(meta(c.kam, at(5)), c.kam, competitor="", note="n")


# -- agreements -------------------------------------------------------------------------------


def test_the_representative_signs_an_agreement_with_its_schedule() -> None:
    """Given a served account, when its representative signs, then number, value and schedule."""
    c = cast()
    account = served(c)
    agreement_id = AgreementId(uuid4())

    account.sign_agreement(
        meta(c.rep, at(4)),
        c.rep,
        agreement_id,
        number=" HT-1 ",
        value=cny(100),
        schedule=[*schedule((30, 60), (60, 40))],
    )

    (event,) = recorded(account)
    assert isinstance(event, ClientAccount.AgreementSigned)
    assert event.schedule == schedule((30, 60), (60, 40))
    agreement = account.agreements[agreement_id]
    assert (agreement.number, agreement.value, agreement.representative_id) == (
        "HT-1",
        cny(100),
        c.rep.member_id,
    )


def test_any_representative_signs_while_none_is_assigned() -> None:
    """Before a representative is assigned, any representative of the team may sign; the
    agreement names them as its signer."""
    c = cast()
    account = managed(c)
    agreement_id = AgreementId(uuid4())

    account.sign_agreement(
        meta(c.rep2, at(4)),
        c.rep2,
        agreement_id,
        number="HT-1",
        value=cny(10),
        schedule=schedule((30, 10)),
    )

    assert then(account) == [ClientAccount.AgreementSigned]
    agreement = account.agreements[agreement_id]
    assert (agreement.number, agreement.value) == ("HT-1", cny(10))
    assert (agreement.representative_id, agreement.signed_at) == (c.rep2.member_id, at(4))


def test_once_assigned_only_the_accounts_representative_signs() -> None:
    """Another representative is NotAssignedToAccount."""
    c = cast()
    account = served(c)

    with unchanged(account), pytest.raises(NotAssignedToAccount):
        account.sign_agreement(
            meta(c.rep2, at(4)),
            c.rep2,
            AgreementId(uuid4()),
            number="HT-1",
            value=cny(10),
            schedule=schedule((30, 10)),
        )


@pytest.mark.parametrize(
    ("parts", "error", "reason"),
    [
        (((30, 60), (60, 30)), ValidationError, "add up"),
        (((60, 60), (30, 40)), ValidationError, "after installment 1"),
        (((30, 60), (30, 40)), ValidationError, "after installment 1"),
        ((), ValidationError, "at least one"),
        (((30, 100), (60, 0)), ValidationError, "more than zero"),
        (((30, 120), (60, -20)), ValidationError, "more than zero"),
    ],
)
def test_the_schedule_must_fit_the_value(
    parts: tuple[tuple[int, int], ...], error: type[Exception], reason: str
) -> None:
    """Installments are positive, fall due in ascending order and add up to the value."""
    c = cast()
    account = served(c)

    with unchanged(account), pytest.raises(error, match=reason):
        account.sign_agreement(
            meta(c.rep, at(4)),
            c.rep,
            AgreementId(uuid4()),
            number="HT-1",
            value=cny(100),
            schedule=schedule(*parts),
        )


def test_the_schedule_is_in_the_agreements_currency() -> None:
    """An installment in another currency is CurrencyMismatch."""
    c = cast()
    account = served(c)
    mixed = (PaymentInstallment(at(30), cny(60)), PaymentInstallment(at(60), Money.of(40, "USD")))

    with unchanged(account), pytest.raises(CurrencyMismatch, match="schedule"):
        account.sign_agreement(
            meta(c.rep, at(4)),
            c.rep,
            AgreementId(uuid4()),
            number="HT-1",
            value=cny(100),
            schedule=mixed,
        )


def test_installment_due_dates_must_be_timezone_aware() -> None:
    """A naive due date is refused."""
    c = cast()
    account = served(c)
    naive = (PaymentInstallment(datetime(2026, 3, 1), cny(100)),)

    with unchanged(account), pytest.raises(ValidationError, match="schedule"):
        account.sign_agreement(
            meta(c.rep, at(4)),
            c.rep,
            AgreementId(uuid4()),
            number="HT-1",
            value=cny(100),
            schedule=naive,
        )


@pytest.mark.parametrize("value", [Money.of(0, "CNY"), Money.of(-5, "CNY"), 100.0, 100])
def test_an_agreement_value_is_positive_money(value: Any) -> None:
    """Zero, negative, float and bare-number values are refused."""
    c = cast()
    account = served(c)

    with unchanged(account), pytest.raises(ValidationError, match="value"):
        account.sign_agreement(
            meta(c.rep, at(4)),
            c.rep,
            AgreementId(uuid4()),
            number="HT-1",
            value=value,
            schedule=schedule((30, 100)),
        )


def test_agreement_numbers_are_unique_within_the_account() -> None:
    """A second agreement HT-1 is AlreadyExists."""
    c = cast()
    account, _ = contracted(c)

    with unchanged(account), pytest.raises(AlreadyExists, match="number"):
        account.sign_agreement(
            meta(c.rep, at(5)),
            c.rep,
            AgreementId(uuid4()),
            number="HT-1",
            value=cny(10),
            schedule=schedule((30, 10)),
        )


# -- invoices ---------------------------------------------------------------------------------


def test_finance_issues_an_invoice_under_an_agreement() -> None:
    """Given an agreement, when finance invoices part of it, then the invoice is open."""
    c = cast()
    account, agreement_id = contracted(c)
    invoice_id = InvoiceId(uuid4())

    account.issue_invoice(
        meta(c.finance, at(5)),
        c.finance,
        invoice_id,
        amount=cny(60),
        due_at=at(30),
        agreement_id=agreement_id,
    )

    (event,) = recorded(account)
    assert isinstance(event, ClientAccount.InvoiceIssued)
    invoice = account.invoices[invoice_id]
    assert (invoice.issued_at, invoice.due_at, invoice.open_balance) == (at(5), at(30), cny(60))


def test_a_representative_invoices_without_an_agreement() -> None:
    """An invoice need not belong to an agreement; it is open for its whole amount."""
    c = cast()
    account = served(c)
    invoice_id = InvoiceId(uuid4())

    account.issue_invoice(meta(c.rep, at(5)), c.rep, invoice_id, amount=cny(5), due_at=at(20))

    assert then(account) == [ClientAccount.InvoiceIssued]
    invoice = account.invoices[invoice_id]
    assert (invoice.agreement_id, invoice.issued_at, invoice.due_at) == (None, at(5), at(20))
    assert account.open_balance(invoice_id) == cny(5)


def test_an_invoice_under_an_unknown_agreement_is_refused() -> None:
    """AgreementNotFound names the field."""
    c = cast()
    account, _ = contracted(c)

    with unchanged(account), pytest.raises(AgreementNotFound, match="agreement_id"):
        account.issue_invoice(
            meta(c.finance, at(5)),
            c.finance,
            InvoiceId(uuid4()),
            amount=cny(10),
            due_at=at(30),
            agreement_id=AgreementId(uuid4()),
        )


def test_an_agreement_is_never_invoiced_beyond_its_value() -> None:
    """Given 60 of 100 invoiced, when 50 more are invoiced, then AgreementValueExceeded."""
    c = cast()
    account, _ = invoiced(c)
    agreement_id = next(iter(account.agreements))

    with unchanged(account), pytest.raises(AgreementValueExceeded):
        account.issue_invoice(
            meta(c.finance, at(6)),
            c.finance,
            InvoiceId(uuid4()),
            amount=cny(50),
            due_at=at(60),
            agreement_id=agreement_id,
        )


def test_an_invoice_is_in_its_agreements_currency() -> None:
    """Invoicing a CNY agreement in USD is CurrencyMismatch."""
    c = cast()
    account, agreement_id = contracted(c)

    with unchanged(account), pytest.raises(CurrencyMismatch):
        account.issue_invoice(
            meta(c.finance, at(5)),
            c.finance,
            InvoiceId(uuid4()),
            amount=Money.of(10, "USD"),
            due_at=at(30),
            agreement_id=agreement_id,
        )


@pytest.mark.parametrize("due_day", [5, 4])
def test_an_invoice_falls_due_after_it_is_issued(due_day: int) -> None:
    """A due date at or before the issue date is refused."""
    c = cast()
    account = served(c)

    with unchanged(account), pytest.raises(ValidationError, match="due_at"):
        account.issue_invoice(
            meta(c.rep, at(5)), c.rep, InvoiceId(uuid4()), amount=cny(5), due_at=at(due_day)
        )


def test_an_invoice_due_date_must_be_timezone_aware() -> None:
    """A naive due date is refused."""
    c = cast()
    account = served(c)

    with unchanged(account), pytest.raises(ValidationError, match="due_at"):
        account.issue_invoice(
            meta(c.rep, at(5)),
            c.rep,
            InvoiceId(uuid4()),
            amount=cny(5),
            due_at=datetime(2026, 3, 1),
        )


@pytest.mark.parametrize("amount", [Money.of(0, "CNY"), Money.of("-0.01", "CNY"), 5.0])
def test_an_invoice_amount_is_positive_money(amount: Any) -> None:
    """Zero, negative and float amounts are refused."""
    c = cast()
    account = served(c)

    with unchanged(account), pytest.raises(ValidationError, match="amount"):
        account.issue_invoice(
            meta(c.rep, at(5)), c.rep, InvoiceId(uuid4()), amount=amount, due_at=at(9)
        )


def test_an_invoice_is_issued_once() -> None:
    """The same invoice id twice is AlreadyExists."""
    c = cast()
    account, invoice_id = invoiced(c)

    with unchanged(account), pytest.raises(AlreadyExists, match="invoice_id"):
        account.issue_invoice(meta(c.rep, at(6)), c.rep, invoice_id, amount=cny(5), due_at=at(9))


# -- payments ---------------------------------------------------------------------------------


def test_a_payment_reduces_the_open_balance() -> None:
    """Given a 60 CNY invoice, when 25 are paid, then 35 are open on it and in total."""
    c = cast()
    account, invoice_id = invoiced(c)
    payment_id = uuid4()

    account.receive_payment(meta(c.rep, at(12)), c.rep, payment_id, invoice_id, amount=cny(25))

    (event,) = recorded(account)
    assert isinstance(event, ClientAccount.PaymentReceived)
    assert account.open_balance(invoice_id) == cny(35)
    assert account.total_open_balance() == {"CNY": cny(35)}
    assert account.payments[payment_id].received_at == at(12)


def test_rejects_payment_beyond_open_balance() -> None:
    """Given 50 of 60 paid, when 11 more arrive, then PaymentExceedsBalance and nothing changes."""
    c = cast()
    account, invoice_id = invoiced(c)
    account.receive_payment(meta(c.rep, at(12)), c.rep, uuid4(), invoice_id, amount=cny(50))
    history(account)

    with unchanged(account), pytest.raises(PaymentExceedsBalance, match="amount"):
        account.receive_payment(meta(c.rep, at(13)), c.rep, uuid4(), invoice_id, amount=cny(11))

    assert account.open_balance(invoice_id) == cny(10)


def test_an_invoice_paid_in_full_takes_no_more_payments() -> None:
    """Given an invoice paid in full, any further payment exceeds its balance."""
    c = cast()
    account, invoice_id = invoiced(c)
    account.receive_payment(meta(c.finance, at(12)), c.finance, uuid4(), invoice_id, amount=cny(60))
    history(account)

    with unchanged(account), pytest.raises(PaymentExceedsBalance):
        account.receive_payment(meta(c.rep, at(13)), c.rep, uuid4(), invoice_id, amount=cny("0.01"))

    assert account.total_open_balance() == {}


def test_a_payment_is_in_the_invoices_currency() -> None:
    """A USD payment on a CNY invoice is CurrencyMismatch."""
    c = cast()
    account, invoice_id = invoiced(c)

    with unchanged(account), pytest.raises(CurrencyMismatch, match="amount"):
        account.receive_payment(
            meta(c.rep, at(12)), c.rep, uuid4(), invoice_id, amount=Money.of(5, "USD")
        )


def test_a_payment_names_a_known_invoice() -> None:
    """A payment on an unknown invoice is InvoiceNotFound."""
    c = cast()
    account, _ = invoiced(c)

    with unchanged(account), pytest.raises(InvoiceNotFound, match="invoice_id"):
        account.receive_payment(
            meta(c.rep, at(12)), c.rep, uuid4(), InvoiceId(uuid4()), amount=cny(5)
        )


@pytest.mark.parametrize("amount", [Money.of(0, "CNY"), Money.of(-5, "CNY"), 5.0, Decimal(5)])
def test_a_payment_is_positive_money(amount: Any) -> None:
    """Zero, negative, float and bare Decimal payments are refused."""
    c = cast()
    account, invoice_id = invoiced(c)

    with unchanged(account), pytest.raises(ValidationError, match="amount"):
        account.receive_payment(meta(c.rep, at(12)), c.rep, uuid4(), invoice_id, amount=amount)


def test_a_payment_is_booked_once() -> None:
    """The same payment id twice is AlreadyExists."""
    c = cast()
    account, invoice_id = invoiced(c)
    payment_id = uuid4()
    account.receive_payment(meta(c.rep, at(12)), c.rep, payment_id, invoice_id, amount=cny(5))
    history(account)

    with unchanged(account), pytest.raises(AlreadyExists, match="payment_id"):
        account.receive_payment(meta(c.rep, at(13)), c.rep, payment_id, invoice_id, amount=cny(5))


# -- overdue ----------------------------------------------------------------------------------


def test_the_collections_policy_flags_an_invoice_past_due() -> None:
    """Given an unpaid invoice due on day 30, on day 31 a policy flags it with its balance."""
    c = cast()
    account, invoice_id = invoiced(c)
    account.receive_payment(meta(c.rep, at(12)), c.rep, uuid4(), invoice_id, amount=cny(20))
    history(account)

    account.flag_overdue(meta(Actor.policy("collections", 1), at(31)), None, invoice_id)

    (event,) = recorded(account)
    assert isinstance(event, ClientAccount.PaymentOverdue)
    assert (event.due_at, event.open_balance) == (at(30), cny(40))
    assert account.invoices[invoice_id].overdue_flagged_at == at(31)


def test_an_invoice_not_yet_past_due_is_not_overdue() -> None:
    """On its due date an invoice is not overdue yet."""
    c = cast()
    account, invoice_id = invoiced(c)

    with unchanged(account), pytest.raises(InvalidTransition, match="not due"):
        account.flag_overdue(meta(c.rep, at(30)), c.rep, invoice_id)


def test_a_paid_invoice_is_never_overdue() -> None:
    """An invoice paid in full is not flagged."""
    c = cast()
    account, invoice_id = invoiced(c)
    account.receive_payment(meta(c.rep, at(12)), c.rep, uuid4(), invoice_id, amount=cny(60))
    history(account)

    with unchanged(account), pytest.raises(InvalidTransition, match="paid"):
        account.flag_overdue(meta(c.rep, at(31)), c.rep, invoice_id)


def test_an_invoice_is_flagged_overdue_once() -> None:
    """A second flag for the same invoice is InvalidTransition."""
    c = cast()
    account, invoice_id = invoiced(c)
    account.flag_overdue(meta(c.rep, at(31)), c.rep, invoice_id)
    history(account)

    with unchanged(account), pytest.raises(InvalidTransition, match="already"):
        account.flag_overdue(meta(Actor.system("clock"), at(32)), None, invoice_id)


def test_a_member_cannot_flag_without_credentials() -> None:
    """by=None is for policies and system actors only."""
    c = cast()
    account, invoice_id = invoiced(c)

    with unchanged(account), pytest.raises(ValidationError, match="actor"):
        account.flag_overdue(meta(c.rep, at(31)), None, invoice_id)


def test_overdue_invoices_are_those_past_due_with_a_balance_at_a_moment() -> None:
    """Given invoices due on days 30 and 20, one paid, only the unpaid past-due one is listed."""
    c = cast()
    account, first = invoiced(c)
    paid = InvoiceId(uuid4())
    account.issue_invoice(meta(c.rep, at(6)), c.rep, paid, amount=cny(7), due_at=at(20))
    account.receive_payment(meta(c.rep, at(19)), c.rep, uuid4(), paid, amount=cny(7))
    history(account)

    on_day_25 = account.overdue_invoices(at(25))
    on_day_31 = account.overdue_invoices(at(31))

    assert on_day_25 == []
    assert [invoice.invoice_id for invoice in on_day_31] == [first]


# -- cases ------------------------------------------------------------------------------------


def test_a_case_goes_from_open_to_acknowledged_to_resolved() -> None:
    """Each step records its moment: opened_at, acknowledged_at, resolved_at."""
    c = cast()
    account, case_id = acknowledged(c)

    account.resolve_case(meta(c.support, at(11)), c.support, case_id, resolution="router replaced")

    assert then(account) == [ClientAccount.CaseResolved]
    case = account.cases[case_id]
    assert case.status is CaseStatus.RESOLVED
    assert (case.opened_at, case.acknowledged_at, case.resolved_at) == (
        at(10),
        at(10, hours=2),
        at(11),
    )
    assert case.resolution == "router replaced"
    assert account.open_cases() == []


def test_a_representative_opens_a_case() -> None:
    """A case a representative opens is open."""
    c = cast()
    account = served(c)
    by = c.rep

    account.open_case(
        meta(by, at(5)),
        by,
        CaseId(uuid4()),
        kind=CaseKind.INQUIRY,
        severity=Severity.LOW,
        subject="s",
    )

    assert account.open_cases()[0].status is CaseStatus.OPEN


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("kind", {"kind": "complaint"}),
        ("severity", {"severity": 3}),
        ("subject", {"subject": ""}),
    ],
)
def test_a_case_needs_a_kind_a_severity_and_a_subject(field: str, kwargs: dict[str, Any]) -> None:
    """A kind or severity that is not the enum, or an empty subject, is refused."""
    c = cast()
    account = served(c)
    given = {"kind": CaseKind.COMPLAINT, "severity": Severity.HIGH, "subject": "s", **kwargs}

    with unchanged(account), pytest.raises(ValidationError, match=field):
        account.open_case(meta(c.rep, at(5)), c.rep, CaseId(uuid4()), **given)


def test_a_case_is_opened_once() -> None:
    """The same case id twice is AlreadyExists."""
    c = cast()
    account, case_id = with_case(c)

    with unchanged(account), pytest.raises(AlreadyExists, match="case_id"):
        account.open_case(
            meta(c.rep, at(11)),
            c.rep,
            case_id,
            kind=CaseKind.INQUIRY,
            severity=Severity.LOW,
            subject="s",
        )


def test_any_active_member_acknowledges_a_case() -> None:
    """The department assistant may acknowledge a case."""
    c = cast()
    account, case_id = with_case(c)

    account.acknowledge_case(meta(c.assistant, at(10, hours=1)), c.assistant, case_id)

    assert account.cases[case_id].acknowledged_at == at(10, hours=1)
    assert account.cases[case_id].status is CaseStatus.ACKNOWLEDGED


def test_a_member_who_left_cannot_acknowledge() -> None:
    """Departed members cannot act on cases."""
    c = cast()
    account, case_id = with_case(c)

    with unchanged(account), pytest.raises(MemberInactive):
        account.acknowledge_case(meta(c.gone, at(11)), c.gone, case_id)


def test_a_case_is_acknowledged_once() -> None:
    """Acknowledging an acknowledged case is InvalidTransition."""
    c = cast()
    account, case_id = acknowledged(c)

    with unchanged(account), pytest.raises(InvalidTransition):
        account.acknowledge_case(meta(c.rep, at(11)), c.rep, case_id)


def test_acknowledging_an_unknown_case_is_refused() -> None:
    """CaseNotFound names the field."""
    c = cast()
    account, _ = with_case(c)

    with unchanged(account), pytest.raises(CaseNotFound, match="case_id"):
        account.acknowledge_case(meta(c.rep, at(11)), c.rep, CaseId(uuid4()))


def test_escalation_keeps_the_state_and_records_level_and_target() -> None:
    """Given an open case, when escalated to the director, then it is still open at level 1."""
    c = cast()
    account, case_id = with_case(c)

    account.escalate_case(
        meta(c.admin, at(11)), c.admin, c.director, case_id, level=1, reason="no reply in 24 h"
    )

    (event,) = recorded(account)
    assert (event.escalated_to, event.level) == (c.director.member_id, 1)
    case = account.cases[case_id]
    assert (case.status, case.escalation_level, case.escalated_at) == (CaseStatus.OPEN, 1, at(11))


def test_the_escalation_policy_escalates_without_credentials() -> None:
    """A policy escalates an acknowledged case to a higher level; its state stays."""
    c = cast()
    account, case_id = acknowledged(c)
    policy = Actor.policy("case_escalation", 1)

    account.escalate_case(meta(policy, at(13)), None, c.senior, case_id, level=2, reason="3 days")

    assert account.cases[case_id].status is CaseStatus.ACKNOWLEDGED
    assert account.cases[case_id].escalation_level == 2


def test_escalation_only_goes_up() -> None:
    """Escalating again at the same level is InvalidTransition."""
    c = cast()
    account, case_id = with_case(c)
    account.escalate_case(meta(c.kam, at(11)), c.kam, c.director, case_id, level=1, reason="r")
    history(account)

    with unchanged(account), pytest.raises(InvalidTransition, match="level"):
        account.escalate_case(
            meta(c.admin, at(12)), c.admin, c.senior, case_id, level=1, reason="r"
        )


@pytest.mark.parametrize("level", [0, -1, True, "2", 1.5])
def test_an_escalation_level_is_a_whole_number_from_one(level: Any) -> None:
    """Levels below 1, booleans, text and fractions are refused."""
    c = cast()
    account, case_id = with_case(c)

    with unchanged(account), pytest.raises(ValidationError, match="level"):
        account.escalate_case(
            meta(c.kam, at(11)), c.kam, c.director, case_id, level=level, reason="r"
        )


def test_a_case_is_escalated_to_an_active_member() -> None:
    """Escalating to someone who left is MemberInactive."""
    c = cast()
    account, case_id = with_case(c)

    with unchanged(account), pytest.raises(MemberInactive, match="to"):
        account.escalate_case(meta(c.kam, at(11)), c.kam, c.gone, case_id, level=1, reason="r")


def test_a_resolved_case_is_not_escalated() -> None:
    """Nothing happens to a case after it is resolved."""
    c = cast()
    account, case_id = acknowledged(c)
    account.resolve_case(meta(c.kam, at(11)), c.kam, case_id, resolution="done")
    history(account)

    with unchanged(account), pytest.raises(InvalidTransition):
        account.escalate_case(
            meta(c.admin, at(12)), c.admin, c.director, case_id, level=1, reason="r"
        )


def test_a_case_is_acknowledged_before_it_is_resolved() -> None:
    """Resolving an open case is InvalidTransition."""
    c = cast()
    account, case_id = with_case(c)

    with unchanged(account), pytest.raises(InvalidTransition, match="open"):
        account.resolve_case(meta(c.kam, at(11)), c.kam, case_id, resolution="done")


def test_a_case_is_resolved_once() -> None:
    """Resolving a resolved case is InvalidTransition."""
    c = cast()
    account, case_id = acknowledged(c)
    account.resolve_case(meta(c.kam, at(11)), c.kam, case_id, resolution="done")
    history(account)

    with unchanged(account), pytest.raises(InvalidTransition, match="resolved"):
        account.resolve_case(meta(c.kam, at(12)), c.kam, case_id, resolution="again")


def test_a_resolution_is_described() -> None:
    """An empty resolution is refused."""
    c = cast()
    account, case_id = acknowledged(c)

    with unchanged(account), pytest.raises(ValidationError, match="resolution"):
        account.resolve_case(meta(c.kam, at(11)), c.kam, case_id, resolution=" ")


# -- satisfaction -----------------------------------------------------------------------------


def test_a_kam_surveys_satisfaction() -> None:
    """A satisfaction score is recorded with its comment and moment."""
    c = cast()
    account = served(c)
    by = c.kam

    account.survey_satisfaction(meta(by, at(5)), by, score=Decimal("87.5"), comment="responsive")

    (event,) = recorded(account)
    assert (event.score, event.comment) == (Decimal("87.5"), "responsive")
    assert account.surveys[0].surveyed_at == at(5)


@pytest.mark.parametrize("score", [Decimal(-1), Decimal("100.01"), 87.5, "lots", None])
def test_a_satisfaction_score_is_a_decimal_from_0_to_100(score: Any) -> None:
    """Scores out of range, floats, text and None are refused."""
    c = cast()
    account = served(c)

    with unchanged(account), pytest.raises(ValidationError, match="score"):
        account.survey_satisfaction(meta(c.kam, at(5)), c.kam, score=score)


# -- queries for evaluations ------------------------------------------------------------------


def test_payments_within_a_period_are_the_revenue_of_that_period() -> None:
    """Payments on the last day of Q1 count for Q1, those on the first day of Q2 for Q2."""
    c = cast()
    account, invoice_id = invoiced(c)
    end_of_q1 = Period(2026, 1).end - timedelta(seconds=1)
    account.receive_payment(meta(c.rep, at(12)), c.rep, uuid4(), invoice_id, amount=cny(10))
    account.receive_payment(meta(c.rep, end_of_q1), c.rep, uuid4(), invoice_id, amount=cny(20))
    account.receive_payment(
        meta(c.rep, Period(2026, 2).start), c.rep, uuid4(), invoice_id, amount=cny(5)
    )
    history(account)

    q1, q2 = Period(2026, 1), Period(2026, 2)

    assert [p.amount for p in account.payments_within(q1)] == [cny(10), cny(20)]
    assert account.revenue_within(q1) == {"CNY": cny(30)}
    assert account.revenue_within(q2) == {"CNY": cny(5)}
    assert account.revenue_within(Period(2026)) == {"CNY": cny(35)}


def test_mean_satisfaction_is_the_mean_of_the_periods_scores() -> None:
    """Scores 80 and 91 in Q1 average 85.5; a Q2 score does not count; no survey is None."""
    c = cast()
    account = served(c)
    account.survey_satisfaction(meta(c.kam, at(5)), c.kam, score=80)
    account.survey_satisfaction(meta(c.rep, at(6)), c.rep, score="91")
    account.survey_satisfaction(meta(c.rep, Period(2026, 2).start), c.rep, score=10)
    history(account)

    assert account.mean_satisfaction(Period(2026, 1)) == Decimal("85.5")
    assert account.mean_satisfaction(Period(2025, 4)) is None


def test_the_acknowledged_share_counts_cases_whose_window_is_decided() -> None:
    """On time, late and never-acknowledged cases count; one still inside its window does not."""
    c = cast()
    account = served(c)
    on_time = opened_case(account, c.rep, at(5))
    account.acknowledge_case(meta(c.rep, at(5, hours=20)), c.rep, on_time)
    late = opened_case(account, c.rep, at(5, hours=21))
    opened_case(account, c.rep, at(6))  # never acknowledged
    account.acknowledge_case(meta(c.rep, at(7)), c.rep, late)
    opened_case(account, c.rep, at(9))  # still inside its window at day 9, 10:00
    history(account)

    share = account.acknowledged_share(timedelta(days=1), at=at(9, hours=1))

    assert share == Percentage(Decimal(100) / 3)
    assert account.acknowledged_share(timedelta(days=1), Period(2025, 4)) is None


def test_the_acknowledged_share_uses_a_window_per_severity() -> None:
    """A low case acknowledged after 20 hours is on time when low cases have 24 hours."""
    c = cast()
    account = served(c)
    low = opened_case(account, c.rep, at(5), Severity.LOW)
    critical = opened_case(account, c.rep, at(5), Severity.CRITICAL)
    account.acknowledge_case(meta(c.rep, at(5, hours=20)), c.rep, low)
    account.acknowledge_case(meta(c.rep, at(5, hours=20)), c.rep, critical)
    history(account)
    windows = {
        Severity.LOW: timedelta(hours=24),
        Severity.MEDIUM: timedelta(hours=8),
        Severity.HIGH: timedelta(hours=4),
        Severity.CRITICAL: timedelta(hours=1),
    }

    share = account.acknowledged_share(windows, Period(2026, 1))

    assert share == Percentage.of(50)


def test_the_acknowledged_share_ignores_acknowledgements_after_the_moment_asked() -> None:
    """As of a moment before the acknowledgement, a case past its window counts as late."""
    c = cast()
    account, case_id = with_case(c)
    account.acknowledge_case(meta(c.rep, at(12)), c.rep, case_id)
    history(account)

    assert account.acknowledged_share(timedelta(days=3), at=at(11)) is None
    assert account.acknowledged_share(timedelta(hours=1), at=at(11)) == Percentage.of(0)
    assert account.acknowledged_share(timedelta(days=3)) == Percentage.of(100)


def test_the_acknowledged_share_needs_a_window_for_every_severity() -> None:
    """A per-severity mapping that leaves one out is refused."""
    c = cast()
    account, _ = with_case(c)

    with unchanged(account), pytest.raises(ValidationError, match="within"):
        account.acknowledged_share({Severity.HIGH: timedelta(hours=4)})


def test_queries_refuse_malformed_moments_and_periods() -> None:
    """Naive moments and periods given as text are refused."""
    c = cast()
    account, _ = invoiced(c)

    with unchanged(account), pytest.raises(ValidationError, match="at"):
        account.overdue_invoices(datetime(2026, 3, 1))
    with unchanged(account), pytest.raises(ValidationError, match="period"):
        account.payments_within("2026-Q1")  # type: ignore[arg-type]


def test_open_balance_of_an_unknown_invoice_is_not_found() -> None:
    """InvoiceNotFound names the field."""
    c = cast()
    account, _ = invoiced(c)

    with unchanged(account), pytest.raises(InvoiceNotFound):
        account.open_balance(InvoiceId(UUID(int=0)))
