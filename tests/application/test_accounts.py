"""The facade's client account commands and queries, on every backend."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from kam_domain.aggregates.client_account import (
    AccountStrategies,
    CaseStatus,
    ClientAccount,
    ContactInfluence,
    PaymentInstallment,
    RelationshipStrength,
)
from kam_domain.application import KamApplication
from kam_domain.errors import (
    AccountNotFound,
    AlreadyExists,
    MemberNotFound,
    NotAssignedToAccount,
    PaymentExceedsBalance,
    RoleRequired,
    TeamNotFound,
    ValidationError,
)
from kam_domain.values import (
    AccountId,
    Actor,
    CaseKind,
    InvoiceId,
    Money,
    Percentage,
    Period,
    Severity,
    Tier,
)
from tests.conftest import Org
from tests.support import at, unchanged

STRATEGIES = AccountStrategies(
    market="provincial networks",
    client="the CTO's office",
    marketing="joint case study",
    competitive="out-service the incumbent",
)


def cny(amount: int | str) -> Money:
    return Money.of(amount, "CNY")


def registered(app: KamApplication, org: Org, name: str = "Acme Telecom") -> AccountId:
    """Given a client registered by the KAM on day 1."""
    return app.register_account(
        org.team_id, org.kam, name=name, industry="telecom", region="east", at=at(1)
    )


def served(app: KamApplication, org: Org) -> AccountId:
    """Given a major key account with its KAM (day 3) and representative (day 4)."""
    account_id = registered(app, org)
    app.designate_key_account(
        account_id, org.director, tier=Tier.MAJOR, strategies=STRATEGIES, at=at(2)
    )
    app.assign_kam(account_id, org.director, org.kam, reason="knows the client", at=at(3))
    app.assign_representative(account_id, org.kam, org.rep, at=at(4))
    return account_id


def billed(app: KamApplication, org: Org) -> tuple[AccountId, InvoiceId]:
    """Given a served account with agreement HT-1 (100 CNY) and a 60 CNY invoice due day 30."""
    account_id = served(app, org)
    agreement_id = app.sign_agreement(
        account_id,
        org.rep,
        number="HT-1",
        value=cny(100),
        schedule=[PaymentInstallment(at(30), cny(60)), PaymentInstallment(at(60), cny(40))],
        at=at(5),
    )
    invoice_id = app.issue_invoice(
        account_id,
        org.finance,
        amount=cny(60),
        due_at=at(30),
        agreement_id=agreement_id,
        at=at(6),
    )
    return account_id, invoice_id


# -- registration and lookup ------------------------------------------------------------------


def test_registering_lists_the_account_under_its_name(app: KamApplication, org: Org) -> None:
    """A registered account is found by its name (any case and spacing) and by its id."""
    account_id = registered(app, org)

    by_name = app.find_account("  acme   TELECOM ")

    assert by_name.id == account_id
    assert app.find_account(account_id) == by_name
    assert app.find_account(str(account_id)) == by_name
    assert [account.id for account in app.accounts(org.team_id)] == [account_id]


def test_account_names_are_unique(app: KamApplication, org: Org) -> None:
    """A second account named like the first is AlreadyExists and nothing is recorded."""
    registered(app, org)

    with unchanged(app), pytest.raises(AlreadyExists, match="name"):
        app.register_account(
            org.team_id, org.rep, name="ACME telecom", industry="x", region="y", at=at(2)
        )

    assert len(app.accounts()) == 1


def test_hosts_may_bring_their_own_account_ids(app: KamApplication, org: Org) -> None:
    """A host's own id is used as given, and refused when it is already taken."""
    own = uuid4()

    account_id = app.register_account(
        org.team_id, org.kam, name="A", industry="i", region="r", account_id=own, at=at(1)
    )

    assert account_id == own
    with unchanged(app), pytest.raises(AlreadyExists, match="account_id"):
        app.register_account(
            org.team_id, org.kam, name="B", industry="i", region="r", account_id=own, at=at(1)
        )


