"""Approval-chain commands and queries of the facade: the team's chain rules, a chained
request's steps, their escalation, and recalling a request."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from kam_domain.aggregates.base import utc_now
from kam_domain.aggregates.project import ApprovalChain
from kam_domain.aggregates.team import ApprovalChainRules
from kam_domain.application.discounts import DiscountCommands
from kam_domain.values import Actor, DiscountRequestId, MemberId

__all__ = ["ApprovalChainCommands"]


class ApprovalChainCommands(DiscountCommands):
    """Chain rules on the team; steps, escalations and recalls on a project's requests."""

    def set_approval_chain_rules(
        self,
        team_id: UUID,
        actor: UUID,
        rules: ApprovalChainRules,
        *,
        effective_from: datetime | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """A sales director sets the rules that choose discount requests' approval steps, from
        ``effective_from`` (default: the command's moment) on."""
        with self._changing_team(team_id, actor, at, correlation_id) as (team, meta, by):
            team.set_approval_chain_rules(meta, by, rules, effective_from=effective_from)

    def approve_discount_step(
        self,
        project_id: UUID,
        actor: UUID,
        request_id: UUID,
        *,
        step: int,
        on_behalf_of: UUID | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """Approve one step of a request's chain, under the actor's authority in force at
        ``at`` (or, with ``on_behalf_of``, under what that member delegated to the actor);
        the last step approves the request."""
        project, team, meta, by = self._project_context(project_id, actor, at, correlation_id)
        on_behalf = None
        if on_behalf_of is not None:
            # A delegation (or grant) ended by now no longer counts, even for a command dated
            # back.
            on_behalf = team.on_behalf(
                by.member_id, MemberId(on_behalf_of), meta.at, written=utc_now()
            )
            by = on_behalf.credentials
        project.approve_discount_step(
            meta, by, DiscountRequestId(request_id), step=step, on_behalf=on_behalf
        )
        self._commit(project)

    def escalate_discount_step(
        self,
        project_id: UUID,
        actor: UUID | Actor,
        request_id: UUID,
        *,
        step: int,
        reason: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """Pass an open step one role up; a system :class:`Actor` acts without credentials."""
        project, _, meta, by = self._decider_context(project_id, actor, at, correlation_id)
        project.escalate_discount_step(
            meta, by, DiscountRequestId(request_id), step=step, reason=reason
        )
        self._commit(project)

    def recall_discount(
        self,
        project_id: UUID,
        actor: UUID,
        request_id: UUID,
        *,
        reason: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """The requester withdraws a pending discount request."""
        with self._changing_project(project_id, actor, at, correlation_id) as (project, meta, by):
            project.recall_discount(meta, by, DiscountRequestId(request_id), reason=reason)

    def approval_chain(self, project_id: UUID, request_id: UUID) -> ApprovalChain | None:
        """The request's approval chain as it stands; None for a single approval."""
        return self._project(project_id).approval_chain(DiscountRequestId(request_id))
