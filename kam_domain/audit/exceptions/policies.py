"""The policies' own record: events a policy could not process (parked), and events attributed
to a policy without a decision of that policy behind them."""

from __future__ import annotations

from collections.abc import Iterator

from kam_domain.audit.attribution import unexplained
from kam_domain.audit.exceptions.findings import Finding, FindingKind
from kam_domain.audit.exceptions.reading import Reading
from kam_domain.policies.records import DeadLetter

__all__ = ["parked_findings", "unexplained_findings"]


def parked_findings(reading: Reading) -> Iterator[Finding]:
    """Dead letters open at the moment (parked by then, not resolved by then)."""
    for letter in reading.app.dead_letters(include_resolved=True):
        if letter.created_on > reading.moment:
            continue
        if letter.resolved and letter.modified_on <= reading.moment:
            continue
        cause = reading.events.at_position(letter.cause_position)
        event = letter.cause_topic.rpartition(":")[2]
        yield Finding(
            FindingKind.PARKED_EVENT,
            letter.created_on,
            letter.id,
            f"policy {letter.policy}@{letter.version}",
            f"{event} at position {letter.cause_position} parked after"
            f" {letter.attempts} attempt(s): {letter.error_type}: {letter.error}",
            (
                *([cause] if cause is not None else []),
                *reading.events.refs(letter.id, DeadLetter.Parked),
                *reading.events.refs(letter.id, DeadLetter.Retried, reading.moment),
            ),
        )


def unexplained_findings(reading: Reading) -> Iterator[Finding]:
    """Events attributed to a policy with no decision record of that policy behind them."""
    app = reading.app
    records = [
        *(("team", team.id, team.name) for team in app.teams()),
        *(("account", account.id, account.name) for account in app.accounts()),
        *(("project", project.id, project.name) for project in app.projects()),
        *(("target", target.id, reading.scope_name(target)) for target in app.targets()),
    ]
    for kind, record_id, name in records:
        events = [e for e in reading.events.of(record_id) if e.timestamp <= reading.moment]
        for found in unexplained(events, reading.decisions):
            event = found.event
            yield Finding(
                FindingKind.POLICY_EVENT_WITHOUT_DECISION,
                event.timestamp,
                record_id,
                name if kind == "target" else f"{kind} {name}",
                f"{type(event).__qualname__} by {event.actor}: {found.problem}",
                (reading.events.ref(event),),
            )
