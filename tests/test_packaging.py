"""The installed distribution holds only what it should, under names that cannot collide."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


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
