"""A hypothesis state machine drives the facade with valid and invalid commands alike.

After every step it checks the domain's invariants against a plain model, and that the state a
fresh application rebuilds from the SQLite file equals the state the running one holds.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
)

from kam_domain.aggregates.project import DiscountOutcome
from kam_domain.application import KamApplication
from kam_domain.errors import KamDomainError
from kam_domain.policies.registry import PolicyRegistry
from kam_domain.values import Money, Percentage, Role, Tier
from tests.conftest import STRATEGIES, Org, build_org, key_account

CNY = "CNY"


class FacadeMachine(RuleBasedStateMachine):
    """Commands in any order; the invariants hold after each one, refused or not."""

    kams = Bundle("kams")
    accounts = Bundle("accounts")
    projects = Bundle("projects")
    requests = Bundle("requests")
    invoices = Bundle("invoices")

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="kam-machine-"))
        self.url = f"sqlite:///{self.folder / 'kam.db'}"
        # People decide every step here; test_policy_invariants.py lets the policies decide.
        self.app = KamApplication(self.url, policies=PolicyRegistry())
        self.org: Org = build_org(self.app)
        self.model_kam: dict[UUID, UUID | None] = {}
        self.model_paid: dict[UUID, Decimal] = {}
        self.invoice_amount: dict[UUID, Decimal] = {}

    def teardown(self) -> None:
        self.app.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def attempt(self, command: Any, *args: Any, **kwargs: Any) -> tuple[bool, Any]:
        """Run a command: (True, result), or (False, None) when refused, having recorded nothing."""
        before = self.app.recorder.max_notification_id()
        try:
            result = command(*args, **kwargs)
        except KamDomainError as error:
            assert self.app.recorder.max_notification_id() == before
            event(f"{command.__name__} refused: {type(error).__name__}")
            return False, None
        event(f"{command.__name__} done")
        return True, result

    @initialize(target=projects)
    def a_project_with_a_price_band(self) -> UUID:
        """Start with one key account of org.kam and a project priced 1000 (floor 750)."""
        account = key_account(self.app, self.org, "Seed account")
        self.model_kam[account] = self.org.kam
        return self.priced_project(account, "Seed project")

    def priced_project(self, account: UUID, name: str) -> UUID:
        project: UUID = self.app.initiate_project(
            account,
            self.org.director,
            name=name,
            currency=CNY,
            project_director_id=self.org.project_director,
        )
        self.app.set_price_band(
            project, self.org.senior, list_price=Money.of(1000, CNY), floor=Money.of(750, CNY)
        )
        return project

    # -- team ------------------------------------------------------------------------------------

    @rule(target=kams, name=st.sampled_from(["Ma", "Hu", "Gao", "Lin"]))
    def hire_kam(self, name: str) -> UUID:
        kam: UUID = self.app.add_member(
            self.org.team_id,
            self.org.senior,
            name=name,
            role=Role.KEY_ACCOUNT_MANAGER,
            supervisor_id=self.org.director,
        )
        self.attempt(
            self.app.grant_authority,
            self.org.team_id,
            self.org.director,
            kam,
            max_discount=Percentage.of(5),
        )
        return kam

    @rule(kam=consumes(kams))
    def kam_leaves(self, kam: UUID) -> None:
        self.attempt(self.app.remove_member, self.org.team_id, self.org.senior, kam, reason="left")

    @rule(limit=st.integers(0, 40))
    def grant_director(self, limit: int) -> None:
        self.attempt(
            self.app.grant_authority,
            self.org.team_id,
            self.org.senior,
            self.org.director,
            max_discount=Percentage.of(limit),
        )

    # -- accounts ----------------------------------------------------------------------------------

    @rule(target=accounts, name=st.text("abcdefgh", min_size=1, max_size=6), key=st.booleans())
    def register(self, name: str, key: bool) -> Any:
        _, account = self.attempt(
            self.app.register_account,
            self.org.team_id,
            self.org.director,
            name=name,
            industry="telecom",
            region="east",
        )
        if account is None:
            return None
        self.model_kam[account] = None
        if key:
            self.app.designate_key_account(
                account, self.org.director, tier=Tier.MAJOR, strategies=STRATEGIES
            )
        return account

    @rule(account=accounts, kam=kams)
    def assign_hired(self, account: UUID | None, kam: UUID) -> None:
        self.assign(account, kam)

    @rule(account=accounts, who=st.sampled_from(["kam", "kam2", "rep", "director"]))
    def assign_from_org(self, account: UUID | None, who: str) -> None:
        self.assign(account, getattr(self.org, who))

    def assign(self, account: UUID | None, member: UUID) -> None:
        if account is None:
            return
        done, _ = self.attempt(
            self.app.assign_kam, account, self.org.director, member, reason="balance"
        )
        if done:
            self.model_kam[account] = member

    @rule(target=invoices, account=accounts, amount=st.integers(-5, 1000))
    def invoice(self, account: UUID | None, amount: int) -> Any:
        if account is None:
            return None

        _, invoice = self.attempt(
            self.app.issue_invoice,
            account,
            self.org.finance,
            amount=Money.of(amount, CNY),
            due_at=datetime.now(UTC) + timedelta(days=30),
        )
        if invoice is None:
            return None
        self.invoice_amount[invoice] = Decimal(amount)
        self.model_paid[invoice] = Decimal(0)
        return (account, invoice)

    @rule(invoice=invoices, amount=st.integers(-5, 700))
    def pay(self, invoice: tuple[UUID, UUID] | None, amount: int) -> None:
        if invoice is None:
            return
        account, invoice_id = invoice
        done, _ = self.attempt(
            self.app.record_payment,
            account,
            self.org.finance,
            invoice_id,
            amount=Money.of(amount, CNY),
        )
        if done:
            self.model_paid[invoice_id] += amount

    # -- projects and discounts --------------------------------------------------------------------

    @precondition(lambda self: any(k is not None for k in self.model_kam.values()))
    @rule(target=projects, pick=st.integers(0, 10_000))
    def start_project(self, pick: int) -> Any:
        assigned = sorted(
            (a for a, k in self.model_kam.items() if k is not None), key=lambda a: a.hex
        )
        account = assigned[pick % len(assigned)]
        _, project = self.attempt(self.priced_project, account, f"project {pick}")
        return project

    @rule(
        target=requests,
        project=projects,
        requester=st.sampled_from(["kam", "rep", "project_director"]),
        pct=st.integers(0, 40),
    )
    def request(self, project: UUID | None, requester: str, pct: int) -> Any:
        if project is None:
            return None
        member = getattr(self.org, requester)
        _, request = self.attempt(
            self.app.request_discount,
            project,
            member,
            percentage=Percentage.of(pct),
            justification="competing offer",
        )
        return None if request is None else (project, request)

    @rule(
        request=requests,
        approver=st.sampled_from(["kam", "kam2", "project_director", "director", "senior"]),
        approve=st.booleans(),
    )
    def decide(self, request: tuple[UUID, UUID] | None, approver: str, approve: bool) -> None:
        if request is None:
            return
        project, request_id = request
        member = getattr(self.org, approver)
        if approve:
            self.attempt(self.app.approve_discount, project, member, request_id)
        else:
            self.attempt(self.app.reject_discount, project, member, request_id, reason="no")

    # -- invariants --------------------------------------------------------------------------------

    @invariant()
    def key_accounts_have_at_most_the_kam_the_model_expects(self) -> None:
        """Every account's accountable KAM is the one the model last saw assigned."""
        for account_id, kam in self.model_kam.items():
            assert self.app.get_account(account_id).accountable_kam == kam

    @invariant()
    def payments_never_exceed_invoices(self) -> None:
        """No invoice was ever paid beyond its amount, and the books match the model."""
        for account in self.app.accounts(self.org.team_id):
            for invoice in account.invoices.values():
                assert Decimal(0) <= invoice.paid.amount <= invoice.amount.amount
                assert invoice.paid.amount == self.model_paid[invoice.invoice_id]

    @invariant()
    def approvals_were_within_authority_and_never_self_approved(self) -> None:
        """Each approval was by someone other than the requester, holding enough authority."""
        for project in self.app.projects(self.org.team_id):
            for request in project.discount_requests.values():
                decision = request.decision
                if decision is None or decision.outcome is not DiscountOutcome.APPROVED:
                    continue
                who = decision.credentials
                assert who is not None
                assert who.member_id != request.requester_id
                assert who.discount_authority is not None
                assert request.percentage <= who.discount_authority
                assert decision.price is not None
                assert decision.price >= Money.of(750, CNY)

    @invariant()
    def the_store_rebuilds_the_same_state(self) -> None:
        """A fresh application on the same file rebuilds every record equal to the running one."""
        fresh = KamApplication(self.url, policies=PolicyRegistry())
        try:
            assert fresh.get_team(self.org.team_id) == self.app.get_team(self.org.team_id)
            for account_id in self.model_kam:
                assert fresh.get_account(account_id) == self.app.get_account(account_id)
            for project in self.app.projects(self.org.team_id):
                assert fresh.get_project(project.id) == project
        finally:
            fresh.close()


FacadeMachine.TestCase.settings = settings(max_examples=15, stateful_step_count=25, deadline=None)
TestFacadeInvariants = FacadeMachine.TestCase
