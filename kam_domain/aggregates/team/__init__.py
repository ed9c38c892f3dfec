"""The key-account team (大客户营销团队): members in roles, supervisors, dated discount authority,
capacities, training and backups, and the evaluation standard set by the sales director.

Commands check their guards first and then record one or more events; nothing changes when a
guard raises. The Team is also where other aggregates' authorisation comes from:
:meth:`Team.credentials` says what a member may do at a given moment.

Where things live:

- :mod:`~kam_domain.aggregates.team.records`: members, authority grants, tier weights and the
  evaluation standard;
- :mod:`~kam_domain.aggregates.team.state`: what a team holds, as set up when it is formed;
- :mod:`~kam_domain.aggregates.team.guards`: the guards the commands share;
- one module per family of commands, with the events they record:
  :mod:`~kam_domain.aggregates.team.people` (members, roles, supervisors, capacity, training,
  backups), :mod:`~kam_domain.aggregates.team.discount_authority` (dated discount authority,
  授权范围, the team's top authority, and the credentials read from them),
  :mod:`~kam_domain.aggregates.team.backdating` (the backdating window and the permission to
  import history), :mod:`~kam_domain.aggregates.team.standards` (the assessment method,
  考核办法), :mod:`~kam_domain.aggregates.team.chain_rules` (the rules that choose a
  discount request's approval steps), :mod:`~kam_domain.aggregates.team.delegation`
  (approval authority delegated for a dated window), :mod:`~kam_domain.aggregates.team.zone`
  (the time zone its calendar follows) and :mod:`~kam_domain.aggregates.team.currencies` (the
  reporting currency and exchange rates);
- here, the aggregate: :class:`Team`, composed from those families, and its formation.

Stored topics: every event is written as ``kam_domain.aggregates.team:Team.<Event>``, the topic it
had when this was one module, and snapshots and ``Formed`` events name
``kam_domain.aggregates.team:Team``. eventsourcing forms a topic from a class's ``__module__`` and
``__qualname__``; the aggregate class is therefore defined here, in the module its topic names,
and takes its families' event classes in as its own when it is defined (see
:class:`~kam_domain.aggregates.base.CommandFamily`), which eventsourcing then redefines on it
under its topic. Old rows resolve to the same classes, and new events are written as before.
"""

from __future__ import annotations

from typing import Any, Self

from kam_domain.aggregates.base import KamAggregate, Meta, require_text
from kam_domain.aggregates.team.backdating import Backdating
from kam_domain.aggregates.team.chain_records import (
    ApprovalChainRules,
    ChainCondition,
    ChainRule,
)
from kam_domain.aggregates.team.chain_rules import ChainRules
from kam_domain.aggregates.team.currencies import Currencies, ExchangeRate
from kam_domain.aggregates.team.delegation import Delegations
from kam_domain.aggregates.team.delegation_records import Delegation, DelegationId, OnBehalf
from kam_domain.aggregates.team.discount_authority import APPROVER_ROLES, DiscountAuthority
from kam_domain.aggregates.team.guards import check_capacity
from kam_domain.aggregates.team.people import People
from kam_domain.aggregates.team.records import (
    AuthorityGrant,
    EvaluationStandard,
    Member,
    RatingBand,
    TierWeights,
    TrainingKind,
)
from kam_domain.aggregates.team.standards import Standards
from kam_domain.aggregates.team.zone import TimeZones
from kam_domain.errors import ValidationError
from kam_domain.transcoding import IdMap
from kam_domain.values import GrantId, MemberId, Percentage, Role, TeamId, require_percentage

__all__ = [
    "APPROVER_ROLES",
    "ApprovalChainRules",
    "AuthorityGrant",
    "ChainCondition",
    "ChainRule",
    "Delegation",
    "DelegationId",
    "EvaluationStandard",
    "ExchangeRate",
    "Member",
    "OnBehalf",
    "RatingBand",
    "Team",
    "TierWeights",
    "TrainingKind",
]


class Team(
    People,
    Delegations,
    DiscountAuthority,
    Backdating,
    Standards,
    ChainRules,
    TimeZones,
    Currencies,
    KamAggregate,
):
    """A key-account team and everything about its people that decisions depend on.

    The state a snapshot holds is at version 2: the approval-chain rules, the delegations, the
    time zones, the reporting currency and the exchange rates the team recorded. A version 1
    snapshot was taken before a team could record any (:meth:`upcast_v1_v2`).
    """

    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """A version 1 snapshot's team recorded no approval-chain rules and no delegations,
        no time zone (it keeps UTC), no reporting currency and no exchange rate (nothing
        converts)."""
        state.setdefault("chain_rules", [])
        state.setdefault("delegations", IdMap())
        state.setdefault("time_zones", [])
        state.setdefault("reporting_currency", None)
        state.setdefault("exchange_rates", [])

    class Formed(KamAggregate.Created):
        name: str
        segment: str
        region: str
        default_capacity: int

    @classmethod
    def form(
        cls,
        meta: Meta,
        team_id: TeamId,
        *,
        name: str,
        segment: str,
        region: str,
        director_id: MemberId,
        director_name: str,
        top_authority: Percentage,
        default_capacity: int = 12,
        import_history: bool = False,
    ) -> Self:
        """Form a team led by a senior sales director whose authority the company grants.

        ``import_history``: the team's history is being imported, and its director may record
        commands dated in the past (the permission is recorded, and can be revoked).
        """
        name = require_text("name", name)
        segment = require_text("segment", segment)
        region = require_text("region", region)
        director_name = require_text("director_name", director_name)
        check_capacity("default_capacity", default_capacity)
        require_percentage("top_authority", top_authority)
        team = cls._start(
            cls.Formed,
            meta,
            team_id,
            name=name,
            segment=segment,
            region=region,
            default_capacity=default_capacity,
        )
        team._record(
            cls.MemberJoined,
            meta,
            member_id=director_id,
            name=director_name,
            role=Role.SENIOR_SALES_DIRECTOR,
            supervisor_id=None,
        )
        grant = AuthorityGrant(
            GrantId(director_id),
            director_id,
            top_authority,
            meta.at,
            None,
            str(meta.actor),
        )
        team._record(cls.AuthorityGranted, meta, grant=grant, grantor=None)
        if import_history is True:
            team._record(cls.HistoryImportGranted, meta, member_id=director_id)
        elif import_history is not False:
            raise ValidationError("import_history", "must be True or False")
        return team
