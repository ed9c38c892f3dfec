"""The exceptions report: every family's findings as of a moment, in the report's order."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from kam_domain.aggregates.base import require_utc
from kam_domain.audit.exceptions.accounts import account_findings
from kam_domain.audit.exceptions.backdated import backdated_findings
from kam_domain.audit.exceptions.discounts import discount_findings
from kam_domain.audit.exceptions.findings import ORDER, ExceptionsReport
from kam_domain.audit.exceptions.policies import parked_findings, unexplained_findings
from kam_domain.audit.exceptions.reading import Reading
from kam_domain.audit.exceptions.targets import target_findings

if TYPE_CHECKING:
    from kam_domain.application import KamApplication

__all__ = ["exceptions_report"]


def exceptions_report(app: KamApplication, *, at: datetime | None = None) -> ExceptionsReport:
    """The exceptions in ``app``'s record as of ``at`` (default: now, on current records).

    Reads only: it runs no policy and records nothing (open the store with
    :func:`kam_domain.audit.records.open_app` to read it without write access).
    """
    moment = None if at is None else require_utc("at", at)
    reading = Reading(app, moment)
    findings = [
        *discount_findings(reading),
        *target_findings(reading),
        *account_findings(reading),
        *parked_findings(reading),
        *unexplained_findings(reading),
    ]
    findings += backdated_findings(reading)
    findings.sort(key=lambda f: (ORDER[f.kind], f.at, f.record, f.summary))
    return ExceptionsReport(reading.moment, moment is not None, tuple(findings))
