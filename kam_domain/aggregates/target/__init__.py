"""Performance targets (业绩指标): goals for a team, a KAM or an account over a quarter or a year.

A target is set for a scope and a period with a goal per metric, optionally as a share of a
wider parent target (the company plan decomposed into team, KAM and account targets). It is
revised with a reason (after its period closed, only by the supervisor), its period is closed,
it is evaluated against actuals taken from the log under the team's assessment method (考核办法),
the evaluation is signed off by the KAM and the supervisor, and an action plan is adjusted when
the score falls under the standard's threshold.

Commands take the acting member's :class:`Credentials` (``by``) and, for member and account
targets, the credentials of the KAM accountable for the scope at that moment (``kam``): the
member for a member target, the account's accountable KAM for an account target. For a team
target the KAM's part is played by a sales director and the supervisor's by the senior sales
director.

Where things live:

- :mod:`~kam_domain.aggregates.target.scope`: whose target it is;
- :mod:`~kam_domain.aggregates.target.goals`: goals and actuals per metric;
- :mod:`~kam_domain.aggregates.target.scoring`: the score of actuals against goals;
- :mod:`~kam_domain.aggregates.target.records`: revisions, evaluations, signatures and action
  plans a target holds; :mod:`~kam_domain.aggregates.target.results`: what its queries return;
- :mod:`~kam_domain.aggregates.target.state`: what a target holds, as set up when it is set;
- :mod:`~kam_domain.aggregates.target.guards`: the guards the commands share;
- one module per family of commands, with the events they record:
  :mod:`~kam_domain.aggregates.target.setting` (setting and revising goals),
  :mod:`~kam_domain.aggregates.target.evaluation` (closing the period, evaluating, signing off,
  adjusting the action plan) and :mod:`~kam_domain.aggregates.target.progress` (decomposition
  and progress, queries only);
- here, the aggregate: :class:`Target`, composed from those families.

Stored topics: every event is written as ``kam_domain.aggregates.target:Target.<Event>``, the
topic it had when this was one module, and snapshots and ``Set`` events name
``kam_domain.aggregates.target:Target``. eventsourcing forms a topic from a class's
``__module__`` and ``__qualname__``; the aggregate class is therefore defined here, in the module
its topic names, and takes its families' event classes in as its own when it is defined (see
:class:`~kam_domain.aggregates.base.CommandFamily`), which eventsourcing then redefines on it
under its topic. Old rows resolve to the same classes, and new events are written as before.
"""

from __future__ import annotations

from kam_domain.aggregates.base import KamAggregate
from kam_domain.aggregates.target.evaluation import Evaluation
from kam_domain.aggregates.target.goals import (
    Actual,
    Goal,
    RevenueActual,
    RevenueGoal,
    SatisfactionActual,
    SatisfactionGoal,
    ServiceLevelActual,
    ServiceLevelGoal,
)
from kam_domain.aggregates.target.progress import Progress
from kam_domain.aggregates.target.records import (
    ActionPlanAdjustment,
    Signatory,
    TargetEvaluation,
    TargetRevision,
    TargetSignature,
)
from kam_domain.aggregates.target.results import (
    ActionPlanState,
    DecompositionLine,
    MetricProgress,
    SignOffState,
    TargetProgress,
)
from kam_domain.aggregates.target.scope import ScopeKind, TargetScope
from kam_domain.aggregates.target.scoring import ATTAINMENT_CAP, score_of
from kam_domain.aggregates.target.setting import Setting

__all__ = [
    "ATTAINMENT_CAP",
    "ActionPlanAdjustment",
    "ActionPlanState",
    "Actual",
    "DecompositionLine",
    "Goal",
    "MetricProgress",
    "RevenueActual",
    "RevenueGoal",
    "SatisfactionActual",
    "SatisfactionGoal",
    "ScopeKind",
    "ServiceLevelActual",
    "ServiceLevelGoal",
    "SignOffState",
    "Signatory",
    "Target",
    "TargetEvaluation",
    "TargetProgress",
    "TargetRevision",
    "TargetScope",
    "TargetSignature",
    "score_of",
]


class Target(Setting, Evaluation, Progress, KamAggregate):
    """A performance target for one scope and period, from setting to signed-off evaluation."""
