"""Knowing the client: its needs, the relationship map of its people, and what the team learns
about competitors there."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

import attrs

from kam_domain.aggregates.base import KamAggregate, Meta, require_id, require_text
from kam_domain.aggregates.client_account.guards import LONG_TEXT, AccountGuards
from kam_domain.aggregates.client_account.records import (
    ClientContact,
    ClientNeed,
    CompetitorIntel,
    ContactInfluence,
    RelationshipStrength,
)
from kam_domain.aggregates.client_account.roles import ANYONE, FIELD_ROLES, RELATIONSHIP_ROLES
from kam_domain.aggregates.credentials import Credentials
from kam_domain.errors import AlreadyExists, ContactNotFound, InvalidTransition, ValidationError
from kam_domain.values import ContactId, MemberId

if TYPE_CHECKING:
    from kam_domain.aggregates.client_account import ClientAccount


class Intelligence(AccountGuards):
    """Needs, contacts and competitor intelligence."""

    class NeedRecorded(KamAggregate.Event):
        need_id: UUID
        description: str

        def apply(self, account: ClientAccount) -> None:
            account.needs[self.need_id] = ClientNeed(self.need_id, self.description, self.timestamp)
            account._retire(self.timestamp)

    class ContactAdded(KamAggregate.Event):
        """A client contact joins the relationship map.

        Version 2 records the relationship's strength; version 1 events (written before it)
        read as :attr:`RelationshipStrength.UNASSESSED`.
        """

        class_version = 2

        contact_id: ContactId
        name: str
        title: str
        influence: ContactInfluence
        owner_id: MemberId
        relationship_strength: RelationshipStrength

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Nobody had judged the strength of a contact recorded before it was recorded."""
            state["relationship_strength"] = RelationshipStrength.UNASSESSED

        def apply(self, account: ClientAccount) -> None:
            account.contacts[self.contact_id] = ClientContact(
                self.contact_id,
                self.name,
                self.title,
                self.influence,
                self.owner_id,
                self.timestamp,
                self.relationship_strength,
            )
            account._retire(self.timestamp)

    class ContactRelationshipAssessed(KamAggregate.Event):
        """Someone keeping the relationship map judged how strong the relationship with a
        contact already on it is now (``UNASSESSED``: the earlier judgement no longer holds).

        ``previous_strength`` is the strength it replaced; the same strength again confirms
        it, dated.
        """

        contact_id: ContactId
        strength: RelationshipStrength
        previous_strength: RelationshipStrength
        note: str | None

        def apply(self, account: ClientAccount) -> None:
            contact = account.contacts[self.contact_id]
            account.contacts[self.contact_id] = attrs.evolve(
                contact,
                relationship_strength=self.strength,
                assessed_by=self.actor.member_id,
                assessed_at=self.timestamp,
            )
            account._retire(self.timestamp)

    class CompetitorIntelligenceRecorded(KamAggregate.Event):
        competitor: str
        note: str

        def apply(self, account: ClientAccount) -> None:
            account.intelligence.append(CompetitorIntel(self.competitor, self.note, self.timestamp))
            account._over_at(self.timestamp)
            account._retire(self.timestamp)

    def record_need(self, meta: Meta, by: Credentials, need_id: UUID, *, description: str) -> None:
        """Someone who works with the client records a need the client has."""
        self._check_actor(meta, by, *FIELD_ROLES)
        require_id("need_id", need_id)
        description = require_text("description", description, max_length=LONG_TEXT)
        if need_id in self.needs:
            raise AlreadyExists(f"need_id: {need_id} was already recorded")
        self._record(self.NeedRecorded, meta, need_id=need_id, description=description)

    def add_contact(
        self,
        meta: Meta,
        by: Credentials,
        owner: Credentials,
        contact_id: ContactId,
        *,
        name: str,
        title: str,
        influence: ContactInfluence,
        relationship_strength: RelationshipStrength = RelationshipStrength.UNASSESSED,
    ) -> None:
        """Put a client contact on the relationship map, owned by a member of the team, with
        how strong the relationship is (unassessed when nobody has judged it yet)."""
        self._check_actor(meta, by, *RELATIONSHIP_ROLES)
        self._check_party("owner", owner, *ANYONE)
        require_id("contact_id", contact_id)
        name = require_text("name", name, max_length=200)
        title = require_text("title", title, max_length=200)
        if not isinstance(influence, ContactInfluence):
            raise ValidationError("influence", f"must be a ContactInfluence, not {influence!r}")
        if not isinstance(relationship_strength, RelationshipStrength):
            msg = f"must be a RelationshipStrength, not {relationship_strength!r}"
            raise ValidationError("relationship_strength", msg)
        if contact_id in self.contacts:
            raise AlreadyExists(f"contact_id: {contact_id} is already on the relationship map")
        self._record(
            self.ContactAdded,
            meta,
            contact_id=contact_id,
            name=name,
            title=title,
            influence=influence,
            owner_id=owner.member_id,
            relationship_strength=relationship_strength,
        )

    def assess_contact(
        self,
        meta: Meta,
        by: Credentials,
        contact_id: ContactId,
        *,
        strength: RelationshipStrength,
        note: str | None = None,
    ) -> None:
        """Judge again how strong the relationship with a contact on the map is, with an
        optional note on why. Whoever may add a contact may assess one. The same strength
        again is recorded (it dates the judgement); ``UNASSESSED`` withdraws a judgement, and
        is refused for a contact nobody has judged."""
        self._check_actor(meta, by, *RELATIONSHIP_ROLES)
        require_id("contact_id", contact_id)
        if not isinstance(strength, RelationshipStrength):
            raise ValidationError("strength", f"must be a RelationshipStrength, not {strength!r}")
        text = None if note is None else require_text("note", note, max_length=LONG_TEXT)
        contact = self.contacts.get(contact_id)
        if contact is None:
            raise ContactNotFound("contact_id", contact_id)
        previous = contact.relationship_strength
        unassessed = RelationshipStrength.UNASSESSED
        if strength is unassessed and previous is unassessed:
            msg = f"strength: nobody has judged the relationship with {contact.name} yet"
            raise InvalidTransition(msg)
        self._record(
            self.ContactRelationshipAssessed,
            meta,
            contact_id=contact_id,
            strength=strength,
            previous_strength=previous,
            note=text,
        )

    def record_competitor_intelligence(
        self, meta: Meta, by: Credentials, *, competitor: str, note: str
    ) -> None:
        """Record what the team learned about a competitor at this client."""
        self._check_actor(meta, by, *FIELD_ROLES)
        competitor = require_text("competitor", competitor, max_length=200)
        note = require_text("note", note, max_length=LONG_TEXT)
        self._record(self.CompetitorIntelligenceRecorded, meta, competitor=competitor, note=note)
