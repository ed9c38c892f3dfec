"""The policy engine: follows the log, lets each policy decide, records decisions exactly once.

For each event of the log, in order, the engine folds it into its :class:`World`, lets every
registered policy ``learn`` it, and asks the active version of each policy that handles it for a
decision. The decision record, the events of its actions and a tracking record (the policy's
name and the event's position) are written in one transaction: after a crash at any point the
engine resumes from each policy's tracked position and nothing is lost or recorded twice, and two
engines on one store never both record a decision (the second one's tracking insert conflicts and
it moves on).

A policy that raises parks the event as a :class:`DeadLetter` (with its tracking record, so the
other events and policies go on); :meth:`PolicyEngine.retry` processes parked events again.
An optimistic-concurrency conflict with a concurrent command is retried with fresh records.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import attrs
from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import IntegrityError, RecordConflictError, Tracking

from kam_domain.aggregates.base import KamAggregate, Meta, event_id
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.team import Team
from kam_domain.errors import (
    DeadLetterNotFound,
    KamDomainError,
    MemberNotFound,
    TeamNotFound,
)
from kam_domain.policies.base import Action, ActionContext, Decision, Policy, learners
from kam_domain.policies.records import DeadLetter, PolicyDecision, decision_id, settings_id
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.policies.world import World
from kam_domain.values import Actor, MemberId, TeamId

if TYPE_CHECKING:
    from kam_domain.application.core import ApplicationCore

__all__ = ["PolicyEngine", "tracking_key"]

#: Notifications read from the store at a time.
PAGE_SIZE = 500
#: Attempts at recording one decision when concurrent commands keep changing its records.
CONFLICT_ATTEMPTS = 10


def tracking_key(policy: str) -> str:
    """The name under which a policy's position in the log is tracked."""
    return f"kam.policy.{policy}"


