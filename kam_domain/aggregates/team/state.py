"""What a team holds, as set up when it is formed; its events' ``apply`` methods change it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from kam_domain.aggregates.base import CommandFamily
from kam_domain.aggregates.team.chain_records import ApprovalChainRules
from kam_domain.aggregates.team.delegation_records import Delegation, DelegationId
from kam_domain.aggregates.team.records import (
    AuthorityGrant,
    EvaluationStandard,
    Member,
    TierWeights,
)
from kam_domain.transcoding import IdMap
from kam_domain.values import GrantId, MemberId, Percentage, Role, TeamId


class TeamState(CommandFamily):
    """The team's state, shared by every family of its commands."""

    def __init__(self, name: str, segment: str, region: str, default_capacity: int) -> None:
        self.name = name
        self.segment = segment
        self.region = region
        self.default_capacity = default_capacity
        self.tier_weights = TierWeights()
        self.members: IdMap[MemberId, Member] = IdMap()
        self.grants: IdMap[GrantId, AuthorityGrant] = IdMap()
        self.standards: list[tuple[datetime, EvaluationStandard]] = []
        #: Set by TopAuthoritySet; until then the top authority is the formation's grant.
        self.recorded_top_authority: Percentage | None = None
        #: Members who may record commands dated beyond the backdating window.
        self.history_importers: frozenset[MemberId] = frozenset()
        #: Seconds a command may be dated before the moment it is written (None: no limit).
        self.backdating_window: int | None = None
        #: Approval-chain rules, each from the moment it takes effect (sorted by it).
        self.chain_rules: list[tuple[datetime, ApprovalChainRules]] = []
        #: Approval authority delegated for a window, by delegation.
        self.delegations: IdMap[DelegationId, Delegation] = IdMap()
        #: (effective from, IANA zone name), in order; none recorded: the team keeps UTC.
        self.time_zones: list[tuple[datetime, str]] = []
        #: The currency the team reports in (None: nothing converts).
        self.reporting_currency: str | None = None
        #: (effective from, currency, into, rate), in order of their moments.
        self.exchange_rates: list[tuple[datetime, str, str, Decimal]] = []

    def authorising_team(self) -> TeamId:
        return TeamId(self.id)

    def active_members(self, *roles: Role) -> list[Member]:
        """Active members (of ``roles``, if given), in the order they joined."""
        return [m for m in self.members.values() if m.active and (not roles or m.role in roles)]
