"""The installed distribution holds only what it should, under names that cannot collide."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_no_generic_top_level_package_is_installed(tmp_path: Path) -> None:
    """Outside the checkout, `import adapters` does not find this project (only kam_adapters)."""
    probe = (
        "import importlib.util as u;"
        "print(u.find_spec('adapters') is None, u.find_spec('kam_adapters') is not None,"
        " u.find_spec('kam_domain') is not None)"
    )

    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    )

    assert result.stdout.split() == ["True", "True", "True"]


def test_the_package_says_it_is_typed() -> None:
    """Both import packages ship a py.typed marker."""
    import kam_adapters

    import kam_domain

    for package in (kam_domain, kam_adapters):
        assert (Path(package.__file__).parent / "py.typed").is_file()


def test_a_built_wheel_ships_the_scorecards_templates_and_style_sheet(tmp_path: Path) -> None:
    """A wheel built from the sources holds every file of the scorecard's templates directory
    (the page's templates and its CSS), which the page is rendered from."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("kam_domain", "adapters"):
        # A copy, so that the build's own files are not written into the checkout.
        shutil.copytree(
            ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet"]

    subprocess.run(
        [*command, "--wheel-dir", str(tmp_path / "dist"), str(source)],
        capture_output=True,
        check=True,
    )

    (wheel,) = (tmp_path / "dist").glob("*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    templates = ROOT / "kam_domain" / "reports" / "templates"
    expected = {f"kam_domain/reports/templates/{path.name}" for path in templates.iterdir()}
    assert "kam_domain/reports/templates/scorecard.css" in expected
    assert expected <= shipped
