"""Copies of cached records for commands: what ``copy.deepcopy`` gives, without its walk.

The aggregate cache hands each command a copy, so that a command refused half-way leaves the
cached record as stored. A record holds containers (dicts, lists, sets, :class:`IdMap`) of
values that never change: ids, text, numbers, times, enum members and the frozen values of
:func:`~kam_domain.transcoding.transcoded`. ``deepcopy`` still visits every value and every
key — it rebuilds each UUID key through ``__reduce_ex__`` — so a copy cost grew with the
record's history (a fifth of a command; most of one on an account with ten thousand payments).
:func:`copy_record` copies the containers and shares what never changes; a container holding
only such values is copied in one step. Anything else (a mutable object it does not know) is
left to ``deepcopy``, with the same memo, so the result is always a deep copy: containers are
never shared with the cached record, and containers shared inside the record stay shared in
the copy.
"""

from __future__ import annotations

import copy
import enum
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from kam_domain.transcoding import IdMap, shares_copies

__all__ = ["copy_record"]

T = TypeVar("T")

#: Types whose values never change, shared by copies as deepcopy shares str and int.
_SHARED: set[type] = {
    str,
    int,
    float,
    bool,
    complex,
    bytes,
    type(None),
    UUID,
    Decimal,
    datetime,
    date,
    time,
    timedelta,
    range,
}


def _shared(kind: type) -> bool:
    """Whether values of ``kind`` are never changed (and so need no copy)."""
    if kind in _SHARED:
        return True
    if issubclass(kind, enum.Enum) or shares_copies(kind):
        _SHARED.add(kind)
        return True
    return False


def copy_record(record: T) -> T:
    """A deep copy of ``record`` (an aggregate), sharing only values that never change."""
    copied: T = _copy(record, {})
    return copied


def _copy(value: Any, memo: dict[int, Any]) -> Any:
    kind = type(value)
    if kind in _SHARED:
        return value
    found = memo.get(id(value))
    if found is not None:
        return found
    if kind is dict:
        return _copy_dict(value, memo)
    if kind is list:
        if set(map(type, value)) <= _SHARED:
            result: Any = value.copy()
        else:
            result = []
            memo[id(value)] = result
            result.extend(_copy(item, memo) for item in value)
            return result
    elif kind is set:
        # Set members are hashable, which the library's are only when they never change.
        result = value.copy() if set(map(type, value)) <= _SHARED else None
        if result is None:
            return _deep(value, memo)
    elif kind is tuple:
        items = [_copy(item, memo) for item in value]
        # As deepcopy: a tuple of the same values is the tuple itself.
        result = value if all(a is b for a, b in zip(items, value, strict=True)) else tuple(items)
    elif kind is IdMap:
        result = IdMap()
        memo[id(value)] = result
        result._items = _copy_dict(value._items, memo)
        return result
    elif _shared(kind):
        return value
    elif hasattr(value, "__dict__") and _plain_object(kind):
        result = kind.__new__(kind)  # type: ignore[call-overload]
        memo[id(value)] = result
        result.__dict__.update(_copy_dict(value.__dict__, memo))
        return result
    else:
        return _deep(value, memo)
    memo[id(value)] = result
    return result


def _copy_dict(value: dict[Any, Any], memo: dict[int, Any]) -> dict[Any, Any]:
    if set(map(type, value.values())) <= _SHARED:
        # Keys are hashable: the library's never change.
        result = value.copy()
        memo[id(value)] = result
        return result
    result = {}
    memo[id(value)] = result
    for key, item in value.items():
        result[key] = _copy(item, memo)
    return result


_PLAIN: dict[type, bool] = {}


def _plain_object(kind: type) -> bool:
    """An object deepcopy would copy by its ``__dict__`` alone (an aggregate, say): no copy
    hooks of its own, no slots, no custom state."""
    known = _PLAIN.get(kind)
    if known is None:
        known = _PLAIN[kind] = _judged(kind)
    return known


def _judged(kind: type) -> bool:
    return (
        getattr(kind, "__deepcopy__", None) is None
        and getattr(kind, "__getstate__", object.__getstate__) is object.__getstate__
        and getattr(kind, "__setstate__", None) is None
        and getattr(kind, "__getnewargs_ex__", None) is None
        and getattr(kind, "__getnewargs__", None) is None
        and getattr(kind, "__reduce_ex__", None) is object.__reduce_ex__
        and getattr(kind, "__reduce__", None) is object.__reduce__
        # Empty slots (typing.Generic's) hold nothing deepcopy would copy.
        and not any(vars(base).get("__slots__") for base in kind.__mro__)
    )


def _deep(value: Any, memo: dict[int, Any]) -> Any:
    # The originals stay alive while the record is copied: the memo's ids stay theirs.
    return copy.deepcopy(value, memo)
