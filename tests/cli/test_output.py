"""How ``kam`` lays out what it prints: tables aligned as a terminal shows them, progress bars
on a terminal only, colour only where it is wanted."""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path

import pytest

from kam_domain.application import KamApplication
from kam_domain.cli import main
from kam_domain.cli.output import progress, show, table
from kam_domain.cli.terminal import TerminalSafe
from tests.conftest import build_org, key_account


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _width(text: str) -> int:
    """Columns ``text`` takes on a terminal: two for each wide (East Asian) character."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _starts(line: str, word: str) -> int:
    return _width(line[: line.index(word)])


def test_chinese_names_line_up_with_latin_ones() -> None:
    """A column after 华夏移动通信 starts at the same terminal column as after a Latin name."""
    rows = [["华夏移动通信", "Li Na", "12"], ["Huaxia Mobile", "张伟", "3"]]

    lines = table(["account", "KAM", "accounts"], rows, right={"accounts"}).splitlines()

    assert _starts(lines[2], "Li Na") == _starts(lines[3], "张伟") == _starts(lines[0], "KAM")
    assert len({_width(line) for line in lines}) == 1  # the right-aligned column ends together


def test_the_rule_under_the_header_is_as_wide_as_each_column() -> None:
    """The dashes under each header span the column's widest cell as shown, two spaces apart."""
    lines = table(["name", "n"], [["华夏移动通信", "1"]]).splitlines()

    assert lines[1] == "-" * 12 + "  " + "-"


def test_a_cell_is_shown_as_written_never_as_markup() -> None:
    """Brackets in stored text are printed, not read as rich markup, and escapes are escaped."""
    text = table(["name"], [["[bold red]Li[/] \x1b[2J"]], stream=_Terminal())

    assert "[bold red]Li[/] \\x1b[2J" in text
    assert "\x1b[2J" not in text


def test_a_table_piped_is_plain_and_on_a_terminal_has_a_bold_header(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No escape codes off a terminal or under NO_COLOR; a bold header on a colour terminal."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    piped = table(["name"], [["Li Na"]], stream=io.StringIO())
    coloured = table(["name"], [["Li Na"]], stream=_Terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    plain = table(["name"], [["Li Na"]], stream=_Terminal())

    assert "\x1b" not in piped
    assert plain == piped
    assert coloured.startswith("\x1b[1m")


def test_a_table_reaches_the_terminal_past_its_filter() -> None:
    """``show`` writes under the terminal filter, so that a bold header stays bold."""
    terminal = _Terminal()

    show("\x1b[1mname\x1b[0m", TerminalSafe(terminal))

    assert terminal.getvalue() == "\x1b[1mname\x1b[0m\n"


def test_progress_on_a_terminal_shows_count_rate_and_time_left() -> None:
    """On a terminal the bar shows done of total, the percentage, a rate and the time left."""
    terminal = _Terminal()

    with progress("verifying", stream=terminal) as advance:
        advance(500, 1000)
        advance(1000, 1000)

    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal.getvalue())
    assert "verifying" in shown
    assert "1000/1000" in shown
    assert "100%" in shown
    assert re.search(r"events/s", shown)
    assert "left" in shown


def test_progress_off_a_terminal_writes_nothing() -> None:
    """Piped or redirected, the progress callback is a no-op and nothing is written."""
    pipe = io.StringIO()

    with progress("verifying", stream=pipe) as advance:
        advance(500, 1000)

    assert pipe.getvalue() == ""


def test_kam_audit_exceptions_lines_up_a_chinese_account_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """In the command's own table, the column after 华夏移动通信 starts where it does after a
    Latin account name."""
    url = f"sqlite:///{tmp_path / 'kam.db'}"
    with KamApplication(url) as app:
        org = build_org(app)
        key_account(app, org, "华夏移动通信")
        key_account(app, org, "Acme Telecom")

    status = main(["audit", "exceptions", "--store", f"{url}?mode=ro"])

    lines = [line for line in capsys.readouterr().out.splitlines() if "KAM " in line]
    chinese = next(line for line in lines if "华夏移动通信" in line)
    latin = next(line for line in lines if "Acme Telecom" in line)
    assert status == 0
    assert _starts(chinese, "KAM ") == _starts(latin, "KAM ")
