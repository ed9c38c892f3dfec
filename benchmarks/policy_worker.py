"""How fast ``kam worker`` decides, and how far it trails a burst of events.

    python benchmarks/policy_worker.py [EVENTS] [STORE_URL ...]   (default 1000, a fresh SQLite
                                                                 file; postgresql://… URLs too)

For each store, with the toy ``echo`` policy of the test suite (one decision and one action per
event) beside the built-in policies:

- backlog: EVENTS events recorded first, then ``kam worker --once``: decisions per second;
- live burst: a worker follows while the host records EVENTS events as fast as it can: the
  largest lag seen (events recorded but not yet decided), and how long after the last write
  the last decision landed;
- idle latency: one event at a time into an idle worker: median and worst time to its decision.

Each PostgreSQL URL gets a fresh schema, dropped afterwards.
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from uuid import uuid4

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kam_domain.application import KamApplication  # noqa: E402
from kam_domain.policies.registry import PolicyRegistry  # noqa: E402
from kam_domain.runtime.engine import ENGINE_TRACKING  # noqa: E402
from tests.policies.toy import ECHO, Echo, Ping, send  # noqa: E402

LATENCY_SAMPLES = 20


def worker(store: str, *options: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "kam_domain.cli", "worker", "--store", store]
    return subprocess.Popen(
        [*command, "--policies", ECHO, *options], cwd=ROOT, stderr=subprocess.DEVNULL
    )


def tracked(app: KamApplication) -> int:
    recorder: Any = app.recorder
    return int(recorder.max_tracking_id(ENGINE_TRACKING) or 0)


def last_ping(app: KamApplication) -> int:
    """The position of the latest ping (the event the worker must have decided about)."""
    found = app.recorder.select_notifications(start=None, limit=10**7, topics=[topic()])
    return max(n.id for n in found)


def topic() -> str:
    from eventsourcing.utils import get_topic

    return get_topic(Ping.Sent)


def until(condition: Callable[[], bool], timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the worker did not finish")
        time.sleep(0.005)


def backlog(store: str, events: int) -> str:
    host = KamApplication(store, policies=PolicyRegistry([Echo]), run_policies=False)
    send(host, (f"backlog {n}" for n in range(events)))
    began = time.monotonic()
    status = worker(store, "--once").wait()
    elapsed = time.monotonic() - began
    assert status == 0
    host.close()
    return f"backlog of {events}: {elapsed:.2f} s with start-up, {events / elapsed:.0f} decisions/s"


def live(store: str, events: int) -> str:
    host = KamApplication(store, policies=PolicyRegistry([Echo]), run_policies=False)
    following = worker(store)
    send(host, ["warm-up"])
    until(lambda: tracked(host) >= last_ping(host))
    lags: list[int] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            waiting = host.recorder.select_notifications(
                start=tracked(host) + 1, limit=10**7, topics=[topic()]
            )
            lags.append(len(waiting))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    began = time.monotonic()
    send(host, (f"live {n}" for n in range(events)))
    written = time.monotonic()
    position = last_ping(host)
    until(lambda: tracked(host) >= position)
    decided = time.monotonic()
    done.set()
    sampler.join()
    following.send_signal(signal.SIGTERM)
    following.wait()
    host.close()
    return (
        f"live burst of {events}: written in {written - began:.2f} s "
        f"({events / (written - began):.0f} events/s), all decided {decided - written:.2f} s "
        f"after the last write ({events / (decided - began):.0f} decisions/s overall), "
        f"largest lag {max(lags, default=0)} events"
    )


def latency(store: str) -> str:
    host = KamApplication(store, policies=PolicyRegistry([Echo]), run_policies=False)
    following = worker(store)
    send(host, ["warm-up"])
    until(lambda: tracked(host) >= last_ping(host))
    samples = []
    for n in range(LATENCY_SAMPLES):
        # A random pause, so that the samples do not lock onto the poll interval's phase.
        time.sleep(random.uniform(0.2, 0.5))
        began = time.monotonic()
        send(host, [f"one {n}"])
        position = last_ping(host)
        until(lambda position=position: tracked(host) >= position)  # type: ignore[misc]
        samples.append(time.monotonic() - began)
    following.send_signal(signal.SIGTERM)
    following.wait()
    host.close()
    median, worst = statistics.median(samples) * 1000, max(samples) * 1000
    return f"idle latency: median {median:.0f} ms, worst {worst:.0f} ms"


def fresh(url: str, folder: Path, name: str) -> str:
    if url.startswith("sqlite"):
        return f"sqlite:///{folder / name}.db" + (f"?{urlsplit(url).query}" if "?" in url else "")
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["schema"] = f"kambench_{uuid4().hex[:12]}"
    return urlunsplit(parts._replace(query=urlencode(query)))


def drop(url: str) -> None:
    if not url.startswith("postgres"):
        return
    import psycopg
    from psycopg.sql import SQL, Identifier

    parts = urlsplit(url)
    schema = dict(parse_qsl(parts.query))["schema"]
    with psycopg.connect(
        host=parts.hostname or "",
        port=parts.port or 5432,
        user=parts.username or "",
        password=parts.password or "",
        dbname=parts.path.lstrip("/"),
        autocommit=True,
    ) as conn:
        conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(schema)))


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    urls = sys.argv[2:] or ["sqlite:///"]
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    with tempfile.TemporaryDirectory() as folder:
        for url in urls:
            print(f"{urlsplit(url).scheme}:")
            for name, measure in (
                ("backlog", lambda s: backlog(s, events)),
                ("live", lambda s: live(s, events)),
                ("latency", latency),
            ):
                store = fresh(url, Path(folder), name)
                try:
                    print("  " + measure(store), flush=True)
                finally:
                    drop(store)


if __name__ == "__main__":
    main()
