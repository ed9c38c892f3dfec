"""The policy engine: settles each command's consequences, in causal order, exactly once.

The engine follows the log one *command* at a time (the events a host's command recorded,
which share its causation id; see :mod:`kam_domain.runtime.causal`). For each event of the
command it folds the event into its :class:`World`, lets every registered policy ``learn`` it,
and asks the active version of each policy that handles it for a decision. A decision record,
the events of its actions and the engine's tracking record are written in one transaction;
those events are then decided about in turn (a cascade), until nothing more follows, and only
then does the engine take the next command. Every decision therefore sees the state after its
cause and after every consequence of the commands before it, however far behind the engine
was when the commands were recorded — embedded, in a worker, or in several.

A decision's id is derived from the policy and its cause, so it can be recorded once: an engine
that finds it already recorded (by another engine, or by itself before a restart) reads what
was recorded from the log and carries on with those consequences. A policy that raises parks
the event as a :class:`DeadLetter` (its id derived the same way) and the engine goes on;
:meth:`PolicyEngine.retry` processes parked events again. An optimistic-concurrency conflict
with a concurrent command is decided again with fresh records.

The tracking record (:data:`ENGINE_TRACKING`) holds the position up to which every command is
settled. Where the store keeps an engine's state (:mod:`kam_domain.runtime.state`), the engine
checkpoints its world and what its policies learned whenever it records that position, and a
restarted engine goes on from the latest checkpoint without folding the log: it reads only what
was recorded after it. Elsewhere, or when a policy that learns cannot say what it learned, a
restarted engine folds the log up to the tracked position, then the consequences recorded after
it of the commands before it, and goes on from there.
"""

from __future__ import annotations

import enum
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import (
    IntegrityError,
    PersistenceError,
    RecordConflictError,
    Tracking,
)

from kam_domain.errors import (
    KamDomainError,
    StateAhead,
    StateNotKept,
)
from kam_domain.policies.base import Decision, Policy, learners
from kam_domain.policies.records import settings_id
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.policies.world import CACHE_SIZE, World
from kam_domain.runtime.causal import Consequences, Step, transaction_after
from kam_domain.runtime.checkpoints import Afresh, Checkpoints
from kam_domain.runtime.letters import CONFLICT_ATTEMPTS, Retrying
from kam_domain.runtime.outcomes import WorldContext, decided, parked
from kam_domain.runtime.scan import Scan, initial_cursor, settled_tail
from kam_domain.runtime.state import StateRecorder, StoredState

if TYPE_CHECKING:
    from kam_domain.application.core import ApplicationCore

__all__ = ["ENGINE_TRACKING", "PolicyEngine", "tracking_key"]

#: The tracking record of the engine: every command up to this position is settled.
ENGINE_TRACKING = "kam.engine"
#: Settled commands after which an engine records its position even without a decision to
#: carry it (a restarted engine goes over at most this many commands again).
TRACKING_EVERY = 200
#: Settled commands after which an engine that keeps its state checkpoints it, whatever
#: carried the position meanwhile.
CHECKPOINT_EVERY = 1000


def tracking_key(policy: str) -> str:
    """The name under which earlier versions tracked each policy's position in the log."""
    return f"kam.policy.{policy}"


