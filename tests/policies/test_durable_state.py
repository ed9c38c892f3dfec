"""The engine's durable state: checkpoints of the world and of what policies learned, an
engine that goes on from one without folding the log, and a rebuild that proves it."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kam_domain.aggregates.base import KamAggregate
from kam_domain.aggregates.client_account import CaseStatus, ClientAccount, ClientCase
from kam_domain.application import KamApplication
from kam_domain.demo import build_demo
from kam_domain.errors import StateAhead, StoreUnreadable, UnregisteredTopic
from kam_domain.policies.base import Decision, Policy
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.policies.world import World
from kam_domain.runtime.engine import PolicyEngine
from kam_domain.runtime.rebuild import compare_states
from kam_domain.runtime.state import LEARNERS, MemoryState, StoredState, state_of
from kam_domain.values import CaseId, CaseKind, Severity, Tier
from tests.policies.history import Op, decisions_of, play, play_more
from tests.policies.test_causal_order import operations


@pytest.fixture(scope="module", name="demo")
def fixture_demo() -> KamApplication:
    """The demo's quarter, recorded embedded (its decisions are in the log)."""
    app = KamApplication("memory://")
    build_demo(app)
    app.policies.flush()  # every command up to the head is settled, and says so
    return app


def rebuilt(app: KamApplication, position: int) -> MemoryState:
    """A state folded from ``app``'s log up to ``position``."""
    state = MemoryState()
    PolicyEngine(app, app.policies.registry, state=state).rebuild(position)
    return state


def settle_in_steps(app: KamApplication, state: MemoryState, limit: int) -> int:
    """Settle the log ``limit`` commands at a time, a new engine (a restart) each time."""
    restarts = 0
    while True:
        engine = PolicyEngine(app, app.policies.registry, state=state)
        engine.run(limit=limit)
        restarts += 1
        if engine.settled_units == 0:
            return restarts


@settings(max_examples=25, deadline=None)
@given(ops=operations, limit=st.integers(1, 4))
def test_an_engine_restarted_from_its_checkpoints_decides_as_embedded(
    ops: list[Op], limit: int
) -> None:
    """Given commands recorded with policies off, when engines settle them a few commands at a
    time, each starting from the last one's checkpoint, then the decisions are the embedded
    ones and the state equals one rebuilt from the log."""
    reference = KamApplication("memory://")
    play(reference, ops)
    app = KamApplication("memory://", run_policies=False)
    play(app, ops)
    state = MemoryState()

    settle_in_steps(app, state, limit)

    assert decisions_of(app) == decisions_of(reference)
    checkpoint = state.state_checkpoint()
    assert checkpoint is not None
    assert compare_states(state, rebuilt(app, checkpoint.position), app.mapper) == []
    assert app.replay().reproduced


@pytest.mark.parametrize("position", [60, 250, 480, 700])
def test_a_state_restored_part_way_through_the_demo_converges_on_the_rebuilt_one(
    demo: KamApplication, position: int
) -> None:
    """Given the demo's state checkpointed part way through its log, when restarted engines
    settle the rest, then they record nothing new (every policy, learning ones included,
    decides from the restored state as it decided embedded) and the state ends equal to one
    rebuilt from the whole log."""
    decided = len(demo.decisions())
    head = demo.recorder.max_notification_id()
    state = rebuilt(demo, position)

    restarts = settle_in_steps(demo, state, 45)

    assert restarts > 2
    assert len(demo.decisions()) == decided
    assert state.state_checkpoint() is not None
    assert state.state_checkpoint().position == head  # type: ignore[union-attr]
    assert compare_states(state, rebuilt(demo, head), demo.mapper) == []


def test_an_engine_starts_from_a_checkpoint_without_folding_the_log(demo: KamApplication) -> None:
    """Given a checkpoint at the head of the demo's log, when an engine starts, then it has
    loaded no record (it reads only what the log holds after the checkpoint), and a record a
    policy asks for is loaded as the checkpoint holds it."""
    head = demo.recorder.max_notification_id()
    state = rebuilt(demo, head)
    engine = PolicyEngine(demo, demo.policies.registry, state=state)

    engine.run()

    assert engine.position == head
    assert len(engine.world._records) == 0
    account = demo.accounts()[0].id
    loaded = engine.world.get(account, ClientAccount)
    assert loaded is not None
    assert loaded.version == demo.get_account(account).version
    assert loaded.kam_id == demo.get_account(account).kam_id


