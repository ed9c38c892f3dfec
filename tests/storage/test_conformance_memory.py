"""The conformance kit on ``memory://``: every store lives as long as its application."""

from __future__ import annotations

from kam_domain.testing import storage as kit


class MemoryStore(kit.StoreTestCase):
    persistent = False

    def create_store_url(self) -> str:
        return "memory://"


class TestMemoryAggregateRecorder(MemoryStore, kit.AggregateRecorderConformance):
    pass


class TestMemoryApplicationRecorder(MemoryStore, kit.ApplicationRecorderConformance):
    pass


class TestMemoryTrackingRecorder(MemoryStore, kit.TrackingRecorderConformance):
    pass


class TestMemoryProcessRecorder(MemoryStore, kit.ProcessRecorderConformance):
    pass


class TestMemoryNotificationOrder(MemoryStore, kit.NotificationOrderConformance):
    pass


class TestMemoryApplication(MemoryStore, kit.ApplicationConformance):
    pass


class TestMemorySubscription(MemoryStore, kit.SubscriptionConformance):
    pass


class TestMemoryChain(MemoryStore, kit.ChainConformance):
    pass


class TestMemoryAsOfIndex(MemoryStore, kit.AsOfIndexConformance):
    pass


class TestMemoryState(MemoryStore, kit.StateConformance):
    pass
