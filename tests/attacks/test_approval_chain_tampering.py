"""An insider with write access to the SQLite file edits a chained request's steps, a
delegation's limit, or deletes a delegation's end, with and without recomputing the links; each
edit is then used through the library. What catches what is asserted; what nothing catches is a
strict xfail naming the gap.

Replay re-decides policies only, so it sees none of these edits of members' decisions."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest

from kam_domain.application import KamApplication
from kam_domain.ledger import GENESIS, chain_link, state_digest
from kam_domain.values import Percentage
from tests.application.test_approval_chains import ask, chained
from tests.attacks.conftest import kam, position_of, run, state, url, write_state
from tests.conftest import Org, build_org, fresh_store
from tests.postgres_server import connect_kwargs, schema_of
from tests.support import at


@dataclass(frozen=True)
class Scene:
    path: Path
    org: Org
    project_id: UUID
    request_id: UUID


def rechain_written(path: Path) -> None:
    """Recompute every link in the chain format the library writes (with the written times the
    chain table holds), as an insider who read the library can."""
    with closing(sqlite3.connect(path)) as db, db:
        events = db.execute(
            "SELECT e.rowid, originator_id, originator_version, topic, state, c.written_at "
            "FROM stored_events e LEFT JOIN stored_events_chain c ON c.position = e.rowid "
            "ORDER BY e.rowid"
        ).fetchall()
        db.execute("DELETE FROM stored_events_chain")
        previous = GENESIS
        for position, identity, version, topic, stored, written in events:
            previous = chain_link(
                previous, position, str(UUID(identity)), version, topic, state_digest(stored),
                written,
            )  # fmt: skip
            db.execute(
                "INSERT INTO stored_events_chain (position, link, written_at) VALUES (?, ?, ?)",
                (position, previous, written),
            )


@pytest.fixture(scope="session")
def scene_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Org, UUID, UUID]:
    """8 % asked under rules giving the project director's step, then the sales director's; the
    project director delegated 7 % to the second KAM; the sales director delegated all of hers
    to the second KAM, and ended that delegation (the team's last event)."""
    path = tmp_path_factory.mktemp("chains") / "kam.db"
    org, project_id, request_id = build_scene(url(path, read_only=False))
    return path, org, project_id, request_id


def build_scene(store: str) -> tuple[Org, UUID, UUID]:
    """The scene of :func:`scene_file` in ``store``."""
    app = KamApplication(store)
    org = build_org(app)
    project_id = chained(app, org)
    for delegator, limit in ((org.project_director, Percentage.of(7)), (org.director, None)):
        ended = app.delegate_authority(
            org.team_id,
            delegator,
            delegator_id=delegator,
            delegate_id=org.kam2,
            valid_from=at(2),
            valid_until=at(10),
            reason="leave",
            max_discount=limit,
            at=at(1),
        )
    request_id = ask(app, org, project_id, 8)
    app.end_delegation(org.team_id, org.director, ended, reason="back", at=at(2, 1))
    app.close()
    return org, project_id, request_id


@pytest.fixture(name="scene")
def fixture_scene(scene_file: tuple[Path, Org, UUID, UUID], tmp_path: Path) -> Scene:
    source, org, project_id, request_id = scene_file
    path = tmp_path / "kam.db"
    shutil.copy(source, path)
    return Scene(path, org, project_id, request_id)


def checkpoint(scene: Scene) -> str:
    result = kam("audit", "checkpoint", "--store", url(scene.path))
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1].split()[-1]


def verify(scene: Scene, *options: str) -> int:
    return kam("audit", "verify", "--store", url(scene.path), *options).returncode


def counts(scene: Scene) -> dict[str, int]:
    result = kam("audit", "exceptions", "--store", url(scene.path), "--format", "json")
    assert result.returncode == 0, result.stderr
    found: dict[str, int] = json.loads(result.stdout)["counts"]
    return found


def shorten_chain(scene: Scene) -> None:
    """The sales director's step is cut from the stored chain."""
    [position] = position_of(scene.path, "Project.ChainedDiscountRequested")
    fields = state(scene.path, position)
    fields["chain"]["_data_"]["steps"] = fields["chain"]["_data_"]["steps"][:1]
    write_state(scene.path, position, fields)


def raise_limit(scene: Scene) -> None:
    """The project director's 7 % delegation reads 8 %."""
    position = position_of(scene.path, "Team.AuthorityDelegated")[0]
    fields = state(scene.path, position)
    fields["delegation"]["_data_"]["max_discount"]["_data_"]["value"]["_data_"] = "8"
    write_state(scene.path, position, fields)


