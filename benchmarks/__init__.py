"""The benchmark suite: ``make bench`` (or ``python -m benchmarks``); see docs/performance.md.

- :mod:`benchmarks.history`: synthetic histories (several teams over several years), cached;
- :mod:`benchmarks.bare`: what the facade is compared with (bare eventsourcing, raw inserts);
- :mod:`benchmarks.cases`: the benchmarks, one child process each;
- :mod:`benchmarks.harness`, :mod:`benchmarks.targets`, :mod:`benchmarks.stores`: runs and
  figures, the issue's targets, stores on every backend.

``audit_chain.py`` and ``policy_worker.py`` also run on their own (see their docstrings); the
suite reuses the first's measurement of the chain's cost.
"""
