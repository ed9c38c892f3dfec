"""The forecast read from the facade, as of a moment: the team's opportunities, its stage
probabilities and the period's targets, each as it stood then, put through the pure
:func:`kam_domain.reports.forecast.forecast`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from kam_domain.aggregates.base import require_utc
from kam_domain.errors import TargetNotFound, TeamNotFound, ValidationError
from kam_domain.reports.forecast import Forecast, forecast
from kam_domain.values import Period

if TYPE_CHECKING:
    from kam_domain.application import KamApplication

__all__ = ["read_forecast"]


def read_forecast(
    app: KamApplication, team: str | UUID, period: Period, *, at: datetime | None = None
) -> Forecast:
    """The forecast of ``period`` for ``team`` (a name, case and spacing ignored, or an id),
    as the record stood at ``at`` (else as it stands)."""
    from kam_domain.audit.names import resolve

    if not isinstance(period, Period):
        raise ValidationError("period", f"must be a Period, not {period!r}")
    moment = None if at is None else require_utc("at", at)
    team_id = resolve(app, "team", team)
    try:
        record = app.get_team(team_id, at=moment)
    except TeamNotFound:
        raise TeamNotFound("team", team) from None
    targets = []
    for target in app.targets(team_id, period):
        try:
            targets.append(target if moment is None else app.get_target(target.id, at=moment))
        except TargetNotFound:
            continue  # set after the moment asked about
    names: dict[UUID, str] = {mid: member.name for mid, member in record.members.items()}
    return forecast(
        period,
        app.opportunities(team_id, at=moment),
        app.stage_probabilities(team_id, at=moment),
        team_id=team_id,
        team_name=record.name,
        targets=targets,
        names=names,
        at=moment,
        zone=record.zone_for(period),
    )
