"""Delegation commands of the facade: a member away lets another approve on their behalf for a
dated window, and the delegate approves so."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from kam_domain.aggregates.base import utc_now
from kam_domain.aggregates.team import Delegation, DelegationId
from kam_domain.application.discounts import DiscountCommands
from kam_domain.values import DiscountRequestId, MemberId, Percentage

__all__ = ["DelegationCommands"]


class DelegationCommands(DiscountCommands):
    """Granting and ending delegations on the team; approving on a delegator's behalf."""

    def delegate_authority(
        self,
        team_id: UUID,
        actor: UUID,
        *,
        delegator_id: UUID,
        delegate_id: UUID,
        valid_from: datetime,
        valid_until: datetime,
        reason: str,
        max_discount: Percentage | None = None,
        delegation_id: UUID | None = None,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> DelegationId:
        """``delegator_id`` (the actor, or a sales director for them) lets ``delegate_id``
        approve on their behalf from ``valid_from`` until ``valid_until``, up to
        ``max_discount`` (None: the delegator's whole authority in force)."""
        did = DelegationId(self._new("delegation_id", delegation_id, check_store=False))
        with self._changing_team(team_id, actor, at, correlation_id) as (team, meta, by):
            team.delegate_authority(
                meta,
                by,
                did,
                delegator_id=MemberId(delegator_id),
                delegate_id=MemberId(delegate_id),
                valid_from=valid_from,
                valid_until=valid_until,
                reason=reason,
                max_discount=max_discount,
            )
        return did

    def end_delegation(
        self,
        team_id: UUID,
        actor: UUID,
        delegation_id: UUID,
        *,
        reason: str,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """The delegator, back early, or a sales director ends a delegation from now on."""
        with self._changing_team(team_id, actor, at, correlation_id) as (team, meta, by):
            team.end_delegation(meta, by, DelegationId(delegation_id), reason=reason)

    def delegations(self, team_id: UUID) -> list[Delegation]:
        """Every delegation the team recorded, in the order granted (ended ones included)."""
        return list(self._team(team_id).delegations.values())

    def approve_discount_on_behalf(
        self,
        project_id: UUID,
        actor: UUID,
        request_id: UUID,
        *,
        delegator_id: UUID,
        at: datetime | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """The actor, a delegate, approves a request on ``delegator_id``'s behalf, within the
        delegation and the delegator's authority in force at ``at``."""
        project, team, meta, _ = self._project_context(project_id, actor, at, correlation_id)
        member_id = meta.actor.member_id
        assert member_id is not None  # _project_context refused any other actor
        # A delegation (or grant) ended by now no longer counts, even for a command dated back.
        on_behalf = team.on_behalf(member_id, MemberId(delegator_id), meta.at, written=utc_now())
        project.approve_discount(
            meta, on_behalf.credentials, DiscountRequestId(request_id), on_behalf=on_behalf
        )
        self._commit(project)
