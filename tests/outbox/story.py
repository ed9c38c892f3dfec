"""A store whose policies flag things for an outbox: one key account, invoices that fall due."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kam_domain.application import KamApplication
from kam_domain.values import AccountId, Actor, CaseKind, Money, Severity
from tests.conftest import Org, build_org, key_account
from tests.support import T0

CLOCK = Actor.system("clock")


@dataclass
class Story:
    """The application, its team and account, and the story's clock (it only moves forward)."""

    app: KamApplication
    org: Org
    account: AccountId
    now: datetime = T0
    #: The position of each overdue flag's decision, in log order.
    flagged: list[int] = field(default_factory=list)

    def later(self, days: float = 1) -> datetime:
        self.now += timedelta(days=days)
        return self.now

    def invoice_falls_due(self) -> int:
        """Issue an invoice due tomorrow and tick past it: the collections policy flags it.
        Returns the position of the decision."""
        self.app.issue_invoice(
            self.account,
            self.org.rep,
            amount=Money.of(100, "CNY"),
            due_at=self.later(1) + timedelta(hours=1),
            at=self.now,
        )
        self.app.tick(CLOCK, at=self.later(2))
        decision = self.app.decisions("collections")[-1]
        position = self.app.recorder.max_notification_id() or 0
        assert decision.outcome.startswith("flag_overdue")
        self.flagged.append(_position_of(self.app, decision.id, position))
        return self.flagged[-1]

    def quiet_command(self) -> None:
        """A command no policy flags anything about."""
        self.app.record_client_need(
            self.account, self.org.kam, description="faster support", at=self.later(0.1)
        )

    def case_goes_unanswered(self) -> None:
        """A critical complaint nobody acknowledges within its SLA: it is escalated."""
        self.app.open_case(
            self.account,
            self.org.kam,
            kind=CaseKind.COMPLAINT,
            severity=Severity.CRITICAL,
            subject="outage",
            at=self.later(0.1),
        )
        self.app.tick(CLOCK, at=self.later(1))


def _position_of(app: KamApplication, record_id: object, head: int) -> int:
    """The log position of the decision record ``record_id``'s creation (at most ``head``)."""
    for notification in app.recorder.select_notifications(
        start=max(1, head - 50), limit=51, stop=head
    ):
        if notification.originator_id == record_id:
            return int(notification.id)
    raise AssertionError(f"decision {record_id} not in the last 50 events")


def story(store: str) -> Story:
    """A store running the library's policies, with the standard team and one key account
    served by a representative."""
    app = KamApplication(store)
    org = build_org(app)
    account = key_account(app, org)
    app.assign_representative(account, org.director, org.rep, at=T0)
    return Story(app, org, account)
