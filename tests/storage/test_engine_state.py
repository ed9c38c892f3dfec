"""The engine's durable state in each built-in store: cells by key, written a checkpoint at a
time, compared with :class:`MemoryState` (see kam_domain.runtime.state)."""

from __future__ import annotations

import contextlib
import hashlib
import re
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from kam_domain.application import KamApplication
from kam_domain.errors import StateConflict
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.runtime.state import Checkpoint, MemoryState, StateRecorder, state_of
from tests import postgres_server
from tests.conftest import fresh_store
from tests.golden.stores import load_postgres, stores, unpack_sqlite

STATE_TABLES = {"kam_state", "kam_state_checkpoint"}
GOLDEN_SQLITE = dict(stores(".sqlite.gz"))
GOLDEN_POSTGRES = dict(stores(".postgres.jsonl"))


class Opened:
    """Applications on one store, closed together."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.apps: list[KamApplication] = []

    def open(self, **options: Any) -> KamApplication:
        app = KamApplication(self.url, policies=PolicyRegistry(), **options)
        self.apps.append(app)
        return app

    def recorder(self, **options: Any) -> StateRecorder:
        found = state_of(self.open(**options).recorder)
        assert found is not None, "the store's recorder keeps no state"
        return found

    def close(self) -> None:
        for app in self.apps:
            app.close()


@pytest.fixture(name="opened")
def fixture_opened(backend: str, tmp_path: Path) -> Iterator[Opened]:
    with fresh_store(backend, tmp_path) as url:
        opened = Opened(url)
        try:
            yield opened
        finally:
            opened.close()


@pytest.fixture(name="state")
def fixture_state(opened: Opened) -> StateRecorder:
    return opened.recorder()


def test_every_builtin_recorder_keeps_state(state: StateRecorder) -> None:
    """The recorder a store opens with implements the state protocol."""
    assert isinstance(state, StateRecorder)


def test_an_empty_store_answers_none_and_empty(state: StateRecorder) -> None:
    """A store with no checkpoint written answers no checkpoint, no cells, no prefixed cells."""
    assert state.state_checkpoint() is None
    assert state.select_state(["a", "b"]) == {}
    assert list(state.select_state_prefixed("")) == []


def test_written_cells_read_back_with_their_checkpoint(state: StateRecorder) -> None:
    """What a write stores reads back as written, with checkpoint serial 1 at its position."""
    written = state.write_state(expected=None, position=7, cells={"a": b"1", "b": b"\x00\xff"})

    assert written == Checkpoint(1, 7)
    assert state.state_checkpoint() == Checkpoint(1, 7)
    assert state.select_state(["a", "b", "c"]) == {"a": b"1", "b": b"\x00\xff"}


def test_each_write_adds_one_to_the_serial(state: StateRecorder) -> None:
    """Serials count the checkpoints written; a write with no cells still writes one."""
    first = state.write_state(expected=None, position=1, cells={"a": b"1"})
    second = state.write_state(expected=first.serial, position=5, cells={})

    assert second == Checkpoint(2, 5)
    assert state.select_state(["a"]) == {"a": b"1"}


def test_none_deletes_a_cell_and_replaces_nothing_else(state: StateRecorder) -> None:
    """A None value deletes its cell (an absent one too); other cells are kept or replaced."""
    state.write_state(expected=None, position=1, cells={"a": b"1", "b": b"2", "c": b"3"})

    state.write_state(expected=1, position=2, cells={"a": None, "b": b"two", "z": None})

    assert state.select_state(["a", "b", "c", "z"]) == {"b": b"two", "c": b"3"}


def test_prefixed_cells_come_in_key_order(state: StateRecorder) -> None:
    """A prefix lists exactly the keys starting with it, in code point order."""
    keys = ["b", "a~", "a", "ab", "A", "a/1", "a0", "aa/x", "a\x7f", "ba", "a~~"]
    state.write_state(expected=None, position=1, cells={k: k.encode() for k in keys})

    for prefix in ["", "a", "a~", "aa", "b", "c", "A", "a\x7f"]:
        expected = sorted(k for k in keys if k.startswith(prefix))
        found = list(state.select_state_prefixed(prefix))
        assert [k for k, _ in found] == expected, prefix
        assert all(v == k.encode() for k, v in found)


def test_a_stale_expected_serial_writes_nothing(state: StateRecorder) -> None:
    """A write from a checkpoint that is not the latest raises StateConflict and leaves the
    cells and the checkpoint as they were."""
    state.write_state(expected=None, position=3, cells={"a": b"1"})
    state.write_state(expected=1, position=4, cells={"b": b"2"})

    for stale in (None, 1, 3):
        with pytest.raises(StateConflict):
            state.write_state(expected=stale, position=9, cells={"a": None, "c": b"3"})

    assert state.state_checkpoint() == Checkpoint(2, 4)
    assert state.select_state(["a", "b", "c"]) == {"a": b"1", "b": b"2"}


def test_clear_deletes_every_cell_and_the_checkpoint(state: StateRecorder) -> None:
    """After clear_state the store answers as empty, and the next write is serial 1 again."""
    state.write_state(expected=None, position=3, cells={"a": b"1", "b": b"2"})

    state.clear_state()

    assert state.state_checkpoint() is None
    assert list(state.select_state_prefixed("")) == []
    assert state.write_state(expected=None, position=4, cells={}) == Checkpoint(1, 4)


def test_a_two_megabyte_value_reads_back_whole(state: StateRecorder) -> None:
    """A cell of 2 MB (every byte value) is stored and read back byte for byte."""
    value = bytes(range(256)) * (2 * 1024 * 1024 // 256)
    state.write_state(expected=None, position=1, cells={"big": value, "small": b"s"})

    assert state.select_state(["big"]) == {"big": value}
    assert dict(state.select_state_prefixed("b")) == {"big": value}


def test_many_keys_are_looked_up_at_once(state: StateRecorder) -> None:
    """A lookup of more keys than one statement takes finds every cell among them."""
    cells: dict[str, bytes | None] = {f"k{i:05}": str(i).encode() for i in range(0, 2400, 2)}
    state.write_state(expected=None, position=1, cells=cells)

    found = state.select_state(f"k{i:05}" for i in range(2400))

    assert found == cells


def test_the_state_survives_reopening(backend: str, opened: Opened) -> None:
    """Another application on the same store reads the checkpoint and cells written."""
    if backend == "memory":
        pytest.skip("a memory store lives as long as the application that opened it")
    opened.recorder().write_state(expected=None, position=5, cells={"a": b"1"})

    again = opened.recorder()

    assert again.state_checkpoint() == Checkpoint(1, 5)
    assert again.select_state(["a"]) == {"a": b"1"}


def race(
    writers: dict[str, StateRecorder], expected: int | None, position: int
) -> dict[str, Checkpoint | BaseException]:
    """Each writer writes ``{"winner": its name}`` from ``expected``, all released at once."""
    barrier = threading.Barrier(len(writers))
    outcomes: dict[str, Checkpoint | BaseException] = {}

    def write(name: str, recorder: StateRecorder) -> None:
        barrier.wait()
        try:
            outcomes[name] = recorder.write_state(
                expected=expected, position=position, cells={"winner": name.encode()}
            )
        except BaseException as error:
            outcomes[name] = error

    threads = [threading.Thread(target=write, args=item) for item in writers.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_of_two_writers_from_the_same_checkpoint_exactly_one_wins(
    backend: str, opened: Opened
) -> None:
    """Writers starting together from the same serial (threads on one recorder in memory, on
    two connections to the same file or schema otherwise): one writes, the other gets
    StateConflict, and the cells are the winner's."""
    first = opened.recorder()
    second = first if backend == "memory" else opened.recorder()
    serial: int | None = None
    for position in range(12):
        outcomes = race({"one": first, "two": second}, serial, position)

        won = [name for name, outcome in outcomes.items() if isinstance(outcome, Checkpoint)]
        lost = [o for o in outcomes.values() if isinstance(o, StateConflict)]
        assert len(won) == 1, outcomes
        assert len(lost) == 1, outcomes
        serial = (serial or 0) + 1
        assert first.state_checkpoint() == Checkpoint(serial, position)
        assert second.select_state(["winner"]) == {"winner": won[0].encode()}


