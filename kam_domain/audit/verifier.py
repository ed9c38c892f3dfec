"""Check kam-domain's signed tree heads and proofs with Python's standard library alone.

This file stands on its own: copy it anywhere Python 3.11 runs and check what ``kam audit
checkpoint --key``, ``kam audit prove`` hand out, with the log's public key and nothing else::

    python verifier.py --public-key kam.pub head.json                # a signed tree head
    python verifier.py --public-key kam.pub trail.json               # an account's proofs
    python verifier.py --public-key kam.pub old-to-new.json          # two heads, consistent

(inside the package: ``python -m kam_domain.audit.verifier ...``). Exit status 0 when every file
verifies, 1 when one does not (the reason is printed), 2 on a usage error.

What it implements, so that it can be read and checked against the standards:

- the Merkle tree hashes of RFC 9162 section 2.1.1 (leaf ``SHA-256(0x00 || leaf)``, node
  ``SHA-256(0x01 || left || right)``), and the verification of inclusion and consistency proofs,
  step by step as in sections 2.1.3.2 and 2.1.4.2;
- Ed25519 signature verification, as in RFC 8032 section 5.1.7 (the reference routine of its
  section 6, cofactorless);
- the hash chain's link, formats 1 and 2 (which also binds when the event was written), as
  ``kam_domain/ledger.py`` lays them out, so that an event's fields are bound to the leaf that
  is proved; an event claiming any other format is refused.

The leaves of the tree are the chain's links, one per position, in position order.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "EMPTY_ROOT",
    "HEAD_FORMAT",
    "PROOF_FORMAT",
    "Problem",
    "chain_link_v1",
    "chain_link_v2",
    "check_consistency_proof",
    "check_file",
    "check_inclusion_proof",
    "check_tree_head",
    "ed25519_verify",
    "head_message",
    "leaf_hash",
    "main",
    "node_hash",
    "public_key_from_text",
    "verify_consistency",
    "verify_inclusion",
]

#: The ``format`` of a signed tree head file.
HEAD_FORMAT = "kam-tree-head-1"
#: The ``format`` of a proof file (``kind``: ``inclusion`` or ``consistency``).
PROOF_FORMAT = "kam-proof-1"
#: The root of the empty tree: SHA-256 of nothing (RFC 9162 section 2.1.1).
EMPTY_ROOT = hashlib.sha256(b"").digest()


class Problem(Exception):
    """Raised when a file does not verify; the message says where and why."""


# -- RFC 9162: the Merkle tree -------------------------------------------------------------------


def leaf_hash(leaf: bytes) -> bytes:
    """The hash of one leaf: SHA-256(0x00 || leaf)."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(
    leaf_index: int, tree_size: int, entry_hash: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2: is the leaf hashing to ``entry_hash`` at ``leaf_index`` of the
    tree of ``tree_size`` leaves whose root is ``root``?"""
    if not 0 <= leaf_index < tree_size:  # step 1
        return False
    fn, sn = leaf_index, tree_size - 1  # step 2
    r = entry_hash  # step 3
    for p in path:  # step 4
        if sn == 0:  # 4a
            return False
        if fn & 1 or fn == sn:  # 4b
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1  # 4c
    return sn == 0 and r == root  # step 5


def verify_consistency(
    first: int, second: int, first_hash: bytes, second_hash: bytes, path: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2: is the tree of ``first`` leaves (root ``first_hash``) a prefix
    of the tree of ``second`` leaves (root ``second_hash``)?

    The RFC defines the proof for ``0 < first < second``. Its two edges are decided here as
    RFC 9162 section 2.1.4 implies: equal sizes are consistent when the roots are equal and the
    path is empty; the empty tree is a prefix of every tree (with an empty path)."""
    if not 0 <= first <= second:
        return False
    if first == second:
        return first_hash == second_hash and not path
    if first == 0:
        return first_hash == EMPTY_ROOT and not path
    if not path:  # step 1
        return False
    nodes = list(path)
    if first & (first - 1) == 0:  # step 2: first is an exact power of 2
        nodes.insert(0, first_hash)
    fn, sn = first - 1, second - 1  # step 3
    while fn & 1:  # step 4
        fn, sn = fn >> 1, sn >> 1
    fr = sr = nodes[0]  # step 5
    for c in nodes[1:]:  # step 6
        if sn == 0:  # 6a
            return False
        if fn & 1 or fn == sn:  # 6b
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1  # 6c
    return fr == first_hash and sr == second_hash and sn == 0  # step 7


