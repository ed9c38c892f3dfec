"""With the built-in policies running, the domain's promises hold after every step.

A hypothesis state machine hires and loses KAMs, designates key accounts, requests discounts and
decides the routed ones by hand, and ticks the clock; once the policies have settled after each
step: every key account has exactly one accountable KAM (an active KAM of its team) whenever the
team has one, every discount was decided under an authority in force that covered it, nobody
approved their own request by hand, and no event was parked.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
)

from kam_domain.aggregates.project import DiscountOutcome
from kam_domain.application import KamApplication
from kam_domain.errors import KamDomainError
from kam_domain.values import Actor, Money, Percentage, Role, Tier
from tests.conftest import STRATEGIES, build_org

CNY = "CNY"
APPROVER_OF = {
    Role.PROJECT_DIRECTOR: "project_director",
    Role.SALES_DIRECTOR: "director",
    Role.SENIOR_SALES_DIRECTOR: "senior",
}


class PoliciesSettle(RuleBasedStateMachine):
    """Commands by people; decisions by the policies, embedded after each command."""

    kams = Bundle("kams")
    projects = Bundle("projects")

    def __init__(self) -> None:
        super().__init__()
        self.app = KamApplication("memory://")
        self.org = build_org(self.app)
        self.now = datetime(2026, 2, 2, 9, tzinfo=UTC)
        self.count = 0

    def teardown(self) -> None:
        self.app.close()

    def when(self) -> datetime:
        self.now += timedelta(hours=1)
        return self.now

    def attempt(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            result = command(*args, **kwargs, at=self.when())
        except KamDomainError as error:
            event(f"{command.__name__} refused: {type(error).__name__}")
            return None
        event(f"{command.__name__} done")
        return result

    @initialize(target=projects)
    def a_key_account_with_a_project(self) -> Any:
        return self.designate_and_start_project(Tier.MAJOR)

    # -- people ----------------------------------------------------------------------------------

    @rule(target=kams, capacity=st.integers(1, 8))
    def hire_kam(self, capacity: int) -> Any:
        self.count += 1
        kam = self.attempt(
            self.app.add_member,
            self.org.team_id,
            self.org.senior,
            name=f"KAM {self.count}",
            role=Role.KEY_ACCOUNT_MANAGER,
            supervisor_id=self.org.director,
        )
        if kam is not None:
            self.attempt(
                self.app.grant_authority,
                self.org.team_id,
                self.org.director,
                kam,
                max_discount=Percentage.of(5),
            )
            self.attempt(
                self.app.set_capacity, self.org.team_id, self.org.senior, kam, capacity=capacity
            )
        return kam

    @rule(kam=consumes(kams))
    def kam_leaves(self, kam: UUID | None) -> None:
        if kam is not None:
            self.attempt(
                self.app.remove_member, self.org.team_id, self.org.senior, kam, reason="left"
            )

    @rule(who=st.sampled_from(["kam", "kam2"]))
    def original_kam_leaves(self, who: str) -> None:
        self.attempt(
            self.app.remove_member,
            self.org.team_id,
            self.org.senior,
            getattr(self.org, who),
            reason="left",
        )

    # -- accounts and projects -------------------------------------------------------------------

    @rule(target=projects, tier=st.sampled_from(list(Tier)))
    def designate_and_start_project(self, tier: Tier) -> Any:
        self.count += 1
        account = self.attempt(
            self.app.register_account,
            self.org.team_id,
            self.org.director,
            name=f"Client {self.count}",
            industry="telecom",
            region="east",
        )
        if account is None:
            return None
        self.attempt(
            self.app.designate_key_account,
            account,
            self.org.director,
            tier=tier,
            strategies=STRATEGIES,
        )
        project = self.attempt(
            self.app.initiate_project,
            account,
            self.org.director,
            name="Upgrade",
            currency=CNY,
            project_director_id=self.org.project_director,
        )
        if project is not None:
            self.attempt(
                self.app.set_price_band,
                project,
                self.org.senior,
                list_price=Money.of(1000, CNY),
                floor=Money.of(700, CNY),
            )
        return project

    @rule(
        project=projects,
        requester=st.sampled_from(["rep", "project_director", "director", "senior", "account kam"]),
        pct=st.integers(0, 30),
    )
    def request_discount(self, project: UUID | None, requester: str, pct: int) -> None:
        if project is None:
            return
        if requester == "account kam":
            account = self.app.get_project(project).account_id
            member = self.app.get_account(account).accountable_kam
            if member is None:
                return
        else:
            member = getattr(self.org, requester)
        self.attempt(
            self.app.request_discount,
            project,
            member,
            percentage=Percentage.of(pct),
            justification="competing offer",
        )

    @rule(approve=st.booleans())
    def decide_routed_requests(self, approve: bool) -> None:
        """A person of the role each pending request was routed to decides it."""
        for pending in self.app.pending_discount_requests(self.org.team_id):
            role = pending.request.escalated_to
            if role is None:
                continue
            approver = getattr(self.org, APPROVER_OF[role])
            if approve:
                self.attempt(
                    self.app.approve_discount,
                    pending.project_id,
                    approver,
                    pending.request.request_id,
                )
            else:
                self.attempt(
                    self.app.reject_discount,
                    pending.project_id,
                    approver,
                    pending.request.request_id,
                    reason="not worth it",
                )

    @rule()
    def tick(self) -> None:
        self.app.tick(Actor.system("clock"), at=self.when())

    # -- invariants ------------------------------------------------------------------------------

    @invariant()
    def every_key_account_has_one_active_kam_when_the_team_has_one(self) -> None:
        """Once policies settle, each key account names one active KAM of its team."""
        team = self.app.get_team(self.org.team_id)
        active = {m.member_id for m in team.active_members(Role.KEY_ACCOUNT_MANAGER)}
        for account in self.app.accounts(self.org.team_id):
            if not account.is_key:
                continue
            if active:
                assert account.accountable_kam in active, account.name
            else:
                assert account.accountable_kam is None or account.accountable_kam not in active

    @invariant()
    def discounts_are_decided_under_the_authority_in_force(self) -> None:
        """Approvals were covered by the authority in force; nobody approved their own by hand."""
        for project in self.app.projects(self.org.team_id):
            for request in project.discount_requests.values():
                decision = request.decision
                if decision is None or decision.outcome is not DiscountOutcome.APPROVED:
                    continue
                who = decision.credentials
                assert who is not None
                assert who.discount_authority is not None
                assert request.percentage <= who.discount_authority
                if decision.decided_by == "manual":
                    assert who.member_id != request.requester_id
                else:
                    # The policy approves within the requester's own authority only.
                    assert who.member_id == request.requester_id

    @invariant()
    def routed_or_decided(self) -> None:
        """The price-approval policy leaves no request unrouted and undecided."""
        for pending in self.app.pending_discount_requests(self.org.team_id):
            assert pending.request.escalated_to is not None

    @invariant()
    def nothing_is_parked(self) -> None:
        """No policy failed on any event."""
        assert self.app.dead_letters() == []


PoliciesSettle.TestCase.settings = settings(
    max_examples=max(10, settings.default.max_examples // 3), stateful_step_count=25, deadline=None
)
TestPoliciesSettle = PoliciesSettle.TestCase
