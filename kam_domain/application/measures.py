"""Measuring a target from the log: the actuals its evaluation weighs, with their source events.

The rules (revenue, service level, satisfaction) live in :mod:`kam_domain.aggregates.actuals`,
shared with the evaluation policy so that both measure alike; this module reads the scope's
accounts and their events from the store.

The scope's accounts: the account itself; for a KAM, the accounts they were accountable for at
the period's end; for the team, every account of the team.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from uuid import UUID

from kam_domain.aggregates.actuals import DEFAULT_ACKNOWLEDGEMENT_WINDOWS, AccountFacts, measure
from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.aggregates.target import Actual, ScopeKind, Target
from kam_domain.application.core import ApplicationCore
from kam_domain.errors import TargetNotFound
from kam_domain.values import Severity

__all__ = ["DEFAULT_ACKNOWLEDGEMENT_WINDOWS", "MeasureQueries"]


class MeasureQueries(ApplicationCore):
    """Actuals for a target, read from the accounts' recorded events."""

    def measure_target(
        self,
        target_id: UUID,
        *,
        windows: Mapping[Severity, timedelta] = DEFAULT_ACKNOWLEDGEMENT_WINDOWS,
    ) -> tuple[Actual, ...]:
        """The actuals of every metric the target sets that the log can measure."""
        target = self._get(Target, target_id, TargetNotFound, "target_id")
        accounts = self._scope_accounts(target)
        return measure(target.current_goals, accounts, target.period, windows).actuals

    def _scope_accounts(self, target: Target) -> list[AccountFacts]:
        """The scope's accounts, each with the facts its recorded events give."""
        directory = self._directory()
        if target.scope.kind is ScopeKind.ACCOUNT:
            ids = [target.scope.id]
        else:
            ids = directory.ids("account", team_id=target.team_id)
        last_moment = target.period.end - timedelta(microseconds=1)
        chosen = []
        for account_id in ids:
            account = self._get(ClientAccount, account_id, TargetNotFound, "scope")
            if (
                target.scope.kind is ScopeKind.MEMBER
                and account.accountable_kam_at(last_moment) != target.scope.id
            ):
                continue
            events = self.repository.event_store.get(account_id)
            chosen.append(AccountFacts.of(account_id, events))
        return chosen
