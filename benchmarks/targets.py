"""The issue's targets, each read from the figures of one run: the measured value, met or missed.

Most targets are ratios measured in one child process (alternating the two sides), so that
the machine's noise slows both; the absolute ones (events per second, MB) say so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from benchmarks.harness import Figure

__all__ = ["TARGETS", "Outcome", "Target", "evaluate"]


@dataclass(frozen=True)
class Target:
    """``wanted`` against the figure ``find`` picks: at most (``most``) or at least."""

    name: str
    bench: str
    metric: Callable[[Figure], bool]
    wanted: float
    most: bool
    backends: tuple[str, ...] = ("sqlite", "postgres")
    #: Which size to judge: the largest measured (default) or a given one.
    size: Callable[[list[Figure]], Figure | None] | None = None


@dataclass(frozen=True)
class Outcome:
    target: str
    backend: str
    size: int | None
    measured: float | None
    low: float | None
    high: float | None
    wanted: str
    verdict: str  # met, missed, not measured
    unit: str = ""


def _largest(figures: list[Figure]) -> Figure | None:
    return max(figures, key=lambda f: f.size or 0, default=None)


def _named(text: str) -> Callable[[Figure], bool]:
    return lambda figure: figure.metric == text


def _starting(text: str) -> Callable[[Figure], bool]:
    return lambda figure: figure.metric.startswith(text)


TARGETS = [
    Target(
        "facade command time ≤ 1.2× bare eventsourcing, both cached (policies off)",
        "command",
        _named("time facade / bare eventsourcing"),
        1.2,
        most=True,
    ),
    Target(
        "facade command time ≤ 1.2× bare eventsourcing, neither cached (policies off)",
        "command",
        _named("time facade, no cache / bare eventsourcing, no cache"),
        1.2,
        most=True,
    ),
    Target(
        "facade command on one long-lived account ≤ 1.2× bare eventsourcing, both cached",
        "command",
        _named("long account: time facade / bare eventsourcing"),
        1.2,
        most=True,
    ),
    Target(
        "bulk import ≥ 3× faster than one command at a time",
        "bulk",
        _named("rate batched / one at a time"),
        3.0,
        most=False,
    ),
    Target(
        "read and decode with the event codec ≥ 2× with eventsourcing's JSON transcoder",
        "replay",
        _named("read and decode: event codec / JSON transcoder"),
        2.0,
        most=False,
        backends=("memory", "sqlite", "postgres"),
    ),
    Target(
        "replay ≥ 0.5× the bare read-and-decode rate",
        "replay",
        _named("replay / bare read and decode"),
        0.5,
        most=False,
        backends=("memory", "sqlite", "postgres"),
    ),
    Target(
        "read-model rebuild ≥ 0.5× the bare read-and-decode rate",
        "replay",
        _named("rebuild / bare read and decode"),
        0.5,
        most=False,
        backends=("memory", "sqlite", "postgres"),
    ),
    Target(
        "replay on SQLite ≥ 90k events/s",
        "replay",
        _named("app.replay()"),
        90_000,
        False,
        ("sqlite",),
    ),
    Target(
        "kam audit verify on SQLite ≥ 150k events/s",
        "verify",
        _named("kam audit verify"),
        150_000,
        False,
        ("sqlite",),
    ),
    Target(
        "as-of lookup at the largest history ≤ 2× at 10k",
        "asof",
        _starting("p50 at "),
        2.0,
        most=True,
        backends=("memory", "sqlite", "postgres"),
    ),
    Target(
        "aggregate load with snapshots at 10k events ≤ 2× at 10",
        "load",
        lambda f: f.unit == "×" and "(" not in f.metric,
        2.0,
        most=True,
        backends=("memory", "sqlite", "postgres"),
    ),
    Target(
        "aggregate load from sealed snapshots (encrypted store) at 10k events ≤ 1.5× at 10",
        "load",
        lambda f: f.unit == "×" and "sealed snapshots" in f.metric,
        1.5,
        most=True,
        backends=("memory", "sqlite", "postgres"),
    ),
    Target(
        "replaying the largest history under 300 MB peak",
        "replay",
        _named("app.replay()"),
        300,
        most=True,
        backends=("sqlite",),
    ),
    Target(
        "PostgreSQL worker lag p99 under 1 s at 200 commands/s",
        "worker",
        _named("lag p99"),
        1000,
        most=True,
        backends=("postgres",),
    ),
]


def evaluate(figures: Iterable[Figure], backends: Iterable[str]) -> list[Outcome]:
    figures = list(figures)
    measured_backends = set(backends)
    outcomes = []
    for target in TARGETS:
        for backend in target.backends:
            chosen = [
                f
                for f in figures
                if f.bench == target.bench and f.backend == backend and target.metric(f)
            ]
            figure = (target.size or _largest)(chosen)
            wanted = f"{'≤' if target.most else '≥'} {_number(target.wanted)}"
            if figure is None:
                verdict = "not measured" if backend in measured_backends else "skipped (no server)"
                outcomes.append(
                    Outcome(target.name, backend, None, None, None, None, wanted, verdict)
                )
                continue
            if "MB" in target.name:
                value = low = high = figure.peak_mb
                unit = "MB"
            else:
                value, low, high, unit = figure.median, figure.low, figure.high, figure.unit
            assert value is not None
            met = value <= target.wanted if target.most else value >= target.wanted
            outcomes.append(
                Outcome(
                    target.name,
                    backend,
                    figure.size,
                    value,
                    low,
                    high,
                    wanted,
                    "met" if met else "missed",
                    unit,
                )
            )
    return outcomes


def _number(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:g}"
