"""The hash chain: every event sealed in the write that records it, and verifiable."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, runtime_checkable
from uuid import UUID, uuid4

from eventsourcing.persistence import (
    DatabaseError,
    Notification,
    ProcessRecorder,
    StoredEvent,
    Tracking,
)

from kam_domain.aggregates.base import Meta
from kam_domain.application import KamApplication
from kam_domain.audit.integrity import (
    Checkpoint,
    Verification,
    head,
    sealed,
    side_by_side,
    verify_chain,
    verify_store,
)
from kam_domain.errors import (
    ConcurrencyConflict,
    StoreNotSealed,
    StoreUnavailable,
)
from kam_domain.ledger import (
    CHAIN_FORMAT,
    ChainedLog,
    ChainFormat,
    ChainLink,
    IndexedRecorder,
    JoinedRecorder,
    SealedRow,
)
from kam_domain.storage import new_cipher_key
from kam_domain.testing.storage.base import StoreTestCase
from kam_domain.testing.storage.fixtures import (
    build_team,
    notification_ids,
)
from kam_domain.values import Actor

__all__ = ["ChainConformance", "TwoStreams", "canonical_rows", "sealed_rows"]


@runtime_checkable
class JoinedLog(ChainedLog, JoinedRecorder, Protocol):
    """A log whose events and links can also be read together (``select_sealed``)."""


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

    def verified(self, app: KamApplication, **options: Any) -> Verification:
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
        assert result.head is not None
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

    def test_a_write_the_chain_already_runs_past_is_refused_and_records_nothing(self) -> None:
        """A chain that reaches the next position (the log lost its tail behind the library's
        back) refuses the next command, which records no event, link or index row."""
        app = self.open()
        team_id, director, _ = build_team(app)
        recorder = app.recorder
        last = recorder.max_notification_id() or 0
        self.overrun_chain(app, last + 1)
        indexed = recorder if isinstance(recorder, IndexedRecorder) else None
        timeline = [] if indexed is None else list(indexed.timeline(team_id))

        with self.assertRaises(StoreUnavailable) as refused:
            app.set_capacity(team_id, director, None, capacity=50)

        self.assertIn("events were removed", str(refused.exception))
        self.assertEqual(recorder.max_notification_id(), last)
        self.assertEqual(sealed(recorder).max_link_position(), last + 1)
        if indexed is not None:
            self.assertEqual(list(indexed.timeline(team_id)), timeline)

    def test_a_refused_policy_write_records_no_tracking(self) -> None:
        """Refused while sealing, a write with tracking raises DatabaseError (an Exception, so
        a worker can park it) and leaves neither its events nor its tracking row behind."""
        app = self.open()
        build_team(app)
        recorder = app.recorder
        last = recorder.max_notification_id() or 0
        self.overrun_chain(app, last + 1)
        topic = "kam_domain.policies.records:PolicyDecision.Made"
        stored = StoredEvent(originator_id=uuid4(), originator_version=1, topic=topic, state=b"{}")

        with self.assertRaises(DatabaseError):
            recorder.insert_events([stored], tracking=Tracking("kit.policy", last))

        self.assertEqual(recorder.max_notification_id(), last)
        assert isinstance(recorder, ProcessRecorder)
        self.assertIsNone(recorder.max_tracking_id("kit.policy"))
        self.assertEqual(recorder.select_events(stored.originator_id), [])

    def test_events_recorded_with_tracking_are_sealed_too(self) -> None:
        """A policy's write (events and tracking together) adds its links in the same write."""
        app = self.open()
        build_team(app)
        recorder = app.recorder
        position = recorder.max_notification_id() or 0
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
        assert rewritten.breach is not None
        assert cut.breach is not None
        self.assertEqual(
            (rewritten.breach.position, rewritten.breach.kind), (taken.position, "rewritten")
        )
        self.assertEqual(cut.breach.kind, "truncated")

    def joined(self, app: KamApplication) -> JoinedLog:
        """The application's recorder, when it offers ``select_sealed`` (else the test skips)."""
        recorder = app.recorder
        if not isinstance(recorder, JoinedLog):
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
            [Checkpoint(head(app.recorder).position + 5, taken.link)],
        ]

        for given in checkpoints:
            with self.subTest(checkpoints=given):
                joined = verify_chain(app.recorder, checkpoints=given, page_size=4)
                # verify is typed for eventsourcing's recorder, and asks only for these.
                streams: Any = TwoStreams(recorder)
                merged = verify_chain(streams, checkpoints=given, page_size=4)
                self.assertEqual(joined, merged)
                self.assertGreater(joined.checked, 0)


class TwoStreams:
    """A sealed recorder seen without ``select_sealed``, as a third party's may be: verify
    then merges ``select_notifications`` and ``select_links`` (the reference walk)."""

    def __init__(self, recorder: ChainedLog) -> None:
        self.recorder = recorder

    def select_notifications(
        self, start: int | None, limit: int, stop: int | None = None
    ) -> Sequence[Notification]:
        return self.recorder.select_notifications(start, limit, stop=stop)

    def max_notification_id(self) -> int | None:
        return self.recorder.max_notification_id()

    def select_links(
        self, start: int | None, limit: int, stop: int | None = None
    ) -> Sequence[ChainLink]:
        return self.recorder.select_links(start, limit, stop=stop)

    def max_link_position(self) -> int | None:
        return self.recorder.max_link_position()

    def chain_formats(self) -> Sequence[ChainFormat]:
        return self.recorder.chain_formats()


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
    recorder: ChainedLog, start: int | None = None, stop: int | None = None
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
