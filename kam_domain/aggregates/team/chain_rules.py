"""Approval chains as the team configures them: which steps a discount request must pass, in
sequence and in parallel, chosen by rules a sales director sets from a date on (the rules in force
at the moment of a request apply to it, as the evaluation standard in force does to a period).

A rule names a condition (the percentage is above a threshold, the margin at the asked price is
under the project's minimum, the requester flagged unusual contract terms), a stage and the roles
that approve at that stage. The steps of a request are the roles of every rule its facts meet,
each at the earliest stage a rule puts it: the steps of a stage are decided in parallel, and a
stage opens once every step of the stages before it is approved. A team that never set rules, or
whose rules in force are empty, decides every request as a single approval.

How a request passes its steps is the project's (:mod:`kam_domain.aggregates.project.chains`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from kam_domain.aggregates.base import KamAggregate, Meta, require_utc
from kam_domain.aggregates.credentials import Credentials
from kam_domain.aggregates.team.chain_records import ApprovalChainRules, check_chain_rules
from kam_domain.aggregates.team.guards import TeamGuards

if TYPE_CHECKING:
    from kam_domain.aggregates.team import Team

__all__ = ["ChainRules"]


class ChainRules(TeamGuards):
    """Setting the approval-chain rules from a date on, and reading the ones in force."""

    class ApprovalChainRulesSet(KamAggregate.Event):
        rules: ApprovalChainRules
        effective_from: datetime

        def apply(self, team: Team) -> None:
            team.chain_rules.append((self.effective_from, self.rules))
            team.chain_rules.sort(key=lambda item: item[0])

    def set_approval_chain_rules(
        self,
        meta: Meta,
        by: Credentials,
        rules: ApprovalChainRules,
        *,
        effective_from: datetime | None = None,
    ) -> None:
        """A sales director sets the rules that choose a request's approval steps, from a date
        on; :meth:`ApprovalChainRules.none` turns chains off from that date."""
        by.require_director("actor")
        rules = check_chain_rules("rules", rules)
        start = meta.at if effective_from is None else require_utc("effective_from", effective_from)
        self._record(self.ApprovalChainRulesSet, meta, rules=rules, effective_from=start)

    # -- queries -----------------------------------------------------------------------------------

    def chain_rules_at(self, at: datetime) -> ApprovalChainRules | None:
        """The approval-chain rules in force at ``at``; None when none (or empty ones) are."""
        current: ApprovalChainRules | None = None
        for start, rules in self.chain_rules:
            if start <= at:
                current = rules
        return current if current is not None and current.rules else None
