"""The exceptions report: what in the record broke a rule or missed a deadline, as of a moment.

Each :class:`Finding` names its kind, when it happened (or fell due), the record it is about, a
one-line account of what is wrong, and the stored events behind it, with their log positions —
so that ``kam audit trail`` or the export takes the auditor straight to them.

The checks re-derive what the rules say from the record instead of trusting what an event claims
about itself: an approval's authority is read again from the Team as it stood at the moment of
the decision, the floor and the margin from the project as it stood just before the approval.
Commands that would break those rules are refused by the library, so a finding of those kinds
means the log was written behind its back (by hand, or tampered with). The other kinds — late
or missing sign-offs, overdue payments, SLA breaches, coverage and decomposition gaps, parked
events — are what a team that works through the library can still let happen.

``at`` answers as of a moment: records as they stood then (through the as-of index), policy
decisions recorded up to then, and deadlines measured against it. Without it, the records as they
are now, measured against the present.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

import attrs

from kam_domain.aggregates.base import KamAggregate, require_utc, utc_now
from kam_domain.aggregates.base import event_id as _event_id
from kam_domain.aggregates.client_account import AccountInvoice, ClientAccount, ClientCase
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.project import Project
from kam_domain.aggregates.target import DecompositionLine, ScopeKind, Signatory, Target
from kam_domain.aggregates.team import APPROVER_ROLES, Member, Team
from kam_domain.audit.attribution import unexplained
from kam_domain.audit.integrity import paged
from kam_domain.audit.trail import member_names
from kam_domain.errors import CurrencyMismatch, NotFound, ValidationError
from kam_domain.ledger import IndexedRecorder
from kam_domain.policies.coverage import CoverageGap, CoveragePolicy, open_gaps
from kam_domain.policies.decomposition import DecompositionPolicy
from kam_domain.policies.escalation import CaseEscalationPolicy
from kam_domain.policies.evaluation import EvaluationPolicy
from kam_domain.policies.parameters import whole_number
from kam_domain.policies.records import DeadLetter, PolicyDecision, PolicySettings, settings_id
from kam_domain.values import AccountId, ActorKind, MemberId, Percentage, Role, Severity

if TYPE_CHECKING:
    from kam_domain.application import KamApplication

__all__ = ["EventRef", "ExceptionsReport", "Finding", "FindingKind", "exceptions_report"]

A = TypeVar("A", bound=KamAggregate)

#: The period's end is exclusive: the standard in force on its last moment is the one it used.
_LAST_MOMENT = timedelta(microseconds=1)
_PAGE = 1000


class FindingKind(enum.Enum):
    """The kinds of exception the report lists, in the order it lists them."""

    APPROVAL_OUTSIDE_AUTHORITY = "approval_outside_authority"
    SELF_APPROVAL = "self_approval"
    PRICE_UNDER_FLOOR = "price_under_floor"
    MARGIN_UNDER_MINIMUM = "margin_under_minimum"
    EVALUATION_LATE = "evaluation_late"
    EVALUATION_UNSIGNED = "evaluation_unsigned"
    TARGET_REVISED_AFTER_CLOSE = "target_revised_after_close"
    DECOMPOSITION_GAP = "decomposition_gap"
    KEY_ACCOUNT_WITHOUT_KAM = "key_account_without_kam"
    KEY_ACCOUNT_WITHOUT_BACKUP = "key_account_without_backup"
    OVERDUE_PAYMENT = "overdue_payment"
    SLA_BREACH = "sla_breach"
    PARKED_EVENT = "parked_event"
    POLICY_EVENT_WITHOUT_DECISION = "policy_event_without_decision"
    BACKDATED = "backdated"

    @property
    def title(self) -> str:
        """What the kind lists, as a heading."""
        return _TITLES[self]

    @property
    def question(self) -> int | None:
        """The auditor's question this kind answers (numbered as in docs/audit.md), or None for
        a kind that keeps a rule no question names (coverage, collections, response times)."""
        return _QUESTIONS.get(self)


_TITLES = {
    FindingKind.APPROVAL_OUTSIDE_AUTHORITY: "approvals outside the authority then in force",
    FindingKind.SELF_APPROVAL: "self-approvals (decided by the requester)",
    FindingKind.PRICE_UNDER_FLOOR: "prices under the floor",
    FindingKind.MARGIN_UNDER_MINIMUM: "margins under the minimum",
    FindingKind.EVALUATION_LATE: "evaluations or sign-offs after the deadline, or missing",
    FindingKind.EVALUATION_UNSIGNED: "evaluations not signed off by the deadline",
    FindingKind.TARGET_REVISED_AFTER_CLOSE: "targets revised after their period closed",
    FindingKind.DECOMPOSITION_GAP: "targets their child targets do not add up to",
    FindingKind.KEY_ACCOUNT_WITHOUT_KAM: "key accounts without an accountable KAM",
    FindingKind.KEY_ACCOUNT_WITHOUT_BACKUP: "key accounts whose KAM has no cross-trained backup",
    FindingKind.OVERDUE_PAYMENT: "overdue payments",
    FindingKind.SLA_BREACH: "cases not acknowledged within their SLA",
    FindingKind.PARKED_EVENT: "events a policy could not process (parked)",
    FindingKind.POLICY_EVENT_WITHOUT_DECISION: "events attributed to a policy without its decision",
    FindingKind.BACKDATED: "events dated back: written long after their effective time",
}

_QUESTIONS = {
    FindingKind.APPROVAL_OUTSIDE_AUTHORITY: 2,
    FindingKind.SELF_APPROVAL: 2,
    FindingKind.PRICE_UNDER_FLOOR: 2,
    FindingKind.MARGIN_UNDER_MINIMUM: 2,
    FindingKind.EVALUATION_LATE: 4,
    FindingKind.EVALUATION_UNSIGNED: 4,
    FindingKind.TARGET_REVISED_AFTER_CLOSE: 3,
    FindingKind.DECOMPOSITION_GAP: 3,
    FindingKind.KEY_ACCOUNT_WITHOUT_KAM: 1,
    FindingKind.PARKED_EVENT: 7,
    FindingKind.POLICY_EVENT_WITHOUT_DECISION: 7,
}

_ORDER = {kind: index for index, kind in enumerate(FindingKind)}
_SIGNATORIES = {Signatory.KAM: "KAM", Signatory.SUPERVISOR: "supervisor"}


@attrs.frozen
class EventRef:
    """A stored event a finding rests on: its log position, record and version, and type."""

    position: int | None
    record_id: UUID
    version: int
    event: str
    #: What the event is to the finding, when its type does not say (e.g. a policy's flag).
    note: str | None = None

    @property
    def event_id(self) -> UUID:
        """The event's id, as causation ids name it."""
        return _event_id(self.record_id, self.version)

    def as_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "record_id": str(self.record_id),
            "version": self.version,
            "event": self.event,
            "event_id": str(self.event_id),
            "note": self.note,
        }

    def __str__(self) -> str:
        where = f"#{self.position}" if self.position is not None else f"v{self.version}"
        return f"{where} {self.event}" + (f" ({self.note})" if self.note else "")


