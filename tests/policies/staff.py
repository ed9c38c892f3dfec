"""A team built by real Team commands for policy scenarios, and a way to carry decisions out.

The policies read authority, roles and supervisors from the Team in the world, so scenarios
build it with the Team's own commands rather than with hand-made credentials.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from kam_domain.aggregates.base import KamAggregate, Meta
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.team import Team
from kam_domain.policies import ActionContext, Decision, Policy
from kam_domain.values import Actor, GrantId, MemberId, Percentage, Role, TeamId
from tests.support import T0, meta


class TeamContext(ActionContext):
    """Credentials from one team record, as the engine's context gives them."""

    def __init__(self, team: Team) -> None:
        self.team = team

    def credentials(self, team_id: TeamId, member_id: MemberId, at: datetime) -> Credentials:
        assert team_id == self.team.id
        return self.team.credentials(member_id, at)


def carry_out(
    policy: Policy, decision: Decision, team: Team, *records: KamAggregate, when: datetime
) -> list[Any]:
    """Apply the decision's actions to ``records`` as ``policy`` at ``when``; the new events."""
    by_id = {record.id: record for record in records}
    decided = Meta.command(Actor.policy(policy.name, policy.version), at=when)
    for action in decision.actions:
        action.apply(by_id[action.aggregate_id], decided, TeamContext(team))
    return [event for record in records for event in record.collect_events()]


@dataclass
class Staff:
    """One team and its people; authorities as in tests/conftest (30 / 20 / 10 / 5 %)."""

    team: Team
    senior: MemberId  # senior sales director, 30 %
    director: MemberId  # sales director, 20 %, supervises the KAMs
    kam: MemberId  # 5 %, supervised by the director
    kam2: MemberId  # 5 %, supervised by the director
    rep: MemberId  # no authority, supervised by the KAM
    pd: MemberId  # project director, 10 %
    admin: MemberId  # senior admin manager
    finance: MemberId  # financial planner
    support: MemberId  # technical support
    #: The grant each member received through :meth:`grant`, latest last.
    grants: dict[MemberId, GrantId] = field(default_factory=dict)

    @property
    def team_id(self) -> TeamId:
        return TeamId(self.team.id)

    def creds(self, member_id: MemberId, when: datetime = T0) -> Credentials:
        return self.team.credentials(member_id, when)

    def join(
        self,
        name: str,
        role: Role,
        *,
        supervisor: MemberId | None = None,
        authority: int | None = None,
        when: datetime = T0,
    ) -> MemberId:
        member_id = MemberId(uuid4())
        senior = self.creds(self.senior, when)
        self.team.join(
            meta(senior, when), senior, member_id, name=name, role=role, supervisor_id=supervisor
        )
        if authority is not None:
            self.grant(member_id, authority, when=when)
        return member_id

    def grant(
        self,
        member_id: MemberId,
        limit: int,
        *,
        when: datetime = T0,
        until: datetime | None = None,
        by_company: bool = False,
    ) -> GrantId:
        grant_id = GrantId(uuid4())
        by = None if by_company else self.creds(self.senior, when)
        if by_company and Percentage.of(limit) > self.team.top_authority:
            # Nobody grants above the team's top authority: the company raises it first.
            self.team.set_top_authority(meta(None, when), Percentage.of(limit))
        self.team.grant_authority(
            meta(by, when),
            by,
            grant_id,
            member_id,
            max_discount=Percentage.of(limit),
            valid_until=until,
        )
        self.grants[member_id] = grant_id
        return grant_id

    def revoke(self, grant_id: GrantId, when: datetime) -> None:
        senior = self.creds(self.senior, when)
        self.team.revoke_authority(meta(senior, when), senior, grant_id, reason="restructured")

    def leave(self, member_id: MemberId, when: datetime) -> None:
        senior = self.creds(self.senior, when)
        self.team.leave(meta(senior, when), senior, member_id, reason="moved on")

    def events(self) -> list[Any]:
        """The team's events recorded since the last call."""
        return list(self.team.collect_events())


def staffed(*, top: int = 30, supervised: bool = True, admin: bool = True) -> Staff:
    """The standard team, formed at T0; ``supervised=False`` leaves the KAMs unsupervised."""
    senior = MemberId(uuid4())
    team = Team.form(
        meta(),
        TeamId(uuid4()),
        name="East key accounts",
        segment="telecom",
        region="east",
        director_id=senior,
        director_name="Wang Senior",
        top_authority=Percentage.of(top),
    )
    # Filled in below as the members join; the admin stays unset when ``admin=False``.
    blank = MemberId(UUID(int=0))
    staff = Staff(team, senior, blank, blank, blank, blank, blank, blank, blank, blank)
    staff.director = staff.join("Zhao Director", Role.SALES_DIRECTOR, authority=20)
    boss = staff.director if supervised else None
    staff.kam = staff.join("Li Manager", Role.KEY_ACCOUNT_MANAGER, supervisor=boss, authority=5)
    staff.kam2 = staff.join("Chen Manager", Role.KEY_ACCOUNT_MANAGER, supervisor=boss, authority=5)
    staff.rep = staff.join(
        "Sun Representative", Role.KEY_ACCOUNT_REPRESENTATIVE, supervisor=staff.kam
    )
    staff.pd = staff.join("Zhou Project", Role.PROJECT_DIRECTOR, authority=10)
    if admin:
        staff.admin = staff.join("Wu Admin", Role.SENIOR_ADMIN_MANAGER)
    staff.finance = staff.join("Zheng Finance", Role.FINANCIAL_PLANNER)
    staff.support = staff.join("Feng Support", Role.TECHNICAL_SUPPORT)
    return staff
