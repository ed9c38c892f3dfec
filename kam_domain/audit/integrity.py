"""Is the log as it was written? Verifying the hash chain, and checkpoints of it.

:func:`verify_chain` streams the events and the chain rows side by side, in pages (memory stays
bounded at any size), recomputes each link from the stored bytes (so it needs no cipher key)
and stops at the first position that does not verify. A recorder that can read both in one
query (:class:`~kam_domain.ledger.JoinedRecorder`) is read that way, as plain rows. A chain can
be recomputed by anyone who can write to the database, so it proves the history only up to a
link kept elsewhere: a :class:`Checkpoint` (position and link) that the auditor took earlier
and stored out of the database's reach. Against checkpoints, a rewritten history and a cut tail
are detected too.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar, cast
from uuid import UUID

import attrs
from eventsourcing.persistence import (
    ApplicationRecorder,
    InfrastructureFactory,
    Notification,
    PersistenceError,
)
from eventsourcing.utils import Environment

from kam_domain.errors import (
    StoreError,
    StoreNotSealed,
    StoreTampered,
    StoreUnavailable,
    ValidationError,
)
from kam_domain.ledger import (
    FORMATS,
    GENESIS,
    ChainFormat,
    ChainLink,
    JoinedRecorder,
    SealedRecorder,
    SealedRow,
    chain_link,
    state_digest,
)
from kam_domain.storage import StoreUrl, resolve_store, store_settings
from kam_domain.topics import is_event_topic

__all__ = [
    "PAGE_SIZE",
    "Breach",
    "Checkpoint",
    "Progress",
    "Verification",
    "checkpoint_store",
    "head",
    "open_log",
    "sealed",
    "verify_chain",
    "verify_store",
]

#: Events (and chain rows) read per query.
PAGE_SIZE = 1000

#: Called after each page with the position reached and the last position to check.
Progress = Callable[[int, int], None]

#: Beyond every position: no checkpoint left to watch for.
_BEYOND = 2**64

T = TypeVar("T")

_CHECKPOINT = re.compile(r"kam-chain-(\d+):(\d+):([0-9a-f]{64})")


@attrs.frozen
class Checkpoint:
    """A position of the chain and its link: ``kam-chain-1:POSITION:LINK`` as text.

    The number after ``kam-chain-`` is the version of this text, not the chain format of the
    link it names: a checkpoint reads the same whatever format its position was sealed in.
    """

    position: int
    link: bytes
    format: int = 1

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        found = _CHECKPOINT.fullmatch(text.strip().lower()) if isinstance(text, str) else None
        if found is None:
            msg = f"expected kam-chain-1:POSITION:LINK (64 hex digits), not {text!r}"
            raise ValidationError("checkpoint", msg)
        return cls(int(found[2]), bytes.fromhex(found[3]), int(found[1]))

    def __str__(self) -> str:
        return f"kam-chain-{self.format}:{self.position}:{self.link.hex()}"


@attrs.frozen
class Breach:
    """The first position that does not verify, and what is wrong there.

    ``kind`` is one of ``altered`` (the event does not match its link, or the chain before it
    was rewritten), ``respelled`` (a field stored in a form the library never writes: another
    spelling of an id, text where a number or bytes belong), ``inserted`` (an event without a
    link), ``missing`` (a link without its event), ``unregistered`` (an event of a type the
    library does not write, whatever its link says), ``rewritten`` (the link differs from a
    checkpoint's), ``truncated`` (the chain ends before a checkpoint's position).
    """

    position: int
    kind: str
    reason: str

    def __str__(self) -> str:
        return f"position {self.position}: {self.reason}"


@attrs.frozen
class Verification:
    """What :func:`verify_chain` found."""

    #: Events whose link was recomputed and matched.
    checked: int
    #: The last link that verified (None: the log is empty, or its first event failed).
    head: Checkpoint | None
    #: The first position that does not verify (None when the log is intact).
    breach: Breach | None
    #: The chain's recorded formats.
    formats: tuple[ChainFormat, ...] = ()
    #: The checkpoints the chain was found to agree with.
    confirmed: tuple[Checkpoint, ...] = ()

    @property
    def intact(self) -> bool:
        return self.breach is None

    @property
    def adopted_through(self) -> int | None:
        """Events up to this position were already stored when the chain was created."""
        return max((f.adopted_through or 0 for f in self.formats), default=0) or None


def sealed(recorder: object) -> SealedRecorder:
    """``recorder`` as a :class:`~kam_domain.ledger.SealedRecorder`, or StoreNotSealed."""
    if not isinstance(recorder, SealedRecorder):
        msg = "store: its adapter keeps no hash chain, so its log cannot be verified"
        raise StoreNotSealed(msg)
    return recorder


def head(recorder: ApplicationRecorder) -> Checkpoint:
    """The chain's last position and link (position 0 and the genesis link when empty)."""
    chain = sealed(recorder)
    last = chain.max_link_position()
    if last is None:
        return Checkpoint(0, GENESIS)
    (link,) = chain.select_links(last, 1, stop=last)
    return Checkpoint(link.position, link.link)


