"""The key-account team (大客户营销团队): members in roles, supervisors, dated discount authority,
capacities, training and backups, and the evaluation standard set by the sales director.

Commands check their guards first and then record one or more events; nothing changes when a
guard raises. The Team is also where other aggregates' authorisation comes from:
:meth:`Team.credentials` says what a member may do at a given moment.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Self
from uuid import UUID

import attrs

from kam_domain.aggregates.base import KamAggregate, Meta, require_text, require_utc
from kam_domain.aggregates.credentials import Credentials
from kam_domain.bounds import check_computable
from kam_domain.errors import (
    AlreadyExists,
    BackdatedBeyondWindow,
    GrantBeyondOwnAuthority,
    GrantBeyondTopAuthority,
    InvalidTransition,
    MemberNotFound,
    NumberOutOfRange,
    RoleRequired,
    ValidationError,
)
from kam_domain.transcoding import IdMap, transcoded
from kam_domain.values import (
    ActorKind,
    GrantId,
    MemberId,
    Metric,
    Percentage,
    Role,
    TeamId,
    Tier,
    require_percentage,
)

__all__ = [
    "APPROVER_ROLES",
    "AuthorityGrant",
    "EvaluationStandard",
    "Member",
    "RatingBand",
    "Team",
    "TierWeights",
    "TrainingKind",
]

#: Roles that may hold discount authority (授权范围); representatives never approve.
#: The widest backdating window a team may set (beyond it, grant the permission to import).
_LONGEST_WINDOW = timedelta(days=366)

APPROVER_ROLES = (
    Role.KEY_ACCOUNT_MANAGER,
    Role.PROJECT_DIRECTOR,
    Role.SALES_DIRECTOR,
    Role.SENIOR_SALES_DIRECTOR,
)


class TrainingKind(enum.Enum):
    """后备团队培训、交叉培训、轮训: skills, cross-training, backup training and rotation."""

    SKILL = "skill"
    CROSS_TRAINING = "cross_training"
    BACKUP = "backup"
    ROTATION = "rotation"


transcoded(TrainingKind)


@transcoded
@attrs.frozen
class Member:
    """One person on the team, in one role at a time."""

    member_id: MemberId
    name: str
    role: Role
    active: bool = True
    supervisor_id: MemberId | None = None
    backup_id: MemberId | None = None
    capacity: int | None = None
    skills: frozenset[str] = frozenset()
    #: Members whose accounts this member has been cross-trained (or backup-trained) to cover.
    trained_to_cover: frozenset[MemberId] = frozenset()


@transcoded
@attrs.frozen
class AuthorityGrant:
    """A dated discount authority, granted by someone within their own authority."""

    grant_id: GrantId
    member_id: MemberId
    max_discount: Percentage
    valid_from: datetime
    valid_until: datetime | None
    granted_by: str
    revoked_at: datetime | None = None

    def in_force(self, at: datetime) -> bool:
        if at < self.valid_from:
            return False
        end = min(
            (moment for moment in (self.valid_until, self.revoked_at) if moment is not None),
            default=None,
        )
        return end is None or at < end


def _non_negative_int(
    field: str, high: int
) -> Callable[[object, attrs.Attribute[int], object], None]:
    def check(_: object, attribute: attrs.Attribute[int], value: object) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValidationError(field, f"{attribute.name} must be a whole number ≥ 0")
        if value > high:
            raise NumberOutOfRange(field, f"{attribute.name} must be at most {high}, not {value}")

    return check


def _computable(field: str) -> Callable[[object, attrs.Attribute[Decimal], object], None]:
    def check(_: object, attribute: attrs.Attribute[Decimal], value: object) -> None:
        check_computable(field, value)  # type: ignore[arg-type]

    return check


@transcoded
@attrs.frozen
class TierWeights:
    """How much of a KAM's capacity an account of each tier takes."""

    strategic: int = attrs.field(default=3, validator=_non_negative_int("tier_weights", 1000))
    major: int = attrs.field(default=2, validator=_non_negative_int("tier_weights", 1000))
    standard: int = attrs.field(default=1, validator=_non_negative_int("tier_weights", 1000))

    def of(self, tier: Tier) -> int:
        return int(getattr(self, tier.value))


