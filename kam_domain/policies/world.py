"""The world a policy decides in: every record as of one position of the log.

The engine folds each event of the log, in order, into the record it belongs to, and hands the
world to a policy right after folding the event that triggers it. A decision therefore depends on
the log up to its cause and nothing else — which is what lets replay reproduce it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from kam_domain.aggregates.base import KamAggregate
from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.aggregates.project import Project
from kam_domain.aggregates.target import Target
from kam_domain.aggregates.team import Team
from kam_domain.policies.records import (
    CLOCK_ID,
    Clock,
    PolicyDecision,
    PolicySettings,
    decision_id,
    settings_id,
)
from kam_domain.values import Period

__all__ = ["World"]

A = TypeVar("A", bound=KamAggregate)


class World:
    """Every record as of ``position``; ``now`` is the time of the last event folded."""

    def __init__(self) -> None:
        self.position = 0
        self.now: datetime | None = None
        self._records: dict[UUID, Any] = {}
        # The same records by class, each in creation order: policies list records of one kind
        # at almost every event, and a scan of every record (decisions included) grows with
        # the log.
        self._by_class: dict[type, dict[UUID, Any]] = {}
        self._created: dict[UUID, int] = {}

    def fold(self, event: Any, position: int) -> None:
        """Bring the record ``event`` belongs to up to date; events come in log order."""
        key = event.originator_id
        record = self._records.get(key)
        folded = event.mutate(record)
        self._records[key] = folded
        if type(folded) is not type(record):
            if record is not None:
                del self._by_class[type(record)][key]
            if folded is not None:
                self._created.setdefault(key, len(self._created))
                self._by_class.setdefault(type(folded), {})[key] = folded
        elif folded is not record:
            self._by_class[type(folded)][key] = folded
        self.position = position
        self.now = event.timestamp

    # -- lookups -------------------------------------------------------------------------------

    def get(self, record_id: UUID, cls: type[A]) -> A | None:
        record = self._records.get(record_id)
        return record if isinstance(record, cls) else None

    def all(self, cls: type[A]) -> Iterator[A]:
        """Records of ``cls`` in the order they were created."""
        groups = [group for kind, group in self._by_class.items() if issubclass(kind, cls)]
        if len(groups) == 1:
            return iter(list(groups[0].values()))
        found = [(self._created[key], record) for group in groups for key, record in group.items()]
        return iter([record for _, record in sorted(found, key=lambda pair: pair[0])])

    def team(self, team_id: UUID) -> Team | None:
        return self.get(team_id, Team)

    def teams(self) -> list[Team]:
        return list(self.all(Team))

    def accounts(self, team_id: UUID | None = None) -> list[ClientAccount]:
        return [a for a in self.all(ClientAccount) if team_id is None or a.team_id == team_id]

    def projects(self, team_id: UUID | None = None) -> list[Project]:
        return [p for p in self.all(Project) if team_id is None or p.team_id == team_id]

    def targets(self, team_id: UUID | None = None, period: Period | None = None) -> list[Target]:
        return [
            t
            for t in self.all(Target)
            if (team_id is None or t.team_id == team_id) and (period is None or t.period == period)
        ]

    @property
    def clock(self) -> Clock | None:
        return self.get(CLOCK_ID, Clock)

    # -- the policies' own records -------------------------------------------------------------

    def parameters(self, policy: str) -> dict[str, Any]:
        """Parameters recorded for ``policy`` so far (without its defaults)."""
        settings = self.get(settings_id(policy), PolicySettings)
        return {} if settings is None else dict(settings.parameters)

    def active_version(self, policy: str) -> int | None:
        """The version activated for ``policy`` so far, None when none was."""
        settings = self.get(settings_id(policy), PolicySettings)
        return None if settings is None else settings.active_version

    def decision(self, policy: str, cause_id: UUID) -> PolicyDecision | None:
        """``policy``'s recorded decision about event ``cause_id``, once folded."""
        return self.get(decision_id(policy, cause_id), PolicyDecision)

    def decisions(self, policy: str) -> list[PolicyDecision]:
        return [d for d in self.all(PolicyDecision) if d.policy == policy]
