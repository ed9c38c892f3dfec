"""Measuring a target from the log: the actuals its evaluation weighs, with their source events.

- revenue: payments received within the period on the scope's accounts, in the goal's currency;
- service level: the share of cases opened within the period that were acknowledged within the
  acknowledgement window of their severity (100 when no case was opened);
- satisfaction: the mean satisfaction score surveyed within the period (none surveyed: no actual).

The scope's accounts: the account itself; for a KAM, the accounts they were accountable for at
the period's end; for the team, every account of the team.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.aggregates.target import (
    Actual,
    RevenueActual,
    RevenueGoal,
    SatisfactionActual,
    ScopeKind,
    ServiceLevelActual,
    Target,
)
from kam_domain.application.core import ApplicationCore
from kam_domain.errors import TargetNotFound
from kam_domain.values import Metric, Money, Period, Severity

__all__ = ["DEFAULT_ACKNOWLEDGEMENT_WINDOWS", "MeasureQueries"]

#: How soon a case of each severity must be acknowledged (the default SLA).
DEFAULT_ACKNOWLEDGEMENT_WINDOWS: Mapping[Severity, timedelta] = {
    Severity.CRITICAL: timedelta(hours=4),
    Severity.HIGH: timedelta(hours=24),
    Severity.MEDIUM: timedelta(hours=48),
    Severity.LOW: timedelta(hours=72),
}


class MeasureQueries(ApplicationCore):
    """Actuals for a target, read from the accounts' recorded events."""

    def measure_target(
        self,
        target_id: UUID,
        *,
        windows: Mapping[Severity, timedelta] = DEFAULT_ACKNOWLEDGEMENT_WINDOWS,
    ) -> tuple[Actual, ...]:
        """The actuals of every metric the target sets that the log can measure."""
        target = self._get(Target, target_id, TargetNotFound, "target_id")
        accounts = self._scope_accounts(target)
        goals = {type(goal).metric: goal for goal in target.current_goals}
        actuals: list[Actual] = []
        for metric, goal in goals.items():
            if metric is Metric.SALES_REVENUE:
                assert isinstance(goal, RevenueGoal)
                actuals.append(_revenue(accounts, target.period, goal.value.currency))
            elif metric is Metric.SERVICE_LEVEL:
                actuals.append(_service_level(accounts, target.period, windows))
            elif metric is Metric.CUSTOMER_SATISFACTION:
                satisfaction = _satisfaction(accounts, target.period)
                if satisfaction is not None:
                    actuals.append(satisfaction)
        return tuple(actuals)

    def _scope_accounts(self, target: Target) -> list[tuple[ClientAccount, list[Any]]]:
        """The scope's accounts, each with its recorded events."""
        directory = self._directory()
        if target.scope.kind is ScopeKind.ACCOUNT:
            ids = [target.scope.id]
        else:
            ids = directory.ids("account", team_id=target.team_id)
        last_moment = target.period.end - timedelta(microseconds=1)
        chosen = []
        for account_id in ids:
            account = self._get(ClientAccount, account_id, TargetNotFound, "scope")
            if (
                target.scope.kind is ScopeKind.MEMBER
                and account.accountable_kam_at(last_moment) != target.scope.id
            ):
                continue
            chosen.append((account, list(self.repository.event_store.get(account_id))))
        return chosen


def _in(period: Period, event: Any) -> bool:
    return period.contains(event.timestamp)


def _revenue(
    accounts: list[tuple[ClientAccount, list[Any]]], period: Period, currency: str
) -> RevenueActual:
    total = Money.zero(currency)
    sources: list[UUID] = []
    for _, events in accounts:
        for event in events:
            if (
                isinstance(event, ClientAccount.PaymentReceived)
                and _in(period, event)
                and event.amount.currency == currency
            ):
                total += event.amount
                sources.append(event.event_id)
    return RevenueActual(total, tuple(sources))


def _service_level(
    accounts: list[tuple[ClientAccount, list[Any]]],
    period: Period,
    windows: Mapping[Severity, timedelta],
) -> ServiceLevelActual:
    counted = on_time = 0
    sources: list[UUID] = []
    for _, events in accounts:
        opened = {
            event.case_id: event
            for event in events
            if isinstance(event, ClientAccount.CaseOpened) and _in(period, event)
        }
        acknowledged = {
            event.case_id: event
            for event in events
            if isinstance(event, ClientAccount.CaseAcknowledged) and event.case_id in opened
        }
        for case_id, opening in opened.items():
            counted += 1
            sources.append(opening.event_id)
            ack = acknowledged.get(case_id)
            if ack is not None:
                sources.append(ack.event_id)
                if ack.timestamp <= opening.timestamp + windows[opening.severity]:
                    on_time += 1
    share = Decimal(100) if counted == 0 else (Decimal(100) * on_time / counted)
    return ServiceLevelActual(share.quantize(Decimal("0.01")), tuple(sources))


def _satisfaction(
    accounts: list[tuple[ClientAccount, list[Any]]], period: Period
) -> SatisfactionActual | None:
    scores: list[Decimal] = []
    sources: list[UUID] = []
    for _, events in accounts:
        for event in events:
            if isinstance(event, ClientAccount.SatisfactionSurveyed) and _in(period, event):
                scores.append(event.score)
                sources.append(event.event_id)
    if not scores:
        return None
    mean = (sum(scores, Decimal(0)) / len(scores)).quantize(Decimal("0.01"))
    return SatisfactionActual(mean, tuple(sources))
