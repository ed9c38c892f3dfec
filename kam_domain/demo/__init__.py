"""The seed document's scenario, built through the facade and its policies: ``kam demo``.

One key-account team with every role runs a quarter (2026-Q1): key accounts of each tier that the
assignment policy gives their KAMs, agreements, invoices and payments (the collections policy flags
the overdue ones), complaints and inquiries (the case-escalation policy escalates the ones left
unacknowledged), projects whose discount requests the price-approval policy approves or routes up
to the role whose authority covers them, a confirmed third-party quote, targets decomposed team →
KAM → account (with a gap the decomposition policy flags), the quarter's close (the evaluation
policy scores every target from the log), sign-offs, and the lapses flagged afterwards.

The same seed always builds the same record (ids included); building it again on the same store
adds nothing and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from kam_domain.application import KamApplication
from kam_domain.demo.scenario import CURRENCY, QUARTER, START, Scenario
from kam_domain.demo.summary import DemoSummary, summarise
from kam_domain.errors import InvalidTransition, TeamNotFound

__all__ = ["QUARTER", "DemoSummary", "build_demo"]


def build_demo(
    app: KamApplication, *, seed: int = 1, progress: Callable[[int, int], None] | None = None
) -> DemoSummary:
    """Build the scenario for ``seed`` in ``app``'s store (once) and summarise the store;
    ``progress`` is told ``(steps done, steps)`` as the scenario is recorded."""
    scenario = Scenario(app, seed)
    if _built(app, scenario.team_id):
        note = (
            f"The demo scenario for seed {seed} is already in {app.store_url}; nothing was added."
        )
        return summarise(app, scenario.team_id, QUARTER, CURRENCY, note)
    recorded = app.recorded_time()
    if recorded is not None and recorded > START:
        # Recorded time only moves forward: a quarter cannot be replayed before it.
        msg = (
            f"store: its recorded time is already {recorded.isoformat()}, after the demo's "
            f"start ({START.isoformat()}); build the demo for seed {seed} in a new store"
        )
        raise InvalidTransition(msg)
    scenario.build(progress)
    note = f"Built the demo scenario (seed {seed}) in {app.store_url}."
    return summarise(app, scenario.team_id, QUARTER, CURRENCY, note)


def _built(app: KamApplication, team_id: UUID) -> bool:
    try:
        app.get_team(team_id)
    except TeamNotFound:
        return False
    return True
