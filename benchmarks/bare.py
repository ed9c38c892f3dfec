"""What the facade's typical command is compared with: the same command without this library.

- :class:`BareApplication`: a plain eventsourcing application with its own two aggregates, a
  team (member → role) and an account (invoices, payments). Recording a payment has the facade's
  shape: load the account, load its team, check the actor's role, check the amount against the
  invoice's open balance, record one event, save. No actor/correlation/causation metadata, no
  money value objects, no hash chain, no as-of index, no tracking table, no policies — on
  eventsourcing's own persistence module for the same backend (same file, server and schema).
  Everything else is the facade's: the same aggregate cache (size, fast-forward, copies; none
  when the facade has none, see :func:`bare_environment`), the same snapshot interval, and, as
  in the facade, snapshots written but never read (records are replayed from their events).
- :class:`RawInserts`: one row per transaction with the database driver (``sqlite3`` /
  ``psycopg``), no reads and no checks: the floor of what a durable write costs.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from benchmarks.stores import plain_environment
from kam_domain.aggregates.client_account import ClientAccount
from kam_domain.aggregates.team import Team
from kam_domain.application import KamApplication
from kam_domain.application.core import DEFAULT_CACHE_SIZE, cache_settings

__all__ = ["BareAccount", "BareApplication", "BareTeam", "RawInserts", "bare_environment"]


class BareTeam(Aggregate):
    @event("Formed")
    def __init__(self, name: str) -> None:
        self.name = name
        self.roles: dict[str, str] = {}

    @event("MemberJoined")
    def join(self, member_id: str, role: str) -> None:
        self.roles[member_id] = role


class BareAccount(Aggregate):
    @event("Registered")
    def __init__(self, team_id: UUID, name: str) -> None:
        self.team_id = team_id
        self.name = name
        self.invoices: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, str] = {}

    @event("InvoiceIssued")
    def issue_invoice(
        self, invoice_id: str, amount: Decimal, currency: str, due_at: datetime
    ) -> None:
        self.invoices[invoice_id] = {
            "amount": amount,
            "currency": currency,
            "due_at": due_at,
            "paid": Decimal(0),
        }

    def receive_payment(
        self, payment_id: str, invoice_id: str, amount: Decimal, currency: str
    ) -> None:
        """The same guards as the library's: positive, same currency, new, within balance."""
        if not isinstance(amount, Decimal) or amount <= 0:
            raise ValueError("amount: must be more than zero")
        invoice = self.invoices.get(invoice_id)
        if invoice is None:
            raise LookupError(f"invoice_id: no invoice {invoice_id}")
        if currency != invoice["currency"]:
            raise ValueError("amount: wrong currency")
        if payment_id in self.payments:
            raise ValueError(f"payment_id: {payment_id} was already received")
        if amount > invoice["amount"] - invoice["paid"]:
            raise ValueError("amount: exceeds the open balance")
        self._receive(payment_id, invoice_id, amount, currency)

    @event("PaymentReceived")
    def _receive(self, payment_id: str, invoice_id: str, amount: Decimal, currency: str) -> None:
        self.invoices[invoice_id]["paid"] += amount
        self.payments[payment_id] = invoice_id


def bare_environment(url: str, cache_size: int = DEFAULT_CACHE_SIZE) -> dict[str, str]:
    """The bare application's environment on ``url``'s store: eventsourcing's own recorder for
    the backend, with the aggregate cache a facade of ``cache_size`` records would have."""
    return {**plain_environment(url), **cache_settings(cache_size)}


class BareApplication(Application[UUID]):
    """A plain eventsourcing application doing what the facade's ``record_payment`` does."""

    name = "bare"
    # The facade's intervals for its teams and accounts.
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        BareTeam: KamApplication.snapshotting_intervals[Team],
        BareAccount: KamApplication.snapshotting_intervals[ClientAccount],
    }

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(env=env)
        # As the facade: snapshots are taken, never loaded from.
        self.repository.snapshot_store = None

    def form_team(self, name: str, members: dict[UUID, str]) -> UUID:
        team = BareTeam(name)
        for member_id, role in members.items():
            team.join(member_id.hex, role)
        self.save(team)
        return team.id

    def register_account(self, team_id: UUID, name: str) -> UUID:
        account = BareAccount(team_id, name)
        self.save(account)
        return account.id

    def issue_invoice(self, account_id: UUID, amount: Decimal, due_at: datetime) -> str:
        account: BareAccount = self.repository.get(account_id)
        invoice_id = uuid4().hex
        account.issue_invoice(invoice_id, amount, "CNY", due_at)
        self.save(account)
        return invoice_id

    def record_payment(
        self, account_id: UUID, actor: UUID, invoice_id: str, amount: Decimal, currency: str
    ) -> str:
        account: BareAccount = self.repository.get(account_id)
        team: BareTeam = self.repository.get(account.team_id)
        if team.roles.get(actor.hex) not in ("representative", "finance"):
            raise PermissionError("actor: may not book payments")
        payment_id = uuid4().hex
        account.receive_payment(payment_id, invoice_id, amount, currency)
        self.save(account)
        return payment_id


class RawInserts:
    """One payment row per transaction, straight through the driver."""

    COLUMNS = "(id TEXT PRIMARY KEY, account_id TEXT, invoice_id TEXT, amount TEXT, currency TEXT)"

    def __init__(self, backend: str, url: str) -> None:
        self.backend = backend
        if backend == "sqlite":
            path = url.split("sqlite:///", 1)[1].split("?", 1)[0]
            self.db: Any = sqlite3.connect(path.replace(".db", "-raw.db"), isolation_level=None)
            # The same journal as eventsourcing's SQLite recorder.
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(f"CREATE TABLE IF NOT EXISTS raw_payments {self.COLUMNS}")
            self.insert = "INSERT INTO raw_payments VALUES (?, ?, ?, ?, ?)"
        elif backend == "postgres":
            import psycopg
            from psycopg.sql import SQL, Identifier

            from benchmarks.stores import connect_kwargs, ensure_schema, schema_of

            ensure_schema(url)
            self.db = psycopg.connect(**connect_kwargs(url))
            table = SQL("{}.raw_payments").format(Identifier(schema_of(url)))
            self.db.execute(SQL("CREATE TABLE IF NOT EXISTS {} ").format(table) + SQL(self.COLUMNS))
            self.db.commit()
            self.insert = SQL("INSERT INTO {} VALUES (%s, %s, %s, %s, %s)").format(table)
        else:
            raise ValueError(f"no raw inserts on {backend}")

    def record_payment(self, account_id: UUID, invoice_id: str, amount: Decimal) -> None:
        row = (uuid4().hex, account_id.hex, invoice_id, str(amount), "CNY")
        if self.backend == "sqlite":
            self.db.execute("BEGIN")
            self.db.execute(self.insert, row)
            self.db.execute("COMMIT")
        else:
            self.db.execute(self.insert, row)
            self.db.commit()

    def close(self) -> None:
        self.db.close()
