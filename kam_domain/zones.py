"""Time zones: the IANA names a team may keep its calendar in, and local times for people.

Everything is stored in UTC. A team's zone (``Team.zone_for``) decides where its quarters begin
and end and when deadlines counted in days from a period's end fall; a zone is named as the
standard library's :mod:`zoneinfo` knows it (``Asia/Shanghai``, ``Europe/Berlin``, ``UTC``).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, available_timezones

from kam_domain.errors import UnknownTimeZone

__all__ = [
    "DEFAULT_ZONE",
    "add_days",
    "is_utc",
    "local_text",
    "require_zone",
    "zone_name",
    "zone_named",
]

#: The zone of a team that has recorded none.
DEFAULT_ZONE = "UTC"


@functools.cache
def _known() -> frozenset[str]:
    # Read once: the set of names is the system's (or the tzdata package's) database.
    return frozenset(available_timezones()) | {DEFAULT_ZONE}


def require_zone(field: str, name: object) -> ZoneInfo:
    """The zone named ``name``; :class:`~kam_domain.errors.UnknownTimeZone` for anything else."""
    if not isinstance(name, str):
        raise UnknownTimeZone(field, f"must be an IANA time zone name, not {name!r}")
    if name not in _known():
        shown = name if len(name) <= 60 else name[:60] + "…"
        msg = f"{shown!r} is not a time zone the IANA database names (e.g. 'Asia/Shanghai')"
        raise UnknownTimeZone(field, msg)
    return ZoneInfo(name)


def zone_named(name: str) -> tzinfo:
    """The zone a recorded name stands for: ``datetime.UTC`` for ``UTC``."""
    return UTC if name == DEFAULT_ZONE else require_zone("zone", name)


def zone_name(zone: tzinfo) -> str:
    """The name a zone is recorded and shown by."""
    return DEFAULT_ZONE if zone is UTC else str(zone)


def is_utc(zone: tzinfo) -> bool:
    """Whether ``zone`` is UTC (``datetime.UTC`` or the IANA ``UTC``)."""
    return zone is UTC or zone_name(zone) in {"UTC", "Etc/UTC"}


def local_text(moment: datetime, zone: tzinfo) -> str:
    """``moment`` as the zone's wall clock shows it, with its offset (ISO 8601)."""
    return moment.astimezone(zone).isoformat()


def add_days(moment: datetime, days: int, zone: tzinfo) -> datetime:
    """``days`` calendar days after ``moment`` on the wall clock of ``zone``, in UTC: across a
    clock change a day is the local day (23 or 25 hours), not 24 hours."""
    if is_utc(zone):
        return moment + timedelta(days=days)
    local = moment.astimezone(zone).replace(tzinfo=None) + timedelta(days=days)
    return local.replace(tzinfo=zone).astimezone(UTC)
