"""How long a client account holds what is over: the retention window, measured in its events'
own time, and the totals of what has left it.

An account holds what its rules still read: open invoices with what was paid on them, open
cases, agreements still being billed, the current plan, contacts and needs. What is over — an
invoice paid in full, a payment, a resolved case, an agreement billed to its value, a plan a
later version replaced, a survey, a note on a competitor — stays for :data:`RETENTION_DAYS`
and then leaves, so that the state a snapshot holds is bounded by what happens within the
window, not by the account's age. Within the window a reused id (an invoice, payment, case or
agreement id, an agreement's number) is still refused as a duplicate, so a command retried
after a lost answer is refused rather than booked twice; older ones are no longer detected by
the account. The events keep everything: whatever needs the whole history reads the log.

Retiring happens inside ``apply``, from the event's timestamp only, so every fold of the same
events — a replay, a snapshot, the policy engine's records — holds the same state. The cut-off
is the start of the event's UTC day less the window: it moves once a day, and the account
looks for what to retire only when the oldest thing it holds crosses it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from kam_domain.transcoding import transcoded
from kam_domain.values import Money

__all__ = ["RETENTION_DAYS", "RetiredTotals", "retention_cutoff"]

#: Days an account holds what is settled, resolved, billed in full or replaced.
RETENTION_DAYS = 400


def retention_cutoff(moment: datetime, days: int = RETENTION_DAYS) -> datetime:
    """What was over strictly before this leaves an account applying an event at ``moment``."""
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=days)


@transcoded
@attrs.frozen
class RetiredTotals:
    """What has left an account after the retention window, in one currency: how many invoices
    paid in full and what they billed, how many payments and what they brought in."""

    currency: str
    invoices: int
    invoiced: Money
    payments: int
    paid: Money

    @classmethod
    def none(cls, currency: str) -> RetiredTotals:
        zero = Money.zero(currency)
        return cls(currency, 0, zero, 0, zero)

    def with_invoice(self, amount: Money) -> RetiredTotals:
        return attrs.evolve(self, invoices=self.invoices + 1, invoiced=self.invoiced + amount)

    def with_payment(self, amount: Money) -> RetiredTotals:
        return attrs.evolve(self, payments=self.payments + 1, paid=self.paid + amount)
