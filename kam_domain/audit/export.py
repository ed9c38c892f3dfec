"""One record per event, streamed, with the chain link that seals it.

Each record holds the event's position, originator id and version, topic, event name,
timestamp (its effective time), when it was written (``written_at``; and ``written_us``, the
microseconds the link hashes, empty for links in chain format 1), actor (and, for a policy, its
name and version), causation and correlation ids, the SHA-256 of its stored bytes, the previous
and own chain links, and the stored bytes themselves (base64). With those, the chain can be
recomputed from the export alone (see docs/audit.md), written times included, and every
readable column recomputed from the stored bytes the chain binds: an edited column is caught,
not only an edited link. The bytes of an encrypted store are ciphertext, so its export also
carries each event's decrypted ``body``, which the readable columns are checked against; tying
that body to the ciphertext takes the key.
"""

from __future__ import annotations

import base64
import csv
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TextIO

from kam_domain.aggregates.base import require_utc
from kam_domain.audit.integrity import PAGE_SIZE, Progress, sealed
from kam_domain.audit.logs import events_and_links
from kam_domain.audit.records import describe, policy_of
from kam_domain.ledger import GENESIS, moment, state_digest

__all__ = ["COLUMNS", "export_records", "write_csv", "write_jsonl", "written_by"]

COLUMNS = (
    "position",
    "originator_id",
    "originator_version",
    "topic",
    "event",
    "timestamp",
    "written_at",
    "written_us",
    "actor",
    "actor_kind",
    "policy",
    "policy_version",
    "causation_id",
    "correlation_id",
    "state_sha256",
    "previous_link",
    "link",
    "state",
    "body",
)


def export_records(
    app: Any,
    *,
    with_state: bool = True,
    page_size: int = PAGE_SIZE,
    progress: Progress | None = None,
) -> Iterator[dict[str, Any]]:
    """The log as export records, in position order, read a page at a time.

    An event without a link (or a link without its event) is exported as it is found, with
    empty link fields (or only the link): the export shows the store, it does not judge it.
    ``with_state`` is kept for callers of earlier versions: the stored bytes always come
    along, since the readable columns are checked against them.
    """
    recorder = app.recorder
    chain = sealed(recorder)
    stop = max(recorder.max_notification_id() or 0, chain.max_link_position() or 0)
    previous = GENESIS
    pairs = events_and_links(recorder, chain, page_size, stop)
    for count, (notification, link) in enumerate(pairs, start=1):
        record: dict[str, Any] = dict.fromkeys(COLUMNS, "")
        if notification is not None:
            record.update(_event_fields(app, notification))
        if link is not None:
            record["position"] = link.position
            record["previous_link"] = previous.hex()
            record["link"] = link.link.hex()
            if link.written_at is not None:
                record["written_at"] = moment(link.written_at).isoformat()
                record["written_us"] = link.written_at
            previous = link.link
        yield record
        if progress is not None and count % page_size == 0:
            progress(int(record["position"]), stop)
    if progress is not None:
        progress(stop, stop)


def written_by(records: Iterable[dict[str, Any]], at: datetime) -> Iterator[dict[str, Any]]:
    """The export records of the events written by ``at``: the log as it stood then.

    Positions are given in the order events are written, so this is a prefix of the log and
    its chain verifies up to its last record. The written time is the one the link binds; a
    link in chain format 1 records none, and its event's effective time stands in for it.
    """
    moment = require_utc("at", at)
    # Stopping at the first event written later keeps it a prefix whatever the clocks did.
    for record in records:
        when = record["written_at"] or record["timestamp"]
        if when and datetime.fromisoformat(when) > moment:
            return
        yield record


def _event_fields(app: Any, notification: Any) -> dict[str, Any]:
    described = describe(app.mapper.to_domain_event(notification))
    actor = described.actor
    policy = policy_of(actor)
    return {
        "position": notification.id,
        "originator_id": str(notification.originator_id),
        "originator_version": notification.originator_version,
        "topic": notification.topic,
        "event": described.event,
        "timestamp": described.at.isoformat(),
        "actor": str(actor) if actor else "",
        "actor_kind": actor.kind.value if actor else "",
        "policy": policy[0] if policy else "",
        "policy_version": policy[1] if policy else "",
        "causation_id": str(described.causation_id or ""),
        "correlation_id": str(described.correlation_id or ""),
        "state_sha256": state_digest(notification.state).hex(),
        "state": base64.b64encode(notification.state).decode("ascii"),
        "body": _plain_body(app.mapper, notification.state),
    }


def _plain_body(mapper: Any, state: bytes) -> str:
    """The event's body as the transcoder wrote it, for an encrypted store; else empty (the
    stored bytes, or their zlib decompression, are the body)."""
    if mapper.cipher is None:
        return ""
    plain = mapper.cipher.decrypt(state)
    if mapper.compressor is not None:
        plain = mapper.compressor.decompress(plain)
    return str(plain.decode("utf-8"))


def write_jsonl(records: Iterable[dict[str, Any]], out: TextIO) -> int:
    """Write one JSON object per line; returns how many."""
    count = 0
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n")
        count += 1
    return count


def write_csv(records: Iterable[dict[str, Any]], out: TextIO, *, with_state: bool = True) -> int:
    """Write a header and one row per record; returns how many rows (``with_state``: kept
    for callers of earlier versions; every column is written)."""
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    count = 0
    for record in records:
        writer.writerow(record)
        count += 1
    return count
