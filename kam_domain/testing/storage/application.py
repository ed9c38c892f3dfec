"""What the facade needs from a store: opening by URL, conflicts, atomic writes, encryption."""

from __future__ import annotations

import threading
from urllib.parse import quote
from uuid import UUID, uuid4

from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.team import Team
from kam_domain.application.directory import Entry
from kam_domain.errors import (
    ConcurrencyConflict,
    InvalidStoreUrl,
    StoreUnreadable,
    ValidationError,
)
from kam_domain.storage import StoreUrl, new_cipher_key
from kam_domain.testing.storage.base import StoreTestCase
from kam_domain.testing.storage.fixtures import (
    DIRECTOR_NAME,
    MEMBER_NAMES,
    TEAM_NAME,
    assert_names_hidden,
    build_team,
    capacities,
    pct,
    state,
    with_parameter,
)
from kam_domain.values import Actor, MemberId, Role, TeamId

__all__ = ["ApplicationConformance"]


class ApplicationConformance(StoreTestCase):
    """What the facade needs from a store, beyond eventsourcing's recorder contracts."""

    def test_opens_the_store_its_url_names(self) -> None:
        """A new store opens through the facade by its URL and holds no team yet."""
        app = self.open()

        self.assertEqual(str(app.store_url), str(StoreUrl.parse(self.store)))
        self.assertEqual(app.teams(), [])

    def test_team_state_survives_reopening_the_store(self) -> None:
        """Team, members and authority read back from the store as they were recorded."""
        app = self.open()
        team_id, director, members = build_team(app)

        reread = self.reopen(app)
        team = reread.get_team(team_id)

        self.assertEqual(state(team), state(app.get_team(team_id)))
        self.assertEqual(team.name, TEAM_NAME)
        self.assertEqual([m.name for m in team.active_members()], [DIRECTOR_NAME, *MEMBER_NAMES])
        limits = [str(team.credentials(m, team.modified_on).discount_authority) for m in members]
        self.assertEqual(limits, ["20%", "5%", "None"])
        self.assertEqual([t.id for t in reread.teams()], [team_id])
        self.assertEqual(team.capacity_of(director), 15)

    def test_conflicting_write_raises_concurrency_conflict_and_records_nothing(self) -> None:
        """A write based on a stale read fails with ConcurrencyConflict and changes nothing."""
        writer = self.open()
        team_id, director, _ = build_team(writer)
        other = self.reopen(writer)
        stale = other.get_team(team_id)
        writer.set_capacity(team_id, director, None, capacity=20)

        read_at = stale.version
        meta = Meta.command(Actor.member(director))
        stale.set_capacity(meta, stale.credentials(director, meta.at), None, capacity=30)
        with self.assertRaises(ConcurrencyConflict):
            other._commit(stale)

        team = writer.get_team(team_id)
        self.assertEqual(team.default_capacity, 20)
        self.assertEqual(team.version, read_at + 1)

    def test_several_records_commit_all_or_nothing(self) -> None:
        """When one record of a commit conflicts, the others are not written either."""
        app = self.open()
        stale_directory = app._directory()
        app.form_team(
            name="First", segment="s", region="r", director_name="D", top_authority=pct(10)
        )
        meta = Meta.command(Actor.system("conformance"))
        team = Team.form(
            meta,
            TeamId(uuid4()),
            name="Second",
            segment="s",
            region="r",
            director_id=MemberId(uuid4()),
            director_name="D",
            top_authority=pct(10),
        )
        stale_directory.add(meta, team.id, Entry("team", team.name, team.id))

        with self.assertRaises(ConcurrencyConflict):
            app._commit(team, stale_directory)

        self.assertFalse(team.id in app.repository, "the conflicting commit wrote a record")
        self.assertEqual([t.name for t in app.teams()], ["First"])

    def test_retrying_runs_a_command_again_after_a_conflict(self) -> None:
        """``retrying`` repeats a command that lost a race, and the second attempt lands."""
        app = self.open()
        team_id, director, _ = build_team(app)
        attempts: list[int] = []

        def set_capacity_losing_the_first_race(capacity: int) -> None:
            attempts.append(capacity)
            if len(attempts) == 1:
                stale = app.get_team(team_id)
                app.set_capacity(team_id, director, None, capacity=capacity - 1)
                meta = Meta.command(Actor.member(director))
                by = stale.credentials(director, meta.at)
                stale.set_capacity(meta, by, None, capacity=capacity)
                app._commit(stale)
            else:
                app.set_capacity(team_id, director, None, capacity=capacity)

        app.retrying(set_capacity_losing_the_first_race, 40)

        self.assertEqual(attempts, [40, 40])
        self.assertEqual(app.get_team(team_id).default_capacity, 40)

    def test_writers_in_several_threads_lose_and_duplicate_nothing(self) -> None:
        """Four threads updating one team, retrying conflicts, record exactly their commands."""
        app = self.open()
        team_id, director, _ = build_team(app)
        start = app.get_team(team_id).version
        kams = [
            app.add_member(team_id, director, name=f"KAM {n}", role=Role.KEY_ACCOUNT_MANAGER)
            for n in range(4)
        ]
        per_thread = 15
        errors: list[BaseException] = []

        def work(member: UUID) -> None:
            writer = self.reopen(app)
            try:
                for capacity in range(1, per_thread + 1):
                    writer.retrying(
                        writer.set_capacity,
                        team_id,
                        director,
                        member,
                        capacity=capacity,
                        attempts=200,
                    )
            except BaseException as error:  # reported by the main thread
                errors.append(error)

        threads = [threading.Thread(target=work, args=(kam,)) for kam in kams]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        self.assertEqual(errors, [])
        team = self.reopen(app).get_team(team_id)
        self.assertEqual(team.version, start + len(kams) + len(kams) * per_thread)
        for kam in kams:
            self.assertEqual(capacities(app, team_id, kam), list(range(1, per_thread + 1)))

    def test_encrypted_store_round_trips_and_keeps_no_name_readable(self) -> None:
        """With a cipher key, state reads back with the key and no name is readable at rest."""
        key = new_cipher_key()
        app = self.open(cipher_key=key)
        team_id, _, _ = build_team(app)

        reread = self.reopen(app, cipher_key=key)

        self.assertEqual(reread.get_team(team_id).name, TEAM_NAME)
        assert_names_hidden(self, self.raw_states(app))

    def test_unencrypted_store_keeps_names_readable_at_rest(self) -> None:
        """Without a key the names are in the stored bytes (so the encrypted test means it)."""
        app = self.open()
        build_team(app)

        raw = b"".join(self.raw_states(app))

        self.assertIn(TEAM_NAME.encode(), raw)
        self.assertIn(DIRECTOR_NAME.encode(), raw)

    def test_encrypted_store_refuses_a_missing_or_wrong_key(self) -> None:
        """Opening an encrypted store without its key, or with another, is StoreUnreadable."""
        if not self.persistent:
            self.skipTest("the store does not outlive the application that wrote it")
        key = new_cipher_key()
        build_team(self.open(cipher_key=key))

        with self.assertRaises(StoreUnreadable):
            self.open()
        with self.assertRaises(StoreUnreadable):
            self.open(cipher_key=new_cipher_key())

    def test_compressed_store_round_trips(self) -> None:
        """With compression on, state reads back; opened without it, the store is unreadable."""
        app = self.open(compress=True)
        team_id, _, _ = build_team(app)

        reread = self.reopen(app, compress=True)

        self.assertEqual(reread.get_team(team_id).name, TEAM_NAME)
        self.assertTrue(all(stored.startswith(b"\x78") for stored in self.raw_states(app)))
        if self.persistent:
            with self.assertRaises(StoreUnreadable):
                self.open(compress=False)

    def test_encrypted_and_compressed_store_round_trips(self) -> None:
        """Cipher and compression together: state reads back and no name is readable."""
        key = new_cipher_key(16)
        app = self.open(cipher_key=key, compress=True)
        team_id, _, _ = build_team(app)

        reread = self.reopen(app, cipher_key=key, compress=True)

        self.assertEqual(reread.get_team(team_id).name, TEAM_NAME)
        assert_names_hidden(self, self.raw_states(app))

    def test_cipher_key_in_the_url_works_and_is_never_printed(self) -> None:
        """A key given as a URL parameter encrypts the store and is masked when printed."""
        key = new_cipher_key()
        url = with_parameter(self.store, "cipher_key", key)
        app = self.open(url)
        team_id, _, _ = build_team(app)

        reread = self.reopen(app, store=url)

        self.assertEqual(reread.get_team(team_id).name, TEAM_NAME)
        assert_names_hidden(self, self.raw_states(app))
        for text in (str(app.store_url), repr(app.store_url)):
            self.assertNotIn(key, text)
            self.assertNotIn(quote(key, safe=""), text)
            self.assertIn("cipher_key=***", text)

    def test_malformed_cipher_key_is_refused_without_echoing_it(self) -> None:
        """A key that is not 16, 24 or 32 bytes of base64 is refused and never repeated."""
        bad = "not-a-key-" + uuid4().hex

        with self.assertRaises(ValidationError) as keyword:
            self.open(cipher_key=bad)
        with self.assertRaises(InvalidStoreUrl) as parameter:
            self.open(with_parameter(self.store, "cipher_key", bad))

        self.assertNotIn(bad, str(keyword.exception))
        self.assertNotIn(bad, str(parameter.exception))
