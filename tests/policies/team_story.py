"""A team and its key accounts built by real commands, told to one policy as the engine would.

Each command runs a minute after the previous one, its events are folded into the policy's
world, and :meth:`Story.carry_out` applies a decision's actions to the records the way the engine
does (as the policy, with credentials from the current Team), folding their events back in.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from kam_domain.aggregates.base import KamAggregate, Meta
from kam_domain.aggregates.client_account import AccountStrategies, ClientAccount
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.team import Team, TierWeights, TrainingKind
from kam_domain.policies import Action, ActionContext, Decision, Policy
from kam_domain.testing.policies import PolicyScenario
from kam_domain.values import AccountId, Actor, MemberId, Percentage, Role, TeamId, Tier
from tests.support import T0, meta

STRATEGIES = AccountStrategies(
    market="grow share in the province",
    client="executive sponsorship",
    marketing="joint industry events",
    competitive="bundle services the rivals lack",
)


class TeamContext(ActionContext):
    """Credentials from the story's current Team, as the engine gives an action."""

    def __init__(self, story: Story) -> None:
        self.story = story

    def credentials(self, team_id: TeamId, member_id: MemberId, at: datetime) -> Credentials:
        assert team_id == self.story.team.id
        return self.story.team.credentials(member_id, at)


class Story:
    """One team (led by a senior sales director), its accounts, and a policy watching them."""

    def __init__(self, policy: Policy, *, default_capacity: int = 12) -> None:
        self.policy = policy
        self.scenario = PolicyScenario(policy)
        self.moment = T0
        self.director_id = MemberId(uuid4())
        self.team = Team.form(
            meta(when=self.moment),
            TeamId(uuid4()),
            name="East key accounts",
            segment="telecom",
            region="east",
            director_id=self.director_id,
            director_name="Wang Senior",
            top_authority=Percentage.of(30),
            default_capacity=default_capacity,
        )
        self.accounts: dict[AccountId, ClientAccount] = {}
        #: The events of the last command, the last of which the policy decided about.
        self.last: list[Any] = []
        self.scenario.given(*self.team.collect_events())

    # -- time and actors -------------------------------------------------------------------------

    def tick(self) -> Meta:
        """Command metadata for the senior director, a minute after the last command."""
        self.moment += timedelta(minutes=1)
        return meta(self.director_id, self.moment)

    @property
    def director(self) -> Credentials:
        return self.team.credentials(self.director_id, self.moment)

    def creds(self, member_id: MemberId) -> Credentials:
        return self.team.credentials(member_id, self.moment)

    # -- the team --------------------------------------------------------------------------------

    def join(self, name: str, role: Role = Role.KEY_ACCOUNT_MANAGER) -> MemberId:
        member_id = MemberId(uuid4())
        self._team(lambda m: self.team.join(m, self.director, member_id, name=name, role=role))
        return member_id

    def kam(self, name: str, *, capacity: int | None = None) -> MemberId:
        """A KAM joins (quietly: the policy's decision about it is not wanted here)."""
        member_id = self.join(name)
        if capacity is not None:
            self.set_capacity(member_id, capacity)
        return member_id

    def set_capacity(self, member_id: MemberId, capacity: int) -> Decision | None:
        return self._team(
            lambda m: self.team.set_capacity(m, self.director, member_id, capacity=capacity)
        )

    def set_tier_weights(self, weights: TierWeights) -> Decision | None:
        return self._team(lambda m: self.team.set_tier_weights(m, self.director, weights))

    def backup(self, member_id: MemberId, backup_id: MemberId) -> Decision | None:
        return self._team(
            lambda m: self.team.designate_backup(m, self.director, member_id, backup_id=backup_id)
        )

    def train(self, member_id: MemberId, covers: MemberId | None) -> Decision | None:
        kind = TrainingKind.SKILL if covers is None else TrainingKind.CROSS_TRAINING
        return self._team(
            lambda m: self.team.record_training(
                m, self.director, member_id, kind=kind, skill="telecom", covers_member_id=covers
            )
        )

    def leave(self, member_id: MemberId) -> Decision | None:
        return self._team(lambda m: self.team.leave(m, self.director, member_id, reason="moved on"))

    def change_role(self, member_id: MemberId, role: Role) -> Decision | None:
        return self._team(
            lambda m: self.team.change_role(
                m, self.director, member_id, role=role, reason="new job"
            )
        )

    def hire(self, name: str, role: Role = Role.KEY_ACCOUNT_MANAGER) -> Decision | None:
        """A member joins, and the policy decides about their arrival."""
        member_id = MemberId(uuid4())
        return self._team(
            lambda m: self.team.join(m, self.director, member_id, name=name, role=role)
        )

    # -- the accounts ----------------------------------------------------------------------------

    def register(self, name: str, *, industry: str = "telecom", region: str = "east") -> AccountId:
        account_id = AccountId(uuid4())
        account = ClientAccount.register(
            self.tick(),
            self.director,
            account_id,
            team_id=TeamId(self.team.id),
            name=name,
            industry=industry,
            region=region,
        )
        self.accounts[account_id] = account
        self.scenario.given(*account.collect_events())
        return account_id

    def designate(self, account_id: AccountId, tier: Tier) -> Decision | None:
        account = self.accounts[account_id]
        return self._account(
            account,
            lambda m: account.designate_key(m, self.director, tier=tier, strategies=STRATEGIES),
        )

    def undesignate(self, account_id: AccountId) -> Decision | None:
        account = self.accounts[account_id]
        return self._account(
            account, lambda m: account.undesignate_key(m, self.director, reason="downsized")
        )

    def assign(self, account_id: AccountId, kam_id: MemberId) -> Decision | None:
        """A sales director assigns the KAM by hand."""
        account = self.accounts[account_id]
        return self._account(
            account,
            lambda m: account.assign_kam(m, self.director, self.creds(kam_id), reason="by hand"),
        )

    def key_account(
        self,
        name: str,
        tier: Tier = Tier.STANDARD,
        *,
        kam: MemberId | None = None,
        industry: str = "telecom",
        region: str = "east",
    ) -> AccountId:
        """A key account, given by hand to ``kam`` (when named) without asking the policy."""
        account_id = self.register(name, industry=industry, region=region)
        self.designate(account_id, tier)
        if kam is not None:
            self.assign(account_id, kam)
        return account_id

    # -- the policy's decisions ------------------------------------------------------------------

    def carry_out(self, decision: Decision | None) -> None:
        """Apply ``decision``'s actions as the engine would, and tell the world."""
        assert decision is not None
        for action in decision.actions:
            self.apply(action)

    def apply(self, action: Action) -> None:
        """Apply one action as the engine would, and tell the world."""
        record = self.accounts[AccountId(action.aggregate_id)]
        self.moment = max(self.moment, record.modified_on)
        action.apply(record, self.policy_meta(), TeamContext(self))
        self.scenario.given(*record.collect_events())

    def policy_meta(self) -> Meta:
        actor = Actor.policy(self.policy.name, self.policy.version)
        return Meta.command(actor, at=self.moment)

    def load(self, kam_id: MemberId) -> int:
        """The tier-weighted load ``kam_id`` carries now."""
        weights = self.team.tier_weights
        return sum(
            weights.of(a.tier)
            for a in self.accounts.values()
            if a.kam_id == kam_id and a.tier is not None
        )

    # -- internals -------------------------------------------------------------------------------

    def _team(self, command: Any) -> Decision | None:
        command(self.tick())
        self.last = list(self.team.collect_events())
        return self.scenario.when(*self.last)

    def _account(self, account: KamAggregate, command: Any) -> Decision | None:
        command(self.tick())
        self.last = list(account.collect_events())
        return self.scenario.when(*self.last)
