"""The store-wide key rotated: events written under each key of the ring are read with it,
verification needs no key, and a ring missing a key names the key's id, never a key.

Each test runs on memory, SQLite and PostgreSQL. A memory store lives and dies with its
application, so there "opening the store again" gives the same application the new ring's
cipher; the others are closed and opened again.
"""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.cipher import AESCipher
from eventsourcing.utils import Environment

from kam_domain.aggregates.client_account import ContactInfluence
from kam_domain.application import KamApplication
from kam_domain.audit.integrity import verify_chain
from kam_domain.errors import (
    CipherKeyNotInRing,
    InvalidTransition,
    KamDomainError,
    StoreUnavailable,
    StoreUnreadable,
    ValidationError,
)
from kam_domain.keyring import MAGIC, KeyRing, KeyRingCipher, envelope_key_id, key_id
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.storage import CIPHER_KEY_ENV_VAR
from kam_domain.values import Actor
from tests.conftest import build_org, fresh_store, key_account
from tests.golden.answers import cli
from tests.support import at

KEY_1 = bytes(range(32))
KEY_2 = bytes(range(100, 132))
KEY_3 = bytes(range(200, 232))


def ring(*keys: bytes) -> str:
    return KeyRing(keys).text()


@pytest.fixture(name="url")
def fixture_url(backend: str, tmp_path: Path) -> Iterator[str]:
    with fresh_store(backend, tmp_path) as url:
        yield url


def open_store(url: str, keys: str, before: KamApplication | None = None) -> KamApplication:
    """The store opened with the ring ``keys`` (for memory: ``before`` given its cipher)."""
    if url.startswith("memory://") and before is not None:
        before.mapper.cipher = KeyRingCipher(Environment(env={"CIPHER_KEY": keys}))
        return before
    if before is not None:
        before.close()
    return KamApplication(url, policies=PolicyRegistry(), cipher_key=keys)


def stored_states(app: KamApplication) -> list[bytes]:
    return [n.state for n in app.recorder.select_notifications(start=1, limit=100_000)]


def add_contact(app: KamApplication, account_id: Any, actor: Any, owner: Any, day: int) -> Any:
    return app.add_client_contact(
        account_id,
        actor,
        name=f"Contact {day}",
        title="CIO",
        influence=ContactInfluence.HIGH,
        owner_id=owner,
        at=at(day),
    )


def test_events_written_before_and_after_a_rotation_are_read_with_their_keys(url: str) -> None:
    """Events written under key 1, then, after the ring gains key 2, under key 2: each names
    its key, the rotated ring reads them all, and verification reads none of them."""
    app = open_store(url, ring(KEY_1))
    org = build_org(app)
    account_id = key_account(app, org)
    first = add_contact(app, account_id, org.rep, org.kam, 20)
    written_before = len(stored_states(app))

    app = open_store(url, ring(KEY_1, KEY_2), app)
    second = add_contact(app, account_id, org.rep, org.kam, 21)

    states = stored_states(app)
    assert {envelope_key_id(s) for s in states[:written_before]} == {key_id(KEY_1)}
    assert {envelope_key_id(s) for s in states[written_before:]} == {key_id(KEY_2)}
    account = app.get_account(account_id)
    assert set(account.contacts) == {first, second}
    assert verify_chain(app.recorder).intact
    app.close()


def test_a_ring_without_the_old_key_names_its_id_and_never_a_key(url: str) -> None:
    """Opened with key 2 alone, a store whose events are under key 1 is refused as
    CipherKeyNotInRing naming key 1's id; no key appears in the message."""
    app = open_store(url, ring(KEY_1))
    build_org(app)

    if url.startswith("memory://"):
        app = open_store(url, ring(KEY_2), app)
        with pytest.raises(CipherKeyNotInRing) as refused:
            app.mapper.to_domain_event(app.recorder.select_notifications(start=1, limit=1)[0])
        app.close()
    else:
        app.close()
        with pytest.raises(CipherKeyNotInRing) as refused:
            KamApplication(url, policies=PolicyRegistry(), cipher_key=ring(KEY_2))

    message = str(refused.value)
    assert refused.value.key_id == key_id(KEY_1)
    assert key_id(KEY_1) in message
    for key in (KEY_1, KEY_2):
        assert b64encode(key).decode() not in message
        assert key.hex() not in message


