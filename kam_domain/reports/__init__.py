"""Reports read from the record: ``kam report``.

:func:`scorecard` gathers a period's targets — team, KAM and account — with their goals,
actuals, attainment, score, rating, sign-off and action plan, as of any moment;
:func:`render_html` turns one into a self-contained page to print.
"""

from kam_domain.reports.scorecard import (
    Scorecard,
    ScorecardLine,
    ScorecardRow,
    ScorecardTeam,
    scorecard,
)
from kam_domain.reports.scorecard_html import render_html

__all__ = [
    "Scorecard",
    "ScorecardLine",
    "ScorecardRow",
    "ScorecardTeam",
    "render_html",
    "scorecard",
]