def _in_log_order(refs: Iterable[EventRef]) -> tuple[EventRef, ...]:
    unique = dict.fromkeys(refs)
    return tuple(sorted(unique, key=lambda ref: (ref.position is None, ref.position or 0)))


@attrs.frozen
class Finding:
    """One exception: what is wrong, about which record, since when, and the events behind it."""

    kind: FindingKind
    #: When it happened, or when it fell due (a deadline, a due date, an SLA window's end).
    at: datetime
    record_id: UUID
    #: The record, as an auditor names it (``project Core banking``, ``account Huaxia Mobile``).
    record: str
    summary: str
    #: In log order.
    events: tuple[EventRef, ...] = attrs.field(converter=_in_log_order)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "title": self.kind.title,
            "question": self.kind.question,
            "at": self.at.isoformat(),
            "record_id": str(self.record_id),
            "record": self.record,
            "summary": self.summary,
            "events": [ref.as_dict() for ref in self.events],
        }


@attrs.frozen
class ExceptionsReport:
    """Every finding as of ``at``, by kind, then time."""

    at: datetime
    #: True when records were read as they stood at ``at``; False: as they are now.
    as_of: bool
    findings: tuple[Finding, ...]

    def of(self, kind: FindingKind) -> list[Finding]:
        return [finding for finding in self.findings if finding.kind is kind]

    def counts(self) -> dict[FindingKind, int]:
        """How many findings of each kind (every kind, zero included)."""
        counts = dict.fromkeys(FindingKind, 0)
        for finding in self.findings:
            counts[finding.kind] += 1
        return counts

    def __bool__(self) -> bool:
        return bool(self.findings)


