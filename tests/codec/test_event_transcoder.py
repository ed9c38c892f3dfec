"""The event codec reads and writes exactly what eventsourcing's JSON transcoder does."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Notification,
    UUIDAsHex,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kam_domain.application import KamApplication
from kam_domain.audit import verify_chain
from kam_domain.codec import EventTranscoder
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.transcoding import EventMapper, IdMap, register_transcodings, transcoded_classes
from kam_domain.values import Money
from tests.conftest import Org, build_org, fresh_store, key_account
from tests.support import T0
from tests.unit.test_event_round_trip import EVENTS, events_of

#: How a host would keep writing with eventsourcing's own transcoder (the format before).
OLD_FORMAT = {"TRANSCODER_TOPIC": "eventsourcing.persistence:JSONTranscoder"}


def _registered(transcoder: JSONTranscoder) -> JSONTranscoder:
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    register_transcodings(transcoder)
    return transcoder


OLD = _registered(JSONTranscoder())
NEW = _registered(EventTranscoder())

#: An event as eventsourcing's JSON transcoder stored it; kept byte for byte, forever.
STORED = (
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"2020-02-08T01:46:09.230770+00:00"},'
    b'"actor":{"_type_":"Actor","_data_":{"kind":{"_type_":"ActorKind","_data_":"member"},'
    b'"ref":"8d88348a-7eed-4d14-b06d-3fef701966a0"}},'
    b'"correlation_id":{"_type_":"uuid_hex","_data_":"4861bb546e8e44249ea93b70b14e83d3"},'
    b'"causation_id":{"_type_":"uuid_hex","_data_":"4861bb546e8e44249ea93b70b14e83d3"},'
    b'"payment_id":{"_type_":"uuid_hex","_data_":"8384128de3424ce6bb15a0b07496c59e"},'
    b'"invoice_id":{"_type_":"uuid_hex","_data_":"37845506835b48058585d23f95d9ad91"},'
    b'"amount":{"_type_":"Money","_data_":{"amount":{"_type_":"decimal_str","_data_":"535800"},'
    b'"currency":"CNY"}},"note":"r\xc3\xa9sum\xc3\xa9 \\"quoted\\"\\n","tags":["a","b"],'
    b'"count":12345678901234567890123}'
)


def _same(old: Any, new: Any) -> None:
    """Equal, and of the same types all the way down (1 == True == Decimal(1) would pass)."""
    assert type(old) is type(new)
    if isinstance(old, dict):
        assert list(old) == list(new)
        for key in old:
            _same(old[key], new[key])
    elif isinstance(old, list | tuple):
        assert len(old) == len(new)
        for a, b in zip(old, new, strict=True):
            _same(a, b)
    else:
        # repr first: NaN is not equal to itself, and a signalling NaN refuses to compare
        assert repr(old) == repr(new) or old == new
        if isinstance(old, Decimal):
            assert str(old) == str(new)


def test_an_event_in_the_old_format_reads_the_same() -> None:
    """A stored event of eventsourcing's JSON transcoder decodes to the same state, of the same
    types, and writes back to the same bytes."""
    old = OLD.decode(STORED)

    new = NEW.decode(STORED)

    _same(old, new)
    assert isinstance(new["amount"], Money)
    assert type(new["payment_id"]) is UUID
    assert NEW.encode(new) == STORED == OLD.encode(old)


@pytest.mark.parametrize(
    "stored",
    [
        b'{"ratio":NaN,"big":Infinity}',  # json reads these; msgspec refuses them
        b'{"text":"\\ud800"}',  # a lone surrogate
        b'{"_type_":"uuid_hex","_data_":"{01234567-89AB-CDEF-0123-456789ABCDEF}"}',
        b'{"_type_":"x","_type_":"uuid_hex","_data_":"0123456789abcdef0123456789abcdef"}',
        b'{"_type_":"decimal_str","_data_":"1.500","extra":1}',
        b'[{"_type_":"frozenset","_data_":[3,1]},{"_type_":"idmap","_data_":[[1,2]]}]',
        b'{"amount":1.0000000000000002,"n":-0}',
    ],
)
def test_json_s_corner_cases_read_as_json_reads_them(stored: bytes) -> None:
    """What msgspec would read differently or not at all is read as json reads it."""
    old = OLD.decode(stored)

    new = NEW.decode(stored)

    if isinstance(old, dict) and old.get("ratio") != old.get("ratio"):  # NaN is not itself
        assert repr(old) == repr(new)
    else:
        _same(old, new)


@pytest.mark.parametrize(
    "stored", [b'{"a":1}x', b"\xff", b'{"_type_":"nobody","_data_":1}', b'{"a":"\xed\xa0\x80"}']
)
def test_what_json_refuses_is_refused(stored: bytes) -> None:
    """Bytes eventsourcing's transcoder cannot read are refused too, with an error of its kind."""
    with pytest.raises(Exception) as old:  # noqa: PT011 - whichever json raises
        OLD.decode(stored)

    with pytest.raises(Exception) as new:  # noqa: PT011
        NEW.decode(stored)

    assert isinstance(new.value, type(old.value))


