"""The one authorisation guard: every command of every aggregate that takes the actor's
credentials refuses credentials that are not the actor's, of another team, of a member who has
left, or none from a member, with one exception per condition and nothing recorded."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from kam_domain.aggregates.base import KamAggregate, guarded_commands
from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.opportunity import (
    DEFAULT_PROBABILITIES,
    Opportunity,
    PipelineSettings,
)
from kam_domain.aggregates.project import Project
from kam_domain.aggregates.target import RevenueGoal, Target, TargetScope
from kam_domain.aggregates.team import Team
from kam_domain.application import KamApplication
from kam_domain.errors import (
    GrantBeyondTopAuthority,
    MemberInactive,
    NotOnTeam,
    NotYourCredentials,
    PolicyImpersonation,
    RoleRequired,
    ValidationError,
)
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.values import Actor, Money, Percentage, Period, TeamId
from tests.aggregates.who_may import commands_of
from tests.conftest import Org, build_org, key_account
from tests.support import at, meta, unchanged

AGGREGATES: tuple[type[KamAggregate], ...] = (
    Team,
    ClientAccount,
    Project,
    Target,
    Opportunity,
    PipelineSettings,
)

#: Commands that take no credentials: the company's own (a system actor), checked by them.
CREDENTIAL_FREE = {("Team", "form"), ("Team", "set_top_authority")}


def commands() -> Iterator[tuple[type[KamAggregate], str]]:
    """Every public method of every aggregate that takes command metadata, from its bases too."""
    for cls in AGGREGATES:
        for name in commands_of(cls):
            yield cls, name


ALL_COMMANDS = sorted(commands(), key=lambda item: (item[0].__name__, item[1]))
GUARDED = [item for item in ALL_COMMANDS if (item[0].__name__, item[1]) not in CREDENTIAL_FREE]


def test_every_command_but_the_companys_takes_the_guarded_credentials() -> None:
    """Every command is guarded, except the company's own, which take no credentials."""
    guarded = {(cls.__name__, name) for cls in AGGREGATES for name in guarded_commands(cls)}

    assert guarded == {(cls.__name__, name) for cls, name in GUARDED}
    assert len(GUARDED) > 50


@attrs.frozen
class Records:
    org: Org
    team: Team
    account: ClientAccount
    project: Project
    target: Target
    opportunity: Opportunity
    settings: PipelineSettings
    credentials: dict[str, Credentials]

    def of(self, cls: type[KamAggregate]) -> KamAggregate:
        records: dict[type[KamAggregate], KamAggregate] = {
            Team: self.team,
            ClientAccount: self.account,
            Project: self.project,
            Opportunity: self.opportunity,
            PipelineSettings: self.settings,
        }
        return records.get(cls, self.target)


@pytest.fixture(name="records", scope="module")
def fixture_records() -> Records:
    """One record of each aggregate, made through the facade in memory."""
    app = KamApplication("memory://", policies=PolicyRegistry())
    org = build_org(app)
    account_id = key_account(app, org)
    project_id = app.initiate_project(
        account_id,
        org.kam,
        name="Core",
        currency="CNY",
        project_director_id=org.project_director,
        at=at(1),
    )

    target_id = app.set_target(
        org.team_id,
        org.director,
        scope=TargetScope.member(org.kam),
        period=Period.parse("2026-Q1"),
        goals=(RevenueGoal(Money.of(100, "CNY")),),
        at=at(1),
    )
    opportunity_id = app.open_opportunity(
        account_id,
        org.kam,
        name="Core renewal",
        amount=Money.of(100, "CNY"),
        expected_close=at(30),
        at=at(1),
    )
    app.set_stage_probabilities(
        org.team_id, org.director, probabilities=DEFAULT_PROBABILITIES, at=at(1)
    )
    settings = app.pipeline_settings(org.team_id)
    assert settings is not None
    credentials = {
        "kam": app.credentials(org.team_id, org.kam, at(2)),
        "director": app.credentials(org.team_id, org.director, at(2)),
    }
    return Records(
        org,
        app.get_team(org.team_id),
        app.get_account(account_id),
        app.get_project(project_id),
        app.get_target(target_id),
        app.get_opportunity(opportunity_id),
        settings,
        credentials,
    )


