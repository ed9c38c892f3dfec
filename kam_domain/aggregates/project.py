"""A project for a client account (立项 to closing): feasibility, presales, bid, contract,
implementation and its milestones, risks, the price band and discount approvals within authority,
third-party procurement, and the project's profit and loss (总损益).

Commands check their guards first and then record one event; nothing changes when a guard raises.
The credentials a command needs (the actor's, and those of any other member it names) come from
the Team at the command's effective time; decision events keep a copy, so an auditor sees the role
and the authority that were in force when the decision was made.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, Self
from uuid import UUID

import attrs

from kam_domain.aggregates.base import KamAggregate, Meta, require_text, require_utc
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.team import APPROVER_ROLES
from kam_domain.bounds import check_whole
from kam_domain.errors import (
    AlreadyDecided,
    AlreadyExists,
    CurrencyMismatch,
    DiscountRequestNotFound,
    InvalidTransition,
    MarginBelowMinimum,
    NotAuthorised,
    NotOnTeam,
    PriceBelowFloor,
    QuoteNotFound,
    RiskNotFound,
    RoleRequired,
    ValidationError,
)
from kam_domain.transcoding import IdMap, transcoded
from kam_domain.values import (
    AccountId,
    ActorKind,
    DiscountRequestId,
    MemberId,
    Money,
    Percentage,
    ProjectId,
    QuoteId,
    RiskId,
    Role,
    Severity,
    TeamId,
    require_amount,
    require_percentage,
)

__all__ = [
    "DEFAULT_MINIMUM_MARGIN",
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
]

#: The margin under which only a sales director may approve a discount, until a director sets
#: another; recorded on every project when it is initiated.
DEFAULT_MINIMUM_MARGIN = Percentage(Decimal(15))

#: Who may ask for a discount: anyone who may approve one, and the representatives who negotiate.
REQUESTER_ROLES = (*APPROVER_ROLES, Role.KEY_ACCOUNT_REPRESENTATIVE)

#: Who may record a vendor's quote: the project's people, and finance and admin who buy in.
QUOTE_ROLES = (
    Role.SENIOR_SALES_DIRECTOR,
    Role.SALES_DIRECTOR,
    Role.KEY_ACCOUNT_MANAGER,
    Role.PROJECT_DIRECTOR,
    Role.TECHNICAL_SUPPORT,
    Role.CONSULTANT,
    Role.SENIOR_ADMIN_MANAGER,
    Role.FINANCIAL_PLANNER,
)

_HUNDRED = Decimal(100)


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


for _enum in (
    ProjectStatus,
    ProjectOutcome,
    FeasibilityVerdict,
    ProjectMilestone,
    DiscountOutcome,
):
    transcoded(_enum)

_MILESTONES = list(ProjectMilestone)


def _as_tuple(values: Iterable[Any]) -> tuple[Any, ...]:
    """JSON gives lists back; records keep the tuples they were built with."""
    return tuple(values)


# -- records held in the project's state -------------------------------------------------------


@transcoded
@attrs.frozen
class FeasibilityAssessment:
    """The project director's verdict on whether (and how) the project can be delivered."""

    verdict: FeasibilityVerdict
    value_positioning: str
    risks: tuple[str, ...] = attrs.field(converter=_as_tuple)
    assessed_at: datetime
    assessed_by: MemberId


@transcoded
@attrs.frozen
class ProjectProposal:
    """A proposal or bid as submitted to the client; later revisions supersede earlier ones."""

    revision: int
    amount: Money
    summary: str
    submitted_at: datetime
    submitted_by: MemberId


@transcoded
@attrs.frozen
class ProjectContract:
    value: Money
    signed_at: datetime
    signed_by: MemberId


@transcoded
@attrs.frozen
class PlannedMilestone:
    name: str
    due: datetime


@transcoded
@attrs.frozen
class ImplementationPlan:
    milestones: tuple[PlannedMilestone, ...] = attrs.field(converter=_as_tuple)
    headcount: int
    planned_at: datetime
    planned_by: MemberId


@transcoded
@attrs.frozen
class ReachedMilestone:
    milestone: ProjectMilestone
    reached_at: datetime
    reached_by: MemberId


@transcoded
@attrs.frozen
class ProjectRisk:
    risk_id: RiskId
    description: str
    severity: Severity
    identified_at: datetime
    identified_by: MemberId
    closed_at: datetime | None = None
    resolution: str | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@transcoded
@attrs.frozen
class PriceBand:
    """The list price and the floor no discount may go below, in the project's currency."""

    list_price: Money
    floor: Money
    set_at: datetime
    set_by: MemberId

    def price_after(self, discount: Percentage) -> Money:
        """The list price less ``discount``."""
        return self.list_price * (1 - discount.fraction)


@transcoded
@attrs.frozen
class DiscountDecision:
    """How a discount request was decided, by whom, under which authority, by which policy."""

    outcome: DiscountOutcome
    decided_at: datetime
    #: "manual", or the deciding policy's name@version.
    decided_by: str
    #: The deciding member's credentials as the Team held them then (None for a policy alone).
    credentials: Credentials | None
    price: Money | None = None
    margin: Decimal | None = None
    reason: str | None = None


