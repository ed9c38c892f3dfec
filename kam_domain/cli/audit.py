"""``kam audit``: verify the log, checkpoint it, trails, accountability, exports, exceptions.

Every subcommand only reads: it opens the store without creating or upgrading anything and
runs no policy, so an auditor needs read access only. Long work (verify, export) streams from
the store and shows progress when standard error is a terminal.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

from kam_domain.cli.audit_common import (
    CSV,
    EXIT_CODES,
    EXIT_NOT_INTACT,
    JSON,
    JSONL,
    TABLE,
    audit_command,
    format_option,
)
from kam_domain.cli.common import (
    EXIT_OK,
    checked,
    moment_text,
)
from kam_domain.cli.output import output_to, progress, show, table, write_csv
from kam_domain.errors import ValidationError

__all__ = ["EXIT_NOT_INTACT", "register"]


def register(commands: Any) -> None:
    audit = commands.add_parser(
        "audit",
        help="verify the log's integrity, trails, accountability, exports, exceptions (read only)",
        description=(
            "Questions an auditor asks of the log. Every subcommand only reads the store "
            "(read access is enough) and never records anything."
        ),
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = audit.add_subparsers(dest="audit_command", required=True, metavar="COMMAND")
    # Imported here: that module builds on this one's helpers.
    from kam_domain.cli.show import add_at_option

    verify = audit_command(
        sub,
        "verify",
        "check that no stored event was altered, removed, inserted or reordered",
        "Recompute the hash chain over every stored event, from the bytes as stored (no "
        "cipher key needed), in pages. Against a checkpoint taken earlier (kam audit "
        "checkpoint), a rewritten history and a removed tail are detected too. Prints the "
        "first bad position, or the checkpoint of the verified head. With --deep, the as-of "
        "index and the snapshots are re-derived from the events as well.",
    )
    verify.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="DIGEST_OR_FILE",
        type=checked(_checkpoint, "checkpoint"),
        help="a digest printed earlier by kam audit checkpoint, or a signed tree head file "
        "written by kam audit checkpoint --key (repeatable)",
    )
    verify.add_argument(
        "--public-key",
        type=Path,
        metavar="PUB",
        help="the public key that checks signed tree heads (kam audit keygen)",
    )
    verify.add_argument(
        "--require-signed",
        action="store_true",
        help="fail when events after the newest signed tree head given are signed by none",
    )
    verify.add_argument(
        "--deep",
        action="store_true",
        help="also re-derive the as-of index and every snapshot from the events and list each "
        "row that differs (decodes every event: an encrypted store needs its cipher key)",
    )
    verify.set_defaults(handler=run_verify)

    checkpoint = audit_command(
        sub,
        "checkpoint",
        "print the chain's head (position and link) to keep outside the database",
        "Print the digest of the chain's last link: position and link. Keep it where the "
        "database's administrators cannot change it; later, kam audit verify --checkpoint "
        "DIGEST proves that nothing up to that position changed and that it is still there.",
    )
    checkpoint.add_argument(
        "--key",
        type=Path,
        metavar="KEYFILE",
        help="verify the chain, then write a signed tree head (JSON) with this Ed25519 key",
    )
    checkpoint.add_argument(
        "--output", type=Path, metavar="FILE", help="with --key: default standard output"
    )
    checkpoint.add_argument(
        "--previous",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="with --key: a tree head signed before with the same key; nothing is signed "
        "unless the store extends it (repeatable)",
    )
    checkpoint.set_defaults(handler=run_checkpoint)

    accountable = audit_command(
        sub,
        "accountable",
        "name the KAM accountable for an account at a moment, and every assignment",
        "Name the key account manager accountable for the account at the moment given, and "
        "list every assignment of the account with its reason and who decided it.",
    )
    accountable.add_argument("--account", required=True, metavar="NAME_OR_ID")
    accountable.add_argument(
        "--at",
        required=True,
        type=moment_text,
        metavar="ISO8601",
        help="a moment with its UTC offset",
    )
    format_option(accountable, (TABLE, JSON, CSV))
    accountable.set_defaults(handler=run_accountable)

    trail = audit_command(
        sub,
        "trail",
        "print the full history of an account, project, target or member",
        "Every event of the record, in log order: position, effective time, event, actor, "
        "causation, correlation and the event's own fields. For a member: every event the "
        "member issued or is named in, anywhere in the log. Each is named by its name or id; "
        "with --at, only the events in effect by then.",
    )
    which = trail.add_mutually_exclusive_group(required=True)
    which.add_argument("--account", metavar="NAME_OR_ID")
    which.add_argument("--project", metavar="NAME_OR_ID")
    which.add_argument("--target", metavar="NAME_OR_ID", help="e.g. 'Huaxia Mobile 2026-Q1'")
    which.add_argument("--member", metavar="NAME_OR_ID")
    add_at_option(trail, "only the events in effect by this moment, with its UTC offset")
    format_option(trail, (TABLE, JSON, CSV))
    trail.set_defaults(handler=run_trail)

    export = audit_command(
        sub,
        "export",
        "write one record per event with its chain link (JSON lines or CSV)",
        "Stream the whole log, one record per event: position, originator id and version, "
        "topic, event, timestamp, actor, policy and policy version where a policy acted, "
        "causation, correlation, the SHA-256 of the stored bytes, the previous and own chain "
        "links, and the stored bytes (base64; for an encrypted store, also the decrypted "
        "body). docs/audit.md has a standard-library script that re-verifies the chain of an "
        "export and recomputes every readable column from the stored bytes.",
    )
    format_option(export, (JSONL, CSV), default=JSONL)
    add_at_option(
        export,
        "the log as it stood then: the events written by this moment (a prefix of the log, "
        "so its chain verifies up to its last record)",
    )
    export.add_argument("--output", metavar="FILE", type=Path, help="default: standard output")
    export.add_argument(
        "--with-state",
        action="store_true",
        help="accepted for earlier scripts: the stored bytes are always exported now",
    )
    export.set_defaults(handler=run_export)

    # Imported here: that module builds on this one's helpers.
    from kam_domain.cli.audit_exceptions import register as register_exceptions

    register_exceptions(sub)

    from kam_domain.cli.audit_proofs import register as register_proofs

    register_proofs(sub)


# -- handlers ------------------------------------------------------------------------------------


def run_verify(args: argparse.Namespace) -> int:
    from kam_domain.audit.integrity import Checkpoint, verify_store

    # A signed tree head is a file that exists; anything else must be a digest.
    signed_heads = [text for text in args.checkpoint if Path(text).is_file()]
    digests = [text for text in args.checkpoint if text not in signed_heads]
    checkpoints = [Checkpoint.parse(text) for text in digests]
    with progress("verifying") as advance:
        result = verify_store(args.store, checkpoints=checkpoints, progress=advance)
    if result.breach is not None:
        print(f"NOT INTACT at position {result.breach.position} ({result.breach.kind}): ", end="")
        print(result.breach.reason)
        last = f"; the last link that verified is {result.head}" if result.head else ""
        print(f"{result.checked:,} events verified before it{last}")
        return EXIT_NOT_INTACT
    signed_lines: list[str] = []
    if signed_heads:
        from kam_domain.cli.audit_proofs import check_signed_heads

        signed_lines, failure = check_signed_heads(
            args.store, signed_heads, args.public_key, args.require_signed, result.checked
        )
        if failure is not None:
            print(f"NOT INTACT {failure}")
            return EXIT_NOT_INTACT
    formats = ", ".join(str(f.format) for f in result.formats) or "none recorded"
    print(f"intact: {result.checked:,} events verified, chain format {formats}")
    for confirmed in result.confirmed:
        print(f"agrees with checkpoint {confirmed}")
    for line in signed_lines:
        print(line)
    if result.adopted_through:
        print(
            f"note: the events up to position {result.adopted_through} were stored before the "
            "chain existed; they are sealed as they were when it was created"
        )
    if result.head is not None:
        print(f"checkpoint: {result.head}")
    if args.deep:
        return _verify_derived(args.store)
    return EXIT_OK


def _verify_derived(store: str | None) -> int:
    from kam_domain.audit.derived import verify_derived
    from kam_domain.audit.records import open_app

    with open_app(store) as app, progress("re-deriving") as advance:
        head = app.recorder.max_notification_id() or 0
        mismatches = verify_derived(app, progress=lambda position: advance(position, head))
    if mismatches:
        print(f"DERIVED DATA DIFFERS from the events: {len(mismatches):,} row(s)")
        for mismatch in mismatches:
            print(f"  {mismatch}")
        return EXIT_NOT_INTACT
    print("derived data agrees: the as-of index and every snapshot re-derive from the events")
    return EXIT_OK


def run_checkpoint(args: argparse.Namespace) -> int:
    from kam_domain.audit.integrity import checkpoint_store

    if args.key is not None:
        from kam_domain.cli.audit_proofs import run_signed_checkpoint

        return run_signed_checkpoint(args)
    print(checkpoint_store(args.store))
    return EXIT_OK


def run_accountable(args: argparse.Namespace) -> int:
    from kam_domain.audit.records import open_app
    from kam_domain.audit.trail import accountable, parse_moment

    moment = parse_moment(args.at)
    with open_app(args.store) as app:
        found = accountable(app, _account_id(app, args.account), moment)
    rows = [
        {
            "since": line.since.isoformat(),
            "kam_id": str(line.kam_id) if line.kam_id else "",
            "kam": line.kam_name or ("(nobody)" if line.kam_id is None else ""),
            "reason": line.reason,
            "decided_by": line.decided_by,
            "decided_by_name": line.decided_by_name or "",
            "in_force": line.in_force,
        }
        for line in found.history
    ]
    kam = f"{found.kam_name or '(unknown member)'} ({found.kam_id})" if found.kam_id else "nobody"
    if args.format == JSON:
        document = {
            "account_id": str(found.account_id),
            "account": found.account_name,
            "at": found.at.isoformat(),
            "kam_id": str(found.kam_id) if found.kam_id else None,
            "kam": found.kam_name,
            "history": rows,
        }
        print(json.dumps(document, ensure_ascii=False, indent=2))
    elif args.format == CSV:
        columns = ["since", "kam_id", "kam", "reason", "decided_by", "decided_by_name"]
        write_csv(sys.stdout, [*columns, "in_force"], rows)
    else:
        print(f"{found.account_name}: accountable at {found.at.isoformat()}: {kam}")
        print()
        print("assignment history (* in force at that moment):")
        lines = [
            [
                "*" if line.in_force else "",
                line.since.isoformat(),
                str(row["kam"]),
                line.reason,
                line.decided_by_name or line.decided_by,
            ]
            for line, row in zip(found.history, rows, strict=True)
        ]
        show(table(["", "since", "KAM", "reason", "decided by"], lines))
    return EXIT_OK


def run_trail(args: argparse.Namespace) -> int:
    from kam_domain.audit.names import resolve
    from kam_domain.audit.records import open_app
    from kam_domain.audit.trail import member_trail, record_trail

    with open_app(args.store) as app:
        if args.member is not None:
            found = member_trail(app, resolve(app, "member", args.member))
        else:
            found = iter(record_trail(app, _record_id(app, args)))
        entries = [e.as_dict() for e in found if args.at is None or e.described.at <= args.at]
    if args.format == JSON:
        print(json.dumps(entries, ensure_ascii=False, indent=2))
        return EXIT_OK
    columns = [
        "position",
        "when",
        "written",
        "event",
        "actor",
        "causation_id",
        "correlation_id",
        "fields",
    ]
    if args.format == CSV:
        rows = [
            {
                **e,
                "written": e["written"] or "",
                "fields": json.dumps(e["fields"], ensure_ascii=False),
            }
            for e in entries
        ]
        write_csv(sys.stdout, [*columns[:5], "actor_name", *columns[5:]], rows)
        return EXIT_OK
    cells = [
        [
            str(e["position"] or ""),
            e["when"],
            e["written"] or "",
            e["event"],
            e["actor_name"] or e["actor"] or "",
            e["causation_id"] or "",
            e["correlation_id"] or "",
            _fields_text(e["fields"]),
        ]
        for e in entries
    ]
    headers = ["pos", "when", "written", "event", "actor", "causation", "correlation", "fields"]
    show(table(headers, cells))
    return EXIT_OK


def run_export(args: argparse.Namespace) -> int:
    from kam_domain.audit.export import export_records, write_csv, write_jsonl, written_by
    from kam_domain.audit.records import open_app

    with open_app(args.store) as app, output_to(args.output) as out, progress("exporting") as p:
        records = export_records(app, progress=p)
        if args.at is not None:
            records = written_by(records, args.at)
        if args.format == CSV:
            write_csv(records, out)
        else:
            write_jsonl(records, out)
    return EXIT_OK


# -- helpers -------------------------------------------------------------------------------------


def _checkpoint(text: str) -> object:
    """A signed tree head's file (read later), else a digest that must parse now."""
    from kam_domain.audit.integrity import Checkpoint

    return None if Path(text).is_file() else Checkpoint.parse(text)


def _record_id(app: Any, args: argparse.Namespace) -> UUID:
    """The id of the record the arguments name (by name or id), checked to be of that kind."""
    from kam_domain.audit.names import resolve

    if args.account is not None:
        return _account_id(app, args.account)
    if args.project is not None:
        return resolve(app, "project", args.project)
    if args.target is not None:
        return resolve(app, "target", args.target)
    raise ValidationError("record", "name an account, project, target or member")


def _account_id(app: Any, name_or_id: str) -> UUID:
    """The account's id through its directory; a name that matches none is refused with the
    closest names there are."""
    from kam_domain.audit.names import close
    from kam_domain.errors import AccountNotFound, NothingNamed

    try:
        return app.find_account(name_or_id).id  # type: ignore[no-any-return]
    except AccountNotFound:
        raise NothingNamed("account", name_or_id, close(app, "account", name_or_id)) from None


def _fields_text(fields: dict[str, Any]) -> str:
    return "; ".join(
        f"{name}={json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value}"
        for name, value in fields.items()
    )