def delete_end(scene: Scene) -> None:
    [position] = position_of(scene.path, "Team.DelegationEnded")
    run(scene.path, "DELETE FROM stored_events WHERE rowid = ?", (position,))


def use(scene: Scene, edit: str) -> None:
    """Approve what the edit lets through, on the live store."""
    org, project_id, request_id = scene.org, scene.project_id, scene.request_id
    app = KamApplication(url(scene.path, read_only=False))
    try:
        if edit == "steps-both":
            app.approve_discount_step(
                project_id, org.project_director, request_id, step=1, at=at(3)
            )
            app.approve_discount_step(project_id, org.director, request_id, step=2, at=at(4))
        elif edit == "steps":
            app.approve_discount_step(
                project_id, org.project_director, request_id, step=1, at=at(3)
            )
        elif edit == "limit":
            app.approve_discount_step(
                project_id, org.kam2, request_id, step=1, on_behalf_of=org.project_director,
                at=at(3),
            )  # fmt: skip
            app.approve_discount_step(project_id, org.director, request_id, step=2, at=at(4))
        else:
            app.approve_discount_step(
                project_id, org.project_director, request_id, step=1, at=at(3)
            )
            app.approve_discount_step(
                project_id, org.kam2, request_id, step=2, on_behalf_of=org.director, at=at(4)
            )
        decision = app.get_project(project_id).discount_request(request_id).decision  # type: ignore[arg-type]
        assert decision is not None
    finally:
        app.close()


EDITS = {"steps": shorten_chain, "limit": raise_limit, "ended": delete_end}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_an_edit_without_links_recomputed_is_caught_by_verify(scene: Scene, edit: str) -> None:
    """Each edit, links left as they were, fails ``kam audit verify``."""
    EDITS[edit](scene)
    assert verify(scene) == 3


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_an_edit_rechained_and_used_is_caught_against_a_checkpoint(scene: Scene, edit: str) -> None:
    """Each edit, links recomputed and then used to approve, fails verify against a checkpoint
    taken before it (and passes without one: the chain alone cannot tell)."""
    digest = checkpoint(scene)
    EDITS[edit](scene)
    rechain_written(scene.path)
    use(scene, edit)
    assert verify(scene) == 0
    assert verify(scene, "--checkpoint", digest) == 3


def test_a_deleted_delegation_end_is_caught_by_a_deep_verify(scene: Scene) -> None:
    """The end deleted and the links recomputed: the as-of index still holds the deleted
    event's row, which ``kam audit verify --deep`` reports (unless the insider removes it too)."""
    delete_end(scene)
    rechain_written(scene.path)
    use(scene, "ended")
    result = kam("audit", "verify", "--deep", "--store", url(scene.path))
    assert "DERIVED DATA DIFFERS" in result.stdout, result.stdout


def test_the_exceptions_report_lists_a_chain_shorter_than_the_rules(scene: Scene) -> None:
    """A request approved after the sales director's step was cut from its stored chain, links
    recomputed and no checkpoint: verify and replay pass; the exceptions report, reading the
    chain against the team's rules in force when it was requested, lists the approval."""
    before = counts(scene)
    shorten_chain(scene)
    rechain_written(scene.path)
    use(scene, "steps")
    after = counts(scene)
    assert after["approval_outside_authority"] > before["approval_outside_authority"], after
    assert verify(scene) == 0


def test_a_chained_request_made_a_single_one_is_listed_by_the_exceptions(scene: Scene) -> None:
    """The stored request's topic made ``DiscountRequested`` and its chain dropped, links
    recomputed, then approved in one go by the project director: the report lists it."""
    [position] = position_of(scene.path, "Project.ChainedDiscountRequested")
    fields = state(scene.path, position)
    del fields["chain"]
    write_state(scene.path, position, fields)
    topic = "kam_domain.aggregates.project:Project.DiscountRequested"
    run(scene.path, "UPDATE stored_events SET topic = ? WHERE rowid = ?", (topic, position))
    rechain_written(scene.path)
    app = KamApplication(url(scene.path, read_only=False))
    try:
        org = scene.org
        app.approve_discount(scene.project_id, org.project_director, scene.request_id, at=at(3))
    finally:
        app.close()
    assert verify(scene) == 0
    assert counts(scene)["approval_outside_authority"] == 1


def test_a_step_approval_moved_to_the_first_approver_is_listed(scene: Scene) -> None:
    """The chain approved by the project director then the sales director; the second step's
    stored approver made the project director, links recomputed: the report lists one member
    behind two steps."""
    use(scene, "steps-both")
    before = counts(scene)
    position = position_of(scene.path, "Project.ApprovalStepApproved")[-1]
    fields = state(scene.path, position)
    fields["approver"]["_data_"]["member_id"]["_data_"] = scene.org.project_director.hex
    write_state(scene.path, position, fields)
    rechain_written(scene.path)
    assert verify(scene) == 0
    after = counts(scene)
    assert after["approval_outside_authority"] == before["approval_outside_authority"] + 1