@transcoded
@attrs.frozen(order=True)
class RatingBand:
    """A rating given to scores at or above ``min_score`` (e.g. ``A`` from 90)."""

    min_score: Decimal = attrs.field(validator=_computable("standard"))
    rating: str


def _check_weights(_: object, attribute: object, value: tuple[tuple[Metric, Decimal], ...]) -> None:
    metrics = [metric for metric, _ in value]
    if len(set(metrics)) != len(metrics) or not metrics:
        raise ValidationError("standard", "weights must name each metric at most once")
    if any(not isinstance(w, Decimal) or w < 0 for _, w in value):
        raise ValidationError("standard", "weights must be Decimals ≥ 0")
    for _, weight in value:
        check_computable("standard", weight)
    if sum((w for _, w in value), Decimal(0)) != Decimal(100):
        raise ValidationError("standard", "weights must add up to 100")


def _check_bands(_: object, attribute: object, value: tuple[RatingBand, ...]) -> None:
    if not value:
        raise ValidationError("standard", "needs at least one rating band")
    if len({band.min_score for band in value}) != len(value):
        raise ValidationError("standard", "rating bands must have distinct minimum scores")


def _pairs(value: Any) -> tuple[tuple[Metric, Decimal], ...]:
    items = value.items() if isinstance(value, dict) else value
    return tuple((Metric(metric), weight) for metric, weight in items)


def _descending(bands: Any) -> tuple[RatingBand, ...]:
    return tuple(sorted(bands, reverse=True))


@transcoded
@attrs.frozen
class EvaluationStandard:
    """考核办法: metric weights (adding to 100), rating bands, and the action-plan threshold."""

    weights: tuple[tuple[Metric, Decimal], ...] = attrs.field(
        converter=_pairs, validator=_check_weights
    )
    bands: tuple[RatingBand, ...] = attrs.field(
        converter=_descending,
        validator=_check_bands,
    )
    action_threshold: Decimal = attrs.field(default=Decimal(60), validator=_computable("standard"))
    #: Days after period end by which KAM and supervisor must sign off an evaluation.
    sign_off_days: int = attrs.field(default=10, validator=_non_negative_int("standard", 3660))

    def weight(self, metric: Metric) -> Decimal:
        return dict(self.weights).get(metric, Decimal(0))

    def rating(self, score: Decimal) -> str:
        for band in self.bands:
            if score >= band.min_score:
                return band.rating
        return self.bands[-1].rating

    @classmethod
    def default(cls) -> Self:
        return cls(
            weights=(
                (Metric.SALES_REVENUE, Decimal(60)),
                (Metric.SERVICE_LEVEL, Decimal(20)),
                (Metric.CUSTOMER_SATISFACTION, Decimal(20)),
            ),
            bands=(
                RatingBand(Decimal(90), "A"),
                RatingBand(Decimal(75), "B"),
                RatingBand(Decimal(60), "C"),
                RatingBand(Decimal(0), "D"),
            ),
        )


