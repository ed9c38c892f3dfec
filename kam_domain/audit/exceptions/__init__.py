"""The exceptions report: what in the record broke a rule or missed a deadline, as of a moment.

Each :class:`Finding` names its kind, when it happened (or fell due), the record it is about, a
one-line account of what is wrong, and the stored events behind it, with their log positions —
so that ``kam audit trail`` or the export takes the auditor straight to them.

One module per family of finding, over one shared reading of the record (``reading``):

- ``discounts``: approvals outside the authority then in force, self-approvals, prices under
  the floor, margins under the minimum — kinds the library refuses to record, so a finding means
  the log was written behind its back — and, for review, approvals made under delegation;
- ``targets``: revisions after the close, late or missing evaluations and sign-offs,
  decomposition gaps;
- ``accounts``: key accounts without an accountable KAM or a cross-trained backup, overdue
  payments, SLA breaches;
- ``policies``: parked events, and policy-attributed events without their decision;
- ``backdated``: events written long after their effective time.

The families from ``targets`` on are what a team that works through the library can still let
happen. ``findings`` holds the report's types; ``report`` puts the families together.
"""

from __future__ import annotations

from kam_domain.audit.exceptions.findings import EventRef, ExceptionsReport, Finding, FindingKind
from kam_domain.audit.exceptions.report import exceptions_report

__all__ = ["EventRef", "ExceptionsReport", "Finding", "FindingKind", "exceptions_report"]
