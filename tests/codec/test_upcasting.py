"""Events and snapshots stored at an earlier version read at the current one, and the chain
still seals the bytes as they were stored: upcasting happens after reading, never in the store.

The golden coverage store (written by release 0.1.0) holds ``ContactAdded`` at version 1,
before a contact's relationship strength was recorded, and a version 1 snapshot of the client
account those contacts belong to.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from kam_domain.aggregates.client_account import (
    ClientAccount,
    ClientContact,
    ContactInfluence,
    RelationshipStrength,
)
from kam_domain.application import KamApplication
from kam_domain.ledger import GENESIS, chain_link, state_digest
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.transcoding import IdMap
from kam_domain.values import ContactId, MemberId
from tests.conftest import build_org, key_account
from tests.golden.stores import GOLDEN, unpack_sqlite
from tests.support import at

CONTACT_ADDED = "kam_domain.aggregates.client_account:ClientAccount.ContactAdded"
ASSESSED = "kam_domain.aggregates.client_account:ClientAccount.ContactRelationshipAssessed"


@pytest.fixture(name="golden")
def fixture_golden(tmp_path: Path) -> Path:
    """A scratch copy of release 0.1.0's coverage store."""
    return unpack_sqlite(GOLDEN / "v0_1_0" / "coverage.sqlite.gz", tmp_path)


@pytest.fixture(name="reader")
def fixture_reader(golden: Path) -> Iterator[KamApplication]:
    """The golden copy opened for reading only."""
    app = KamApplication(f"sqlite:///{golden}", read_only=True)
    yield app
    app.close()


def notifications(app: KamApplication) -> list[Any]:
    return list(app.recorder.select_notifications(start=1, limit=100_000))


def test_a_version_1_contact_reads_as_unassessed(reader: KamApplication) -> None:
    """A contact stored at version 1 holds no strength in its bytes and reads as unassessed."""
    stored = [n for n in notifications(reader) if n.topic == CONTACT_ADDED]
    assert stored

    for notification in stored:
        assert b"relationship_strength" not in notification.state
        assert b"class_version" not in notification.state
        event: Any = reader.mapper.to_domain_event(notification)
        assert event.relationship_strength is RelationshipStrength.UNASSESSED


def test_the_chain_seals_the_bytes_as_stored(reader: KamApplication) -> None:
    """Each link of the golden chain is the hash over the stored bytes, not over what the
    upcasters make of them: relinking the events as stored gives the recorded chain."""
    events = notifications(reader)
    links = reader.recorder.select_links(start=1, limit=len(events) + 1)  # type: ignore[attr-defined]
    assert [link.position for link in links] == [event.id for event in events]

    previous = GENESIS
    for event, link in zip(events, links, strict=True):
        previous = chain_link(
            previous,
            event.id,
            event.originator_id,
            event.originator_version,
            event.topic,
            state_digest(event.state),
            link.written_at,
        )
        assert previous == link.link, f"position {event.id}"


def test_a_version_1_snapshot_reads_its_contacts_as_unassessed(
    golden: Path, reader: KamApplication
) -> None:
    """The golden client account's snapshot, of version 1 state, rebuilds the account with
    every contact unassessed, as its events replayed say."""
    with closing(sqlite3.connect(golden)) as conn:
        rows = conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_snapshots"
        ).fetchall()
    assert rows

    for originator_id, version, topic, state in rows:
        assert b"class_version" not in state
        snapshot: Any = reader.mapper.to_domain_event(
            StoredEvent(UUID(originator_id), version, topic, state)
        )
        account = snapshot.mutate(None)
        assert isinstance(account, ClientAccount)
        assert account.contacts
        replayed = reader.get_account(account.id, version=version)
        for contact_id, contact in account.contacts.items():
            assert contact.relationship_strength is RelationshipStrength.UNASSESSED
            assert contact == replayed.contacts[contact_id]


