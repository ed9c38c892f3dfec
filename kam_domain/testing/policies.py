"""Given-when-then for policy authors: given events, when an event, then the decision.

```python
scenario = PolicyScenario(MyPolicy())
scenario.given(*team.collect_events(), *account.collect_events())
decision = scenario.when(*project.collect_events())
assert decision is not None and decision.outcome == "approve"
```

``given`` folds events into a :class:`~kam_domain.policies.world.World` exactly as the engine does
(and lets the policy ``learn`` them); ``when`` folds the last event it is given and returns what
the policy decides about it, without recording anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kam_domain.aggregates.base import KamAggregate
from kam_domain.policies.base import Decision, Policy
from kam_domain.policies.world import World

__all__ = ["PolicyScenario"]


class PolicyScenario:
    """One policy, the world it sees, and the events that built it."""

    def __init__(self, policy: Policy, world: World | None = None) -> None:
        self.policy = policy
        self.world = world or World()

    def given(self, *events: Any) -> PolicyScenario:
        """Fold ``events`` (aggregates' collected events, in order) into the world."""
        for event in events:
            self._fold(event)
        return self

    def given_records(self, *records: KamAggregate) -> PolicyScenario:
        """Fold the pending events of each record (collecting them)."""
        return self.given(*_collected(records))

    def when(self, *events: Any) -> Decision | None:
        """Fold ``events``; the policy decides about the last one (None: nothing due)."""
        if not events:
            raise ValueError("when() needs the event the policy reacts to")
        for event in events:
            self._fold(event)
        last = events[-1]
        if not isinstance(last, self.policy.handles):
            return None
        return self.policy.decide(last, self.world)

    def _fold(self, event: Any) -> None:
        self.world.fold(event, self.world.position + 1)
        self.policy.learn(event, self.world)


def _collected(records: Iterable[KamAggregate]) -> list[Any]:
    return [event for record in records for event in record.collect_events()]
