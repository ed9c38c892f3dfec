"""Events dated back: written long after their effective time (see
:mod:`kam_domain.audit.backdating`, which finds them)."""

from __future__ import annotations

from kam_domain.audit.exceptions.findings import Finding, FindingKind
from kam_domain.audit.exceptions.reading import Reading

__all__ = ["backdated_findings"]


def backdated_findings(reading: Reading) -> list[Finding]:
    """Events dated back, written up to the moment."""
    from kam_domain.audit.backdating import backdated_events

    findings = []
    for found in backdated_events(reading.app, until=reading.moment):
        event, actor = found.event, getattr(found.event, "actor", None)
        member = getattr(actor, "member_id", None)
        who = reading.names.get(member) if member else None
        findings.append(
            Finding(
                FindingKind.BACKDATED,
                found.effective_at,
                event.originator_id,
                f"record {event.originator_id}",
                f"{type(event).__qualname__} by {who or actor}, effective "
                f"{found.effective_at.isoformat()}, written {found.written_at.isoformat()} "
                f"({found.gap} later)",
                (reading.events.ref(event),),
            )
        )
    return findings