def test_a_new_contact_is_stored_at_version_2_with_its_strength() -> None:
    """A contact added now is stored with class_version 2 and its strength in the bytes."""
    app = KamApplication("memory://", policies=PolicyRegistry())
    org = build_org(app)
    account_id = key_account(app, org)

    app.add_client_contact(
        account_id,
        org.rep,
        name="Ms Zhang",
        title="CTO",
        influence=ContactInfluence.HIGH,
        owner_id=org.kam,
        relationship_strength=RelationshipStrength.MODERATE,
        at=at(30),
    )

    (stored,) = [n for n in notifications(app) if n.topic == CONTACT_ADDED]
    assert b'"class_version":2' in stored.state
    assert b'"relationship_strength":{"_type_":"RelationshipStrength","_data_":"moderate"}' in (
        stored.state
    )
    event: Any = app.mapper.to_domain_event(stored)
    assert event.relationship_strength is RelationshipStrength.MODERATE
    app.close()


def test_the_event_upcaster_gives_a_version_1_state_its_strength() -> None:
    """``ContactAdded.upcast_v1_v2`` adds the unassessed strength to a version 1 state."""
    state: dict[str, Any] = {"name": "Ms Zhang"}

    ClientAccount.ContactAdded.upcast_v1_v2(state)

    assert state == {"name": "Ms Zhang", "relationship_strength": RelationshipStrength.UNASSESSED}


def test_the_snapshot_upcaster_leaves_every_contact_unassessed() -> None:
    """``ClientAccount.upcast_v1_v2`` reads every contact of a version 1 state as unassessed."""
    contact_id = ContactId(uuid4())
    contact = ClientContact(
        contact_id, "Ms Zhang", "CTO", ContactInfluence.HIGH, MemberId(uuid4()), at(1)
    )
    state: dict[str, Any] = {"contacts": IdMap({contact_id: contact})}

    ClientAccount.upcast_v1_v2(state)

    assert state["contacts"][contact_id].relationship_strength is RelationshipStrength.UNASSESSED


def test_the_snapshot_upcaster_reads_a_version_2_contact_as_judged_by_nobody_since() -> None:
    """``ClientAccount.upcast_v2_v3`` keeps a version 2 contact's strength, with nobody having
    judged it since she was added (the step to version 3 of the account's state)."""
    contact_id = ContactId(uuid4())
    contact = ClientContact(
        contact_id,
        "Ms Zhang",
        "CTO",
        ContactInfluence.HIGH,
        MemberId(uuid4()),
        at(1),
        RelationshipStrength.WEAK,
    )
    state: dict[str, Any] = {"contacts": IdMap({contact_id: contact})}

    ClientAccount.upcast_v2_v3(state)

    upcast = state["contacts"][contact_id]
    assert upcast.relationship_strength is RelationshipStrength.WEAK
    assert (upcast.assessed_by, upcast.assessed_at) == (None, None)


def test_an_assessment_is_stored_and_read_back_with_the_snapshot_that_holds_it() -> None:
    """A contact assessed through the facade is stored as ContactRelationshipAssessed, which
    reads back; a snapshot taken after it (version 3 state) rebuilds the judged contact as the
    events replayed do."""
    app = KamApplication("memory://", policies=PolicyRegistry())
    org = build_org(app)
    account_id = key_account(app, org)
    contact_id = app.add_client_contact(
        account_id,
        org.rep,
        name="Ms Zhang",
        title="CTO",
        influence=ContactInfluence.HIGH,
        owner_id=org.kam,
        at=at(30),
    )

    app.assess_client_contact(
        account_id,
        org.kam,
        contact_id,
        strength=RelationshipStrength.STRONG,
        note="sponsors the renewal",
        at=at(31),
    )

    (stored,) = [n for n in notifications(app) if n.topic == ASSESSED]
    assert b"class_version" not in stored.state
    event: Any = app.mapper.to_domain_event(stored)
    assert (event.strength, event.note) == (RelationshipStrength.STRONG, "sponsors the renewal")
    account = app.get_account(account_id)
    contact = account.contacts[contact_id]
    assert (contact.relationship_strength, contact.assessed_by, contact.assessed_at) == (
        RelationshipStrength.STRONG,
        org.kam,
        at(31),
    )
    assert app.snapshots is not None
    app.take_snapshot(account_id)
    (snapshot,) = app.snapshots.get(account_id, desc=True, limit=1)
    assert snapshot.state["class_version"] == ClientAccount.class_version  # type: ignore[attr-defined]
    assert snapshot.mutate(None).contacts == account.contacts  # type: ignore[attr-defined]
    app.close()
