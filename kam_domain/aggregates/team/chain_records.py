"""The records of approval-chain rules (see :mod:`kam_domain.aggregates.team.chain_rules`)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

import attrs

from kam_domain.errors import ValidationError
from kam_domain.transcoding import transcoded
from kam_domain.values import Percentage, Role, require_percentage

__all__ = [
    "CHAIN_ROLES",
    "ApprovalChainRules",
    "ChainCondition",
    "ChainRule",
    "check_chain_rules",
]

#: Roles that may approve a step of a chain, in the order steps of one stage are listed.
CHAIN_ROLES = (
    Role.PROJECT_DIRECTOR,
    Role.SALES_DIRECTOR,
    Role.SENIOR_SALES_DIRECTOR,
    Role.FINANCIAL_PLANNER,
    Role.LEGAL_AFFAIRS_SPECIALIST,
)

#: The most stages a chain may have, and the longest deadline of a step (a year, in hours).
MAX_STAGE = 9
MAX_STEP_HOURS = 24 * 366


class ChainCondition(enum.Enum):
    """What about a request makes a rule apply."""

    #: The percentage asked for is above the rule's threshold.
    ABOVE = "above"
    #: The margin at the asked price is under the project's minimum margin.
    MARGIN_SHORT = "margin_short"
    #: The requester said the contract carries unusual terms.
    UNUSUAL_TERMS = "unusual_terms"


transcoded(ChainCondition)


def _as_tuple(values: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(values)


@transcoded
@attrs.frozen
class ChainRule:
    """When ``condition`` holds, each of ``roles`` approves at ``stage`` (1 first)."""

    condition: ChainCondition
    stage: int
    roles: tuple[Role, ...] = attrs.field(converter=_as_tuple)
    #: For ``ABOVE``: the percentage a request must exceed; None for the other conditions.
    threshold: Percentage | None = None

    def applies(self, percentage: Percentage, *, margin_short: bool, unusual: bool) -> bool:
        if self.condition is ChainCondition.ABOVE:
            return self.threshold is not None and percentage > self.threshold
        if self.condition is ChainCondition.MARGIN_SHORT:
            return margin_short
        return unusual


@transcoded
@attrs.frozen
class ApprovalChainRules:
    """The rules that choose a request's steps, and how long each step may wait."""

    rules: tuple[ChainRule, ...] = attrs.field(converter=_as_tuple)
    #: Hours a step may wait after its stage opens (or after it was escalated) before the
    #: deadline policy escalates it.
    step_hours: int = 48

    @classmethod
    def none(cls) -> ApprovalChainRules:
        """No rules: every request is a single approval again (from the date they are set)."""
        return cls(())

    def steps_for(
        self, percentage: Percentage, *, margin_short: bool, unusual: bool
    ) -> list[tuple[int, Role]]:
        """The (stage, role) steps a request with these facts passes, in order; empty: none."""
        earliest: dict[Role, int] = {}
        for rule in self.rules:
            if rule.applies(percentage, margin_short=margin_short, unusual=unusual):
                for role in rule.roles:
                    earliest[role] = min(earliest.get(role, rule.stage), rule.stage)
        return sorted(
            ((stage, role) for role, stage in earliest.items()),
            key=lambda step: (step[0], CHAIN_ROLES.index(step[1])),
        )


def check_chain_rules(field: str, value: object) -> ApprovalChainRules:
    """``value`` if it is a well-formed set of rules; a clear error naming what is wrong."""
    if not isinstance(value, ApprovalChainRules):
        raise ValidationError(field, f"must be ApprovalChainRules, not {type(value).__name__}")
    hours = value.step_hours
    if not isinstance(hours, int) or isinstance(hours, bool) or not 1 <= hours <= MAX_STEP_HOURS:
        raise ValidationError(
            field, f"step_hours must be a whole number from 1 to {MAX_STEP_HOURS}"
        )
    for number, rule in enumerate(value.rules, start=1):
        if not isinstance(rule, ChainRule) or not isinstance(rule.condition, ChainCondition):
            raise ValidationError(field, f"rule {number} must be a ChainRule")
        stage = rule.stage
        if not isinstance(stage, int) or isinstance(stage, bool) or not 1 <= stage <= MAX_STAGE:
            msg = f"rule {number}: stage must be a whole number from 1 to {MAX_STAGE}"
            raise ValidationError(field, msg)
        if not rule.roles or len(set(rule.roles)) != len(rule.roles):
            raise ValidationError(field, f"rule {number}: roles must be given, each once")
        for role in rule.roles:
            if role not in CHAIN_ROLES:
                labels = ", ".join(r.label for r in CHAIN_ROLES)
                named = getattr(role, "label", role)
                msg = f"rule {number}: a {named} approves no step ({labels} do)"
                raise ValidationError(field, msg)
        if rule.condition is ChainCondition.ABOVE:
            if rule.threshold is None:
                raise ValidationError(field, f"rule {number}: an 'above' rule needs a threshold")
            require_percentage(field, rule.threshold)
        elif rule.threshold is not None:
            msg = f"rule {number}: only an 'above' rule has a threshold"
            raise ValidationError(field, msg)
    return value
