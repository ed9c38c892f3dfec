"""Copies of cached records are deep copies: equal, sharing nothing that can change."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from kam_domain.application import KamApplication
from kam_domain.application.copies import copy_record
from kam_domain.audit import verify_derived
from kam_domain.audit.records import open_app
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.transcoding import IdMap
from kam_domain.values import Money
from tests.conftest import build_org, key_account
from tests.support import T0

_MUTABLE = (dict, list, set, IdMap)


def _containers(value: Any, seen: dict[int, Any] | None = None) -> dict[int, Any]:
    """Every mutable container reachable from ``value``, by id."""
    seen = {} if seen is None else seen
    if isinstance(value, _MUTABLE) or (hasattr(value, "__dict__") and not _frozen(value)):
        if id(value) in seen:
            return seen
        seen[id(value)] = value
    items: list[Any] = []
    if isinstance(value, dict | IdMap):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    elif hasattr(value, "__dict__") and not _frozen(value):
        items = list(vars(value).values())
    for item in items:
        _containers(item, seen)
    return seen


def _frozen(value: Any) -> bool:
    return copy.deepcopy(value) is value


def _account(app: KamApplication) -> Any:
    org = build_org(app)
    account = key_account(app, org)
    invoice = app.issue_invoice(
        account, org.finance, amount=Money.of(10**6, "CNY"), due_at=T0 + timedelta(days=30), at=T0
    )
    for n in range(5):
        app.record_payment(account, org.finance, invoice, amount=Money.of(1 + n, "CNY"), at=T0)
    return app.repository.get(account, deepcopy_from_cache=False)


def test_a_record_s_copy_equals_its_deep_copy_and_shares_no_container() -> None:
    """A copied account has the state deepcopy gives it, and not one of its dicts, lists or sets
    is the cached record's."""
    app = KamApplication("memory://", policies=PolicyRegistry())
    record = _account(app)

    copied = copy_record(record)

    assert vars(copied) == vars(copy.deepcopy(record))
    assert type(copied) is type(record)
    assert not set(_containers(copied)) & set(_containers(record))
    app.close()


class _Holder:
    """A record-like object with a container under two names and one unknown mutable."""

    def __init__(self) -> None:
        shared: list[Any] = [uuid4()]
        self.first = shared
        self.second = {"again": shared}
        self.other = _Mutable()
        self.ids = IdMap({uuid4(): [1, 2]})


class _Mutable:
    """An object the copier does not know: copied by deepcopy."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items = [1]


def test_containers_shared_inside_a_record_stay_shared_in_its_copy() -> None:
    """As deepcopy does: one list under two names is one new list under both in the copy, and
    an object the copier does not know is deep-copied, not shared."""
    holder = _Holder()

    copied = copy_record(holder)

    assert copied.first is copied.second["again"]
    assert copied.first is not holder.first
    assert copied.first == holder.first
    assert copied.other is not holder.other
    assert copied.other.items == [1]
    assert copied.other.items is not holder.other.items
    assert copied.ids == holder.ids
    assert next(iter(copied.ids.values())) is not next(iter(holder.ids.values()))


def test_a_command_changes_only_its_copy_of_a_cached_record() -> None:
    """A record read from the cache and changed by hand leaves the cached one as it was."""
    app = KamApplication("memory://", policies=PolicyRegistry())
    org = build_org(app)
    team = app.get_team(org.team_id)
    team.members.clear()

    again = app.get_team(org.team_id)

    assert again.members
    app.close()


def test_snapshots_taken_from_saved_records_agree_with_their_replay(tmp_path: Path) -> None:
    """Snapshots of an account (every 100 events) taken from the record just saved, alone or
    in a batch, are the account replayed from its events: verify --deep finds nothing."""
    url = f"sqlite:///{tmp_path / 'kam.db'}"
    app = KamApplication(url, policies=PolicyRegistry())
    org = build_org(app)
    account = key_account(app, org)
    invoice = app.issue_invoice(
        account, org.finance, amount=Money.of(10**6, "CNY"), due_at=T0 + timedelta(days=30), at=T0
    )
    for _ in range(120):
        app.record_payment(account, org.finance, invoice, amount=Money.of(1, "CNY"), at=T0)
    with app.batch():
        for _ in range(230):
            app.record_payment(account, org.finance, invoice, amount=Money.of(1, "CNY"), at=T0)
    snapshots = app.snapshots
    assert snapshots is not None
    taken = [s.originator_version for s in snapshots.get(account)]
    app.close()

    with open_app(url) as reader:
        found = verify_derived(reader)

    assert taken == [100, 200, 300]
    assert found == []
