"""Fixtures shared by the suite: applications on every backend, hypothesis profiles."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from kam_domain.aggregates.client_account import AccountStrategies
from kam_domain.application import KamApplication
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.values import AccountId, MemberId, Percentage, Role, TeamId, Tier
from tests import postgres_server
from tests.support import T0

settings.register_profile(
    "default", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

BACKENDS = ["memory", "sqlite", "postgres"]


def store_url(backend: str, tmp_path: Path) -> str:
    """A fresh, empty store of ``backend`` for one test."""
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'kam.db'}"
    if backend == "postgres":
        # A schema per test; skips without a server (checked once per run), unless
        # KAM_REQUIRE_POSTGRES=1, where it fails.
        return postgres_server.fresh_store_url()
    raise AssertionError(backend)


@pytest.fixture(name="backend", params=BACKENDS)
def fixture_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextmanager
def fresh_store(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store of ``backend``; a PostgreSQL one's schema is dropped afterwards."""
    url = store_url(backend, tmp_path)
    try:
        yield url
    finally:
        if backend == "postgres":
            postgres_server.drop_schema(url)


@pytest.fixture(name="store")
def fixture_store(backend: str, tmp_path: Path) -> Iterator[str]:
    with fresh_store(backend, tmp_path) as url:
        yield url


@pytest.fixture(name="app")
def fixture_app(store: str) -> Iterator[KamApplication]:
    """An application without policies, so that a test decides every step itself."""
    app = KamApplication(store, policies=PolicyRegistry())
    yield app
    app.close()


@dataclass(frozen=True)
class Org:
    """A formed team with one member in each role and authorities 5 / 10 / 20 / 30 %."""

    team_id: TeamId
    senior: MemberId  # senior sales director, 30 %
    director: MemberId  # sales director, 20 %, supervises the KAMs
    kam: MemberId  # key account manager, 5 %
    kam2: MemberId  # second key account manager, 5 %
    rep: MemberId  # key account representative, no authority
    project_director: MemberId  # 10 %
    admin: MemberId  # senior admin manager
    finance: MemberId  # financial planner
    support: MemberId  # technical support


def build_org(app: KamApplication) -> Org:
    """Form the standard test team on ``app`` (all at support.T0)."""
    team_id, senior = app.form_team(
        name="East key accounts",
        segment="telecom",
        region="east",
        director_name="Wang Senior",
        top_authority=Percentage.of(30),
        at=T0,
    )

    def add(name: str, role: Role, supervisor: MemberId | None = None) -> MemberId:
        return app.add_member(
            team_id, senior, name=name, role=role, supervisor_id=supervisor, at=T0
        )

    director = add("Zhao Director", Role.SALES_DIRECTOR)
    kam = add("Li Manager", Role.KEY_ACCOUNT_MANAGER, director)
    kam2 = add("Chen Manager", Role.KEY_ACCOUNT_MANAGER, director)
    rep = add("Sun Representative", Role.KEY_ACCOUNT_REPRESENTATIVE, kam)
    project_director = add("Zhou Project", Role.PROJECT_DIRECTOR, director)
    admin = add("Wu Admin", Role.SENIOR_ADMIN_MANAGER)
    finance = add("Zheng Finance", Role.FINANCIAL_PLANNER)
    support = add("Feng Support", Role.TECHNICAL_SUPPORT)
    for member, limit in ((director, 20), (project_director, 10), (kam, 5), (kam2, 5)):
        app.grant_authority(team_id, senior, member, max_discount=Percentage.of(limit), at=T0)
    return Org(team_id, senior, director, kam, kam2, rep, project_director, admin, finance, support)


@pytest.fixture(name="org")
def fixture_org(app: KamApplication) -> Org:
    return build_org(app)


STRATEGIES = AccountStrategies(
    market="grow share in the province",
    client="executive sponsorship",
    marketing="joint industry events",
    competitive="bundle services the rivals lack",
)


def key_account(
    app: KamApplication,
    org: Org,
    name: str = "Acme Telecom",
    *,
    kam: MemberId | None = None,
    tier: Tier = Tier.MAJOR,
    when: datetime = T0,
) -> AccountId:
    """Register ``name`` for the org's team, designate it key and make ``kam`` accountable."""
    account_id = app.register_account(
        org.team_id, org.director, name=name, industry="telecom", region="east", at=when
    )
    app.designate_key_account(account_id, org.director, tier=tier, strategies=STRATEGIES, at=when)
    kam = kam or org.kam
    # With the assignment policy running, it may already have picked this KAM.
    if app.get_account(account_id).accountable_kam != kam:
        app.assign_kam(account_id, org.director, kam, reason="covers the region", at=when)
    return account_id


@pytest.fixture(name="demo_db", scope="session")
def fixture_demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file holding the demo (seed 1), built once per run: copy it before writing."""
    from kam_domain.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "kam.db"
    with KamApplication(f"sqlite:///{path}") as app:
        build_demo(app)
    return path
