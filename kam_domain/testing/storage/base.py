"""The base of every conformance case: a fresh, empty store of the adapter under test."""

from __future__ import annotations

import threading
from typing import Any, ClassVar
from unittest import TestCase

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from kam_domain.application import KamApplication
from kam_domain.ledger import ChainLink
from kam_domain.sealing import Sealing
from kam_domain.storage import resolve_store, store_settings

__all__ = ["StoreTestCase"]


class StoreTestCase(TestCase):
    """A test case with a fresh, empty store of the adapter under test (``self.store``)."""

    #: False when a store lives only as long as the application object that opened it.
    persistent: ClassVar[bool] = True
    #: Whether the application recorder's ``subscribe()`` is supported.
    supports_subscriptions: ClassVar[bool] = True
    #: Whether the recorder seals events into the hash chain (``kam audit verify``).
    keeps_chain: ClassVar[bool] = True
    #: Whether the recorder keeps the as-of index (as-of lookups without replaying).
    keeps_asof_index: ClassVar[bool] = True
    #: Whether the recorder keeps the engine's state (kam_domain.runtime.state.StateRecorder).
    keeps_state: ClassVar[bool] = True

    store: str

    def create_store_url(self) -> str:
        """The URL of a fresh, empty store, used by one test."""
        raise NotImplementedError

    def drop_store(self, url: str) -> None:
        """Remove what :meth:`create_store_url` made (called after each test)."""

    def raw_states(self, app: KamApplication) -> list[bytes]:
        """Every stored event's state as the store keeps it.

        This default reads through the adapter's recorder; adapters over a database should
        read the tables with the database's own driver instead, so that the encryption tests
        look at the bytes at rest.
        """
        notifications = app.recorder.select_notifications(start=None, limit=1_000_000)
        return [notification.state for notification in notifications]

    def overrun_chain(self, app: KamApplication, position: int) -> None:
        """Add a link at ``position`` to the chain of ``app``'s store, behind the recorder's
        back, as if the events table had lost its tail after the chain sealed it.

        This default writes through the hooks of the sealing core
        (:class:`~kam_domain.sealing.Sealing`); an adapter that keeps the chain otherwise
        should write the row with its database's own means, or the check is skipped.
        """
        recorder = app.recorder
        if not isinstance(recorder, Sealing):
            self.skipTest(
                "this adapter's recorder is not built on kam_domain.sealing: override "
                "overrun_chain() to check that it refuses a write the chain runs past"
            )
        with recorder._writing() as c:
            recorder._write_links(c, [ChainLink(position, bytes(32), None)])

    def setUp(self) -> None:
        if type(self).create_store_url is StoreTestCase.create_store_url:
            self.skipTest("abstract conformance case: subclass it and define create_store_url()")
        super().setUp()
        self._threads_before = set(threading.enumerate())
        self.store = self.create_store_url()
        self.addCleanup(self.drop_store, self.store)

    def tearDown(self) -> None:
        # Some of eventsourcing's cases leave reader threads running after they return; closing
        # the store under a thread still using it can crash the driver (SQLite does).
        for thread in set(threading.enumerate()) - self._threads_before:
            if not thread.daemon:
                thread.join(timeout=30)
        super().tearDown()

    def open(self, store: str | None = None, **options: Any) -> KamApplication:
        """A :class:`KamApplication` on ``store`` (default: this test's), closed after the test."""
        app = KamApplication(store or self.store, **options)
        self.addCleanup(app.close)
        return app

    def reopen(
        self, app: KamApplication, *, store: str | None = None, **options: Any
    ) -> KamApplication:
        """Another application on the same store; the same one when stores do not persist."""
        if not self.persistent:
            return app
        return self.open(store or self.store, **options)

    def factory(self) -> InfrastructureFactory[Any]:
        """The adapter's eventsourcing factory for this test's store, closed after the test."""
        url, adapter = resolve_store(self.store)
        env = Environment(KamApplication.name, store_settings(url, adapter))
        factory: InfrastructureFactory[Any] = InfrastructureFactory.construct(env)
        self.addCleanup(factory.close)
        return factory
