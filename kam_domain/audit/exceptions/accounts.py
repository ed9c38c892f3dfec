"""Accounts: key accounts nobody answers for or whose KAM has no cross-trained backup, overdue
payments, and cases not acknowledged within their SLA.

Overdue invoices are read from the accounts (an invoice with a balance open never leaves one);
cases from the accounts' events, since an account retires its resolved cases after the
retention window and a case acknowledged late stays a breach however long ago it was.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import attrs

from kam_domain.aggregates.client_account import (
    AccountInvoice,
    CaseStatus,
    ClientAccount,
    ClientCase,
)
from kam_domain.aggregates.team import Member, Team
from kam_domain.audit.exceptions.findings import EventRef, Finding, FindingKind
from kam_domain.audit.exceptions.reading import Events, Reading
from kam_domain.errors import ValidationError
from kam_domain.policies.coverage import CoverageGap, CoveragePolicy, open_gaps
from kam_domain.policies.escalation import CaseEscalationPolicy
from kam_domain.policies.parameters import whole_number
from kam_domain.policies.records import PolicyDecision, PolicySettings, settings_id
from kam_domain.values import AccountId, Role, Severity

__all__ = ["account_findings"]


def account_findings(reading: Reading) -> Iterator[Finding]:
    windows = _SlaWindows(reading.events, reading.moment)
    gaps = _coverage_flags(reading)
    for account in reading.accounts:
        yield from _coverage(reading, account, gaps)
        for invoice in account.invoices.values():
            if invoice.is_overdue(reading.moment):
                yield _overdue(reading, account, invoice)
        for case in _cases(reading, account):
            finding = _sla(reading, account, case, windows)
            if finding is not None:
                yield finding


def _cases(reading: Reading, account: ClientAccount) -> list[ClientCase]:
    """Every case of ``account`` opened up to the moment, as it stood then (in the order they
    were opened), folded from its events: what its SLA is judged by."""
    cases: dict[UUID, ClientCase] = {}
    for event in reading.events.of(account.id):
        if event.timestamp > reading.moment:
            continue
        if isinstance(event, ClientAccount.CaseOpened):
            cases[event.case_id] = ClientCase(
                event.case_id, event.kind, event.severity, event.subject, event.timestamp
            )
        elif isinstance(event, ClientAccount.CaseAcknowledged) and event.case_id in cases:
            cases[event.case_id] = attrs.evolve(
                cases[event.case_id],
                status=CaseStatus.ACKNOWLEDGED,
                acknowledged_at=event.timestamp,
            )
    return list(cases.values())


def _coverage_flags(reading: Reading) -> dict[CoverageGap, PolicyDecision]:
    """The coverage policy's open gaps as of the moment, with the decision that flagged each."""
    decided = reading.decided(CoveragePolicy.name)
    flagged: dict[CoverageGap, PolicyDecision] = {}
    for gap in open_gaps(decided):
        text = str(gap)
        flagged[gap] = next(d for d in reversed(decided) if text in d.inputs.get("opened", ""))
    return flagged


def _coverage(
    reading: Reading, account: ClientAccount, flags: Mapping[CoverageGap, PolicyDecision]
) -> Iterator[Finding]:
    if not account.is_key:
        return
    record = f"account {account.name}"
    designated = reading.events.last(account.id, ClientAccount.KeyAccountDesignated)
    kam_id = account.accountable_kam
    team = reading.team(account.team_id)
    kam = None if kam_id is None or team is None else team.members.get(kam_id)
    if kam_id is None or kam is None or not kam.active or kam.role is not Role.KEY_ACCOUNT_MANAGER:
        why, since, behind = _unaccountable(reading, account, team, kam_id, kam)
        yield Finding(
            FindingKind.KEY_ACCOUNT_WITHOUT_KAM,
            since,
            account.id,
            record,
            f"{account.tier.value if account.tier else 'key'} key account {why}",
            (
                *designated,
                *reading.events.last(account.id, ClientAccount.KamAssigned, reading.moment),
                *behind,
            ),
        )
        return
    assert team is not None
    backup_id = kam.backup_id
    if backup_id is not None and team.is_cross_trained(backup_id, kam_id):
        return
    backup = None if backup_id is None else team.members.get(backup_id)
    if backup is None:
        why = "no backup designated"
    elif not backup.active:
        why = f"its backup {backup.name} has left the team"
    else:
        why = f"its backup {backup.name} is not cross-trained to cover them"
    assigned = reading.events.last(account.id, ClientAccount.KamAssigned, kam_id=kam_id)
    flag = flags.get(CoverageGap(AccountId(account.id), kam_id))
    yield Finding(
        FindingKind.KEY_ACCOUNT_WITHOUT_BACKUP,
        _latest(account.assignment_history, kam_id) or account.modified_on,
        account.id,
        record,
        f"KAM {kam.name}: {why}",
        (
            *assigned,
            *reading.events.last(team.id, Team.BackupDesignated, reading.moment, member_id=kam_id),
            *([reading.decision_ref(flag)] if flag is not None else []),
        ),
    )


