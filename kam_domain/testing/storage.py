"""Conformance tests for storage adapters, built on eventsourcing's own recorder tests.

An adapter (see :mod:`kam_domain.storage`) conforms when every case here passes against it.
Give :class:`StoreTestCase` a way to make a fresh, empty store, then combine it with each case::

    from kam_domain.testing import storage as kit

    class MyStore(kit.StoreTestCase):
        def create_store_url(self) -> str:
            return "mystore://…/a-fresh-empty-store"

        def drop_store(self, url: str) -> None:
            ...  # remove what create_store_url made

    class TestMyAggregateRecorder(MyStore, kit.AggregateRecorderConformance): ...
    class TestMyApplicationRecorder(MyStore, kit.ApplicationRecorderConformance): ...
    class TestMyTrackingRecorder(MyStore, kit.TrackingRecorderConformance): ...
    class TestMyProcessRecorder(MyStore, kit.ProcessRecorderConformance): ...
    class TestMyNotificationOrder(MyStore, kit.NotificationOrderConformance): ...
    class TestMyApplication(MyStore, kit.ApplicationConformance): ...
    class TestMySubscription(MyStore, kit.SubscriptionConformance): ...
    class TestMyChain(MyStore, kit.ChainConformance): ...
    class TestMyAsOfIndex(MyStore, kit.AsOfIndexConformance): ...

Import the module, not its classes: pytest collects every ``TestCase`` class it finds in a test
module's namespace, and these are abstract (they skip themselves if collected anyway).

The recorder cases are eventsourcing's (``eventsourcing.tests.persistence``), fed with recorders
from the adapter's own factory. :class:`ApplicationConformance` adds what this library relies
on: opening a store by URL through the facade, state that survives reopening, optimistic
conflicts surfacing as :class:`~kam_domain.errors.ConcurrencyConflict` with nothing written,
several records committed all or nothing, writers in several threads losing nothing, and
encryption and compression configured per store. :class:`SubscriptionConformance` checks what
``kam worker`` relies on: the facade's recorder (a process recorder) yields what it holds after a
position, then what any writer records, and stops when asked, even while it waits.

:class:`ChainConformance` and :class:`AsOfIndexConformance` check what auditors rely on (see
:mod:`kam_domain.ledger`): every event sealed into the hash chain, and indexed by its timestamp,
in the same write as the event; ``kam audit verify`` passing on an untouched store, with read
access only and no cipher key; as-of answers equal to a replay of the history. A recorder that
offers the optional ``select_sealed`` (:class:`~kam_domain.ledger.JoinedRecorder`) must give
the rows :func:`sealed_rows` derives from ``select_notifications`` and ``select_links``, and
verify must answer through it as through those two (:class:`TwoStreams`); without it, those
checks are skipped and verify merges the two streams.

Capability flags on :class:`StoreTestCase`: ``persistent`` (False when a store lives only as long
as the application object that opened it, as ``memory://`` does), ``supports_subscriptions``
(whether the application recorder's ``subscribe()`` works), ``keeps_chain`` and
``keeps_asof_index`` (False when the adapter's recorder does not write the hash chain, or the
as-of index: the kit then skips those checks and says so, and ``kam audit verify`` refuses the
store; as-of queries still answer, by replaying histories).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from unittest import TestCase
from urllib.parse import quote
from uuid import UUID, uuid4

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    Notification,
    ProcessRecorder,
    StoredEvent,
    Subscription,
    Tracking,
    TrackingRecorder,
)
from eventsourcing.tests.persistence import (
    AggregateRecorderTestCase,
    ApplicationRecorderTestCase,
    NonInterleavingNotificationIDsBaseCase,
    ProcessRecorderTestCase,
    TrackingRecorderTestCase,
)
from eventsourcing.utils import Environment

from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.team import Team
from kam_domain.application import KamApplication
from kam_domain.application.directory import Entry
from kam_domain.audit.integrity import (
    Checkpoint,
    head,
    side_by_side,
    verify_chain,
    verify_store,
)
from kam_domain.errors import (
    ConcurrencyConflict,
    InvalidStoreUrl,
    StoreNotSealed,
    StoreUnreadable,
    TeamNotFound,
    ValidationError,
)
from kam_domain.ledger import (
    CHAIN_FORMAT,
    ChainFormat,
    ChainLink,
    IndexedRecorder,
    JoinedRecorder,
    SealedRow,
)
from kam_domain.storage import StoreUrl, new_cipher_key, resolve_store, store_settings
from kam_domain.values import Actor, MemberId, Percentage, Role, TeamId

__all__ = [
    "AggregateRecorderConformance",
    "ApplicationConformance",
    "ApplicationRecorderConformance",
    "AsOfIndexConformance",
    "ChainConformance",
    "NotificationOrderConformance",
    "ProcessRecorderConformance",
    "StoreTestCase",
    "SubscriptionConformance",
    "TrackingRecorderConformance",
    "TwoStreams",
    "canonical_rows",
    "sealed_rows",
]

#: Names the raw-bytes tests look for: none may be readable in an encrypted store.
TEAM_NAME = "Zhongshan Telecom Key Accounts"
DIRECTOR_NAME = "Qian Weiming"
MEMBER_NAMES = ("Lu Xiaofeng", "He Jingyi", "Tang Shuhua")
#: Seconds a subscription may take to deliver what was recorded (polling stores included).
SUBSCRIPTION_TIMEOUT = 10.0


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


class ApplicationConformance(StoreTestCase):
    """What the facade needs from a store, beyond eventsourcing's recorder contracts."""

    def test_opens_the_store_its_url_names(self) -> None:
        """A new store opens through the facade by its URL and holds no team yet."""
        app = self.open()

        self.assertEqual(str(app.store_url), str(StoreUrl.parse(self.store)))
        self.assertEqual(app.teams(), [])

    def test_team_state_survives_reopening_the_store(self) -> None:
        """Team, members and authority read back from the store as they were recorded."""
        app = self.open()
        team_id, director, members = build_team(app)

        reread = self.reopen(app)
        team = reread.get_team(team_id)

        self.assertEqual(state(team), state(app.get_team(team_id)))
        self.assertEqual(team.name, TEAM_NAME)
        self.assertEqual([m.name for m in team.active_members()], [DIRECTOR_NAME, *MEMBER_NAMES])
        limits = [str(team.credentials(m, team.modified_on).discount_authority) for m in members]
        self.assertEqual(limits, ["20%", "5%", "None"])
        self.assertEqual([t.id for t in reread.teams()], [team_id])
        self.assertEqual(team.capacity_of(director), 15)

    def test_conflicting_write_raises_concurrency_conflict_and_records_nothing(self) -> None:
        """A write based on a stale read fails with ConcurrencyConflict and changes nothing."""
        writer = self.open()
        team_id, director, _ = build_team(writer)
        other = self.reopen(writer)
        stale = other.get_team(team_id)
        writer.set_capacity(team_id, director, None, capacity=20)

        read_at = stale.version
        meta = Meta.command(Actor.member(director))
        stale.set_capacity(meta, stale.credentials(director, meta.at), None, capacity=30)
        with self.assertRaises(ConcurrencyConflict):
            other._commit(stale)

        team = writer.get_team(team_id)
        self.assertEqual(team.default_capacity, 20)
        self.assertEqual(team.version, read_at + 1)

    def test_several_records_commit_all_or_nothing(self) -> None:
        """When one record of a commit conflicts, the others are not written either."""
        app = self.open()
        stale_directory = app._directory()
        app.form_team(
            name="First", segment="s", region="r", director_name="D", top_authority=pct(10)
        )
        meta = Meta.command(Actor.system("conformance"))
        team = Team.form(
            meta,
            TeamId(uuid4()),
            name="Second",
            segment="s",
            region="r",
            director_id=MemberId(uuid4()),
            director_name="D",
            top_authority=pct(10),
        )
        stale_directory.add(meta, team.id, Entry("team", team.name, team.id))

        with self.assertRaises(ConcurrencyConflict):
            app._commit(team, stale_directory)

        self.assertFalse(team.id in app.repository, "the conflicting commit wrote a record")
        self.assertEqual([t.name for t in app.teams()], ["First"])

    def test_retrying_runs_a_command_again_after_a_conflict(self) -> None:
        """``retrying`` repeats a command that lost a race, and the second attempt lands."""
        app = self.open()
        team_id, director, _ = build_team(app)
        attempts: list[int] = []

        def set_capacity_losing_the_first_race(capacity: int) -> None:
            attempts.append(capacity)
            if len(attempts) == 1:
                stale = app.get_team(team_id)
                app.set_capacity(team_id, director, None, capacity=capacity - 1)
                meta = Meta.command(Actor.member(director))
                by = stale.credentials(director, meta.at)
                stale.set_capacity(meta, by, None, capacity=capacity)
                app._commit(stale)
            else:
                app.set_capacity(team_id, director, None, capacity=capacity)

        app.retrying(set_capacity_losing_the_first_race, 40)

        self.assertEqual(attempts, [40, 40])
        self.assertEqual(app.get_team(team_id).default_capacity, 40)

    def test_writers_in_several_threads_lose_and_duplicate_nothing(self) -> None:
        """Four threads updating one team, retrying conflicts, record exactly their commands."""
        app = self.open()
        team_id, director, _ = build_team(app)
        start = app.get_team(team_id).version
        kams = [
            app.add_member(team_id, director, name=f"KAM {n}", role=Role.KEY_ACCOUNT_MANAGER)
            for n in range(4)
        ]
        per_thread = 15
        errors: list[BaseException] = []

        def work(member: UUID) -> None:
            writer = self.reopen(app)
            try:
                for capacity in range(1, per_thread + 1):
                    writer.retrying(
                        writer.set_capacity,
                        team_id,
                        director,
                        member,
                        capacity=capacity,
                        attempts=200,
                    )
            except BaseException as error:  # reported by the main thread
                errors.append(error)

        threads = [threading.Thread(target=work, args=(kam,)) for kam in kams]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        self.assertEqual(errors, [])
        team = self.reopen(app).get_team(team_id)
        self.assertEqual(team.version, start + len(kams) + len(kams) * per_thread)
        for kam in kams:
            self.assertEqual(capacities(app, team_id, kam), list(range(1, per_thread + 1)))

    def test_encrypted_store_round_trips_and_keeps_no_name_readable(self) -> None:
        """With a cipher key, state reads back with the key and no name is readable at rest."""
        key = new_cipher_key()
        app = self.open(cipher_key=key)
        team_id, _, _ = build_team(app)

        reread = self.reopen(app, cipher_key=key)

        self.assertEqual(reread.get_team(team_id).name, TEAM_NAME)
        assert_names_hidden(self, self.raw_states(app))

    def test_unencrypted_store_keeps_names_readable_at_rest(self) -> None:
        """Without a key the names are in the stored bytes (so the encrypted test means it)."""
        app = self.open()
        build_team(app)

        raw = b"".join(self.raw_states(app))

        self.assertIn(TEAM_NAME.encode(), raw)
        self.assertIn(DIRECTOR_NAME.encode(), raw)

    def test_encrypted_store_refuses_a_missing_or_wrong_key(self) -> None:
        """Opening an encrypted store without its key, or with another, is StoreUnreadable."""
        if not self.persistent:
            self.skipTest("the store does not outlive the application that wrote it")
        key = new_cipher_key()
        build_team(self.open(cipher_key=key))

        with self.assertRaises(StoreUnreadable):
            self.open()
        with self.assertRaises(StoreUnreadable):
            self.open(cipher_key=new_cipher_key())

    def test_compressed_store_round_trips(self) -> None:
        """With compression on, state reads back; opened without it, the store is unreadable."""
        app = self.open(compress=True)
        team_id, _, _ = build_team(app)

        reread = self.reopen(app, compress=True)

        self.assertEqual(reread.get_team(team_id).name, TEAM_NAME)
        self.assertTrue(all(stored.startswith(b"\x78") for stored in self.raw_states(app)))
        if self.persistent:
            with self.assertRaises(StoreUnreadable):
                self.open(compress=False)

    def test_encrypted_and_compressed_store_round_trips(self) -> None:
        """Cipher and compression together: state reads back and no name is readable."""
        key = new_cipher_key(16)
        app = self.open(cipher_key=key, compress=True)
        team_id, _, _ = build_team(app)

        reread = self.reopen(app, cipher_key=key, compress=True)

        self.assertEqual(reread.get_team(team_id).name, TEAM_NAME)
        assert_names_hidden(self, self.raw_states(app))

    def test_cipher_key_in_the_url_works_and_is_never_printed(self) -> None:
        """A key given as a URL parameter encrypts the store and is masked when printed."""
        key = new_cipher_key()
        url = with_parameter(self.store, "cipher_key", key)
        app = self.open(url)
        team_id, _, _ = build_team(app)

        reread = self.reopen(app, store=url)

        self.assertEqual(reread.get_team(team_id).name, TEAM_NAME)
        assert_names_hidden(self, self.raw_states(app))
        for text in (str(app.store_url), repr(app.store_url)):
            self.assertNotIn(key, text)
            self.assertNotIn(quote(key, safe=""), text)
            self.assertIn("cipher_key=***", text)

    def test_malformed_cipher_key_is_refused_without_echoing_it(self) -> None:
        """A key that is not 16, 24 or 32 bytes of base64 is refused and never repeated."""
        bad = "not-a-key-" + uuid4().hex

        with self.assertRaises(ValidationError) as keyword:
            self.open(cipher_key=bad)
        with self.assertRaises(InvalidStoreUrl) as parameter:
            self.open(with_parameter(self.store, "cipher_key", bad))

        self.assertNotIn(bad, str(keyword.exception))
        self.assertNotIn(bad, str(parameter.exception))


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


