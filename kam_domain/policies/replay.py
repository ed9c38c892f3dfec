"""Replay: re-run policies over the recorded log and compare with the decisions it records.

Nothing is written. The log is read twice, in pages: first the decision and dead-letter records
(what was decided, by which version, on which basis), then every event in order, folded into a
fresh :class:`World` while fresh policy instances ``learn`` it and decide again at the same
points — the cause's position, or for a retried dead letter the position it was retried at.

- A plain replay uses, for each decision, the version that recorded it (and for events nothing
  was recorded about, the version active then): every difference is a divergence — a policy
  changed behaviour under the same version, or the log was altered.
- ``versions={"assignment": 2}`` replays a named version instead.
- A what-if run (``what_if={"assignment": 2}``) asks a candidate version the same questions and
  lists where it would have decided differently; those differences are its answer, not errors.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.utils import get_topic

from kam_domain.aggregates.base import KamAggregate
from kam_domain.policies.base import Decision, Policy, learners
from kam_domain.policies.records import DeadLetter, PolicyDecision, settings_id
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.policies.world import World

__all__ = ["Divergence", "Recorded", "ReplayReport", "replay"]

PAGE_SIZE = 1000


@attrs.frozen
class Recorded:
    """What the log says a policy decided about one event (or that it parked the event)."""

    version: int
    outcome: str
    inputs: tuple[tuple[str, str], ...]
    cause_position: int
    basis_position: int
    parked: bool = False


@attrs.frozen
class Divergence:
    """One place where the replayed decision differs from the recorded one."""

    policy: str
    version: int
    cause_id: UUID
    cause_position: int
    #: What the cause was about, e.g. ``ClientAccount.KeyAccountDesignated: Huaxia Mobile``.
    subject: str
    #: ``different``, ``not recorded`` (replay decides, the log has nothing),
    #: ``not reproduced`` (the log has a decision, replay decides nothing).
    kind: str
    #: The outcomes, ``no decision`` where there is none.
    recorded: str
    replayed: str
    #: The inputs that differ: (name, recorded value, replayed value).
    inputs: tuple[tuple[str, str, str], ...] = ()

    def describe(self) -> str:
        text = (
            f"{self.policy}@{self.version} at position {self.cause_position} ({self.subject}): "
            f"{self.kind}: recorded {self.recorded!r}, replayed {self.replayed!r}"
        )
        for name, before, after in self.inputs:
            text += f"; {name}: {before!r} → {after!r}"
        return text


@attrs.frozen
class ReplayReport:
    """How many events and decisions were compared, and every divergence."""

    events: int
    decisions: int
    divergences: tuple[Divergence, ...]
    what_if: bool = False

    @property
    def reproduced(self) -> bool:
        return not self.divergences


def replay(
    recorder: Any,
    mapper: Any,
    registry: PolicyRegistry,
    *,
    versions: Mapping[str, int] | None = None,
    what_if: Mapping[str, int] | None = None,
    policies: set[str] | None = None,
) -> ReplayReport:
    """Replay ``registry``'s policies (or only ``policies``) over the log ``recorder`` holds."""
    forced = {**(versions or {}), **(what_if or {})}
    for name, version in forced.items():
        registry.get(name, version)  # unknown names and versions are refused here
    names = sorted(policies or set(registry.names()) | set(forced))
    instances = {name: _instances(registry, name) for name in names}
    recorded = _recorded(recorder, mapper)
    retried: dict[int, list[tuple[str, UUID]]] = {}
    for (name, cause_id), known in recorded.items():
        if not known.parked and name in instances and known.basis_position != known.cause_position:
            retried.setdefault(known.basis_position, []).append((name, cause_id))

    # A what-if compares outcomes: a candidate version may weigh different inputs.
    outcomes = bool(what_if)
    world = World()
    causes: dict[UUID, Any] = {}
    divergences: list[Divergence] = []
    events = decisions = 0
    learning = learners(instances)
    settings = {settings_id(name): name for name in names}
    # An event no version handles needs no decision, so neither its id nor the version in force
    # (which is looked up again only when the settings change, refusing an unregistered one at
    # the same event as ever). Unless the log records a decision by an unregistered version:
    # then every event is looked up, to fail where it always has.
    handled = tuple(
        {kind for name in names for p in instances[name].values() for kind in p.handles}
    )
    every_event = any(
        name in instances and name not in forced and known.version not in instances[name]
        for (name, _), known in recorded.items()
    )
    in_force = {name: _version(name, None, forced, world, registry) for name in names}
    for notification in _notifications(recorder):
        event = mapper.to_domain_event(notification)
        world.fold(event, notification.id)
        events += 1
        for name in names:
            for instance in learning[name]:
                instance.learn(event, world)
        if event.originator_id in settings:
            changed = settings[event.originator_id]
            in_force[changed] = _version(changed, None, forced, world, registry)
            if in_force[changed] not in instances[changed]:
                raise KeyError(in_force[changed])
        if every_event or isinstance(event, handled):
            this_id = getattr(event, "event_id", None)
            for name in names:
                entry = None if this_id is None else recorded.get((name, this_id))
                if entry is None:
                    version = in_force[name]
                else:
                    version = _version(name, entry, forced, world, registry)
                policy = instances[name][version]
                if not isinstance(event, policy.handles):
                    continue
                causes[event.event_id] = (event, notification.id)
                if (
                    entry is not None
                    and not entry.parked
                    and entry.basis_position != entry.cause_position
                ):
                    continue  # decided later, when retried: compared at its basis below
                decisions += 1
                divergences.extend(
                    _compare(name, version, policy, event, notification.id, world, entry, outcomes)
                )
        for name, cause_id in retried.get(notification.id, []):
            cause, position = causes[cause_id]
            entry = recorded[(name, cause_id)]
            version = _version(name, entry, forced, world, registry)
            decisions += 1
            policy = instances[name][version]
            divergences.extend(
                _compare(name, version, policy, cause, position, world, entry, outcomes)
            )
    return ReplayReport(events, decisions, tuple(divergences), what_if=bool(what_if))