# -- stores without the state tables ---------------------------------------------------------


def sqlite_tables(path: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return {
            name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }


def postgres_tables(url: str) -> set[str]:
    rows = postgres_server.rows(
        url,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
        params=(postgres_server.schema_of(url),),
    )
    return {name for (name,) in rows}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_everything(state: StateRecorder) -> tuple[object, ...]:
    return (
        state.state_checkpoint(),
        state.select_state(["a", "b"]),
        list(state.select_state_prefixed("")),
    )


@pytest.fixture(name="golden_sqlite")
def fixture_golden_sqlite(tmp_path: Path) -> Path:
    """A copy of a store written by release 0.1.0, before the state tables."""
    return unpack_sqlite(GOLDEN_SQLITE["v0_1_0/demo.sqlite.gz"], tmp_path)


def test_reading_an_older_sqlite_store_read_only_creates_nothing(golden_sqlite: Path) -> None:
    """An older SQLite store opened read-only answers its state as empty, and the file is left
    byte for byte as it was (no table created)."""
    before, tables = digest(golden_sqlite), sqlite_tables(golden_sqlite)
    assert not STATE_TABLES & tables
    opened = Opened(f"sqlite:///{golden_sqlite}")
    try:
        state = opened.recorder(read_only=True)
        assert read_everything(state) == (None, {}, [])
    finally:
        opened.close()

    assert sqlite_tables(golden_sqlite) == tables
    assert digest(golden_sqlite) == before


def test_reading_an_empty_store_opened_read_only_creates_no_table(tmp_path: Path) -> None:
    """A store whose state tables are missing, opened read-only (and with ?mode=ro), answers
    as empty and gains no table."""
    path = tmp_path / "kam.db"
    Opened(f"sqlite:///{path}").open().close()
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.executescript("DROP TABLE kam_state; DROP TABLE kam_state_checkpoint;")
    tables = sqlite_tables(path)

    for url, options in (
        (f"sqlite:///{path}", {"read_only": True}),
        (f"sqlite:///{path}?mode=ro", {}),
    ):
        opened = Opened(url)
        try:
            assert read_everything(opened.recorder(**options)) == (None, {}, [])
        finally:
            opened.close()

    assert sqlite_tables(path) == tables


def test_a_new_sqlite_store_has_the_state_tables(tmp_path: Path) -> None:
    """A store created by this release holds the state tables from its first opening."""
    path = tmp_path / "kam.db"
    Opened(f"sqlite:///{path}").open().close()

    assert sqlite_tables(path) >= STATE_TABLES


def test_an_older_sqlite_store_gets_the_tables_on_its_first_state_write(
    golden_sqlite: Path,
) -> None:
    """Opening an older store to write creates nothing; its first state write creates the
    tables and writes; a refused first write leaves no table behind."""
    tables = sqlite_tables(golden_sqlite)
    opened = Opened(f"sqlite:///{golden_sqlite}")
    try:
        state = opened.recorder()
        assert read_everything(state) == (None, {}, [])
        assert sqlite_tables(golden_sqlite) == tables

        with pytest.raises(StateConflict):
            state.write_state(expected=3, position=1, cells={"a": b"1"})
        assert sqlite_tables(golden_sqlite) == tables

        assert state.write_state(expected=None, position=9, cells={"a": b"1"}) == Checkpoint(1, 9)
        assert sqlite_tables(golden_sqlite) == tables | STATE_TABLES
        assert opened.recorder().select_state(["a"]) == {"a": b"1"}
    finally:
        opened.close()


@pytest.fixture(name="golden_postgres")
def fixture_golden_postgres() -> Iterator[str]:
    """A fresh schema holding the rows of release 0.1.0 in that release's layout (version 2)."""
    postgres_server.require_driver()
    url = postgres_server.fresh_store_url()
    try:
        load_postgres(GOLDEN_POSTGRES["v0_1_0/coverage.postgres.jsonl"], url)
        yield url
    finally:
        postgres_server.drop_schema(url)


def test_reading_an_older_postgres_schema_read_only_creates_nothing(golden_postgres: str) -> None:
    """A schema at layout version 2 opens read-only, answers its state as empty and gains no
    table."""
    tables = postgres_tables(golden_postgres)
    assert not STATE_TABLES & tables
    opened = Opened(golden_postgres)
    try:
        assert read_everything(opened.recorder(read_only=True)) == (None, {}, [])
    finally:
        opened.close()

    assert postgres_tables(golden_postgres) == tables


def test_an_older_postgres_schema_gets_the_tables_when_opened_to_write(
    golden_postgres: str,
) -> None:
    """Opening a layout-2 schema to write brings it to version 3 with the state tables; its
    state is then written and read back."""
    postgres = postgres_server.adapter_module()
    opened = Opened(golden_postgres)
    try:
        state = opened.recorder()
        assert postgres_tables(golden_postgres) >= STATE_TABLES
        rows = postgres_server.rows(
            golden_postgres,
            "SELECT version FROM {}.kam_schema_version",
            postgres_server.schema_of(golden_postgres),
        )
        assert rows == [(postgres.SCHEMA_VERSION,)]
        assert read_everything(state) == (None, {}, [])
        state.write_state(expected=None, position=2, cells={"a": b"1"})
        assert opened.recorder(read_only=True).select_state(["a"]) == {"a": b"1"}
    finally:
        opened.close()


def test_a_select_only_role_reads_the_postgres_state(pg_store: str) -> None:
    """Under a role granted only USAGE and SELECT, a read-only store reads the state written,
    and an empty one answers as empty."""
    opened = Opened(pg_store)
    writer = opened.recorder()
    schema = postgres_server.schema_of(pg_store)
    role = f"kam_reader_{uuid4().hex[:10]}"
    with postgres_server.connect(pg_store) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'reads-only'")
        conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}")
    reading = Opened(re.sub(r"://[^@/]*@", f"://{role}:reads-only@", pg_store, count=1))
    try:
        reader = reading.recorder(read_only=True)
        assert read_everything(reader) == (None, {}, [])
        writer.write_state(expected=None, position=4, cells={"a": b"1"})
        assert read_everything(reader) == (Checkpoint(1, 4), {"a": b"1"}, [("a", b"1")])
    finally:
        reading.close()
        opened.close()
        with postgres_server.connect(pg_store) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE IF EXISTS {role}")


