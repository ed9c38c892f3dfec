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
adjustment was not recorded by then — once per target, evaluation number and kind of lapse
(found and described by :mod:`kam_domain.policies.lapses`).

A team's periods are read on the calendar of its time zone (``Team.zone_for``; UTC unless the
team recorded one): the bounds the actuals are measured within, the last moment that picks the
standard and a member's accounts, and the sign-off deadline. A team in another zone than UTC is
named among the inputs with its zone and the period's local bounds; a UTC team's decision reads
as it always has, so decisions recorded before zones replay unchanged.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any, ClassVar
from uuid import UUID

import attrs

from kam_domain.aggregates.actuals import (
    AccountFacts,
    CaseFact,
    Converter,
    PaymentFact,
    SurveyFact,
    measure,
)
from kam_domain.aggregates.base import Meta
from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.aggregates.target import (
    Actual,
    ScopeKind,
    Target,
    score_of,
)
from kam_domain.aggregates.team import EvaluationStandard, Team
from kam_domain.errors import ExchangeRateMissing, ValidationError
from kam_domain.policies.base import Action, ActionContext, Decision, Policy
from kam_domain.policies.lapses import SCOPE_ORDER, Lapse, deadline, flag, lapses
from kam_domain.policies.parameters import whole_number
from kam_domain.policies.records import Clock
from kam_domain.policies.world import World
from kam_domain.transcoding import restore_tuples
from kam_domain.values import Period, Severity
from kam_domain.zones import DEFAULT_ZONE, is_utc, local_text, zone_name, zone_named

__all__ = ["CloseTargetPeriod", "EvaluateTarget", "EvaluationPolicy", "Lapse"]

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


# -- actions -----------------------------------------------------------------------------------


