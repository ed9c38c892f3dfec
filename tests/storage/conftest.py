"""Fixtures of the storage tests: a PostgreSQL store of its own for each test that needs one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import postgres_server


@pytest.fixture(name="pg_store")
def fixture_pg_store() -> Iterator[str]:
    """A store URL with a fresh schema on the test server, dropped after the test."""
    url = postgres_server.fresh_store_url()
    yield url
    postgres_server.drop_schema(url)
