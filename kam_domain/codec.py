"""The transcoder of stored events: eventsourcing's JSON format, read and written by msgspec.

Events are stored as eventsourcing's :class:`~eventsourcing.persistence.JSONTranscoder` writes
them: compact UTF-8 JSON, a value of a registered type as ``{"_type_": name, "_data_": …}``.
:class:`EventTranscoder` writes the same bytes for the same state, so an event stored before it
and one stored after it are read the same way, and nothing has to tell them apart; the hash
chain, which is over the bytes as stored, sees no change of format either.

What makes it faster: msgspec parses and writes the JSON (about twice as fast as :mod:`json`
here), and the registered values are found by one walk over what it parsed instead of json's
hook on every object. The commonest values are built directly: ids (a UUID from 32 lowercase
hex digits, remembered, since an event's actor and correlation ids recur), times, amounts and
enum members; attrs values go through their classes, whose validators check what the store
holds, once per spelling: a frozen value stored the same way again (an event's actor, a
recurring amount) is the value read before, shared as copies already share it. Wherever
msgspec would read or write differently from :mod:`json` (NaN, lone surrogates, floats, keys
that are not text, a cycle), the event goes through eventsourcing's own transcoder instead,
so that what is read and written is always exactly json's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, SafeUUID

import attrs
import msgspec
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)

__all__ = ["EventTranscoder"]

Decode = Callable[[Any], Any]

#: How eventsourcing writes a UUID (``UUID.hex``); any other spelling is read by ``UUID()``.
_HEX = re.compile(r"[0-9a-f]{32}")
#: Ids remembered by their text; past this many the memory starts again.
_IDS_KEPT = 65_536
#: Frozen values remembered by how they are spelled in the store (see :func:`_spelling`).
_VALUES_KEPT = 16_384

_new = object.__new__
_set = object.__setattr__
_UNKNOWN = SafeUUID.unknown


class _NotPlain(Exception):
    """The state holds something msgspec would write unlike json: json writes it."""


class EventTranscoder(JSONTranscoder):
    """eventsourcing's JSON transcoder with msgspec underneath (see the module's docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._parse = msgspec.json.Decoder().decode
        self._write = msgspec.json.Encoder().encode
        self._revive: Decode | None = None
        self._ids: dict[str, UUID] = {}
        self._values: dict[tuple[Any, ...], Any] = {}

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        self._revive = None

    def encode(self, obj: Any) -> bytes:
        try:
            plain = self._plain(obj)
        except (_NotPlain, RecursionError):
            return super().encode(obj)
        return self._write(plain)

    def decode(self, data: bytes) -> Any:
        try:
            parsed = self._parse(data)
        except msgspec.DecodeError:
            # Not JSON as msgspec reads it (NaN, a lone surrogate, …): json's reading decides.
            return super().decode(data)
        revive = self._revive or self._reviver()
        return revive(parsed)

    # -- writing ---------------------------------------------------------------------------

    def _plain(self, obj: Any) -> Any:
        """``obj`` as the plain values json would write for it, registered values wrapped as
        json's ``default`` hook wraps them; in the order json's encoder tests types."""
        if obj is None or obj is True or obj is False:
            return obj
        kind = type(obj)
        if kind is str or kind is int:
            return obj
        if kind is dict:
            plain = self._plain
            for key in obj:
                if type(key) is not str:
                    raise _NotPlain
            return {key: plain(value) for key, value in obj.items()}
        if kind is list or kind is tuple:
            plain = self._plain
            return [plain(value) for value in obj]
        if kind is float:
            raise _NotPlain  # json and msgspec spell some floats differently
        # Subclasses, which json writes as their base type (a str enum as its text).
        if isinstance(obj, str):
            return str.__str__(obj)
        if isinstance(obj, int):
            return int.__int__(obj)
        if isinstance(obj, float):
            raise _NotPlain
        if isinstance(obj, list | tuple):
            return [self._plain(value) for value in obj]
        if isinstance(obj, dict):
            return self._plain(dict(obj.items()))
        transcoding = self.types.get(kind)
        if transcoding is None:
            raise _NotPlain  # json's hook raises TranscodingNotRegisteredError
        return {"_type_": transcoding.name, "_data_": self._plain(transcoding.encode(obj))}

    # -- reading ---------------------------------------------------------------------------

    def _reviver(self) -> Decode:
        """The walk that turns parsed JSON into the state json's hook would have given.

        A registered value is read where its container meets it, without a call of the walk
        of its own: most are ids, times and amounts, several to an event.
        """
        decoders = {name: self._decoder(t) for name, t in self.names.items()}
        frozen = {name for name, t in self.names.items() if attrs.has(t.type)}
        values = self._values

        def typed(value: dict[str, Any]) -> Any:
            data = value["_data_"]
            name = value["_type_"]
            key = _spelling(name, data) if name in frozen else None
            if key is not None:
                found = values.get(key)
                if found is not None:
                    return found
            inner = type(data)
            if inner is dict or inner is list:
                data = revive(data)
            try:
                decode = decoders[name]
            except KeyError:
                msg = (
                    f"Data serialized with name '{name}' is not deserializable."
                    " Please register a custom transcoding for this type."
                )
                raise TranscodingNotRegisteredError(msg) from None
            result = decode(data)
            if key is not None:
                if len(values) >= _VALUES_KEPT:
                    values.clear()
                values[key] = result
            return result

        def revive(value: Any) -> Any:
            kind = type(value)
            if kind is dict:
                if len(value) == 2 and "_type_" in value and "_data_" in value:
                    return typed(value)
                for key, item in value.items():
                    inner = type(item)
                    if inner is dict:
                        if len(item) == 2 and "_type_" in item and "_data_" in item:
                            data = item["_data_"]
                            decode = decoders.get(item["_type_"]) if type(data) is str else None
                            value[key] = typed(item) if decode is None else decode(data)
                        else:
                            value[key] = revive(item)
                    elif inner is list:
                        value[key] = revive(item)
                return value
            if kind is list:
                for index, item in enumerate(value):
                    inner = type(item)
                    if inner is dict or inner is list:
                        value[index] = revive(item)
            return value

        self._revive = revive
        return revive

    def _decoder(self, transcoding: Transcoding) -> Decode:
        """What reads a registered value: the transcoding itself, or a shortcut for the
        library's commonest types that gives exactly what the transcoding would."""
        kind = type(transcoding)
        if kind is UUIDAsHex:
            return self._uuid
        if kind is DecimalAsStr:
            return Decimal
        if kind is DatetimeAsISO:
            return _datetime
        members = getattr(transcoding, "members", None)
        if isinstance(members, dict):
            return _enum(members, transcoding.decode)
        return transcoding.decode

    def _uuid(self, data: Any) -> UUID:
        ids = self._ids
        try:
            return ids[data]
        except (KeyError, TypeError):
            pass
        if type(data) is str and _HEX.fullmatch(data):
            # What UUID(hex) does once it has found 32 hex digits, without its parsing.
            value: UUID = _new(UUID)
            _set(value, "int", int(data, 16))
            _set(value, "is_safe", _UNKNOWN)
        else:
            value = UUIDAsHex().decode(data)
        if len(ids) >= _IDS_KEPT:
            ids.clear()
        ids[data] = value
        return value