def exceptions_report(app: KamApplication, *, at: datetime | None = None) -> ExceptionsReport:
    """The exceptions in ``app``'s record as of ``at`` (default: now, on current records).

    Reads only: it runs no policy and records nothing (open the store with
    :func:`kam_domain.audit.records.open_app` to read it without write access).
    """
    moment = None if at is None else require_utc("at", at)
    audit = _Audit(app, moment)
    findings = [
        *audit.projects(),
        *audit.targets(),
        *audit.accounts(),
        *audit.parked(),
        *audit.unexplained(),
    ]
    findings += _backdated(audit)
    findings.sort(key=lambda f: (_ORDER[f.kind], f.at, f.record, f.summary))
    return ExceptionsReport(audit.moment, moment is not None, tuple(findings))


# -- reading the record --------------------------------------------------------------------------


class _Events:
    """Each record's stored events, read once, and their positions in the log."""

    def __init__(self, app: KamApplication) -> None:
        self.app = app
        self._events: dict[UUID, list[Any]] = {}
        self._positions: dict[UUID, dict[int, int]] = {}
        self._scanned: dict[tuple[UUID, int], int] | None = None

    def of(self, record_id: UUID) -> list[Any]:
        if record_id not in self._events:
            self._events[record_id] = list(self.app.repository.event_store.get(record_id))
        return self._events[record_id]

    def ref(self, event: Any, note: str | None = None) -> EventRef:
        return self.ref_to(
            event.originator_id, event.originator_version, type(event).__qualname__, note
        )

    def ref_to(
        self, record_id: UUID, version: int, event: str, note: str | None = None
    ) -> EventRef:
        return EventRef(self.position(record_id, version), record_id, version, event, note)

    def find(
        self, record_id: UUID, cls: type[Any], until: datetime | None = None, **fields: Any
    ) -> list[Any]:
        """The record's events of ``cls`` whose ``fields`` match, up to ``until``."""
        return [
            event
            for event in self.of(record_id)
            if isinstance(event, cls)
            and (until is None or event.timestamp <= until)
            and all(getattr(event, name) == value for name, value in fields.items())
        ]

    def refs(
        self, record_id: UUID, cls: type[Any], until: datetime | None = None, **fields: Any
    ) -> list[EventRef]:
        return [self.ref(event) for event in self.find(record_id, cls, until, **fields)]

    def last(
        self, record_id: UUID, cls: type[Any], until: datetime | None = None, **fields: Any
    ) -> list[EventRef]:
        """The latest matching event, as a list of at most one."""
        return self.refs(record_id, cls, until, **fields)[-1:]

    def position(self, record_id: UUID, version: int) -> int | None:
        recorder = self.app.recorder
        if isinstance(recorder, IndexedRecorder):
            if record_id not in self._positions:
                self._positions[record_id] = {
                    entry.originator_version: entry.position
                    for entry in recorder.timeline(record_id)
                }
            found = self._positions[record_id].get(version)
            if found is not None:
                return found
        return self._scan().get((record_id, version))

    def _scan(self) -> dict[tuple[UUID, int], int]:
        # Events the as-of index does not hold (another adapter, or stored before the index
        # existed): one pass over the log finds them all.
        if self._scanned is None:
            self._scanned = {
                (_uuid(n.originator_id), n.originator_version): n.id
                for n in paged(
                    lambda start: self.app.recorder.select_notifications(start or 1, _PAGE),
                    lambda notification: notification.id,
                )
            }
        return self._scanned

    def at_position(self, position: int) -> EventRef | None:
        """The stored event at ``position`` in the log (None when there is none)."""
        found = self.app.recorder.select_notifications(position, 1)
        if not found or found[0].id != position:
            return None
        notification = found[0]
        name = notification.topic.rpartition(":")[2]
        record_id = _uuid(notification.originator_id)
        return EventRef(position, record_id, notification.originator_version, name)