def test_unknown_accounts_are_not_found(app: KamApplication, org: Org) -> None:
    """Unknown names, ids and id texts are AccountNotFound; a team id is not an account."""
    registered(app, org)

    for missing in ("Nobody Ltd", str(uuid4()), uuid4()):
        with unchanged(app), pytest.raises(AccountNotFound):
            app.find_account(missing)
    with unchanged(app), pytest.raises(AccountNotFound, match="account_id"):
        app.get_account(org.team_id)
    with unchanged(app), pytest.raises(AccountNotFound):
        app.open_case(
            uuid4(), org.rep, kind=CaseKind.INQUIRY, severity=Severity.LOW, subject="s", at=at(2)
        )


def test_accounts_are_listed_per_team(app: KamApplication, org: Org) -> None:
    """accounts(team_id) lists that team's accounts; accounts() lists every team's."""
    ours = registered(app, org)
    other_team, other_director = app.form_team(
        name="West",
        segment="energy",
        region="west",
        director_name="Ma",
        top_authority=Percentage.of(30),
        at=at(0),
    )
    theirs = app.register_account(
        other_team, other_director, name="Bolt Power", industry="energy", region="west", at=at(1)
    )

    assert [a.id for a in app.accounts(org.team_id)] == [ours]
    assert [a.id for a in app.accounts(other_team)] == [theirs]
    assert {a.id for a in app.accounts()} == {ours, theirs}
    with unchanged(app), pytest.raises(TeamNotFound):
        app.accounts(uuid4())


def test_a_member_of_another_team_cannot_act_on_the_account(app: KamApplication, org: Org) -> None:
    """The actor is looked up in the account's team; a stranger is MemberNotFound."""
    account_id = registered(app, org)
    _, other_director = app.form_team(
        name="West",
        segment="energy",
        region="west",
        director_name="Ma",
        top_authority=Percentage.of(30),
        at=at(0),
    )

    with unchanged(app), pytest.raises(MemberNotFound, match="actor"):
        app.designate_key_account(
            account_id, other_director, tier=Tier.MAJOR, strategies=STRATEGIES, at=at(2)
        )

    assert app.get_account(account_id).version == 1


# -- the accountable KAM ----------------------------------------------------------------------


def test_a_key_account_has_one_accountable_kam_through_reassignment(
    app: KamApplication, org: Org
) -> None:
    """Manual assignment, then a policy's reassignment: one KAM at a time, history with reasons."""
    account_id = served(app, org)

    app.assign_kam(
        account_id,
        Actor.system("crm"),
        org.kam2,
        reason="Li left for the north team",
        decided_by="assignment@1: backup under capacity",
        at=at(10),
    )

    account = app.get_account(account_id)
    assert account.accountable_kam == org.kam2
    assert [a.id for a in app.accounts_of_kam(org.kam2)] == [account_id]
    assert app.accounts_of_kam(org.kam) == []
    assert [(a.kam_id, a.reason) for a in account.assignment_history] == [
        (org.kam, "knows the client"),
        (org.kam2, "Li left for the north team"),
    ]
    assert account.assignment_history[1].decided_by == "assignment@1: backup under capacity"
    assert account.accountable_kam_at(at(5)) == org.kam


def test_unknown_kam_ids_are_member_not_found(app: KamApplication, org: Org) -> None:
    """Naming a KAM who is not on the team is MemberNotFound for kam_id."""
    account_id = served(app, org)

    with unchanged(app), pytest.raises(MemberNotFound, match="kam_id"):
        app.assign_kam(account_id, org.director, uuid4(), reason="r", at=at(10))


def test_a_kam_who_left_loses_nothing_silently(app: KamApplication, org: Org) -> None:
    """After the KAM leaves, the account still names them until someone reassigns it."""
    account_id = served(app, org)
    app.remove_member(org.team_id, org.senior, org.kam, reason="moved on", at=at(8))

    with unchanged(app), pytest.raises(NotAssignedToAccount):
        app.assign_representative(account_id, org.kam2, org.rep, at=at(9))

    assert app.get_account(account_id).accountable_kam == org.kam


# -- plan, people and knowledge ---------------------------------------------------------------


def test_the_plan_is_agreed_and_revised_with_the_supervisor(app: KamApplication, org: Org) -> None:
    """The KAM and their supervisor agree version 1, then revise to version 2."""
    account_id = served(app, org)
    app.agree_account_plan(
        account_id,
        org.kam,
        supervisor_id=org.director,
        client_goals="cut opex 10 %",
        execution_plan="pilot in Q1",
        at=at(5),
    )

    version = app.revise_account_plan(
        account_id,
        org.kam,
        supervisor_id=org.director,
        client_goals="cut opex 10 %",
        execution_plan="pilot in Q1, roll out in Q2",
        at=at(40),
    )

    plan = app.get_account(account_id).current_plan
    assert version == 2
    assert plan is not None
    assert (plan.version, plan.supervisor_id, plan.agreed_at) == (2, org.director, at(40))


