"""The repository the facade loads records through, and the cache it keeps them in.

eventsourcing's repository and cache, with two changes measured on the command path: records
are rebuilt from their events without a runtime protocol check per event, and cached records
are handed out as copies made by :func:`~kam_domain.application.copies.copy_record` rather than
``copy.deepcopy``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.application import ProjectorFunction, Repository, project_aggregate

from kam_domain.application.copies import copy_record

__all__ = ["RecordRepository", "cache_settings"]


def cache_settings(size: int) -> dict[str, str]:
    """eventsourcing's aggregate cache, holding ``size`` records (none when 0).

    A command then decodes only the events recorded since it last saw a record: the cache is
    fast-forwarded from the store on every read (so other processes' writes are seen), hands
    out copies (so a refused command leaves it untouched), and is only filled by reads (so a
    save that fails leaves nothing behind in it).
    """
    if size == 0:
        return {"AGGREGATE_CACHE_MAXSIZE": ""}
    return {
        "AGGREGATE_CACHE_MAXSIZE": str(size),
        "AGGREGATE_CACHE_FASTFORWARD": "y",
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "y",
    }


def _project(record: Any, events: Iterable[Any]) -> Any:
    """eventsourcing's ``project_aggregate`` without its check that each event can mutate (a
    runtime protocol check, about a quarter of a command that loads its records from the
    store): every event the mapper gives is an aggregate event, which can."""
    for event in events:
        record = event.mutate(record)
    return record


class RecordRepository(Repository[UUID]):
    """eventsourcing's repository, handing out copies of cached records made by
    :func:`~kam_domain.application.copies.copy_record` rather than ``copy.deepcopy`` (the same
    copy, without visiting the values that never change)."""

    def get(
        self,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        projector_func: ProjectorFunction[Any, Any] = project_aggregate,
        fastforward_skipping: bool = False,
        deepcopy_from_cache: bool = True,
    ) -> Any:
        if projector_func is project_aggregate:
            projector_func = _project
        record = super().get(
            aggregate_id,
            version=version,
            projector_func=projector_func,
            fastforward_skipping=fastforward_skipping,
            deepcopy_from_cache=False,
        )
        if self.cache and version is None and deepcopy_from_cache and self.deepcopy_from_cache:
            record = copy_record(record)
        return record
