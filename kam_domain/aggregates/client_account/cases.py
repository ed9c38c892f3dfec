"""Client cases (complaints and inquiries): opened, acknowledged, escalated level by level and
resolved, with the moments that the service level is measured from."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

import attrs

from kam_domain.aggregates.base import KamAggregate, Meta, require_id, require_text, require_utc
from kam_domain.aggregates.client_account.guards import LONG_TEXT, AccountGuards, check_period
from kam_domain.aggregates.client_account.records import CaseStatus, ClientCase
from kam_domain.aggregates.client_account.roles import (
    ANYONE,
    CASE_OPENER_ROLES,
    ESCALATOR_ROLES,
    RESOLVER_ROLES,
)
from kam_domain.aggregates.credentials import Credentials
from kam_domain.bounds import check_whole
from kam_domain.errors import AlreadyExists, CaseNotFound, InvalidTransition, ValidationError
from kam_domain.values import CaseId, CaseKind, MemberId, Percentage, Period, Severity

if TYPE_CHECKING:
    from kam_domain.aggregates.client_account import ClientAccount

#: The highest escalation level a case may reach (each level hands it one rank up).
MAX_ESCALATION_LEVEL = 100


class Cases(AccountGuards):
    """Opening, acknowledging, escalating and resolving client cases."""

    class CaseOpened(KamAggregate.Event):
        case_id: CaseId
        kind: CaseKind
        severity: Severity
        subject: str

        def apply(self, account: ClientAccount) -> None:
            account.cases[self.case_id] = ClientCase(
                self.case_id, self.kind, self.severity, self.subject, self.timestamp
            )
            account._retire(self.timestamp)

    class CaseAcknowledged(KamAggregate.Event):
        case_id: CaseId

        def apply(self, account: ClientAccount) -> None:
            account._change_case(
                self.case_id, status=CaseStatus.ACKNOWLEDGED, acknowledged_at=self.timestamp
            )
            account._retire(self.timestamp)

    class CaseEscalated(KamAggregate.Event):
        case_id: CaseId
        escalated_to: MemberId
        level: int
        reason: str

        def apply(self, account: ClientAccount) -> None:
            account._change_case(
                self.case_id,
                escalation_level=self.level,
                escalated_to=self.escalated_to,
                escalated_at=self.timestamp,
            )
            account._retire(self.timestamp)

    class CaseResolved(KamAggregate.Event):
        case_id: CaseId
        resolution: str

        def apply(self, account: ClientAccount) -> None:
            account._change_case(
                self.case_id,
                status=CaseStatus.RESOLVED,
                resolved_at=self.timestamp,
                resolution=self.resolution,
            )
            account._over_at(self.timestamp)
            account._retire(self.timestamp)

    def open_case(
        self,
        meta: Meta,
        by: Credentials,
        case_id: CaseId,
        *,
        kind: CaseKind,
        severity: Severity,
        subject: str,
    ) -> None:
        """Open a complaint or inquiry; its response clock starts at ``meta.at``."""
        self._check_actor(meta, by, *CASE_OPENER_ROLES)
        require_id("case_id", case_id)
        if not isinstance(kind, CaseKind):
            raise ValidationError("kind", f"must be a CaseKind, not {kind!r}")
        if not isinstance(severity, Severity):
            raise ValidationError("severity", f"must be a Severity, not {severity!r}")
        subject = require_text("subject", subject)
        if case_id in self.cases:
            raise AlreadyExists(f"case_id: {case_id} was already opened")
        self._record(
            self.CaseOpened, meta, case_id=case_id, kind=kind, severity=severity, subject=subject
        )

    def acknowledge_case(self, meta: Meta, by: Credentials, case_id: CaseId) -> None:
        """Any active member of the team acknowledges an open case to the client."""
        self._check_actor(meta, by, *ANYONE)
        case = self._case(case_id)
        if case.status is not CaseStatus.OPEN:
            msg = f"case_id: case {case_id} is {case.status.value}, not open"
            raise InvalidTransition(msg)
        self._record(self.CaseAcknowledged, meta, case_id=case_id)

    def escalate_case(
        self,
        meta: Meta,
        by: Credentials | None,
        to: Credentials,
        case_id: CaseId,
        *,
        level: int,
        reason: str,
    ) -> None:
        """Hand an unresolved case to ``to`` at a higher escalation level; its status stays.

        By a director, admin staff or a KAM, or with ``by=None`` by the escalation policy.
        """
        self._check_decider(meta, by, *ESCALATOR_ROLES)
        self._check_party("to", to, *ANYONE)
        check_whole("level", level, low=1, high=MAX_ESCALATION_LEVEL)
        reason = require_text("reason", reason)
        case = self._case(case_id)
        if not case.is_open:
            raise InvalidTransition(f"case_id: case {case_id} is already resolved")
        if level <= case.escalation_level:
            msg = f"level: case {case_id} is already escalated to level {case.escalation_level}"
            raise InvalidTransition(msg)
        self._record(
            self.CaseEscalated,
            meta,
            case_id=case_id,
            escalated_to=to.member_id,
            level=level,
            reason=reason,
        )

    def resolve_case(
        self, meta: Meta, by: Credentials, case_id: CaseId, *, resolution: str
    ) -> None:
        """Resolve an acknowledged case; nothing happens to it afterwards."""
        self._check_actor(meta, by, *RESOLVER_ROLES)
        resolution = require_text("resolution", resolution, max_length=LONG_TEXT)
        case = self._case(case_id)
        if case.status is not CaseStatus.ACKNOWLEDGED:
            msg = f"case_id: case {case_id} is {case.status.value}; only acknowledged cases resolve"
            raise InvalidTransition(msg)
        self._record(self.CaseResolved, meta, case_id=case_id, resolution=resolution)

    # -- queries -----------------------------------------------------------------------------------

    def open_cases(self) -> list[ClientCase]:
        """Cases not yet resolved, in the order they were opened."""
        return [case for case in self.cases.values() if case.is_open]

    def acknowledged_share(
        self,
        within: timedelta | Mapping[Severity, timedelta],
        period: Period | None = None,
        *,
        at: datetime | None = None,
    ) -> Percentage | None:
        """The share of cases acknowledged within ``within`` of being opened (one window, or one
        per severity), as known at ``at`` (default: the account's last recorded change).

        Counted are the cases held (open ones, and those resolved within the retention window)
        opened within ``period`` (default: all) that had either been
        acknowledged by ``at`` or whose window had closed by then; a case still inside its window
        is not counted yet. None when no case counts.
        """
        windows = _check_windows(within)
        if period is not None:
            check_period(period)
        moment = self.modified_on if at is None else require_utc("at", at)
        counted = on_time = 0
        for case in self.cases.values():
            if case.opened_at > moment or (
                period is not None and not period.contains(case.opened_at)
            ):
                continue
            deadline = case.opened_at + windows(case.severity)
            acknowledged = case.acknowledged_at
            if acknowledged is not None and acknowledged <= moment:
                counted += 1
                if acknowledged <= deadline:
                    on_time += 1
            elif deadline < moment:
                counted += 1
        if not counted:
            return None
        return Percentage(Decimal(on_time * 100) / Decimal(counted))

    # -- helpers -----------------------------------------------------------------------------------

    def _case(self, case_id: object) -> ClientCase:
        case = self.cases.get(CaseId(case_id)) if isinstance(case_id, UUID) else None
        if case is None:
            raise CaseNotFound("case_id", case_id)
        return case

    def _change_case(self, case_id: CaseId, **changes: Any) -> None:
        self.cases[case_id] = attrs.evolve(self.cases[case_id], **changes)


def _check_windows(within: object) -> Callable[[Severity], timedelta]:
    """A function from severity to its acknowledgement window."""
    if isinstance(within, timedelta):
        if within < timedelta(0):
            raise ValidationError("within", "must not be negative")
        window = within
        return lambda _severity: window
    if not isinstance(within, Mapping):
        raise ValidationError("within", "must be a timedelta or a timedelta per Severity")
    windows: dict[Severity, timedelta] = {}
    for severity in Severity:
        chosen = within.get(severity)
        if not isinstance(chosen, timedelta) or chosen < timedelta(0):
            raise ValidationError("within", f"needs a window ≥ 0 for {severity.value} cases")
        windows[severity] = chosen
    return windows.__getitem__
