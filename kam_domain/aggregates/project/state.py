"""What a project holds, as set up when it is initiated; its events' ``apply`` methods change it."""

from __future__ import annotations

from kam_domain.aggregates.base import CommandFamily
from kam_domain.aggregates.project.chain_records import ApprovalChain
from kam_domain.aggregates.project.enums import ProjectOutcome, ProjectStatus
from kam_domain.aggregates.project.records import (
    DiscountRequest,
    FeasibilityAssessment,
    ImplementationPlan,
    PriceBand,
    ProcurementQuote,
    ProjectContract,
    ProjectLedgerEntry,
    ProjectProposal,
    ProjectRisk,
    ReachedMilestone,
)
from kam_domain.transcoding import IdMap
from kam_domain.values import (
    AccountId,
    DiscountRequestId,
    MemberId,
    Percentage,
    QuoteId,
    RiskId,
    TeamId,
)


class ProjectState(CommandFamily):
    """The project's state, shared by every family of its commands."""

    def __init__(
        self,
        team_id: TeamId,
        account_id: AccountId,
        name: str,
        currency: str,
        project_director_id: MemberId,
        minimum_margin: Percentage,
    ) -> None:
        self.team_id = team_id
        self.account_id = account_id
        self.name = name
        self.currency = currency
        self.project_director_id = project_director_id
        self.minimum_margin = minimum_margin
        self.status = ProjectStatus.INITIATED
        self.outcome: ProjectOutcome | None = None
        self.feasibility: FeasibilityAssessment | None = None
        self.presales_support: list[MemberId] = []
        self.proposals: list[ProjectProposal] = []
        self.contract: ProjectContract | None = None
        self.lost_reason: str | None = None
        self.plan: ImplementationPlan | None = None
        self.milestones: list[ReachedMilestone] = []
        self.risks: IdMap[RiskId, ProjectRisk] = IdMap()
        self.price_band: PriceBand | None = None
        self.discount_requests: IdMap[DiscountRequestId, DiscountRequest] = IdMap()
        self.quotes: IdMap[QuoteId, ProcurementQuote] = IdMap()
        self.costs: list[ProjectLedgerEntry] = []
        self.revenues: list[ProjectLedgerEntry] = []
        #: The approval chains of requests the team's rules gave steps to, by request.
        self.approval_chains: IdMap[DiscountRequestId, ApprovalChain] = IdMap()

    @property
    def is_closed(self) -> bool:
        return self.status is ProjectStatus.CLOSED
