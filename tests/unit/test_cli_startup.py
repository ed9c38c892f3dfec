"""``kam --help`` starts without building the library: it imports none of the aggregates."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

import kam_domain
from kam_domain.cli import COMMAND_MODULES, COMMANDS, _parser_for, build_parser

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import contextlib, io, sys
from kam_domain.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
print(",".join(sorted(m for m in sys.modules if m.startswith("kam_domain."))))
"""


def _imported(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(filter(None, done.stdout.strip().split(",")))


@pytest.mark.parametrize("args", [("--help",), (), ("no-such-command",)])
def test_kam_help_imports_no_aggregate_and_no_command(args: tuple[str, ...]) -> None:
    """``kam --help`` (or no command, or a wrong one) imports no aggregate, no application and
    no command module."""
    imported = _imported(*args)

    assert not {m for m in imported if m.startswith("kam_domain.aggregates")}
    assert "kam_domain.application" not in imported
    assert not imported & {f"kam_domain.cli.{name}" for name in COMMAND_MODULES}


def test_a_command_imports_its_own_module_only() -> None:
    """``kam report --help`` imports the report command's module, not the others'."""
    imported = _imported("report", "--help")

    assert "kam_domain.cli.report" in imported
    assert "kam_domain.cli.worker" not in imported


def test_the_short_help_lists_the_commands_as_the_full_parser_does() -> None:
    """The command list ``kam --help`` prints without importing the commands is the one their
    modules register, word for word and in the same order."""
    assert _parser_for(["--help"]).format_help() == build_parser().format_help()


def _choices(parser: argparse.ArgumentParser) -> list[str]:
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(commands.choices)


def test_each_listed_command_is_registered_by_its_module() -> None:
    """The table lists every command the modules register, in their order, and the module it
    names for a command registers that command."""
    assert list(COMMANDS) == _choices(build_parser())
    for command in COMMANDS:
        assert command in _choices(_parser_for([command])), command


def test_the_public_api_resolves_every_name() -> None:
    """Every name in ``kam_domain.__all__`` is there on first use, as before."""
    for name in kam_domain.__all__:
        assert getattr(kam_domain, name) is not None, name
    assert set(kam_domain.__all__) <= set(dir(kam_domain))
    with pytest.raises(AttributeError):
        _ = kam_domain.no_such_name  # type: ignore[attr-defined]


def test_the_public_api_module_holds_exactly_the_exported_names() -> None:
    """``kam_domain._api`` imports every name of ``kam_domain.__all__`` and nothing else."""
    from kam_domain import _api

    held = {name for name in vars(_api) if not name.startswith("_")}
    assert held == set(kam_domain.__all__)