def run(records: Records, cls: type[KamAggregate], name: str, actor: Any, by: Any) -> None:
    """Issue the command with only its metadata and credentials: the guard runs first."""
    command_meta = meta(actor, at(2))
    if isinstance(inspect.getattr_static(cls, name), classmethod):
        getattr(cls, name)(command_meta, by, team_id=records.org.team_id)
    else:
        getattr(records.of(cls), name)(command_meta, by)


CONDITIONS = {
    "not the actor's": NotYourCredentials,
    "of another team": NotOnTeam,
    "of a member who left": MemberInactive,
    "none, from a member": ValidationError,
}


@pytest.mark.parametrize("condition", CONDITIONS)
@pytest.mark.parametrize(
    ("cls", "name"), GUARDED, ids=[f"{cls.__name__}.{name}" for cls, name in GUARDED]
)
def test_every_command_refuses_credentials_the_actor_may_not_use(
    records: Records, cls: type[KamAggregate], name: str, condition: str
) -> None:
    """Given a record, when a command comes with credentials the actor may not use, then the
    guard raises that condition's exception, naming the actor, and nothing is recorded."""
    kam = records.credentials["kam"]
    director = records.credentials["director"]
    actor: Any = Actor.member(kam.member_id)
    by: Any = {
        "not the actor's": director,
        "of another team": attrs.evolve(kam, team_id=TeamId(records.account.id)),
        "of a member who left": attrs.evolve(kam, active=False),
        "none, from a member": None,
    }[condition]
    record = records.of(cls)

    with unchanged(record), pytest.raises(CONDITIONS[condition], match=r"^(actor|approver)"):
        run(records, cls, name, actor, by)


COMPANY = Actor.system("company")


def test_nobody_grants_above_the_teams_top_authority_not_even_the_company() -> None:
    """Given a team formed with a 30 % top authority, when the company grants 40 %, then
    GrantBeyondTopAuthority names max_discount and nothing is recorded through the facade."""
    app = KamApplication("memory://", policies=PolicyRegistry())
    org = build_org(app)

    with (
        unchanged(app),
        pytest.raises(GrantBeyondTopAuthority, match=r"^max_discount: 40% is above .* 30%"),
    ):
        app.grant_authority(org.team_id, COMPANY, org.kam, max_discount=Percentage.of(40))


def test_the_company_raises_the_top_authority_by_its_own_recorded_command() -> None:
    """The company records a new top authority; then it, and only it, may grant up to it."""
    app = KamApplication("memory://", policies=PolicyRegistry())
    org = build_org(app)

    app.set_top_authority(org.team_id, top_authority=Percentage.of(40), at=at(1))
    app.grant_authority(org.team_id, COMPANY, org.kam, max_discount=Percentage.of(40), at=at(2))

    team = app.get_team(org.team_id)
    assert team.top_authority == Percentage.of(40)
    assert app.credentials(org.team_id, org.kam, at(3)).discount_authority == Percentage.of(40)
    assert type(list(app.repository.event_store.get(org.team_id))[-2]) is Team.TopAuthoritySet


@pytest.mark.parametrize("actor", ["member", "policy"])
def test_only_a_system_actor_sets_the_top_authority(actor: str) -> None:
    """A member (even the senior director) is refused with RoleRequired; a policy is refused by
    the facade; nothing is recorded."""
    app = KamApplication("memory://", policies=PolicyRegistry())
    org = build_org(app)
    who = Actor.member(org.senior) if actor == "member" else Actor.policy("assignment", 1)
    expected = RoleRequired if actor == "member" else PolicyImpersonation

    with unchanged(app), pytest.raises(expected, match=r"^actor"):
        app.set_top_authority(org.team_id, top_authority=Percentage.of(50), actor=who)


def test_a_team_recorded_before_the_top_authority_was_recorded_takes_its_formation_grant() -> None:
    """A team folded from events with no TopAuthoritySet (as every store written before it
    has) and a snapshot without the field both take the formation grant as the top."""
    app = KamApplication("memory://", policies=PolicyRegistry())
    org = build_org(app)
    team = app.get_team(org.team_id)

    del team.__dict__["recorded_top_authority"]

    assert team.top_authority == Percentage.of(30)
