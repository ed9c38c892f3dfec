"""What every aggregate of the library shares: event metadata, effective time and event ids.

Every event carries the actor who caused it, a correlation id that follows a chain of commands
and decisions, and a causation id naming the command or event it came from. Its eventsourcing
``timestamp`` is the command's effective time (``Meta.at``), so time-driven rules and as-of
questions use recorded time, never the wall clock at replay.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID, uuid4, uuid5

import attrs
from eventsourcing.domain import Aggregate, BaseAggregate

from kam_domain.bounds import check_text
from kam_domain.errors import (
    MemberInactive,
    NotOnTeam,
    NotYourCredentials,
    TimestampOutOfOrder,
    ValidationError,
)
from kam_domain.transcoding import restore_tuples, transcoded
from kam_domain.values import Actor, ActorKind

__all__ = [
    "ONE_LINE",
    "CommandFamily",
    "KamAggregate",
    "Meta",
    "authorise",
    "event_id",
    "guarded_commands",
    "require_id",
    "require_text",
    "require_utc",
    "utc_now",
]


def utc_now() -> datetime:
    return datetime.now(tz=UTC)


def require_utc(field: str, moment: object) -> datetime:
    """Return ``moment`` in UTC; refuse naive datetimes and non-datetimes."""
    if not isinstance(moment, datetime):
        raise ValidationError(field, f"must be a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(field, "must be timezone-aware (naive datetimes are ambiguous)")
    return moment.astimezone(UTC)


def require_id(field: str, value: object) -> None:
    """Refuse anything but a UUID as a record's or an item's id."""
    if not isinstance(value, UUID):
        raise ValidationError(field, f"must be a UUID, not {value!r}")


def require_text(
    field: str, value: object, *, max_length: int = 500, multiline: bool | None = None
) -> str:
    """Return ``value`` stripped; refuse non-strings, empty strings, very long ones, and unsafe
    characters (:func:`kam_domain.bounds.check_text`).

    ``multiline``: whether line breaks and tabs are allowed; by default, in free text (longer
    than :data:`ONE_LINE` characters allowed: plans, descriptions, notes, comments) and not in
    names, labels and reasons.
    """
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, not {type(value).__name__}")
    if len(value) > 4 * max_length:
        # Checked before anything walks the text.
        raise ValidationError(field, f"must be at most {max_length} characters")
    text = value.strip()
    if not text:
        raise ValidationError(field, "must not be empty")
    if len(text) > max_length:
        raise ValidationError(field, f"must be at most {max_length} characters")
    return check_text(
        field, text, multiline=max_length > ONE_LINE if multiline is None else multiline
    )


#: The longest text kept to one line: names, labels, reasons.
ONE_LINE = 500


# Policies and replay ask each event for its id many times over; a uuid5 is a SHA-1.
@functools.lru_cache(maxsize=1 << 16)
def event_id(originator_id: UUID, originator_version: int) -> UUID:
    """The stable id of a stored event, used as the causation id of what it caused."""
    return uuid5(originator_id, str(originator_version))


def _utc_at(value: object) -> datetime:
    return require_utc("at", value)


@transcoded
@attrs.frozen
class Meta:
    """Who issues a command, when it takes effect, and the chain it belongs to."""

    actor: Actor = attrs.field(validator=attrs.validators.instance_of(Actor))
    at: datetime = attrs.field(converter=_utc_at)
    correlation_id: UUID = attrs.field(validator=attrs.validators.instance_of(UUID))
    causation_id: UUID = attrs.field(validator=attrs.validators.instance_of(UUID))

    @classmethod
    def command(
        cls,
        actor: Actor,
        *,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
        command_id: UUID | None = None,
    ) -> Self:
        """Metadata for a command from outside: it causes itself and starts its own chain."""
        command_id = command_id or uuid4()
        return cls(actor, at or utc_now(), correlation_id or command_id, command_id)


def authorise(
    meta: object, by: object, team_id: object, *, optional: bool = False, field: str = "actor"
) -> None:
    """The one authorisation guard: may the command's actor act with the credentials ``by``?

    Every command whose actor acts with credentials runs it before anything else (the aggregate
    base wraps them). Each condition has its exception: credentials that are not the acting
    member's (:class:`NotYourCredentials`), of another team (:class:`NotOnTeam`), of a member
    who has left (:class:`MemberInactive`). Which roles and how much authority a command needs
    the command itself says (:class:`RoleRequired`, :class:`AuthorityExceeded`).
    ``optional``: the command also runs without credentials, for a policy or a system actor.
    ``field`` names the credentials in messages (``approver`` for an approval).
    """
    if not isinstance(meta, Meta):
        raise ValidationError("meta", f"must be Meta, not {type(meta).__name__}")
    if by is None:
        if not optional:
            raise ValidationError(field, "this command needs the acting member's credentials")
        if meta.actor.kind is ActorKind.MEMBER:
            msg = "a member acts with their credentials; only a policy or system omits them"
            raise ValidationError(field, msg)
        return
    from kam_domain.aggregates.credentials import Credentials

    if not isinstance(by, Credentials):
        raise ValidationError(field, f"must be Credentials, not {type(by).__name__}")
    # A policy or system acts on a member's authority (an approval under the KAM's own grant);
    # a member acts only as themselves.
    if meta.actor.kind is ActorKind.MEMBER and meta.actor.member_id != by.member_id:
        msg = f"{field}: {meta.actor} cannot act with the credentials of {by.name} ({by.member_id})"
        raise NotYourCredentials(msg)
    if team_id is not None and by.team_id != team_id:
        raise NotOnTeam(f"{field}: {by.name} is not on team {team_id}")
    if not by.active:
        raise MemberInactive(f"{field}: {by.name} ({by.member_id}) has left the team")


def guarded_commands(cls: type) -> dict[str, bool]:
    """The commands of ``cls`` whose actor acts with credentials: name -> whether optional.

    A command is a public method (or class method) whose parameters go ``meta``, then the
    acting member's credentials (annotated ``Credentials``, or ``Credentials | None``). The
    commands of an aggregate include those of the command families it is composed from.
    """
    found = {}
    seen: set[str] = set()
    for owner in _composed(cls):
        for name, member in vars(owner).items():
            if name in seen:
                continue
            seen.add(name)
            function = member.__func__ if isinstance(member, classmethod) else member
            if name.startswith("_") or not inspect.isfunction(function):
                continue
            parameters = list(inspect.signature(function).parameters.values())[1:]
            if len(parameters) < 2 or parameters[0].name != "meta":
                continue
            annotation = str(parameters[1].annotation)
            if annotation.split(" | ")[0] == "Credentials":
                found[name] = annotation.endswith("| None")
    return found


def _composed(cls: type) -> list[type]:
    """``cls`` and the command families it is composed from, nearest first: the classes of its
    MRO before the next aggregate class (whose own families were taken in with it)."""
    owners = [cls]
    for base in cls.__mro__[1:]:
        if issubclass(base, BaseAggregate):
            break
        if base is not object:
            owners.append(base)
    return owners


def _guard(function: Callable[..., Any], *, optional: bool, bound: bool) -> Callable[..., Any]:
    signature = inspect.signature(function)
    acting = list(signature.parameters)[2]
    field = "actor" if acting == "by" else acting

    @functools.wraps(function)
    def guarded(owner: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind_partial(owner, *args, **kwargs).arguments
        team_id = owner.authorising_team() if bound else arguments.get("team_id")
        by = arguments.get(acting)
        authorise(arguments.get("meta"), by, team_id, optional=optional, field=field)
        return function(owner, *args, **kwargs)

    return guarded


class KamAggregate(Aggregate):
    """Base of the four aggregates: metadata on every event, effective time, ordered history."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        _adopt_events(cls)
        super().__init_subclass__(**kwargs)
        # Every command that takes the actor's credentials passes the one guard first.
        for name, optional in guarded_commands(cls).items():
            member = inspect.getattr_static(cls, name)
            if isinstance(member, classmethod):
                wrapped = _guard(member.__func__, optional=optional, bound=False)
                setattr(cls, name, classmethod(wrapped))
            else:
                setattr(cls, name, _guard(member, optional=optional, bound=True))

    def authorising_team(self) -> Any:
        """The team whose members may act on this record (a team's own id, for a team)."""
        return getattr(self, "team_id", None)

    class Event(Aggregate.Event):
        actor: Actor
        correlation_id: UUID
        causation_id: UUID

        def __post_init__(self) -> None:
            super().__post_init__()
            # JSON has no tuples: restore the tuples that events declare, so events round-trip.
            for field in dataclasses.fields(self):
                value = getattr(self, field.name)
                if isinstance(value, list):
                    object.__setattr__(self, field.name, restore_tuples(value))

        @property
        def event_id(self) -> UUID:
            return event_id(self.originator_id, self.originator_version)

    class Created(Event, Aggregate.Created):
        pass

    @classmethod
    def _start(cls, event_class: type[Any], meta: Meta, id: UUID, **fields: Any) -> Self:  # noqa: A002
        """Create the aggregate with its first event, stamped with ``meta``."""
        return cls._create(event_class, id=id, **_stamp(meta), **fields)

    def _record(self, event_class: type[Any], meta: Meta, **fields: Any) -> None:
        """Trigger ``event_class`` stamped with ``meta``; guards must have run already."""
        if meta.at < self.modified_on:
            msg = f"{meta.at.isoformat()} is before this record's last change"
            raise TimestampOutOfOrder(f"at: {msg} ({self.modified_on.isoformat()})")
        self.trigger_event(event_class, **_stamp(meta), **fields)


