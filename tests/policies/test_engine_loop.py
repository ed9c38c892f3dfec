"""The engine looks up each policy's active version once per change of its settings, not at every
event, and still refuses an unregistered version at the event that activated it."""

from __future__ import annotations

from pathlib import Path

import pytest

from kam_domain.errors import KamDomainError
from kam_domain.values import Actor
from tests.conftest import build_org
from tests.policies.test_engine import Fragile, Noticer, NoticerV2, app_with, designate


def test_an_engine_without_the_active_version_stops_at_its_activation(tmp_path: Path) -> None:
    """Given a log where noticer@2 is activated between two designations, when an engine that
    knows only noticer@1 follows it, then it decides up to the activation and stops there with
    the refusal, the other policies included."""
    store = f"sqlite:///{tmp_path / 'kam.db'}"
    writer = app_with(store, Noticer, NoticerV2, Fragile, run=False)
    org = build_org(writer)
    designate(writer, org, "Before")
    writer.activate_policy_version("noticer", 2, Actor.system("company"), reason="clearer")
    designate(writer, org, "After")
    writer.close()
    follower = app_with(store, Noticer, Fragile, run=False)

    with pytest.raises(KamDomainError, match="noticer@2 is active in the store but not registered"):
        follower.run_policies()

    assert [d.outcome for d in follower.decisions("noticer")] == ["flag"]
    assert [d.outcome for d in follower.decisions("fragile")] == ["ok"]
    follower.close()


def test_a_version_activated_midway_decides_from_the_next_event(store: str) -> None:
    """Given an engine following the log, when a version is activated between two events it
    handles, then the earlier event is decided by the old version and the later by the new."""
    app = app_with(store, Noticer, NoticerV2, run=False)
    org = build_org(app)
    designate(app, org, "Before")
    app.activate_policy_version("noticer", 2, Actor.system("company"), reason="clearer")
    designate(app, org, "After")

    app.run_policies()

    assert [(d.version, d.outcome) for d in app.decisions("noticer")] == [
        (1, "flag"),
        (2, "flag v2"),
    ]
    app.close()