@transcoded
@attrs.frozen
class DiscountRequest:
    request_id: DiscountRequestId
    requester_id: MemberId
    percentage: Percentage
    justification: str
    requested_at: datetime
    #: The price asked for when requested: the list price then, less the percentage.
    price: Money
    escalated_to: Role | None = None
    decision: DiscountDecision | None = None

    @property
    def is_pending(self) -> bool:
        return self.decision is None


@transcoded
@attrs.frozen
class ProcurementQuote:
    """A third-party vendor's price for something the project buys in (第三方采购)."""

    quote_id: QuoteId
    vendor: str
    list_price: Money
    discount: Percentage
    net_cost: Money
    recorded_at: datetime
    recorded_by: MemberId
    confirmed_at: datetime | None = None
    confirmed_by: MemberId | None = None

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


@transcoded
@attrs.frozen
class ProjectLedgerEntry:
    """One recorded cost or revenue of the project."""

    amount: Money
    category: str
    recorded_at: datetime
    recorded_by: MemberId


@attrs.frozen
class ProfitAndLoss:
    """The project's total profit and loss (总损益) at one moment."""

    revenue: Money
    recorded_costs: Money
    procurement_costs: Money

    @property
    def cost(self) -> Money:
        """Recorded costs plus the net cost of every confirmed procurement quote."""
        return self.recorded_costs + self.procurement_costs

    @property
    def profit(self) -> Money:
        return self.revenue - self.cost

    @property
    def margin(self) -> Decimal | None:
        """Profit as a percentage of revenue; None while there is no revenue."""
        if self.revenue.is_zero:
            return None
        return self.profit.amount / self.revenue.amount * _HUNDRED


# -- the aggregate -----------------------------------------------------------------------------


