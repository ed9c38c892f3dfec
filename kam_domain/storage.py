"""Choosing a store by URL: ``memory://``, ``sqlite:///kam.db``, ``postgresql://…``.

A URL names an adapter by its scheme. Adapters are found in the entry-point group
``kam_domain.storage`` (the built-in ones are registered there too), so a third party adds a
backend by installing a package; the domain never imports an adapter module directly.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Protocol
from urllib.parse import SplitResult, parse_qs, urlsplit

import attrs

from kam_domain.errors import InvalidStoreUrl, UnknownStoreScheme

__all__ = [
    "DEFAULT_STORE",
    "STORE_ENV_VAR",
    "StorageAdapter",
    "StoreUrl",
    "available_schemes",
    "resolve_store",
]

STORE_ENV_VAR = "KAM_STORE"
DEFAULT_STORE = "sqlite:///kam.db"
ENTRY_POINT_GROUP = "kam_domain.storage"

# Found even when the distribution's metadata is not installed (e.g. running from a checkout).
_BUILT_IN = {
    "memory": "kam_adapters.memory:adapter",
    "sqlite": "kam_adapters.sqlite:adapter",
}


@attrs.frozen
class StoreUrl:
    """A parsed store URL; ``str()`` and ``repr()`` never show the password."""

    scheme: str
    username: str | None
    password: str | None = attrs.field(repr=False)
    host: str | None
    port: int | None
    path: str
    query: Mapping[str, str]

    @classmethod
    def parse(cls, url: str) -> StoreUrl:
        if not isinstance(url, str) or "://" not in url:
            raise InvalidStoreUrl(f"store: expected SCHEME://…, got {_mask_text(url)!r}")
        try:
            parts: SplitResult = urlsplit(url)
            port = parts.port
        except ValueError as error:
            raise InvalidStoreUrl(f"store: {_mask_text(url)!r} is malformed: {error}") from None
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        return cls(
            scheme=parts.scheme.lower(),
            username=parts.username,
            password=parts.password,
            host=parts.hostname,
            port=port,
            path=parts.path,
            query=query,
        )

    def __str__(self) -> str:
        auth = ""
        if self.username:
            auth = self.username + (":***" if self.password else "") + "@"
        host = (self.host or "") + (f":{self.port}" if self.port else "")
        query = "&".join(f"{k}={v}" for k, v in sorted(self.query.items()))
        return f"{self.scheme}://{auth}{host}{self.path}" + (f"?{query}" if query else "")


class StorageAdapter(Protocol):
    """What a storage backend provides: the eventsourcing environment for a URL."""

    scheme: str

    def environment(self, url: StoreUrl) -> dict[str, str]:
        """The eventsourcing settings (PERSISTENCE_MODULE and the module's own keys)."""
        ...


def _adapters() -> dict[str, str]:
    found = dict(_BUILT_IN)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        found[entry.name] = entry.value
    return found


def available_schemes() -> list[str]:
    return sorted(_adapters())


def resolve_store(url: str | None = None) -> tuple[StoreUrl, StorageAdapter]:
    """Parse ``url`` (default: ``$KAM_STORE``, else ``sqlite:///kam.db``) and find its adapter."""
    text = url or os.environ.get(STORE_ENV_VAR) or DEFAULT_STORE
    parsed = StoreUrl.parse(text)
    target = _adapters().get(parsed.scheme)
    if target is None:
        schemes = ", ".join(f"{s}://" for s in available_schemes())
        msg = f"store: no adapter for {parsed.scheme}:// (available: {schemes})"
        raise UnknownStoreScheme(msg)
    module_name, _, attribute = target.partition(":")
    adapter: StorageAdapter = getattr(importlib.import_module(module_name), attribute)
    return parsed, adapter


def _mask_text(url: object) -> str:
    text = str(url)
    try:
        parts = urlsplit(text)
        if parts.password:
            return text.replace(f":{parts.password}@", ":***@")
    except ValueError:
        pass
    return text