def _values() -> st.SearchStrategy[Any]:
    """Any state json can store: text of every kind, big ints, floats, and every registered
    value, nested in lists, tuples and dicts."""
    registered = [st.from_type(cls) for cls in transcoded_classes()]
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=-(2**100), max_value=2**100),
        st.floats(allow_nan=False),
        st.text(),
        st.uuids(),
        st.decimals(allow_nan=False, allow_infinity=False),
        st.datetimes(),
        st.just(Money.of(1, "CNY")),
        *registered,
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.lists(inner, max_size=4).map(tuple),
            st.dictionaries(st.text(max_size=8), inner, max_size=4),
            st.frozensets(st.integers(), max_size=3),
            st.dictionaries(st.uuids(), st.integers(), max_size=3).map(IdMap),
        ),
        max_leaves=12,
    )


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much], deadline=None)
@given(state=st.dictionaries(st.text(max_size=8), _values(), max_size=6))
def test_any_state_is_written_as_json_writes_it_and_read_back(state: dict[str, Any]) -> None:
    """Any state of registered types is written to the bytes eventsourcing's JSON transcoder
    writes, and each transcoder reads the other's bytes to the same state."""
    stored = NEW.encode(state)

    assert stored == OLD.encode(state)
    _same(OLD.decode(stored), NEW.decode(stored))


@pytest.mark.parametrize("event_class", EVENTS, ids=lambda cls: cls.__qualname__)
@settings(
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow], max_examples=20
)
@given(data=st.data())
def test_every_event_class_stored_in_the_old_format_reads_the_same(
    event_class: type[Any], data: Any
) -> None:
    """An event of any class stored by eventsourcing's JSON transcoder is read back equal by
    the event codec, whose own encoding of it is the same bytes."""
    event = data.draw(events_of(event_class))
    stored = EventMapper(OLD).to_stored_event(event)

    restored = EventMapper(NEW).to_domain_event(stored)

    assert restored == event
    assert EventMapper(NEW).to_stored_event(restored).state == stored.state


def _history(app: KamApplication) -> Org:
    org = build_org(app)
    account = key_account(app, org)
    invoice = app.issue_invoice(
        account, org.finance, amount=Money.of(1000, "CNY"), due_at=T0 + timedelta(days=30), at=T0
    )
    for n in range(3):
        app.record_payment(
            account, org.finance, invoice, amount=Money.of(10 + n, "CNY"), at=T0 + timedelta(n)
        )
    return org


def _log(app: KamApplication) -> list[Notification]:
    return list(app.recorder.select_notifications(start=1, limit=10_000))


def _read(app: KamApplication) -> list[Any]:
    return [app.mapper.to_domain_event(notification) for notification in _log(app)]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_store_written_in_the_old_format_opens_verifies_and_is_never_rewritten(
    backend: str, tmp_path: Path
) -> None:
    """A store written with eventsourcing's JSON transcoder opens with the event codec: its
    chain verifies, its events read the same, its decisions replay, new commands append to it,
    and not one stored byte of the old events changes."""
    with fresh_store(backend, tmp_path) as url:
        before = KamApplication(url, policies=PolicyRegistry(), env=OLD_FORMAT)
        assert type(before.mapper.transcoder) is JSONTranscoder
        org = _history(before)
        written, events = _log(before), _read(before)
        before.close()

        after = KamApplication(url, policies=PolicyRegistry())
        assert type(after.mapper.transcoder) is EventTranscoder
        assert verify_chain(after.recorder).intact
        assert _read(after) == events
        assert after.replay().reproduced
        after.set_capacity(org.team_id, org.senior, org.kam, capacity=2)

        assert _log(after)[: len(written)] == written
        assert len(_log(after)) > len(written)
        assert verify_chain(after.recorder).intact
        after.close()


def test_events_written_by_the_codec_read_with_eventsourcing_s_transcoder(tmp_path: Path) -> None:
    """A store written with the event codec still opens with eventsourcing's own transcoder:
    the format is the same."""
    with fresh_store("sqlite", tmp_path) as url:
        app = KamApplication(url, policies=PolicyRegistry())
        _history(app)
        events = _read(app)
        app.close()

        old = KamApplication(url, policies=PolicyRegistry(), env=OLD_FORMAT)

        assert _read(old) == events
        assert verify_chain(old.recorder).intact
        old.close()


def test_a_host_s_transcoder_topic_is_kept() -> None:
    """A host that names a transcoder in its environment gets that transcoder."""
    app = KamApplication("memory://", policies=PolicyRegistry(), env=OLD_FORMAT)

    assert type(app.mapper.transcoder) is JSONTranscoder
    app.close()


def test_ids_read_are_uuids_like_any_other() -> None:
    """An id built by the codec's shortcut equals, hashes and prints as ``UUID()``'s, and the
    same text read twice gives an equal id."""
    text = "0123456789abcdef0123456789abcdef"
    stored = json.dumps({"id": {"_type_": "uuid_hex", "_data_": text}}).encode()

    read = NEW.decode(stored)["id"]

    assert type(read) is UUID
    assert read == UUID(text)
    assert hash(read) == hash(UUID(text))
    assert read.is_safe is UUID(text).is_safe
    assert str(read) == str(UUID(text))
    assert NEW.decode(stored)["id"] == read


def test_a_frozen_value_spelled_alike_is_read_once_and_differently_spelled_apart() -> None:
    """Two events storing the same amount the same way share one value; ``1.0`` and ``1.00``,
    equal as numbers, are stored apart and read apart."""
    transcoder = _registered(EventTranscoder())

    def amount(text: str) -> bytes:
        return OLD.encode({"amount": Money(Decimal(text), "CNY")})

    first = transcoder.decode(amount("1.0"))["amount"]
    again = transcoder.decode(amount("1.0"))["amount"]
    other = transcoder.decode(amount("1.00"))["amount"]

    assert again is first
    assert str(other.amount) == "1.00"
    assert str(first.amount) == "1.0"