# -- RFC 8032: Ed25519 verification --------------------------------------------------------------

_P = 2**255 - 19
_D = -121665 * pow(121666, _P - 2, _P) % _P
_Q = 2**252 + 27742317777372353535851937790883648493
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
_Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T)


def _add(a: _Point, b: _Point) -> _Point:
    x = (a[1] - a[0]) * (b[1] - b[0]) % _P
    y = (a[1] + a[0]) * (b[1] + b[0]) % _P
    c = 2 * a[3] * b[3] * _D % _P
    d = 2 * a[2] * b[2] % _P
    e, f, g, h = y - x, d - c, d + c, y + x
    return (e * f, g * h, f * g, e * h)


def _multiply(scalar: int, point: _Point) -> _Point:
    result: _Point = (0, 1, 1, 0)
    while scalar > 0:
        if scalar & 1:
            result = _add(result, point)
        point = _add(point, point)
        scalar >>= 1
    return result


def _equal(a: _Point, b: _Point) -> bool:
    return (a[0] * b[2] - b[0] * a[2]) % _P == 0 and (a[1] * b[2] - b[1] * a[2]) % _P == 0


def _recover_x(y: int, sign: int) -> int | None:
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P)
    if x2 % _P == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


def _decompress(data: bytes) -> _Point | None:
    y = int.from_bytes(data, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


_GY = 4 * pow(5, _P - 2, _P) % _P
_GX = _recover_x(_GY, 0) or 0
_BASE: _Point = (_GX, _GY, 1, _GX * _GY % _P)


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """RFC 8032 section 5.1.7: is ``signature`` the Ed25519 signature of ``message`` under the
    32-byte ``public_key``? Checks [S]B = R + [k]A, with S < L and both points canonical."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a = _decompress(public_key)
    r = _decompress(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _Q:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little")
    return _equal(_multiply(s, _BASE), _add(r, _multiply(k % _Q, a)))


#: DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the 32 key bytes follow.
_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


def public_key_from_text(text: str) -> bytes:
    """The 32 bytes of an Ed25519 public key, from a PEM ``PUBLIC KEY`` (RFC 8410) or hex."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if lines and lines[0] == "-----BEGIN PUBLIC KEY-----" and lines[-1].startswith("-----END"):
        try:
            der = base64.b64decode("".join(lines[1:-1]), validate=True)
        except binascii.Error:
            der = b""
        if len(der) == 44 and der.startswith(_SPKI_PREFIX):
            return der[12:]
    elif len(lines) == 1 and len(lines[0]) == 64:
        try:
            return bytes.fromhex(lines[0])
        except ValueError:
            pass
    msg = "public key: expected an Ed25519 PEM public key (or 64 hex digits)"
    raise Problem(msg)


# -- kam-domain's files --------------------------------------------------------------------------


def chain_link_v1(previous: bytes, event: dict[str, Any]) -> bytes:
    """The chain's link of format 1 (kam_domain/ledger.py) over an event's exported fields."""
    return hashlib.sha256(b"\x01" + previous + _sealed_fields(event)).digest()


def chain_link_v2(previous: bytes, event: dict[str, Any]) -> bytes:
    """The chain's link of format 2 (kam_domain/ledger.py): format 1's fields, then when the
    event was written (``written_us``: microseconds since 1970, 8 bytes, signed)."""
    written = _whole(event.get("written_us"), "written_us")
    return hashlib.sha256(
        b"\x02" + previous + _sealed_fields(event) + written.to_bytes(8, "big", signed=True)
    ).digest()


def _sealed_fields(event: dict[str, Any]) -> bytes:
    identity = str(event["originator_id"]).encode("utf-8")
    topic = str(event["topic"]).encode("utf-8")
    return (
        int(event["position"]).to_bytes(8, "big")
        + len(identity).to_bytes(4, "big")
        + identity
        + int(event["originator_version"]).to_bytes(8, "big")
        + len(topic).to_bytes(4, "big")
        + topic
        + _hex(event["state_sha256"], "state_sha256")
    )


def _whole(value: Any, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise Problem(f"{field}: not a whole number")
    return value


def _written_at(written_us: int) -> str | None:
    """The written time as ``written_at`` says it: ISO 8601, UTC (None: beyond any date)."""
    try:
        return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=written_us)).isoformat()
    except OverflowError:
        return None


