"""Where a project stands, how it ended, feasibility verdicts, implementation milestones and
the outcomes of discount decisions."""

from __future__ import annotations

import enum

from kam_domain.transcoding import transcoded


class ProjectStatus(enum.Enum):
    """Where a project stands; pricing is open until the contract is signed or lost."""

    INITIATED = "initiated"
    ASSESSED = "assessed"
    PROPOSED = "proposed"
    CONTRACTED = "contracted"
    IMPLEMENTING = "implementing"
    LOST = "lost"
    CLOSED = "closed"

    @property
    def before_contract(self) -> bool:
        return self in (ProjectStatus.INITIATED, ProjectStatus.ASSESSED, ProjectStatus.PROPOSED)


class ProjectOutcome(enum.Enum):
    WON = "won"
    LOST = "lost"
    CANCELLED = "cancelled"


class FeasibilityVerdict(enum.Enum):
    FEASIBLE = "feasible"
    FEASIBLE_WITH_CONDITIONS = "feasible_with_conditions"
    NOT_FEASIBLE = "not_feasible"


class ProjectMilestone(enum.Enum):
    """Implementation milestones, reached in this order, each once."""

    INSTALLED = "installed"
    TRIAL_RUN = "trial_run"
    ACCEPTED = "accepted"
    MAINTENANCE = "maintenance"


class DiscountOutcome(enum.Enum):
    APPROVED = "approved"
    REJECTED = "rejected"
    #: The requester withdrew the request while it was pending.
    RECALLED = "recalled"


for _enum in (
    ProjectStatus,
    ProjectOutcome,
    FeasibilityVerdict,
    ProjectMilestone,
    DiscountOutcome,
):
    transcoded(_enum)

MILESTONES = list(ProjectMilestone)
