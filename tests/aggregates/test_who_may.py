"""Who may run each command: every command of every aggregate against every role, from the one
table in tests/aggregates/who_may.py; the roles allowed record the command's event, the others
are refused with that command's exception and nothing is recorded."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.aggregates.opportunity import Opportunity, PipelineSettings
from kam_domain.aggregates.project import Project
from kam_domain.aggregates.target import Target
from kam_domain.aggregates.team import Team
from kam_domain.values import Percentage, Role
from tests.aggregates.role_scene import Scene
from tests.aggregates.who_may import CASES, COMPANY_COMMANDS, Case, commands_of
from tests.support import state_of, then, unchanged

AGGREGATES = (Team, ClientAccount, Project, Target, Opportunity, PipelineSettings)


@pytest.fixture(name="scene", scope="module")
def fixture_scene() -> Scene:
    """One team with a member in every role; each record state is built once for the module."""
    return Scene()


def pairs() -> list[Any]:
    """Every case with every role; a role the domain gives the work but the code refuses is an
    expected failure, with the reason."""
    params = []
    for entry in CASES:
        for role in Role:
            marks = []
            if role in entry.documented:
                marks.append(pytest.mark.xfail(strict=True, reason=entry.documented[role]))
            params.append(pytest.param(entry, role, marks=marks, id=f"{entry.id}-{role.value}"))
    return params


def test_every_command_of_every_aggregate_has_an_entry_in_the_table() -> None:
    """Every command (wherever in the class's bases it is defined) is in the table, or is one
    of the company's own, which take no member's credentials; the table names no others."""
    commands = {(cls, name) for cls in AGGREGATES for name in commands_of(cls)}
    declared = {(entry.cls, entry.name) for entry in CASES}

    assert commands - COMPANY_COMMANDS - declared == set()
    assert declared - commands == set()
    assert len(declared) > 50


@pytest.mark.parametrize(("entry", "role"), pairs())
def test_only_the_roles_the_table_names_run_each_command(
    scene: Scene, entry: Case, role: Role
) -> None:
    """Given a record in the state the command needs, when a member of ``role`` issues it, then
    an allowed role (or one docs/domain.md gives the work) records the command's event, which
    changes the record's state, and any other is refused with the command's exception for that
    role, nothing recorded."""
    record = scene.fresh(entry.state)
    by = scene.by[role]

    if role in entry.roles or role in entry.documented:
        before = {} if record is None else state_of(record)

        done = entry.command(scene, record, by)

        assert then(done) == [entry.event]
        assert state_of(done) != before, "the event changed nothing"
    elif record is None:
        with pytest.raises(entry.refusal_for(role), match=r"^(actor|approver|scope)"):
            entry.command(scene, record, by)
    else:
        with unchanged(record), pytest.raises(entry.refusal_for(role)):
            entry.command(scene, record, by)


AUTHORITY_CASES = [entry for entry in CASES if entry.authority is not None]


@pytest.mark.parametrize(
    ("entry", "role"),
    [
        pytest.param(entry, role, id=f"{entry.id}-{role.value}")
        for entry in AUTHORITY_CASES
        for role in sorted(entry.roles, key=lambda role: role.value)
    ],
)
def test_an_allowed_role_without_the_authority_is_refused(
    scene: Scene, entry: Case, role: Role
) -> None:
    """Given a command that needs discount authority, when an allowed role holds less than it
    needs, then it is refused with the command's exception for that and nothing is recorded."""
    assert entry.authority is not None
    record = scene.fresh(entry.state)
    short = attrs.evolve(scene.by[role], discount_authority=Percentage.of(entry.authority - 1))

    with unchanged(record), pytest.raises(entry.short):
        entry.command(scene, record, short)
