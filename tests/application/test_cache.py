"""The facade's record cache: faster loads that never show a stale or refused record."""

from __future__ import annotations

from uuid import UUID

import pytest

from kam_domain.application import KamApplication
from kam_domain.errors import RuleViolated, ValidationError
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.values import MemberId
from tests.conftest import build_org
from tests.support import unchanged


class _HostApplication(KamApplication):
    """A host's own command that changes the team and is then refused."""

    def set_capacity_then_refuse(self, team_id: UUID, actor: UUID, member_id: UUID) -> None:
        team, meta, by = self._team_context(team_id, actor, None, None)
        team.set_capacity(meta, by, MemberId(member_id), capacity=99)
        raise RuleViolated("the second record refused")


@pytest.mark.parametrize("size", [-1, True, 1.5, "100"])
def test_a_cache_size_must_be_a_whole_number(size: object) -> None:
    """A negative, boolean, fractional or textual cache size is refused, naming the field."""
    with pytest.raises(ValidationError, match="cache_size"):
        KamApplication("memory://", cache_size=size)


def test_a_refused_command_leaves_the_cached_record_as_stored(store: str) -> None:
    """Given a team read into the cache, when a command changes it and is then refused, then
    the next read gives the team as stored."""
    app = _HostApplication(store, policies=PolicyRegistry())
    org = build_org(app)
    before = app.get_team(org.team_id)

    with unchanged(app), pytest.raises(RuleViolated):
        app.set_capacity_then_refuse(org.team_id, org.senior, org.kam)

    after = app.get_team(org.team_id)
    assert after.version == before.version
    assert after.capacity_of(org.kam) == before.capacity_of(org.kam)
    app.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_another_writer_s_change_is_seen_through_the_cache(store: str) -> None:
    """Given two applications on one store, each with its cache warm, when one changes the
    team, then the other's next read and command see the change."""
    first = KamApplication(store, policies=PolicyRegistry())
    org = build_org(first)
    second = KamApplication(store, policies=PolicyRegistry())
    assert second.get_team(org.team_id).capacity_of(org.kam) == first.get_team(
        org.team_id
    ).capacity_of(org.kam)

    second.set_capacity(org.team_id, org.senior, org.kam, capacity=3)
    first.set_capacity(org.team_id, org.senior, org.kam2, capacity=4)

    for app in (first, second):
        team = app.get_team(org.team_id)
        assert (team.capacity_of(org.kam), team.capacity_of(org.kam2)) == (3, 4)
    second.close()
    first.close()


def test_without_a_cache_commands_work_the_same(store: str) -> None:
    """With ``cache_size=0`` every read decodes from the store, with the same results."""
    app = KamApplication(store, policies=PolicyRegistry(), cache_size=0)
    org = build_org(app)

    app.set_capacity(org.team_id, org.senior, org.kam, capacity=3)

    assert app.repository.cache is None
    assert app.get_team(org.team_id).capacity_of(org.kam) == 3
    app.close()


def test_the_cache_holds_at_most_its_size(store: str) -> None:
    """A cache of two records keeps the two most recently read, no more."""
    app = KamApplication(store, policies=PolicyRegistry(), cache_size=2)
    org = build_org(app)
    accounts = [
        app.register_account(org.team_id, org.director, name=f"C{n}", industry="x", region="y")
        for n in range(4)
    ]

    for account in accounts:
        app.get_account(account)

    cache = app.repository.cache
    assert cache is not None
    assert sorted(cache.cache) == sorted(accounts[-2:])
    app.close()
