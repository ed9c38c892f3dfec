"""Discount authority (授权范围) as the team grants it: dated grants to the approver roles, each
within the grantor's own authority and under the team's top authority (which the company sets),
revocable from a moment on; and the credentials read from them, which say what a member may
approve at a given moment and which every other aggregate's commands are handed.

How a discount request is decided against those credentials is the project's
(:mod:`kam_domain.aggregates.project.discounts`) and the discount-approval policy's
(:mod:`kam_domain.policies.discount_approval`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from kam_domain.aggregates.base import KamAggregate, Meta, require_text, require_utc
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.team.guards import TeamGuards
from kam_domain.aggregates.team.records import AuthorityGrant
from kam_domain.errors import (
    AlreadyExists,
    GrantBeyondOwnAuthority,
    GrantBeyondTopAuthority,
    InvalidTransition,
    RoleRequired,
    ValidationError,
)
from kam_domain.values import (
    ActorKind,
    GrantId,
    MemberId,
    Percentage,
    Role,
    TeamId,
    require_percentage,
)

if TYPE_CHECKING:
    from kam_domain.aggregates.team import Team

#: Roles that may hold discount authority (授权范围); representatives never approve.
APPROVER_ROLES = (
    Role.KEY_ACCOUNT_MANAGER,
    Role.PROJECT_DIRECTOR,
    Role.SALES_DIRECTOR,
    Role.SENIOR_SALES_DIRECTOR,
)


class DiscountAuthority(TeamGuards):
    """Granting and revoking discount authority, the top authority, and credentials."""

    class AuthorityGranted(KamAggregate.Event):
        grant: AuthorityGrant
        #: The grantor's own credentials at the moment of granting (None for the company).
        grantor: Credentials | None

        def apply(self, team: Team) -> None:
            team.grants[self.grant.grant_id] = self.grant

    class TopAuthoritySet(KamAggregate.Event):
        """The company changed the team's top authority: no grant may exceed it from now on."""

        top_authority: Percentage

        def apply(self, team: Team) -> None:
            team.recorded_top_authority = self.top_authority

    class AuthorityRevoked(KamAggregate.Event):
        grant_id: GrantId
        reason: str

        def apply(self, team: Team) -> None:
            grant = team.grants[self.grant_id]
            team.grants[self.grant_id] = attrs.evolve(grant, revoked_at=self.timestamp)

    def grant_authority(
        self,
        meta: Meta,
        by: Credentials | None,
        grant_id: GrantId,
        member_id: MemberId,
        *,
        max_discount: Percentage,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
    ) -> None:
        """Grant a dated discount authority, within the grantor's own authority at that date.

        ``by`` is the granting director's credentials; ``None`` means the company itself
        (a system actor), which alone may grant a senior sales director beyond another's limit.
        """
        require_percentage("max_discount", max_discount)
        start = meta.at if valid_from is None else require_utc("valid_from", valid_from)
        end = None if valid_until is None else require_utc("valid_until", valid_until)
        if end is not None and end <= start:
            raise ValidationError("valid_until", "must be after valid_from")
        member = self._active("member_id", member_id)
        if member.role not in APPROVER_ROLES:
            msg = f"member_id: a {member.role.label} cannot hold discount authority"
            raise RoleRequired(msg)
        if max_discount > self.top_authority:
            msg = (
                f"max_discount: {max_discount} is above the team's top authority"
                f" {self.top_authority}; the company raises that first (set_top_authority)"
            )
            raise GrantBeyondTopAuthority(msg)
        if grant_id in self.grants:
            raise AlreadyExists(f"grant_id: {grant_id} was already granted")
        if by is None:
            if meta.actor.kind is not ActorKind.SYSTEM:
                raise ValidationError("actor", "only a system actor grants without credentials")
        else:
            by.require_director("actor")
            by.require_not("actor", member_id)
            own = self.credentials(by.member_id, start).discount_authority
            # ``by`` holds what was in force when the command took effect and was written.
            held = by.discount_authority
            own = None if own is None or held is None else min(own, held)
            if own is None or max_discount > own:
                msg = (
                    f"max_discount: {by.name} holds {own or 'none'} and cannot grant {max_discount}"
                )
                raise GrantBeyondOwnAuthority(msg)
        grant = AuthorityGrant(grant_id, member_id, max_discount, start, end, str(meta.actor))
        self._record(self.AuthorityGranted, meta, grant=grant, grantor=by)

    def set_top_authority(self, meta: Meta, top_authority: Percentage) -> None:
        """The company (a system actor) sets the most any grant on the team may give.

        Grants already made keep their limits; from then on nobody grants above it.
        """
        if meta.actor.kind is not ActorKind.SYSTEM:
            msg = f"{meta.actor} cannot set the top authority; only the company (a system actor)"
            raise RoleRequired(f"actor: {msg}")
        require_percentage("top_authority", top_authority)
        if top_authority == self.top_authority:
            raise InvalidTransition(f"top_authority: it is already {top_authority}")
        self._record(self.TopAuthoritySet, meta, top_authority=top_authority)

    def revoke_authority(
        self, meta: Meta, by: Credentials, grant_id: GrantId, *, reason: str
    ) -> None:
        """A director revokes a grant from now on; its past approvals stay valid."""
        by.require_director("actor")
        reason = require_text("reason", reason)
        grant = self.grants.get(grant_id)
        if grant is None:
            raise ValidationError("grant_id", f"no grant {grant_id}")
        if grant.revoked_at is not None:
            raise InvalidTransition(f"grant_id: {grant_id} was already revoked")
        self._record(self.AuthorityRevoked, meta, grant_id=grant_id, reason=reason)

    # -- queries -----------------------------------------------------------------------------------

    @property
    def top_authority(self) -> Percentage:
        """The most any grant on the team may give: as the company last set it, else the
        senior sales director's grant at formation (a team's first grant)."""
        # Records folded or snapshotted before the top authority was recorded lack the field.
        recorded: Percentage | None = getattr(self, "recorded_top_authority", None)
        if recorded is not None:
            return recorded
        first = next(iter(self.grants.values()))
        return first.max_discount

    def credentials(
        self, member_id: MemberId, at: datetime, *, written: datetime | None = None
    ) -> Credentials:
        """What ``member_id`` may do at ``at``: role, standing and the widest grant in force.

        ``written``: the moment a command dated ``at`` is written. A grant revoked by then no
        longer counts, even where the revocation took effect after ``at``: a command dated
        back must not act under an authority already withdrawn. A grant's own end
        (``valid_until``) is part of the grant, known when it was made, and applies at ``at``.
        """
        member = self._member("member_id", member_id)
        in_force = [
            g
            for g in self.grants.values()
            if g.member_id == member_id
            and g.in_force(at)
            and (written is None or g.revoked_at is None or g.revoked_at > written)
        ]
        best = max(in_force, key=lambda g: (g.max_discount, g.valid_from), default=None)
        return Credentials(
            member_id=member_id,
            team_id=TeamId(self.id),
            name=member.name,
            role=member.role,
            active=member.active,
            supervisor_id=member.supervisor_id,
            at=at,
            discount_authority=best.max_discount if best and member.active else None,
            grant_id=best.grant_id if best and member.active else None,
        )
