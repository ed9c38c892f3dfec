"""Events dated back: effective time well before the moment they were written.

The chain records when each event was written (chain format 2); the event carries when it took
effect. A command dated back is accepted within its team's backdating window, or beyond it by a
member holding the recorded permission to import history; either way it is listed here, so that
an auditor sees every decision recorded after the fact, by whom, and how long after. Links in
format 1 record no written time: their events cannot be judged, and are not listed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from kam_domain.audit.integrity import paged, side_by_side
from kam_domain.ledger import SealedRecorder
from kam_domain.ledger import moment as _moment
from kam_domain.runtime.causal import is_consequence

__all__ = ["BACKDATED_AFTER", "Backdated", "backdated_events"]

#: Dated back by more than this, an event is listed (a few minutes is a worker's lag).
BACKDATED_AFTER = timedelta(hours=1)
_PAGE = 1000


class Backdated:
    """One event dated back: where it is, when it took effect and when it was written."""

    __slots__ = ("event", "position", "written_at")

    def __init__(self, position: int, event: Any, written_at: datetime) -> None:
        self.position = position
        self.event = event
        self.written_at = written_at

    @property
    def effective_at(self) -> datetime:
        at: datetime = self.event.timestamp
        return at

    @property
    def gap(self) -> timedelta:
        return self.written_at - self.effective_at


def backdated_events(
    app: Any, *, after: timedelta = BACKDATED_AFTER, until: datetime | None = None
) -> Iterator[Backdated]:
    """Every event (written up to ``until``) whose effective time is more than ``after``
    before the moment it was written, in log order (none where the store keeps no chain, and
    so no written times)."""
    recorder, chain = app.recorder, app.recorder
    if not isinstance(chain, SealedRecorder):
        return
    events = paged(lambda start: recorder.select_notifications(start, _PAGE), lambda e: e.id)
    links = paged(lambda start: chain.select_links(start, _PAGE), lambda link: link.position)
    for notification, link in side_by_side(events, links):
        if notification is None or link is None or link.written_at is None:
            continue
        written = _moment(link.written_at)
        if until is not None and written > until:
            return
        event = app.mapper.to_domain_event(notification)
        if is_consequence(event):
            # A policy's decision and its actions take effect when their cause did, however
            # late a worker settled it; whether they belong there is what kam replay checks.
            continue
        if written - event.timestamp > after:
            yield Backdated(notification.id, event, written)
