"""``memory://``: everything in process memory, gone when the process ends (tests, what-ifs)."""

from __future__ import annotations

from kam_domain.storage import StoreUrl

__all__ = ["MemoryAdapter", "adapter"]


class MemoryAdapter:
    scheme = "memory"
    options: frozenset[str] = frozenset()

    def environment(self, url: StoreUrl) -> dict[str, str]:
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}


adapter = MemoryAdapter()
