"""The engine's tracking row is outside the chain: pushing it ahead must not make the policies
skip events silently."""

from __future__ import annotations

from pathlib import Path

from kam_domain import AccountStrategies, KamApplication, Tier
from tests.attacks.conftest import kam, rows, run, url


def test_events_after_a_tracking_row_pushed_ahead_are_still_decided(demo: Path) -> None:
    """A tracking row pushed ahead of the log does not make a worker skip new commands."""
    run(demo, "UPDATE tracking SET notification_id = 100000 WHERE application_name = 'kam.engine'")
    with KamApplication(url(demo, read_only=False), run_policies=False) as app:
        team_id = app.teams()[0].id if hasattr(app.teams()[0], "id") else app.teams()[0]
        team = app.get_team(team_id)
        director = next(m for m in app.members(team_id) if "director" in str(m.role).lower())
        account = app.register_account(
            team_id, director.member_id, name="Skipped Account", industry="x", region="y"
        )
        app.designate_key_account(
            account, director.member_id, tier=Tier.STANDARD,
            strategies=AccountStrategies("a", "b", "c", "d"),
        )  # fmt: skip
        assert team is not None
    worker = kam("worker", "--store", url(demo, read_only=False), "--once")
    assert worker.returncode == 0, worker.stderr
    with KamApplication(url(demo), run_policies=False, read_only=True) as app:
        assigned = app.get_account(account).kam_id
    replay = kam("replay", "--store", url(demo))
    [(tracked,)] = rows(
        demo, "SELECT notification_id FROM tracking WHERE application_name='kam.engine'"
    )
    assert assigned is not None or replay.returncode == 3, (tracked, replay.stdout[:300])
