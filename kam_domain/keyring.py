"""Encryption at rest under a key ring: every event written under the newest key, each read
with the key it was written under.

The store-wide key is a ring of AES keys (16, 24 or 32 bytes each), oldest first, given where a
single key was (``cipher_key``, the URL's ``cipher_key``, ``$KAM_CIPHER_KEY``) as base64 keys
separated by commas. Rotating the key appends a new one: events written from then on are
encrypted under it, and the events written before keep the key they were written under, so
nothing stored is rewritten (the hash chain, over the bytes as stored, is untouched, and
``kam audit verify`` still needs no key).

Each event's state is stored as an envelope naming its key::

    b"KAMK" | 0x01 | key id (8 bytes) | nonce (12) | tag (16) | AES-GCM ciphertext

The key id is the first 8 bytes of SHA-256 over ``b"kam-domain key id\\0"`` and the key: it
names a key without revealing anything of it, and the same key always has the same id. A
state written before the ring existed (eventsourcing's :class:`~eventsourcing.cipher.AESCipher`:
nonce, tag, ciphertext, no id) is read by trying the ring's keys, oldest first; AES-GCM's
tag tells the right key from a wrong one. An event under a key the ring does not hold is
refused as :class:`~kam_domain.errors.CipherKeyNotInRing`, naming the key id, never a key.
"""

from __future__ import annotations

import binascii
import hashlib
import os
from base64 import b64decode, b64encode, urlsafe_b64decode

import attrs
from Crypto.Cipher import AES
from eventsourcing.persistence import Cipher
from eventsourcing.utils import Environment

from kam_domain.errors import CipherKeyNotInRing, InvalidCipherKey, StoreUnreadable

__all__ = [
    "KEY_SIZES",
    "MAGIC",
    "KeyRing",
    "KeyRingCipher",
    "envelope_key_id",
    "key_id",
    "parse_key",
]

KEY_SIZES = (16, 24, 32)
MAGIC = b"KAMK\x01"
_ID_SIZE = 8
_NONCE = 12
_TAG = 16
_HEADER = len(MAGIC) + _ID_SIZE
_ID_DOMAIN = b"kam-domain key id\x00"


def key_id(key: bytes) -> str:
    """The id that names ``key`` in envelopes and messages (16 hex digits)."""
    return hashlib.sha256(_ID_DOMAIN + key).digest()[:_ID_SIZE].hex()


def parse_key(text: str, where: str = "cipher_key") -> bytes:
    """One base64 key (standard or URL-safe), checked; errors say what is wrong, never the key."""
    text = text.replace(" ", "+").strip()
    try:
        if "-" in text or "_" in text:
            raw = urlsafe_b64decode(text.encode("ascii"))
        else:
            raw = b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        msg = f"{where}: a key must be base64 (make one with kam_domain.storage.new_cipher_key())"
        raise InvalidCipherKey(msg) from None
    if len(raw) not in KEY_SIZES:
        msg = f"{where}: a key must be 16, 24 or 32 bytes once decoded, not {len(raw)}"
        raise InvalidCipherKey(msg)
    return raw


