"""The demo's timeline: its seed, its quarter, and the steps gathered on it.

Steps are gathered first (all random draws happen then, in the order the scenario plans its
parts, so a seed fixes the whole record) and run in time order afterwards; a step planned
earlier runs first among steps of the same moment.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from kam_domain.application import KamApplication
from kam_domain.values import Actor, Period

__all__ = ["CLOCK", "CURRENCY", "QUARTER", "START", "TICK_EVERY", "Timeline"]

QUARTER = Period(2026, 1)
CURRENCY = "CNY"
START = datetime(2026, 1, 5, 9, tzinfo=UTC)
CLOCK = Actor.system("clock")
#: How often the host ticks the clock during the quarter.
TICK_EVERY = timedelta(hours=12)


class Timeline:
    """The demo's quarter for one seed: its random draws and the steps planned on it."""

    def __init__(self, app: KamApplication, seed: int) -> None:
        self.app = app
        self.seed = seed
        self.rng = random.Random(seed)
        self.team_id = self.uuid()
        self.suffix = "" if seed == 1 else f" ({seed})"
        self.steps: list[tuple[datetime, int, Callable[[], Any]]] = []
        self.members: dict[str, UUID] = {}
        self.accounts: list[dict[str, Any]] = []
        self.targets: dict[str, UUID] = {}

    def uuid(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def at(self, days: float, hours: float = 0) -> datetime:
        return START + timedelta(days=days, hours=hours)

    def step(self, when: datetime, action: Callable[..., Any], *args: Any) -> None:
        self.steps.append((when, len(self.steps), lambda: action(*args)))

    def run(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Every planned step, in time order (in planning order within a moment); ``progress``
        is told ``(steps done, steps)`` after each."""
        steps = sorted(self.steps, key=lambda item: (item[0], item[1]))
        for done, (_, _, action) in enumerate(steps, start=1):
            action()
            if progress is not None:
                progress(done, len(steps))
