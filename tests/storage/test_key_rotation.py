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
    KamDomainError,
    StoreUnreadable,
    ValidationError,
)
from kam_domain.keyring import MAGIC, KeyRing, KeyRingCipher, envelope_key_id, key_id
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.storage import CIPHER_KEY_ENV_VAR
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
