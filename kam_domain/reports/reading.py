"""The scorecard read from the facade, as of a moment: which targets of the period, their rows
in the plan's order, the names, and the actuals measured for targets not evaluated yet."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from kam_domain.aggregates.actuals import DEFAULT_ACKNOWLEDGEMENT_WINDOWS
from kam_domain.aggregates.base import require_utc
from kam_domain.aggregates.target import ScopeKind, Target
from kam_domain.aggregates.team import EvaluationStandard, Team
from kam_domain.errors import AccountNotFound, TargetNotFound, TeamNotFound, ValidationError
from kam_domain.reports.card import Scorecard, ScorecardLine, ScorecardRow, ScorecardTeam
from kam_domain.values import MemberId, Period, Severity

if TYPE_CHECKING:
    from kam_domain.application import KamApplication

__all__ = ["scorecard"]

_INSTANT = timedelta(microseconds=1)


def scorecard(
    app: KamApplication,
    period: Period,
    *,
    team: str | UUID | None = None,
    at: datetime | None = None,
    windows: Mapping[Severity, timedelta] = DEFAULT_ACKNOWLEDGEMENT_WINDOWS,
) -> Scorecard:
    """The scorecard of ``period``: of one team (a name, case and spacing ignored, or an id),
    else of every team with a target for the period; as of ``at``, else as the record is now.

    ``windows`` are the acknowledgement windows service level is measured with for targets not
    evaluated yet (an evaluation keeps the actuals it weighed).
    """
    if not isinstance(period, Period):
        raise ValidationError("period", f"must be a Period, not {period!r}")
    moment = None if at is None else require_utc("at", at)
    if team is not None:
        teams = [_find_team(app, team, moment)]
    else:
        teams = []
        for found in app.teams():
            try:
                teams.append(found if moment is None else app.get_team(found.id, at=moment))
            except TeamNotFound:
                continue  # formed after the moment asked about
    cards = []
    for found in teams:
        card = _team_card(app, found, period, moment, windows)
        if card.rows or team is not None:
            cards.append(card)
    return Scorecard(period, moment, tuple(cards))


def _find_team(app: KamApplication, name_or_id: str | UUID, at: datetime | None) -> Team:
    if isinstance(name_or_id, str) and not name_or_id.strip():
        raise ValidationError("team", "must be a team's name or id, not empty")
    team_id = name_or_id if isinstance(name_or_id, UUID) else _uuid_or_none(name_or_id)
    if team_id is None:
        wanted = _folded(str(name_or_id))
        named = [team.id for team in app.teams() if _folded(team.name) == wanted]
        if len(named) > 1:
            msg = f"{len(named)} teams are named {name_or_id!r}; give the team's id"
            raise ValidationError("team", msg)
        if not named:
            raise TeamNotFound("team", name_or_id)
        team_id = named[0]
    try:
        return app.get_team(team_id, at=at)
    except TeamNotFound:
        raise TeamNotFound("team", name_or_id) from None


def _team_card(
    app: KamApplication,
    team: Team,
    period: Period,
    at: datetime | None,
    windows: Mapping[Severity, timedelta],
) -> ScorecardTeam:
    # The period's last moment on the team's calendar (its time zone; UTC unless recorded).
    end = team.period_end(period)
    last = end - _INSTANT
    if at is not None:
        last = min(last, at)
    standard = team.standard_at(end - _INSTANT)
    rows = [
        _row(app, team, target, last, at, standard, windows)
        for target in _targets(app, team.id, period, at)
    ]
    return ScorecardTeam(
        team.id, team.name, team.segment, team.region, standard, tuple(_in_plan_order(rows))
    )


def _targets(
    app: KamApplication, team_id: UUID, period: Period, at: datetime | None
) -> list[Target]:
    targets = app.targets(team_id, period)
    if at is None:
        return targets
    then = []
    for target in targets:
        try:
            then.append(app.get_target(target.id, at=at))
        except TargetNotFound:
            continue  # set after the moment asked about
    return then


def _row(
    app: KamApplication,
    team: Team,
    target: Target,
    last: datetime,
    at: datetime | None,
    standard: EvaluationStandard,
    windows: Mapping[Severity, timedelta],
) -> ScorecardRow:
    name, kam_id = _scope_name_and_kam(app, team, target, last, at)
    evaluation = target.latest_evaluation
    if evaluation is None:
        measured = {
            actual.metric: actual
            for actual in app.measure_target(target.id, windows=windows, at=at)
        }
        lines = tuple(
            ScorecardLine.of(goal, measured.get(goal.metric), standard)
            for goal in target.current_goals
        )
    else:
        standard = evaluation.standard
        lines = tuple(
            ScorecardLine.of(goal, evaluation.actual(goal.metric), standard)
            for goal in evaluation.goals
        )
    signatures = target.sign_off_state()
    plan = target.action_plan_state()
    return ScorecardRow(
        team_id=team.id,
        team_name=team.name,
        target_id=target.id,
        parent_id=target.parent_id,
        scope=target.scope.kind,
        scope_id=target.scope.id,
        name=name,
        kam_id=kam_id,
        kam_name=None if kam_id is None else _member_name(team, kam_id),
        lines=lines,
        evaluation_number=None if evaluation is None else evaluation.number,
        evaluated_at=None if evaluation is None else evaluation.at,
        score=None if evaluation is None else evaluation.score,
        rating=None if evaluation is None else evaluation.rating,
        rating_rank=None if evaluation is None else _rank(evaluation.rating, standard),
        goals_revised=evaluation is not None and evaluation.goals != target.current_goals,
        closed_at=target.closed_at,
        signed_by_kam=None if signatures.kam is None else signatures.kam.name,
        signed_by_supervisor=(
            None if signatures.supervisor is None else signatures.supervisor.name
        ),
        action_plan_required=plan.required,
        action_plan_adjusted=plan.adjusted,
        action_plan=plan.plan,
    )


def _scope_name_and_kam(
    app: KamApplication, team: Team, target: Target, last: datetime, at: datetime | None
) -> tuple[str, UUID | None]:
    """The scope's name, and the KAM it answers to at ``last`` (none for the team)."""
    scope = target.scope
    if scope.kind is ScopeKind.TEAM:
        return team.name, None
    if scope.kind is ScopeKind.MEMBER:
        return _member_name(team, scope.id), scope.id
    account = _account(app, scope.id, at)
    return account.name, account.accountable_kam_at(last)


