"""The outbox: named consumers of the decisions a host notifies about, on every backend."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from kam_domain import Outbox, OutboxItem
from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.application import KamApplication
from kam_domain.errors import (
    AlreadyAcknowledged,
    KamDomainError,
    NotNextInOutbox,
    NumberOutOfRange,
    OutboxKindUnknown,
    OutboxNameInvalid,
    StoreReadOnly,
    ValidationError,
)
from kam_domain.outbox import DECISION_KINDS, MAX_LIMIT, tracking_name
from tests.outbox.story import Story, story


@pytest.fixture(name="told")
def fixture_told(store: str) -> Iterator[Story]:
    """A story on every backend, closed afterwards."""
    given = story(store)
    yield given
    given.app.close()


def overdue(app: KamApplication, name: str = "mail") -> Outbox:
    return Outbox(app, name, kinds=["payment_overdue"])


def test_items_are_the_chosen_decisions_in_log_order(told: Story) -> None:
    """Given invoices flagged overdue among quiet commands, the outbox holds the flags in order."""
    told.invoice_falls_due()
    told.quiet_command()
    told.invoice_falls_due()

    items = overdue(told.app).items()

    assert [item.position for item in items] == told.flagged
    assert {item.kind for item in items} == {"payment_overdue"}
    assert all(item.record == told.account for item in items)
    assert all(item.summary.startswith("collections: 1 invoice") for item in items)
    assert len({item.idempotency_key for item in items}) == 2


def test_an_acknowledged_item_is_not_handed_out_again(told: Story) -> None:
    """Given two items, when the first is acknowledged, only the second is pending."""
    told.invoice_falls_due()
    told.invoice_falls_due()
    outbox = overdue(told.app)

    outbox.acknowledge(outbox.items(limit=1)[0])

    assert outbox.position == told.flagged[0]
    assert [item.position for item in outbox.items()] == told.flagged[1:]
    recorder: Any = told.app.recorder
    assert recorder.max_tracking_id(tracking_name("mail")) == told.flagged[0]


def test_next_acknowledges_only_when_the_block_returns(told: Story) -> None:
    """Given an item, when the handler's block raises, it stays pending; when it returns,
    the position moves to it."""
    told.invoice_falls_due()
    outbox = overdue(told.app)

    with pytest.raises(RuntimeError), outbox.next() as item:
        raise RuntimeError("mail server down")
    assert outbox.position == 0
    with outbox.next() as again:
        assert again is not None
        assert item is not None
        assert again.idempotency_key == item.idempotency_key

    assert outbox.position == told.flagged[0]
    with outbox.next() as nothing:
        assert nothing is None


def test_named_consumers_are_independent(told: Story) -> None:
    """Given two consumers, acknowledging in one leaves the other's items pending."""
    told.invoice_falls_due()
    mail, crm = overdue(told.app, "mail"), overdue(told.app, "crm")

    mail.deliver(lambda item: None)

    assert mail.items() == []
    assert [item.position for item in crm.items()] == told.flagged


def test_a_restarted_consumer_resumes_where_it_acknowledged(told: Story, store: str) -> None:
    """Given a consumer that acknowledged one of two items, a new process of it starts at the
    second (memory stores live in one process, so that backend reopens nothing)."""
    told.invoice_falls_due()
    told.invoice_falls_due()
    overdue(told.app).deliver(lambda item: None, limit=1)

    app = told.app if store == "memory://" else KamApplication(store, run_policies=False)
    try:
        assert [item.position for item in overdue(app).items()] == told.flagged[1:]
    finally:
        if app is not told.app:
            app.close()


def test_acknowledging_twice_is_refused(told: Story) -> None:
    """Given an acknowledged item, acknowledging it again is refused and writes nothing."""
    told.invoice_falls_due()
    outbox = overdue(told.app)
    item = outbox.items()[0]
    outbox.acknowledge(item)
    head = told.app.recorder.max_notification_id()

    with pytest.raises(AlreadyAcknowledged, match="item: the item at position"):
        outbox.acknowledge(item)

    assert outbox.position == item.position
    assert told.app.recorder.max_notification_id() == head


def test_a_second_process_acknowledging_first_is_refused(told: Story, store: str) -> None:
    """Given two handles of one consumer holding the same item, the second to acknowledge it
    is refused: the store holds one acknowledgement."""
    if store == "memory://":
        pytest.skip("a memory store cannot be opened by a second process")
    told.invoice_falls_due()
    other_app = KamApplication(store, run_policies=False)
    try:
        mine, theirs = overdue(told.app), overdue(other_app)
        item, same = mine.items()[0], theirs.items()[0]
        theirs.acknowledge(same)
        with pytest.raises(AlreadyAcknowledged):
            mine.acknowledge(item)
    finally:
        other_app.close()


def test_skipping_an_item_is_refused(told: Story) -> None:
    """Given two pending items, acknowledging the second first is refused."""
    told.invoice_falls_due()
    told.invoice_falls_due()
    outbox = overdue(told.app)

    with pytest.raises(NotNextInOutbox, match=f"position {told.flagged[0]} is pending"):
        outbox.acknowledge(outbox.items()[1])

    assert outbox.position == 0