def test_a_backed_world_keeps_only_its_cache_of_records_once_checkpointed(
    demo: KamApplication,
) -> None:
    """Given a world backed by a checkpoint, when a policy's questions load every account,
    then after the next checkpoint it holds no more records than its cache's size."""
    head = demo.recorder.max_notification_id()
    stored = StoredState(rebuilt(demo, head), demo.mapper)
    world = World(stored, cache_size=3)

    accounts = world.accounts()
    world.saved()

    assert len(accounts) > 3
    assert len(world._records) <= 3
    assert [a.id for a in world.accounts()] == [a.id for a in accounts]


def test_rebuild_lists_a_cell_edited_in_the_stored_state(demo: KamApplication) -> None:
    """Given a checkpoint whose record of an account was replaced by another account's, when
    the state is rebuilt from the log, then the comparison names that cell."""
    head = demo.recorder.max_notification_id()
    state = rebuilt(demo, head)
    first, second = [a.id for a in demo.accounts()][:2]
    cells = state.select_state([f"r:{first}", f"r:{second}"])
    checkpoint = state.state_checkpoint()
    assert checkpoint is not None
    state.write_state(
        expected=checkpoint.serial, position=head, cells={f"r:{first}": cells[f"r:{second}"]}
    )

    differences = compare_states(state, rebuilt(demo, head), demo.mapper)

    assert [d.key for d in differences] == [f"r:{first}"]


def test_a_state_cell_naming_a_type_the_library_does_not_write_is_refused(
    demo: KamApplication,
) -> None:
    """Given a checkpoint's catalogue cell edited to name a class outside the library, when an
    engine starts from it, then it refuses the state as unreadable and imports nothing."""
    head = demo.recorder.max_notification_id()
    state = rebuilt(demo, head)
    stored = StoredState(state, demo.mapper)
    key, rows = next((k, v) for k, v in stored.cells().items() if k.startswith("x:catalogue:"))
    rows[0][1] = "os:system"
    checkpoint = state.state_checkpoint()
    assert checkpoint is not None
    state.write_state(expected=checkpoint.serial, position=head, cells={key: stored.encode(rows)})

    with pytest.raises(UnregisteredTopic):
        PolicyEngine(demo, demo.policies.registry, state=state).run()


def test_a_state_cell_of_garbage_is_reported_unreadable(demo: KamApplication) -> None:
    """Given a checkpoint whose record cell keeps its snapshot's topic but holds a state the
    library never wrote, when the record is loaded, then it is reported as unreadable, naming
    the record."""
    head = demo.recorder.max_notification_id()
    state = rebuilt(demo, head)
    account = demo.accounts()[0].id
    topic, version, _ = state.select_state([f"r:{account}"])[f"r:{account}"].split(b"\n", 2)
    checkpoint = state.state_checkpoint()
    assert checkpoint is not None
    state.write_state(
        expected=checkpoint.serial,
        position=head,
        cells={f"r:{account}": b"\n".join((topic, version, b"{]"))},
    )

    with pytest.raises(StoreUnreadable, match=str(account)):
        StoredState(state, demo.mapper).record(account)


class Counter(Policy):
    """Learns how many accounts were registered, without saying so for a checkpoint."""

    name: ClassVar[str] = "counter"
    version: ClassVar[int] = 1
    handles: ClassVar[tuple[type[KamAggregate.Event], ...]] = (ClientAccount.Registered,)

    def __init__(self) -> None:
        self.seen = 0

    def learn(self, event: Any, world: World) -> None:
        if isinstance(event, ClientAccount.Registered):
            self.seen += 1

    def decide(self, event: Any, world: World) -> Decision | None:
        return None


def test_an_engine_with_a_policy_that_cannot_say_what_it_learned_keeps_no_state() -> None:
    """Given a registered policy that learns but does not say what, when the engine settles
    the log, then it writes no checkpoint (it folds the log at each start instead)."""
    registry = PolicyRegistry()
    registry.register(Counter)
    app = KamApplication("memory://", run_policies=False)
    play(app, [Op("designate", 1)])
    state = MemoryState()

    PolicyEngine(app, registry, state=state).run(limit=10)

    assert state.state_checkpoint() is None


def test_a_checkpoint_of_other_policies_is_replaced_by_a_fold_of_the_log() -> None:
    """Given a checkpoint written by an engine running other policies, when an engine with the
    library's policies starts, then it folds the log and its checkpoint replaces that one."""
    app = KamApplication("memory://", run_policies=False)
    play(app, [Op("kam", 0, 2), Op("designate", 1)])
    state = MemoryState()
    state.write_state(expected=None, position=1, cells={LEARNERS: b"[]", "x:stale": b"[]"})

    PolicyEngine(app, PolicyRegistry.default(), state=state).run(limit=10)

    assert state.select_state(["x:stale"]) == {}
    checkpoint = state.state_checkpoint()
    assert checkpoint is not None
    assert compare_states(state, rebuilt(app, checkpoint.position), app.mapper) == []


