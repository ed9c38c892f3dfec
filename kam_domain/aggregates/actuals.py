"""How a target's actuals are measured from what the accounts recorded: one rule, used both by
the facade (reading the store) and by the evaluation policy (reading the log as it folds it).

Periods are read on the calendar of the team's time zone (UTC unless the team recorded one).

- revenue: payments received within the period on the scope's accounts, in the goal's currency;
  for a team with a reporting currency, payments in other currencies too, each converted at the
  team's rate in force when it was received (no rate: ExchangeRateMissing, never 1:1); for a
  team without one, payments in another currency do not count;
- service level: the share of cases opened within the period that were acknowledged within the
  acknowledgement window of their severity, in percent to two places (100 when no case was
  opened: nothing was missed); a case never acknowledged counts as missed;
- satisfaction: the mean score surveyed within the period, to two places; when nobody was
  surveyed there is no actual — the log cannot say, and a number is not invented.

Each actual names the events it came from: the payments; each case's opening and, once
acknowledged, its acknowledgement; the surveys. The facts are kept per account in log order,
so the sources come out in a stable order: account by account, then as recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs

from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.aggregates.target import (
    Actual,
    Goal,
    RevenueActual,
    RevenueGoal,
    SatisfactionActual,
    ServiceLevelActual,
)
from kam_domain.values import Metric, Money, Period, Severity

__all__ = [
    "DEFAULT_ACKNOWLEDGEMENT_WINDOWS",
    "AccountFacts",
    "CaseFact",
    "Conversion",
    "Converter",
    "Measurement",
    "PaymentFact",
    "SurveyFact",
    "measure",
    "revenue",
    "satisfaction",
    "service_level",
]

#: How soon a case of each severity must be acknowledged (the default SLA).
DEFAULT_ACKNOWLEDGEMENT_WINDOWS: Mapping[Severity, timedelta] = {
    Severity.CRITICAL: timedelta(hours=4),
    Severity.HIGH: timedelta(hours=24),
    Severity.MEDIUM: timedelta(hours=48),
    Severity.LOW: timedelta(hours=72),
}

_CENT = Decimal("0.01")

#: How an amount converts into a currency at a moment: the converted amount and the rate used
#: (``Team.convert``, which refuses with ExchangeRateMissing when no rate is in force).
Converter = Callable[[Money, str, datetime], tuple[Money, Any]]


@attrs.frozen
class Conversion:
    """A payment counted in a goal's currency at the rate in force when it was received."""

    payment_event_id: UUID
    amount: Money
    converted: Money
    #: The rate used, as the decision's inputs name it (``1 USD = 7.1 CNY (from …)``).
    rate: str


@attrs.frozen
class PaymentFact:
    """A payment received: the event that recorded it, when, and how much."""

    event_id: UUID
    at: datetime
    amount: Money


@attrs.frozen
class CaseFact:
    """A client case: its opening and, once recorded, its acknowledgement."""

    case_id: UUID
    severity: Severity
    opened_id: UUID
    opened_at: datetime
    acknowledged_id: UUID | None = None
    acknowledged_at: datetime | None = None

    def on_time(self, windows: Mapping[Severity, timedelta]) -> bool:
        """Acknowledged within the window of its severity."""
        return (
            self.acknowledged_at is not None
            and self.acknowledged_at <= self.opened_at + windows[self.severity]
        )


@attrs.frozen
class SurveyFact:
    """A satisfaction score surveyed: the event that recorded it, when, and the score."""

    event_id: UUID
    at: datetime
    score: Decimal


class AccountFacts:
    """What one account recorded that actuals are measured from, in log order."""

    def __init__(self, account_id: UUID) -> None:
        self.account_id = account_id
        self.payments: list[PaymentFact] = []
        self.cases: dict[UUID, CaseFact] = {}
        self.surveys: list[SurveyFact] = []

    @classmethod
    def of(cls, account_id: UUID, events: Iterable[Any]) -> AccountFacts:
        """The facts of ``account_id`` from its recorded events (others are ignored)."""
        facts = cls(account_id)
        for event in events:
            facts.learn(event)
        return facts

    def learn(self, event: Any) -> None:
        """Keep what ``event`` says, if it is a payment, a case opened or acknowledged, or a
        survey of this account; ignore anything else."""
        if getattr(event, "originator_id", None) != self.account_id:
            return
        if isinstance(event, ClientAccount.PaymentReceived):
            self.payments.append(PaymentFact(event.event_id, event.timestamp, event.amount))
        elif isinstance(event, ClientAccount.CaseOpened):
            self.cases[event.case_id] = CaseFact(
                event.case_id, event.severity, event.event_id, event.timestamp
            )
        elif isinstance(event, ClientAccount.CaseAcknowledged):
            case = self.cases.get(event.case_id)
            if case is not None:
                self.cases[event.case_id] = attrs.evolve(
                    case, acknowledged_id=event.event_id, acknowledged_at=event.timestamp
                )
        elif isinstance(event, ClientAccount.SatisfactionSurveyed):
            self.surveys.append(SurveyFact(event.event_id, event.timestamp, event.score))


