"""The application over its store: the store a URL names opened as the library keeps it.

eventsourcing's :class:`~eventsourcing.application.Application`, with the library's choices of
what it constructs: the adapter the URL names (its cipher and compression), a process recorder
(decisions are recorded with the position of their cause), the event mapper and transcoder,
the record repository with its cache, and snapshots taken from the records just saved. The
facade's commands build on it (:mod:`kam_domain.application.core`).
"""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID

from eventsourcing.application import (
    Application,
    ProcessingEvent,
    ProjectorFunction,
    Repository,
    project_aggregate,
)
from eventsourcing.persistence import (
    InfrastructureFactory,
    JSONTranscoder,
    Mapper,
    PersistenceError,
    ProcessRecorder,
    Recording,
    Transcoder,
)

from kam_domain.application.repository import RecordRepository, cache_settings
from kam_domain.application.snapshots import SealedSnapshot, SealedSnapshots, event_digest
from kam_domain.bounds import check_whole
from kam_domain.codec import EventTranscoder
from kam_domain.errors import StoreError, StoreUnavailable
from kam_domain.ledger import TIMESTAMPS, event_timestamps
from kam_domain.storage import StoreUrl, check_readable, resolve_store, store_settings
from kam_domain.transcoding import EventMapper, register_transcodings

__all__ = ["DEFAULT_CACHE_SIZE", "MAX_CACHE_SIZE", "StoreApplication"]

#: Records kept decoded between commands, least recently used first out.
DEFAULT_CACHE_SIZE = 1000
#: The most records a cache may be asked to hold: beyond it, memory rather than speed runs out.
MAX_CACHE_SIZE = 1_000_000


class StoreApplication(Application[UUID]):
    """An eventsourcing application over the store a URL names, as the library keeps it."""

    #: Names the store's tables (e.g. ``kam_events`` on PostgreSQL): every subclass a host writes
    #: must open the same store, so the name is kept unless a subclass sets its own on purpose.
    name = "kam"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        own_name = "name" in cls.__dict__
        super().__init_subclass__(**kwargs)
        if not own_name:
            cls.name = "kam"

    def __init__(
        self,
        store: str | None = None,
        *,
        env: dict[str, str] | None = None,
        cipher_key: str | None = None,
        compress: bool | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
        read_only: bool = False,
        read_snapshots: bool = True,
    ) -> None:
        """Open ``store`` (a URL; default ``$KAM_STORE``, else ``sqlite:///kam.db``).

        ``cipher_key`` (base64 AES key) encrypts stored events; ``compress`` zlib-compresses
        them. Both win over the URL's parameters of the same names (see docs/adapters.md).
        ``cache_size``: how many records to keep decoded in memory between commands (0: none).
        ``read_only``: open an existing store for reading only (nothing is created, upgraded
        or written; a missing store raises StoreNotFound, a foreign database NotAKamStore).
        ``read_snapshots``: on an encrypted store, load records from their sealed snapshots
        (False: always from their events).
        """
        check_whole("cache_size", cache_size, low=0, high=MAX_CACHE_SIZE)
        #: Per thread: the records just saved (and, for the facade, the open batch).
        self._batches = threading.local()
        self.store_url: StoreUrl
        self.store_url, adapter = resolve_store(store)
        settings = store_settings(
            self.store_url, adapter, cipher_key=cipher_key, compress=compress, read_only=read_only
        )
        settings.update(cache_settings(cache_size))
        settings.update(env or {})
        try:
            super().__init__(env=settings)
            # Snapshots are derived data outside the hash chain: an edited one would change
            # what a command decides (a member's authority, say) with nothing to detect it.
            # Records are loaded only from snapshots sealed under the store's cipher key, which
            # the database does not hold; elsewhere from their events, which the chain covers
            # (the record cache keeps them decoded between commands). kam audit verify --deep
            # checks every snapshot.
            snapshots = self.snapshots if self.mapper.cipher is not None else None
            sealed = (
                SealedSnapshots(snapshots, self.recorder) if read_snapshots and snapshots else None
            )
            self.repository.snapshot_store = sealed
            check_readable(self.store_url, self.recorder, self.mapper)
        except (PersistenceError, OSError, StoreError) as error:
            if hasattr(self, "factory"):
                self.factory.close()
            if isinstance(error, StoreError):
                raise
            msg = f"store: cannot open {self.store_url}: {self.store_url.scrub(error)}"
            raise StoreUnavailable(msg) from error

    def construct_repository(self) -> Repository[UUID]:
        plain = super().construct_repository()
        repository = RecordRepository(
            event_store=plain.event_store,
            snapshot_store=plain.snapshot_store,
            fastforward=plain.fastforward,
            fastforward_skipping=plain.fastforward_skipping,
            deepcopy_from_cache=plain.deepcopy_from_cache,
        )
        repository.cache = plain.cache
        return repository

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        # The records just saved are at the versions they were saved at: a snapshot of one is
        # taken from it, instead of replaying its whole history from the store (which cost a
        # long record's every hundredth command more than the hundred before it).
        self._batches.saved = processing_event.aggregates
        try:
            super()._take_snapshots(processing_event)
        finally:
            self._batches.saved = None

    def take_snapshot(
        self,
        aggregate_id: UUID,
        version: int | None = None,
        projector_func: ProjectorFunction[Any, Any] = project_aggregate,
    ) -> None:
        if self.snapshots is None:
            super().take_snapshot(aggregate_id, version, projector_func)  # says why it cannot
            return
        saved: dict[UUID, Any] = getattr(self._batches, "saved", None) or {}
        record = saved.get(aggregate_id)
        if record is None or version is None or record.version != version:
            record = self.repository.get(
                aggregate_id, version=version, projector_func=projector_func
            )
        # Sealed with the record's id and version inside, and the digest of its stored event
        # at that version (see kam_domain.application.snapshots). Without a cipher no snapshot
        # is ever loaded from, so the event is not read again for its digest.
        digest = ""
        if self.mapper.cipher is not None:
            digest = event_digest(self.recorder, aggregate_id, record.version) or ""
        self.snapshots.put([SealedSnapshot.take(record, digest)])

    def construct_recorder(self) -> ProcessRecorder:
        # A process recorder also keeps tracking records, so that policy decisions are recorded
        # atomically with the position of the event that caused them.
        return self.factory.process_recorder()

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=EventMapper)

    def construct_transcoder(self) -> Transcoder:
        # eventsourcing's JSON format, written and read faster (a host's TRANSCODER_TOPIC wins).
        if self.env.get(InfrastructureFactory.TRANSCODER_TOPIC):
            return super().construct_transcoder()
        transcoder = EventTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_transcodings(transcoder)

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        # Bodies may be encrypted: the recorder indexes the timestamps it is handed here.
        timestamps = event_timestamps(processing_event.events)
        processing_event.saved_kwargs[TIMESTAMPS] = timestamps
        return super()._record(processing_event)
