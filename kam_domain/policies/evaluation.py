"""Evaluation (at least every quarter): close each target of a closed period and evaluate it from
the log; flag evaluations whose sign-off or action-plan adjustment misses its deadline.

On :class:`Clock.PeriodClosed` the policy takes every target of that period, team by team (in the
order the teams were formed), within a team the team target first, then member targets, then
account targets, each group in the order the targets were set. A target already closed and
evaluated is left alone; one evaluated by hand but not closed is only closed. Every other target
is closed and evaluated: its actuals are measured from the world with the rules of
:mod:`kam_domain.aggregates.actuals` (the same the facade's ``measure_target`` uses), under the
team's standard in force at the period's last moment. When a metric cannot be measured — nobody
was surveyed, so there is no satisfaction score — the Target aggregate cannot take an evaluation
without it, and the policy does not invent one: it closes the target and reports it "not
evaluable". One decision covers the whole period, with one action per target.

On :class:`Clock.Ticked` it flags (a decision without actions, for the sales director) each
target whose latest evaluation was not signed off by both the KAM and the supervisor within the
standard's ``sign_off_days`` after the period's end, and each whose required action-plan
adjustment was not recorded by then — once per target, evaluation number and kind of lapse.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

import attrs

from kam_domain.aggregates.actuals import AccountFacts, CaseFact, PaymentFact, SurveyFact, measure
from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.aggregates.target import (
    Actual,
    ScopeKind,
    Signatory,
    Target,
    TargetEvaluation,
    score_of,
)
from kam_domain.aggregates.team import EvaluationStandard, Team
from kam_domain.errors import ValidationError
from kam_domain.policies.base import Action, ActionContext, Decision, Policy, render
from kam_domain.policies.parameters import whole_number
from kam_domain.policies.records import Clock
from kam_domain.policies.world import World
from kam_domain.transcoding import restore_tuples
from kam_domain.values import MemberId, Period, Role, Severity

__all__ = ["CloseTargetPeriod", "EvaluateTarget", "EvaluationPolicy", "Lapse"]

#: Within a team: the team's own target, then its members', then its accounts'.
_SCOPE_ORDER = {ScopeKind.TEAM: 0, ScopeKind.MEMBER: 1, ScopeKind.ACCOUNT: 2}
#: The period's end is exclusive; its last moment is one microsecond before.
_LAST_MOMENT = timedelta(microseconds=1)
#: The events actuals are measured from (a tuple, not a union: learn sees every event).
_FACT_EVENTS = (
    ClientAccount.PaymentReceived,
    ClientAccount.CaseOpened,
    ClientAccount.CaseAcknowledged,
    ClientAccount.SatisfactionSurveyed,
)
_SLA_PARAMETERS = {
    Severity.CRITICAL: "sla_hours_critical",
    Severity.HIGH: "sla_hours_high",
    Severity.MEDIUM: "sla_hours_medium",
    Severity.LOW: "sla_hours_low",
}
_SIGN_OFF = "sign_off"
_ACTION_PLAN = "action_plan"


# -- actions -----------------------------------------------------------------------------------


@attrs.frozen
class CloseTargetPeriod(Action):
    """Record that the target's period has closed (when nobody has meanwhile)."""

    aggregate_id: UUID

    def apply(self, aggregate: Any, meta: Meta, context: ActionContext) -> None:
        target: Target = aggregate
        if target.closed_at is None:
            target.close_period(meta, None)

    def describe(self) -> str:
        return f"close the period of target {self.aggregate_id}"


@attrs.frozen
class EvaluateTarget(Action):
    """Close the target's period if still open, then evaluate it with the measured actuals.

    A close or an evaluation recorded by hand since the decision stands: the action closes only
    an open period and evaluates only a target nobody has evaluated, so one target's manual step
    does not refuse the evaluation of the period's other targets.
    """

    aggregate_id: UUID
    standard: EvaluationStandard
    actuals: tuple[Actual, ...]

    def apply(self, aggregate: Any, meta: Meta, context: ActionContext) -> None:
        target: Target = aggregate
        if target.closed_at is None:
            target.close_period(meta, None)
        if target.latest_evaluation is None:
            target.evaluate(meta, None, self.standard, actuals=self.actuals)

    def describe(self) -> str:
        actuals = ", ".join(f"{a.metric.value} {a.value}" for a in self.actuals)
        return f"close the period of target {self.aggregate_id} and evaluate it: {actuals}"


# -- what a tick finds overdue -----------------------------------------------------------------


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


# -- the policy --------------------------------------------------------------------------------


