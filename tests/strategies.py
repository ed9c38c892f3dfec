"""Hypothesis strategies for the library's values, kept in one place for the whole suite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar

import attrs
from hypothesis import strategies as st

from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.team import EvaluationStandard, RatingBand, TierWeights
from kam_domain.errors import ValidationError
from kam_domain.transcoding import transcoded_classes
from kam_domain.values import Actor, Metric, Money, Percentage, Period

T = TypeVar("T")

CURRENCIES = ("CNY", "USD", "EUR", "HKD", "JPY")

decimals = st.decimals(
    min_value=Decimal("-1e12"), max_value=Decimal("1e12"), allow_nan=False, places=2
)
non_negative = st.decimals(
    min_value=Decimal(0), max_value=Decimal("1e12"), allow_nan=False, places=2
)
currencies = st.sampled_from(CURRENCIES)
money = st.builds(Money, decimals, currencies)
percentages = st.builds(
    Percentage,
    st.decimals(min_value=Decimal(0), max_value=Decimal(100), allow_nan=False, places=2),
)
periods = st.builds(
    Period, st.integers(min_value=1990, max_value=2100), st.none() | st.integers(1, 4)
)
utc_datetimes = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
# Offsets other than UTC: inputs in any zone are accepted and stored in UTC.
aware_datetimes = st.datetimes(
    min_value=datetime(2000, 1, 2),
    max_value=datetime(2099, 12, 30),
    timezones=st.sampled_from([UTC, *(timezone(timedelta(hours=h)) for h in (-8, 8, 9))]),
)
texts = st.text(min_size=1, max_size=40).filter(lambda s: s.strip() == s and s.strip() != "")
actors = st.one_of(
    st.uuids().map(Actor.member),
    st.builds(Actor.policy, st.sampled_from(["assignment", "price_approval"]), st.integers(1, 9)),
    st.builds(Actor.system, st.sampled_from(["company", "clock", "host"])),
)

weights = st.integers(min_value=0, max_value=100).flatmap(
    lambda revenue: st.integers(min_value=0, max_value=100 - revenue).map(
        lambda service: (
            (Metric.SALES_REVENUE, Decimal(revenue)),
            (Metric.SERVICE_LEVEL, Decimal(service)),
            (Metric.CUSTOMER_SATISFACTION, Decimal(100 - revenue - service)),
        )
    )
)
bands = st.lists(
    st.builds(RatingBand, st.decimals(0, 100, places=1), st.sampled_from("ABCDE")),
    min_size=1,
    max_size=4,
    unique_by=lambda band: band.min_score,
)
standards = st.builds(
    EvaluationStandard,
    weights=weights,
    bands=bands,
    action_threshold=st.decimals(0, 100, places=0),
    sign_off_days=st.integers(0, 60),
)


def valid(cls: type[T]) -> st.SearchStrategy[T]:
    """Instances of an attrs class from its field types, keeping those its validators accept."""
    fields = {
        field.name: st.from_type(field.type)  # type: ignore[arg-type]
        for field in attrs.fields(cls)  # type: ignore[arg-type]
        if field.init
    }
    return (
        st.fixed_dictionaries(fields).map(lambda kwargs: _construct(cls, kwargs)).filter(_is_built)
    )


_REFUSED = object()


def _construct(cls: type[T], kwargs: dict[str, Any]) -> Any:
    try:
        return cls(**kwargs)
    except ValidationError:
        return _REFUSED


def _is_built(value: object) -> bool:
    return value is not _REFUSED


def register_type_strategies() -> None:
    from kam_domain.aggregates.opportunity.stages import StageProbabilities

    """Let ``st.from_type`` build the library's values (used to build every event class)."""
    # String annotations (postponed evaluation) must be resolved before hypothesis reads them.
    for cls in transcoded_classes():
        if attrs.has(cls):
            attrs.resolve_types(cls)
            st.register_type_strategy(cls, st.deferred(lambda cls=cls: valid(cls)))
    st.register_type_strategy(Money, money)
    st.register_type_strategy(Percentage, percentages)
    # Built directly: drawn through from_type, a round-trip test of its events took minutes.
    st.register_type_strategy(StageProbabilities, st.builds(StageProbabilities, *[percentages] * 4))
    st.register_type_strategy(Period, periods)
    st.register_type_strategy(datetime, utc_datetimes)
    st.register_type_strategy(Decimal, decimals)
    st.register_type_strategy(Actor, actors)
    st.register_type_strategy(str, texts)
    st.register_type_strategy(Meta, st.builds(Meta, actors, utc_datetimes, st.uuids(), st.uuids()))
    st.register_type_strategy(Credentials, st.deferred(lambda: st.builds(Credentials)))
    st.register_type_strategy(EvaluationStandard, standards)
    st.register_type_strategy(TierWeights, st.builds(TierWeights, *[st.integers(0, 9)] * 3))
    st.register_type_strategy(timedelta, st.timedeltas(timedelta(0), timedelta(days=400)))


__all__ = [
    "actors",
    "aware_datetimes",
    "bands",
    "currencies",
    "decimals",
    "money",
    "non_negative",
    "percentages",
    "periods",
    "register_type_strategies",
    "standards",
    "texts",
    "utc_datetimes",
]

#: Amounts a command accepts: under 10^15, at most four decimal places.
accepted_amounts = st.decimals(
    min_value=Decimal("-999999999999999.9999"),
    max_value=Decimal("999999999999999.9999"),
    allow_nan=False,
    allow_infinity=False,
    places=4,
)
#: Numbers no tool can compute with or print in reasonable time: huge or tiny exponents, NaN,
#: infinities, and ten to the fifteenth or more.
hostile_numbers = st.one_of(
    st.sampled_from(["1e100000000", "-1e100000000", "1e-100000000", "NaN", "sNaN", "Infinity"]),
    st.integers(min_value=15, max_value=10**9).map(lambda e: f"{'-' if e % 2 else ''}1e{e}"),
    st.integers(min_value=29, max_value=10**9).map(lambda e: f"1e-{e}"),
)
#: Characters a terminal or a layout engine acts on: controls, format characters, surrogates.
unsafe_characters = st.characters(categories=["Cc", "Cf", "Cs"])
