"""A policy written outside the library: installed by entry point, tested, versioned, activated.

The package in tests/policies/example is what docs/policies.md walks through; here its
distribution's metadata is put on ``sys.path`` so the ``kam_domain.policies`` entry-point group
finds it, exactly as ``pip install`` would.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from kam_domain import ClientAccount, KamApplication, Money, Percentage, Project, Role, Tier
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.testing.policies import PolicyScenario
from kam_domain.values import AccountId, Actor, DiscountRequestId, ProjectId
from tests.conftest import STRATEGIES, Org, build_org
from tests.policies.example.strategic_discounts import EscalateToDirectors, StrategicDiscounts
from tests.support import creds, meta

ENTRY_POINTS = """\
[kam_domain.policies]
strategic_discounts = tests.policies.example.strategic_discounts:StrategicDiscounts
strategic_discounts_v2 = tests.policies.example.strategic_discounts:StrategicDiscountsV2
"""


@pytest.fixture(name="installed")
def fixture_installed() -> Iterator[None]:
    """The example distribution, installed by putting its metadata on ``sys.path``."""
    root = Path(tempfile.mkdtemp(prefix="kam-example-policy-"))
    info = root / "kam_strategic_discounts-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: kam-strategic-discounts\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    sys.path.append(str(root))
    yield
    sys.path.remove(str(root))
    shutil.rmtree(root, ignore_errors=True)


def project_for(app: KamApplication, org: Org, tier: Tier) -> UUID:
    account = app.register_account(
        org.team_id, org.director, name=f"{tier.value} client", industry="x", region="y"
    )
    app.designate_key_account(account, org.director, tier=tier, strategies=STRATEGIES)
    project: UUID = app.initiate_project(
        account,
        org.director,
        name="Upgrade",
        currency="CNY",
        project_director_id=org.project_director,
    )
    app.set_price_band(
        project, org.senior, list_price=Money.of(1000, "CNY"), floor=Money.of(700, "CNY")
    )
    return project


def request(app: KamApplication, project: UUID, org: Org, pct: int) -> Role | None:
    request_id = app.request_discount(
        project, org.kam, percentage=Percentage.of(pct), justification="competing offer"
    )
    return app.get_project(project).discount_requests[request_id].escalated_to


def test_without_the_package_the_policy_is_not_there() -> None:
    """Until its distribution is installed, the registry does not know the policy."""
    assert "strategic_discounts" not in PolicyRegistry.default()


@pytest.mark.usefixtures("installed")
def test_installed_policy_runs_beside_the_built_in_ones(store: str) -> None:
    """Installed, it routes deep discounts on strategic accounts to the sales directors."""
    app = KamApplication(store)
    org = build_org(app)
    strategic = project_for(app, org, Tier.STRATEGIC)
    standard = project_for(app, org, Tier.STANDARD)

    assert "strategic_discounts" in app.policies.registry
    assert request(app, strategic, org, 9) is Role.SALES_DIRECTOR
    assert request(app, standard, org, 9) is Role.PROJECT_DIRECTOR
    assert request(app, strategic, org, 4) is None  # within the KAM's own 5 %: approved
    (decision,) = app.decisions("strategic_discounts")
    assert decision.inputs["threshold"] == "8%"
    app.close()


@pytest.mark.usefixtures("installed")
def test_version_2_decides_once_activated(store: str) -> None:
    """Activating version 2 (a recorded event) makes 5 % the threshold from then on."""
    app = KamApplication(store)
    org = build_org(app)
    project = project_for(app, org, Tier.STRATEGIC)

    before = request(app, project, org, 6)
    app.activate_policy_version(
        "strategic_discounts", 2, Actor.system("company"), reason="tighter control"
    )
    after = request(app, project, org, 6)

    assert (before, after) == (Role.PROJECT_DIRECTOR, Role.SALES_DIRECTOR)
    assert [d.version for d in app.decisions("strategic_discounts")] == [2]
    app.close()


def test_the_policy_is_tested_given_when_then() -> None:
    """Given a strategic account's priced project, when 12 % is requested, then escalate."""
    director = creds(Role.SALES_DIRECTOR, authority=20)
    team = director.team_id
    kam = creds(Role.KEY_ACCOUNT_MANAGER, authority=5, team_id=team)
    pd = creds(Role.PROJECT_DIRECTOR, authority=30, team_id=team)
    account = ClientAccount.register(
        meta(director),
        director,
        AccountId(uuid4()),
        team_id=team,
        name="Acme",
        industry="x",
        region="y",
    )
    account.designate_key(meta(director), director, tier=Tier.STRATEGIC, strategies=STRATEGIES)
    project = Project.initiate(
        meta(director),
        director,
        ProjectId(uuid4()),
        team_id=team,
        account_id=account.id,
        name="Upgrade",
        currency="CNY",
        project_director=pd,
    )
    project.set_price_band(
        meta(pd), pd, list_price=Money.of(1000, "CNY"), floor=Money.of(700, "CNY")
    )
    scenario = PolicyScenario(StrategicDiscounts()).given_records(account, project)
    project.request_discount(
        meta(kam),
        kam,
        DiscountRequestId(uuid4()),
        percentage=Percentage.of(12),
        justification="competing offer",
    )

    decision = scenario.when(*project.collect_events())

    assert decision is not None
    assert decision.outcome == "escalate sales_director"
    assert decision.inputs["tier"] == "strategic"
    assert [type(action) for action in decision.actions] == [EscalateToDirectors]
