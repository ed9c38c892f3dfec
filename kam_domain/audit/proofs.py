"""The provable ledger: signed tree heads of a store, checked against it, and proofs from it.

- :func:`sign_tree_head`: verify the chain, then sign the Merkle tree over its links;
- :func:`check_tree_heads`: is the store's tree now consistent with signed tree heads kept
  earlier (any of them, not only the last), and how many links no signature covers yet;
- :func:`prove_account`: an account's events, each with an inclusion proof against a signed
  tree head (one given, or one signed now);
- :func:`prove_consistency`: the consistency proof between two signed tree heads.

Every function reads the store only. Each streams the chain's links in pages and keeps one hash
per tree level (:class:`~kam_domain.audit.merkle.TreeBuilder`), plus what it was asked for.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.persistence import ApplicationRecorder, StoredEvent

from kam_domain.audit.integrity import (
    PAGE_SIZE,
    Breach,
    Checkpoint,
    paged,
    sealed,
    side_by_side,
    verify_chain,
)
from kam_domain.audit.merkle import TreeBuilder, consistency_ranges, tree_root
from kam_domain.audit.signing import SignedTreeHead, SigningKey, TreeHead
from kam_domain.audit.verifier import PROOF_FORMAT
from kam_domain.errors import AccountNotFound, HistoryRewritten, KamDomainError, LogNotIntact
from kam_domain.ledger import GENESIS, ChainFormat, ChainLink, JoinedRecorder, SealedRow, moment

__all__ = [
    "HeadCheck",
    "check_tree_heads",
    "current_tree_head",
    "prove_account",
    "prove_consistency",
    "sign_tree_head",
]


@attrs.frozen
class HeadCheck:
    """What the store says about one signed tree head."""

    signed: SignedTreeHead
    #: The links in the store now.
    size: int
    #: Where the store departs from the signed head (None: it agrees).
    breach: Breach | None
    #: The consistency proof from the signed tree to the current one, verified.
    proof: tuple[bytes, ...] = ()

    @property
    def agrees(self) -> bool:
        return self.breach is None

    @property
    def unsigned(self) -> int:
        """Links after the signed head: nothing this signature says vouches for them."""
        return max(self.size - self.signed.tree.size, 0)


def links(recorder: ApplicationRecorder, page_size: int = PAGE_SIZE) -> Iterator[ChainLink]:
    """Every link of the chain, in position order, a page at a time."""
    chain = sealed(recorder)
    return paged(lambda start: chain.select_links(start, page_size), lambda link: link.position)


def current_tree_head(
    recorder: ApplicationRecorder, *, size: int | None = None, now: datetime | None = None
) -> TreeHead:
    """The tree head of the chain as it is, or of its first ``size`` links (not verified,
    not signed)."""
    first = last = ChainLink(0, GENESIS)

    def leaves() -> Iterator[bytes]:
        nonlocal first, last
        for count, link in enumerate(links(recorder), start=1):
            if count == 1:
                first = link
            last = link
            yield link.link
            if count == size:
                return

    count, root = tree_root(leaves())
    head = Checkpoint(last.position, last.link)
    return TreeHead(first.link.hex(), count, root, head, now or _now())


def sign_tree_head(
    recorder: ApplicationRecorder,
    key: SigningKey,
    *,
    previous: Sequence[SignedTreeHead] = (),
    now: datetime | None = None,
) -> SignedTreeHead:
    """Verify the chain (and that it extends the ``previous`` heads, checked with the key's
    own public key), then sign the tree of the links verified; LogNotIntact when it does not
    (a key holder must never vouch for a broken or rewritten log)."""
    verification = verify_chain(recorder)
    if verification.breach is not None:
        msg = (
            f"store: the log does not verify ({verification.breach}); no tree head is signed "
            "over it"
        )
        raise LogNotIntact(msg)
    checks = check_tree_heads(recorder, previous, key.public_key, size=verification.checked)
    for check in checks:
        if check.breach is not None:
            msg = (
                f"store: it does not extend the signed tree head of size "
                f"{check.signed.tree.size} ({check.breach}); no tree head is signed over it"
            )
            raise LogNotIntact(msg)
    # Events recorded since verify started are left for the next head: sign what was verified.
    tree = current_tree_head(recorder, size=verification.checked, now=now)
    verified = verification.head or Checkpoint(0, GENESIS)
    if tree.size != verification.checked or tree.head != verified:
        msg = f"store: its chain changed while it was signed (at position {tree.head.position})"
        raise LogNotIntact(msg)
    return tree.signed(key)


def check_tree_heads(
    recorder: ApplicationRecorder,
    heads: Sequence[SignedTreeHead],
    public_key: bytes,
    *,
    size: int | None = None,
) -> list[HeadCheck]:
    """Check each signed head's signature (SignatureInvalid), then whether the store's first
    ``size`` links (default: all, counted in a first pass) make a tree consistent with it: one
    pass over the links for all of them."""
    for signed in heads:
        signed.verify(public_key)
    if size is None:
        size = sum(1 for _ in links(recorder))
    wanted = {m: consistency_ranges(m, size) for m in {h.tree.size for h in heads} if m <= size}
    builder = TreeBuilder(nodes={n for nodes in wanted.values() for n in nodes}, sizes=set(wanted))
    at_index: dict[int, ChainLink] = {}
    sizes = {h.tree.size - 1 for h in heads} | {0}
    for link in links(recorder):
        if builder.size in sizes:
            at_index[builder.size] = link
        builder.add(link.link)
        if builder.size == size:
            break
    root = builder.finish()
    return [_check(signed, size, root, builder, at_index, wanted) for signed in heads]


def _check(
    signed: SignedTreeHead,
    size: int,
    root: bytes,
    builder: TreeBuilder,
    at_index: dict[int, ChainLink],
    wanted: dict[int, list[tuple[int, int]]],
) -> HeadCheck:
    from kam_domain.audit.merkle import verify_consistency

    tree = signed.tree
    first = at_index.get(0)
    if tree.size > 0 and (first is None or first.link.hex() != tree.store):
        reason = (
            "the store's first link is not the signed head's: another store, or its history "
            "was rewritten from the first event on"
        )
        return HeadCheck(signed, size, Breach(first.position if first else 1, "rewritten", reason))
    if tree.size > size:
        reason = (
            f"the log holds {size} links, the signed tree head vouches for {tree.size} (up to "
            f"position {tree.head.position}): events were removed"
        )
        return HeadCheck(signed, size, Breach(tree.head.position, "truncated", reason))
    proof = [builder.node(*node) for node in wanted[tree.size]]
    last = at_index.get(tree.size - 1)
    matches = tree.size == 0 or (
        last is not None
        and Checkpoint(last.position, last.link) == tree.head
        and builder.root_at(tree.size) == tree.root
    )
    if not matches or not verify_consistency(tree.size, size, tree.root, root, proof):
        reason = (
            f"the store's first {tree.size} links are not the tree that was signed: the history "
            f"up to position {tree.head.position} was rewritten since (and its links recomputed)"
        )
        return HeadCheck(signed, size, Breach(tree.head.position, "rewritten", reason))
    return HeadCheck(signed, size, None, tuple(proof))


def prove_account(
    app: Any,
    account: str | UUID,
    *,
    signed: SignedTreeHead | None = None,
    key: SigningKey | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """An inclusion proof document for every event of ``account``: against ``signed`` (the
    store must still hold that tree: HistoryRewritten otherwise), or against the current tree
    head, signed now with ``key`` (after the chain verifies)."""
    record_id = _account_id(app, account)
    recorder: ApplicationRecorder = app.recorder
    formats = tuple(sealed(recorder).chain_formats())
    if signed is None:
        if key is None:  # pragma: no cover - the command asks for one of the two
            msg = "prove_account needs a signed tree head or a key to sign one"
            raise TypeError(msg)
        signed = sign_tree_head(recorder, key, now=now)
    tree = signed.tree
    builder = TreeBuilder(sizes={tree.size})
    events: list[dict[str, Any]] = []
    uncovered: list[int] = []
    previous, first = GENESIS, None
    for position, identity, version, topic, state, link, written in _rows(recorder):
        mine = identity is not None and _same(identity, record_id)
        if link is None or builder.size >= tree.size:
            if mine:
                uncovered.append(position)
            continue
        first = first or link
        index = builder.add(link, mark=mine)
        if mine and version is not None and topic is not None and state is not None:
            stored = StoredEvent(record_id, version, topic, state)
            events.append(
                {
                    "position": position,
                    "leaf_index": index,
                    "chain_format": _format_at(formats, position),
                    **_described(app, stored),
                    "originator_id": str(record_id),
                    "originator_version": version,
                    "topic": topic,
                    "state_sha256": _sha256(state).hex(),
                    "state": base64.b64encode(state).decode("ascii"),
                    "written_at": None if written is None else moment(written).isoformat(),
                    "written_us": written,
                    "previous_link": previous.hex(),
                    "link": link.hex(),
                }
            )
        previous = link
    # The id must be an account's: its first event is one (an id is taken as given, above).
    unknown = not uncovered if not events else ":ClientAccount." not in events[0]["topic"]
    if unknown:
        raise AccountNotFound("account", record_id)
    if builder.size < tree.size or (tree.size and builder.root_at(tree.size) != tree.root):
        msg = (
            f"store: it no longer holds the tree of the signed head (size {tree.size}, up to "
            f"position {tree.head.position}): its history was rewritten or cut since"
        )
        raise HistoryRewritten(msg)
    if tree.size and (first is None or first.hex() != tree.store):
        msg = "store: its first link is not the signed head's: another store, or rewritten"
        raise HistoryRewritten(msg)
    builder.finish()
    for event in events:
        event["inclusion_path"] = [node.hex() for node in builder.path(event["leaf_index"])]
    return {
        "format": PROOF_FORMAT,
        "kind": "inclusion",
        "account": {"id": str(record_id), "name": _name(app, record_id)},
        "tree_head": signed.as_dict(),
        "events": events,
        "not_covered": uncovered,
    }


def prove_consistency(
    recorder: ApplicationRecorder, old: SignedTreeHead, new: SignedTreeHead
) -> dict[str, Any]:
    """The consistency proof from ``old`` to ``new``, built from the store, which must hold
    both trees (HistoryRewritten otherwise)."""
    if old.tree.size > new.tree.size:
        old, new = new, old
    m, n = old.tree.size, new.tree.size
    builder = TreeBuilder(nodes=consistency_ranges(m, n), sizes={m, n})
    for link in links(recorder):
        if builder.size == n:
            break
        builder.add(link.link)
    for head in (old, new):
        tree = head.tree
        if builder.size < tree.size or (tree.size and builder.root_at(tree.size) != tree.root):
            msg = (
                f"store: it no longer holds the tree of the signed head of size {tree.size} (up "
                f"to position {tree.head.position}): its history was rewritten or cut since"
            )
            raise HistoryRewritten(msg)
    return {
        "format": PROOF_FORMAT,
        "kind": "consistency",
        "from": old.as_dict(),
        "to": new.as_dict(),
        "consistency_path": [builder.node(*node).hex() for node in consistency_ranges(m, n)],
    }


def _rows(recorder: ApplicationRecorder, page_size: int = PAGE_SIZE) -> Iterator[SealedRow]:
    """Each position's event and link, as :data:`~kam_domain.ledger.SealedRow`, in order."""
    if isinstance(recorder, JoinedRecorder):
        joined = recorder
        yield from paged(lambda start: joined.select_sealed(start, page_size), lambda row: row[0])
        return
    chain = sealed(recorder)
    events = paged(lambda start: recorder.select_notifications(start, page_size), lambda e: e.id)
    chained = paged(lambda start: chain.select_links(start, page_size), lambda row: row.position)
    for event, link in side_by_side(events, chained):
        position = event.id if event is not None else link.position if link else 0
        yield (
            position,
            str(event.originator_id) if event else None,
            event.originator_version if event else None,
            event.topic if event else None,
            bytes(event.state) if event else None,
            link.link if link else None,
            link.written_at if link else None,
        )


