"""The demo's opportunity pipeline: the team's own stage probabilities, six opportunities its
KAMs open on key accounts and work through the quarter — one won as the project it became,
one lost, the others still open at the close, some expected in the next quarter — so that the
summary can show the quarter's forecast against the team's revenue goal.

Planned after every other part, so its random draws come last and leave the rest of the record
as it was.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kam_domain.aggregates.opportunity import OpportunityStage, StageProbabilities
from kam_domain.demo.cast import Cast
from kam_domain.demo.timeline import CURRENCY
from kam_domain.values import Money

__all__ = ["PipelineSteps"]

Stage = OpportunityStage

#: (account index, opportunity, expected close day, stages it moves through (day, stage),
#:  how it ends: "won" with the account's first project, "lost", or None: still open)
_OPPORTUNITIES: list[tuple[int, str, int, list[tuple[int, OpportunityStage]], str | None]] = [
    (0, "5G campus phase two", 60, [(20, Stage.QUALIFICATION), (40, Stage.PROPOSAL)], "won"),
    (1, "Grid edge analytics", 75, [(25, Stage.QUALIFICATION), (50, Stage.NEGOTIATION)], None),
    (3, "Branch network refresh", 80, [(30, Stage.PROPOSAL)], None),
    (5, "Supply chain visibility", 70, [(28, Stage.QUALIFICATION)], "lost"),
    (7, "Clinical data platform", 110, [(45, Stage.QUALIFICATION)], None),
    (9, "Smart metering pilot", 130, [], None),
]


class PipelineSteps(Cast):
    """The team's probabilities on day 2; six opportunities opened from day 12."""

    def plan_pipeline(self) -> None:
        self.step(self.at(2), self._set_probabilities)
        for number, (index, name, close_day, moves, end) in enumerate(_OPPORTUNITIES):
            opportunity = {
                "id": self.uuid(),
                "name": name + self.suffix,
                "account": self.accounts[index],
                "amount": Decimal(self.rng.randrange(30, 250) * 10000),
                "close": self.at(close_day),
            }
            day = 12 + number * 3
            self.step(self.at(day), self._open, opportunity, day)
            for move_day, stage in moves:
                self.step(self.at(move_day), self._move, opportunity, stage, move_day)
            if end is not None:
                end_day = close_day - 5
                self.step(self.at(end_day), self._end, opportunity, end, end_day)

    def _set_probabilities(self) -> None:
        self.app.set_stage_probabilities(
            self.team_id,
            self.members["senior"],
            probabilities=StageProbabilities.of(
                prospecting=10, qualification=30, proposal=50, negotiation=80
            ),
            currency=CURRENCY,
            at=self.at(2),
        )

    def _open(self, opportunity: dict[str, Any], day: int) -> None:
        account = opportunity["account"]
        self.app.open_opportunity(
            account["id"],
            self.kam_of(account),
            name=opportunity["name"],
            amount=Money(opportunity["amount"], CURRENCY),
            expected_close=opportunity["close"],
            opportunity_id=opportunity["id"],
            at=self.at(day),
        )

    def _move(self, opportunity: dict[str, Any], stage: OpportunityStage, day: int) -> None:
        self.app.move_opportunity(
            opportunity["id"], self.kam_of(opportunity["account"]), stage=stage, at=self.at(day)
        )

    def _end(self, opportunity: dict[str, Any], end: str, day: int) -> None:
        account = opportunity["account"]
        kam, when = self.kam_of(account), self.at(day)
        if end == "won":
            project = self.app.projects(account_id=account["id"])[0]
            self.app.win_opportunity(opportunity["id"], kam, project_id=project.id, at=when)
        else:
            reason = "the client chose the incumbent's bundle"
            self.app.lose_opportunity(opportunity["id"], kam, reason=reason, at=when)
