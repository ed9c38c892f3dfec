"""Collections (collect on time): at each recorded clock tick, every invoice past its due date
with a balance still open, and not flagged yet, is flagged overdue to the account's
representative and KAM.

One decision per tick carries one action per invoice, in a fixed order: accounts in the order
they were registered, and each account's invoices in the order they were issued. The flag itself
is what keeps an invoice from being flagged twice; if the record changed between the tick and the
decision (someone flagged an invoice by hand meanwhile), the account refuses, the decision is
recorded as refused, and the next tick decides again from what the log then holds.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

import attrs

from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.client_account import AccountInvoice, ClientAccount
from kam_domain.aggregates.team import Team
from kam_domain.policies.base import Action, ActionContext, Decision, Policy
from kam_domain.policies.parameters import whole_number
from kam_domain.policies.records import Clock
from kam_domain.policies.world import World
from kam_domain.values import InvoiceId, MemberId

__all__ = ["CollectionsPolicy", "FlagOverdue"]


@attrs.frozen
class FlagOverdue(Action):
    """Flag one invoice of one account overdue, as the collections policy."""

    aggregate_id: UUID
    invoice_id: InvoiceId

    def apply(self, aggregate: Any, meta: Meta, context: ActionContext) -> None:
        if not isinstance(aggregate, ClientAccount):
            raise TypeError(f"an overdue flag applies to a ClientAccount, not {aggregate!r}")
        aggregate.flag_overdue(meta, None, self.invoice_id)

    def describe(self) -> str:
        return f"flag invoice {self.invoice_id} of account {self.aggregate_id} overdue"


class CollectionsPolicy(Policy):
    """Flag invoices past due (beyond ``grace_days``) with an open balance, once each."""

    name = "collections"
    version = 1
    handles = (Clock.Ticked,)
    description = (
        "At each clock tick, every invoice more than grace_days past its due date with a balance"
        " open and not yet flagged is flagged overdue to the representative and the KAM."
    )
    parameters: ClassVar[dict[str, Any]] = {"grace_days": 0}

    def decide(self, event: Any, world: World) -> Decision | None:
        now: datetime = event.timestamp
        grace = whole_number(self.settings(world), "grace_days")
        inputs: dict[str, object] = {"at": now, "grace_days": grace}
        actions: list[FlagOverdue] = []
        for account, invoice in _candidates(world, now, grace):
            if _due(invoice, now, grace):
                team = world.team(account.team_id)
                inputs[f"invoice {invoice.invoice_id}"] = _line(account, team, invoice, now)
                actions.append(FlagOverdue(account.id, invoice.invoice_id))
        if not actions:
            return None
        count = len(actions)
        reason = (
            f"{count} invoice{'s' if count > 1 else ''} more than {grace} day"
            f"{'' if grace == 1 else 's'} past due at {now.isoformat()}"
            " with a balance open and not yet flagged"
        )
        return Decision(f"flag_overdue {count}", reason, inputs, actions)


def _candidates(
    world: World, now: datetime, grace_days: int
) -> list[tuple[ClientAccount, AccountInvoice]]:
    """The invoices that may be due, in the order they are flagged: from the world's index of
    open invoices by due date, so that a tick costs what is due rather than what was issued."""
    try:
        due_before = now - timedelta(days=grace_days)
    except OverflowError:
        # A grace beyond datetime's range: nothing is due, but the scan below is what reports
        # a grace too large for a timedelta, as the policy always has.
        return [
            (account, invoice)
            for account in world.accounts()
            for invoice in sorted(account.invoices.values(), key=lambda i: i.issued_at)
        ]
    return world.open_invoices(due_before)


def _due(invoice: AccountInvoice, now: datetime, grace_days: int) -> bool:
    return (
        invoice.overdue_flagged_at is None
        and not invoice.open_balance.is_zero
        and now - invoice.due_at > timedelta(days=grace_days)
    )


def _line(account: ClientAccount, team: Team | None, invoice: AccountInvoice, now: datetime) -> str:
    """What was weighed about one invoice, and whom the flag is for."""
    return (
        f"account {account.name} ({account.id}); due {invoice.due_at.isoformat()};"
        f" open {invoice.open_balance} of {invoice.amount}; past due by {now - invoice.due_at};"
        f" representative {_who(team, account.representative_id)};"
        f" KAM {_who(team, account.kam_id)}"
    )


def _who(team: Team | None, member_id: MemberId | None) -> str:
    if member_id is None:
        return "none"
    member = None if team is None else team.members.get(member_id)
    return str(member_id) if member is None else f"{member.name} ({member_id})"
