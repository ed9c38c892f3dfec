"""The scorecard of a period: per team, KAM and account, goals against actuals and the outcome.

An evaluated target shows what its latest recorded evaluation scored: the goals it measured, the
actuals it weighed, the score and rating, whether the KAM and the supervisor signed it off, and
whether the action plan it required was adjusted. A target not evaluated yet shows its current
goals beside the actuals measured from the log so far, marked "not evaluated": no score or
rating is made up for it (the evaluation policy scores a target once its period closes).

With ``at``, everything is read as it stood at that moment: which targets existed, their
evaluations and signatures, the names, and the events the actuals are measured from. Without
it, the record as it is now.

Rows come in the plan's order: each team target, then each KAM target followed by its account
targets; targets whose parent is not in the scorecard come after, widest scope first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

import attrs

from kam_domain.aggregates.actuals import DEFAULT_ACKNOWLEDGEMENT_WINDOWS
from kam_domain.aggregates.base import require_utc
from kam_domain.aggregates.target import Actual, Goal, ScopeKind, Target
from kam_domain.aggregates.team import EvaluationStandard, Team
from kam_domain.errors import AccountNotFound, TargetNotFound, TeamNotFound, ValidationError
from kam_domain.values import MemberId, Metric, Money, Period, Severity

if TYPE_CHECKING:
    from kam_domain.application import KamApplication

__all__ = [
    "METRIC_LABELS",
    "SCOPE_LABELS",
    "Scorecard",
    "ScorecardLine",
    "ScorecardRow",
    "ScorecardTeam",
    "format_percent",
    "scorecard",
]

#: What a reader calls each metric.
METRIC_LABELS = {
    Metric.SALES_REVENUE: "revenue",
    Metric.SERVICE_LEVEL: "service level",
    Metric.CUSTOMER_SATISFACTION: "satisfaction",
}

#: What a reader calls each kind of scope (a member target is a KAM's).
SCOPE_LABELS = {ScopeKind.TEAM: "team", ScopeKind.MEMBER: "KAM", ScopeKind.ACCOUNT: "account"}

EVALUATED = "evaluated"
NOT_EVALUATED = "not evaluated"

_CENT = Decimal("0.01")
_INSTANT = timedelta(microseconds=1)


def _two_places(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def format_percent(value: Decimal | None) -> str:
    """``70.14%``; an em dash for nothing."""
    return "—" if value is None else f"{_two_places(value)}%"


def _magnitude(value: Money | Decimal) -> Decimal:
    return value.amount if isinstance(value, Money) else value


@attrs.frozen
class ScorecardLine:
    """One metric of a target: its goal, its actual (None: the log cannot measure it yet), the
    attainment (actual ÷ goal in percent, uncapped) and the metric's weight in the score."""

    metric: Metric
    goal: Money | Decimal
    actual: Money | Decimal | None
    attainment: Decimal | None
    weight: Decimal

    @classmethod
    def of(cls, goal: Goal, actual: Actual | None, standard: EvaluationStandard) -> ScorecardLine:
        value = None if actual is None else actual.value
        attainment = None
        if value is not None:
            attainment = _two_places(_magnitude(value) / _magnitude(goal.value) * 100)
        return cls(goal.metric, goal.value, value, attainment, standard.weight(goal.metric))

    @property
    def label(self) -> str:
        return METRIC_LABELS[self.metric]

    @property
    def unit(self) -> str:
        """The revenue's currency; ``%`` for service level; ``points`` (of 100) otherwise."""
        if isinstance(self.goal, Money):
            return self.goal.currency
        return "%" if self.metric is Metric.SERVICE_LEVEL else "points"

    def text(self, value: Money | Decimal | None) -> str:
        """A goal or actual of this metric as a reader writes it."""
        if value is None:
            return "—"
        if isinstance(value, Money):
            return str(value)
        return format_percent(value) if self.unit == "%" else str(_two_places(value))

    @property
    def goal_text(self) -> str:
        return self.text(self.goal)

    @property
    def actual_text(self) -> str:
        return self.text(self.actual)

    @property
    def attainment_text(self) -> str:
        return format_percent(self.attainment)

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric.value,
            "unit": self.unit,
            "goal": _plain(self.goal),
            "actual": _plain(self.actual),
            "attainment": _plain(self.attainment),
            "weight": _plain(self.weight),
        }