class PolicyEngine(Retrying):
    """Runs a registry's policies over an application's log, in causal order."""

    def __init__(
        self,
        app: ApplicationCore,
        registry: PolicyRegistry,
        *,
        durable: bool = True,
        state: StateRecorder | None = None,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self.app = app
        self.registry = registry
        #: Whether the engine keeps its state: in ``state`` when given, else in the store
        #: (where the store can keep one).
        self.durable = durable
        #: Records a world backed by the state keeps loaded beyond those changed since the
        #: last checkpoint.
        self.cache_size = cache_size
        self._state_recorder = state
        self._state: StoredState | None = None
        self._lock = threading.RLock()
        self._consequences = Consequences(app.recorder, app.mapper)
        self.world = World()
        self.settled_units = 0
        self._started = False
        self._unwritten = 0
        self._unchecked = 0
        self._tracked = 0
        self._recorded_before = 0
        #: Outcomes recorded after the tracked position when the engine started.
        self._recorded: dict[tuple[str, UUID], tuple[UUID, int]] = {}
        self._reset()

    # -- running ---------------------------------------------------------------------------------

    def run(
        self,
        *,
        until: int | None = None,
        stop: threading.Event | None = None,
        limit: int | None = None,
    ) -> int:
        """Settle every command recorded up to the head (or those that start by ``until``, or
        the next ``limit`` of them), and record the position reached when asked for a part.

        Returns how many decisions (and parked events) this engine recorded. ``stop``, once set,
        ends the run after the command being settled. If the run fails (the store went away),
        the engine starts afresh next time, from the tracked position.
        """
        with self._lock:
            try:
                try:
                    return self._run(until, stop, limit)
                except StateAhead:
                    # Another engine sharing the state is further on: go on from its checkpoint.
                    self._reset()
                    return self._run(until, stop, limit)
            except BaseException:
                self._reset()
                raise

    def _run(self, until: int | None, stop: threading.Event | None, limit: int | None) -> int:
        if not self._started:
            self._start()
        recorded = 0
        self.settled_units = 0
        partial = until is not None or limit is not None
        writable = True
        for unit in self._scan.units(until):
            if stop is not None and stop.is_set():
                break
            recorded += self._settle(unit)
            self._scan.settled(unit)
            self._unwritten += 1
            self._unchecked += 1
            self.settled_units += 1
            # Checkpointed every CHECKPOINT_EVERY commands whatever carried the position (an
            # embedded engine's decisions carry it nearly always): a restart then goes over at
            # most that many commands again, and the records changed since the last checkpoint,
            # which the world must keep loaded until then, stay that few.
            if writable and self._state is not None and self._unchecked >= CHECKPOINT_EVERY:
                writable = self._record_progress(bool(recorded) or partial)
            if limit is not None and self.settled_units >= limit:
                break
        # The settled position is recorded after each part of the log a worker settles, and
        # otherwise every TRACKING_EVERY commands (decisions carry it too).
        if writable and self._unwritten and (partial or self._unwritten >= TRACKING_EVERY):
            self._record_progress(bool(recorded) or partial)
        return recorded

    def _record_progress(self, must: bool) -> bool:
        """Record the settled position and checkpoint there; say whether the store took it."""
        try:
            self._write_position()
            self._checkpoint()
        except PersistenceError:
            if must:
                raise
            # A run that only caught up may be reading a store it may not write to; the
            # position is recorded with its next decision instead.
            return False
        return True

    @property
    def position(self) -> int:
        """The position up to which this engine has settled every command."""
        return self._scan.position

    def positions(self) -> dict[str, int]:
        """Each policy's position in the log: the one up to which commands are settled."""
        with self._lock:
            if not self._started:
                position = initial_cursor(self.app.recorder, self.registry.names())
            else:
                position = self._scan.position
            return dict.fromkeys(self._instances, position)

    def lag(self) -> int:
        """Events recorded that this engine has not yet looked at."""
        head = self.app.recorder.max_notification_id() or 0
        return max(0, head - self._scan.position)

    def flush(self) -> None:
        """Record the settled position now, if it moved on since it was last recorded."""
        with self._lock:
            if self._started and self._unwritten:
                self._write_position()
            if self._started:
                self._checkpoint()

    def _reset(self) -> None:
        """Forget the world and positions; the next run rebuilds them from the store."""
        self.world = World()
        self._state = None
        #: Commands the last run settled.
        self.settled_units = 0
        self._started = False
        self._unwritten = 0
        #: Commands settled since the last checkpoint.
        self._unchecked = 0
        self._tracked = 0
        self._instances = {
            name: {v: self.registry.get(name, v)() for v in sorted(self.registry.versions(name))}
            for name in self.registry.names()
        }
        self._learners = learners(self._instances)
        self._checkpoints = Checkpoints(self._instances)
        self._settings = {settings_id(name): name for name in self._instances}
        self._active_cache: dict[str, Policy] = {}
        self._scan = Scan(self.app.recorder, self.app.mapper, 0)
        self._context = WorldContext(self.app.repository, self.world)

    def _start(self) -> None:
        """Go on from the latest checkpoint of the state, or fold the log up to the tracked
        position, then what was settled after it."""
        recorder: Any = self.app.recorder
        self._tracked = recorder.max_tracking_id(ENGINE_TRACKING) or 0
        self._recorded_before = recorder.max_notification_id() or 0
        state = self._stored_state()
        checkpoint = None if state is None else state.checkpoint
        # A checkpoint past the settled position was not written by an engine (one writes it
        # only where every command up to it is settled, and that position only moves on):
        # going on from it would skip the commands recorded up to its position.
        settled = initial_cursor(recorder, self._instances)
        if (
            state is not None
            and checkpoint is not None
            and checkpoint.position <= settled
            and self._checkpoints.restorable(state)
        ):
            cursor = checkpoint.position
            self.world = World(state, cache_size=self.cache_size)
            self._context = WorldContext(self.app.repository, self.world)
            self._checkpoints.restore(state)
            scan = Scan(recorder, self.app.mapper, cursor)
            # A record stored further on than this engine has settled is not taken in.
            self.world.admits = scan.passed
            self._recorded = {}
            # What was settled after the checkpoint's position is folded into it already.
            for step in settled_tail(recorder, self.app.mapper, cursor, self._recorded):
                scan.consume(step.position)
            self._scan = scan
            self._started = True
            return
        # A checkpoint no engine could have written is replaced, wherever it claims to be.
        untrusted = checkpoint is not None and checkpoint.position > settled
        self._fold_log(settled, state, over_any=untrusted)

    def _fold_log(
        self,
        cursor: int,
        state: StoredState | None,
        progress: Callable[[int], None] | None = None,
        *,
        over_any: bool = False,
    ) -> None:
        """Fold the log up to ``cursor``, and what was settled after it, into a new world."""
        recorder: Any = self.app.recorder
        if state is not None:
            self.world = World(Afresh(state), cache_size=self.cache_size)
            self._context = WorldContext(self.app.repository, self.world)
        scan = Scan(recorder, self.app.mapper, cursor)
        for step in scan.prefix():
            self._learn(step)
            if progress is not None and step.position % 500 == 0:
                progress(step.position)
        self._recorded = {}
        for step in settled_tail(recorder, self.app.mapper, cursor, self._recorded):
            self._learn(step)
            scan.consume(step.position)
        if progress is not None:
            progress(cursor)
        self._scan = scan
        self._started = True
        # A world folded from the log is checkpointed whole (a store's first checkpoint, or one
        # after the policies changed): nothing of the store's is reused.
        self._checkpoints.everything()
        if state is not None:
            state.start_afresh(over_any=over_any)

    def rebuild(self, position: int, progress: Callable[[int], None] | None = None) -> None:
        """Fold the log up to ``position`` (every command up to it settled) and checkpoint the
        world whole into this engine's state; decides nothing."""
        with self._lock:
            self._reset()
            self._tracked = position
            self._recorded_before = self.app.recorder.max_notification_id() or 0
            state = self._stored_state()
            if state is None:
                msg = "this engine keeps no state (a policy that learns cannot say what)"
                raise StateNotKept(msg)
            self._fold_log(position, state, progress, over_any=True)
            self._checkpoint()

    def _stored_state(self) -> StoredState | None:
        """The state this engine keeps, if any (see :class:`Checkpoints`)."""
        if not self.durable:
            return None
        self._state = self._checkpoints.open(
            self.app.recorder, self._state_recorder, self.app.mapper
        )
        return self._state

    def _checkpoint(self) -> None:
        """Checkpoint at the settled position, where it is recorded as settled."""
        state = self._state
        if state is None or self._scan.position > self._tracked:
            return
        self._unchecked = 0
        self._checkpoints.write(state, self.world, self._scan.position)

    # -- settling one command ---------------------------------------------------------------------

    def _settle(self, unit: list[Step]) -> int:
        """Decide about the command's events and everything that follows from them."""
        recorded = 0
        queue = deque(unit)
        while queue:
            step = queue.popleft()
            for policy in self._deciders(step):
                found, count = self._process(policy, step)
                recorded += count
                for consequence in found:
                    self._scan.consume(consequence.position)
                    queue.append(consequence)
        return recorded

    def _deciders(self, step: Step) -> Iterator[Policy]:
        """Fold ``step``, let each policy learn it, and name those that decide about it."""
        event = self._fold(step)
        for name, learning in self._learners.items():
            for instance in learning:
                instance.learn(event, self.world)
            policy = self._active_cache.get(name)
            if policy is None:
                policy = self._active_cache[name] = self._active(name)
            if isinstance(event, policy.handles):
                yield policy

    def _learn(self, step: Step) -> None:
        """Fold ``step`` and let every policy learn it, deciding nothing (it is settled)."""
        event = self._fold(step)
        for learning in self._learners.values():
            for instance in learning:
                instance.learn(event, self.world)

    def _fold(self, step: Step) -> Any:
        """Fold ``step`` into the world; a policy's settings changing asks for its version anew."""
        event = step.event
        self.world.fold(event, step.position)
        if event.originator_id in self._settings:
            self._active_cache.pop(self._settings[event.originator_id], None)
        return event

    def _active(self, name: str) -> Policy:
        versions = self._instances[name]
        version = self.world.active_version(name) or self.registry.default_version(name)
        if version not in versions:
            msg = f"{name}@{version} is active in the store but not registered here"
            raise KamDomainError(msg)
        return versions[version]

    def _process(self, policy: Policy, step: Step) -> tuple[list[Step], int]:
        """Decide about one event and record the outcome; returns what it added to the log
        (or what another engine had added) and how many records this engine wrote."""
        event = step.event
        if step.position <= self._recorded_before:
            # Recorded before this engine started, perhaps settled already: read, don't write.
            known = self._recorded.get((policy.name, event.event_id))
            if known is not None:
                recorder = self.app.recorder
                return transaction_after(recorder, self.app.mapper, *known), 0
        for _ in range(CONFLICT_ATTEMPTS):
            processing: ProcessingEvent[UUID] = ProcessingEvent()
            try:
                decision = policy.decide(event, self.world)
                if decision is not None:
                    self._collect(processing, policy, decision, event, step, step.position)
            except StateAhead:
                raise  # not the policy's failure: the engine starts again from the newer state
            except Exception as error:
                processing = ProcessingEvent()
                processing.collect_events(parked(policy, event, step, error))
            if not processing.events:
                return [], 0
            saved, steps = self._save(processing, policy.name, event.event_id, step.position)
            if saved is not _Saved.AGAIN:
                return steps, 1 if saved is _Saved.BY_US else 0
        contention = RuntimeError(f"records kept changing under {CONFLICT_ATTEMPTS} attempts")
        processing = ProcessingEvent()
        processing.collect_events(parked(policy, event, step, contention))
        saved, steps = self._save(processing, policy.name, event.event_id, step.position)
        return steps, 1 if saved is _Saved.BY_US else 0

    def _collect(
        self,
        processing: ProcessingEvent[UUID],
        policy: Policy,
        decision: Decision,
        cause: Any,
        step: Step,
        basis: int,
    ) -> None:
        """The decision record and its actions' events, into ``processing``."""
        processing.collect_events(
            *decided(self.app.repository, self._context, policy, decision, cause, step, basis)
        )

    def _save(
        self, processing: ProcessingEvent[UUID], policy: str, cause_id: UUID, position: int
    ) -> tuple[_Saved, list[Step]]:
        """Record the outcome, carrying the settled position when it moved on; say whether we
        recorded it (and what), another engine had (and what), or it must be decided again."""
        for _ in range(2):
            processing.tracking = self._tracking_due()
            try:
                recordings = self.app._record(processing)
            except (IntegrityError, RecordConflictError):
                found = self._consequences.of(policy, cause_id, position)
                if found is not None:
                    return _Saved.BY_ANOTHER, found
                if processing.tracking is not None and self._tracking_behind():
                    continue  # another engine recorded a later position: record without ours
                return _Saved.AGAIN, []
            if processing.tracking is not None:
                self._tracked = processing.tracking.notification_id
                self._unwritten = 0
            self.app._take_snapshots(processing)
            return _Saved.BY_US, [Step(r.domain_event, r.notification) for r in recordings]
        return _Saved.AGAIN, []

    def _tracking_due(self) -> Tracking | None:
        settled = self._scan.position
        if settled <= self._tracked:
            return None
        return Tracking(application_name=ENGINE_TRACKING, notification_id=settled)

    def _tracking_behind(self) -> bool:
        """Whether the store's tracked position is at or past ours (another engine's)."""
        recorder: Any = self.app.recorder
        stored = recorder.max_tracking_id(ENGINE_TRACKING) or 0
        if stored >= self._scan.position:
            self._tracked = stored
            self._unwritten = 0
            return True
        return False

    def _write_position(self) -> None:
        tracking = self._tracking_due()
        if tracking is None:
            self._unwritten = 0
            return
        try:
            self.app._record(ProcessingEvent(tracking))
        except IntegrityError:
            if not self._tracking_behind():
                raise
            return
        self._tracked = tracking.notification_id
        self._unwritten = 0

    def __iter__(self) -> Iterator[Policy]:
        """The active policy of each name."""
        return (self._active(name) for name in self._instances)


class _Saved(enum.Enum):
    BY_US = "by us"
    BY_ANOTHER = "by another engine"
    AGAIN = "decide again"
