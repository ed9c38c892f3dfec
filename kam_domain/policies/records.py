"""What the policy engine records beside the four aggregates.

- :class:`PolicyDecision` — one per (policy, causing event): the decision and its explanation.
  Its id is derived from the policy's name and the cause, so a decision can exist only once.
- :class:`DeadLetter` — an event a policy could not process, with the error; retried later.
- :class:`PolicySettings` — per policy: which version is active from when, and its parameters.
- :class:`Clock` — recorded time: ticks and period closes that time-driven rules react to.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any, Self, TypeAlias
from uuid import UUID, uuid5

from kam_domain.aggregates.base import KamAggregate, Meta, require_text
from kam_domain.errors import InvalidTransition, ValidationError
from kam_domain.values import Period
from kam_domain.zones import local_text

__all__ = [
    "CLOCK_ID",
    "Clock",
    "DeadLetter",
    "ParameterValue",
    "PolicyDecision",
    "PolicySettings",
    "dead_letter_id",
    "decision_id",
    "settings_id",
]

#: What a policy parameter may be: a whole number, an exact decimal, or text.
ParameterValue: TypeAlias = int | Decimal | str

_NAMESPACE = UUID("0b3d5c52-6c2e-4b8e-9d57-706f6c696379")
CLOCK_ID = uuid5(_NAMESPACE, "clock")


def decision_id(policy: str, cause_id: UUID) -> UUID:
    """The id of ``policy``'s decision about the event ``cause_id`` (whatever its version)."""
    return uuid5(_NAMESPACE, f"decision:{policy}:{cause_id}")


def dead_letter_id(policy: str, cause_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, f"dead-letter:{policy}:{cause_id}")


@functools.cache
def settings_id(policy: str) -> UUID:
    # Cached: the engine looks up each policy's settings at every event it folds.
    return uuid5(_NAMESPACE, f"settings:{policy}")


class PolicyDecision(KamAggregate):
    """A policy's decision about one event, explained."""

    class Made(KamAggregate.Created):
        policy: str
        version: int
        cause_id: UUID
        cause_position: int
        cause_topic: str
        #: The log position the decision was computed at: the cause's, or a retry's.
        basis_position: int
        outcome: str
        reason: str
        inputs: dict[str, str]
        actions: tuple[str, ...]
        #: None when every action was carried out; otherwise why the record refused them.
        refusal: str | None

    def __init__(
        self,
        policy: str,
        version: int,
        cause_id: UUID,
        cause_position: int,
        cause_topic: str,
        basis_position: int,
        outcome: str,
        reason: str,
        inputs: dict[str, str],
        actions: tuple[str, ...],
        refusal: str | None,
    ) -> None:
        self.policy = policy
        self.version = version
        self.cause_id = cause_id
        self.cause_position = cause_position
        self.cause_topic = cause_topic
        self.basis_position = basis_position
        self.outcome = outcome
        self.reason = reason
        self.inputs = dict(inputs)
        self.actions = list(actions)
        self.refusal = refusal

    @classmethod
    def make(cls, meta: Meta, **fields: Any) -> Self:
        return cls._start(
            cls.Made, meta, decision_id(fields["policy"], fields["cause_id"]), **fields
        )

    @property
    def applied(self) -> bool:
        return self.refusal is None


class DeadLetter(KamAggregate):
    """An event a policy failed on: parked with the error until it is retried."""

    class Parked(KamAggregate.Created):
        policy: str
        version: int
        cause_id: UUID
        cause_position: int
        cause_topic: str
        error_type: str
        error: str

    class Retried(KamAggregate.Event):
        succeeded: bool
        error_type: str | None
        error: str | None

        def apply(self, letter: DeadLetter) -> None:
            letter.attempts += 1
            if self.succeeded:
                letter.resolved = True
            else:
                letter.error_type = self.error_type or letter.error_type
                letter.error = self.error or letter.error

    def __init__(
        self,
        policy: str,
        version: int,
        cause_id: UUID,
        cause_position: int,
        cause_topic: str,
        error_type: str,
        error: str,
    ) -> None:
        self.policy = policy
        self.version = version
        self.cause_id = cause_id
        self.cause_position = cause_position
        self.cause_topic = cause_topic
        self.error_type = error_type
        self.error = error
        self.attempts = 1
        self.resolved = False

    @classmethod
    def park(cls, meta: Meta, **fields: Any) -> Self:
        letter_id = dead_letter_id(fields["policy"], fields["cause_id"])
        return cls._start(cls.Parked, meta, letter_id, **fields)

    def retried(self, meta: Meta, error: BaseException | None) -> None:
        if self.resolved:
            raise InvalidTransition("dead_letter: it was already processed")
        self._record(
            self.Retried,
            meta,
            succeeded=error is None,
            error_type=None if error is None else type(error).__name__,
            error=None if error is None else str(error),
        )


