"""The bounds on numbers and text (kam_domain.bounds): what commands accept, what every stored
value must be to be computed with, and the one text check behind every name and free text."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam_domain.aggregates.base import require_text
from kam_domain.bounds import check_text
from kam_domain.errors import NumberOutOfRange, UnsafeText, ValidationError
from kam_domain.values import Actor, Money, Percentage
from tests.strategies import accepted_amounts, hostile_numbers, unsafe_characters


@given(hostile_numbers)
def test_no_hostile_number_becomes_money(text: str) -> None:
    """NaN, infinities, huge exponents and 10^15 or more are refused naming the field, before
    any arithmetic (none raises decimal.Overflow)."""
    with pytest.raises(ValidationError, match=r"^invoice_amount: "):
        Money.of(text, "CNY", field="invoice_amount")


@given(hostile_numbers)
def test_no_hostile_number_is_held_by_a_money_built_directly(text: str) -> None:
    """Money's own validator, which also runs on every amount read from the store, refuses a
    number that cannot be computed with."""
    with pytest.raises(ValidationError, match=r"^amount: "):
        Money(Decimal(text), "CNY")


@given(accepted_amounts, st.integers(min_value=1, max_value=1000))
def test_sums_and_discounts_of_accepted_amounts_stay_computable(amount: Decimal, n: int) -> None:
    """Whatever a command accepts, adding up a thousand of them is exact or, past 10^15, a
    NumberOutOfRange; taking a percentage off stays computable; nothing overflows."""
    money = Money.of(amount, "CNY")
    try:
        total = sum((money for _ in range(n)), Money.zero("CNY"))
    except NumberOutOfRange:
        assert abs(amount * n) >= 10**15
    else:
        assert total.amount == amount * n

    discounted = money * (1 - Percentage.of("12.3456").fraction)

    assert abs(discounted.amount) <= abs(money.amount)
    assert str(discounted)


@pytest.mark.parametrize(
    ("make", "text"),
    [
        (lambda v: Money.of(v, "CNY"), "1.23456"),
        (Percentage.of, "12.00001"),
        (lambda v: Money.of(v, "CNY"), "9" * 65),
        (lambda v: Money.of(v, "CNY"), 10**100),
    ],
)
def test_more_places_or_digits_than_accepted_are_refused(make: object, text: object) -> None:
    """An amount with five decimal places, a percentage with five, 65 digits of text or an int
    of a hundred digits are NumberOutOfRange."""
    with pytest.raises(NumberOutOfRange):
        make(text)  # type: ignore[operator]


def test_trailing_zeros_do_not_count_as_places() -> None:
    """1.500000 has one significant decimal place, and is accepted."""
    assert Money.of("1.500000", "CNY").amount == Decimal("1.5")


_SAFE = st.text(st.characters(categories=["L", "N", "P", "Zs"]), max_size=20)


@given(_SAFE, unsafe_characters, _SAFE)
def test_a_name_with_any_unsafe_character_is_refused(before: str, char: str, after: str) -> None:
    """A name holding a control character, a format character or a lone surrogate anywhere is
    UnsafeText naming the field and the character (not a UnicodeEncodeError later)."""
    name = f"Li{before}{char}{after}"

    with pytest.raises(UnsafeText, match=f"^name: holds .*U\\+{ord(char):04X}"):
        check_text("name", name)


@pytest.mark.parametrize(
    ("text", "multiline", "ok"),
    [
        ("line one\nline two\twith a tab", True, True),
        ("line one\nline two", False, False),
        ("carriage\rreturn", True, False),
        ("王伟 José Müller", False, True),
        ("zero\u200bwidth", True, False),
    ],
)
def test_free_text_may_break_lines_and_names_may_not(text: str, multiline: bool, ok: bool) -> None:
    """Line breaks and tabs are allowed in free text only; a carriage return and a format
    character nowhere."""
    if ok:
        assert check_text("note", text, multiline=multiline) == text
    else:
        with pytest.raises(UnsafeText):
            check_text("note", text, multiline=multiline)


def test_long_fields_are_free_text_and_short_ones_one_line() -> None:
    """require_text takes a line break in a 2000-character field, not in a 500-character one."""
    assert require_text("plan", "visit\nfollow up", max_length=2000) == "visit\nfollow up"
    with pytest.raises(UnsafeText, match=r"^reason: "):
        require_text("reason", "left\nthe team")


def test_system_and_policy_actor_names_are_checked() -> None:
    """A system actor's name with an escape sequence is refused."""
    with pytest.raises(UnsafeText, match=r"^actor: "):
        Actor.system("cron\x1b[2J")
