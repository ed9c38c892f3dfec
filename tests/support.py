"""Given-when-then helpers for aggregate tests: build metadata and credentials, replay events."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID, uuid4

from kam_domain.aggregates.base import KamAggregate, Meta
from kam_domain.aggregates.credentials import Credentials
from kam_domain.values import Actor, GrantId, MemberId, Percentage, Role, TeamId

A = TypeVar("A", bound=KamAggregate)

#: A fixed start, so tests read as a story in time.
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def at(days: float = 0, hours: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours)


def meta(actor: Credentials | Actor | UUID | None = None, when: datetime | None = None) -> Meta:
    """Command metadata for ``actor`` (credentials, a member id, or the company by default)."""
    if isinstance(actor, Credentials):
        actor = Actor.member(actor.member_id)
    elif isinstance(actor, UUID):
        actor = Actor.member(actor)
    return Meta.command(actor or Actor.system("company"), at=when or T0)


def creds(
    role: Role,
    *,
    name: str | None = None,
    authority: int | str | None = None,
    supervisor_id: UUID | None = None,
    active: bool = True,
    team_id: UUID | None = None,
    member_id: UUID | None = None,
    when: datetime | None = None,
) -> Credentials:
    """Credentials as a Team would hand them out, for aggregates other than Team."""
    return Credentials(
        member_id=MemberId(member_id or uuid4()),
        team_id=TeamId(team_id or uuid4()),
        name=name or role.label.title(),
        role=role,
        active=active,
        supervisor_id=None if supervisor_id is None else MemberId(supervisor_id),
        at=when or T0,
        discount_authority=None if authority is None else Percentage.of(authority),
        grant_id=None if authority is None else GrantId(uuid4()),
    )


def given(events: Iterable[Any]) -> Any:
    """The aggregate that these events (e.g. another aggregate's history) build."""
    aggregate = None
    for event in events:
        aggregate = event.mutate(aggregate)
    assert aggregate is not None, "given() needs at least one event"
    return aggregate


def history(aggregate: A) -> list[Any]:
    """Collect the aggregate's pending events (the 'given' part), leaving none pending."""
    return list(aggregate.collect_events())


def then(aggregate: KamAggregate) -> list[type[Any]]:
    """The types of the events the 'when' step recorded."""
    return [type(event) for event in aggregate.collect_events()]


def recorded(aggregate: KamAggregate) -> list[Any]:
    """The events the 'when' step recorded."""
    return list(aggregate.collect_events())


def state_of(aggregate: KamAggregate) -> dict[str, Any]:
    """A deep copy of what the aggregate's events set, without its version and timestamps."""
    return copy.deepcopy({k: v for k, v in vars(aggregate).items() if not k.startswith("_")})


@contextmanager
def unchanged(subject: Any) -> Iterator[None]:
    """Around a refused command: nothing was recorded and nothing changed.

    For an aggregate, its version, its pending events and its state are as they were; for an
    application (anything with a ``recorder``), the store's newest notification id is; for an
    SQLite store's URL (what the command line is given), its files hold the same bytes (or are
    still absent).
    """
    before = _snapshot(subject)
    yield
    assert _snapshot(subject) == before, "the refused command changed or recorded something"


def _snapshot(subject: Any) -> Any:
    if isinstance(subject, KamAggregate):
        # Deep, so that a command that changed a nested value before refusing is caught too.
        return subject.version, len(subject.pending_events), copy.deepcopy(vars(subject))
    if isinstance(subject, str) and subject.startswith("sqlite:///"):
        path = Path(subject.removeprefix("sqlite:///").split("?")[0])
        files = (path, path.with_name(f"{path.name}-wal"))
        return [file.read_bytes() if file.exists() else None for file in files]
    recorder = getattr(subject, "recorder", None)
    if recorder is None:
        msg = f"unchanged() takes an aggregate or an application, not {type(subject).__name__}"
        raise TypeError(msg)
    return recorder.max_notification_id()
