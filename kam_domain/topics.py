"""The event types the library writes, by stored topic: the only ones its readers decode.

eventsourcing turns a stored topic (``module:Class``) into a class with ``resolve_topic``,
which imports whatever module the topic names. A row written behind the library's back could
therefore make an auditor's ``kam audit export`` import any module on the machine (and run
its import-time code). Readers consult this registry first: a topic it does not hold is
refused as tampering (:class:`~kam_domain.errors.UnregisteredTopic`), before anything is
imported. The aggregate topics that ``Created`` events and snapshots name in their bodies
(which eventsourcing resolves the same way) are checked against it too.

The registry holds every event and snapshot class of the library's aggregates, and those of
aggregates a host or another package adds: with :func:`register_aggregate` in code, or under
the entry-point group ``kam_domain.aggregates`` (installed packages are trusted code; stored
rows are not).

Topics are stored forever, so they stay stable across renames: an event class keeps the module
and qualified name its topic names (the aggregates define their events where their topics say;
see :class:`~kam_domain.aggregates.base.CommandFamily`). A class that must move or be renamed
after events were stored under its topic registers the old topic with :func:`renamed`, so old
rows still resolve, to the class as it is now, and are still decoded.
"""

from __future__ import annotations

import importlib
import threading
from importlib.metadata import entry_points
from typing import Any

from eventsourcing.domain import BaseAggregate, DomainEvent
from eventsourcing.utils import get_topic, register_topic

__all__ = [
    "ENTRY_POINT_GROUP",
    "LIBRARY_AGGREGATES",
    "aggregate_topics",
    "event_topics",
    "is_aggregate_topic",
    "is_event_topic",
    "register_aggregate",
    "renamed",
]

ENTRY_POINT_GROUP = "kam_domain.aggregates"

#: Every aggregate class whose events the library records, by import path.
LIBRARY_AGGREGATES: tuple[str, ...] = (
    "kam_domain.aggregates.team:Team",
    "kam_domain.aggregates.client_account:ClientAccount",
    "kam_domain.aggregates.project:Project",
    "kam_domain.aggregates.target:Target",
    "kam_domain.aggregates.opportunity:Opportunity",
    "kam_domain.aggregates.opportunity.settings:PipelineSettings",
    "kam_domain.application.directory:Directory",
    "kam_domain.policies.records:PolicyDecision",
    "kam_domain.policies.records:DeadLetter",
    "kam_domain.policies.records:PolicySettings",
    "kam_domain.policies.records:Clock",
    "kam_domain.application.store_settings:StoreSettings",
)

_lock = threading.Lock()
_aggregates: set[str] = set()
_events: set[str] = set()
_loaded = False
#: Old topics registered with :func:`renamed`, and the classes they name now.
_renamed: dict[str, type[Any]] = {}


def register_aggregate(cls: type[Any]) -> type[Any]:
    """Let the library's readers decode ``cls``'s events and snapshots (usable as a decorator).

    For a host's own aggregate saved through the application; the library's own are known.
    """
    if not (isinstance(cls, type) and issubclass(cls, BaseAggregate)):
        msg = f"{cls!r} is not an eventsourcing aggregate class"
        raise TypeError(msg)
    _load()
    with _lock:
        _add(cls)
    return cls


def renamed(old_topic: str, cls: type[Any]) -> type[Any]:
    """Let rows stored under ``old_topic`` resolve to ``cls``, an event, snapshot or aggregate
    class that moved or was renamed; returns ``cls``. New rows name ``cls``'s own topic."""
    if not (isinstance(cls, type) and issubclass(cls, DomainEvent | BaseAggregate)):
        msg = f"{cls!r} is neither an event nor an aggregate class"
        raise TypeError(msg)
    register_topic(old_topic, cls)
    with _lock:
        _renamed[old_topic] = cls
        if _loaded:
            _add_renamed(old_topic, cls)
    return cls


def is_event_topic(topic: object) -> bool:
    """Whether ``topic`` names an event (or snapshot) class the library's readers decode."""
    _load()
    return isinstance(topic, str) and topic in _events


def is_aggregate_topic(topic: object) -> bool:
    """Whether ``topic`` names an aggregate class a ``Created`` event or snapshot may name."""
    _load()
    return isinstance(topic, str) and topic in _aggregates


def event_topics() -> frozenset[str]:
    """Every registered event and snapshot topic."""
    _load()
    return frozenset(_events)


def aggregate_topics() -> frozenset[str]:
    """Every registered aggregate topic."""
    _load()
    return frozenset(_aggregates)


def _load() -> None:
    global _loaded
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        # Imported here, not at the top: the aggregates' modules import the transcoding
        # module, whose mapper reads this registry.
        for path in LIBRARY_AGGREGATES:
            _add(_import(path))
        # The library's snapshots of every record (eventsourcing's, sealed with their record).
        _events.add(get_topic(_import("kam_domain.application.snapshots:SealedSnapshot")))
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            _add(entry.load())
        for old_topic, cls in _renamed.items():
            _add_renamed(old_topic, cls)
        _loaded = True


def _import(path: str) -> type[Any]:
    module_name, _, attribute = path.partition(":")
    found: type[Any] = getattr(importlib.import_module(module_name), attribute)
    return found


def _add(cls: type[Any]) -> None:
    _aggregates.add(get_topic(cls))
    for name in dir(cls):
        member = getattr(cls, name, None)
        if isinstance(member, type) and issubclass(member, DomainEvent):
            _events.add(get_topic(member))


def _add_renamed(old_topic: str, cls: type[Any]) -> None:
    if issubclass(cls, BaseAggregate):
        _aggregates.add(old_topic)
    else:
        _events.add(old_topic)
