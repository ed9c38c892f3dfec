"""The demo's clock: recorded time, twice a day through the quarter, then past the sign-off
deadline, so that the time-driven policies decide when the record says they should."""

from __future__ import annotations

from datetime import datetime, timedelta

from kam_domain.demo.timeline import CLOCK, QUARTER, TICK_EVERY, Timeline

__all__ = ["ClockSteps"]


class ClockSteps(Timeline):
    """The ticks of the clock."""

    def plan_clock(self) -> None:
        """Recorded time: twice a day through the quarter, then past the sign-off deadline."""
        moment = self.at(1)
        while moment < QUARTER.end:
            self.step(moment, self._tick, moment)
            moment += TICK_EVERY
        self.step(QUARTER.end + timedelta(days=12), self._tick, QUARTER.end + timedelta(days=12))

    def _tick(self, when: datetime) -> None:
        self.app.tick(CLOCK, at=when)
