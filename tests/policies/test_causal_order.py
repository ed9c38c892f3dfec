"""Causal order: the same commands give the same decisions embedded, in a burst settled by one
or several workers afterwards, and in replay."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import ProcessingEvent
from hypothesis import given
from hypothesis import strategies as st

from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.application import KamApplication
from kam_domain.audit.exceptions import FindingKind, exceptions_report
from kam_domain.runtime.causal import is_consequence
from kam_domain.runtime.rebuild import rebuild
from kam_domain.runtime.replay import ACTIONS_DIFFER, UNDECIDED
from kam_domain.values import Actor, MemberId, Tier
from tests.conftest import fresh_store
from tests.policies.history import (
    TEAM,
    Op,
    account_id,
    balanced_burst,
    decisions_of,
    kam_id,
    loads,
    play,
    play_more,
)
from tests.support import T0

WORKER_COUNTS = [1, 2, 4]


@pytest.fixture(name="shared")
def fixture_shared(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A store other processes can open: SQLite or PostgreSQL."""
    with fresh_store(request.param, tmp_path) as url:
        yield url


def embedded(ops: list[Op]) -> KamApplication:
    app = KamApplication("memory://")
    play(app, ops)
    return app


def test_the_burst_scenario_balances_when_a_worker_settles_it(store: str) -> None:
    """Given six key accounts designated with policies off, when the engine runs afterwards,
    then each of three KAMs of capacity 2 gets two, as embedded, with the same decisions."""
    reference = embedded(balanced_burst())
    app = KamApplication(store, run_policies=False)
    play(app, balanced_burst())

    app.run_policies()

    assert loads(reference) == [2, 2, 2]
    assert loads(app) == [2, 2, 2]
    assert decisions_of(app) == decisions_of(reference)
    reasons = [d.reason for d in app.decisions("assignment")]
    assert sum("load 1 of 2" in reason for reason in reasons) == 3, reasons
    report = app.replay()
    assert report.reproduced
    assert report.events == app.recorder.max_notification_id(), "an event was folded twice"
    assert_world_matches_store(app)
    app.close()


def assert_world_matches_store(app: KamApplication) -> None:
    """Every record the engine's world holds is the record the store holds: each event was
    folded once."""
    for n in range(200):
        if not app._exists(account_id(n)):
            continue
        held = app.policies.world.get(account_id(n), ClientAccount)
        stored = app.get_account(account_id(n))
        assert held is not None
        assert (held.version, held.kam_id) == (stored.version, stored.kam_id)
        assert held.assignment_history == stored.assignment_history


def test_a_burst_inside_one_batch_settles_command_by_command(store: str) -> None:
    """Given the designations recorded in one batch, then each command is settled before the
    next is decided: loads are balanced as if issued one by one."""
    app = KamApplication(store)
    with app.batch():
        play(app, balanced_burst())

    assert loads(app) == [2, 2, 2]
    assert decisions_of(app) == decisions_of(embedded(balanced_burst()))
    assert app.replay().reproduced
    app.close()


@pytest.mark.parametrize("shared", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize("count", WORKER_COUNTS)
def test_workers_settle_a_burst_as_embedded(shared: str, count: int) -> None:
    """Given 24 key accounts designated in a burst, when 1, 2 or 4 `kam worker --once`
    processes run at once, then loads and decisions are exactly the embedded ones, each once."""
    kams = [Op("kam", n, 8) for n in range(3)]
    ops = [*kams, *(Op("designate", n, Tier.STANDARD) for n in range(24))]
    host = KamApplication(shared, run_policies=False)
    play(host, ops)

    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "kam_domain.cli", "worker", "--once", "--store", shared],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(count)
    ]
    outputs = [worker.communicate(timeout=120)[0].decode() for worker in workers]

    assert [worker.returncode for worker in workers] == [0] * count, outputs
    reference = embedded(ops)
    assert loads(host) == loads(reference) == [8, 8, 8]
    recorded = host.decisions()
    assert len({(d.policy, d.cause_id) for d in recorded}) == len(recorded)
    assert decisions_of(host) == decisions_of(reference)
    assert host.replay().reproduced
    host.close()