def test_an_engine_behind_another_does_not_write_its_checkpoint_over_the_newer_one() -> None:
    """Given two engines sharing a state, one settled further than the other, when the one
    behind checkpoints, then the state stays at the further position, equal to a rebuild."""
    app = KamApplication("memory://", run_policies=False)
    ops = [Op("kam", 0, 3), *(Op("designate", n) for n in range(6))]
    play(app, ops)
    state = MemoryState()
    behind = PolicyEngine(app, app.policies.registry, state=state)
    behind.run(limit=2)
    ahead = PolicyEngine(app, app.policies.registry, state=state)
    ahead.run(limit=20)
    far = state.state_checkpoint()
    assert far is not None

    behind._state.write(  # type: ignore[union-attr]
        2, {UUID(int=1): None}, {}, {}
    )

    assert state.state_checkpoint() == far
    assert compare_states(state, rebuilt(app, far.position), app.mapper) == []


def test_play_more_after_a_checkpoint_is_settled_from_it() -> None:
    """Given an engine checkpointed after some commands, when more commands are recorded and
    a new engine starts, then it decides the new ones as an engine that never stopped."""
    ops = [Op("kam", 0, 2), Op("kam", 1, 2), *(Op("designate", n) for n in range(5))]
    reference = KamApplication("memory://")
    play(reference, ops)
    app = KamApplication("memory://", run_policies=False)
    play(app, ops[:3])
    state = MemoryState()
    PolicyEngine(app, app.policies.registry, state=state).run(limit=100)

    play_more(app, ops[3:], start=3)
    PolicyEngine(app, app.policies.registry, state=state).run(limit=100)

    assert decisions_of(app) == decisions_of(reference)


def test_an_engine_behind_one_sharing_its_state_goes_on_from_the_newer_checkpoint() -> None:
    """Given an engine started from an early checkpoint and another that then settles the
    whole log into the same state, when the first goes on and loads a record the other folded
    further on, then it starts again from the newer checkpoint: every decision is the embedded
    one, recorded once, and the state is the log's."""
    ops = [Op("kam", 0, 3), Op("kam", 1, 3), *(Op("designate", n, Tier.STANDARD) for n in range(8))]
    reference = KamApplication("memory://")
    play(reference, ops)
    app = KamApplication("memory://", run_policies=False)
    play(app, ops)
    state = MemoryState()
    PolicyEngine(app, app.policies.registry, state=state).run(limit=4)
    early = state.state_checkpoint()
    assert early is not None
    behind = PolicyEngine(app, app.policies.registry, state=state)
    behind.run(until=early.position)  # started from the checkpoint, nothing loaded yet
    PolicyEngine(app, app.policies.registry, state=state).run(limit=100)
    ahead = state.state_checkpoint()
    assert ahead is not None
    assert ahead.position > early.position

    behind.run(limit=100)

    assert decisions_of(app) == decisions_of(reference)
    assert len(app.decisions()) == len(reference.decisions())
    assert behind.position == app.recorder.max_notification_id()
    assert compare_states(state, rebuilt(app, ahead.position), app.mapper) == []


def test_a_record_stored_further_on_than_an_engine_has_settled_is_not_taken_in() -> None:
    """Given a world admitting only what its engine has settled, when it would load a record
    stored as folded further on, then it refuses with StateAhead instead of deciding from it."""
    app = KamApplication("memory://", run_policies=False)
    play(app, [Op("kam", 0, 3), Op("designate", 1, Tier.STANDARD)])
    head = app.recorder.max_notification_id()
    stored = StoredState(rebuilt(app, head), app.mapper)
    world = World(stored)
    world.admits = lambda position: position <= 2

    with pytest.raises(StateAhead):
        world.accounts()