class EvaluationPolicy(Policy):
    """Close and evaluate a closed period's targets from the log; flag late sign-offs."""

    name: ClassVar[str] = "evaluation"
    version: ClassVar[int] = 1
    handles = (Clock.PeriodClosed, Clock.Ticked)
    description: ClassVar[str] = (
        "When a period closes, close and evaluate each of its targets from the log under the "
        "standard in force; flag evaluations not signed off, or without the required "
        "action-plan adjustment, within the standard's sign-off days."
    )
    parameters: ClassVar[Mapping[str, Any]] = {
        "sla_hours_critical": 4,
        "sla_hours_high": 24,
        "sla_hours_medium": 48,
        "sla_hours_low": 72,
    }

    def __init__(self) -> None:
        #: Per account, the events actuals are measured from (event ids are not in the records).
        self._facts: dict[UUID, AccountFacts] = {}
        #: Lapses found at earlier ticks: each is flagged once.
        self._lapsed: set[tuple[UUID, int, str]] = set()
        #: Per tick that found new lapses, those lapses (so a retried tick decides the same).
        self._new_lapses: dict[UUID, tuple[Lapse, ...]] = {}
        #: Evaluated targets to look at again at the first tick past their sign-off deadline,
        #: as (deadline, target id): whether a target has lapsed depends on its own record
        #: alone, so it needs looking at only once its deadline has passed and again after it
        #: changes, not at every tick.
        self._to_check: list[tuple[datetime, UUID]] = []
        #: Cells changed since the engine last asked (see :meth:`learned`).
        self._touched: set[str] = set()

    def learned(self, *, everything: bool = False) -> dict[str, Any] | None:
        keys = self._touched
        if everything:
            keys = {f"facts:{account_id}" for account_id in self._facts}
            keys.update(f"lapses:{tick}" for tick in self._new_lapses)
            keys.update(("lapsed", "to_check"))
        self._touched = set()
        return {key: self._cell(key) for key in keys}

    def _cell(self, key: str) -> Any:
        kind, _, ident = key.partition(":")
        if kind == "facts":
            facts = self._facts[UUID(ident)]
            return {
                "payments": [list(attrs.astuple(f, recurse=False)) for f in facts.payments],
                "cases": [list(attrs.astuple(f, recurse=False)) for f in facts.cases.values()],
                "surveys": [list(attrs.astuple(f, recurse=False)) for f in facts.surveys],
            }
        if kind == "lapses":
            return [
                [lapse.target_id, lapse.evaluation_number, lapse.kind, lapse.facts]
                for lapse in self._new_lapses[UUID(ident)]
            ]
        if kind == "lapsed":
            return sorted([list(key) for key in self._lapsed], key=str)
        return [[deadline, target_id] for deadline, target_id in self._to_check]

    def restore(self, cells: Mapping[str, Any]) -> None:
        for key, value in cells.items():
            kind, _, ident = key.partition(":")
            if kind == "facts":
                facts = AccountFacts(UUID(ident))
                facts.payments = [PaymentFact(*row) for row in value["payments"]]
                facts.cases = {row[0]: CaseFact(*row) for row in value["cases"]}
                facts.surveys = [SurveyFact(*row) for row in value["surveys"]]
                self._facts[facts.account_id] = facts
            elif kind == "lapses":
                self._new_lapses[UUID(ident)] = tuple(
                    Lapse(target_id, int(number), lapse_kind, restore_tuples(facts))
                    for target_id, number, lapse_kind, facts in value
                )
            elif kind == "lapsed":
                self._lapsed = {
                    (target_id, int(n), lapse_kind) for target_id, n, lapse_kind in value
                }
            else:
                # Kept as a heap: the list as it was is a heap already.
                self._to_check = [(deadline, target_id) for deadline, target_id in value]

    # -- learning ------------------------------------------------------------------------------

    def learn(self, event: Any, world: World) -> None:
        if isinstance(event, _FACT_EVENTS):
            account_id = event.originator_id
            facts = self._facts.setdefault(account_id, AccountFacts(account_id))
            facts.learn(event)
            self._touched.add(f"facts:{account_id}")
        elif isinstance(event, Clock.Ticked):
            # Worked out here rather than in decide: whether a lapse is new depends on every
            # earlier tick, which only the log, seen in order, can say.
            found = [
                lapse
                for lapse in _lapses(world, event.timestamp, self._due(world, event.timestamp))
                if lapse.key not in self._lapsed
            ]
            self._lapsed.update(lapse.key for lapse in found)
            self._touched.add("to_check")
            if found:
                self._new_lapses[event.event_id] = tuple(found)
                self._touched.update(("lapsed", f"lapses:{event.event_id}"))
        else:
            self._schedule(world.get(event.originator_id, Target))

    def _schedule(self, target: Target | None) -> None:
        evaluation = None if target is None else target.latest_evaluation
        if target is not None and evaluation is not None:
            heapq.heappush(self._to_check, (_deadline(target, evaluation), target.id))
            self._touched.add("to_check")

    def _due(self, world: World, now: datetime) -> list[Target]:
        """The targets to look at for lapses at a tick at ``now``."""
        due: dict[UUID, None] = {}
        while self._to_check and self._to_check[0][0] < now:
            due[heapq.heappop(self._to_check)[1]] = None
        targets = []
        for target_id in due:
            target = world.get(target_id, Target)
            if target is None:
                continue
            if world.team(target.team_id) is None:
                # Not among the teams' targets yet: looked at again at the next tick.
                self._schedule(target)
                continue
            targets.append(target)
        return targets

    # -- deciding ------------------------------------------------------------------------------

    def decide(self, event: Any, world: World) -> Decision | None:
        if isinstance(event, Clock.PeriodClosed):
            return self._evaluate(event.period, world)
        if isinstance(event, Clock.Ticked):
            return _flag(self._new_lapses.get(event.event_id, ()))
        return None

    def _evaluate(self, period: Period, world: World) -> Decision | None:
        windows = self._windows(world)
        inputs: dict[str, object] = {
            "period": period,
            "sla_hours": {s.value: self._hours(world, s) for s in _SLA_PARAMETERS},
        }
        actions: list[Action] = []
        counts = {"evaluate": 0, "close": 0, "not evaluable": 0}
        for team in world.teams():
            targets = _in_order(world.targets(team.id, period))
            if not targets:
                continue
            standard = team.standard_at(period.end - _LAST_MOMENT)
            inputs[f"standard {team.id}"] = _standard(standard)
            for target in targets:
                kind, line, action = self._plan(world, target, standard, windows)
                inputs[f"target {target.id}"] = line
                if kind is not None:
                    counts[kind] += 1
                if action is not None:
                    actions.append(action)
        if not any(counts.values()):
            return None
        outcome = "; ".join(f"{kind} {n}" for kind, n in counts.items() if n)
        return Decision(
            outcome=outcome,
            reason=_evaluation_reason(period, counts),
            inputs=inputs,
            actions=actions,
        )

    def _plan(
        self,
        world: World,
        target: Target,
        standard: EvaluationStandard,
        windows: Mapping[Severity, timedelta],
    ) -> tuple[str | None, dict[str, object], Action | None]:
        """What to do with one target: how it counts, what the decision says, the action."""
        closed, evaluated = target.closed_at is not None, bool(target.evaluations)
        line: dict[str, object] = {"scope": target.scope}
        if evaluated:
            line["action"] = (
                "none: already closed and evaluated" if closed else "close: already evaluated"
            )
            return (None, line, None) if closed else ("close", line, CloseTargetPeriod(target.id))
        accounts = _scope_accounts(world, target, target.period)
        facts = [self._facts.get(a.id) or AccountFacts(a.id) for a in accounts]
        measured = measure(target.current_goals, facts, target.period, windows)
        line["accounts"] = [a.id for a in accounts]
        for goal in target.current_goals:
            line[f"{goal.metric.value} goal"] = goal.value
        for actual in measured.actuals:
            line[f"{actual.metric.value} actual"] = actual.value
            line[f"{actual.metric.value} events"] = list(actual.source_event_ids)
        problem = _unevaluable(target, measured.unmeasured, measured.actuals, standard)
        if problem is not None:
            line["action"] = f"not evaluable: {problem}"
            return "not evaluable", line, None if closed else CloseTargetPeriod(target.id)
        score = score_of(target.current_goals, measured.actuals, standard)
        line["score"] = score
        line["rating"] = standard.rating(score)
        line["action plan required"] = "yes" if score < standard.action_threshold else "no"
        line["action"] = "evaluate" if closed else "close and evaluate"
        return "evaluate", line, EvaluateTarget(target.id, standard, measured.actuals)

    # -- parameters ----------------------------------------------------------------------------

    def _hours(self, world: World, severity: Severity) -> int:
        return whole_number(self.settings(world), _SLA_PARAMETERS[severity])

    def _windows(self, world: World) -> dict[Severity, timedelta]:
        return {severity: timedelta(hours=self._hours(world, severity)) for severity in Severity}