def _spelling(name: str, data: Any) -> tuple[Any, ...] | None:
    """How a frozen value is stored, exactly, when it is flat (fields of text, numbers, null or
    registered values spelled as text): equal spellings decode to equal values, so a value
    read before is shared instead of built and checked again (an event's actor and amount
    recur). Types are part of it: ``true`` and ``1`` are equal in Python, not in the store."""
    if type(data) is not dict:
        return None
    spelled: list[Any] = [name]
    for field, value in data.items():
        kind = type(value)
        if kind is str or kind is int or kind is bool or value is None:
            spelled.append((field, kind, value))
        elif kind is dict and len(value) == 2:
            inner, text = value.get("_type_"), value.get("_data_")
            if type(inner) is not str or type(text) is not str:
                return None
            spelled.append((field, inner, text))
        else:
            return None
    return tuple(spelled)


def _datetime(data: Any) -> datetime:
    if type(data) is str:
        return datetime.fromisoformat(data)
    return DatetimeAsISO().decode(data)


def _enum(members: dict[Any, Any], decode: Decode) -> Decode:
    """An enum's member by its value, as ``Enum(value)`` finds it first; else the class."""

    def member(data: Any) -> Any:
        try:
            return members[data]
        except (KeyError, TypeError):
            return decode(data)

    return member