class Team(KamAggregate):
    """A key-account team and everything about its people that decisions depend on."""

    class Formed(KamAggregate.Created):
        name: str
        segment: str
        region: str
        default_capacity: int

    class MemberJoined(KamAggregate.Event):
        member_id: MemberId
        name: str
        role: Role
        supervisor_id: MemberId | None

        def apply(self, team: Team) -> None:
            team.members[self.member_id] = Member(
                self.member_id, self.name, self.role, supervisor_id=self.supervisor_id
            )

    class MemberLeft(KamAggregate.Event):
        member_id: MemberId
        reason: str

        def apply(self, team: Team) -> None:
            team._change(self.member_id, active=False)

    class RoleChanged(KamAggregate.Event):
        member_id: MemberId
        old_role: Role
        new_role: Role
        reason: str

        def apply(self, team: Team) -> None:
            team._change(self.member_id, role=self.new_role)

    class SupervisorSet(KamAggregate.Event):
        member_id: MemberId
        supervisor_id: MemberId

        def apply(self, team: Team) -> None:
            team._change(self.member_id, supervisor_id=self.supervisor_id)

    class AuthorityGranted(KamAggregate.Event):
        grant: AuthorityGrant
        #: The grantor's own credentials at the moment of granting (None for the company).
        grantor: Credentials | None

        def apply(self, team: Team) -> None:
            team.grants[self.grant.grant_id] = self.grant

    class TopAuthoritySet(KamAggregate.Event):
        """The company changed the team's top authority: no grant may exceed it from now on."""

        top_authority: Percentage

        def apply(self, team: Team) -> None:
            team.recorded_top_authority = self.top_authority

    class AuthorityRevoked(KamAggregate.Event):
        grant_id: GrantId
        reason: str

        def apply(self, team: Team) -> None:
            grant = team.grants[self.grant_id]
            team.grants[self.grant_id] = attrs.evolve(grant, revoked_at=self.timestamp)

    class CapacitySet(KamAggregate.Event):
        member_id: MemberId | None
        capacity: int

        def apply(self, team: Team) -> None:
            if self.member_id is None:
                team.default_capacity = self.capacity
            else:
                team._change(self.member_id, capacity=self.capacity)

    class TierWeightsSet(KamAggregate.Event):
        weights: TierWeights

        def apply(self, team: Team) -> None:
            team.tier_weights = self.weights

    class TrainingRecorded(KamAggregate.Event):
        member_id: MemberId
        kind: TrainingKind
        skill: str
        covers_member_id: MemberId | None

        def apply(self, team: Team) -> None:
            member = team.members[self.member_id]
            covered = member.trained_to_cover
            if self.covers_member_id is not None:
                covered = covered | {self.covers_member_id}
            team._change(
                self.member_id,
                skills=member.skills | {self.skill},
                trained_to_cover=covered,
            )

    class BackupDesignated(KamAggregate.Event):
        member_id: MemberId
        backup_id: MemberId

        def apply(self, team: Team) -> None:
            team._change(self.member_id, backup_id=self.backup_id)

    class HistoryImportGranted(KamAggregate.Event):
        """The member may record commands dated beyond the team's backdating window."""

        member_id: MemberId

        def apply(self, team: Team) -> None:
            team.history_importers = team.history_importers | {self.member_id}

    class HistoryImportRevoked(KamAggregate.Event):
        member_id: MemberId
        reason: str

        def apply(self, team: Team) -> None:
            team.history_importers = team.history_importers - {self.member_id}

    class BackdatingWindowSet(KamAggregate.Event):
        """How far before the moment it is written a command may be dated (seconds)."""

        seconds: int

        def apply(self, team: Team) -> None:
            team.backdating_window = self.seconds

    class EvaluationStandardSet(KamAggregate.Event):
        standard: EvaluationStandard
        effective_from: datetime

        def apply(self, team: Team) -> None:
            team.standards.append((self.effective_from, self.standard))
            team.standards.sort(key=lambda item: item[0])

    def __init__(self, name: str, segment: str, region: str, default_capacity: int) -> None:
        self.name = name
        self.segment = segment
        self.region = region
        self.default_capacity = default_capacity
        self.tier_weights = TierWeights()
        self.members: IdMap[MemberId, Member] = IdMap()
        self.grants: IdMap[GrantId, AuthorityGrant] = IdMap()
        self.standards: list[tuple[datetime, EvaluationStandard]] = []
        #: Set by TopAuthoritySet; until then the top authority is the formation's grant.
        self.recorded_top_authority: Percentage | None = None
        #: Members who may record commands dated beyond the backdating window.
        self.history_importers: frozenset[MemberId] = frozenset()
        #: Seconds a command may be dated before the moment it is written (None: no limit).
        self.backdating_window: int | None = None

    # -- commands ------------------------------------------------------------------------------

    @classmethod
    def form(
        cls,
        meta: Meta,
        team_id: TeamId,
        *,
        name: str,
        segment: str,
        region: str,
        director_id: MemberId,
        director_name: str,
        top_authority: Percentage,
        default_capacity: int = 12,
        import_history: bool = False,
    ) -> Self:
        """Form a team led by a senior sales director whose authority the company grants.

        ``import_history``: the team's history is being imported, and its director may record
        commands dated in the past (the permission is recorded, and can be revoked).
        """
        name = require_text("name", name)
        segment = require_text("segment", segment)
        region = require_text("region", region)
        director_name = require_text("director_name", director_name)
        _check_capacity("default_capacity", default_capacity)
        require_percentage("top_authority", top_authority)
        team = cls._start(
            cls.Formed,
            meta,
            team_id,
            name=name,
            segment=segment,
            region=region,
            default_capacity=default_capacity,
        )
        team._record(
            cls.MemberJoined,
            meta,
            member_id=director_id,
            name=director_name,
            role=Role.SENIOR_SALES_DIRECTOR,
            supervisor_id=None,
        )
        grant = AuthorityGrant(
            GrantId(director_id),
            director_id,
            top_authority,
            meta.at,
            None,
            str(meta.actor),
        )
        team._record(cls.AuthorityGranted, meta, grant=grant, grantor=None)
        if import_history is True:
            team._record(cls.HistoryImportGranted, meta, member_id=director_id)
        elif import_history is not False:
            raise ValidationError("import_history", "must be True or False")
        return team

    def join(
        self,
        meta: Meta,
        by: Credentials,
        member_id: MemberId,
        *,
        name: str,
        role: Role,
        supervisor_id: MemberId | None = None,
    ) -> None:
        """A director (or the senior admin manager, who recruits) adds a member."""
        by.require_role(
            "actor",
            Role.SENIOR_SALES_DIRECTOR,
            Role.SALES_DIRECTOR,
            Role.SENIOR_ADMIN_MANAGER,
        )
        name = require_text("name", name)
        _check_role("role", role)
        if role is Role.SENIOR_SALES_DIRECTOR:
            by.require_role("actor", Role.SENIOR_SALES_DIRECTOR)
        if member_id in self.members:
            raise AlreadyExists(f"member_id: {member_id} is already on the team")
        if supervisor_id is not None:
            self._check_supervisor("supervisor_id", supervisor_id)
        self._record(
            self.MemberJoined,
            meta,
            member_id=member_id,
            name=name,
            role=role,
            supervisor_id=supervisor_id,
        )

    def leave(self, meta: Meta, by: Credentials, member_id: MemberId, *, reason: str) -> None:
        """A director records that a member left; their authority ends with them."""
        by.require_director("actor")
        reason = require_text("reason", reason)
        member = self._active("member_id", member_id)
        if member.role is Role.SENIOR_SALES_DIRECTOR and self._count(member.role) == 1:
            raise InvalidTransition("member_id: the last senior sales director cannot leave")
        self._record(self.MemberLeft, meta, member_id=member_id, reason=reason)

    def change_role(
        self,
        meta: Meta,
        by: Credentials,
        member_id: MemberId,
        *,
        role: Role,
        reason: str,
    ) -> None:
        """A director moves a member to another role (senior grade needs a senior director)."""
        by.require_director("actor")
        _check_role("role", role)
        reason = require_text("reason", reason)
        member = self._active("member_id", member_id)
        if Role.SENIOR_SALES_DIRECTOR in (role, member.role):
            by.require_role("actor", Role.SENIOR_SALES_DIRECTOR)
        if member.role is role:
            raise InvalidTransition(f"role: {member.name} is already a {role.label}")
        if member.role is Role.SENIOR_SALES_DIRECTOR and self._count(member.role) == 1:
            raise InvalidTransition("member_id: the team needs a senior sales director")
        self._record(
            self.RoleChanged,
            meta,
            member_id=member_id,
            old_role=member.role,
            new_role=role,
            reason=reason,
        )

    def set_supervisor(
        self,
        meta: Meta,
        by: Credentials,
        member_id: MemberId,
        *,
        supervisor_id: MemberId,
    ) -> None:
        """A director sets whom a member reports to (a KAM reports to a sales director)."""
        by.require_director("actor")
        self._active("member_id", member_id)
        self._check_supervisor("supervisor_id", supervisor_id)
        if supervisor_id == member_id:
            raise ValidationError("supervisor_id", "a member cannot supervise themselves")
        self._record(self.SupervisorSet, meta, member_id=member_id, supervisor_id=supervisor_id)

    def grant_authority(
        self,
        meta: Meta,
        by: Credentials | None,
        grant_id: GrantId,
        member_id: MemberId,
        *,
        max_discount: Percentage,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
    ) -> None:
        """Grant a dated discount authority, within the grantor's own authority at that date.

        ``by`` is the granting director's credentials; ``None`` means the company itself
        (a system actor), which alone may grant a senior sales director beyond another's limit.
        """
        require_percentage("max_discount", max_discount)
        start = meta.at if valid_from is None else require_utc("valid_from", valid_from)
        end = None if valid_until is None else require_utc("valid_until", valid_until)
        if end is not None and end <= start:
            raise ValidationError("valid_until", "must be after valid_from")
        member = self._active("member_id", member_id)
        if member.role not in APPROVER_ROLES:
            msg = f"member_id: a {member.role.label} cannot hold discount authority"
            raise RoleRequired(msg)
        if max_discount > self.top_authority:
            msg = (
                f"max_discount: {max_discount} is above the team's top authority"
                f" {self.top_authority}; the company raises that first (set_top_authority)"
            )
            raise GrantBeyondTopAuthority(msg)
        if grant_id in self.grants:
            raise AlreadyExists(f"grant_id: {grant_id} was already granted")
        if by is None:
            if meta.actor.kind is not ActorKind.SYSTEM:
                raise ValidationError("actor", "only a system actor grants without credentials")
        else:
            by.require_director("actor")
            by.require_not("actor", member_id)
            own = self.credentials(by.member_id, start).discount_authority
            # ``by`` holds what was in force when the command took effect and was written.
            held = by.discount_authority
            own = None if own is None or held is None else min(own, held)
            if own is None or max_discount > own:
                msg = (
                    f"max_discount: {by.name} holds {own or 'none'} and cannot grant {max_discount}"
                )
                raise GrantBeyondOwnAuthority(msg)
        grant = AuthorityGrant(grant_id, member_id, max_discount, start, end, str(meta.actor))
        self._record(self.AuthorityGranted, meta, grant=grant, grantor=by)

    def set_top_authority(self, meta: Meta, top_authority: Percentage) -> None:
        """The company (a system actor) sets the most any grant on the team may give.

        Grants already made keep their limits; from then on nobody grants above it.
        """
        if meta.actor.kind is not ActorKind.SYSTEM:
            msg = f"{meta.actor} cannot set the top authority; only the company (a system actor)"
            raise RoleRequired(f"actor: {msg}")
        require_percentage("top_authority", top_authority)
        if top_authority == self.top_authority:
            raise InvalidTransition(f"top_authority: it is already {top_authority}")
        self._record(self.TopAuthoritySet, meta, top_authority=top_authority)

    def revoke_authority(
        self, meta: Meta, by: Credentials, grant_id: GrantId, *, reason: str
    ) -> None:
        """A director revokes a grant from now on; its past approvals stay valid."""
        by.require_director("actor")
        reason = require_text("reason", reason)
        grant = self.grants.get(grant_id)
        if grant is None:
            raise ValidationError("grant_id", f"no grant {grant_id}")
        if grant.revoked_at is not None:
            raise InvalidTransition(f"grant_id: {grant_id} was already revoked")
        self._record(self.AuthorityRevoked, meta, grant_id=grant_id, reason=reason)

    def set_capacity(
        self, meta: Meta, by: Credentials, member_id: MemberId | None, *, capacity: int
    ) -> None:
        """A director sets how much tier-weighted load a KAM (or, with None, anyone) carries."""
        by.require_director("actor")
        _check_capacity("capacity", capacity)
        if member_id is not None:
            self._active("member_id", member_id)
        self._record(self.CapacitySet, meta, member_id=member_id, capacity=capacity)

    def set_tier_weights(self, meta: Meta, by: Credentials, weights: TierWeights) -> None:
        by.require_director("actor")
        if not isinstance(weights, TierWeights):
            raise ValidationError("weights", "must be TierWeights")
        self._record(self.TierWeightsSet, meta, weights=weights)

    def record_training(
        self,
        meta: Meta,
        by: Credentials,
        member_id: MemberId,
        *,
        kind: TrainingKind,
        skill: str,
        covers_member_id: MemberId | None = None,
    ) -> None:
        """Directors and admin staff record training; cross/backup training names whom it covers."""
        by.require_active("actor")
        if not (by.role.is_director or by.role.is_admin):
            raise RoleRequired("actor: training is recorded by a director or admin staff")
        if not isinstance(kind, TrainingKind):
            raise ValidationError("kind", f"must be a TrainingKind, not {kind!r}")
        skill = require_text("skill", skill)
        self._active("member_id", member_id)
        if covers_member_id is not None:
            self._member("covers_member_id", covers_member_id)
            if covers_member_id == member_id:
                raise ValidationError("covers_member_id", "a member cannot cover themselves")
        self._record(
            self.TrainingRecorded,
            meta,
            member_id=member_id,
            kind=kind,
            skill=skill,
            covers_member_id=covers_member_id,
        )

    def designate_backup(
        self, meta: Meta, by: Credentials, member_id: MemberId, *, backup_id: MemberId
    ) -> None:
        """A director names who covers a member's accounts when they are away or leave."""
        by.require_director("actor")
        self._active("member_id", member_id)
        self._active("backup_id", backup_id)
        if backup_id == member_id:
            raise ValidationError("backup_id", "a member cannot be their own backup")
        self._record(self.BackupDesignated, meta, member_id=member_id, backup_id=backup_id)

    def set_evaluation_standard(
        self,
        meta: Meta,
        by: Credentials,
        standard: EvaluationStandard,
        *,
        effective_from: datetime | None = None,
    ) -> None:
        """The sales director sets the assessment method (考核办法) from a date on."""
        by.require_director("actor")
        if not isinstance(standard, EvaluationStandard):
            raise ValidationError("standard", "must be an EvaluationStandard")
        for band in standard.bands:
            require_text("standard", band.rating, max_length=20)
        start = meta.at if effective_from is None else require_utc("effective_from", effective_from)
        self._record(self.EvaluationStandardSet, meta, standard=standard, effective_from=start)

    def grant_history_import(self, meta: Meta, by: Credentials, member_id: MemberId) -> None:
        """The senior sales director lets a member record commands dated in the past."""
        by.require_role("actor", Role.SENIOR_SALES_DIRECTOR)
        self._active("member_id", member_id)
        if member_id in self.history_importers:
            raise AlreadyExists(f"member_id: {member_id} may already import history")
        self._record(self.HistoryImportGranted, meta, member_id=member_id)

    def revoke_history_import(
        self, meta: Meta, by: Credentials, member_id: MemberId, *, reason: str
    ) -> None:
        """The senior sales director ends a member's permission to import history."""
        by.require_role("actor", Role.SENIOR_SALES_DIRECTOR)
        reason = require_text("reason", reason)
        self._member("member_id", member_id)
        if member_id not in self.history_importers:
            raise InvalidTransition(f"member_id: {member_id} holds no permission to import history")
        self._record(self.HistoryImportRevoked, meta, member_id=member_id, reason=reason)

    def set_backdating_window(self, meta: Meta, by: Credentials, *, window: timedelta) -> None:
        """A director sets how far before the moment it is written a command may be dated."""
        by.require_director("actor")
        if not isinstance(window, timedelta) or window < timedelta(0):
            raise ValidationError("window", f"must be a timedelta of 0 or more, not {window!r}")
        if window > _LONGEST_WINDOW:
            raise ValidationError("window", f"must be at most {_LONGEST_WINDOW}")
        self._record(self.BackdatingWindowSet, meta, seconds=int(window.total_seconds()))

    # -- queries -------------------------------------------------------------------------------

    def authorising_team(self) -> TeamId:
        return TeamId(self.id)

    @property
    def top_authority(self) -> Percentage:
        """The most any grant on the team may give: as the company last set it, else the
        senior sales director's grant at formation (a team's first grant)."""
        # Records folded or snapshotted before the top authority was recorded lack the field.
        recorded: Percentage | None = getattr(self, "recorded_top_authority", None)
        if recorded is not None:
            return recorded
        first = next(iter(self.grants.values()))
        return first.max_discount

    def check_backdating(self, member_id: MemberId, at: datetime, now: datetime) -> None:
        """Refuse a command by ``member_id`` dated ``at`` and written ``now`` that reaches
        further back than the team's backdating window, unless the member may import history."""
        window = self.backdating_window
        if window is None or now - at <= timedelta(seconds=window):
            return
        if member_id in self.history_importers:
            return
        msg = (
            f"at: {at.isoformat()} is {now - at} before now, beyond the team's backdating "
            f"window of {timedelta(seconds=window)}; the actor holds no permission to import "
            "history"
        )
        raise BackdatedBeyondWindow(msg)

    def credentials(
        self, member_id: MemberId, at: datetime, *, written: datetime | None = None
    ) -> Credentials:
        """What ``member_id`` may do at ``at``: role, standing and the widest grant in force.

        ``written``: the moment a command dated ``at`` is written. A grant revoked by then no
        longer counts, even where the revocation took effect after ``at``: a command dated
        back must not act under an authority already withdrawn. A grant's own end
        (``valid_until``) is part of the grant, known when it was made, and applies at ``at``.
        """
        member = self._member("member_id", member_id)
        in_force = [
            g
            for g in self.grants.values()
            if g.member_id == member_id
            and g.in_force(at)
            and (written is None or g.revoked_at is None or g.revoked_at > written)
        ]
        best = max(in_force, key=lambda g: (g.max_discount, g.valid_from), default=None)
        return Credentials(
            member_id=member_id,
            team_id=TeamId(self.id),
            name=member.name,
            role=member.role,
            active=member.active,
            supervisor_id=member.supervisor_id,
            at=at,
            discount_authority=best.max_discount if best and member.active else None,
            grant_id=best.grant_id if best and member.active else None,
        )

    def active_members(self, *roles: Role) -> list[Member]:
        """Active members (of ``roles``, if given), in the order they joined."""
        return [m for m in self.members.values() if m.active and (not roles or m.role in roles)]

    def capacity_of(self, member_id: MemberId) -> int:
        member = self._member("member_id", member_id)
        return self.default_capacity if member.capacity is None else member.capacity

    def standard_at(self, at: datetime) -> EvaluationStandard:
        """The evaluation standard in force at ``at`` (the default before any was set)."""
        current = EvaluationStandard.default()
        for start, standard in self.standards:
            if start <= at:
                current = standard
        return current

    def is_cross_trained(self, backup_id: MemberId, for_member_id: MemberId) -> bool:
        backup = self.members.get(backup_id)
        return backup is not None and backup.active and for_member_id in backup.trained_to_cover

    # -- helpers -------------------------------------------------------------------------------

    def _member(self, field: str, member_id: object) -> Member:
        member = self.members.get(MemberId(member_id)) if isinstance(member_id, UUID) else None
        if member is None:
            raise MemberNotFound(field, member_id)
        return member

    def _active(self, field: str, member_id: object) -> Member:
        member = self._member(field, member_id)
        if not member.active:
            raise InvalidTransition(f"{field}: {member.name} has left the team")
        return member

    def _check_supervisor(self, field: str, supervisor_id: MemberId) -> None:
        supervisor = self._active(field, supervisor_id)
        if not supervisor.role.can_supervise:
            msg = f"{field}: a {supervisor.role.label} does not supervise others"
            raise RoleRequired(msg)

    def _count(self, role: Role) -> int:
        return len(self.active_members(role))

    def _change(self, member_id: MemberId, **changes: Any) -> None:
        self.members[member_id] = attrs.evolve(self.members[member_id], **changes)


def _check_role(field: str, role: object) -> None:
    if not isinstance(role, Role):
        raise ValidationError(field, f"must be a Role, not {role!r}")


def _check_capacity(field: str, capacity: object) -> None:
    if not isinstance(capacity, int) or isinstance(capacity, bool) or not 0 <= capacity <= 1000:
        raise ValidationError(field, f"must be a whole number from 0 to 1000, not {capacity!r}")
