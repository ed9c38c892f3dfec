"""Inputs that would break the audit tools: the 1e100000000 CNY invoice is refused by the facade,
and a store that holds one anyway (written by raw SQL, as the code before the bounds would have
stored it) makes every reading command print one named line and exit non-zero, never a
traceback; stored control characters reach a terminal escaped."""

from __future__ import annotations

import decimal
import io
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kam_domain.application import KamApplication
from kam_domain.cli import main
from kam_domain.cli.terminal import TerminalSafe, escape, one_line
from kam_domain.errors import NumberOutOfRange, UnsafeText
from kam_domain.values import Money, Role
from tests import postgres_server
from tests.application.test_accounts import billed
from tests.conftest import build_org
from tests.support import at, unchanged

HUGE = "1e100000000"


def test_the_huge_invoice_is_refused_and_nothing_is_written(app: KamApplication) -> None:
    """Money.of refuses 1e100000000 CNY naming the field; a Money built around it is refused
    too; the log does not change."""
    org = build_org(app)
    account_id, _ = billed(app, org)

    with pytest.raises(NumberOutOfRange, match=r"^amount: must be less than 10\^15"):
        Money.of(HUGE, "CNY")
    with unchanged(app), pytest.raises(NumberOutOfRange, match=r"^amount"):
        app.issue_invoice(
            account_id,
            org.finance,
            amount=Money(Decimal(HUGE), "CNY"),
            due_at=at(30),
            at=at(7),
        )


def test_a_name_with_an_escape_sequence_or_a_lone_surrogate_is_refused(app: KamApplication) -> None:
    """A member name holding ESC or a lone surrogate is UnsafeText naming the field, not a
    UnicodeEncodeError from the store; nothing is written."""
    org = build_org(app)

    for name in ("Li\x1b[2J", "Li\ud800", "Li\u202eiL"):
        with unchanged(app), pytest.raises(UnsafeText, match=r"^name: holds"):
            app.add_member(org.team_id, org.director, name=name, role=Role.KEY_ACCOUNT_MANAGER)


_STORED_60 = '{"_type_":"decimal_str","_data_":"60"}'
_STORED_HUGE = _STORED_60.replace('"60"', f'"{HUGE}"')


def _sqlite_set_huge(url: str, position: int) -> None:
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as db, db:
        db.execute(
            "UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT), ?, ?) AS BLOB)"
            " WHERE rowid = ?",
            (_STORED_60, _STORED_HUGE, position),
        )


def _postgres_set_huge(url: str, position: int) -> None:
    from psycopg.sql import SQL, Identifier

    statement = SQL(
        "UPDATE {}.kam_events SET state = convert_to(replace(convert_from(state, 'UTF8'),"
        " %s, %s), 'UTF8') WHERE notification_id = %s"
    ).format(Identifier(postgres_server.schema_of(url)))
    with postgres_server.connect(url) as conn, conn.transaction():
        conn.execute(statement, (_STORED_60, _STORED_HUGE, position))


