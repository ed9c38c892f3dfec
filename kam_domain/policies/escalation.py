"""Case escalation (fast response): at each recorded clock tick, client cases that wait too long
are escalated.

- Level 1: a case still not acknowledged when its severity's SLA (hours from opening) has passed
  goes to the accountable KAM's supervisor; when the account has no KAM or the KAM no active
  supervisor, to the team's senior admin manager (admin staff supervise response times); when
  there is none, to a sales director (the first active one, else the first senior one).
- Level 2: a case still unresolved ``resolve_days`` after opening goes to a sales director: the
  KAM's supervisor when that is an active director of either grade, else the team's first senior
  sales director.

Complaints and inquiries alike: the service level the team is evaluated on counts both, and a
client waiting for an answer to a question is waiting all the same.

Each case is escalated at most once per level, and never back down: a case already escalated to
a level (by hand or by this policy) is not escalated to it again. When both levels fall due at the
same tick (no tick came in between), the case goes straight to level 2. One decision per tick
carries one action per escalation, accounts in the order they were registered and each account's
cases in the order they were opened. Members are chosen in the order they joined the team.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

import attrs

from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.client_account import CaseStatus, ClientAccount, ClientCase
from kam_domain.aggregates.team import Member, Team
from kam_domain.errors import InvalidTransition, TeamNotFound
from kam_domain.policies.base import Action, ActionContext, Decision, Policy
from kam_domain.policies.parameters import whole_number
from kam_domain.policies.records import Clock
from kam_domain.policies.world import CaseWindow, World
from kam_domain.values import CaseId, MemberId, Role, Severity, TeamId

__all__ = ["CaseEscalationPolicy", "EscalateCase"]


@attrs.frozen
class EscalateCase(Action):
    """Escalate one case of one account to a member, at ``level``."""

    aggregate_id: UUID
    team_id: TeamId
    case_id: CaseId
    to_id: MemberId
    level: int
    reason: str

    def apply(self, aggregate: Any, meta: Meta, context: ActionContext) -> None:
        if not isinstance(aggregate, ClientAccount):
            raise TypeError(f"a case escalation applies to a ClientAccount, not {aggregate!r}")
        to = context.credentials(self.team_id, self.to_id, meta.at)
        aggregate.escalate_case(meta, None, to, self.case_id, level=self.level, reason=self.reason)

    def describe(self) -> str:
        return (
            f"escalate case {self.case_id} of account {self.aggregate_id}"
            f" to member {self.to_id} at level {self.level}"
        )


@attrs.frozen
class _Target:
    member: Member
    why: str


class CaseEscalationPolicy(Policy):
    """Escalate cases not acknowledged within their SLA, and cases unresolved for too long."""

    name = "case_escalation"
    version = 1
    handles = (Clock.Ticked,)
    description = (
        "At each clock tick, a case not acknowledged within its severity's SLA is escalated"
        " (level 1) to the KAM's supervisor, else the senior admin manager, else a sales"
        " director; a case unresolved resolve_days after opening is escalated (level 2) to a"
        " sales director."
    )
    parameters: ClassVar[dict[str, Any]] = {
        "sla_hours_critical": 4,
        "sla_hours_high": 24,
        "sla_hours_medium": 48,
        "sla_hours_low": 72,
        "resolve_days": 7,
    }

    def decide(self, event: Any, world: World) -> Decision | None:
        now: datetime = event.timestamp
        settings = self.settings(world)
        sla = {s: whole_number(settings, f"sla_hours_{s.value}") for s in _SEVERITIES}
        resolve_days = whole_number(settings, "resolve_days")
        inputs: dict[str, object] = {
            "at": now,
            "sla_hours": ", ".join(f"{s.value} {sla[s]}" for s in _SEVERITIES),
            "resolve_days": resolve_days,
        }
        actions: list[EscalateCase] = []
        for account, case in _candidates(world, now, sla, resolve_days):
            team = world.team(account.team_id)
            if team is None:
                raise TeamNotFound("team_id", account.team_id)
            due = _due(case, now - case.opened_at, sla, resolve_days)
            if due is None:
                continue
            level, late = due
            target = _director(team, account) if level == 2 else _supervisor(team, account)
            reason = (
                f"{case.kind.value} of {case.severity.value} severity opened"
                f" {case.opened_at.isoformat()} {late}; to {target.member.name}, {target.why}"
            )
            inputs[f"case {case.case_id}"] = _line(account, case, level, target)
            escalation = EscalateCase(
                account.id,
                TeamId(team.id),
                case.case_id,
                target.member.member_id,
                level,
                reason,
            )
            actions.append(escalation)
        if not actions:
            return None
        count = len(actions)
        reason = (
            f"{count} case{'s' if count > 1 else ''} waited beyond the response SLA or the"
            f" resolution time at {now.isoformat()}"
        )
        return Decision(f"escalate_cases {count}", reason, inputs, actions)


#: Most severe first, as the inputs list them.
_SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)


def _candidates(
    world: World, now: datetime, sla: dict[Severity, int], resolve_days: int
) -> list[tuple[ClientAccount, ClientCase]]:
    """The cases that may be due, in the order they are escalated: from the world's index of
    unresolved cases by opening time, so that a tick costs what is due rather than what was
    opened. The accounts' teams are checked first, as the scan of every account did."""
    for team_id in world.account_teams():
        if world.team(team_id) is None:
            raise TeamNotFound("team_id", team_id)
    try:
        windows = [CaseWindow(now - timedelta(days=resolve_days), below_level=2)]
        windows.extend(
            CaseWindow(
                now - timedelta(hours=sla[s]), below_level=1, unacknowledged=True, severity=s
            )
            for s in _SEVERITIES
        )
    except OverflowError:
        # A window beyond datetime's range: such a wait never passes, but the scan is what
        # reports a window too large for a timedelta, as the policy always has.
        return [
            (account, case)
            for account in world.accounts()
            for case in sorted(account.cases.values(), key=lambda c: c.opened_at)
        ]
    return world.open_cases(*windows)