if TYPE_CHECKING:
    # To the type checker a family is part of its aggregate: it sees the aggregate's methods.
    CommandFamily = KamAggregate
else:

    class CommandFamily:
        """A family of an aggregate's commands, with the events they record (a mixin).

        An aggregate class composed from families (``class Project(Discounts, ...,
        KamAggregate)``) takes their event classes in as its own when it is defined, so
        eventsourcing redefines them on the aggregate: each is written under the aggregate's
        module and name (``<module>:<Aggregate>.<EventName>``), wherever it is declared, as if
        declared in the aggregate's body. A family declares no ``Event`` base of its own.
        """


def _adopt_events(cls: type) -> None:
    """Make the events of the families ``cls`` is composed from attributes of ``cls`` itself,
    before eventsourcing looks for the event classes an aggregate defines."""
    for family in _composed(cls)[1:]:
        for name, value in vars(family).items():
            if name in ("Event", "Created"):
                msg = f"{family.__qualname__} declares {name}: only an aggregate declares its base"
                raise TypeError(msg)
            is_event = isinstance(value, type) and issubclass(value, KamAggregate.Event)
            if is_event and name not in vars(cls):
                setattr(cls, name, value)


def _stamp(meta: Meta) -> dict[str, Any]:
    return {
        "timestamp": meta.at,
        "actor": meta.actor,
        "correlation_id": meta.correlation_id,
        "causation_id": meta.causation_id,
    }
