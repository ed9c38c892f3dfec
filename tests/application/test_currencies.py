"""Given-when-then tests of a team's reporting currency and its dated exchange rates: a target's
revenue paid in another currency converts at the rate in force at each payment, the evaluation
names the rate it used, and a missing rate is refused, never taken 1:1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from kam_domain.aggregates.target import RevenueGoal, TargetScope
from kam_domain.application import KamApplication
from kam_domain.errors import (
    ExchangeRateMissing,
    InvalidTransition,
    RoleRequired,
    ValidationError,
)
from kam_domain.policies.evaluation import EvaluationPolicy
from kam_domain.values import Actor, Money, Period
from tests.conftest import Org, build_org, key_account
from tests.support import T0, unchanged

Q1 = Period(2026, 1)
AFTER_Q1 = datetime(2026, 4, 1, 9, tzinfo=UTC)
CLOCK = Actor.system("clock")
#: The moments of the two rates and the two payments in USD.
RATE_1, PAID_1 = T0, T0 + timedelta(days=10)
RATE_2, PAID_2 = T0 + timedelta(days=20), T0 + timedelta(days=30)


def cny(amount: int | str) -> Money:
    return Money.of(amount, "CNY")


def usd(amount: int | str) -> Money:
    return Money.of(amount, "USD")


@pytest.fixture(name="evaluating")
def fixture_evaluating(store: str) -> Iterator[KamApplication]:
    app = KamApplication(store, policies=[EvaluationPolicy])
    yield app
    app.close()


def reporting_in_cny(app: KamApplication, *, rates: bool = True) -> Org:
    """Given: the standard team reporting in CNY, with 1 USD = 7.1 CNY, then 7.2 CNY."""
    org = build_org(app)
    app.set_reporting_currency(org.team_id, org.senior, "CNY", at=T0)
    if rates:
        for rate, moment in ((Decimal("7.1"), RATE_1), (Decimal("7.2"), RATE_2)):
            app.record_exchange_rate(
                org.team_id,
                org.finance,
                currency="USD",
                into="CNY",
                rate=rate,
                effective_from=moment,
                at=T0,
            )
    return org


def paid_in_usd(app: KamApplication, org: Org) -> tuple[Any, Any]:
    """Given: a USD invoice paid 100 USD under each rate, and a member target of 2,000 CNY."""
    account = key_account(app, org)
    invoice = app.issue_invoice(
        account, org.finance, amount=usd(500), due_at=T0 + timedelta(days=60), at=T0
    )
    app.record_payment(account, org.finance, invoice, amount=usd(100), at=PAID_1)
    app.record_payment(account, org.finance, invoice, amount=usd(100), at=PAID_2)
    target_id = app.set_target(
        org.team_id,
        org.director,
        scope=TargetScope.member(org.kam),
        period=Q1,
        goals=(RevenueGoal(cny(2000)),),
        at=T0,
    )
    return account, target_id


# -- recording -----------------------------------------------------------------------------------


def test_the_rate_in_force_is_the_latest_whose_moment_has_come(app: KamApplication) -> None:
    """Given two rates, each moment reads the one in force then; before the first, none."""
    org = reporting_in_cny(app)

    team = app.get_team(org.team_id)

    assert team.reporting_currency == "CNY"
    assert team.rate_at("USD", "CNY", T0 - timedelta(seconds=1)) is None
    first, second = (team.rate_at("USD", "CNY", moment) for moment in (PAID_1, PAID_2))
    assert first is not None
    assert first.rate == Decimal("7.1")
    assert second is not None
    assert second.rate == Decimal("7.2")
    assert team.convert(usd("10.005"), "CNY", PAID_1)[0] == cny("71.04")  # to the cent


@pytest.mark.parametrize(
    ("currency", "into", "rate", "field"),
    [
        ("XYZ", "CNY", Decimal("7.1"), "currency"),
        ("USD", "usd", Decimal("7.1"), "into"),
        ("USD", "USD", Decimal("1"), "into"),
        ("USD", "CNY", Decimal("0"), "rate"),
        ("USD", "CNY", Decimal("-7.1"), "rate"),
        ("USD", "CNY", Decimal("NaN"), "rate"),
        ("USD", "CNY", 7.1, "rate"),
    ],
)
def test_a_bad_rate_is_refused_and_nothing_is_recorded(
    app: KamApplication, currency: str, into: str, rate: Any, field: str
) -> None:
    """An unknown currency, a rate into the same currency, or a rate that is not a positive
    Decimal is refused naming the field; the log is unchanged."""
    org = build_org(app)

    with unchanged(app), pytest.raises(ValidationError, match=f"^{field}: "):
        app.record_exchange_rate(
            org.team_id, org.senior, currency=currency, into=into, rate=rate, at=T0
        )


def test_a_kam_records_no_rate_and_sets_no_reporting_currency(app: KamApplication) -> None:
    """Rates are the directors' and the financial planner's; the log is unchanged."""
    org = build_org(app)

    with unchanged(app), pytest.raises(RoleRequired):
        app.record_exchange_rate(
            org.team_id, org.kam, currency="USD", into="CNY", rate=Decimal("7"), at=T0
        )
    with unchanged(app), pytest.raises(RoleRequired):
        app.set_reporting_currency(org.team_id, org.kam, "CNY", at=T0)


def test_the_reporting_currency_again_or_unknown_is_refused(app: KamApplication) -> None:
    """Setting the currency the team reports in already, or an unknown one, is refused."""
    org = reporting_in_cny(app, rates=False)

    with unchanged(app), pytest.raises(InvalidTransition, match="CNY already"):
        app.set_reporting_currency(org.team_id, org.senior, "CNY", at=T0)
    with unchanged(app), pytest.raises(ValidationError, match=r"^currency: "):
        app.set_reporting_currency(org.team_id, org.senior, "Yuan", at=T0)


# -- measuring and evaluating --------------------------------------------------------------------


def test_revenue_in_another_currency_converts_at_each_payments_rate(app: KamApplication) -> None:
    """Given 100 USD paid under 7.1 and 100 USD under 7.2, the target's revenue is 1,430 CNY."""
    org = reporting_in_cny(app)
    _, target_id = paid_in_usd(app, org)

    (actual,) = app.measure_target(target_id)

    assert actual.value == cny(1430)
    assert len(actual.source_event_ids) == 2


