"""What an opportunity holds, as set up when it is opened; its events' ``apply`` methods
change it."""

from __future__ import annotations

from datetime import datetime

from kam_domain.aggregates.base import CommandFamily
from kam_domain.aggregates.opportunity.records import StageChange
from kam_domain.aggregates.opportunity.stages import OpportunityStage
from kam_domain.values import AccountId, MemberId, Money, ProjectId, TeamId


class OpportunityState(CommandFamily):
    """The opportunity's state, shared by every family of its commands."""

    def __init__(
        self,
        team_id: TeamId,
        account_id: AccountId,
        name: str,
        amount: Money,
        expected_close: datetime,
        owner_id: MemberId,
        stage: OpportunityStage,
    ) -> None:
        self.team_id = team_id
        self.account_id = account_id
        self.name = name
        self.amount = amount
        self.expected_close = expected_close
        self.owner_id = owner_id
        self.stage = stage
        self.opened_at: datetime = self.created_on
        self.stage_history: list[StageChange] = []
        self.project_id: ProjectId | None = None
        self.lost_reason: str | None = None
        self.closed_at: datetime | None = None

    @property
    def currency(self) -> str:
        return self.amount.currency

    @property
    def is_open(self) -> bool:
        return self.stage.is_open

    @property
    def is_won(self) -> bool:
        return self.stage is OpportunityStage.CLOSED_WON

    @property
    def close_date(self) -> datetime:
        """When it closed, once won or lost; until then, when it is expected to close."""
        return self.closed_at if self.closed_at is not None else self.expected_close

    def stage_at(self, moment: datetime) -> OpportunityStage | None:
        """The stage it was in at ``moment`` (None before it was opened)."""
        found = None
        for change in self.stage_history:
            if change.at > moment:
                break
            found = change.stage
        return found
