"""The client account (客户): key-account designation and strategies, the one accountable KAM
(大客户经理责任制), the people serving the account, the account plan agreed with the supervisor,
the relationship map, agreements, invoices and payments, client cases and satisfaction.

Commands check their guards first and then record one event; nothing changes when a guard
raises. The account keeps what later rules depend on — open invoices with what was paid on
them, open cases, agreements still being billed, the current plan, contacts, needs and the
whole assignment history (who was accountable on any date, and why) — and what is over
(invoices paid in full, payments, resolved cases, agreements billed to their value, replaced
plans, surveys, competitor notes) for a retention window of the events' own time, after which
it leaves the state (:mod:`~kam_domain.aggregates.client_account.retention`): the state does
not grow with the account's age. The whole history is in the account's events.

Where things live:

- :mod:`~kam_domain.aggregates.client_account.roles`: which roles may do what;
- :mod:`~kam_domain.aggregates.client_account.records`: the records an account holds;
- :mod:`~kam_domain.aggregates.client_account.state`: what an account holds, as registered;
- :mod:`~kam_domain.aggregates.client_account.retention`: how long it holds what is over;
- :mod:`~kam_domain.aggregates.client_account.guards`: the guards the commands share;
- one module per family of commands, with the events they record:
  :mod:`~kam_domain.aggregates.client_account.people` (registration, key-account designation,
  the accountable KAM, the representative and the technical contact),
  :mod:`~kam_domain.aggregates.client_account.plan` (the account plan),
  :mod:`~kam_domain.aggregates.client_account.intelligence` (needs, contacts, competitors),
  :mod:`~kam_domain.aggregates.client_account.billing` (agreements, invoices, payments),
  :mod:`~kam_domain.aggregates.client_account.cases` (complaints and inquiries) and
  :mod:`~kam_domain.aggregates.client_account.satisfaction` (surveys);
- here, the aggregate: :class:`ClientAccount`, composed from those families.

Stored topics: every event is written as
``kam_domain.aggregates.client_account:ClientAccount.<Event>``, the topic it had when this was
one module, and snapshots and ``Registered`` events name
``kam_domain.aggregates.client_account:ClientAccount``. eventsourcing forms a topic from a
class's ``__module__`` and ``__qualname__``; the aggregate class is therefore defined here, in
the module its topic names, and takes its families' event classes in as its own when it is
defined (see :class:`~kam_domain.aggregates.base.CommandFamily`), which eventsourcing then
redefines on it under its topic. Old rows resolve to the same classes, and new events are
written as before.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from kam_domain.aggregates.base import KamAggregate
from kam_domain.aggregates.client_account.billing import Billing
from kam_domain.aggregates.client_account.cases import MAX_ESCALATION_LEVEL, Cases
from kam_domain.aggregates.client_account.intelligence import Intelligence
from kam_domain.aggregates.client_account.people import People
from kam_domain.aggregates.client_account.plan import Plan
from kam_domain.aggregates.client_account.records import (
    AccountAgreement,
    AccountInvoice,
    AccountPayment,
    AccountPlan,
    AccountStrategies,
    CaseStatus,
    ClientCase,
    ClientContact,
    ClientNeed,
    CompetitorIntel,
    ContactInfluence,
    KamAssignment,
    PaymentInstallment,
    RelationshipStrength,
    SatisfactionSurvey,
)
from kam_domain.aggregates.client_account.retention import RETENTION_DAYS, RetiredTotals
from kam_domain.aggregates.client_account.roles import (
    BILLING_ROLES,
    CASE_OPENER_ROLES,
    COLLECTION_ROLES,
    ESCALATOR_ROLES,
    FIELD_ROLES,
    REGISTRAR_ROLES,
    RELATIONSHIP_ROLES,
    RESOLVER_ROLES,
    SURVEYOR_ROLES,
)
from kam_domain.aggregates.client_account.satisfaction import Satisfaction
from kam_domain.transcoding import IdMap

__all__ = [
    "BILLING_ROLES",
    "CASE_OPENER_ROLES",
    "COLLECTION_ROLES",
    "ESCALATOR_ROLES",
    "FIELD_ROLES",
    "MAX_ESCALATION_LEVEL",
    "REGISTRAR_ROLES",
    "RELATIONSHIP_ROLES",
    "RESOLVER_ROLES",
    "RETENTION_DAYS",
    "SURVEYOR_ROLES",
    "AccountAgreement",
    "AccountInvoice",
    "AccountPayment",
    "AccountPlan",
    "AccountStrategies",
    "CaseStatus",
    "ClientAccount",
    "ClientCase",
    "ClientContact",
    "ClientNeed",
    "CompetitorIntel",
    "ContactInfluence",
    "KamAssignment",
    "PaymentInstallment",
    "RelationshipStrength",
    "RetiredTotals",
    "SatisfactionSurvey",
]


class ClientAccount(People, Plan, Intelligence, Billing, Cases, Satisfaction, KamAggregate):
    """A client of the team, and everything the team does for and with it.

    The state a snapshot holds is at version 4: each contact on the relationship map holds its
    relationship strength (version 2) and who last judged it and when (version 3); what is
    over retires after the retention window, invoices saying when they were paid in full and
    agreements what was invoiced under them (version 4). A version 1 snapshot's contacts hold
    no strength (:meth:`upcast_v1_v2`), a version 2 snapshot's no judgement since they were
    added (:meth:`upcast_v2_v3`), a version 3 snapshot holds everything it ever had
    (:meth:`upcast_v3_v4`).
    """

    class_version = 4

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """A version 1 snapshot's contacts were recorded before their strength was: each reads
        as unassessed (what their stored form already reads as, the value's default; the step
        says so where the aggregate's versions are kept)."""
        contacts = state.get("contacts")
        if isinstance(contacts, IdMap):
            for contact_id, contact in list(contacts.items()):
                unassessed = RelationshipStrength.UNASSESSED
                contacts[contact_id] = attrs.evolve(contact, relationship_strength=unassessed)

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        """A version 2 snapshot was taken before a contact's strength could be judged again
        after it was added: each contact reads as judged by nobody since (what its stored form
        already reads as, the fields' defaults)."""
        contacts = state.get("contacts")
        if isinstance(contacts, IdMap):
            for contact_id, contact in list(contacts.items()):
                contacts[contact_id] = attrs.evolve(contact, assessed_by=None, assessed_at=None)

    @staticmethod
    def upcast_v3_v4(state: dict[str, Any]) -> None:
        """A version 3 snapshot holds every invoice, payment and case the account ever had:
        each invoice paid in full reads as settled by its last payment, each agreement as
        invoiced by the invoices under it (billed in full by the last, when they reach its
        value); then what was over before the window as of the snapshot's last change is
        retired, as folding its events at this version would have done."""
        invoices = state.get("invoices")
        payments = state.get("payments")
        agreements = state.get("agreements")
        if not isinstance(invoices, IdMap) or not isinstance(payments, IdMap):
            return
        last_paid: dict[Any, Any] = {}
        for payment in payments.values():
            last_paid[payment.invoice_id] = payment.received_at
        over: list[Any] = [payment.received_at for payment in payments.values()]
        for invoice_id, invoice in list(invoices.items()):
            if invoice.open_balance.is_zero:
                settled = last_paid.get(invoice_id, invoice.issued_at)
                invoices[invoice_id] = attrs.evolve(invoice, settled_at=settled)
                over.append(settled)
        if isinstance(agreements, IdMap):
            for agreement_id, agreement in list(agreements.items()):
                billed = [i for i in invoices.values() if i.agreement_id == agreement_id]
                invoiced = sum((i.amount for i in billed), agreement.invoiced)
                full = billed[-1].issued_at if billed and invoiced == agreement.value else None
                agreements[agreement_id] = attrs.evolve(
                    agreement, invoiced=invoiced, fully_billed_at=full
                )
                if full is not None:
                    over.append(full)
        cases = state.get("cases")
        if isinstance(cases, IdMap):
            over.extend(c.resolved_at for c in cases.values() if c.resolved_at is not None)
        for name, moment in (("surveys", "surveyed_at"), ("intelligence", "recorded_at")):
            over.extend(getattr(item, moment) for item in state.get(name) or ())
        plans = list(state.get("plans") or ())
        over.extend(plan.agreed_at for plan in plans[1:])
        state["retired"] = {}
        state["retired_cases"] = 0
        state["retire_from"] = min(over, default=None)
        modified = state.get("_modified_on")
        if isinstance(modified, datetime):
            held = object.__new__(ClientAccount)
            object.__setattr__(held, "__dict__", state)
            held._retire(modified)
