"""A team, its accounts and their targets built by real commands, told to one policy.

Every command names its own effective time (quarters matter to targets), its events are folded
into the policy's world, and :meth:`TargetStory.carry_out` applies a decision's actions to the
targets the way the engine does (as the policy), folding their events back in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from kam_domain.aggregates.base import KamAggregate, Meta
from kam_domain.aggregates.client_account import AccountStrategies, ClientAccount
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.target import Goal, ScopeKind, Signatory, Target, TargetScope
from kam_domain.aggregates.team import EvaluationStandard, Team
from kam_domain.policies import ActionContext, Decision, Policy
from kam_domain.policies.records import Clock, PolicySettings
from kam_domain.testing.policies import PolicyScenario
from kam_domain.values import (
    AccountId,
    Actor,
    CaseId,
    CaseKind,
    InvoiceId,
    MemberId,
    Money,
    Percentage,
    Period,
    Role,
    Severity,
    TargetId,
    TeamId,
    Tier,
)
from tests.support import T0, meta

Q1 = Period.parse("2026-Q1")
Q2 = Period.parse("2026-Q2")
YEAR = Period.parse("2026")
#: The first morning after the first quarter.
AFTER_Q1 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)

STRATEGIES = AccountStrategies(
    market="grow share in the province",
    client="executive sponsorship",
    marketing="joint industry events",
    competitive="bundle services the rivals lack",
)


def cny(amount: int | str) -> Money:
    return Money.of(amount, "CNY")


def day(number: int) -> datetime:
    """``number`` days after the story starts (T0, early in 2026-Q1; day 86 is in Q2)."""
    return T0 + timedelta(days=number)


class StoryContext(ActionContext):
    """Credentials from the story's Team, as the engine's context gives them."""

    def __init__(self, team: Team) -> None:
        self.team = team

    def credentials(self, team_id: TeamId, member_id: MemberId, at: datetime) -> Credentials:
        assert team_id == self.team.id
        return self.team.credentials(member_id, at)


class TargetStory:
    """One team (a senior director, a director supervising two KAMs, a representative and a
    financial planner), a clock, and a policy watching everything they record."""

    def __init__(
        self,
        policy: Policy,
        *,
        team_name: str = "East key accounts",
        scenario: PolicyScenario | None = None,
    ) -> None:
        self.policy = policy
        #: Another story's scenario, to put a second team in the same world.
        self.scenario = scenario or PolicyScenario(policy)
        self.senior = MemberId(uuid4())
        self.team = Team.form(
            meta(when=T0),
            TeamId(uuid4()),
            name=team_name,
            segment="telecom",
            region="east",
            director_name="Wang Senior",
            director_id=self.senior,
            top_authority=Percentage.of(30),
        )
        self.director = self.join("Zhao Director", Role.SALES_DIRECTOR)
        self.kam = self.join("Li Manager", Role.KEY_ACCOUNT_MANAGER, self.director)
        self.kam2 = self.join("Chen Manager", Role.KEY_ACCOUNT_MANAGER, self.director)
        self.rep = self.join("Sun Representative", Role.KEY_ACCOUNT_REPRESENTATIVE, self.kam)
        self.finance = self.join("Zheng Finance", Role.FINANCIAL_PLANNER)
        self.accounts: dict[UUID, ClientAccount] = {}
        self.targets: dict[UUID, Target] = {}
        self.clock: Clock | None = None
        #: The event the policy decided about last.
        self.last_event: Any = None
        self.fold(self.team)

    # -- plumbing ----------------------------------------------------------------------------------

    def fold(self, *records: KamAggregate) -> list[Any]:
        """Fold the records' pending events into the policy's world; the events."""
        events = [event for record in records for event in record.collect_events()]
        self.scenario.given(*events)
        return events

    def when(self, record: KamAggregate) -> Decision | None:
        """Fold the record's pending events; what the policy decides about the last one."""
        events = record.collect_events()
        self.last_event = events[-1]
        return self.scenario.when(*events)

    def last_event_id(self, record: KamAggregate) -> UUID:
        """Fold the record's pending events; the id of the last one."""
        event_id: UUID = self.fold(record)[-1].event_id
        return event_id

    def creds(self, member_id: UUID, when: datetime = T0) -> Credentials:
        return self.team.credentials(MemberId(member_id), when)

    def as_(self, member_id: UUID, when: datetime) -> tuple[Meta, Credentials]:
        return meta(member_id, when), self.creds(member_id, when)

    def carry_out(self, decision: Decision, when: datetime) -> list[Any]:
        """Apply the decision's actions to the targets as the policy; the events they record."""
        decided = Meta.command(Actor.policy(self.policy.name, self.policy.version), at=when)
        context = StoryContext(self.team)
        for action in decision.actions:
            action.apply(self.targets[action.aggregate_id], decided, context)
        changed = dict.fromkeys(action.aggregate_id for action in decision.actions)
        return self.fold(*(self.targets[target_id] for target_id in changed))

    # -- the team ----------------------------------------------------------------------------------

    def join(self, name: str, role: Role, supervisor: MemberId | None = None) -> MemberId:
        member_id = MemberId(uuid4())
        self.team.join(
            *self.as_(self.senior, T0), member_id, name=name, role=role, supervisor_id=supervisor
        )
        return member_id

    def set_standard(
        self, standard: EvaluationStandard, *, effective_from: datetime, when: datetime
    ) -> None:
        self.team.set_evaluation_standard(
            *self.as_(self.director, when), standard, effective_from=effective_from
        )
        self.fold(self.team)

    def configure(self, parameters: dict[str, Any], when: datetime = T0) -> None:
        """Record parameters for the story's policy."""
        settings = PolicySettings.open(meta(when=when), self.policy.name)
        settings.configure(
            meta(when=when), parameters, frozenset(self.policy.parameters), reason="tuning"
        )
        self.fold(settings)

    # -- accounts ----------------------------------------------------------------------------------

    def account(self, name: str, kam: MemberId, when: datetime = T0) -> AccountId:
        """A key account of the team with ``kam`` accountable from ``when``."""
        account_id = AccountId(uuid4())
        by = self.as_(self.director, when)
        account = ClientAccount.register(
            *by, account_id, team_id=TeamId(self.team.id), name=name, industry="tel", region="e"
        )
        account.designate_key(*by, tier=Tier.MAJOR, strategies=STRATEGIES)
        account.assign_kam(*by, self.creds(kam, when), reason="covers the region")
        self.accounts[account_id] = account
        self.fold(account)
        return account_id

    def reassign(self, account_id: UUID, kam: MemberId, when: datetime) -> None:
        account = self.accounts[account_id]
        account.assign_kam(*self.as_(self.director, when), self.creds(kam, when), reason="moved")
        self.fold(account)

    def pay(self, account_id: UUID, amount: Money, when: datetime) -> UUID:
        """Bill and collect ``amount`` at ``when``; the payment event's id."""
        account = self.accounts[account_id]
        invoice_id = InvoiceId(uuid4())
        by = self.as_(self.finance, when)
        account.issue_invoice(*by, invoice_id, amount=amount, due_at=when + timedelta(days=30))
        account.receive_payment(*by, uuid4(), invoice_id, amount=amount)
        return self.last_event_id(account)

    def open_case(
        self, account_id: UUID, severity: Severity, when: datetime
    ) -> tuple[CaseId, UUID]:
        """A complaint opened at ``when``; its id and the opening event's id."""
        account = self.accounts[account_id]
        case_id = CaseId(uuid4())
        account.open_case(
            *self.as_(self.rep, when),
            case_id,
            kind=CaseKind.COMPLAINT,
            severity=severity,
            subject="line down",
        )
        return case_id, self.last_event_id(account)

    def acknowledge(self, account_id: UUID, case_id: CaseId, when: datetime) -> UUID:
        account = self.accounts[account_id]
        account.acknowledge_case(*self.as_(self.rep, when), case_id)
        return self.last_event_id(account)

    def survey(self, account_id: UUID, score: int | str, when: datetime) -> UUID:
        account = self.accounts[account_id]
        account.survey_satisfaction(*self.as_(self.kam, when), score=Decimal(score))
        return self.last_event_id(account)

    # -- targets -----------------------------------------------------------------------------------

    def scope_kam(self, scope: TargetScope, when: datetime) -> Credentials | None:
        if scope.kind is ScopeKind.TEAM:
            return None
        if scope.kind is ScopeKind.MEMBER:
            return self.creds(scope.id, when)
        kam_id = self.accounts[scope.id].accountable_kam
        return None if kam_id is None else self.creds(kam_id, when)

    def set_target(
        self,
        scope: TargetScope,
        goals: Sequence[Goal],
        *,
        period: Period = Q1,
        parent: Target | None = None,
        when: datetime = T0,
    ) -> Target:
        """Set a target (its events folded); team targets by the senior director."""
        target = self._new_target(scope, goals, period=period, parent=parent, when=when)
        self.fold(target)
        return target

    def target_set(
        self,
        scope: TargetScope,
        goals: Sequence[Goal],
        *,
        period: Period = Q1,
        parent: Target | None = None,
        when: datetime = T0,
    ) -> Decision | None:
        """Set a target; what the policy decides about it."""
        return self.when(self._new_target(scope, goals, period=period, parent=parent, when=when))

    def target_revised(
        self, target: Target, goals: Sequence[Goal], when: datetime = T0
    ) -> Decision | None:
        """Revise a target's goals (by the senior director); what the policy decides."""
        target.revise(
            *self.as_(self.senior, when),
            self.scope_kam(target.scope, when),
            goals=goals,
            reason="replanned",
        )
        return self.when(target)

    def sign(self, target: Target, signatory: Signatory, when: datetime) -> None:
        """The KAM (or, for a team target, the director) or the supervisor signs off."""
        kam = self.scope_kam(target.scope, when)
        if signatory is Signatory.SUPERVISOR:
            signer = self.senior if target.scope.kind is ScopeKind.TEAM else self.director
        else:
            signer = self.director if kam is None else kam.member_id
        target.sign_off(*self.as_(signer, when), kam, signatory=signatory, comments="agreed")
        self.fold(target)

    def adjust_plan(self, target: Target, when: datetime) -> None:
        target.adjust_action_plan(
            *self.as_(self.director, when), self.scope_kam(target.scope, when), plan="more visits"
        )
        self.fold(target)

    def _new_target(
        self,
        scope: TargetScope,
        goals: Sequence[Goal],
        *,
        period: Period,
        parent: Target | None,
        when: datetime,
    ) -> Target:
        setter = self.senior if scope.kind is ScopeKind.TEAM else self.director
        target = Target.set(
            *self.as_(setter, when),
            self.scope_kam(scope, when),
            TargetId(uuid4()),
            team_id=TeamId(self.team.id),
            scope=scope,
            period=period,
            goals=goals,
            parent=parent,
        )
        self.targets[target.id] = target
        return target

    # -- the clock ---------------------------------------------------------------------------------

    def _clock(self) -> Clock:
        if self.clock is None:
            self.clock = Clock.start(meta(when=T0))
            self.fold(self.clock)
        return self.clock

    def close_period(self, period: Period = Q1, when: datetime = AFTER_Q1) -> Decision | None:
        clock = self._clock()
        clock.close_period(meta(when=when), period)
        return self.when(clock)

    def tick(self, when: datetime) -> Decision | None:
        clock = self._clock()
        clock.tick(meta(when=when))
        return self.when(clock)
