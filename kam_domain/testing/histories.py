"""Hypothesis strategies for valid histories, for policy authors' property tests.

A :class:`History` is a plan of commands — a team with its people and authority, key accounts of
several tiers, projects with price bands, discount requests, invoices, cases and ticks of the
clock — drawn by :func:`histories` and played through a :class:`~kam_domain.KamApplication` with
:meth:`History.play`. Every command in it is valid when it is issued (policies may still decide
things on the way), so a property test sees realistic logs rather than refusals::

    @given(histories())
    def test_every_key_account_ends_with_a_kam(history):
        app = KamApplication("memory://")
        played = history.play(app)
        assert all(app.get_account(a).accountable_kam for a in played.accounts)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

import attrs
from hypothesis import strategies as st

from kam_domain.aggregates.client_account import AccountStrategies
from kam_domain.errors import KamDomainError
from kam_domain.values import Actor, CaseKind, Money, Percentage, Role, Severity, Tier

if TYPE_CHECKING:
    from kam_domain.application import KamApplication

__all__ = ["History", "Played", "histories"]

START = datetime(2026, 1, 5, 9, tzinfo=UTC)
CURRENCY = "CNY"
STRATEGIES = AccountStrategies(
    market="grow share", client="executive sponsor", marketing="showcases", competitive="bundles"
)


@attrs.frozen
class Played:
    """The ids a played history created, and the commands the library refused on the way."""

    team_id: UUID
    members: dict[str, UUID]
    accounts: list[UUID]
    projects: list[UUID]
    requests: list[tuple[UUID, UUID]]
    refused: list[str]


@attrs.frozen
class History:
    """A drawn plan of commands; ``play`` issues them in time order."""

    kams: int
    capacities: tuple[int, ...]
    tiers: tuple[Tier, ...]
    requests: tuple[tuple[int, str, int], ...]
    invoices: tuple[tuple[int, int, int, int | None], ...]
    cases: tuple[tuple[int, Severity, int | None], ...]
    leaves: tuple[int, ...]
    ticks: int

    def play(self, app: KamApplication) -> Played:
        """Issue the commands through ``app`` (a fresh store); returns what they created."""
        clock = _Clock()
        refused: list[str] = []

        def attempt(command: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            # Policies may have changed the world (e.g. moved an account), so a later command
            # can legitimately be refused; the property under test decides what that means.
            try:
                return command(*args, **kwargs, at=clock.next())
            except KamDomainError as error:
                refused.append(f"{command.__name__}: {type(error).__name__}")
                return None

        team_id, senior = app.form_team(
            name="Property team",
            segment="enterprise",
            region="east",
            director_name="Senior",
            top_authority=Percentage.of(30),
            at=clock.next(),
        )
        members: dict[str, UUID] = {"senior": senior}

        def hire(key: str, role: Role, supervisor: str | None, limit: int | None) -> None:
            members[key] = app.add_member(
                team_id,
                senior,
                name=key.replace("_", " ").title(),
                role=role,
                supervisor_id=None if supervisor is None else members[supervisor],
                at=clock.next(),
            )
            if limit is not None:
                app.grant_authority(
                    team_id,
                    senior,
                    members[key],
                    max_discount=Percentage.of(limit),
                    at=clock.next(),
                )

        hire("director", Role.SALES_DIRECTOR, "senior", 20)
        hire("project_director", Role.PROJECT_DIRECTOR, "director", 10)
        hire("representative", Role.KEY_ACCOUNT_REPRESENTATIVE, "director", None)
        hire("finance", Role.FINANCIAL_PLANNER, "senior", None)
        for number in range(self.kams):
            hire(f"kam_{number}", Role.KEY_ACCOUNT_MANAGER, "director", 5)
            app.set_capacity(
                team_id,
                senior,
                members[f"kam_{number}"],
                capacity=self.capacities[number],
                at=clock.next(),
            )

        accounts: list[UUID] = []
        for number, tier in enumerate(self.tiers):
            account: UUID = app.register_account(
                team_id,
                members["director"],
                name=f"Account {number}",
                industry="telecom",
                region="east",
                at=clock.next(),
            )
            app.designate_key_account(
                account, members["director"], tier=tier, strategies=STRATEGIES, at=clock.next()
            )
            accounts.append(account)

        projects: list[UUID] = []
        requests: list[tuple[UUID, UUID]] = []
        for number, (account_index, requester, percentage) in enumerate(self.requests):
            account = accounts[account_index % len(accounts)]
            project = attempt(
                app.initiate_project,
                account,
                members["director"],
                name=f"Project {number}",
                currency=CURRENCY,
                project_director_id=members["project_director"],
            )
            if project is None:
                continue
            projects.append(project)
            attempt(
                app.set_price_band,
                project,
                senior,
                list_price=Money.of(1000, CURRENCY),
                floor=Money.of(700, CURRENCY),
            )
            who = members.get(requester) or members[f"kam_{number % self.kams}"]
            request = attempt(
                app.request_discount,
                project,
                who,
                percentage=Percentage.of(percentage),
                justification="competing offer",
            )
            if request is not None:
                requests.append((project, request))

        for account_index, amount, due_days, paid in self.invoices:
            account = accounts[account_index % len(accounts)]
            due = clock.now + timedelta(days=due_days)
            invoice = attempt(
                app.issue_invoice,
                account,
                members["finance"],
                amount=Money.of(amount, CURRENCY),
                due_at=due,
            )
            if invoice is not None and paid is not None:
                attempt(
                    app.record_payment,
                    account,
                    members["finance"],
                    invoice,
                    amount=Money.of(min(paid, amount), CURRENCY),
                )

        for account_index, severity, acknowledge_after in self.cases:
            account = accounts[account_index % len(accounts)]
            case = attempt(
                app.open_case,
                account,
                members["representative"],
                kind=CaseKind.COMPLAINT,
                severity=severity,
                subject="outage",
            )
            if case is not None and acknowledge_after is not None:
                clock.advance(hours=acknowledge_after)
                attempt(app.acknowledge_case, account, members["director"], case)

        for number in self.leaves:
            key = f"kam_{number % self.kams}"
            attempt(app.remove_member, team_id, senior, members[key], reason="moved on")

        for _ in range(self.ticks):
            clock.advance(days=3)
            app.tick(Actor.system("clock"), at=clock.next())

        return Played(team_id, members, accounts, projects, requests, refused)


class _Clock:
    """Effective times that only move forward, a minute apart unless advanced."""

    def __init__(self) -> None:
        self.now = START

    def next(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    def advance(self, *, days: float = 0, hours: float = 0) -> None:
        self.now += timedelta(days=days, hours=hours)


@st.composite
def histories(
    draw: Callable[..., Any],
    *,
    max_kams: int = 4,
    max_accounts: int = 10,
    max_requests: int = 6,
) -> History:
    """Valid histories of one team: KAMs with capacities, key accounts, requests, money, cases."""
    kams = draw(st.integers(min_value=1, max_value=max_kams))
    return History(
        kams=kams,
        capacities=tuple(draw(st.lists(st.integers(2, 12), min_size=kams, max_size=kams))),
        tiers=tuple(draw(st.lists(st.sampled_from(list(Tier)), min_size=1, max_size=max_accounts))),
        requests=tuple(
            draw(
                st.lists(
                    st.tuples(
                        st.integers(0, 100),
                        st.sampled_from(["kam", "representative", "project_director", "director"]),
                        st.integers(0, 30),
                    ),
                    max_size=max_requests,
                )
            )
        ),
        invoices=tuple(
            draw(
                st.lists(
                    st.tuples(
                        st.integers(0, 100),
                        st.integers(1, 10_000),
                        st.integers(1, 20),
                        st.none() | st.integers(0, 10_000),
                    ),
                    max_size=5,
                )
            )
        ),
        cases=tuple(
            draw(
                st.lists(
                    st.tuples(
                        st.integers(0, 100),
                        st.sampled_from(list(Severity)),
                        st.none() | st.integers(1, 200),
                    ),
                    max_size=5,
                )
            )
        ),
        leaves=tuple(draw(st.lists(st.integers(0, max_kams), max_size=2, unique=True))),
        ticks=draw(st.integers(0, 4)),
    )
