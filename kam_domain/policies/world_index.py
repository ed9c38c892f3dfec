"""The world's index cells, and the pieces its indexes and folding share.

A backed world (:mod:`kam_domain.policies.world`) keeps its indexes in *cells* of the engine's
state, each named here: the catalogue of records in blocks of creation order, each team's
accounts, projects and targets, each target's children, open invoices and unresolved cases
(by the moment they are ordered by), parked events' ids, and the world's own position.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic, resolve_topic

from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.aggregates.project import Project
from kam_domain.aggregates.target import Target
from kam_domain.errors import UnregisteredTopic
from kam_domain.topics import is_aggregate_topic
from kam_domain.values import Severity

__all__ = [
    "CASES_CELL",
    "CATALOGUE_BLOCK",
    "CATALOGUE_CELLS",
    "CHILDREN_CELLS",
    "INVOICES_CELL",
    "LETTERS_CELL",
    "LISTED",
    "LISTED_BY_NAME",
    "META_CELL",
    "TEAM_CELLS",
    "ByMoment",
    "bucket_order",
    "catalogue_cell",
    "children_cell",
    "listed_kind",
    "mutated",
    "record_class",
    "team_cell",
    "topic_of",
]

#: The kinds of record listed per team.
LISTED = (ClientAccount, Project, Target)
#: Records of the catalogue per index cell (a cell of creation order changes only while new
#: records are being created in its block).
CATALOGUE_BLOCK = 512


class ByMoment:
    """Items (account id, item id) sorted by a moment, for range queries "before a moment"."""

    def __init__(self) -> None:
        # Entries are (moment, serial number): ties compare the numbers, never the ids.
        self._entries: list[tuple[datetime, int]] = []
        self._items: dict[int, tuple[UUID, UUID]] = {}
        self._listed: dict[tuple[UUID, UUID], tuple[datetime, int]] = {}
        self._serial = 0

    def put(self, item: tuple[UUID, UUID], moment: datetime | None) -> bool:
        """List ``item`` at ``moment``, or nowhere when None; says whether that changed."""
        before = self._listed.get(item)
        if before is None and moment is None:
            return False
        if before is not None:
            if before[0] == moment:
                return False
            del self._entries[bisect_left(self._entries, before)]
            del self._items[before[1]]
            del self._listed[item]
        if moment is not None:
            self._serial += 1
            entry = (moment, self._serial)
            insort(self._entries, entry)
            self._items[self._serial] = item
            self._listed[item] = entry
        return True

    def items(self) -> list[tuple[tuple[UUID, UUID], datetime]]:
        """Every item with its moment, earliest first (ties in the order they were listed)."""
        return [(self._items[serial], moment) for moment, serial in self._entries]

    def before(self, moment: datetime) -> list[tuple[UUID, UUID]]:
        """The items listed strictly before ``moment``, earliest first."""
        entries = self._entries[: bisect_left(self._entries, (moment,))]
        return [self._items[serial] for _, serial in entries]

    def __len__(self) -> int:
        return len(self._entries)


META_CELL = "x:meta"
LETTERS_CELL = "x:letters"
INVOICES_CELL = "x:invoices"
CASES_CELL = "x:cases"
CATALOGUE_CELLS = "x:catalogue:"
TEAM_CELLS = "x:team:"
CHILDREN_CELLS = "x:children:"
LISTED_BY_NAME = {kind.__name__: kind for kind in LISTED}


def bucket_order(bucket: tuple[bool, Severity, int]) -> tuple[bool, str, int]:
    unacknowledged, severity, level = bucket
    return unacknowledged, severity.value, level


def catalogue_cell(serial: int) -> str:
    return f"{CATALOGUE_CELLS}{serial // CATALOGUE_BLOCK}"


def team_cell(kind: type, team_id: UUID) -> str:
    return f"{TEAM_CELLS}{kind.__name__}:{team_id}"


def children_cell(parent_id: UUID) -> str:
    return f"{CHILDREN_CELLS}{parent_id}"


def topic_of(cls: type) -> str:
    return get_topic(cls)


def record_class(topic: str) -> type:
    """The record class a catalogue cell names: only a registered one (a topic is an import)."""
    if not is_aggregate_topic(topic):
        raise UnregisteredTopic("the policies' state", topic, "a record type")
    cls: type = resolve_topic(topic)
    return cls


def mutated(event: Any, record: Any) -> Any:
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


def listed_kind(cls: type) -> type | None:
    """The kind of record, among those listed per team, that ``cls`` is (None: none)."""
    if cls not in _KINDS:
        _KINDS[cls] = next((kind for kind in LISTED if issubclass(cls, kind)), None)
    return _KINDS[cls]


#: Worked out once per class: the world asks at every event it folds.
_KINDS: dict[type, type | None] = {}
