"""Assignment (大客户经理责任制): every key account has one accountable KAM, with a balanced load.

A KAM's *load* is the sum of the team's tier weights over the key accounts they are accountable
for; their *capacity* is ``Team.capacity_of``. A KAM *serves* when they are an active key account
manager of the account's team.

Version 1 (:class:`AssignmentPolicy`):

- **Designation.** A key account without a serving KAM goes to the KAM with the lowest load among
  those with room for it (load plus the account's weight within capacity). Ties go to the KAM with
  fewer accounts, then to the one who joined the team first. When nobody has room, the account
  still goes to the least-loaded KAM and the reason says "over capacity": the responsibility
  system wants one accountable owner at every moment, so an overloaded owner is better than none;
  the over-capacity accounts are listed in the decision's inputs for the exceptions report. With
  no KAM on the team at all the decision is a flag.
- **Departure.** When a KAM leaves or stops being a KAM, each of their key accounts moves: to their
  designated backup when the backup serves and has room, otherwise as on designation. Loads are
  updated account by account, so one departure spreads over several KAMs when it must.
- **Arrival.** When a KAM joins (or a member becomes a KAM) while key accounts have no serving KAM
  — because there was nobody to give them to — those accounts are assigned as on designation.
- A KAM already serving an account is never replaced: a manual assignment by a sales director
  stands. The action checks this again when it is carried out, and is refused if the account's
  KAM changed after the decision.

Version 2 (:class:`AssignmentPolicyV2`) ranks the KAMs with room differently: first one who already
serves another key account of the same industry, then of the same region, and only then by load
(fewer accounts, earlier joined). It keeps version 1's capacity rule and backup preference.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any, ClassVar

import attrs

from kam_domain.aggregates.base import KamAggregate, Meta
from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.aggregates.team import Member, Team
from kam_domain.errors import InvalidTransition
from kam_domain.policies.base import Action, ActionContext, Decision, Policy
from kam_domain.policies.world import World
from kam_domain.values import AccountId, MemberId, Role, TeamId

__all__ = ["AssignKam", "AssignmentPolicy", "AssignmentPolicyV2"]

_KAM = Role.KEY_ACCOUNT_MANAGER


@attrs.frozen
class AssignKam(Action):
    """Make ``kam_id`` the accountable KAM of the account, as the deciding policy.

    ``previous_kam_id`` is the KAM the decision saw: if the account has another one by the time
    the action is carried out (a director assigned one by hand meanwhile), the action is refused
    rather than overriding that choice.
    """

    aggregate_id: AccountId
    team_id: TeamId
    kam_id: MemberId
    previous_kam_id: MemberId | None
    reason: str

    def apply(self, aggregate: Any, meta: Meta, context: ActionContext) -> None:
        if not isinstance(aggregate, ClientAccount):
            msg = f"AssignKam applies to a ClientAccount, not {type(aggregate).__name__}"
            raise TypeError(msg)
        if aggregate.kam_id != self.previous_kam_id:
            msg = (
                f"kam: the KAM of {aggregate.name!r} changed after the decision "
                f"(now {aggregate.kam_id or 'none'}, expected {self.previous_kam_id or 'none'})"
            )
            raise InvalidTransition(msg)
        kam = context.credentials(self.team_id, self.kam_id, meta.at)
        aggregate.assign_kam(meta, None, kam, reason=self.reason)

    def describe(self) -> str:
        was = self.previous_kam_id or "none"
        return f"assign KAM {self.kam_id} to account {self.aggregate_id} (was {was})"


@attrs.define
class _Candidate:
    """A serving KAM as the decision weighs them; load and accounts grow as accounts are placed."""

    member: Member
    order: int
    capacity: int
    load: int = 0
    accounts: int = 0
    is_backup: bool = False
    industries: Counter[str] = attrs.field(factory=Counter)
    regions: Counter[str] = attrs.field(factory=Counter)

    def has_room(self, weight: int) -> bool:
        return self.load + weight <= self.capacity

    def take(self, account: ClientAccount, weight: int) -> None:
        self.load += weight
        self.accounts += 1
        self.industries[account.industry] += 1
        self.regions[account.region] += 1

    def state(self) -> dict[str, object]:
        return {
            "name": self.member.name,
            "load": self.load,
            "capacity": self.capacity,
            "accounts": self.accounts,
            "backup": "yes" if self.is_backup else "no",
        }


@attrs.frozen
class _Placement:
    account: ClientAccount
    weight: int
    kam: _Candidate
    #: How the KAM was chosen: ``backup``, ``lowest load``, ``over capacity`` (version 2 also
    #: ``serves <industry>`` or ``serves <region>``).
    via: str
    load_before: int

    @property
    def over_capacity(self) -> bool:
        return self.via == "over capacity"


class AssignmentPolicy(Policy):
    """Version 1: lowest tier-weighted load under capacity; backup first on departure."""

    name: ClassVar[str] = "assignment"
    version: ClassVar[int] = 1
    handles: ClassVar[tuple[type[KamAggregate.Event], ...]] = (
        ClientAccount.KeyAccountDesignated,
        ClientAccount.KeyAccountUndesignated,
        Team.MemberLeft,
        Team.RoleChanged,
        Team.MemberJoined,
    )
    description: ClassVar[str] = (
        "Gives each key account without a serving KAM to the KAM of its team with the lowest "
        "tier-weighted load under capacity (then fewest accounts, then earliest joined); moves a "
        "departing KAM's accounts to their backup when the backup has room."
    )

    # -- deciding ------------------------------------------------------------------------------

    def decide(self, event: Any, world: World) -> Decision | None:
        if isinstance(event, ClientAccount.KeyAccountDesignated):
            return self._designated(event, world)
        if isinstance(event, ClientAccount.KeyAccountUndesignated):
            # The account releases its KAM itself; there is nobody to assign.
            return None
        team = world.team(event.originator_id)
        if team is None:
            return None
        if isinstance(event, Team.MemberLeft):
            if team.members[event.member_id].role is not _KAM:
                return None
            return self._departed(event.member_id, "left the team", team, world)
        if isinstance(event, Team.RoleChanged):
            if event.old_role is _KAM:
                what = f"is now a {event.new_role.label}"
                return self._departed(event.member_id, what, team, world)
            if event.new_role is _KAM:
                return self._arrived(event.member_id, "became a KAM", team, world)
            return None
        if isinstance(event, Team.MemberJoined) and event.role is _KAM:
            return self._arrived(event.member_id, "joined as a KAM", team, world)
        return None

    def _designated(self, event: Any, world: World) -> Decision | None:
        account = world.get(event.originator_id, ClientAccount)
        team = None if account is None else world.team(account.team_id)
        if account is None or team is None or not account.is_key:
            return None
        if account.kam_id is not None and _serves(team, account.kam_id):
            return None
        trigger = f"{account.name} designated a {event.tier.value} key account"
        return self._assign(team, world, [account], trigger)

    def _departed(
        self, member_id: MemberId, what: str, team: Team, world: World
    ) -> Decision | None:
        accounts = _unserved(team, world)
        if not accounts:
            return None
        member = team.members[member_id]
        trigger = f"{member.name} {what}"
        return self._assign(
            team, world, accounts, trigger, departure=True, backup_id=member.backup_id
        )

    def _arrived(self, member_id: MemberId, what: str, team: Team, world: World) -> Decision | None:
        accounts = _unserved(team, world)
        if not accounts:
            return None
        trigger = f"{team.members[member_id].name} {what}"
        return self._assign(team, world, accounts, trigger)

    # -- weighing ------------------------------------------------------------------------------

    def _candidates(
        self, team: Team, world: World, *, backup_id: MemberId | None
    ) -> list[_Candidate]:
        """Serving KAMs in the order they joined the team, with what they carry now."""
        order = {member_id: index for index, member_id in enumerate(team.members)}
        candidates = {
            member.member_id: _Candidate(
                member,
                order[member.member_id],
                team.capacity_of(member.member_id),
                is_backup=member.member_id == backup_id,
            )
            for member in team.active_members(_KAM)
        }
        for account in world.accounts(team.id):
            holder = None if account.kam_id is None else candidates.get(account.kam_id)
            if holder is not None and account.tier is not None:
                holder.take(account, team.tier_weights.of(account.tier))
        return list(candidates.values())

    def _place(
        self,
        accounts: Iterable[ClientAccount],
        team: Team,
        candidates: list[_Candidate],
        *,
        backup_id: MemberId | None,
    ) -> list[_Placement]:
        """Place the accounts one by one, each choice seeing the loads the earlier ones left."""
        by_id = {candidate.member.member_id: candidate for candidate in candidates}
        backup = None if backup_id is None else by_id.get(backup_id)
        placements = []
        for account in accounts:
            assert account.tier is not None
            weight = team.tier_weights.of(account.tier)
            if backup is not None and backup.has_room(weight):
                chosen, via = backup, "backup"
            else:
                roomy = [c for c in candidates if c.has_room(weight)]
                pool = roomy or candidates
                chosen = min(pool, key=lambda c: self._rank(c, account))
                via = self._via(chosen, account) if roomy else "over capacity"
            placements.append(_Placement(account, weight, chosen, via, chosen.load))
            chosen.take(account, weight)
        return placements

    def _rank(self, candidate: _Candidate, account: ClientAccount) -> tuple[Any, ...]:
        """Lower ranks first: the lowest load, then fewest accounts, then earliest joined."""
        return candidate.load, candidate.accounts, candidate.order

    def _via(self, candidate: _Candidate, account: ClientAccount) -> str:
        return "lowest load"

    def _kam_inputs(self, candidate: _Candidate) -> dict[str, object]:
        return candidate.state()

    # -- explaining ----------------------------------------------------------------------------

    def _assign(
        self,
        team: Team,
        world: World,
        accounts: list[ClientAccount],
        trigger: str,
        *,
        departure: bool = False,
        backup_id: MemberId | None = None,
    ) -> Decision:
        """Place ``accounts`` and explain it: what each KAM carried, where each account went."""
        candidates = self._candidates(team, world, backup_id=backup_id)
        if not candidates:
            return _nobody(team, accounts, trigger)
        inputs: dict[str, object] = {
            "trigger": trigger,
            "team": team.id,
            "tier_weights": {
                "strategic": team.tier_weights.strategic,
                "major": team.tier_weights.major,
                "standard": team.tier_weights.standard,
            },
        }
        if departure:
            inputs["backup"] = backup_id or "none"
        # Weighed before any account is placed: the load each KAM carried when the event came.
        for candidate in candidates:
            inputs[f"kam {candidate.member.member_id}"] = self._kam_inputs(candidate)
        placements = self._place(accounts, team, candidates, backup_id=backup_id)
        for placement in placements:
            account = placement.account
            inputs[f"account {account.id}"] = {
                "name": account.name,
                "tier": account.tier.value if account.tier else "none",
                "weight": placement.weight,
                "from": account.kam_id or "none",
                "to": placement.kam.member.member_id,
                "via": placement.via,
            }
        over = [p.account.id for p in placements if p.over_capacity]
        inputs["over_capacity"] = over or "none"
        actions: list[Action] = [
            AssignKam(
                AccountId(p.account.id),
                TeamId(team.id),
                p.kam.member.member_id,
                p.account.kam_id,
                _account_reason(p, trigger),
            )
            for p in placements
        ]
        if len(placements) == 1:
            outcome = f"assign {placements[0].kam.member.member_id}"
            reason = _account_reason(placements[0], trigger)
        else:
            outcome = f"assign {len(placements)} accounts"
            reason = _summary(placements, trigger)
        return Decision(outcome, reason, inputs, actions)


class AssignmentPolicyV2(AssignmentPolicy):
    """Version 2: among KAMs with room, prefer one who already serves the same industry, then the
    same region; then the lowest load, fewest accounts and earliest joined as in version 1."""

    version: ClassVar[int] = 2
    description: ClassVar[str] = (
        "As version 1, but among the KAMs with room it prefers one already serving a key account "
        "of the same industry, then of the same region, before comparing loads."
    )

    def _rank(self, candidate: _Candidate, account: ClientAccount) -> tuple[Any, ...]:
        return (
            candidate.industries[account.industry] == 0,
            candidate.regions[account.region] == 0,
            *super()._rank(candidate, account),
        )

    def _via(self, candidate: _Candidate, account: ClientAccount) -> str:
        if candidate.industries[account.industry]:
            return f"serves {account.industry}"
        if candidate.regions[account.region]:
            return f"serves {account.region}"
        return "lowest load"

    def _kam_inputs(self, candidate: _Candidate) -> dict[str, object]:
        return {
            **candidate.state(),
            "industries": sorted(candidate.industries),
            "regions": sorted(candidate.regions),
        }


# -- helpers ------------------------------------------------------------------------------------


def _serves(team: Team, member_id: MemberId) -> bool:
    member = team.members.get(member_id)
    return member is not None and member.active and member.role is _KAM


def _unserved(team: Team, world: World) -> list[ClientAccount]:
    """The team's key accounts without a serving KAM, in the order they were registered."""
    return [
        account
        for account in world.accounts(team.id)
        if account.is_key and (account.kam_id is None or not _serves(team, account.kam_id))
    ]


