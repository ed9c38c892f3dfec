"""The records of delegated approval authority (:mod:`kam_domain.aggregates.team.delegation`)."""

from __future__ import annotations

from datetime import datetime
from typing import NewType
from uuid import UUID

import attrs

from kam_domain.aggregates.credentials import Credentials
from kam_domain.transcoding import transcoded
from kam_domain.values import MemberId, Percentage

__all__ = ["Delegation", "DelegationId", "OnBehalf"]

DelegationId = NewType("DelegationId", UUID)


@transcoded
@attrs.frozen
class Delegation:
    """A member away lets another approve on their behalf, within a dated window, up to
    ``max_discount`` (None: as far as their own authority goes) and never beyond the delegator's
    authority in force at the moment of each approval."""

    delegation_id: DelegationId
    delegator_id: MemberId
    delegate_id: MemberId
    max_discount: Percentage | None
    valid_from: datetime
    valid_until: datetime
    reason: str
    granted_by: str
    ended_at: datetime | None = None

    def in_force(self, at: datetime, *, written: datetime | None = None) -> bool:
        """In force at ``at``; an end recorded by ``written`` counts even when it took effect
        later, as a revoked grant's does (a command dated back acts under no withdrawn
        delegation)."""
        if not self.valid_from <= at < self.valid_until:
            return False
        if self.ended_at is None:
            return True
        return at < self.ended_at and (written is None or self.ended_at > written)


@transcoded
@attrs.frozen
class OnBehalf:
    """What a delegate may approve on the delegator's behalf at one moment: the delegation, the
    delegator's credentials then, and the credentials the delegate acts under (the delegate's
    identity, the delegator's role, the lesser of the delegation's limit and the delegator's
    authority in force)."""

    delegation_id: DelegationId
    delegator: Credentials
    credentials: Credentials
