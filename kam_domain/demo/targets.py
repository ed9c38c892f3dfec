"""The demo's targets: decomposed team → KAM → account (with a gap the decomposition policy
flags), the quarter's close (the evaluation policy scores every target), sign-offs over two
days with two never done, and action plans."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from kam_domain.aggregates.target import (
    RevenueGoal,
    SatisfactionGoal,
    ScopeKind,
    ServiceLevelGoal,
    Signatory,
    TargetScope,
)
from kam_domain.demo.cast import Cast
from kam_domain.demo.timeline import CLOCK, CURRENCY, QUARTER
from kam_domain.values import MemberId, Money

__all__ = ["TargetSteps"]


class TargetSteps(Cast):
    """Targets set on the third day; the close, sign-offs and action plans after the quarter."""

    def plan_targets(self) -> None:
        ids = {"team": self.uuid()}
        ids.update({key: self.uuid() for key in ("kam_1", "kam_2", "kam_3", "kam_4")})
        ids.update({str(a["id"]): self.uuid() for a in self.accounts if "invoices" in a})
        self.targets.update(ids)
        self.step(self.at(2), self._set_targets)
        self.step(QUARTER.end + timedelta(hours=1), self._close_quarter)
        for day in (5, 6):  # sign-offs over two days; two accounts' are never done
            self.step(QUARTER.end + timedelta(days=day), self._sign_offs, day)
        self.step(QUARTER.end + timedelta(days=7), self._action_plans)

    def _set_targets(self) -> None:
        app, m, when = self.app, self.members, self.at(2)
        signed = [a for a in self.accounts if "invoices" in a]
        revenue = {
            str(a["id"]): sum((p for _, p, _, _ in a["invoices"]), Decimal(0)) for a in signed
        }
        by_kam: dict[str, list[dict[str, Any]]] = {}
        for account in signed:
            by_kam.setdefault(self.key_of(self.kam_of(account)), []).append(account)

        def goals(amount: Decimal) -> tuple[Any, ...]:
            return (
                RevenueGoal(Money(amount, CURRENCY)),
                ServiceLevelGoal(Decimal(90)),
                SatisfactionGoal(Decimal(80)),
            )

        kam_totals = {
            kam: sum((revenue[str(a["id"])] for a in accounts), Decimal(0))
            for kam, accounts in sorted(by_kam.items())
        }
        # The company's plan asks 5 % more of the team than its KAMs committed to: the
        # decomposition policy flags the gap.
        company = (sum(kam_totals.values(), Decimal(0)) * Decimal("1.05")).quantize(Decimal(1))
        app.set_target(
            self.team_id,
            m["senior"],
            scope=TargetScope.team(self.team_id),
            period=QUARTER,
            goals=goals(company),
            target_id=self.targets["team"],
            at=when,
        )
        for kam, total in kam_totals.items():
            supervisor = self.app.get_team(self.team_id).members[MemberId(m[kam])].supervisor_id
            assert supervisor is not None
            director = self.key_of(supervisor)
            app.set_target(
                self.team_id,
                m[director],
                scope=TargetScope.member(m[kam]),
                period=QUARTER,
                goals=goals(total),
                parent_id=self.targets["team"],
                target_id=self.targets[kam],
                at=when,
            )
            for account in by_kam[kam]:
                app.set_target(
                    self.team_id,
                    m[kam],
                    scope=TargetScope.account(account["id"]),
                    period=QUARTER,
                    goals=goals(revenue[str(account["id"])]),
                    parent_id=self.targets[kam],
                    target_id=self.targets[str(account["id"])],
                    at=when,
                )

    def _close_quarter(self) -> None:
        """The quarter ends: the evaluation policy closes and scores every target of it."""
        self.app.close_period(QUARTER, CLOCK, at=QUARTER.end + timedelta(hours=1))

    def _sign_offs(self, day: int) -> None:
        app, m = self.app, self.members
        when = QUARTER.end + timedelta(days=day)
        targets = [t for t in app.targets(self.team_id, QUARTER) if t.latest_evaluation]
        for target in targets:
            kam: UUID | None
            if target.scope.kind is ScopeKind.ACCOUNT:
                if day != 5 or target.id not in self._early():
                    continue
                kam = app.get_account(target.scope.id).accountable_kam
            elif target.scope.kind is ScopeKind.MEMBER:
                if day != 6:
                    continue
                kam = target.scope.id
            else:
                if day != 6:
                    continue
                kam = m["director_1"]
            if kam is None:
                continue
            team = app.get_team(self.team_id)
            supervisor = team.members[MemberId(kam)].supervisor_id or m["senior"]
            for signatory, signer, comments in (
                (Signatory.KAM, kam, "agreed; actuals match our records"),
                (Signatory.SUPERVISOR, supervisor, "reviewed with the KAM"),
            ):
                app.sign_off_target(
                    target.id, signer, signatory=signatory, comments=comments, at=when
                )

    def _early(self) -> set[UUID]:
        """Account targets signed off on the fifth day: all but the last two."""
        signed = [a for a in self.accounts if "invoices" in a]
        return {self.targets[str(a["id"])] for a in signed[:-2]}

    def _action_plans(self) -> None:
        app, m = self.app, self.members
        when = QUARTER.end + timedelta(days=7)
        for target in app.targets(self.team_id, QUARTER):
            evaluation = target.latest_evaluation
            if evaluation is None or not evaluation.action_plan_required:
                continue
            actor = m["director_1"]
            if target.scope.kind is ScopeKind.MEMBER:
                actor = target.scope.id
            elif target.scope.kind is ScopeKind.ACCOUNT:
                actor = app.get_account(target.scope.id).accountable_kam or m["senior"]
            app.adjust_action_plan(
                target.id,
                actor,
                plan="weekly collection calls; a named engineer per open complaint",
                at=when,
            )
