"""A toy record and policy that worker processes load by import path (``--policies``).

Every :class:`Ping` sent gets exactly one answer from the :class:`Echo` policy: a decision and an
``Answered`` event on the ping, recorded together. A ping whose label starts with ``poison`` makes
the policy fail until the parameter ``poison`` is configured as ``tolerated``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, ClassVar, Self
from uuid import UUID, uuid4

from kam_domain.aggregates.base import KamAggregate, Meta
from kam_domain.application import KamApplication
from kam_domain.policies import Action, ActionContext, Decision, Policy, World
from kam_domain.topics import register_aggregate
from kam_domain.values import Actor

#: The import path a worker is given: ``--policies tests.policies.toy:Echo``.
ECHO = "tests.policies.toy:Echo"
ECHO_V2 = "tests.policies.toy:EchoV2"


@register_aggregate
class Ping(KamAggregate):
    """Something that asks for one answer."""

    class Sent(KamAggregate.Created):
        label: str

    class Answered(KamAggregate.Event):
        answer: str

        def apply(self, ping: Ping) -> None:
            ping.answers.append(self.answer)

    def __init__(self, label: str) -> None:
        self.label = label
        self.answers: list[str] = []

    @classmethod
    def send(cls, label: str) -> Self:
        return cls._start(cls.Sent, Meta.command(Actor.system("toy")), uuid4(), label=label)

    def answer(self, meta: Meta, answer: str) -> None:
        self._record(self.Answered, meta, answer=answer)


class Answer(Action):
    def __init__(self, ping_id: UUID, answer: str) -> None:
        self.aggregate_id = ping_id
        self.answer = answer

    def apply(self, aggregate: Any, meta: Meta, context: ActionContext) -> None:
        aggregate.answer(meta, self.answer)

    def describe(self) -> str:
        return f"answer {self.aggregate_id}"


class Echo(Policy):
    """Answers each ping; fails on poison until told to tolerate it."""

    name = "echo"
    version = 1
    handles = (Ping.Sent,)
    parameters: ClassVar[dict[str, Any]] = {"poison": "refused"}

    def decide(self, event: Any, world: World) -> Decision | None:
        if event.label.startswith("poison") and self.settings(world)["poison"] != "tolerated":
            raise RuntimeError(f"cannot answer {event.label}")
        return Decision(
            "answer",
            "every ping is answered once",
            {"label": event.label},
            actions=[Answer(event.originator_id, f"pong {event.label}")],
        )


def send(app: KamApplication, labels: Iterable[str]) -> list[UUID]:
    """Record one ping per label, each in its own transaction (a stream of commands)."""
    sent = []
    for label in labels:
        ping = Ping.send(label)
        app.save(ping)
        sent.append(ping.id)
    return sent


class EchoV2(Echo):
    """Version 2 answers louder, and reads more parameters."""

    version = 2
    parameters: ClassVar[dict[str, Any]] = {
        "poison": "refused",
        "volume": 11,
        "ratio": Decimal("0.5"),
    }

    def decide(self, event: Any, world: World) -> Decision | None:
        return Decision(
            "answer loudly",
            "every ping is answered once",
            {"label": event.label},
            actions=[Answer(event.originator_id, f"PONG {event.label}")],
        )