class PolicyEngine:
    """Runs a registry's policies over an application's log."""

    def __init__(self, app: ApplicationCore, registry: PolicyRegistry) -> None:
        self.app = app
        self.registry = registry
        self.world = World()
        self._instances: dict[str, dict[int, Policy]] = {}
        self._learners: dict[str, list[Policy]] = {}
        self._settings: dict[UUID, str] = {}
        self._positions: dict[str, int] | None = None
        self._reset()
        self._lock = threading.RLock()
        self._context = _StoreContext(app)

    # -- running ---------------------------------------------------------------------------------

    def run(self, *, until: int | None = None, stop: threading.Event | None = None) -> int:
        """Process the log up to its head (or ``until``), including what decisions add to it.

        Returns how many decisions (and parked events) this engine recorded. ``stop``, once set,
        ends the run after the event being processed. If the run fails (the store went away),
        the engine starts afresh next time, from the tracked positions.
        """
        with self._lock:
            try:
                return self._run(until, stop)
            except BaseException:
                self._reset()
                raise

    def _run(self, until: int | None, stop: threading.Event | None) -> int:
        positions = self._tracked_positions()
        recorded = 0
        # The active version of each policy, looked up again only when its settings change
        # (the lookup refuses an unregistered version, at the same event as ever).
        active: dict[str, Policy] = {}
        to_domain_event = self.app.mapper.to_domain_event
        world = self.world
        while True:
            page = self._notifications(world.position + 1, until)
            if not page:
                return recorded
            for notification in page:
                if stop is not None and stop.is_set():
                    return recorded
                event = to_domain_event(notification)
                world.fold(event, notification.id)
                if event.originator_id in self._settings:
                    active.pop(self._settings[event.originator_id], None)
                for name, learning in self._learners.items():
                    for instance in learning:
                        instance.learn(event, world)
                    if notification.id <= positions[name]:
                        continue
                    policy = active.get(name)
                    if policy is None:
                        policy = active[name] = self._active(name)
                    if isinstance(event, policy.handles):
                        recorded += self._process(policy, event, notification)
                        positions[name] = notification.id

    def positions(self) -> dict[str, int]:
        """Each policy's tracked position in the log."""
        with self._lock:
            return dict(self._tracked_positions())

    def lag(self) -> int:
        """Events recorded that this engine has not yet looked at."""
        head = self.app.recorder.max_notification_id() or 0
        return max(0, head - self.world.position)

    def _reset(self) -> None:
        """Forget the world and positions; the next run rebuilds them from the store."""
        self.world = World()
        self._positions = None
        self._instances = {
            name: {v: self.registry.get(name, v)() for v in sorted(self.registry.versions(name))}
            for name in self.registry.names()
        }
        self._learners = learners(self._instances)
        self._settings = {settings_id(name): name for name in self._instances}

    # -- dead letters ----------------------------------------------------------------------------

    def dead_letters(self, *, include_resolved: bool = False) -> list[DeadLetter]:
        """Parked events, oldest first."""
        self.run()
        letters = sorted(self.world.all(DeadLetter), key=lambda letter: letter.cause_position)
        return [letter for letter in letters if include_resolved or not letter.resolved]

    def retry(self, letter_id: UUID | None = None) -> list[DeadLetter]:
        """Process parked events again (one, or all unresolved) against the world as of now."""
        with self._lock:
            self.run()
            letters = [
                letter
                for letter in self.dead_letters()
                if letter_id is None or letter.id == letter_id
            ]
            if letter_id is not None and not letters:
                raise DeadLetterNotFound("dead_letter_id", letter_id)
            for letter in letters:
                self._retry(letter)
            self.run()
            return [self._current_letter(letter.id) for letter in letters]

    # -- internals -------------------------------------------------------------------------------

    def _tracked_positions(self) -> dict[str, int]:
        if self._positions is None:
            recorder = self.app.recorder
            self._positions = {
                name: recorder.max_tracking_id(tracking_key(name)) or 0  # type: ignore[attr-defined]
                for name in self._instances
            }
        return self._positions

    def _notifications(self, start: int, until: int | None) -> list[Any]:
        limit = PAGE_SIZE if until is None else max(0, min(PAGE_SIZE, until - start + 1))
        if limit == 0:
            return []
        return list(self.app.recorder.select_notifications(start=start, limit=limit))

    def _active(self, name: str) -> Policy:
        versions = self._instances[name]
        version = self.world.active_version(name) or self.registry.default_version(name)
        if version not in versions:
            msg = f"{name}@{version} is active in the store but not registered here"
            raise KamDomainError(msg)
        return versions[version]

    def _process(self, policy: Policy, event: Any, notification: Any) -> int:
        """Decide about one event and record the outcome with its tracking record."""
        tracking = Tracking(
            application_name=tracking_key(policy.name), notification_id=notification.id
        )
        for _ in range(CONFLICT_ATTEMPTS):
            processing: ProcessingEvent[UUID] = ProcessingEvent(tracking)
            try:
                decision = policy.decide(event, self.world)
                if decision is not None:
                    self._collect(
                        processing, policy, decision, event, notification, self.world.position
                    )
            except Exception as error:
                processing = ProcessingEvent(tracking)
                processing.collect_events(self._parked(policy, event, notification, error))
            saved = self._save(processing, tracking)
            if saved is _Saved.BY_US:
                return 1 if processing.events else 0
            if saved is _Saved.BY_ANOTHER:
                return 0
        contention = RuntimeError(f"records kept changing under {CONFLICT_ATTEMPTS} attempts")
        processing = ProcessingEvent(tracking)
        processing.collect_events(self._parked(policy, event, notification, contention))
        return 1 if self._save(processing, tracking) is _Saved.BY_US else 0

    def _collect(
        self,
        processing: ProcessingEvent[UUID],
        policy: Policy,
        decision: Decision,
        cause: Any,
        notification: Any,
        basis: int,
    ) -> None:
        """The decision record and its actions' events, into ``processing``."""
        actor = Actor.policy(policy.name, policy.version)
        decided = Meta(actor, cause.timestamp, cause.correlation_id, cause.event_id)
        # The actions are caused by the decision, which is caused by the event.
        record_id = decision_id(policy.name, cause.event_id)
        acting = attrs.evolve(decided, causation_id=event_id(record_id, 1))
        changed, refusals = self._apply(decision.actions, acting)
        refusal = "; ".join(refusals) if refusals else None
        record = PolicyDecision.make(
            decided,
            policy=policy.name,
            version=policy.version,
            cause_id=cause.event_id,
            cause_position=notification.id,
            cause_topic=notification.topic,
            basis_position=basis,
            outcome=decision.outcome,
            reason=decision.reason,
            inputs=decision.inputs,
            actions=tuple(action.describe() for action in decision.actions),
            refusal=refusal,
        )
        processing.collect_events(record, *changed)

    def _apply(
        self, actions: tuple[Action, ...], meta: Meta
    ) -> tuple[list[KamAggregate], list[str]]:
        """Carry out the actions on the current records, record by record.

        A record that refuses one of its actions (a command changed it since the cause, say)
        keeps none of them; the other records' actions still take effect. Returns the changed
        records and a line per refused action.
        """
        by_record: dict[UUID, list[Action]] = {}
        for action in actions:
            by_record.setdefault(action.aggregate_id, []).append(action)
        changed: list[KamAggregate] = []
        refusals: list[str] = []
        for record_id, its_actions in by_record.items():
            record: KamAggregate = self.app.repository.get(record_id)
            # A decision takes effect when its cause happened, but never before what the record
            # already holds (a command may have changed it since).
            at = attrs.evolve(meta, at=max(meta.at, record.modified_on))
            try:
                for action in its_actions:
                    current = action
                    action.apply(record, at, self._context)
            except KamDomainError as error:
                refusals.append(f"{current.describe()}: {type(error).__name__}: {error}")
                continue
            changed.append(record)
        return changed, refusals

    def _parked(
        self, policy: Policy, cause: Any, notification: Any, error: BaseException
    ) -> DeadLetter:
        meta = Meta(
            Actor.policy(policy.name, policy.version),
            cause.timestamp,
            cause.correlation_id,
            cause.event_id,
        )
        return DeadLetter.park(
            meta,
            policy=policy.name,
            version=policy.version,
            cause_id=cause.event_id,
            cause_position=notification.id,
            cause_topic=notification.topic,
            error_type=type(error).__name__,
            error=str(error),
        )

    def _save(self, processing: ProcessingEvent[UUID], tracking: Tracking | None) -> _Saved:
        """Record the outcome; say whether we did, another engine did, or it must be redone."""
        try:
            self.app._record(processing)
        except (IntegrityError, RecordConflictError):
            # Either another engine recorded this position first (done), or a command changed
            # one of the records (decide again).
            recorder: Any = self.app.recorder
            if tracking is not None and recorder.has_tracking_id(
                tracking.application_name, tracking.notification_id
            ):
                return _Saved.BY_ANOTHER
            return _Saved.AGAIN
        self.app._take_snapshots(processing)
        return _Saved.BY_US

    def _retry(self, letter: DeadLetter) -> None:
        cause_notification = self._notification_at(letter.cause_position)
        cause: Any = self.app.mapper.to_domain_event(cause_notification)
        policy = self._active(letter.policy)
        for _ in range(CONFLICT_ATTEMPTS):
            processing = ProcessingEvent[UUID]()
            current = self._current_letter(letter.id)
            try:
                decision = policy.decide(cause, self.world)
                if decision is not None:
                    self._collect(
                        processing, policy, decision, cause, cause_notification, self.world.position
                    )
                outcome: BaseException | None = None
            except Exception as error:
                processing = ProcessingEvent[UUID]()
                outcome = error
            meta = Meta(
                Actor.policy(policy.name, policy.version),
                max(self.world.now or cause.timestamp, current.modified_on),
                cause.correlation_id,
                cause.event_id,
            )
            current.retried(meta, outcome)
            processing.collect_events(current)
            if self._save(processing, None) is not _Saved.AGAIN:
                return

    def _current_letter(self, letter_id: UUID) -> DeadLetter:
        letter: object = self.app.repository.get(letter_id)
        assert isinstance(letter, DeadLetter)
        return letter

    def _notification_at(self, position: int) -> Any:
        (notification,) = self.app.recorder.select_notifications(start=position, limit=1)
        return notification

    def __iter__(self) -> Iterator[Policy]:
        """The active policy of each name."""
        return (self._active(name) for name in self._instances)


class _Saved(enum.Enum):
    BY_US = "by us"
    BY_ANOTHER = "by another engine"
    AGAIN = "decide again"


class _StoreContext(ActionContext):
    """Credentials from the team's current record."""

    def __init__(self, app: ApplicationCore) -> None:
        self._app = app

    def credentials(self, team_id: TeamId, member_id: MemberId, at: datetime) -> Credentials:
        team: object = self._app.repository.get(team_id)
        if not isinstance(team, Team):
            raise TeamNotFound("team_id", team_id)
        if member_id not in team.members:
            raise MemberNotFound("member_id", member_id)
        return team.credentials(member_id, at)
