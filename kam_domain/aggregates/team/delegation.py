"""Delegated approval authority: a member away (leave, travel) lets another member approve
discounts on their behalf for a dated window, with all of their authority or part of it (a lower
maximum percentage); granted, ended and kept on the record like authority grants.

The rules:

- the delegator holds an approver role and an authority in force when the window opens; the
  limit (if given) is not above it (``GrantBeyondOwnAuthority``); the delegate is another active
  member of an approver role; the window ends after it starts;
- the delegator grants it, or a sales director for them (a member away may not be reachable);
  a director recording another's delegation passes on no more than they could grant: never to
  themselves, never from a higher role than their own, never above their own authority in force
  when the window opens;
- the delegator, or a sales director, ends it from a moment on; approvals made under it stay;
- what the delegate may approve at a moment (:meth:`Delegations.on_behalf`): the lesser of the
  limit and the delegator's authority in force then, under the delegator's role; outside the
  window, after the end, or once the delegator holds no authority, nothing (``NoDelegation``).

How an approval on behalf is checked and recorded is the project's
(:mod:`kam_domain.aggregates.project.discounts`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from kam_domain.aggregates.base import KamAggregate, Meta, require_id, require_text, require_utc
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.team.delegation_records import Delegation, DelegationId, OnBehalf
from kam_domain.aggregates.team.discount_authority import APPROVER_ROLES, DiscountAuthority
from kam_domain.errors import (
    AlreadyExists,
    GrantBeyondOwnAuthority,
    InvalidTransition,
    NoDelegation,
    RoleRequired,
    ValidationError,
)
from kam_domain.values import MemberId, Percentage, require_percentage

if TYPE_CHECKING:
    from kam_domain.aggregates.team import Team
    from kam_domain.aggregates.team.records import Member

__all__ = ["Delegations"]


class Delegations(DiscountAuthority):
    """Delegating approval authority, ending a delegation, and reading what a delegate holds."""

    class AuthorityDelegated(KamAggregate.Event):
        delegation: Delegation
        #: The delegator's credentials when the window opens: the authority delegated from.
        delegator: Credentials
        #: Who recorded it: the delegator, or a sales director for them.
        granted_by: Credentials

        def apply(self, team: Team) -> None:
            team.delegations[self.delegation.delegation_id] = self.delegation

    class DelegationEnded(KamAggregate.Event):
        delegation_id: DelegationId
        reason: str

        def apply(self, team: Team) -> None:
            delegation = team.delegations[self.delegation_id]
            team.delegations[self.delegation_id] = attrs.evolve(delegation, ended_at=self.timestamp)

    def delegate_authority(
        self,
        meta: Meta,
        by: Credentials,
        delegation_id: DelegationId,
        *,
        delegator_id: MemberId,
        delegate_id: MemberId,
        valid_from: datetime,
        valid_until: datetime,
        reason: str,
        max_discount: Percentage | None = None,
    ) -> None:
        """Let ``delegate_id`` approve on ``delegator_id``'s behalf from ``valid_from`` until
        ``valid_until``, up to ``max_discount`` (None: the delegator's whole authority)."""
        require_id("delegation_id", delegation_id)
        start = require_utc("valid_from", valid_from)
        end = require_utc("valid_until", valid_until)
        if end <= start:
            raise ValidationError("valid_until", "must be after valid_from")
        reason = require_text("reason", reason)
        if max_discount is not None:
            require_percentage("max_discount", max_discount)
        if by.member_id != delegator_id:
            by.require_director("actor")
        delegator = self._active("delegator_id", delegator_id)
        delegate = self._active("delegate_id", delegate_id)
        if delegate_id == delegator_id:
            raise ValidationError("delegate_id", "a member delegates to another member")
        for field, member in (("delegator_id", delegator), ("delegate_id", delegate)):
            if member.role not in APPROVER_ROLES:
                msg = f"{field}: a {member.role.label} holds no approval authority"
                raise RoleRequired(msg)
        if delegation_id in self.delegations:
            raise AlreadyExists(f"delegation_id: {delegation_id} was already granted")
        own = self.credentials(delegator_id, start, written=meta.at)
        held = own.discount_authority
        if held is None or (max_discount is not None and max_discount > held):
            asked = "any" if max_discount is None else str(max_discount)
            msg = (
                f"max_discount: {delegator.name} holds {held or 'none'} at"
                f" {start.isoformat()} and cannot delegate {asked}"
            )
            raise GrantBeyondOwnAuthority(msg)
        if by.member_id != delegator_id:
            delegated = held if max_discount is None else max_discount
            self._require_recorder_covers(by, delegator, delegate_id, start, delegated)
        delegation = Delegation(
            delegation_id,
            delegator_id,
            delegate_id,
            max_discount,
            start,
            end,
            reason,
            str(meta.actor),
        )
        self._record(
            self.AuthorityDelegated, meta, delegation=delegation, delegator=own, granted_by=by
        )

    def end_delegation(
        self, meta: Meta, by: Credentials, delegation_id: DelegationId, *, reason: str
    ) -> None:
        """The delegator (back early) or a sales director ends a delegation from now on."""
        reason = require_text("reason", reason)
        delegation = self.delegations.get(delegation_id)
        if delegation is None:
            raise ValidationError("delegation_id", f"no delegation {delegation_id}")
        if by.member_id != delegation.delegator_id:
            by.require_director("actor")
        if delegation.ended_at is not None:
            raise InvalidTransition(f"delegation_id: {delegation_id} was already ended")
        if meta.at >= delegation.valid_until:
            raise InvalidTransition(f"delegation_id: {delegation_id} ended with its window")
        self._record(self.DelegationEnded, meta, delegation_id=delegation_id, reason=reason)

    def _require_recorder_covers(
        self,
        by: Credentials,
        delegator: Member,
        delegate_id: MemberId,
        start: datetime,
        delegated: Percentage,
    ) -> None:
        """A director recording another member's delegation passes on no more than they could
        grant themselves: not to themselves, not from a higher role than their own, and not
        above their own authority in force when the window opens (as a grant is held)."""
        by.require_not("actor", delegate_id)
        if APPROVER_ROLES.index(delegator.role) > APPROVER_ROLES.index(by.role):
            msg = (
                f"actor: {by.name} is a {by.role.label} and cannot record the delegation of a"
                f" {delegator.role.label}"
            )
            raise RoleRequired(msg)
        own = self.credentials(by.member_id, start).discount_authority
        held = by.discount_authority
        own = None if own is None or held is None else min(own, held)
        if own is None or delegated > own:
            msg = (
                f"max_discount: {by.name} holds {own or 'none'} and cannot record a delegation"
                f" of {delegated}"
            )
            raise GrantBeyondOwnAuthority(msg)

    # -- queries -----------------------------------------------------------------------------------

    def delegations_to(self, delegate_id: MemberId, at: datetime) -> list[Delegation]:
        """The delegations in force to ``delegate_id`` at ``at``, in the order granted."""
        return [
            d for d in self.delegations.values() if d.delegate_id == delegate_id and d.in_force(at)
        ]

    def on_behalf(
        self,
        delegate_id: MemberId,
        delegator_id: MemberId,
        at: datetime,
        *,
        written: datetime | None = None,
    ) -> OnBehalf:
        """What ``delegate_id`` may approve on ``delegator_id``'s behalf at ``at``: the widest
        delegation in force between them, capped by the delegator's authority in force."""
        delegate = self.credentials(delegate_id, at, written=written)
        delegator = self.credentials(delegator_id, at, written=written)
        held = delegator.discount_authority
        found = [
            d
            for d in self.delegations.values()
            if d.delegate_id == delegate_id
            and d.delegator_id == delegator_id
            and d.in_force(at, written=written)
        ]
        if not found or held is None or not delegate.active:
            msg = (
                f"on_behalf_of: {delegate.name} holds no delegation from {delegator.name}"
                f" in force at {at.isoformat()}"
            )
            raise NoDelegation(msg)
        best = max(found, key=lambda d: (d.max_discount or held, d.valid_from))
        limit = held if best.max_discount is None else min(best.max_discount, held)
        acting = attrs.evolve(
            delegate,
            role=delegator.role,
            discount_authority=limit,
            grant_id=delegator.grant_id,
        )
        return OnBehalf(best.delegation_id, delegator, acting)