@attrs.frozen(repr=False)
class KeyRing:
    """The store's keys, oldest first; the last one encrypts. ``repr`` shows key ids only."""

    keys: tuple[bytes, ...]

    def __attrs_post_init__(self) -> None:
        if not self.keys:
            raise InvalidCipherKey("cipher_key: a key ring holds at least one key")
        for key in self.keys:
            if not isinstance(key, bytes) or len(key) not in KEY_SIZES:
                raise InvalidCipherKey("cipher_key: each key is 16, 24 or 32 bytes")
        if len(set(self.ids())) != len(self.keys):
            raise InvalidCipherKey("cipher_key: the ring holds the same key twice")

    @classmethod
    def parse(cls, text: str, where: str = "cipher_key") -> KeyRing:
        """A ring from base64 keys separated by commas, oldest first."""
        parts = [part for part in text.split(",") if part.strip()]
        if not parts:
            raise InvalidCipherKey(f"{where}: no key given")
        return cls(tuple(parse_key(part, where) for part in parts))

    def text(self) -> str:
        """The ring as it is given back to the library: base64 keys, commas, oldest first."""
        return ",".join(b64encode(key).decode("ascii") for key in self.keys)

    def ids(self) -> list[str]:
        """The keys' ids, oldest first."""
        return [key_id(key) for key in self.keys]

    @property
    def newest(self) -> bytes:
        return self.keys[-1]

    def with_key(self, key: bytes) -> KeyRing:
        """This ring with ``key`` appended as the newest (the one new events are written under)."""
        return KeyRing((*self.keys, key))

    def __repr__(self) -> str:
        return f"KeyRing(ids={self.ids()!r})"


def envelope_key_id(stored: bytes) -> str | None:
    """The id of the key a stored state names, or None for a state without an envelope."""
    if len(stored) >= _HEADER + _NONCE + _TAG and stored.startswith(MAGIC):
        return stored[len(MAGIC) : _HEADER].hex()
    return None


class KeyRingCipher(Cipher):
    """eventsourcing's cipher strategy over a :class:`KeyRing` (see the module's docstring).

    Configured by the environment key ``CIPHER_KEY``: the ring's text (one key is a ring of one).
    """

    CIPHER_KEY = "CIPHER_KEY"

    def __init__(self, environment: Environment) -> None:
        text = environment.get(self.CIPHER_KEY)
        if not text:
            raise InvalidCipherKey("cipher_key: no key given")
        self.ring = KeyRing.parse(text)
        self._by_id = dict(zip(self.ring.ids(), self.ring.keys, strict=True))
        self._newest_id = bytes.fromhex(key_id(self.ring.newest))

    @property
    def newest_id(self) -> str:
        """The id of the key new state is sealed under."""
        return self._newest_id.hex()

    def encrypt(self, plaintext: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        cipher = AES.new(self.ring.newest, AES.MODE_GCM, nonce=nonce)
        encrypted, tag = cipher.encrypt_and_digest(plaintext)
        return MAGIC + self._newest_id + nonce + tag + encrypted

    def decrypt(self, ciphertext: bytes) -> bytes:
        named = envelope_key_id(ciphertext)
        if named is not None:
            key = self._by_id.get(named)
            if key is not None:
                opened = _open(key, ciphertext[_HEADER:])
                if opened is not None:
                    return opened
        # Written before the ring existed (or, once in 2**40, a nonce that looks like one).
        for key in self.ring.keys:
            opened = _open(key, ciphertext)
            if opened is not None:
                return opened
        if named is not None and named not in self._by_id:
            msg = (
                f"store: an event was written under key {named}, which the key ring does not "
                f"hold (it holds {', '.join(self.ring.ids())}); add that key to the ring"
            )
            raise CipherKeyNotInRing(msg, named)
        if named is not None:
            msg = f"store: an event under key {named} does not decrypt: it is damaged"
            raise StoreUnreadable(msg)
        msg = (
            "store: an event written before key ids were recorded decrypts under none of the "
            f"ring's keys ({', '.join(self.ring.ids())}); add the key it was written under"
        )
        raise CipherKeyNotInRing(msg, None)


def _open(key: bytes, sealed: bytes) -> bytes | None:
    """``sealed`` (nonce, tag, ciphertext) opened with ``key``, or None if the tag refuses it."""
    if len(sealed) < _NONCE + _TAG:
        return None
    nonce, tag, encrypted = sealed[:_NONCE], sealed[_NONCE : _NONCE + _TAG], sealed[_NONCE + _TAG :]
    try:
        opened: bytes = AES.new(key, AES.MODE_GCM, nonce=nonce).decrypt_and_verify(encrypted, tag)
    except ValueError:
        return None
    return opened