def test_what_the_team_learns_about_the_client_is_recorded(app: KamApplication, org: Org) -> None:
    """Needs, contacts, technical contact, competitor notes and surveys land on the account."""
    account_id = served(app, org)

    need_id = app.record_client_need(account_id, org.support, description="edge DC", at=at(5))
    contact_id = app.add_client_contact(
        account_id,
        org.rep,
        name="Ms Zhang",
        title="CTO",
        influence=ContactInfluence.HIGH,
        owner_id=org.kam,
        at=at(6),
    )
    app.assign_technical_contact(account_id, org.director, org.support, at=at(7))
    app.record_competitor_intelligence(
        account_id, org.kam, competitor="Rival", note="bundling hardware", at=at(8)
    )
    app.record_satisfaction(account_id, org.rep, score=Decimal(80), at=at(9))
    app.record_satisfaction(account_id, org.admin, score="91", comment="fast", at=at(10))

    account = app.get_account(account_id)
    assert account.needs[need_id].description == "edge DC"
    assert account.contacts[contact_id].owner_id == org.kam
    assert account.technical_contact_id == org.support
    assert account.intelligence[0].competitor == "Rival"
    assert account.mean_satisfaction(Period(2026, 1)) == Decimal("85.5")


# -- billing ----------------------------------------------------------------------------------


def test_a_contact_is_put_on_the_map_with_its_relationship_strength(
    app: KamApplication, org: Org
) -> None:
    """The facade records the strength given for a contact; the stored account reads it back."""
    account_id = served(app, org)

    contact_id = app.add_client_contact(
        account_id,
        org.rep,
        name="Mr Li",
        title="Head of procurement",
        influence=ContactInfluence.MEDIUM,
        owner_id=org.kam,
        relationship_strength=RelationshipStrength.WEAK,
        at=at(6),
    )

    contact = app.get_account(account_id).contacts[contact_id]
    assert contact.relationship_strength is RelationshipStrength.WEAK


def test_an_invoice_is_paid_in_part_and_flagged_overdue(app: KamApplication, org: Org) -> None:
    """Partial payment, then the collections policy flags the rest; the team sees it overdue."""
    account_id, invoice_id = billed(app, org)
    app.record_payment(account_id, org.rep, invoice_id, amount=cny(25), at=at(20))

    app.flag_overdue(account_id, Actor.system("collections"), invoice_id, at=at(31))

    (overdue,) = app.overdue_invoices(org.team_id, at(31))
    assert (overdue.account_id, overdue.account_name) == (account_id, "Acme Telecom")
    assert overdue.open_balance == cny(35)
    assert overdue.invoice.overdue_flagged_at == at(31)
    assert app.overdue_invoices(org.team_id, at(29)) == []
    account = app.get_account(account_id)
    assert account.total_open_balance() == {"CNY": cny(35)}
    assert account.revenue_within(Period(2026, 1)) == {"CNY": cny(25)}


def test_a_refused_payment_leaves_the_account_unchanged(app: KamApplication, org: Org) -> None:
    """A payment beyond the open balance is refused and the stored version does not move."""
    account_id, invoice_id = billed(app, org)

    with unchanged(app), pytest.raises(PaymentExceedsBalance):
        app.record_payment(account_id, org.rep, invoice_id, amount=cny(61), at=at(20))

    assert app.get_account(account_id).open_balance(invoice_id) == cny(60)


def test_a_representative_cannot_issue_what_only_roles_may(app: KamApplication, org: Org) -> None:
    """Role checks hold through the facade: a KAM cannot sign an agreement."""
    account_id = served(app, org)

    with unchanged(app), pytest.raises(RoleRequired):
        app.sign_agreement(
            account_id,
            org.kam,
            number="HT-9",
            value=cny(10),
            schedule=[PaymentInstallment(at(30), cny(10))],
            at=at(5),
        )


