"""The questions asked of a golden store, and the answers in a plain form kept as JSON.

The regeneration script records these answers when a release writes its golden stores; the
tests ask the same questions of the stores with the code as it is now and compare. Only what a
user reads is recorded (the CLI's output, named fields of records), so a record may grow new
state without changing an old store's answers.
"""

from __future__ import annotations

import contextlib
import enum
import io
import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs

from kam_domain.application import KamApplication
from kam_domain.cli import main

__all__ = ["Questions", "ask", "cli", "plain"]


@attrs.frozen
class Questions:
    """What to ask of a store: the records to look at, and the moments to look at them."""

    account: str
    team_id: str
    target_id: str
    moments: tuple[str, ...]
    exceptions_at: str

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Questions:
        return cls(**{**data, "moments": tuple(data["moments"])})


def cli(*argv: str) -> tuple[int, str]:
    """Run ``kam`` in this process: its exit status and what it printed."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue() + err.getvalue()


def ask(store: str, questions: Questions) -> dict[str, Any]:
    """Every recorded answer of ``store`` (a URL) to ``questions``, in plain JSON values."""
    answers: dict[str, Any] = {}
    for name, argv in (("verify", ()), ("verify_deep", ("--deep",))):
        status, text = cli("audit", "verify", "--store", store, *argv)
        answers[name] = {"status": status, "lines": text.splitlines()}
    status, text = cli("replay", "--store", store, "--format", "json")
    answers["replay"] = {"status": status, "report": json.loads(text)}
    status, text = cli(
        "audit", "exceptions", "--store", store, "--at", questions.exceptions_at, "--format", "json"
    )
    answers["exceptions"] = {"status": status, "report": json.loads(text)}
    answers["accountable"] = {}
    for moment in questions.moments:
        status, text = cli(
            "audit",
            "accountable",
            "--store",
            store,
            "--account",
            questions.account,
            "--at",
            moment,
            "--format",
            "json",
        )
        answers["accountable"][moment] = {"status": status, "report": json.loads(text)}
    app = KamApplication(store, read_only=True)
    try:
        answers["as_of"] = {moment: _as_of(app, questions, moment) for moment in questions.moments}
    finally:
        app.close()
    return answers


def _as_of(app: KamApplication, questions: Questions, moment: str) -> dict[str, Any]:
    when = datetime.fromisoformat(moment)
    account = app.find_account(questions.account)
    account = app.get_account(account.id, at=when)
    team = app.get_team(UUID(questions.team_id), at=when)
    target_id = UUID(questions.target_id)
    target = app.get_target(target_id, at=when)
    return {
        "account": {
            "version": account.version,
            "name": account.name,
            "tier": plain(account.tier),
            "kam_id": plain(account.accountable_kam),
            "representative_id": plain(account.representative_id),
            "contacts": sorted(
                [c.name, c.title, plain(c.influence)] for c in account.contacts.values()
            ),
            "open_balance": plain(account.total_open_balance()),
            "open_cases": len(account.open_cases()),
            "invoices": len(account.invoices),
        },
        "members": sorted(
            [str(m.member_id), m.name, plain(m.role), m.active, plain(m.supervisor_id)]
            for m in team.members.values()
        ),
        "target": {
            "version": target.version,
            "goals": plain(target.goals),
            "closed_at": plain(target.closed_at),
            "evaluations": len(target.evaluations),
            "actuals": [plain(actual.value) for actual in app.measure_target(target_id, at=when)],
        },
    }


def plain(value: Any) -> Any:
    """``value`` as JSON values: ids, amounts and moments as text, enums by value."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(plain(key)): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted(plain(item) for item in value)
    if attrs.has(type(value)):
        return {type(value).__name__: plain(attrs.asdict(value, recurse=False))}
    return repr(value)
