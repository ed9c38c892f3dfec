"""A project for a client account (立项 to closing): feasibility, presales, bid, contract,
implementation and its milestones, risks, the price band and discount approvals within authority,
third-party procurement, and the project's profit and loss (总损益).

Commands check their guards first and then record one event; nothing changes when a guard raises.
The credentials a command needs (the actor's, and those of any other member it names) come from
the Team at the command's effective time; decision events keep a copy, so an auditor sees the role
and the authority that were in force when the decision was made.

Where things live:

- :mod:`~kam_domain.aggregates.project.enums`: where a project stands, outcomes, verdicts,
  milestones;
- :mod:`~kam_domain.aggregates.project.records`: the records a project holds;
- :mod:`~kam_domain.aggregates.project.state`: what a project holds, as set up when initiated;
- :mod:`~kam_domain.aggregates.project.guards`: the guards the commands share;
- one module per family of commands, with the events they record:
  :mod:`~kam_domain.aggregates.project.lifecycle` (立项 to closing),
  :mod:`~kam_domain.aggregates.project.risks`,
  :mod:`~kam_domain.aggregates.project.discounts` (the price band, the minimum margin and
  discount approval within authority, 授权范围),
  :mod:`~kam_domain.aggregates.project.chains` (approval chains: a request's steps, their
  escalation, and recalls) and
  :mod:`~kam_domain.aggregates.project.procurement` (third-party quotes, costs, revenue, profit
  and loss);
- here, the aggregate: :class:`Project`, composed from those families.

Stored topics: every event is written as ``kam_domain.aggregates.project:Project.<Event>``, the
topic it had when this was one module, and snapshots and ``Initiated`` events name
``kam_domain.aggregates.project:Project``. eventsourcing forms a topic from a class's
``__module__`` and ``__qualname__``; the aggregate class is therefore defined here, in the module
its topic names, and takes its families' event classes in as its own when it is defined (see
:class:`~kam_domain.aggregates.base.CommandFamily`), which eventsourcing then redefines on it
under its topic. Old rows resolve to the same classes, and new events are written as before.
"""

from __future__ import annotations

from typing import Any

from kam_domain.aggregates.base import KamAggregate
from kam_domain.aggregates.project.chain_records import ApprovalChain, ApprovalStep, StepApproval
from kam_domain.aggregates.project.chains import ApprovalChains
from kam_domain.aggregates.project.discounts import (
    DEFAULT_MINIMUM_MARGIN,
    REQUESTER_ROLES,
    Discounts,
)
from kam_domain.aggregates.project.enums import (
    DiscountOutcome,
    FeasibilityVerdict,
    ProjectMilestone,
    ProjectOutcome,
    ProjectStatus,
)
from kam_domain.aggregates.project.lifecycle import Lifecycle
from kam_domain.aggregates.project.procurement import QUOTE_ROLES, Procurement
from kam_domain.aggregates.project.records import (
    DiscountDecision,
    DiscountRequest,
    FeasibilityAssessment,
    ImplementationPlan,
    PlannedMilestone,
    PriceBand,
    ProcurementQuote,
    ProfitAndLoss,
    ProjectContract,
    ProjectLedgerEntry,
    ProjectProposal,
    ProjectRisk,
    ReachedMilestone,
)
from kam_domain.aggregates.project.risks import Risks
from kam_domain.aggregates.team import APPROVER_ROLES
from kam_domain.transcoding import IdMap

__all__ = [
    "APPROVER_ROLES",
    "DEFAULT_MINIMUM_MARGIN",
    "QUOTE_ROLES",
    "REQUESTER_ROLES",
    "ApprovalChain",
    "ApprovalStep",
    "DiscountDecision",
    "DiscountOutcome",
    "DiscountRequest",
    "FeasibilityAssessment",
    "FeasibilityVerdict",
    "ImplementationPlan",
    "PlannedMilestone",
    "PriceBand",
    "ProcurementQuote",
    "ProfitAndLoss",
    "Project",
    "ProjectContract",
    "ProjectLedgerEntry",
    "ProjectMilestone",
    "ProjectOutcome",
    "ProjectProposal",
    "ProjectRisk",
    "ProjectStatus",
    "ReachedMilestone",
    "StepApproval",
]


class Project(ApprovalChains, Lifecycle, Risks, Discounts, Procurement, KamAggregate):
    """A project for one client account, led by a project director, from 立项 to closing.

    Snapshots of version 1 hold no approval chains (:meth:`upcast_v1_v2`).
    """

    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """A project snapshotted before approval chains existed had none."""
        state.setdefault("approval_chains", IdMap())