def head_message(head: dict[str, Any]) -> bytes:
    """The exact bytes a tree head's signature covers: one ``name: value`` line per field."""
    return (
        "kam-domain tree head v1\n"
        f"store: {head['store']}\n"
        f"size: {int(head['size'])}\n"
        f"root: {head['root']}\n"
        f"head: {head['head']}\n"
        f"time: {head['time']}\n"
    ).encode()


def check_tree_head(head: Any, public_key: bytes) -> dict[str, Any]:
    """The tree head, when it is well formed and its signature verifies; else Problem."""
    if not isinstance(head, dict) or head.get("format") != HEAD_FORMAT:
        raise Problem(f"tree head: not a {HEAD_FORMAT} document")
    for field in ("store", "root", "head", "time", "signature"):
        if not isinstance(head.get(field), str):
            raise Problem(f"tree head: {field} is missing")
    size = head.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise Problem("tree head: size is not a count")
    _hex(head["root"], "tree head: root")
    try:
        signature = base64.b64decode(head["signature"], validate=True)
    except binascii.Error:
        signature = b""
    if not ed25519_verify(public_key, head_message(head), signature):
        msg = (
            f"tree head of size {size}: the signature does not verify under this public key "
            "(the file was edited, or signed with another key)"
        )
        raise Problem(msg)
    return head


def check_inclusion_proof(document: dict[str, Any], public_key: bytes) -> str:
    """Every event of an inclusion proof file is in the signed tree; a summary, else Problem."""
    head = check_tree_head(document.get("tree_head"), public_key)
    size, root = head["size"], _hex(head["root"], "tree head: root")
    events = document.get("events")
    if not isinstance(events, list):
        raise Problem("proof: events are missing")
    uncovered = document.get("not_covered") or []
    if uncovered:
        positions = ", ".join(str(position) for position in uncovered)
        msg = (
            f"positions {positions} are not covered by the signed tree head (size {size}): "
            "nothing the key holder signed vouches for them"
        )
        raise Problem(msg)
    last = -1
    for event in events:
        position = event.get("position")
        where = f"position {position}"
        index = event.get("leaf_index")
        if not isinstance(index, int) or index <= last:
            raise Problem(f"{where}: leaf_index is missing or out of order")
        last = index
        state = event.get("state")
        if state is not None:
            stored = base64.b64decode(state)
            if hashlib.sha256(stored).digest() != _hex(event["state_sha256"], "state_sha256"):
                raise Problem(f"{where}: the state does not match its digest (state_sha256)")
        link = _hex(event.get("link"), f"{where}: link")
        chain_format = event.get("chain_format")
        if chain_format not in (1, 2) or isinstance(chain_format, bool):
            msg = f"{where}: chain_format {chain_format!r} is not a format of the chain (1 or 2)"
            raise Problem(msg)
        previous = _hex(event.get("previous_link"), f"{where}: previous_link")
        try:
            if chain_format == 1:
                if event.get("written_us") is not None or event.get("written_at") is not None:
                    raise Problem("a link in format 1 binds no written time")
                made = chain_link_v1(previous, event)
            else:
                made = chain_link_v2(previous, event)
        except Problem as problem:
            raise Problem(f"{where}: {problem}") from None
        except OverflowError:  # a position or version beyond 8 bytes: no link of the chain
            made = b""
        if made != link:
            msg = f"{where}: the event's fields do not make its link (field edited)"
            raise Problem(msg)
        if chain_format == 2 and event.get("written_at") != _written_at(event["written_us"]):
            raise Problem(f"{where}: written_at does not say the written_us its link binds")
        path = [_hex(node, f"{where}: inclusion_path") for node in event.get("inclusion_path", [])]
        if not verify_inclusion(index, size, leaf_hash(link), path, root):
            msg = f"{where}: the inclusion proof fails against the signed root (size {size})"
            raise Problem(msg)
    return f"events included in the signed tree of size {size}: {len(events)}"