def test_a_departure_in_the_burst_moves_accounts_as_embedded() -> None:
    """Given accounts designated and then their KAM leaving, all in one burst, when settled,
    then the accounts first go to that KAM and then move on, as embedded."""
    designations = [Op("designate", n, Tier.STANDARD) for n in range(3)]
    ops = [Op("kam", 0, 4), Op("kam", 1, 4), *designations, Op("leave", 0)]
    app = KamApplication("memory://", run_policies=False)
    play(app, ops)

    app.run_policies()

    assert loads(app, (0, 1)) == [0, 3]
    assert decisions_of(app) == decisions_of(embedded(ops))


def test_replay_of_a_burst_settled_late_reproduces_every_decision(tmp_path: Path) -> None:
    """Given a burst settled by a worker long after the commands, replay (from the log alone)
    reproduces every decision and lists no divergence."""
    url = f"sqlite:///{tmp_path / 'kam.db'}"
    app = KamApplication(url, run_policies=False)
    play(app, [*balanced_burst(12), Op("capacity", 0, 6)])
    app.run_policies()
    app.close()

    report = KamApplication(url, run_policies=False).replay()

    assert report.reproduced, [d.describe() for d in report.divergences]
    assert report.decisions >= 12


def test_a_later_engine_resumes_mid_burst_and_agrees(tmp_path: Path) -> None:
    """Given an engine that settled part of a burst and stopped, when another engine settles
    the rest, then the decisions are the embedded ones and none is recorded twice."""
    url = f"sqlite:///{tmp_path / 'kam.db'}"
    ops = balanced_burst()
    host = KamApplication(url, run_policies=False)
    play(host, ops)
    KamApplication(url, run_policies=False).policies.run(limit=5)

    KamApplication(url, run_policies=False).run_policies()

    recorded = host.decisions()
    assert len({(d.policy, d.cause_id) for d in recorded}) == len(recorded)
    assert decisions_of(host) == decisions_of(embedded(ops))


operations = st.lists(
    st.one_of(
        st.builds(Op, st.just("kam"), st.integers(0, 3), st.integers(1, 6)),
        st.builds(Op, st.just("designate"), st.integers(0, 7), st.sampled_from(list(Tier))),
        st.builds(Op, st.just("capacity"), st.integers(0, 3), st.integers(1, 6)),
        st.builds(Op, st.just("leave"), st.integers(0, 3)),
    ),
    max_size=14,
)


@given(ops=operations)
def test_embedded_burst_and_replay_decide_alike(ops: list[Op]) -> None:
    """For any sequence of team and designation commands: the decisions recorded embedded, the
    decisions a worker records after the same commands in a burst, and the decisions replay
    makes from either log are the same."""
    reference = KamApplication("memory://")
    accepted = play(reference, ops)
    burst = KamApplication("memory://", run_policies=False)

    assert play(burst, ops) == accepted
    burst.run_policies()

    assert decisions_of(burst) == decisions_of(reference)
    assert reference.replay().reproduced
    report = burst.replay()
    assert report.reproduced
    assert report.events == burst.recorder.max_notification_id()
    assert_world_matches_store(burst)
    for n in range(4):
        assert loads(burst, (n,)) == loads(reference, (n,)), kam_id(n)


@pytest.mark.parametrize("shared", ["postgres"], indirect=True)
def test_workers_killed_mid_burst_leave_the_embedded_decisions(shared: str) -> None:
    """Given two workers following a store while 30 accounts are designated, when both are
    killed with SIGKILL mid-burst and one is started again, then every decision is recorded
    once, loads and decisions are the embedded ones, and the workers' checkpointed state is
    the one a rebuild from the log gives."""
    kams = [Op("kam", n, 10) for n in range(3)]
    ops = [*kams, *(Op("designate", n, Tier.STANDARD) for n in range(30))]
    host = KamApplication(shared, run_policies=False)
    command = [sys.executable, "-m", "kam_domain.cli", "worker", "--store", shared]
    first = [subprocess.Popen(command, stderr=subprocess.DEVNULL) for _ in range(2)]

    play(host, ops[:18])
    deadline = time.monotonic() + 60
    while not host.decisions("assignment") and time.monotonic() < deadline:
        time.sleep(0.05)
    for worker in first:
        worker.send_signal(signal.SIGKILL)
    killed = [worker.wait(timeout=30) for worker in first]
    play_more(host, ops[18:], start=18)
    last = subprocess.run([*command, "--once"], capture_output=True, timeout=120, check=False)

    assert killed == [-signal.SIGKILL] * 2
    assert last.returncode == 0, last.stderr.decode()
    recorded = host.decisions()
    assert len({(d.policy, d.cause_id) for d in recorded}) == len(recorded)
    reference = embedded(ops)
    assert loads(host) == loads(reference) == [10, 10, 10]
    assert decisions_of(host) == decisions_of(reference)
    assert host.replay().reproduced
    rebuilt = rebuild(host, host.policies.registry, write=False)
    assert rebuilt.compared
    assert rebuilt.differences == ()
    host.close()


