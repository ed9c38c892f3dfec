"""The as-of index: every event indexed by its timestamp; as-of answers as a replay's."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from kam_domain.aggregates.base import Meta
from kam_domain.application import KamApplication
from kam_domain.errors import (
    ConcurrencyConflict,
    TeamNotFound,
    ValidationError,
)
from kam_domain.ledger import (
    IndexedRecorder,
)
from kam_domain.testing.storage.base import StoreTestCase
from kam_domain.testing.storage.fixtures import (
    T_KIT,
    state,
    timed_team,
)
from kam_domain.values import Actor

__all__ = ["AsOfIndexConformance"]


class AsOfIndexConformance(StoreTestCase):
    """Each event indexed by its timestamp in the write that records it; as-of answers."""

    def indexed(self, app: KamApplication) -> IndexedRecorder:
        if not self.keeps_asof_index:
            self.skipTest(
                "this adapter declares that it keeps no as-of index: as-of queries replay "
                "histories instead of looking them up"
            )
        recorder = app.recorder
        if not isinstance(recorder, IndexedRecorder):
            self.fail(f"{type(recorder).__name__} keeps no as-of index (IndexedRecorder)")
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
