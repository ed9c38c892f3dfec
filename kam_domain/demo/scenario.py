"""The quarter the demo records, step by step, through the facade and its policies.

People do what people do — staff the team, register and designate accounts, sign agreements,
request discounts, answer complaints, sign evaluations off. The policies decide the rest as the
steps are recorded: who is accountable for each key account, where each discount request goes,
which invoices are overdue and which cases are escalated at each tick of the clock, how each
target scores when the quarter closes, and which gaps and lapses to flag.

Each part of the quarter plans its steps in a module of its own (``cast``, ``accounts``,
``agreements``, ``cases``, ``projects``, ``targets``, ``clock``, ``pipeline``) on one timeline
(``timeline``); the order the parts are planned in fixes the random draws, hence the record.
"""

from __future__ import annotations

from collections.abc import Callable

from kam_domain.demo.accounts import AccountSteps
from kam_domain.demo.agreements import AgreementSteps
from kam_domain.demo.cases import CaseSteps
from kam_domain.demo.clock import ClockSteps
from kam_domain.demo.pipeline import PipelineSteps
from kam_domain.demo.projects import ProjectSteps
from kam_domain.demo.targets import TargetSteps
from kam_domain.demo.timeline import CLOCK, CURRENCY, QUARTER, START, TICK_EVERY

__all__ = ["CLOCK", "CURRENCY", "QUARTER", "START", "TICK_EVERY", "Scenario"]


class Scenario(
    AccountSteps,
    AgreementSteps,
    CaseSteps,
    ProjectSteps,
    TargetSteps,
    ClockSteps,
    PipelineSteps,
):
    """The demo's quarter for one seed."""

    def build(self, progress: Callable[[int, int], None] | None = None) -> None:
        # The parts draw from the seed's generator in this order: changing it changes the record.
        self.plan_team()
        self.plan_accounts()
        self.plan_agreements()
        self.plan_cases()
        self.plan_projects()
        self.plan_targets()
        self.plan_clock()
        # Added after the other parts, so that their draws (and the record) stay as they were.
        self.plan_pipeline()
        self.run(progress)
