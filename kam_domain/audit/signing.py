"""Signed tree heads: the log's size and root, signed with an Ed25519 key the database lacks.

A :class:`TreeHead` says: the store whose first link is ``store`` held ``size`` links, whose
Merkle tree (:mod:`kam_domain.audit.merkle`) has root ``root`` and whose last link is ``head``,
at ``time``. :class:`SignedTreeHead` adds the Ed25519 signature (RFC 8032) over
:func:`~kam_domain.audit.verifier.head_message` of those fields, and the key's id.

Keys are made and used with pycryptodome, which the library already depends on (through
eventsourcing's ``crypto`` extra, for AES-GCM): one well-kept implementation, no new dependency.
Private keys are PKCS#8 PEM files written with mode 0600; public keys are SubjectPublicKeyInfo
PEM (RFC 8410), which ``openssl pkey -pubin`` reads too. The stand-alone verifier checks the
signatures with its own RFC 8032 routine, so that an outsider needs only the public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa

from kam_domain.audit.integrity import Checkpoint
from kam_domain.audit.verifier import HEAD_FORMAT, Problem, head_message, public_key_from_text
from kam_domain.errors import (
    KeyFileExists,
    KeyFileInvalid,
    SignatureInvalid,
    TreeHeadInvalid,
    ValidationError,
)

__all__ = [
    "SignedTreeHead",
    "SigningKey",
    "TreeHead",
    "generate_key_pair",
    "key_id",
    "load_public_key",
    "load_signing_key",
    "read_tree_head",
]


def key_id(public_key: bytes) -> str:
    """A short name for a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_key).hexdigest()[:16]


@attrs.frozen
class SigningKey:
    """An Ed25519 private key, as loaded from its file (never printed)."""

    _key: Any = attrs.field(repr=False)

    @property
    def public_key(self) -> bytes:
        """The 32 bytes of the public key."""
        return bytes(self._key.public_key().export_key(format="raw"))

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        return bytes(eddsa.new(self._key, "rfc8032").sign(message))


def generate_key_pair(key_path: Path, public_path: Path) -> bytes:
    """Write a new private key (mode 0600) and its public key; refuses to overwrite either.
    The public key's bytes."""
    for path, field in ((key_path, "key"), (public_path, "public_key")):
        if path.exists():
            raise KeyFileExists(field, f"{path} exists; a key is never overwritten")
    key = ECC.generate(curve="ed25519")
    private = key.export_key(format="PEM")
    try:
        descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        raise KeyFileInvalid("key", f"cannot write {key_path}: {error.strerror}") from None
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(private + "\n")
    try:
        public_path.write_text(key.public_key().export_key(format="PEM") + "\n", "ascii")
    except OSError as error:
        msg = f"cannot write {public_path}: {error.strerror}"
        raise KeyFileInvalid("public_key", msg) from None
    return bytes(key.public_key().export_key(format="raw"))


def load_signing_key(path: Path) -> SigningKey:
    """The Ed25519 private key in ``path`` (PKCS#8 PEM), or KeyFileInvalid."""
    try:
        text = path.read_text("ascii")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not a PEM file"
        raise KeyFileInvalid("key", f"cannot read {path}: {reason}") from None
    try:
        key = ECC.import_key(text)
    except (ValueError, IndexError, TypeError):
        key = None
    # The key's bytes stay out of the message: it names the file and what was expected only.
    if key is None or key.curve != "Ed25519" or not key.has_private():
        raise KeyFileInvalid("key", f"{path} is not an Ed25519 private key (PEM)")
    return SigningKey(key)


def load_public_key(path: Path) -> bytes:
    """The 32 bytes of the Ed25519 public key in ``path`` (PEM, or 64 hex digits)."""
    try:
        return public_key_from_text(path.read_text("ascii"))
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not a PEM file"
        raise KeyFileInvalid("public_key", f"cannot read {path}: {reason}") from None
    except Problem:
        msg = f"{path} is not an Ed25519 public key (PEM, or 64 hex digits)"
        raise KeyFileInvalid("public_key", msg) from None


def _to_the_second(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


@attrs.frozen
class TreeHead:
    """What a signature vouches for: the store, its tree's size and root, its last link, when."""

    store: str
    size: int
    root: bytes
    head: Checkpoint
    #: In UTC, to the second: the precision the signed text carries.
    time: datetime = attrs.field(converter=_to_the_second)

    def fields(self) -> dict[str, Any]:
        """The fields as the files and :func:`~kam_domain.audit.verifier.head_message` spell
        them."""
        return {
            "store": self.store,
            "size": self.size,
            "root": self.root.hex(),
            "head": str(self.head),
            "time": self.time.isoformat(),
        }

    def message(self) -> bytes:
        """The bytes the signature covers."""
        return head_message(self.fields())

    def signed(self, key: SigningKey) -> SignedTreeHead:
        return SignedTreeHead(self, key.sign(self.message()), key_id(key.public_key))


@attrs.frozen
class SignedTreeHead:
    """A :class:`TreeHead` with its Ed25519 signature and the id of the key that made it."""

    tree: TreeHead
    signature: bytes
    key: str

    def verify(self, public_key: bytes) -> None:
        """Nothing when the signature verifies under ``public_key``; else SignatureInvalid."""
        try:
            public = eddsa.import_public_key(public_key)
            eddsa.new(public, "rfc8032").verify(self.tree.message(), self.signature)
        except ValueError:
            msg = (
                f"tree head of size {self.tree.size} ({self.tree.time.isoformat()}): the "
                f"signature does not verify under the public key {key_id(public_key)}: the file "
                "was edited, or signed with another key"
            )
            raise SignatureInvalid(msg) from None

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": HEAD_FORMAT,
            **self.tree.fields(),
            "key": self.key,
            "signature": base64.b64encode(self.signature).decode("ascii"),
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2) + "\n"

    @classmethod
    def from_dict(cls, document: Any, field: str = "tree_head") -> SignedTreeHead:
        """Read the fields back, or TreeHeadInvalid naming the field that is wrong."""
        if not isinstance(document, dict) or document.get("format") != HEAD_FORMAT:
            raise TreeHeadInvalid(field, f"not a {HEAD_FORMAT} document")

        def text(name: str) -> str:
            value = document.get(name)
            if not isinstance(value, str):
                raise TreeHeadInvalid(f"{field}.{name}", "missing, or not text")
            return value

        size = document.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size < 2**63:
            raise TreeHeadInvalid(f"{field}.size", "not a count of links")
        try:
            root = bytes.fromhex(text("root"))
            signature = base64.b64decode(text("signature"), validate=True)
            moment = datetime.fromisoformat(text("time"))
        except (ValueError, binascii.Error):
            raise TreeHeadInvalid(field, "root, signature or time is malformed") from None
        if len(root) != 32 or moment.tzinfo is None:
            raise TreeHeadInvalid(field, "root must be 64 hex digits and time carry its offset")
        try:
            head = Checkpoint.parse(text("head"))
        except ValidationError as error:
            raise TreeHeadInvalid(f"{field}.head", error.reason) from None
        tree = TreeHead(text("store"), size, root, head, moment)
        return cls(tree, signature, text("key"))


def read_tree_head(path: Path) -> SignedTreeHead:
    """The signed tree head in the JSON file ``path`` (signature not yet checked)."""
    try:
        document = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not JSON"
        raise TreeHeadInvalid("checkpoint", f"cannot read {path}: {reason}") from None
    return SignedTreeHead.from_dict(document, "checkpoint")