def verify_chain(
    recorder: ApplicationRecorder,
    *,
    checkpoints: Iterable[Checkpoint] = (),
    page_size: int = PAGE_SIZE,
    progress: Progress | None = None,
) -> Verification:
    """Recompute every link of the log and compare; stop at the first position that fails.

    Events recorded while this runs are left for the next run: the check ends at the last
    position present when it starts.
    """
    chain = sealed(recorder)
    formats = _formats(chain)
    expected = sorted(checkpoints, key=lambda checkpoint: checkpoint.position)
    _check_formats(formats, expected)
    stop = max(recorder.max_notification_id() or 0, chain.max_link_position() or 0)
    walk = _Walk(expected, formats)
    if isinstance(recorder, JoinedRecorder):
        _verify_joined(recorder.select_sealed, recorder, chain, walk, stop, page_size, progress)
        return walk.result()
    events = paged(
        lambda start: recorder.select_notifications(start, page_size, stop=stop),
        lambda event: event.id,
    )
    links = paged(
        lambda start: chain.select_links(start, page_size, stop=stop),
        lambda link: link.position,
    )
    try:
        for event, link in side_by_side(events, links):
            if walk.step(event, link) is not None:
                break
            if progress is not None and walk.checked % page_size == 0:
                progress(walk.position, stop)
        else:
            walk.finish()
    except StoreTampered as error:
        # A row the recorder refuses to read: find it, one position at a time.
        position = _refused(recorder, chain, walk.position + 1, stop)
        walk.position = position
        walk.respelled(position, str(error))
    if progress is not None:
        progress(walk.position, stop)
    return walk.result()


@contextmanager
def open_log(store: str | None = None) -> Iterator[ApplicationRecorder]:
    """The recorder of ``store``, opened for reading only: nothing is created, upgraded or
    written; a missing store raises StoreNotFound, a foreign database NotAKamStore.

    No cipher key is needed: the chain covers the bytes as stored.
    """
    url, adapter = resolve_store(store)
    settings = store_settings(url, adapter, read_only=True)
    try:
        factory: InfrastructureFactory[Any] = InfrastructureFactory.construct(
            Environment(_application_name(), settings)
        )
    except StoreError:
        raise
    except (PersistenceError, OSError) as error:
        raise StoreUnavailable(f"store: cannot open {url}: {url.scrub(error)}") from error
    try:
        try:
            recorder = factory.process_recorder()
        except StoreError:
            raise
        except (PersistenceError, OSError) as error:
            raise StoreUnavailable(f"store: cannot open {url}: {url.scrub(error)}") from error
        with _translated(url):
            yield recorder
    finally:
        factory.close()


def verify_store(
    store: str | None = None,
    *,
    checkpoints: Iterable[Checkpoint] = (),
    page_size: int = PAGE_SIZE,
    progress: Progress | None = None,
) -> Verification:
    """Open ``store`` read-only and :func:`verify_chain` its log."""
    with open_log(store) as recorder:
        return verify_chain(
            recorder, checkpoints=checkpoints, page_size=page_size, progress=progress
        )


def checkpoint_store(store: str | None = None) -> Checkpoint:
    """The :func:`head` of ``store``'s chain, read with read access only."""
    with open_log(store) as recorder:
        return head(recorder)


