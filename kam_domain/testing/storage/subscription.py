"""Subscribing to the facade's recorder: what ``kam worker`` waits on."""

from __future__ import annotations

import threading
import time
from typing import Any
from uuid import uuid4

from eventsourcing.persistence import (
    Notification,
    StoredEvent,
    Subscription,
    Tracking,
)

from kam_domain.testing.storage.base import StoreTestCase
from kam_domain.testing.storage.fixtures import (
    SUBSCRIPTION_TIMEOUT,
    build_team,
    notification_ids,
    pct,
)

__all__ = ["SubscriptionConformance", "Taker", "take"]


class SubscriptionConformance(StoreTestCase):
    """Subscribing to the facade's recorder: what ``kam worker`` waits on for new events."""

    def setUp(self) -> None:
        super().setUp()
        if not self.supports_subscriptions:
            self.skipTest("this adapter's recorder does not support subscriptions")

    def test_subscription_yields_what_was_recorded_after_a_position(self) -> None:
        """From ``gt``, a subscription yields the later notifications in log order."""
        app = self.open()
        build_team(app)
        recorded = notification_ids(app)
        middle = recorded[len(recorded) // 2]

        with app.recorder.subscribe(gt=middle) as subscription:
            received = take(subscription, len(recorded) - recorded.index(middle) - 1)

        self.assertEqual([n.id for n in received], [i for i in recorded if i > middle])

    def test_subscription_yields_what_another_writer_records(self) -> None:
        """Events another application records on the store arrive while the subscriber waits."""
        app = self.open()
        build_team(app)
        head = app.recorder.max_notification_id()
        writer = self.reopen(app)

        with app.recorder.subscribe(gt=head) as subscription:
            waiting = Taker(subscription, 4)
            writer.form_team(
                name="Second", segment="s", region="r", director_name="D", top_authority=pct(5)
            )
            received = waiting.result()

        expected = [i for i in notification_ids(writer) if head is None or i > head][:4]
        self.assertEqual([n.id for n in received], expected)

    def test_events_recorded_with_tracking_wake_subscribers(self) -> None:
        """A policy's decision (events and tracking in one write) reaches subscribers too."""
        app = self.open()
        head = app.recorder.max_notification_id()
        recorder: Any = app.recorder
        stored = StoredEvent(
            originator_id=uuid4(), originator_version=1, topic="kit:Decided", state=b"{}"
        )

        with app.recorder.subscribe(gt=head) as subscription:
            waiting = Taker(subscription, 1)
            recorder.insert_events([stored], tracking=Tracking("kit.policy", head or 1))
            (received,) = waiting.result()

        self.assertEqual(received.originator_id, stored.originator_id)
        self.assertEqual(received.topic, "kit:Decided")

    def test_stop_ends_an_iteration_that_is_waiting(self) -> None:
        """``stop()`` from another thread ends the iteration of a subscriber waiting for events."""
        app = self.open()
        build_team(app)
        subscription = app.recorder.subscribe(gt=app.recorder.max_notification_id())

        with subscription:
            waiting = Taker(subscription, 1)
            time.sleep(0.3)
            started = time.monotonic()
            subscription.stop()
            received = waiting.result(allow_fewer=True)

        self.assertEqual(received, [])
        self.assertLess(time.monotonic() - started, 5.0)


class Taker:
    """Iterates a subscription in a thread until it has ``count`` notifications or stops."""

    def __init__(self, subscription: Subscription[Any], count: int) -> None:
        self.subscription = subscription
        self.count = count
        self.received: list[Notification] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._take, daemon=True)
        self.thread.start()

    def _take(self) -> None:
        try:
            for notification in self.subscription:
                self.received.append(notification)
                if len(self.received) == self.count:
                    return
        except BaseException as error:  # re-raised by result()
            self.error = error

    def result(self, *, allow_fewer: bool = False) -> list[Notification]:
        self.thread.join(SUBSCRIPTION_TIMEOUT)
        if self.thread.is_alive():
            self.subscription.stop()
            self.thread.join(SUBSCRIPTION_TIMEOUT)
            msg = f"received {len(self.received)} of {self.count} in {SUBSCRIPTION_TIMEOUT} s"
            raise AssertionError(msg)
        if self.error is not None:
            raise self.error
        if not allow_fewer and len(self.received) < self.count:
            raise AssertionError(f"the subscription ended after {len(self.received)}")
        return self.received


def take(subscription: Subscription[Any], count: int) -> list[Notification]:
    """The next ``count`` notifications, or AssertionError after the timeout."""
    return Taker(subscription, count).result()
