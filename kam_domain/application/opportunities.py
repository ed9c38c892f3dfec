"""Opportunity commands and queries of the facade: the pipeline of each team's key accounts,
its stage probabilities, and what it holds as of any moment."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from uuid import UUID

from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.opportunity import (
    DEFAULT_PROBABILITIES,
    Opportunity,
    OpportunityStage,
    PipelineSettings,
    StageProbabilities,
    pipeline_settings_id,
)
from kam_domain.aggregates.project import Project
from kam_domain.aggregates.team import Team
from kam_domain.application.core import ApplicationCore
from kam_domain.application.directory import Entry
from kam_domain.errors import (
    AccountNotFound,
    AlreadyExists,
    OpportunityNotFound,
    ProjectNotFound,
    TeamNotFound,
    ValidationError,
)
from kam_domain.values import AccountId, MemberId, Money, OpportunityId, ProjectId, TeamId

__all__ = ["Keep", "OpportunityCommands"]

_OPPORTUNITY = "opportunity"


class Keep(enum.Enum):
    """An argument left out: what was set before stays."""

    CURRENCY = "currency"


class OpportunityCommands(ApplicationCore):
    """The opportunity pipeline: open, move between stages, revise, reassign, win, lose."""

    # -- commands ------------------------------------------------------------------------------

    def open_opportunity(
        self,
        account_id: UUID,
        actor: UUID,
        *,
        name: str,
        amount: Money,
        expected_close: datetime,
        owner_id: UUID | None = None,
        stage: OpportunityStage = OpportunityStage.PROSPECTING,
        opportunity_id: UUID | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> OpportunityId:
        """Open an opportunity for a key account, owned by ``owner_id`` (default: the actor).

        Opportunity names are unique within their account (case and spaces ignored).
        """
        account = self._get(ClientAccount, account_id, AccountNotFound, "account_id")
        team, meta, by = self._team_context(account.team_id, actor, at, correlation_id)
        owner = by if owner_id is None else self._credentials(team, owner_id, meta.at, "owner_id")
        oid = OpportunityId(self._new("opportunity_id", opportunity_id))
        settings = self._pipeline_settings(team.id)
        opportunity = Opportunity.open(
            meta,
            by,
            oid,
            team_id=TeamId(team.id),
            account_id=AccountId(account.id),
            name=name,
            amount=amount,
            expected_close=expected_close,
            owned_by=owner,
            account_manager_id=account.accountable_kam_at(meta.at),
            account_is_key=account.is_key,
            stage=stage,
            currency=None if settings is None else settings.currency,
        )
        listing = self._listing(team.id)
        if listing.named(_OPPORTUNITY, opportunity.name, account_id=account.id):
            msg = f"name: the account already has an opportunity named {opportunity.name!r}"
            raise AlreadyExists(msg)
        entry = Entry(_OPPORTUNITY, opportunity.name, team.id, account.id)
        self._commit(opportunity, *self._listed(meta, oid, entry))
        return oid

    def move_opportunity(
        self,
        opportunity_id: UUID,
        actor: UUID,
        *,
        stage: OpportunityStage,
        note: str | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """Move an open opportunity to another open stage (forward or back)."""
        with self._changing(opportunity_id, actor, at, correlation_id) as (record, meta, by, kam):
            record.move_to_stage(meta, by, stage=stage, account_manager_id=kam, note=note)

    def revise_opportunity(
        self,
        opportunity_id: UUID,
        actor: UUID,
        *,
        reason: str,
        amount: Money | None = None,
        expected_close: datetime | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """Revise an open opportunity's amount, expected close date, or both."""
        with self._changing(opportunity_id, actor, at, correlation_id) as (record, meta, by, kam):
            record.revise(
                meta,
                by,
                account_manager_id=kam,
                reason=reason,
                amount=amount,
                expected_close=expected_close,
            )

    def reassign_opportunity(
        self,
        opportunity_id: UUID,
        actor: UUID,
        *,
        owner_id: UUID,
        reason: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """Hand an open opportunity to another owner on the team."""
        record, team, meta, by, kam = self._context(opportunity_id, actor, at, correlation_id)
        owner = self._credentials(team, owner_id, meta.at, "owner_id")
        record.reassign(meta, by, owner, account_manager_id=kam, reason=reason)
        self._commit(record)

    def win_opportunity(
        self,
        opportunity_id: UUID,
        actor: UUID,
        *,
        project_id: UUID,
        amount: Money | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """The opportunity is won and became the project ``project_id`` (of its account)."""
        with self._changing(opportunity_id, actor, at, correlation_id) as (record, meta, by, kam):
            project = self._get(Project, project_id, ProjectNotFound, "project_id")
            came = self.opportunity_of_project(project.id)
            if came is not None:
                msg = f"project_id: {project.name} is what {came.name!r} became already"
                raise AlreadyExists(msg)
            record.win(
                meta,
                by,
                account_manager_id=kam,
                project_id=ProjectId(project.id),
                project_account_id=project.account_id,
                amount=amount,
            )

    def lose_opportunity(
        self,
        opportunity_id: UUID,
        actor: UUID,
        *,
        reason: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """The opportunity is lost, for ``reason``."""
        with self._changing(opportunity_id, actor, at, correlation_id) as (record, meta, by, kam):
            record.lose(meta, by, account_manager_id=kam, reason=reason)

    def set_stage_probabilities(
        self,
        team_id: UUID,
        actor: UUID,
        *,
        probabilities: StageProbabilities,
        currency: str | Keep | None = Keep.CURRENCY,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """A sales director sets the probability of each open stage for the team's pipeline.

        ``currency``: the one currency the team's new opportunities must be in; None lets them
        be in any; left out, the currency set before (if any) stays.
        """
        team, meta, by = self._team_context(team_id, actor, at, correlation_id)
        settings = self._pipeline_settings(team.id)
        if settings is None:
            settings = PipelineSettings.configure(
                meta,
                by,
                team_id=TeamId(team.id),
                probabilities=probabilities,
                currency=None if isinstance(currency, Keep) else currency,
            )
        else:
            kept = settings.currency if isinstance(currency, Keep) else currency
            settings.change(meta, by, probabilities=probabilities, currency=kept)
        self._commit(settings)

    # -- queries -------------------------------------------------------------------------------

    def get_opportunity(
        self, opportunity_id: UUID, *, version: int | None = None, at: datetime | None = None
    ) -> Opportunity:
        """The opportunity as now, at ``version``, or as it stood at the moment ``at``."""
        return self._get(
            Opportunity,
            opportunity_id,
            OpportunityNotFound,
            "opportunity_id",
            version=version,
            at=at,
        )

    def opportunities(
        self,
        team_id: UUID | None = None,
        account_id: UUID | None = None,
        *,
        at: datetime | None = None,
    ) -> list[Opportunity]:
        """The opportunities of a team or of an account, in the order they were opened; as
        they stood at ``at`` (those opened later left out), else as now."""
        if team_id is None and account_id is None:
            raise ValidationError("team_id", "give a team or an account")
        where: dict[str, UUID] = {}
        if account_id is not None:
            account = self._get(ClientAccount, account_id, AccountNotFound, "account_id")
            where["account_id"] = account.id
            team_id = team_id if team_id is not None else account.team_id
        self._team(team_id)
        assert team_id is not None
        where["team_id"] = team_id
        found = []
        for record_id in self._listing(team_id).ids(_OPPORTUNITY, **where):
            try:
                found.append(self.get_opportunity(record_id, at=at))
            except OpportunityNotFound:
                continue  # opened after the moment asked about
        return found

    def opportunity_of_project(self, project_id: UUID) -> Opportunity | None:
        """The opportunity won as the project ``project_id``, if one was (a project comes from
        one opportunity at most)."""
        project = self._get(Project, project_id, ProjectNotFound, "project_id")
        for opportunity in self.opportunities(project.team_id, account_id=project.account_id):
            if opportunity.project_id == project.id:
                return opportunity
        return None

    def stage_probabilities(
        self, team_id: UUID, *, at: datetime | None = None
    ) -> StageProbabilities:
        """The probabilities the team's pipeline used at ``at`` (else now): its own, once a
        sales director set them, else the defaults."""
        settings = self.pipeline_settings(team_id, at=at)
        return DEFAULT_PROBABILITIES if settings is None else settings.probabilities

    def pipeline_settings(
        self, team_id: UUID, *, at: datetime | None = None
    ) -> PipelineSettings | None:
        """The team's pipeline settings as at ``at`` (else now); None before any were set."""
        self._team(team_id)
        assert isinstance(team_id, UUID)
        try:
            return self._get(
                PipelineSettings, pipeline_settings_id(team_id), TeamNotFound, "team_id", at=at
            )
        except TeamNotFound:
            return None

    # -- helpers -------------------------------------------------------------------------------

    def _pipeline_settings(self, team_id: UUID) -> PipelineSettings | None:
        record = self._load(pipeline_settings_id(team_id))
        return record if isinstance(record, PipelineSettings) else None

    def _context(
        self,
        opportunity_id: object,
        actor: UUID,
        at: datetime | None,
        correlation_id: UUID | None,
    ) -> tuple[Opportunity, Team, Meta, Credentials, MemberId | None]:
        """The opportunity, its team, the command's metadata, the actor's credentials and the
        account's accountable KAM at the command's moment."""
        record = self._get(Opportunity, opportunity_id, OpportunityNotFound, "opportunity_id")
        team, meta, by = self._team_context(record.team_id, actor, at, correlation_id)
        kam = self._accountable_kam(record.account_id, meta.at)
        return record, team, meta, by, kam

    @contextmanager
    def _changing(
        self,
        opportunity_id: object,
        actor: UUID,
        at: datetime | None,
        correlation_id: UUID | None,
    ) -> Iterator[tuple[Opportunity, Meta, Credentials, MemberId | None]]:
        """As :meth:`_context`; what the block records is committed when it ends (nothing,
        when it raises)."""
        record, _, meta, by, kam = self._context(opportunity_id, actor, at, correlation_id)
        yield record, meta, by, kam
        self._commit(record)
