"""The scorecard of a period: per team, KAM and account, goals against actuals and the outcome.

An evaluated target shows what its latest recorded evaluation scored: the goals it measured, the
actuals it weighed, the score and rating, whether the KAM and the supervisor signed it off, and
whether the action plan it required was adjusted. A target not evaluated yet shows its current
goals beside the actuals measured from the log so far, marked "not evaluated": no score or
rating is made up for it (the evaluation policy scores a target once its period closes).

With ``at``, everything is read as it stood at that moment: which targets existed, their
evaluations and signatures, the names, and the events the actuals are measured from. Without
it, the record as it is now.

Rows come in the plan's order: each team target, then each KAM target followed by its account
targets; targets whose parent is not in the scorecard come after, widest scope first.

The scorecard's types are :mod:`kam_domain.reports.card`; reading it from the record is
:mod:`kam_domain.reports.reading`. This module keeps the names both had here.
"""

from __future__ import annotations

from kam_domain.reports.card import (
    EVALUATED,
    METRIC_LABELS,
    NOT_EVALUATED,
    RECORD_COLUMNS,
    SCOPE_LABELS,
    Scorecard,
    ScorecardLine,
    ScorecardRow,
    ScorecardTeam,
    format_percent,
)
from kam_domain.reports.reading import scorecard

__all__ = [
    "EVALUATED",
    "METRIC_LABELS",
    "NOT_EVALUATED",
    "RECORD_COLUMNS",
    "SCOPE_LABELS",
    "Scorecard",
    "ScorecardLine",
    "ScorecardRow",
    "ScorecardTeam",
    "format_percent",
    "scorecard",
]
