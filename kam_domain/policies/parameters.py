"""Reading a policy's parameters: recorded configuration holds whole numbers, Decimals or text, so
a policy checks that what it reads is what it can use, naming the parameter when it is not."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from kam_domain.errors import ValidationError
from kam_domain.values import to_decimal

__all__ = ["whole_number"]


def whole_number(settings: Mapping[str, Any], name: str) -> int:
    """The parameter ``name`` as a whole number ≥ 0 (an integral Decimal or numeric text too)."""
    value = settings[name]
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ValidationError(name, f"must be a whole number, not {value!r}")
    number = to_decimal(name, value)
    if number != number.to_integral_value():
        raise ValidationError(name, f"must be a whole number, not {number}")
    if number < 0:
        raise ValidationError(name, f"must not be negative, not {number}")
    return int(number)
