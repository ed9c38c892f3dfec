"""``python -m benchmarks [--quick]``: run the suite, print the table, write the JSON.

    make bench              every benchmark, histories of 10k, 100k and 1M events
    make bench-quick        the same at 10k and 100k with fewer runs (a few minutes once the
                            histories are cached)
    python -m benchmarks --only command,replay --backends sqlite --sizes 10k

Results go to ``benchmarks/results/latest.json`` (and ``latest.md``, the table as Markdown);
``docs/performance.md`` quotes a committed copy, ``benchmarks/results/reference.*``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from benchmarks.harness import Figure, Job, Options, _size, machine, peak_mb, run_child
from benchmarks.stores import BACKENDS, postgres_unavailable, postgres_url
from benchmarks.targets import Outcome, evaluate

RESULTS = Path(__file__).resolve().parent / "results"
ORDER = ["command", "bulk", "worker", "replay", "state", "verify", "chain", "asof", "load"]
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
#: Replay peak memory counts as flat when the largest history's is at most this × the smallest's.
FLAT = 1.25


def _parse_sizes(text: str) -> list[int]:
    sizes = []
    for part in text.split(","):
        key = part.strip().lower()
        sizes.append(SIZES[key] if key in SIZES else int(key.replace("_", "")))
    return sorted(sizes)


def options_for(args: argparse.Namespace) -> Options:
    if args.tiny:
        options = Options(
            sizes=[2000],
            backends=["memory", "sqlite"],
            runs=1,
            commands=20,
            long_payments=100,
            bulk_events=600,
            worker_seconds=2.0,
            worker_rate=50.0,
            lookups=20,
            long_history=300,
            chain_events=2000,
            tiny=True,
        )
    elif args.quick:
        options = Options(
            sizes=[10_000, 100_000],
            backends=list(BACKENDS),
            runs=3,
            commands=150,
            long_payments=2000,
            bulk_events=2000,
            worker_seconds=10.0,
            lookups=150,
            chain_events=20_000,
            replay_once_from=100_000,
        )
    else:
        options = Options(sizes=[10_000, 100_000, 1_000_000], backends=list(BACKENDS))
    if args.sizes:
        options.sizes = _parse_sizes(args.sizes)
    if args.backends:
        options.backends = [b.strip() for b in args.backends.split(",")]
    if args.runs:
        options.runs = args.runs
    return options


def jobs_for(options: Options, only: list[str]) -> list[Job]:
    from benchmarks.cases import PER_SIZE

    jobs = []
    for bench in ORDER:
        if only and bench not in only:
            continue
        for backend in options.backends:
            if bench in PER_SIZE:
                jobs += [Job(bench, backend, size) for size in options.sizes]
            else:
                jobs.append(Job(bench, backend))
    return jobs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="10k and 100k histories, fewer runs")
    parser.add_argument("--tiny", action="store_true", help="seconds: proves the suite works")
    parser.add_argument("--sizes", help="history sizes, e.g. 10k,100k,1m")
    parser.add_argument("--backends", help="memory,sqlite,postgres")
    parser.add_argument("--only", help=f"benchmarks: {','.join(ORDER)}")
    parser.add_argument("--runs", type=int, help="runs per figure")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    parser.add_argument(
        "--clean", action="store_true", help="remove cached histories (files and schemas)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-options", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args)
    if args.clean:
        return _clean()
    options = options_for(args)
    only = [name.strip() for name in args.only.split(",")] if args.only else []
    unknown = sorted(set(only) - set(ORDER))
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(unknown)}")
    return _parent(options, only, args.out)


def _parent(options: Options, only: list[str], out: Path) -> int:
    skipped_backend = None
    if "postgres" in options.backends:
        skipped_backend = postgres_unavailable()
        if skipped_backend:
            print(f"PostgreSQL skipped: {skipped_backend}", flush=True)
    jobs = jobs_for(options, only)
    began = time.perf_counter()
    _prepare(options, jobs, skipped_backend is None)
    for job in jobs:
        if job.backend == "postgres" and skipped_backend:
            job.skipped = skipped_backend
            continue
        print(f"- {job.label} ...", end=" ", flush=True)
        run_child(job, options)
        if job.failed:
            print(f"FAILED ({job.seconds:.0f} s): {job.failed}", flush=True)
        elif job.skipped:
            print(f"skipped: {job.skipped}", flush=True)
        else:
            print(f"{job.seconds:.0f} s, peak {job.peak_mb:.0f} MB", flush=True)
    figures = [f for job in jobs for f in job.figures]
    reachable = [b for b in options.backends if not (b == "postgres" and skipped_backend)]
    outcomes = [o for o in evaluate(figures, reachable) if o.backend in options.backends]
    outcomes += _flatness(figures)
    postgres_version = (
        None if skipped_backend or "postgres" not in options.backends else _pg_version()
    )
    report = {
        "machine": machine(postgres_version),
        "options": options.to_json(),
        "seconds": round(time.perf_counter() - began),
        "histories": _histories(options.sizes),
        "jobs": [
            {
                "bench": j.bench,
                "backend": j.backend,
                "size": j.size,
                "seconds": round(j.seconds, 1),
                "peak_mb": j.peak_mb,
                "skipped": j.skipped,
                "failed": j.failed,
            }
            for j in jobs
        ],
        "figures": [f.to_json() for f in figures],
        "targets": [o.__dict__ for o in outcomes],
    }
    table = render(report)
    print()
    print(table)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str))
    out.with_suffix(".md").write_text(table)
    print(f"\nwritten: {out} and {out.with_suffix('.md').name}")
    return 1 if any(j.failed for j in jobs) else 0


def _prepare(options: Options, jobs: list[Job], postgres: bool) -> None:
    """Generate (or find) the histories the jobs read, and their PostgreSQL copies, here, so
    that no benchmark's time or memory includes making them."""
    from benchmarks.history import cached_history
    from benchmarks.stores import postgres_history

    if not any(j.bench in ("replay", "state", "verify", "asof") for j in jobs):
        return
    for size in options.sizes:
        history = cached_history(size)
        if postgres and "postgres" in options.backends:
            postgres_history(size, history.url, print)


