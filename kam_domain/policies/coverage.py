"""Coverage (后备团队培训、交叉培训): a key account whose KAM nobody could cover is flagged.

An account is *covered* when its KAM has a designated backup who is active and cross-trained (or
backup-trained) to cover them (``Team.is_cross_trained(backup, kam)``). Each (account, KAM) pair
that is not covered is a *gap*. The policy flags a gap once, when it opens, and records an
"unflag" when it closes — the backup is trained or replaced, the account gets another KAM, or it
stops being a key account — so that the exceptions report can tell open gaps from closed ones
(:func:`open_gaps`). Decisions carry no actions: they change nothing but the record.

Which gaps are open is worked out from the domain's own events, in :meth:`CoveragePolicy.learn`:
the policy compares the team's gaps after each event it handles with those after the previous
one. It does not read its own recorded decisions, which a worker catching up on a backlog would
not have folded yet, so the same log gives the same flags however it is processed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar
from uuid import UUID

import attrs

from kam_domain.aggregates.base import KamAggregate
from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.aggregates.team import Team
from kam_domain.policies.base import Decision, Policy
from kam_domain.policies.records import PolicyDecision
from kam_domain.policies.world import World
from kam_domain.values import AccountId, MemberId

__all__ = ["CoverageGap", "CoveragePolicy", "open_gaps"]


@attrs.frozen
class CoverageGap:
    """Account ``account_id`` whose KAM ``kam_id`` has no active cross-trained backup."""

    account_id: AccountId
    kam_id: MemberId

    def __str__(self) -> str:
        return f"{self.account_id}/{self.kam_id}"

    @classmethod
    def parse(cls, text: str) -> CoverageGap:
        account, _, kam = text.partition("/")
        return cls(AccountId(UUID(account)), MemberId(UUID(kam)))


@attrs.frozen
class _Change:
    """What one handled event did to its team's gaps, with what an auditor needs to see."""

    team_id: UUID
    opened: tuple[tuple[CoverageGap, dict[str, object]], ...]
    closed: tuple[tuple[CoverageGap, dict[str, object]], ...]


class CoveragePolicy(Policy):
    """Version 1: flag each key account whose KAM has no active cross-trained backup."""

    name: ClassVar[str] = "coverage"
    version: ClassVar[int] = 1
    handles: ClassVar[tuple[type[KamAggregate.Event], ...]] = (
        ClientAccount.KamAssigned,
        ClientAccount.KeyAccountUndesignated,
        Team.BackupDesignated,
        Team.TrainingRecorded,
        Team.MemberLeft,
    )
    description: ClassVar[str] = (
        "Flags a key account whose KAM has no designated, active, cross-trained backup, once per "
        "(account, KAM); records an unflag when the gap closes."
    )

    def __init__(self) -> None:
        #: The gaps open in each team after the last event handled for it.
        self._gaps: dict[UUID, dict[CoverageGap, dict[str, object]]] = {}
        #: What each handled event changed, by the event's id (only events that changed something).
        self._changes: dict[UUID, _Change] = {}
        #: Cells changed since the engine last asked (see :meth:`learned`).
        self._touched: set[str] = set()

    def learned(self, *, everything: bool = False) -> dict[str, Any] | None:
        keys = self._touched
        if everything:
            keys = {f"gaps:{team}" for team in self._gaps}
            keys.update(f"change:{event_id}" for event_id in self._changes)
        self._touched = set()
        return {key: self._cell(key) for key in keys}

    def _cell(self, key: str) -> Any:
        kind, _, ident = key.partition(":")
        if kind == "gaps":
            gaps = self._gaps.get(UUID(ident))
            return None if gaps is None else _pairs(gaps.items())
        change = self._changes.get(UUID(ident))
        if change is None:
            return None
        return [change.team_id, _pairs(change.opened), _pairs(change.closed)]

    def restore(self, cells: Mapping[str, Any]) -> None:
        for key, value in cells.items():
            kind, _, ident = key.partition(":")
            if kind == "gaps":
                self._gaps[UUID(ident)] = dict(_unpaired(value))
            else:
                team_id, opened, closed = value
                self._changes[UUID(ident)] = _Change(
                    team_id, tuple(_unpaired(opened)), tuple(_unpaired(closed))
                )

    def learn(self, event: Any, world: World) -> None:
        if not isinstance(event, self.handles):
            return
        team = _team_of(event, world)
        if team is None:
            return
        before = self._gaps.get(team.id, {})
        after = _gaps(team, world)
        if after != before or team.id not in self._gaps:
            self._touched.add(f"gaps:{team.id}")
        self._gaps[team.id] = after
        opened = tuple((gap, state) for gap, state in after.items() if gap not in before)
        closed = tuple(
            (gap, {**state, "gap": _closing(gap, team, world)})
            for gap, state in before.items()
            if gap not in after
        )
        if opened or closed:
            self._changes[event.event_id] = _Change(team.id, opened, closed)
            self._touched.add(f"change:{event.event_id}")

    def decide(self, event: Any, world: World) -> Decision | None:
        change = self._changes.get(event.event_id)
        if change is None:
            return None
        inputs: dict[str, object] = {
            "team": change.team_id,
            "opened": [str(gap) for gap, _ in change.opened],
            "closed": [str(gap) for gap, _ in change.closed],
        }
        for gap, state in (*change.opened, *change.closed):
            inputs[f"gap {gap}"] = state
        if change.opened:
            names = ", ".join(_name(state) for _, state in change.opened)
            reason = f"no active cross-trained backup covers the KAM of {names}"
            if change.closed:
                reason += f"; closed: {', '.join(_name(s) for _, s in change.closed)}"
            return Decision("flag", reason, inputs)
        closed = "; ".join(f"{_name(s)}: {s['gap']}" for _, s in change.closed)
        return Decision("unflag", f"coverage gap closed for {closed}", inputs)