def test_a_step_approval_moved_to_a_member_without_the_authority_is_listed(
    scene: Scene,
) -> None:
    """The project director's stored step approval made the second KAM's (5 %, under the 8 %
    asked), its credentials left as they were, links recomputed: the report, reading her
    authority again from the Team, lists it."""
    use(scene, "steps-both")
    before = counts(scene)
    position = position_of(scene.path, "Project.ApprovalStepApproved")[0]
    fields = state(scene.path, position)
    fields["approver"]["_data_"]["member_id"]["_data_"] = scene.org.kam2.hex
    write_state(scene.path, position, fields)
    rechain_written(scene.path)
    assert verify(scene) == 0
    after = counts(scene)
    assert after["approval_outside_authority"] == before["approval_outside_authority"] + 1


@pytest.mark.xfail(
    strict=True,
    reason="open: a delegation's limit raised in the store within the delegator's authority, "
    "links recomputed and no checkpoint, contradicts nothing else on the record; only "
    "verify against a checkpoint taken before it catches it",
)
def test_the_exceptions_report_lists_a_raised_delegation_limit(scene: Scene) -> None:
    """The project director's 7 % delegation made 8 % in the store, then used for a step at
    8 %: the report lists it for review but finds it within the (edited) delegation."""
    raise_limit(scene)
    rechain_written(scene.path)
    use(scene, "limit")
    found = counts(scene)
    assert found["approval_under_delegation"] == 1, found
    assert found["approval_outside_authority"] >= 1, found


@pytest.mark.parametrize("edit", ["steps", "limit"])
def test_replay_does_not_read_members_steps(scene: Scene, edit: str) -> None:
    """Replay re-decides policies only: a member's step approved under an edit, links
    recomputed, is no divergence (what replay can and cannot tell, asserted)."""
    shorten_chain(scene) if edit == "steps" else raise_limit(scene)
    rechain_written(scene.path)
    use(scene, edit)
    result = kam("replay", "--store", url(scene.path))
    assert result.returncode == 0, result.stdout
    assert "0 diverged" in result.stdout


@pytest.fixture(name="postgres_scene")
def fixture_postgres_scene(tmp_path: Path) -> Iterator[tuple[str, Org, UUID, UUID]]:
    """The scene in a PostgreSQL schema of its own (skipped without a server)."""
    with fresh_store("postgres", tmp_path) as store:
        org, project_id, request_id = build_scene(store)
        yield store, org, project_id, request_id


def test_postgres_chain_shortened_and_rechained_is_listed_by_the_exceptions(
    postgres_scene: tuple[str, Org, UUID, UUID],
) -> None:
    """The sales director's step cut with SQL on PostgreSQL, links recomputed in the library's
    format, the request then approved by the project director alone: verify passes, the
    exceptions report lists the approval."""
    import psycopg

    store, org, project_id, request_id = postgres_scene
    schema = schema_of(store)
    table, links = f'"{schema}".kam_events', f'"{schema}".kam_events_chain'
    with psycopg.connect(**connect_kwargs(store), autocommit=True) as db:
        [(position, raw)] = db.execute(
            f"SELECT notification_id, state FROM {table} WHERE topic LIKE "
            "'%Project.ChainedDiscountRequested'"
        ).fetchall()
        fields = json.loads(bytes(raw))
        fields["chain"]["_data_"]["steps"] = fields["chain"]["_data_"]["steps"][:1]
        forged = json.dumps(fields, separators=(",", ":")).encode()
        db.execute(f"UPDATE {table} SET state = %s WHERE notification_id = %s", (forged, position))
        previous = GENESIS
        for pos, identity, version, topic, stored, written in db.execute(
            f"SELECT e.notification_id, originator_id, originator_version, topic, state, "
            f"c.written_at FROM {table} e JOIN {links} c ON c.position = e.notification_id "
            "ORDER BY e.notification_id"
        ).fetchall():
            previous = chain_link(
                previous, pos, str(identity), version, topic, state_digest(bytes(stored)), written
            )
            db.execute(f"UPDATE {links} SET link = %s WHERE position = %s", (previous, pos))
    app = KamApplication(store)
    try:
        app.approve_discount_step(project_id, org.project_director, request_id, step=1, at=at(3))
    finally:
        app.close()
    assert kam("audit", "verify", "--store", store).returncode == 0
    result = kam("audit", "exceptions", "--store", store, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["counts"]["approval_outside_authority"] == 1
