"""What a scorecard holds: per team, each target's lines (goal, actual, attainment), its
evaluation's outcome, sign-offs and action plan; and its plain forms (JSON, CSV records)."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

import attrs

from kam_domain.aggregates.target import Actual, Goal, ScopeKind
from kam_domain.aggregates.team import EvaluationStandard
from kam_domain.values import Metric, Money, Period

__all__ = [
    "EVALUATED",
    "METRIC_LABELS",
    "NOT_EVALUATED",
    "RECORD_COLUMNS",
    "SCOPE_LABELS",
    "Scorecard",
    "ScorecardLine",
    "ScorecardRow",
    "ScorecardTeam",
    "format_percent",
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
