"""``kam`` behaves as a shell user expects: ``--version``, quiet pipes, one table of exit
statuses that every subcommand keeps, errors that list the valid choices."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kam_domain.cli import build_parser, main
from kam_domain.cli.common import EXIT_STATUSES, STORE_HELP, exit_status_text

ROOT = Path(__file__).resolve().parents[2]
#: A value no typed option or choice accepts.
MALFORMED = "@@malformed@@"


def _leaves(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups:
        yield path, parser
        return
    for name, child in groups[0].choices.items():
        yield from _leaves(child, (*path, name))


def _groups(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    yield path
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _groups(child, (*path, name))


LEAVES = dict(_leaves(build_parser()))
PARSERS = list(_groups(build_parser()))


def _typed(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    """Every argument whose value is checked when the command line is read."""
    for action in parser._actions:
        if action.nargs == 0 or isinstance(action, argparse._SubParsersAction):
            continue
        if action.choices is not None or action.type not in (None, str, Path):
            yield action


MALFORMED_CASES = [
    pytest.param(path, action.dest, id=" ".join((*path, action.dest)))
    for path, parser in LEAVES.items()
    for action in _typed(parser)
]


def _exit(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as raised:
        main(argv)
    out, err = capsys.readouterr()
    code = raised.value.code
    return (code if isinstance(code, int) else 0 if code is None else 1), out, err


def test_every_subcommand_is_walked() -> None:
    """The walk finds the commands a user can run, nested groups included."""
    assert ("audit", "verify") in LEAVES
    assert ("clock", "close-period") in LEAVES
    assert ("policies", "retry") in LEAVES
    assert ("demo",) in LEAVES
    assert len(MALFORMED_CASES) > 10


@pytest.mark.parametrize("path", PARSERS, ids=lambda path: " ".join(path) or "kam")
def test_help_exits_0_and_states_the_one_table(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    """``--help`` on every command and group exits 0 and prints the table of exit statuses."""
    status, out, _ = _exit([*path, "--help"], capsys)

    assert status == 0
    assert "exit status:" in out
    for code, meaning in EXIT_STATUSES.items():
        assert f"  {code}  " in out
        if code != 3:
            assert meaning.split(" (")[0] in " ".join(out.split())


@pytest.mark.parametrize("path", list(LEAVES), ids=lambda path: " ".join(path))
def test_an_unknown_option_exits_2(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    """Every subcommand refuses an option it does not have (or a required one missing) with
    usage status 2 and an error line."""
    status, _, err = _exit([*path, "--no-such-option"], capsys)

    assert status == 2
    assert "error: " in err


@pytest.mark.parametrize(("path", "dest"), MALFORMED_CASES)
def test_a_malformed_argument_exits_2_naming_it(
    path: tuple[str, ...], dest: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every typed option and positional of every subcommand refuses a malformed value with
    status 2 and a message naming that argument, before any store is opened."""
    parser = LEAVES[path]
    action = next(a for a in parser._actions if a.dest == dest)
    if action.option_strings:
        argv = [*path, action.option_strings[-1], MALFORMED]
        named = "/".join(action.option_strings)
    else:
        positionals = [a for a in parser._actions if not a.option_strings]
        argv = [*path, *[MALFORMED] * (positionals.index(action) + 1)]
        named = str(action.metavar or action.dest)

    status, _, err = _exit(argv, capsys)

    assert status == 2
    assert f"argument {named}:" in err


def test_the_table_is_defined_once_and_printed_by_kam_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``kam --help`` ends with the table: 0 ok, 1 refused, 2 usage, 3 findings."""
    _, out, _ = _exit(["--help"], capsys)

    assert out.rstrip().endswith(exit_status_text().rstrip())
    assert [EXIT_STATUSES[code].split(":")[0] for code in (1, 2, 3)] == [
        "refused",
        "usage",
        "findings",
    ]


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    """``kam --version`` prints the distribution's version from its metadata and exits 0."""
    from importlib.metadata import version

    status, out, _ = _exit(["--version"], capsys)

    assert status == 0
    assert out == f"kam {version('kam-domain')}\n"