def test_without_a_reporting_currency_nothing_converts(app: KamApplication) -> None:
    """Given a team that reports in no currency (as before currencies were recorded), payments
    in USD do not count towards a CNY goal, whatever rates it holds."""
    org = build_org(app)
    app.record_exchange_rate(
        org.team_id, org.senior, currency="USD", into="CNY", rate=Decimal("7.1"), at=T0
    )
    _, target_id = paid_in_usd(app, org)

    (actual,) = app.measure_target(target_id)

    assert actual.value == cny(0)


def test_a_missing_rate_is_refused_never_one_to_one(app: KamApplication) -> None:
    """Given a team reporting in CNY with no USD rate, measuring a target paid in USD is
    ExchangeRateMissing naming the currencies and the moment; nothing is written."""
    org = reporting_in_cny(app, rates=False)
    _, target_id = paid_in_usd(app, org)

    with unchanged(app), pytest.raises(ExchangeRateMissing, match=r"^currency: no USD to CNY"):
        app.measure_target(target_id)


def test_the_evaluation_converts_and_names_each_rate(evaluating: KamApplication) -> None:
    """Given USD payments under two rates, the period's evaluation counts 1,430 CNY and its
    inputs name each payment's rate; replay reproduces the decision."""
    app = evaluating
    org = reporting_in_cny(app)
    _, target_id = paid_in_usd(app, org)

    app.close_period(Q1, CLOCK, at=AFTER_Q1)

    evaluation = app.get_target(target_id).latest_evaluation
    assert evaluation is not None
    assert [actual.value for actual in evaluation.actuals] == [cny(1430)]
    (made,) = app.decisions("evaluation")
    line = made.inputs[f"target {target_id}"]
    assert "100.00 USD at 1 USD = 7.1 CNY (from 2026-01-05T09:00:00+00:00) = 710.00 CNY" in line
    assert "1 USD = 7.2 CNY" in line
    assert app.replay().reproduced


def test_the_evaluation_without_a_rate_only_closes_the_target(evaluating: KamApplication) -> None:
    """Given no USD rate, the policy invents none: the target is closed, not evaluated, and
    the decision says which rate is missing."""
    app = evaluating
    org = reporting_in_cny(app, rates=False)
    _, target_id = paid_in_usd(app, org)

    app.close_period(Q1, CLOCK, at=AFTER_Q1)

    target = app.get_target(target_id)
    assert target.closed_at is not None
    assert target.latest_evaluation is None
    (made,) = app.decisions("evaluation")
    assert made.outcome == "not evaluable 1"
    assert "no USD to CNY rate is in force at" in made.inputs[f"target {target_id}"]
    assert app.replay().reproduced
