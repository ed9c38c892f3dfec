"""How an opportunity ends: won, with the project it became, or lost, with the reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kam_domain.aggregates.base import KamAggregate, Meta, require_id, require_text
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.opportunity.guards import OpportunityGuards, require_positive
from kam_domain.aggregates.opportunity.records import StageChange
from kam_domain.aggregates.opportunity.stages import OpportunityStage
from kam_domain.errors import ProjectOfAnotherAccount
from kam_domain.values import AccountId, MemberId, Money, ProjectId

if TYPE_CHECKING:
    from kam_domain.aggregates.opportunity import Opportunity


class Outcome(OpportunityGuards):
    """Winning and losing: each closes the opportunity for good."""

    class Won(KamAggregate.Event):
        project_id: ProjectId
        amount: Money

        def apply(self, opportunity: Opportunity) -> None:
            opportunity.project_id = self.project_id
            opportunity.amount = self.amount
            _close(opportunity, OpportunityStage.CLOSED_WON, self)

    class Lost(KamAggregate.Event):
        reason: str

        def apply(self, opportunity: Opportunity) -> None:
            opportunity.lost_reason = self.reason
            _close(opportunity, OpportunityStage.CLOSED_LOST, self)

    def win(
        self,
        meta: Meta,
        by: Credentials,
        *,
        account_manager_id: MemberId | None,
        project_id: ProjectId,
        project_account_id: AccountId,
        amount: Money | None = None,
    ) -> None:
        """The client signed: the opportunity became the project ``project_id`` (of the same
        account, ``project_account_id``), for ``amount`` (default: the amount forecast)."""
        self._require_open()
        self._require_seller(by, account_manager_id)
        require_id("project_id", project_id)
        if project_account_id != self.account_id:
            msg = f"project_id: project {project_id} is for another account"
            raise ProjectOfAnotherAccount(msg)
        value = self.amount if amount is None else require_positive("amount", amount, self.currency)
        self._record(self.Won, meta, project_id=project_id, amount=value)

    def lose(
        self, meta: Meta, by: Credentials, *, account_manager_id: MemberId | None, reason: str
    ) -> None:
        """The client chose otherwise, or the need went away."""
        self._require_open()
        self._require_seller(by, account_manager_id)
        reason = require_text("reason", reason)
        self._record(self.Lost, meta, reason=reason)


def _close(opportunity: Opportunity, stage: OpportunityStage, event: KamAggregate.Event) -> None:
    opportunity.stage = stage
    opportunity.closed_at = event.timestamp
    opportunity.stage_history.append(StageChange(stage, event.timestamp, event.actor.member_id))
