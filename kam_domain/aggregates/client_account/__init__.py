"""The client account (客户): key-account designation and strategies, the one accountable KAM
(大客户经理责任制), the people serving the account, the account plan agreed with the supervisor,
the relationship map, agreements, invoices and payments, client cases and satisfaction.

Commands check their guards first and then record one event; nothing changes when a guard
raises. The account keeps what later rules depend on: when each case was opened, acknowledged
and resolved (service level), when each payment arrived (revenue), every survey score
(satisfaction) and the whole assignment history (who was accountable on any date, and why).

Where things live:

- :mod:`~kam_domain.aggregates.client_account.roles`: which roles may do what;
- :mod:`~kam_domain.aggregates.client_account.records`: the records an account holds;
- :mod:`~kam_domain.aggregates.client_account.state`: what an account holds, as registered;
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
    "SatisfactionSurvey",
]


class ClientAccount(People, Plan, Intelligence, Billing, Cases, Satisfaction, KamAggregate):
    """A client of the team, and everything the team does for and with it.

    The state a snapshot holds is at version 3: each contact on the relationship map holds its
    relationship strength (version 2) and who last judged it and when (version 3). A version 1
    snapshot's contacts hold no strength (:meth:`upcast_v1_v2`), a version 2 snapshot's no
    judgement since they were added (:meth:`upcast_v2_v3`).
    """

    class_version = 3

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
