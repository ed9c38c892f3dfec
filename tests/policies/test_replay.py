"""Replay re-runs the policies over the log: it reproduces every recorded decision, lists each
divergence, and shows what a candidate version would have decided differently."""

from __future__ import annotations

from typing import Any

import pytest

from kam_domain.application import KamApplication
from kam_domain.cli.replay import EXIT_DIVERGED
from kam_domain.cli.replay import run as replay_command
from kam_domain.policies import Decision, World
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.values import Actor, Money, Percentage, Tier
from tests.conftest import STRATEGIES, Org, build_org
from tests.policies.test_engine import Fragile, Noticer
from tests.support import unchanged


class ChangedNoticer(Noticer):
    """The same name and version as Noticer, but deciding differently: replay must notice."""

    def decide(self, event: Any, world: World) -> Decision | None:
        return Decision("flag", "changed behind the version's back", {"tier": "?"})


def designate(
    app: KamApplication,
    org: Org,
    name: str,
    industry: str = "telecom",
    region: str = "east",
    tier: Tier = Tier.MAJOR,
) -> Any:
    account = app.register_account(
        org.team_id, org.director, name=name, industry=industry, region=region
    )
    app.designate_key_account(account, org.director, tier=tier, strategies=STRATEGIES)
    return account


def busy_history(app: KamApplication, org: Org) -> None:
    """Key accounts, a KAM leaving, discount requests routed and decided, ticks."""
    accounts = [designate(app, org, f"Client {n}") for n in range(5)]
    project = app.initiate_project(
        accounts[0],
        org.director,
        name="Upgrade",
        currency="CNY",
        project_director_id=org.project_director,
    )
    app.set_price_band(
        project, org.senior, list_price=Money.of(1000, "CNY"), floor=Money.of(700, "CNY")
    )
    for pct in (3, 8, 15, 25):
        app.request_discount(
            project, org.project_director, percentage=Percentage.of(pct), justification="rival"
        )
    app.remove_member(org.team_id, org.senior, org.kam2, reason="left")
    app.tick(Actor.system("clock"))


def test_the_built_in_policies_reproduce_their_decisions(store: str) -> None:
    """Given a history the built-in policies decided, replay finds no divergence."""
    app = KamApplication(store)
    org = build_org(app)
    busy_history(app, org)

    report = app.replay()

    assert report.decisions >= len(app.decisions())
    assert report.reproduced, [d.describe() for d in report.divergences]
    app.close()


def test_a_policy_changed_under_the_same_version_diverges(store: str) -> None:
    """Decisions recorded by one implementation do not replay under a changed one."""
    app = KamApplication(store, policies=PolicyRegistry([Noticer]))
    org = build_org(app)
    designate(app, org, "Acme")
    designate(app, org, "Beta")
    app.policies = type(app.policies)(app, PolicyRegistry([ChangedNoticer]))

    report = app.replay()

    assert [d.kind for d in report.divergences] == ["different", "different"]
    (first, _) = report.divergences
    assert first.policy == "noticer"
    assert first.subject == "ClientAccount.KeyAccountDesignated: Acme"
    assert ("tier", "major", "?") in first.inputs
    app.close()


def test_parked_and_retried_events_replay_at_their_retry(store: str) -> None:
    """A parked event still raises at its position, and its retry reproduces where it ran."""
    Fragile.fixed = False
    app = KamApplication(store, policies=PolicyRegistry([Fragile]))
    org = build_org(app)
    designate(app, org, "Poison Pill Ltd")
    designate(app, org, "Healthy Co")
    designate(app, org, "Poison Again")
    Fragile.fixed = True
    app.retry_dead_letters()

    report = app.replay()

    assert report.reproduced, [d.describe() for d in report.divergences]
    assert report.decisions == 3  # the retried ones compared where they were retried
    Fragile.fixed = False
    app.close()


def test_what_if_lists_the_accounts_a_candidate_would_assign_differently(store: str) -> None:
    """Assignment v2 prefers a KAM serving the same industry: what-if names those accounts."""
    app = KamApplication(store)
    org = build_org(app)
    designate(app, org, "Steel One", industry="steel", region="east")
    designate(app, org, "Telecom One", industry="telecom", region="north", tier=Tier.STANDARD)
    # v1: Chen has the lower load; v2: Li already serves the steel industry.
    designate(app, org, "Steel Two", industry="steel", region="west")

    plain = app.replay(policies={"assignment"})
    candidate = app.replay(what_if={"assignment": 2})

    assert plain.reproduced
    assert not candidate.reproduced
    assert {d.subject for d in candidate.divergences} == {
        "ClientAccount.KeyAccountDesignated: Steel Two"
    }
    assert all(d.kind == "different" for d in candidate.divergences)
    app.close()


def test_replay_names_unknown_versions() -> None:
    """Replaying a version nobody registered is refused before anything is read."""
    app = KamApplication("memory://")

    with unchanged(app), pytest.raises(Exception, match="assignment@9"):
        app.replay(versions={"assignment": 9})
    app.close()


def test_kam_replay_exit_status_says_whether_history_reproduces(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """`kam replay` exits 0 when everything reproduces; a what-if prints what would differ."""
    store = f"sqlite:///{tmp_path / 'kam.db'}"
    app = KamApplication(store)
    org = build_org(app)
    busy_history(app, org)
    app.close()

    reproduced = replay_command(_args(store))
    what_if = replay_command(_args(store, what_if=["assignment@2"]))

    out = capsys.readouterr().out
    assert reproduced == 0
    assert what_if == 0
    assert "0 diverged" in out
    assert EXIT_DIVERGED == 3


def _args(store: str, **overrides: Any) -> Any:
    import argparse

    values = {"store": store, "policy": [], "what_if": [], "format": "table", "scratch": False}
    values.update(overrides)
    return argparse.Namespace(**values)
