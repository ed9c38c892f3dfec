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

A world may be *backed* (:class:`Backing`): the engine's durable state (see
:mod:`kam_domain.runtime.state`). Then the records are loaded when a policy asks for them and
kept in a bounded cache, and :meth:`World.changes` names what changed since the last
checkpoint: the records and the *index cells* (the indexes, cut into pieces that change
independently: a team's accounts, a target's children, the catalogue of records in blocks of
creation order). Decisions and dead letters are not records of the world: policies decide
from the domain's records, and the engine lists parked events from the dead letters' ids.

The module is longer than most because it is one class: the records, the indexes and their
cells change together at every event folded, and are read together; the cells' names and the
pieces they share are in :mod:`kam_domain.policies.world_index`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Protocol, TypeVar
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
from kam_domain.errors import KamDomainError, StateAhead, StoreUnreadable
from kam_domain.policies.records import (
    CLOCK_ID,
    Clock,
    DeadLetter,
    PolicyDecision,
    PolicySettings,
    settings_id,
)
from kam_domain.policies.world_index import (
    CASES_CELL,
    CATALOGUE_BLOCK,
    CATALOGUE_CELLS,
    CHILDREN_CELLS,
    INVOICES_CELL,
    LETTERS_CELL,
    LISTED,
    LISTED_BY_NAME,
    META_CELL,
    TEAM_CELLS,
    ByMoment,
    bucket_order,
    catalogue_cell,
    children_cell,
    listed_kind,
    mutated,
    record_class,
    team_cell,
    topic_of,
)
from kam_domain.values import CaseId, InvoiceId, Period, Severity

__all__ = ["Backing", "CaseWindow", "World"]

A = TypeVar("A", bound=KamAggregate)
T = TypeVar("T")

#: Records a backed world keeps loaded beyond those changed since the last checkpoint.
CACHE_SIZE = 4096


