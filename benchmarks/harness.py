"""Figures, runs, child processes, the table and the JSON file.

Every benchmark runs in a child process of its own, so that its peak memory (the child's
maximum resident set size, ``resource.getrusage``) is its own. A benchmark returns figures; a
figure holds one value per run, and is reported as the median with the min and the max. A
comparison is a figure too (a ratio), computed run by run from measurements taken in the same
child, alternating the two sides, so that a noisy neighbour slows both.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Figure",
    "Job",
    "Options",
    "latencies",
    "machine",
    "percentile",
    "run_child",
    "timed",
]

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Options:
    """What a run measures and how hard."""

    sizes: list[int]
    backends: list[str]
    runs: int = 5
    #: Commands per run in the command benchmark.
    commands: int = 300
    #: Payments on the command benchmark's one long-lived account.
    long_payments: int = 10_000
    #: Events of the plan the bulk-import benchmark plays both ways.
    bulk_events: int = 4000
    #: Seconds of steady load on a worker, and the load.
    worker_seconds: float = 30.0
    worker_rate: float = 200.0
    #: As-of lookups per run.
    lookups: int = 300
    #: Events of the long record in the aggregate-load benchmark.
    long_history: int = 10_000
    #: Events per write measured by the chain-cost benchmark (benchmarks/audit_chain.py).
    chain_events: int = 100_000
    #: Runs of replay and verify on histories of 100k events or more (a minute or two each).
    large_runs: int = 3
    #: Histories this size or larger are replayed once, and only on SQLite (minutes per run).
    replay_once_from: int = 1_000_000
    #: Histories this size or larger are not copied into the memory backend.
    memory_up_to: int = 100_000
    tiny: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Figure:
    """One measured quantity: a value per run."""

    bench: str
    backend: str
    metric: str
    unit: str
    values: list[float]
    size: int | None = None
    note: str = ""
    #: Filled in by the parent: the child's peak resident memory, MB.
    peak_mb: float | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(median=self.median, min=self.low, max=self.high, runs=len(self.values))
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figure:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class Job:
    """One benchmark on one backend (and history size) in one child process."""

    bench: str
    backend: str
    size: int | None = None
    figures: list[Figure] = field(default_factory=list)
    peak_mb: float | None = None
    seconds: float = 0.0
    skipped: str | None = None
    failed: str | None = None

    @property
    def label(self) -> str:
        size = f" {_size(self.size)}" if self.size else ""
        return f"{self.bench} on {self.backend}{size}"


def _size(size: int | None) -> str:
    if size is None:
        return ""
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    if size >= 1000 and size % 1000 == 0:
        return f"{size // 1000}k"
    return str(size)


# -- measuring -------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) by nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def latencies(action: Callable[[int], object], count: int) -> list[float]:
    """Seconds each of ``count`` calls ``action(n)`` took."""
    taken = []
    clock = time.perf_counter
    for n in range(count):
        began = clock()
        action(n)
        taken.append(clock() - began)
    return taken


@contextmanager
def timed(into: list[float]) -> Iterator[None]:
    began = time.perf_counter()
    yield
    into.append(time.perf_counter() - began)


def peak_mb() -> float:
    """This process's peak resident memory so far, MB.

    Linux carries ``ru_maxrss`` across ``execve``: a child started by a large parent reports
    the parent's peak. ``VmHWM`` belongs to the process's own address space, so it is read
    where there is one.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- child processes -------------------------------------------------------------------------


def run_child(job: Job, options: Options, *, timeout: float = 7200) -> None:
    """Run ``job`` in a child process; fill in its figures, peak memory and time."""
    from benchmarks.history import CACHE

    out = CACHE / f"child-{os.getpid()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    spec = {"bench": job.bench, "backend": job.backend, "size": job.size}
    command = [
        sys.executable,
        "-m",
        "benchmarks",
        "--child",
        json.dumps(spec),
        "--child-options",
        json.dumps(options.to_json()),
        "--child-out",
        str(out),
    ]
    began = time.perf_counter()
    try:
        done = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        job.failed = f"timed out after {timeout:.0f} s"
        return
    finally:
        job.seconds = time.perf_counter() - began
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-6:]
        job.failed = " | ".join(tail) or f"exit status {done.returncode}"
        return
    result = json.loads(out.read_text())
    out.unlink()
    job.peak_mb = result["peak_mb"]
    job.skipped = result.get("skipped")
    for data in result["figures"]:
        figure = Figure.from_json(data)
        figure.peak_mb = job.peak_mb
        job.figures.append(figure)


# -- the machine -----------------------------------------------------------------------------


def machine(postgres_version: str | None) -> dict[str, Any]:
    """What the figures were measured on."""
    memory = None
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemTotal:"):
                    memory = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    from importlib.metadata import version

    return {
        "cpus": os.cpu_count(),
        "memory_gb": memory,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version,
        "eventsourcing": version("eventsourcing"),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