def open_gaps(decisions: Iterable[PolicyDecision]) -> list[CoverageGap]:
    """The gaps still open after ``decisions`` (the coverage policy's, in log order)."""
    gaps: dict[CoverageGap, None] = {}
    for decision in decisions:
        if decision.policy != CoveragePolicy.name:
            continue
        for gap in _listed(decision.inputs.get("closed", "")):
            gaps.pop(gap, None)
        for gap in _listed(decision.inputs.get("opened", "")):
            gaps[gap] = None
    return list(gaps)


# -- helpers ------------------------------------------------------------------------------------


def _team_of(event: Any, world: World) -> Team | None:
    if isinstance(event, ClientAccount.Event):
        account = world.get(event.originator_id, ClientAccount)
        return None if account is None else world.team(account.team_id)
    return world.team(event.originator_id)


def _gaps(team: Team, world: World) -> dict[CoverageGap, dict[str, object]]:
    """The team's uncovered key accounts, in the order they were registered."""
    gaps: dict[CoverageGap, dict[str, object]] = {}
    for account in world.accounts(team.id):
        if not account.is_key or account.kam_id is None:
            continue
        kam = team.members.get(account.kam_id)
        backup_id = None if kam is None else kam.backup_id
        if backup_id is not None and team.is_cross_trained(backup_id, account.kam_id):
            continue
        backup = None if backup_id is None else team.members.get(backup_id)
        gaps[CoverageGap(AccountId(account.id), account.kam_id)] = {
            "name": account.name,
            "kam": account.kam_id,
            "kam_name": "unknown" if kam is None else kam.name,
            "backup": backup_id or "none",
            "backup_active": "n/a" if backup is None else _yes(backup.active),
            "cross_trained": "n/a"
            if backup is None
            else _yes(account.kam_id in backup.trained_to_cover),
            "gap": "open",
        }
    return gaps


def _closing(gap: CoverageGap, team: Team, world: World) -> str:
    """Why a gap is no longer open."""
    account = world.get(gap.account_id, ClientAccount)
    if account is None or not account.is_key:
        return "closed: no longer a key account"
    if account.kam_id != gap.kam_id:
        return f"closed: the KAM is now {account.kam_id}"
    kam = team.members[gap.kam_id]
    backup = team.members[kam.backup_id] if kam.backup_id is not None else None
    return f"closed: covered by {backup.name if backup else kam.backup_id}"


def _listed(text: str) -> list[CoverageGap]:
    inner = text.strip().removeprefix("[").removesuffix("]").strip()
    return [CoverageGap.parse(item.strip()) for item in inner.split(",") if item.strip()]


def _pairs(gaps: Iterable[tuple[CoverageGap, dict[str, object]]]) -> list[Any]:
    return [[gap.account_id, gap.kam_id, state] for gap, state in gaps]


def _unpaired(rows: Iterable[Any]) -> Iterator[tuple[CoverageGap, dict[str, object]]]:
    for account_id, kam_id, state in rows:
        yield CoverageGap(account_id, kam_id), dict(state)


def _name(state: dict[str, object]) -> str:
    return str(state["name"])


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"
