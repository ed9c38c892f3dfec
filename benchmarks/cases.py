"""The benchmarks. Each runs in a child process and returns its figures.

A benchmark is ``def name(backend, size, options, folder) -> list[Figure]``; ``size`` is the
history size for the benchmarks that read a generated history and ``None`` otherwise.
"""

from __future__ import annotations

import multiprocessing
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder
from eventsourcing.utils import get_topic

from benchmarks.bare import BareApplication, RawInserts, bare_environment
from benchmarks.harness import Figure, Options, percentile
from benchmarks.history import (
    LEAN_ENVIRONMENT,
    Plan,
    cached_history,
    teams_for,
)
from benchmarks.stores import (
    copy_history,
    drop,
    fresh_store,
    postgres_history,
)
from kam_domain.aggregates.client_account import AccountStrategies, ClientAccount
from kam_domain.aggregates.project import Project
from kam_domain.application import KamApplication
from kam_domain.audit import verify_chain
from kam_domain.runtime.engine import ENGINE_TRACKING, PolicyEngine
from kam_domain.storage import new_cipher_key
from kam_domain.transcoding import EventMapper
from kam_domain.values import Money, Percentage, Role, Tier

__all__ = ["BENCHMARKS"]

T0 = datetime(2024, 1, 1, 9, tzinfo=UTC)
CNY = "CNY"
STRATEGIES = AccountStrategies(
    market="grow share", client="executive sponsor", marketing="showcases", competitive="bundles"
)


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- stores ----------------------------------------------------------------------------------


@contextmanager
def _scratch(backend: str, folder: Path, name: str) -> Iterator[str]:
    url = fresh_store(backend, folder, name)
    try:
        yield url
    finally:
        drop(url)


@contextmanager
def _history_app(backend: str, size: int) -> Iterator[KamApplication]:
    """An application on the cached history of ``size`` events, on ``backend``; no policies run
    (SQLite opens the cached file read-only)."""
    history = cached_history(size, log=_log)
    if backend == "sqlite":
        app = KamApplication(history.url + "?mode=ro", run_policies=False)
    elif backend == "postgres":
        url = postgres_history(size, history.url, _log)
        app = KamApplication(url, run_policies=False)
    else:
        app = KamApplication("memory://", run_policies=False)
        copy_history(history.url, app.recorder)
    try:
        yield app
    finally:
        app.close()


# -- (1) a typical command -------------------------------------------------------------------


def _facade_accounts(app: KamApplication, count: int) -> tuple[UUID, list[tuple[UUID, UUID]]]:
    """A team with a financial planner and ``count`` accounts, each with one large invoice."""
    team_id, senior = app.form_team(
        name="Bench team",
        segment="enterprise",
        region="east",
        director_name="Senior",
        top_authority=Percentage.of(30),
        at=T0,
    )
    finance = app.add_member(team_id, senior, name="Finance", role=Role.FINANCIAL_PLANNER, at=T0)
    accounts = []
    for n in range(count):
        account = app.register_account(
            team_id, senior, name=f"Client {n}", industry="telecom", region="east", at=T0
        )
        invoice = app.issue_invoice(
            account,
            finance,
            amount=Money.of(10**12, CNY),
            due_at=T0 + timedelta(days=3650),
            at=T0,
        )
        accounts.append((account, invoice))
    return finance, accounts


def _bare_accounts(app: BareApplication, count: int) -> tuple[UUID, list[tuple[UUID, str]]]:
    finance = UUID(int=random.getrandbits(128))
    team = app.form_team("Bench team", {finance: "finance", UUID(int=1): "senior"})
    accounts = []
    for n in range(count):
        account = app.register_account(team, f"Client {n}")
        accounts.append((account, app.issue_invoice(account, Decimal(10**12), T0)))
    return finance, accounts