class _Audit:
    """The checks, sharing one reading of the record."""

    def __init__(self, app: KamApplication, at: datetime | None) -> None:
        self.app = app
        self.as_of = at
        self.moment = at if at is not None else utc_now()
        self.events = _Events(app)
        self.names = member_names(app)
        self.decisions = [d for d in app.decisions() if at is None or d.created_on <= at]
        self._teams: dict[tuple[UUID, datetime | None], Team | None] = {}
        accounts = app.accounts()
        self._accounts = self._records(accounts, app.get_account)
        self.account_names = {account.id: account.name for account in accounts}

    # -- loading -----------------------------------------------------------------------------

    def _records(self, listed: Iterable[A], get: Callable[..., A]) -> list[A]:
        """``listed`` (current records) as they stood at the moment; those not yet recorded
        then are left out."""
        if self.as_of is None:
            return list(listed)
        found = []
        for record in listed:
            try:
                found.append(get(record.id, at=self.as_of))
            except NotFound:
                continue
        return found

    def team(self, team_id: UUID, at: datetime | None = None) -> Team | None:
        """The team at ``at`` (default: at the report's moment), None before it was formed."""
        when = at if at is not None else self.as_of
        key = (team_id, when)
        if key not in self._teams:
            try:
                self._teams[key] = (
                    self.app.get_team(team_id)
                    if when is None
                    else self.app.get_team(team_id, at=when)
                )
            except NotFound:
                self._teams[key] = None
        return self._teams[key]

    def name(self, member_id: UUID | None) -> str:
        if member_id is None:
            return "nobody"
        return self.names.get(member_id, str(member_id))

    def decided(self, policy: str) -> list[PolicyDecision]:
        return [d for d in self.decisions if d.policy == policy]

    def decision_ref(self, decision: PolicyDecision) -> EventRef:
        note = f"{decision.policy}@{decision.version}: {decision.outcome}"
        return self.events.ref_to(decision.id, 1, PolicyDecision.Made.__qualname__, note)

    # -- projects: discount decisions ----------------------------------------------------------

    def projects(self) -> Iterator[Finding]:
        for project in self._records(self.app.projects(), self.app.get_project):
            decided = [r for r in project.discount_requests.values() if r.decision is not None]
            if not decided:
                continue
            before: Project | None = None
            for event in self.events.of(project.id):
                if event.timestamp > self.moment:
                    break
                if before is not None and isinstance(event, Project.DiscountApproved):
                    yield from self._approval(before, event)
                elif before is not None and isinstance(event, Project.DiscountRejected):
                    yield from self._self_decision(before, event, event.rejected_by, "rejected")
                before = event.mutate(before)

    def _approval(self, before: Project, event: Any) -> Iterator[Finding]:
        """One approval, against the project as it stood just before it and the Team then."""
        request = before.discount_requests.get(event.request_id)
        if request is None:
            return
        approver: Credentials = event.approver
        record = f"project {before.name}"
        ref = self.events.ref(event)
        derived, grant = self._authority(before.team_id, approver.member_id, event.timestamp)
        problems = _authority_problems(approver, derived, request.percentage, event.timestamp)
        if problems:
            who = approver.name
            yield Finding(
                FindingKind.APPROVAL_OUTSIDE_AUTHORITY,
                event.timestamp,
                before.id,
                record,
                f"{request.percentage} discount approved by {who}: " + "; ".join(problems),
                (ref, *grant),
            )
        yield from self._self_decision(before, event, approver, "approved")
        band = before.price_band
        if band is None:
            yield Finding(
                FindingKind.PRICE_UNDER_FLOOR,
                event.timestamp,
                before.id,
                record,
                f"{request.percentage} discount approved with no price band, hence no floor",
                (ref,),
            )
            return
        price: Any = event.price
        implied = band.price_after(request.percentage)
        if price < band.floor or implied < band.floor:
            shown = f"{price}" if price == implied else f"{price} (the discount implies {implied})"
            yield Finding(
                FindingKind.PRICE_UNDER_FLOOR,
                event.timestamp,
                before.id,
                record,
                f"{request.percentage} off the list price {band.list_price} approved at {shown},"
                f" under the floor {band.floor} then in force",
                (ref, *self._earlier(event, Project.PriceBandSet)[-1:]),
            )
        if price.is_zero:
            return
        margin = before.margin_at(price)
        minimum = before.minimum_margin
        if margin < minimum.value:
            role = derived.role if derived is not None else approver.role
            rule = "" if role.is_director else ", who is not a sales director as the rule requires"
            costs = [
                *self._earlier(event, Project.QuoteConfirmed),
                *self._earlier(event, Project.CostRecorded),
                *self._earlier(event, Project.MinimumMarginSet)[-1:],
            ]
            yield Finding(
                FindingKind.MARGIN_UNDER_MINIMUM,
                event.timestamp,
                before.id,
                record,
                f"{request.percentage} discount leaves a margin of {_percent(margin)} at {price},"
                f" under the minimum {minimum}; approved by {approver.name}, {role.label}{rule}",
                (ref, *costs),
            )

    def _earlier(self, event: Any, cls: type[Any]) -> list[EventRef]:
        """The record's events of ``cls`` recorded before ``event``."""
        return [
            self.events.ref(earlier)
            for earlier in self.events.find(event.originator_id, cls)
            if earlier.originator_version < event.originator_version
        ]

    def _authority(
        self, team_id: UUID, member_id: MemberId, at: datetime
    ) -> tuple[Credentials | None, list[EventRef]]:
        """The member's credentials as the Team held them at ``at``, and the grant behind them."""
        team = self.team(team_id, at)
        if team is None or member_id not in team.members:
            return None, []
        derived = team.credentials(member_id, at)
        if derived.grant_id is None:
            return derived, []
        grants = [
            self.events.ref(e)
            for e in self.events.find(team.id, Team.AuthorityGranted, at)
            if e.grant.grant_id == derived.grant_id
        ]
        return derived, grants

    def _self_decision(
        self, before: Project, event: Any, decider: Credentials | None, verb: str
    ) -> Iterator[Finding]:
        request = before.discount_requests.get(event.request_id)
        if (
            request is None
            or decider is None
            or decider.member_id != request.requester_id
            or event.actor.kind is not ActorKind.MEMBER
        ):
            return
        yield Finding(
            FindingKind.SELF_APPROVAL,
            event.timestamp,
            before.id,
            f"project {before.name}",
            f"{request.percentage} discount requested and {verb} by {decider.name} by hand",
            (
                *self.events.last(
                    before.id, Project.DiscountRequested, request_id=request.request_id
                ),
                self.events.ref(event),
            ),
        )

    # -- targets ------------------------------------------------------------------------------

    def targets(self) -> Iterator[Finding]:
        targets = self._records(self.app.targets(), self.app.get_target)
        for target in targets:
            yield from self._revisions(target)
            yield from self._punctuality(target)
        yield from self._decomposition(targets)

    def scope_name(self, target: Target) -> str:
        scope = target.scope
        if scope.kind is ScopeKind.ACCOUNT:
            name = self.account_names.get(scope.id, str(scope.id))
        elif scope.kind is ScopeKind.MEMBER:
            name = f"KAM {self.name(scope.id)}"
        else:
            team = self.team(scope.id)
            name = f"team {team.name if team is not None else scope.id}"
        return f"target {name} {target.period}"

    def _revisions(self, target: Target) -> Iterator[Finding]:
        end = target.period.end
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
                self.scope_name(target),
                f"goals revised after the period {since}; approved by"
                f" {self.name(revision.approved_by)}, {revision.approver_role.label};"
                f" reason: {revision.reason}",
                (
                    self.events.ref_to(target.id, revision.version, Target.Revised.__qualname__),
                    *self.events.last(target.id, Target.PeriodClosed),
                ),
            )

    def _punctuality(self, target: Target) -> Iterator[Finding]:
        """Evaluated and signed off by both within the standard's sign-off days after the
        period's end; missing ones only once that deadline has passed."""
        end = target.period.end
        evaluation = target.latest_evaluation
        if evaluation is None:
            team = self.team(target.team_id)
            if team is None:
                return
            deadline = end + timedelta(days=team.standard_at(end - _LAST_MOMENT).sign_off_days)
            if self.moment > deadline:
                yield Finding(
                    FindingKind.EVALUATION_LATE,
                    deadline,
                    target.id,
                    self.scope_name(target),
                    f"not evaluated by the deadline {deadline.isoformat()}",
                    (
                        *self.events.refs(target.id, Target.Set),
                        *self.events.last(target.id, Target.PeriodClosed),
                    ),
                )
            return
        deadline = end + timedelta(days=evaluation.standard.sign_off_days)
        number = evaluation.number
        evaluated = self.events.last(target.id, Target.Evaluated, number=number)
        if evaluation.at > deadline:
            yield Finding(
                FindingKind.EVALUATION_LATE,
                evaluation.at,
                target.id,
                self.scope_name(target),
                f"evaluation {number} recorded at {evaluation.at.isoformat()}, after the deadline"
                f" {deadline.isoformat()}",
                tuple(evaluated),
            )
        signed = {s.signatory: s for s in target.signatures if s.evaluation_number == number}
        signatures = self.events.refs(target.id, Target.SignedOff, evaluation_number=number)
        for signatory in Signatory:
            signature = signed.get(signatory)
            if signature is not None and signature.at > deadline:
                yield Finding(
                    FindingKind.EVALUATION_LATE,
                    signature.at,
                    target.id,
                    self.scope_name(target),
                    f"evaluation {number} signed off as {_SIGNATORIES[signatory]} by"
                    f" {signature.name} at"
                    f" {signature.at.isoformat()}, after the deadline {deadline.isoformat()}",
                    (*evaluated, *signatures),
                )
        missing = [_SIGNATORIES[s] for s in Signatory if s not in signed]
        if missing and self.moment > deadline:
            flags = self._lapse_flags(target.id, number)
            yield Finding(
                FindingKind.EVALUATION_UNSIGNED,
                deadline,
                target.id,
                self.scope_name(target),
                f"evaluation {number} (score {evaluation.score}, {evaluation.rating}) without the"
                f" sign-off of the {' and the '.join(missing)} by the deadline"
                f" {deadline.isoformat()}",
                (*evaluated, *signatures, *flags),
            )

    def _lapse_flags(self, target_id: UUID, number: int) -> list[EventRef]:
        key = f"target {target_id} evaluation {number} sign_off"
        return [
            self.decision_ref(d)
            for d in self.decided(EvaluationPolicy.name)
            if d.outcome == "flag" and key in d.inputs
        ]

    def _decomposition(self, targets: Sequence[Target]) -> Iterator[Finding]:
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
                self.scope_name(parent),
                f"{len(parts)} child target(s) do not add up: {off}",
                (
                    *self.events.last(parent.id, Target.Set),
                    *self.events.last(parent.id, Target.Revised, self.moment),
                    *self._decomposition_flags(parent.id),
                ),
            )

    def _decomposition_flags(self, parent_id: UUID) -> list[EventRef]:
        key = f"parent {parent_id}"
        flags = [d for d in self.decided(DecompositionPolicy.name) if key in d.inputs]
        return [self.decision_ref(d) for d in flags[-1:]]

    # -- accounts -----------------------------------------------------------------------------

    def accounts(self) -> Iterator[Finding]:
        windows = _SlaWindows(self.events, self.moment)
        gaps = self._coverage_flags()
        for account in self._accounts:
            yield from self._coverage(account, gaps)
            for invoice in account.invoices.values():
                if invoice.is_overdue(self.moment):
                    yield self._overdue(account, invoice)
            for case in account.cases.values():
                finding = self._sla(account, case, windows)
                if finding is not None:
                    yield finding

    def _coverage_flags(self) -> dict[CoverageGap, PolicyDecision]:
        """The coverage policy's open gaps as of the moment, with the decision that flagged each."""
        decided = self.decided(CoveragePolicy.name)
        flagged: dict[CoverageGap, PolicyDecision] = {}
        for gap in open_gaps(decided):
            text = str(gap)
            flagged[gap] = next(d for d in reversed(decided) if text in d.inputs.get("opened", ""))
        return flagged

    def _coverage(
        self, account: ClientAccount, flags: Mapping[CoverageGap, PolicyDecision]
    ) -> Iterator[Finding]:
        if not account.is_key:
            return
        record = f"account {account.name}"
        designated = self.events.last(account.id, ClientAccount.KeyAccountDesignated)
        kam_id = account.accountable_kam
        team = self.team(account.team_id)
        kam = None if kam_id is None or team is None else team.members.get(kam_id)
        if (
            kam_id is None
            or kam is None
            or not kam.active
            or kam.role is not Role.KEY_ACCOUNT_MANAGER
        ):
            why, since, behind = self._unaccountable(account, team, kam_id, kam)
            yield Finding(
                FindingKind.KEY_ACCOUNT_WITHOUT_KAM,
                since,
                account.id,
                record,
                f"{account.tier.value if account.tier else 'key'} key account {why}",
                (
                    *designated,
                    *self.events.last(account.id, ClientAccount.KamAssigned, self.moment),
                    *behind,
                ),
            )
            return
        assert team is not None
        backup_id = kam.backup_id
        if backup_id is not None and team.is_cross_trained(backup_id, kam_id):
            return
        backup = None if backup_id is None else team.members.get(backup_id)
        if backup is None:
            why = "no backup designated"
        elif not backup.active:
            why = f"its backup {backup.name} has left the team"
        else:
            why = f"its backup {backup.name} is not cross-trained to cover them"
        assigned = self.events.last(account.id, ClientAccount.KamAssigned, kam_id=kam_id)
        flag = flags.get(CoverageGap(AccountId(account.id), kam_id))
        yield Finding(
            FindingKind.KEY_ACCOUNT_WITHOUT_BACKUP,
            _latest(account.assignment_history, kam_id) or account.modified_on,
            account.id,
            record,
            f"KAM {kam.name}: {why}",
            (
                *assigned,
                *self.events.last(team.id, Team.BackupDesignated, self.moment, member_id=kam_id),
                *([self.decision_ref(flag)] if flag is not None else []),
            ),
        )

    def _unaccountable(
        self, account: ClientAccount, team: Team | None, kam_id: UUID | None, kam: Member | None
    ) -> tuple[str, datetime, list[EventRef]]:
        """Why nobody answers for the account, since when, and the team's events that say so."""
        since = account.designated_at or account.modified_on
        if kam_id is None:
            return "with no accountable KAM", since, []
        name = self.name(kam_id)
        if team is None or kam is None:
            return f"whose accountable KAM {name} is not on the team", since, []
        cls: type[Any]
        if not kam.active:
            why, cls = f"whose accountable KAM {name} has left the team", Team.MemberLeft
        else:
            why, cls = f"whose accountable KAM {name} is now a {kam.role.label}", Team.RoleChanged
        changes = self.events.find(team.id, cls, self.moment, member_id=kam_id)[-1:]
        since = max([since, *(event.timestamp for event in changes)])
        return why, since, [self.events.ref(event) for event in changes]

    def _overdue(self, account: ClientAccount, invoice: AccountInvoice) -> Finding:
        late = self.moment - invoice.due_at
        flagged = (
            f"flagged overdue at {invoice.overdue_flagged_at.isoformat()}"
            if invoice.overdue_flagged_at is not None
            else "not flagged overdue"
        )
        invoice_id = invoice.invoice_id
        return Finding(
            FindingKind.OVERDUE_PAYMENT,
            invoice.due_at,
            account.id,
            f"account {account.name}",
            f"invoice {invoice_id} of {invoice.amount}: {invoice.open_balance} open,"
            f" due {invoice.due_at.isoformat()}, {_days(late)} past due; {flagged}",
            (
                *self.events.refs(account.id, ClientAccount.InvoiceIssued, invoice_id=invoice_id),
                *self.events.refs(
                    account.id, ClientAccount.PaymentReceived, self.moment, invoice_id=invoice_id
                ),
                *self.events.refs(
                    account.id, ClientAccount.PaymentOverdue, self.moment, invoice_id=invoice_id
                ),
            ),
        )

    def _sla(
        self, account: ClientAccount, case: ClientCase, windows: _SlaWindows
    ) -> Finding | None:
        hours = windows.hours(case.severity, case.opened_at)
        deadline = case.opened_at + timedelta(hours=hours)
        acknowledged = case.acknowledged_at
        if acknowledged is not None:
            if acknowledged <= deadline:
                return None
            what = (
                f"acknowledged {_days(acknowledged - case.opened_at)} after opening,"
                f" {_days(acknowledged - deadline)} late"
            )
        elif self.moment > deadline:
            what = f"not acknowledged, {_days(self.moment - deadline)} past its window"
        else:
            return None
        case_id = case.case_id
        return Finding(
            FindingKind.SLA_BREACH,
            deadline,
            account.id,
            f"account {account.name}",
            f"{case.severity.value} {case.kind.value} {case_id} opened"
            f" {case.opened_at.isoformat()} (SLA {hours} h): {what}",
            (
                *self.events.refs(account.id, ClientAccount.CaseOpened, case_id=case_id),
                *self.events.refs(
                    account.id, ClientAccount.CaseAcknowledged, self.moment, case_id=case_id
                ),
                *self.events.refs(
                    account.id, ClientAccount.CaseEscalated, self.moment, case_id=case_id
                ),
            ),
        )

    # -- parked events ------------------------------------------------------------------------

    def parked(self) -> Iterator[Finding]:
        for letter in self.app.dead_letters(include_resolved=True):
            if letter.created_on > self.moment:
                continue
            if letter.resolved and letter.modified_on <= self.moment:
                continue
            cause = self.events.at_position(letter.cause_position)
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
                    *self.events.refs(letter.id, DeadLetter.Parked),
                    *self.events.refs(letter.id, DeadLetter.Retried, self.moment),
                ),
            )

    def unexplained(self) -> Iterator[Finding]:
        """Events attributed to a policy with no decision record of that policy behind them."""
        records = [
            *(("team", team.id, team.name) for team in self.app.teams()),
            *(("account", account.id, account.name) for account in self.app.accounts()),
            *(("project", project.id, project.name) for project in self.app.projects()),
            *(("target", target.id, self.scope_name(target)) for target in self.app.targets()),
        ]
        for kind, record_id, name in records:
            events = [e for e in self.events.of(record_id) if e.timestamp <= self.moment]
            for found in unexplained(events, self.decisions):
                event = found.event
                yield Finding(
                    FindingKind.POLICY_EVENT_WITHOUT_DECISION,
                    event.timestamp,
                    record_id,
                    name if kind == "target" else f"{kind} {name}",
                    f"{type(event).__qualname__} by {event.actor}: {found.problem}",
                    (self.events.ref(event),),
                )


