"""``kam policies list``: each registered policy as the store knows it (read from the log)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.utils import get_topic

from kam_domain.application import KamApplication
from kam_domain.policies.records import PolicySettings, settings_id
from kam_domain.runtime.scan import initial_cursor

__all__ = ["PolicyStatus", "policy_status"]

#: Notifications read at a time.
PAGE = 1000


class PolicyStatus:
    """One registered policy as the store knows it."""

    def __init__(
        self,
        name: str,
        versions: Sequence[int],
        active: int,
        activated: bool,
        tracked: int,
        lag: int,
    ) -> None:
        self.name = name
        self.versions = list(versions)
        self.active = active
        #: False while the default version decides because none was activated.
        self.activated = activated
        self.tracked = tracked
        #: Events of the kinds the active version handles, recorded after ``tracked``.
        self.lag = lag

    def row(self) -> dict[str, object]:
        return {
            "policy": self.name,
            "versions": ",".join(str(v) for v in self.versions),
            "active": self.active if self.activated else f"{self.active} (default)",
            "tracked": self.tracked,
            "lag": self.lag,
        }


def policy_status(app: KamApplication) -> list[PolicyStatus]:
    """Each registered policy: versions, the active one, its tracked position and its lag."""
    registry = app.policies.registry
    recorder: Any = app.recorder
    statuses = []
    for name in registry.names():
        try:
            settings: object = app.repository.get(settings_id(name))
        except AggregateNotFoundError:
            settings = None
        chosen = settings.active_version if isinstance(settings, PolicySettings) else None
        active = chosen or registry.default_version(name)
        tracked = initial_cursor(recorder, registry.names())
        handles = registry.get(name, active).handles if active in registry.versions(name) else ()
        statuses.append(
            PolicyStatus(
                name,
                sorted(registry.versions(name)),
                active,
                chosen is not None,
                tracked,
                _count(app, tracked + 1, [get_topic(cls) for cls in handles]),
            )
        )
    return statuses


def _count(app: KamApplication, start: int, topics: list[str]) -> int:
    if not topics:
        return 0
    total = 0
    while True:
        page = app.recorder.select_notifications(start=start, limit=PAGE, topics=topics)
        total += len(page)
        if len(page) < PAGE:
            return total
        start = page[-1].id + 1
