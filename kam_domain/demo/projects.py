"""The demo's projects: feasibility, proposals and price bands, discount requests that the
price-approval policy approves or routes up, a confirmed third-party quote, deliveries and a
lost bid."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from kam_domain.aggregates.project import FeasibilityVerdict, ProjectMilestone, ProjectOutcome
from kam_domain.demo.cast import Cast
from kam_domain.demo.timeline import CURRENCY
from kam_domain.values import DiscountRequestId, Money, Percentage, Role

__all__ = ["ProjectSteps"]

#: (account index, project, who sets the band, floor % below list,
#:  requests: (requester, %, what the person the policy routes it to does))
_PROJECTS: list[tuple[int, str, str, int, list[tuple[str, int, str]]]] = [
    (0, "Private 5G campus network", "pd", 10, [("kam", 4, "—")]),
    (2, "Smart factory MES rollout", "pd", 10, [("kam", 8, "approve")]),
    (
        4,
        "Core banking data centre",
        "director",
        20,
        [("kam", 15, "approve"), ("kam", 18, "reject")],
    ),
    (6, "Hospital imaging cloud", "senior", 30, [("pd", 25, "approve")]),
    (8, "Metro broadband upgrade", "senior", 30, [("pd", 28, "reject")]),
    (10, "Port logistics tracking", "director", 20, [("rep", 12, "approve")]),
    (12, "Textile ERP migration", "pd", 10, [("rep", 6, "approve")]),
    (14, "Wind farm monitoring", "pd", 10, [("kam", 9, "wait")]),
]


class ProjectSteps(Cast):
    """Eight projects, started six days apart."""

    def plan_projects(self) -> None:
        for number, (index, name, setter, floor, requests) in enumerate(_PROJECTS):
            project = {
                "id": self.uuid(),
                "name": name + self.suffix,
                "account": self.accounts[index],
            }
            day = 8 + number * 6
            list_price = Decimal(self.rng.randrange(80, 400) * 10000)
            self.step(self.at(day), self._start_project, project, setter, list_price, floor, day)
            for offset, (requester, pct, then) in enumerate(requests):
                when = self.at(day + 2 + offset)
                self.step(when, self._discount, project, requester, pct, then, when, self.uuid())
            if number == 3:  # one bought-in component, priced and confirmed
                self.step(
                    self.at(day + 4), self._procure, project, list_price, day + 4, self.uuid()
                )
            if number in (0, 1, 3, 6):
                pct = requests[0][1]
                self.step(self.at(day + 8), self._deliver, project, list_price, pct, day + 8)
            if number == 4:
                self.step(self.at(day + 8), self._lose, project, day + 8)

    def _start_project(
        self, project: dict[str, Any], setter: str, list_price: Decimal, floor_pct: int, day: int
    ) -> None:
        app, m, account, when = self.app, self.members, project["account"], self.at(day)
        _, pd, technical = self.crew_of(account)
        kam = self.kam_of(account)
        app.initiate_project(
            account["id"],
            kam,
            name=project["name"],
            currency=CURRENCY,
            project_director_id=m[pd],
            project_id=project["id"],
            at=when,
        )
        app.assess_feasibility(
            project["id"],
            m[pd],
            verdict=FeasibilityVerdict.FEASIBLE,
            value_positioning="fits the client's digitisation plan",
            risks=["vendor lead times"],
            at=when,
        )
        app.assign_presales_support(project["id"], m[pd], m[technical], at=when)
        app.submit_proposal(
            project["id"],
            kam,
            amount=Money(list_price, CURRENCY),
            summary="design, supply, installation and a year of maintenance",
            at=when,
        )
        band_setter = {"pd": pd, "director": self.director_of(account), "senior": "senior"}[setter]
        floor = (list_price * (100 - floor_pct) / 100).quantize(Decimal(1))
        app.set_price_band(
            project["id"],
            m[band_setter],
            list_price=Money(list_price, CURRENCY),
            floor=Money(floor, CURRENCY),
            at=when,
        )

    def _discount(
        self,
        project: dict[str, Any],
        requester: str,
        pct: int,
        then: str,
        when: datetime,
        request_id: UUID,
    ) -> None:
        """Request a discount; the price-approval policy approves it within the requester's own
        authority or routes it up; the person of the role it reaches then decides."""
        app, m, account = self.app, self.members, project["account"]
        rep, pd, _ = self.crew_of(account)
        who = {"rep": m[rep], "kam": self.kam_of(account), "pd": m[pd]}[requester]
        app.request_discount(
            project["id"],
            who,
            percentage=Percentage.of(pct),
            justification="match a competing offer for a multi-year commitment",
            request_id=request_id,
            at=when,
        )
        request = app.get_project(project["id"]).discount_requests[DiscountRequestId(request_id)]
        if request.decision is not None or request.escalated_to is None or then == "wait":
            return
        decider = {
            Role.PROJECT_DIRECTOR: m[pd],
            Role.SALES_DIRECTOR: m[self.director_of(account)],
            Role.SENIOR_SALES_DIRECTOR: m["senior"],
        }[request.escalated_to]
        if then == "approve":
            app.approve_discount(project["id"], decider, request_id, at=when)
        else:
            app.reject_discount(
                project["id"],
                decider,
                request_id,
                reason="margin too thin for the value the client gets",
                at=when,
            )

    def _procure(self, project: dict[str, Any], list_price: Decimal, day: int, quote: UUID) -> None:
        app, m, account = self.app, self.members, project["account"]
        _, pd, _ = self.crew_of(account)
        app.record_quote(
            project["id"],
            self.kam_of(account),
            vendor="Shenzhen Imaging Devices",
            list_price=Money((list_price * Decimal("0.3")).quantize(Decimal(1)), CURRENCY),
            discount=Percentage.of(12),
            quote_id=quote,
            at=self.at(day),
        )
        app.confirm_quote(project["id"], m[pd], quote, at=self.at(day))

    def _deliver(self, project: dict[str, Any], list_price: Decimal, pct: int, day: int) -> None:
        app, m, account, when = self.app, self.members, project["account"], self.at(day)
        rep, pd, _ = self.crew_of(account)
        value = (list_price * (100 - pct) / 100).quantize(Decimal(1))
        app.sign_contract(project["id"], m[rep], value=Money(value, CURRENCY), at=when)
        app.plan_implementation(
            project["id"],
            m[pd],
            milestones=[
                ("installed", when + timedelta(days=20)),
                ("trial run", when + timedelta(days=35)),
            ],
            headcount=6,
            at=when,
        )
        done = when + timedelta(days=18)
        app.reach_milestone(project["id"], m[pd], ProjectMilestone.INSTALLED, at=done)
        cost = Money((value * Decimal("0.55")).quantize(Decimal(1)), CURRENCY)
        app.record_cost(project["id"], m["finance"], amount=cost, category="equipment", at=done)
        app.record_revenue(
            project["id"], m["finance"], amount=Money(value, CURRENCY), category="contract", at=done
        )

    def _lose(self, project: dict[str, Any], day: int) -> None:
        app, m, account, when = self.app, self.members, project["account"], self.at(day)
        _, pd, _ = self.crew_of(account)
        app.mark_project_lost(
            project["id"],
            self.kam_of(account),
            reason="client chose a competitor's bundled offer",
            at=when,
        )
        app.close_project(project["id"], m[pd], outcome=ProjectOutcome.LOST, at=when)