def command(backend: str, size: int | None, options: Options, folder: Path) -> list[Figure]:
    """Record a payment: the facade (policies off, then embedded) vs a bare eventsourcing
    application, each both with the facade's aggregate cache and without one, vs a raw insert,
    alternating, ``options.commands`` commands per run each; then one long-lived account."""
    count, accounts_per_side = options.commands, 20
    with ExitStack() as stack:
        urls = {
            name: stack.enter_context(_scratch(backend, folder, name))
            for name in ("facade", "uncached", "policies", "bare", "bare-uncached", "raw")
        }
        facade = KamApplication(urls["facade"], run_policies=False)
        stack.callback(facade.close)
        uncached = KamApplication(urls["uncached"], run_policies=False, cache_size=0)
        stack.callback(uncached.close)
        embedded = KamApplication(urls["policies"])
        stack.callback(embedded.close)
        bare = BareApplication(env=bare_environment(urls["bare"]))
        stack.callback(bare.close)
        bare_uncached = BareApplication(env=bare_environment(urls["bare-uncached"], 0))
        stack.callback(bare_uncached.close)
        raw = RawInserts(backend, urls["raw"]) if backend != "memory" else None
        if raw is not None:
            stack.callback(raw.close)
        one = Money.of(1, CNY)
        f_actor, f_accounts = _facade_accounts(facade, accounts_per_side)
        u_actor, u_accounts = _facade_accounts(uncached, accounts_per_side)
        p_actor, p_accounts = _facade_accounts(embedded, accounts_per_side)
        b_actor, b_accounts = _bare_accounts(bare, accounts_per_side)
        bu_actor, bu_accounts = _bare_accounts(bare_uncached, accounts_per_side)

        def facade_pay(n: int) -> None:
            account, invoice = f_accounts[n % accounts_per_side]
            facade.record_payment(account, f_actor, invoice, amount=one)

        def uncached_pay(n: int) -> None:
            account, invoice = u_accounts[n % accounts_per_side]
            uncached.record_payment(account, u_actor, invoice, amount=one)

        def embedded_pay(n: int) -> None:
            account, invoice = p_accounts[n % accounts_per_side]
            embedded.record_payment(account, p_actor, invoice, amount=one)

        def bare_pay(n: int) -> None:
            account, invoice = b_accounts[n % accounts_per_side]
            bare.record_payment(account, b_actor, invoice, Decimal(1), CNY)

        def bare_uncached_pay(n: int) -> None:
            account, invoice = bu_accounts[n % accounts_per_side]
            bare_uncached.record_payment(account, bu_actor, invoice, Decimal(1), CNY)

        def raw_pay(n: int) -> None:
            assert raw is not None
            account, invoice = b_accounts[n % accounts_per_side]
            raw.record_payment(account, invoice, Decimal(1))

        sides: dict[str, Callable[[int], None]] = {
            "facade": facade_pay,
            "facade, no cache": uncached_pay,
            "facade + policies": embedded_pay,
            "bare eventsourcing": bare_pay,
            "bare eventsourcing, no cache": bare_uncached_pay,
        }
        if raw is not None:
            sides["raw insert"] = raw_pay
        runs = _alternate(sides, count, options.runs)
    figures = []
    for side, per_run in runs.items():
        note = {
            "facade": "KamApplication(run_policies=False): chain, index, metadata; no policies;"
            " its aggregate cache (1,000 records)",
            "facade, no cache": "the same with cache_size=0: every load decodes from the store",
            "facade + policies": "KamApplication(): the built-in policies run after each command",
            "bare eventsourcing": "eventsourcing Application, own aggregates, same backend, the"
            " facade's cache and snapshot settings",
            "bare eventsourcing, no cache": "the same without a cache, as the facade's",
            "raw insert": "one row per transaction through the driver",
        }[side]
        figures += [
            Figure(
                "command",
                backend,
                f"{side}: throughput",
                "cmd/s",
                [count / sum(r) for r in per_run],
                note=note,
            ),
            Figure(
                "command",
                backend,
                f"{side}: p50",
                "ms",
                [percentile(r, 50) * 1000 for r in per_run],
            ),
            Figure(
                "command",
                backend,
                f"{side}: p99",
                "ms",
                [percentile(r, 99) * 1000 for r in per_run],
            ),
        ]
    for top, bottom in (
        ("facade", "bare eventsourcing"),
        ("facade, no cache", "bare eventsourcing, no cache"),
        ("facade + policies", "bare eventsourcing"),
        ("facade + policies", "facade"),
        ("bare eventsourcing", "raw insert"),
        ("facade", "raw insert"),
    ):
        if top in runs and bottom in runs:
            ratios = [sum(a) / sum(b) for a, b in zip(runs[top], runs[bottom], strict=True)]
            figures.append(Figure("command", backend, f"time {top} / {bottom}", "×", ratios))
    return figures + _long_account(backend, options, folder)


