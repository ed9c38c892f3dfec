"""The store's own settings, recorded: which keys its key ring holds, and each key's rotation in.

A store keeps one :class:`StoreSettings` record (at :data:`STORE_SETTINGS_ID`). Rotating the
store-wide key (:mod:`kam_domain.keyring`, ``kam store rotate-key``) records
:class:`StoreSettings.KeyAdded`: the new key's id (never the key), every key id the ring holds,
oldest first, the actor and the reason given. The event is written under the new key itself,
by an application opened with the new ring, once that ring has read the store's first and last
events: a rotation that is recorded is one whose ring reads the store.

The record holds the ring's key ids as last recorded; each rotation is in its history
(:meth:`StoreCommands.key_rotations`). It is not a domain aggregate: no team owns it and no
domain decision reads it. Whoever holds the store's key ring may rotate it; the actor says who
did.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Self
from uuid import UUID, uuid5

import attrs
from eventsourcing.persistence import Notification

from kam_domain.aggregates.base import KamAggregate, Meta, require_text
from kam_domain.application.core import ApplicationCore
from kam_domain.errors import CipherKeyNotInRing, InvalidTransition, ValidationError
from kam_domain.keyring import KeyRingCipher
from kam_domain.values import Actor

__all__ = ["STORE_SETTINGS_ID", "KeyRotation", "StoreCommands", "StoreSettings"]

_NAMESPACE = UUID("5a1e7c0d-2b4f-4c8e-9f13-73746f726531")
#: The one settings record of a store.
STORE_SETTINGS_ID = uuid5(_NAMESPACE, "store-settings")

_KEY_ID = re.compile(r"[0-9a-f]{16}")


class StoreSettings(KamAggregate):
    """The settings of the store itself: the key ids its key ring holds."""

    class Opened(KamAggregate.Created):
        pass

    class KeyAdded(KamAggregate.Event):
        """The store's key ring gained a key: from now on events are written under it."""

        #: The new key's id (:func:`kam_domain.keyring.key_id`), the ring's newest.
        key_id: str
        #: Every key id the ring holds, oldest first, the new one last.
        ring: tuple[str, ...]
        reason: str | None

        def apply(self, settings: StoreSettings) -> None:
            settings.ring = list(self.ring)

    def __init__(self) -> None:
        #: The key ids of the ring as last recorded, oldest first (empty before any rotation).
        self.ring: list[str] = []

    @classmethod
    def open(cls, meta: Meta) -> Self:
        return cls._start(cls.Opened, meta, STORE_SETTINGS_ID)

    def add_key(self, meta: Meta, ring: Sequence[str], *, reason: str | None = None) -> None:
        """Record that the ring ``ring`` (key ids, oldest first) gained its newest key.

        Refused: a ring of one key (nothing was rotated), a newest key already recorded, and a
        ring that lacks a key recorded before (the events written under it could not be read).
        """
        ids = list(ring)
        if not all(isinstance(i, str) and _KEY_ID.fullmatch(i) for i in ids):
            raise ValidationError("ring", "key ids are 16 lowercase hexadecimal digits")
        if len(set(ids)) != len(ids):
            raise ValidationError("ring", "the ring names the same key twice")
        if len(ids) < 2:
            msg = "a rotation adds a key to the ring: this ring holds one key, and gained none"
            raise ValidationError("cipher_key", msg)
        newest = ids[-1]
        if newest in self.ring:
            msg = f"key {newest} is already recorded in the ring: a rotation adds a new key"
            raise InvalidTransition(f"cipher_key: {msg}")
        lost = [i for i in self.ring if i not in ids]
        if lost:
            msg = (
                f"cipher_key: the ring lacks key {lost[0]}, which it held when last rotated; "
                "events written under it would not be read: add that key to the ring"
            )
            raise CipherKeyNotInRing(msg, lost[0])
        text = None if reason is None else require_text("reason", reason)
        self._record(self.KeyAdded, meta, key_id=newest, ring=tuple(ids), reason=text)


@attrs.frozen
class KeyRotation:
    """One recorded rotation: the key added, the ring it completed, who and why, when."""

    key_id: str
    ring: tuple[str, ...]
    actor: Actor
    reason: str | None
    at: datetime


class StoreCommands(ApplicationCore):
    """Recording what is done to the store itself: rotating its key."""

    def record_key_rotation(
        self, actor: Actor | UUID, *, reason: str | None = None, at: datetime | None = None
    ) -> str:
        """Record that the key ring this application was opened with gained its newest key;
        returns that key's id. The event is written under that key.

        Checked first: the store is opened with a key ring of at least two keys, and the ring
        reads the store's first and last events (a key missing from it is
        :class:`~kam_domain.errors.CipherKeyNotInRing`, naming the key's id). A refused
        rotation records nothing.
        """
        cipher = self.mapper.cipher
        if not isinstance(cipher, KeyRingCipher):
            msg = "the store is not opened with a key ring: open it with the rotated one"
            raise ValidationError("cipher_key", msg)
        meta = self._meta(actor, at)
        self._read_first_and_last()
        settings = self._load(STORE_SETTINGS_ID)
        if settings is None:
            settings = StoreSettings.open(meta)
        assert isinstance(settings, StoreSettings)
        settings.add_key(meta, cipher.ring.ids(), reason=reason)
        self._commit(settings)
        return cipher.ring.ids()[-1]

    def key_rotations(self) -> list[KeyRotation]:
        """Every recorded rotation of the store's key, oldest first (reads the settings
        record's history only, so it costs the number of rotations)."""
        events: list[Any] = self._read(list, self.events.get(STORE_SETTINGS_ID))
        return [
            KeyRotation(e.key_id, tuple(e.ring), e.actor, e.reason, e.timestamp)
            for e in events
            if isinstance(e, StoreSettings.KeyAdded)
        ]

    def _read_first_and_last(self) -> None:
        """Decode the store's first and last events with this application's cipher: the last
        was written under the newest key the store has used, the first under the oldest."""
        select = self.recorder.select_notifications
        found: list[Notification] = list(self._read(select, start=None, limit=1))
        last_id = self._read(self.recorder.max_notification_id)
        if last_id is not None:
            found.extend(self._read(select, start=last_id, limit=1))
        for notification in found:
            self.mapper.to_domain_event(notification)