def _backdated(audit: _Audit) -> list[Finding]:
    """Events dated back (see :mod:`kam_domain.audit.backdating`), written up to the moment."""
    from kam_domain.audit.backdating import backdated_events

    findings = []
    for found in backdated_events(audit.app, until=audit.moment):
        event, actor = found.event, getattr(found.event, "actor", None)
        member = getattr(actor, "member_id", None)
        who = audit.names.get(member) if member else None
        findings.append(
            Finding(
                FindingKind.BACKDATED,
                found.effective_at,
                event.originator_id,
                f"record {event.originator_id}",
                f"{type(event).__qualname__} by {who or actor}, effective "
                f"{found.effective_at.isoformat()}, written {found.written_at.isoformat()} "
                f"({found.gap} later)",
                (audit.events.ref(event),),
            )
        )
    return findings


class _SlaWindows:
    """The case-escalation policy's SLA hours per severity, as recorded at each moment (its
    defaults until configured). A case is held to the window in force when it was opened."""

    def __init__(self, events: _Events, until: datetime) -> None:
        self.defaults: dict[str, Any] = dict(CaseEscalationPolicy.parameters)
        self.changes = [
            (event.timestamp, dict(event.parameters))
            for event in events.find(
                settings_id(CaseEscalationPolicy.name), PolicySettings.ParametersSet, until
            )
        ]

    def hours(self, severity: Severity, at: datetime) -> int:
        name = f"sla_hours_{severity.value}"
        settings = dict(self.defaults)
        for when, parameters in self.changes:
            if when <= at:
                settings.update(parameters)
        try:
            return whole_number(settings, name)
        except ValidationError:
            # The policy cannot use such a value either (it parks the tick); the default stands.
            return whole_number(self.defaults, name)


