"""The examples in the README and docs/ run as written, so the docs cannot rot.

Python blocks run in order in one namespace per document. Console blocks run too: each ``$ ``
line is a shell command, run in order in one scratch directory per document holding ``kam.db``
(the demo, seed 1), and the lines after it up to the next command are what it prints (standard
output and error together, NO_COLOR set), compared line by line. In the expected lines:

- a line that is only ``…`` stands for any number of lines (none included);
- ``…`` or ``<varies>`` inside a line stands for any text (a key id, a hash, a time).

A console block right after a ``<!-- not run: REASON -->`` line is not run: install and make
instructions, which change the machine rather than print from the demo.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
CONSOLE = re.compile(
    r"^(<!-- not run: [^>]+ -->\n)?```console\n(.*?)^```", re.MULTILINE | re.DOTALL
)
#: In an expected line: any text.
VARIES = re.compile(r"…|<varies>")


def examples(path: Path) -> list[str]:
    return BLOCK.findall(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "document",
    [doc for doc in DOCUMENTS if examples(doc)],
    ids=lambda doc: str(doc.relative_to(ROOT)),
)
def test_document_examples_run(
    document: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each document's python examples run in order in one namespace without error."""
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__docs__"}

    for number, source in enumerate(examples(document), start=1):
        code = compile(source, f"{document.name} example {number}", "exec")
        exec(code, namespace)


def test_readme_has_an_example() -> None:
    """The README shows embedding with a runnable example."""
    assert examples(ROOT / "README.md")


def test_domain_map_names_only_commands_and_events_that_exist() -> None:
    """Every command and Aggregate.Event that docs/domain.md names exists in the library."""
    from kam_domain import errors
    from kam_domain.aggregates.client_account import ClientAccount
    from kam_domain.aggregates.project import Project
    from kam_domain.aggregates.target import Target
    from kam_domain.aggregates.team import Team
    from kam_domain.application import KamApplication

    aggregates = {"Team": Team, "ClientAccount": ClientAccount, "Project": Project}
    aggregates["Target"] = Target
    text = (ROOT / "docs" / "domain.md").read_text(encoding="utf-8")
    code = re.findall(r"`([^`]+)`", text)
    commands = {re.match(r"[a-z_]+", c)[0] for c in code if re.match(r"[a-z_]+(\(|$)", c)}
    events = {c for c in code if re.fullmatch(r"(Team|ClientAccount|Project|Target)\.\w+", c)}
    raised = {c for c in code if re.fullmatch(r"[A-Z]\w+", c) and hasattr(errors, c)}

    missing = sorted(c for c in commands if not hasattr(KamApplication, c))
    assert not missing, f"not facade methods: {missing}"
    for name in events:
        aggregate, event = name.split(".")
        assert hasattr(aggregates[aggregate], event), name
    assert {"SelfApproval", "AuthorityExceeded", "PriceBelowFloor"} <= raised


def console_blocks(path: Path) -> list[str]:
    """The console blocks of ``path`` that are run (those not marked not run)."""
    found = CONSOLE.findall(path.read_text(encoding="utf-8"))
    return [body for marker, body in found if not marker]


def _steps(body: str) -> list[tuple[str, list[str]]]:
    steps: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
        else:
            raise AssertionError(f"a console block must start with a $ command: {line!r}")
    return [(command, _trimmed(expected)) for command, expected in steps]


def _trimmed(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def _line_pattern(expected: str) -> re.Pattern[str]:
    parts = VARIES.split(expected.rstrip())
    return re.compile(".*?".join(re.escape(part) for part in parts) + r"\Z")


def matches(expected: list[str], shown: list[str]) -> bool:
    """``shown`` fits ``expected``, a line that is only ``…`` standing for any lines."""
    if not expected:
        return not shown
    head, rest = expected[0], expected[1:]
    if head.strip() in ("…", "<varies>"):
        return any(matches(rest, shown[skip:]) for skip in range(len(shown) + 1))
    return (
        bool(shown)
        and bool(_line_pattern(head).match(shown[0].rstrip()))
        and matches(rest, shown[1:])
    )


def _shell(command: str, cwd: Path) -> list[str]:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    env.pop("KAM_STORE", None)
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
        check=False,
    )
    return _trimmed(done.stdout.splitlines())


@pytest.mark.parametrize(
    "document",
    [doc for doc in DOCUMENTS if console_blocks(doc)],
    ids=lambda doc: str(doc.relative_to(ROOT)),
)
def test_document_console_examples_print_what_they_show(
    document: Path, demo_db: Path, tmp_path: Path
) -> None:
    """Each document's console examples, run in order against a copy of the demo store, print
    what the document shows (up to the marked varying parts)."""
    shutil.copy(demo_db, tmp_path / "kam.db")

    for body in console_blocks(document):
        for command, expected in _steps(body):
            shown = _shell(command, tmp_path)
            assert matches(expected, shown), (
                f"{document.name}: $ {command}\nexpected:\n"
                + "\n".join(expected)
                + "\nprinted:\n"
                + "\n".join(shown)
            )


def test_every_console_block_is_run_or_says_why_not() -> None:
    """A console block either runs (its lines start with $ commands) or is marked not run
    with a reason; nothing in between."""
    for document in DOCUMENTS:
        for marker, body in CONSOLE.findall(document.read_text(encoding="utf-8")):
            if not marker:
                assert body.startswith("$ "), f"{document.name}: {body.splitlines()[0]!r}"
                assert all("…" not in c for c, _ in _steps(body)), document.name


def test_the_output_matcher_skips_lines_and_varying_text() -> None:
    """A ``…`` line skips any lines, ``<varies>`` any text in a line, and the rest must agree."""
    shown = ["intact: 815 events", "a", "b", "checkpoint: kam-chain-1:815:ab12"]

    assert matches(["intact: <varies> events", "…", "checkpoint: kam-chain-1:…"], shown)
    assert matches(["intact: 815 events", "…", "a", "b", "…"], shown)
    assert not matches(["intact: 791 events", "…"], shown)
    assert not matches(["intact: 815 events"], shown)