case_steps = st.lists(
    st.tuples(
        st.integers(0, 5),
        st.sampled_from(list(Severity)),
        st.sampled_from(list(CaseStatus)),
        st.integers(0, 2),
        st.integers(0, 3),
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(before=case_steps, after=case_steps)
def test_the_index_of_open_cases_restored_from_its_cell_goes_on_as_the_original(
    before: list[tuple[int, Severity, CaseStatus, int, int]],
    after: list[tuple[int, Severity, CaseStatus, int, int]],
) -> None:
    """For any cases opened, acknowledged, escalated and resolved, a world restored from the
    cells of another at some point and then changed alike holds the same cells as it: buckets
    emptied, refilled or first filled after the restore included."""
    account = UUID(int=1)
    original = World()

    def change(world: World, steps: list[tuple[int, Severity, CaseStatus, int, int]]) -> None:
        for n, severity, status, level, day in steps:
            case = ClientCase(
                CaseId(UUID(int=100 + n)),
                CaseKind.COMPLAINT,
                severity,
                "subject",
                datetime(2026, 1, 1 + day, tzinfo=UTC),
                status=status,
                escalation_level=level,
            )
            world._recase(account, case.case_id, case)

    change(original, before)
    restored = World(_Cells(original.cells()))
    change(original, after)
    change(restored, after)

    assert restored.cells()["x:cases"] == original.cells()["x:cases"]


class _Cells:
    """A backing holding index cells only (no records)."""

    def __init__(self, cells: dict[str, Any]) -> None:
        self._cells = cells

    def record(self, record_id: UUID) -> None:
        return None

    def cells(self) -> dict[str, Any]:
        return self._cells


@pytest.mark.parametrize("restart", [False, True])
def test_an_engine_whose_cache_holds_one_record_decides_as_embedded(restart: bool) -> None:
    """Given a world that keeps a single record loaded beyond those changed since its last
    checkpoint, when it settles commands a few at a time (folded afresh, or restarted from each
    checkpoint), then records unloaded are loaded back as checkpointed: the decisions are the
    embedded ones and the state is the log's."""
    ops = [Op("kam", 0, 2), Op("kam", 1, 3), *(Op("designate", n, Tier.STANDARD) for n in range(7))]
    ops.insert(6, Op("leave", 0))
    reference = KamApplication("memory://")
    play(reference, ops)
    app = KamApplication("memory://", run_policies=False)
    play(app, ops)
    state = MemoryState()
    engine = PolicyEngine(app, app.policies.registry, state=state, cache_size=1)
    while True:
        if restart:
            engine = PolicyEngine(app, app.policies.registry, state=state, cache_size=1)
        engine.run(limit=2)
        if engine.settled_units == 0:
            break

    assert decisions_of(app) == decisions_of(reference)
    checkpoint = state.state_checkpoint()
    assert checkpoint is not None
    assert compare_states(state, rebuilt(app, checkpoint.position), app.mapper) == []


def test_replay_with_a_scratch_state_reports_what_replay_in_memory_reports(
    demo: KamApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the demo's log, when it is replayed with its world kept in a scratch SQLite
    state (written every few commands, a handful of records loaded), then the report is the
    one replay in memory gives."""
    walk = sys.modules["kam_domain.runtime.replay"]
    monkeypatch.setattr(walk, "SPILL_EVERY", 25)
    monkeypatch.setattr(walk, "SCRATCH_CACHE", 4)

    scratch = demo.replay(scratch=True)
    memory = demo.replay()

    assert scratch.reproduced
    assert (scratch.events, scratch.decisions) == (memory.events, memory.decisions)


def test_an_engine_catching_up_checkpoints_every_so_many_commands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given more than twice CHECKPOINT_EVERY commands (here 50) recorded with the policies off,
    when one run settles them all, then it checkpointed every so many commands on the way, and a
    restarted engine goes on from the last of them deciding nothing new."""
    every = 50
    monkeypatch.setattr(sys.modules["kam_domain.runtime.engine"], "CHECKPOINT_EVERY", every)
    app = KamApplication("memory://", run_policies=False)
    play(app, [Op("kam", n, 200) for n in range(3)])
    play_more(app, [Op("designate", n, Tier.STANDARD) for n in range(every)], start=3)
    state = MemoryState()
    engine = PolicyEngine(app, app.policies.registry, state=state)

    engine.run()

    checkpoint = state.state_checkpoint()
    decided = len(app.decisions())
    restarted = PolicyEngine(app, app.policies.registry, state=state)
    restarted.run()

    assert checkpoint is not None
    assert checkpoint.serial >= 2
    assert 0 < checkpoint.position < app.recorder.max_notification_id()
    assert len(app.decisions()) == decided
    assert restarted.position == app.recorder.max_notification_id()


def test_an_embedded_application_checkpoints_before_it_closes(tmp_path: Path) -> None:
    """Given the demo recorded embedded into a SQLite file (its decisions carried the position
    all along), when the application closes, then the store holds a checkpoint at the head, and
    an engine opened on the file goes on from it: it loads no record and records nothing."""
    url = f"sqlite:///{tmp_path / 'kam.db'}"
    first = KamApplication(url)
    build_demo(first)
    decided = len(first.decisions())
    head = first.recorder.max_notification_id()
    first.close()

    app = KamApplication(url, run_policies=False)
    recorder = state_of(app.recorder)
    assert recorder is not None
    checkpoint = recorder.state_checkpoint()
    engine = PolicyEngine(app, app.policies.registry)
    engine.run()

    assert checkpoint is not None
    assert checkpoint.position == head
    assert len(engine.world._records) == 0
    assert engine.position == head
    assert len(app.decisions()) == decided
    app.close()
