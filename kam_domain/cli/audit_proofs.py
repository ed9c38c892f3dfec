"""``kam audit keygen``, ``checkpoint --key``, ``verify --checkpoint FILE``, ``prove``.

The provable ledger's commands, registered by :mod:`kam_domain.cli.audit` beside the others and
built like them: read only (``keygen`` touches no store at all), ``--store``, the same exit
statuses. Signed tree heads and proofs are JSON files; ``python -m kam_domain.audit.verifier``
checks them with the public key alone.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kam_domain.cli.audit_common import (
    EXIT_CODES,
    EXIT_NOT_INTACT,
    audit_command,
)
from kam_domain.cli.common import EXIT_OK
from kam_domain.cli.output import output_to
from kam_domain.errors import ValidationError

__all__ = ["check_signed_heads", "register", "run_signed_checkpoint"]


def register(sub: Any) -> None:
    keygen = sub.add_parser(
        "keygen",
        help="make the Ed25519 key pair that signs tree heads (kept away from the database)",
        description=(
            "Write a new Ed25519 private key (PEM, mode 0600) and its public key. The private "
            "key signs tree heads (kam audit checkpoint --key); keep it where the database's "
            "administrators cannot read it. Hand the public key to auditors. Never overwrites."
        ),
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    keygen.add_argument("--key", required=True, type=Path, metavar="KEYFILE")
    keygen.add_argument(
        "--public-key", type=Path, metavar="PUB", help="default: KEYFILE with .pub appended"
    )
    keygen.set_defaults(handler=run_keygen)

    prove = audit_command(
        sub,
        "prove",
        "export an account's events with inclusion proofs, or a consistency proof",
        "With --account: every event of the account, each with its chain link and an inclusion "
        "proof against a signed tree head (--checkpoint FILE, or one signed now with --key). "
        "With --from OLD --to NEW: the consistency proof that the older signed tree is a prefix "
        "of the newer. python -m kam_domain.audit.verifier checks either with the public key "
        "alone.",
    )
    what = prove.add_mutually_exclusive_group(required=True)
    what.add_argument("--account", metavar="NAME_OR_ID")
    what.add_argument("--from", dest="old", type=Path, metavar="OLD", help="a signed tree head")
    prove.add_argument("--to", dest="new", type=Path, metavar="NEW", help="a signed tree head")
    prove.add_argument("--checkpoint", type=Path, metavar="FILE", help="a signed tree head")
    prove.add_argument("--key", type=Path, metavar="KEYFILE", help="sign the current head")
    prove.add_argument("--output", type=Path, metavar="FILE", help="default: standard output")
    prove.set_defaults(handler=run_prove)


def run_keygen(args: argparse.Namespace) -> int:
    from kam_domain.audit.signing import generate_key_pair, key_id

    public_path = args.public_key or args.key.with_name(args.key.name + ".pub")
    public = generate_key_pair(args.key, public_path)
    print(f"private key: {args.key} (keep it away from the database)")
    print(f"public key: {public_path} (id {key_id(public)}; give it to auditors)")
    return EXIT_OK


def run_signed_checkpoint(args: argparse.Namespace) -> int:
    """``kam audit checkpoint --key KEYFILE``: verify the chain, sign its tree head."""
    from kam_domain.audit.integrity import open_log
    from kam_domain.audit.proofs import sign_tree_head
    from kam_domain.audit.signing import load_signing_key, read_tree_head
    from kam_domain.errors import LogNotIntact, SignatureInvalid

    key = load_signing_key(args.key)
    previous = [read_tree_head(path) for path in args.previous]
    try:
        with open_log(args.store) as recorder:
            signed = sign_tree_head(recorder, key, previous=previous)
    except SignatureInvalid as error:
        print(f"NOT INTACT (signature): {error}")
        return EXIT_NOT_INTACT
    except LogNotIntact as error:
        print(f"NOT INTACT: {error}")
        return EXIT_NOT_INTACT
    with output_to(args.output) as out:
        out.write(signed.to_json())
    if args.output is not None:
        tree = signed.tree
        print(f"signed tree head: size {tree.size}, root {tree.root.hex()}, head {tree.head}")
    return EXIT_OK


def check_signed_heads(
    store: str | None,
    files: Sequence[str],
    public_key: Path | None,
    require_signed: bool,
    size: int | None = None,
) -> tuple[list[str], str | None]:
    """``kam audit verify --checkpoint FILE``: the lines to print, and the failure (if any).
    ``size``: the links verify found intact (every one matched an event), so that the tree is
    the one verified, and the links are not counted twice."""
    from kam_domain.audit.integrity import open_log
    from kam_domain.audit.proofs import check_tree_heads
    from kam_domain.audit.signing import load_public_key, read_tree_head
    from kam_domain.errors import SignatureInvalid

    if public_key is None:
        raise ValidationError("public_key", "a signed tree head needs --public-key PUB to check")
    key = load_public_key(public_key)
    heads = [read_tree_head(Path(file)) for file in files]
    try:
        with open_log(store) as recorder:
            checks = check_tree_heads(recorder, heads, key, size=size)
    except SignatureInvalid as error:
        return [], f"(signature): {error}"
    lines: list[str] = []
    for file, check in zip(files, checks, strict=True):
        if check.breach is not None:
            breach = check.breach
            return lines, (
                f"at position {breach.position} ({breach.kind}): {breach.reason} (signed tree "
                f"head {file})"
            )
        tree = check.signed.tree
        lines.append(
            f"agrees with signed tree head {file}: size {tree.size}, {tree.time.isoformat()}, "
            f"key {check.signed.key} (consistency proof of {len(check.proof)} hashes verified)"
        )
    newest = max(checks, key=lambda check: check.signed.tree.size)
    if newest.unsigned:
        tree = newest.signed.tree
        note = (
            f"events after position {tree.head.position} that no signed tree head given "
            f"covers: {newest.unsigned:,} (nothing signed vouches for them yet)"
        )
        if require_signed:
            return lines, f"(unsigned): {note}"
        lines.append(f"note: {note}")
    return lines, None


def run_prove(args: argparse.Namespace) -> int:
    from kam_domain.audit.signing import load_signing_key, read_tree_head

    if args.old is not None:
        if args.new is None:
            raise ValidationError("to", "--from OLD needs --to NEW (two signed tree heads)")
        return _prove_consistency(args, read_tree_head(args.old), read_tree_head(args.new))
    signed = read_tree_head(args.checkpoint) if args.checkpoint is not None else None
    key = load_signing_key(args.key) if args.key is not None and signed is None else None
    if signed is None and key is None:
        msg = "give --checkpoint FILE (a signed tree head), or --key KEYFILE to sign one now"
        raise ValidationError("checkpoint", msg)

    from kam_domain.audit.proofs import prove_account
    from kam_domain.audit.records import open_app
    from kam_domain.errors import HistoryRewritten, LogNotIntact

    try:
        with open_app(args.store) as app:
            document = prove_account(app, args.account, signed=signed, key=key)
    except (HistoryRewritten, LogNotIntact) as error:
        print(f"NOT INTACT: {error}")
        return EXIT_NOT_INTACT
    _write(args.output, document)
    size = document["tree_head"]["size"]
    summary = (
        f"proved {len(document['events'])} events of {document['account']['name']} against "
        f"the signed tree head of size {size}"
    )
    uncovered = document["not_covered"]
    if uncovered:
        positions = ", ".join(str(position) for position in uncovered)
        print(
            f"NOT PROVEN: {summary}; the events at positions {positions} come after it and no "
            "signature covers them",
            file=sys.stderr if args.output is None else sys.stdout,
        )
        return EXIT_NOT_INTACT
    if args.output is not None:
        print(summary)
    return EXIT_OK


def _prove_consistency(args: argparse.Namespace, old: Any, new: Any) -> int:
    from kam_domain.audit.integrity import open_log
    from kam_domain.audit.proofs import prove_consistency
    from kam_domain.errors import HistoryRewritten

    try:
        with open_log(args.store) as recorder:
            document = prove_consistency(recorder, old, new)
    except HistoryRewritten as error:
        print(f"NOT INTACT: {error}")
        return EXIT_NOT_INTACT
    _write(args.output, document)
    if args.output is not None:
        m, n = document["from"]["size"], document["to"]["size"]
        print(f"consistency proof from size {m} to size {n}: {len(document['consistency_path'])}")
    return EXIT_OK


def _write(path: Path | None, document: dict[str, Any]) -> None:
    with output_to(path) as out:
        out.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