def _long_account(backend: str, options: Options, folder: Path) -> list[Figure]:
    """``options.long_payments`` payments on one account, the facade and the bare application
    both with their caches, alternating in chunks of a tenth: per chunk the time ratio, and how
    the first chunk's and the last chunk's commands compare (a cost that grows with the
    account's history shows here, hidden by 20 accounts round-robin)."""
    payments = options.long_payments
    chunk = max(1, payments // 10)
    with ExitStack() as stack:
        f_url = stack.enter_context(_scratch(backend, folder, "long-facade"))
        b_url = stack.enter_context(_scratch(backend, folder, "long-bare"))
        facade = KamApplication(f_url, run_policies=False)
        stack.callback(facade.close)
        bare = BareApplication(env=bare_environment(b_url))
        stack.callback(bare.close)
        f_actor, [(f_account, f_invoice)] = _facade_accounts(facade, 1)
        b_actor, [(b_account, b_invoice)] = _bare_accounts(bare, 1)
        one = Money.of(1, CNY)
        sides: dict[str, Callable[[], object]] = {
            "facade": lambda: facade.record_payment(f_account, f_actor, f_invoice, amount=one),
            "bare eventsourcing": lambda: bare.record_payment(
                b_account, b_actor, b_invoice, Decimal(1), CNY
            ),
        }
        chunks: dict[str, list[list[float]]] = {name: [] for name in sides}
        clock = time.perf_counter
        for n in range(0, payments, chunk):
            for name in _rotated(list(sides), n // chunk):
                action, taken = sides[name], []
                for _ in range(min(chunk, payments - n)):
                    began = clock()
                    action()
                    taken.append(clock() - began)
                chunks[name].append(taken)
    note = f"{payments:,} payments on one account, both cached, chunks of {chunk:,}"
    f_chunks, b_chunks = chunks["facade"], chunks["bare eventsourcing"]
    figures = [
        Figure(
            "command",
            backend,
            "long account: time facade / bare eventsourcing",
            "×",
            [sum(f) / sum(b) for f, b in zip(f_chunks, b_chunks, strict=True)],
            note=note,
        )
    ]
    for name, taken in chunks.items():
        figures += [
            Figure(
                "command",
                backend,
                f"long account, {name}: p50, first {chunk:,} payments",
                "ms",
                [percentile(taken[0], 50) * 1000],
            ),
            Figure(
                "command",
                backend,
                f"long account, {name}: p50, last {chunk:,} payments",
                "ms",
                [percentile(taken[-1], 50) * 1000],
            ),
            Figure(
                "command",
                backend,
                f"long account, {name}: last chunk / first",
                "×",
                [sum(taken[-1]) / sum(taken[0])],
            ),
        ]
    return figures


def _alternate(
    sides: dict[str, Callable[[int], None]], count: int, runs: int
) -> dict[str, list[list[float]]]:
    """Per side, per run, the seconds each call took; one warm-up run first; the order of the
    sides rotates from run to run."""
    names = list(sides)
    results: dict[str, list[list[float]]] = {name: [] for name in names}
    clock = time.perf_counter
    for run in range(runs + 1):
        order = names[run % len(names) :] + names[: run % len(names)]
        for name in order:
            action, taken = sides[name], []
            start = run * count
            for n in range(start, start + count):
                began = clock()
                action(n)
                taken.append(clock() - began)
            if run:
                results[name].append(taken)
    return results


# -- (2) bulk import and (3) embedded policies -----------------------------------------------


def bulk(backend: str, size: int | None, options: Options, folder: Path) -> list[Figure]:
    """The same plan of commands recorded one command at a time and in ``app.batch()`` blocks
    (one per team and half-week), each on a fresh store, alternating; the built-in policies run
    embedded in both (after each command, or after each batch)."""
    events = options.bulk_events
    rates: dict[str, list[float]] = {"one at a time": [], "batched": []}
    lag: list[list[float]] = []
    engine_rates: list[float] = []
    decision_rates: list[float] = []
    runs = max(1, min(options.runs, 3))
    for run in range(runs):
        modes = ["one at a time", "batched"] if run % 2 == 0 else ["batched", "one at a time"]
        for mode in modes:
            with _scratch(backend, folder, "bulk") as url:
                app = KamApplication(url)
                engine_runs = _instrument(app.policies)
                plan = Plan(app, teams=teams_for(events), batch=mode == "batched")
                began = time.perf_counter()
                plan.run(events=events, quarters=40)
                elapsed = time.perf_counter() - began
                recorded = app.recorder.max_notification_id() or 0
                app.close()
            rates[mode].append(recorded / elapsed)
            if mode == "one at a time":
                lag.append([seconds for seconds, _, _ in engine_runs])
            else:
                spent = sum(seconds for seconds, _, _ in engine_runs)
                engine_rates.append(sum(n for _, n, _ in engine_runs) / spent)
                decision_rates.append(sum(d for _, _, d in engine_runs) / spent)
    note = f"a plan of about {events:,} events, 2 teams, the built-in policies embedded"
    return [
        Figure(
            "bulk", backend, "one command at a time", "events/s", rates["one at a time"], note=note
        ),
        Figure("bulk", backend, "app.batch() per team and half-week", "events/s", rates["batched"]),
        Figure(
            "bulk",
            backend,
            "rate batched / one at a time",
            "×",
            [b / a for a, b in zip(rates["one at a time"], rates["batched"], strict=True)],
        ),
        Figure(
            "policies",
            backend,
            "embedded: wait for consequences, p50",
            "ms",
            [percentile(r, 50) * 1000 for r in lag],
            note="time the engine runs after each command (one at a time)",
        ),
        Figure(
            "policies",
            backend,
            "embedded: wait for consequences, p99",
            "ms",
            [percentile(r, 99) * 1000 for r in lag],
        ),
        Figure(
            "policies",
            backend,
            "engine: events followed",
            "events/s",
            engine_rates,
            note="fold, learn, decide and record, after each batch",
        ),
        Figure("policies", backend, "engine: decisions recorded", "decisions/s", decision_rates),
    ]


def _instrument(engine: PolicyEngine) -> list[tuple[float, int, int]]:
    """Record (seconds, events followed, decisions) of every run of ``engine``."""
    runs: list[tuple[float, int, int]] = []
    original = engine.run

    def run(**kwargs: Any) -> int:
        before = engine.position
        began = time.perf_counter()
        decided = original(**kwargs)
        runs.append((time.perf_counter() - began, engine.position - before, decided))
        return decided

    engine.run = run  # type: ignore[method-assign]
    return runs


# -- (3) a worker under steady load ----------------------------------------------------------


def worker(backend: str, size: int | None, options: Options, folder: Path) -> list[Figure]:
    """``kam worker`` follows a host recording a steady load of commands (half of them
    discount requests, each decided by the price-approval policy, half payments); lag is the
    time from a request's commit to the worker's tracking record for it."""
    if backend == "memory":
        raise _Skip("a memory store cannot be shared with a worker process")
    figures: list[Figure] = []
    with _scratch(backend, folder, "worker") as url:
        host = KamApplication(url, run_policies=False)
        setup = _worker_setup(host)
        process = subprocess.Popen(
            [sys.executable, "-m", "kam_domain.cli", "worker", "--store", url],
            stderr=subprocess.DEVNULL,
        )
        try:
            runs = max(2, min(options.runs, 3))
            seconds = options.worker_seconds / runs
            lags: list[list[float]] = []
            achieved: list[float] = []
            sender = _Sender(host, setup)
            sender.request(1)  # the worker has caught up once this is decided
            sender.wait_all(timeout=120)
            # Two load processes: one cannot record 200 commands a second on this machine.
            lanes = 2
            context = multiprocessing.get_context("spawn")
            with context.Pool(lanes) as pool:
                for _ in range(runs):
                    jobs = [
                        pool.apply_async(
                            _lane, (url, setup, options.worker_rate / lanes, seconds, lane, lanes)
                        )
                        for lane in range(lanes)
                    ]
                    results = [job.get(timeout=seconds + 300) for job in jobs]
                    achieved.append(sum(r[0] for r in results) / max(r[1] for r in results))
                    lags.append([lag for r in results for lag in r[2]])
        finally:
            process.terminate()
            process.wait(timeout=30)
            host.close()
    note = f"target {options.worker_rate:.0f} commands/s, {options.worker_seconds:.0f} s"
    figures += [
        Figure("worker", backend, "commands recorded", "cmd/s", achieved, note=note),
        Figure("worker", backend, "lag p50", "ms", [percentile(r, 50) * 1000 for r in lags]),
        Figure("worker", backend, "lag p99", "ms", [percentile(r, 99) * 1000 for r in lags]),
        Figure("worker", backend, "lag max", "ms", [max(r) * 1000 for r in lags]),
    ]
    return figures


class _Skip(Exception):
    """This benchmark does not apply to this backend (the message says why)."""


def _worker_setup(app: KamApplication) -> dict[str, Any]:
    team_id, senior = app.form_team(
        name="Worker team",
        segment="enterprise",
        region="east",
        director_name="Senior",
        top_authority=Percentage.of(30),
    )
    kam = app.add_member(team_id, senior, name="KAM", role=Role.KEY_ACCOUNT_MANAGER)
    finance = app.add_member(team_id, senior, name="Finance", role=Role.FINANCIAL_PLANNER)
    pd = app.add_member(team_id, senior, name="PD", role=Role.PROJECT_DIRECTOR)
    app.grant_authority(team_id, senior, kam, max_discount=Percentage.of(5))
    accounts, projects = [], []
    # Many records, so that each one's history stays short during the load.
    for n in range(40):
        account = app.register_account(
            team_id, senior, name=f"Client {n}", industry="x", region="y"
        )
        app.designate_key_account(account, senior, tier=Tier.MAJOR, strategies=STRATEGIES)
        app.assign_kam(account, senior, kam, reason="covers the region")
        invoice = app.issue_invoice(
            account,
            finance,
            amount=Money.of(10**12, CNY),
            due_at=datetime.now(UTC) + timedelta(days=3650),
        )
        accounts.append((account, invoice))
        for p in range(3):
            project = app.initiate_project(
                account, kam, name=f"Project {n}-{p}", currency=CNY, project_director_id=pd
            )
            app.set_price_band(
                project, senior, list_price=Money.of(100_000, CNY), floor=Money.of(70_000, CNY)
            )
            projects.append(project)
    return {"kam": kam, "finance": finance, "accounts": accounts, "projects": projects}


class _Sender:
    """Records the load and watches the worker's tracking record (the engine's one position:
    every command up to it settled) for discount requests."""

    def __init__(self, app: KamApplication, setup: dict[str, Any]) -> None:
        self.app = app
        self.setup = setup
        self.topic = get_topic(Project.DiscountRequested)
        self.key = ENGINE_TRACKING

    def request(self, n: int) -> tuple[float, int, UUID]:
        """Send one discount request; returns (commit time, the log's head before it, project)."""
        projects = self.setup["projects"]
        project = projects[n % len(projects)]
        head = self.app.recorder.max_notification_id() or 0
        # The worker's decisions change the same projects: a conflict is retried, as hosts do.
        self.app.retrying(
            self.app.request_discount,
            project,
            self.setup["kam"],
            percentage=Percentage.of(1 + n % 25),
            justification="steady load",
        )
        return time.perf_counter(), head, project

    def pay(self, n: int) -> None:
        account, invoice = self.setup["accounts"][n % len(self.setup["accounts"])]
        self.app.record_payment(account, self.setup["finance"], invoice, amount=Money.of(1, CNY))

    def tracked(self) -> int:
        recorder: Any = self.app.recorder
        return int(recorder.max_tracking_id(self.key) or 0)

    def wait_all(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        wanted = self._last_request_position()
        while self.tracked() < wanted:
            if time.monotonic() > deadline:
                raise TimeoutError("the worker did not catch up")
            time.sleep(0.01)

    def _last_request_position(self) -> int:
        head = self.app.recorder.max_notification_id() or 0
        position = 0
        start = max(1, head - 500)
        for notification in self.app.recorder.select_notifications(
            start=start, limit=1000, topics=[self.topic]
        ):
            position = notification.id
        return position

    def steady(self, rate: float, seconds: float, lane: int, lanes: int) -> tuple[int, list[float]]:
        """Send ``rate`` commands a second for ``seconds`` on this lane's records (every
        ``lanes``-th); returns how many were sent and the lag of every discount request."""
        pending: list[tuple[float, int, UUID]] = []
        lags: list[float] = []
        lock = threading.Lock()
        done = threading.Event()

        def watch() -> None:
            # Every 20 ms: where the new requests landed (one query), then the worker's
            # tracking record (one query).
            resolved: list[tuple[float, int]] = []
            while not (done.is_set() and not pending and not resolved):
                with lock:
                    fresh = sorted(pending, key=lambda item: item[1])
                    pending.clear()
                if fresh:
                    found = self.app.recorder.select_notifications(
                        start=fresh[0][1] + 1,
                        limit=len(fresh) * lanes * 2 + 1000,
                        topics=[self.topic],
                    )
                    for committed, head, project in fresh:
                        position = next(
                            n.id for n in found if n.id > head and n.originator_id == project
                        )
                        resolved.append((committed, position))
                tracked = self.tracked()
                now = time.perf_counter()
                still = []
                for committed, position in resolved:
                    if position <= tracked:
                        lags.append(now - committed)
                    else:
                        still.append((committed, position))
                resolved = still
                time.sleep(0.02)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        interval = 1 / rate
        began = time.perf_counter()
        due = began + lane * interval / lanes
        sent, n = 0, lane
        while time.perf_counter() - began < seconds:
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            # Lanes take records of their own: n runs through lane, lane + lanes, …
            if (n // lanes) % 2 == 0:
                request = self.request(n)
                with lock:
                    pending.append(request)
            else:
                self.pay(n)
            sent += 1
            n += lanes
            due += interval
        done.set()
        watcher.join(timeout=120)
        return sent, lags


def _lane(
    url: str, setup: dict[str, Any], rate: float, seconds: float, lane: int, lanes: int
) -> tuple[int, float, list[float]]:
    """One load process: its own application on the store, ``rate`` commands a second."""
    app = KamApplication(url, run_policies=False)
    try:
        began = time.perf_counter()
        sent, lags = _Sender(app, setup).steady(rate, seconds, lane, lanes)
        return sent, time.perf_counter() - began, lags
    finally:
        app.close()


# -- (4) replay and rebuild, (7) their memory ------------------------------------------------


def replay(backend: str, size: int | None, options: Options, folder: Path) -> list[Figure]:
    """``app.replay()`` and a rebuild of the policies' read model (a fresh engine following
    the whole log: World and every policy's learning, nothing to decide) vs reading and
    decoding the notification log bare, alternating."""
    assert size is not None
    runs = _history_runs(size, options)
    if backend == "memory" and size > options.memory_up_to:
        raise _Skip(f"histories over {options.memory_up_to:,} events are not copied into memory")
    if backend != "sqlite" and size >= options.replay_once_from:
        raise _Skip("the largest history is replayed on SQLite only (minutes per run)")
    rates: dict[str, list[float]] = {
        "read": [],
        "read and decode": [],
        "read and decode, JSON transcoder": [],
        "decode": [],
        "decode, JSON transcoder": [],
        "replay": [],
        "rebuild": [],
    }
    with _history_app(backend, size) as app:
        events = app.recorder.max_notification_id() or 0
        # The same mapper on eventsourcing's own JSON transcoder: the decoding floor before.
        plain = JSONTranscoder()
        app.register_transcodings(plain)
        json_mapper = EventMapper(plain, app.mapper.compressor, app.mapper.cipher)
        # Decoding alone, without reading rows (the adapter's part), on the log's first events.
        held = app.recorder.select_notifications(start=1, limit=min(events, 100_000))
        for run in range(runs):
            for name in _rotated(list(rates), run):
                began = time.perf_counter()
                if name == "read":
                    _read(app, decode=False)
                elif name == "read and decode":
                    _read(app, decode=True)
                elif name == "read and decode, JSON transcoder":
                    _read(app, decode=True, mapper=json_mapper)
                elif name.startswith("decode"):
                    mapper = json_mapper if "JSON" in name else app.mapper
                    for notification in held:
                        mapper.to_domain_event(notification)
                    rates[name].append(len(held) / (time.perf_counter() - began))
                    continue
                elif name == "replay":
                    report = app.replay()
                    if not report.reproduced:
                        raise AssertionError(
                            f"the history does not replay: {report.divergences[:2]}"
                        )
                else:
                    engine = PolicyEngine(app, app.policies.registry)
                    if engine.run():
                        raise AssertionError("the rebuild decided something: it was behind")
                rates[name].append(events / (time.perf_counter() - began))
    base = rates["read and decode"]
    return [
        Figure(
            "replay",
            backend,
            "bare read",
            "events/s",
            rates["read"],
            size=size,
            note="select_notifications, pages of 1000",
        ),
        Figure(
            "replay",
            backend,
            "bare read and decode",
            "events/s",
            base,
            size=size,
            note="… and mapper.to_domain_event (the event codec, kam_domain/codec.py)",
        ),
        Figure(
            "replay",
            backend,
            "bare read and decode, JSON transcoder",
            "events/s",
            rates["read and decode, JSON transcoder"],
            size=size,
            note="the same mapper on eventsourcing's JSONTranscoder",
        ),
        Figure(
            "replay",
            backend,
            "read and decode: event codec / JSON transcoder",
            "×",
            [
                new / old
                for new, old in zip(base, rates["read and decode, JSON transcoder"], strict=True)
            ],
            size=size,
        ),
        Figure(
            "replay",
            backend,
            "decode: event codec / JSON transcoder",
            "×",
            [
                new / old
                for new, old in zip(rates["decode"], rates["decode, JSON transcoder"], strict=True)
            ],
            size=size,
            note="mapper.to_domain_event on rows already read, each mapper",
        ),
        Figure("replay", backend, "decode, event codec", "events/s", rates["decode"], size=size),
        Figure(
            "replay",
            backend,
            "decode, JSON transcoder",
            "events/s",
            rates["decode, JSON transcoder"],
            size=size,
        ),
        Figure("replay", backend, "app.replay()", "events/s", rates["replay"], size=size),
        Figure(
            "replay",
            backend,
            "read-model rebuild",
            "events/s",
            rates["rebuild"],
            size=size,
            note="a fresh PolicyEngine following the log",
        ),
        Figure(
            "replay",
            backend,
            "replay / bare read and decode",
            "×",
            [r / b for r, b in zip(rates["replay"], base, strict=True)],
            size=size,
        ),
        Figure(
            "replay",
            backend,
            "rebuild / bare read and decode",
            "×",
            [r / b for r, b in zip(rates["rebuild"], base, strict=True)],
            size=size,
        ),
    ]


def _history_runs(size: int, options: Options) -> int:
    if size >= options.replay_once_from:
        return 1
    if size >= 100_000:
        return min(options.runs, options.large_runs)
    return options.runs


def _rotated(names: list[str], run: int) -> list[str]:
    return names[run % len(names) :] + names[: run % len(names)]


def _read(app: KamApplication, *, decode: bool, mapper: EventMapper | None = None) -> int:
    count, start = 0, 1
    to_domain_event = (mapper or app.mapper).to_domain_event
    while True:
        page = app.recorder.select_notifications(start=start, limit=1000)
        if not page:
            return count
        if decode:
            for notification in page:
                to_domain_event(notification)
        count += len(page)
        start = page[-1].id + 1


# -- (5) verify ------------------------------------------------------------------------------


def verify(backend: str, size: int | None, options: Options, folder: Path) -> list[Figure]:
    """Recompute the hash chain: in process (``verify_chain``) and, on SQLite and PostgreSQL,
    ``kam audit verify`` as an auditor runs it (a process of its own, start-up included)."""
    assert size is not None
    if backend == "memory" and size > options.memory_up_to:
        raise _Skip(f"histories over {options.memory_up_to:,} events are not copied into memory")
    runs = _history_runs(size, options)
    in_process: list[float] = []
    cli: list[float] = []
    cli_peaks: list[float] = []
    with _history_app(backend, size) as app:
        events = app.recorder.max_notification_id() or 0
        url = None
        if backend == "sqlite":
            url = cached_history(size, log=_log).url + "?mode=ro"
        elif backend == "postgres":
            url = postgres_history(size, cached_history(size, log=_log).url, _log)
        for run in range(runs):
            for name in _rotated(["in process", "cli"], run):
                began = time.perf_counter()
                if name == "in process":
                    result = verify_chain(app.recorder)
                    if not result.intact or result.checked != events:
                        raise AssertionError(f"the history does not verify: {result}")
                    in_process.append(events / (time.perf_counter() - began))
                elif url is not None:
                    done = subprocess.run(
                        [sys.executable, "-c", _MEASURED_CLI, "audit", "verify", "--store", url],
                        check=True,
                        capture_output=True,
                        text=True,
                    )
                    cli.append(events / (time.perf_counter() - began))
                    cli_peaks.append(float(done.stderr.strip().splitlines()[-1]))
    figures = [
        Figure("verify", backend, "verify_chain in process", "events/s", in_process, size=size)
    ]
    if cli:
        figures.append(
            Figure(
                "verify",
                backend,
                "kam audit verify",
                "events/s",
                cli,
                size=size,
                note="its own process, start-up included",
            )
        )
        figures.append(
            Figure("verify", backend, "kam audit verify: peak memory", "MB", cli_peaks, size=size)
        )
    return figures


#: ``kam …`` in a process that reports its own peak resident memory (MB) on its last line of
#: standard error. (A child's peak as its parent sees it includes the parent's pages it was
#: forked with; see :func:`benchmarks.harness.peak_mb`.)
_MEASURED_CLI = """
import sys
from kam_domain.cli import main
sys.argv = ["kam", *sys.argv[1:]]
try:
    status = main()
finally:
    with open("/proc/self/status", encoding="ascii") as status_file:
        hwm = [line.split()[1] for line in status_file if line.startswith("VmHWM:")]
    print(int(hwm[0]) / 1024, file=sys.stderr)
sys.exit(status)
"""


def chain(backend: str, size: int | None, options: Options, folder: Path) -> list[Figure]:
    """What the hash chain and the as-of index cost a write, with benchmarks/audit_chain.py:
    the same stored events written through this library's SQLite recorder and eventsourcing's."""
    if backend != "sqlite":
        raise _Skip("benchmarks/audit_chain.py measures the SQLite recorders")
    from benchmarks.audit_chain import table_bytes, write

    events = options.chain_events
    sealed, plain, chain_bytes, index_bytes = [], [], [], []
    for run in range(max(1, min(options.runs, 3))):
        for name in _rotated(["sealed", "plain"], run):
            path = folder / f"{name}-{run}.db"
            module = "kam_adapters.sqlite:Factory" if name == "sealed" else "eventsourcing.sqlite"
            elapsed = write(path, module, events)
            (sealed if name == "sealed" else plain).append(events / elapsed)
            if name == "sealed":
                sizes = table_bytes(path)
                chain_bytes.append(sizes.get("stored_events_chain", 0) / events)
                index_bytes.append(sizes.get("stored_events_asof", 0) / events)
            path.unlink()
    note = f"{events:,} stored events of 300 bytes, 10 per write (benchmarks/audit_chain.py)"
    return [
        Figure("chain", backend, "write with chain and index", "events/s", sealed, note=note),
        Figure("chain", backend, "write, eventsourcing alone", "events/s", plain),
        Figure(
            "chain",
            backend,
            "write time with / without",
            "×",
            [p / s for s, p in zip(sealed, plain, strict=True)],
        ),
        Figure("chain", backend, "chain bytes per event", "B", chain_bytes),
        Figure("chain", backend, "as-of index bytes per event", "B", index_bytes),
    ]


# -- (6) as-of lookups and aggregate load ----------------------------------------------------


def asof(backend: str, size: int | None, options: Options, folder: Path) -> list[Figure]:
    """``get_account(id, at=…)`` (index seek, then the record at that version, from a snapshot
    when there is one) and the index seek alone, on every history size, alternating sizes; the
    same number of random (account, moment) pairs per size and run."""
    sizes = [s for s in options.sizes if backend != "memory" or s <= options.memory_up_to]
    if not sizes:
        raise _Skip("no history small enough for the memory backend")
    figures: list[Figure] = []
    full: dict[int, list[float]] = {s: [] for s in sizes}
    seek: dict[int, list[float]] = {s: [] for s in sizes}
    p99: dict[int, list[float]] = {s: [] for s in sizes}
    with ExitStack() as stack:
        apps = {s: stack.enter_context(_history_app(backend, s)) for s in sizes}
        samples = {s: _moments(s, options.lookups) for s in sizes}
        for run in range(options.runs + 1):
            for s in _rotated(sizes, run):
                app, pairs = apps[s], samples[s]
                taken, seeks = [], []
                for account, moment in pairs:
                    began = time.perf_counter()
                    app.get_account(account, at=moment)
                    taken.append(time.perf_counter() - began)
                    began = time.perf_counter()
                    app.recorder.version_at(account, moment)  # type: ignore[attr-defined]
                    seeks.append(time.perf_counter() - began)
                if run:
                    full[s].append(percentile(taken, 50) * 1000)
                    p99[s].append(percentile(taken, 99) * 1000)
                    seek[s].append(percentile(seeks, 50) * 1000)
    for s in sizes:
        figures += [
            Figure("asof", backend, "get_account(at=) p50", "ms", full[s], size=s),
            Figure("asof", backend, "get_account(at=) p99", "ms", p99[s], size=s),
            Figure("asof", backend, "index seek p50", "ms", seek[s], size=s),
        ]
    smallest, largest = sizes[0], sizes[-1]
    if largest != smallest:
        ratios = [b / a for a, b in zip(full[smallest], full[largest], strict=True)]
        figures.append(
            Figure(
                "asof", backend, f"p50 at {largest:,} / at {smallest:,}", "×", ratios, size=largest
            )
        )
    return figures


def _moments(size: int, count: int) -> list[tuple[UUID, datetime]]:
    history = cached_history(size, log=_log)
    rng = random.Random(size)
    first = datetime.fromisoformat(history.summary.first)
    last = datetime.fromisoformat(history.summary.last)
    accounts = [UUID(a) for a in history.summary.account_ids]
    return [(rng.choice(accounts), first + (last - first) * rng.random()) for _ in range(count)]


def load(backend: str, size: int | None, options: Options, folder: Path) -> list[Figure]:
    """Load an account with 10 events and one with ``options.long_history`` (its representative
    reassigned back and forth: the state stays the same size, only the history grows). The long
    one is loaded at each of the last 100 versions, so that every distance from the last
    snapshot counts once. With the facade's snapshot interval for accounts (100 events), and,
    for comparison, with one of 10."""
    figures = []
    variants: list[tuple[type[KamApplication], str, str | None]] = [
        (KamApplication, "", None),
        (_TightSnapshots, " (snapshot every 10)", None),
        # Encrypted: records load from their sealed snapshots (kam_domain.application.snapshots).
        (KamApplication, " (encrypted, sealed snapshots)", new_cipher_key()),
    ]
    for app_class, label, key in variants:
        short, long, short_version, head = _loads(app_class, backend, options, folder, key)
        note = "mean over the last 100 versions" if not label else label.strip(" ()")
        figures += [
            Figure("load", backend, f"account with {short_version} events{label}", "ms", short),
            Figure("load", backend, f"account with {head:,} events{label}", "ms", long, note=note),
            Figure(
                "load",
                backend,
                f"{head:,} events / {short_version}{label}",
                "×",
                [b / a for a, b in zip(short, long, strict=True)],
            ),
        ]
    return figures


class _TightSnapshots(KamApplication):
    """The facade with an account snapshot every 10 events instead of 100."""

    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        **KamApplication.snapshotting_intervals,
        ClientAccount: 10,
    }


def _loads(
    app_class: type[KamApplication],
    backend: str,
    options: Options,
    folder: Path,
    cipher_key: str | None = None,
) -> tuple[list[float], list[float], int, int]:
    with _scratch(backend, folder, "load") as url:
        # Built with the lean aggregate cache; measured with no cache at all, so that every
        # load decodes from the store (a memory store cannot be reopened, so there the builder
        # is the measured application too).
        if backend == "memory":
            builder = app_class(url, run_policies=False, cache_size=0, cipher_key=cipher_key)
        else:
            builder = app_class(
                url, run_policies=False, env=LEAN_ENVIRONMENT, cipher_key=cipher_key
            )
        short_id, long_id = _load_records(builder, options.long_history)
        if backend == "memory":
            app = builder
        else:
            app = app_class(url, run_policies=False, cache_size=0, cipher_key=cipher_key)
        head = app.get_account(long_id).version
        versions = list(range(head - 99, head + 1))
        short: list[float] = []
        long: list[float] = []
        for run in range(options.runs + 1):
            for name in _rotated(["short", "long"], run):
                taken = []
                for version in versions:
                    began = time.perf_counter()
                    if name == "short":
                        app.get_account(short_id)
                    else:
                        app.get_account(long_id, version=version)
                    taken.append(time.perf_counter() - began)
                if run:
                    (short if name == "short" else long).append(sum(taken) / len(taken) * 1000)
        short_version = app.get_account(short_id).version
        app.close()
        if app is not builder:
            builder.close()
    return short, long, short_version, head


def _load_records(app: KamApplication, long_events: int) -> tuple[UUID, UUID]:
    team_id, senior = app.form_team(
        name="Load team",
        segment="x",
        region="y",
        director_name="Senior",
        top_authority=Percentage.of(30),
        at=T0,
    )
    reps = [
        app.add_member(
            team_id, senior, name=f"Rep {n}", role=Role.KEY_ACCOUNT_REPRESENTATIVE, at=T0
        )
        for n in range(2)
    ]
    ids = []
    for name, events in (("Short", 10), ("Long", long_events)):
        account = app.register_account(team_id, senior, name=name, industry="x", region="y", at=T0)
        written, n = 1, 0
        while written < events:
            with app.batch():
                for _ in range(min(1000, events - written)):
                    when = T0 + timedelta(minutes=n + 1)
                    app.assign_representative(account, senior, reps[n % 2], at=when)
                    n += 1
                    written += 1
        ids.append(account)
    return ids[0], ids[1]


def _state(backend: str, size: int | None, options: Options, folder: Path) -> list[Figure]:
    from benchmarks.state import state

    return state(backend, size, options, folder)


BENCHMARKS: dict[str, Callable[[str, int | None, Options, Path], list[Figure]]] = {
    "command": command,
    "bulk": bulk,
    "worker": worker,
    "replay": replay,
    "verify": verify,
    "chain": chain,
    "asof": asof,
    "load": load,
    "state": _state,
}
#: Benchmarks that read a generated history, one job per size (as-of takes all sizes at once).
PER_SIZE = {"replay", "verify", "state"}
