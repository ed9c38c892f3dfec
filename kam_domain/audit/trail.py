"""The history of a record, and who was accountable for an account at a moment.

A trail lists every event of an account, project or target — or, for a member, every event
the member issued or is named in, anywhere in the log — with its position in the log, its
effective time and the time it was written (they differ for an event dated back), the event,
the actor, the causation and correlation ids, and its own fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from kam_domain.aggregates.base import require_utc
from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.audit.integrity import paged
from kam_domain.audit.records import Described, describe, mentions
from kam_domain.errors import MemberNotFound, ValidationError
from kam_domain.ledger import IndexedRecorder, SealedRecorder, moment
from kam_domain.values import Actor, MemberId

__all__ = [
    "Accountability",
    "AssignmentLine",
    "TrailEntry",
    "accountable",
    "member_names",
    "member_trail",
    "parse_moment",
    "record_trail",
]

#: Events read per query when the whole log is scanned.
PAGE_SIZE = 1000


@attrs.frozen
class TrailEntry:
    """One event in a record's history."""

    position: int | None
    described: Described
    actor_name: str | None = None
    #: When the event was written (None where the chain records no written time).
    written_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        d = self.described
        return {
            "position": self.position,
            "when": d.at.isoformat(),
            "written": self.written_at.isoformat() if self.written_at else None,
            "event": d.event,
            "record_id": str(d.record_id),
            "version": d.version,
            "actor": str(d.actor) if d.actor else None,
            "actor_name": self.actor_name,
            "causation_id": str(d.causation_id) if d.causation_id else None,
            "correlation_id": str(d.correlation_id) if d.correlation_id else None,
            "fields": d.fields,
        }


@attrs.frozen
class AssignmentLine:
    """One change of the accountable KAM, with its reason."""

    since: datetime
    kam_id: MemberId | None
    kam_name: str | None
    reason: str
    decided_by: str
    in_force: bool
    #: The deciding member's name, when a member decided.
    decided_by_name: str | None = None


@attrs.frozen
class Accountability:
    """Who was accountable for an account at a moment, and every assignment."""

    account_id: UUID
    account_name: str
    at: datetime
    kam_id: MemberId | None
    kam_name: str | None
    history: tuple[AssignmentLine, ...]


def record_trail(app: Any, record_id: UUID) -> list[TrailEntry]:
    """Every event of one record (account, project, target, team), in order."""
    names = member_names(app)
    positions = _positions(app, record_id)
    entries = []
    for event in app.events.get(record_id):
        position = positions.get(event.originator_version)
        entries.append(_entry(position, describe(event), names, _written(app, position)))
    return entries


def member_trail(app: Any, member_id: UUID, *, page_size: int = PAGE_SIZE) -> Iterator[TrailEntry]:
    """Every event, anywhere in the log, issued by ``member_id`` or naming them (streamed)."""
    names = member_names(app)
    if member_id not in names:
        raise MemberNotFound("member", member_id)
    for notification in _log(app, page_size):
        event = app.mapper.to_domain_event(notification)
        actor = getattr(event, "actor", None)
        if (isinstance(actor, Actor) and actor.member_id == member_id) or any(
            mentions(value, member_id)
            for name, value in vars(event).items()
            if name not in ("originator_id", "actor")
        ):
            yield _entry(notification.id, describe(event), names, _written(app, notification.id))


def accountable(app: Any, account: str | UUID, at: datetime) -> Accountability:
    """The KAM accountable for ``account`` (name or id) at ``at``, and all assignments."""
    moment = require_utc("at", at)
    found: ClientAccount = app.find_account(account)
    names = member_names(app)
    kam = found.accountable_kam_at(moment)
    in_force = None
    for assignment in found.assignment_history:
        if assignment.since <= moment:
            in_force = assignment
    history = tuple(
        AssignmentLine(
            a.since,
            a.kam_id,
            names.get(a.kam_id) if a.kam_id else None,
            a.reason,
            a.decided_by,
            a is in_force,
            _member_name(a.decided_by, names),
        )
        for a in found.assignment_history
    )
    return Accountability(
        found.id, found.name, moment, kam, names.get(kam) if kam else None, history
    )


def member_names(app: Any) -> dict[UUID, str]:
    """Every member of every team, by id."""
    return {
        member_id: member.name for team in app.teams() for member_id, member in team.members.items()
    }


def parse_moment(text: str) -> datetime:
    """An ISO 8601 moment; a time without an offset is refused (it would be ambiguous)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError("at", f"expected an ISO 8601 moment, not {text!r}") from None
    return require_utc("at", moment)


def _member_name(actor: str, names: dict[UUID, str]) -> str | None:
    kind, _, ref = actor.partition(":")
    if kind != "member":
        return None
    try:
        return names.get(UUID(ref))
    except ValueError:
        return None


def _entry(
    position: int | None,
    described: Described,
    names: dict[UUID, str],
    written_at: datetime | None = None,
) -> TrailEntry:
    member = described.actor.member_id if described.actor else None
    return TrailEntry(position, described, names.get(member) if member else None, written_at)


def _written(app: Any, position: int | None) -> datetime | None:
    """When the event at ``position`` was written, as its chain link records it."""
    if position is None or not isinstance(app.recorder, SealedRecorder):
        return None
    found = app.recorder.select_links(position, 1, stop=position)
    return moment(found[0].written_at) if found and found[0].written_at is not None else None


def _positions(app: Any, record_id: UUID) -> dict[int, int]:
    """Log positions of the record's versions: from the as-of index, else by scanning."""
    recorder = app.recorder
    if isinstance(recorder, IndexedRecorder):
        found = {e.originator_version: e.position for e in recorder.timeline(record_id)}
        if found:
            return found
    return {
        notification.originator_version: notification.id
        for notification in _log(app, PAGE_SIZE)
        if notification.originator_id == record_id
    }


def _log(app: Any, page_size: int) -> Iterator[Any]:
    """Every stored event, in log order, a page at a time."""
    return paged(
        lambda start: app.recorder.select_notifications(start, page_size),
        lambda notification: notification.id,
    )
