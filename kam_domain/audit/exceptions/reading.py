"""One reading of the record that every check of the exceptions report shares.

``at`` answers as of a moment: records as they stood then (through the as-of index), policy
decisions recorded up to then, and deadlines measured against it. Without it, the records as they
are now, measured against the present.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from kam_domain.aggregates.base import KamAggregate, utc_now
from kam_domain.aggregates.target import ScopeKind, Target
from kam_domain.aggregates.team import Team
from kam_domain.audit.exceptions.findings import EventRef
from kam_domain.audit.logs import paged
from kam_domain.audit.trail import member_names
from kam_domain.errors import NotFound
from kam_domain.ledger import IndexedRecorder
from kam_domain.policies.records import PolicyDecision

if TYPE_CHECKING:
    from kam_domain.application import KamApplication

__all__ = ["Events", "Reading"]

A = TypeVar("A", bound=KamAggregate)

_PAGE = 1000


class Events:
    """Each record's stored events, read once, and their positions in the log."""

    def __init__(self, app: KamApplication) -> None:
        self.app = app
        self._events: dict[UUID, list[Any]] = {}
        self._positions: dict[UUID, dict[int, int]] = {}
        self._scanned: dict[tuple[UUID, int], int] | None = None

    def of(self, record_id: UUID) -> list[Any]:
        if record_id not in self._events:
            self._events[record_id] = list(self.app.repository.event_store.get(record_id))
        return self._events[record_id]

    def ref(self, event: Any, note: str | None = None) -> EventRef:
        return self.ref_to(
            event.originator_id, event.originator_version, type(event).__qualname__, note
        )

    def ref_to(
        self, record_id: UUID, version: int, event: str, note: str | None = None
    ) -> EventRef:
        return EventRef(self.position(record_id, version), record_id, version, event, note)

    def find(
        self, record_id: UUID, cls: type[Any], until: datetime | None = None, **fields: Any
    ) -> list[Any]:
        """The record's events of ``cls`` whose ``fields`` match, up to ``until``."""
        return [
            event
            for event in self.of(record_id)
            if isinstance(event, cls)
            and (until is None or event.timestamp <= until)
            and all(getattr(event, name) == value for name, value in fields.items())
        ]

    def refs(
        self, record_id: UUID, cls: type[Any], until: datetime | None = None, **fields: Any
    ) -> list[EventRef]:
        return [self.ref(event) for event in self.find(record_id, cls, until, **fields)]

    def last(
        self, record_id: UUID, cls: type[Any], until: datetime | None = None, **fields: Any
    ) -> list[EventRef]:
        """The latest matching event, as a list of at most one."""
        return self.refs(record_id, cls, until, **fields)[-1:]

    def position(self, record_id: UUID, version: int) -> int | None:
        recorder = self.app.recorder
        if isinstance(recorder, IndexedRecorder):
            if record_id not in self._positions:
                self._positions[record_id] = {
                    entry.originator_version: entry.position
                    for entry in recorder.timeline(record_id)
                }
            found = self._positions[record_id].get(version)
            if found is not None:
                return found
        return self._scan().get((record_id, version))

    def _scan(self) -> dict[tuple[UUID, int], int]:
        # Events the as-of index does not hold (another adapter, or stored before the index
        # existed): one pass over the log finds them all.
        if self._scanned is None:
            self._scanned = {
                (_uuid(n.originator_id), n.originator_version): n.id
                for n in paged(
                    lambda start: self.app.recorder.select_notifications(start or 1, _PAGE),
                    lambda notification: notification.id,
                )
            }
        return self._scanned

    def at_position(self, position: int) -> EventRef | None:
        """The stored event at ``position`` in the log (None when there is none)."""
        found = self.app.recorder.select_notifications(position, 1)
        if not found or found[0].id != position:
            return None
        notification = found[0]
        name = notification.topic.rpartition(":")[2]
        record_id = _uuid(notification.originator_id)
        return EventRef(position, record_id, notification.originator_version, name)


class Reading:
    """The record as the checks read it: its events, its people and decisions, its records
    as of the moment."""

    def __init__(self, app: KamApplication, at: datetime | None) -> None:
        self.app = app
        self.as_of = at
        self.moment = at if at is not None else utc_now()
        self.events = Events(app)
        self.names = member_names(app)
        self.decisions = [d for d in app.decisions() if at is None or d.created_on <= at]
        self._teams: dict[tuple[UUID, datetime | None], Team | None] = {}
        accounts = app.accounts()
        self.accounts = self.records(accounts, app.get_account)
        self.account_names = {account.id: account.name for account in accounts}

    def records(self, listed: Iterable[A], get: Callable[..., A]) -> list[A]:
        """``listed`` (current records) as they stood at the moment; those not yet recorded
        then are left out."""
        if self.as_of is None:
            return list(listed)
        found = []
        for record in listed:
            try:
                found.append(get(record.id, at=self.as_of))
            except NotFound:
                continue
        return found

    def team(self, team_id: UUID, at: datetime | None = None) -> Team | None:
        """The team at ``at`` (default: at the report's moment), None before it was formed."""
        when = at if at is not None else self.as_of
        key = (team_id, when)
        if key not in self._teams:
            try:
                self._teams[key] = (
                    self.app.get_team(team_id)
                    if when is None
                    else self.app.get_team(team_id, at=when)
                )
            except NotFound:
                self._teams[key] = None
        return self._teams[key]

    def name(self, member_id: UUID | None) -> str:
        if member_id is None:
            return "nobody"
        return self.names.get(member_id, str(member_id))

    def decided(self, policy: str) -> list[PolicyDecision]:
        return [d for d in self.decisions if d.policy == policy]

    def decision_ref(self, decision: PolicyDecision) -> EventRef:
        note = f"{decision.policy}@{decision.version}: {decision.outcome}"
        return self.events.ref_to(decision.id, 1, PolicyDecision.Made.__qualname__, note)

    def scope_name(self, target: Target) -> str:
        scope = target.scope
        if scope.kind is ScopeKind.ACCOUNT:
            name = self.account_names.get(scope.id, str(scope.id))
        elif scope.kind is ScopeKind.MEMBER:
            name = f"KAM {self.name(scope.id)}"
        else:
            team = self.team(scope.id)
            name = f"team {team.name if team is not None else scope.id}"
        return f"target {name} {target.period}"


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)