@attrs.frozen
class ScorecardRow:
    """One target of the period: whose it is, each metric's line, and its evaluation's outcome.

    ``score``, ``rating`` and ``rating_rank`` (0 is the standard's best band) are None while the
    target is not evaluated; ``goals_revised`` says that the goals changed after the evaluation
    shown (it scored the goals it shows, the earlier ones).
    """

    team_id: UUID
    team_name: str
    target_id: UUID
    parent_id: UUID | None
    scope: ScopeKind
    scope_id: UUID
    name: str
    kam_id: UUID | None
    kam_name: str | None
    lines: tuple[ScorecardLine, ...]
    evaluation_number: int | None
    evaluated_at: datetime | None
    score: Decimal | None
    rating: str | None
    rating_rank: int | None
    goals_revised: bool
    closed_at: datetime | None
    signed_by_kam: str | None
    signed_by_supervisor: str | None
    action_plan_required: bool
    action_plan_adjusted: bool
    action_plan: str | None

    @property
    def evaluated(self) -> bool:
        return self.evaluation_number is not None

    @property
    def status(self) -> str:
        return EVALUATED if self.evaluated else NOT_EVALUATED

    @property
    def scope_label(self) -> str:
        return SCOPE_LABELS[self.scope]

    @property
    def signed_off(self) -> bool:
        """Both the KAM and the supervisor signed the evaluation off."""
        return self.signed_by_kam is not None and self.signed_by_supervisor is not None

    @property
    def sign_off_text(self) -> str:
        """``yes``, ``KAM only``, ``supervisor only``, ``no``; ``—`` before an evaluation."""
        if not self.evaluated:
            return "—"
        if self.signed_off:
            return "yes"
        if self.signed_by_kam is not None:
            return "KAM only"
        return "supervisor only" if self.signed_by_supervisor is not None else "no"

    @property
    def action_plan_text(self) -> str:
        """``adjusted``, ``required, missing`` or ``not required``; ``—`` before an evaluation."""
        if self.action_plan_required:
            return "adjusted" if self.action_plan_adjusted else "required, missing"
        return "not required" if self.evaluated else "—"

    @property
    def action_plan_missing(self) -> bool:
        return self.action_plan_required and not self.action_plan_adjusted

    def line(self, metric: Metric) -> ScorecardLine | None:
        return next((line for line in self.lines if line.metric is metric), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "target_id": str(self.target_id),
            "parent_id": _plain(self.parent_id),
            "scope": self.scope_label.lower(),
            "scope_id": str(self.scope_id),
            "name": self.name,
            "kam_id": _plain(self.kam_id),
            "kam": self.kam_name,
            "status": self.status,
            "evaluation_number": self.evaluation_number,
            "evaluated_at": _plain(self.evaluated_at),
            "goals_revised_since_evaluation": self.goals_revised,
            "metrics": [line.as_dict() for line in self.lines],
            "score": _plain(self.score),
            "rating": self.rating,
            "signed_off": self.signed_off,
            "signed_by_kam": self.signed_by_kam,
            "signed_by_supervisor": self.signed_by_supervisor,
            "action_plan": self.action_plan_text,
            "action_plan_text": self.action_plan,
        }


@attrs.frozen
class ScorecardTeam:
    """A team's part of the scorecard: the team, the standard in force for the period, rows."""

    team_id: UUID
    name: str
    segment: str
    region: str
    standard: EvaluationStandard
    rows: tuple[ScorecardRow, ...]

    def of_scope(self, scope: ScopeKind) -> list[ScorecardRow]:
        return [row for row in self.rows if row.scope is scope]

    def as_dict(self) -> dict[str, Any]:
        return {
            "team_id": str(self.team_id),
            "team": self.name,
            "segment": self.segment,
            "region": self.region,
            "rating_bands": [
                {"rating": band.rating, "min_score": _plain(band.min_score)}
                for band in self.standard.bands
            ],
            "action_threshold": _plain(self.standard.action_threshold),
            "targets": [row.as_dict() for row in self.rows],
        }


#: The columns of :meth:`Scorecard.records`, one record per target and metric.
RECORD_COLUMNS = (
    "team",
    "period",
    "scope",
    "name",
    "kam",
    "target_id",
    "status",
    "evaluation_number",
    "metric",
    "unit",
    "goal",
    "actual",
    "attainment",
    "weight",
    "score",
    "rating",
    "signed_off",
    "action_plan",
)


