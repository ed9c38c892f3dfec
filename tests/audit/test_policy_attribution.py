"""Policy impersonation: the facade refuses a policy actor, and the exceptions report lists every
event attributed to a policy without that policy's decision record, however it was written."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from uuid import UUID

import pytest

from kam_domain.aggregates.base import Meta
from kam_domain.application import KamApplication
from kam_domain.audit.exceptions import FindingKind, exceptions_report
from kam_domain.errors import PolicyImpersonation
from kam_domain.values import Actor, DiscountRequestId, Percentage
from tests import postgres_server
from tests.audit.test_exceptions import project
from tests.conftest import Org, build_org
from tests.policy_acts import act_as_policy
from tests.support import at

PRICE_APPROVAL = Actor.policy("price_approval", 1)


def requested(app: KamApplication, org: Org) -> tuple[UUID, DiscountRequestId]:
    """A project with the KAM's 4 % request pending (within the KAM's own 5 %)."""
    project_id = project(app, org)
    request_id = app.request_discount(
        project_id, org.kam, percentage=Percentage.of(4), justification="j", at=at(2)
    )
    return project_id, request_id


def approve_as_policy(
    app: KamApplication,
    project_id: UUID,
    request_id: DiscountRequestId,
    *,
    decision_by: Actor | None,
) -> int:
    """Approve as price_approval@1 the way the engine does, with the decision ``decision_by``
    names, or none at all. Returns the approval's version."""
    record = app.get_project(project_id)
    kam = app.credentials(record.team_id, record.discount_request(request_id).requester_id)
    return act_as_policy(
        app,
        project_id,
        PRICE_APPROVAL,
        lambda project, meta: project.approve_discount(meta, kam, request_id),
        at(3),
        decision_by=decision_by,
        with_decision=decision_by is not None,
    )


def test_the_facade_refuses_every_policy_actor(app: KamApplication) -> None:
    """Naming a policy as the actor of a facade command raises PolicyImpersonation, naming the
    actor, and records nothing."""
    org = build_org(app)
    project_id, request_id = requested(app, org)
    head = app.recorder.max_notification_id()

    with pytest.raises(PolicyImpersonation, match="actor: policy:price_approval@1"):
        app.approve_discount(project_id, PRICE_APPROVAL, request_id, approver_id=org.kam)
    with pytest.raises(PolicyImpersonation, match="actor: policy:assignment@1"):
        app.grant_authority(
            org.team_id, Actor.policy("assignment", 1), org.kam, max_discount=Percentage.of(30)
        )

    assert app.recorder.max_notification_id() == head


def test_saving_a_record_changed_as_a_policy_is_refused(app: KamApplication) -> None:
    """A caller who drives the aggregate as a policy and saves it through the application is
    refused: only the engine's recording path takes policy-attributed events."""
    org = build_org(app)
    project_id, request_id = requested(app, org)
    head = app.recorder.max_notification_id()
    record = app.get_project(project_id)
    kam = app.credentials(org.team_id, org.kam)

    record.approve_discount(Meta.command(PRICE_APPROVAL, at=at(3)), kam, request_id)
    with pytest.raises(PolicyImpersonation):
        app.save(record)

    assert app.recorder.max_notification_id() == head


def test_the_engines_way_with_its_decision_is_not_listed(app: KamApplication) -> None:
    """An approval recorded as the engine records it, with its decision, is not a finding."""
    org = build_org(app)
    project_id, request_id = requested(app, org)

    approve_as_policy(app, project_id, request_id, decision_by=PRICE_APPROVAL)

    assert not exceptions_report(app).of(FindingKind.POLICY_EVENT_WITHOUT_DECISION)


def test_a_policy_approval_without_a_decision_is_listed(app: KamApplication) -> None:
    """An approval attributed to price_approval@1 with no decision record behind it (written
    through the recording path itself, by someone with the code and write access) is listed,
    with its position."""
    org = build_org(app)
    project_id, request_id = requested(app, org)

    version = approve_as_policy(app, project_id, request_id, decision_by=None)

    [finding] = exceptions_report(app).of(FindingKind.POLICY_EVENT_WITHOUT_DECISION)
    assert finding.summary == (
        "Project.DiscountApproved by policy:price_approval@1:"
        " no decision record of price_approval@1 caused it"
    )
    [ref] = finding.events
    assert (ref.record_id, ref.version, ref.event) == (
        project_id,
        version,
        "Project.DiscountApproved",
    )
    assert ref.position == app.recorder.max_notification_id()


def test_a_decision_of_another_policy_does_not_explain_it(app: KamApplication) -> None:
    """An approval whose decision record is another policy's is listed, naming both."""
    org = build_org(app)
    project_id, request_id = requested(app, org)

    approve_as_policy(app, project_id, request_id, decision_by=Actor.policy("coverage", 1))

    [finding] = exceptions_report(app).of(FindingKind.POLICY_EVENT_WITHOUT_DECISION)
    assert "its decision record is coverage@1's, not price_approval@1's" in finding.summary


_MEMBER_KIND = '{"kind":{"_type_":"ActorKind","_data_":"member"},"ref":"%s"}'
_POLICY_KIND = '{"kind":{"_type_":"ActorKind","_data_":"policy"},"ref":"price_approval@1"}'


def _claim_for_policy_sqlite(url: str, position: int, member: UUID) -> None:
    path = url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT), ?, ?) AS BLOB)"
            " WHERE rowid = ?",
            (_MEMBER_KIND % member, _POLICY_KIND, position),
        )


def _claim_for_policy_postgres(url: str, position: int, member: UUID) -> None:
    from psycopg.sql import SQL, Identifier

    statement = SQL(
        "UPDATE {}.kam_events SET state = convert_to(replace(convert_from(state, 'UTF8'),"
        " %s, %s), 'UTF8') WHERE notification_id = %s"
    ).format(Identifier(postgres_server.schema_of(url)))
    with postgres_server.connect(url) as conn, conn.transaction():
        conn.execute(statement, (_MEMBER_KIND % member, _POLICY_KIND, position))


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_an_event_respelt_as_a_policys_in_the_database_is_listed(store: str) -> None:
    """A member's stored approval rewritten by raw SQL to claim price_approval@1 is listed by
    the exceptions report (and the chain no longer verifies)."""
    with KamApplication(store, run_policies=False) as app:
        org = build_org(app)
        project_id, request_id = requested(app, org)
        app.approve_discount(project_id, org.director, request_id, at=at(3))
        position = app.recorder.max_notification_id()
    assert position is not None
    claim = _claim_for_policy_sqlite if store.startswith("sqlite") else _claim_for_policy_postgres

    claim(store, position, org.director)

    with KamApplication(store, run_policies=False) as app:
        [finding] = exceptions_report(app).of(FindingKind.POLICY_EVENT_WITHOUT_DECISION)
        approved = app.get_project(project_id).decision(request_id)
    assert finding.events[0].position == position
    assert "no decision record of price_approval@1" in finding.summary
    assert approved is not None
    assert approved.decided_by == "manual"
