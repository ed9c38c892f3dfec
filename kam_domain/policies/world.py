"""The world a policy decides in: every record as the policies have seen the log so far.

The engine folds each event into the record it belongs to in causal order (each command, then
all its consequences, then the next command: see :mod:`kam_domain.runtime.causal`), and hands
the world to a policy right after folding the event that triggers it. A decision therefore
depends on its cause and on the commands before it with their consequences, and nothing else —
which is what lets replay reproduce it from the log alone.

Besides the records, the world keeps indexes up to date as it folds, so that a policy's question
costs what it finds rather than what exists: each team's accounts, projects and targets; each
target's children; open invoices by due date; unresolved cases by when they were opened. They
answer exactly what a scan of the records would, in the same order.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import attrs

from kam_domain.aggregates.base import KamAggregate
from kam_domain.aggregates.client_account import (
    AccountInvoice,
    CaseStatus,
    ClientAccount,
    ClientCase,
)
from kam_domain.aggregates.project import Project
from kam_domain.aggregates.target import Target
from kam_domain.aggregates.team import Team
from kam_domain.policies.records import (
    CLOCK_ID,
    Clock,
    PolicyDecision,
    PolicySettings,
    decision_id,
    settings_id,
)
from kam_domain.values import CaseId, InvoiceId, Period, Severity

__all__ = ["CaseWindow", "World"]

A = TypeVar("A", bound=KamAggregate)
T = TypeVar("T")

#: The kinds of record listed per team.
_LISTED = (ClientAccount, Project, Target)


@attrs.frozen
class CaseWindow:
    """Which unresolved cases :meth:`World.open_cases` looks for: opened strictly before
    ``opened_before`` and, when given, escalated below ``below_level``, not acknowledged yet,
    of ``severity``."""

    opened_before: datetime
    below_level: int | None = None
    unacknowledged: bool = False
    severity: Severity | None = None

    def covers(self, bucket: tuple[bool, Severity, int]) -> bool:
        unacknowledged, severity, level = bucket
        return (
            (unacknowledged or not self.unacknowledged)
            and (self.severity is None or severity is self.severity)
            and (self.below_level is None or level < self.below_level)
        )


class World:
    """Every record as of ``position``; ``now`` is the time of the last event folded."""

    def __init__(self) -> None:
        self.position = 0
        self.now: datetime | None = None
        self._records: dict[UUID, Any] = {}
        # The same records by class, each in creation order: policies list records of one kind
        # at almost every event, and a scan of every record (decisions included) grows with
        # the log.
        self._by_class: dict[type, dict[UUID, Any]] = {}
        self._created: dict[UUID, int] = {}
        # Per kind and team, the team's records in creation order (dicts as ordered sets).
        self._by_team: dict[type, dict[UUID, dict[UUID, None]]] = {kind: {} for kind in _LISTED}
        self._listed: dict[UUID, tuple[type, UUID]] = {}
        self._children: dict[UUID, dict[UUID, None]] = {}
        self._parent: dict[UUID, UUID] = {}
        self._invoices = _ByMoment()
        # Unresolved cases, one list per (not acknowledged, severity, escalation level).
        self._cases: dict[tuple[bool, Severity, int], _ByMoment] = {}
        self._case_bucket: dict[tuple[UUID, UUID], tuple[bool, Severity, int]] = {}

    def fold(self, event: Any, position: int) -> None:
        """Bring the record ``event`` belongs to up to date; events come in causal order."""
        key = event.originator_id
        record = self._records.get(key)
        folded = _mutate(event, record)
        self._records[key] = folded
        if type(folded) is not type(record):
            if record is not None:
                del self._by_class[type(record)][key]
            if folded is not None:
                self._created.setdefault(key, len(self._created))
                self._by_class.setdefault(type(folded), {})[key] = folded
        elif folded is not record:
            self._by_class[type(folded)][key] = folded
        kind = _kind(type(folded))
        if kind is not None or key in self._listed:
            self._index(key, kind, folded, event)
        self.position = max(self.position, position)
        if self.now is None or event.timestamp > self.now:
            self.now = event.timestamp

    # -- lookups -------------------------------------------------------------------------------

    def get(self, record_id: UUID, cls: type[A]) -> A | None:
        record = self._records.get(record_id)
        return record if isinstance(record, cls) else None

    def all(self, cls: type[A]) -> Iterator[A]:
        """Records of ``cls`` in the order they were created."""
        groups = [group for kind, group in self._by_class.items() if issubclass(kind, cls)]
        if len(groups) == 1:
            return iter(list(groups[0].values()))
        found = [(self._created[key], record) for group in groups for key, record in group.items()]
        return iter([record for _, record in sorted(found, key=lambda pair: pair[0])])

    def creation_order(self, record_id: UUID) -> int:
        """Where the record comes in creation order (the order :meth:`all` lists records in)."""
        return self._created[record_id]

    def team(self, team_id: UUID) -> Team | None:
        return self.get(team_id, Team)

    def teams(self) -> list[Team]:
        return list(self.all(Team))

    def accounts(self, team_id: UUID | None = None) -> list[ClientAccount]:
        """Accounts (of the team) in the order they were registered."""
        if team_id is None:
            return list(self.all(ClientAccount))
        return self._of_team(ClientAccount, team_id)

    def account_teams(self) -> list[UUID]:
        """The teams that have accounts, in the order of each team's first account."""
        teams = self._by_team[ClientAccount]
        held = [team_id for team_id, accounts in teams.items() if accounts]
        return sorted(held, key=lambda team_id: self._created[next(iter(teams[team_id]))])

    def projects(self, team_id: UUID | None = None) -> list[Project]:
        """Projects (of the team) in the order they were initiated."""
        if team_id is None:
            return list(self.all(Project))
        return self._of_team(Project, team_id)

    def targets(
        self,
        team_id: UUID | None = None,
        period: Period | None = None,
        *,
        parent_id: UUID | None = None,
    ) -> list[Target]:
        """Targets (of the team, of the period, children of ``parent_id``) in the order set."""
        if parent_id is not None:
            found: Iterable[Target] = [
                self._records[key] for key in self._children.get(parent_id, ())
            ]
        elif team_id is not None:
            found = self._of_team(Target, team_id)
        else:
            found = self.all(Target)
        return [
            t
            for t in found
            if (team_id is None or t.team_id == team_id) and (period is None or t.period == period)
        ]

    def open_invoices(self, due_before: datetime) -> list[tuple[ClientAccount, AccountInvoice]]:
        """Invoices with a balance open, not flagged overdue, due strictly before ``due_before``:
        accounts in the order they were registered, each account's invoices in the order they
        were issued."""
        found = []
        for account_id, invoice_id in self._invoices.before(due_before):
            account = self.get(account_id, ClientAccount)
            invoice = None if account is None else account.invoices.get(InvoiceId(invoice_id))
            if account is not None and invoice is not None and _unpaid(invoice):
                found.append((account, invoice))
        return self._in_order(found, _issued_at, lambda account: account.invoices)

    def open_cases(self, *windows: CaseWindow) -> list[tuple[ClientAccount, ClientCase]]:
        """Unresolved cases in any of ``windows``, each once: accounts in the order they were
        registered, each account's cases in the order they were opened."""
        keys: dict[tuple[UUID, UUID], None] = {}
        for window in windows:
            for bucket, listed in self._cases.items():
                if window.covers(bucket):
                    keys.update(dict.fromkeys(listed.before(window.opened_before)))
        found = []
        for account_id, case_id in keys:
            account = self.get(account_id, ClientAccount)
            case = None if account is None else account.cases.get(CaseId(case_id))
            if account is not None and case is not None and case.is_open:
                found.append((account, case))
        return self._in_order(found, _opened_at, lambda account: account.cases)

    @property
    def clock(self) -> Clock | None:
        return self.get(CLOCK_ID, Clock)

    # -- the policies' own records -------------------------------------------------------------

    def parameters(self, policy: str) -> dict[str, Any]:
        """Parameters recorded for ``policy`` so far (without its defaults)."""
        settings = self.get(settings_id(policy), PolicySettings)
        return {} if settings is None else dict(settings.parameters)

    def active_version(self, policy: str) -> int | None:
        """The version activated for ``policy`` so far, None when none was."""
        settings = self.get(settings_id(policy), PolicySettings)
        return None if settings is None else settings.active_version

    def decision(self, policy: str, cause_id: UUID) -> PolicyDecision | None:
        """``policy``'s recorded decision about event ``cause_id``, once folded."""
        return self.get(decision_id(policy, cause_id), PolicyDecision)

    def decisions(self, policy: str) -> list[PolicyDecision]:
        return [d for d in self.all(PolicyDecision) if d.policy == policy]

    # -- keeping the indexes -------------------------------------------------------------------

    def _index(self, key: UUID, kind: type | None, record: Any, event: Any) -> None:
        listed: tuple[type, UUID] | None = None if kind is None else (kind, record.team_id)
        if self._listed.get(key) != listed:
            self._relist(key, listed)
        if kind is Target:
            parent_id = record.parent_id
            if self._parent.get(key) != parent_id:
                self._reparent(key, parent_id)
        elif kind is ClientAccount:
            # An account's event changes at most the invoice or the case it names.
            invoice_id = getattr(event, "invoice_id", None)
            if invoice_id is not None:
                invoice = record.invoices.get(invoice_id)
                due = invoice.due_at if invoice is not None and _unpaid(invoice) else None
                self._invoices.put((key, invoice_id), due)
            case_id = getattr(event, "case_id", None)
            if case_id is not None:
                self._recase(key, case_id, record.cases.get(case_id))

    def _relist(self, key: UUID, listed: tuple[type, UUID] | None) -> None:
        before = self._listed.pop(key, None)
        if before is not None:
            del self._by_team[before[0]][before[1]][key]
        if listed is None:
            return
        self._listed[key] = listed
        self._insert(self._by_team[listed[0]].setdefault(listed[1], {}), key)

    def _reparent(self, key: UUID, parent_id: UUID | None) -> None:
        before = self._parent.pop(key, None)
        if before is not None:
            del self._children[before][key]
        if parent_id is not None:
            self._parent[key] = parent_id
            self._insert(self._children.setdefault(parent_id, {}), key)

    def _insert(self, ordered: dict[UUID, None], key: UUID) -> None:
        """Add ``key`` to a creation-ordered set: at the end, unless created before the last."""
        last = next(reversed(ordered), None)
        ordered[key] = None
        if last is not None and self._created[last] > self._created[key]:
            items = sorted(ordered, key=self._created.__getitem__)
            ordered.clear()
            ordered.update(dict.fromkeys(items))

    def _recase(self, account_id: UUID, case_id: UUID, case: ClientCase | None) -> None:
        item = (account_id, case_id)
        before = self._case_bucket.pop(item, None)
        if before is not None:
            self._cases[before].put(item, None)
        if case is None or not case.is_open:
            return
        bucket = (case.status is CaseStatus.OPEN, case.severity, case.escalation_level)
        self._case_bucket[item] = bucket
        if bucket not in self._cases:
            self._cases[bucket] = _ByMoment()
        self._cases[bucket].put(item, case.opened_at)

    def _of_team(self, kind: type[A], team_id: UUID) -> list[A]:
        return [self._records[key] for key in self._by_team[kind].get(team_id, ())]

    def _in_order(
        self,
        found: list[tuple[ClientAccount, T]],
        moment: Callable[[T], datetime],
        items: Callable[[ClientAccount], Any],
    ) -> list[tuple[ClientAccount, T]]:
        """Accounts in creation order, each account's items by ``moment``, ties as the account
        holds them (the order a stable sort of the account's items gives)."""
        found.sort(key=lambda pair: (self._created[pair[0].id], moment(pair[1])))
        start = 0
        while start < len(found):
            account, first = found[start]
            end = start + 1
            while (
                end < len(found)
                and found[end][0] is account
                and moment(found[end][1]) == moment(first)
            ):
                end += 1
            if end - start > 1:
                place = {id(item): n for n, item in enumerate(items(account).values())}
                found[start:end] = sorted(found[start:end], key=lambda pair: place[id(pair[1])])
            start = end
        return found


