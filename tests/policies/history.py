"""Scripted team histories for the causal-order tests: the same commands, with the same ids and
times, on any store, embedded or in a burst that a worker settles afterwards."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid5

import attrs

from kam_domain.application import KamApplication
from kam_domain.errors import KamDomainError
from kam_domain.values import Percentage, Role, Tier
from tests.conftest import STRATEGIES
from tests.support import T0

__all__ = ["Op", "balanced_burst", "decisions_of", "loads", "play", "play_more"]

_NAMESPACE = UUID("6b0c6a3e-3c1e-4d38-9a39-0b1d7c0b5a11")
TEAM = uuid5(_NAMESPACE, "team")
DIRECTOR = uuid5(_NAMESPACE, "director")


@attrs.frozen
class Op:
    """One command: ``kam`` (join as a KAM), ``designate`` an account, set a KAM's
    ``capacity``, or a KAM ``leave``s; ``n`` names the KAM or account, ``value`` the tier or
    the capacity."""

    kind: str
    n: int
    value: Any = None


def kam_id(n: int) -> UUID:
    return uuid5(_NAMESPACE, f"kam {n}")


def account_id(n: int) -> UUID:
    return uuid5(_NAMESPACE, f"account {n}")


def play(app: KamApplication, ops: Iterable[Op]) -> list[bool]:
    """Form the team, then issue ``ops`` one command each, a minute apart; returns which of
    them the records accepted (a refusal records nothing)."""
    app.form_team(
        name="East key accounts",
        segment="telecom",
        region="east",
        director_name="Wang",
        top_authority=Percentage.of(30),
        team_id=TEAM,
        director_id=DIRECTOR,
        at=T0,
    )
    return play_more(app, ops)


def play_more(app: KamApplication, ops: Iterable[Op], *, start: int = 0) -> list[bool]:
    """Issue ``ops`` on a team :func:`play` formed, as if they came after ``start`` others."""
    accepted = []
    for index, op in enumerate(ops, start=start + 1):
        at = T0 + timedelta(minutes=index)
        try:
            _issue(app, op, at)
        except KamDomainError:
            accepted.append(False)
        else:
            accepted.append(True)
    return accepted


def _issue(app: KamApplication, op: Op, at: Any) -> None:
    if op.kind == "kam":
        app.add_member(
            TEAM,
            DIRECTOR,
            name=f"KAM {op.n}",
            role=Role.KEY_ACCOUNT_MANAGER,
            member_id=kam_id(op.n),
            at=at,
        )
        if op.value is not None:
            app.set_capacity(TEAM, DIRECTOR, kam_id(op.n), capacity=op.value, at=at)
    elif op.kind == "designate":
        aid = account_id(op.n)
        if not app._exists(aid):
            app.register_account(
                TEAM,
                DIRECTOR,
                name=f"Client {op.n}",
                industry=("telecom", "energy", "finance")[op.n % 3],
                region=("east", "north")[op.n % 2],
                account_id=aid,
                at=at,
            )
        app.designate_key_account(aid, DIRECTOR, tier=op.value, strategies=STRATEGIES, at=at)
    elif op.kind == "capacity":
        app.set_capacity(TEAM, DIRECTOR, kam_id(op.n), capacity=op.value, at=at)
    elif op.kind == "leave":
        app.remove_member(TEAM, DIRECTOR, kam_id(op.n), reason="moved on", at=at)
    else:  # pragma: no cover - the strategies make only the kinds above
        raise AssertionError(op.kind)


def balanced_burst(accounts: int = 6) -> list[Op]:
    """Three KAMs of capacity 2, then ``accounts`` standard key accounts designated."""
    kams = [Op("kam", n, 2) for n in range(3)]
    return kams + [Op("designate", n, Tier.STANDARD) for n in range(accounts)]


def decisions_of(app: KamApplication) -> dict[tuple[str, UUID, str], list[tuple[Any, ...]]]:
    """Every recorded decision: per policy, cause record and kind of cause, the outcomes,
    reasons and inputs in the order of their causes. (Not by cause id: a cause's version, and
    so its id, depends on where the record's consequences landed.)"""
    found: dict[tuple[str, UUID, str], list[tuple[Any, ...]]] = {}
    for decision in sorted(app.decisions(), key=lambda d: (d.cause_position, d.policy)):
        (cause,) = app.recorder.select_notifications(start=decision.cause_position, limit=1)
        key = (decision.policy, cause.originator_id, decision.cause_topic)
        found.setdefault(key, []).append(
            (decision.outcome, decision.reason, tuple(sorted(decision.inputs.items())))
        )
    return found


def loads(app: KamApplication, kams: Sequence[int] = (0, 1, 2)) -> list[int]:
    """How many of the team's key accounts each KAM is accountable for."""
    held = [app.get_account(aid).kam_id for aid in _accounts(app)]
    return [held.count(kam_id(n)) for n in kams]


def _accounts(app: KamApplication) -> list[UUID]:
    # The scripts stay well under 200 accounts.
    return [account_id(n) for n in range(200) if app._exists(account_id(n))]
