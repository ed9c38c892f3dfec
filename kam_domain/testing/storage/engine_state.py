"""The engine's durable state: cells by key, written a checkpoint at a time, in the store."""

from __future__ import annotations

import threading
from typing import Any

from kam_domain.application import KamApplication
from kam_domain.errors import StateConflict
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.runtime.state import Checkpoint, StateRecorder
from kam_domain.testing.storage.base import StoreTestCase

__all__ = ["StateConformance"]


class StateConformance(StoreTestCase):
    """The recorder keeps the engine's state (:class:`~kam_domain.runtime.state.StateRecorder`):
    an empty store answers as empty, writes read back, a stale serial writes nothing, and of
    two writers from the same checkpoint exactly one wins."""

    def state(self, app: KamApplication) -> StateRecorder:
        if not self.keeps_state:
            self.skipTest(
                "this adapter declares that its recorder keeps no engine state: the engine "
                "then keeps it in memory and folds the log again at each start"
            )
        recorder = app.recorder
        if not isinstance(recorder, StateRecorder):
            self.fail(f"{type(recorder).__name__} keeps no engine state (StateRecorder)")
        return recorder

    def open_state(self, **options: Any) -> StateRecorder:
        return self.state(self.open(policies=PolicyRegistry(), **options))

    def test_an_empty_store_answers_as_empty(self) -> None:
        """No checkpoint, no cells, nothing under any prefix."""
        state = self.open_state()

        self.assertIsNone(state.state_checkpoint())
        self.assertEqual(state.select_state(["a"]), {})
        self.assertEqual(list(state.select_state_prefixed("")), [])

    def test_written_cells_read_back_and_none_deletes(self) -> None:
        """Cells read back as written, None deletes one, and serials count the checkpoints."""
        state = self.open_state()
        value = bytes(range(256)) * 4096  # 1 MB of every byte value

        first = state.write_state(expected=None, position=3, cells={"a": b"1", "b": value})
        second = state.write_state(expected=1, position=8, cells={"a": None, "c": b""})

        self.assertEqual((first, second), (Checkpoint(1, 3), Checkpoint(2, 8)))
        self.assertEqual(state.state_checkpoint(), Checkpoint(2, 8))
        self.assertEqual(state.select_state(["a", "b", "c"]), {"b": value, "c": b""})

    def test_prefixed_cells_come_in_key_order(self) -> None:
        """A prefix lists the keys starting with it, in code point order."""
        state = self.open_state()
        keys = ["b", "a~", "a", "ab", "A", "a/1", "a0", "ba"]
        state.write_state(expected=None, position=1, cells={k: k.encode() for k in keys})

        for prefix in ("", "a", "b", "c"):
            found = [key for key, _ in state.select_state_prefixed(prefix)]
            self.assertEqual(found, sorted(k for k in keys if k.startswith(prefix)), prefix)

    def test_a_stale_serial_writes_nothing(self) -> None:
        """StateConflict, and the cells and checkpoint stay as they were."""
        state = self.open_state()
        state.write_state(expected=None, position=1, cells={"a": b"1"})

        for stale in (None, 2):
            with self.assertRaises(StateConflict):
                state.write_state(expected=stale, position=5, cells={"a": None, "b": b"2"})

        self.assertEqual(state.state_checkpoint(), Checkpoint(1, 1))
        self.assertEqual(state.select_state(["a", "b"]), {"a": b"1"})

    def test_clear_deletes_the_cells_and_the_checkpoint(self) -> None:
        """After clear_state the store answers as empty and serials start again at 1."""
        state = self.open_state()
        state.write_state(expected=None, position=1, cells={"a": b"1"})

        state.clear_state()

        self.assertIsNone(state.state_checkpoint())
        self.assertEqual(list(state.select_state_prefixed("")), [])
        self.assertEqual(state.write_state(expected=None, position=2, cells={}), Checkpoint(1, 2))

    def test_the_state_survives_reopening(self) -> None:
        """Another application on the store reads the checkpoint and the cells."""
        if not self.persistent:
            self.skipTest("a store of this adapter lives as long as its application")
        self.open_state().write_state(expected=None, position=4, cells={"a": b"1"})

        again = self.open_state()

        self.assertEqual(again.state_checkpoint(), Checkpoint(1, 4))
        self.assertEqual(again.select_state(["a"]), {"a": b"1"})

    def test_of_two_writers_from_one_checkpoint_exactly_one_wins(self) -> None:
        """Two writers (two applications where stores persist) from the same serial: one
        writes, the other gets StateConflict."""
        first = self.open_state()
        second = self.open_state() if self.persistent else first
        for round_ in range(5):
            expected = None if round_ == 0 else round_
            barrier = threading.Barrier(2)
            outcomes: list[object] = []

            def write(
                recorder: StateRecorder,
                name: bytes,
                barrier: threading.Barrier = barrier,
                outcomes: list[object] = outcomes,
                expected: int | None = expected,
                position: int = round_,
            ) -> None:
                barrier.wait()
                try:
                    outcomes.append(
                        recorder.write_state(
                            expected=expected, position=position, cells={"w": name}
                        )
                    )
                except StateConflict as error:
                    outcomes.append(error)

            threads = [
                threading.Thread(target=write, args=(first, b"1")),
                threading.Thread(target=write, args=(second, b"2")),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)

            won = [o for o in outcomes if isinstance(o, Checkpoint)]
            self.assertEqual(won, [Checkpoint(round_ + 1, round_)], outcomes)
            self.assertEqual(sum(isinstance(o, StateConflict) for o in outcomes), 1)
