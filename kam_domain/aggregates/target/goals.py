"""Goals and actuals, one kind per metric (sales revenue, service level, customer satisfaction),
and the checks a command puts them through."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, ClassVar, TypeAlias
from uuid import UUID

import attrs

from kam_domain.bounds import PERCENT_PLACES, check_places
from kam_domain.errors import ValidationError
from kam_domain.transcoding import transcoded
from kam_domain.values import Metric, Money, require_amount, to_decimal

#: Scores, levels and attainments are kept to two decimal places.
CENT = Decimal("0.01")
#: Goals and actuals are kept in the order metrics are declared.
METRIC_ORDER = {metric: position for position, metric in enumerate(Metric)}

_REVENUE = Metric.SALES_REVENUE.value
_SERVICE = Metric.SERVICE_LEVEL.value
_SATISFACTION = Metric.CUSTOMER_SATISFACTION.value


Check = Callable[[object, "attrs.Attribute[Any]", object], None]


def _money(field: str, *, positive: bool) -> Check:
    def check(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, Money):
            raise ValidationError(field, f"must be Money, not {type(value).__name__}")
        if value.is_negative or (positive and value.is_zero):
            wanted = "more than zero" if positive else "zero or more"
            raise ValidationError(field, f"must be {wanted}, not {value}")

    return check


def _level(field: str, *, positive: bool) -> Check:
    def check(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValidationError(field, f"must be a finite Decimal, not {value!r}")
        low_ok = value > 0 if positive else value >= 0
        if not low_ok or value > 100:
            lowest = "more than 0" if positive else "from 0"
            raise ValidationError(field, f"must be {lowest} to 100, not {value}")

    return check


def _to_service_level(value: object) -> Decimal:
    return to_decimal(_SERVICE, value)


def _to_satisfaction(value: object) -> Decimal:
    return to_decimal(_SATISFACTION, value)


def _to_ids(value: object) -> tuple[UUID, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError("source_event_ids", f"must be a sequence of UUIDs, not {value!r}")
    return tuple(value)


def _check_ids(_: object, attribute: attrs.Attribute[Any], value: tuple[object, ...]) -> None:
    for item in value:
        if not isinstance(item, UUID):
            raise ValidationError("source_event_ids", f"must hold event ids, not {item!r}")


@transcoded
@attrs.frozen
class RevenueGoal:
    """Sales revenue to reach in the period; more than zero."""

    metric: ClassVar[Metric] = Metric.SALES_REVENUE
    value: Money = attrs.field(validator=_money(_REVENUE, positive=True))


@transcoded
@attrs.frozen
class ServiceLevelGoal:
    """Share of client cases to acknowledge within their SLA, in percent (more than 0 to 100)."""

    metric: ClassVar[Metric] = Metric.SERVICE_LEVEL
    value: Decimal = attrs.field(
        converter=_to_service_level, validator=_level(_SERVICE, positive=True)
    )


@transcoded
@attrs.frozen
class SatisfactionGoal:
    """Mean customer-satisfaction survey score to reach, out of 100 (more than 0)."""

    metric: ClassVar[Metric] = Metric.CUSTOMER_SATISFACTION
    value: Decimal = attrs.field(
        converter=_to_satisfaction, validator=_level(_SATISFACTION, positive=True)
    )


@transcoded
@attrs.frozen
class RevenueActual:
    """Revenue achieved (payments received), and the events it was summed from."""

    metric: ClassVar[Metric] = Metric.SALES_REVENUE
    value: Money = attrs.field(validator=_money(_REVENUE, positive=False))
    source_event_ids: tuple[UUID, ...] = attrs.field(
        default=(), converter=_to_ids, validator=_check_ids
    )


@transcoded
@attrs.frozen
class ServiceLevelActual:
    """Service level achieved in percent (0 to 100), and the case events it came from."""

    metric: ClassVar[Metric] = Metric.SERVICE_LEVEL
    value: Decimal = attrs.field(
        converter=_to_service_level, validator=_level(_SERVICE, positive=False)
    )
    source_event_ids: tuple[UUID, ...] = attrs.field(
        default=(), converter=_to_ids, validator=_check_ids
    )


@transcoded
@attrs.frozen
class SatisfactionActual:
    """Mean satisfaction score achieved (0 to 100), and the survey events it came from."""

    metric: ClassVar[Metric] = Metric.CUSTOMER_SATISFACTION
    value: Decimal = attrs.field(
        converter=_to_satisfaction, validator=_level(_SATISFACTION, positive=False)
    )
    source_event_ids: tuple[UUID, ...] = attrs.field(
        default=(), converter=_to_ids, validator=_check_ids
    )


Goal: TypeAlias = RevenueGoal | ServiceLevelGoal | SatisfactionGoal
Actual: TypeAlias = RevenueActual | ServiceLevelActual | SatisfactionActual
GOALS = (RevenueGoal, ServiceLevelGoal, SatisfactionGoal)
ACTUALS = (RevenueActual, ServiceLevelActual, SatisfactionActual)


def magnitude(value: Money | Decimal) -> Decimal:
    return value.amount if isinstance(value, Money) else value


def by_metric(items: Iterable[Any]) -> Any:
    return tuple(sorted(items, key=lambda item: METRIC_ORDER[item.metric]))


def check_goals(field: str, goals: object) -> tuple[Goal, ...]:
    """The goals in metric order; one per metric, at least one."""
    if isinstance(goals, str | bytes) or not isinstance(goals, Iterable):
        raise ValidationError(field, f"must be a sequence of goals, not {goals!r}")
    items = list(goals)
    for item in items:
        if not isinstance(item, GOALS):
            msg = f"{item!r} is not a RevenueGoal, ServiceLevelGoal or SatisfactionGoal"
            raise ValidationError(field, msg)
    if not items:
        raise ValidationError(field, "must set at least one metric")
    for item in items:
        # Checked here, where a command takes them: decoded goals are taken as computable.
        if isinstance(item.value, Money):
            require_amount(field, item.value)
        else:
            check_places(field, item.value, PERCENT_PLACES)
    metrics = [item.metric for item in items]
    if len(set(metrics)) != len(metrics):
        raise ValidationError(field, "must set each metric at most once")
    result: tuple[Goal, ...] = by_metric(items)
    return result


def revenue_currency(goals: Iterable[Goal]) -> str | None:
    for goal in goals:
        if isinstance(goal, RevenueGoal):
            return goal.value.currency
    return None
