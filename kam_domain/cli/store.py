"""``kam store``: looking after the store itself — ``kam store rotate-key``.

Rotating the store-wide key appends a new key to the key ring (:mod:`kam_domain.keyring`):
once the store is opened with the new ring, events are written under the new key, and those
written before are read with the keys they were written under, which the ring keeps. Nothing
stored is rewritten, so the hash chain and ``kam audit verify`` (which needs no key) are
untouched. The new ring is written to a file only its owner can read, never printed: what is
printed names keys by their ids. The rotation itself is recorded in the store
(:class:`~kam_domain.application.store_settings.StoreSettings.KeyAdded`: the new key's id, the
ring's ids, the actor and the reason), written under the new key once the new ring has read the
store; a refused rotation records nothing and leaves no ring file.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

from kam_domain.cli.common import EXIT_OK, add_store_option, exit_status_text
from kam_domain.errors import KamDomainError, StoreUnavailable, ValidationError
from kam_domain.keyring import KEY_SIZES, key_id
from kam_domain.values import Actor

__all__ = ["register"]

EXIT_CODES = exit_status_text()

#: Who rotates unless ``--actor`` says.
CLI_ACTOR = Actor.system("kam-cli")


def register(commands: Any) -> None:
    store = commands.add_parser(
        "store",
        help="look after the store itself: rotate the encryption key",
        description="Look after the store itself.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = store.add_subparsers(dest="store_command", required=True, metavar="ACTION")
    rotate = sub.add_parser(
        "rotate-key",
        help="add a new key to the key ring and record the rotation under it",
        description=(
            "Check that the store's key ring (the URL's cipher_key, else $KAM_CIPHER_KEY) reads\n"
            "the store's first and last events, add a new random key to it and write the new\n"
            "ring to --out (created readable by its owner only). Then, with the new ring, read\n"
            "the store's first and last events again and record the rotation (the new key's id,\n"
            "the ring's ids, the actor, the reason), written under the new key. Open the store\n"
            "with the new ring from then on: new events are written under the new key, older\n"
            "ones are read with the keys they were written under. Nothing stored is rewritten."
        ),
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_store_option(rotate)
    rotate.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="FILE",
        help="where to write the new key ring (must not exist)",
    )
    rotate.add_argument(
        "--bytes",
        type=int,
        choices=KEY_SIZES,
        default=32,
        help="the new key's size in bytes (default: 32)",
    )
    rotate.add_argument(
        "--actor",
        type=_actor,
        default=CLI_ACTOR,
        metavar="WHO",
        help=(
            "who rotates: a team member's id, or an operator's name (letters, digits, spaces, "
            "'.', ':', '-', '_'; recorded as a system actor); default: the system actor kam-cli"
        ),
    )
    rotate.add_argument("--reason", metavar="TEXT", help="why the key is rotated (recorded)")
    rotate.set_defaults(handler=_rotate_key)


#: An operator's name: a login or a person's name, not any text.
_OPERATOR = re.compile(r"\w[\w .:\-]{0,79}")


def _actor(text: str) -> Actor:
    try:
        return Actor.member(UUID(text))
    except ValueError:
        pass
    if not _OPERATOR.fullmatch(text):
        msg = (
            f"{text!r} is neither a member's id nor an operator's name (letters, digits, "
            "spaces, '.', ':', '-' and '_', at most 80)"
        )
        raise argparse.ArgumentTypeError(msg)
    return Actor.system(text)


def _rotate_key(args: argparse.Namespace) -> int:
    from kam_domain.application import KamApplication
    from kam_domain.storage import cipher_ring, resolve_store

    url, _ = resolve_store(args.store)
    ring = cipher_ring(url)
    if ring is None:
        msg = "no key ring given: the store is opened with its cipher_key or $KAM_CIPHER_KEY"
        raise ValidationError("cipher_key", msg)
    app = KamApplication(args.store, read_only=True)
    try:
        # Opening read the first event; the last is under the newest key the store has used.
        last = app.recorder.max_notification_id()
        if last is not None:
            for notification in app.recorder.select_notifications(start=last, limit=1):
                app.mapper.to_domain_event(notification)
    finally:
        app.close()
    new_key = os.urandom(args.bytes)
    rotated = ring.with_key(new_key)
    # The ring is kept before anything is written under its new key, so that no event is ever
    # under a key nobody holds; a rotation refused from here on removes it again, unless the
    # store failed while the rotation was being saved.
    _write_private(args.out, rotated.text() + "\n")
    try:
        _record(args, rotated.text())
    except KamDomainError as refused:
        # Refused before anything was saved: the ring is not needed. A store that failed while
        # saving may have kept the rotation, so the ring is kept.
        if isinstance(refused, StoreUnavailable):
            print(f"kam: the new ring is kept in {args.out}: the store failed", file=sys.stderr)
        else:
            args.out.unlink(missing_ok=True)
        raise
    print(f"key ring: {', '.join(rotated.ids())} (oldest first)")
    print(f"new key: {key_id(new_key)}, written with the ring to {args.out}")
    print(f"recorded: the ring gained key {key_id(new_key)}, by {args.actor}, under that key")
    print(
        "next: open the store with the new ring (set $KAM_CIPHER_KEY to the file's contents);"
        " keep every older key in it, for the events written under them"
    )
    return EXIT_OK


def _record(args: argparse.Namespace, ring: str) -> None:
    """Record the rotation with the store opened under the new ``ring``."""
    from kam_domain.application import KamApplication

    writer = KamApplication(args.store, cipher_key=ring, run_policies=False)
    try:
        writer.record_key_rotation(args.actor, reason=args.reason)
    finally:
        writer.close()


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to a new file that only its owner may read; an existing file is refused."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        msg = f"{path} exists: a key ring is never written over a file"
        raise ValidationError("out", msg) from None
    except OSError as error:
        raise ValidationError("out", f"{path} cannot be created: {error.strerror}") from None
    with os.fdopen(descriptor, "w", encoding="ascii") as out:
        out.write(text)