@attrs.frozen
class Scorecard:
    """The scorecard of ``period`` as of ``at`` (None: as the record is now), team by team."""

    period: Period
    at: datetime | None
    teams: tuple[ScorecardTeam, ...]

    @property
    def rows(self) -> list[ScorecardRow]:
        return [row for team in self.teams for row in team.rows]

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": str(self.period),
            "at": _plain(self.at),
            "teams": [team.as_dict() for team in self.teams],
        }

    def records(self) -> list[dict[str, str]]:
        """One flat record per target and metric (the CSV form): see ``RECORD_COLUMNS``."""
        records = []
        for row in self.rows:
            for line in row.lines:
                record = {
                    "team": row.team_name,
                    "period": str(self.period),
                    "scope": row.scope_label.lower(),
                    "name": row.name,
                    "kam": row.kam_name or "",
                    "target_id": str(row.target_id),
                    "status": row.status,
                    "evaluation_number": _text(row.evaluation_number),
                    "score": _text(row.score),
                    "rating": row.rating or "",
                    "signed_off": row.sign_off_text,
                    "action_plan": row.action_plan_text,
                }
                line_record = {key: _text(value) for key, value in line.as_dict().items()}
                records.append(
                    {column: {**record, **line_record}[column] for column in RECORD_COLUMNS}
                )
        return records


# -- building it from the facade -----------------------------------------------------------------


def scorecard(
    app: KamApplication,
    period: Period,
    *,
    team: str | UUID | None = None,
    at: datetime | None = None,
    windows: Mapping[Severity, timedelta] = DEFAULT_ACKNOWLEDGEMENT_WINDOWS,
) -> Scorecard:
    """The scorecard of ``period``: of one team (a name, case and spacing ignored, or an id),
    else of every team with a target for the period; as of ``at``, else as the record is now.

    ``windows`` are the acknowledgement windows service level is measured with for targets not
    evaluated yet (an evaluation keeps the actuals it weighed).
    """
    if not isinstance(period, Period):
        raise ValidationError("period", f"must be a Period, not {period!r}")
    moment = None if at is None else require_utc("at", at)
    if team is not None:
        teams = [_find_team(app, team, moment)]
    else:
        teams = []
        for found in app.teams():
            try:
                teams.append(found if moment is None else app.get_team(found.id, at=moment))
            except TeamNotFound:
                continue  # formed after the moment asked about
    cards = []
    for found in teams:
        card = _team_card(app, found, period, moment, windows)
        if card.rows or team is not None:
            cards.append(card)
    return Scorecard(period, moment, tuple(cards))


def _find_team(app: KamApplication, name_or_id: str | UUID, at: datetime | None) -> Team:
    if isinstance(name_or_id, str) and not name_or_id.strip():
        raise ValidationError("team", "must be a team's name or id, not empty")
    team_id = name_or_id if isinstance(name_or_id, UUID) else _uuid_or_none(name_or_id)
    if team_id is None:
        wanted = _folded(str(name_or_id))
        named = [team.id for team in app.teams() if _folded(team.name) == wanted]
        if len(named) > 1:
            msg = f"{len(named)} teams are named {name_or_id!r}; give the team's id"
            raise ValidationError("team", msg)
        if not named:
            raise TeamNotFound("team", name_or_id)
        team_id = named[0]
    try:
        return app.get_team(team_id, at=at)
    except TeamNotFound:
        raise TeamNotFound("team", name_or_id) from None


def _team_card(
    app: KamApplication,
    team: Team,
    period: Period,
    at: datetime | None,
    windows: Mapping[Severity, timedelta],
) -> ScorecardTeam:
    last = period.end - _INSTANT
    if at is not None:
        last = min(last, at)
    standard = team.standard_at(period.end - _INSTANT)
    rows = [
        _row(app, team, target, last, at, standard, windows)
        for target in _targets(app, team.id, period, at)
    ]
    return ScorecardTeam(
        team.id, team.name, team.segment, team.region, standard, tuple(_in_plan_order(rows))
    )


def _targets(
    app: KamApplication, team_id: UUID, period: Period, at: datetime | None
) -> list[Target]:
    targets = app.targets(team_id, period)
    if at is None:
        return targets
    then = []
    for target in targets:
        try:
            then.append(app.get_target(target.id, at=at))
        except TargetNotFound:
            continue  # set after the moment asked about
    return then


