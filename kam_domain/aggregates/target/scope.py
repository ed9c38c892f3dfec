"""Whose target it is: the whole team, one member (a KAM) or one client account, from widest to
narrowest."""

from __future__ import annotations

import enum
from typing import Self
from uuid import UUID

import attrs

from kam_domain.errors import ValidationError
from kam_domain.transcoding import transcoded


class ScopeKind(enum.Enum):
    """What a target is for: the whole team, one member (a KAM) or one client account."""

    TEAM = "team"
    MEMBER = "member"
    ACCOUNT = "account"

    @property
    def breadth(self) -> int:
        """Team (3) is wider than member (2), which is wider than account (1)."""
        return _BREADTH[self]


_BREADTH = {ScopeKind.TEAM: 3, ScopeKind.MEMBER: 2, ScopeKind.ACCOUNT: 1}
transcoded(ScopeKind)


def _check_scope_kind(_: object, attribute: attrs.Attribute[ScopeKind], value: object) -> None:
    if not isinstance(value, ScopeKind):
        raise ValidationError("scope", f"kind must be a ScopeKind, not {value!r}")


def _check_scope_id(_: object, attribute: attrs.Attribute[UUID], value: object) -> None:
    if not isinstance(value, UUID):
        raise ValidationError("scope", f"id must be a UUID, not {value!r}")


@transcoded
@attrs.frozen
class TargetScope:
    """Whose target it is: ``TargetScope.team(team_id)``, ``.member(kam_id)``, ``.account(id)``."""

    kind: ScopeKind = attrs.field(validator=_check_scope_kind)
    id: UUID = attrs.field(validator=_check_scope_id)

    @classmethod
    def team(cls, team_id: UUID) -> Self:
        return cls(ScopeKind.TEAM, team_id)

    @classmethod
    def member(cls, member_id: UUID) -> Self:
        return cls(ScopeKind.MEMBER, member_id)

    @classmethod
    def account(cls, account_id: UUID) -> Self:
        return cls(ScopeKind.ACCOUNT, account_id)

    def is_wider_than(self, other: TargetScope) -> bool:
        return self.kind.breadth > other.kind.breadth

    def __str__(self) -> str:
        return f"{self.kind.value} {self.id}"
