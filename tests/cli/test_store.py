"""``kam store rotate-key``: a new key appended to the ring, written to a private file, keys never
printed, the rotation recorded under the new key; the store then written under it and read
whole."""

from __future__ import annotations

import stat
from base64 import b64encode
from pathlib import Path

import pytest

from kam_domain.application import KamApplication
from kam_domain.keyring import KeyRing, envelope_key_id, key_id
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.storage import CIPHER_KEY_ENV_VAR
from tests.conftest import Org, build_org, key_account
from tests.golden.answers import cli

KEY_1 = b64encode(bytes(range(32))).decode()


@pytest.fixture(name="written")
def fixture_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Org]:
    """A SQLite store with a team written under KEY_1, which the environment gives."""
    monkeypatch.setenv(CIPHER_KEY_ENV_VAR, KEY_1)
    url = f"sqlite:///{tmp_path / 'kam.db'}"
    app = KamApplication(url, policies=PolicyRegistry())
    org = build_org(app)
    app.close()
    return url, org


@pytest.fixture(name="store")
def fixture_store(written: tuple[str, Org]) -> str:
    """The store's URL."""
    return written[0]


def test_rotate_key_writes_the_ring_with_a_new_key_to_a_private_file(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new ring keeps the old key first and adds a new one; the file is the owner's only;
    what is printed names key ids, no key; the store opened with the ring writes under it."""
    out = tmp_path / "ring.txt"

    status, text = cli("store", "rotate-key", "--store", store, "--out", str(out))

    assert status == 0, text
    rotated = KeyRing.parse(out.read_text().strip())
    old, new = rotated.keys
    assert b64encode(old).decode() == KEY_1
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert key_id(new) in text
    assert key_id(old) in text
    for key in rotated.keys:
        assert b64encode(key).decode() not in text


def test_rotate_key_records_the_rotation_and_nothing_else(store: str, tmp_path: Path) -> None:
    """Rotating adds the rotation to the log (the store's settings record opened, the key
    added), under the new key; nothing stored before changes."""
    app = KamApplication(store, policies=PolicyRegistry(), read_only=True)
    before = [(n.id, n.state) for n in app.recorder.select_notifications(start=1, limit=10_000)]
    app.close()
    out = tmp_path / "ring.txt"

    status, text = cli("store", "rotate-key", "--store", store, "--out", str(out))

    assert status == 0, text
    rotated = KeyRing.parse(out.read_text().strip())
    app = KamApplication(store, policies=PolicyRegistry(), cipher_key=rotated.text())
    after = list(app.recorder.select_notifications(start=1, limit=10_000))
    app.close()
    assert [(n.id, n.state) for n in after[: len(before)]] == before
    settings = "kam_domain.application.store_settings:StoreSettings"
    added = after[len(before) :]
    assert [n.topic for n in added] == [f"{settings}.Opened", f"{settings}.KeyAdded"]
    assert {envelope_key_id(n.state) for n in added} == {key_id(rotated.newest)}


def test_rotate_key_never_writes_over_a_file(store: str, tmp_path: Path) -> None:
    """An existing --out file is refused (status 1) and left as it was."""
    out = tmp_path / "ring.txt"
    out.write_text("keep me")

    status, text = cli("store", "rotate-key", "--store", store, "--out", str(out))

    assert status == 1
    assert "exists" in text
    assert out.read_text() == "keep me"


def test_rotate_key_needs_a_ring(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a key ring the command refuses (status 1) and writes nothing."""
    monkeypatch.delenv(CIPHER_KEY_ENV_VAR)
    out = tmp_path / "ring.txt"

    status, text = cli("store", "rotate-key", "--store", store, "--out", str(out))

    assert status == 1
    assert "cipher_key" in text
    assert not out.exists()


def test_rotate_key_refuses_a_ring_that_does_not_read_the_store(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ring without the store's key is refused naming that key's id, and nothing is written."""
    other = b64encode(bytes(range(50, 82))).decode()
    monkeypatch.setenv(CIPHER_KEY_ENV_VAR, other)
    out = tmp_path / "ring.txt"

    status, text = cli("store", "rotate-key", "--store", store, "--out", str(out))

    assert status == 1
    assert key_id(bytes(range(32))) in text
    assert KEY_1 not in text
    assert other not in text
    assert not out.exists()


def test_a_malformed_ring_is_refused_without_showing_it(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A malformed $KAM_CIPHER_KEY is refused (status 1), the text never echoed."""
    monkeypatch.setenv(CIPHER_KEY_ENV_VAR, KEY_1 + ",not-a-key!")
    out = tmp_path / "ring.txt"

    status, text = cli("store", "rotate-key", "--store", store, "--out", str(out))

    assert status == 1
    assert "not-a-key" not in text
    assert KEY_1 not in text
    assert not out.exists()


def test_after_rotation_new_events_are_under_the_new_key(
    written: tuple[str, Org], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opened with the rotated ring, the store writes under the new key and reads the old."""
    store, org = written
    out = tmp_path / "ring.txt"
    cli("store", "rotate-key", "--store", store, "--out", str(out))
    rotated = KeyRing.parse(out.read_text().strip())
    monkeypatch.setenv(CIPHER_KEY_ENV_VAR, rotated.text())

    app = KamApplication(store, policies=PolicyRegistry())
    key_account(app, org)
    assert app.get_team(org.team_id).members
    states = [n.state for n in app.recorder.select_notifications(start=1, limit=10_000)]
    app.close()

    ids = [envelope_key_id(state) for state in states]
    assert ids[0] == key_id(rotated.keys[0])
    assert ids[-1] == key_id(rotated.keys[1])
