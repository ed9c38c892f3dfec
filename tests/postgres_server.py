"""The PostgreSQL server the tests use: where it is, whether it answers, a schema per test.

The server comes from ``KAM_TEST_POSTGRES_URL`` (default: the local server, database ``test``).
Without one, PostgreSQL tests skip with the reason; with ``KAM_REQUIRE_POSTGRES=1`` (CI) they
fail instead, so a missing server cannot pass for a green run.
"""

from __future__ import annotations

import functools
import importlib
import os
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from uuid import uuid4

import pytest

URL_ENV_VAR = "KAM_TEST_POSTGRES_URL"
REQUIRE_ENV_VAR = "KAM_REQUIRE_POSTGRES"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
SCHEMA_PREFIX = "kamtest_"


def server_url() -> str:
    return os.environ.get(URL_ENV_VAR) or DEFAULT_URL


def required() -> bool:
    return os.environ.get(REQUIRE_ENV_VAR, "") not in ("", "0")


def require_driver() -> None:
    """Skip (or, under KAM_REQUIRE_POSTGRES, fail) when psycopg is not installed.

    Usable at module level, before a test module imports psycopg itself.
    """
    try:
        import psycopg  # noqa: F401
    except ImportError:
        reason = "psycopg is not installed (pip install -e '.[postgres]')"
        if required():
            pytest.fail(f"{REQUIRE_ENV_VAR}=1 but {reason}", pytrace=False)
        pytest.skip(reason, allow_module_level=True)


@functools.cache
def unavailable_reason() -> str | None:
    """Why the test server cannot be used, or None when it answers (asked once per run)."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    try:
        with psycopg.connect(**connect_kwargs(server_url()), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        first_line = str(error).strip().splitlines()[0]
        return f"no PostgreSQL server at {masked(server_url())} ({first_line})"
    return None


def require_server() -> str:
    """The server's URL; skips the test without a server (fails it under KAM_REQUIRE_POSTGRES)."""
    reason = unavailable_reason()
    if reason is not None:
        if required():
            pytest.fail(f"{REQUIRE_ENV_VAR}=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return server_url()


def fresh_store_url(**parameters: str) -> str:
    """A store URL on the test server with a schema of its own (created when first opened)."""
    base = require_server()
    return with_query(base, schema=f"{SCHEMA_PREFIX}{uuid4().hex[:16]}", **parameters)


def schema_of(url: str) -> str:
    return dict(parse_qsl(urlsplit(url).query))["schema"]


def drop_schema(url: str) -> None:
    """Drop the store's schema and everything in it."""
    import psycopg
    from psycopg.sql import SQL, Identifier

    with psycopg.connect(**connect_kwargs(url), autocommit=True) as conn:
        conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(schema_of(url))))


def adapter_module() -> Any:
    """``kam_adapters.postgres``, once the driver is known to be there."""
    require_driver()
    return importlib.import_module("kam_adapters.postgres")


def rows(url: str, statement: str, *identifiers: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """Run ``statement`` on the server, its ``{}`` filled with the quoted ``identifiers``."""
    from psycopg.sql import SQL, Identifier

    query = SQL(statement).format(*(Identifier(name) for name in identifiers))
    with connect(url) as conn:
        cursor = conn.execute(query, params)
        return list(cursor.fetchall()) if cursor.description else []


def connect(url: str) -> Any:
    """A plain psycopg connection (autocommit) to the server a store URL names."""
    import psycopg

    return psycopg.connect(**connect_kwargs(url), autocommit=True)


def connect_kwargs(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    return {
        "host": parts.hostname or "",
        "port": parts.port or 5432,
        "user": parts.username or "",
        "password": parts.password or "",
        "dbname": parts.path.lstrip("/"),
    }


def with_query(url: str, **parameters: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(parameters)
    return urlunsplit(parts._replace(query=urlencode(query)))


def masked(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