def _account(app: KamApplication, account_id: UUID, at: datetime | None) -> Any:
    if at is not None:
        try:
            return app.get_account(account_id, at=at)
        except AccountNotFound:
            pass  # registered after the moment: its name now is the best there is
    return app.get_account(account_id)


def _member_name(team: Team, member_id: UUID) -> str:
    member = team.members.get(MemberId(member_id))
    return str(member_id) if member is None else member.name


def _rank(rating: str, standard: EvaluationStandard) -> int | None:
    """Where ``rating`` stands among the standard's bands: 0 for the best."""
    ratings = [band.rating for band in standard.bands]
    return ratings.index(rating) if rating in ratings else None


def _in_plan_order(rows: Sequence[ScorecardRow]) -> list[ScorecardRow]:
    """Each target followed by its parts, depth first, in the order they were set."""
    ids = {row.target_id for row in rows}
    children: dict[UUID, list[ScorecardRow]] = {}
    for row in rows:
        if row.parent_id in ids:
            children.setdefault(row.parent_id, []).append(row)
    roots = [row for row in rows if row.parent_id not in ids]
    roots.sort(key=lambda row: -row.scope.breadth)  # stable: set order within a scope kind

    ordered: list[ScorecardRow] = []

    def visit(batch: Iterable[ScorecardRow]) -> None:
        for row in batch:
            ordered.append(row)
            visit(children.get(row.target_id, ()))

    visit(roots)
    return ordered


def _uuid_or_none(text: str) -> UUID | None:
    try:
        return UUID(text.strip())
    except ValueError:
        return None


def _folded(name: str) -> str:
    return " ".join(name.split()).casefold()
