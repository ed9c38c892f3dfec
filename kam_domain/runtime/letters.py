"""Parked events: listing them, and processing them again (a part of the policy engine).

A policy that raises while deciding parks its cause as a
:class:`~kam_domain.policies.records.DeadLetter` and the engine goes on. Retrying one decides
about the cause again against the world as it is now, and settles whatever the decision's
actions record like a command's consequences, before anything else. :class:`Retrying` is
mixed into :class:`~kam_domain.runtime.engine.PolicyEngine`, whose state a retry shares: the
world, the walk's position, the lock.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import IntegrityError, RecordConflictError

from kam_domain.aggregates.base import Meta
from kam_domain.errors import DeadLetterNotFound, StateAhead
from kam_domain.policies.base import Decision, Policy
from kam_domain.policies.records import DeadLetter, PolicyDecision
from kam_domain.policies.world import World
from kam_domain.runtime.causal import Step, is_consequence
from kam_domain.runtime.scan import Scan
from kam_domain.values import Actor

if TYPE_CHECKING:
    from kam_domain.application.core import ApplicationCore

__all__ = ["CONFLICT_ATTEMPTS", "Retrying"]

#: Attempts at recording one decision when concurrent commands keep changing its records.
CONFLICT_ATTEMPTS = 10


class Retrying:
    """The engine's dead letters, and their retry."""

    app: ApplicationCore
    world: World
    _lock: threading.RLock
    _scan: Scan

    if TYPE_CHECKING:
        # What the engine provides.
        def run(self) -> int: ...
        def _reset(self) -> None: ...
        def _active(self, name: str) -> Policy: ...
        def _learn(self, step: Step) -> None: ...
        def _settle(self, unit: list[Step]) -> int: ...
        def _collect(
            self,
            processing: ProcessingEvent[UUID],
            policy: Policy,
            decision: Decision,
            cause: Any,
            step: Step,
            basis: int,
        ) -> None: ...

    def dead_letters(self, *, include_resolved: bool = False) -> list[DeadLetter]:
        """Parked events, oldest first."""
        self.run()
        letters = [self._current_letter(letter_id) for letter_id in self.world.letters()]
        return [letter for letter in letters if include_resolved or not letter.resolved]

    def retry(self, letter_id: UUID | None = None) -> list[DeadLetter]:
        """Process parked events again (one, or all unresolved) against the world as of now.

        A retry is settled like a command: what its decision's actions record is decided
        about before anything else.
        """
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
                steps = self._retry(letter)
                if steps:
                    for step in steps:
                        self._scan.consume(step.position)
                    self._settle_retry(steps)
            self.run()
            return [self._current_letter(letter.id) for letter in letters]

    def _settle_retry(self, steps: list[Step]) -> None:
        """Fold what a retry recorded, then settle what its actions' events lead to."""
        unsettled: list[Step] = []
        for step in steps:
            if is_consequence(step.event) and isinstance(
                step.event, PolicyDecision.Made | DeadLetter.Retried
            ):
                self._learn(step)
            else:
                unsettled.append(step)
        try:
            self._settle(unsettled)
        except BaseException:
            self._reset()
            raise

    def _retry(self, letter: DeadLetter) -> list[Step]:
        cause_step = self._step_at(letter.cause_position)
        cause: Any = cause_step.event
        policy = self._active(letter.policy)
        for _ in range(CONFLICT_ATTEMPTS):
            processing = ProcessingEvent[UUID]()
            current = self._current_letter(letter.id)
            basis = max(self.world.position, self._scan.position)
            try:
                decision = policy.decide(cause, self.world)
                if decision is not None:
                    self._collect(processing, policy, decision, cause, cause_step, basis)
                outcome: BaseException | None = None
            except StateAhead:
                raise
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
            try:
                recordings = self.app._record(processing)
            except (IntegrityError, RecordConflictError):
                continue
            self.app._take_snapshots(processing)
            return [Step(r.domain_event, r.notification) for r in recordings]
        return []

    def _current_letter(self, letter_id: UUID) -> DeadLetter:
        letter: object = self.app.repository.get(letter_id)
        assert isinstance(letter, DeadLetter)
        return letter

    def _step_at(self, position: int) -> Step:
        (notification,) = self.app.recorder.select_notifications(start=position, limit=1)
        return Step(self.app.mapper.to_domain_event(notification), notification)
