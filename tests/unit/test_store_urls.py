"""Stores are chosen by URL; bad URLs fail clearly and never show a password."""

from __future__ import annotations

from pathlib import Path

import pytest

from kam_domain.application import KamApplication
from kam_domain.errors import InvalidStoreUrl, StoreUnavailable, UnknownStoreScheme
from kam_domain.storage import StoreUrl, resolve_store


def test_unknown_scheme_lists_the_available_ones() -> None:
    """An unknown scheme is refused with the list of schemes that are available."""
    with pytest.raises(UnknownStoreScheme, match=r"memory://.*sqlite://"):
        resolve_store("mongodb://localhost/kam")


@pytest.mark.parametrize("bad", ["kam.db", "", "sqlite:/kam.db", "postgresql://h:notaport/db"])
def test_malformed_urls_are_refused(bad: str) -> None:
    """Text that is not SCHEME://… (or has a bad port) is InvalidStoreUrl."""
    with pytest.raises(InvalidStoreUrl):
        StoreUrl.parse(bad)


def test_passwords_never_show() -> None:
    """Printing a parsed URL masks its password."""
    url = StoreUrl.parse("postgresql://kam:s3cret@db.example:5432/kam?schema=east")

    assert "s3cret" not in str(url)
    assert "s3cret" not in repr(url)
    assert str(url) == "postgresql://kam:***@db.example:5432/kam?schema=east"


def test_malformed_url_errors_do_not_show_the_password() -> None:
    """Even a URL that fails to parse is reported without its password."""
    with pytest.raises(InvalidStoreUrl) as info:
        StoreUrl.parse("postgresql://kam:s3cret@db:port/kam")

    assert "s3cret" not in str(info.value)


def test_sqlite_paths_follow_the_three_and_four_slash_rule(tmp_path: Path) -> None:
    """sqlite:///name.db is relative to the working directory, sqlite:////abs.db absolute."""
    url, adapter = resolve_store(f"sqlite:///{tmp_path}/kam.db")

    assert adapter.environment(url)["SQLITE_DBNAME"] == f"{tmp_path}/kam.db"
    relative, adapter = resolve_store("sqlite:///kam.db")
    assert adapter.environment(relative)["SQLITE_DBNAME"] == "kam.db"


def test_sqlite_in_a_missing_folder_is_unavailable(tmp_path: Path) -> None:
    """A database file in a folder that does not exist is StoreUnavailable, naming it."""
    with pytest.raises(StoreUnavailable, match="does not exist"):
        KamApplication(f"sqlite:///{tmp_path}/missing/kam.db")


def test_the_store_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no URL, KAM_STORE names the store."""
    monkeypatch.setenv("KAM_STORE", f"sqlite:///{tmp_path}/from-env.db")

    app = KamApplication()

    assert app.store_url.path.endswith("from-env.db")
    app.close()
