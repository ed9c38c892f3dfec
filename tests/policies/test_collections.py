"""Collections: at each clock tick, invoices past due (beyond the grace days) with a balance open
are flagged overdue, once each, in account then issue order."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.errors import ValidationError
from kam_domain.policies.receivables import CollectionsPolicy, FlagOverdue
from kam_domain.policies.records import Clock, PolicySettings
from kam_domain.testing.policies import PolicyScenario
from kam_domain.values import AccountId, Actor, InvoiceId, Money, Tier
from tests.conftest import STRATEGIES
from tests.policies.staff import Staff, carry_out, staffed
from tests.support import T0, at, meta

DUE = at(30)


def cny(amount: int | str) -> Money:
    return Money.of(amount, "CNY")


def account(staff: Staff, name: str = "Acme Telecom", when: datetime = T0) -> ClientAccount:
    """A key account served by the standard team's KAM and representative."""
    director = staff.creds(staff.director, when)
    record = ClientAccount.register(
        meta(director, when),
        director,
        AccountId(uuid4()),
        team_id=staff.team_id,
        name=name,
        industry="telecom",
        region="east",
    )
    record.designate_key(meta(director, when), director, tier=Tier.MAJOR, strategies=STRATEGIES)
    record.assign_kam(meta(director, when), director, staff.creds(staff.kam), reason="region")
    record.assign_representative(meta(director, when), director, staff.creds(staff.rep))
    return record


def invoice(
    staff: Staff,
    record: ClientAccount,
    amount: int = 1000,
    *,
    due: datetime = DUE,
    when: datetime = T0,
) -> InvoiceId:
    invoice_id = InvoiceId(uuid4())
    rep = staff.creds(staff.rep, when)
    record.issue_invoice(meta(rep, when), rep, invoice_id, amount=cny(amount), due_at=due)
    return invoice_id


def pay(
    staff: Staff, record: ClientAccount, invoice_id: InvoiceId, amount: int, when: datetime
) -> None:
    rep = staff.creds(staff.rep, when)
    record.receive_payment(meta(rep, when), rep, uuid4(), invoice_id, amount=cny(amount))


def started() -> Clock:
    return Clock.start(meta())


def tick(clock: Clock, when: datetime) -> list[Any]:
    clock.tick(meta(Actor.system("clock"), when))
    return list(clock.collect_events())


def configured(**parameters: Any) -> list[Any]:
    """Recorded configuration of the collections policy."""
    settings = PolicySettings.open(meta(), "collections")
    settings.configure(
        meta(), parameters, frozenset(CollectionsPolicy.parameters), reason="finance asked"
    )
    return list(settings.collect_events())


def world(staff: Staff, *records: Any, clock: Clock) -> PolicyScenario:
    """Given the team, the records and the clock so far."""
    return PolicyScenario(CollectionsPolicy()).given(
        *staff.events(),
        *(event for record in records for event in record.collect_events()),
        *clock.collect_events(),
    )


# -- flagging ----------------------------------------------------------------------------------


def test_flags_an_invoice_past_due_with_a_balance_open() -> None:
    """A day after the due date, the unpaid invoice is flagged; the account records it."""
    staff = staffed()
    record = account(staff)
    invoice_id = invoice(staff, record)
    clock = started()
    scenario = world(staff, record, clock=clock)

    decision = scenario.when(*tick(clock, at(31)))

    assert decision is not None
    assert decision.outcome == "flag_overdue 1"
    assert decision.actions == (FlagOverdue(record.id, invoice_id),)
    assert "1 invoice more than 0 days past due" in decision.reason
    [event] = carry_out(scenario.policy, decision, staff.team, record, when=at(31))
    assert isinstance(event, ClientAccount.PaymentOverdue)
    assert (event.invoice_id, event.open_balance) == (invoice_id, cny(1000))
    assert event.actor == Actor.policy("collections", 1)


def test_inputs_list_each_invoice_its_due_date_and_open_balance() -> None:
    """The decision shows the tick, the grace days, and per invoice what was weighed."""
    staff = staffed()
    record = account(staff)
    invoice_id = invoice(staff, record)
    pay(staff, record, invoice_id, 600, at(10))
    clock = started()
    scenario = world(staff, record, clock=clock)

    decision = scenario.when(*tick(clock, at(31)))

    assert decision is not None
    assert decision.inputs == {
        "at": at(31).isoformat(),
        "grace_days": "0",
        f"invoice {invoice_id}": (
            f"account Acme Telecom ({record.id}); due {DUE.isoformat()};"
            " open 400.00 CNY of 1,000.00 CNY; past due by 1 day, 0:00:00;"
            f" representative Sun Representative ({staff.rep}); KAM Li Manager ({staff.kam})"
        ),
    }


@pytest.mark.parametrize("when", [at(29), DUE], ids=["before", "on the due date"])
def test_nothing_is_due_before_the_due_date_has_passed(when: datetime) -> None:
    """Up to and including the due date, the invoice is not overdue."""
    staff = staffed()
    record = account(staff)
    invoice(staff, record)
    clock = started()
    scenario = world(staff, record, clock=clock)

    assert scenario.when(*tick(clock, when)) is None


def test_an_invoice_paid_in_full_is_not_flagged() -> None:
    """Nothing open, nothing to collect."""
    staff = staffed()
    record = account(staff)
    invoice_id = invoice(staff, record)
    pay(staff, record, invoice_id, 1000, at(10))
    clock = started()
    scenario = world(staff, record, clock=clock)

    assert scenario.when(*tick(clock, at(31))) is None


