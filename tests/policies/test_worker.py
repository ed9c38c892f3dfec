"""``kam worker`` processes: killed, doubled or fed poison, every decision is recorded once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any
from uuid import UUID

import pytest
from eventsourcing.utils import get_topic

from kam_domain.aggregates.base import event_id
from kam_domain.application import KamApplication
from kam_domain.cli.worker import Worker
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.runtime.engine import ENGINE_TRACKING
from tests import postgres_server
from tests.policies.toy import ECHO, Echo, Ping, send

ROOT = Path(__file__).resolve().parents[2]
BURST = 1000
#: Seconds a worker may take to finish what the test waits for.
PATIENCE = 30.0


@pytest.fixture(name="shared_store", params=["sqlite", "postgres"])
def fixture_shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """One SQLite file, or one PostgreSQL schema, shared by the host and the workers."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.db'}?poll_interval=0.05"
        return
    url = postgres_server.fresh_store_url()
    yield url
    postgres_server.drop_schema(url)


@pytest.fixture(name="host")
def fixture_host(shared_store: str) -> Iterator[KamApplication]:
    """The application the test writes through; it leaves the policies to the workers."""
    app = KamApplication(shared_store, policies=PolicyRegistry([Echo]), run_policies=False)
    yield app
    app.close()


class WorkerProcess:
    """A ``kam worker`` in its own OS process, its stderr kept in a file."""

    def __init__(self, store: str, log: Path, *options: str) -> None:
        self.log = log
        self._stderr: IO[bytes] = log.open("wb")
        command = [sys.executable, "-m", "kam_domain.cli", "worker", "--store", store]
        self.process = subprocess.Popen(
            [*command, "--policies", ECHO, *options],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float = PATIENCE) -> int:
        try:
            return self.process.wait(timeout)
        finally:
            self._stderr.close()

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.wait()


