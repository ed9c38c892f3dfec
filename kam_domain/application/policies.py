"""Policy commands and queries of the facade: recorded time, configuration, versions, decisions.

In embedded mode (the default) the application runs its policies itself: a command returns once
the decisions it triggers are recorded. With ``run_policies=False`` the host leaves that to
``kam worker`` processes (or calls :meth:`PolicyCommands.run_policies` when it suits it).
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.persistence import ConnectionPoolClosedError, PersistenceError
from eventsourcing.utils import get_topic

from kam_domain.aggregates.base import KamAggregate
from kam_domain.application.core import ApplicationCore
from kam_domain.errors import KamDomainError, ValidationError
from kam_domain.policies.base import Policy
from kam_domain.policies.records import (
    CLOCK_ID,
    Clock,
    DeadLetter,
    PolicyDecision,
    PolicySettings,
    settings_id,
)
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.runtime.engine import PolicyEngine
from kam_domain.runtime.replay import ReplayReport, replay
from kam_domain.runtime.state import StoredState, state_of
from kam_domain.values import Actor, Period

__all__ = ["PolicyCommands"]

R = TypeVar("R")
_PAGE = 1000


class PolicyCommands(ApplicationCore):
    """Running the policies, and the commands and queries about them."""

    def __init__(
        self,
        store: str | None = None,
        *,
        policies: PolicyRegistry | Iterable[type[Policy]] | None = None,
        run_policies: bool = True,
        **options: Any,
    ) -> None:
        """``policies``: a registry or policy classes (default: the built-in ones and those
        installed by entry point); ``run_policies``: run them after each command (embedded)."""
        super().__init__(store, **options)
        if policies is None:
            registry = PolicyRegistry.default()
        elif isinstance(policies, PolicyRegistry):
            registry = policies
        else:
            registry = PolicyRegistry(policies)
        self.policies = PolicyEngine(self, registry)
        self.embedded_policies = run_policies

    def _commit(self, *aggregates: KamAggregate) -> None:
        super()._commit(*aggregates)
        # Inside a batch nothing is written yet: the policies run once, after it.
        if self.embedded_policies and self._pending() is None:
            self.policies.run()

    def close(self) -> None:
        """Record how far the policies have settled, and checkpoint their state, then close the
        store (a store that may not be written to is closed as it is)."""
        # Closing must close: a checkpoint not written is derived data the next start folds
        # again. Nothing is written while the interpreter shuts down (eventsourcing closes an
        # application that is garbage-collected, when modules may be half torn down), nor when
        # it was closed already (eventsourcing closes it again when it is garbage-collected).
        if not sys.is_finalizing() and not self.closing.is_set():
            with contextlib.suppress(PersistenceError, ConnectionPoolClosedError, KamDomainError):
                self.policies.flush()
        super().close()

    def run_policies(self) -> int:
        """Let every policy catch up with the log now; returns how many decisions were recorded."""
        return self.policies.run()

    # -- recorded time -------------------------------------------------------------------------

    def tick(self, actor: Actor | UUID, *, at: datetime | None = None) -> None:
        """Record that time ``at`` (default: now) has come; time-driven rules react to it."""
        meta = self._meta(actor, at)
        clock = self._clock(meta.at)
        clock.tick(meta)
        self._commit(clock)

    def close_period(
        self, period: Period, actor: Actor | UUID, *, at: datetime | None = None
    ) -> None:
        """Record that ``period`` has ended (the evaluation policy evaluates its targets).

        A period has ended once it has ended for every team on its own calendar (its time
        zone; a team that recorded none keeps UTC): for a store whose teams all keep
        Asia/Shanghai, 2026-Q2 ends at 2026-07-01T00:00+08:00 (16:00 UTC the day before).
        """
        if not isinstance(period, Period):
            raise ValidationError("period", f"must be a Period, not {period!r}")
        meta = self._meta(actor, at)
        ends, zone = max(
            (
                (team.period_end(period), team.zone_for(period))
                for team in map(self._team, self._directory().ids("team"))
            ),
            key=lambda item: item[0],
            default=(period.end, UTC),
        )
        clock = self._clock(meta.at)
        clock.close_period(meta, period, ends=ends, zone=zone)
        self._commit(clock)

    def recorded_time(self) -> datetime | None:
        """The latest time the clock recorded (a tick or a period close), None before any."""
        clock = self._load(CLOCK_ID)
        if clock is None:
            return None
        assert isinstance(clock, Clock)
        return clock.now

    # -- configuration and versions ------------------------------------------------------------

    def configure_policy(
        self,
        name: str,
        parameters: dict[str, Any],
        actor: Actor | UUID,
        *,
        reason: str,
        at: datetime | None = None,
    ) -> None:
        """Record parameters a policy reads (e.g. SLA hours) for its decisions from now on."""
        registry = self.policies.registry
        registry.get(name)
        meta = self._meta(actor, at)
        settings = self._settings(name, meta)
        allowed = {key for v in registry.versions(name) for key in registry.get(name, v).parameters}
        settings.configure(meta, parameters, frozenset(allowed), reason=reason)
        self._commit(settings)

    def activate_policy_version(
        self,
        name: str,
        version: int,
        actor: Actor | UUID,
        *,
        reason: str,
        at: datetime | None = None,
    ) -> None:
        """Make ``version`` of policy ``name`` the one that decides from now on."""
        self.policies.registry.get(name)
        meta = self._meta(actor, at)
        settings = self._settings(name, meta)
        settings.activate(meta, version, self.policies.registry.versions(name), reason=reason)
        self._commit(settings)

    # -- queries -------------------------------------------------------------------------------

    def decisions(self, policy: str | None = None) -> list[PolicyDecision]:
        """Recorded decisions (of ``policy``), in the order of their causes.

        Read from the log as recorded (by this process or by workers); runs no policy, so it
        works on a read-only store.
        """
        found = self._folded(PolicyDecision, PolicyDecision.Made)
        chosen = [d for d in found if policy is None or d.policy == policy]
        return sorted(chosen, key=lambda d: (d.cause_position, d.policy))

    def replay(
        self,
        *,
        versions: dict[str, int] | None = None,
        what_if: dict[str, int] | None = None,
        policies: set[str] | None = None,
        scratch: bool = False,
    ) -> ReplayReport:
        """Re-run the policies over the recorded log and compare; writes nothing to the store.

        ``versions`` replays named versions; ``what_if`` asks candidate versions what they would
        have decided differently (see :mod:`kam_domain.runtime.replay`). With ``scratch`` the
        world replay folds is kept in a temporary SQLite file (encoded as the store encodes
        its events, removed afterwards) rather than in memory.
        """
        with contextlib.ExitStack() as stack:
            state = None
            if scratch:
                folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kam-")))
                scratch_app = ApplicationCore(f"sqlite:///{folder / 'replay.db'}")
                stack.callback(scratch_app.close)
                recorder = state_of(scratch_app.recorder)
                assert recorder is not None
                state = StoredState(recorder, self.mapper)
            return replay(
                self.recorder,
                self.mapper,
                self.policies.registry,
                versions=versions,
                what_if=what_if,
                policies=policies,
                scratch=state,
            )

    def dead_letters(self, *, include_resolved: bool = False) -> list[DeadLetter]:
        """Parked events, oldest cause first (resolved ones only when asked); read-only."""
        found = self._folded(DeadLetter, DeadLetter.Parked, DeadLetter.Retried)
        letters = sorted(found, key=lambda letter: (letter.cause_position, letter.policy))
        return [letter for letter in letters if include_resolved or not letter.resolved]

    def retry_dead_letters(self, letter_id: UUID | None = None) -> list[DeadLetter]:
        """Process parked events again (one, or all unresolved); returns their new state."""
        return self.policies.retry(letter_id)

    # -- helpers ---

    def _folded(self, cls: type[R], *events: type[Any]) -> list[R]:
        """Every record of ``cls`` folded from ``events`` of the log, read page by page."""
        topics = [get_topic(event) for event in events]
        records: dict[UUID, Any] = {}
        start = 1
        while True:
            page = self._read(
                self.recorder.select_notifications, start=start, limit=_PAGE, topics=topics
            )
            for notification in page:
                event: Any = self.mapper.to_domain_event(notification)
                records[event.originator_id] = event.mutate(records.get(event.originator_id))
            if len(page) < _PAGE:
                return [record for record in records.values() if isinstance(record, cls)]
            start = page[-1].id + 1

    # -- the clock and the settings -------------------------------------------------------------

    def _clock(self, at: datetime) -> Clock:
        clock = self._load(CLOCK_ID)
        if clock is None:
            return Clock.start(self._meta(Actor.system("clock"), at))
        assert isinstance(clock, Clock)
        return clock

    def _settings(self, name: str, meta: Any) -> PolicySettings:
        settings = self._load(settings_id(name))
        if settings is None:
            return PolicySettings.open(meta, name)
        assert isinstance(settings, PolicySettings)
        return settings