def test_a_store_written_before_key_ids_is_read_by_the_ring(url: str) -> None:
    """Events encrypted as eventsourcing's AES cipher writes them (no key id) are read by a
    ring holding their key, rotated or not, and new events then name the newest key."""
    app = open_store(url, ring(KEY_1))
    app.mapper.cipher = AESCipher(Environment(env={"CIPHER_KEY": b64encode(KEY_1).decode()}))
    org = build_org(app)
    account_id = key_account(app, org)
    legacy = stored_states(app)
    assert {envelope_key_id(s) for s in legacy} == {None}

    app = open_store(url, ring(KEY_1, KEY_2), app)
    contact = add_contact(app, account_id, org.rep, org.kam, 20)

    assert envelope_key_id(stored_states(app)[-1]) == key_id(KEY_2)
    assert contact in app.get_account(account_id).contacts
    assert app.get_team(org.team_id).name
    app.close()


def test_verifying_needs_no_key(url: str, backend: str) -> None:
    """A store written under two keys verifies intact opened with no key at all."""
    if backend == "memory":
        pytest.skip("a memory store lives and dies with its application")
    app = open_store(url, ring(KEY_1))
    org = build_org(app)
    app = open_store(url, ring(KEY_1, KEY_2), app)
    key_account(app, org)
    app.close()

    status, text = cli("audit", "verify", "--store", url)

    assert status == 0, text
    for key in (KEY_1, KEY_2):
        assert b64encode(key).decode() not in text


@pytest.mark.parametrize(
    "keys",
    [
        "not base64!",
        b64encode(KEY_1).decode() + ",",
        b64encode(KEY_1).decode() + "," + b64encode(b"short").decode(),
        ring(KEY_1) + "," + ring(KEY_1),
    ],
    ids=["not-base64", "empty-part", "short-key", "repeated"],
)
def test_a_malformed_ring_is_refused_and_nothing_is_written(url: str, keys: str) -> None:
    """A malformed ring is a named refusal under KamDomainError, shows no key, and the log
    holds exactly what it held before."""
    app = open_store(url, ring(KEY_1))
    build_org(app)
    before = stored_states(app)
    if not url.startswith("memory://"):
        app.close()

    with pytest.raises(ValidationError, match="cipher_key") as refused:
        KamApplication(url, policies=PolicyRegistry(), cipher_key=keys)

    assert isinstance(refused.value, KamDomainError)
    assert b64encode(KEY_1).decode() not in str(refused.value)
    reader = app if url.startswith("memory://") else open_store(url, ring(KEY_1))
    assert stored_states(reader) == before
    reader.close()


def test_a_key_ring_shows_key_ids_only() -> None:
    """A ring's repr names its keys by id; the ids are stable and differ per key."""
    keys = KeyRing((KEY_1, KEY_2, KEY_3))

    assert repr(keys) == f"KeyRing(ids={[key_id(KEY_1), key_id(KEY_2), key_id(KEY_3)]!r})"
    assert key_id(KEY_1) == key_id(bytes(range(32)))
    assert len({key_id(KEY_1), key_id(KEY_2), key_id(KEY_3)}) == 3


def test_an_envelope_names_its_key_and_refuses_alteration() -> None:
    """A state is stored as the envelope naming the newest key; one altered byte is refused
    as damaged (StoreUnreadable), not read under another key."""
    cipher = KeyRingCipher(Environment(env={"CIPHER_KEY": ring(KEY_1, KEY_2)}))

    sealed = cipher.encrypt(b'{"name":"West"}')

    assert sealed.startswith(MAGIC + bytes.fromhex(key_id(KEY_2)))
    assert envelope_key_id(sealed) == key_id(KEY_2)
    assert cipher.decrypt(sealed) == b'{"name":"West"}'
    altered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(StoreUnreadable, match="damaged") as refused:
        cipher.decrypt(altered)
    assert not isinstance(refused.value, CipherKeyNotInRing)