def _account_id(app: Any, account: str | UUID) -> UUID:
    # An id is taken as given: proving must not need the account to replay (a forged event
    # may break it, and the proof is what shows the forgery).
    try:
        return account if isinstance(account, UUID) else UUID(account)
    except ValueError:
        found: UUID = app.find_account(account).id
        return found


def _name(app: Any, record_id: UUID) -> str | None:
    try:
        found: str = app.find_account(record_id).name
    except (KamDomainError, LookupError, TypeError, ValueError, AttributeError):
        return None
    return found


def _same(identity: str, record_id: UUID) -> bool:
    try:
        return UUID(identity) == record_id
    except ValueError:
        return False


def _described(app: Any, stored: StoredEvent) -> dict[str, Any]:
    """What the event says (name, time, actor), read from its stored bytes."""
    from kam_domain.audit.records import describe

    try:
        described = describe(app.mapper.to_domain_event(stored))
    except (KamDomainError, LookupError, TypeError, ValueError, AttributeError):
        # An event this reader cannot decode (no cipher key, say) is still proved, by its bytes.
        return {"event": None, "timestamp": None, "actor": None}
    return {
        "event": described.event,
        "timestamp": described.at.isoformat(),
        "actor": str(described.actor) if described.actor else None,
    }


def _format_at(formats: Iterable[ChainFormat], position: int) -> int | None:
    found = None
    for chain_format in sorted(formats, key=lambda f: f.since):
        if chain_format.since <= position:
            found = chain_format.format
    return found


def _sha256(data: bytes) -> bytes:
    from kam_domain.ledger import state_digest

    return state_digest(data)


def _now() -> datetime:
    return datetime.now(UTC)
