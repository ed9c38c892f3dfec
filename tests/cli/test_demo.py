"""`kam demo` builds the seed scenario once, deterministically, on every backend."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kam_domain.aggregates.project import DiscountOutcome
from kam_domain.aggregates.target import ScopeKind
from kam_domain.application import KamApplication
from kam_domain.cli import main
from kam_domain.demo import QUARTER, build_demo
from kam_domain.values import Role


@pytest.fixture(name="built")
def fixture_built(app: KamApplication) -> KamApplication:
    build_demo(app, seed=1)
    return app


def test_demo_builds_every_part_of_the_scenario(built: KamApplication) -> None:
    """Given an empty store, when the demo runs, then each part the seed describes is there."""
    (team,) = built.teams()
    accounts = built.accounts(team.id)
    projects = built.projects(team.id)
    requests = [r for p in projects for r in p.discount_requests.values()]
    decided = [r.decision for r in requests if r.decision is not None]
    targets = built.targets(team.id, QUARTER)

    assert {member.role for member in team.active_members()} == set(Role)
    assert len([a for a in accounts if a.is_key]) >= 20
    assert len({a.tier for a in accounts}) == 3
    assert len(projects) >= 6
    approver_roles = {
        d.credentials.role
        for d in decided
        if d.outcome is DiscountOutcome.APPROVED and d.credentials is not None
    }
    assert approver_roles == {
        Role.KEY_ACCOUNT_MANAGER,
        Role.PROJECT_DIRECTOR,
        Role.SALES_DIRECTOR,
        Role.SENIOR_SALES_DIRECTOR,
    }
    assert any(d.outcome is DiscountOutcome.REJECTED for d in decided)
    assert any(q.is_confirmed for p in projects for q in p.quotes.values())
    assert any(i.overdue_flagged_at for a in accounts for i in a.invoices.values())
    assert {t.scope.kind for t in targets} == set(ScopeKind)
    assert all(t.latest_evaluation is not None for t in targets)


def test_every_key_account_has_one_accountable_kam(built: KamApplication) -> None:
    """After the demo, every key account names an active KAM as accountable."""
    (team,) = built.teams()
    kams = {m.member_id for m in team.active_members(Role.KEY_ACCOUNT_MANAGER)}

    for account in built.accounts(team.id):
        assert account.accountable_kam in kams


def test_running_it_again_adds_nothing(built: KamApplication) -> None:
    """Given the demo in a store, when it runs again, then it says so and records nothing."""
    before = built.recorder.max_notification_id()

    summary = build_demo(built, seed=1)

    assert "already" in summary.lines[0]
    assert built.recorder.max_notification_id() == before


def test_same_seed_gives_the_same_record() -> None:
    """Two runs with one seed record the same events with the same ids and print the same."""
    first, second = KamApplication("memory://"), KamApplication("memory://")

    one, two = build_demo(first, seed=7), build_demo(second, seed=7)

    assert one.lines[1:] == two.lines[1:]
    ids = [
        [
            (n.originator_id, n.originator_version, n.topic)
            for n in app.recorder.select_notifications(start=None, limit=10_000)
        ]
        for app in (first, second)
    ]
    assert ids[0] == ids[1]


def test_another_seed_builds_a_second_team_beside_the_first(tmp_path: Path) -> None:
    """Seeds 1 and 2 can share a store without clashing names."""
    app = KamApplication(f"sqlite:///{tmp_path / 'kam.db'}")

    build_demo(app, seed=1)
    build_demo(app, seed=2)

    assert len(app.teams()) == 2
    app.close()


def test_cli_demo_prints_the_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`kam demo --store URL` exits 0 and prints the summary's sections."""
    code = main(["demo", "--store", f"sqlite:///{tmp_path / 'kam.db'}", "--seed", "3"])

    out = capsys.readouterr().out
    assert code == 0
    for section in ("Team:", "Key accounts:", "Projects:", "Collections:", "Cases:", "Targets"):
        assert section in out


def test_cli_reports_refusals_with_exit_status_1(capsys: pytest.CaptureFixture[str]) -> None:
    """A store URL with an unknown scheme exits 1 with the library's message."""
    code = main(["demo", "--store", "nosuch://x"])

    assert code == 1
    assert "no adapter for nosuch://" in capsys.readouterr().err


def test_kam_demo_help_explains_itself() -> None:
    """The installed `kam demo --help` describes the scenario and the options."""
    result = subprocess.run(
        [sys.executable, "-m", "kam_domain.cli", "demo", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )

    assert "--store URL" in result.stdout
    assert "--seed N" in result.stdout
    assert "key-account team with every role" in result.stdout
