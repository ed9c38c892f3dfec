"""Records named the way an auditor names them: a team, account, project or target by its name
or its id, and the name each one is shown by.

Teams, accounts and projects have names. A target is named by what it is set for and its
period, as the reports show it: ``Huaxia Mobile 2026-Q1`` (an account's), ``KAM Li Wei 2026-Q1``
(a KAM's), ``team East 2026-Q1`` (a team's). Names are compared with case and runs of spaces
ignored. A name that matches nothing is refused with the closest names there are; a name two
records share is refused too (give the id).
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from kam_domain.aggregates.target import ScopeKind, Target
from kam_domain.application.directory import name_key
from kam_domain.errors import MemberNotFound, NothingNamed, ValidationError

__all__ = ["KINDS", "close", "named", "names", "record_name", "resolve", "target_name"]

#: What ``kam show`` shows, in the order help texts list them.
KINDS = ("team", "account", "project", "target")
#: What can be named: those, and a team's members.
NAMEABLE = (*KINDS, "member")

#: How many close names a refusal lists.
_CLOSE = 5


def resolve(app: Any, kind: str, name_or_id: str | UUID) -> UUID:
    """The id of the ``kind`` record named ``name_or_id`` (its name, or its id as text)."""
    if kind not in NAMEABLE:
        msg = f"must be one of {', '.join(NAMEABLE)}, not {kind!r}"
        raise ValidationError("kind", msg)
    if isinstance(name_or_id, UUID):
        return _existing(app, kind, name_or_id, name_or_id)
    if not isinstance(name_or_id, str) or not name_or_id.strip():
        raise ValidationError(kind, f"must be a name or id, not {name_or_id!r}")
    wanted = name_key(name_or_id)
    found = [record_id for record_id, name in names(app, kind) if name_key(name) == wanted]
    if len(found) > 1:
        msg = f"{len(found)} {kind}s are named {name_or_id!r}; give the id of one"
        raise ValidationError(kind, msg)
    if found:
        return found[0]
    try:
        record_id = UUID(name_or_id.strip())
    except ValueError:
        raise NothingNamed(kind, name_or_id, close(app, kind, name_or_id)) from None
    return _existing(app, kind, record_id, name_or_id)


def named(app: Any, kind: str, name_or_id: str | UUID) -> Any:
    """The ``kind`` record named ``name_or_id``, as it is now."""
    return _getter(app, kind)(resolve(app, kind, name_or_id))


def names(app: Any, kind: str) -> Iterator[tuple[UUID, str]]:
    """Every ``kind`` record's id and name, in the order they were recorded."""
    if kind == "team":
        yield from ((team.id, team.name) for team in app.teams())
    elif kind == "account":
        yield from ((account.id, account.name) for account in app.accounts())
    elif kind == "project":
        yield from ((project.id, project.name) for project in app.projects())
    elif kind == "member":
        yield from _Labels(app).members().items()
    else:
        labels = _Labels(app)
        yield from ((target.id, labels.target(target)) for target in app.targets())


def record_name(app: Any, record: Any) -> str:
    """The name ``record`` (a team, account, project or target) is shown by."""
    if isinstance(record, Target):
        return target_name(app, record)
    return str(record.name)


def target_name(app: Any, target: Target) -> str:
    """A target's name: what it is set for and its period (see the module's docs)."""
    return _Labels(app).target(target)


def close(app: Any, kind: str, text: str) -> tuple[str, ...]:
    """The names of ``kind`` closest to ``text``, best first (none when nothing is close)."""
    by_key = {name_key(name): name for _, name in names(app, kind)}
    found = difflib.get_close_matches(name_key(text), list(by_key), n=_CLOSE, cutoff=0.5)
    if not found:
        found = [key for key in by_key if name_key(text) in key][:_CLOSE]
    return tuple(by_key[key] for key in found)


def _existing(app: Any, kind: str, record_id: UUID, asked: object) -> UUID:
    from kam_domain.errors import NotFound

    try:
        _getter(app, kind)(record_id)
    except NotFound:
        raise NothingNamed(kind, asked, close(app, kind, str(asked))) from None
    return record_id


def _getter(app: Any, kind: str) -> Any:
    if kind == "member":
        return functools.partial(_member, app)
    return {
        "team": app.get_team,
        "account": app.get_account,
        "project": app.get_project,
        "target": app.get_target,
    }[kind]


def _member(app: Any, member_id: UUID) -> str:
    found = _Labels(app).members().get(member_id)
    if found is None:
        raise MemberNotFound("member", member_id)
    return found


class _Labels:
    """The names targets are shown by, with the teams' members and accounts read once."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._members: dict[UUID, str] | None = None
        self._accounts: dict[UUID, str] = {}
        self._teams: dict[UUID, str] = {}

    def target(self, target: Target) -> str:
        scope = target.scope
        if scope.kind is ScopeKind.ACCOUNT:
            return f"{self._account(scope.id)} {target.period}"
        if scope.kind is ScopeKind.MEMBER:
            return f"KAM {self._member(scope.id)} {target.period}"
        return f"team {self._team(scope.id)} {target.period}"

    def _account(self, account_id: UUID) -> str:
        if account_id not in self._accounts:
            self._accounts[account_id] = self.app.get_account(account_id).name
        return self._accounts[account_id]

    def _team(self, team_id: UUID) -> str:
        if team_id not in self._teams:
            self._teams[team_id] = self.app.get_team(team_id).name
        return self._teams[team_id]

    def _member(self, member_id: UUID) -> str:
        return self.members().get(member_id, str(member_id))

    def members(self) -> dict[UUID, str]:
        """Every member of every team, by id."""
        if self._members is None:
            self._members = {
                member: found.name
                for team in self.app.teams()
                for member, found in team.members.items()
            }
        return self._members