def test_the_cipher_key_keyword_wins_over_the_environments_ring(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With $KAM_CIPHER_KEY holding the ring (1), a store opened with cipher_key=(1, 2) is
    read and written with the keyword's ring: new events are under key 2."""
    monkeypatch.setenv(CIPHER_KEY_ENV_VAR, ring(KEY_1))
    app = KamApplication(url, policies=PolicyRegistry(), cipher_key=ring(KEY_1, KEY_2))

    build_org(app)

    assert isinstance(app.mapper.cipher, KeyRingCipher)
    assert app.mapper.cipher.ring.ids() == [key_id(KEY_1), key_id(KEY_2)]
    assert {envelope_key_id(s) for s in stored_states(app)} == {key_id(KEY_2)}
    app.close()


# -- the rotation recorded ------------------------------------------------------------------------

KEY_ADDED = "kam_domain.application.store_settings:StoreSettings.KeyAdded"
OPERATOR = Actor.system("ops:wang")


def last_position(app: KamApplication) -> int | None:
    return app.recorder.max_notification_id()


def test_a_rotation_is_recorded_under_the_new_key_naming_its_id(url: str) -> None:
    """Given a store written under key 1, when the rotation to the ring (1, 2) is recorded with
    that ring, then the log's last event is StoreSettings.KeyAdded, stored under key 2, naming
    key 2's id and the ring's ids, the actor and the reason, and no key."""
    app = open_store(url, ring(KEY_1))
    build_org(app)
    app = open_store(url, ring(KEY_1, KEY_2), app)

    added = app.record_key_rotation(OPERATOR, reason="yearly rotation")

    assert added == key_id(KEY_2)
    (notification,) = app.recorder.select_notifications(start=last_position(app), limit=1)
    assert notification.topic == KEY_ADDED
    assert envelope_key_id(notification.state) == key_id(KEY_2)
    event: Any = app.mapper.to_domain_event(notification)
    assert (event.key_id, event.ring) == (key_id(KEY_2), (key_id(KEY_1), key_id(KEY_2)))
    assert (event.actor, event.reason) == (OPERATOR, "yearly rotation")
    for key in (KEY_1, KEY_2):
        assert b64encode(key) not in notification.state
        assert key not in notification.state
    app.close()


def test_a_recorded_rotation_reads_back_with_the_new_ring(url: str) -> None:
    """Given a recorded rotation to (1, 2), when the store is opened again with that ring, and
    later with the ring rotated once more to (1, 2, 3), then every rotation reads back, oldest
    first, and the chain verifies."""
    app = open_store(url, ring(KEY_1))
    org = build_org(app)
    app = open_store(url, ring(KEY_1, KEY_2), app)
    app.record_key_rotation(OPERATOR, reason="yearly rotation")
    app = open_store(url, ring(KEY_1, KEY_2), app)

    (first,) = app.key_rotations()

    assert (first.key_id, first.actor, first.reason) == (key_id(KEY_2), OPERATOR, "yearly rotation")
    key_account(app, org)
    app = open_store(url, ring(KEY_1, KEY_2, KEY_3), app)
    app.record_key_rotation(Actor.member(org.director))
    app = open_store(url, ring(KEY_1, KEY_2, KEY_3), app)
    rotations = app.key_rotations()
    assert [r.key_id for r in rotations] == [key_id(KEY_2), key_id(KEY_3)]
    assert rotations[1].ring == (key_id(KEY_1), key_id(KEY_2), key_id(KEY_3))
    assert (rotations[1].actor, rotations[1].reason) == (Actor.member(org.director), None)
    assert verify_chain(app.recorder).intact
    app.close()


def test_a_ring_that_cannot_read_the_last_event_records_nothing(url: str) -> None:
    """Given events under key 1, then under key 2, when a rotation is recorded with the ring
    (1, 3), which reads the first event but not the last, then CipherKeyNotInRing names key 2's
    id, no key, and the log holds what it held."""
    app = open_store(url, ring(KEY_1))
    org = build_org(app)
    app = open_store(url, ring(KEY_1, KEY_2), app)
    key_account(app, org)
    app = open_store(url, ring(KEY_1, KEY_3), app)
    before = stored_states(app)

    with pytest.raises(CipherKeyNotInRing) as refused:
        app.record_key_rotation(OPERATOR)

    assert refused.value.key_id == key_id(KEY_2)
    for key in (KEY_1, KEY_2, KEY_3):
        assert b64encode(key).decode() not in str(refused.value)
    assert stored_states(app) == before
    app.close()


def old_ring_writer(url: str, before: KamApplication) -> KamApplication:
    """The store opened with the ring (1) by a process that records commands and leaves the
    policies to others, so it never reads the log past what it wrote (for memory: ``before``
    given that ring)."""
    if url.startswith("memory://"):
        return open_store(url, ring(KEY_1), before)
    before.close()
    return KamApplication(
        url, policies=PolicyRegistry(), cipher_key=ring(KEY_1), run_policies=False
    )


def test_a_process_holding_the_old_ring_refuses_the_rotation_naming_the_new_key(
    url: str,
) -> None:
    """Given a recorded rotation to (1, 2), when a process still holding the ring (1) reads the
    log past it, then the rotation is CipherKeyNotInRing naming key 2's id: it was written
    under the new key, which that process has to be restarted with."""
    app = open_store(url, ring(KEY_1))
    build_org(app)
    app = open_store(url, ring(KEY_1, KEY_2), app)
    app.record_key_rotation(OPERATOR)
    app = old_ring_writer(url, app)

    with pytest.raises(CipherKeyNotInRing) as refused:
        app.key_rotations()

    assert refused.value.key_id == key_id(KEY_2)
    app.close()


def test_a_ring_without_a_key_recorded_before_records_nothing(url: str) -> None:
    """Given a recorded rotation to (1, 2) and, after it, events written under key 1 by a
    process still holding the old ring, when a rotation is recorded with the ring (1, 3), then
    it is refused naming key 2's id and the log holds what it held."""
    app = open_store(url, ring(KEY_1))
    org = build_org(app)
    app = open_store(url, ring(KEY_1, KEY_2), app)
    app.record_key_rotation(OPERATOR)
    app = old_ring_writer(url, app)
    add_contact(app, key_account(app, org), org.rep, org.kam, 20)
    app = open_store(url, ring(KEY_1, KEY_3), app)
    before = stored_states(app)

    with pytest.raises(CipherKeyNotInRing) as refused:
        app.record_key_rotation(OPERATOR)

    assert refused.value.key_id == key_id(KEY_2)
    assert stored_states(app) == before
    app.close()


def test_a_ring_that_gained_no_key_records_nothing(url: str) -> None:
    """A ring of one key, or a ring whose newest key's rotation is already recorded, is refused
    (ValidationError, InvalidTransition) and nothing is recorded."""
    app = open_store(url, ring(KEY_1))
    build_org(app)
    before = last_position(app)

    with pytest.raises(ValidationError, match="cipher_key"):
        app.record_key_rotation(OPERATOR)
    assert last_position(app) == before

    app = open_store(url, ring(KEY_1, KEY_2), app)
    app.record_key_rotation(OPERATOR)
    recorded = last_position(app)
    with pytest.raises(InvalidTransition, match="already recorded"):
        app.record_key_rotation(OPERATOR)
    assert last_position(app) == recorded
    app.close()


def test_a_store_without_a_key_ring_records_no_rotation(backend: str, tmp_path: Path) -> None:
    """A store opened without a key has no ring to rotate: ValidationError, nothing recorded."""
    with fresh_store(backend, tmp_path) as url:
        app = KamApplication(url, policies=PolicyRegistry())
        build_org(app)
        before = last_position(app)

        with pytest.raises(ValidationError, match="cipher_key"):
            app.record_key_rotation(OPERATOR)

        assert last_position(app) == before
        app.close()


# -- kam store rotate-key -------------------------------------------------------------------------


@pytest.fixture(name="on_disk")
def fixture_on_disk(url: str, backend: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The store (SQLite or PostgreSQL) with a team written under key 1, which the environment
    gives; the command line cannot reach a memory store, which lives in its application."""
    if backend == "memory":
        pytest.skip("a memory store lives and dies with its application: no command reaches it")
    monkeypatch.setenv(CIPHER_KEY_ENV_VAR, ring(KEY_1))
    app = open_store(url, ring(KEY_1))
    build_org(app)
    app.close()
    return url


def positions(url: str, keys: str) -> int | None:
    """The store's newest notification id, read with the ring ``keys``."""
    app = KamApplication(url, policies=PolicyRegistry(), cipher_key=keys, read_only=True)
    try:
        return last_position(app)
    finally:
        app.close()


def test_rotate_key_records_the_rotation_readable_with_the_ring_it_wrote(
    on_disk: str, tmp_path: Path
) -> None:
    """kam store rotate-key records the rotation: opened with the ring in --out, the store's
    last event is the rotation, under the new key, naming its id, the actor and the reason;
    verification still needs no key."""
    out = tmp_path / "ring.txt"

    status, text = cli(
        "store", "rotate-key", "--store", on_disk, "--out", str(out),
        "--actor", "ops:wang", "--reason", "yearly rotation",
    )  # fmt: skip

    assert status == 0, text
    rotated = KeyRing.parse(out.read_text().strip())
    new_id = key_id(rotated.newest)
    assert f"recorded: the ring gained key {new_id}" in text
    app = KamApplication(on_disk, policies=PolicyRegistry(), cipher_key=rotated.text())
    (rotation,) = app.key_rotations()
    assert (rotation.key_id, rotation.ring) == (new_id, tuple(rotated.ids()))
    assert (rotation.actor, rotation.reason) == (OPERATOR, "yearly rotation")
    (last,) = app.recorder.select_notifications(start=last_position(app), limit=1)
    assert (last.topic, envelope_key_id(last.state)) == (KEY_ADDED, new_id)
    app.close()
    status, text = cli("audit", "verify", "--store", on_disk)
    assert status == 0, text


def test_rotate_key_with_a_malformed_ring_records_nothing(
    on_disk: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A malformed $KAM_CIPHER_KEY is refused (status 1): no ring file, nothing recorded."""
    before = positions(on_disk, ring(KEY_1))
    monkeypatch.setenv(CIPHER_KEY_ENV_VAR, ring(KEY_1) + ",not-a-key!")
    out = tmp_path / "ring.txt"

    status, text = cli("store", "rotate-key", "--store", on_disk, "--out", str(out))

    assert status == 1, text
    assert not out.exists()
    assert positions(on_disk, ring(KEY_1)) == before


def test_rotate_key_with_a_ring_that_cannot_read_the_store_records_nothing(
    on_disk: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ring without the store's key is refused (status 1) naming that key's id: no ring file,
    nothing recorded."""
    before = positions(on_disk, ring(KEY_1))
    monkeypatch.setenv(CIPHER_KEY_ENV_VAR, ring(KEY_3))
    out = tmp_path / "ring.txt"

    status, text = cli("store", "rotate-key", "--store", on_disk, "--out", str(out))

    assert status == 1, text
    assert key_id(KEY_1) in text
    assert not out.exists()
    assert positions(on_disk, ring(KEY_1)) == before


def test_rotate_key_refused_when_recording_leaves_no_ring_file(
    on_disk: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given events under key 2 after a ring (1, 2) was used, when rotate-key runs with the ring
    (1), which reads the first event only, then it is refused naming key 2's id, the new ring's
    file is not left behind and nothing is recorded."""
    app = open_store(on_disk, ring(KEY_1, KEY_2))
    app.tick(OPERATOR, at=at(30))
    app.close()
    before = positions(on_disk, ring(KEY_1, KEY_2))
    out = tmp_path / "ring.txt"

    status, text = cli("store", "rotate-key", "--store", on_disk, "--out", str(out))

    assert status == 1, text
    assert key_id(KEY_2) in text
    assert not out.exists()
    assert positions(on_disk, ring(KEY_1, KEY_2)) == before


def test_rotate_key_keeps_the_ring_when_the_store_fails_while_saving(
    on_disk: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the store fails while the rotation is saved (it may have been recorded under the
    new key), the command fails (status 1) and keeps the new ring in --out, saying so."""

    def failing(self: KamApplication, *args: Any, **kwargs: Any) -> str:
        raise StoreUnavailable("store: the connection was lost")

    monkeypatch.setattr(KamApplication, "record_key_rotation", failing)
    out = tmp_path / "ring.txt"

    status, text = cli("store", "rotate-key", "--store", on_disk, "--out", str(out))

    assert status == 1, text
    assert f"kept in {out}" in text
    assert KeyRing.parse(out.read_text().strip()).ids()[0] == key_id(KEY_1)
