"""A subscription for stores that cannot notify other processes: it polls.

eventsourcing subscribes to PostgreSQL through LISTEN/NOTIFY and to its in-memory store through
in-process events; SQLite has neither across processes. :class:`Subscribable` gives an
application recorder ``subscribe(gt, topics)`` returning a :class:`PollingSubscription`, which
reads what was recorded after ``gt`` and then looks again every ``poll_interval`` seconds, and
at once whenever this process records through the same recorder.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import (
    ApplicationRecorder,
    ListenNotifySubscription,
    StoredEvent,
    Subscription,
)

__all__ = ["DEFAULT_POLL_INTERVAL", "PollingSubscription", "Subscribable", "poll_interval"]

#: Seconds between two looks for what other processes recorded.
DEFAULT_POLL_INTERVAL = 0.2
#: The longest interval accepted: beyond it a worker would look stuck.
MAX_POLL_INTERVAL = 60.0
#: The shortest: below it a waiting process would spin on the database.
MIN_POLL_INTERVAL = 0.01


def poll_interval(text: str) -> float:
    """``text`` as a poll interval in seconds; ValueError unless a number in [0.01, 60]."""
    msg = (
        f"must be a number of seconds from {MIN_POLL_INTERVAL:g} to {MAX_POLL_INTERVAL:g},"
        f" not {text[:20]!r}"
    )
    if len(text) > 20:
        raise ValueError(msg)
    try:
        value = float(text)
    except ValueError:
        raise ValueError(msg) from None
    if not MIN_POLL_INTERVAL <= value <= MAX_POLL_INTERVAL:
        raise ValueError(msg)
    return value


class Subscribable(ApplicationRecorder):
    """Mixin for an application recorder: ``subscribe()`` by polling, woken by local writes."""

    poll_interval: float = DEFAULT_POLL_INTERVAL

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listeners: set[threading.Event] = set()
        self._listeners_lock = threading.Lock()

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        return PollingSubscription(self, gt=gt, topics=topics, interval=self.poll_interval)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # The mixin always comes before a concrete recorder, whose method this calls.
        notification_ids = super().insert_events(stored_events, **kwargs)  # type: ignore[safe-super]
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener.set()
        return notification_ids

    def listen(self, event: threading.Event) -> None:
        """Have ``event`` set whenever this recorder has recorded something."""
        with self._listeners_lock:
            self._listeners.add(event)

    def unlisten(self, event: threading.Event) -> None:
        with self._listeners_lock:
            self._listeners.discard(event)


class PollingSubscription(ListenNotifySubscription[ApplicationRecorder]):
    """Notifications after ``gt``, then new ones as they are recorded, found by polling.

    eventsourcing's listen-notify subscription does the reading: a thread pulls pages of
    notifications whenever it is woken. Here a second thread wakes it every ``interval``
    seconds, and the recorder wakes it when this process records. ``stop()`` ends both threads
    within one interval; iterating a stopped subscription ends, or raises the error that
    stopped the reading thread.
    """

    def __init__(
        self,
        recorder: Subscribable,
        gt: int | None = None,
        topics: Sequence[str] = (),
        *,
        interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        # Set before the reading thread starts, since it calls stop() when it fails.
        self._stopping = threading.Event()
        self._subscribed = recorder
        self._interval = interval
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        recorder.listen(self._has_been_notified)
        if self._has_been_stopped:
            recorder.unlisten(self._has_been_notified)
        self._poll_thread = threading.Thread(target=self._poll, name="kam-poll", daemon=True)
        self._poll_thread.start()

    def stop(self) -> None:
        super().stop()
        self._stopping.set()
        self._subscribed.unlisten(self._has_been_notified)

    def __exit__(self, *args: object, **kwargs: Any) -> None:
        try:
            super().__exit__(*args, **kwargs)
        finally:
            self._poll_thread.join()

    def _poll(self) -> None:
        while not self._stopping.wait(self._interval):
            self._has_been_notified.set()
