"""Fields stored in a form the library never writes.

A database with loose types (SQLite) gives back whatever was written over a column: text over
bytes or numbers. Such a row may even hash as the original did (text over the same bytes), but
the library never wrote it, and its readers would not all read it alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from eventsourcing.persistence import Notification

from kam_domain.ledger import ChainLink, SealedRow

__all__ = ["wrong_form", "wrong_row"]


def wrong_row(row: SealedRow, format_2: bool) -> str | None:
    """What a joined row holds in a form the library never writes, if anything."""
    position, identity, version, topic, state, link, written = row
    if (identity, version, topic, state) != (None, None, None, None):
        if not _canonical_text(identity):
            return (
                f"originator_id at position {position}: not stored in the form the library "
                "writes (another spelling of the id)"
            )
        columns = (
            ("originator_version", version, int),
            ("topic", topic, str),
            ("state", state, bytes),
        )
        wrong = _mistyped(position, columns)
        if wrong is not None:
            return wrong
    if link is None:
        return None
    return _mistyped(position, [("link", link, bytes)]) or _misdated(position, written, format_2)


def wrong_form(event: Notification, link: ChainLink, format_2: bool) -> str | None:
    """What is stored at the event's position in a form the library never writes, if anything."""
    position = event.id
    columns = (
        ("originator_version", event.originator_version, int),
        ("topic", event.topic, str),
        ("state", event.state, bytes),
        ("link", link.link, bytes),
    )
    return _mistyped(position, columns) or _misdated(position, link.written_at, format_2)


def _mistyped(position: int, columns: Iterable[tuple[str, object, type]]) -> str | None:
    """The first column whose value is not of its type, named with what it holds."""
    for name, value, kind in columns:
        if type(value) is not kind:
            return f"{name} at position {position}: stored as {value!r:.60}, not as {kind.__name__}"
    return None


def _misdated(position: int, written: object, format_2: bool) -> str | None:
    """A written time where a link's format has none, or one that is not a number."""
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
