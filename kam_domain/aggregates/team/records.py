"""The records a team holds: its members, their dated discount authority grants, how much of a
KAM's capacity each tier of account takes, and the evaluation standard (考核办法)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, Self

import attrs

from kam_domain.bounds import check_computable
from kam_domain.errors import NumberOutOfRange, ValidationError
from kam_domain.transcoding import transcoded
from kam_domain.values import GrantId, MemberId, Metric, Percentage, Role, Tier


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
