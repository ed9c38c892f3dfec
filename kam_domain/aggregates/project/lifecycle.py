"""A project's life from 立项 to closing: its director, feasibility, presales support, proposals,
the contract (signed or lost), the implementation plan and its milestones."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Self

from kam_domain.aggregates.base import KamAggregate, Meta, require_id, require_text, require_utc
from kam_domain.aggregates.credentials import Credentials, require_credentials
from kam_domain.aggregates.project.discounts import DEFAULT_MINIMUM_MARGIN, REQUESTER_ROLES
from kam_domain.aggregates.project.enums import (
    MILESTONES,
    FeasibilityVerdict,
    ProjectMilestone,
    ProjectOutcome,
    ProjectStatus,
)
from kam_domain.aggregates.project.guards import ProjectGuards, require_team
from kam_domain.aggregates.project.records import (
    FeasibilityAssessment,
    ImplementationPlan,
    PlannedMilestone,
    ProjectContract,
    ProjectProposal,
    ReachedMilestone,
)
from kam_domain.bounds import check_whole
from kam_domain.errors import (
    AlreadyExists,
    InvalidTransition,
    NotAuthorised,
    PriceBelowFloor,
    RoleRequired,
    ValidationError,
)
from kam_domain.values import AccountId, MemberId, Money, Percentage, ProjectId, Role, TeamId

if TYPE_CHECKING:
    from kam_domain.aggregates.project import Project


class Lifecycle(ProjectGuards):
    """Initiating, assessing, proposing, contracting, implementing and closing a project."""

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

    class Closed(KamAggregate.Event):
        outcome: ProjectOutcome
        note: str | None

        def apply(self, project: Project) -> None:
            project.outcome = self.outcome
            project.status = ProjectStatus.CLOSED

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
        """立项: a director, a KAM or a project director opens a project for an account of
        their team.

        ``account_manager_id`` is the account's accountable KAM (None when it has none); a KAM
        initiates only for accounts they are accountable for, and a project director only the
        projects they will direct (feasibility comes before initiation, and is theirs).
        """
        require_id("project_id", project_id)
        require_id("team_id", team_id)
        require_id("account_id", account_id)
        require_credentials("actor", by)
        by.require_role(
            "actor",
            Role.SENIOR_SALES_DIRECTOR,
            Role.SALES_DIRECTOR,
            Role.KEY_ACCOUNT_MANAGER,
            Role.PROJECT_DIRECTOR,
        )
        require_team("actor", by, team_id)
        if by.role is Role.KEY_ACCOUNT_MANAGER and by.member_id != account_manager_id:
            msg = f"actor: {by.name} is not the accountable manager of account {account_id}"
            raise NotAuthorised(msg)
        require_credentials("project_director_id", project_director)
        if by.role is Role.PROJECT_DIRECTOR and by.member_id != project_director.member_id:
            msg = f"actor: {by.name} initiates only projects they direct themselves"
            raise NotAuthorised(msg)
        project_director.require_role("project_director_id", Role.PROJECT_DIRECTOR)
        require_team("project_director_id", project_director, team_id)
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
        require_credentials("project_director_id", project_director)
        project_director.require_role("project_director_id", Role.PROJECT_DIRECTOR)
        require_team("project_director_id", project_director, self.team_id)
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
        require_credentials("member_id", member)
        member.require_role("member_id", Role.TECHNICAL_SUPPORT, Role.CONSULTANT)
        require_team("member_id", member, self.team_id)
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
            if expected is None or MILESTONES.index(milestone) < MILESTONES.index(expected):
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

    # -- queries -----------------------------------------------------------------------------------

    @property
    def next_milestone(self) -> ProjectMilestone | None:
        """The milestone to reach next (None once maintenance has been reached)."""
        done = len(self.milestones)
        return MILESTONES[done] if done < len(MILESTONES) else None

    @property
    def latest_proposal(self) -> ProjectProposal | None:
        return self.proposals[-1] if self.proposals else None

    # -- helpers -----------------------------------------------------------------------------------

    def _require_before_contract(self, what: str) -> None:
        self._require_open()
        if not self.status.before_contract:
            raise InvalidTransition(f"{what}: the project is already {self.status.value}")


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