@attrs.frozen
class Measurement:
    """The actuals of the metrics a target sets, and the metrics the log could not measure."""

    actuals: tuple[Actual, ...]
    unmeasured: tuple[Metric, ...]
    #: The payments counted in another currency than they were received in.
    conversions: tuple[Conversion, ...] = ()


def revenue(
    accounts: Iterable[AccountFacts],
    period: Period,
    currency: str,
    zone: tzinfo = UTC,
    convert: Converter | None = None,
) -> RevenueActual:
    """Payments received within ``period`` (on the calendar of ``zone``) in ``currency``,
    summed; with ``convert``, payments in other currencies too, each converted at the rate in
    force when it was received."""
    return _revenue(accounts, period, currency, zone, convert)[0]


def _revenue(
    accounts: Iterable[AccountFacts],
    period: Period,
    currency: str,
    zone: tzinfo,
    convert: Converter | None,
) -> tuple[RevenueActual, list[Conversion]]:
    total = Money.zero(currency)
    sources: list[UUID] = []
    conversions: list[Conversion] = []
    for facts in accounts:
        for payment in facts.payments:
            if not period.contains_in(payment.at, zone):
                continue
            amount = payment.amount
            if amount.currency != currency:
                if convert is None:
                    continue  # without a reporting currency, nothing converts
                amount, rate = convert(payment.amount, currency, payment.at)
                conversions.append(
                    Conversion(payment.event_id, payment.amount, amount, rate.describe())
                )
            total += amount
            sources.append(payment.event_id)
    return RevenueActual(total, tuple(sources)), conversions


def service_level(
    accounts: Iterable[AccountFacts],
    period: Period,
    windows: Mapping[Severity, timedelta] = DEFAULT_ACKNOWLEDGEMENT_WINDOWS,
    zone: tzinfo = UTC,
) -> ServiceLevelActual:
    """The share of cases opened within ``period`` acknowledged within their window."""
    counted = on_time = 0
    sources: list[UUID] = []
    for facts in accounts:
        for case in facts.cases.values():
            if not period.contains_in(case.opened_at, zone):
                continue
            counted += 1
            sources.append(case.opened_id)
            if case.acknowledged_id is not None:
                sources.append(case.acknowledged_id)
            if case.on_time(windows):
                on_time += 1
    share = Decimal(100) if counted == 0 else Decimal(100) * on_time / counted
    return ServiceLevelActual(share.quantize(_CENT), tuple(sources))


def satisfaction(
    accounts: Iterable[AccountFacts], period: Period, zone: tzinfo = UTC
) -> SatisfactionActual | None:
    """The mean score surveyed within ``period``; None when nobody was surveyed."""
    scores: list[Decimal] = []
    sources: list[UUID] = []
    for facts in accounts:
        for survey in facts.surveys:
            if period.contains_in(survey.at, zone):
                scores.append(survey.score)
                sources.append(survey.event_id)
    if not scores:
        return None
    mean = sum(scores, Decimal(0)) / len(scores)
    return SatisfactionActual(mean.quantize(_CENT), tuple(sources))


def measure(
    goals: Iterable[Goal],
    accounts: Sequence[AccountFacts],
    period: Period,
    windows: Mapping[Severity, timedelta] = DEFAULT_ACKNOWLEDGEMENT_WINDOWS,
    zone: tzinfo = UTC,
    convert: Converter | None = None,
) -> Measurement:
    """The actual of each metric ``goals`` set, in the goals' order, from ``accounts``' facts;
    the period read on the calendar of ``zone`` (the team's, ``Team.zone_for``); revenue in
    other currencies converted by ``convert`` (a team with a reporting currency: its
    ``convert``), else not counted. ExchangeRateMissing when a payment has no rate in force."""
    actuals: list[Actual] = []
    unmeasured: list[Metric] = []
    conversions: list[Conversion] = []
    for goal in goals:
        if isinstance(goal, RevenueGoal):
            actual, converted = _revenue(accounts, period, goal.value.currency, zone, convert)
            actuals.append(actual)
            conversions.extend(converted)
        elif goal.metric is Metric.SERVICE_LEVEL:
            actuals.append(service_level(accounts, period, windows, zone))
        else:
            mean = satisfaction(accounts, period, zone)
            if mean is None:
                unmeasured.append(goal.metric)
            else:
                actuals.append(mean)
    return Measurement(tuple(actuals), tuple(unmeasured), tuple(conversions))
