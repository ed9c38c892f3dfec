"""What the audit pack's pages show, read from the record as of a moment.

Each view is plain data for a template: each account's accountable history, every discount
request with the approver's authority as the Team held it at the decision, and each target's
history, evaluations and sign-offs with the stored events its actuals were measured from. They
are read through the facade and the audit readers (:mod:`kam_domain.audit.trail`), never from
the tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from kam_domain.audit.names import record_name
from kam_domain.audit.trail import TrailEntry, accountable, member_names, record_trail
from kam_domain.errors import NotFound

__all__ = [
    "AccountView",
    "DiscountView",
    "EvaluationView",
    "SourceEvent",
    "TargetView",
    "accounts",
    "as_of",
    "discounts",
    "targets",
]


@attrs.frozen
class SourceEvent:
    """A stored event an actual was measured from: its id and, once found, where it is."""

    event_id: UUID
    position: int | None = None
    event: str = ""
    record_id: str = ""
    version: int | None = None


@attrs.frozen
class AccountView:
    id: UUID
    name: str
    key: bool
    kam: str
    history: tuple[Any, ...]


@attrs.frozen
class DiscountView:
    """One discount request, its decision, and the authority in force when it was decided."""

    project_id: UUID
    project: str
    account: str
    requester: str
    percentage: str
    price: str
    requested_at: datetime
    outcome: str
    decided_at: datetime | None
    decided_by: str
    approver: str
    #: The authority the decision recorded for its approver.
    recorded_authority: str
    #: The authority the Team's record gave the approver at the moment of the decision.
    authority_in_force: str
    role_in_force: str
    #: Whether that authority covers the percentage (None: not decided, or no member decided).
    within_authority: bool | None
    positions: tuple[int, ...]


@attrs.frozen
class EvaluationView:
    number: int
    at: datetime
    by: str
    score: str
    rating: str
    action_plan_required: bool
    lines: tuple[tuple[str, str, str, tuple[SourceEvent, ...]], ...]
    signatures: tuple[tuple[str, str, str, datetime], ...]


@attrs.frozen
class TargetView:
    id: UUID
    name: str
    period: str
    goals: tuple[tuple[str, str], ...]
    closed_at: datetime | None
    history: tuple[TrailEntry, ...]
    evaluations: tuple[EvaluationView, ...]

    @property
    def page(self) -> str:
        return f"target-{self.id}.html"

    def source_ids(self) -> set[UUID]:
        return {
            source.event_id
            for evaluation in self.evaluations
            for *_, sources in evaluation.lines
            for source in sources
        }


def as_of(records: Iterable[Any], get: Any, at: datetime | None) -> list[Any]:
    """``records`` as they stood at ``at`` (those not recorded yet then left out)."""
    if at is None:
        return list(records)
    found = []
    for record in records:
        try:
            found.append(get(record.id, at=at))
        except NotFound:
            continue
    return found


def accounts(app: Any, at: datetime) -> list[AccountView]:
    """Each account recorded by ``at``: its accountable KAM then, and its assignments up to it."""
    views = []
    for account in as_of(app.accounts(), app.get_account, at):
        found = accountable(app, account.id, at)
        history = tuple(line for line in found.history if line.since <= at)
        kam = f"{found.kam_name or found.kam_id}" if found.kam_id else "nobody"
        key = getattr(account, "designated_at", None) is not None
        views.append(AccountView(account.id, account.name, key, kam, history))
    return views


def discounts(app: Any, at: datetime | None) -> list[DiscountView]:
    """Every discount request on a project recorded by ``at``, with its decision."""
    names = member_names(app)
    views = []
    for project in as_of(app.projects(), app.get_project, at):
        account = _account_name(app, project.account_id)
        trail = record_trail(app, project.id)
        for request in project.discount_requests.values():
            views.append(_discount(app, project, account, request, names, trail))
    return views


def _discount(
    app: Any,
    project: Any,
    account: str,
    request: Any,
    names: dict[UUID, str],
    trail: list[TrailEntry],
) -> DiscountView:
    decision = request.decision
    credentials = None if decision is None else decision.credentials
    in_force, role, within = "", "", None
    if decision is not None and credentials is not None:
        team = app.get_team(project.team_id, at=decision.decided_at)
        if credentials.member_id in team.members:
            derived = team.credentials(credentials.member_id, decision.decided_at)
            in_force = str(derived.discount_authority or "none")
            role = derived.role.label if derived.active else f"{derived.role.label} (had left)"
            within = derived.covers(request.percentage)
        else:
            in_force, role, within = "none", "not a member then", False
    positions = tuple(
        entry.position
        for entry in trail
        if entry.position is not None
        and entry.described.fields.get("request_id") == str(request.request_id)
    )
    return DiscountView(
        project_id=project.id,
        project=project.name,
        account=account,
        requester=names.get(request.requester_id, str(request.requester_id)),
        percentage=str(request.percentage),
        price=str(request.price),
        requested_at=request.requested_at,
        outcome="pending" if decision is None else decision.outcome.value,
        decided_at=None if decision is None else decision.decided_at,
        decided_by="" if decision is None else decision.decided_by,
        approver="" if credentials is None else credentials.name,
        recorded_authority=(
            "" if credentials is None else str(credentials.discount_authority or "none")
        ),
        authority_in_force=in_force,
        role_in_force=role,
        within_authority=within,
        positions=positions,
    )


def targets(app: Any, at: datetime | None) -> list[TargetView]:
    """Each target recorded by ``at``: goals, history up to then, evaluations, sign-offs."""
    names = member_names(app)
    views = []
    for target in as_of(app.targets(), app.get_target, at):
        history = tuple(
            entry
            for entry in record_trail(app, target.id)
            if at is None or entry.described.at <= at
        )
        goals = tuple((_metric(goal.metric), str(goal.value)) for goal in target.goals)
        evaluations = tuple(
            _evaluation(evaluation, target, names) for evaluation in target.evaluations
        )
        views.append(
            TargetView(
                target.id,
                record_name(app, target),
                str(target.period),
                goals,
                target.closed_at,
                history,
                evaluations,
            )
        )
    return views


def _evaluation(evaluation: Any, target: Any, names: dict[UUID, str]) -> EvaluationView:
    by = evaluation.evaluated_by
    lines = []
    for goal in evaluation.goals:
        actual = evaluation.actual(goal.metric)
        sources = () if actual is None else tuple(SourceEvent(i) for i in actual.source_event_ids)
        shown = "—" if actual is None else str(actual.value)
        lines.append((_metric(goal.metric), str(goal.value), shown, sources))
    signatures = tuple(
        (s.signatory.value, s.name, s.comments, s.at)
        for s in target.signatures
        if s.evaluation_number == evaluation.number
    )
    who = names.get(by.member_id, str(by)) if by.member_id is not None else str(by)
    return EvaluationView(
        evaluation.number,
        evaluation.at,
        who,
        str(evaluation.score),
        evaluation.rating,
        evaluation.action_plan_required,
        tuple(lines),
        signatures,
    )


def located(views: list[TargetView], found: dict[UUID, SourceEvent]) -> list[TargetView]:
    """The views with each source event's position, type and record filled in from ``found``."""

    def fill(evaluation: EvaluationView) -> EvaluationView:
        lines = tuple(
            (metric, goal, actual, tuple(found.get(s.event_id, s) for s in sources))
            for metric, goal, actual, sources in evaluation.lines
        )
        return attrs.evolve(evaluation, lines=lines)

    return [
        attrs.evolve(view, evaluations=tuple(fill(e) for e in view.evaluations)) for view in views
    ]


def _metric(metric: Any) -> str:
    from kam_domain.reports.card import METRIC_LABELS

    return str(METRIC_LABELS.get(metric, metric.value))


def _account_name(app: Any, account_id: UUID) -> str:
    try:
        return str(app.get_account(account_id).name)
    except NotFound:
        return str(account_id)
