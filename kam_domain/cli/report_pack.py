"""``kam report pack --output DIR [--at T]``: the audit pack, a static site to open offline.

Registered by :mod:`kam_domain.cli.report` beside the scorecard. It reads like every report:
the store is opened read-only (nothing created, upgraded or written) and no policy runs; what
it writes goes into the output directory alone (:mod:`kam_domain.reports.pack`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kam_domain.cli.common import EXIT_OK, add_store_option, exit_status_text
from kam_domain.cli.show import add_at_option

__all__ = ["register", "run_pack"]

EXIT_CODES = exit_status_text()


def register(sub: Any) -> None:
    pack = sub.add_parser(
        "pack",
        help="write the audit pack: a static site to archive and open offline",
        description=(
            "Write a static, self-contained site an auditor can archive and open offline:\n"
            "the verification of the hash chain (and the newest signed tree head given),\n"
            "each account's accountable history, every discount with its approver's authority\n"
            "in force at the decision, each target's history and evaluations with their\n"
            "source events, the exceptions report, the scorecards with charts, and the export\n"
            "with its standard-library verifier, listed with their SHA-256 in SHA256SUMS.\n"
            "No page loads anything: no network, no script, the style sheet inline.\n\n"
            "With --at, the records as they stood then, and decisions and exceptions recorded\n"
            "up to then; the verification and the export are of the whole log."
        ),
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_store_option(pack)
    pack.add_argument(
        "--output", required=True, type=Path, metavar="DIR", help="a new or empty directory"
    )
    add_at_option(pack, "as the record stood at this moment, with its UTC offset (default: now)")
    pack.add_argument(
        "--force",
        action="store_true",
        help="replace a pack written into DIR before (files it did not write are left alone)",
    )
    pack.add_argument(
        "--signed-head",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="a tree head signed by kam audit checkpoint --key: checked against the store, "
        "the newest put in the pack (repeatable; needs --public-key)",
    )
    pack.add_argument(
        "--public-key", type=Path, metavar="PUB", help="the key that checks the signed heads"
    )
    pack.set_defaults(handler=run_pack)


def run_pack(args: argparse.Namespace) -> int:
    from kam_domain.audit.records import open_app
    from kam_domain.reports.pack import write_pack
    from kam_domain.storage import resolve_store

    url, _ = resolve_store(args.store)
    with open_app(args.store) as app:
        pack = write_pack(
            app,
            args.output,
            at=args.at,
            force=args.force,
            signed_heads=args.signed_head,
            public_key=args.public_key,
            store=url.scheme,
        )
    state = "the log verifies" if pack.intact else "the log does NOT verify (see verification.html)"
    print(f"audit pack written: {len(pack.files)} files, {pack.events:,} events exported; {state}")
    print(f"open {pack.directory / 'index.html'}")
    return EXIT_OK
