"""What numbers and text the library accepts: the one place their bounds are checked.

Numbers are bounded so that nothing a command records can break the tools that read it later:
Decimal arithmetic overflows (``decimal.Overflow``) or formats a number into a string of millions
of digits when an exponent is huge, and an auditor's report, replay or worker must never die on
that. Text is refused when it holds a lone surrogate (it cannot be encoded, so it cannot be
stored or printed) or a control or format character (an escape sequence that would drive the
auditor's terminal, or a bidirectional override that would show a name other than the one
stored).

Two levels for numbers. Every amount and percentage, however it was made (by a command, by
arithmetic, or decoded from the store), is *computable*: finite, under :data:`MAX_AMOUNT` in
magnitude and with at most :data:`MAX_PLACES` decimal places — a stored value beyond that is
refused when it is read, with the field named. What a command *accepts* is stricter: at most
:data:`AMOUNT_PLACES` decimal places for an amount, :data:`PERCENT_PLACES` for a percentage,
so that what is computed from them (a price after a discount) stays computable.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal

from kam_domain.errors import NumberOutOfRange, UnsafeText, ValidationError

__all__ = [
    "AMOUNT_PLACES",
    "MAX_AMOUNT",
    "MAX_NUMBER_TEXT",
    "MAX_PLACES",
    "PERCENT_PLACES",
    "check_computable",
    "check_places",
    "check_text",
    "check_whole",
]

#: Every amount's magnitude stays below this (10^15: a thousand trillion in any currency).
MAX_AMOUNT = Decimal(10) ** 15
#: Decimal places any stored number may have: Decimal's default precision, 28 digits.
MAX_PLACES = 28
#: Decimal places a command accepts in an amount.
AMOUNT_PLACES = 4
#: Decimal places a command accepts in a percentage.
PERCENT_PLACES = 4
#: The longest numeric text accepted, before it is parsed at all.
MAX_NUMBER_TEXT = 64

# Characters a terminal or a layout engine acts on rather than shows: C0 and C1 controls (Cc),
# and format characters (Cf: bidirectional overrides, zero-width joiners, the byte-order mark).
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
#: What free text may hold beyond printable characters: line breaks and tabs.
_FREE_TEXT_CONTROLS = frozenset({"\n", "\t"})


def check_computable(field: str, number: Decimal) -> Decimal:
    """``number`` if finite, under :data:`MAX_AMOUNT` and within :data:`MAX_PLACES` places.

    Reads only the number's sign, digits and exponent: no arithmetic that could overflow.
    """
    if not isinstance(number, Decimal) or not number.is_finite():
        raise ValidationError(field, f"must be a finite Decimal, not {number!r}")
    if number.is_zero():
        return number
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # finite, so not 'n', 'N' or 'F'
    # adjusted() is the exponent of the leading digit: 10^15 and above is too large.
    if number.adjusted() >= 15:
        digits = number.adjusted() + 1
        msg = f"must be less than 10^15 in magnitude, not a number of {digits} digits"
        raise NumberOutOfRange(field, msg)
    if exponent < -MAX_PLACES:
        raise NumberOutOfRange(field, f"must have at most {MAX_PLACES} decimal places")
    return number


def check_places(field: str, number: Decimal, places: int) -> Decimal:
    """``number`` (computable) with at most ``places`` decimal places."""
    check_computable(field, number)
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent < -places and number != number.quantize(Decimal(1).scaleb(-places)):
        raise NumberOutOfRange(field, f"must have at most {places} decimal places, not {number}")
    return number


def check_whole(field: str, value: object, *, low: int, high: int) -> int:
    """``value`` as a whole number from ``low`` to ``high`` (no bool, float or text)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, f"must be a whole number, not {value!r}")
    if not low <= value <= high:
        raise NumberOutOfRange(field, f"must be from {low} to {high}, not {value}")
    return value


def check_text(field: str, text: str, *, multiline: bool = False) -> str:
    """``text`` if it holds no lone surrogate and no control or format character.

    Names and one-line text hold none at all; free text (``multiline``) may hold line breaks
    (``\\n``) and tabs. A carriage return is refused everywhere: it moves a terminal's cursor
    back over what was printed.
    """
    allowed = _FREE_TEXT_CONTROLS if multiline else frozenset()
    for index, char in enumerate(text):
        if char in allowed or unicodedata.category(char) not in _UNSAFE_CATEGORIES:
            continue
        kind = "a lone surrogate" if unicodedata.category(char) == "Cs" else "a control character"
        if unicodedata.category(char) == "Cf":
            kind = "a format character"
        msg = f"holds {kind} (U+{ord(char):04X}) at character {index}"
        raise UnsafeText(field, msg)
    return text
