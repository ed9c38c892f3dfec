"""Signed tree heads and proofs catch what the chain alone cannot, on SQLite and PostgreSQL.

Each test builds a store through the facade, keeps a tree head signed with a key the database
does not hold, then tampers with the rows through the database's own driver (as an
administrator with write access could: recomputing every link it touches) and checks that the
signed head, a consistency proof or an inclusion proof exposes it, naming the position.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from kam_domain.application import KamApplication
from kam_domain.audit.integrity import open_log, verify_store
from kam_domain.audit.merkle import tree_root
from kam_domain.audit.proofs import (
    check_tree_heads,
    current_tree_head,
    prove_account,
    prove_consistency,
    sign_tree_head,
)
from kam_domain.audit.records import open_app
from kam_domain.audit.signing import (
    SignedTreeHead,
    SigningKey,
    generate_key_pair,
    load_signing_key,
)
from kam_domain.audit.verifier import Problem, check_consistency_proof, check_inclusion_proof
from kam_domain.errors import AccountNotFound, HistoryRewritten, LogNotIntact, SignatureInvalid
from kam_domain.ledger import GENESIS, chain_link, state_digest, written_now
from kam_domain.values import Percentage
from tests import postgres_server
from tests.audit.test_tampering import PostgresRows, SQLiteRows
from tests.conftest import build_org, key_account
from tests.support import at

MOMENT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def build(url: str) -> UUID:
    """A store with the standard team and one key account; the account's id."""
    app = KamApplication(url, run_policies=False)
    org = build_org(app)
    account = key_account(app, org, "Huaxia Mobile")
    app.assign_kam(account, org.director, org.kam2, reason="rebalanced", at=at(1))
    app.close()
    return account


def more(url: str, account: UUID) -> None:
    """Record a few more events, as the library records them."""
    app = KamApplication(url, run_policies=False)
    team = app.get_account(account).team_id
    members = app.get_team(team).members.items()
    director = next(member for member, m in members if m.name == "Zhao Director")
    app.set_capacity(team, director, None, capacity=9)
    app.set_capacity(team, director, None, capacity=10)
    app.close()


@pytest.fixture(name="keys")
def fixture_keys(tmp_path: Path) -> tuple[SigningKey, bytes]:
    public = generate_key_pair(tmp_path / "kam.key", tmp_path / "kam.pub")
    return load_signing_key(tmp_path / "kam.key"), public


@pytest.fixture(name="other_key")
def fixture_other_key(tmp_path: Path) -> SigningKey:
    generate_key_pair(tmp_path / "insider.key", tmp_path / "insider.pub")
    return load_signing_key(tmp_path / "insider.key")


