"""Replay: re-run policies over the recorded log, in causal order, and compare.

Nothing is written. The log is read twice: first the decision and dead-letter records (what was
decided, by which version, where it was recorded), then every event in causal order, exactly as
an engine settles them (:mod:`kam_domain.runtime.scan`): a command's events, each folded into a
fresh :class:`World` while fresh policy instances ``learn`` it and decide again, then the
consequences the log records for them (read where they were recorded, which may be far after
the command when a worker settled it late), then the next command. A retried parked event is
decided again where the retry was recorded.

- A plain replay uses, for each decision, the version that recorded it (and for events nothing
  was recorded about, the version active then): every difference is a divergence — a policy
  changed behaviour under the same version, or the log was altered.
- ``versions={"assignment": 2}`` replays a named version instead.
- A what-if run (``what_if={"assignment": 2}``) asks a candidate version the same questions and
  lists where it would have decided differently; those differences are its answer, not errors.

An event recorded in a policy's name that no decision of that policy recorded (a consequence
nobody settled) is listed as a divergence of kind ``no decision behind it``.
"""

from __future__ import annotations

import copy as copy_module
from collections import deque
from collections.abc import Mapping
from typing import Any
from uuid import UUID

import attrs

from kam_domain.aggregates.base import KamAggregate, Meta
from kam_domain.errors import KamDomainError
from kam_domain.policies.base import Decision, Policy, learners
from kam_domain.policies.records import (
    DeadLetter,
    PolicyDecision,
    dead_letter_id,
    decision_id,
    settings_id,
)
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.policies.world import World
from kam_domain.runtime.causal import Step, is_consequence, transaction_after
from kam_domain.runtime.outcomes import WorldContext, acting_meta
from kam_domain.runtime.recorded import Recorded, recorded_outcomes
from kam_domain.runtime.scan import Scan
from kam_domain.runtime.state import StoredState

__all__ = ["Divergence", "Recorded", "ReplayReport", "replay"]

PAGE_SIZE = 1000
#: Commands after which a replay with a scratch state writes what changed to it.
SPILL_EVERY = 500
#: Records a replay with a scratch state keeps loaded beyond those changed since it wrote.
SCRATCH_CACHE = 512

#: The kind of divergence for an event attributed to a policy with no decision behind it.
UNDECIDED = "no decision behind it"
#: The kind of divergence for a decision whose actions' recorded events are not what its
#: actions give.
ACTIONS_DIFFER = "actions' events differ"
#: The engine's own records: in a policy's name by design, with no decision behind them.
_ENGINE_RECORDS = (PolicyDecision.Made, DeadLetter.Parked, DeadLetter.Retried)


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
    #: ``not reproduced`` (the log has a decision, replay decides nothing), or
    #: :data:`UNDECIDED` (an event in a policy's name with no decision of it behind it).
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
    scratch: StoredState | None = None,
) -> ReplayReport:
    """Replay ``registry``'s policies (or only ``policies``) over the log ``recorder`` holds.

    With ``scratch`` (an empty state of its own, never the store's), the world replay folds is
    kept there instead of in memory: every :data:`SPILL_EVERY` commands what changed is written
    to it, and only :data:`SCRATCH_CACHE` records beyond those stay loaded.
    """
    forced = {**(versions or {}), **(what_if or {})}
    for name, version in forced.items():
        registry.get(name, version)  # unknown names and versions are refused here
    names = sorted(policies or set(registry.names()) | set(forced))
    run = _Replay(
        recorder, mapper, registry, names, forced, outcomes_only=bool(what_if), scratch=scratch
    )
    run.walk()
    return ReplayReport(run.events, run.decisions, tuple(run.divergences), what_if=bool(what_if))