def _unaccountable(
    reading: Reading,
    account: ClientAccount,
    team: Team | None,
    kam_id: UUID | None,
    kam: Member | None,
) -> tuple[str, datetime, list[EventRef]]:
    """Why nobody answers for the account, since when, and the team's events that say so."""
    since = account.designated_at or account.modified_on
    if kam_id is None:
        return "with no accountable KAM", since, []
    name = reading.name(kam_id)
    if team is None or kam is None:
        return f"whose accountable KAM {name} is not on the team", since, []
    cls: type[Any]
    if not kam.active:
        why, cls = f"whose accountable KAM {name} has left the team", Team.MemberLeft
    else:
        why, cls = f"whose accountable KAM {name} is now a {kam.role.label}", Team.RoleChanged
    changes = reading.events.find(team.id, cls, reading.moment, member_id=kam_id)[-1:]
    since = max([since, *(event.timestamp for event in changes)])
    return why, since, [reading.events.ref(event) for event in changes]


def _overdue(reading: Reading, account: ClientAccount, invoice: AccountInvoice) -> Finding:
    late = reading.moment - invoice.due_at
    flagged = (
        f"flagged overdue at {invoice.overdue_flagged_at.isoformat()}"
        if invoice.overdue_flagged_at is not None
        else "not flagged overdue"
    )
    invoice_id = invoice.invoice_id
    summary = (
        f"invoice {invoice_id} of {invoice.amount}: {invoice.open_balance} open,"
        f" due {invoice.due_at.isoformat()}, {_days(late)} past due; {flagged}"
    )
    return _followed_up(
        reading,
        Finding(FindingKind.OVERDUE_PAYMENT, invoice.due_at, account.id, "", summary, ()),
        account,
        ClientAccount.InvoiceIssued,
        (ClientAccount.PaymentReceived, ClientAccount.PaymentOverdue),
        invoice_id=invoice_id,
    )


def _sla(
    reading: Reading, account: ClientAccount, case: ClientCase, windows: _SlaWindows
) -> Finding | None:
    hours = windows.hours(case.severity, case.opened_at)
    deadline = case.opened_at + timedelta(hours=hours)
    acknowledged = case.acknowledged_at
    if acknowledged is not None:
        if acknowledged <= deadline:
            return None
        what = (
            f"acknowledged {_days(acknowledged - case.opened_at)} after opening,"
            f" {_days(acknowledged - deadline)} late"
        )
    elif reading.moment > deadline:
        what = f"not acknowledged, {_days(reading.moment - deadline)} past its window"
    else:
        return None
    case_id = case.case_id
    summary = (
        f"{case.severity.value} {case.kind.value} {case_id} opened"
        f" {case.opened_at.isoformat()} (SLA {hours} h): {what}"
    )
    return _followed_up(
        reading,
        Finding(FindingKind.SLA_BREACH, deadline, account.id, "", summary, ()),
        account,
        ClientAccount.CaseOpened,
        (ClientAccount.CaseAcknowledged, ClientAccount.CaseEscalated),
        case_id=case_id,
    )


def _followed_up(
    reading: Reading,
    finding: Finding,
    account: ClientAccount,
    opened: type[Any],
    followed: Sequence[type[Any]],
    **fields: Any,
) -> Finding:
    """``finding`` about an invoice or a case of ``account``, resting on the event that opened
    it, whenever recorded, and those of ``followed`` recorded up to the moment."""
    refs = reading.events.refs(account.id, opened, **fields)
    for cls in followed:
        refs += reading.events.refs(account.id, cls, reading.moment, **fields)
    return attrs.evolve(finding, record=f"account {account.name}", events=tuple(refs))


class _SlaWindows:
    """The case-escalation policy's SLA hours per severity, as recorded at each moment (its
    defaults until configured). A case is held to the window in force when it was opened."""

    def __init__(self, events: Events, until: datetime) -> None:
        self.defaults: dict[str, Any] = dict(CaseEscalationPolicy.parameters)
        self.changes = [
            (event.timestamp, dict(event.parameters))
            for event in events.find(
                settings_id(CaseEscalationPolicy.name), PolicySettings.ParametersSet, until
            )
        ]

    def hours(self, severity: Severity, at: datetime) -> int:
        name = f"sla_hours_{severity.value}"
        settings = dict(self.defaults)
        for when, parameters in self.changes:
            if when <= at:
                settings.update(parameters)
        try:
            return whole_number(settings, name)
        except ValidationError:
            # The policy cannot use such a value either (it parks the tick); the default stands.
            return whole_number(self.defaults, name)


def _latest(history: Sequence[Any], kam_id: UUID) -> datetime | None:
    since = [a.since for a in history if a.kam_id == kam_id]
    return since[-1] if since else None


def _days(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"
