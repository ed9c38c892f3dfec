"""The world's indexes: policies that ask them decide exactly as the scans of every record did,
over generated histories, the demo and a synthetic multi-team history; and the indexes answer in
the order the scans did, ties included."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from benchmarks.history import generate
from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.application import KamApplication
from kam_domain.demo import build_demo
from kam_domain.policies.records import Clock
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.policies.world import CaseWindow, World
from kam_domain.testing.histories import START, History, histories
from kam_domain.values import AccountId, Actor, CaseId, CaseKind, InvoiceId, Money, Severity
from tests.policies.scanning import ScanningWorld, compare_log
from tests.policies.staff import Staff, staffed
from tests.support import T0, at, meta

SYSTEM = Actor.system("test")


@given(
    history=histories(),
    grace=st.integers(0, 12),
    sla_hours=st.integers(0, 100),
    resolve_days=st.integers(0, 10),
)
def test_indexed_policies_decide_as_the_scans_did_over_generated_histories(
    history: History, grace: int, sla_hours: int, resolve_days: int
) -> None:
    """Given a generated history under drawn collection and escalation settings, when each
    policy decides every event it handles, then the indexed world gives the scan's decisions."""
    app = KamApplication("memory://")
    before = START - timedelta(days=1)
    app.configure_policy("collections", {"grace_days": grace}, SYSTEM, reason="t", at=before)
    app.configure_policy(
        "case_escalation",
        {"sla_hours_high": sla_hours, "resolve_days": resolve_days},
        SYSTEM,
        reason="t",
        at=before,
    )
    history.play(app)
    compare_log(app.recorder, app.mapper, app.policies.registry)
    app.close()


def test_indexed_policies_decide_as_the_scans_did_over_the_demo() -> None:
    """Given the demo's quarter, when each policy decides every event it handles again, then
    the indexed world gives the scan's decisions, overdue flags and escalations among them."""
    app = KamApplication("memory://")
    build_demo(app, seed=1)
    decided = compare_log(app.recorder, app.mapper, app.policies.registry)
    assert decided["collections@1"]
    assert decided["case_escalation@1"]
    assert decided["evaluation@1"]
    app.close()


def test_indexed_policies_decide_as_the_scans_did_over_several_teams_and_quarters() -> None:
    """Given a synthetic history of two teams over two quarters (targets evaluated, sign-offs
    late), when each policy decides again, then the indexed world gives the scan's decisions."""
    app = KamApplication("memory://")
    generate(app, 3000)
    decided = compare_log(app.recorder, app.mapper, PolicyRegistry.default())
    assert decided["evaluation@1"] >= 2
    assert decided["target_decomposition@1"]
    app.close()


def _folded(world: World, *records: ClientAccount) -> None:
    for record in records:
        for event in record.collect_events():
            world.fold(event, world.position + 1)


def _both(*events: Any) -> tuple[World, ScanningWorld]:
    indexed, scanning = World(), ScanningWorld()
    for world in (indexed, scanning):
        for position, event in enumerate(events, start=1):
            world.fold(event, position)
    return indexed, scanning


def _account(staff: Staff, name: str) -> ClientAccount:
    director = staff.creds(staff.director)
    return ClientAccount.register(
        meta(director),
        director,
        AccountId(uuid4()),
        team_id=staff.team_id,
        name=name,
        industry="telecom",
        region="east",
    )


def test_invoices_due_are_listed_by_account_then_issue_order_ties_as_issued() -> None:
    """Given two accounts, invoices issued at the same moment due in the reverse order, one
    paid in full and one flagged, when the world lists open invoices due, then they come by
    account, then as issued, and the paid and flagged ones are not listed."""
    staff = staffed()
    second, first = _account(staff, "Second"), _account(staff, "First")
    rep = staff.creds(staff.rep)
    issued = []
    for record in (second, first):
        for due_days in (20, 10, 15):
            invoice_id = InvoiceId(uuid4())
            record.issue_invoice(
                meta(rep, T0), rep, invoice_id, amount=Money.of(100, "CNY"), due_at=at(due_days)
            )
            issued.append((record, invoice_id))
    paid, flagged = issued[1], issued[5]
    paid[0].receive_payment(meta(rep, at(1)), rep, uuid4(), paid[1], amount=Money.of(100, "CNY"))
    flagged[0].flag_overdue(meta(rep, at(40)), rep, flagged[1])
    events = [*second.collect_events(), *first.collect_events()]
    indexed, scanning = _both(*events)

    listed = indexed.open_invoices(at(30))

    assert listed == scanning.open_invoices(at(30))
    assert [(a.id, i.invoice_id) for a, i in listed] == [
        (r.id, i) for r, i in issued if (r, i) not in (paid, flagged)
    ]
    assert [i.invoice_id for _, i in indexed.open_invoices(at(12))] == [issued[4][1]]


def test_cases_are_listed_per_window_once_each_as_opened() -> None:
    """Given cases opened at one moment, one acknowledged, one escalated and one resolved, when
    the world lists the cases in several windows, then each case in any window comes once, in
    the order opened, and the scan agrees."""
    staff = staffed()
    record = _account(staff, "Acme")
    rep, director = staff.creds(staff.rep), staff.creds(staff.director)
    cases = []
    for severity in (Severity.LOW, Severity.CRITICAL, Severity.HIGH, Severity.CRITICAL):
        case_id = CaseId(uuid4())
        record.open_case(
            meta(rep, T0), rep, case_id, kind=CaseKind.COMPLAINT, severity=severity, subject="s"
        )
        cases.append(case_id)
    record.acknowledge_case(meta(director, at(1)), director, cases[0])
    record.escalate_case(
        meta(director, at(1)), director, staff.creds(staff.director), cases[1], level=1, reason="r"
    )
    record.acknowledge_case(meta(director, at(2)), director, cases[2])
    record.resolve_case(meta(director, at(2)), director, cases[2], resolution="done")
    indexed, scanning = _both(*record.collect_events())
    windows = [
        CaseWindow(at(3), below_level=2),
        CaseWindow(at(3), below_level=1, unacknowledged=True, severity=Severity.CRITICAL),
    ]

    listed = indexed.open_cases(*windows)

    assert listed == scanning.open_cases(*windows)
    assert [case.case_id for _, case in listed] == [cases[0], cases[1], cases[3]]
    assert [c.case_id for _, c in indexed.open_cases(windows[1])] == [cases[3]]
    assert indexed.open_cases(CaseWindow(T0)) == []


def test_a_tick_costs_what_is_due_not_what_was_issued() -> None:
    """Given many invoices paid and one open, when a tick asks for invoices due, then the index
    holds only the open one: paid invoices left it as they were paid."""
    staff = staffed()
    record = _account(staff, "Acme")
    rep = staff.creds(staff.rep)
    for _ in range(50):
        invoice_id = InvoiceId(uuid4())
        record.issue_invoice(
            meta(rep, T0), rep, invoice_id, amount=Money.of(10, "CNY"), due_at=at(5)
        )
        record.receive_payment(meta(rep, T0), rep, uuid4(), invoice_id, amount=Money.of(10, "CNY"))
    open_id = InvoiceId(uuid4())
    record.issue_invoice(meta(rep, T0), rep, open_id, amount=Money.of(10, "CNY"), due_at=at(5))
    world = World()
    clock = Clock.start(meta())
    clock.tick(meta(SYSTEM, at(10)))
    _folded(world, record)
    for event in clock.collect_events():
        world.fold(event, world.position + 1)

    assert [i.invoice_id for _, i in world.open_invoices(at(10))] == [open_id]
    assert len(world._invoices) == 1