def _account_reason(placement: _Placement, trigger: str) -> str:
    kam = placement.kam
    account = placement.account
    held = f"load {placement.load_before} of {kam.capacity}"
    if placement.via == "backup":
        why = f"to the designated backup {kam.member.name} ({held})"
    elif placement.over_capacity:
        why = (
            f"over capacity: no KAM has room for weight {placement.weight}, so to the "
            f"least-loaded KAM {kam.member.name} ({held})"
        )
    elif placement.via == "lowest load":
        why = f"to {kam.member.name}, the KAM with room and the lowest load ({held})"
    else:
        why = f"to {kam.member.name}, who {placement.via} ({held})"
    return f"{trigger}: {account.name} (weight {placement.weight}) goes {why}"


def _summary(placements: list[_Placement], trigger: str) -> str:
    moves = "; ".join(f"{p.account.name} to {p.kam.member.name} ({p.via})" for p in placements)
    over = sum(p.over_capacity for p in placements)
    tail = f"; {over} over capacity" if over else ""
    return f"{trigger}: {len(placements)} key accounts move: {moves}{tail}"


def _nobody(team: Team, accounts: list[ClientAccount], trigger: str) -> Decision:
    names = ", ".join(account.name for account in accounts)
    reason = f"{trigger}, but team {team.name} has no active KAM: {names} stay without one"
    inputs: dict[str, object] = {
        "trigger": trigger,
        "team": team.id,
        "kams": "none",
        "unassigned": [account.id for account in accounts],
    }
    return Decision("flag", reason, inputs)