# -- helpers: evaluation -----------------------------------------------------------------------


def _in_order(targets: Iterable[Target]) -> list[Target]:
    """Team, member, account targets; within each, the order they were set (sort is stable)."""
    return sorted(targets, key=lambda target: _SCOPE_ORDER[target.scope.kind])


def _scope_accounts(world: World, target: Target, period: Period) -> list[ClientAccount]:
    """The account itself; a member's accounts at the period's last moment; the team's all."""
    accounts = world.accounts(target.team_id)
    if target.scope.kind is ScopeKind.ACCOUNT:
        return [a for a in accounts if a.id == target.scope.id]
    if target.scope.kind is ScopeKind.MEMBER:
        last_moment = period.end - _LAST_MOMENT
        return [a for a in accounts if a.accountable_kam_at(last_moment) == target.scope.id]
    return accounts


def _unevaluable(
    target: Target,
    unmeasured: Sequence[Any],
    actuals: Sequence[Actual],
    standard: EvaluationStandard,
) -> str | None:
    """Why the target cannot be evaluated as it stands, or None when it can."""
    if unmeasured:
        names = ", ".join(metric.value for metric in unmeasured)
        return f"the log has nothing to measure {names} by in {target.period}"
    try:
        score_of(target.current_goals, actuals, standard)
    except ValidationError as error:
        return str(error)
    return None


