"""`app.batch()`: many commands, one transaction, all or nothing; policies decide afterwards."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from kam_domain.application import KamApplication
from kam_domain.errors import AlreadyExists, RuleViolated
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.values import MemberId, Role, Tier
from tests.conftest import STRATEGIES, Org, build_org
from tests.support import unchanged


def test_nothing_is_written_until_the_batch_ends(app: KamApplication, org: Org) -> None:
    """Inside the block commands are checked and applied; the store sees them at the end."""
    before = app.recorder.max_notification_id()

    with app.batch():
        account = app.register_account(
            org.team_id, org.director, name="Acme", industry="telecom", region="east"
        )
        app.designate_key_account(account, org.director, tier=Tier.MAJOR, strategies=STRATEGIES)
        app.assign_kam(account, org.director, org.kam, reason="region")
        during = app.recorder.max_notification_id()
        seen_inside = app.get_account(account).accountable_kam

    assert during == before
    assert seen_inside == org.kam
    assert app.get_account(account).accountable_kam == org.kam
    assert (app.recorder.max_notification_id() or 0) > (before or 0)


def test_a_failing_block_writes_nothing(app: KamApplication, org: Org) -> None:
    """When the block raises, none of its commands is recorded."""

    def import_that_breaks_off() -> None:
        with app.batch():
            app.add_member(org.team_id, org.senior, name="New", role=Role.CONSULTANT)
            raise RuntimeError("the import file is truncated")

    with unchanged(app), pytest.raises(RuntimeError):
        import_that_breaks_off()

    assert [m.name for m in app.members(org.team_id, Role.CONSULTANT)] == []


def test_a_refused_command_in_a_batch_leaves_the_others(app: KamApplication, org: Org) -> None:
    """A host that catches a refusal inside the block keeps the other commands."""
    with app.batch():
        app.register_account(org.team_id, org.director, name="Acme", industry="x", region="y")
        with unchanged(app), pytest.raises(AlreadyExists):
            app.register_account(org.team_id, org.director, name="ACME", industry="x", region="y")
        app.register_account(org.team_id, org.director, name="Beta", industry="x", region="y")

    assert sorted(a.name for a in app.accounts(org.team_id)) == ["Acme", "Beta"]


def test_policies_decide_once_after_the_batch(store: str) -> None:
    """Accounts designated in a batch get their KAMs from the assignment policy afterwards."""
    app = KamApplication(store)
    org = build_org(app)

    with app.batch():
        accounts = [
            app.register_account(org.team_id, org.director, name=f"C{n}", industry="x", region="y")
            for n in range(4)
        ]
        for account in accounts:
            app.designate_key_account(account, org.director, tier=Tier.MAJOR, strategies=STRATEGIES)
        assert app.decisions("assignment") == []

    kams = [app.get_account(account).accountable_kam for account in accounts]
    assert all(kam in (org.kam, org.kam2) for kam in kams)
    assert len(app.decisions("assignment")) == 4
    app.close()


def test_batches_are_per_thread(app: KamApplication, org: Org) -> None:
    """Another thread's commands are not caught up in this thread's batch."""
    import threading

    with app.batch():
        app.add_member(org.team_id, org.senior, name="Batched", role=Role.CONSULTANT)
        thread = threading.Thread(
            target=app.register_account,
            args=(org.team_id, org.director),
            kwargs={"name": "Direct", "industry": "x", "region": "y"},
        )
        thread.start()
        thread.join()
        written_meanwhile = [a.name for a in app.accounts(org.team_id)]

    assert written_meanwhile == ["Direct"]
    assert [m.name for m in app.members(org.team_id, Role.CONSULTANT)] == ["Batched"]


class _HostApplication(KamApplication):
    """A host's own command that changes the team and is then refused (as a command changing
    two records can be, when the second refuses)."""

    def set_capacity_then_refuse(self, team_id: UUID, actor: UUID, member_id: UUID) -> None:
        team, meta, by = self._team_context(team_id, actor, None, None)
        team.set_capacity(meta, by, MemberId(member_id), capacity=99)
        raise RuleViolated("the second record refused")


def test_a_refused_command_leaves_no_trace_in_a_batch(store: str) -> None:
    """Given a batch, when a command changes the team and is then refused (and the host goes
    on), then neither later commands nor the store see the refused change."""
    app = _HostApplication(store, policies=PolicyRegistry())
    org = build_org(app)
    before = app.get_team(org.team_id).capacity_of(org.kam)

    with app.batch():
        app.set_capacity(org.team_id, org.senior, org.kam2, capacity=7)
        with unchanged(app), pytest.raises(RuleViolated):
            app.set_capacity_then_refuse(org.team_id, org.senior, org.kam)
        seen_inside = app.get_team(org.team_id).capacity_of(org.kam)
        app.add_member(org.team_id, org.senior, name="After", role=Role.CONSULTANT)

    team = app.get_team(org.team_id)
    assert seen_inside == before
    assert team.capacity_of(org.kam) == before
    assert team.capacity_of(org.kam2) == 7
    assert [m.name for m in app.members(org.team_id, Role.CONSULTANT)] == ["After"]
    app.close()


def test_a_record_only_read_in_a_batch_is_loaded_once(app: KamApplication, org: Org) -> None:
    """Given a batch, when several commands read the same team, then the store is asked for it
    once and every command sees the same record."""
    loads: list[UUID] = []
    original = app.repository.get

    def counting_get(aggregate_id: UUID, **kwargs: Any) -> Any:
        loads.append(aggregate_id)
        return original(aggregate_id, **kwargs)

    app.repository.get = counting_get  # type: ignore[method-assign]
    with app.batch():
        for n in range(5):
            app.register_account(org.team_id, org.director, name=f"C{n}", industry="x", region="y")

    assert loads.count(org.team_id) == 1
    assert len(app.accounts(org.team_id)) == 5


def test_a_refused_command_in_a_batch_leaves_no_trace_of_a_new_record(
    app: KamApplication, org: Org
) -> None:
    """Given a batch, when registering an account is refused on its name, then the team it read
    is still the one the store holds and the batch records only the accepted commands."""
    with app.batch():
        app.register_account(org.team_id, org.director, name="Acme", industry="x", region="y")
        with unchanged(app), pytest.raises(AlreadyExists):
            app.register_account(org.team_id, org.director, name="Acme", industry="x", region="y")
        team_version_inside = app.get_team(org.team_id).version

    assert team_version_inside == app.get_team(org.team_id).version
    assert [a.name for a in app.accounts(org.team_id)] == ["Acme"]
