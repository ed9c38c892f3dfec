"""The forecast of a period (市场预测): what a team's pipeline says it will sell, per member and
for the team, against the revenue goals of the period's targets.

A pure function of the records it is given (opportunities, the stage probabilities, targets,
names), so that a forecast as of a moment is this function over the records as they stood then
(:mod:`kam_domain.reports.forecast_reading` loads them). Three figures per member and team, each
in one currency (a line per currency when the pipeline holds several):

- **committed**: the opportunities won within the period, at the amount won;
- **weighted**: the open opportunities expected to close within the period, each at its amount
  times the probability of its stage;
- **best case**: committed plus the full amount of those open opportunities.

Lost opportunities, and open ones expected to close outside the period, count in none. A
member's line counts the opportunities they own; the team's counts all of them, so the members'
figures add up to the team's. The goal is the revenue goal of the period's target for that
scope (the sum, when there are several), in that currency.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs

from kam_domain.aggregates.opportunity import Opportunity, OpportunityStage, StageProbabilities
from kam_domain.aggregates.target import ScopeKind, Target
from kam_domain.values import Metric, Money, Percentage, Period

__all__ = [
    "COMMITTED",
    "PIPELINE",
    "RECORD_COLUMNS",
    "Forecast",
    "ForecastItem",
    "ForecastLine",
    "forecast",
]

#: How an opportunity counts in the period.
COMMITTED, PIPELINE = "committed", "pipeline"
TEAM, MEMBER = "team", "member"

#: The columns of the forecast's CSV: one row per line.
RECORD_COLUMNS = [
    "team",
    "period",
    "as_of",
    "scope",
    "member_id",
    "name",
    "currency",
    "committed",
    "weighted",
    "best_case",
    "goal",
    "committed_of_goal",
    "forecast_of_goal",
    "won",
    "open",
]


@attrs.frozen
class ForecastItem:
    """One opportunity as it counts in the forecast."""

    opportunity_id: UUID
    name: str
    account_id: UUID
    owner_id: UUID
    stage: OpportunityStage
    amount: Money
    probability: Percentage
    close_date: datetime
    counts_as: str

    @property
    def weighted(self) -> Money:
        return self.amount * self.probability.fraction


@attrs.frozen
class ForecastLine:
    """A member's or the team's figures in one currency."""

    scope: str
    member_id: UUID | None
    name: str
    currency: str
    committed: Money
    weighted: Money
    best_case: Money
    goal: Money | None
    won: int
    open: int

    @property
    def forecast(self) -> Money:
        """Committed plus the weighted pipeline: what the pipeline says will be sold."""
        return self.committed + self.weighted

    @property
    def committed_of_goal(self) -> Decimal | None:
        """Committed as a percentage of the goal (None without a goal)."""
        return _share(self.committed, self.goal)

    @property
    def forecast_of_goal(self) -> Decimal | None:
        """Committed plus weighted as a percentage of the goal (None without a goal)."""
        return _share(self.forecast, self.goal)


@attrs.frozen
class Forecast:
    """A team's forecast of a period, as of a moment (None: as the record stands)."""

    team_id: UUID
    team_name: str
    period: Period
    at: datetime | None
    probabilities: StageProbabilities
    lines: tuple[ForecastLine, ...]
    items: tuple[ForecastItem, ...]

    @property
    def team_lines(self) -> tuple[ForecastLine, ...]:
        return tuple(line for line in self.lines if line.scope == TEAM)

    @property
    def member_lines(self) -> tuple[ForecastLine, ...]:
        return tuple(line for line in self.lines if line.scope == MEMBER)

    def as_dict(self) -> dict[str, Any]:
        """The forecast as JSON can hold it (amounts as decimal text)."""
        return {
            "team": {"id": str(self.team_id), "name": self.team_name},
            "period": str(self.period),
            "as_of": None if self.at is None else self.at.isoformat(),
            "probabilities": {stage.value: str(p.value) for stage, p in self.probabilities.items()},
            "lines": [_line_dict(line) for line in self.lines],
            "opportunities": [_item_dict(item) for item in self.items],
        }

    def records(self) -> list[dict[str, str]]:
        """One flat row per line, under :data:`RECORD_COLUMNS`."""
        rows = []
        for line in self.lines:
            row = _line_dict(line)
            rows.append(
                {
                    "team": self.team_name,
                    "period": str(self.period),
                    "as_of": "" if self.at is None else self.at.isoformat(),
                    **{key: "" if row[key] is None else str(row[key]) for key in _LINE_KEYS},
                }
            )
        return rows