def test_replay_lists_an_event_in_a_policys_name_without_its_decision() -> None:
    """Given an account event recorded in the assignment policy's name with no decision behind
    it (through the engine's own recording path), replay lists it, naming its position."""
    app = embedded(balanced_burst(1))
    account = app.get_account(account_id(0))
    meta = Meta(Actor.policy("assignment", 1), T0 + timedelta(days=1), uuid4(), uuid4())
    kam = app.get_team(TEAM).credentials(MemberId(kam_id(1)), meta.at)
    account.assign_kam(meta, None, kam, reason="forged")
    processing: ProcessingEvent[UUID] = ProcessingEvent()
    processing.collect_events(account)
    (recording,) = app._record(processing)
    app.run_policies()

    report = app.replay()

    (divergence,) = report.divergences
    assert divergence.kind == UNDECIDED
    assert divergence.policy == "assignment"
    assert divergence.cause_position == recording.notification.id


@given(ops=operations, steps=st.lists(st.integers(0, 3), min_size=14, max_size=14))
def test_decisions_do_not_depend_on_how_settling_interleaved_with_commands(
    ops: list[Op], steps: list[int]
) -> None:
    """For any commands, and an engine settling a few commands at a time at arbitrary points in
    between (as a worker that keeps falling behind does), the decisions are the embedded ones
    and replay reproduces them."""
    reference = KamApplication("memory://")
    play(reference, ops)
    app = KamApplication("memory://", run_policies=False)
    play(app, [])
    for index, (op, limit) in enumerate(zip(ops, steps, strict=False)):
        play_more(app, [op], start=index)
        if limit:
            app.policies.run(limit=limit)
    app.run_policies()

    assert decisions_of(app) == decisions_of(reference)
    assert app.replay().reproduced


@pytest.mark.parametrize("field", ["reason", "kam_id"])
def test_replay_catches_an_action_event_edited_behind_its_decision(
    tmp_path: Path, field: str
) -> None:
    """Given the events a policy's action recorded edited in the database (the decision record
    left as it was), replay lists the decision as one whose actions' events differ."""
    path = tmp_path / "kam.db"
    app = KamApplication(f"sqlite:///{path}")
    play(app, balanced_burst(3))
    app.close()
    with sqlite3.connect(path) as db:
        rowid, state = db.execute(
            "SELECT rowid, state FROM stored_events WHERE topic LIKE '%KamAssigned' "
            "ORDER BY rowid DESC LIMIT 1"
        ).fetchone()
        body = json.loads(state)
        body[field] = "forged" if field == "reason" else str(kam_id(0))
        assert body[field] != json.loads(state)[field]
        db.execute(
            "UPDATE stored_events SET state = ? WHERE rowid = ?",
            (json.dumps(body, separators=(",", ":")).encode(), rowid),
        )

    report = KamApplication(f"sqlite:///{path}", run_policies=False).replay()

    kinds = {d.kind for d in report.divergences}
    assert ACTIONS_DIFFER in kinds, [d.describe() for d in report.divergences]


def test_decisions_settled_late_are_not_listed_as_backdated() -> None:
    """Given commands dated in the past and settled by the engine afterwards, the exceptions
    report lists the commands as backdated but none of the policies' decisions or actions,
    which take effect when their cause did by design."""
    app = KamApplication("memory://", run_policies=False)
    play(app, balanced_burst())
    app.run_policies()

    report = exceptions_report(app)

    backdated = [f for f in report.findings if f.kind is FindingKind.BACKDATED]
    positions = {ref.position for finding in backdated for ref in finding.events}
    by_policy = {
        n.id
        for n in app.recorder.select_notifications(start=1, limit=10_000)
        if is_consequence(app.mapper.to_domain_event(n))
    }
    assert backdated, "the commands, dated in the past, are listed"
    assert not positions & by_policy