class Tables:
    """The store's events and chain tables, through the database's driver, for an attacker."""

    def __init__(self, rows: Any) -> None:
        self.rows = rows
        sqlite = isinstance(rows, SQLiteRows)
        # {0}: the schema, however many times a statement names a table.
        self.events = "stored_events" if sqlite else "{0}.kam_events"
        self.chain = "stored_events_chain" if sqlite else "{0}.kam_events_chain"
        self.position = "rowid" if sqlite else "notification_id"
        self.mark = "?" if sqlite else "%s"

    def sql(self, text: str) -> str:
        return (
            text.replace("EVENTS", self.events)
            .replace("CHAIN", self.chain)
            .replace("POS", self.position)
            .replace("?", self.mark)
        )

    def link_before(self, position: int) -> bytes:
        found = self.rows.one(
            self.sql("SELECT link FROM CHAIN WHERE position < ? ORDER BY position DESC LIMIT 1"),
            (position,),
        )
        return bytes(found[0]) if found else GENESIS

    def rechain(self, position: int) -> None:
        """Recompute every link from ``position`` on, as one who knows the format (each link's
        written time included, as the chain stores it)."""
        link = self.link_before(position)
        last = self.rows.one(self.sql("SELECT MAX(POS) FROM EVENTS"))[0]
        updates = []
        for current in range(position, last + 1):
            row = self.rows.one(
                self.sql(
                    "SELECT e.originator_id, e.originator_version, e.topic, e.state, "
                    "c.written_at FROM EVENTS AS e JOIN CHAIN AS c ON c.position = e.POS "
                    "WHERE e.POS = ?"
                ),
                (current,),
            )
            originator, version, topic, state, written = row
            identity = str(UUID(str(originator)))
            digest = state_digest(bytes(state))
            link = chain_link(link, current, identity, version, topic, digest, written)
            updates.append(
                (self.sql("UPDATE CHAIN SET link = ? WHERE position = ?"), (link, current))
            )
        self.rows.run(*updates)

    def rewrite(self, position: int) -> None:
        """Change an event's stored bytes and recompute every link after it."""
        self.rows.change_state(position)
        self.rechain(position)

    def forge_append(self, account: UUID) -> int:
        """Append an event to the account with a correct link; its position."""
        stored_id = account.hex if isinstance(self.rows, SQLiteRows) else account
        # A copy of the account's last event, one version on: it decodes and replays.
        version, topic, state = self.rows.one(
            self.sql(
                "SELECT originator_version, topic, state FROM EVENTS WHERE originator_id = ? "
                "ORDER BY originator_version DESC LIMIT 1"
            ),
            (stored_id,),
        )
        state = bytes(state)
        position = self.rows.one(self.sql("SELECT MAX(POS) FROM EVENTS"))[0] + 1
        digest = state_digest(state)
        previous = self.link_before(position)
        # A written time as the recorder takes it: now, never before the link before.
        (before,) = self.rows.one(
            self.sql("SELECT written_at FROM CHAIN WHERE position < ? ORDER BY position DESC"),
            (position,),
        )
        written = written_now(before)
        link = chain_link(previous, position, str(account), version + 1, topic, digest, written)
        self.rows.run(
            (
                self.sql(
                    "INSERT INTO EVENTS (POS, originator_id, originator_version, topic, state) "
                    "VALUES (?, ?, ?, ?, ?)"
                ),
                (position, stored_id, version + 1, topic, state),
            ),
            (
                self.sql("INSERT INTO CHAIN (position, link, written_at) VALUES (?, ?, ?)"),
                (position, link, written),
            ),
        )
        return int(position)


@pytest.fixture(name="attacked", params=["sqlite", "postgres"])
def fixture_attacked(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, Tables, UUID]]:
    """A built store (a read-only URL for SQLite), its tables, and its key account."""
    if request.param == "sqlite":
        path = tmp_path / "kam.db"
        account = build(f"sqlite:///{path}")
        yield f"sqlite:///{path}?mode=ro", Tables(SQLiteRows(path)), account
        return
    url = postgres_server.fresh_store_url()
    try:
        account = build(url)
        yield url, Tables(PostgresRows(url)), account
    finally:
        postgres_server.drop_schema(url)


def sign(store: str, key: SigningKey) -> SignedTreeHead:
    with open_log(store) as recorder:
        return sign_tree_head(recorder, key, now=MOMENT)


def check(store: str, public: bytes, *heads: SignedTreeHead) -> list[Any]:
    with open_log(store) as recorder:
        return check_tree_heads(recorder, list(heads), public)


def prove(store: str, account: UUID, signed: SignedTreeHead) -> dict[str, Any]:
    with open_app(store) as app:
        return prove_account(app, account, signed=signed)


def writable(store: str) -> str:
    return store.removesuffix("?mode=ro")