def _standard(standard: EvaluationStandard) -> dict[str, object]:
    return {
        "weights": {metric.value: weight for metric, weight in standard.weights},
        "bands": {band.rating: band.min_score for band in standard.bands},
        "action threshold": standard.action_threshold,
        "sign-off days": standard.sign_off_days,
    }


def _evaluation_reason(period: Period, counts: Mapping[str, int]) -> str:
    parts = [f"{period} closed"]
    if counts["evaluate"]:
        parts.append(
            f"{counts['evaluate']} target(s) evaluated from the log under the standard in force "
            "at the period's end"
        )
    if counts["close"]:
        parts.append(f"{counts['close']} target(s) evaluated by hand only closed")
    if counts["not evaluable"]:
        parts.append(
            f"{counts['not evaluable']} target(s) not evaluable: a metric they set has nothing "
            "in the log to measure it by"
        )
    return "; ".join(parts)


# -- helpers: lapses ---------------------------------------------------------------------------


def _lapses(world: World, now: datetime, targets: Iterable[Target]) -> list[Lapse]:
    """The lapses of ``targets`` at ``now``: each latest evaluation whose sign-off or required
    adjustment missed its deadline; teams in the order they were formed, each team's targets
    in the order :func:`_in_order` gives."""
    found: list[Lapse] = []
    for target in sorted(targets, key=lambda t: _lapse_order(world, t)):
        evaluation = target.latest_evaluation
        team = world.team(target.team_id)
        if evaluation is None or team is None:
            continue
        deadline = _deadline(target, evaluation)
        if now <= deadline:
            continue
        found.extend(_lapses_of(world, team, target, evaluation, deadline))
    return found


def _lapse_order(world: World, target: Target) -> tuple[int, int, int]:
    team = world.creation_order(target.team_id)
    return team, _SCOPE_ORDER[target.scope.kind], world.creation_order(target.id)


def _deadline(target: Target, evaluation: TargetEvaluation) -> datetime:
    return target.period.end + timedelta(days=evaluation.standard.sign_off_days)


def _lapses_of(
    world: World,
    team: Team,
    target: Target,
    evaluation: TargetEvaluation,
    deadline: datetime,
) -> list[Lapse]:
    number = evaluation.number
    common: dict[str, object] = {
        "scope": target.scope,
        "period": target.period,
        "period end": target.period.end,
        "evaluation": number,
        "evaluated at": evaluation.at,
        "deadline": deadline,
        "sales director": _notified(world, team, target),
    }
    found = []
    signatures = {s.signatory: s for s in target.signatures if s.evaluation_number == number}
    if not all(
        signatory in signatures and signatures[signatory].at <= deadline for signatory in Signatory
    ):
        signed: dict[str, object] = dict(common)
        for signatory in Signatory:
            signature = signatures.get(signatory)
            signed[f"{signatory.value} signed"] = (
                "no"
                if signature is None
                else f"{signature.name} ({signature.member_id}) at {signature.at.isoformat()}"
            )
        found.append(Lapse(target.id, number, _SIGN_OFF, _facts(signed)))
    if evaluation.action_plan_required:
        adjusted = [p for p in target.action_plans if p.evaluation_number == number]
        if not any(plan.at <= deadline for plan in adjusted):
            lapse: dict[str, object] = dict(common)
            lapse["score"] = evaluation.score
            lapse["action threshold"] = evaluation.standard.action_threshold
            lapse["action plan adjusted"] = (
                "no" if not adjusted else f"late, at {adjusted[0].at.isoformat()}"
            )
            found.append(Lapse(target.id, number, _ACTION_PLAN, _facts(lapse)))
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


def _flag(lapses: Sequence[Lapse]) -> Decision | None:
    if not lapses:
        return None
    late = sum(1 for lapse in lapses if lapse.kind == _SIGN_OFF)
    missing = len(lapses) - late
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
        for lapse in lapses
    }
    return Decision(outcome="flag", reason="; ".join(parts), inputs=inputs)
