"""Is the log as it was written? Verifying the hash chain, and checkpoints of it.

:func:`verify_chain` streams the events and the chain rows side by side, in pages (memory stays
bounded at any size), recomputes each link from the stored bytes (so it needs no cipher key)
and stops at the first position that does not verify. A recorder that can read both in one
query (:class:`~kam_domain.ledger.JoinedRecorder`) is read that way, as plain rows. A chain can
be recomputed by anyone who can write to the database, so it proves the history only up to a
link kept elsewhere: a :class:`Checkpoint` (position and link) that the auditor took earlier
and stored out of the database's reach. Against checkpoints, a rewritten history and a cut tail
are detected too.

The parts live beside this module: what a check finds (:mod:`~kam_domain.audit.verdict`), the
walk that recomputes the links (:mod:`~kam_domain.audit.walk`), fields in a form the library
never writes (:mod:`~kam_domain.audit.stored_forms`), and reading the log read-only and in pages
(:mod:`~kam_domain.audit.logs`, whose names this module still exports).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from eventsourcing.persistence import ApplicationRecorder, PersistenceError

from kam_domain.audit.logs import events_and_links, open_log, paged, side_by_side
from kam_domain.audit.stored_forms import wrong_row
from kam_domain.audit.verdict import Breach, Checkpoint, Verification
from kam_domain.audit.walk import Walk
from kam_domain.errors import StoreNotSealed, StoreTampered
from kam_domain.ledger import (
    FORMATS,
    GENESIS,
    ChainFormat,
    JoinedRecorder,
    SealedRecorder,
    SealedRow,
)

__all__ = [
    "PAGE_SIZE",
    "Breach",
    "Checkpoint",
    "Progress",
    "Verification",
    "checkpoint_store",
    "head",
    "open_log",
    "paged",
    "sealed",
    "side_by_side",
    "verify_chain",
    "verify_store",
]

#: Events (and chain rows) read per query.
PAGE_SIZE = 1000

#: Called after each page with the position reached and the last position to check.
Progress = Callable[[int, int], None]


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
    walk = Walk(expected, formats)
    if isinstance(recorder, JoinedRecorder):
        _verify_joined(recorder.select_sealed, recorder, chain, walk, stop, page_size, progress)
        return walk.result()
    try:
        for event, link in events_and_links(recorder, chain, page_size, stop):
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
    walk: Walk,
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
        wrong = wrong_row(row[0], position >= walk.format_2_from) if row else None
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