class PolicySettings(KamAggregate):
    """Which version of a policy decides from when, and the parameters it reads."""

    class Opened(KamAggregate.Created):
        policy: str

    class VersionActivated(KamAggregate.Event):
        version: int
        reason: str

        def apply(self, settings: PolicySettings) -> None:
            settings.active_version = self.version

    class ParametersSet(KamAggregate.Event):
        parameters: dict[str, ParameterValue]
        reason: str

        def apply(self, settings: PolicySettings) -> None:
            settings.parameters = {**settings.parameters, **self.parameters}

    def __init__(self, policy: str) -> None:
        self.policy = policy
        self.active_version: int | None = None
        self.parameters: dict[str, ParameterValue] = {}

    @classmethod
    def open(cls, meta: Meta, policy: str) -> Self:
        return cls._start(cls.Opened, meta, settings_id(policy), policy=policy)

    def activate(self, meta: Meta, version: int, known: frozenset[int], *, reason: str) -> None:
        """Make ``version`` the one that decides from now on; it must be registered."""
        if version not in known:
            versions = ", ".join(str(v) for v in sorted(known)) or "none"
            msg = f"no version {version} of {self.policy} is registered (registered: {versions})"
            raise ValidationError("version", msg)
        if self.active_version == version:
            raise InvalidTransition(f"version: {self.policy}@{version} is already active")
        self._record(
            self.VersionActivated, meta, version=version, reason=require_text("reason", reason)
        )

    def configure(
        self, meta: Meta, parameters: dict[str, Any], allowed: frozenset[str], *, reason: str
    ) -> None:
        """Record parameters (only those the policy reads) for decisions from now on."""
        if not parameters:
            raise ValidationError("parameters", "name at least one parameter")
        for name, value in parameters.items():
            if isinstance(value, bool | float) or not isinstance(value, int | Decimal | str):
                msg = f"{name} must be a whole number, a Decimal or text, not {value!r}"
                raise ValidationError("parameters", msg)
        unknown = sorted(set(parameters) - allowed)
        if unknown:
            names = ", ".join(sorted(allowed)) or "none"
            msg = f"{self.policy} has no parameter {', '.join(unknown)} (it reads: {names})"
            raise ValidationError("parameters", msg)
        self._record(
            self.ParametersSet,
            meta,
            parameters=dict(parameters),
            reason=require_text("reason", reason),
        )


class Clock(KamAggregate):
    """Recorded time, so that time-driven rules replay exactly: ticks and period closes."""

    class Started(KamAggregate.Created):
        pass

    class Ticked(KamAggregate.Event):
        def apply(self, clock: Clock) -> None:
            clock.now = self.timestamp

    class PeriodClosed(KamAggregate.Event):
        period: Period

        def apply(self, clock: Clock) -> None:
            clock.now = self.timestamp
            clock.closed_periods.append(self.period)

    def __init__(self) -> None:
        self.now: datetime | None = None
        self.closed_periods: list[Period] = []

    @classmethod
    def start(cls, meta: Meta) -> Self:
        return cls._start(cls.Started, meta, CLOCK_ID)

    def tick(self, meta: Meta) -> None:
        self._record(self.Ticked, meta)

    def close_period(
        self,
        meta: Meta,
        period: Period,
        *,
        ends: datetime | None = None,
        zone: tzinfo = UTC,
    ) -> None:
        """Record that ``period`` has ended; only once it has, and only once.

        ``ends``: the moment the period has ended for every team, on its own calendar (the
        application reads it from the teams' zones), shown on the wall clock of ``zone``; the
        period's UTC end unless given.
        """
        if not isinstance(period, Period):
            raise ValidationError("period", f"must be a Period, not {period!r}")
        end = period.end if ends is None else ends
        if meta.at < end:
            raise InvalidTransition(f"period: {period} runs until {local_text(end, zone)}")
        if period in self.closed_periods:
            raise InvalidTransition(f"period: {period} was already closed")
        self._record(self.PeriodClosed, meta, period=period)