def check_consistency_proof(document: dict[str, Any], public_key: bytes) -> str:
    """The older signed head is a prefix of the newer one; a summary, else Problem."""
    old = check_tree_head(document.get("from"), public_key)
    new = check_tree_head(document.get("to"), public_key)
    if old["store"] != new["store"]:
        raise Problem("consistency: the two tree heads are of different stores")
    path = [_hex(node, "consistency_path") for node in document.get("consistency_path", [])]
    old_root, new_root = _hex(old["root"], "from: root"), _hex(new["root"], "to: root")
    if not verify_consistency(old["size"], new["size"], old_root, new_root, path):
        msg = (
            f"the tree of size {old['size']} is not a prefix of the tree of size {new['size']}: "
            "the history between them was rewritten, or the proof was edited"
        )
        raise Problem(msg)
    return f"the tree of size {old['size']} is a prefix of the tree of size {new['size']}"


def check_file(path: str, public_key: bytes) -> str:
    """Check one file (tree head, inclusion proof or consistency proof); a summary or Problem."""
    try:
        with open(path, encoding="utf-8") as file:
            document = json.load(file)
    except (OSError, ValueError) as error:
        raise Problem(f"{path}: cannot be read as JSON ({error})") from None
    if not isinstance(document, dict):
        raise Problem(f"{path}: not a kam-domain document")
    try:
        if document.get("format") == HEAD_FORMAT:
            head = check_tree_head(document, public_key)
            return f"signed tree head: size {head['size']}, root {head['root']}"
        if document.get("format") == PROOF_FORMAT and document.get("kind") == "inclusion":
            return check_inclusion_proof(document, public_key)
        if document.get("format") == PROOF_FORMAT and document.get("kind") == "consistency":
            return check_consistency_proof(document, public_key)
    except (KeyError, TypeError, ValueError, binascii.Error) as error:
        raise Problem(f"malformed ({type(error).__name__}: {error})") from None
    raise Problem("not a kam-domain tree head or proof")


def _hex(value: Any, field: str) -> bytes:
    if isinstance(value, str) and len(value) == 64:
        try:
            return bytes.fromhex(value)
        except ValueError:
            pass
    raise Problem(f"{field}: expected 64 hex digits")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="verifier", description="Check kam-domain signed tree heads and proofs."
    )
    parser.add_argument("--public-key", required=True, metavar="PUB", help="the log's key")
    parser.add_argument("files", nargs="+", metavar="FILE")
    args = parser.parse_args(argv)
    try:
        with open(args.public_key, encoding="utf-8") as file:
            key = public_key_from_text(file.read())
    except (OSError, UnicodeDecodeError, Problem) as error:
        print(f"NOT VERIFIED: public key: {error}")
        return 1
    status = 0
    for path in args.files:
        try:
            print(f"{path}: verified: {check_file(path, key)}")
        except Problem as problem:
            print(f"{path}: NOT VERIFIED: {problem}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
