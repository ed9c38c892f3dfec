"""Faults at the storage edge: each is a named error that names the store, never a password,
and leaves nothing half-written."""

from __future__ import annotations

import multiprocessing
import os
import socket
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from kam_domain.application import KamApplication
from kam_domain.errors import KamDomainError, StoreUnavailable
from kam_domain.values import Percentage, Role
from tests import postgres_server
from tests.storage import workers
from tests.storage.fake_postgres import PasswordRefusingServer

PASSWORD = "Correct-Horse-7e1f"


def form(app: KamApplication, name: str = "East key accounts") -> tuple[Any, Any]:
    return app.form_team(
        name=name, segment="telecom", region="east", director_name="Wang", top_authority=pct()
    )


def pct() -> Percentage:
    return Percentage.of(10)


def sqlite_events(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])


def messages(error: BaseException) -> Iterator[str]:
    """The text of an error and of every error it was raised from or during."""
    seen: BaseException | None = error
    while seen is not None:
        yield str(seen)
        seen = seen.__cause__ or seen.__context__


# -- SQLite --------------------------------------------------------------------------------------


def test_missing_folder_is_store_unavailable_naming_the_store(tmp_path: Path) -> None:
    """A database path in a folder that does not exist is refused before anything is made."""
    url = f"sqlite:///{tmp_path}/no/such/folder/kam.db"

    with pytest.raises(StoreUnavailable, match="does not exist") as caught:
        KamApplication(url)

    assert url in str(caught.value)
    assert not (tmp_path / "no").exists()


def test_read_only_store_answers_queries_and_refuses_commands(tmp_path: Path) -> None:
    """Opened with mode=ro, the file serves queries; a command fails and writes nothing."""
    path = tmp_path / "kam.db"
    writer = KamApplication(f"sqlite:///{path}")
    form(writer)
    writer.close()
    before = sqlite_events(path)

    reader = KamApplication(f"sqlite:///{path}?mode=ro")
    names = [team.name for team in reader.teams()]
    with pytest.raises(StoreUnavailable, match="readonly") as caught:
        form(reader, "Second team")
    reader.close()

    assert names == ["East key accounts"]
    assert f"sqlite:///{path}?mode=ro" in str(caught.value)
    assert sqlite_events(path) == before


def test_file_the_process_may_not_write_is_store_unavailable() -> None:
    """A database file without write permission for the process is StoreUnavailable."""
    folder = Path(tempfile.mkdtemp(prefix="kam-readonly-"))
    path = folder / "kam.db"
    try:
        writer = KamApplication(f"sqlite:///{path}")
        form(writer)
        writer.close()
        before = sqlite_events(path)
        folder.chmod(0o755)
        path.chmod(0o644)

        error_name, message = open_without_write_permission(f"sqlite:///{path}", folder, path)

        assert error_name == "StoreUnavailable"
        assert str(path) in message
        assert sqlite_events(path) == before
    finally:
        folder.chmod(0o755)
        for child in folder.iterdir():
            child.unlink()
        folder.rmdir()


def open_without_write_permission(url: str, folder: Path, path: Path) -> tuple[str, str]:
    """Try to write to ``url`` as a process that may only read the file and its folder."""
    if os.geteuid() == 0:
        # Root writes anyway; a spawned child drops to 'nobody' once Python has started.
        context = multiprocessing.get_context("spawn")
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=workers.open_as_nobody, args=(url, sender))
        child.start()
        child.join(timeout=60)
        assert receiver.poll(1), "the child process sent no result"
        result: tuple[str, str] = receiver.recv()
        return result
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        app = KamApplication(url)
        try:
            form(app, "Should not land")
        finally:
            app.close()
    except KamDomainError as error:
        return type(error).__name__, str(error)
    return "nothing raised", ""


def test_file_that_is_not_a_database_is_store_unavailable(tmp_path: Path) -> None:
    """Opening some other kind of file as the store fails as StoreUnavailable."""
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are meeting notes, not a database " * 100)

    with pytest.raises(StoreUnavailable, match="not a database"):
        KamApplication(f"sqlite:///{path}")


