"""ClientAccount retention: what is over leaves the state after the window of the events' own
time, duplicates within it are still refused, and the invariants hold across it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Snapshot
from hypothesis import given
from hypothesis import strategies as st

from kam_domain.aggregates.client_account import (
    RETENTION_DAYS,
    AccountAgreement,
    AccountInvoice,
    AccountPayment,
    ClientAccount,
    RetiredTotals,
)
from kam_domain.aggregates.client_account.retention import retention_cutoff
from kam_domain.errors import (
    AgreementNotFound,
    AgreementValueExceeded,
    AlreadyExists,
    CaseNotFound,
    InvalidTransition,
    InvoiceNotFound,
)
from kam_domain.transcoding import IdMap
from kam_domain.values import AgreementId, CaseId, CaseKind, InvoiceId, MemberId, Money, Severity
from tests.aggregates.test_client_account import (
    Cast,
    cast,
    cny,
    contracted,
    invoiced,
    served,
)
from tests.support import at, history, meta, state_of, then, unchanged

#: A day beyond the window from day 40 (the cut-off is the start of a day less the window).
LATER = 40 + RETENTION_DAYS + 2


def paid_in_full(c: Cast) -> tuple[ClientAccount, InvoiceId, UUID]:
    """Given the 60 CNY invoice of day 5 paid in full by one payment on day 40."""
    account, invoice_id = invoiced(c)
    payment_id = uuid4()
    account.receive_payment(meta(c.rep, at(40)), c.rep, payment_id, invoice_id, amount=cny(60))
    history(account)
    return account, invoice_id, payment_id


def touch(account: ClientAccount, c: Cast, day: float) -> None:
    """Any later event of the account (a need recorded on ``day``)."""
    account.record_need(meta(c.rep, at(day)), c.rep, uuid4(), description="a later need")
    history(account)


def test_an_invoice_paid_in_full_says_when() -> None:
    """Given a 60 CNY invoice, when it is paid in full, then it reads as settled at that moment
    and the account holds it and its payment for now."""
    c = cast()
    account, invoice_id, payment_id = paid_in_full(c)

    assert account.invoices[invoice_id].settled_at == at(40)
    assert payment_id in account.payments
    assert account.retire_from == at(40)


def test_a_payment_retried_within_the_window_is_refused_as_a_duplicate() -> None:
    """Given an invoice paid in full on day 40, when the same payment id arrives again 300 days
    later, then AlreadyExists and nothing changes."""
    c = cast()
    account, invoice_id, payment_id = paid_in_full(c)
    touch(account, c, 340)

    with unchanged(account), pytest.raises(AlreadyExists, match="payment_id"):
        account.receive_payment(meta(c.rep, at(340)), c.rep, payment_id, invoice_id, amount=cny(1))


def test_a_settled_invoice_leaves_after_the_window() -> None:
    """Given an invoice paid in full on day 40, when an event is applied more than the window
    later, then the invoice and its payment leave the account and the retired totals count them."""
    c = cast()
    account, invoice_id, payment_id = paid_in_full(c)

    touch(account, c, LATER)

    assert invoice_id not in account.invoices
    assert payment_id not in account.payments
    assert account.retired == {"CNY": RetiredTotals("CNY", 1, cny(60), 1, cny(60))}
    assert account.retire_from is None
    assert account.total_open_balance() == {}


def test_a_payment_on_a_retired_invoice_is_refused() -> None:
    """Given a settled invoice retired after the window, when a payment names it, then
    InvoiceNotFound names the invoice and nothing changes."""
    c = cast()
    account, invoice_id, _ = paid_in_full(c)
    touch(account, c, LATER)

    with unchanged(account), pytest.raises(InvoiceNotFound, match=f"invoice_id: .*{invoice_id}"):
        account.receive_payment(meta(c.rep, at(LATER)), c.rep, uuid4(), invoice_id, amount=cny(1))


def test_an_open_invoice_never_leaves() -> None:
    """Given an invoice with 35 CNY still open, when years pass, then the account still holds
    it with what was paid on it, although the payment itself has left."""
    c = cast()
    account, invoice_id = invoiced(c)
    payment_id = uuid4()
    account.receive_payment(meta(c.rep, at(12)), c.rep, payment_id, invoice_id, amount=cny(25))
    history(account)

    touch(account, c, 5 * 365)

    assert account.open_balance(invoice_id) == cny(35)
    assert payment_id not in account.payments
    assert account.overdue_invoices(at(5 * 365))[0].invoice_id == invoice_id
    account.receive_payment(meta(c.rep, at(5 * 365)), c.rep, uuid4(), invoice_id, amount=cny(35))
    assert then(account) == [ClientAccount.PaymentReceived]


def test_an_agreement_is_never_billed_beyond_its_value_after_its_invoices_leave() -> None:
    """Given 60 of agreement HT-1's 100 CNY invoiced and paid, retired after the window, when
    50 more are invoiced under it, then AgreementValueExceeded: what was invoiced is kept on
    the agreement, not summed from invoices the account no longer holds."""
    c = cast()
    account, _, _ = paid_in_full(c)
    touch(account, c, LATER)
    (agreement,) = account.agreements.values()
    assert agreement.invoiced == cny(60)

    with unchanged(account), pytest.raises(AgreementValueExceeded, match="60"):
        account.issue_invoice(
            meta(c.finance, at(LATER)),
            c.finance,
            InvoiceId(uuid4()),
            amount=cny(50),
            due_at=at(LATER + 30),
            agreement_id=agreement.agreement_id,
        )


def test_an_agreement_billed_to_its_value_leaves_after_the_window() -> None:
    """Given agreement HT-1 invoiced to its full 100 CNY on day 6, when an event is applied
    more than the window later, then the agreement has left and an invoice under it is
    AgreementNotFound; within the window it was AgreementValueExceeded."""
    c = cast()
    account, agreement_id = contracted(c)
    account.issue_invoice(
        meta(c.finance, at(6)),
        c.finance,
        InvoiceId(uuid4()),
        amount=cny(100),
        due_at=at(30),
        agreement_id=agreement_id,
    )
    history(account)
    assert account.agreements[agreement_id].fully_billed_at == at(6)

    def bill(day: float) -> None:
        account.issue_invoice(
            meta(c.finance, at(day)),
            c.finance,
            InvoiceId(uuid4()),
            amount=cny(1),
            due_at=at(day + 30),
            agreement_id=agreement_id,
        )

    with unchanged(account), pytest.raises(AgreementValueExceeded):
        bill(300)
    touch(account, c, 6 + RETENTION_DAYS + 2)
    assert agreement_id not in account.agreements
    with unchanged(account), pytest.raises(AgreementNotFound):
        bill(6 + RETENTION_DAYS + 2)


def test_a_resolved_case_leaves_after_the_window_and_an_open_one_stays() -> None:
    """Given one case resolved on day 12 and one left open, when an event is applied more than
    the window later, then the resolved case has left (counted as retired) and the open one
    is still held and open."""
    c = cast()
    account = served(c)
    resolved, still_open = CaseId(uuid4()), CaseId(uuid4())
    for case_id in (resolved, still_open):
        account.open_case(
            meta(c.rep, at(10)),
            c.rep,
            case_id,
            kind=CaseKind.COMPLAINT,
            severity=Severity.HIGH,
            subject="outage",
        )
    account.acknowledge_case(meta(c.rep, at(11)), c.rep, resolved)
    account.resolve_case(meta(c.rep, at(12)), c.rep, resolved, resolution="fixed")
    history(account)

    touch(account, c, 12 + RETENTION_DAYS + 2)

    assert [case.case_id for case in account.open_cases()] == [still_open]
    assert resolved not in account.cases
    assert account.retired_cases == 1
    with unchanged(account), pytest.raises(CaseNotFound):
        account.acknowledge_case(meta(c.rep, at(12 + RETENTION_DAYS + 2)), c.rep, resolved)


def test_an_id_reused_after_the_window_is_not_detected_by_the_account() -> None:
    """Given an invoice settled on day 40 and retired after the window, when its id is issued
    again, then the account accepts it: duplicates older than the window are not detected."""
    c = cast()
    account, invoice_id, _ = paid_in_full(c)
    touch(account, c, LATER)

    account.issue_invoice(
        meta(c.finance, at(LATER)), c.finance, invoice_id, amount=cny(5), due_at=at(LATER + 9)
    )

    assert then(account) == [ClientAccount.InvoiceIssued]


def test_replaced_plans_surveys_and_notes_leave_and_the_current_plan_stays() -> None:
    """Given a plan agreed on day 5 and revised on day 6, a survey and a competitor note on day
    7, when an event is applied more than the window later, then only the current plan is
    held."""
    c = cast()
    account = served(c)
    for day, goals in ((5, "grow"), (6, "grow more")):
        if day == 5:
            account.agree_plan(
                meta(c.kam, at(day)), c.kam, c.director, client_goals=goals, execution_plan="p"
            )
        else:
            account.revise_plan(
                meta(c.kam, at(day)), c.kam, c.director, client_goals=goals, execution_plan="p"
            )
    account.survey_satisfaction(meta(c.rep, at(7)), c.rep, score=80)
    account.record_competitor_intelligence(
        meta(c.rep, at(7)), c.rep, competitor="Rival", note="cheaper"
    )
    history(account)

    touch(account, c, 7 + RETENTION_DAYS + 2)

    assert [plan.version for plan in account.plans] == [2]
    assert account.current_plan is not None
    assert (account.surveys, account.intelligence) == ([], [])
    assert account.retire_from is None


def version_3_state(modified_on: datetime | None = None) -> dict[str, Any]:
    """A version 3 state: agreement HT-1 of 100 CNY invoiced 60 (paid in full by 30 on days
    4 and 5) and 40 (open), last changed at ``modified_on`` when given."""
    agreement_id, paid, open_ = (
        AgreementId(UUID(int=1)),
        InvoiceId(UUID(int=2)),
        InvoiceId(UUID(int=3)),
    )
    member = MemberId(uuid4())
    agreement = AccountAgreement(agreement_id, "HT-1", cny(100), (), member, at(1))
    state: dict[str, Any] = {
        "agreements": IdMap({agreement_id: agreement}),
        "invoices": IdMap(
            {
                paid: AccountInvoice(paid, agreement_id, cny(60), at(2), at(9), cny(60)),
                open_: AccountInvoice(open_, agreement_id, cny(40), at(3), at(9), cny(0)),
            }
        ),
        "payments": IdMap(
            {
                p: AccountPayment(p, paid, cny(30), at(day))
                for p, day in ((uuid4(), 4), (uuid4(), 5))
            }
        ),
        "cases": IdMap(),
        "surveys": [],
        "intelligence": [],
        "plans": [],
    }
    if modified_on is not None:
        state["_modified_on"] = modified_on
    return state


def test_a_version_3_snapshot_reads_what_it_holds_as_settled_and_invoiced() -> None:
    """``ClientAccount.upcast_v3_v4`` reads an invoice paid in full as settled by its last
    payment, an agreement as invoiced by the invoices under it; within the window nothing is
    retired."""
    state = version_3_state(at(6))
    agreement_id, paid, open_ = (
        AgreementId(UUID(int=1)),
        InvoiceId(UUID(int=2)),
        InvoiceId(UUID(int=3)),
    )

    ClientAccount.upcast_v3_v4(state)

    assert state["invoices"][paid].settled_at == at(5)
    assert state["invoices"][open_].settled_at is None
    upcast = state["agreements"][agreement_id]
    assert (upcast.invoiced, upcast.fully_billed_at) == (cny(100), at(3))
    assert (state["retired"], state["retired_cases"], state["retire_from"]) == ({}, 0, at(3))
    assert ClientAccount.class_version == 4


def test_a_version_3_snapshot_taken_after_the_window_reads_as_retired() -> None:
    """Given a version 3 state last changed more than the window after its invoice was paid in
    full, when it is upcast, then what was over has left, as the events folded would leave it,
    and the open invoice stays."""
    state = version_3_state(at(5 + RETENTION_DAYS + 2))

    ClientAccount.upcast_v3_v4(state)

    assert list(state["invoices"]) == [InvoiceId(UUID(int=3))]
    assert state["payments"] == IdMap()
    assert state["retired"] == {"CNY": RetiredTotals("CNY", 1, cny(60), 2, cny(60))}
    assert state["agreements"] == IdMap()  # billed to its value on day 3
    assert state["retire_from"] is None


# -- a long history within a sliding window ---------------------------------------------------

#: One step: days after the previous one, what is done, which item it names, an amount.
STEPS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=40),
        st.sampled_from(["invoice", "pay", "open", "ack", "resolve"]),
        st.integers(min_value=0, max_value=1000),
        st.integers(min_value=1, max_value=30),
    ),
    min_size=1,
    max_size=120,
)


def _run(
    c: Cast,
    account: ClientAccount,
    steps: list[tuple[int, str, int, int]],
    day: float,
    invoices: list[InvoiceId],
    cases: list[CaseId],
) -> float:
    """Apply ``steps`` to ``account`` after ``day`` (a command its guards refuse is skipped);
    returns the day of the last."""
    for gap, action, pick, amount in steps:
        day += gap
        m = meta(c.rep, at(day))
        try:
            if action == "invoice":
                invoice_id = InvoiceId(uuid4())
                account.issue_invoice(m, c.rep, invoice_id, amount=cny(amount), due_at=at(day + 30))
                invoices.append(invoice_id)
            elif action == "pay" and invoices:
                target = invoices[pick % len(invoices)]
                open_now = account.invoices.get(target)
                paying = amount if open_now is None else min(amount, open_now.open_balance.amount)
                if paying:
                    account.receive_payment(m, c.rep, uuid4(), target, amount=cny(paying))
            elif action == "open":
                case_id = CaseId(uuid4())
                account.open_case(
                    m, c.rep, case_id, kind=CaseKind.INQUIRY, severity=Severity.LOW, subject="?"
                )
                cases.append(case_id)
            elif action == "ack" and cases:
                account.acknowledge_case(m, c.rep, cases[pick % len(cases)])
            elif action == "resolve" and cases:
                account.resolve_case(m, c.rep, cases[pick % len(cases)], resolution="done")
        except (InvoiceNotFound, CaseNotFound, InvalidTransition):
            continue  # a retired invoice or case, or a case not in the state the step needs
    return day


@given(steps=STEPS)
def test_the_state_holds_only_what_is_open_or_over_within_the_window(
    steps: list[tuple[int, str, int, int]],
) -> None:
    """For any history of invoices, payments and cases spread over years, the account holds
    exactly the open items and those over since the window's cut-off (so its size is bounded
    by the window, not the history), its open balances are those the full event list gives,
    and folding the events again, or from a snapshot midway, gives the same state."""
    c = cast()
    account = served(c)
    start = Snapshot.take(account)
    invoices: list[InvoiceId] = []
    cases: list[CaseId] = []
    day = _run(c, account, steps[: len(steps) // 2], 10, invoices, cases)
    midway = Snapshot.take(account)
    first = history(account)
    _run(c, account, steps[len(steps) // 2 :], day, invoices, cases)
    events = [*first, *history(account)]

    cutoff = retention_cutoff(account.modified_on)
    issued: dict[UUID, Money] = {}
    settled: dict[UUID, datetime] = {}
    resolved: dict[UUID, datetime] = {}
    received: dict[UUID, datetime] = {}
    for event in events:
        if isinstance(event, ClientAccount.InvoiceIssued):
            issued[event.invoice_id] = event.amount
            settled.pop(event.invoice_id, None)
        elif isinstance(event, ClientAccount.PaymentReceived):
            issued[event.invoice_id] -= event.amount
            received[event.payment_id] = event.timestamp
            if issued[event.invoice_id].is_zero:
                settled[event.invoice_id] = event.timestamp
        elif isinstance(event, ClientAccount.CaseResolved):
            resolved[event.case_id] = event.timestamp
    open_invoices = {i for i, balance in issued.items() if not balance.is_zero}
    held_settled = {i for i, moment in settled.items() if moment >= cutoff}
    assert set(account.invoices) == open_invoices | held_settled
    assert set(account.payments) == {p for p, moment in received.items() if moment >= cutoff}
    assert {case_id for case_id, case in account.cases.items() if not case.is_open} == {
        case_id for case_id, moment in resolved.items() if moment >= cutoff
    }
    for invoice_id in open_invoices:
        assert account.open_balance(InvoiceId(invoice_id)) == issued[invoice_id]
    owed = sum((issued[i] for i in open_invoices), cny(0))
    assert account.total_open_balance() == ({} if owed.is_zero else {"CNY": owed})

    replayed: Any = start.mutate(None)
    for event in events:
        replayed = event.mutate(replayed)
    resumed: Any = midway.mutate(None)
    for event in events[len(first) :]:
        resumed = event.mutate(resumed)
    assert state_of(replayed) == state_of(account)
    assert state_of(resumed) == state_of(account)


def test_the_window_is_measured_from_the_start_of_the_events_day() -> None:
    """The cut-off of an event at any hour of a day is that day's start less the window."""
    moment = at(500, hours=17)
    day_start = moment.replace(hour=0, minute=0, second=0, microsecond=0)

    assert retention_cutoff(moment) == day_start - timedelta(days=RETENTION_DAYS)
