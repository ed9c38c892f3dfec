"""Value objects validate on construction and name the offending field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam_domain.aggregates.base import Meta, require_text, require_utc
from kam_domain.errors import CurrencyMismatch, KamDomainError, ValidationError
from kam_domain.values import Actor, ActorKind, Money, Percentage, Period, Role
from tests.strategies import aware_datetimes, currencies, money, periods


def test_money_refuses_floats() -> None:
    """A float amount is refused, since it cannot hold money exactly."""
    with pytest.raises(ValidationError, match="amount"):
        Money.of(0.1, "CNY")  # type: ignore[arg-type]


def test_money_refuses_unknown_currency() -> None:
    """A currency that is not ISO 4217 is refused, naming the currency field."""
    with pytest.raises(ValidationError, match="currency") as info:
        Money.of("10", "XYZ")

    assert info.value.field == "currency"


@pytest.mark.parametrize("bad", ["cny", "CN", "", 156, None])
def test_money_refuses_malformed_currency(bad: object) -> None:
    """A currency must be a three-letter upper-case code."""
    with pytest.raises(ValidationError, match="currency"):
        Money(Decimal(1), bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", True, object()])
def test_money_refuses_non_numbers(bad: object) -> None:
    """Non-numeric, infinite and NaN amounts are refused."""
    with pytest.raises(ValidationError, match="amount"):
        Money.of(bad, "CNY")  # type: ignore[arg-type]


def test_money_refuses_mixing_currencies() -> None:
    """Adding or comparing different currencies is a CurrencyMismatch, not a silent sum."""
    with pytest.raises(CurrencyMismatch):
        Money.of(1, "CNY") + Money.of(1, "USD")
    with pytest.raises(CurrencyMismatch):
        assert Money.of(1, "CNY") < Money.of(2, "USD")


@given(money, money)
def test_money_arithmetic_is_exact(a: Money, b: Money) -> None:
    """Sums and differences in one currency are exact Decimal arithmetic."""
    b = Money(b.amount, a.currency)

    assert (a + b) - b == a
    assert (a + b).amount == a.amount + b.amount


@given(currencies)
def test_money_prints_with_its_currency(currency: str) -> None:
    """Money prints with two decimals and its currency."""
    assert str(Money.of("1234.5", currency)) == f"1,234.50 {currency}"


@pytest.mark.parametrize("bad", ["-0.01", "100.01", "abc", 1.5])
def test_percentage_stays_between_0_and_100(bad: object) -> None:
    """Percentages outside 0–100 (or not numbers) are refused, naming the field."""
    with pytest.raises(ValidationError, match="discount"):
        Percentage.of(bad, field="discount")  # type: ignore[arg-type]


def test_percentage_orders_and_converts() -> None:
    """Percentages compare by value and give their fraction."""
    assert Percentage.of(5) < Percentage.of("12.5")
    assert Percentage.of("12.5").fraction == Decimal("0.125")


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-Q1", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)),
        ("2026-Q4", datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        ("2026", datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
    ],
)
def test_period_parses_quarters_and_years(text: str, start: datetime, end: datetime) -> None:
    """Periods parse from YYYY-Qn or YYYY and span [start, end) in UTC."""
    period = Period.parse(text)

    assert (period.start, period.end, str(period)) == (start, end, text)


@pytest.mark.parametrize("bad", ["2026-Q5", "26-Q1", "2026Q1", "", "Q1-2026"])
def test_period_refuses_malformed_text(bad: str) -> None:
    """Malformed periods are refused, naming the period field."""
    with pytest.raises(ValidationError, match="period"):
        Period.parse(bad)


@given(periods)
def test_period_round_trips_through_text(period: Period) -> None:
    """Printing a period and parsing it again gives the same period."""
    assert Period.parse(str(period)) == period


@given(aware_datetimes)
def test_quarter_of_contains_the_moment(moment: datetime) -> None:
    """The quarter of a moment contains it, and its year covers the quarter."""
    quarter = Period.quarter_of(moment)

    assert quarter.contains(moment)
    assert Period(quarter.year).covers(quarter)


def test_naive_datetimes_are_refused() -> None:
    """A naive datetime is ambiguous and refused, naming the field."""
    with pytest.raises(ValidationError, match="due_date"):
        require_utc("due_date", datetime(2026, 1, 1))


def test_aware_datetimes_are_stored_in_utc() -> None:
    """Datetimes in other zones are converted to UTC."""
    beijing = datetime(2026, 1, 1, 8, tzinfo=timezone(timedelta(hours=8)))

    assert require_utc("at", beijing) == datetime(2026, 1, 1, tzinfo=UTC)
    assert require_utc("at", beijing).tzinfo is UTC


@pytest.mark.parametrize("bad", ["", "   ", None, 3])
def test_empty_or_non_text_names_are_refused(bad: object) -> None:
    """Names must be non-empty strings; the error names the field."""
    with pytest.raises(ValidationError, match="name"):
        require_text("name", bad)


def test_meta_of_a_command_causes_itself() -> None:
    """A command from outside starts its own chain: correlation and causation are its id."""
    meta = Meta.command(Actor.system("host"))

    assert meta.correlation_id == meta.causation_id
    assert meta.at.tzinfo is UTC


def test_actor_names_members_policies_and_systems() -> None:
    """Actors print as kind:ref, and only members have a member id."""
    policy = Actor.policy("assignment", 2)

    assert str(policy) == "policy:assignment@2"
    assert policy.member_id is None
    assert policy.kind is ActorKind.POLICY


def test_every_seed_role_is_there() -> None:
    """Every role of the seed document is a Role, including both director grades and admin."""
    names = {role.name for role in Role}

    assert {"SENIOR_SALES_DIRECTOR", "SALES_DIRECTOR", "KEY_ACCOUNT_MANAGER"} <= names
    assert {"KEY_ACCOUNT_REPRESENTATIVE", "PROJECT_DIRECTOR", "CONSULTANT"} <= names
    assert sum(role.is_admin for role in Role) == 4


def test_all_errors_share_one_base() -> None:
    """Every exception the library raises derives from KamDomainError."""
    import kam_domain.errors as errors

    classes = [getattr(errors, name) for name in errors.__all__]

    assert all(issubclass(cls, KamDomainError) for cls in classes)
    assert all(cls.__doc__ and cls.__doc__.startswith("Raised ") for cls in classes)


@given(st.sampled_from(list(Role)))
def test_roles_have_readable_labels(role: Role) -> None:
    """Each role has a human label without underscores."""
    assert "_" not in role.label
