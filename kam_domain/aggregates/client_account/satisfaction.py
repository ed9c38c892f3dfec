"""Customer satisfaction: survey scores from 0 to 100 and their mean within a period."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from kam_domain.aggregates.base import KamAggregate, Meta, require_text
from kam_domain.aggregates.client_account.guards import LONG_TEXT, AccountGuards, check_period
from kam_domain.aggregates.client_account.records import SatisfactionSurvey
from kam_domain.aggregates.client_account.roles import SURVEYOR_ROLES
from kam_domain.aggregates.credentials import Credentials
from kam_domain.bounds import PERCENT_PLACES, check_places
from kam_domain.errors import ValidationError
from kam_domain.values import Period, to_decimal

if TYPE_CHECKING:
    from kam_domain.aggregates.client_account import ClientAccount


class Satisfaction(AccountGuards):
    """Surveying the client's satisfaction."""

    class SatisfactionSurveyed(KamAggregate.Event):
        score: Decimal
        comment: str | None

        def apply(self, account: ClientAccount) -> None:
            account.surveys.append(SatisfactionSurvey(self.score, self.comment, self.timestamp))
            account._over_at(self.timestamp)
            account._retire(self.timestamp)

    def survey_satisfaction(
        self,
        meta: Meta,
        by: Credentials,
        *,
        score: Decimal | int | str,
        comment: str | None = None,
    ) -> None:
        """Record a satisfaction score from 0 to 100 (Decimal, int or numeric string)."""
        self._check_actor(meta, by, *SURVEYOR_ROLES)
        value = check_places("score", to_decimal("score", score), PERCENT_PLACES)
        if not Decimal(0) <= value <= Decimal(100):
            raise ValidationError("score", f"must be between 0 and 100, not {value}")
        text = None if comment is None else require_text("comment", comment, max_length=LONG_TEXT)
        self._record(self.SatisfactionSurveyed, meta, score=value, comment=text)

    # -- queries -----------------------------------------------------------------------------------

    def mean_satisfaction(self, period: Period) -> Decimal | None:
        """The mean survey score within ``period``; None when nobody was surveyed. Surveys
        leave the account after the retention window: older periods are read from the events
        (as a target's evaluation does)."""
        check_period(period)
        scores = [s.score for s in self.surveys if period.contains(s.surveyed_at)]
        if not scores:
            return None
        return sum(scores, Decimal(0)) / len(scores)
