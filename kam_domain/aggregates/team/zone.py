"""The team's time zone (时区), set by a director from a moment on, and the zone in force: the
calendar its quarters, its period-end deadlines and its people's local times follow.

Every moment stays stored in UTC; the zone says where a quarter begins and ends. A team that
has recorded no zone keeps UTC, as every team did before zones were recorded.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from kam_domain.aggregates.base import KamAggregate, Meta, require_utc
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.team.guards import TeamGuards
from kam_domain.errors import InvalidTransition
from kam_domain.values import Period
from kam_domain.zones import DEFAULT_ZONE, require_zone, zone_named

if TYPE_CHECKING:
    from kam_domain.aggregates.team import Team

#: A period follows the zone in force at its last moment (its end is exclusive).
_LAST_MOMENT = timedelta(microseconds=1)


class TimeZones(TeamGuards):
    """Setting the team's time zone, and reading the one in force."""

    class TimeZoneSet(KamAggregate.Event):
        """The team keeps its calendar in ``zone`` (an IANA name) from ``effective_from`` on."""

        zone: str
        effective_from: datetime

        def apply(self, team: Team) -> None:
            team.time_zones.append((self.effective_from, self.zone))
            team.time_zones.sort(key=lambda item: item[0])

    def set_time_zone(
        self,
        meta: Meta,
        by: Credentials,
        zone: str,
        *,
        effective_from: datetime | None = None,
    ) -> None:
        """A director sets the team's time zone (an IANA name such as ``Asia/Shanghai``) from a
        moment on (the command's own moment unless given)."""
        by.require_director("actor")
        require_zone("zone", zone)
        start = meta.at if effective_from is None else require_utc("effective_from", effective_from)
        if self.zone_name_at(start) == zone and not any(at > start for at, _ in self.time_zones):
            raise InvalidTransition(f"zone: the team keeps {zone} from {start.isoformat()} already")
        self._record(self.TimeZoneSet, meta, zone=zone, effective_from=start)

    # -- queries -----------------------------------------------------------------------------------

    def zone_name_at(self, at: datetime) -> str:
        """The name of the zone in force at ``at`` (``UTC`` before any was set)."""
        current = DEFAULT_ZONE
        for start, zone in self.time_zones:
            if start <= at:
                current = zone
        return current

    def zone_at(self, at: datetime) -> tzinfo:
        """The zone in force at ``at``; ``datetime.UTC`` before any was set."""
        return zone_named(self.zone_name_at(at))

    def zone_for(self, period: Period) -> tzinfo:
        """The zone a period's bounds follow: the one in force at its last moment by the UTC
        calendar, as the evaluation standard in force then is the period's."""
        return self.zone_at(period.end - _LAST_MOMENT)

    def period_start(self, period: Period) -> datetime:
        """The first instant of ``period`` on the team's calendar (UTC)."""
        return period.start_in(self.zone_for(period))

    def period_end(self, period: Period) -> datetime:
        """The first instant after ``period`` on the team's calendar (UTC); the end is exclusive."""
        return period.end_in(self.zone_for(period))
