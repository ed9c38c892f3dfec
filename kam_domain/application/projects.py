"""Project commands and queries of the facade."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from uuid import UUID

from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.project import (
    FeasibilityVerdict,
    Project,
    ProjectMilestone,
    ProjectOutcome,
)
from kam_domain.aggregates.team import Team
from kam_domain.application.core import ApplicationCore
from kam_domain.application.directory import Entry
from kam_domain.errors import AccountNotFound, AlreadyExists, ProjectNotFound
from kam_domain.values import (
    AccountId,
    Money,
    Percentage,
    ProjectId,
    QuoteId,
    RiskId,
    Severity,
    TeamId,
)

__all__ = ["ProjectCommands"]


class ProjectCommands(ApplicationCore):
    """Projects for client accounts: lifecycle, procurement, costs and revenue (pricing and
    discounts: :class:`~kam_domain.application.discounts.DiscountCommands`)."""

    # -- lifecycle -----------------------------------------------------------------------------

    def initiate_project(
        self,
        account_id: UUID,
        actor: UUID,
        *,
        name: str,
        currency: str,
        project_director_id: UUID,
        project_id: UUID | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> ProjectId:
        """立项: open a project for an account, led by a project director of the account's team.

        Project names are unique within their account (case and spaces ignored).
        """
        account = self._get(ClientAccount, account_id, AccountNotFound, "account_id")
        team, meta, by = self._team_context(account.team_id, actor, at, correlation_id)
        project_director = self._credentials(
            team, project_director_id, meta.at, "project_director_id"
        )
        pid = ProjectId(self._new("project_id", project_id))
        project = Project.initiate(
            meta,
            by,
            pid,
            team_id=TeamId(team.id),
            account_id=AccountId(account_id),
            name=name,
            currency=currency,
            project_director=project_director,
            account_manager_id=self._accountable_kam(account_id, meta.at),
        )
        if self._listing(team.id).named("project", project.name, account_id=account_id):
            msg = f"name: the account already has a project named {project.name!r}"
            raise AlreadyExists(msg)
        entry = Entry("project", project.name, team.id, account_id)
        self._commit(project, *self._listed(meta, pid, entry))
        return pid

    def change_project_director(
        self,
        project_id: UUID,
        actor: UUID,
        *,
        project_director_id: UUID,
        reason: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        project, team, meta, by = self._project_context(project_id, actor, at, correlation_id)
        project_director = self._credentials(
            team, project_director_id, meta.at, "project_director_id"
        )
        project.change_project_director(meta, by, project_director, reason=reason)
        self._commit(project)

    def assess_feasibility(
        self,
        project_id: UUID,
        actor: UUID,
        *,
        verdict: FeasibilityVerdict,
        value_positioning: str,
        risks: Iterable[str] = (),
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        project, _, meta, by = self._project_context(project_id, actor, at, correlation_id)
        project.assess_feasibility(
            meta, by, verdict=verdict, value_positioning=value_positioning, risks=risks
        )
        self._commit(project)

    def assign_presales_support(
        self,
        project_id: UUID,
        actor: UUID,
        member_id: UUID,
        *,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        project, team, meta, by = self._project_context(project_id, actor, at, correlation_id)
        member = self._credentials(team, member_id, meta.at, "member_id")
        project.assign_presales_support(meta, by, member)
        self._commit(project)

    def submit_proposal(
        self,
        project_id: UUID,
        actor: UUID,
        *,
        amount: Money,
        summary: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        with self._changing_project(project_id, actor, at, correlation_id) as (project, meta, by):
            project.submit_proposal(meta, by, amount=amount, summary=summary)

    def sign_contract(
        self,
        project_id: UUID,
        actor: UUID,
        *,
        value: Money,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        with self._changing_project(project_id, actor, at, correlation_id) as (project, meta, by):
            project.sign_contract(meta, by, value=value)

    def mark_project_lost(
        self,
        project_id: UUID,
        actor: UUID,
        *,
        reason: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        with self._changing_project(project_id, actor, at, correlation_id) as (project, meta, by):
            project.mark_lost(meta, by, reason=reason)

    def plan_implementation(
        self,
        project_id: UUID,
        actor: UUID,
        *,
        milestones: Iterable[tuple[str, datetime]],
        headcount: int,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        with self._changing_project(project_id, actor, at, correlation_id) as (project, meta, by):
            project.plan_implementation(meta, by, milestones=milestones, headcount=headcount)

    def reach_milestone(
        self,
        project_id: UUID,
        actor: UUID,
        milestone: ProjectMilestone,
        *,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        with self._changing_project(project_id, actor, at, correlation_id) as (project, meta, by):
            project.reach_milestone(meta, by, milestone)

    def identify_risk(
        self,
        project_id: UUID,
        actor: UUID,
        *,
        description: str,
        severity: Severity = Severity.MEDIUM,
        risk_id: UUID | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> RiskId:
        project, _, meta, by = self._project_context(project_id, actor, at, correlation_id)
        rid = RiskId(self._new("risk_id", risk_id, check_store=False))
        project.identify_risk(meta, by, rid, description=description, severity=severity)
        self._commit(project)
        return rid

    def close_risk(
        self,
        project_id: UUID,
        actor: UUID,
        risk_id: UUID,
        *,
        resolution: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        with self._changing_project(project_id, actor, at, correlation_id) as (project, meta, by):
            project.close_risk(meta, by, RiskId(risk_id), resolution=resolution)

    def close_project(
        self,
        project_id: UUID,
        actor: UUID,
        *,
        outcome: ProjectOutcome,
        note: str | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        with self._changing_project(project_id, actor, at, correlation_id) as (project, meta, by):
            project.close(meta, by, outcome=outcome, note=note)

    # -- procurement, costs and revenue --------------------------------------------------------

    def record_quote(
        self,
        project_id: UUID,
        actor: UUID,
        *,
        vendor: str,
        list_price: Money,
        discount: Percentage,
        quote_id: UUID | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> QuoteId:
        project, _, meta, by = self._project_context(project_id, actor, at, correlation_id)
        qid = QuoteId(self._new("quote_id", quote_id, check_store=False))
        project.record_quote(meta, by, qid, vendor=vendor, list_price=list_price, discount=discount)
        self._commit(project)
        return qid

    def confirm_quote(
        self,
        project_id: UUID,
        actor: UUID,
        quote_id: UUID,
        *,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        with self._changing_project(project_id, actor, at, correlation_id) as (project, meta, by):
            project.confirm_quote(meta, by, QuoteId(quote_id))

    def record_cost(
        self,
        project_id: UUID,
        actor: UUID,
        *,
        amount: Money,
        category: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        with self._changing_project(project_id, actor, at, correlation_id) as (project, meta, by):
            project.record_cost(meta, by, amount=amount, category=category)

    def record_revenue(
        self,
        project_id: UUID,
        actor: UUID,
        *,
        amount: Money,
        category: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        with self._changing_project(project_id, actor, at, correlation_id) as (project, meta, by):
            project.record_revenue(meta, by, amount=amount, category=category)

    # -- queries -------------------------------------------------------------------------------

    def get_project(
        self, project_id: UUID, *, version: int | None = None, at: datetime | None = None
    ) -> Project:
        """The project as now, at ``version``, or as it stood at the moment ``at``."""
        return self._get(Project, project_id, ProjectNotFound, "project_id", version=version, at=at)

    def projects(
        self, team_id: UUID | None = None, account_id: UUID | None = None
    ) -> list[Project]:
        """Projects (of a team, of an account), in the order they were initiated."""
        where: dict[str, UUID] = {}
        if team_id is not None:
            where["team_id"] = team_id
        if account_id is not None:
            where["account_id"] = account_id
        if account_id is not None and team_id is None:
            team_id = self._get(ClientAccount, account_id, AccountNotFound, "account_id").team_id
        listing = self._listing(team_id)
        return [self._project(pid) for pid in listing.ids("project", **where)]

    # -- helpers -------------------------------------------------------------------------------

    def _project(self, project_id: object) -> Project:
        return self._get(Project, project_id, ProjectNotFound, "project_id")

    def _project_context(
        self,
        project_id: object,
        actor: UUID,
        at: datetime | None,
        correlation_id: UUID | None,
    ) -> tuple[Project, Team, Meta, Credentials]:
        """Load the project and its team, stamp the command, and find the actor's credentials."""
        project = self._project(project_id)
        team, meta, by = self._team_context(project.team_id, actor, at, correlation_id)
        return project, team, meta, by

    @contextmanager
    def _changing_project(
        self,
        project_id: object,
        actor: UUID,
        at: datetime | None,
        correlation_id: UUID | None,
    ) -> Iterator[tuple[Project, Meta, Credentials]]:
        """The project, the command's metadata and the actor's credentials; what the block
        records is committed when it ends (nothing, when it raises)."""
        project, _, meta, by = self._project_context(project_id, actor, at, correlation_id)
        yield project, meta, by
        self._commit(project)