def _instances(registry: PolicyRegistry, name: str) -> dict[int, Policy]:
    return {v: registry.get(name, v)() for v in sorted(registry.versions(name))}


def _version(
    name: str,
    entry: Recorded | None,
    forced: Mapping[str, int],
    world: World,
    registry: PolicyRegistry,
) -> int:
    if name in forced:
        return forced[name]
    if entry is not None:
        return entry.version
    return world.active_version(name) or registry.default_version(name)


def _compare(
    name: str,
    version: int,
    policy: Policy,
    cause: Any,
    position: int,
    world: World,
    entry: Recorded | None,
    outcomes_only: bool,
) -> list[Divergence]:
    try:
        decision: Decision | None = policy.decide(cause, world)
    except Exception as error:
        if entry is not None and entry.parked:
            return []
        replayed: tuple[str, dict[str, str]] | None = ("parked", {"error": _error(error)})
    else:
        replayed = None if decision is None else (decision.outcome, dict(decision.inputs))
    recorded = None if entry is None else (entry.outcome, dict(entry.inputs))
    if recorded == replayed:
        return []
    if recorded is None:
        kind = "not recorded"
    elif replayed is None:
        kind = "not reproduced"
    elif recorded[0] == replayed[0] and outcomes_only:
        return []
    else:
        kind = "different"
    inputs: tuple[tuple[str, str, str], ...] = ()
    if recorded is not None and replayed is not None and not outcomes_only:
        keys = sorted(set(recorded[1]) | set(replayed[1]))
        inputs = tuple(
            (key, recorded[1].get(key, "—"), replayed[1].get(key, "—"))
            for key in keys
            if recorded[1].get(key) != replayed[1].get(key)
        )
    return [
        Divergence(
            policy=name,
            version=version,
            cause_id=cause.event_id,
            cause_position=position,
            subject=_subject(cause, world),
            kind=kind,
            recorded="no decision" if recorded is None else recorded[0],
            replayed="no decision" if replayed is None else replayed[0],
            inputs=inputs,
        )
    ]


def _subject(cause: Any, world: World) -> str:
    record = world.get(cause.originator_id, KamAggregate)
    name = getattr(record, "name", None)
    kind = type(cause).__qualname__
    return f"{kind}: {name}" if isinstance(name, str) else f"{kind} of {cause.originator_id}"


def _error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _recorded(recorder: Any, mapper: Any) -> dict[tuple[str, UUID], Recorded]:
    """Every recorded decision and parked event, by (policy, cause)."""
    topics = [get_topic(PolicyDecision.Made), get_topic(DeadLetter.Parked)]
    found: dict[tuple[str, UUID], Recorded] = {}
    for notification in _notifications(recorder, topics):
        event = mapper.to_domain_event(notification)
        if isinstance(event, PolicyDecision.Made):
            found[(event.policy, event.cause_id)] = Recorded(
                event.version,
                event.outcome,
                tuple(sorted(event.inputs.items())),
                event.cause_position,
                event.basis_position,
            )
        elif (event.policy, event.cause_id) not in found:
            found[(event.policy, event.cause_id)] = Recorded(
                event.version, "parked", (), event.cause_position, event.cause_position, parked=True
            )
    return found


def _notifications(recorder: Any, topics: list[str] | None = None) -> Iterator[Any]:
    start = 1
    while True:
        page = recorder.select_notifications(start=start, limit=PAGE_SIZE, topics=topics or ())
        if not page:
            return
        yield from page
        start = page[-1].id + 1
