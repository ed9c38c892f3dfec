"""`kam demo` builds the seed scenario once, deterministically, on every backend."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kam_domain.aggregates.project import DiscountOutcome
from kam_domain.aggregates.target import ScopeKind
from kam_domain.application import KamApplication
from kam_domain.cli import main
from kam_domain.demo import QUARTER, build_demo
from kam_domain.errors import InvalidTransition
from kam_domain.values import Actor, Role
from tests import postgres_server
from tests.conftest import BACKENDS, store_url
from tests.support import unchanged


@pytest.fixture(name="built", scope="module", params=BACKENDS)
def fixture_built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KamApplication]:
    """The demo built once per backend, with the built-in policies deciding, as `kam demo` does."""
    store = store_url(request.param, tmp_path_factory.mktemp("demo"))
    app = KamApplication(store)
    build_demo(app, seed=1)
    yield app
    app.close()
    if request.param == "postgres":
        postgres_server.drop_schema(store)


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


def test_the_policies_decide_what_they_are_for(built: KamApplication) -> None:
    """Assignment, routing, collections, escalation, evaluation and flags come from policies."""
    (team,) = built.teams()
    decisions = built.decisions()
    policies = {d.policy for d in decisions}
    accounts = built.accounts(team.id)

    assert policies >= {
        "assignment",
        "price_approval",
        "collections",
        "case_escalation",
        "evaluation",
        "coverage",
        "target_decomposition",
    }
    assert all(a.assignment_history[0].decided_by == "policy:assignment@1" for a in accounts)
    assert all(d.refusal is None for d in decisions if d.policy != "target_decomposition")
    assert built.dead_letters() == []
    escalated = [c for a in accounts for c in a.cases.values() if c.escalation_level]
    assert escalated
    evaluated_by = {
        t.latest_evaluation.evaluated_by
        for t in built.targets(team.id, QUARTER)
        if t.latest_evaluation is not None
    }
    assert evaluated_by == {Actor.policy("evaluation", 1)}


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
    assert "seed 7" in one.lines[0]

    assert one.lines[1:] == two.lines[1:]
    ids = [
        [
            (n.originator_id, n.originator_version, n.topic)
            for n in app.recorder.select_notifications(start=None, limit=10_000)
        ]
        for app in (first, second)
    ]
    assert ids[0] == ids[1]


def test_another_quarter_cannot_be_replayed_into_a_store_past_it(built: KamApplication) -> None:
    """A second seed in a store whose recorded time is past the quarter is refused, cleanly."""
    with unchanged(built), pytest.raises(InvalidTransition, match="new store"):
        build_demo(built, seed=2)

    assert len(built.teams()) == 1


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


def test_the_demo_store_replays_without_divergence(built: KamApplication) -> None:
    """Re-running the policies over the demo's history reproduces every recorded decision."""
    report = built.replay()

    assert report.decisions >= len(built.decisions())
    assert report.reproduced, [d.describe() for d in report.divergences]
