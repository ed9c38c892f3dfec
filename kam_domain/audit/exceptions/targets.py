"""Targets: revisions after the period closed, evaluations and sign-offs late or missing, and
targets their child targets do not add up to."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, timedelta
from uuid import UUID

from kam_domain.aggregates.target import DecompositionLine, Signatory, Target
from kam_domain.audit.exceptions.findings import EventRef, Finding, FindingKind
from kam_domain.audit.exceptions.reading import Reading
from kam_domain.errors import CurrencyMismatch
from kam_domain.policies.decomposition import DecompositionPolicy
from kam_domain.policies.evaluation import EvaluationPolicy
from kam_domain.zones import add_days

__all__ = ["target_findings"]

#: The period's end is exclusive: the standard in force on its last moment is the one it used.
_LAST_MOMENT = timedelta(microseconds=1)
_SIGNATORIES = {Signatory.KAM: "KAM", Signatory.SUPERVISOR: "supervisor"}


def target_findings(reading: Reading) -> Iterator[Finding]:
    targets = reading.records(reading.app.targets(), reading.app.get_target)
    for target in targets:
        yield from _revisions(reading, target)
        yield from _punctuality(reading, target)
    yield from _decomposition(reading, targets)


def _revisions(reading: Reading, target: Target) -> Iterator[Finding]:
    team = reading.team(target.team_id)
    end = target.period.end if team is None else team.period_end(target.period)
    for revision in target.revisions:
        if not (revision.after_close or revision.at >= end):
            continue
        closed = target.closed_at
        since = (
            f"closed at {closed.isoformat()}"
            if closed is not None and closed <= revision.at
            else f"ended at {end.isoformat()}"
        )
        yield Finding(
            FindingKind.TARGET_REVISED_AFTER_CLOSE,
            revision.at,
            target.id,
            reading.scope_name(target),
            f"goals revised after the period {since}; approved by"
            f" {reading.name(revision.approved_by)}, {revision.approver_role.label};"
            f" reason: {revision.reason}",
            (
                reading.events.ref_to(target.id, revision.version, Target.Revised.__qualname__),
                *reading.events.last(target.id, Target.PeriodClosed),
            ),
        )


def _punctuality(reading: Reading, target: Target) -> Iterator[Finding]:
    """Evaluated and signed off by both within the standard's sign-off days after the
    period's end; missing ones only once that deadline has passed."""
    team = reading.team(target.team_id)
    # The period's end and the deadline on the team's calendar (its zone; UTC unless recorded).
    zone = UTC if team is None else team.zone_for(target.period)
    end = target.period.end_in(zone)
    evaluation = target.latest_evaluation
    if evaluation is None:
        if team is None:
            return
        deadline = add_days(end, team.standard_at(end - _LAST_MOMENT).sign_off_days, zone)
        if reading.moment > deadline:
            yield Finding(
                FindingKind.EVALUATION_LATE,
                deadline,
                target.id,
                reading.scope_name(target),
                f"not evaluated by the deadline {deadline.isoformat()}",
                (
                    *reading.events.refs(target.id, Target.Set),
                    *reading.events.last(target.id, Target.PeriodClosed),
                ),
            )
        return
    deadline = add_days(end, evaluation.standard.sign_off_days, zone)
    number = evaluation.number
    evaluated = reading.events.last(target.id, Target.Evaluated, number=number)
    if evaluation.at > deadline:
        yield Finding(
            FindingKind.EVALUATION_LATE,
            evaluation.at,
            target.id,
            reading.scope_name(target),
            f"evaluation {number} recorded at {evaluation.at.isoformat()}, after the deadline"
            f" {deadline.isoformat()}",
            tuple(evaluated),
        )
    signed = {s.signatory: s for s in target.signatures if s.evaluation_number == number}
    signatures = reading.events.refs(target.id, Target.SignedOff, evaluation_number=number)
    for signatory in Signatory:
        signature = signed.get(signatory)
        if signature is not None and signature.at > deadline:
            yield Finding(
                FindingKind.EVALUATION_LATE,
                signature.at,
                target.id,
                reading.scope_name(target),
                f"evaluation {number} signed off as {_SIGNATORIES[signatory]} by"
                f" {signature.name} at"
                f" {signature.at.isoformat()}, after the deadline {deadline.isoformat()}",
                (*evaluated, *signatures),
            )
    missing = [_SIGNATORIES[s] for s in Signatory if s not in signed]
    if missing and reading.moment > deadline:
        flags = _lapse_flags(reading, target.id, number)
        yield Finding(
            FindingKind.EVALUATION_UNSIGNED,
            deadline,
            target.id,
            reading.scope_name(target),
            f"evaluation {number} (score {evaluation.score}, {evaluation.rating}) without the"
            f" sign-off of the {' and the '.join(missing)} by the deadline"
            f" {deadline.isoformat()}",
            (*evaluated, *signatures, *flags),
        )


def _lapse_flags(reading: Reading, target_id: UUID, number: int) -> list[EventRef]:
    key = f"target {target_id} evaluation {number} sign_off"
    return [
        reading.decision_ref(d)
        for d in reading.decided(EvaluationPolicy.name)
        if d.outcome == "flag" and key in d.inputs
    ]


def _decomposition(reading: Reading, targets: Sequence[Target]) -> Iterator[Finding]:
    children: dict[UUID, list[Target]] = {}
    for target in targets:
        if target.parent_id is not None:
            children.setdefault(target.parent_id, []).append(target)
    for parent in targets:
        parts = children.get(parent.id)
        if not parts:
            continue
        try:
            lines = parent.decomposition(child.current_goals for child in parts)
        except CurrencyMismatch as error:
            off = f"the children cannot be compared with it: {error}"
        else:
            off = "; ".join(_line(line) for line in lines if line.is_gap or line.is_excess)
        if not off:
            continue
        latest = max(parts, key=lambda t: t.modified_on)
        yield Finding(
            FindingKind.DECOMPOSITION_GAP,
            max(parent.modified_on, latest.modified_on),
            parent.id,
            reading.scope_name(parent),
            f"{len(parts)} child target(s) do not add up: {off}",
            (
                *reading.events.last(parent.id, Target.Set),
                *reading.events.last(parent.id, Target.Revised, reading.moment),
                *_decomposition_flags(reading, parent.id),
            ),
        )


def _decomposition_flags(reading: Reading, parent_id: UUID) -> list[EventRef]:
    key = f"parent {parent_id}"
    flags = [d for d in reading.decided(DecompositionPolicy.name) if key in d.inputs]
    return [reading.decision_ref(d) for d in flags[-1:]]


def _line(line: DecompositionLine) -> str:
    word = "gap" if line.is_gap else "excess"
    amount = -line.difference if line.is_gap else line.difference
    return f"{line.metric.value} {word} {amount} (goal {line.goal}, allocated {line.allocated})"