def notification_ids(app: KamApplication) -> list[int]:
    return [n.id for n in app.recorder.select_notifications(start=None, limit=1_000_000)]


def build_team(app: KamApplication) -> tuple[TeamId, MemberId, list[MemberId]]:
    """Form the test team, add three members, grant two of them authority."""
    team_id, director = app.form_team(
        name=TEAM_NAME,
        segment="telecom",
        region="south",
        director_name=DIRECTOR_NAME,
        top_authority=pct(30),
    )
    roles = (Role.SALES_DIRECTOR, Role.KEY_ACCOUNT_MANAGER, Role.KEY_ACCOUNT_REPRESENTATIVE)
    members = [
        app.add_member(team_id, director, name=name, role=role)
        for name, role in zip(MEMBER_NAMES, roles, strict=True)
    ]
    app.grant_authority(team_id, director, members[0], max_discount=pct(20))
    app.grant_authority(team_id, director, members[1], max_discount=pct(5))
    app.set_capacity(team_id, director, director, capacity=15)
    return team_id, director, members


def state(aggregate: Any) -> dict[str, Any]:
    """An aggregate's state, comparable between two loads of it."""
    return {key: value for key, value in vars(aggregate).items() if key != "_pending_events"}


def capacities(app: KamApplication, team_id: UUID, member: UUID) -> list[int]:
    """The capacities set for ``member``, in the order the store recorded them."""
    return [
        event.capacity
        for event in app.events.get(team_id)
        if isinstance(event, Team.CapacitySet) and event.member_id == member
    ]