class Project(KamAggregate):
    """A project for one client account, led by a project director, from 立项 to closing."""

    class Initiated(KamAggregate.Created):
        team_id: TeamId
        account_id: AccountId
        name: str
        currency: str
        project_director_id: MemberId
        minimum_margin: Percentage

    class ProjectDirectorChanged(KamAggregate.Event):
        project_director_id: MemberId
        reason: str

        def apply(self, project: Project) -> None:
            project.project_director_id = self.project_director_id

    class FeasibilityAssessed(KamAggregate.Event):
        assessment: FeasibilityAssessment

        def apply(self, project: Project) -> None:
            project.feasibility = self.assessment
            if project.status is ProjectStatus.INITIATED:
                project.status = ProjectStatus.ASSESSED

    class PresalesSupportAssigned(KamAggregate.Event):
        member_id: MemberId
        role: Role

        def apply(self, project: Project) -> None:
            project.presales_support.append(self.member_id)

    class ProposalSubmitted(KamAggregate.Event):
        revision: int
        amount: Money
        summary: str
        submitted_by: MemberId

        def apply(self, project: Project) -> None:
            project.proposals.append(
                ProjectProposal(
                    self.revision, self.amount, self.summary, self.timestamp, self.submitted_by
                )
            )
            project.status = ProjectStatus.PROPOSED

    class ContractSigned(KamAggregate.Event):
        value: Money
        signed_by: MemberId

        def apply(self, project: Project) -> None:
            project.contract = ProjectContract(self.value, self.timestamp, self.signed_by)
            project.status = ProjectStatus.CONTRACTED

    class ContractLost(KamAggregate.Event):
        reason: str

        def apply(self, project: Project) -> None:
            project.lost_reason = self.reason
            project.status = ProjectStatus.LOST

    class ImplementationPlanned(KamAggregate.Event):
        plan: ImplementationPlan

        def apply(self, project: Project) -> None:
            project.plan = self.plan
            project.status = ProjectStatus.IMPLEMENTING

    class MilestoneReached(KamAggregate.Event):
        milestone: ProjectMilestone
        reached_by: MemberId

        def apply(self, project: Project) -> None:
            project.milestones.append(
                ReachedMilestone(self.milestone, self.timestamp, self.reached_by)
            )

    class RiskIdentified(KamAggregate.Event):
        risk_id: RiskId
        description: str
        severity: Severity
        identified_by: MemberId

        def apply(self, project: Project) -> None:
            project.risks[self.risk_id] = ProjectRisk(
                self.risk_id, self.description, self.severity, self.timestamp, self.identified_by
            )

    class RiskClosed(KamAggregate.Event):
        risk_id: RiskId
        resolution: str

        def apply(self, project: Project) -> None:
            risk = project.risks[self.risk_id]
            project.risks[self.risk_id] = attrs.evolve(
                risk, closed_at=self.timestamp, resolution=self.resolution
            )

    class PriceBandSet(KamAggregate.Event):
        list_price: Money
        floor: Money
        #: The setter's credentials then: the authority that covered the floor's depth.
        set_by: Credentials

        def apply(self, project: Project) -> None:
            project.price_band = PriceBand(
                self.list_price, self.floor, self.timestamp, self.set_by.member_id
            )

    class MinimumMarginSet(KamAggregate.Event):
        minimum_margin: Percentage
        reason: str

        def apply(self, project: Project) -> None:
            project.minimum_margin = self.minimum_margin

    class DiscountRequested(KamAggregate.Event):
        request_id: DiscountRequestId
        requester_id: MemberId
        percentage: Percentage
        justification: str
        list_price: Money
        price: Money

        def apply(self, project: Project) -> None:
            project.discount_requests[self.request_id] = DiscountRequest(
                self.request_id,
                self.requester_id,
                self.percentage,
                self.justification,
                self.timestamp,
                self.price,
            )

    class DiscountApproved(KamAggregate.Event):
        request_id: DiscountRequestId
        #: The approver's credentials then: role and the authority in force.
        approver: Credentials
        decided_by: str
        # The inputs the decision weighed, as they stood at that moment.
        price: Money
        floor: Money
        margin: Decimal
        minimum_margin: Percentage

        def apply(self, project: Project) -> None:
            decision = DiscountDecision(
                DiscountOutcome.APPROVED,
                self.timestamp,
                self.decided_by,
                self.approver,
                price=self.price,
                margin=self.margin,
            )
            project._decide(self.request_id, decision)

    class DiscountEscalated(KamAggregate.Event):
        request_id: DiscountRequestId
        to_role: Role
        reason: str
        #: The escalating member's credentials, or None when a policy routed the request.
        escalated_by: Credentials | None

        def apply(self, project: Project) -> None:
            request = project.discount_requests[self.request_id]
            project.discount_requests[self.request_id] = attrs.evolve(
                request, escalated_to=self.to_role
            )

    class DiscountRejected(KamAggregate.Event):
        request_id: DiscountRequestId
        reason: str
        decided_by: str
        #: The rejecting member's credentials, or None when a policy rejected it.
        rejected_by: Credentials | None

        def apply(self, project: Project) -> None:
            decision = DiscountDecision(
                DiscountOutcome.REJECTED,
                self.timestamp,
                self.decided_by,
                self.rejected_by,
                reason=self.reason,
            )
            project._decide(self.request_id, decision)

    class QuoteRecorded(KamAggregate.Event):
        quote_id: QuoteId
        vendor: str
        list_price: Money
        discount: Percentage
        net_cost: Money
        recorded_by: MemberId

        def apply(self, project: Project) -> None:
            project.quotes[self.quote_id] = ProcurementQuote(
                self.quote_id,
                self.vendor,
                self.list_price,
                self.discount,
                self.net_cost,
                self.timestamp,
                self.recorded_by,
            )

    class QuoteConfirmed(KamAggregate.Event):
        quote_id: QuoteId
        confirmed_by: MemberId

        def apply(self, project: Project) -> None:
            quote = project.quotes[self.quote_id]
            project.quotes[self.quote_id] = attrs.evolve(
                quote, confirmed_at=self.timestamp, confirmed_by=self.confirmed_by
            )

    class CostRecorded(KamAggregate.Event):
        amount: Money
        category: str
        recorded_by: MemberId

        def apply(self, project: Project) -> None:
            project.costs.append(
                ProjectLedgerEntry(self.amount, self.category, self.timestamp, self.recorded_by)
            )

    class RevenueRecorded(KamAggregate.Event):
        amount: Money
        category: str
        recorded_by: MemberId

        def apply(self, project: Project) -> None:
            project.revenues.append(
                ProjectLedgerEntry(self.amount, self.category, self.timestamp, self.recorded_by)
            )

    class Closed(KamAggregate.Event):
        outcome: ProjectOutcome
        note: str | None

        def apply(self, project: Project) -> None:
            project.outcome = self.outcome
            project.status = ProjectStatus.CLOSED

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

    # -- lifecycle -----------------------------------------------------------------------------

    @classmethod
    def initiate(
        cls,
        meta: Meta,
        by: Credentials,
        project_id: ProjectId,
        *,
        team_id: TeamId,
        account_id: AccountId,
        name: str,
        currency: str,
        project_director: Credentials,
        account_manager_id: MemberId | None = None,
    ) -> Self:
        """立项: a director or a KAM opens a project for an account of their team.

        ``account_manager_id`` is the account's accountable KAM (None when it has none); a KAM
        initiates only for accounts they are accountable for.
        """
        _require_uuid("project_id", project_id)
        _require_uuid("team_id", team_id)
        _require_uuid("account_id", account_id)
        _require_credentials("actor", by)
        by.require_role(
            "actor", Role.SENIOR_SALES_DIRECTOR, Role.SALES_DIRECTOR, Role.KEY_ACCOUNT_MANAGER
        )
        _require_team("actor", by, team_id)
        if by.role is Role.KEY_ACCOUNT_MANAGER and by.member_id != account_manager_id:
            msg = f"actor: {by.name} is not the accountable manager of account {account_id}"
            raise NotAuthorised(msg)
        _require_credentials("project_director_id", project_director)
        project_director.require_role("project_director_id", Role.PROJECT_DIRECTOR)
        _require_team("project_director_id", project_director, team_id)
        name = require_text("name", name)
        currency = _require_currency(currency)
        return cls._start(
            cls.Initiated,
            meta,
            project_id,
            team_id=team_id,
            account_id=account_id,
            name=name,
            currency=currency,
            project_director_id=project_director.member_id,
            minimum_margin=DEFAULT_MINIMUM_MARGIN,
        )

    def change_project_director(
        self, meta: Meta, by: Credentials, project_director: Credentials, *, reason: str
    ) -> None:
        """A sales director hands the project to another project director."""
        self._require_open()
        self._require_member("actor", meta, by)
        by.require_director("actor")
        _require_credentials("project_director_id", project_director)
        project_director.require_role("project_director_id", Role.PROJECT_DIRECTOR)
        _require_team("project_director_id", project_director, self.team_id)
        reason = require_text("reason", reason)
        if project_director.member_id == self.project_director_id:
            msg = f"project_director_id: {project_director.name} already leads this project"
            raise InvalidTransition(msg)
        self._record(
            self.ProjectDirectorChanged,
            meta,
            project_director_id=project_director.member_id,
            reason=reason,
        )

    def assess_feasibility(
        self,
        meta: Meta,
        by: Credentials,
        *,
        verdict: FeasibilityVerdict,
        value_positioning: str,
        risks: Iterable[str] = (),
    ) -> None:
        """The project director assesses feasibility; reassessing before the contract replaces
        the earlier verdict."""
        self._require_before_contract("feasibility")
        self._require_project_director("actor", meta, by)
        if not isinstance(verdict, FeasibilityVerdict):
            raise ValidationError("verdict", f"must be a FeasibilityVerdict, not {verdict!r}")
        value_positioning = require_text("value_positioning", value_positioning, max_length=2000)
        texts = _texts("risks", risks)
        self._record(
            self.FeasibilityAssessed,
            meta,
            assessment=FeasibilityAssessment(
                verdict, value_positioning, texts, meta.at, by.member_id
            ),
        )

    def assign_presales_support(self, meta: Meta, by: Credentials, member: Credentials) -> None:
        """The project director (or a sales director) brings technical staff in for presales."""
        self._require_before_contract("presales support")
        self._require_project_director("actor", meta, by, or_director=True)
        _require_credentials("member_id", member)
        member.require_role("member_id", Role.TECHNICAL_SUPPORT, Role.CONSULTANT)
        _require_team("member_id", member, self.team_id)
        if member.member_id in self.presales_support:
            raise AlreadyExists(f"member_id: {member.name} already supports this project")
        self._record(
            self.PresalesSupportAssigned, meta, member_id=member.member_id, role=member.role
        )

    def submit_proposal(self, meta: Meta, by: Credentials, *, amount: Money, summary: str) -> None:
        """Submit a proposal or bid; needs a feasibility assessment that is not "not feasible"."""
        self._require_before_contract("proposal")
        self._require_member("actor", meta, by)
        if not (
            by.role in (Role.PROJECT_DIRECTOR, Role.KEY_ACCOUNT_MANAGER)
            or by.role.is_director
            or by.role.is_admin
        ):
            msg = f"actor: a {by.role.label} does not submit proposals"
            raise RoleRequired(msg)
        amount = self._money("amount", amount)
        summary = require_text("summary", summary, max_length=2000)
        if self.feasibility is None:
            raise InvalidTransition("proposal: feasibility has not been assessed")
        if self.feasibility.verdict is FeasibilityVerdict.NOT_FEASIBLE:
            raise InvalidTransition("proposal: the project was assessed as not feasible")
        self._record(
            self.ProposalSubmitted,
            meta,
            revision=len(self.proposals) + 1,
            amount=amount,
            summary=summary,
            submitted_by=by.member_id,
        )

    def sign_contract(self, meta: Meta, by: Credentials, *, value: Money) -> None:
        """A representative or a sales director signs; the value never goes below the floor."""
        self._require_member("actor", meta, by)
        by.require_role(
            "actor",
            Role.KEY_ACCOUNT_REPRESENTATIVE,
            Role.SALES_DIRECTOR,
            Role.SENIOR_SALES_DIRECTOR,
        )
        value = self._money("value", value)
        self._require_open()
        if self.status is not ProjectStatus.PROPOSED:
            msg = f"contract: is signed on a submitted proposal; the project is {self.status.value}"
            raise InvalidTransition(msg)
        if self.price_band is not None and value < self.price_band.floor:
            msg = f"value: {value} is below the price band's floor {self.price_band.floor}"
            raise PriceBelowFloor(msg)
        self._record(self.ContractSigned, meta, value=value, signed_by=by.member_id)

    def mark_lost(self, meta: Meta, by: Credentials, *, reason: str) -> None:
        """The client chose someone else (or nothing) before a contract was signed."""
        self._require_before_contract("contract")
        self._require_member("actor", meta, by)
        if by.role not in REQUESTER_ROLES:
            raise RoleRequired(f"actor: a {by.role.label} does not record lost contracts")
        reason = require_text("reason", reason, max_length=2000)
        self._record(self.ContractLost, meta, reason=reason)

    def plan_implementation(
        self,
        meta: Meta,
        by: Credentials,
        *,
        milestones: Iterable[tuple[str, datetime]],
        headcount: int,
    ) -> None:
        """The project director plans implementation after signing; planning again replaces it."""
        self._require_project_director("actor", meta, by)
        planned = _planned_milestones(milestones)
        check_whole("headcount", headcount, low=1, high=100_000)
        self._require_open()
        if self.status not in (ProjectStatus.CONTRACTED, ProjectStatus.IMPLEMENTING):
            msg = f"plan: comes after the contract is signed; the project is {self.status.value}"
            raise InvalidTransition(msg)
        self._record(
            self.ImplementationPlanned,
            meta,
            plan=ImplementationPlan(planned, headcount, meta.at, by.member_id),
        )

    def reach_milestone(self, meta: Meta, by: Credentials, milestone: ProjectMilestone) -> None:
        """The project director or technical staff record the next implementation milestone."""
        self._require_member("actor", meta, by)
        if not (self._leads(by) or by.role.is_technical):
            msg = f"actor: {by.name} is neither this project's director nor technical staff"
            raise RoleRequired(msg)
        if not isinstance(milestone, ProjectMilestone):
            raise ValidationError("milestone", f"must be a ProjectMilestone, not {milestone!r}")
        self._require_open()
        if self.status is not ProjectStatus.IMPLEMENTING:
            raise InvalidTransition("milestone: implementation has not been planned")
        expected = self.next_milestone
        if milestone is not expected:
            if expected is None or _MILESTONES.index(milestone) < _MILESTONES.index(expected):
                raise InvalidTransition(f"milestone: {milestone.value} was already reached")
            msg = f"milestone: {expected.value} comes before {milestone.value}"
            raise InvalidTransition(msg)
        self._record(self.MilestoneReached, meta, milestone=milestone, reached_by=by.member_id)

    def close(
        self,
        meta: Meta,
        by: Credentials,
        *,
        outcome: ProjectOutcome,
        note: str | None = None,
    ) -> None:
        """The project director or a sales director closes the project; nothing follows."""
        self._require_project_director("actor", meta, by, or_director=True)
        if not isinstance(outcome, ProjectOutcome):
            raise ValidationError("outcome", f"must be a ProjectOutcome, not {outcome!r}")
        text = None if note is None else require_text("note", note, max_length=2000)
        self._require_open()
        if outcome is ProjectOutcome.WON and self.contract is None:
            raise InvalidTransition("outcome: a project without a contract was not won")
        if outcome is ProjectOutcome.LOST and self.contract is not None:
            raise InvalidTransition("outcome: a project with a signed contract was not lost")
        if self.status is ProjectStatus.LOST and outcome is not ProjectOutcome.LOST:
            raise InvalidTransition(f"outcome: the contract was lost, not {outcome.value}")
        self._record(self.Closed, meta, outcome=outcome, note=text)

    # -- risks ---------------------------------------------------------------------------------

    def identify_risk(
        self,
        meta: Meta,
        by: Credentials,
        risk_id: RiskId,
        *,
        description: str,
        severity: Severity = Severity.MEDIUM,
    ) -> None:
        """Any member of the team records a risk to the project."""
        self._require_open()
        self._require_member("actor", meta, by)
        _require_uuid("risk_id", risk_id)
        description = require_text("description", description, max_length=2000)
        if not isinstance(severity, Severity):
            raise ValidationError("severity", f"must be a Severity, not {severity!r}")
        if risk_id in self.risks:
            raise AlreadyExists(f"risk_id: {risk_id} was already identified")
        self._record(
            self.RiskIdentified,
            meta,
            risk_id=risk_id,
            description=description,
            severity=severity,
            identified_by=by.member_id,
        )

    def close_risk(self, meta: Meta, by: Credentials, risk_id: RiskId, *, resolution: str) -> None:
        """The project director (or a sales director) closes a risk, saying how it was resolved."""
        self._require_open()
        self._require_project_director("actor", meta, by, or_director=True)
        resolution = require_text("resolution", resolution, max_length=2000)
        risk = self._risk(risk_id)
        if not risk.is_open:
            raise InvalidTransition(f"risk_id: {risk_id} was already closed")
        self._record(self.RiskClosed, meta, risk_id=risk_id, resolution=resolution)

    # -- pricing -------------------------------------------------------------------------------

    def set_price_band(
        self, meta: Meta, by: Credentials, *, list_price: Money, floor: Money
    ) -> None:
        """The project director sets (or revises) the band within their authorised range: the
        floor may lie below the list price by no more than the setter's discount authority.
        A sales director may set it within theirs."""
        self._require_pricing_open()
        self._require_project_director("actor", meta, by, or_director=True)
        list_price = self._money("list_price", list_price)
        floor = self._money("floor", floor)
        if floor > list_price:
            raise ValidationError("floor", f"{floor} must not be above the list price {list_price}")
        depth = Percentage((list_price.amount - floor.amount) / list_price.amount * _HUNDRED)
        if depth.value > 0:
            by.require_authority("floor", depth)
        self._record(self.PriceBandSet, meta, list_price=list_price, floor=floor, set_by=by)

    def set_minimum_margin(
        self, meta: Meta, by: Credentials, *, minimum_margin: Percentage, reason: str
    ) -> None:
        """A sales director sets the margin under which only a sales director approves."""
        self._require_open()
        self._require_member("actor", meta, by)
        by.require_director("actor")
        require_percentage("minimum_margin", minimum_margin)
        reason = require_text("reason", reason)
        self._record(self.MinimumMarginSet, meta, minimum_margin=minimum_margin, reason=reason)

    def request_discount(
        self,
        meta: Meta,
        by: Credentials,
        request_id: DiscountRequestId,
        *,
        percentage: Percentage,
        justification: str,
    ) -> None:
        """An approver-role member or a representative asks for a discount off the list price."""
        self._require_pricing_open()
        self._require_member("actor", meta, by)
        by.require_role("actor", *REQUESTER_ROLES)
        _require_uuid("request_id", request_id)
        require_percentage("percentage", percentage)
        if percentage.value <= 0:
            raise ValidationError("percentage", "must be more than 0%")
        justification = require_text("justification", justification, max_length=2000)
        if request_id in self.discount_requests:
            raise AlreadyExists(f"request_id: {request_id} was already requested")
        band = self._band()
        price = band.price_after(percentage)
        _require_floor("percentage", price, band)
        self._record(
            self.DiscountRequested,
            meta,
            request_id=request_id,
            requester_id=by.member_id,
            percentage=percentage,
            justification=justification,
            list_price=band.list_price,
            price=price,
        )

    def approve_discount(
        self,
        meta: Meta,
        approver: Credentials,
        request_id: DiscountRequestId,
        *,
        decided_by: str | None = None,
    ) -> None:
        """An approver whose authority at that moment covers the discount approves it.

        Nobody approves their own request, except that a policy may approve a request within
        the requester's own authority on the strength of that authority. Once escalated, only
        the role escalated to (or a higher one) approves. The price stays at or above the floor;
        a margin under the project's minimum needs a sales director.
        """
        request = self._pending_request(request_id)
        self._require_pricing_open()
        self._require_member("approver", meta, approver)
        approver.require_role("approver", *APPROVER_ROLES)
        if meta.actor.kind is not ActorKind.POLICY:
            approver.require_not("approver", request.requester_id)
        _require_rank("approver", approver, request.escalated_to)
        approver.require_authority("approver", request.percentage)
        decided_by = _decided_by(meta, decided_by)
        band = self._band()
        price = band.price_after(request.percentage)
        _require_floor("percentage", price, band)
        margin = self.margin_at(price)
        if margin < self.minimum_margin.value and not approver.role.is_director:
            msg = (
                f"approver: a margin of {margin:.2f}% is under the minimum {self.minimum_margin};"
                " a sales director must approve"
            )
            raise MarginBelowMinimum(msg)
        self._record(
            self.DiscountApproved,
            meta,
            request_id=request.request_id,
            approver=approver,
            decided_by=decided_by,
            price=price,
            floor=band.floor,
            margin=margin,
            minimum_margin=self.minimum_margin,
        )

    def escalate_discount(
        self,
        meta: Meta,
        by: Credentials | None,
        request_id: DiscountRequestId,
        *,
        to_role: Role,
        reason: str,
    ) -> None:
        """Route a pending request up to a higher approver role.

        ``by`` is the approver it was waiting for, passing it up; ``None`` when a policy routes it.
        """
        request = self._pending_request(request_id)
        self._require_pricing_open()
        if not isinstance(to_role, Role) or to_role not in APPROVER_ROLES:
            raise ValidationError("to_role", f"must be an approver role, not {to_role!r}")
        reason = require_text("reason", reason, max_length=2000)
        self._require_decider(meta, by, request)
        if request.escalated_to is not None and _rank(to_role) <= _rank(request.escalated_to):
            msg = f"to_role: already escalated to {request.escalated_to.label}"
            raise InvalidTransition(msg)
        if by is not None and _rank(to_role) <= _rank(by.role):
            msg = f"to_role: {by.name} escalates above their own role, not to {to_role.label}"
            raise InvalidTransition(msg)
        self._record(
            self.DiscountEscalated,
            meta,
            request_id=request.request_id,
            to_role=to_role,
            reason=reason,
            escalated_by=by,
        )

    def reject_discount(
        self,
        meta: Meta,
        by: Credentials | None,
        request_id: DiscountRequestId,
        *,
        reason: str,
        decided_by: str | None = None,
    ) -> None:
        """An approver (or, with ``by=None``, a policy) rejects a pending request.

        Rejecting stays possible after the contract is signed, so stale requests can be cleared.
        """
        request = self._pending_request(request_id)
        self._require_open()
        reason = require_text("reason", reason, max_length=2000)
        decided_by = _decided_by(meta, decided_by)
        self._require_decider(meta, by, request)
        self._record(
            self.DiscountRejected,
            meta,
            request_id=request.request_id,
            reason=reason,
            decided_by=decided_by,
            rejected_by=by,
        )

    # -- procurement, costs and revenue --------------------------------------------------------

    def record_quote(
        self,
        meta: Meta,
        by: Credentials,
        quote_id: QuoteId,
        *,
        vendor: str,
        list_price: Money,
        discount: Percentage,
    ) -> None:
        """Record a third-party vendor's quote; its net cost counts once it is confirmed."""
        self._require_open()
        self._require_member("actor", meta, by)
        by.require_role("actor", *QUOTE_ROLES)
        _require_uuid("quote_id", quote_id)
        vendor = require_text("vendor", vendor)
        list_price = self._money("list_price", list_price)
        require_percentage("discount", discount)
        if quote_id in self.quotes:
            raise AlreadyExists(f"quote_id: {quote_id} was already recorded")
        self._record(
            self.QuoteRecorded,
            meta,
            quote_id=quote_id,
            vendor=vendor,
            list_price=list_price,
            discount=discount,
            net_cost=list_price * (1 - discount.fraction),
            recorded_by=by.member_id,
        )

    def confirm_quote(self, meta: Meta, by: Credentials, quote_id: QuoteId) -> None:
        """The project director (or a sales director) confirms a quote someone else recorded."""
        self._require_open()
        self._require_project_director("actor", meta, by, or_director=True)
        quote = self._quote(quote_id)
        if quote.is_confirmed:
            raise InvalidTransition(f"quote_id: {quote_id} was already confirmed")
        by.require_not("actor", quote.recorded_by)
        self._record(self.QuoteConfirmed, meta, quote_id=quote_id, confirmed_by=by.member_id)

    def record_cost(self, meta: Meta, by: Credentials, *, amount: Money, category: str) -> None:
        """The financial planner or the project director records a cost."""
        self._require_ledger("actor", meta, by)
        amount = self._money("amount", amount)
        category = require_text("category", category)
        self._require_open()
        self._record(
            self.CostRecorded, meta, amount=amount, category=category, recorded_by=by.member_id
        )

    def record_revenue(self, meta: Meta, by: Credentials, *, amount: Money, category: str) -> None:
        """The financial planner or the project director records revenue."""
        self._require_ledger("actor", meta, by)
        amount = self._money("amount", amount)
        category = require_text("category", category)
        self._require_open()
        self._record(
            self.RevenueRecorded, meta, amount=amount, category=category, recorded_by=by.member_id
        )

    # -- queries -------------------------------------------------------------------------------

    @property
    def is_closed(self) -> bool:
        return self.status is ProjectStatus.CLOSED

    @property
    def pricing_open(self) -> bool:
        """Whether the band may be set and discounts requested and approved."""
        return self.status.before_contract

    def pending_discount_requests(self) -> list[DiscountRequest]:
        """Undecided requests in the order they were made; none once the project is closed."""
        if self.is_closed:
            return []
        return [r for r in self.discount_requests.values() if r.is_pending]

    def discount_request(self, request_id: DiscountRequestId) -> DiscountRequest:
        request = self.discount_requests.get(request_id) if isinstance(request_id, UUID) else None
        if request is None:
            raise DiscountRequestNotFound("request_id", request_id)
        return request

    def decision(self, request_id: DiscountRequestId) -> DiscountDecision | None:
        """How the request was decided, or None while it is pending."""
        return self.discount_request(request_id).decision

    def approved_discounts(self) -> list[DiscountRequest]:
        return [
            r
            for r in self.discount_requests.values()
            if r.decision is not None and r.decision.outcome is DiscountOutcome.APPROVED
        ]

    def profit_and_loss(self) -> ProfitAndLoss:
        zero = Money.zero(self.currency)
        return ProfitAndLoss(
            revenue=sum((entry.amount for entry in self.revenues), zero),
            recorded_costs=sum((entry.amount for entry in self.costs), zero),
            procurement_costs=self.procurement_cost(),
        )

    def procurement_cost(self) -> Money:
        """The net cost of every confirmed third-party quote."""
        confirmed = (q.net_cost for q in self.quotes.values() if q.is_confirmed)
        return sum(confirmed, Money.zero(self.currency))

    def margin_at(self, price: Money) -> Decimal:
        """The margin (%) at ``price`` after confirmed third-party and recorded costs."""
        recorded = sum((entry.amount for entry in self.costs), Money.zero(self.currency))
        left = price - self.procurement_cost() - recorded
        return left.amount / price.amount * _HUNDRED

    def open_risks(self) -> list[ProjectRisk]:
        return [risk for risk in self.risks.values() if risk.is_open]

    @property
    def next_milestone(self) -> ProjectMilestone | None:
        """The milestone to reach next (None once maintenance has been reached)."""
        done = len(self.milestones)
        return _MILESTONES[done] if done < len(_MILESTONES) else None

    @property
    def latest_proposal(self) -> ProjectProposal | None:
        return self.proposals[-1] if self.proposals else None

    # -- helpers -------------------------------------------------------------------------------

    def _decide(self, request_id: DiscountRequestId, decision: DiscountDecision) -> None:
        request = self.discount_requests[request_id]
        self.discount_requests[request_id] = attrs.evolve(request, decision=decision)

    def _leads(self, by: Credentials) -> bool:
        return by.role is Role.PROJECT_DIRECTOR and by.member_id == self.project_director_id

    def _require_member(self, field: str, meta: Meta, by: object) -> None:
        """``by`` is an active member of this project's team, acting as themselves."""
        _require_credentials(field, by)
        assert isinstance(by, Credentials)
        by.require_active(field)
        _require_team(field, by, self.team_id)

    def _require_project_director(
        self, field: str, meta: Meta, by: Credentials, *, or_director: bool = False
    ) -> None:
        self._require_member(field, meta, by)
        if self._leads(by) or (or_director and by.role.is_director):
            return
        wanted = (
            "this project's director or a sales director"
            if or_director
            else "this project's director"
        )
        raise RoleRequired(f"{field}: {by.name} is not {wanted}")

    def _require_ledger(self, field: str, meta: Meta, by: Credentials) -> None:
        self._require_member(field, meta, by)
        if not (self._leads(by) or by.role is Role.FINANCIAL_PLANNER):
            msg = f"{field}: {by.name} is neither this project's director nor a financial planner"
            raise RoleRequired(msg)

    def _require_decider(
        self, meta: Meta, by: Credentials | None, request: DiscountRequest
    ) -> None:
        """Who may escalate or reject: a policy, or an approver at the request's level who is
        not the requester."""
        if by is None:
            if meta.actor.kind not in (ActorKind.POLICY, ActorKind.SYSTEM):
                raise ValidationError(
                    "actor", "only a policy or system decides without credentials"
                )
            return
        self._require_member("actor", meta, by)
        by.require_role("actor", *APPROVER_ROLES)
        by.require_not("actor", request.requester_id)
        _require_rank("actor", by, request.escalated_to)

    def _require_open(self) -> None:
        if self.is_closed:
            raise InvalidTransition(f"project_id: {self.name} is closed")

    def _require_before_contract(self, what: str) -> None:
        self._require_open()
        if not self.status.before_contract:
            raise InvalidTransition(f"{what}: the project is already {self.status.value}")

    def _require_pricing_open(self) -> None:
        self._require_open()
        if not self.pricing_open:
            msg = f"price: pricing is closed once the project is {self.status.value}"
            raise InvalidTransition(msg)

    def _band(self) -> PriceBand:
        if self.price_band is None:
            raise InvalidTransition("price_band: no price band has been set for this project")
        return self.price_band

    def _pending_request(self, request_id: DiscountRequestId) -> DiscountRequest:
        request = self.discount_request(request_id)
        if request.decision is not None:
            msg = f"request_id: {request_id} was already {request.decision.outcome.value}"
            raise AlreadyDecided(msg)
        return request

    def _risk(self, risk_id: RiskId) -> ProjectRisk:
        risk = self.risks.get(risk_id) if isinstance(risk_id, UUID) else None
        if risk is None:
            raise RiskNotFound("risk_id", risk_id)
        return risk

    def _quote(self, quote_id: QuoteId) -> ProcurementQuote:
        quote = self.quotes.get(quote_id) if isinstance(quote_id, UUID) else None
        if quote is None:
            raise QuoteNotFound("quote_id", quote_id)
        return quote

    def _money(self, field: str, value: object) -> Money:
        """A positive amount in the project's currency."""
        value = require_amount(field, value)
        if value.currency != self.currency:
            msg = f"must be in the project's currency {self.currency}, not {value.currency}"
            raise CurrencyMismatch(field, msg)
        if value.is_negative:
            raise ValidationError(field, "must not be negative")
        if value.is_zero:
            raise ValidationError(field, "must be more than zero")
        return value