def test_a_signed_head_agrees_with_the_store_it_was_signed_over(
    attacked: tuple[str, Tables, UUID], keys: tuple[SigningKey, bytes]
) -> None:
    """Given a signed head, the store agrees with it, then still does after honest appends,
    with a verified consistency proof and the new events counted as unsigned."""
    store, _, account = attacked
    key, public = keys
    signed = sign(store, key)

    [now] = check(store, public, signed)
    more(writable(store), account)
    [later] = check(store, public, signed)

    assert now.agrees
    assert now.unsigned == 0
    assert now.proof == ()
    assert later.agrees
    assert later.unsigned == 2
    assert later.proof
    with open_log(store) as recorder:
        assert current_tree_head(recorder).size == signed.tree.size + 2


def test_a_rewrite_with_every_later_link_recomputed_is_caught_by_a_signed_head(
    attacked: tuple[str, Tables, UUID], keys: tuple[SigningKey, bytes]
) -> None:
    """Given a signed head, an event rewritten and every link after it recomputed passes the
    chain but not the signed head: rewritten, up to the signed head's position."""
    store, tables, account = attacked
    key, public = keys
    signed = sign(store, key)

    tables.rewrite(5)

    assert verify_store(store).intact  # the chain alone cannot see it
    [found] = check(store, public, signed)
    assert found.breach is not None
    assert (found.breach.position, found.breach.kind) == (signed.tree.head.position, "rewritten")
    with pytest.raises(HistoryRewritten, match=f"position {signed.tree.head.position}"):
        prove(store, account, signed)


def test_a_rewrite_before_an_older_signed_head_is_caught_whichever_head_is_given(
    attacked: tuple[str, Tables, UUID], keys: tuple[SigningKey, bytes]
) -> None:
    """Given two signed heads, a rewrite before the older one is caught against either: no
    head needs to be the last one taken."""
    store, tables, account = attacked
    key, public = keys
    old = sign(store, key)
    more(writable(store), account)
    new = sign(store, key)

    tables.rewrite(3)

    assert [c.breach.kind for c in check(store, public, old)] == ["rewritten"]
    assert [c.breach.kind for c in check(store, public, new)] == ["rewritten"]


def test_a_forged_append_with_a_correct_link_is_not_covered_by_any_signature(
    attacked: tuple[str, Tables, UUID],
    keys: tuple[SigningKey, bytes],
    other_key: SigningKey,
    tmp_path: Path,
) -> None:
    """Given a signed head, an event appended with a correct link passes the chain, is counted
    as unsigned, fails the account's inclusion proof, and a head the insider signs with their
    own key fails the signature."""
    store, tables, account = attacked
    key, public = keys
    signed = sign(store, key)

    forged = tables.forge_append(account)

    assert verify_store(store).intact  # the link is right: the chain alone cannot see it
    [found] = check(store, public, signed)
    assert found.agrees
    assert found.unsigned == 1
    document = prove(store, account, signed)
    assert document["not_covered"] == [forged]
    with pytest.raises(Problem, match=f"positions {forged} are not covered"):
        check_inclusion_proof(document, public)
    insiders = sign(store, other_key)
    with pytest.raises(SignatureInvalid, match="does not verify"):
        check(store, public, insiders)


def test_a_cut_tail_is_caught_by_a_signed_head(
    attacked: tuple[str, Tables, UUID], keys: tuple[SigningKey, bytes]
) -> None:
    """Given a signed head, the last events removed with their links: truncated."""
    store, tables, _ = attacked
    key, public = keys
    signed = sign(store, key)

    tables.rows.cut_tail(signed.tree.head.position - 2)

    assert verify_store(store).intact
    [found] = check(store, public, signed)
    assert found.breach is not None
    assert (found.breach.position, found.breach.kind) == (signed.tree.head.position, "truncated")


