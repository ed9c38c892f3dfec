"""The directories: which teams, accounts, projects and targets exist, and account names.

Event-sourced indexes the facade keeps beside the four aggregates and saves in the same
transaction as whatever it registers, so they never list something that was not recorded.
They make account names unique (an auditor names accounts, not UUIDs) and let the facade list
without scanning the whole log.

No directory grows with the whole store, so none costs more to load as the store grows:

- the store's directory (:data:`DIRECTORY_ID`) lists the teams;
- each team's directory (:func:`team_directory_id`) lists its accounts, projects and targets;
- each account name has a directory of its own (:func:`name_directory_id`) holding the one
  account of that name: the store refuses a second stream at the same id, so two writers
  cannot both take a name.

Stores written before directories were per team list everything in the store's directory:
:class:`Listing` reads those entries beside the per-team ones, and names taken there stay
taken. The three kinds are one aggregate class, so their stored events are the ones the store
already holds.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

import attrs

from kam_domain.aggregates.base import KamAggregate, Meta
from kam_domain.errors import AlreadyExists
from kam_domain.transcoding import IdMap, transcoded

__all__ = [
    "DIRECTORY_ID",
    "Directory",
    "Entry",
    "Listing",
    "name_directory_id",
    "name_key",
    "team_directory_id",
]

_NAMESPACE = UUID("6f1c1d0e-5d55-4a55-9a52-6b616d2d6469")
DIRECTORY_ID = uuid5(_NAMESPACE, "directory")


@transcoded
@attrs.frozen
class Entry:
    """One listed record: its kind, display name and the team (and account) it belongs to."""

    kind: str
    name: str
    team_id: UUID
    account_id: UUID | None = None


def name_key(name: str) -> str:
    """A name as compared for uniqueness: case and runs of spaces ignored."""
    return " ".join(name.casefold().split())


def team_directory_id(team_id: UUID) -> UUID:
    """The id of the directory of one team's accounts, projects and targets."""
    return uuid5(_NAMESPACE, f"team:{team_id}")


def name_directory_id(name: str) -> UUID:
    """The id of the directory that holds the one account called ``name``."""
    return uuid5(_NAMESPACE, f"account-name:{name_key(name)}")


class Directory(KamAggregate):
    """Listed records by id, and account ids by normalised name."""

    class Opened(KamAggregate.Created):
        pass

    class Listed(KamAggregate.Event):
        record_id: UUID
        entry: Entry

        def apply(self, directory: Directory) -> None:
            directory.hold(self.record_id, self.entry)

    class OpenedWith(KamAggregate.Created):
        """Opened listing its first record (an account name's directory lists only that)."""

        record_id: UUID
        entry: Entry

        def apply(self, directory: Directory) -> None:
            directory.hold(self.record_id, self.entry)

    def __init__(self) -> None:
        self.entries: IdMap[UUID, Entry] = IdMap()
        self.account_names: dict[str, UUID] = {}

    @classmethod
    def open(cls, meta: Meta, directory_id: UUID = DIRECTORY_ID) -> Directory:
        return cls._start(cls.Opened, meta, directory_id)

    @classmethod
    def open_with(cls, meta: Meta, directory_id: UUID, record_id: UUID, entry: Entry) -> Directory:
        """A new directory listing ``record_id`` first (one event rather than two)."""
        return cls._start(cls.OpenedWith, meta, directory_id, record_id=record_id, entry=entry)

    def hold(self, record_id: UUID, entry: Entry) -> None:
        self.entries[record_id] = entry
        if entry.kind == "account":
            self.account_names[name_key(entry.name)] = record_id

    def add(self, meta: Meta, record_id: UUID, entry: Entry) -> None:
        """List a new record; an account's name must not be taken (case and spaces ignored)."""
        if record_id in self.entries:
            raise AlreadyExists(f"{entry.kind}_id: {record_id} already exists")
        if entry.kind == "account" and name_key(entry.name) in self.account_names:
            raise AlreadyExists(f"name: an account named {entry.name!r} already exists")
        # The directory is an index, not a history: backdated records are listed in log order.
        stamp = attrs.evolve(meta, at=max(meta.at, self.modified_on))
        self._record(self.Listed, stamp, record_id=record_id, entry=entry)

    def account_named(self, name: str) -> UUID | None:
        return self.account_names.get(name_key(name))

    def ids(self, kind: str, **where: Any) -> list[UUID]:
        """Ids of ``kind`` in listing order, filtered by Entry fields (``team_id=…``)."""
        return [
            record_id
            for record_id, entry in self.entries.items()
            if entry.kind == kind and all(getattr(entry, k) == v for k, v in where.items())
        ]


@attrs.frozen
class Listing:
    """The entries of several directories read as one, in the order each listed them."""

    directories: tuple[Directory, ...]

    def ids(self, kind: str, **where: Any) -> list[UUID]:
        """Ids of ``kind``, filtered by Entry fields (``team_id=…``), without repeats."""
        seen: dict[UUID, None] = {}
        for directory in self.directories:
            seen.update(dict.fromkeys(directory.ids(kind, **where)))
        return list(seen)

    def entries(self, kind: str, **where: Any) -> list[tuple[UUID, Entry]]:
        """The ids and entries of ``kind`` (filtered as :meth:`ids` filters)."""
        return [
            (record_id, entry)
            for record_id in self.ids(kind, **where)
            if (entry := self.entry(record_id)) is not None
        ]

    def entry(self, record_id: UUID) -> Entry | None:
        """The entry listing ``record_id``, if any directory lists it."""
        for directory in self.directories:
            found = directory.entries.get(record_id)
            if found is not None:
                return found
        return None

    def named(self, kind: str, name: str, **where: Any) -> bool:
        """Whether an entry of ``kind`` (matching ``where``) already has ``name``."""
        key = name_key(name)
        return any(name_key(entry.name) == key for _, entry in self.entries(kind, **where))