def forecast(
    period: Period,
    opportunities: Iterable[Opportunity],
    probabilities: StageProbabilities,
    *,
    team_id: UUID,
    team_name: str,
    targets: Iterable[Target] = (),
    names: Mapping[UUID, str] | None = None,
    at: datetime | None = None,
    zone: tzinfo = UTC,
) -> Forecast:
    """The forecast of ``period`` from these records (the team's opportunities and targets,
    as of ``at`` when the caller loaded them so); ``names``: members' names by id; ``zone``:
    the calendar the period is read on (the team's, ``Team.zone_for``)."""
    names = names or {}
    items = tuple(
        item
        for opportunity in opportunities
        if (item := _counted(opportunity, period, probabilities, zone)) is not None
    )
    goals = _goals(targets, period, team_id)
    keys: dict[tuple[str, UUID | None, str], None] = {}
    for item in items:
        keys[(TEAM, None, item.amount.currency)] = None
    for (scope, member_id), by_currency in goals.items():
        for currency in by_currency:
            keys[(scope, member_id, currency)] = None
    for item in items:
        keys[(MEMBER, item.owner_id, item.amount.currency)] = None
    lines = [
        _line(scope, member_id, currency, items, goals, team_name, names)
        for scope, member_id, currency in keys
    ]
    lines.sort(key=lambda line: (line.scope != TEAM, line.name.casefold(), line.currency))
    return Forecast(team_id, team_name, period, at, probabilities, tuple(lines), items)


def _counted(
    opportunity: Opportunity, period: Period, probabilities: StageProbabilities, zone: tzinfo
) -> ForecastItem | None:
    stage = opportunity.stage
    if stage is OpportunityStage.CLOSED_WON:
        counts_as = COMMITTED
    elif stage.is_open:
        counts_as = PIPELINE
    else:
        return None
    if not period.contains_in(opportunity.close_date, zone):
        return None
    return ForecastItem(
        opportunity_id=opportunity.id,
        name=opportunity.name,
        account_id=opportunity.account_id,
        owner_id=opportunity.owner_id,
        stage=stage,
        amount=opportunity.amount,
        probability=probabilities.probability(stage),
        close_date=opportunity.close_date,
        counts_as=counts_as,
    )


def _goals(
    targets: Iterable[Target], period: Period, team_id: UUID
) -> dict[tuple[str, UUID | None], dict[str, Money]]:
    """The revenue goals of the period's team and member targets, by scope and currency."""
    goals: dict[tuple[str, UUID | None], dict[str, Money]] = {}
    for target in targets:
        if target.period != period or target.team_id != team_id:
            continue
        goal = target.goal(Metric.SALES_REVENUE)
        if goal is None or not isinstance(goal.value, Money):
            continue
        if target.scope.kind is ScopeKind.TEAM and target.scope.id == team_id:
            key: tuple[str, UUID | None] = (TEAM, None)
        elif target.scope.kind is ScopeKind.MEMBER:
            key = (MEMBER, target.scope.id)
        else:
            continue
        by_currency = goals.setdefault(key, {})
        value = goal.value
        known = by_currency.get(value.currency)
        by_currency[value.currency] = value if known is None else known + value
    return goals


def _line(
    scope: str,
    member_id: UUID | None,
    currency: str,
    items: tuple[ForecastItem, ...],
    goals: Mapping[tuple[str, UUID | None], Mapping[str, Money]],
    team_name: str,
    names: Mapping[UUID, str],
) -> ForecastLine:
    mine = [
        item
        for item in items
        if item.amount.currency == currency and (member_id is None or item.owner_id == member_id)
    ]
    zero = Money.zero(currency)
    committed = sum((i.amount for i in mine if i.counts_as == COMMITTED), zero)
    open_items = [i for i in mine if i.counts_as == PIPELINE]
    weighted = sum((i.weighted for i in open_items), zero)
    unweighted = sum((i.amount for i in open_items), zero)
    name = team_name if member_id is None else names.get(member_id, str(member_id))
    return ForecastLine(
        scope=scope,
        member_id=member_id,
        name=name,
        currency=currency,
        committed=committed,
        weighted=weighted,
        best_case=committed + unweighted,
        goal=goals.get((scope, member_id), {}).get(currency),
        won=len(mine) - len(open_items),
        open=len(open_items),
    )


def _share(part: Money, whole: Money | None) -> Decimal | None:
    if whole is None or whole.is_zero:
        return None
    return (part.amount * 100 / whole.amount).quantize(Decimal("0.1"))


_LINE_KEYS = RECORD_COLUMNS[3:]


def _money(value: Money | None) -> str | None:
    return None if value is None else str(value.amount.quantize(Decimal("0.01")))


def _line_dict(line: ForecastLine) -> dict[str, Any]:
    committed_share = line.committed_of_goal
    forecast_share = line.forecast_of_goal
    return {
        "scope": line.scope,
        "member_id": None if line.member_id is None else str(line.member_id),
        "name": line.name,
        "currency": line.currency,
        "committed": _money(line.committed),
        "weighted": _money(line.weighted),
        "best_case": _money(line.best_case),
        "goal": _money(line.goal),
        "committed_of_goal": None if committed_share is None else str(committed_share),
        "forecast_of_goal": None if forecast_share is None else str(forecast_share),
        "won": line.won,
        "open": line.open,
    }


def _item_dict(item: ForecastItem) -> dict[str, Any]:
    return {
        "id": str(item.opportunity_id),
        "name": item.name,
        "account_id": str(item.account_id),
        "owner_id": str(item.owner_id),
        "stage": item.stage.value,
        "amount": str(item.amount.amount),
        "currency": item.amount.currency,
        "probability": str(item.probability.value),
        "close_date": item.close_date.isoformat(),
        "counts_as": item.counts_as,
    }
