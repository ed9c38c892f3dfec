"""The facade's core: stamping commands, loading and saving aggregates, batches of commands.

The command and query mixins (teams, accounts, projects, targets) build on these few methods;
:class:`kam_domain.application.KamApplication` puts them together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
)
from eventsourcing.persistence import (
    IntegrityError,
    PersistenceError,
    RecordConflictError,
    Recording,
)

from kam_domain.aggregates.base import KamAggregate, Meta, utc_now
from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.team import Team
from kam_domain.application.asof import version_at
from kam_domain.application.batch import Batch
from kam_domain.application.directory import (
    DIRECTORY_ID,
    Directory,
    Entry,
    Listing,
    name_directory_id,
    team_directory_id,
)
from kam_domain.application.repository import cache_settings
from kam_domain.application.store import DEFAULT_CACHE_SIZE, StoreApplication
from kam_domain.errors import (
    AccountNotFound,
    AlreadyExists,
    ConcurrencyConflict,
    EffectiveTimeInFuture,
    MemberNotFound,
    NotFound,
    PolicyImpersonation,
    StoreUnavailable,
    TeamNotFound,
    ValidationError,
)
from kam_domain.values import Actor, ActorKind, MemberId, new_id

__all__ = [
    "DEFAULT_CACHE_SIZE",
    "DEFAULT_CLOCK_SKEW",
    "ApplicationCore",
    "cache_settings",
    "refuse_policy_actor",
]

A = TypeVar("A", bound=KamAggregate)
R = TypeVar("R")

#: How far a command's effective time may lie ahead of the clock (clocks of hosts differ a
#: little). Without a bound, one event dated far ahead freezes its record: every later command
#: is earlier than it, and is refused as out of order.
DEFAULT_CLOCK_SKEW = timedelta(minutes=5)


#: The largest clock skew a host may allow.
_MAX_SKEW = timedelta(days=1)


class ApplicationCore(StoreApplication):
    """Gives commands their metadata, loads and saves records, batches commands."""

    def __init__(
        self,
        store: str | None = None,
        *,
        env: dict[str, str] | None = None,
        cipher_key: str | None = None,
        compress: bool | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
        read_only: bool = False,
        read_snapshots: bool = True,
        clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
    ) -> None:
        """Open ``store`` (see :class:`StoreApplication` for the other options).

        ``clock_skew``: how far ahead of this process's clock an effective time (``at=``) may
        be; a command dated later is refused with :class:`EffectiveTimeInFuture`.
        """
        if not isinstance(clock_skew, timedelta) or not timedelta(0) <= clock_skew <= _MAX_SKEW:
            msg = f"must be a timedelta from 0 to {_MAX_SKEW}, not {clock_skew!r}"
            raise ValidationError("clock_skew", msg)
        self.clock_skew = clock_skew
        super().__init__(
            store,
            env=env,
            cipher_key=cipher_key,
            compress=compress,
            cache_size=cache_size,
            read_only=read_only,
            read_snapshots=read_snapshots,
        )

    # -- commands ------------------------------------------------------------------------------

    def _meta(
        self,
        actor: Actor | UUID,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
        command_id: UUID | None = None,
    ) -> Meta:
        """Stamp a command: a member id or an :class:`Actor`, its effective time, its chain."""
        if isinstance(actor, UUID):
            actor = Actor.member(actor)
        if not isinstance(actor, Actor):
            raise ValidationError("actor", f"must be a member id or Actor, not {actor!r}")
        refuse_policy_actor(actor)
        for field, value in (
            ("correlation_id", correlation_id),
            ("command_id", command_id),
        ):
            if value is not None and not isinstance(value, UUID):
                raise ValidationError(field, f"must be a UUID, not {value!r}")
        meta = Meta.command(actor, at=at, correlation_id=correlation_id, command_id=command_id)
        now = utc_now()
        if meta.at > now + self.clock_skew:
            msg = (
                f"at: {meta.at.isoformat()} is later than now ({now.isoformat()}) by more than "
                f"the allowed clock skew ({self.clock_skew})"
            )
            raise EffectiveTimeInFuture(msg)
        return meta

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """Save as eventsourcing does, refusing any event attributed to a policy.

        The engine records a policy's events through :meth:`_record`, together with the decision
        that explains them; an event attributed to a policy and saved here would have none.
        """
        for obj in objs:
            for event in getattr(obj, "pending_events", (obj,)):
                actor = getattr(event, "actor", None)
                if isinstance(actor, Actor):
                    refuse_policy_actor(actor)
        return super().save(*objs, **kwargs)

    def _get(
        self,
        cls: type[A],
        aggregate_id: object,
        not_found: type[NotFound],
        field: str,
        *,
        version: int | None = None,
        at: datetime | None = None,
    ) -> A:
        """Load an aggregate of type ``cls`` (as of ``at``, if given), or raise ``not_found``."""
        if not isinstance(aggregate_id, UUID):
            raise ValidationError(field, f"must be a UUID, not {aggregate_id!r}")
        batch = self._pending()
        if batch is not None and version is None and at is None:
            held = self._held(batch, aggregate_id)
            if held is not None:
                if not isinstance(held, cls):
                    raise not_found(field, aggregate_id)
                return held
        if at is not None:
            version = self._read(version_at, self.recorder, self.events, aggregate_id, at, version)
            if version is None:
                raise not_found(field, aggregate_id)
        try:
            aggregate = self._read(self.repository.get, aggregate_id, version=version)
        except AggregateNotFoundError:
            raise not_found(field, aggregate_id) from None
        if not isinstance(aggregate, cls):
            raise not_found(field, aggregate_id)
        if batch is not None and version is None:
            batch.keep(aggregate)
        return aggregate

    def _exists(self, aggregate_id: UUID) -> bool:
        batch = self._pending()
        if batch is not None and aggregate_id in batch:
            return True
        return bool(self._read(self.repository.__contains__, aggregate_id))

    def _load(self, record_id: UUID) -> object | None:
        """The record as this thread's batch (or else the store) holds it; None if there is none."""
        batch = self._pending()
        if batch is not None:
            held = self._held(batch, record_id)
            if held is not None:
                return held
        try:
            record: object = self._read(self.repository.get, record_id)
        except AggregateNotFoundError:
            return None
        if batch is not None and isinstance(record, KamAggregate):
            batch.keep(record)
        return record

    def _held(self, batch: Batch, record_id: UUID) -> KamAggregate | None:
        return self._read(batch.get, record_id)

    def _read(self, read: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Run a read against the store; a store that fails is StoreUnavailable, secrets masked."""
        try:
            return read(*args, **kwargs)
        except PersistenceError as error:
            msg = f"store: {self.store_url}: {self.store_url.scrub(error)}"
            raise StoreUnavailable(msg) from error

    def _directory(self, directory_id: UUID = DIRECTORY_ID) -> Directory:
        """A directory (the store's, unless ``directory_id`` names another), opened on first use."""
        directory = self._load(directory_id)
        if directory is None:
            return Directory.open(Meta.command(Actor.system("directory")), directory_id)
        assert isinstance(directory, Directory)
        return directory

    def _listing(self, team_id: UUID | None = None) -> Listing:
        """What is listed (for ``team_id``, or for every team): the teams' directories, after
        what a store written before they existed lists in its own."""
        store = self._directory()
        teams = store.ids("team") if team_id is None else [team_id]
        return Listing((store, *(self._directory(team_directory_id(tid)) for tid in teams)))

    def _account_named(self, name: str) -> UUID | None:
        """The id of the account called ``name`` (case and spacing ignored), if there is one."""
        named = self._load(name_directory_id(name))
        if isinstance(named, Directory):
            return next(iter(named.entries), None)
        return self._directory().account_named(name)

    def _listed(self, meta: Meta, record_id: UUID, entry: Entry) -> tuple[Directory, ...]:
        """The directories with ``record_id`` listed; commit them with the record itself."""
        if entry.kind == "team":
            return (self._list_in(DIRECTORY_ID, meta, record_id, entry),)
        listed = self._list_in(team_directory_id(entry.team_id), meta, record_id, entry)
        if entry.kind != "account":
            return (listed,)
        if self._account_named(entry.name) is not None:
            raise AlreadyExists(f"name: an account named {entry.name!r} already exists")
        # A stream of its own per name: a second writer of the same name conflicts on save.
        return listed, Directory.open_with(meta, name_directory_id(entry.name), record_id, entry)

    def _list_in(self, directory_id: UUID, meta: Meta, record_id: UUID, entry: Entry) -> Directory:
        directory = self._load(directory_id)
        if directory is None:
            return Directory.open_with(meta, directory_id, record_id, entry)
        assert isinstance(directory, Directory)
        directory.add(meta, record_id, entry)
        return directory

    def _team(self, team_id: object, field: str = "team_id") -> Team:
        return self._get(Team, team_id, TeamNotFound, field)

    def _accountable_kam(self, account_id: object, at: datetime) -> MemberId | None:
        """The KAM accountable for ``account_id`` at ``at`` (None when it has none)."""
        account = self._get(ClientAccount, account_id, AccountNotFound, "account_id")
        return account.accountable_kam_at(at)

    def _credentials(
        self,
        team: Team,
        member_id: object,
        at: datetime,
        field: str = "actor",
        *,
        written: datetime | None = None,
    ) -> Credentials:
        """The credentials of ``member_id`` in ``team`` at ``at`` (for a command written at
        ``written``, see :meth:`Team.credentials`); unknown ids name ``field``."""
        if not isinstance(member_id, UUID):
            raise ValidationError(field, f"must be a member id (UUID), not {member_id!r}")
        if MemberId(member_id) not in team.members:
            raise MemberNotFound(field, member_id)
        return team.credentials(MemberId(member_id), at, written=written)

    def _actor_credentials(self, team: Team, meta: Meta) -> Credentials:
        """The acting member's credentials for a command: what was in force at its effective
        time and not withdrawn by now, when it is written.

        A command dated before a revocation already recorded would otherwise act under the
        revoked authority; dated in the past, it is refused when it reaches beyond the team's
        backdating window, unless the actor holds the permission to import history.
        """
        member_id = meta.actor.member_id
        if member_id is None:
            raise ValidationError("actor", f"{meta.actor} is not a team member")
        now = utc_now()
        if meta.at < now:
            self._credentials(team, member_id, meta.at)  # an unknown member is named first
            team.check_backdating(MemberId(member_id), meta.at, now)
        return self._credentials(team, member_id, meta.at, written=now)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Record every command issued in the block in one transaction, when the block ends.

        For imports and scenarios: commands check and change their records as usual (later
        commands see earlier ones' changes), but nothing is written until the block ends, and
        nothing at all if it raises. Policies decide afterwards, once. Per thread; nested blocks
        join the outer one.
        """
        if self._pending() is not None:
            yield
            return
        batch = Batch(self._load_at)
        self._batches.pending = batch
        try:
            yield
        finally:
            self._batches.pending = None
        changed = self._read(batch.changed)
        if changed:
            self._commit(*changed)

    def _pending(self) -> Batch | None:
        """This thread's batch, if a block is open."""
        batch: Batch | None = getattr(self._batches, "pending", None)
        return batch

    def _load_at(self, record_id: UUID, version: int) -> KamAggregate:
        record: object = self.repository.get(record_id, version=version)
        assert isinstance(record, KamAggregate)
        return record

    def _commit(self, *aggregates: KamAggregate) -> None:
        """Save atomically; a concurrent writer's conflict becomes :class:`ConcurrencyConflict`.

        Inside :meth:`batch`, keep the records for the batch's single save instead.
        """
        batch = self._pending()
        if batch is not None:
            batch.accept(aggregates)
            return
        try:
            self.save(*aggregates)
        except (IntegrityError, RecordConflictError) as error:
            msg = "another writer changed the same record first; retry the command"
            raise ConcurrencyConflict(msg) from error
        except PersistenceError as error:
            msg = f"store: {self.store_url}: {self.store_url.scrub(error)}"
            raise StoreUnavailable(msg) from error

    def retrying(
        self,
        command: Callable[..., R],
        *args: Any,
        attempts: int = 20,
        backoff: float = 0.002,
        **kwargs: Any,
    ) -> R:
        """Run ``command``, again while it raises ConcurrencyConflict (at most ``attempts`` runs).

        Between runs it sleeps a random time up to ``backoff`` seconds, doubling each time (at
        most 0.5 s: tenacity's full-jitter exponential wait), so that writers contending for one
        record spread out instead of colliding again in step. The last conflict is raised as
        it is.
        """
        from tenacity import (
            Retrying,
            retry_if_exception_type,
            stop_after_attempt,
            wait_random_exponential,
        )

        retrying = Retrying(
            retry=retry_if_exception_type(ConcurrencyConflict),
            stop=stop_after_attempt(attempts),
            wait=wait_random_exponential(multiplier=backoff, max=0.5),
            reraise=True,
        )
        return retrying(command, *args, **kwargs)

    def _new(self, field: str, given: object, *, check_store: bool = True) -> UUID:
        """A fresh id, or the host's own ``given`` id once checked unused."""
        if given is None:
            return new_id()
        if not isinstance(given, UUID):
            raise ValidationError(field, f"must be a UUID, not {given!r}")
        if check_store and self._exists(given):
            raise AlreadyExists(f"{field}: {given} already exists")
        return given

    def _team_context(
        self,
        team_id: object,
        actor: Actor | UUID,
        at: datetime | None,
        correlation_id: UUID | None,
    ) -> tuple[Team, Meta, Credentials]:
        """Load the team, stamp the command, and look up the acting member's credentials."""
        team = self._team(team_id)
        meta = self._meta(actor, at, correlation_id)
        return team, meta, self._actor_credentials(team, meta)

    @contextmanager
    def _changing_team(
        self,
        team_id: object,
        actor: Actor | UUID,
        at: datetime | None,
        correlation_id: UUID | None,
    ) -> Iterator[tuple[Team, Meta, Credentials]]:
        """The team, the command's metadata and the actor's credentials; what the block records
        is committed when it ends (nothing, when it raises)."""
        team, meta, by = self._team_context(team_id, actor, at, correlation_id)
        yield team, meta, by
        self._commit(team)


def refuse_policy_actor(actor: Actor) -> None:
    """Only the engine acts as a policy: it records the decision in the same transaction."""
    if actor.kind is ActorKind.POLICY:
        msg = (
            f"actor: {actor} is a policy; a policy acts only through the policy engine,"
            " which records its decision with what it does"
        )
        raise PolicyImpersonation(msg)
