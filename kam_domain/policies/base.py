"""What a policy is: a small class with a name, a version, the events it handles, and a pure
``decide`` step from (event, the world as of that event) to one :class:`Decision`.

A decision says what was decided (``outcome``), why (``reason``), from what (``inputs``, rendered
as text so an auditor can read them), and which :class:`Action` objects carry it out on the
aggregates. The engine records the decision, with the policy's name and version, the event that
caused it and its position in the log, atomically with the actions' events and a tracking record.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

import attrs

from kam_domain.aggregates.base import KamAggregate, Meta
from kam_domain.aggregates.credentials import Credentials
from kam_domain.values import MemberId, TeamId

if TYPE_CHECKING:
    from kam_domain.policies.world import World

__all__ = ["Action", "ActionContext", "Decision", "Policy", "render"]


def render(value: object) -> str:
    """How an input is written into a decision: plain text, stable across runs."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(render(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {render(v)}" for k, v in value.items()) + "}"
    return str(value)


def _inputs(value: Mapping[str, object]) -> dict[str, str]:
    return {str(key): render(item) for key, item in value.items()}


def _actions(actions: Iterable[Action]) -> tuple[Action, ...]:
    return tuple(actions)


class ActionContext(ABC):
    """What an action may ask of the application while it is carried out."""

    @abstractmethod
    def credentials(self, team_id: TeamId, member_id: MemberId, at: datetime) -> Credentials:
        """A member's credentials from the team's current record, at ``at``."""


class Action(ABC):
    """One command a decision issues on one aggregate, as the deciding policy."""

    #: The aggregate the command changes.
    aggregate_id: UUID

    @abstractmethod
    def apply(self, aggregate: Any, meta: Meta, context: ActionContext) -> None:
        """Issue the command on ``aggregate`` (the current record) with ``meta``."""

    def describe(self) -> str:
        """One line for the decision record."""
        return repr(self)


@attrs.frozen
class Decision:
    """What a policy decided about one event."""

    #: Short and comparable, e.g. ``assign <kam id>``, ``escalate sales_director``, ``flag``.
    outcome: str
    reason: str
    inputs: dict[str, str] = attrs.field(factory=dict, converter=_inputs)
    actions: tuple[Action, ...] = attrs.field(default=(), converter=_actions)

    def comparable(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        """What replay compares: the outcome and the inputs weighed."""
        return self.outcome, tuple(sorted(self.inputs.items()))


class Policy(ABC):
    """A rule that reacts to events and decides.

    Subclasses set ``name`` (stable, lower-case), ``version`` (a whole number; two versions of a
    policy are two classes), ``handles`` (the event classes that trigger ``decide``) and
    ``parameters`` (defaults of the settings it reads, overridable by recorded configuration).
    ``decide`` must be a pure function of its arguments and of what ``learn`` kept: no clock, no
    I/O, no randomness, so that replaying the log gives the same decisions.
    """

    name: ClassVar[str]
    version: ClassVar[int]
    handles: ClassVar[tuple[type[KamAggregate.Event], ...]]
    description: ClassVar[str] = ""
    parameters: ClassVar[Mapping[str, Any]] = {}

    def learn(self, event: Any, world: World) -> None:  # noqa: B027 - optional hook
        """See every event in log order (before ``decide`` on the ones handled); default: no-op."""

    def learned(self, *, everything: bool = False) -> dict[str, Any] | None:
        """What ``learn`` kept that changed since the last call (all of it, ``everything``), as
        cells the engine's checkpoint holds: keys unique within the policy, values plain
        (numbers, text, UUIDs, moments, Money, enums, lists and dicts with text keys of these),
        None for a cell that is gone. ``restore`` must accept what this gives.

        A policy that learns nothing has nothing to keep; one that learns but does not say what
        returns None, and then the engine folds the log at every start instead of restoring.
        """
        return {} if type(self).learn is Policy.learn else None

    def restore(self, cells: Mapping[str, Any]) -> None:  # noqa: B027 - optional hook
        """Take back what ``learned(everything=True)`` gave, from a checkpoint."""

    @abstractmethod
    def decide(self, event: Any, world: World) -> Decision | None:
        """The decision about ``event`` given the world as of it, or None when nothing is due."""

    def settings(self, world: World) -> dict[str, Any]:
        """The parameters in force: the defaults, overridden by recorded configuration."""
        return {**self.parameters, **world.parameters(self.name)}

    @classmethod
    def key(cls) -> str:
        return f"{cls.name}@{cls.version}"


def learners(instances: Mapping[str, Mapping[int, Policy]]) -> dict[str, list[Policy]]:
    """Per policy name, the instances whose ``learn`` does something, in version order: the
    engine and replay call ``learn`` for every event, and most policies keep nothing."""
    return {
        name: [p for p in versions.values() if type(p).learn is not Policy.learn]
        for name, versions in instances.items()
    }
