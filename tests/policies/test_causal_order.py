"""Causal order: the same commands give the same decisions embedded, in a burst settled by one
or several workers afterwards, and in replay."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kam_domain.application import KamApplication
from kam_domain.values import Tier
from tests import postgres_server
from tests.conftest import store_url
from tests.policies.history import Op, balanced_burst, decisions_of, kam_id, loads, play

WORKER_COUNTS = [1, 2, 4]


@pytest.fixture(name="shared")
def fixture_shared(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A store other processes can open: SQLite or PostgreSQL."""
    backend = request.param
    url = store_url(backend, tmp_path)
    yield url
    if backend == "postgres":
        postgres_server.drop_schema(url)


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
    assert app.replay().reproduced
    app.close()


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
    ops = [Op("kam", n, 8) for n in range(3)] + [
        Op("designate", n, Tier.STANDARD) for n in range(24)
    ]
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
    ops = [Op("kam", 0, 4), Op("kam", 1, 4), *(Op("designate", n, Tier.STANDARD) for n in range(3))]
    ops += [Op("leave", 0)]
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


@settings(max_examples=25)
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
    assert burst.replay().reproduced
    for n in range(4):
        assert loads(burst, (n,)) == loads(reference, (n,)), kam_id(n)
