"""The policy engine's durable state: a worker's start, and the memory of a worker, a replay and
a rebuild, each measured in a process of its own on a writable copy of a cached history.

    python -m benchmarks.state MODE URL     (a child: prints one JSON line)

Modes: ``checkpoint`` and ``fold`` record one clock tick with the policies off, then time a
fresh engine's first worker step (``run(limit=50)``: start, and settling the tick), from the
store's checkpoint or folding the log; ``replay`` times ``app.replay()``; ``rebuild`` times
:func:`kam_domain.runtime.rebuild.rebuild` (fold, compare, write only if different); ``read``
reads and decodes the log bare. Each child reports its own peak resident memory.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.harness import Figure, Options, peak_mb
from benchmarks.history import cached_history

__all__ = ["state"]

ROOT = Path(__file__).resolve().parents[1]
MODES = ("checkpoint", "fold", "replay", "rebuild", "read")


def state(backend: str, size: int | None, options: Options, folder: Path) -> list[Figure]:
    """Start-up and memory with the durable state beside folding the log, on a copy."""
    from benchmarks.cases import _Skip

    assert size is not None
    if backend != "sqlite":
        raise _Skip("measured on SQLite (a copy of the cached history file)")
    history = cached_history(size)
    copy = folder / f"state-{size}.db"
    shutil.copyfile(history.url.removeprefix("sqlite:///"), copy)
    url = f"sqlite:///{copy}"
    # The first tick after the history flags what fell due since: settled here, untimed.
    _child("fold", url)
    _child("rebuild", url)  # the checkpoint at the head
    runs = max(2, min(options.runs, 3))
    values: dict[str, list[float]] = {f"{mode} {what}": [] for mode in MODES for what in "sm"}
    for run in range(runs):
        order = list(MODES[run % len(MODES) :] + MODES[: run % len(MODES)])
        for mode in order:
            found = _child(mode, url)
            values[f"{mode} s"].append(found["seconds"])
            values[f"{mode} m"].append(found["peak_mb"])
    events = _child("read", url)["events"]
    figures = [
        Figure(
            "state",
            backend,
            "worker start + first step, from the checkpoint",
            "s",
            values["checkpoint s"],
            size=size,
        ),
        Figure(
            "state",
            backend,
            "worker start + first step, folding the log",
            "s",
            values["fold s"],
            size=size,
        ),
        Figure(
            "state",
            backend,
            "start: folding / from the checkpoint",
            "×",
            [f / c for f, c in zip(values["fold s"], values["checkpoint s"], strict=True)],
            size=size,
        ),
        Figure(
            "state",
            backend,
            "worker peak memory, from the checkpoint",
            "MB",
            values["checkpoint m"],
            size=size,
        ),
        Figure(
            "state",
            backend,
            "worker peak memory, folding the log",
            "MB",
            values["fold m"],
            size=size,
        ),
        Figure("state", backend, "replay peak memory", "MB", values["replay m"], size=size),
        Figure("state", backend, "rebuild peak memory", "MB", values["rebuild m"], size=size),
        Figure(
            "state",
            backend,
            "rebuild / bare read and decode",
            "×",
            [r / b for r, b in zip(values["read s"], values["rebuild s"], strict=True)],
            size=size,
            note=f"{events:,} events; kam policies rebuild without writing",
        ),
        Figure(
            "state",
            backend,
            "replay / bare read and decode",
            "×",
            [r / b for r, b in zip(values["read s"], values["replay s"], strict=True)],
            size=size,
        ),
    ]
    copy.unlink()
    return figures


def _child(mode: str, url: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.state", mode, url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmarks.state {mode}: {done.stderr.strip()[-600:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _main(mode: str, url: str) -> dict[str, Any]:
    from kam_domain.application import KamApplication
    from kam_domain.runtime.engine import PolicyEngine
    from kam_domain.runtime.rebuild import rebuild
    from kam_domain.values import Actor

    app = KamApplication(url, run_policies=False)
    result: dict[str, Any] = {}
    if mode in ("checkpoint", "fold"):
        app.tick(Actor.system("bench"), at=_last_moment(app) + timedelta(hours=1))
        began = time.perf_counter()
        engine = PolicyEngine(app, app.policies.registry, durable=mode == "checkpoint")
        result["decisions"] = engine.run(limit=50)
    elif mode == "replay":
        began = time.perf_counter()
        report = app.replay()
        if not report.reproduced:
            raise AssertionError(report.divergences[:2])
    elif mode == "rebuild":
        began = time.perf_counter()
        outcome = rebuild(app, app.policies.registry)
        if outcome.compared and not outcome.equal:
            raise AssertionError(outcome.differences[:2])
    else:
        began = time.perf_counter()
        events, start = 0, 1
        while True:
            page = app.recorder.select_notifications(start=start, limit=1000)
            for notification in page:
                app.mapper.to_domain_event(notification)
            events += len(page)
            if len(page) < 1000:
                break
            start = page[-1].id + 1
        result["events"] = events
    result["seconds"] = time.perf_counter() - began
    result["peak_mb"] = peak_mb()
    app.close()
    return result


def _last_moment(app: Any) -> datetime:
    (last,) = app.recorder.select_notifications(start=app.recorder.max_notification_id(), limit=1)
    event = app.mapper.to_domain_event(last)
    moment: datetime = event.timestamp
    return moment


if __name__ == "__main__":
    print(json.dumps(_main(sys.argv[1], sys.argv[2])))
