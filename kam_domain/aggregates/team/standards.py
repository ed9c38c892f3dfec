"""The assessment method (考核办法) the sales director sets from a date on, and the one in force
at a moment (the default until one is set)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from kam_domain.aggregates.base import KamAggregate, Meta, require_text, require_utc
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.team.guards import TeamGuards
from kam_domain.aggregates.team.records import EvaluationStandard
from kam_domain.errors import ValidationError

if TYPE_CHECKING:
    from kam_domain.aggregates.team import Team


class Standards(TeamGuards):
    """Setting the evaluation standard, and reading the one in force."""

    class EvaluationStandardSet(KamAggregate.Event):
        standard: EvaluationStandard
        effective_from: datetime

        def apply(self, team: Team) -> None:
            team.standards.append((self.effective_from, self.standard))
            team.standards.sort(key=lambda item: item[0])

    def set_evaluation_standard(
        self,
        meta: Meta,
        by: Credentials,
        standard: EvaluationStandard,
        *,
        effective_from: datetime | None = None,
    ) -> None:
        """The sales director sets the assessment method (考核办法) from a date on."""
        by.require_director("actor")
        if not isinstance(standard, EvaluationStandard):
            raise ValidationError("standard", "must be an EvaluationStandard")
        for band in standard.bands:
            require_text("standard", band.rating, max_length=20)
        start = meta.at if effective_from is None else require_utc("effective_from", effective_from)
        self._record(self.EvaluationStandardSet, meta, standard=standard, effective_from=start)

    # -- queries -----------------------------------------------------------------------------------

    def standard_at(self, at: datetime) -> EvaluationStandard:
        """The evaluation standard in force at ``at`` (the default before any was set)."""
        current = EvaluationStandard.default()
        for start, standard in self.standards:
            if start <= at:
                current = standard
        return current
