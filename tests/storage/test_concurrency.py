"""Several OS processes writing to one store at once: no event lost, none duplicated."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest

from kam_domain.aggregates.team import Team
from kam_domain.application import KamApplication
from kam_domain.values import Percentage, Role
from tests.conftest import fresh_store
from tests.storage import workers

WORKERS = 4
COMMANDS = 250


@pytest.fixture(name="shared_store", params=["sqlite", "postgres"])
def fixture_shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """One SQLite file, or one PostgreSQL schema, for all the writer processes."""
    with fresh_store(request.param, tmp_path) as url:
        yield url


def test_four_writer_processes_lose_and_duplicate_no_event(shared_store: str) -> None:
    """4 processes x 250 commands, conflicts retried: the store holds exactly their events."""
    app = KamApplication(shared_store)
    team_id, director = app.form_team(
        name="Shared team",
        segment="load",
        region="test",
        director_name="Load Director",
        top_authority=Percentage.of(30),
    )
    kams = [
        app.add_member(team_id, director, name=f"KAM {n}", role=Role.KEY_ACCOUNT_MANAGER)
        for n in range(WORKERS)
    ]
    version_before = app.get_team(team_id).version
    events_before = len(notifications(app))
    app.close()

    context = multiprocessing.get_context("spawn")
    with context.Pool(WORKERS) as pool:
        reports = pool.starmap(
            workers.write,
            [(shared_store, team_id, director, kam, COMMANDS) for kam in kams],
        )

    app = KamApplication(shared_store)
    capacity_sets = COMMANDS - COMMANDS // workers.FORM_EVERY
    teams_formed = WORKERS * (COMMANDS // workers.FORM_EVERY)
    assert [r["capacity_sets"] for r in reports] == [capacity_sets] * WORKERS
    team = app.get_team(team_id)
    assert team.version == version_before + WORKERS * capacity_sets, reports
    for kam in kams:
        assert capacities(app, team_id, kam) == list(range(1, capacity_sets + 1))
    teams = app.teams()
    assert len(teams) == 1 + teams_formed
    assert len({t.name for t in teams}) == len(teams)
    assert all(t.version == 3 for t in teams if t.id != team_id)
    # Each new team: three events of its own and one directory listing.
    stored = notifications(app)
    assert len(stored) == events_before + WORKERS * capacity_sets + teams_formed * 4
    assert len({(n.originator_id, n.originator_version) for n in stored}) == len(stored)
    app.close()


def notifications(app: KamApplication) -> list[object]:
    return list(app.recorder.select_notifications(start=None, limit=1_000_000))


def capacities(app: KamApplication, team_id: object, member: object) -> list[int]:
    return [
        event.capacity
        for event in app.events.get(team_id)  # type: ignore[arg-type]
        if isinstance(event, Team.CapacitySet) and event.member_id == member
    ]