def test_an_invoice_flagged_by_hand_is_not_flagged_again() -> None:
    """The representative flagged it already: the next tick leaves it alone."""
    staff = staffed()
    record = account(staff)
    invoice_id = invoice(staff, record)
    rep = staff.creds(staff.rep, at(31))
    record.flag_overdue(meta(rep, at(31)), rep, invoice_id)
    clock = started()
    scenario = world(staff, record, clock=clock)

    assert scenario.when(*tick(clock, at(32))) is None


def test_an_invoice_the_policy_flagged_is_not_flagged_on_the_next_tick() -> None:
    """Once its flag is in the log, the next tick has nothing more to decide."""
    staff = staffed()
    record = account(staff)
    invoice(staff, record)
    clock = started()
    scenario = world(staff, record, clock=clock)
    decision = scenario.when(*tick(clock, at(31)))
    assert decision is not None
    scenario.given(*carry_out(scenario.policy, decision, staff.team, record, when=at(31)))

    assert scenario.when(*tick(clock, at(32))) is None


def test_invoices_are_flagged_in_account_then_issue_order() -> None:
    """Accounts in the order registered, each account's invoices in the order issued."""
    staff = staffed()
    first = account(staff, "Acme Telecom")
    later = account(staff, "Bolt Mobile")
    early_of_later = invoice(staff, later, due=at(20))
    a1 = invoice(staff, first, when=at(1))
    a2 = invoice(staff, first, due=at(25), when=at(2))
    clock = started()
    scenario = world(staff, first, later, clock=clock)

    decision = scenario.when(*tick(clock, at(31)))

    assert decision is not None
    assert decision.actions == (
        FlagOverdue(first.id, a1),
        FlagOverdue(first.id, a2),
        FlagOverdue(later.id, early_of_later),
    )
    assert decision.outcome == "flag_overdue 3"
    events = carry_out(scenario.policy, decision, staff.team, first, later, when=at(31))
    assert [e.invoice_id for e in events] == [a1, a2, early_of_later]


# -- grace days --------------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "flagged"), [(35, False), (36, True)])
def test_grace_days_hold_the_flag_back(day: int, flagged: bool) -> None:
    """With five grace days, an invoice due on day 30 is flagged only after day 35."""
    staff = staffed()
    record = account(staff)
    invoice(staff, record)
    clock = started()
    scenario = world(staff, record, clock=clock).given(*configured(grace_days=5))

    decision = scenario.when(*tick(clock, at(day)))

    assert (decision is not None) is flagged
    if decision is not None:
        assert decision.inputs["grace_days"] == "5"
        assert "more than 5 days past due" in decision.reason


@pytest.mark.parametrize("value", [Decimal("1.5"), "-1", "soon"])
def test_a_grace_that_is_not_a_whole_number_of_days_is_refused(value: object) -> None:
    """Recorded configuration the policy cannot use is reported, naming the parameter."""
    staff = staffed()
    record = account(staff)
    invoice(staff, record)
    clock = started()
    scenario = world(staff, record, clock=clock).given(*configured(grace_days=value))

    with pytest.raises(ValidationError, match="grace_days"):
        scenario.when(*tick(clock, at(31)))


# -- determinism -------------------------------------------------------------------------------


def test_deciding_twice_on_the_same_world_gives_equal_decisions() -> None:
    """The same tick and world give the same decision, also to a new instance."""
    staff = staffed()
    record = account(staff)
    invoice(staff, record)
    invoice(staff, record, due=at(20))
    clock = started()
    scenario = world(staff, record, clock=clock)
    [cause] = tick(clock, at(31))

    first = scenario.when(cause)
    second = scenario.policy.decide(cause, scenario.world)
    fresh = CollectionsPolicy().decide(cause, scenario.world)

    assert first is not None
    assert first == second == fresh


def test_the_policy_names_itself_and_reacts_to_clock_ticks() -> None:
    """Registered as collections@1 with no grace by default; period closes are not its cue."""
    policy = CollectionsPolicy()

    assert (policy.key(), policy.handles, policy.parameters) == (
        "collections@1",
        (Clock.Ticked,),
        {"grace_days": 0},
    )


# -- a property over invoices, payments and ticks ----------------------------------------------

INVOICES = st.lists(
    st.tuples(st.integers(1, 60), st.integers(1, 5000), st.sampled_from(["none", "part", "all"])),
    min_size=1,
    max_size=6,
)


@given(invoices=INVOICES, day=st.integers(0, 90), grace=st.integers(0, 10))
def test_flags_exactly_the_unflagged_invoices_past_due_beyond_grace(
    invoices: list[tuple[int, int, str]], day: int, grace: int
) -> None:
    """The flagged invoices are exactly those with a balance open more than ``grace`` days past
    due, in issue order; every flag is accepted; a second tick at the same moment flags none."""
    staff = staffed()
    record = account(staff)
    expected: list[InvoiceId] = []
    for due_days, amount, paid in invoices:
        invoice_id = invoice(staff, record, amount, due=at(due_days))
        if paid != "none":
            pay(staff, record, invoice_id, amount if paid == "all" else (amount + 1) // 2, T0)
        if ((amount > 1 and paid == "part") or paid == "none") and day - due_days > grace:
            expected.append(invoice_id)
    clock = started()
    scenario = world(staff, record, clock=clock).given(*configured(grace_days=grace))

    decision = scenario.when(*tick(clock, at(day)))

    actions = () if decision is None else decision.actions
    flagged = [a.invoice_id for a in actions if isinstance(a, FlagOverdue)]
    assert len(flagged) == len(actions)
    assert flagged == expected
    if decision is not None:
        scenario.given(*carry_out(scenario.policy, decision, staff.team, record, when=at(day)))
    assert scenario.when(*tick(clock, at(day))) is None
