"""The team's reporting currency (报告币种) and the exchange rates it records, dated: what a
target's revenue in another currency converts at.

A rate is recorded from one currency into another from a moment on (``1 USD = 7.1 CNY from
2026-01-01``); the rate in force at a moment is the latest recorded whose moment has come. A
conversion without a rate in force is refused (:class:`~kam_domain.errors.ExchangeRateMissing`),
never taken 1:1. Until a team sets a reporting currency, nothing converts: revenue in another
currency than a goal's does not count, as before currencies were recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

import attrs

from kam_domain.aggregates.base import KamAggregate, Meta, require_utc
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.team.guards import TeamGuards
from kam_domain.bounds import check_computable
from kam_domain.errors import ExchangeRateMissing, InvalidTransition, ValidationError
from kam_domain.values import Money, Role

if TYPE_CHECKING:
    from kam_domain.aggregates.team import Team

#: Who records rates: the directors and the financial planner.
RATE_KEEPERS = (Role.SENIOR_SALES_DIRECTOR, Role.SALES_DIRECTOR, Role.FINANCIAL_PLANNER)
_CENT = Decimal("0.01")
_Converter = Callable[[Money, str, datetime], tuple[Money, "ExchangeRate | None"]]


@attrs.frozen
class ExchangeRate:
    """One unit of ``currency`` is ``rate`` units of ``into``, from ``effective_from`` on."""

    currency: str
    into: str
    rate: Decimal
    effective_from: datetime

    def describe(self) -> str:
        return (
            f"1 {self.currency} = {self.rate} {self.into} (from {self.effective_from.isoformat()})"
        )


def _currency(field: str, code: object) -> str:
    """A known ISO 4217 code (what Money accepts), refused with the field's name otherwise."""
    try:
        return Money.zero(code).currency  # type: ignore[arg-type]
    except ValidationError as error:
        raise ValidationError(field, error.reason) from None


class Currencies(TeamGuards):
    """The reporting currency and the dated exchange rates, and converting by them."""

    class ReportingCurrencySet(KamAggregate.Event):
        currency: str

        def apply(self, team: Team) -> None:
            team.reporting_currency = self.currency

    class ExchangeRateRecorded(KamAggregate.Event):
        """One unit of ``currency`` is ``rate`` units of ``into`` from ``effective_from`` on."""

        currency: str
        into: str
        rate: Decimal
        effective_from: datetime

        def apply(self, team: Team) -> None:
            team.exchange_rates.append((self.effective_from, self.currency, self.into, self.rate))
            team.exchange_rates.sort(key=lambda item: item[0])

    def set_reporting_currency(self, meta: Meta, by: Credentials, currency: str) -> None:
        """A director sets the currency the team reports in; from then on a target's revenue in
        another currency converts at the rate in force at each payment."""
        by.require_director("actor")
        currency = _currency("currency", currency)
        if self.reporting_currency == currency:
            raise InvalidTransition(f"currency: the team reports in {currency} already")
        self._record(self.ReportingCurrencySet, meta, currency=currency)

    def record_exchange_rate(
        self,
        meta: Meta,
        by: Credentials,
        *,
        currency: str,
        into: str,
        rate: Decimal,
        effective_from: datetime | None = None,
    ) -> None:
        """A director or the financial planner records that one ``currency`` is ``rate``
        ``into`` from a moment on (the command's own unless given)."""
        by.require_role("actor", *RATE_KEEPERS)
        currency = _currency("currency", currency)
        into = _currency("into", into)
        if currency == into:
            raise ValidationError("into", f"must differ from the currency converted ({currency})")
        if not isinstance(rate, Decimal) or isinstance(rate, bool):
            raise ValidationError("rate", f"must be a Decimal, not {rate!r}")
        check_computable("rate", rate)
        if rate <= 0:
            raise ValidationError("rate", f"must be more than 0, not {rate}")
        start = meta.at if effective_from is None else require_utc("effective_from", effective_from)
        self._record(
            self.ExchangeRateRecorded,
            meta,
            currency=currency,
            into=into,
            rate=rate,
            effective_from=start,
        )

    # -- queries -----------------------------------------------------------------------------------

    def rate_at(self, currency: str, into: str, at: datetime) -> ExchangeRate | None:
        """The rate from ``currency`` into ``into`` in force at ``at`` (None when none is)."""
        found = None
        for start, source, target, rate in self.exchange_rates:
            if start <= at and (source, target) == (currency, into):
                found = ExchangeRate(source, target, rate, start)
        return found

    def converter(
        self,
    ) -> Callable[[Money, str, datetime], tuple[Money, ExchangeRate | None]] | None:
        """What a target's revenue converts by: :meth:`convert` once the team reports in a
        currency; None before (nothing converts)."""
        return None if self.reporting_currency is None else self.convert

    def convert(self, amount: Money, into: str, at: datetime) -> tuple[Money, ExchangeRate | None]:
        """``amount`` in ``into`` at the rate in force at ``at``, to the cent (half to even), and
        the rate used (None when it was in ``into`` already); ExchangeRateMissing without one."""
        if amount.currency == into:
            return amount, None
        rate = self.rate_at(amount.currency, into, at)
        if rate is None:
            msg = f"no {amount.currency} to {into} rate is in force at {at.isoformat()}"
            raise ExchangeRateMissing("currency", msg)
        converted = (amount.amount * rate.rate).quantize(_CENT, rounding=ROUND_HALF_EVEN)
        return Money(converted, into), rate
