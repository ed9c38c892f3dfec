"""Target decomposition (分解落实): child targets must add up to their parent, metric by metric.

Whenever a target is set or revised, the policy checks its parent (the wider target it is part
of) and, if it has child targets of its own, the target itself, with
:meth:`Target.decomposition`: revenue must add up to the parent's revenue; service level and
satisfaction, being levels, are compared with the children's mean. A metric the parent sets and
no child sets allocates nothing, so it is a gap.

- A parent whose children do not add up is flagged (a decision without actions): per metric the
  parent's goal, what the children allocate, and the gap or excess. It is flagged again only when
  a later change leaves it differently out (the same gap twice is not news).
- When a later change makes a flagged parent add up, a "consistent" decision is recorded, so an
  auditor tells gaps still open from gaps closed.
- A parent that adds up the first time it is checked needs no decision.

Which parents were checked and how they stood is kept by :meth:`~DecompositionPolicy.learn`, in
log order, so each decision depends on the log up to its cause alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

import attrs

from kam_domain.aggregates.target import DecompositionLine, Target
from kam_domain.errors import CurrencyMismatch
from kam_domain.policies.base import Decision, Policy
from kam_domain.policies.world import World
from kam_domain.values import Money

__all__ = ["DecompositionCheck", "DecompositionPolicy"]


@attrs.frozen
class DecompositionCheck:
    """How one parent target stood against its children after one set or revision."""

    parent_id: UUID
    children: int
    lines: tuple[DecompositionLine, ...]
    #: Why the children cannot be compared with the parent (a revenue in another currency).
    mismatch: str | None = None

    @property
    def consistent(self) -> bool:
        return self.mismatch is None and not any(
            line.is_gap or line.is_excess for line in self.lines
        )

    @property
    def status(self) -> str:
        if self.mismatch is not None:
            return "not comparable"
        gap = any(line.is_gap for line in self.lines)
        excess = any(line.is_excess for line in self.lines)
        if gap and excess:
            return "gap and excess"
        return "gap" if gap else "excess" if excess else "consistent"


@attrs.frozen
class _Due:
    """A parent that a decision reports: flagged anew, or consistent after a flag."""

    check: DecompositionCheck
    previous: DecompositionCheck | None


class DecompositionPolicy(Policy):
    """Flag parent targets whose children's goals do not add up; record when they come to."""

    name: ClassVar[str] = "target_decomposition"
    version: ClassVar[int] = 1
    handles = (Target.Set, Target.Revised)
    description: ClassVar[str] = (
        "Child targets must add up to their parent per metric (revenue summed, levels "
        "averaged); gaps and excesses are flagged, and recorded as consistent once closed."
    )
    parameters: ClassVar[Mapping[str, Any]] = {}

    def __init__(self) -> None:
        #: The latest check of each parent target, in log order.
        self._latest: dict[UUID, DecompositionCheck] = {}
        #: Per set or revision that changed how a parent stands, what changed.
        self._due: dict[UUID, tuple[_Due, ...]] = {}
        #: Cells changed since the engine last asked (see :meth:`learned`).
        self._touched: set[str] = set()

    def learned(self, *, everything: bool = False) -> dict[str, Any] | None:
        keys = self._touched
        if everything:
            keys = {f"latest:{parent}" for parent in self._latest}
            keys.update(f"due:{event_id}" for event_id in self._due)
        self._touched = set()
        found: dict[str, Any] = {}
        for key in keys:
            kind, _, ident = key.partition(":")
            if kind == "latest":
                found[key] = _plain(self._latest[UUID(ident)])
            else:
                found[key] = [
                    [_plain(due.check), None if due.previous is None else _plain(due.previous)]
                    for due in self._due[UUID(ident)]
                ]
        return found

    def restore(self, cells: Mapping[str, Any]) -> None:
        for key, value in cells.items():
            kind, _, ident = key.partition(":")
            if kind == "latest":
                self._latest[UUID(ident)] = _check_of(value)
            else:
                self._due[UUID(ident)] = tuple(
                    _Due(_check_of(check), None if previous is None else _check_of(previous))
                    for check, previous in value
                )

    def learn(self, event: Any, world: World) -> None:
        if not isinstance(event, Target.Set | Target.Revised):
            return
        target = world.get(event.originator_id, Target)
        if target is None:
            return
        due = []
        for parent in _parents_to_check(world, target):
            check = _check(parent, _children(world, parent))
            previous = self._latest.get(parent.id)
            self._latest[parent.id] = check
            if check != previous:
                self._touched.add(f"latest:{parent.id}")
            flagged_anew = not check.consistent and check != previous
            gap_closed = check.consistent and previous is not None and not previous.consistent
            if flagged_anew or gap_closed:
                due.append(_Due(check, previous))
        if due:
            self._due[event.event_id] = tuple(due)
            self._touched.add(f"due:{event.event_id}")

    def decide(self, event: Any, world: World) -> Decision | None:
        due = self._due.get(event.event_id, ())
        if not due:
            return None
        inputs: dict[str, object] = {}
        reasons = []
        for item in due:
            parent = world.get(item.check.parent_id, Target)
            label = "target" if parent is None else f"{parent.scope} {parent.period}"
            inputs.update(_inputs(item, label))
            reasons.append(_reason(item.check, label))
        flagged = any(not item.check.consistent for item in due)
        return Decision(
            outcome="flag" if flagged else "consistent",
            reason="; ".join(reasons),
            inputs=inputs,
        )