class Backing(Protocol):
    """Where a backed world's records and index cells are kept between checkpoints."""

    def record(self, record_id: UUID) -> tuple[Any, int] | None:
        """The record as of the last checkpoint, with the position of the last event folded
        into it; None when it holds none."""

    def cells(self) -> Mapping[str, Any]:
        """Every index cell of the last checkpoint, decoded."""


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

    def __init__(self, backing: Backing | None = None, *, cache_size: int = CACHE_SIZE) -> None:
        self.position = 0
        self.now: datetime | None = None
        self._backing = backing
        self._cache_size = cache_size
        #: The records loaded, least recently used first (all of them when not backed).
        self._records: OrderedDict[UUID, Any] = OrderedDict()
        #: Records changed since the last checkpoint: kept loaded until it is written.
        self._dirty: set[UUID] = set()
        self._dirty_cells: set[str] = set()
        # The ids of the records by class, each in creation order: policies list records of
        # one kind at almost every event, and a scan of every record grows with the log.
        self._by_class: dict[type, dict[UUID, None]] = {}
        self._class_of: dict[UUID, type] = {}
        self._created: dict[UUID, int] = {}
        # Per kind and team, the team's records in creation order (dicts as ordered sets).
        self._by_team: dict[type, dict[UUID, dict[UUID, None]]] = {kind: {} for kind in LISTED}
        self._listed: dict[UUID, tuple[type, UUID]] = {}
        self._children: dict[UUID, dict[UUID, None]] = {}
        self._parent: dict[UUID, UUID] = {}
        self._invoices = ByMoment()
        # Unresolved cases, one list per (not acknowledged, severity, escalation level).
        self._cases: dict[tuple[bool, Severity, int], ByMoment] = {}
        self._case_bucket: dict[tuple[UUID, UUID], tuple[bool, Severity, int]] = {}
        #: Parked events by id, with the position of their causes.
        self._letters: dict[UUID, int] = {}
        #: Per record loaded, the position of the last event folded into it.
        self._folded_at: dict[UUID, int] = {}
        #: Whether a stored record folded up to a position may be taken into this world (see
        #: :class:`~kam_domain.errors.StateAhead`); None: any.
        self.admits: Callable[[int], bool] | None = None
        if backing is not None:
            try:
                self._restore(backing.cells())
            except KamDomainError:
                raise
            except Exception as error:
                # Whatever a cell in another shape than the library writes makes restoring raise.
                msg = (
                    f"the policies' state holds an index cell the library did not write: {error!r}"
                )
                raise StoreUnreadable(msg) from error

    def fold(self, event: Any, position: int) -> None:
        """Bring the record ``event`` belongs to up to date; events come in causal order."""
        self.position = max(self.position, position)
        if self.now is None or event.timestamp > self.now:
            self.now = event.timestamp
        self._dirty_cells.add(META_CELL)
        if isinstance(event, PolicyDecision.Event):
            return  # policies decide from the domain's records, never from decisions
        key = event.originator_id
        if isinstance(event, DeadLetter.Event):
            if isinstance(event, DeadLetter.Parked) and key not in self._letters:
                self._letters[key] = int(event.cause_position)
                self._dirty_cells.add(LETTERS_CELL)
            return
        self._trim()
        record = self._load(key)
        folded = mutated(event, record)
        self._records[key] = folded
        self._folded_at[key] = max(position, self._folded_at.get(key, 0))
        self._dirty.add(key)
        cls = type(folded)
        if folded is not None and cls is not self._class_of.get(key):
            before = self._class_of.pop(key, None)
            if before is not None:
                del self._by_class[before][key]
            if key not in self._created:
                self._created[key] = len(self._created)
            self._class_of[key] = cls
            self._by_class.setdefault(cls, {})[key] = None
            self._dirty_cells.add(catalogue_cell(self._created[key]))
        kind = listed_kind(cls)
        if kind is not None or key in self._listed:
            self._index(key, kind, folded, event)

    # -- the durable state ---------------------------------------------------------------------

    @property
    def backed(self) -> bool:
        return self._backing is not None

    def changes(self) -> tuple[dict[UUID, tuple[Any, int]], dict[str, Any]]:
        """What changed since the last checkpoint: records by id (each with the position of
        the last event folded into it), and index cells by key (None for a cell now empty)."""
        records = {key: (self._records[key], self._folded_at[key]) for key in self._dirty}
        cells = {key: self._cell(key) for key in self._dirty_cells}
        return records, cells

    def cells(self) -> dict[str, Any]:
        """Every index cell (what a checkpoint of the whole world holds besides its records)."""
        keys = {META_CELL, LETTERS_CELL, INVOICES_CELL, CASES_CELL}
        keys.update(
            catalogue_cell(serial) for serial in range(0, len(self._created), CATALOGUE_BLOCK)
        )
        keys.update(
            team_cell(kind, team) for kind, teams in self._by_team.items() for team in teams
        )
        keys.update(children_cell(parent) for parent in self._children)
        found = {key: self._cell(key) for key in keys}
        return {key: value for key, value in found.items() if value is not None}

    def records(self) -> Iterator[tuple[UUID, tuple[Any, int]]]:
        """Every record with its id and the position of the last event folded into it, in
        creation order (loading each)."""
        for key in sorted(self._class_of, key=self._created.__getitem__):
            yield key, (self._load(key), self._folded_at[key])

    def saved(self) -> None:
        """The changes were written: forget them, and let the cache shrink back."""
        self._dirty.clear()
        self._dirty_cells.clear()
        self._trim()

    def _load(self, key: UUID) -> Any:
        record = self._records.get(key)
        if record is not None:
            self._records.move_to_end(key)
            return record
        if self._backing is None or key not in self._class_of:
            return None
        found = self._backing.record(key)
        if found is None:
            return None
        record, folded_at = found
        if self.admits is not None and not self.admits(folded_at):
            msg = (
                f"the policies' state holds record {key} as of position {folded_at}, past what "
                "this engine has settled: another engine is further on"
            )
            raise StateAhead(msg)
        self._records[key] = record
        self._folded_at[key] = folded_at
        return record

    def _trim(self) -> None:
        """Unload the least recently used records beyond the cache's size (never a changed
        one: it is kept until a checkpoint holds it). Only between decisions, so that the
        records a question found stay the same objects while it is answered."""
        if self._backing is None:
            return
        while len(self._records) > self._cache_size + len(self._dirty):
            for key in self._records:
                if key not in self._dirty:
                    del self._records[key]
                    del self._folded_at[key]
                    break
            else:
                return

    def _cell(self, key: str) -> Any:
        """The index cell ``key`` as stored: plain lists of ids, moments and numbers."""
        kind, _, rest = key.partition(":")[2].partition(":")
        if key == META_CELL:
            return {"position": self.position, "now": self.now}
        if key == LETTERS_CELL:
            return [[letter, cause] for letter, cause in self._letters.items()]
        if key == INVOICES_CELL:
            return [[a, i, due] for (a, i), due in self._invoices.items()]
        if key == CASES_CELL:
            # Buckets in one order whatever order they were first filled in (a restored world
            # holds only the non-empty ones); each bucket's items in its own order.
            buckets = sorted(self._cases.items(), key=lambda pair: bucket_order(pair[0]))
            return [
                [*bucket, a, c, opened]
                for bucket, listed in buckets
                for (a, c), opened in listed.items()
            ]
        if kind == "catalogue":
            low = int(rest) * CATALOGUE_BLOCK
            block = [
                [key, topic_of(self._class_of[key]), serial]
                for key, serial in self._created.items()
                if low <= serial < low + CATALOGUE_BLOCK and key in self._class_of
            ]
            return block or None
        if kind == "team":
            kind_name, _, team = rest.partition(":")
            members = self._by_team[LISTED_BY_NAME[kind_name]].get(UUID(team))
            return list(members) if members else None
        if kind == "children":
            children = self._children.get(UUID(rest))
            return list(children) if children else None
        msg = f"no index cell {key!r}"
        raise KeyError(msg)

    def _restore(self, cells: Mapping[str, Any]) -> None:
        meta = cells.get(META_CELL)
        if meta is not None:
            self.position = int(meta["position"])
            self.now = meta["now"]
        catalogue = [
            row for key, rows in cells.items() if key.startswith(CATALOGUE_CELLS) for row in rows
        ]
        for key, topic, serial in sorted(catalogue, key=lambda row: int(row[2])):
            cls = record_class(topic)
            self._created[key] = int(serial)
            self._class_of[key] = cls
            self._by_class.setdefault(cls, {})[key] = None
        for key, members in cells.items():
            if key.startswith((TEAM_CELLS, CHILDREN_CELLS)):
                unknown = [member for member in members if member not in self._created]
                if unknown:
                    msg = f"the policies' state: {key} lists {unknown[0]}, not in its catalogue"
                    raise StoreUnreadable(msg)
            if key.startswith(TEAM_CELLS):
                kind_name, _, team = key[len(TEAM_CELLS) :].partition(":")
                kind = LISTED_BY_NAME[kind_name]
                self._by_team[kind][UUID(team)] = dict.fromkeys(members)
                for member in members:
                    self._listed[member] = (kind, UUID(team))
            elif key.startswith(CHILDREN_CELLS):
                parent = UUID(key[len(CHILDREN_CELLS) :])
                self._children[parent] = dict.fromkeys(members)
                for member in members:
                    self._parent[member] = parent
        for account, invoice, due in cells.get(INVOICES_CELL, ()):
            self._invoices.put((account, invoice), due)
        for unacknowledged, severity, level, account, case, opened in cells.get(CASES_CELL, ()):
            bucket = (bool(unacknowledged), Severity(severity), int(level))
            self._case_bucket[(account, case)] = bucket
            self._cases.setdefault(bucket, ByMoment()).put((account, case), opened)
        for letter, cause in cells.get(LETTERS_CELL, ()):
            self._letters[letter] = int(cause)

    # -- lookups -------------------------------------------------------------------------------

    def get(self, record_id: UUID, cls: type[A]) -> A | None:
        known = self._class_of.get(record_id)
        if known is None or not issubclass(known, cls):
            return None
        record = self._load(record_id)
        return record if isinstance(record, cls) else None

    def all(self, cls: type[A]) -> Iterator[A]:
        """Records of ``cls`` in the order they were created."""
        groups = [group for kind, group in self._by_class.items() if issubclass(kind, cls)]
        if len(groups) == 1:
            keys = list(groups[0])
        else:
            keys = sorted((k for group in groups for k in group), key=self._created.__getitem__)
        return iter([self._load(key) for key in keys])

    def letters(self) -> list[UUID]:
        """The ids of the parked events folded, by the position of their causes."""
        return sorted(self._letters, key=self._letters.__getitem__)

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
            found: Iterable[Target] = [self._load(key) for key in self._children.get(parent_id, ())]
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
                if self._invoices.put((key, invoice_id), due):
                    self._dirty_cells.add(INVOICES_CELL)
            case_id = getattr(event, "case_id", None)
            if case_id is not None:
                self._recase(key, case_id, record.cases.get(case_id))

    def _relist(self, key: UUID, listed: tuple[type, UUID] | None) -> None:
        before = self._listed.pop(key, None)
        if before is not None:
            del self._by_team[before[0]][before[1]][key]
            self._dirty_cells.add(team_cell(*before))
        if listed is None:
            return
        self._listed[key] = listed
        self._insert(self._by_team[listed[0]].setdefault(listed[1], {}), key)
        self._dirty_cells.add(team_cell(*listed))

    def _reparent(self, key: UUID, parent_id: UUID | None) -> None:
        before = self._parent.pop(key, None)
        if before is not None:
            del self._children[before][key]
            self._dirty_cells.add(children_cell(before))
        if parent_id is not None:
            self._parent[key] = parent_id
            self._insert(self._children.setdefault(parent_id, {}), key)
            self._dirty_cells.add(children_cell(parent_id))

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
        self._dirty_cells.add(CASES_CELL)
        before = self._case_bucket.pop(item, None)
        if before is not None:
            self._cases[before].put(item, None)
        if case is None or not case.is_open:
            return
        bucket = (case.status is CaseStatus.OPEN, case.severity, case.escalation_level)
        self._case_bucket[item] = bucket
        if bucket not in self._cases:
            self._cases[bucket] = ByMoment()
        self._cases[bucket].put(item, case.opened_at)

    def _of_team(self, kind: type[A], team_id: UUID) -> list[A]:
        return [self._load(key) for key in self._by_team[kind].get(team_id, ())]

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
                and found[end][0].id == account.id
                and moment(found[end][1]) == moment(first)
            ):
                end += 1
            if end - start > 1:
                place = {id(item): n for n, item in enumerate(items(account).values())}
                found[start:end] = sorted(found[start:end], key=lambda pair: place[id(pair[1])])
            start = end
        return found


def _unpaid(invoice: AccountInvoice) -> bool:
    return invoice.overdue_flagged_at is None and not invoice.open_balance.is_zero


def _issued_at(invoice: AccountInvoice) -> datetime:
    return invoice.issued_at


def _opened_at(case: ClientCase) -> datetime:
    return case.opened_at