def _verify_joined(
    select_sealed: Callable[[int | None, int, int], Sequence[SealedRow]],
    recorder: ApplicationRecorder,
    chain: SealedRecorder,
    walk: _Walk,
    stop: int,
    page_size: int,
    progress: Progress | None,
) -> None:
    """:func:`verify_chain` on the rows of a :class:`~kam_domain.ledger.JoinedRecorder`."""

    def reread(position: int) -> Breach | None:
        # A field in a form the library never writes is named from the joined row itself (the
        # recorder's other reads would refuse it, or could not read it at all). Whatever else
        # the fast path does not pass is judged as the two-stream walk judges it, from the same
        # reads, so that both walks find the same breach with the same words.
        row = select_sealed(position, 1, position)
        wrong = _wrong_row(row[0], position >= walk.format_2_from) if row else None
        if wrong is not None:
            walk.position = position
            return walk.respelled(position, wrong)
        try:
            events = recorder.select_notifications(position, 1, stop=position)
            links = chain.select_links(position, 1, stop=position)
        except StoreTampered as error:
            walk.position = position
            return walk.respelled(position, str(error))
        return walk.step(events[0] if events else None, links[0] if links else None)

    start: int | None = None
    while True:
        rows = select_sealed(start, page_size, stop)
        if not rows:
            walk.finish()
            return
        breach = walk.sweep(rows, reread)
        if progress is not None:
            progress(walk.position, stop)
        if breach is not None:
            return
        start = rows[-1][0] + 1


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
    for a topic the library does not write (its row is then judged by :meth:`_Walk.step`)."""

    def __missing__(self, topic: str) -> bytes | None:
        if len(self) >= _CACHED:
            self.clear()  # a forged store may hold any number of topics
        if not is_event_topic(topic):
            self[topic] = None
            return None
        name = topic.encode("utf-8")
        counted = self[topic] = len(name).to_bytes(4, "big") + name
        return counted


class _Walk:
    """The merge of events and links, position by position, recording the first breach."""

    def __init__(self, checkpoints: list[Checkpoint], formats: Sequence[ChainFormat]) -> None:
        self.pending = [c for c in checkpoints if c.position > 0]
        self.confirmed: list[Checkpoint] = []
        self.formats = formats
        # Links from this position on are in format 2 (they bind the written time).
        self.format_2_from = min((f.since for f in formats if f.format == 2), default=_BEYOND)
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
        wrong = _wrong_form(event, link, position >= self.format_2_from)
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
        watch = self.pending[0].position if self.pending else _BEYOND
        format_2_from = self.format_2_from
        reread_at = None
        # Typed as if every column were there: a None raises, and the row is reread.
        full = cast("Sequence[tuple[int, str, int, str, bytes, bytes, int]]", rows)
        for position, identity, version, topic, state, link, written in full:
            try:
                if position >= format_2_from:
                    parts: tuple[bytes, ...] = (
                        _FORMAT_2,
                        previous,
                        position.to_bytes(8, "big"),
                        ids[identity],
                        version.to_bytes(8, "big"),
                        topics[topic],
                        sha256(state).digest(),
                        written.to_bytes(8, "big", signed=True),
                    )
                elif written is None:
                    parts = (
                        _FORMAT_1,
                        previous,
                        position.to_bytes(8, "big"),
                        ids[identity],
                        version.to_bytes(8, "big"),
                        topics[topic],
                        sha256(state).digest(),
                    )
                else:
                    raise TypeError  # a written time on a link in format 1: reread and judge
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
            watch = self.pending[0].position if self.pending else _BEYOND
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


def _refused(recorder: ApplicationRecorder, chain: SealedRecorder, start: int, stop: int) -> int:
    """The first position from ``start`` whose event or link the recorder refuses to read."""
    position = start
    while position <= stop:
        try:
            recorder.select_notifications(position, 1, stop=position)
            chain.select_links(position, 1, stop=position)
        except StoreTampered:
            return position
        position += 1
    return start


def _formats(chain: SealedRecorder) -> tuple[ChainFormat, ...]:
    try:
        return tuple(chain.chain_formats())
    except PersistenceError as error:
        msg = (
            f"store: its hash chain cannot be read ({error}): it was written without one (by "
            "an earlier version of the library or another adapter); opened once with write "
            "access, it is sealed as it stands"
        )
        raise StoreNotSealed(msg) from error


def _wrong_row(row: SealedRow, format_2: bool) -> str | None:
    """What a joined row holds in a form the library never writes, if anything."""
    position, identity, version, topic, state, link, written = row
    if (identity, version, topic, state) != (None, None, None, None):
        if not _canonical_text(identity):
            return (
                f"originator_id at position {position}: not stored in the form the library "
                "writes (another spelling of the id)"
            )
        for name, value, kind in (
            ("originator_version", version, int),
            ("topic", topic, str),
            ("state", state, bytes),
        ):
            if type(value) is not kind:
                stored = f"{value!r:.60}"
                return f"{name} at position {position}: stored as {stored}, not as {kind.__name__}"
    if link is None:
        return None
    if type(link) is not bytes:
        return f"link at position {position}: stored as {link!r:.60}, not as bytes"
    if format_2 and type(written) is not int:
        return f"written_at at position {position}: stored as {written!r:.60}, not a number"
    if not format_2 and written is not None:
        return f"written_at at position {position}: a link in format 1 has no written time"
    return None


def _canonical_text(identity: object) -> bool:
    """Whether ``identity`` is a UUID's text in one of the two forms the library writes."""
    if not isinstance(identity, str) or len(identity) not in (32, 36):
        return False
    try:
        value = UUID(identity)
    except ValueError:
        return False
    return identity in (value.hex, str(value))


