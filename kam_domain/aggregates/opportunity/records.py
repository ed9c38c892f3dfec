"""The records an opportunity holds: its dated stage history."""

from __future__ import annotations

from datetime import datetime

import attrs

from kam_domain.aggregates.opportunity.stages import OpportunityStage
from kam_domain.transcoding import transcoded
from kam_domain.values import MemberId

__all__ = ["StageChange"]


@transcoded
@attrs.frozen
class StageChange:
    """The opportunity entered ``stage`` at ``at``, moved there by ``by``."""

    stage: OpportunityStage
    at: datetime
    by: MemberId | None
    note: str | None = None
