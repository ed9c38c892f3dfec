"""The benchmark suite runs end to end at a tiny size: every benchmark reports its figures.

Timings are not checked here (CI machines are noisy and small); ``make bench`` measures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_suite_runs_at_a_tiny_size(tmp_path: Path) -> None:
    """python -m benchmarks --tiny finishes, writes JSON with every benchmark and target."""
    out = tmp_path / "latest.json"
    env = {**os.environ, "KAM_BENCH_CACHE": str(tmp_path / "cache")}

    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--tiny", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    failed = [job for job in report["jobs"] if job["failed"]]
    assert not failed, failed
    measured = {figure["bench"] for figure in report["figures"]}
    assert measured >= {"command", "bulk", "policies", "worker", "replay", "verify", "chain"}
    assert measured >= {"asof", "load"}
    assert all(figure["peak_mb"] for figure in report["figures"])
    assert {target["verdict"] for target in report["targets"]} <= {"met", "missed", "not measured"}
    assert out.with_suffix(".md").read_text().startswith("Measured ")
