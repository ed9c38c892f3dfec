"""An open opportunity's commands: opening it, moving it between stages, revising its amount
and expected close date, and handing it to another owner."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Self

from kam_domain.aggregates.base import KamAggregate, Meta, require_id, require_text
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.opportunity.guards import (
    OpportunityGuards,
    require_close,
    require_owner,
    require_positive,
    require_seller,
)
from kam_domain.aggregates.opportunity.records import StageChange
from kam_domain.aggregates.opportunity.stages import OpportunityStage
from kam_domain.errors import AccountNotKey, InvalidTransition, StageUnchanged, ValidationError
from kam_domain.values import AccountId, MemberId, Money, OpportunityId, TeamId

if TYPE_CHECKING:
    from kam_domain.aggregates.opportunity import Opportunity


def _open_stage(field: str, value: object) -> OpportunityStage:
    if not isinstance(value, OpportunityStage):
        raise ValidationError(field, f"must be an OpportunityStage, not {value!r}")
    if not value.is_open:
        msg = f"{field}: {value.label} is reached by winning or losing, not by moving"
        raise InvalidTransition(msg)
    return value


class Pipeline(OpportunityGuards):
    """Opening an opportunity and working it while it is open."""

    class Opened(KamAggregate.Created):
        team_id: TeamId
        account_id: AccountId
        name: str
        amount: Money
        expected_close: datetime
        owner_id: MemberId
        stage: OpportunityStage

        def apply(self, opportunity: Opportunity) -> None:
            change = StageChange(self.stage, self.timestamp, self.actor.member_id)
            opportunity.stage_history.append(change)

    class StageChanged(KamAggregate.Event):
        stage: OpportunityStage
        note: str | None

        def apply(self, opportunity: Opportunity) -> None:
            opportunity.stage = self.stage
            change = StageChange(self.stage, self.timestamp, self.actor.member_id, self.note)
            opportunity.stage_history.append(change)

    class Revised(KamAggregate.Event):
        amount: Money
        expected_close: datetime
        reason: str

        def apply(self, opportunity: Opportunity) -> None:
            opportunity.amount = self.amount
            opportunity.expected_close = self.expected_close

    class OwnerReassigned(KamAggregate.Event):
        owner_id: MemberId
        reason: str

        def apply(self, opportunity: Opportunity) -> None:
            opportunity.owner_id = self.owner_id

    @classmethod
    def open(
        cls,
        meta: Meta,
        by: Credentials,
        opportunity_id: OpportunityId,
        *,
        team_id: TeamId,
        account_id: AccountId,
        name: str,
        amount: Money,
        expected_close: datetime,
        owned_by: Credentials,
        account_manager_id: MemberId | None,
        account_is_key: bool,
        stage: OpportunityStage = OpportunityStage.PROSPECTING,
        currency: str | None = None,
    ) -> Self:
        """A sales director or the account's accountable KAM opens an opportunity for it.

        ``account_manager_id``: the account's accountable KAM at ``meta.at`` (None when it has
        none); ``account_is_key``: whether the account is designated key then (the pipeline
        is of key accounts); ``currency``: the team's pipeline currency, when it has set one.
        """
        require_id("opportunity_id", opportunity_id)
        require_id("team_id", team_id)
        require_id("account_id", account_id)
        require_seller("actor", by, team_id, account_manager_id)
        if account_is_key is not True:
            raise AccountNotKey(f"account_id: account {account_id} is not a key account")
        owner_id = require_owner("owner_id", owned_by, team_id)
        name = require_text("name", name)
        amount = require_positive("amount", amount, currency)
        expected_close = require_close("expected_close", expected_close, meta.at)
        stage = _open_stage("stage", stage)
        return cls._start(
            cls.Opened,
            meta,
            opportunity_id,
            team_id=team_id,
            account_id=account_id,
            name=name,
            amount=amount,
            expected_close=expected_close,
            owner_id=owner_id,
            stage=stage,
        )

    def move_to_stage(
        self,
        meta: Meta,
        by: Credentials,
        *,
        stage: OpportunityStage,
        account_manager_id: MemberId | None,
        note: str | None = None,
    ) -> None:
        """Move the open opportunity to another open stage (forward or back), dated."""
        self._require_open()
        self._require_seller(by, account_manager_id)
        stage = _open_stage("stage", stage)
        if stage is self.stage:
            raise StageUnchanged(f"stage: {self.name} is in {stage.label} already")
        note = None if note is None else require_text("note", note)
        self._record(self.StageChanged, meta, stage=stage, note=note)

    def revise(
        self,
        meta: Meta,
        by: Credentials,
        *,
        account_manager_id: MemberId | None,
        reason: str,
        amount: Money | None = None,
        expected_close: datetime | None = None,
    ) -> None:
        """Revise the amount, the expected close date, or both, with the reason."""
        self._require_open()
        self._require_seller(by, account_manager_id)
        if amount is None and expected_close is None:
            raise ValidationError("amount", "give a new amount, a new expected close, or both")
        new_amount = (
            self.amount if amount is None else require_positive("amount", amount, self.currency)
        )
        new_close = (
            self.expected_close
            if expected_close is None
            else require_close("expected_close", expected_close, self.opened_at)
        )
        if new_amount == self.amount and new_close == self.expected_close:
            raise InvalidTransition(f"amount: {self.name} has this amount and close date already")
        reason = require_text("reason", reason)
        self._record(self.Revised, meta, amount=new_amount, expected_close=new_close, reason=reason)

    def reassign(
        self,
        meta: Meta,
        by: Credentials,
        owned_by: Credentials,
        *,
        account_manager_id: MemberId | None,
        reason: str,
    ) -> None:
        """Hand the open opportunity to another owner on the team."""
        self._require_open()
        self._require_seller(by, account_manager_id)
        owner_id = require_owner("owner_id", owned_by, self.team_id)
        if owner_id == self.owner_id:
            raise InvalidTransition(f"owner_id: {owned_by.name} owns {self.name} already")
        reason = require_text("reason", reason)
        self._record(self.OwnerReassigned, meta, owner_id=owner_id, reason=reason)