def _clean() -> int:
    import shutil

    from benchmarks.history import CACHE
    from benchmarks.stores import drop_all

    shutil.rmtree(CACHE, ignore_errors=True)
    print(f"removed {CACHE}")
    if postgres_unavailable() is None:
        for schema in drop_all():
            print(f"dropped schema {schema}")
    return 0


def _flatness(figures: list[Figure]) -> list[Outcome]:
    peaks = {
        f.size: f.peak_mb
        for f in figures
        if f.bench == "replay" and f.backend == "sqlite" and f.metric == "app.replay()"
    }
    known = {s: p for s, p in peaks.items() if s is not None and p is not None}
    if len(known) < 2:
        return []
    small, large = min(known), max(known)
    ratio = known[large] / known[small]
    return [
        Outcome(
            f"replay peak memory flat in history size ({_size(large)} / {_size(small)})",
            "sqlite",
            large,
            ratio,
            ratio,
            ratio,
            f"≤ {FLAT}",
            "met" if ratio <= FLAT else "missed",
            "×",
        )
    ]


def _histories(sizes: list[int]) -> dict[str, Any]:
    from benchmarks.history import cache_path

    found = {}
    for size in sizes:
        meta = cache_path(size).with_suffix(".json")
        if meta.exists():
            summary = json.loads(meta.read_text())
            summary.pop("account_ids", None)
            summary.pop("team_ids", None)
            found[_size(size)] = summary
    return found


def _pg_version() -> str | None:
    try:
        import psycopg

        from benchmarks.stores import connect_kwargs

        with psycopg.connect(**connect_kwargs(postgres_url()), connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else None
    except Exception:
        return None


# -- the table -------------------------------------------------------------------------------


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "×":
        return f"{value:.2f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def render(report: dict[str, Any]) -> str:
    """The results as Markdown: the machine, the targets, then every figure."""
    m = report["machine"]
    lines = [
        f"Measured {m['when']} on {m['cpus']} CPUs, {m['memory_gb']} GB, {m['platform']}; "
        f"Python {m['python']}, SQLite {m['sqlite']}, PostgreSQL {m['postgresql'] or '—'}, "
        f"eventsourcing {m['eventsourcing']}. Suite time {report['seconds']:,} s.",
        "",
        "### Targets",
        "",
        "| target | backend | size | measured (median, min–max) | wanted | |",
        "|---|---|---|---|---|---|",
    ]
    for t in report["targets"]:
        measured = (
            "—"
            if t["measured"] is None
            else f"{_value(t['measured'], t['unit'])} ({_value(t['low'], t['unit'])}–"
            f"{_value(t['high'], t['unit'])}) {t['unit']}"
        )
        size = _size(t["size"]) if t["size"] else ""
        cells = [t["target"], t["backend"], size, measured, t["wanted"], t["verdict"]]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "### Figures",
        "",
        "Median over the runs, with min and max; ratios are taken run by run inside one "
        "process. Peak: the benchmark process's peak resident memory.",
        "",
        "| benchmark | backend | size | figure | median | min | max | unit | runs | peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for f in report["figures"]:
        size = _size(f["size"]) if f["size"] else ""
        peak = "" if f["peak_mb"] is None else f"{f['peak_mb']:.0f}"
        lines.append(
            f"| {f['bench']} | {f['backend']} | {size} | {f['metric']} | "
            f"{_value(f['median'], f['unit'])} | {_value(f['min'], f['unit'])} | "
            f"{_value(f['max'], f['unit'])} | {f['unit']} | {f['runs']} | {peak} |"
        )
    notes = [(f["bench"], f["metric"], f["note"]) for f in report["figures"] if f.get("note")]
    seen = set()
    lines += ["", "Notes:", ""]
    for bench, metric, note in notes:
        if (bench, note) in seen:
            continue
        seen.add((bench, note))
        lines.append(f"- {bench}, {metric}: {note}")
    skipped = [j for j in report["jobs"] if j["skipped"] or j["failed"]]
    if skipped:
        lines += ["", "Not measured:", ""]
        for j in skipped:
            size = f" {_size(j['size'])}" if j["size"] else ""
            why = j["skipped"] or f"FAILED: {j['failed']}"
            lines.append(f"- {j['bench']} on {j['backend']}{size}: {why}")
    return "\n".join(lines) + "\n"


# -- the child -------------------------------------------------------------------------------


def _child(args: argparse.Namespace) -> int:
    from benchmarks.cases import BENCHMARKS, _Skip

    spec = json.loads(args.child)
    options = Options(**json.loads(args.child_options))
    result: dict[str, Any] = {"figures": [], "skipped": None}
    with tempfile.TemporaryDirectory(prefix="kambench-") as folder:
        try:
            figures = BENCHMARKS[spec["bench"]](
                spec["backend"], spec["size"], options, Path(folder)
            )
            result["figures"] = [f.to_json() for f in figures]
        except _Skip as skip:
            result["skipped"] = str(skip)
        except Exception:
            traceback.print_exc()
            return 1
    result["peak_mb"] = peak_mb()
    Path(args.child_out).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