def test_store_help_mentions_the_postgresql_schema_parameter() -> None:
    """``--store``'s help says how to keep to one PostgreSQL schema."""
    assert "?schema=" in STORE_HELP


def test_a_missing_policy_lists_the_policies_there_are(
    demo_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--policy x`` names x and lists the registered policies; status 1."""
    status = main(["policies", "decisions", "--policy", "x", "--store", f"sqlite:///{demo_db}"])

    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith("kam: policy: no policy named x; policies: assignment, ")


def test_a_missing_version_lists_the_versions_there_are(
    demo_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--policy assignment@7`` lists the registered versions of assignment; status 1."""
    status = main(["replay", "--policy", "assignment@7", "--store", f"sqlite:///{demo_db}"])

    err = capsys.readouterr().err
    assert status == 1
    assert "versions of assignment: 1, 2" in err


def test_worker_once_prints_one_line(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``kam worker --once`` without -v prints one summary line: position and decisions."""
    store = tmp_path / "kam.db"
    shutil.copy(demo_db, store)

    status = main(["worker", "--once", "--store", f"sqlite:///{store}"])

    out = capsys.readouterr().out
    assert status == 0
    assert len(out.splitlines()) == 1
    assert out.startswith("caught up to position ")


def _kam(*args: str) -> list[str]:
    return [sys.executable, "-m", "kam_domain.cli", *args]


@pytest.mark.parametrize(
    "command",
    [
        ("policies", "decisions"),
        ("audit", "export"),
        ("audit", "trail", "--account", "Huaxia Mobile"),
        ("demo",),
    ],
    ids=" ".join,
)
def test_a_reader_that_stops_early_ends_the_output_quietly(
    command: tuple[str, ...], demo_db: Path
) -> None:
    """Piped into a reader that closes after one line (``| head -1``), kam exits 0 and prints
    no traceback."""
    # The demo opens its store to write (and finds the scenario there): no read-only mode.
    store = f"sqlite:///{demo_db}" + ("" if command == ("demo",) else "?mode=ro")
    reader = subprocess.Popen(
        _kam(*command, "--store", store),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None
    assert reader.stdout.readline()
    reader.stdout.close()

    err = reader.stderr.read() if reader.stderr else b""
    status = reader.wait(timeout=120)

    assert b"Traceback" not in err
    assert b"BrokenPipe" not in err
    assert status == 0


@pytest.mark.parametrize(
    "command",
    [("audit", "verify"), ("audit", "export"), ("replay",), ("policies", "list")],
    ids=" ".join,
)
def test_piped_output_has_no_progress_and_no_escape_codes(
    command: tuple[str, ...], demo_db: Path
) -> None:
    """Piped, a long command prints its result only: no progress bar, no colour codes."""
    done = subprocess.run(
        _kam(*command, "--store", f"sqlite:///{demo_db}?mode=ro"),
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "TERM": "xterm-256color"},
    )

    assert done.returncode == 0
    assert done.stderr == b""
    assert b"\x1b" not in done.stdout


def test_kam_help_imports_neither_rich_nor_tenacity() -> None:
    """``kam --help`` starts without the libraries only some commands need (start-up time)."""
    probe = (
        "import contextlib, io, sys\n"
        "from kam_domain.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'rich', 'tenacity'}))\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert done.stdout.strip() == "[]"


def test_a_mistyped_account_lists_the_closest_names(
    demo_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``kam audit accountable --account 'Huaxia Mobil'`` is refused (1) naming the closest
    accounts there are."""
    argv = ["audit", "accountable", "--account", "Huaxia Mobil", "--at", "2026-03-01T00:00Z"]

    status = main([*argv, "--store", f"sqlite:///{demo_db}?mode=ro"])

    err = capsys.readouterr().err
    assert status == 1
    assert "did you mean 'Huaxia Mobile'" in err
