"""``kam audit exceptions``: the exceptions report, as a table, JSON or CSV.

Registered by :mod:`kam_domain.cli.audit` beside the other audit subcommands, and built like them:
read only, ``--store``, ``--format``, the same exit statuses.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kam_domain.cli.audit_common import (
    CSV,
    JSON,
    TABLE,
    audit_command,
    format_option,
)
from kam_domain.cli.common import EXIT_FINDINGS, EXIT_OK, moment_text
from kam_domain.cli.output import show, table, write_csv

if TYPE_CHECKING:
    from kam_domain.audit.exceptions import Finding

__all__ = ["CSV_COLUMNS", "EXIT_EXCEPTIONS_FOUND", "register"]

#: ``kam audit exceptions --fail-on-exceptions``: something was listed.
EXIT_EXCEPTIONS_FOUND = EXIT_FINDINGS

CSV_COLUMNS = ["kind", "at", "record_id", "record", "summary", "positions", "events"]


def register(sub: Any) -> None:
    exceptions = audit_command(
        sub,
        "exceptions",
        "list what broke a rule or missed a deadline, each with the events behind it",
        "List approvals outside the authority then in force (re-derived from the Team as it "
        "stood at the decision), self-approvals, prices under the floor, margins under the "
        "minimum, evaluations late or unsigned, targets revised after their period closed, "
        "child targets that do not add up, key accounts without a KAM or a cross-trained "
        "backup, overdue payments, SLA breaches and parked events. Each line names the "
        "stored events behind it by log position. With --at, as of that moment: records as "
        "they stood then, decisions recorded up to then, deadlines measured against it.",
    )
    exceptions.add_argument(
        "--at",
        type=moment_text,
        metavar="ISO8601",
        help="a moment with its UTC offset (default: now, on the records as they are)",
    )
    format_option(exceptions, (TABLE, JSON, CSV))
    exceptions.add_argument(
        "--fail-on-exceptions",
        action="store_true",
        help=f"exit with status {EXIT_EXCEPTIONS_FOUND} when anything is listed (for CI)",
    )
    exceptions.set_defaults(handler=run_exceptions)


def run_exceptions(args: argparse.Namespace) -> int:
    from kam_domain.audit.exceptions import exceptions_report
    from kam_domain.audit.records import open_app
    from kam_domain.audit.trail import parse_moment

    moment = None if args.at is None else parse_moment(args.at)
    with open_app(args.store) as app:
        report = exceptions_report(app, at=moment)
    findings = [finding.as_dict() for finding in report.findings]
    if args.format == JSON:
        document = {
            "at": report.at.isoformat(),
            "as_of": report.as_of,
            "counts": {kind.value: count for kind, count in report.counts().items()},
            "findings": findings,
        }
        print(json.dumps(document, ensure_ascii=False, indent=2))
    elif args.format == CSV:
        rows = [
            {
                **finding,
                "positions": " ".join(
                    str(e["position"]) for e in finding["events"] if e["position"] is not None
                ),
                "events": json.dumps(finding["events"], ensure_ascii=False),
            }
            for finding in findings
        ]
        write_csv(sys.stdout, CSV_COLUMNS, rows)
    else:
        when = report.at.isoformat()
        reading = f"as of {when} (records as they stood then)" if report.as_of else f"at {when}"
        print(f"exceptions {reading}: {len(findings)} found")
        for kind, count in report.counts().items():
            print()
            print(f"{kind.title} [{kind.value}]: {count or 'none'}")
            if count:
                show(_indented(_kind_table(report.of(kind))))
    if args.fail_on_exceptions and findings:
        return EXIT_EXCEPTIONS_FOUND
    return EXIT_OK


def _kind_table(found: Sequence[Finding]) -> str:
    rows = [
        [
            finding.at.isoformat(),
            finding.record,
            finding.summary,
            ", ".join(str(ref) for ref in finding.events),
        ]
        for finding in found
    ]
    return table(["when", "record", "exception", "events"], rows)


def _indented(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
