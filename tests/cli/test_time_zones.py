"""The command line prints a zoned team's times on its wall clock, with their offset."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kam_domain.aggregates.target import RevenueGoal, TargetScope
from kam_domain.application import KamApplication
from kam_domain.cli import main
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.values import Money, Period
from tests.conftest import build_org
from tests.support import T0

Q2 = Period(2026, 2)


@pytest.fixture(name="store")
def fixture_store(tmp_path: Path) -> tuple[str, str]:
    """A store whose only team keeps Asia/Shanghai, with a Q2 target; the target's id."""
    url = f"sqlite:///{tmp_path / 'kam.db'}"
    with KamApplication(url, policies=PolicyRegistry()) as app:
        org = build_org(app)
        app.set_time_zone(org.team_id, org.senior, "Asia/Shanghai", effective_from=T0, at=T0)
        target_id = app.set_target(
            org.team_id,
            org.director,
            scope=TargetScope.member(org.kam),
            period=Q2,
            goals=(RevenueGoal(Money.of(1000, "CNY")),),
            at=T0,
        )
        app.close_target_period(
            target_id, org.director, at=datetime(2026, 6, 30, 17, 0, tzinfo=UTC)
        )
    return url, str(target_id)


def test_show_target_prints_its_periods_local_bounds(
    store: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a Shanghai team's target, ``kam show`` prints its period's bounds and its close
    in Shanghai time with +08:00 (stored times stay UTC)."""
    url, target_id = store

    status = main(["show", "target", target_id, "--format", "json", "--store", url])

    assert status == 0
    fields = json.loads(capsys.readouterr().out)["fields"]
    assert fields["time_zone"] == "Asia/Shanghai"
    assert fields["period_starts"] == "2026-04-01T00:00:00+08:00"
    assert fields["period_ends"] == "2026-07-01T00:00:00+08:00"
    assert fields["closed_at_local"] == "2026-07-01T01:00:00+08:00"
    assert fields["closed_at"].startswith("2026-06-30T17:00:00")


def test_closing_a_period_early_names_the_local_end(
    store: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A Q2 close before Shanghai's midnight exits 1 and names the end with +08:00."""
    url, _ = store

    status = main(["clock", "close-period", "2026-Q2", "--at", "2026-06-30T15:00Z", "--store", url])

    assert status == 1
    assert "2026-Q2 runs until 2026-07-01T00:00:00+08:00" in capsys.readouterr().err
