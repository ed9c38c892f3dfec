"""The policies as they decided before the world kept indexes: every time-driven rule scanned
every record at every tick. Kept as the reference the indexed policies must match exactly —
`kam replay` compares today's decisions with ones recorded by earlier versions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from kam_domain.aggregates.client_account import AccountInvoice, ClientAccount, ClientCase
from kam_domain.aggregates.project import Project
from kam_domain.aggregates.target import Target
from kam_domain.errors import TeamNotFound
from kam_domain.policies import escalation, evaluation, lapses, receivables
from kam_domain.policies.base import Decision, Policy
from kam_domain.policies.escalation import CaseEscalationPolicy, EscalateCase
from kam_domain.policies.evaluation import EvaluationPolicy, Lapse
from kam_domain.policies.parameters import whole_number
from kam_domain.policies.receivables import CollectionsPolicy, FlagOverdue
from kam_domain.policies.records import Clock
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.policies.world import CaseWindow, World
from kam_domain.values import Period, Severity, TeamId


class ScanningWorld(World):
    """A world that answers every question by scanning all the records, as it used to."""

    def accounts(self, team_id: UUID | None = None) -> list[ClientAccount]:
        return [a for a in self.all(ClientAccount) if team_id is None or a.team_id == team_id]

    def projects(self, team_id: UUID | None = None) -> list[Project]:
        return [p for p in self.all(Project) if team_id is None or p.team_id == team_id]

    def targets(
        self,
        team_id: UUID | None = None,
        period: Period | None = None,
        *,
        parent_id: UUID | None = None,
    ) -> list[Target]:
        return [
            t
            for t in self.all(Target)
            if (team_id is None or t.team_id == team_id)
            and (period is None or t.period == period)
            and (parent_id is None or t.parent_id == parent_id)
        ]

    def account_teams(self) -> list[UUID]:
        return list(dict.fromkeys(a.team_id for a in self.accounts()))

    def open_invoices(self, due_before: datetime) -> list[tuple[ClientAccount, AccountInvoice]]:
        return [
            (account, invoice)
            for account in self.accounts()
            for invoice in sorted(account.invoices.values(), key=lambda i: i.issued_at)
            if invoice.overdue_flagged_at is None
            and not invoice.open_balance.is_zero
            and invoice.due_at < due_before
        ]

    def open_cases(self, *windows: CaseWindow) -> list[tuple[ClientAccount, ClientCase]]:
        return [
            (account, case)
            for account in self.accounts()
            for case in sorted(account.cases.values(), key=lambda c: c.opened_at)
            if case.is_open and any(_in(window, case) for window in windows)
        ]


def _in(window: CaseWindow, case: ClientCase) -> bool:
    bucket = (case.status.value == "open", case.severity, case.escalation_level)
    return window.covers(bucket) and case.opened_at < window.opened_before


class ScanningCollections(CollectionsPolicy):
    def decide(self, event: Any, world: World) -> Decision | None:
        now: datetime = event.timestamp
        grace = whole_number(self.settings(world), "grace_days")
        inputs: dict[str, object] = {"at": now, "grace_days": grace}
        actions: list[FlagOverdue] = []
        for account in world.accounts():
            team = world.team(account.team_id)
            for invoice in sorted(account.invoices.values(), key=lambda i: i.issued_at):
                if receivables._due(invoice, now, grace):
                    line = receivables._line(account, team, invoice, now)
                    inputs[f"invoice {invoice.invoice_id}"] = line
                    actions.append(FlagOverdue(account.id, invoice.invoice_id))
        if not actions:
            return None
        count = len(actions)
        reason = (
            f"{count} invoice{'s' if count > 1 else ''} more than {grace} day"
            f"{'' if grace == 1 else 's'} past due at {now.isoformat()}"
            " with a balance open and not yet flagged"
        )
        return Decision(f"flag_overdue {count}", reason, inputs, actions)


class ScanningEscalation(CaseEscalationPolicy):
    def decide(self, event: Any, world: World) -> Decision | None:
        severities = escalation._SEVERITIES
        now: datetime = event.timestamp
        settings = self.settings(world)
        sla = {s: whole_number(settings, f"sla_hours_{s.value}") for s in severities}
        resolve_days = whole_number(settings, "resolve_days")
        inputs: dict[str, object] = {
            "at": now,
            "sla_hours": ", ".join(f"{s.value} {sla[s]}" for s in severities),
            "resolve_days": resolve_days,
        }
        actions: list[EscalateCase] = []
        for account in world.accounts():
            team = world.team(account.team_id)
            if team is None:
                raise TeamNotFound("team_id", account.team_id)
            for case in sorted(account.cases.values(), key=lambda c: c.opened_at):
                due = escalation._due(case, now - case.opened_at, sla, resolve_days)
                if due is None:
                    continue
                level, late = due
                target = (
                    escalation._director(team, account)
                    if level == 2
                    else escalation._supervisor(team, account)
                )
                reason = (
                    f"{case.kind.value} of {case.severity.value} severity opened"
                    f" {case.opened_at.isoformat()} {late}; to {target.member.name}, {target.why}"
                )
                inputs[f"case {case.case_id}"] = escalation._line(account, case, level, target)
                actions.append(
                    EscalateCase(
                        account.id,
                        TeamId(team.id),
                        case.case_id,
                        target.member.member_id,
                        level,
                        reason,
                    )
                )
        if not actions:
            return None
        count = len(actions)
        reason = (
            f"{count} case{'s' if count > 1 else ''} waited beyond the response SLA or the"
            f" resolution time at {now.isoformat()}"
        )
        return Decision(f"escalate_cases {count}", reason, inputs, actions)


class ScanningEvaluation(EvaluationPolicy):
    def learn(self, event: Any, world: World) -> None:
        if isinstance(event, Clock.Ticked):
            found = [
                lapse for lapse in _lapses(world, event.timestamp) if lapse.key not in self._lapsed
            ]
            self._lapsed.update(lapse.key for lapse in found)
            if found:
                self._new_lapses[event.event_id] = tuple(found)
        else:
            super().learn(event, world)


def _lapses(world: World, now: datetime) -> list[Lapse]:
    found: list[Lapse] = []
    for team in world.teams():
        for target in evaluation._in_order(world.targets(team.id)):
            latest = target.latest_evaluation
            if latest is None:
                continue
            deadline = lapses.deadline(team, target, latest)
            if now <= deadline:
                continue
            found.extend(lapses._lapses_of(world, team, target, latest, deadline))
    return found


_REFERENCES: dict[type[Policy], type[Policy]] = {
    CollectionsPolicy: ScanningCollections,
    CaseEscalationPolicy: ScanningEscalation,
    EvaluationPolicy: ScanningEvaluation,
}


def pairs(registry: PolicyRegistry) -> Iterator[tuple[Policy, Policy]]:
    """Each registered policy (every version) with its scanning reference (itself, fresh,
    where nothing changed but the world it asks)."""
    for name in registry.names():
        for version in sorted(registry.versions(name)):
            cls = registry.get(name, version)
            yield cls(), _REFERENCES.get(cls, cls)()


def outcome(policy: Policy, event: Any, world: World) -> object:
    """What the policy decides, or the error it raises (which the engine would park)."""
    try:
        return policy.decide(event, world)
    except Exception as error:  # an error is an outcome to compare: the engine parks it
        return f"{type(error).__name__}: {error}"


def compare_log(recorder: Any, mapper: Any, registry: PolicyRegistry) -> dict[str, int]:
    """Fold the log into an indexed world and a scanning one, ask each policy and its reference
    about every event they handle, and fail at the first difference; returns how many decisions
    (not None) each policy made."""
    indexed, scanning = World(), ScanningWorld()
    policies = list(pairs(registry))
    decided: dict[str, int] = {}
    start = 1
    while page := recorder.select_notifications(start=start, limit=500):
        for notification in page:
            event = mapper.to_domain_event(notification)
            indexed.fold(event, notification.id)
            scanning.fold(event, notification.id)
            for policy, reference in policies:
                policy.learn(event, indexed)
                reference.learn(event, scanning)
            if isinstance(event, Clock.Ticked):
                _same_questions(event.timestamp, indexed, scanning)
            for policy, reference in policies:
                if not isinstance(event, policy.handles):
                    continue
                got = outcome(policy, event, indexed)
                wanted = outcome(reference, event, scanning)
                assert got == wanted, f"{policy.key()} at {notification.id}: {got} != {wanted}"
                if got is not None:
                    decided[policy.key()] = decided.get(policy.key(), 0) + 1
        start = page[-1].id + 1
    return decided


def _same_questions(now: datetime, indexed: World, scanning: ScanningWorld) -> None:
    """The world's indexed answers are the scans' answers, for a few windows around ``now``."""
    for days in (0, 1, 3, 7, 30):
        moment = now - timedelta(days=days)
        assert indexed.open_invoices(moment) == scanning.open_invoices(moment)
        for window in _windows(moment):
            assert indexed.open_cases(window) == scanning.open_cases(window)
        assert indexed.open_cases(*_windows(moment)) == scanning.open_cases(*_windows(moment))
    assert indexed.account_teams() == scanning.account_teams()
    for team in scanning.teams():
        assert indexed.accounts(team.id) == scanning.accounts(team.id)
        assert indexed.projects(team.id) == scanning.projects(team.id)
        assert indexed.targets(team.id) == scanning.targets(team.id)


def _windows(moment: datetime) -> list[CaseWindow]:
    return [
        CaseWindow(moment),
        CaseWindow(moment, below_level=2),
        CaseWindow(moment, below_level=1, unacknowledged=True),
        *(
            CaseWindow(moment, below_level=1, unacknowledged=True, severity=severity)
            for severity in Severity
        ),
    ]