def _rank(role: Role) -> int:
    return APPROVER_ROLES.index(role) if role in APPROVER_ROLES else -1


def _require_rank(field: str, by: Credentials, escalated_to: Role | None) -> None:
    if escalated_to is not None and _rank(by.role) < _rank(escalated_to):
        wanted, held = escalated_to.label, by.role.label
        msg = f"{field}: the request was escalated to a {wanted}; {by.name} is a {held}"
        raise RoleRequired(msg)


def _require_floor(field: str, price: Money, band: PriceBand) -> None:
    if price < band.floor:
        msg = f"{field}: the price {price} would fall below the floor {band.floor}"
        raise PriceBelowFloor(msg)


def _decided_by(meta: Meta, decided_by: object) -> str:
    """Who decided: "manual" for a member, the policy's name@version for a policy, unless given."""
    if decided_by is None:
        return "manual" if meta.actor.kind is ActorKind.MEMBER else meta.actor.ref
    return require_text("decided_by", decided_by, max_length=200)


def _require_credentials(field: str, creds: object) -> None:
    if not isinstance(creds, Credentials):
        raise ValidationError(field, f"must be Credentials, not {type(creds).__name__}")


def _require_team(field: str, creds: Credentials, team_id: UUID) -> None:
    if creds.team_id != team_id:
        raise NotOnTeam(f"{field}: {creds.name} is not on this project's team")