class _Replay:
    """One replay: the walk, the world it builds, and what it found."""

    def __init__(
        self,
        recorder: Any,
        mapper: Any,
        registry: PolicyRegistry,
        names: list[str],
        forced: Mapping[str, int],
        *,
        outcomes_only: bool,
        scratch: StoredState | None = None,
    ) -> None:
        self.recorder = recorder
        self.mapper = mapper
        self.registry = registry
        self.names = names
        self.forced = forced
        # A what-if compares outcomes: a candidate version may weigh different inputs.
        self.outcomes_only = outcomes_only
        self.instances = {name: _instances(registry, name) for name in names}
        self.learning = learners(self.instances)
        self.made, self.parked = recorded_outcomes(recorder, mapper)
        self.settings = {settings_id(name): name for name in names}
        self.scratch = scratch
        self.world = World() if scratch is None else World(scratch, cache_size=SCRATCH_CACHE)
        self.scan = Scan(recorder, mapper, 0)
        self.in_force = {name: self._version(name, None) for name in names}
        self.handled = tuple(
            {kind for name in names for p in self.instances[name].values() for kind in p.handles}
        )
        # Unless the log records a decision by an unregistered version: then every event's
        # version is looked up, to fail where it always has.
        self.every_event = any(
            name in self.instances
            and name not in forced
            and known.version not in self.instances[name]
            for (name, _), known in self.made.items()
        )
        self.events = 0
        self.units = 0
        self.decisions = 0
        self.divergences: list[Divergence] = []

    def walk(self) -> None:
        for unit in self.scan.units():
            first = unit[0].event
            queue: deque[Step] = deque(unit)
            if is_consequence(first):
                if isinstance(first, PolicyDecision.Made) and _retried(first):
                    self._compare_retry(first)
                elif not isinstance(first, _ENGINE_RECORDS):
                    self._undecided(unit[0])
            while queue:
                step = queue.popleft()
                for consequence in self._step(step):
                    self.scan.consume(consequence.position)
                    queue.append(consequence)
            self.scan.settled(unit)

    def _step(self, step: Step) -> list[Step]:
        """Fold one event, decide again about it, and return what the log recorded for it."""
        event = step.event
        self.world.fold(event, step.position)
        self.events += 1
        for name in self.names:
            for instance in self.learning[name]:
                instance.learn(event, self.world)
        if event.originator_id in self.settings:
            changed = self.settings[event.originator_id]
            self.in_force[changed] = self._version(changed, None)
            if self.in_force[changed] not in self.instances[changed]:
                raise KeyError(self.in_force[changed])
        if not (self.every_event or isinstance(event, self.handled)):
            return []
        found: list[Step] = []
        for name in self.names:
            key = (name, event.event_id)
            made = self.made.get(key)
            parked = self.parked.get(key)
            if made is not None and _later(made):
                # Decided when the parked event was retried; compared there. What the cause
                # itself left is the parked event.
                entry, compare = parked, False
            else:
                entry, compare = made or parked, True
            version = self.in_force[name] if entry is None else self._version(name, entry)
            policy = self.instances[name][version]
            if not isinstance(event, policy.handles):
                continue
            decision = None
            if compare:
                self.decisions += 1
                decision = self._compare(name, version, policy, event, step.position, entry)
            if entry is not None:
                record_id = (dead_letter_id if entry.parked else decision_id)(name, event.event_id)
                steps = transaction_after(
                    self.recorder, self.mapper, record_id, entry.position, self.scan.window
                )
                if decision is not None and decision.actions and not self.outcomes_only:
                    self._check_actions(name, version, event, step.position, decision, steps[1:])
                found.extend(steps)
        return found

    def _compare_retry(self, made: Any) -> None:
        """A retried parked event: decide about its cause again, where the retry was made."""
        entry = self.made[(made.policy, made.cause_id)]
        (notification,) = self.recorder.select_notifications(start=made.cause_position, limit=1)
        cause = self.mapper.to_domain_event(notification)
        version = self._version(made.policy, entry)
        policy = self.instances.get(made.policy, {}).get(version)
        if policy is None:
            return
        self.decisions += 1
        self._compare(made.policy, version, policy, cause, made.cause_position, entry)

    def _undecided(self, step: Step) -> None:
        event = step.event
        name, _, version = event.actor.ref.partition("@")
        self.divergences.append(
            Divergence(
                policy=name,
                version=int(version) if version.isdigit() else 0,
                cause_id=event.event_id,
                cause_position=step.position,
                subject=_subject(event, self.world),
                kind=UNDECIDED,
                recorded=f"{type(event).__qualname__} in the policy's name",
                replayed="no decision",
            )
        )

    def _version(self, name: str, entry: Recorded | None) -> int:
        if name in self.forced:
            return self.forced[name]
        if entry is not None:
            return entry.version
        return self.world.active_version(name) or self.registry.default_version(name)

    def _compare(
        self,
        name: str,
        version: int,
        policy: Policy,
        cause: Any,
        position: int,
        entry: Recorded | None,
    ) -> Decision | None:
        """Decide again and list a difference; returns the decision when it agrees."""
        found, decision = _difference(
            name, version, policy, cause, position, self.world, entry, self.outcomes_only
        )
        if found is not None:
            self.divergences.append(found)
            return None
        return decision

    def _check_actions(
        self,
        name: str,
        version: int,
        cause: Any,
        position: int,
        decision: Decision,
        steps: list[Step],
    ) -> None:
        """The events the log records for a decision's actions are the ones its actions give.

        The actions are carried out again on copies of the records as the policy saw them; a
        record whose recorded events differ in anything but their version and time (which
        depend on what else the record held when the action was carried out) is a divergence.
        Records the copy refuses, or that recorded nothing (a refused action), are not judged.
        """
        recorded: dict[UUID, list[Any]] = {}
        for step in steps:
            recorded.setdefault(step.event.originator_id, []).append(step.event)
        actions: dict[UUID, list[Any]] = {}
        for action in decision.actions:
            actions.setdefault(action.aggregate_id, []).append(action)
        meta = acting_meta(name, version, cause)
        context = WorldContext(None, self.world)
        for aggregate_id, its_actions in actions.items():
            seen = recorded.get(aggregate_id)
            base = self.world.get(aggregate_id, KamAggregate)
            if not seen or base is None:
                continue
            copy = copy_module.deepcopy(base)
            at = Meta(
                meta.actor, max(meta.at, copy.modified_on), meta.correlation_id, meta.causation_id
            )
            try:
                for action in its_actions:
                    action.apply(copy, at, context)
            except KamDomainError:
                continue
            produced = [_payload(event) for event in copy.collect_events()]
            if produced != [_payload(event) for event in seen]:
                self.divergences.append(
                    Divergence(
                        policy=name,
                        version=version,
                        cause_id=cause.event_id,
                        cause_position=position,
                        subject=_subject(cause, self.world),
                        kind=ACTIONS_DIFFER,
                        recorded=", ".join(_described(event) for event in seen),
                        replayed=", ".join(_described(payload) for payload in produced),
                    )
                )