@attrs.frozen
class CloseTargetPeriod(Action):
    """Record that the target's period has closed (when nobody has meanwhile)."""

    aggregate_id: UUID
    #: The team's time zone the period ended on.
    zone: str = DEFAULT_ZONE

    def apply(self, aggregate: Any, meta: Meta, context: ActionContext) -> None:
        target: Target = aggregate
        if target.closed_at is None:
            target.close_period(meta, None, zone=zone_named(self.zone))

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
    #: The team's time zone the period ended on.
    zone: str = DEFAULT_ZONE

    def apply(self, aggregate: Any, meta: Meta, context: ActionContext) -> None:
        target: Target = aggregate
        zone = zone_named(self.zone)
        if target.closed_at is None:
            target.close_period(meta, None, zone=zone)
        if target.latest_evaluation is None:
            target.evaluate(meta, None, self.standard, actuals=self.actuals, zone=zone)

    def describe(self) -> str:
        actuals = ", ".join(f"{a.metric.value} {a.value}" for a in self.actuals)
        return f"close the period of target {self.aggregate_id} and evaluate it: {actuals}"


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
                for lapse in lapses(world, event.timestamp, self._due(world, event.timestamp))
                if lapse.key not in self._lapsed
            ]
            self._lapsed.update(lapse.key for lapse in found)
            self._touched.add("to_check")
            if found:
                self._new_lapses[event.event_id] = tuple(found)
                self._touched.update(("lapsed", f"lapses:{event.event_id}"))
        elif isinstance(event, Team.TimeZoneSet):
            # The team's deadlines may have moved: each evaluated target is looked at again at
            # its new deadline (a look at the old one finds nothing new, or what is due).
            for target in world.targets(event.originator_id):
                self._schedule(world, target)
        else:
            self._schedule(world, world.get(event.originator_id, Target))

    def _schedule(self, world: World, target: Target | None) -> None:
        evaluation = None if target is None else target.latest_evaluation
        team = None if target is None else world.team(target.team_id)
        if target is not None and evaluation is not None:
            # A target is set for a team the world holds; without it, the UTC deadline.
            due = (
                target.period.end + timedelta(days=evaluation.standard.sign_off_days)
                if team is None
                else deadline(team, target, evaluation)
            )
            heapq.heappush(self._to_check, (due, target.id))
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
                self._schedule(world, target)
                continue
            targets.append(target)
        return targets

    # -- deciding ------------------------------------------------------------------------------

    def decide(self, event: Any, world: World) -> Decision | None:
        if isinstance(event, Clock.PeriodClosed):
            return self._evaluate(event.period, world)
        if isinstance(event, Clock.Ticked):
            return flag(self._new_lapses.get(event.event_id, ()))
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
            zone = team.zone_for(period)
            start, end = period.start_in(zone), period.end_in(zone)
            if not is_utc(zone):
                # Named only where it moved the period's bounds: a UTC team's inputs read as
                # they did before teams recorded zones.
                inputs[f"time zone {team.id}"] = (
                    f"{zone_name(zone)}: {period} from {local_text(start, zone)} "
                    f"to {local_text(end, zone)}"
                )
            standard = team.standard_at(end - _LAST_MOMENT)
            inputs[f"standard {team.id}"] = _standard(standard)
            for target in targets:
                kind, line, action = self._plan(
                    world, target, standard, windows, zone, team.converter()
                )
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
        zone: tzinfo,
        convert: Converter | None,
    ) -> tuple[str | None, dict[str, object], Action | None]:
        """What to do with one target: how it counts, what the decision says, the action."""
        closed, evaluated = target.closed_at is not None, bool(target.evaluations)
        line: dict[str, object] = {"scope": target.scope}
        if evaluated:
            line["action"] = (
                "none: already closed and evaluated" if closed else "close: already evaluated"
            )
            close = CloseTargetPeriod(target.id, zone_name(zone))
            return (None, line, None) if closed else ("close", line, close)
        accounts = _scope_accounts(world, target, target.period, zone)
        facts = [self._facts.get(a.id) or AccountFacts(a.id) for a in accounts]
        line["accounts"] = [a.id for a in accounts]
        try:
            measured = measure(target.current_goals, facts, target.period, windows, zone, convert)
        except ExchangeRateMissing as error:
            # Never a silent 1:1: the target waits for the rate, closed, for a director.
            line["action"] = f"not evaluable: {error}"
            waiting = None if closed else CloseTargetPeriod(target.id, zone_name(zone))
            return "not evaluable", line, waiting
        for goal in target.current_goals:
            line[f"{goal.metric.value} goal"] = goal.value
        for actual in measured.actuals:
            line[f"{actual.metric.value} actual"] = actual.value
            line[f"{actual.metric.value} events"] = list(actual.source_event_ids)
        if measured.conversions:
            # Named only where a payment converted: a team without a reporting currency, or
            # paid in the goal's currency only, reads as before currencies were recorded.
            line["sales_revenue conversions"] = [
                f"{c.payment_event_id}: {c.amount} at {c.rate} = {c.converted}"
                for c in measured.conversions
            ]
        problem = _unevaluable(target, measured.unmeasured, measured.actuals, standard)
        if problem is not None:
            line["action"] = f"not evaluable: {problem}"
            return (
                "not evaluable",
                line,
                (None if closed else CloseTargetPeriod(target.id, zone_name(zone))),
            )
        score = score_of(target.current_goals, measured.actuals, standard)
        line["score"] = score
        line["rating"] = standard.rating(score)
        line["action plan required"] = "yes" if score < standard.action_threshold else "no"
        line["action"] = "evaluate" if closed else "close and evaluate"
        return (
            "evaluate",
            line,
            EvaluateTarget(target.id, standard, measured.actuals, zone_name(zone)),
        )

    # -- parameters ----------------------------------------------------------------------------

    def _hours(self, world: World, severity: Severity) -> int:
        return whole_number(self.settings(world), _SLA_PARAMETERS[severity])

    def _windows(self, world: World) -> dict[Severity, timedelta]:
        return {severity: timedelta(hours=self._hours(world, severity)) for severity in Severity}


# -- helpers: evaluation -----------------------------------------------------------------------


def _in_order(targets: Iterable[Target]) -> list[Target]:
    """Team, member, account targets; within each, the order they were set (sort is stable)."""
    return sorted(targets, key=lambda target: SCOPE_ORDER[target.scope.kind])


def _scope_accounts(
    world: World, target: Target, period: Period, zone: tzinfo
) -> list[ClientAccount]:
    """The account itself; a member's accounts at the period's last moment (on the team's
    calendar); the team's all."""
    accounts = world.accounts(target.team_id)
    if target.scope.kind is ScopeKind.ACCOUNT:
        return [a for a in accounts if a.id == target.scope.id]
    if target.scope.kind is ScopeKind.MEMBER:
        last_moment = period.end_in(zone) - _LAST_MOMENT
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