def test_an_account_trail_proves_each_event_against_the_signed_head(
    attacked: tuple[str, Tables, UUID], keys: tuple[SigningKey, bytes]
) -> None:
    """An account's proof document lists each of its events with a path that the stand-alone
    verifier accepts; editing a bound field, a path or the head is caught, naming where."""
    store, _, account = attacked
    key, public = keys
    signed = sign(store, key)

    document = prove(store, account, signed)

    summary = check_inclusion_proof(document, public)
    assert summary.endswith(f"size {signed.tree.size}: {len(document['events'])}")
    assert [e["event"] for e in document["events"]][:1] == ["ClientAccount.Registered"]
    assert all(e["originator_id"] == str(account) for e in document["events"])
    event = document["events"][1]
    for field, value in (("originator_version", 99), ("topic", "x:Y"), ("position", 1)):
        edited = json.loads(json.dumps(document))
        edited["events"][1][field] = value
        with pytest.raises(Problem, match=r"position \d+: the event's fields do not make its link"):
            check_inclusion_proof(edited, public)
    assert {e["chain_format"] for e in document["events"]} == {2}
    written = event["written_us"]
    where = f"position {event['position']}: "
    for field, value, problem in (
        ("written_us", written + 1, "the event's fields do not make its link"),
        ("written_us", str(written), "written_us: not a whole number"),
        ("written_us", None, "written_us: not a whole number"),
        ("written_at", "2026-01-01T00:00:00+00:00", "written_at does not say the written_us"),
        ("chain_format", 1, "a link in format 1 binds no written time"),
        ("chain_format", 3, "chain_format 3 is not a format of the chain"),
        ("chain_format", None, "chain_format None is not a format of the chain"),
    ):
        edited = json.loads(json.dumps(document))
        edited["events"][1][field] = value
        with pytest.raises(Problem, match=re.escape(where + problem)):
            check_inclusion_proof(edited, public)
    edited = json.loads(json.dumps(document))
    edited["events"][1]["inclusion_path"][0] = "00" * 32
    with pytest.raises(Problem, match=f"position {event['position']}: the inclusion proof fails"):
        check_inclusion_proof(edited, public)
    edited = json.loads(json.dumps(document))
    edited["tree_head"]["size"] += 1
    with pytest.raises(Problem, match="signature does not verify"):
        check_inclusion_proof(edited, public)


def test_a_consistency_proof_between_two_signed_heads(
    attacked: tuple[str, Tables, UUID], keys: tuple[SigningKey, bytes]
) -> None:
    """The proof from an older signed head to a newer verifies with the public key; after a
    rewrite the store cannot produce it; an edited proof fails."""
    store, tables, account = attacked
    key, public = keys
    old = sign(store, key)
    more(writable(store), account)
    new = sign(store, key)

    with open_log(store) as recorder:
        document = prove_consistency(recorder, old, new)
    edited = json.loads(json.dumps(document))
    edited["consistency_path"][0] = "11" * 32
    tables.rewrite(2)

    assert check_consistency_proof(document, public).startswith(f"the tree of size {old.tree.size}")
    with pytest.raises(Problem, match="is not a prefix"):
        check_consistency_proof(edited, public)
    with open_log(store) as recorder, pytest.raises(HistoryRewritten, match="size"):
        prove_consistency(recorder, old, new)


def test_a_broken_chain_is_never_signed(tmp_path: Path, keys: tuple[SigningKey, bytes]) -> None:
    """Signing refuses a log whose chain does not verify, naming the position, and writes
    nothing."""
    path = tmp_path / "kam.db"
    build(f"sqlite:///{path}")
    SQLiteRows(path).change_state(4)
    before = path.read_bytes()

    with pytest.raises(LogNotIntact, match="position 4"):
        sign(f"sqlite:///{path}?mode=ro", keys[0])
    assert path.read_bytes() == before


def test_the_tree_over_the_store_is_the_tree_over_its_links(tmp_path: Path) -> None:
    """The tree head's root is the RFC 9162 root over the chain's links, in position order,
    and its head is the chain's head."""
    url = f"sqlite:///{tmp_path / 'kam.db'}"
    build(url)

    with open_log(url + "?mode=ro") as recorder:
        head = current_tree_head(recorder, now=MOMENT)
        chain = recorder.select_links(None, 10_000)  # type: ignore[attr-defined]

    assert (head.size, head.root) == tree_root(link.link for link in chain)
    assert (head.head.position, head.head.link) == (chain[-1].position, chain[-1].link)
    assert head.store == chain[0].link.hex()


