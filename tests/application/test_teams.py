"""The facade's team commands, on every backend."""

from __future__ import annotations

from kam_domain.application import KamApplication
from kam_domain.values import Role
from tests.conftest import Org


def test_org_fixture_gives_every_role_its_authority(app: KamApplication, org: Org) -> None:
    """Given the standard team, each approver holds the authority it was granted."""
    limits = {
        member: app.credentials(org.team_id, member).discount_authority
        for member in (org.kam, org.project_director, org.director, org.senior)
    }

    assert [str(limit) for limit in limits.values()] == ["5%", "10%", "20%", "30%"]
    assert app.credentials(org.team_id, org.rep).role is Role.KEY_ACCOUNT_REPRESENTATIVE
