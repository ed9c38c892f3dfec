"""Pricing and discount commands and queries of the facade: a project's price band and minimum
margin, discount requests and their single approvals (授权范围: each approver's authority in
force at the moment), escalations and rejections; chains of steps and delegated approvals
build on these (:mod:`~kam_domain.application.approval_chains`,
:mod:`~kam_domain.application.delegations`)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import attrs

from kam_domain.aggregates.base import Meta, utc_now
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.project import (
    DiscountRequest,
    Project,
)
from kam_domain.aggregates.team import Team
from kam_domain.application.projects import ProjectCommands
from kam_domain.errors import ValidationError
from kam_domain.values import (
    AccountId,
    Actor,
    DiscountRequestId,
    Money,
    Percentage,
    ProjectId,
    Role,
)

__all__ = ["DiscountCommands", "PendingDiscount"]


@attrs.frozen
class PendingDiscount:
    """A discount request waiting for a decision, with the project it belongs to."""

    project_id: ProjectId
    project_name: str
    account_id: AccountId
    request: DiscountRequest


class DiscountCommands(ProjectCommands):
    """Discounts on projects: the price band and margin they are judged by, requests, their
    approval, escalation and rejection."""

    def set_price_band(
        self,
        project_id: UUID,
        actor: UUID,
        *,
        list_price: Money,
        floor: Money,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        with self._changing_project(project_id, actor, at, correlation_id) as (project, meta, by):
            project.set_price_band(meta, by, list_price=list_price, floor=floor)

    def set_minimum_margin(
        self,
        project_id: UUID,
        actor: UUID,
        *,
        minimum_margin: Percentage,
        reason: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        with self._changing_project(project_id, actor, at, correlation_id) as (project, meta, by):
            project.set_minimum_margin(meta, by, minimum_margin=minimum_margin, reason=reason)

    def request_discount(
        self,
        project_id: UUID,
        actor: UUID,
        *,
        percentage: Percentage,
        justification: str,
        request_id: UUID | None = None,
        unusual_terms: str | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> DiscountRequestId:
        """Ask for a discount; the team's approval-chain rules in force at ``at`` give it its
        steps, if any (``unusual_terms``: what is unusual in the contract, for a legal review)."""
        project, team, meta, by = self._project_context(project_id, actor, at, correlation_id)
        rid = DiscountRequestId(self._new("request_id", request_id, check_store=False))
        project.request_discount(
            meta,
            by,
            rid,
            percentage=percentage,
            justification=justification,
            chain_rules=team.chain_rules_at(meta.at),
            unusual_terms=unusual_terms,
        )
        self._commit(project)
        return rid

    def approve_discount(
        self,
        project_id: UUID,
        actor: UUID | Actor,
        request_id: UUID,
        *,
        approver_id: UUID | None = None,
        decided_by: str | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """Approve under the approver's authority in force at ``at`` (read from the Team).

        A member approves as themselves; a system :class:`Actor` names ``approver_id``,
        the member whose authority it applies, and is recorded as the deciding system. A policy
        cannot be named here (``PolicyImpersonation``): only the engine acts as a policy.
        """
        project = self._project(project_id)
        team = self._team(project.team_id)
        meta = self._meta(actor, at, correlation_id)
        approver = self._approver(team, meta, approver_id)
        project.approve_discount(
            meta, approver, DiscountRequestId(request_id), decided_by=decided_by
        )
        self._commit(project)

    def escalate_discount(
        self,
        project_id: UUID,
        actor: UUID | Actor,
        request_id: UUID,
        *,
        to_role: Role,
        reason: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """Route a request up to ``to_role``; a system :class:`Actor` acts without credentials."""
        project, _, meta, by = self._decider_context(project_id, actor, at, correlation_id)
        project.escalate_discount(
            meta, by, DiscountRequestId(request_id), to_role=to_role, reason=reason
        )
        self._commit(project)

    def reject_discount(
        self,
        project_id: UUID,
        actor: UUID | Actor,
        request_id: UUID,
        *,
        reason: str,
        decided_by: str | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """Reject a request; a system :class:`Actor` acts without credentials."""
        project, _, meta, by = self._decider_context(project_id, actor, at, correlation_id)
        project.reject_discount(
            meta, by, DiscountRequestId(request_id), reason=reason, decided_by=decided_by
        )
        self._commit(project)

    # -- queries -------------------------------------------------------------------------------

    def pending_discount_requests(self, team_id: UUID) -> list[PendingDiscount]:
        """The team's undecided discount requests on open projects, oldest first."""
        self._team(team_id)
        pending = [
            PendingDiscount(ProjectId(project.id), project.name, project.account_id, request)
            for project in self.projects(team_id=team_id)
            for request in project.pending_discount_requests()
        ]
        return sorted(pending, key=lambda item: item.request.requested_at)

    # -- helpers -------------------------------------------------------------------------------

    def _decider_context(
        self,
        project_id: object,
        actor: UUID | Actor,
        at: datetime | None,
        correlation_id: UUID | None,
    ) -> tuple[Project, Team, Meta, Credentials | None]:
        """As :meth:`_project_context`, but a policy or system actor comes without credentials."""
        project = self._project(project_id)
        team = self._team(project.team_id)
        meta = self._meta(actor, at, correlation_id)
        by = None if meta.actor.member_id is None else self._actor_credentials(team, meta)
        return project, team, meta, by

    def _approver(self, team: Team, meta: Meta, approver_id: object) -> Credentials:
        member_id = meta.actor.member_id
        if member_id is None:
            if approver_id is None:
                raise ValidationError("approver_id", f"{meta.actor} must name the approver")
            # The approver's authority counts as far as it is not withdrawn by now either.
            return self._credentials(team, approver_id, meta.at, "approver_id", written=utc_now())
        if approver_id is not None and approver_id != member_id:
            msg = "a member approves as themselves; approver_id must be the actor or omitted"
            raise ValidationError("approver_id", msg)
        return self._actor_credentials(team, meta)
