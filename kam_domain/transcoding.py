"""How the library's own types are written into stored events and snapshots.

eventsourcing's JSON transcoder knows UUID, Decimal and datetime. The library adds, generically:
attrs value classes and enums marked with :func:`transcoded`, frozensets and :class:`IdMap`
(a mapping keyed by ids, which JSON objects cannot be). The name written into the store is the
class's name when it was first stored, and stays that: a renamed class keeps it with
``transcoded(Renamed, name="OldName")``, never an edit of old events (the stored-shape record
in the tests names every stored name and its class, and fails on a rename that loses one). JSON
has no tuples: the events' base class restores the tuples events declare; attrs values use
converters.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Iterator, MutableMapping
from typing import Any, TypeVar
from uuid import UUID

import attrs
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import (
    JSONTranscoder,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoding,
)

from kam_domain.errors import (
    CipherKeyNotInRing,
    StoreUnreadable,
    UnregisteredTopic,
    ValidationError,
)
from kam_domain.topics import is_aggregate_topic, is_event_topic

__all__ = [
    "EventMapper",
    "IdMap",
    "register_transcodings",
    "restore_tuples",
    "shares_copies",
    "stored_names",
    "transcoded",
    "transcoded_classes",
]

T = TypeVar("T", bound=type)
K = TypeVar("K")
V = TypeVar("V")

_registry: dict[str, type] = {}


def transcoded(cls: T, *, name: str | None = None) -> T:
    """Mark a frozen attrs class or an Enum as storable in events; returns the class.

    ``name``: the name its values are stored under, by default the class's own; a class
    renamed after its values were stored passes its old name, which stored values carry.

    What an event holds never changes, so copies share it: a deep copy of an aggregate (the
    aggregate cache hands out copies) copies its containers, not the values in them.
    """
    stored = cls.__name__ if name is None else name
    if not (attrs.has(cls) or issubclass(cls, enum.Enum)):
        msg = f"{cls.__qualname__} is neither an attrs class nor an Enum"
        raise TypeError(msg)
    if attrs.has(cls):
        if cls.__setattr__ is object.__setattr__:
            msg = f"{cls.__qualname__} must be frozen: stored values never change"
            raise TypeError(msg)
        if "__deepcopy__" not in cls.__dict__:
            cls.__deepcopy__ = _itself  # type: ignore[attr-defined]
            cls.__copy__ = _itself  # type: ignore[attr-defined]
    for named, other in _registry.items():
        if other is cls and named != stored:
            msg = f"{cls.__qualname__} is already stored as {named!r}, not {stored!r}"
            raise TypeError(msg)
    known = _registry.get(stored)
    if known is not None and known is not cls:
        msg = f"two transcoded classes are stored as {stored!r}: {known} and {cls}"
        raise TypeError(msg)
    _registry[stored] = cls
    return cls


def _itself(value: Any, memo: object = None) -> Any:
    return value


def shares_copies(cls: type) -> bool:
    """Whether copies of ``cls``'s values are the values themselves (see :func:`transcoded`)."""
    return getattr(cls, "__deepcopy__", None) is _itself


class IdMap(MutableMapping[K, V]):
    """A dict keyed by ids (UUIDs) that survives JSON, for aggregate state that snapshots hold."""

    __slots__ = ("_items",)

    def __init__(self, items: dict[K, V] | None = None) -> None:
        self._items: dict[K, V] = dict(items or {})

    def __getitem__(self, key: K) -> V:
        return self._items[key]

    def __setitem__(self, key: K, value: V) -> None:
        self._items[key] = value

    def __delitem__(self, key: K) -> None:
        del self._items[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, IdMap):
            return self._items == other._items
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"IdMap({self._items!r})"

    def __deepcopy__(self, memo: dict[int, Any]) -> IdMap[K, V]:
        # Keys are ids, which never change: only the values need copying (and the transcoded
        # values they usually are copy as themselves).
        return IdMap({key: copy.deepcopy(value, memo) for key, value in self._items.items()})


class _AttrsAsDict(Transcoding):
    def __init__(self, cls: type, name: str) -> None:
        self.type = cls
        self.name = name
        self._fields = [a.name for a in attrs.fields(cls)]

    def encode(self, obj: Any) -> dict[str, Any]:
        return {name: getattr(obj, name) for name in self._fields}

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**data)


