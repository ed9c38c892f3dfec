"""Backdating is bounded and visible: effective times against the moment of writing.

The attacks, through the public API: a command dated far ahead (which used to freeze its
record for good), an approval or grant dated before a revocation already recorded, and
commands dated years back on a team that bounds how far back its commands may go.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam_domain.application import KamApplication
from kam_domain.errors import (
    AuthorityExceeded,
    BackdatedBeyondWindow,
    EffectiveTimeInFuture,
    GrantBeyondOwnAuthority,
    RoleRequired,
    ValidationError,
)
from kam_domain.values import Percentage
from tests.application.test_projects import started
from tests.conftest import Org
from tests.support import at, unchanged


def now() -> datetime:
    return datetime.now(UTC)


def test_a_far_future_time_is_refused_and_freezes_nothing(app: KamApplication, org: Org) -> None:
    """Given a command dated ten years ahead, it is refused, nothing is written, and the next
    command (dated now) is accepted: one bad timestamp cannot freeze the record."""
    with unchanged(app), pytest.raises(EffectiveTimeInFuture, match=r"at: .*clock skew"):
        app.set_capacity(org.team_id, org.senior, None, capacity=9, at=now() + timedelta(days=3650))

    app.set_capacity(org.team_id, org.senior, None, capacity=9)
    assert app.get_team(org.team_id).default_capacity == 9


@given(ahead=st.integers(min_value=1, max_value=10**6))
def test_no_time_beyond_the_skew_is_accepted(ahead: int) -> None:
    """Whatever the distance beyond the allowed skew, the command is refused."""
    app = KamApplication("memory://", run_policies=False, clock_skew=timedelta(seconds=30))
    try:
        with unchanged(app), pytest.raises(EffectiveTimeInFuture):
            app.form_team(
                name="T",
                segment="s",
                region="r",
                director_name="D",
                top_authority=Percentage.of(10),
                at=now() + timedelta(seconds=31 + ahead),
            )
        assert app.recorder.max_notification_id() is None
    finally:
        app.close()


def test_a_time_within_the_skew_is_accepted(app: KamApplication, org: Org) -> None:
    """A command dated a minute ahead (clocks differ a little) is recorded."""
    app.set_capacity(org.team_id, org.senior, None, capacity=7, at=now() + timedelta(minutes=1))

    assert app.get_team(org.team_id).default_capacity == 7


def test_the_clock_skew_setting_is_checked() -> None:
    """A negative or huge clock skew is refused with the setting's name."""
    for skew in (timedelta(seconds=-1), timedelta(days=2)):
        with pytest.raises(ValidationError, match="clock_skew"):
            KamApplication("memory://", clock_skew=skew)


def test_an_approval_dated_before_a_recorded_revocation_is_refused(
    app: KamApplication, org: Org
) -> None:
    """Given kam2's 5 % revoked (recorded now), an approval dated before the revocation, by
    however little, is refused and nothing is written."""
    project_id = started(app, org)
    request_id = app.request_discount(
        project_id, org.rep, percentage=Percentage.of(4), justification="j", at=at(2)
    )
    grant = app.credentials(org.team_id, org.kam2).grant_id
    assert grant is not None
    app.revoke_authority(org.team_id, org.director, grant, reason="moved", at=now())
    before = app.get_project(project_id)

    with unchanged(app), pytest.raises(AuthorityExceeded, match="approver"):
        app.approve_discount(project_id, org.kam2, request_id, at=now() - timedelta(milliseconds=1))

    assert app.get_project(project_id).version == before.version
    assert app.credentials(org.team_id, org.kam2, at(3)).discount_authority == Percentage.of(5)


def test_a_grant_dated_before_the_grantor_lost_authority_is_refused(
    app: KamApplication, org: Org
) -> None:
    """Given the director's 20 % revoked now, a grant by the director dated last month is
    refused: the authority behind it is no longer in force when it is written."""
    grant = app.credentials(org.team_id, org.director).grant_id
    assert grant is not None
    app.revoke_authority(org.team_id, org.senior, grant, reason="restructured", at=now())

    with unchanged(app), pytest.raises(GrantBeyondOwnAuthority, match="max_discount"):
        app.grant_authority(
            org.team_id,
            org.director,
            org.kam,
            max_discount=Percentage.of(8),
            at=now() - timedelta(days=30),
        )


