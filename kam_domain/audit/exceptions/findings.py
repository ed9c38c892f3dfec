"""What the exceptions report is made of: kinds of finding, findings, the events behind them."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from kam_domain.aggregates.base import event_id as _event_id

__all__ = ["ORDER", "EventRef", "ExceptionsReport", "Finding", "FindingKind"]


class FindingKind(enum.Enum):
    """The kinds of exception the report lists, in the order it lists them."""

    APPROVAL_OUTSIDE_AUTHORITY = "approval_outside_authority"
    SELF_APPROVAL = "self_approval"
    PRICE_UNDER_FLOOR = "price_under_floor"
    MARGIN_UNDER_MINIMUM = "margin_under_minimum"
    #: Not a breach: approvals a delegate made on another's behalf, for the auditor to review.
    APPROVAL_UNDER_DELEGATION = "approval_under_delegation"
    EVALUATION_LATE = "evaluation_late"
    EVALUATION_UNSIGNED = "evaluation_unsigned"
    TARGET_REVISED_AFTER_CLOSE = "target_revised_after_close"
    DECOMPOSITION_GAP = "decomposition_gap"
    KEY_ACCOUNT_WITHOUT_KAM = "key_account_without_kam"
    KEY_ACCOUNT_WITHOUT_BACKUP = "key_account_without_backup"
    OVERDUE_PAYMENT = "overdue_payment"
    SLA_BREACH = "sla_breach"
    PARKED_EVENT = "parked_event"
    POLICY_EVENT_WITHOUT_DECISION = "policy_event_without_decision"
    BACKDATED = "backdated"

    @property
    def title(self) -> str:
        """What the kind lists, as a heading."""
        return _TITLES[self]

    @property
    def question(self) -> int | None:
        """The auditor's question this kind answers (numbered as in docs/audit.md), or None for
        a kind that keeps a rule no question names (coverage, collections, response times)."""
        return _QUESTIONS.get(self)


_TITLES = {
    FindingKind.APPROVAL_OUTSIDE_AUTHORITY: "approvals outside the authority then in force",
    FindingKind.SELF_APPROVAL: "self-approvals (decided by the requester)",
    FindingKind.PRICE_UNDER_FLOOR: "prices under the floor",
    FindingKind.MARGIN_UNDER_MINIMUM: "margins under the minimum",
    FindingKind.APPROVAL_UNDER_DELEGATION: "approvals made under delegation (on another's behalf)",
    FindingKind.EVALUATION_LATE: "evaluations or sign-offs after the deadline, or missing",
    FindingKind.EVALUATION_UNSIGNED: "evaluations not signed off by the deadline",
    FindingKind.TARGET_REVISED_AFTER_CLOSE: "targets revised after their period closed",
    FindingKind.DECOMPOSITION_GAP: "targets their child targets do not add up to",
    FindingKind.KEY_ACCOUNT_WITHOUT_KAM: "key accounts without an accountable KAM",
    FindingKind.KEY_ACCOUNT_WITHOUT_BACKUP: "key accounts whose KAM has no cross-trained backup",
    FindingKind.OVERDUE_PAYMENT: "overdue payments",
    FindingKind.SLA_BREACH: "cases not acknowledged within their SLA",
    FindingKind.PARKED_EVENT: "events a policy could not process (parked)",
    FindingKind.POLICY_EVENT_WITHOUT_DECISION: "events attributed to a policy without its decision",
    FindingKind.BACKDATED: "events dated back: written long after their effective time",
}

_QUESTIONS = {
    FindingKind.APPROVAL_OUTSIDE_AUTHORITY: 2,
    FindingKind.SELF_APPROVAL: 2,
    FindingKind.PRICE_UNDER_FLOOR: 2,
    FindingKind.MARGIN_UNDER_MINIMUM: 2,
    FindingKind.APPROVAL_UNDER_DELEGATION: 2,
    FindingKind.EVALUATION_LATE: 4,
    FindingKind.EVALUATION_UNSIGNED: 4,
    FindingKind.TARGET_REVISED_AFTER_CLOSE: 3,
    FindingKind.DECOMPOSITION_GAP: 3,
    FindingKind.KEY_ACCOUNT_WITHOUT_KAM: 1,
    FindingKind.PARKED_EVENT: 7,
    FindingKind.POLICY_EVENT_WITHOUT_DECISION: 7,
}

#: Each kind's place in the report.
ORDER = {kind: index for index, kind in enumerate(FindingKind)}


@attrs.frozen
class EventRef:
    """A stored event a finding rests on: its log position, record and version, and type."""

    position: int | None
    record_id: UUID
    version: int
    event: str
    #: What the event is to the finding, when its type does not say (e.g. a policy's flag).
    note: str | None = None

    @property
    def event_id(self) -> UUID:
        """The event's id, as causation ids name it."""
        return _event_id(self.record_id, self.version)

    def as_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "record_id": str(self.record_id),
            "version": self.version,
            "event": self.event,
            "event_id": str(self.event_id),
            "note": self.note,
        }

    def __str__(self) -> str:
        where = f"#{self.position}" if self.position is not None else f"v{self.version}"
        return f"{where} {self.event}" + (f" ({self.note})" if self.note else "")


def _in_log_order(refs: Iterable[EventRef]) -> tuple[EventRef, ...]:
    unique = dict.fromkeys(refs)
    return tuple(sorted(unique, key=lambda ref: (ref.position is None, ref.position or 0)))


@attrs.frozen
class Finding:
    """One exception: what is wrong, about which record, since when, and the events behind it."""

    kind: FindingKind
    #: When it happened, or when it fell due (a deadline, a due date, an SLA window's end).
    at: datetime
    record_id: UUID
    #: The record, as an auditor names it (``project Core banking``, ``account Huaxia Mobile``).
    record: str
    summary: str
    #: In log order.
    events: tuple[EventRef, ...] = attrs.field(converter=_in_log_order)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "title": self.kind.title,
            "question": self.kind.question,
            "at": self.at.isoformat(),
            "record_id": str(self.record_id),
            "record": self.record,
            "summary": self.summary,
            "events": [ref.as_dict() for ref in self.events],
        }


@attrs.frozen
class ExceptionsReport:
    """Every finding as of ``at``, by kind, then time."""

    at: datetime
    #: True when records were read as they stood at ``at``; False: as they are now.
    as_of: bool
    findings: tuple[Finding, ...]

    def of(self, kind: FindingKind) -> list[Finding]:
        return [finding for finding in self.findings if finding.kind is kind]

    def counts(self) -> dict[FindingKind, int]:
        """How many findings of each kind (every kind, zero included)."""
        counts = dict.fromkeys(FindingKind, 0)
        for finding in self.findings:
            counts[finding.kind] += 1
        return counts

    def __bool__(self) -> bool:
        return bool(self.findings)
