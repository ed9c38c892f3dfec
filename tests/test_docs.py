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
