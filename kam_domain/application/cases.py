"""Client case and satisfaction commands and queries of the facade: complaints and inquiries
opened, acknowledged, escalated and resolved; satisfaction surveys recorded."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import attrs

from kam_domain.aggregates.client_account import (
    ClientCase,
)
from kam_domain.application.accounts import AccountCommands
from kam_domain.values import (
    AccountId,
    Actor,
    CaseId,
    CaseKind,
    Severity,
)

__all__ = ["CaseCommands", "OpenCase"]


@attrs.frozen
class OpenCase:
    """An unresolved case and the account it belongs to."""

    account_id: AccountId
    account_name: str
    case: ClientCase


class CaseCommands(AccountCommands):
    """An account's client cases and satisfaction surveys."""

    def open_case(
        self,
        account_id: UUID,
        actor: UUID,
        *,
        kind: CaseKind,
        severity: Severity,
        subject: str,
        case_id: UUID | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> CaseId:
        """Open a complaint or inquiry; ``at`` starts its response clock."""
        account, _, meta, by = self._account_context(account_id, actor, at, correlation_id)
        cid = CaseId(self._new("case_id", case_id, check_store=False))
        account.open_case(meta, by, cid, kind=kind, severity=severity, subject=subject)
        self._commit(account)
        return cid

    def acknowledge_case(
        self,
        account_id: UUID,
        actor: UUID,
        case_id: UUID,
        *,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        account, _, meta, by = self._account_context(account_id, actor, at, correlation_id)
        account.acknowledge_case(meta, by, CaseId(case_id))
        self._commit(account)

    def escalate_case(
        self,
        account_id: UUID,
        actor: UUID | Actor,
        case_id: UUID,
        *,
        to: UUID,
        level: int,
        reason: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """Escalate a case to member ``to``: by a member, or by a system :class:`Actor`."""
        account, team, meta, by = self._account_decision(account_id, actor, at, correlation_id)
        target = self._credentials(team, to, meta.at, "to")
        account.escalate_case(meta, by, target, CaseId(case_id), level=level, reason=reason)
        self._commit(account)

    def resolve_case(
        self,
        account_id: UUID,
        actor: UUID,
        case_id: UUID,
        *,
        resolution: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        account, _, meta, by = self._account_context(account_id, actor, at, correlation_id)
        account.resolve_case(meta, by, CaseId(case_id), resolution=resolution)
        self._commit(account)

    # -- commands: satisfaction ----------------------------------------------------------------

    def record_satisfaction(
        self,
        account_id: UUID,
        actor: UUID,
        *,
        score: Decimal | int | str,
        comment: str | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """Record a satisfaction survey score from 0 to 100."""
        account, _, meta, by = self._account_context(account_id, actor, at, correlation_id)
        account.survey_satisfaction(meta, by, score=score, comment=comment)
        self._commit(account)

    # -- queries -------------------------------------------------------------------------------

    def open_cases(self, team_id: UUID) -> list[OpenCase]:
        """The team's unresolved cases, the earliest opened first."""
        found = [
            OpenCase(AccountId(account.id), account.name, case)
            for account in self.accounts(team_id)
            for case in account.open_cases()
        ]
        return sorted(found, key=lambda item: item.case.opened_at)