def _require_uuid(field: str, value: object) -> None:
    if not isinstance(value, UUID):
        raise ValidationError(field, f"must be a UUID, not {value!r}")


def _require_currency(currency: object) -> str:
    if not isinstance(currency, str):
        raise ValidationError("currency", f"must be a string, not {type(currency).__name__}")
    return Money.zero(currency).currency


def _texts(field: str, values: object) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ValidationError(field, "must be a list of texts")
    return tuple(require_text(field, value, max_length=2000) for value in values)


def _planned_milestones(milestones: object) -> tuple[PlannedMilestone, ...]:
    if isinstance(milestones, str) or not isinstance(milestones, Iterable):
        raise ValidationError("milestones", "must be a list of (name, planned date) pairs")
    planned: list[PlannedMilestone] = []
    for item in milestones:
        pair = (item.name, item.due) if isinstance(item, PlannedMilestone) else item
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise ValidationError("milestones", f"each must be a (name, date) pair, not {item!r}")
        name = require_text("milestones", pair[0])
        due = require_utc("milestones", pair[1])
        planned.append(PlannedMilestone(name, due))
    if not planned:
        raise ValidationError("milestones", "must name at least one milestone")
    names = [m.name.casefold() for m in planned]
    if len(set(names)) != len(names):
        raise ValidationError("milestones", "must not name the same milestone twice")
    return tuple(planned)