# -- every backend against MemoryState --------------------------------------------------------

KEYS = st.sampled_from(["a", "a/1", "a/2", "ab", "b", "b/1", "c"])
VALUES = st.one_of(st.none(), st.binary(max_size=64))
PREFIXES = ["", "a", "a/", "b", "z"]


def state_machine(state: StateRecorder) -> type[RuleBasedStateMachine]:
    """A machine that applies the same random writes, deletes, conflicts and clears to
    ``state`` and to a MemoryState, and checks after each step that they answer alike."""

    class SameAsMemory(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.model = MemoryState()

        @initialize()
        def start_empty(self) -> None:
            state.clear_state()

        def latest(self) -> int | None:
            found = self.model.state_checkpoint()
            return None if found is None else found.serial

        @rule(
            cells=st.dictionaries(KEYS, VALUES, max_size=5),
            position=st.integers(0, 2**62),
            stale=st.one_of(st.none(), st.integers(-2, 2)),
        )
        def write(self, cells: dict[str, bytes | None], position: int, stale: int | None) -> None:
            latest = self.latest()
            expected: int | None = latest
            if stale is not None:
                moved = (latest or 0) + stale
                expected = None if moved <= 0 else moved
            outcomes: list[Checkpoint | type[StateConflict]] = []
            for recorder in (self.model, state):
                try:
                    outcomes.append(
                        recorder.write_state(expected=expected, position=position, cells=cells)
                    )
                except StateConflict:
                    outcomes.append(StateConflict)
            assert outcomes[0] == outcomes[1]

        @rule()
        def clear(self) -> None:
            self.model.clear_state()
            state.clear_state()

        @invariant()
        def answers_alike(self) -> None:
            assert state.state_checkpoint() == self.model.state_checkpoint()
            keys = ["a", "a/1", "a/2", "ab", "b", "b/1", "c", "d"]
            assert state.select_state(keys) == self.model.select_state(keys)
            for prefix in PREFIXES:
                theirs = list(state.select_state_prefixed(prefix))
                assert theirs == list(self.model.select_state_prefixed(prefix)), prefix

    return SameAsMemory


def test_every_backend_answers_as_memory_state(state: StateRecorder) -> None:
    """Over random writes, deletes, stale serials and clears, the store's checkpoint, cells
    and prefixed listings stay those of a MemoryState given the same steps."""
    run_state_machine_as_test(
        state_machine(state),
        settings=settings(max_examples=25, stateful_step_count=15, deadline=None),
    )