class _EnumAsValue(Transcoding):
    def __init__(self, cls: type[enum.Enum], name: str) -> None:
        self.type = cls
        self.name = name
        self._cls = cls
        #: Members by value: what ``cls(value)`` looks in first (the event codec's shortcut).
        self.members: dict[Any, enum.Enum] = cls._value2member_map_

    def encode(self, obj: enum.Enum) -> Any:
        return obj.value

    def decode(self, data: Any) -> enum.Enum:
        return self._cls(data)


class _FrozensetAsList(Transcoding):
    type = frozenset
    name = "frozenset"

    def encode(self, obj: frozenset[Any]) -> list[Any]:
        # Sorted so that equal sets are stored as equal bytes.
        return sorted(obj, key=repr)

    def decode(self, data: list[Any]) -> frozenset[Any]:
        return frozenset(data)


class _IdMapAsPairs(Transcoding):
    type = IdMap
    name = "idmap"

    def encode(self, obj: IdMap[Any, Any]) -> list[list[Any]]:
        return [[key, value] for key, value in obj.items()]

    def decode(self, data: list[list[Any]]) -> IdMap[Any, Any]:
        return IdMap(dict(data))


def restore_tuples(value: Any) -> Any:
    """Lists (and lists within them) as tuples: what JSON turned tuples into."""
    if isinstance(value, list):
        return tuple(restore_tuples(item) for item in value)
    return value


class EventMapper(Mapper[UUID]):
    """eventsourcing's mapper, decoding only the registered event types (see
    :mod:`kam_domain.topics`) and giving back the tuples that events declared.

    A stored value the library's types refuse (an amount beyond the bounds, say: see
    :mod:`kam_domain.bounds`) is reported as :class:`~kam_domain.errors.StoreUnreadable`,
    naming the record, version and event, instead of surfacing from deep inside a report.
    """

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        # Checked before eventsourcing resolves the topic, which would import its module.
        if not is_event_topic(stored_event.topic):
            raise UnregisteredTopic(_where(stored_event), stored_event.topic)
        try:
            event = super().to_domain_event(stored_event)
        except (ValidationError, MapperDeserialisationError) as error:
            if isinstance(error.__cause__, CipherKeyNotInRing):
                missing = error.__cause__
                msg = f"{missing} ({_where(stored_event)})"
                raise CipherKeyNotInRing(msg, missing.key_id) from None
            refused = error.__cause__ if isinstance(error.__cause__, ValidationError) else None
            if not isinstance(error, ValidationError) and refused is None:
                raise
            event_name = stored_event.topic.rpartition(":")[2]
            msg = (
                f"store: record {stored_event.originator_id} version"
                f" {stored_event.originator_version} ({event_name}) holds a value the library"
                f" refuses: {refused or error}"
            )
            raise StoreUnreadable(msg) from error
        state = event.__dict__
        # A Created event names its aggregate's class, a snapshot its record's class, and
        # eventsourcing resolves those topics when the record is rebuilt.
        named = state.get("topic") if isinstance(event, Snapshot) else state.get("originator_topic")
        if named is not None and not is_aggregate_topic(named):
            raise UnregisteredTopic(_where(stored_event), str(named), "a record type")
        for name, value in state.items():
            if isinstance(value, list):
                state[name] = restore_tuples(value)
        return event


def _where(stored_event: StoredEvent) -> str:
    """The stored event's position when it was read from the log, else its record and version."""
    position = getattr(stored_event, "id", None)
    if isinstance(position, int):
        return f"position {position}"
    return f"record {stored_event.originator_id} version {stored_event.originator_version}"


def transcoded_classes() -> list[type]:
    """Every class marked with :func:`transcoded` so far."""
    return list(_registry.values())


def stored_names() -> dict[str, type]:
    """Every class marked with :func:`transcoded` so far, by the name its values are stored as."""
    return dict(_registry)


def register_transcodings(transcoder: JSONTranscoder) -> None:
    """Register every type the library stores, on top of eventsourcing's defaults."""
    transcoder.register(_FrozensetAsList())
    transcoder.register(_IdMapAsPairs())
    for name, cls in _registry.items():
        if issubclass(cls, enum.Enum):
            transcoder.register(_EnumAsValue(cls, name))
        else:
            transcoder.register(_AttrsAsDict(cls, name))
