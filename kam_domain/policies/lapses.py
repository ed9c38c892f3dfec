"""What the evaluation policy flags at a tick: evaluations whose sign-off, or whose required
action-plan adjustment, missed its deadline — the standard's sign-off days after the period's
end, counted on the calendar of the team's time zone (UTC unless the team recorded one).

The deciding policy is :class:`~kam_domain.policies.evaluation.EvaluationPolicy`; this module
holds the job of finding and describing the lapses, so that each module does one job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from uuid import UUID

import attrs

from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.aggregates.target import ScopeKind, Signatory, Target, TargetEvaluation
from kam_domain.aggregates.team import Team
from kam_domain.policies.base import Decision, render
from kam_domain.policies.world import World
from kam_domain.values import MemberId, Role
from kam_domain.zones import add_days, is_utc, local_text, zone_name

__all__ = ["ACTION_PLAN", "SCOPE_ORDER", "SIGN_OFF", "Lapse", "deadline", "flag", "lapses"]

#: Within a team: the team's own target, then its members', then its accounts'.
SCOPE_ORDER = {ScopeKind.TEAM: 0, ScopeKind.MEMBER: 1, ScopeKind.ACCOUNT: 2}
SIGN_OFF = "sign_off"
ACTION_PLAN = "action_plan"


@attrs.frozen
class Lapse:
    """A deadline an evaluation missed: its sign-off, or its required action-plan adjustment."""

    target_id: UUID
    evaluation_number: int
    kind: str
    #: What the flag says about it, ready for the decision's inputs.
    facts: tuple[tuple[str, str], ...]

    @property
    def key(self) -> tuple[UUID, int, str]:
        return self.target_id, self.evaluation_number, self.kind


def deadline(team: Team, target: Target, evaluation: TargetEvaluation) -> datetime:
    """The evaluation's sign-off deadline: the standard's sign-off days after the period's end,
    calendar days of the team's zone (in UTC, a day is 24 hours)."""
    zone = team.zone_for(target.period)
    return add_days(target.period.end_in(zone), evaluation.standard.sign_off_days, zone)


def lapses(world: World, now: datetime, targets: Iterable[Target]) -> list[Lapse]:
    """The lapses of ``targets`` at ``now``: each latest evaluation whose sign-off or required
    adjustment missed its deadline; teams in the order they were formed, each team's targets:
    the team's, the members', the accounts', each in the order they were set."""
    found: list[Lapse] = []
    for target in sorted(targets, key=lambda t: _lapse_order(world, t)):
        evaluation = target.latest_evaluation
        team = world.team(target.team_id)
        if evaluation is None or team is None:
            continue
        due = deadline(team, target, evaluation)
        if now <= due:
            continue
        found.extend(_lapses_of(world, team, target, evaluation, due))
    return found


def _lapse_order(world: World, target: Target) -> tuple[int, int, int]:
    team = world.creation_order(target.team_id)
    return team, SCOPE_ORDER[target.scope.kind], world.creation_order(target.id)


def _lapses_of(
    world: World,
    team: Team,
    target: Target,
    evaluation: TargetEvaluation,
    due: datetime,
) -> list[Lapse]:
    number = evaluation.number
    zone = team.zone_for(target.period)
    common: dict[str, object] = {
        "scope": target.scope,
        "period": target.period,
        "period end": local_text(target.period.end_in(zone), zone),
        "evaluation": number,
        "evaluated at": evaluation.at,
        "deadline": local_text(due, zone),
        "sales director": _notified(world, team, target),
    }
    if not is_utc(zone):
        # Named only where it moved the period's end and the deadline: a UTC team's flags
        # read as they always have.
        common["time zone"] = zone_name(zone)
    found = []
    signatures = {s.signatory: s for s in target.signatures if s.evaluation_number == number}
    if not all(
        signatory in signatures and signatures[signatory].at <= due for signatory in Signatory
    ):
        signed: dict[str, object] = dict(common)
        for signatory in Signatory:
            signature = signatures.get(signatory)
            signed[f"{signatory.value} signed"] = (
                "no"
                if signature is None
                else f"{signature.name} ({signature.member_id}) at {signature.at.isoformat()}"
            )
        found.append(Lapse(target.id, number, SIGN_OFF, _facts(signed)))
    if evaluation.action_plan_required:
        adjusted = [p for p in target.action_plans if p.evaluation_number == number]
        if not any(plan.at <= due for plan in adjusted):
            lapse: dict[str, object] = dict(common)
            lapse["score"] = evaluation.score
            lapse["action threshold"] = evaluation.standard.action_threshold
            lapse["action plan adjusted"] = (
                "no" if not adjusted else f"late, at {adjusted[0].at.isoformat()}"
            )
            found.append(Lapse(target.id, number, ACTION_PLAN, _facts(lapse)))
    return found


def _notified(world: World, team: Team, target: Target) -> list[UUID]:
    """Who hears of the lapse: the supervisor of the target's KAM; for a team target, or a KAM
    without a supervisor, the team's senior sales directors."""
    kam_id: UUID | None = None
    if target.scope.kind is ScopeKind.MEMBER:
        kam_id = target.scope.id
    elif target.scope.kind is ScopeKind.ACCOUNT:
        account = world.get(target.scope.id, ClientAccount)
        kam_id = None if account is None else account.accountable_kam
    member = None if kam_id is None else team.members.get(MemberId(kam_id))
    if member is not None and member.supervisor_id is not None:
        return [member.supervisor_id]
    return [m.member_id for m in team.active_members(Role.SENIOR_SALES_DIRECTOR)]


def _facts(values: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
    return tuple((key, render(value)) for key, value in values.items())


def flag(found: Sequence[Lapse]) -> Decision | None:
    """The decision a tick's new lapses make: a flag for the sales director, or None."""
    if not found:
        return None
    late = sum(1 for lapse in found if lapse.kind == SIGN_OFF)
    missing = len(found) - late
    parts = []
    if late:
        parts.append(
            f"{late} evaluation(s) not signed off by both KAM and supervisor within the "
            "standard's sign-off days"
        )
    if missing:
        parts.append(
            f"{missing} evaluation(s) under the action threshold without an action-plan "
            "adjustment by the sign-off deadline"
        )
    inputs = {
        f"target {lapse.target_id} evaluation {lapse.evaluation_number} {lapse.kind}": dict(
            lapse.facts
        )
        for lapse in found
    }
    return Decision(outcome="flag", reason="; ".join(parts), inputs=inputs)
