"""``kam worker``: run the policies in a process of their own, woken by new events.

The worker opens the store with ``run_policies=False`` (it is the one running them), lets the
engine catch up with the log, then waits on the store's subscription — LISTEN/NOTIFY on
PostgreSQL, polling on SQLite — and catches up again at each wake-up. Every decision is
recorded atomically with its tracking record, so any number of workers (and embedded hosts) can
follow one store: none records a decision twice, and one killed at any moment resumes where the
store says it stopped.

SIGTERM and SIGINT stop it cleanly: the engine finishes the events it has in hand (at most
:data:`STEP`, each decision atomic) and the worker exits 0.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import PersistenceError

from kam_domain.application import KamApplication
from kam_domain.cli.arguments import add_policies_option, registry_with
from kam_domain.cli.common import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    add_store_option,
    exit_status_text,
)
from kam_domain.runtime.engine import PolicyEngine
from kam_domain.storage import resolve_store

if TYPE_CHECKING:
    from tenacity import RetryCallState

__all__ = ["STEP", "Worker", "register"]

#: Commands the engine settles between two looks at whether the worker should stop.
STEP = 50
#: Longest wait, in seconds, between two looks at the clock for ``--idle-exit``.
TICK = 0.5
#: Back-off after a store failure, doubling from the first to the last, in seconds.
BACKOFF = (0.5, 30.0)


class Worker:
    """Follows ``app``'s log with its policy engine until :meth:`stop` is called."""

    def __init__(self, app: KamApplication, *, log: Callable[[str], None] | None = None) -> None:
        self.app = app
        self.log = log
        self.decisions = 0
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._reached = app.policies.position

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        """Ask the worker to stop after the events in hand (safe from signal handlers)."""
        self._stopping.set()
        self._wake.set()

    def catch_up(self) -> int:
        """Settle every command recorded so far (and what that adds); returns the decisions."""
        engine = self.app.policies
        recorded = 0
        while not self.stopping:
            began = time.monotonic()
            count = engine.run(limit=STEP, stop=self._stopping)
            recorded += count
            self._reached = engine.position
            if count and self.log is not None:
                elapsed = (time.monotonic() - began) * 1000
                noun = "decision" if count == 1 else "decisions"
                self.log(
                    f"kam worker: {count} {noun} up to position {engine.position}, "
                    f"{engine.lag()} events behind ({elapsed:.0f} ms)"
                )
            if not engine.settled_units:
                break
        self.decisions += recorded
        return recorded

    def serve(self, *, idle_exit: float | None = None) -> None:
        """Catch up, then follow new events until stopped (or idle for ``idle_exit`` s).

        A store failure is reported, and after a back-off (doubling, see :data:`BACKOFF`; cut
        short by :meth:`stop`) the worker starts over with a fresh engine: an engine that failed
        mid-run may have seen events it did not decide about.
        """
        from tenacity import Retrying, retry_if_exception_type, wait_exponential

        retrying = Retrying(
            retry=retry_if_exception_type(PersistenceError),
            wait=wait_exponential(multiplier=BACKOFF[0], max=BACKOFF[1]),
            stop=lambda _: self.stopping,
            sleep=self._pause,
            before_sleep=self._restart,
            retry_error_callback=lambda _: None,
        )
        retrying(self._follow_unless_stopping, idle_exit)

    def _pause(self, seconds: float) -> None:
        """The back-off, cut short when the worker is asked to stop."""
        self._stopping.wait(seconds)

    def _follow_unless_stopping(self, idle_exit: float | None) -> None:
        if not self.stopping:
            self._follow(idle_exit)

    def _restart(self, state: RetryCallState) -> None:
        """Report the store's failure, and start the next attempt on a fresh engine."""
        error = state.outcome.exception() if state.outcome is not None else None
        pause = state.next_action.sleep if state.next_action is not None else BACKOFF[0]
        reason = self.app.store_url.scrub(error) if error is not None else "unknown"
        print(f"kam worker: store failed ({reason}); again in {pause:g} s", file=sys.stderr)
        self.app.policies = PolicyEngine(self.app, self.app.policies.registry)
        self._reached = 0

    def _follow(self, idle_exit: float | None) -> None:
        head = self.app.recorder.max_notification_id()
        failure: list[BaseException] = []
        with self.app.recorder.subscribe(gt=head) as subscription:

            def wake_on_events() -> None:
                try:
                    for _ in subscription:
                        self._wake.set()
                except BaseException as error:  # raised again in the main thread
                    failure.append(error)
                    self._wake.set()

            waker = threading.Thread(target=wake_on_events, name="kam-worker-wake", daemon=True)
            waker.start()
            try:
                self.catch_up()
                idle_since = time.monotonic()
                while not self.stopping:
                    if self._wake.wait(TICK):
                        self._wake.clear()
                        if failure:
                            raise failure[0]
                        before = self._reached
                        self.catch_up()
                        if self._reached != before:
                            idle_since = time.monotonic()
                    elif idle_exit is not None and time.monotonic() - idle_since >= idle_exit:
                        return
            finally:
                subscription.stop()
        waker.join()


def register(commands: Any) -> None:
    worker = commands.add_parser(
        "worker",
        help="run the policies in this process, following the store's new events",
        description=(
            "Run the policies over the store's log: catch up, then wait for new events "
            "(PostgreSQL: LISTEN/NOTIFY; SQLite: polling every poll_interval seconds, a URL "
            "parameter, default 0.2) and decide about them. Every decision is recorded exactly "
            "once, together with the position it was decided at, so several workers may follow "
            "one store and a worker killed at any moment resumes where it stopped. "
            "SIGTERM or SIGINT: finish the events in hand and exit 0."
        ),
        epilog=exit_status_text()
        + (
            "\n0 once stopped (signal, --once, --idle-exit); 1 also when a policy version active "
            "in the store is not\nregistered here; 2 also for a memory:// store, which no other "
            "process can write to.\n"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_store_option(worker)
    add_policies_option(worker)
    worker.add_argument(
        "--once",
        action="store_true",
        help="catch up with the log, print one line (position reached, decisions), then exit",
    )
    worker.add_argument(
        "--idle-exit",
        type=seconds,
        metavar="SECONDS",
        help="exit once no new event has arrived for this long",
    )
    worker.add_argument(
        "-v", "--verbose", action="store_true", help="log each batch of decisions to stderr"
    )
    worker.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    log = _stderr if args.verbose else None
    url, _ = resolve_store(args.store)
    if url.scheme == "memory":
        print(
            "kam worker: a memory:// store lives inside one process; follow a store that "
            "others write to (sqlite:///… or postgresql://…)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    registry = registry_with(args.policies)
    with KamApplication(args.store, policies=registry, run_policies=False) as app:
        worker = Worker(app, log=log)

        def stop(signum: int, frame: FrameType | None) -> None:
            worker.stop()

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            if log is not None:
                names = ", ".join(registry.names()) or "no policies"
                log(f"kam worker: following {app.store_url} ({names})")
            if args.once:
                worker.catch_up()
            else:
                worker.serve(idle_exit=args.idle_exit)
        except PersistenceError as error:
            print(f"kam: store: {app.store_url.scrub(error)}", file=sys.stderr)
            return EXIT_REFUSED
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        position = app.policies.position
        if log is not None:
            log(f"kam worker: stopped at position {position}, {worker.decisions} decisions")
        if args.once:
            noun = "decision" if worker.decisions == 1 else "decisions"
            print(f"caught up to position {position}: {worker.decisions} {noun} recorded")
    return EXIT_OK


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, not {text!r}")
    return value


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
