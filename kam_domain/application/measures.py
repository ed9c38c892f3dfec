"""Measuring a target from the log: the actuals its evaluation weighs, with their source events.

The rules (revenue, service level, satisfaction) live in :mod:`kam_domain.aggregates.actuals`,
shared with the evaluation policy so that both measure alike; this module reads the scope's
accounts and their events from the store.

The scope's accounts: the account itself; for a KAM, the accounts they were accountable for at
the period's end; for the team, every account of the team. The period is read on the calendar
of the team's time zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any
from uuid import UUID

from kam_domain.aggregates.actuals import DEFAULT_ACKNOWLEDGEMENT_WINDOWS, AccountFacts, measure
from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.aggregates.target import Actual, ScopeKind, Target
from kam_domain.aggregates.team import Team
from kam_domain.application.core import ApplicationCore
from kam_domain.errors import TargetNotFound, TeamNotFound
from kam_domain.values import Severity

__all__ = ["DEFAULT_ACKNOWLEDGEMENT_WINDOWS", "MeasureQueries"]


class MeasureQueries(ApplicationCore):
    """Actuals for a target, read from the accounts' recorded events."""

    def measure_target(
        self,
        target_id: UUID,
        *,
        windows: Mapping[Severity, timedelta] = DEFAULT_ACKNOWLEDGEMENT_WINDOWS,
        at: datetime | None = None,
    ) -> tuple[Actual, ...]:
        """The actuals of every metric the target sets that the log can measure (as of ``at``:
        the target as it stood then, and only the events recorded up to then)."""
        target = self._get(Target, target_id, TargetNotFound, "target_id", at=at)
        # The team as it stood at ``at``: its zone (the period's calendar) and its rates.
        team = self._get(Team, target.team_id, TeamNotFound, "team_id", at=at)
        zone = team.zone_for(target.period)
        accounts = self._scope_accounts(target, at, zone)
        goals, period = target.current_goals, target.period
        return measure(goals, accounts, period, windows, zone, team.converter()).actuals

    def _scope_accounts(
        self, target: Target, at: datetime | None, zone: tzinfo
    ) -> list[AccountFacts]:
        """The scope's accounts, each with the facts its events (up to ``at``) give."""
        if target.scope.kind is ScopeKind.ACCOUNT:
            ids = [target.scope.id]
        else:
            ids = self._listing(target.team_id).ids("account", team_id=target.team_id)
        last_moment = target.period.end_in(zone) - timedelta(microseconds=1)
        if at is not None:
            last_moment = min(last_moment, at)
        chosen = []
        for account_id in ids:
            account = self._get(ClientAccount, account_id, TargetNotFound, "scope")
            if (
                target.scope.kind is ScopeKind.MEMBER
                and account.accountable_kam_at(last_moment) != target.scope.id
            ):
                continue
            # Every stored event of an account is a KamAggregate event, which has a timestamp.
            events: Iterable[Any] = self.repository.event_store.get(account_id)
            if at is not None:
                events = (event for event in events if event.timestamp <= at)
            chosen.append(AccountFacts.of(account_id, events))
        return chosen
