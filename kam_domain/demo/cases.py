"""The demo's complaints and inquiries (acknowledged in time or late, so the case-escalation
policy has something to escalate), and each account's satisfaction survey."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from kam_domain.demo.cast import Cast
from kam_domain.demo.timeline import QUARTER
from kam_domain.values import CaseKind, Severity

__all__ = ["CaseSteps"]

#: Hours until a case is acknowledged: within its window, and late (well past the window, so
#: that a tick of the clock falls in between and the escalation policy sees it).
_ACK_DELAYS = {
    Severity.CRITICAL: (2, 20),
    Severity.HIGH: (10, 40),
    Severity.MEDIUM: (20, 70),
    Severity.LOW: (30, 90),
}


class CaseSteps(Cast):
    """Sixteen cases through the quarter, then the surveys."""

    def plan_cases(self) -> None:
        severities = list(Severity)
        for number in range(16):
            account = self.accounts[self.rng.randrange(len(self.accounts))]
            severity = severities[self.rng.randrange(len(severities))]
            kind = CaseKind.COMPLAINT if number % 3 else CaseKind.INQUIRY
            opened = self.at(20 + number * 3.5, hours=self.rng.randrange(0, 8))
            late = self.rng.random() < 0.3
            acknowledged = opened + timedelta(hours=_ACK_DELAYS[severity][1 if late else 0])
            resolved = acknowledged + timedelta(days=self.rng.randrange(1, 6))
            case = self.uuid()
            self.step(opened, self._open_case, account, case, kind, severity, number, opened)
            self.step(acknowledged, self._acknowledge, account, case, acknowledged)
            if resolved < QUARTER.end - timedelta(days=2):
                self.step(resolved, self._resolve, account, case, resolved)
        for index, account in enumerate(self.accounts):
            score = Decimal(self.rng.randrange(62, 99))
            self.step(self.at(75, hours=index), self._survey, account, score, index)

    def _open_case(
        self,
        account: dict[str, Any],
        case: UUID,
        kind: CaseKind,
        severity: Severity,
        number: int,
        when: datetime,
    ) -> None:
        subject = {
            CaseKind.COMPLAINT: f"service interruption report #{number + 1}",
            CaseKind.INQUIRY: f"question about contract terms #{number + 1}",
        }[kind]
        rep, _, _ = self.crew_of(account)
        self.app.open_case(
            account["id"],
            self.members[rep],
            kind=kind,
            severity=severity,
            subject=subject,
            case_id=case,
            at=when,
        )

    def _acknowledge(self, account: dict[str, Any], case: UUID, when: datetime) -> None:
        self.app.acknowledge_case(account["id"], self.kam_of(account), case, at=when)

    def _resolve(self, account: dict[str, Any], case: UUID, when: datetime) -> None:
        self.app.resolve_case(
            account["id"],
            self.kam_of(account),
            case,
            resolution="root cause fixed and confirmed with the client",
            at=when,
        )

    def _survey(self, account: dict[str, Any], score: Decimal, index: int) -> None:
        self.app.record_satisfaction(
            account["id"],
            self.kam_of(account),
            score=score,
            comment="quarterly satisfaction survey",
            at=self.at(75, hours=index),
        )