def _parents_to_check(world: World, target: Target) -> list[Target]:
    """The target's parent, then the target itself if it has children."""
    parents = []
    if target.parent_id is not None:
        parent = world.get(target.parent_id, Target)
        if parent is not None:
            parents.append(parent)
    if _children(world, target):
        parents.append(target)
    return parents


def _children(world: World, parent: Target) -> list[Target]:
    """The parent's child targets, in the order they were set."""
    return world.targets(parent.team_id, parent_id=parent.id)


def _check(parent: Target, children: Sequence[Target]) -> DecompositionCheck:
    try:
        lines = parent.decomposition(child.current_goals for child in children)
    except CurrencyMismatch as error:
        return DecompositionCheck(parent.id, len(children), (), mismatch=str(error))
    return DecompositionCheck(parent.id, len(children), tuple(lines))


def _signed(value: Money | Decimal) -> str:
    """A difference with its sign: ``+200.00 CNY``, ``-2.50``."""
    amount = value.amount if isinstance(value, Money) else value
    return f"+{value}" if amount > 0 else str(value)


def _negated(value: Money | Decimal) -> Money | Decimal:
    return -value


def _inputs(item: _Due, label: str) -> dict[str, object]:
    check = item.check
    key = f"parent {check.parent_id}"
    summary: dict[str, object] = {
        "target": label,
        "children": check.children,
        "status": check.status,
        "previously": "not checked" if item.previous is None else item.previous.status,
    }
    if check.mismatch is not None:
        summary["mismatch"] = check.mismatch
    inputs: dict[str, object] = {key: summary}
    for line in check.lines:
        allocated = "children sum" if isinstance(line.goal, Money) else "children mean"
        metric: dict[str, object] = {
            "parent goal": line.goal,
            allocated: line.allocated,
            "children setting it": line.children,
        }
        if line.is_gap:
            metric["gap"] = _negated(line.difference)
        elif line.is_excess:
            metric["excess"] = line.difference
        else:
            metric["gap"] = "none"
        inputs[f"{key} {line.metric.value}"] = metric
    return inputs


def _reason(check: DecompositionCheck, label: str) -> str:
    if check.mismatch is not None:
        return f"the children of {label} cannot be compared with it: {check.mismatch}"
    if check.consistent:
        return f"the children of {label} now add up to it on every metric"
    off = ", ".join(
        f"{line.metric.value} {_signed(line.difference)}"
        for line in check.lines
        if line.is_gap or line.is_excess
    )
    return f"the children of {label} do not add up to it: {off}"


def _plain(check: DecompositionCheck) -> list[Any]:
    lines = [list(attrs.astuple(line, recurse=False)) for line in check.lines]
    return [check.parent_id, check.children, lines, check.mismatch]


def _check_of(row: list[Any]) -> DecompositionCheck:
    parent_id, children, lines, mismatch = row
    return DecompositionCheck(
        parent_id, int(children), tuple(DecompositionLine(*line) for line in lines), mismatch
    )
