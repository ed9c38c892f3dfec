"""An opportunity (商机) for a key account: the pipeline the forecast is made from.

An opportunity is opened for an account of a team with a name, an amount, an expected close
date, an owner and a stage; it moves between the open stages with a dated history, its amount
and close date are revised, it is handed to another owner, and it ends won (with the project it
became) or lost (with the reason), after which it never changes. The account's accountable KAM
and the team's sales directors work it; every command passes the one authorisation guard
(:func:`~kam_domain.aggregates.base.authorise`) and then checks that rule.

Where things live:

- :mod:`~kam_domain.aggregates.opportunity.stages`: the stages and their probabilities;
- :mod:`~kam_domain.aggregates.opportunity.records`: the dated stage history;
- :mod:`~kam_domain.aggregates.opportunity.state`: what an opportunity holds;
- :mod:`~kam_domain.aggregates.opportunity.guards`: who may work it, amounts and dates;
- one module per family of commands, with the events they record:
  :mod:`~kam_domain.aggregates.opportunity.pipeline` (open, stage, revise, reassign) and
  :mod:`~kam_domain.aggregates.opportunity.outcome` (won, lost);
- :mod:`~kam_domain.aggregates.opportunity.settings`: a team's stage probabilities and currency,
  a record of their own (:class:`PipelineSettings`);
- here, the aggregate: :class:`Opportunity`, composed from those families.

Stored topics: events are written as ``kam_domain.aggregates.opportunity:Opportunity.<Event>``
and ``kam_domain.aggregates.opportunity.settings:PipelineSettings.<Event>``; the classes stay in
the modules their topics name.
"""

from __future__ import annotations

from kam_domain.aggregates.base import KamAggregate
from kam_domain.aggregates.opportunity.guards import OWNER_ROLES
from kam_domain.aggregates.opportunity.outcome import Outcome
from kam_domain.aggregates.opportunity.pipeline import Pipeline
from kam_domain.aggregates.opportunity.records import StageChange
from kam_domain.aggregates.opportunity.settings import PipelineSettings, pipeline_settings_id
from kam_domain.aggregates.opportunity.stages import (
    DEFAULT_PROBABILITIES,
    OPEN_STAGES,
    OpportunityStage,
    StageProbabilities,
)

__all__ = [
    "DEFAULT_PROBABILITIES",
    "OPEN_STAGES",
    "OWNER_ROLES",
    "Opportunity",
    "OpportunityStage",
    "PipelineSettings",
    "StageChange",
    "StageProbabilities",
    "pipeline_settings_id",
]


class Opportunity(Pipeline, Outcome, KamAggregate):
    """A possible sale to one key account, from prospecting to won or lost."""
