"""The examples in the README and docs/ run as written, so the docs cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


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
