"""Periods on a time zone's calendar, and the names a zone is recorded by.

The property: for any zone and any instant, the instant lies in exactly one local quarter, and
that quarter's UTC bounds contain it; consecutive quarters meet without a gap or an overlap,
clock changes included.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam_domain.errors import UnknownTimeZone, ValidationError
from kam_domain.values import Period
from kam_domain.zones import add_days, is_utc, local_text, require_zone, zone_name, zone_named

SHANGHAI = ZoneInfo("Asia/Shanghai")
instants = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
)


def neighbours(period: Period) -> tuple[Period, Period]:
    assert period.quarter is not None
    before = (
        Period(period.year - 1, 4)
        if period.quarter == 1
        else Period(period.year, period.quarter - 1)
    )
    after = (
        Period(period.year + 1, 1)
        if period.quarter == 4
        else Period(period.year, period.quarter + 1)
    )
    return before, after


@given(zone=st.timezones(), moment=instants)
def test_an_instant_lies_in_exactly_one_local_quarter(zone: ZoneInfo, moment: datetime) -> None:
    """The instant's local quarter contains it by its UTC bounds; its neighbours do not."""
    quarter = Period.quarter_of(moment, zone)

    assert quarter.start_in(zone) <= moment < quarter.end_in(zone)
    assert quarter.contains_in(moment, zone)
    assert not any(other.contains_in(moment, zone) for other in neighbours(quarter))


@given(zone=st.timezones(), year=st.integers(min_value=1971, max_value=2099))
def test_consecutive_quarters_meet_and_make_up_the_year(zone: ZoneInfo, year: int) -> None:
    """Each quarter ends where the next begins, and the four span the local year exactly."""
    quarters = [Period(year, q) for q in (1, 2, 3, 4)]

    for first, second in itertools.pairwise(quarters):
        assert first.end_in(zone) == second.start_in(zone)
    assert quarters[0].start_in(zone) == Period(year).start_in(zone)
    assert quarters[3].end_in(zone) == Period(year).end_in(zone)


def test_every_known_zone_splits_its_quarters_at_their_bounds() -> None:
    """For every zone the system knows, 2020-2030: the first instant of a quarter is in it and
    the instant before is in the one before, whatever the zone's offsets and clock changes."""
    for name in sorted(available_timezones()):
        zone = ZoneInfo(name)
        for year in range(2020, 2031):
            for number in (1, 2, 3, 4):
                quarter = Period(year, number)
                start = quarter.start_in(zone)
                assert Period.quarter_of(start, zone) == quarter, name
                before = Period.quarter_of(start - timedelta(microseconds=1), zone)
                assert before == neighbours(quarter)[0], name


@given(moment=instants)
def test_on_utc_the_local_reading_is_the_utc_one(moment: datetime) -> None:
    """With UTC, every reading is the one periods always had."""
    quarter = Period.quarter_of(moment)

    assert Period.quarter_of(moment, UTC) == quarter
    assert (quarter.start_in(UTC), quarter.end_in(UTC)) == (quarter.start, quarter.end)
    assert quarter.contains_in(moment, UTC) == quarter.contains(moment)


def test_shanghai_q2_closes_at_local_midnight() -> None:
    """Given Asia/Shanghai, 2026-Q2 closes at 2026-07-01T00:00+08:00 = 2026-06-30T16:00Z."""
    q2 = Period(2026, 2)

    end = q2.end_in(SHANGHAI)

    assert end == datetime(2026, 6, 30, 16, tzinfo=UTC)
    assert end.tzinfo is UTC
    assert local_text(end, SHANGHAI) == "2026-07-01T00:00:00+08:00"
    assert Period.quarter_of(end - timedelta(microseconds=1), SHANGHAI) == q2
    assert Period.quarter_of(end, SHANGHAI) == Period(2026, 3)


def test_a_day_across_a_clock_change_is_the_local_day() -> None:
    """Given Europe/Berlin, ten days from 20 March midnight end at 30 March midnight there,
    one hour fewer than 240 (the clocks went forward on 29 March 2026)."""
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 3, 20, tzinfo=berlin).astimezone(UTC)

    end = add_days(start, 10, berlin)

    assert end == datetime(2026, 3, 30, tzinfo=berlin)
    assert end - start == timedelta(days=10, hours=-1)
    assert add_days(start, 10, UTC) == start + timedelta(days=10)


@pytest.mark.parametrize("name", ["Asia/Shanghai", "UTC", "America/Los_Angeles", "Etc/GMT-8"])
def test_a_known_name_gives_its_zone(name: str) -> None:
    """An IANA name the standard library knows is accepted and named back as given."""
    zone = require_zone("zone", name)

    assert zone_name(zone) == name
    assert zone_name(zone_named(name)) == name


@pytest.mark.parametrize("name", ["Asia/Shangai", "CST", "+08:00", "", " UTC", "x" * 500, None, 8])
def test_an_unknown_name_is_a_named_error(name: object) -> None:
    """Anything else is UnknownTimeZone (a ValidationError) naming the field."""
    with pytest.raises(UnknownTimeZone, match=r"^zone: ") as raised:
        require_zone("zone", name)

    assert isinstance(raised.value, ValidationError)
    assert len(str(raised.value)) < 200


def test_utc_is_utc_however_it_is_named() -> None:
    """datetime.UTC, the IANA UTC and Etc/UTC all read as UTC; Shanghai does not."""
    assert zone_named("UTC") is UTC
    assert all(is_utc(z) for z in (UTC, ZoneInfo("UTC"), ZoneInfo("Etc/UTC")))
    assert not is_utc(SHANGHAI)