def test_a_grant_that_ends_on_its_own_still_counts_for_its_period(
    app: KamApplication, org: Org
) -> None:
    """A dated grant's own end is not a revocation: an approval dated within it is accepted."""
    project_id = started(app, org)
    app.grant_authority(
        org.team_id,
        org.senior,
        org.kam2,
        max_discount=Percentage.of(9),
        valid_from=at(1),
        valid_until=at(20),
        at=at(1),
    )
    request_id = app.request_discount(
        project_id, org.rep, percentage=Percentage.of(8), justification="j", at=at(2)
    )

    app.approve_discount(project_id, org.kam2, request_id, at=at(3))

    assert app.get_project(project_id).version > 0


def test_the_backdating_window_refuses_older_times_without_permission(
    app: KamApplication, org: Org
) -> None:
    """Given a team that records a one-day backdating window, a command dated a week back is
    refused for a member without the import permission, accepted once it is granted, and
    refused again once it is revoked; each change is an event of the team."""
    app.set_backdating_window(org.team_id, org.senior, window=timedelta(days=1))
    week_ago = now() - timedelta(days=7)

    def register(name: str, when: datetime) -> object:
        return app.register_account(
            org.team_id, org.director, name=name, industry="i", region="r", at=when
        )

    with unchanged(app), pytest.raises(BackdatedBeyondWindow, match=r"at: .*backdating window"):
        register("Old client", week_ago)

    app.grant_history_import(org.team_id, org.senior, org.director)
    register("Old client", week_ago)
    app.revoke_history_import(org.team_id, org.senior, org.director, reason="import done")
    with unchanged(app), pytest.raises(BackdatedBeyondWindow):
        register("Older client", week_ago)
    register("Recent client", now() - timedelta(hours=1))

    names = [type(e).__name__ for e in app.events.get(org.team_id)]
    assert names[-3:] == ["BackdatingWindowSet", "HistoryImportGranted", "HistoryImportRevoked"]


def test_only_the_senior_director_grants_the_import_permission(
    app: KamApplication, org: Org
) -> None:
    """A sales director cannot grant the permission to import history, not even to themself."""
    with unchanged(app), pytest.raises(RoleRequired):
        app.grant_history_import(org.team_id, org.director, org.director)


def test_a_team_formed_as_an_import_records_the_permission(app: KamApplication) -> None:
    """form_team(import_history=True) records that the director may import history."""
    team_id, director = app.form_team(
        name="Imported",
        segment="s",
        region="r",
        director_name="D",
        top_authority=Percentage.of(10),
        import_history=True,
        at=at(0),
    )

    assert app.get_team(team_id).history_importers == frozenset({director})


def test_each_link_records_when_its_event_was_written(app: KamApplication, org: Org) -> None:
    """An event dated last year is written now: the chain keeps both times."""
    from kam_domain.ledger import moment

    before = now()
    app.set_capacity(org.team_id, org.senior, None, capacity=6, at=at(30))
    after = now()

    (link,) = app.recorder.select_links(app.recorder.max_notification_id(), 1)  # type: ignore[attr-defined]
    assert link.written_at is not None
    assert before - timedelta(milliseconds=1) <= moment(link.written_at) <= after
    assert app.get_team(org.team_id).modified_on == at(30)


def test_the_exceptions_report_lists_events_dated_back(app: KamApplication, org: Org) -> None:
    """A capacity dated a month back is listed with both its times; one dated now is not, and
    as of a moment before it was written, it is not listed yet."""
    from kam_domain.audit import FindingKind, exceptions_report

    before = now()
    app.set_capacity(org.team_id, org.senior, None, capacity=3)
    app.register_account(
        org.team_id,
        org.director,
        name="Late",
        industry="i",
        region="r",
        at=now() - timedelta(days=30),
    )

    listed = [f for f in exceptions_report(app).findings if f.kind is FindingKind.BACKDATED]
    earlier = exceptions_report(app, at=before)

    late = [f for f in listed if "ClientAccount.Registered" in f.summary]
    assert len(late) == 1
    assert "effective" in late[0].summary
    assert "written" in late[0].summary
    assert late[0].events[0].position is not None
    assert not any("CapacitySet" in f.summary and f.at > before for f in listed)
    assert not any(
        "ClientAccount.Registered" in f.summary
        for f in earlier.findings
        if f.kind is FindingKind.BACKDATED
    )
