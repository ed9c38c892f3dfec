"""A team's pipeline settings: the probability each open stage stands for, and the currency its
opportunities are in, recorded as events.

One small record per team (its id derived from the team's), rather than events on the Team:
the settings are read by the pipeline and the forecast only, change rarely, and the Team, which
every command loads for its credentials, keeps its history and stored shapes as they were. Read
as of a moment like any record, so a forecast as of a date uses the probabilities in force
then. A team that never set them uses :data:`~.stages.DEFAULT_PROBABILITIES` and accepts any
currency.
"""

from __future__ import annotations

from typing import Self
from uuid import UUID, uuid5

from kam_domain.aggregates.base import KamAggregate, Meta, require_id
from kam_domain.aggregates.credentials import Credentials, require_credentials
from kam_domain.aggregates.opportunity.stages import StageProbabilities
from kam_domain.errors import InvalidTransition, NotOnTeam, ValidationError
from kam_domain.values import Money, TeamId

__all__ = ["PipelineSettings", "pipeline_settings_id"]

_NAMESPACE = UUID("0b7e6f5c-3f0a-4d8e-9c39-70697065c1a7")


def pipeline_settings_id(team_id: UUID) -> UUID:
    """The id of ``team_id``'s pipeline settings."""
    return uuid5(_NAMESPACE, f"pipeline-settings:{team_id}")


def _probabilities(value: object) -> StageProbabilities:
    if not isinstance(value, StageProbabilities):
        raise ValidationError("probabilities", f"must be StageProbabilities, not {value!r}")
    return value


def _currency(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError("currency", f"must be a currency code, not {value!r}")
    return Money.zero(value).currency


def _require_director(by: Credentials, team_id: UUID) -> None:
    require_credentials("actor", by)
    by.require_director("actor")
    if by.team_id != team_id:
        raise NotOnTeam(f"actor: {by.name} is not on this team")


class PipelineSettings(KamAggregate):
    """The stage probabilities and the currency of one team's pipeline, set by its directors."""

    class Configured(KamAggregate.Created):
        team_id: TeamId
        probabilities: StageProbabilities
        currency: str | None

    class Changed(KamAggregate.Event):
        probabilities: StageProbabilities
        currency: str | None

        def apply(self, settings: PipelineSettings) -> None:
            settings.probabilities = self.probabilities
            settings.currency = self.currency

    def __init__(
        self, team_id: TeamId, probabilities: StageProbabilities, currency: str | None
    ) -> None:
        self.team_id = team_id
        self.probabilities = probabilities
        self.currency = currency

    @classmethod
    def configure(
        cls,
        meta: Meta,
        by: Credentials,
        *,
        team_id: TeamId,
        probabilities: StageProbabilities,
        currency: str | None = None,
    ) -> Self:
        """A sales director sets the team's pipeline settings for the first time."""
        require_id("team_id", team_id)
        _require_director(by, team_id)
        return cls._start(
            cls.Configured,
            meta,
            pipeline_settings_id(team_id),
            team_id=team_id,
            probabilities=_probabilities(probabilities),
            currency=_currency(currency),
        )

    def change(
        self,
        meta: Meta,
        by: Credentials,
        *,
        probabilities: StageProbabilities,
        currency: str | None = None,
    ) -> None:
        """A sales director changes them; opportunities opened before keep their currency."""
        _require_director(by, self.team_id)
        probabilities = _probabilities(probabilities)
        currency = _currency(currency)
        if probabilities == self.probabilities and currency == self.currency:
            raise InvalidTransition("probabilities: the pipeline has these settings already")
        self._record(self.Changed, meta, probabilities=probabilities, currency=currency)
