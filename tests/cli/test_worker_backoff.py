"""``kam worker`` keeps following its store through failures: reported, backed off, resumed."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from eventsourcing.persistence import OperationalError

from kam_domain.application import KamApplication
from kam_domain.cli import worker as worker_module
from kam_domain.cli.worker import Worker


@pytest.fixture(name="app")
def fixture_app() -> Iterator[KamApplication]:
    """An application whose policies a worker runs."""
    app = KamApplication("memory://", run_policies=False)
    yield app
    app.close()


def test_a_store_failure_is_reported_and_the_worker_starts_over(
    app: KamApplication, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two failures are each reported with a doubling back-off; the third attempt follows on
    a fresh engine."""
    monkeypatch.setattr(worker_module, "BACKOFF", (0.01, 1.0))
    attempts: list[object] = []
    worker = Worker(app)

    def follow(idle_exit: float | None) -> None:
        attempts.append(app.policies)
        if len(attempts) < 3:
            raise OperationalError("connection lost")

    monkeypatch.setattr(worker, "_follow", follow)

    worker.serve()

    err = capsys.readouterr().err.splitlines()
    assert err == [
        "kam worker: store failed (connection lost); again in 0.01 s",
        "kam worker: store failed (connection lost); again in 0.02 s",
    ]
    assert len({id(engine) for engine in attempts}) == 3


def test_stopping_during_the_back_off_ends_the_worker(
    app: KamApplication, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stop while the worker waits to try again ends serve at once, with no new attempt."""
    monkeypatch.setattr(worker_module, "BACKOFF", (30.0, 30.0))
    attempts: list[int] = []
    worker = Worker(app)

    def follow(idle_exit: float | None) -> None:
        attempts.append(1)
        threading.Timer(0.05, worker.stop).start()
        raise OperationalError("connection lost")

    monkeypatch.setattr(worker, "_follow", follow)

    worker.serve()

    assert attempts == [1]
    assert "again in 30 s" in capsys.readouterr().err