def test_busy_database_fails_the_command_and_writes_nothing(tmp_path: Path) -> None:
    """When another writer holds the file past the lock timeout, the command fails cleanly."""
    path = tmp_path / "kam.db"
    app = KamApplication(f"sqlite:///{path}?lock_timeout=1")
    team_id, director = form(app)
    before = sqlite_events(path)

    with closing(sqlite3.connect(path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreUnavailable, match="locked"):
            app.add_member(team_id, director, name="Blocked", role=Role.KEY_ACCOUNT_MANAGER)
        other.execute("ROLLBACK")
    after_failure = sqlite_events(path)
    app.add_member(team_id, director, name="Later", role=Role.KEY_ACCOUNT_MANAGER)

    assert after_failure == before
    assert [m.name for m in app.members(team_id)] == ["Wang", "Later"]
    app.close()


# -- PostgreSQL without a server ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_server_is_store_unavailable_at_once() -> None:
    """Nothing listening: StoreUnavailable within seconds, naming the store, not the password."""
    postgres_server.require_driver()
    url = f"postgresql://kam:{PASSWORD}@127.0.0.1:{free_port()}/kam"
    started = time.monotonic()

    with pytest.raises(StoreUnavailable) as caught:
        KamApplication(url)

    assert time.monotonic() - started < 5
    assert "postgresql://kam:***@127.0.0.1:" in str(caught.value)
    assert "refused" in str(caught.value)
    assert all(PASSWORD not in text for text in messages(caught.value))


def test_wrong_password_is_store_unavailable_without_the_password() -> None:
    """A refused password is reported with the server's reason, never the password itself."""
    postgres_server.require_driver()
    with PasswordRefusingServer() as server:
        url = f"postgresql://kam:{PASSWORD}@127.0.0.1:{server.port}/kam"

        with pytest.raises(StoreUnavailable) as caught:
            KamApplication(url)

    assert PASSWORD in server.passwords
    assert 'password authentication failed for user "kam"' in str(caught.value)
    assert f"postgresql://kam:***@127.0.0.1:{server.port}/kam" in str(caught.value)
    assert all(PASSWORD not in text for text in messages(caught.value))
    assert PASSWORD not in repr(caught.value)


# -- PostgreSQL on the test server --------------------------------------------------------------


def test_missing_database_is_store_unavailable_naming_it() -> None:
    """A database that does not exist on the server is StoreUnavailable naming it."""
    base = postgres_server.require_server()
    url = base.rsplit("/", 1)[0] + "/kam_no_such_database"

    with pytest.raises(StoreUnavailable, match='"kam_no_such_database" does not exist') as caught:
        KamApplication(url)

    assert "kam_no_such_database" in str(caught.value)


def with_password(url: str) -> str:
    # The local test server trusts loopback connections, so any password is accepted.
    scheme, rest = url.split("://", 1)
    user, host = rest.split("@", 1)
    return f"{scheme}://{user.split(':')[0]}:{PASSWORD}@{host}"


def events_in(url: str, app: KamApplication) -> int:
    schema = postgres_server.schema_of(url)
    table = app.recorder.events_table_name  # type: ignore[attr-defined]
    with postgres_server.connect(url) as conn:
        row = conn.execute(f'SELECT COUNT(*) FROM "{schema}"."{table}"').fetchone()
    return int(row[0])


def in_thread(command: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(command())
        except BaseException as error:  # inspected by the test
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def waiting_writer(admin: Any, schema: str, timeout: float = 10) -> int | None:
    """The pid of the store's backend that waits for a lock, once there is one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = admin.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE application_name = %s AND wait_event_type = 'Lock'",
            (f"kam-domain/{schema}",),
        ).fetchone()
        if row is not None:
            return int(row[0])
        time.sleep(0.02)
    return None


def lock_events_table(conn: Any, schema: str, app: KamApplication) -> None:
    table = app.recorder.events_table_name  # type: ignore[attr-defined]
    conn.execute(f'LOCK TABLE "{schema}"."{table}" IN EXCLUSIVE MODE')


def test_connection_dropped_mid_transaction_is_retried_and_lands_once(pg_store: str) -> None:
    """A writer's connection killed inside its transaction: the retry lands, exactly once."""
    url = with_password(pg_store)
    schema = postgres_server.schema_of(url)
    app = KamApplication(url)
    team_id, director = form(app)
    before = events_in(url, app)

    with postgres_server.connect(url) as admin, postgres_server.connect(url) as locker:
        with locker.transaction():
            lock_events_table(locker, schema, app)
            thread, outcome = in_thread(
                lambda: app.add_member(
                    team_id, director, name="Wen Dropped", role=Role.KEY_ACCOUNT_MANAGER
                )
            )
            pid = waiting_writer(admin, schema)
            assert pid is not None, "the command never reached its write"
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        thread.join(timeout=30)

    assert not isinstance(outcome[0], BaseException), outcome
    assert events_in(url, app) == before + 1
    assert [m.name for m in app.members(team_id)] == ["Wang", "Wen Dropped"]
    app.close()


def test_connection_dropped_on_every_attempt_fails_cleanly(pg_store: str) -> None:
    """Killed on every retry: StoreUnavailable naming the store, nothing written, store usable."""
    url = with_password(pg_store)
    schema = postgres_server.schema_of(url)
    app = KamApplication(url)
    team_id, director = form(app)
    before = events_in(url, app)

    with postgres_server.connect(url) as admin, postgres_server.connect(url) as locker:
        with locker.transaction():
            lock_events_table(locker, schema, app)
            thread, outcome = in_thread(
                lambda: app.add_member(
                    team_id, director, name="Never Lands", role=Role.KEY_ACCOUNT_MANAGER
                )
            )
            # Kill each connection the writer waits on, until it gives up; a backend being
            # terminated can still be listed for a moment, so count distinct ones.
            killed: set[int] = set()
            deadline = time.monotonic() + 60
            while thread.is_alive() and time.monotonic() < deadline:
                pid = waiting_writer(admin, schema, timeout=2)
                if pid is not None and pid not in killed:
                    admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
                    killed.add(pid)
            thread.join(timeout=5)
        error = outcome[0]
        assert isinstance(error, StoreUnavailable), error
        assert events_in(url, app) == before

    app.add_member(team_id, director, name="After", role=Role.KEY_ACCOUNT_MANAGER)

    assert len(killed) >= 2
    assert str(app.store_url) in str(error)
    assert all(PASSWORD not in text for text in messages(error))
    assert [m.name for m in app.members(team_id)] == ["Wang", "After"]
    app.close()
