"""What ``kam demo`` prints: the demo team's record, read back from the store."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs

from kam_domain.aggregates.target import RevenueGoal, ScopeKind, Target, TargetScope
from kam_domain.application import KamApplication
from kam_domain.values import CaseKind, Money, Period, Role, Severity, Tier

__all__ = ["DemoSummary", "summarise"]

#: How the summary counts a late acknowledgement (the case-escalation policy's defaults).
_WINDOWS = {
    Severity.CRITICAL: timedelta(hours=4),
    Severity.HIGH: timedelta(hours=24),
    Severity.MEDIUM: timedelta(hours=48),
    Severity.LOW: timedelta(hours=72),
}


@attrs.frozen
class DemoSummary:
    """What the demo store holds, as lines a person reads."""

    lines: tuple[str, ...]

    def render(self) -> str:
        return "\n".join(self.lines)


def summarise(
    app: KamApplication, team_id: UUID, quarter: Period, currency: str, note: str
) -> DemoSummary:
    team = app.get_team(team_id)
    names = {member_id: member.name for member_id, member in team.members.items()}
    lines = [note, ""]
    members = team.active_members()
    lines.append(
        f"Team: {team.name} ({team.segment}, {team.region}) — {len(members)} members in "
        f"{len({m.role for m in members})} roles"
    )
    accounts = app.accounts(team_id)
    key = [a for a in accounts if a.is_key]
    tiers = Counter(a.tier.value for a in key if a.tier is not None)
    by_policy = sum(1 for a in key if _by_policy(a))
    lines.append(
        f"Key accounts: {len(key)} ("
        + ", ".join(f"{tiers[t.value]} {t.value}" for t in Tier)
        + f"); assigned by the assignment policy: {by_policy}; without a KAM: "
        + str(sum(a.accountable_kam is None for a in key))
    )
    lines.append(f"  {'KAM':<12} {'accounts':>8} {'load':>5} {'capacity':>8}  backup")
    for member in team.active_members(Role.KEY_ACCOUNT_MANAGER):
        mine = [a for a in key if a.accountable_kam == member.member_id]
        load = sum(team.tier_weights.of(a.tier) for a in mine if a.tier is not None)
        backup = names.get(member.backup_id, "—") if member.backup_id else "—"
        lines.append(
            f"  {member.name:<12} {len(mine):>8} {load:>5} "
            f"{team.capacity_of(member.member_id):>8}  {backup}"
        )

    lines.append("")
    projects = app.projects(team_id)
    requests = [(p, r) for p in projects for r in p.discount_requests.values()]
    outcomes = Counter(_outcome(request) for _, request in requests)
    lines.append(
        f"Projects: {len(projects)} — discount requests: {len(requests)} ("
        + ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
        + ")"
    )
    lines.append(f"  {'project':<28} {'asked':>6}  {'decision':<9} by (authority in force)")
    for project, request in requests:
        decision = request.decision
        by = f"waiting for a {request.escalated_to.label}" if request.escalated_to else "—"
        if decision is not None and decision.credentials is not None:
            who = decision.credentials
            held = who.discount_authority or "none"
            by = f"{who.name}, {who.role.label} ({held})"
            if decision.decided_by != "manual":
                by += f" — policy {decision.decided_by}"
        lines.append(
            f"  {project.name[:28]:<28} {request.percentage!s:>6}  {_outcome(request):<9} {by}"
        )
    for project in projects:
        for quote in project.quotes.values():
            if quote.is_confirmed:
                lines.append(
                    f"  procurement: {quote.vendor} for {project.name}: "
                    f"net {quote.net_cost} confirmed"
                )

    lines.append("")
    invoices = [(a, i) for a in accounts for i in a.invoices.values()]
    paid_late = sum(
        1
        for a, i in invoices
        for p in a.payments.values()
        if p.invoice_id == i.invoice_id and p.received_at > i.due_at
    )
    overdue = [i for _, i in invoices if i.overdue_flagged_at is not None]
    still_open = sum((i.open_balance.amount for i in overdue), Decimal(0))
    lines.append(
        f"Collections: {len(invoices)} invoices; {len(overdue)} flagged overdue by the "
        f"collections policy ({paid_late} paid late since); {Money(still_open, currency)} "
        "still open"
    )
    cases = [c for a in accounts for c in a.cases.values()]
    late = sum(
        1
        for c in cases
        if c.acknowledged_at is not None and c.acknowledged_at > c.opened_at + _WINDOWS[c.severity]
    )
    lines.append(
        f"Cases: {len(cases)} ({sum(c.kind is CaseKind.COMPLAINT for c in cases)} complaints); "
        f"acknowledged late {late}; escalated by the case-escalation policy "
        f"{sum(c.escalation_level > 0 for c in cases)}; still open "
        f"{sum(c.resolved_at is None for c in cases)}"
    )

    lines.append("")
    targets = app.targets(team_id, quarter)
    lines.append(
        f"Targets {quarter}: {len(targets)} (team → KAM → account), evaluated at the close"
    )
    lines.append(
        f"  {'scope':<28} {'revenue goal':>18} {'actual':>18} {'score':>7} {'rating':<6} "
        "signed off  action plan"
    )
    order = {ScopeKind.TEAM: 0, ScopeKind.MEMBER: 1, ScopeKind.ACCOUNT: 2}
    for target in sorted(targets, key=lambda t: order[t.scope.kind]):
        goal = next(g for g in target.current_goals if isinstance(g, RevenueGoal))
        evaluation = target.latest_evaluation
        actual = evaluation.actual(goal.metric) if evaluation else None
        lines.append(
            f"  {_scope_name(app, target.scope, names)[:28]:<28} {goal.value!s:>18} "
            f"{(str(actual.value) if actual else '—'):>18} "
            f"{(str(evaluation.score) if evaluation else '—'):>7} "
            f"{(evaluation.rating if evaluation else '—'):<6} "
            f"{'yes' if target.is_signed_off else 'no':<10}  {_action_plan(target)}"
        )

    lines.extend(_pipeline(app, team_id, quarter))

    lines.append("")
    decisions = app.decisions()
    counts = Counter(d.policy for d in decisions)
    lines.append(
        f"Policy decisions: {len(decisions)} ("
        + ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
        + f"); parked events: {len(app.dead_letters())}"
    )
    # A flag is a decision without actions: recorded and reported, changing nothing else.
    flags = Counter(d.policy for d in decisions if not d.actions and d.outcome.startswith("flag"))
    if flags:
        lines.append(
            "  flags raised: " + ", ".join(f"{name} {n}" for name, n in sorted(flags.items()))
        )
    lines.append(f"Events recorded in the store: {app.recorder.max_notification_id() or 0}")
    return DemoSummary(tuple(lines))


def _pipeline(app: KamApplication, team_id: UUID, quarter: Period) -> list[str]:
    """The pipeline's opportunities and the quarter's forecast for the team."""
    from kam_domain.reports.forecast_reading import read_forecast

    opportunities = app.opportunities(team_id)
    if not opportunities:
        return []
    stages = Counter("open" if o.is_open else "won" if o.is_won else "lost" for o in opportunities)
    lines = [
        f"Pipeline: {len(opportunities)} opportunities ("
        + ", ".join(f"{stages[kind]} {kind}" for kind in ("open", "won", "lost"))
        + ")"
    ]
    for line in read_forecast(app, team_id, quarter).team_lines:
        goal = "no revenue goal" if line.goal is None else f"the team's goal {line.goal}"
        lines.append(
            f"  forecast {quarter}: committed {line.committed}, weighted {line.weighted}, "
            f"best case {line.best_case} against {goal}"
        )
    return lines


def _by_policy(account: Any) -> bool:
    return any(entry.decided_by.startswith("policy:") for entry in account.assignment_history)


def _action_plan(target: Target) -> str:
    state = target.action_plan_state()
    if state.missing:
        return "required, missing"
    return "adjusted" if state.required else "—"


def _outcome(request: Any) -> str:
    return "pending" if request.decision is None else str(request.decision.outcome.value)


def _scope_name(app: KamApplication, scope: TargetScope, names: dict[Any, str]) -> str:
    if scope.kind is ScopeKind.TEAM:
        return "team"
    if scope.kind is ScopeKind.MEMBER:
        return f"KAM {names.get(scope.id, scope.id)}"
    return app.get_account(scope.id).name