@pytest.fixture(name="workers")
def fixture_workers(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Starts workers on a store; kills whatever is left running after the test."""
    started: list[WorkerProcess] = []

    def start(store: str, *options: str) -> WorkerProcess:
        worker = WorkerProcess(store, tmp_path / f"worker-{len(started)}.log", *options)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def kam(store: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run ``kam <arguments> --store <store> --policies <echo>`` in a new process."""
    command = [sys.executable, "-m", "kam_domain.cli", *arguments, "--store", store]
    return subprocess.run(
        [*command, "--policies", ECHO],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=False,
    )


def wait_until(condition: Callable[[], bool], what: str, timeout: float = PATIENCE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.02)


def tracked(app: KamApplication) -> int:
    recorder: Any = app.recorder
    return int(recorder.max_tracking_id(ENGINE_TRACKING) or 0)


def sent(app: KamApplication) -> dict[UUID, int]:
    """The event id of each recorded ping's Sent event, with its position in the log."""
    notifications = app.recorder.select_notifications(
        start=None, limit=1_000_000, topics=[get_topic(Ping.Sent)]
    )
    return {event_id(n.originator_id, 1): n.id for n in notifications}


def answers(app: KamApplication) -> Counter[UUID]:
    """How many answers each ping got."""
    notifications = app.recorder.select_notifications(
        start=None, limit=1_000_000, topics=[get_topic(Ping.Answered)]
    )
    return Counter(n.originator_id for n in notifications)


def all_decided(app: KamApplication, count: int) -> Callable[[], bool]:
    def check() -> bool:
        pings = sent(app)
        return len(pings) == count and tracked(app) >= max(pings.values())

    return check


def assert_each_ping_answered_once(app: KamApplication, count: int) -> None:
    """Every ping has exactly one decision (by cause) and exactly one answer."""
    pings = sent(app)
    decisions = app.decisions("echo")
    causes = [decision.cause_id for decision in decisions]
    assert len(pings) == count
    assert len(causes) == len(set(causes)), "a ping was decided twice"
    assert set(causes) == set(pings)
    assert all(d.cause_position == pings[d.cause_id] for d in decisions)
    answered = answers(app)
    assert len(answered) == count
    assert set(answered.values()) == {1}, "a ping was answered twice"


def test_a_worker_killed_mid_burst_resumes_and_decides_each_event_once(
    host: KamApplication, shared_store: str, workers: Callable[..., WorkerProcess]
) -> None:
    """SIGKILL in the middle of 1,000 events, restart: every event decided exactly once."""
    first = workers(shared_store)
    writer = threading.Thread(target=send, args=(host, (f"ping {n}" for n in range(BURST))))
    writer.start()
    wait_until(lambda: tracked(host) >= BURST // 3, "the first worker to be under way")

    first.signal(signal.SIGKILL)
    killed_status = first.wait()
    writer.join()
    at_kill = tracked(host)
    second = workers(shared_store, "--idle-exit", "1")
    second_status = second.wait()

    assert killed_status == -signal.SIGKILL
    assert at_kill < max(sent(host).values()), "the first worker had already finished"
    assert second_status == 0, second.output()
    assert_each_ping_answered_once(host, BURST)
    assert host.dead_letters() == []


def test_two_workers_on_one_store_record_no_decision_twice(
    host: KamApplication, shared_store: str, workers: Callable[..., WorkerProcess]
) -> None:
    """Two workers following one store while it is written: each event decided once."""
    pair = [workers(shared_store, "-v"), workers(shared_store, "-v")]
    count = BURST // 2

    send(host, (f"ping {n}" for n in range(count)))
    wait_until(all_decided(host, count), "the workers to decide every ping")
    for worker in pair:
        worker.signal(signal.SIGTERM)
    statuses = [worker.wait() for worker in pair]

    assert statuses == [0, 0], [worker.output() for worker in pair]
    assert_each_ping_answered_once(host, count)
    assert host.dead_letters() == []
    assert all("stopped at position" in worker.output() for worker in pair)


def test_a_poison_event_is_parked_the_rest_proceed_and_a_retry_after_the_fix_succeeds(
    host: KamApplication, shared_store: str, workers: Callable[..., WorkerProcess]
) -> None:
    """A failing event is parked; the others are decided; after the fix, retry decides it."""
    worker = workers(shared_store)
    labels = [f"ping {n}" for n in range(20)]
    labels[7] = "poison 7"
    send(host, labels)
    wait_until(all_decided(host, len(labels)), "the worker to get through the pings")

    parked = json.loads(kam(shared_store, "policies", "dead-letters", "--format", "json").stdout)
    early = kam(shared_store, "policies", "retry")
    fix = kam(
        shared_store, "policies", "configure", "echo", "poison=tolerated", "--reason", "fixed"
    )
    retry = kam(shared_store, "policies", "retry")
    worker.signal(signal.SIGTERM)
    status = worker.wait()

    assert [(p["policy"], p["error_type"], p["resolved"]) for p in parked] == [
        ("echo", "RuntimeError", False)
    ]
    assert "poison 7" in parked[0]["error"]
    assert early.returncode == 3, early.stderr
    assert "still failing" in early.stdout
    assert fix.returncode == 0, fix.stderr
    assert retry.returncode == 0, retry.stderr
    assert retry.stdout.startswith(f"resolved {parked[0]['id']}")
    assert status == 0, worker.output()
    assert host.dead_letters() == []
    assert_each_ping_answered_once(host, len(labels))
    (late,) = [d for d in host.decisions("echo") if d.inputs["label"] == "poison 7"]
    assert late.basis_position > late.cause_position


def test_sigint_stops_a_busy_worker_cleanly_and_it_resumes(
    host: KamApplication, shared_store: str, workers: Callable[..., WorkerProcess]
) -> None:
    """SIGINT mid-burst: exit 0 promptly with a consistent record; a restart finishes."""
    send(host, (f"ping {n}" for n in range(BURST // 2)))
    busy = workers(shared_store)
    wait_until(lambda: tracked(host) > 0, "the worker to start deciding")

    busy.signal(signal.SIGINT)
    began = time.monotonic()
    status = busy.wait()
    stopped_in = time.monotonic() - began
    decided_then = len(host.decisions("echo"))
    again = workers(shared_store, "--once")

    assert status == 0, busy.output()
    assert stopped_in < 5.0
    assert decided_then < BURST // 2, "the worker had already finished"
    assert sum(answers(host).values()) >= decided_then
    assert again.wait() == 0, again.output()
    assert_each_ping_answered_once(host, BURST // 2)


def test_worker_in_process_follows_new_events_on_every_backend(store: str) -> None:
    """A Worker in a thread of the host's process decides what the host records, once."""
    app = KamApplication(store, policies=PolicyRegistry([Echo]), run_policies=False)
    worker = Worker(app)
    serving = threading.Thread(target=worker.serve)
    serving.start()

    try:
        send(app, (f"ping {n}" for n in range(50)))
        wait_until(all_decided(app, 50), "the worker thread to decide every ping")
    finally:
        worker.stop()
        serving.join(PATIENCE)

    assert not serving.is_alive()
    assert worker.decisions == 50
    assert_each_ping_answered_once(app, 50)
    app.close()


def test_once_catches_up_and_exits(
    host: KamApplication, shared_store: str, workers: Callable[..., WorkerProcess]
) -> None:
    """``--once`` decides everything recorded so far and exits 0 without waiting."""
    send(host, (f"ping {n}" for n in range(10)))

    status = workers(shared_store, "--once", "-v").wait()

    assert status == 0
    assert_each_ping_answered_once(host, 10)


def test_a_policies_path_that_cannot_be_loaded_is_a_usage_error(tmp_path: Path) -> None:
    """``--policies`` naming nothing importable exits 2 and says what could not be loaded."""
    command = [sys.executable, "-m", "kam_domain.cli", "worker", "--once"]
    store = ["--store", f"sqlite:///{tmp_path / 'kam.db'}"]

    missing = subprocess.run(
        [*command, *store, "--policies", "no_such_module:Policy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    not_a_policy = subprocess.run(
        [*command, *store, "--policies", "tests.policies.toy:Ping"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert missing.returncode == 2
    assert "cannot load no_such_module:Policy" in missing.stderr
    assert not_a_policy.returncode == 2
    assert "is not a Policy subclass" in not_a_policy.stderr


def test_a_memory_store_cannot_be_followed_from_another_process() -> None:
    """``kam worker --store memory://`` exits 2: nobody else can write to that store."""
    result = subprocess.run(
        [sys.executable, "-m", "kam_domain.cli", "worker", "--store", "memory://", "--once"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 2
    assert "memory:// store lives inside one process" in result.stderr