def _due(
    case: ClientCase, age: timedelta, sla: dict[Severity, int], resolve_days: int
) -> tuple[int, str] | None:
    """The level ``case`` is due to be escalated to at ``age``, and why; None when none is."""
    if not case.is_open:
        return None
    if case.escalation_level < 2 and age > timedelta(days=resolve_days):
        return 2, f"unresolved {resolve_days} days after opening"
    hours = sla[case.severity]
    if (
        case.escalation_level < 1
        and case.status is CaseStatus.OPEN
        and age > timedelta(hours=hours)
    ):
        return 1, f"not acknowledged within {hours} hours"
    return None


def _kam_supervisor(team: Team, account: ClientAccount) -> Member | None:
    """The active supervisor recorded for the account's accountable KAM, if any."""
    kam = None if account.kam_id is None else team.members.get(account.kam_id)
    if kam is None or kam.supervisor_id is None:
        return None
    supervisor = team.members.get(kam.supervisor_id)
    return supervisor if supervisor is not None and supervisor.active else None


def _first(team: Team, *roles: Role) -> Member | None:
    """The first active member, in joining order, of the first of ``roles`` that has one."""
    for role in roles:
        members = team.active_members(role)
        if members:
            return members[0]
    return None


def _any_director(team: Team, *order: Role) -> Member:
    member = _first(team, *order)
    if member is None:
        # A team always keeps an active senior sales director; this is a broken log.
        raise InvalidTransition(f"team_id: team {team.name!r} has no active sales director")
    return member


def _supervisor(team: Team, account: ClientAccount) -> _Target:
    """Level 1: the KAM's supervisor, else the senior admin manager, else a sales director."""
    supervisor = _kam_supervisor(team, account)
    if supervisor is not None:
        return _Target(supervisor, "the KAM's supervisor")
    admin = _first(team, Role.SENIOR_ADMIN_MANAGER)
    if admin is not None:
        return _Target(admin, "the senior admin manager (the KAM has no supervisor)")
    director = _any_director(team, Role.SALES_DIRECTOR, Role.SENIOR_SALES_DIRECTOR)
    return _Target(director, "a sales director (no supervisor or senior admin manager)")


def _director(team: Team, account: ClientAccount) -> _Target:
    """Level 2: the KAM's supervisor when a director, else the first senior sales director."""
    supervisor = _kam_supervisor(team, account)
    if supervisor is not None and supervisor.role.is_director:
        return _Target(supervisor, "the KAM's supervisor, a sales director")
    director = _any_director(team, Role.SENIOR_SALES_DIRECTOR, Role.SALES_DIRECTOR)
    return _Target(director, f"the first {director.role.label}")


def _line(account: ClientAccount, case: ClientCase, level: int, target: _Target) -> str:
    """What was weighed about one case, and where it goes."""
    acknowledged = (
        "not acknowledged"
        if case.acknowledged_at is None
        else f"acknowledged {case.acknowledged_at.isoformat()}"
    )
    return (
        f"account {account.name} ({account.id}); {case.kind.value}, {case.severity.value};"
        f" opened {case.opened_at.isoformat()}; {acknowledged}; level {case.escalation_level}"
        f" -> {level}; to {target.member.name} ({target.member.member_id}), {target.why}"
    )