@pytest.fixture(name="hostile", params=["sqlite", "postgres"])
def fixture_hostile(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store whose 60 CNY invoice was rewritten, in the database, to 1e100000000 CNY."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'kam.db'}"
    else:
        url = postgres_server.fresh_store_url()
    try:
        with KamApplication(url, run_policies=False) as app:
            billed(app, build_org(app))
            position = app.recorder.max_notification_id()
        assert position is not None
        (_sqlite_set_huge if request.param == "sqlite" else _postgres_set_huge)(url, position)
        yield url
    finally:
        if request.param == "postgres":
            postgres_server.drop_schema(url)


@pytest.mark.parametrize(
    "argv",
    [
        ["audit", "exceptions"],
        ["replay"],
        ["audit", "trail", "--account", "Acme Telecom"],
        ["audit", "export", "--format", "jsonl"],
        ["report", "scorecard", "--period", "2026-Q1"],
        ["policies", "decisions"],
    ],
    ids=lambda argv: " ".join(argv[:2]),
)
def test_every_reader_of_a_hostile_store_prints_one_named_line(
    hostile: str, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """On a store holding a 1e100000000 CNY invoice, the command exits non-zero with a
    one-line message on standard error naming the record and the field, and no traceback
    (or, for a command that never reads amounts, succeeds)."""
    status = main([*argv, "--store", hostile])
    out, err = capsys.readouterr()

    assert "Traceback" not in out + err
    assert "decimal.Overflow" not in err
    if status != 0:
        assert status == 1
        assert err.startswith("kam: store: record ")
        assert len(err.strip().splitlines()) == 1
        assert "ClientAccount.InvoiceIssued" in err
        assert "amount: must be less than 10^15" in err


@pytest.mark.parametrize(
    ("error", "named"),
    [
        (decimal.Overflow(), "decimal.Overflow"),
        (decimal.InvalidOperation(), "decimal.InvalidOperation"),
        (KeyError("kind"), "KeyError"),
        (RuntimeError("x\x1b[2J"), "RuntimeError"),
    ],
)
def test_whatever_a_reader_raises_ends_in_one_named_line(
    error: Exception,
    named: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An error no check foresaw (decimal's signals on a stored number, a malformed field)
    ends kam audit exceptions with exit status 4 and one escaped line naming it."""

    def broken(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr("kam_domain.audit.exceptions.exceptions_report", broken)

    status = main(["audit", "exceptions", "--store", "memory://"])

    err = capsys.readouterr().err
    assert status == 4
    assert err.startswith(f"kam: failed: {named}: ")
    assert len(err.strip().splitlines()) == 1
    assert "\x1b" not in err
    assert "Traceback" not in err


def test_a_stored_escape_sequence_reaches_a_terminal_escaped(tmp_path: Path) -> None:
    """A member name with ESC[2J and a right-to-left override, stored by raw SQL, is printed by
    kam audit trail as its escapes, on a terminal and in a table cell piped elsewhere."""
    url = f"sqlite:///{tmp_path / 'kam.db'}"
    with KamApplication(url, run_policies=False) as app:
        org = build_org(app)
    with closing(sqlite3.connect(tmp_path / "kam.db")) as db, db:
        db.execute(
            "UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT),"
            ' \'"name":"Li Manager"\', ?) AS BLOB)',
            ('"name":"Li \\u001b[2J\\u202eManager"',),
        )
    terminal = _Terminal()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdout", terminal)
        patch.setenv("NO_COLOR", "1")  # no bold header: every escape left must be stored text
        status = main(["audit", "trail", "--member", str(org.kam), "--store", url])

    shown = terminal.getvalue()
    assert status == 0
    assert "\x1b" not in shown
    assert "\u202e" not in shown
    assert "\\x1b[2J" in shown


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain 王伟", "plain 王伟"),
        ("a\x1b[31mred", "a\\x1b[31mred"),
        ("c1\x9bcsi", "c1\\x9bcsi"),
        ("bidi\u202eoverride", "bidi\\u202eoverride"),
        ("lone\ud800", "lone\\ud800"),
        ("two\nlines\tand tab", "two\nlines\tand tab"),
    ],
)
def test_escape_shows_what_a_terminal_would_act_on(text: str, shown: str) -> None:
    """Controls, format characters and lone surrogates are written as escapes; line breaks and
    tabs stay (except in one-line text, where they are escaped too)."""
    assert escape(text) == shown
    assert "\n" not in one_line(text)
    assert "\t" not in one_line(text)


def test_the_terminal_stream_escapes_what_it_writes() -> None:
    """TerminalSafe escapes on write and passes everything else through."""
    target: Any = _Terminal()
    stream = TerminalSafe(target)

    stream.write("x\x1b]0;owned\x07y\n")

    assert target.getvalue() == "x\\x1b]0;owned\\x07y\n"
    assert stream.isatty()