def test_overdue_invoices_need_an_aware_moment(app: KamApplication, org: Org) -> None:
    """A naive moment is refused."""
    billed(app, org)

    with unchanged(app), pytest.raises(ValidationError, match="at"):
        app.overdue_invoices(org.team_id, datetime(2026, 3, 1))


# -- cases ------------------------------------------------------------------------------------


def test_a_complaint_is_acknowledged_escalated_and_resolved(app: KamApplication, org: Org) -> None:
    """The case shows in the team's open cases until it is resolved."""
    account_id = served(app, org)
    case_id = app.open_case(
        account_id,
        org.rep,
        kind=CaseKind.COMPLAINT,
        severity=Severity.HIGH,
        subject="outage",
        at=at(10),
    )
    app.acknowledge_case(account_id, org.admin, case_id, at=at(10, hours=6))
    app.escalate_case(
        account_id,
        Actor.system("helpdesk"),
        case_id,
        to=org.director,
        level=1,
        reason="unresolved after 2 days",
        at=at(12),
    )

    (open_case,) = app.open_cases(org.team_id)
    assert open_case.case.case_id == case_id
    assert open_case.case.status is CaseStatus.ACKNOWLEDGED
    assert open_case.case.escalated_to == org.director

    app.resolve_case(account_id, org.support, case_id, resolution="link rerouted", at=at(13))

    assert app.open_cases(org.team_id) == []
    account = app.get_account(account_id)
    assert account.acknowledged_share(timedelta(hours=4)) == Percentage.of(0)
    assert account.acknowledged_share(timedelta(hours=8)) == Percentage.of(100)


def test_open_cases_of_an_unknown_team_is_team_not_found(app: KamApplication, org: Org) -> None:
    """Queries name the team they could not find."""
    with unchanged(app), pytest.raises(TeamNotFound):
        app.open_cases(uuid4())


# -- history, storage and snapshots -----------------------------------------------------------


def test_the_account_as_it_was_at_an_earlier_version(app: KamApplication, org: Org) -> None:
    """Version 1 is the account as registered, before it became key."""
    account_id = served(app, org)

    first = app.get_account(account_id, version=1)

    assert (first.version, first.is_key) == (1, False)
    assert app.get_account(account_id).is_key


def full_history(app: KamApplication, org: Org) -> AccountId:
    """An account with every kind of record on it."""
    account_id, invoice_id = billed(app, org)
    app.record_payment(account_id, org.finance, invoice_id, amount=cny(10), at=at(20))
    app.flag_overdue(account_id, org.rep, invoice_id, at=at(31))
    app.agree_account_plan(
        account_id,
        org.kam,
        supervisor_id=org.director,
        client_goals="g",
        execution_plan="p",
        at=at(32),
    )
    app.add_client_contact(
        account_id,
        org.kam,
        name="Zhang",
        title="CTO",
        influence=ContactInfluence.MEDIUM,
        owner_id=org.rep,
        at=at(33),
    )
    case_id = app.open_case(
        account_id, org.kam, kind=CaseKind.INQUIRY, severity=Severity.LOW, subject="s", at=at(34)
    )
    app.acknowledge_case(account_id, org.rep, case_id, at=at(35))
    app.record_satisfaction(account_id, org.kam, score=77, at=at(36))
    return account_id


def test_state_reloaded_from_the_store_equals_the_state_in_memory(
    app: KamApplication, org: Org, store: str, backend: str
) -> None:
    """A fresh application on the same store rebuilds the same account from its events."""
    if backend == "memory":
        pytest.skip("a memory store lives and dies with its application")
    account_id = full_history(app, org)
    in_memory = app.get_account(account_id)

    fresh = KamApplication(store)
    try:
        reloaded = fresh.get_account(account_id)
        found = fresh.find_account("Acme Telecom")
    finally:
        fresh.close()

    assert reloaded == in_memory
    assert found == in_memory


def test_a_snapshot_restores_the_same_account(app: KamApplication, org: Org) -> None:
    """An account loaded from its snapshot equals the one replayed from its events."""
    account_id = full_history(app, org)
    replayed = app.get_account(account_id)

    app.take_snapshot(account_id)
    restored = app.get_account(account_id)

    assert app.snapshots is not None
    (snapshot,) = app.snapshots.get(account_id)
    assert snapshot.originator_version == replayed.version
    assert isinstance(restored, ClientAccount)
    assert restored == replayed