def _later(entry: Recorded) -> bool:
    return not entry.parked and entry.basis_position != entry.cause_position


def _retried(made: Any) -> bool:
    return bool(made.basis_position != made.cause_position)


def _instances(registry: PolicyRegistry, name: str) -> dict[int, Policy]:
    return {v: registry.get(name, v)() for v in sorted(registry.versions(name))}


def _difference(
    name: str,
    version: int,
    policy: Policy,
    cause: Any,
    position: int,
    world: World,
    entry: Recorded | None,
    outcomes_only: bool,
) -> tuple[Divergence | None, Decision | None]:
    decision: Decision | None = None
    try:
        decision = policy.decide(cause, world)
    except Exception as error:
        if entry is not None and entry.parked:
            return None, None
        replayed: tuple[str, dict[str, str]] | None = ("parked", {"error": _error(error)})
    else:
        replayed = None if decision is None else (decision.outcome, dict(decision.inputs))
    recorded = None if entry is None else (entry.outcome, dict(entry.inputs))
    if recorded == replayed:
        return None, decision
    if recorded is None:
        kind = "not recorded"
    elif replayed is None:
        kind = "not reproduced"
    elif recorded[0] == replayed[0] and outcomes_only:
        return None, decision
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
    divergence = Divergence(
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
    return divergence, None


#: What a decision's recorded action events are compared by: everything but the version and
#: the time, which depend on what the record held when the action was carried out.
_UNCOMPARED = frozenset({"originator_version", "timestamp"})


def _payload(event: Any) -> tuple[Any, ...]:
    fields = sorted((k, v) for k, v in vars(event).items() if k not in _UNCOMPARED)
    return (type(event).__qualname__, tuple(fields))


def _described(event: Any) -> str:
    if isinstance(event, tuple):
        kind, fields = event
        return f"{kind} {dict(fields)}"
    return _described(_payload(event))


def _subject(cause: Any, world: World) -> str:
    record = world.get(cause.originator_id, KamAggregate)
    name = getattr(record, "name", None)
    kind = type(cause).__qualname__
    return f"{kind}: {name}" if isinstance(name, str) else f"{kind} of {cause.originator_id}"


def _error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