def _row(
    app: KamApplication,
    team: Team,
    target: Target,
    last: datetime,
    at: datetime | None,
    standard: EvaluationStandard,
    windows: Mapping[Severity, timedelta],
) -> ScorecardRow:
    name, kam_id = _scope_name_and_kam(app, team, target, last, at)
    evaluation = target.latest_evaluation
    if evaluation is None:
        measured = {
            actual.metric: actual
            for actual in app.measure_target(target.id, windows=windows, at=at)
        }
        lines = tuple(
            ScorecardLine.of(goal, measured.get(goal.metric), standard)
            for goal in target.current_goals
        )
    else:
        standard = evaluation.standard
        lines = tuple(
            ScorecardLine.of(goal, evaluation.actual(goal.metric), standard)
            for goal in evaluation.goals
        )
    signatures = target.sign_off_state()
    plan = target.action_plan_state()
    return ScorecardRow(
        team_id=team.id,
        team_name=team.name,
        target_id=target.id,
        parent_id=target.parent_id,
        scope=target.scope.kind,
        scope_id=target.scope.id,
        name=name,
        kam_id=kam_id,
        kam_name=None if kam_id is None else _member_name(team, kam_id),
        lines=lines,
        evaluation_number=None if evaluation is None else evaluation.number,
        evaluated_at=None if evaluation is None else evaluation.at,
        score=None if evaluation is None else evaluation.score,
        rating=None if evaluation is None else evaluation.rating,
        rating_rank=None if evaluation is None else _rank(evaluation.rating, standard),
        goals_revised=evaluation is not None and evaluation.goals != target.current_goals,
        closed_at=target.closed_at,
        signed_by_kam=None if signatures.kam is None else signatures.kam.name,
        signed_by_supervisor=(
            None if signatures.supervisor is None else signatures.supervisor.name
        ),
        action_plan_required=plan.required,
        action_plan_adjusted=plan.adjusted,
        action_plan=plan.plan,
    )


def _scope_name_and_kam(
    app: KamApplication, team: Team, target: Target, last: datetime, at: datetime | None
) -> tuple[str, UUID | None]:
    """The scope's name, and the KAM it answers to at ``last`` (none for the team)."""
    scope = target.scope
    if scope.kind is ScopeKind.TEAM:
        return team.name, None
    if scope.kind is ScopeKind.MEMBER:
        return _member_name(team, scope.id), scope.id
    account = _account(app, scope.id, at)
    return account.name, account.accountable_kam_at(last)


def _account(app: KamApplication, account_id: UUID, at: datetime | None) -> Any:
    if at is not None:
        try:
            return app.get_account(account_id, at=at)
        except AccountNotFound:
            pass  # registered after the moment: its name now is the best there is
    return app.get_account(account_id)


def _member_name(team: Team, member_id: UUID) -> str:
    member = team.members.get(MemberId(member_id))
    return str(member_id) if member is None else member.name


def _rank(rating: str, standard: EvaluationStandard) -> int | None:
    """Where ``rating`` stands among the standard's bands: 0 for the best."""
    ratings = [band.rating for band in standard.bands]
    return ratings.index(rating) if rating in ratings else None


def _in_plan_order(rows: Sequence[ScorecardRow]) -> list[ScorecardRow]:
    """Each target followed by its parts, depth first, in the order they were set."""
    ids = {row.target_id for row in rows}
    children: dict[UUID, list[ScorecardRow]] = {}
    for row in rows:
        if row.parent_id in ids:
            children.setdefault(row.parent_id, []).append(row)
    roots = [row for row in rows if row.parent_id not in ids]
    roots.sort(key=lambda row: -row.scope.breadth)  # stable: set order within a scope kind

    ordered: list[ScorecardRow] = []

    def visit(batch: Iterable[ScorecardRow]) -> None:
        for row in batch:
            ordered.append(row)
            visit(children.get(row.target_id, ()))

    visit(roots)
    return ordered


# -- plain values ----------------------------------------------------------------------------------


def _plain(value: object) -> Any:
    """JSON's form: text for ids, moments and numbers (money as its amount, to the cent)."""
    if value is None:
        return None
    if isinstance(value, Money):
        return str(_two_places(value.amount))
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _text(value: object) -> str:
    plain = _plain(value)
    return "" if plain is None else str(plain)


def _uuid_or_none(text: str) -> UUID | None:
    try:
        return UUID(text.strip())
    except ValueError:
        return None


def _folded(name: str) -> str:
    return " ".join(name.split()).casefold()