def test_a_memory_store_is_provable_too() -> None:
    """The proofs need no joined reads: a store in memory is proved from its two streams."""
    app = KamApplication("memory://", run_policies=False)
    org = build_org(app)
    account = key_account(app, org)
    app.grant_authority(org.team_id, org.senior, org.kam2, max_discount=Percentage.of(6))
    from Crypto.PublicKey import ECC

    key = SigningKey(ECC.generate(curve="ed25519"))
    document = prove_account(app, account, key=key, now=MOMENT)
    app.close()

    assert check_inclusion_proof(document, key.public_key)


def test_a_head_signed_over_another_store_does_not_vouch_for_this_one(
    tmp_path: Path, keys: tuple[SigningKey, bytes]
) -> None:
    """A genuine signed head of another store is caught as not this store's, at position 1."""
    key, public = keys
    build(f"sqlite:///{tmp_path / 'one.db'}")
    build(f"sqlite:///{tmp_path / 'two.db'}")
    signed = sign(f"sqlite:///{tmp_path / 'one.db'}?mode=ro", key)

    [found] = check(f"sqlite:///{tmp_path / 'two.db'}?mode=ro", public, signed)

    assert found.breach is not None
    assert (found.breach.position, found.breach.kind) == (1, "rewritten")
    assert "another store" in found.breach.reason


def test_proving_an_unknown_or_non_account_id_is_refused(
    tmp_path: Path, keys: tuple[SigningKey, bytes]
) -> None:
    """An id with no events, or the id of a team, is refused as no such account; nothing is
    written."""
    path = tmp_path / "kam.db"
    account = build(f"sqlite:///{path}")
    store = f"sqlite:///{path}?mode=ro"
    signed = sign(store, keys[0])
    with open_app(store) as app:
        team = app.get_account(account).team_id
    before = path.read_bytes()

    with pytest.raises(AccountNotFound, match=r"^account: "):
        prove(store, UUID(int=7), signed)
    with pytest.raises(AccountNotFound, match=r"^account: "):
        prove(store, team, signed)
    assert path.read_bytes() == before


class TwoStreams:
    """A sealed recorder without joined reads: events and links come as two streams."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder

    def select_notifications(self, *args: Any, **kwargs: Any) -> Any:
        return self.recorder.select_notifications(*args, **kwargs)

    def select_links(self, *args: Any, **kwargs: Any) -> Any:
        return self.recorder.select_links(*args, **kwargs)

    def max_link_position(self) -> Any:
        return self.recorder.max_link_position()

    def chain_formats(self) -> Any:
        return self.recorder.chain_formats()


def test_the_rows_of_two_streams_are_the_joined_rows(tmp_path: Path) -> None:
    """Without select_sealed, the proofs read the same rows by merging the two streams."""
    from kam_domain.audit.proofs import _rows
    from kam_domain.ledger import JoinedRecorder

    url = f"sqlite:///{tmp_path / 'kam.db'}"
    build(url)
    SQLiteRows(tmp_path / "kam.db").delete_event(3)  # a link without its event, too

    with open_log(url + "?mode=ro") as recorder:
        streams = TwoStreams(recorder)
        assert not isinstance(streams, JoinedRecorder)
        merged = list(_rows(streams, page_size=4))  # type: ignore[arg-type]
        joined = list(_rows(recorder, page_size=4))
    # The joined read gives an id as SQLite stores it (32 hex digits), the stream its UUID's
    # text: the same id.
    assert [_same_id(row) for row in merged] == [_same_id(row) for row in joined]


def _same_id(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return (row[0], None if row[1] is None else UUID(row[1]), *row[2:])
