"""`@transcoded`: what may be stored in events, and how copies of it behave."""

from __future__ import annotations

import copy
from uuid import uuid4

import attrs
import pytest

from kam_domain.transcoding import IdMap, transcoded, transcoded_classes
from kam_domain.values import Money


def test_a_mutable_attrs_class_cannot_be_stored() -> None:
    """An attrs class that is not frozen is refused: stored values must never change."""

    @attrs.define
    class Draft:
        note: str

    with pytest.raises(TypeError, match="must be frozen"):
        transcoded(Draft)


def test_every_stored_attrs_class_is_frozen() -> None:
    """Every class the library stores is frozen, so copies may share its instances."""
    for cls in transcoded_classes():
        if attrs.has(cls):
            assert cls.__setattr__ is not object.__setattr__, cls


def test_a_stored_value_copies_as_itself() -> None:
    """A deep or shallow copy of a stored value is the value itself."""
    amount = Money.of(5, "CNY")

    assert copy.deepcopy(amount) is amount
    assert copy.copy(amount) is amount


def test_a_deep_copy_of_an_id_map_is_a_new_map_sharing_its_values() -> None:
    """Copying an IdMap copies the mapping (changes to the copy stay there), not its values."""
    key = uuid4()
    original: IdMap[object, Money] = IdMap({key: Money.of(1, "CNY")})

    copied = copy.deepcopy(original)
    copied[uuid4()] = Money.of(2, "CNY")

    assert len(original) == 1
    assert copied[key] is original[key]
