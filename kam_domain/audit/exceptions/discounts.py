"""Discount decisions: approvals outside the authority then in force, self-approvals, prices
under the floor, margins under the minimum.

The checks re-derive what the rules say from the record instead of trusting what an event claims
about itself: an approval's authority is read again from the Team as it stood at the moment of
the decision, the floor and the margin from the project as it stood just before the approval.
Commands that would break those rules are refused by the library, so a finding of these kinds
means the log was written behind its back (by hand, or tampered with).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.project import DiscountOutcome, Project
from kam_domain.aggregates.team import APPROVER_ROLES, Team
from kam_domain.audit.exceptions.findings import EventRef, Finding, FindingKind
from kam_domain.audit.exceptions.reading import Reading
from kam_domain.values import ActorKind, MemberId, Percentage, Role

__all__ = ["discount_findings"]


def discount_findings(reading: Reading) -> Iterator[Finding]:
    """Each decided discount request (and each chain's step approved on behalf), against the
    project as it stood just before the decision."""
    for project in reading.records(reading.app.projects(), reading.app.get_project):
        decided = [r for r in project.discount_requests.values() if r.decision is not None]
        if not decided and not project.approval_chains:
            continue
        before: Project | None = None
        events = list(reading.events.of(project.id))
        for index, event in enumerate(events):
            if event.timestamp > reading.moment:
                break
            if before is not None and isinstance(
                event, (Project.ChainedDiscountRequested, Project.DiscountRequested)
            ):
                yield from _chain_findings(reading, before, project, event)
            elif before is not None and _step_on_behalf(event, events[index + 1 :]):
                yield from _on_behalf(reading, before, event, step=True)
            elif before is not None and isinstance(event, Project.DiscountApproved):
                yield from _approval(reading, before, event)
            elif before is not None and isinstance(event, Project.DiscountApprovedOnBehalf):
                yield from _on_behalf(reading, before, event)
            elif before is not None and isinstance(event, Project.DiscountRejected):
                yield from _self_decision(reading, before, event, event.rejected_by, "rejected")
            before = event.mutate(before)


def _approval(reading: Reading, before: Project, event: Any) -> Iterator[Finding]:
    """One approval, against the project as it stood just before it and the Team then."""
    request = before.discount_requests.get(event.request_id)
    if request is None:
        return
    approver: Credentials = event.approver
    record = f"project {before.name}"
    ref = reading.events.ref(event)
    derived, grant = _authority(reading, before.team_id, approver.member_id, event.timestamp)
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
    yield from _self_decision(reading, before, event, approver, "approved")
    yield from _price_findings(reading, before, event, derived)


def _chain_findings(
    reading: Reading, before: Project, project: Project, event: Any
) -> Iterator[Finding]:
    """An approved request whose stored chain (none, for a single approval) lacks a step the
    team's chain rules in force when it was requested give it: the rules are read again from
    the Team (as it stood then, and as it stands, so that rules recorded later with an earlier
    start do not count against it), the facts (percentage, margin, unusual terms) from the
    request."""
    request = project.discount_requests.get(event.request_id)
    if request is None or request.decision is None:
        return
    if request.decision.outcome is not DiscountOutcome.APPROVED:
        return
    yield from _steps_findings(reading, before, project, event)
    teams = (reading.team(before.team_id, event.timestamp), reading.team(before.team_id))
    in_force = [None if team is None else team.chain_rules_at(event.timestamp) for team in teams]
    if any(rules is None for rules in in_force):
        return  # no rules in one reading: a single approval may be right
    chain = getattr(event, "chain", None)
    short = before.margin_at(event.price) < before.minimum_margin.value
    unusual = chain is not None and chain.unusual_terms is not None
    have = set() if chain is None else {step.role for step in chain.steps}
    missing: set[Role] | None = None
    for rules in in_force:
        assert rules is not None
        steps = rules.steps_for(event.percentage, margin_short=short, unusual=unusual)
        lacking = {role for _, role in steps} - have
        missing = lacking if missing is None else missing & lacking
    if not missing:
        return
    roles = ", ".join(sorted(role.label for role in missing))
    yield Finding(
        FindingKind.APPROVAL_OUTSIDE_AUTHORITY,
        event.timestamp,
        before.id,
        f"project {before.name}",
        f"{event.percentage} discount approved without the steps the chain rules in force when"
        f" it was requested give it: no step for the {roles}",
        (reading.events.ref(event),),
    )


def _steps_findings(
    reading: Reading, before: Project, project: Project, event: Any
) -> Iterator[Finding]:
    """An approved chained request with a step never approved, one member (directly or as the
    delegator) behind two of its steps, or a step of an approver role approved by a member the
    Team's record (read again as it stood then) gives no authority covering the percentage."""
    chain = project.approval_chains.get(event.request_id)
    if chain is None:
        return
    problems = [f"step {s.number} was never approved" for s in chain.steps if s.approval is None]
    seen: dict[UUID, int] = {}
    for step in chain.steps:
        for member_id in set() if step.approval is None else step.approval.member_ids():
            if member_id in seen:
                name = reading.name(MemberId(member_id))
                problems.append(f"{name} approved steps {seen[member_id]} and {step.number}")
            seen.setdefault(member_id, step.number)
    for step in chain.steps:
        approval = step.approval
        # A step on behalf is held to the delegation where it is listed (_on_behalf); a step of
        # a role without authority (financial planner, legal) needs none.
        if approval is None or approval.delegator is not None:
            continue
        if step.waits_for not in APPROVER_ROLES:
            continue
        at, recorded = approval.approved_at, approval.credentials
        derived, _ = _authority(reading, before.team_id, recorded.member_id, at)
        problems.extend(
            f"step {step.number}: {problem}"
            for problem in _authority_problems(recorded, derived, event.percentage, at)
        )
    if problems:
        yield Finding(
            FindingKind.APPROVAL_OUTSIDE_AUTHORITY,
            event.timestamp,
            before.id,
            f"project {before.name}",
            f"{event.percentage} discount approved through its chain: " + "; ".join(problems),
            (reading.events.ref(event),),
        )


def _step_on_behalf(event: Any, after: list[Any]) -> bool:
    """A chain's step approved on another's behalf, unless the request's approval on behalf
    under the same delegation follows it (the last step): that approval lists it."""
    if not isinstance(event, Project.ApprovalStepApproved) or event.delegation_id is None:
        return False
    following = after[0] if after else None
    return not (
        isinstance(following, Project.DiscountApprovedOnBehalf)
        and following.request_id == event.request_id
        and following.delegation_id == event.delegation_id
    )


def _on_behalf(
    reading: Reading, before: Project, event: Any, *, step: bool = False
) -> Iterator[Finding]:
    """An approval a delegate made on the delegator's behalf (or, with ``step``, a step of a
    chain so approved): listed as such, and held to the delegation and to the delegator's
    authority in force then, read again from the Team."""
    request = before.discount_requests.get(event.request_id)
    if request is None:
        return
    delegate: Credentials = event.approver
    delegator: Credentials = event.delegator
    record = f"project {before.name}"
    what = f"step {event.step} of a " if step else ""
    ref = reading.events.ref(event)
    granted = [
        reading.events.ref(e)
        for e in reading.events.find(before.team_id, Team.AuthorityDelegated, event.timestamp)
        if e.delegation.delegation_id == event.delegation_id
    ]
    yield Finding(
        FindingKind.APPROVAL_UNDER_DELEGATION,
        event.timestamp,
        before.id,
        record,
        f"{what}{request.percentage} discount approved by {delegate.name} on behalf of"
        f" {delegator.name} (delegation {event.delegation_id})",
        (ref, *granted),
    )
    at = event.timestamp
    derived, grant = _authority(reading, before.team_id, delegator.member_id, at)
    problems = _authority_problems(delegator, derived, request.percentage, at)
    if not delegate.covers(request.percentage):
        held = delegate.discount_authority or "no authority"
        problems.append(f"the approval itself records {held} delegated")
    team = reading.team(before.team_id, at)
    delegation = None if team is None else team.delegations.get(event.delegation_id)
    if delegation is None or not delegation.in_force(at):
        problems.append(f"no delegation {event.delegation_id} was in force at {at.isoformat()}")
    elif delegation.max_discount is not None and request.percentage > delegation.max_discount:
        problems.append(f"the delegation gives at most {delegation.max_discount}")
    if problems:
        yield Finding(
            FindingKind.APPROVAL_OUTSIDE_AUTHORITY,
            at,
            before.id,
            record,
            f"{what}{request.percentage} discount approved by {delegate.name} on behalf of"
            f" {delegator.name}: " + "; ".join(problems),
            (ref, *granted, *grant),
        )
    yield from _self_decision(reading, before, event, delegate, "approved")
    yield from _self_decision(reading, before, event, delegator, "approved on behalf of")
    if not step:
        yield from _price_findings(reading, before, event, derived)


def _price_findings(
    reading: Reading, before: Project, event: Any, derived: Credentials | None
) -> Iterator[Finding]:
    """The floor and the minimum margin, against the project just before the approval."""
    request = before.discount_requests[event.request_id]
    approver: Credentials = event.approver
    record = f"project {before.name}"
    ref = reading.events.ref(event)
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
            (ref, *_earlier(reading, event, Project.PriceBandSet)[-1:]),
        )
    if price.is_zero:
        return
    margin = before.margin_at(price)
    minimum = before.minimum_margin
    if margin < minimum.value:
        role = derived.role if derived is not None else approver.role
        rule = "" if role.is_director else ", who is not a sales director as the rule requires"
        costs = [
            *_earlier(reading, event, Project.QuoteConfirmed),
            *_earlier(reading, event, Project.CostRecorded),
            *_earlier(reading, event, Project.MinimumMarginSet)[-1:],
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


def _earlier(reading: Reading, event: Any, cls: type[Any]) -> list[EventRef]:
    """The record's events of ``cls`` recorded before ``event``."""
    return [
        reading.events.ref(earlier)
        for earlier in reading.events.find(event.originator_id, cls)
        if earlier.originator_version < event.originator_version
    ]


def _authority(
    reading: Reading, team_id: UUID, member_id: MemberId, at: datetime
) -> tuple[Credentials | None, list[EventRef]]:
    """The member's credentials as the Team held them at ``at``, and the grant behind them."""
    team = reading.team(team_id, at)
    if team is None or member_id not in team.members:
        return None, []
    derived = team.credentials(member_id, at)
    if derived.grant_id is None:
        return derived, []
    grants = [
        reading.events.ref(e)
        for e in reading.events.find(team.id, Team.AuthorityGranted, at)
        if e.grant.grant_id == derived.grant_id
    ]
    return derived, grants


def _self_decision(
    reading: Reading, before: Project, event: Any, decider: Credentials | None, verb: str
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
            *reading.events.last(
                before.id, Project.DiscountRequested, request_id=request.request_id
            ),
            reading.events.ref(event),
        ),
    )


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


def _percent(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}%"
