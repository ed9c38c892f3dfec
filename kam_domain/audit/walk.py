"""The walk of the chain: events and links merged position by position, each link recomputed,
checkpoints met on the way, and the first breach recorded.

:meth:`Walk.sweep` is the fast path over joined rows, where verify spends its time;
:meth:`Walk.step` judges one position from the two streams, and every row the fast path does
not pass.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import cast

from eventsourcing.persistence import Notification

from kam_domain.audit.stored_forms import wrong_form
from kam_domain.audit.verdict import Breach, Checkpoint, Verification
from kam_domain.ledger import GENESIS, ChainFormat, ChainLink, SealedRow, chain_link, state_digest
from kam_domain.topics import is_event_topic

__all__ = ["BEYOND", "Walk"]

#: Beyond every position: no checkpoint left to watch for.
BEYOND = 2**64

#: The first byte of a link's input, in format 1 and in format 2.
_FORMAT_1, _FORMAT_2 = b"\x01", b"\x02"
#: Entries a walk's caches keep at most (a store has a few dozen topics).
_CACHED = 4096
#: Ids a walk keeps made up at most (a record's events repeat its id).
_CACHED_IDS = 1 << 16


class _Ids(dict[str, bytes]):
    """Each originator id's length and canonical UTF-8 text, as a link hashes them, made once
    per id. Only text in a form the library writes passes (``KeyError`` is never raised: any
    other form raises ``TypeError``, and its row is judged again)."""

    def __missing__(self, identity: str) -> bytes:
        if type(identity) is not str:
            raise TypeError
        if len(identity) == 32:
            # 32 hex digits, as a text column keeps a UUID. In capitals it is another spelling,
            # never hashed, not even under a link recomputed over it.
            if not identity.islower():
                raise TypeError
            text = "-".join(
                (identity[:8], identity[8:12], identity[12:16], identity[16:20], identity[20:])
            )
        else:
            text = identity
        if len(self) >= _CACHED_IDS:
            self.clear()
        name = text.encode("utf-8")
        counted = self[identity] = len(name).to_bytes(4, "big") + name
        return counted


class _Topics(dict[str, bytes | None]):
    """Each topic's length and UTF-8 bytes, as a link hashes them, made once per topic; None
    for a topic the library does not write (its row is then judged by :meth:`Walk.step`)."""

    def __missing__(self, topic: str) -> bytes | None:
        if len(self) >= _CACHED:
            self.clear()  # a forged store may hold any number of topics
        if not is_event_topic(topic):
            self[topic] = None
            return None
        name = topic.encode("utf-8")
        counted = self[topic] = len(name).to_bytes(4, "big") + name
        return counted


class Walk:
    """The merge of events and links, position by position, recording the first breach."""

    def __init__(self, checkpoints: list[Checkpoint], formats: Sequence[ChainFormat]) -> None:
        self.pending = [c for c in checkpoints if c.position > 0]
        self.confirmed: list[Checkpoint] = []
        self.formats = formats
        # Links from this position on are in format 2 (they bind the written time).
        self.format_2_from = min((f.since for f in formats if f.format == 2), default=BEYOND)
        self.previous = GENESIS
        self.last: ChainLink | None = None
        self.position = 0
        self.checked = 0
        self.breach: Breach | None = None
        self._topics = _Topics()
        self._ids = _Ids()
        # Position 0 is the chain before its first event: its link is the genesis link.
        for checkpoint in checkpoints:
            if checkpoint.position == 0:
                self._at(ChainLink(0, GENESIS), [checkpoint])

    def step(self, event: Notification | None, link: ChainLink | None) -> Breach | None:
        position = event.id if event is not None else link.position if link else 0
        self.position = position
        self._passing(position)
        if self.breach is not None:
            return self.breach
        if link is None:
            return self._fail(position, "inserted", "an event with no link: added after the fact")
        if event is None:
            return self._fail(position, "missing", "a link with no event: the event was removed")
        wrong = wrong_form(event, link, position >= self.format_2_from)
        if wrong is not None:
            return self.respelled(position, wrong)
        if not is_event_topic(event.topic):
            reason = (
                f"an event of a type this library does not write (topic {event.topic!r}): "
                "it was written behind its back"
            )
            return self._fail(position, "unregistered", reason)
        computed = chain_link(
            self.previous,
            position,
            event.originator_id,
            event.originator_version,
            event.topic,
            state_digest(event.state),
            link.written_at,
        )
        if computed != link.link:
            reason = (
                "the event does not match its link: it was altered or moved, or an event just "
                "before it was removed or inserted, or the chain was rewritten"
            )
            return self._fail(position, "altered", reason)
        self.previous = link.link
        self.last = link
        self.checked += 1
        self._at(link, self.pending)
        return self.breach

    def respelled(self, position: int, reason: str) -> Breach:
        """A field at ``position`` in a form the library never writes."""
        self._passing(position)
        return self._fail(position, "respelled", reason)

    def sweep(
        self, rows: Sequence[SealedRow], reread: Callable[[int], Breach | None]
    ) -> Breach | None:
        """Walk a page of joined rows; every row the fast path does not pass goes to ``reread``.

        The fast path is :func:`~kam_domain.ledger.chain_link` inlined: it is where verify
        spends its time. A row it does not pass is an event without a link or a link without an
        event (a None breaks the hashing), an event of a topic the library does not write (its
        None does too), an event that does not match its link, an id in
        another spelling than the chain's (which a reread may still pass), or a checkpoint's
        position (``watch``).
        """
        sha256, ids = hashlib.sha256, self._ids
        # Typed as if every topic were registered: an unregistered one's None breaks the join.
        topics = cast("dict[str, bytes]", self._topics)
        previous, checked = self.previous, self.checked
        watch = self.pending[0].position if self.pending else BEYOND
        format_2_from = self.format_2_from
        reread_at = None
        # Typed as if every column were there: a None raises, and the row is reread.
        full = cast("Sequence[tuple[int, str, int, str, bytes, bytes, int]]", rows)
        for position, identity, version, topic, state, link, written in full:
            try:
                if position >= format_2_from:
                    opening, closing = _FORMAT_2, written.to_bytes(8, "big", signed=True)
                elif written is None:
                    opening, closing = _FORMAT_1, b""  # format 1 binds no written time
                else:
                    raise TypeError  # a written time on a link in format 1: reread and judge
                parts = (
                    opening,
                    previous,
                    position.to_bytes(8, "big"),
                    ids[identity],
                    version.to_bytes(8, "big"),
                    topics[topic],
                    sha256(state).digest(),
                    closing,
                )
                if position < watch and sha256(b"".join(parts)).digest() == link:
                    previous = link
                    checked += 1
                    continue
            except (AttributeError, OverflowError, TypeError):
                pass
            if checked != self.checked:
                # The rows passed since the last sync end just before this one.
                passed = rows[bisect_left(rows, position, key=_position) - 1][0]
                self.last = ChainLink(passed, previous)
            self.previous, self.checked = previous, checked
            breach = reread(position)
            if breach is not None:
                return breach
            previous, checked = self.previous, self.checked
            watch = self.pending[0].position if self.pending else BEYOND
            reread_at = position
        last = rows[-1][0]
        if reread_at != last:
            self.last = ChainLink(last, previous)
        self.previous, self.checked, self.position = previous, checked, last
        return None

    def finish(self) -> None:
        end = self.last.position if self.last else 0
        for checkpoint in self.pending:
            reason = (
                f"the log ends at position {end}, the checkpoint vouches for position "
                f"{checkpoint.position}: events after {end} were removed"
            )
            self._fail(end + 1, "truncated", reason)
            return

    def result(self) -> Verification:
        head = Checkpoint(self.last.position, self.last.link) if self.last else None
        return Verification(
            self.checked, head, self.breach, tuple(self.formats), tuple(self.confirmed)
        )

    def _passing(self, position: int) -> None:
        """Checkpoints this walk went past without meeting their position."""
        while self.pending and self.pending[0].position < position:
            missed = self.pending.pop(0)
            reason = f"the checkpoint's position {missed.position} is not in the chain any more"
            self._fail(missed.position, "missing", reason)

    def _at(self, link: ChainLink, pending: list[Checkpoint]) -> None:
        while pending and pending[0].position == link.position:
            checkpoint = pending.pop(0)
            if checkpoint.link != link.link:
                reason = (
                    "the link differs from the checkpoint's: the history up to here was "
                    "rewritten since the checkpoint was taken"
                )
                self._fail(link.position, "rewritten", reason)
                return
            self.confirmed.append(checkpoint)

    def _fail(self, position: int, kind: str, reason: str) -> Breach:
        if self.breach is None:
            self.breach = Breach(position, kind, reason)
        return self.breach


def _position(row: SealedRow) -> int:
    return row[0]
