"""What the audit reports share: opening a store to read, decoding events, plain values.

:func:`open_app` opens the facade on a store for reading only (nothing created, upgraded or
decided). :func:`jsonable` turns event fields into JSON- and CSV-friendly values, and
:func:`describe` takes an event apart into what every audit line shows.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs

from kam_domain.values import Actor, ActorKind, Percentage, Period

__all__ = ["EVENT_METADATA", "Described", "describe", "jsonable", "open_app", "policy_of"]

#: Attributes of every stored event that audit lines show in their own columns.
EVENT_METADATA = frozenset(
    {
        "originator_id",
        "originator_version",
        "originator_topic",
        "timestamp",
        "actor",
        "correlation_id",
        "causation_id",
    }
)

# Value objects whose text form is what an auditor reads and writes ("5%", "2026-Q1").
_AS_TEXT = (Actor, Percentage, Period)


@contextmanager
def open_app(store: str | None = None, *, policies: Any = None) -> Iterator[Any]:
    """The facade on ``store``, opened read-only: nothing is created, upgraded or written (a
    missing store raises StoreNotFound, a foreign database NotAKamStore), no policy runs (a
    query must not record decisions), and records are replayed from their events, never
    loaded from snapshots (a cache the hash chain does not cover). Its ``recorder``,
    ``mapper`` and ``replay`` serve the readers; ``policies``: the registry replay uses."""
    from kam_domain.application import KamApplication

    reading = {"IS_SNAPSHOTTING_ENABLED": "no"}
    app = KamApplication(store, env=reading, run_policies=False, read_only=True, policies=policies)
    try:
        yield app
    finally:
        app.close()


@attrs.frozen
class Described:
    """An event taken apart: its name, metadata and own fields (as plain values)."""

    event: str
    record_id: UUID
    version: int
    at: datetime
    actor: Actor | None
    causation_id: UUID | None
    correlation_id: UUID | None
    fields: dict[str, Any]


def describe(event: Any) -> Described:
    """The parts of a domain event that audit lines show."""
    names = [f.name for f in dataclasses.fields(event)] if dataclasses.is_dataclass(event) else []
    own = {name: jsonable(getattr(event, name)) for name in names if name not in EVENT_METADATA}
    actor = getattr(event, "actor", None)
    return Described(
        event=type(event).__qualname__,
        record_id=event.originator_id,
        version=event.originator_version,
        at=event.timestamp,
        actor=actor if isinstance(actor, Actor) else None,
        causation_id=getattr(event, "causation_id", None),
        correlation_id=getattr(event, "correlation_id", None),
        fields=own,
    )


def policy_of(actor: Actor | None) -> tuple[str, str] | None:
    """A policy actor's name and version (``name@version``); None for anyone else."""
    if actor is None or actor.kind is not ActorKind.POLICY:
        return None
    name, _, version = actor.ref.rpartition("@")
    return (name, version) if name else (actor.ref, "")


def jsonable(value: Any) -> Any:
    """``value`` as JSON can hold it: text for ids, times, decimals; lists; string keys."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, _AS_TEXT):
        return str(value)
    if attrs.has(type(value)):
        return {f.name: jsonable(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(item) for item in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return str(value)


def mentions(value: Any, wanted: UUID) -> bool:
    """Whether ``wanted`` appears anywhere in ``value`` (an event field)."""
    if isinstance(value, UUID):
        return value == wanted
    if isinstance(value, str):
        return value == str(wanted)
    if isinstance(value, Actor):
        return value.member_id == wanted
    if attrs.has(type(value)):
        return any(mentions(getattr(value, f.name), wanted) for f in attrs.fields(type(value)))
    if isinstance(value, Mapping):
        return any(mentions(k, wanted) or mentions(v, wanted) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(mentions(item, wanted) for item in value)
    return False
