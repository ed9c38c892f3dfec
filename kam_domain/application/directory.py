"""The directory: which teams, accounts, projects and targets exist, and account names.

An event-sourced index the facade keeps beside the four aggregates and saves in the same
transaction as whatever it registers, so it never lists something that was not recorded.
It makes account names unique (an auditor names accounts, not UUIDs) and lets the facade list
without scanning the whole log.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

import attrs

from kam_domain.aggregates.base import KamAggregate, Meta
from kam_domain.errors import AlreadyExists
from kam_domain.transcoding import IdMap, transcoded

__all__ = ["DIRECTORY_ID", "Directory", "Entry"]

DIRECTORY_ID = uuid5(UUID("6f1c1d0e-5d55-4a55-9a52-6b616d2d6469"), "directory")


@transcoded
@attrs.frozen
class Entry:
    """One listed record: its kind, display name and the team (and account) it belongs to."""

    kind: str
    name: str
    team_id: UUID
    account_id: UUID | None = None


def _key(name: str) -> str:
    return " ".join(name.casefold().split())


class Directory(KamAggregate):
    """Every listed record by id, and account ids by normalised name."""

    class Opened(KamAggregate.Created):
        pass

    class Listed(KamAggregate.Event):
        record_id: UUID
        entry: Entry

        def apply(self, directory: Directory) -> None:
            directory.entries[self.record_id] = self.entry
            if self.entry.kind == "account":
                directory.account_names[_key(self.entry.name)] = self.record_id

    def __init__(self) -> None:
        self.entries: IdMap[UUID, Entry] = IdMap()
        self.account_names: dict[str, UUID] = {}

    @classmethod
    def open(cls, meta: Meta) -> Directory:
        return cls._start(cls.Opened, meta, DIRECTORY_ID)

    def add(self, meta: Meta, record_id: UUID, entry: Entry) -> None:
        """List a new record; an account's name must not be taken (case and spaces ignored)."""
        if record_id in self.entries:
            raise AlreadyExists(f"{entry.kind}_id: {record_id} already exists")
        if entry.kind == "account" and _key(entry.name) in self.account_names:
            raise AlreadyExists(f"name: an account named {entry.name!r} already exists")
        # The directory is an index, not a history: backdated records are listed in log order.
        stamp = attrs.evolve(meta, at=max(meta.at, self.modified_on))
        self._record(self.Listed, stamp, record_id=record_id, entry=entry)

    def account_named(self, name: str) -> UUID | None:
        return self.account_names.get(_key(name))

    def ids(self, kind: str, **where: Any) -> list[UUID]:
        """Ids of ``kind`` in listing order, filtered by Entry fields (``team_id=…``)."""
        return [
            record_id
            for record_id, entry in self.entries.items()
            if entry.kind == kind and all(getattr(entry, k) == v for k, v in where.items())
        ]