def test_an_item_of_another_consumer_is_refused(told: Story) -> None:
    """An item handed out by one consumer cannot be acknowledged by another."""
    told.invoice_falls_due()
    item = overdue(told.app, "mail").items()[0]

    with pytest.raises(ValidationError, match="item: was handed out by outbox 'mail'"):
        overdue(told.app, "crm").acknowledge(item)


def test_a_read_only_store_refuses_acknowledging(told: Story, store: str) -> None:
    """Given a store opened for reading, items can be read but not acknowledged."""
    if store == "memory://":
        pytest.skip("a memory store cannot be opened for reading only")
    told.invoice_falls_due()
    reader = KamApplication(store, run_policies=False, read_only=True)
    try:
        outbox = overdue(reader)
        item = outbox.items()[0]
        with pytest.raises(StoreReadOnly, match="open for reading only"):
            outbox.acknowledge(item)
        assert outbox.position == 0
    finally:
        reader.close()


def test_every_kind_by_default_and_host_chosen_event_classes(told: Story) -> None:
    """Given an escalated case, the default outbox names its addressee; an outbox of the
    CaseOpened class holds the opening."""
    told.case_goes_unanswered()

    escalations = [i for i in Outbox(told.app, "im") if i.kind == "case_escalated"]
    opened = Outbox(told.app, "crm", kinds=[], events=[ClientAccount.CaseOpened]).items()

    assert len(escalations) == 1
    assert escalations[0].members
    assert escalations[0].record == told.account
    assert [item.kind for item in opened] == ["ClientAccount.CaseOpened"]
    assert opened[0].record == told.account


def test_wait_returns_once_an_item_is_recorded(told: Story) -> None:
    """Given a consumer waiting on the store's subscription, an item recorded meanwhile
    ends the wait early."""
    outbox = overdue(told.app)
    assert outbox.wait(0) is False
    timer = threading.Timer(0.3, told.invoice_falls_due)
    began = time.monotonic()
    timer.start()
    try:
        assert outbox.wait(20) is True
    finally:
        timer.join()
    assert time.monotonic() - began < 15


@pytest.mark.parametrize(
    ("name", "error"),
    [("", OutboxNameInvalid), ("Mail", OutboxNameInvalid), ("a" * 65, OutboxNameInvalid)],
)
def test_bad_names_are_refused(told: Story, name: str, error: type[Exception]) -> None:
    """Names that would not make a plain tracking record are refused."""
    with pytest.raises(error, match="name: must be 1 to 64"):
        Outbox(told.app, name)


def test_bad_kinds_limits_and_waits_are_refused(told: Story) -> None:
    """Unknown kinds, foreign classes, limits and waits out of range are named errors."""
    with pytest.raises(OutboxKindUnknown, match="kinds: no kind 'mystery'"):
        Outbox(told.app, "mail", kinds=["mystery"])
    with pytest.raises(OutboxKindUnknown, match="events:"):
        Outbox(told.app, "mail", events=[int])
    with pytest.raises(ValidationError, match="kinds: must be a list"):
        Outbox(told.app, "mail", kinds="payment_overdue")
    with pytest.raises(ValidationError, match="kinds: choose at least one"):
        Outbox(told.app, "mail", kinds=[])
    outbox = overdue(told.app)
    for limit in (0, MAX_LIMIT + 1):
        with pytest.raises(NumberOutOfRange, match="limit:"):
            outbox.items(limit=limit)
    with pytest.raises(NumberOutOfRange, match="timeout:"):
        outbox.wait(-1)
    with pytest.raises(ValidationError, match="item: must be an OutboxItem"):
        outbox.acknowledge("item")
    assert issubclass(OutboxNameInvalid, KamDomainError)


def test_the_limit_bounds_the_items(told: Story) -> None:
    """Given three items, a limit of two hands out the first two."""
    for _ in range(3):
        told.invoice_falls_due()

    items = overdue(told.app).items(limit=2)

    assert [item.position for item in items] == told.flagged[:2]
    assert all(isinstance(item, OutboxItem) for item in items)


def test_the_decision_kinds_name_registered_policies() -> None:
    """Every decision kind names a policy the default registry holds."""
    from kam_domain.policies.registry import PolicyRegistry

    names = set(PolicyRegistry.default().names())
    assert {kind.policy for kind in DECISION_KINDS.values()} <= names


@pytest.mark.parametrize(
    ("outcome", "kinds"),
    [
        ("escalate_cases 1", ["case_escalated"]),
        ("escalate_steps 2", ["step_escalated"]),
        ("escalate_cases 1; escalate_steps 2", ["case_escalated", "step_escalated"]),
        ("escalated_nothing", []),
    ],
)
def test_a_decision_matches_the_kinds_its_outcome_parts_name(
    outcome: str, kinds: list[str]
) -> None:
    """A case escalation decision's outcome parts each name a kind; a look-alike word does not."""
    decision = SimpleNamespace(policy="case_escalation", outcome=outcome)

    matched = [name for name, kind in DECISION_KINDS.items() if kind.matches(decision)]

    assert matched == kinds


def test_a_new_consumer_may_skip_the_history(told: Story) -> None:
    """Given items recorded before a consumer existed, skipping to the head leaves only the
    items recorded afterwards."""
    told.invoice_falls_due()
    outbox = overdue(told.app)

    head = outbox.skip_to_head()
    told.invoice_falls_due()

    assert head == outbox.position >= told.flagged[0]
    assert [item.position for item in outbox.items()] == told.flagged[1:]