def assert_names_hidden(case: TestCase, states: list[bytes]) -> None:
    case.assertTrue(states, "the store holds no events")
    raw = b"".join(states)
    for name in (TEAM_NAME, DIRECTOR_NAME, *MEMBER_NAMES):
        case.assertNotIn(name.encode(), raw, f"{name!r} is readable in the stored bytes")


def with_parameter(url: str, name: str, value: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{name}={quote(value, safe='')}"


def pct(value: int) -> Percentage:
    return Percentage.of(value)


class ChainConformance(StoreTestCase):
    """Every event sealed into the hash chain in the write that records it; verifiable."""

    def setUp(self) -> None:
        super().setUp()
        refusal = self._testMethodName == "test_verify_refuses_a_store_without_a_chain"
        if not self.keeps_chain and not refusal:
            self.skipTest(
                "this adapter declares that it keeps no hash chain: kam audit verify refuses "
                "its stores, and tampering with them goes undetected"
            )
        if self.keeps_chain and refusal:
            self.skipTest("this adapter keeps a hash chain")

    def test_verify_refuses_a_store_without_a_chain(self) -> None:
        """An adapter that keeps no chain gets StoreNotSealed, never a false "intact"."""
        app = self.open()
        build_team(app)

        with self.assertRaises(StoreNotSealed):
            self.verified(app)

    def verified(self, app: KamApplication, **options: Any) -> Any:
        """``kam audit verify``'s answer: read-only and keyless when the store persists."""
        if self.persistent:
            return verify_store(self.store, **options)
        return verify_chain(app.recorder, **options)

    def test_every_event_recorded_through_the_facade_is_sealed(self) -> None:
        """After commands, the chain covers every stored event and verifies."""
        app = self.open()
        build_team(app)

        result = self.verified(app)

        self.assertTrue(result.intact, result.breach)
        self.assertEqual(result.checked, len(notification_ids(app)))
        self.assertEqual(result.head, head(app.recorder))
        self.assertEqual(result.head.position, app.recorder.max_notification_id())

    def test_a_new_chain_records_its_format(self) -> None:
        """A new store records the current chain format (2) from position 1, nothing adopted."""
        app = self.open()

        formats = list(app.recorder.chain_formats())  # type: ignore[attr-defined]

        self.assertEqual(formats, [ChainFormat(CHAIN_FORMAT, 1, None)])

    def test_a_refused_write_leaves_no_link(self) -> None:
        """A conflicting commit adds no link; the next write continues the chain."""
        app = self.open()
        team_id, director, _ = build_team(app)
        stale = self.reopen(app).get_team(team_id)
        app.set_capacity(team_id, director, None, capacity=20)
        before = head(app.recorder)

        meta = Meta.command(Actor.member(director))
        stale.set_capacity(meta, stale.credentials(director, meta.at), None, capacity=30)
        with self.assertRaises(ConcurrencyConflict):
            app._commit(stale)

        self.assertEqual(head(app.recorder), before)
        app.set_capacity(team_id, director, None, capacity=21)
        self.assertTrue(self.verified(app).intact)

    def test_events_recorded_with_tracking_are_sealed_too(self) -> None:
        """A policy's write (events and tracking together) adds its links in the same write."""
        app = self.open()
        build_team(app)
        recorder: Any = app.recorder
        position = recorder.max_notification_id()
        # A topic the library writes: verify refuses any other as written behind its back.
        topic = "kam_domain.policies.records:PolicyDecision.Made"
        stored = StoredEvent(originator_id=uuid4(), originator_version=1, topic=topic, state=b"{}")

        recorder.insert_events([stored], tracking=Tracking("kit.policy", position))

        self.assertEqual(head(recorder).position, recorder.max_notification_id())
        self.assertTrue(verify_chain(recorder).intact)

    def test_writers_in_several_threads_keep_one_chain(self) -> None:
        """Four threads writing at once leave one unbroken chain over all their events."""
        app = self.open()
        team_id, director, members = build_team(app)
        errors: list[BaseException] = []

        def work(member: UUID) -> None:
            writer = self.reopen(app)
            try:
                for capacity in range(1, 11):
                    writer.retrying(
                        writer.set_capacity, team_id, director, member, capacity=capacity
                    )
            except BaseException as error:  # reported by the main thread
                errors.append(error)

        threads = [threading.Thread(target=work, args=(m,)) for m in [director, *members]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        self.assertEqual(errors, [])
        result = self.verified(app)
        self.assertTrue(result.intact, result.breach)
        self.assertEqual(result.checked, len(notification_ids(app)))

    def test_an_encrypted_store_verifies_without_its_key(self) -> None:
        """The chain covers the bytes as stored: verifying needs no cipher key."""
        app = self.open(cipher_key=new_cipher_key(), compress=True)
        build_team(app)

        result = self.verified(app)

        self.assertTrue(result.intact, result.breach)
        self.assertEqual(result.checked, len(notification_ids(app)))

    def test_checkpoints_confirm_and_expose_rewrites_and_cuts(self) -> None:
        """A checkpoint taken earlier is confirmed later; a wrong link or a later position fails."""
        app = self.open()
        team_id, director, _ = build_team(app)
        taken = head(app.recorder)
        app.set_capacity(team_id, director, None, capacity=9)

        kept = self.verified(app, checkpoints=[taken])
        forged = Checkpoint(taken.position, bytes(32))
        rewritten = self.verified(app, checkpoints=[forged])
        beyond = Checkpoint(head(app.recorder).position + 5, taken.link)
        cut = self.verified(app, checkpoints=[beyond])

        self.assertTrue(kept.intact, kept.breach)
        self.assertEqual(kept.confirmed, (taken,))
        self.assertEqual(
            (rewritten.breach.position, rewritten.breach.kind), (taken.position, "rewritten")
        )
        self.assertEqual(cut.breach.kind, "truncated")

    def joined(self, app: KamApplication) -> Any:
        """The application's recorder, when it offers ``select_sealed`` (else the test skips)."""
        recorder = app.recorder
        if not isinstance(recorder, JoinedRecorder):
            self.skipTest(
                "this adapter's recorder has no select_sealed (optional): kam audit verify "
                "merges select_notifications and select_links instead, more slowly"
            )
        return recorder

    def test_joined_rows_say_what_events_and_links_say(self) -> None:
        """select_sealed gives every position's event and link as the two streams give them."""
        app = self.open(compress=True)
        team_id, director, _ = build_team(app)
        stale = self.reopen(app, compress=True).get_team(team_id)
        app.set_capacity(team_id, director, None, capacity=20)
        meta = Meta.command(Actor.member(director))
        stale.set_capacity(meta, stale.credentials(director, meta.at), None, capacity=30)
        # A refused write: where the database draws positions from a sequence, it leaves a gap.
        with self.assertRaises(ConcurrencyConflict):
            app._commit(stale)
        app.set_capacity(team_id, director, None, capacity=21)
        recorder = self.joined(app)

        rows = list(recorder.select_sealed(None, 1_000_000))

        self.assertEqual(canonical_rows(rows), sealed_rows(recorder))
        self.assertEqual([row[0] for row in rows], notification_ids(app))

    def test_joined_rows_page_like_notifications(self) -> None:
        """Pages of select_sealed (start and stop inclusive, at most limit rows) add up."""
        app = self.open()
        build_team(app)
        recorder = self.joined(app)
        everything = sealed_rows(recorder)
        middle = everything[len(everything) // 2][0]

        pages: list[SealedRow] = []
        start = None
        while page := list(recorder.select_sealed(start, 3, stop=middle)):
            self.assertLessEqual(len(page), 3)
            pages.extend(page)
            start = page[-1][0] + 1

        self.assertEqual(canonical_rows(pages), sealed_rows(recorder, stop=middle))
        self.assertEqual(
            canonical_rows(recorder.select_sealed(middle, 2)), everything[len(pages) - 1 :][:2]
        )
        self.assertEqual(list(recorder.select_sealed(everything[-1][0] + 1, 10)), [])

    def test_verify_answers_alike_through_joined_rows_and_two_streams(self) -> None:
        """verify_chain gives the same Verification through select_sealed as without it."""
        app = self.open()
        team_id, director, _ = build_team(app)
        taken = head(app.recorder)
        app.set_capacity(team_id, director, None, capacity=9)
        recorder = self.joined(app)
        checkpoints = [
            [],
            [taken],
            [Checkpoint(taken.position, bytes(32))],
            [Checkpoint(head(recorder).position + 5, taken.link)],
        ]

        for given in checkpoints:
            with self.subTest(checkpoints=given):
                joined = verify_chain(recorder, checkpoints=given, page_size=4)
                streams: Any = TwoStreams(recorder)
                merged = verify_chain(streams, checkpoints=given, page_size=4)
                self.assertEqual(joined, merged)
                self.assertGreater(joined.checked, 0)


class TwoStreams:
    """A sealed recorder seen without ``select_sealed``, as a third party's may be: verify
    then merges ``select_notifications`` and ``select_links`` (the reference walk)."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder

    def select_notifications(
        self, start: int | None, limit: int, stop: int | None = None
    ) -> Sequence[Notification]:
        notifications: Sequence[Notification] = self.recorder.select_notifications(
            start, limit, stop=stop
        )
        return notifications

    def max_notification_id(self) -> int | None:
        found: int | None = self.recorder.max_notification_id()
        return found

    def select_links(
        self, start: int | None, limit: int, stop: int | None = None
    ) -> Sequence[ChainLink]:
        links: Sequence[ChainLink] = self.recorder.select_links(start, limit, stop=stop)
        return links

    def max_link_position(self) -> int | None:
        found: int | None = self.recorder.max_link_position()
        return found

    def chain_formats(self) -> Sequence[ChainFormat]:
        formats: Sequence[ChainFormat] = self.recorder.chain_formats()
        return formats


def canonical_rows(rows: Iterable[SealedRow]) -> list[SealedRow]:
    """``rows`` with each id kept as 32 lowercase hex digits (as a text column keeps a UUID)
    given in its canonical text instead, as :func:`sealed_rows` gives it."""
    found: list[SealedRow] = []
    for row in rows:
        identity = row[1]
        if isinstance(identity, str) and len(identity) == 32 and identity.islower():
            row = (row[0], str(UUID(hex=identity)), *row[2:])
        found.append(row)
    return found


def sealed_rows(
    recorder: Any, start: int | None = None, stop: int | None = None
) -> list[SealedRow]:
    """What ``select_sealed(start, …, stop)`` must give: the events of ``select_notifications``
    and the links of ``select_links``, side by side by position."""
    events = recorder.select_notifications(start, 1_000_000, stop=stop)
    links = recorder.select_links(start, 1_000_000, stop=stop)
    rows: list[SealedRow] = []
    for event, link in side_by_side(iter(events), iter(links)):
        stored = link.link if link is not None else None
        written = link.written_at if link is not None else None
        if event is None:
            assert link is not None
            rows.append((link.position, None, None, None, None, stored, written))
        else:
            identity, state = str(event.originator_id), bytes(event.state)
            version, topic = event.originator_version, event.topic
            rows.append((event.id, identity, version, topic, state, stored, written))
    return rows


class AsOfIndexConformance(StoreTestCase):
    """Each event indexed by its timestamp in the write that records it; as-of answers."""

    def indexed(self, app: KamApplication) -> Any:
        if not self.keeps_asof_index:
            self.skipTest(
                "this adapter declares that it keeps no as-of index: as-of queries replay "
                "histories instead of looking them up"
            )
        recorder = app.recorder
        self.assertIsInstance(recorder, IndexedRecorder)
        return recorder

    def test_version_at_a_moment_is_the_last_one_not_later(self) -> None:
        """The index gives, for a moment, the last version whose timestamp is not later."""
        app = self.open()
        recorder = self.indexed(app)
        team_id, _, versions = timed_team(app)

        for moment, expected in versions:
            self.assertEqual(recorder.version_at(team_id, moment), expected, moment)

    def test_timeline_gives_each_version_its_time_and_position(self) -> None:
        """The timeline lists every version with its timestamp and its position in the log."""
        app = self.open()
        recorder = self.indexed(app)
        team_id, _, _ = timed_team(app)

        timeline = recorder.timeline(team_id)

        events: list[Any] = list(app.events.get(team_id))
        positions = {
            (n.originator_version): n.id
            for n in app.recorder.select_notifications(start=None, limit=1_000_000)
            if n.originator_id == team_id
        }
        self.assertEqual(
            [e.originator_version for e in timeline], [e.originator_version for e in events]
        )
        self.assertEqual([e.timestamp for e in timeline], [e.timestamp for e in events])
        self.assertEqual(
            [e.position for e in timeline], [positions[e.originator_version] for e in timeline]
        )

    def test_a_refused_write_leaves_no_index_row(self) -> None:
        """A conflicting commit indexes nothing."""
        app = self.open()
        recorder = self.indexed(app)
        team_id, director, _ = timed_team(app)
        stale = self.reopen(app).get_team(team_id)
        app.set_capacity(team_id, director, None, capacity=20, at=T_KIT + timedelta(days=9))
        before = list(recorder.timeline(team_id))

        meta = Meta.command(Actor.member(director), at=T_KIT + timedelta(days=10))
        stale.set_capacity(meta, stale.credentials(director, meta.at), None, capacity=30)
        with self.assertRaises(ConcurrencyConflict):
            app._commit(stale)

        self.assertEqual(list(recorder.timeline(team_id)), before)

    def test_the_facade_answers_as_of_a_moment_as_a_replay_would(self) -> None:
        """``get_team(at=…)`` equals the history replayed up to that moment (any adapter)."""
        app = self.open()
        team_id, _, versions = timed_team(app)

        for moment, expected in versions:
            if expected is None:
                with self.assertRaises(TeamNotFound):
                    app.get_team(team_id, at=moment)
                continue
            as_of = app.get_team(team_id, at=moment)
            self.assertEqual(as_of.version, expected)
            self.assertEqual(state(as_of), state(app.get_team(team_id, version=expected)))

    def test_a_moment_and_a_version_together_are_refused(self) -> None:
        """Asking for both a version and a moment is a ValidationError."""
        app = self.open()
        team_id, _, _ = timed_team(app)

        with self.assertRaises(ValidationError):
            app.get_team(team_id, version=1, at=T_KIT)
        with self.assertRaises(ValidationError):
            app.get_team(team_id, at=datetime(2026, 1, 1))


#: When :func:`timed_team` starts.
T_KIT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def timed_team(app: KamApplication) -> tuple[TeamId, MemberId, list[tuple[datetime, int | None]]]:
    """A team changed on three days (twice on the second); moments and the version at each."""
    team_id, director = app.form_team(
        name=TEAM_NAME,
        segment="telecom",
        region="south",
        director_name=DIRECTOR_NAME,
        top_authority=pct(30),
        at=T_KIT,
    )
    formed = app.get_team(team_id).version
    day = timedelta(days=1)
    app.set_capacity(team_id, director, director, capacity=10, at=T_KIT + day)
    app.set_capacity(team_id, director, director, capacity=11, at=T_KIT + day)
    app.set_capacity(team_id, director, director, capacity=12, at=T_KIT + 3 * day)
    second = timedelta(seconds=1)
    versions = [
        (T_KIT - second, None),
        (T_KIT, formed),
        (T_KIT + day - second, formed),
        (T_KIT + day, formed + 2),
        (T_KIT + 2 * day, formed + 2),
        (T_KIT + 3 * day, formed + 3),
        (T_KIT + 30 * day, formed + 3),
    ]
    return team_id, director, versions