# -- helpers ---------------------------------------------------------------------------------------


def _authority_problems(
    recorded: Credentials, derived: Credentials | None, percentage: Percentage, at: datetime
) -> list[str]:
    """Why the approver could not approve ``percentage`` at ``at``; empty when they could."""
    problems = []
    if not recorded.covers(percentage):
        held = recorded.discount_authority or "no authority"
        problems.append(f"the approval itself records {held}")
    if derived is None:
        problems.append(f"the team had no member {recorded.member_id} at {at.isoformat()}")
        return problems
    if derived.role not in APPROVER_ROLES:
        problems.append(f"{derived.name} was a {derived.role.label}, who approves nothing")
    elif not derived.covers(percentage):
        held = derived.discount_authority or "no authority"
        standing = "" if derived.active else " (had left the team)"
        problems.append(f"the team's record gives {derived.name} {held}{standing} at that moment")
    return problems


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


def _latest(history: Sequence[Any], kam_id: UUID) -> datetime | None:
    since = [a.since for a in history if a.kam_id == kam_id]
    return since[-1] if since else None


def _line(line: DecompositionLine) -> str:
    word = "gap" if line.is_gap else "excess"
    amount = -line.difference if line.is_gap else line.difference
    return f"{line.metric.value} {word} {amount} (goal {line.goal}, allocated {line.allocated})"


def _percent(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}%"


def _days(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"
