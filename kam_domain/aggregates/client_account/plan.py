"""The account plan: agreed by the accountable KAM with their supervisor, then revised in
numbered versions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kam_domain.aggregates.base import KamAggregate, Meta, require_text
from kam_domain.aggregates.client_account.guards import LONG_TEXT, AccountGuards
from kam_domain.aggregates.client_account.records import AccountPlan
from kam_domain.aggregates.client_account.roles import KAM
from kam_domain.aggregates.credentials import Credentials, require_credentials
from kam_domain.errors import (
    InvalidTransition,
    NoAccountableManager,
    NotAssignedToAccount,
    SupervisorRequired,
)
from kam_domain.values import MemberId

if TYPE_CHECKING:
    from kam_domain.aggregates.client_account import ClientAccount


class Plan(AccountGuards):
    """Agreeing and revising the account plan."""

    class PlanAgreed(KamAggregate.Event):
        version: int
        client_goals: str
        execution_plan: str
        kam_id: MemberId
        supervisor_id: MemberId

        def apply(self, account: ClientAccount) -> None:
            account.plans.append(_plan(self))
            account._retire(self.timestamp)

    class PlanRevised(KamAggregate.Event):
        """The next version of the plan; stored apart from the first, with the same fields."""

        version: int
        client_goals: str
        execution_plan: str
        kam_id: MemberId
        supervisor_id: MemberId

        def apply(self, account: ClientAccount) -> None:
            # The version it replaces is over from now: it leaves after the window.
            account.plans.append(_plan(self))
            account._over_at(self.timestamp)
            account._retire(self.timestamp)

    def agree_plan(
        self,
        meta: Meta,
        by: Credentials,
        supervisor: Credentials,
        *,
        client_goals: str,
        execution_plan: str,
    ) -> None:
        """The accountable KAM agrees the first account plan with their supervisor."""
        goals, plan = self._check_plan(meta, by, supervisor, client_goals, execution_plan)
        if self.plans:
            msg = "client_goals: the account plan was already agreed; revise it instead"
            raise InvalidTransition(msg)
        self._record(
            self.PlanAgreed,
            meta,
            version=1,
            client_goals=goals,
            execution_plan=plan,
            kam_id=by.member_id,
            supervisor_id=supervisor.member_id,
        )

    def revise_plan(
        self,
        meta: Meta,
        by: Credentials,
        supervisor: Credentials,
        *,
        client_goals: str,
        execution_plan: str,
    ) -> int:
        """The accountable KAM and their supervisor agree the next version; returns its number."""
        goals, plan = self._check_plan(meta, by, supervisor, client_goals, execution_plan)
        current = self.current_plan
        if current is None:
            raise InvalidTransition("client_goals: no account plan was agreed yet")
        if (current.client_goals, current.execution_plan) == (goals, plan):
            raise InvalidTransition("client_goals: the revision changes nothing")
        version = current.version + 1
        self._record(
            self.PlanRevised,
            meta,
            version=version,
            client_goals=goals,
            execution_plan=plan,
            kam_id=by.member_id,
            supervisor_id=supervisor.member_id,
        )
        return version

    # -- queries -----------------------------------------------------------------------------------

    @property
    def current_plan(self) -> AccountPlan | None:
        return self.plans[-1] if self.plans else None

    # -- helpers -----------------------------------------------------------------------------------

    def _check_plan(
        self,
        meta: Meta,
        by: Credentials,
        supervisor: Credentials,
        client_goals: str,
        execution_plan: str,
    ) -> tuple[str, str]:
        self._check_actor(meta, by, KAM)
        if self.kam_id is None:
            msg = f"actor: {self.name!r} has no accountable KAM to agree a plan"
            raise NoAccountableManager(msg)
        if by.member_id != self.kam_id:
            msg = f"actor: {by.name} is not the accountable KAM of {self.name!r}"
            raise NotAssignedToAccount(msg)
        require_credentials("supervisor", supervisor)
        if by.supervisor_id is None:
            raise SupervisorRequired(f"supervisor: {by.name} has no supervisor recorded")
        if supervisor.member_id != by.supervisor_id:
            msg = f"supervisor: {supervisor.name} is not the recorded supervisor of {by.name}"
            raise SupervisorRequired(msg)
        supervisor.require_active("supervisor")
        self._check_team("supervisor", supervisor)
        goals = require_text("client_goals", client_goals, max_length=LONG_TEXT)
        plan = require_text("execution_plan", execution_plan, max_length=LONG_TEXT)
        return goals, plan


def _plan(event: Plan.PlanAgreed | Plan.PlanRevised) -> AccountPlan:
    """The version of the plan an agreement or a revision records."""
    return AccountPlan(
        event.version,
        event.client_goals,
        event.execution_plan,
        event.kam_id,
        event.supervisor_id,
        event.timestamp,
    )