def _wrong_form(event: Notification, link: ChainLink, format_2: bool) -> str | None:
    """What is stored at the event's position in a form the library never writes, if anything.

    A database with loose types (SQLite) gives back whatever was written over a column: text
    over bytes or numbers. Such a row may even hash as the original did (text over the same
    bytes), but the library never wrote it, and its readers would not all read it alike.
    """
    position = event.id
    checks = (
        ("originator_version", event.originator_version, int),
        ("topic", event.topic, str),
        ("state", event.state, bytes),
        ("link", link.link, bytes),
    )
    for name, value, kind in checks:
        if type(value) is not kind:
            return f"{name} at position {position}: stored as {value!r:.60}, not as {kind.__name__}"
    if format_2 and type(link.written_at) is not int:
        return f"written_at at position {position}: stored as {link.written_at!r:.60}, not a number"
    if not format_2 and link.written_at is not None:
        return f"written_at at position {position}: a link in format 1 has no written time"
    return None


def _check_formats(formats: Sequence[ChainFormat], checkpoints: Sequence[Checkpoint]) -> None:
    known = set(FORMATS)
    unknown = sorted({f.format for f in formats} - known)
    unknown += sorted({c.format for c in checkpoints} - {1} - set(unknown))
    if unknown:
        msg = (
            f"the chain is in format {unknown[0]}, which this version of the library cannot "
            "verify; upgrade kam-domain"
        )
        raise StoreNotSealed(msg)


def paged(select: Callable[[int | None], Sequence[T]], position: Callable[[T], int]) -> Iterator[T]:
    """Every row ``select`` gives, a page at a time; the first page starts at the lowest
    position, whatever it is (a row slipped in below 1 is read too)."""
    start: int | None = None
    while True:
        page = select(start)
        if not page:
            return
        yield from page
        start = position(page[-1]) + 1


def side_by_side(
    events: Iterator[Notification], links: Iterator[ChainLink]
) -> Iterator[tuple[Notification | None, ChainLink | None]]:
    """Pairs by position: (event, link), (event, None) or (None, link), in position order."""
    event, link = next(events, None), next(links, None)
    while event is not None or link is not None:
        if link is None or (event is not None and event.id < link.position):
            yield event, None
            event = next(events, None)
        elif event is None or link.position < event.id:
            yield None, link
            link = next(links, None)
        else:
            yield event, link
            event, link = next(events, None), next(links, None)


@contextmanager
def _translated(url: StoreUrl) -> Iterator[None]:
    try:
        yield
    except StoreError:
        raise
    except PersistenceError as error:
        raise StoreUnavailable(f"store: {url}: {url.scrub(error)}") from error


def _application_name() -> str:
    from kam_domain.application.core import ApplicationCore

    return ApplicationCore.name
