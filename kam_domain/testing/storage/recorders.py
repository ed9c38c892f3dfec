"""eventsourcing's own recorder tests, fed with recorders from the adapter's factory."""

from __future__ import annotations

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    ProcessRecorder,
    TrackingRecorder,
)
from eventsourcing.tests.persistence import (
    AggregateRecorderTestCase,
    ApplicationRecorderTestCase,
    NonInterleavingNotificationIDsBaseCase,
    ProcessRecorderTestCase,
    TrackingRecorderTestCase,
)

from kam_domain.testing.storage.base import StoreTestCase

__all__ = [
    "AggregateRecorderConformance",
    "ApplicationRecorderConformance",
    "NotificationOrderConformance",
    "ProcessRecorderConformance",
    "TrackingRecorderConformance",
]


class AggregateRecorderConformance(StoreTestCase, AggregateRecorderTestCase):
    """eventsourcing's aggregate recorder tests (the recorder that holds snapshots)."""

    def create_recorder(self) -> AggregateRecorder:
        return self.factory().aggregate_recorder("snapshots")


class ApplicationRecorderConformance(StoreTestCase, ApplicationRecorderTestCase):
    """eventsourcing's application recorder tests (events and their notification log)."""

    def create_recorder(self) -> ApplicationRecorder:
        return self.factory().application_recorder()

    def test_insert_subscribe(self) -> None:
        """A subscription yields recorded events in order, then new ones as they arrive."""
        if not self.supports_subscriptions:
            self.skipTest("this adapter's recorder does not support subscriptions")
        self.optional_test_insert_subscribe()


class TrackingRecorderConformance(StoreTestCase, TrackingRecorderTestCase):
    """eventsourcing's tracking recorder tests (what a policy has processed)."""

    def create_recorder(self) -> TrackingRecorder:
        recorder: TrackingRecorder = self.factory().tracking_recorder()
        return recorder


class ProcessRecorderConformance(StoreTestCase, ProcessRecorderTestCase):
    """eventsourcing's process recorder tests (events recorded atomically with tracking)."""

    def create_recorder(self) -> ProcessRecorder:
        return self.factory().process_recorder()


class NotificationOrderConformance(StoreTestCase, NonInterleavingNotificationIDsBaseCase):
    """Two transactions' notification ids never interleave (readers would skip events)."""

    def create_recorder(self) -> ApplicationRecorder:
        return self.factory().application_recorder()
