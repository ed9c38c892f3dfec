"""The scorecard read from the demo's quarter: rows per team, KAM and account, as of any moment."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import attrs
import pytest

from kam_domain.aggregates.target import (
    RevenueGoal,
    SatisfactionGoal,
    ScopeKind,
    ServiceLevelGoal,
    TargetScope,
)
from kam_domain.application import KamApplication
from kam_domain.demo import QUARTER, build_demo
from kam_domain.errors import TeamNotFound, ValidationError
from kam_domain.reports import Scorecard, render_html, scorecard
from kam_domain.reports.scorecard import RECORD_COLUMNS
from kam_domain.values import Metric, Money, Period, Role

#: Mid-quarter: payments and cases recorded, nothing closed or evaluated yet.
MID_QUARTER = datetime(2026, 2, 15, tzinfo=UTC)


@pytest.fixture(name="demo", scope="module")
def fixture_demo() -> Iterator[KamApplication]:
    """The demo's quarter, built once for the module (the tests only read it)."""
    app = KamApplication("memory://")
    build_demo(app)
    yield app
    app.close()


@pytest.fixture(name="card", scope="module")
def fixture_card(demo: KamApplication) -> Scorecard:
    return scorecard(demo, QUARTER)


def test_every_target_of_the_period_has_a_row_in_plan_order(
    demo: KamApplication, card: Scorecard
) -> None:
    """The team target comes first, then each KAM's target followed by its account targets."""
    targets = demo.targets(None, QUARTER)

    rows = card.rows

    assert {row.target_id for row in rows} == {target.id for target in targets}
    assert len(rows) == len(targets)
    assert rows[0].scope is ScopeKind.TEAM
    current_kam = None
    for row in rows[1:]:
        if row.scope is ScopeKind.MEMBER:
            current_kam = row.target_id
        else:
            assert row.scope is ScopeKind.ACCOUNT
            assert row.parent_id == current_kam