class _ByMoment:
    """Items (account id, item id) sorted by a moment, for range queries "before a moment"."""

    def __init__(self) -> None:
        # Entries are (moment, serial number): ties compare the numbers, never the ids.
        self._entries: list[tuple[datetime, int]] = []
        self._items: dict[int, tuple[UUID, UUID]] = {}
        self._listed: dict[tuple[UUID, UUID], tuple[datetime, int]] = {}
        self._serial = 0

    def put(self, item: tuple[UUID, UUID], moment: datetime | None) -> None:
        """List ``item`` at ``moment``, or nowhere when None."""
        before = self._listed.get(item)
        if before is not None:
            if before[0] == moment:
                return
            del self._entries[bisect_left(self._entries, before)]
            del self._items[before[1]]
            del self._listed[item]
        if moment is not None:
            self._serial += 1
            entry = (moment, self._serial)
            insort(self._entries, entry)
            self._items[self._serial] = item
            self._listed[item] = entry

    def before(self, moment: datetime) -> list[tuple[UUID, UUID]]:
        """The items listed strictly before ``moment``, earliest first."""
        entries = self._entries[: bisect_left(self._entries, (moment,))]
        return [self._items[serial] for _, serial in entries]

    def __len__(self) -> int:
        return len(self._entries)


def _mutate(event: Any, record: Any) -> Any:
    """``record`` with ``event`` applied, also where a consequence overtook it.

    In causal order a command's event can come after a consequence of an earlier command that
    the log holds after it (a worker settled the earlier command late), so the versions of one
    record may arrive out of sequence: the event is applied all the same, and the record keeps
    the highest version and the latest time it has seen.
    """
    if record is None or event.originator_version == record.version + 1:
        return event.mutate(record)
    event.apply(record)
    record.version = max(record.version, event.originator_version)
    record.modified_on = max(record.modified_on, event.timestamp)
    return record


def _kind(cls: type) -> type | None:
    """The kind of record, among those listed per team, that ``cls`` is (None: none)."""
    if cls not in _KINDS:
        _KINDS[cls] = next((kind for kind in _LISTED if issubclass(cls, kind)), None)
    return _KINDS[cls]


#: Worked out once per class: the world asks at every event it folds.
_KINDS: dict[type, type | None] = {}


def _unpaid(invoice: AccountInvoice) -> bool:
    return invoice.overdue_flagged_at is None and not invoice.open_balance.is_zero


def _issued_at(invoice: AccountInvoice) -> datetime:
    return invoice.issued_at


def _opened_at(case: ClientCase) -> datetime:
    return case.opened_at