def test_evaluated_rows_show_what_the_recorded_evaluation_scored(
    demo: KamApplication, card: Scorecard
) -> None:
    """Goals, actuals, score and rating are the latest evaluation's; attainment is actual/goal."""
    for row in card.rows:
        evaluation = demo.get_target(row.target_id).latest_evaluation
        assert evaluation is not None

        assert row.status == "evaluated"
        assert (row.score, row.rating) == (evaluation.score, evaluation.rating)
        assert [line.goal for line in row.lines] == [goal.value for goal in evaluation.goals]
        for line in row.lines:
            actual = evaluation.actual(line.metric)
            assert actual is not None
            assert line.actual == actual.value
            goal = line.goal.amount if isinstance(line.goal, Money) else line.goal
            value = line.actual.amount if isinstance(line.actual, Money) else line.actual
            percent = (value / goal * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            assert line.attainment == percent


def test_names_kams_sign_offs_and_action_plans_come_from_the_record(
    demo: KamApplication, card: Scorecard
) -> None:
    """Each row names its scope and KAM; sign-off and action plan follow the target's state."""
    (team,) = demo.teams()

    for row in card.rows:
        target = demo.get_target(row.target_id)
        if row.scope is ScopeKind.TEAM:
            assert (row.name, row.kam_name) == (team.name, None)
        elif row.scope is ScopeKind.MEMBER:
            assert row.name == row.kam_name == team.members[row.scope_id].name
        else:
            account = demo.get_account(row.scope_id)
            kam = account.accountable_kam_at(QUARTER.end - timedelta(microseconds=1))
            assert (row.name, row.kam_id) == (account.name, kam)
        assert row.signed_off == target.is_signed_off
        assert row.action_plan_missing == target.action_plan_state().missing
    unsigned = [row.name for row in card.rows if not row.signed_off]
    assert len(unsigned) == 2  # the demo leaves two accounts' sign-offs undone
    assert {row.sign_off_text for row in card.rows} == {"yes", "no"}
    assert "adjusted" in {row.action_plan_text for row in card.rows}


def test_as_of_mid_quarter_rows_are_not_evaluated_and_measure_actuals_so_far(
    demo: KamApplication,
) -> None:
    """Before the close, each row shows the goals and what the log measured up to that moment."""
    card = scorecard(demo, QUARTER, at=MID_QUARTER)

    assert card.at == MID_QUARTER
    assert card.rows
    for row in card.rows:
        assert (row.status, row.score, row.rating, row.sign_off_text) == (
            "not evaluated",
            None,
            None,
            "—",
        )
        if row.scope is ScopeKind.ACCOUNT:
            account = demo.get_account(row.scope_id, at=MID_QUARTER)
            received = sum(
                (
                    p.amount.amount
                    for p in account.payments.values()
                    if QUARTER.contains(p.received_at)
                ),
                Decimal(0),
            )
            revenue = row.line(Metric.SALES_REVENUE)
            assert revenue is not None
            assert isinstance(revenue.actual, Money)
            assert revenue.actual.amount == received


def test_a_target_not_evaluated_shows_the_facades_measured_actuals() -> None:
    """Without a moment, an open target's actuals are the facade's measure_target's."""
    app = KamApplication("memory://")
    build_demo(app)
    (team,) = app.teams()
    senior = team.active_members(Role.SENIOR_SALES_DIRECTOR)[0].member_id
    goals = (
        RevenueGoal(Money(Decimal(100_000), "CNY")),
        ServiceLevelGoal(Decimal(95)),
        SatisfactionGoal(Decimal(85)),
    )
    next_quarter = Period(2026, 2)
    target_id = app.set_target(
        team.id,
        senior,
        scope=TargetScope.team(team.id),
        period=next_quarter,
        goals=goals,
        at=datetime(2026, 4, 20, tzinfo=UTC),
    )

    card = scorecard(app, next_quarter, team=team.id)

    (row,) = card.rows
    measured = {actual.metric: actual.value for actual in app.measure_target(target_id)}
    assert row.status == "not evaluated"
    assert {line.metric: line.actual for line in row.lines} == {
        metric: measured.get(metric) for metric in Metric
    }
    assert [line.goal for line in row.lines] == [goal.value for goal in goals]
    app.close()


def test_a_moment_before_any_target_gives_an_empty_scorecard(demo: KamApplication) -> None:
    """Targets set after the moment asked about are not in the scorecard as of that moment."""
    before = datetime(2026, 1, 6, tzinfo=UTC)
    (team,) = demo.teams()

    everyone = scorecard(demo, QUARTER, at=before)
    named = scorecard(demo, QUARTER, team=team.name, at=before)

    assert everyone.teams == ()
    assert [(t.name, t.rows) for t in named.teams] == [(team.name, ())]


def test_a_team_is_named_by_name_or_id_and_an_unknown_one_is_refused(
    demo: KamApplication, card: Scorecard
) -> None:
    """Name (case and spacing ignored) and id pick the same team; an unknown one is refused."""
    (team,) = demo.teams()

    by_name = scorecard(demo, QUARTER, team=f"  {team.name.upper()} ")
    by_id = scorecard(demo, QUARTER, team=str(team.id))

    assert by_name == by_id == card
    with pytest.raises(TeamNotFound, match="nowhere"):
        scorecard(demo, QUARTER, team="nowhere")


def test_refuses_a_period_that_is_not_a_period_and_a_naive_moment(demo: KamApplication) -> None:
    """Bad input names its field."""
    with pytest.raises(ValidationError, match=r"^period"):
        scorecard(demo, "2026-Q1")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^at"):
        scorecard(demo, QUARTER, at=datetime(2026, 2, 1))


def test_json_and_csv_forms_hold_every_row_and_metric(card: Scorecard) -> None:
    """The dict form survives JSON; the records are one per target and metric, all columns."""
    document = json.loads(json.dumps(card.as_dict()))
    records = card.records()

    targets = document["teams"][0]["targets"]
    assert [t["target_id"] for t in targets] == [str(row.target_id) for row in card.rows]
    assert {t["scope"] for t in targets} == {"team", "kam", "account"}
    assert len(records) == sum(len(row.lines) for row in card.rows)
    assert all(tuple(record) == RECORD_COLUMNS for record in records)
    first = records[0]
    assert (first["scope"], first["metric"], first["unit"]) == ("team", "sales_revenue", "CNY")


def test_the_html_page_loads_nothing_from_anywhere(card: Scorecard) -> None:
    """One page: no http(s) reference, no script, no external resource; a policy forbids any."""
    page = render_html(card)

    assert not re.search(r"https?://", page, re.IGNORECASE)
    assert "<script" not in page.lower()
    assert not re.search(r"\b(src|href)\s*=", page, re.IGNORECASE)
    assert "url(" not in page
    assert "@import" not in page
    assert "default-src 'none'" in page
    for row in card.rows:
        assert row.name in page
        assert f">{row.rating}<" in page


def test_the_html_page_escapes_names(card: Scorecard) -> None:
    """A name holding markup is shown as text, never as markup."""
    team = card.teams[0]
    hostile = '<img onerror="x">&co'
    rows = tuple(attrs.evolve(row, name=hostile) for row in team.rows)
    card = attrs.evolve(card, teams=(attrs.evolve(team, name=hostile, rows=rows),))

    page = render_html(card)

    assert hostile not in page
    assert "&lt;img onerror=&#34;x&#34;&gt;&amp;co" in page


#: As long as the hostile name, so that the charts clip both alike (at 26 characters).
BENIGN = "Xscript-alert(1)-Xscript-"
HOSTILE = "<script>alert(1)</script>"


@pytest.mark.parametrize("scope", [ScopeKind.TEAM, ScopeKind.ACCOUNT])
def test_a_script_in_a_team_or_account_name_is_shown_escaped_wherever_the_name_is(
    card: Scorecard, scope: ScopeKind
) -> None:
    """A team or account named ``<script>alert(1)</script>`` appears escaped in every place the
    page shows that name (masthead, title, tables, chart labels and titles), never as a tag."""

    def named(name: str) -> Scorecard:
        team = card.teams[0]
        if scope is ScopeKind.TEAM:
            rows = tuple(
                attrs.evolve(row, name=name) if row.scope is ScopeKind.TEAM else row
                for row in team.rows
            )
            return attrs.evolve(card, teams=(attrs.evolve(team, name=name, rows=rows),))
        first = next(row for row in team.rows if row.scope is ScopeKind.ACCOUNT)
        rows = tuple(attrs.evolve(row, name=name) if row is first else row for row in team.rows)
        return attrs.evolve(card, teams=(attrs.evolve(team, rows=rows),))

    places = render_html(named(BENIGN)).count(BENIGN)
    page = render_html(named(HOSTILE))

    assert places > 1
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == places
    assert "<script" not in page.lower()
