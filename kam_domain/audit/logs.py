"""Reading a store's log as an auditor does: opened for reading only, a page at a time, each
event beside its chain link."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from eventsourcing.persistence import (
    ApplicationRecorder,
    InfrastructureFactory,
    Notification,
    PersistenceError,
)
from eventsourcing.utils import Environment

from kam_domain.errors import StoreError, StoreUnavailable
from kam_domain.ledger import ChainLink, SealedRecorder
from kam_domain.storage import StoreUrl, resolve_store, store_settings

__all__ = ["events_and_links", "open_log", "paged", "side_by_side"]

T = TypeVar("T")


@contextmanager
def open_log(store: str | None = None) -> Iterator[ApplicationRecorder]:
    """The recorder of ``store``, opened for reading only: nothing is created, upgraded or
    written; a missing store raises StoreNotFound, a foreign database NotAKamStore.

    No cipher key is needed: the chain covers the bytes as stored.
    """
    url, adapter = resolve_store(store)
    settings = store_settings(url, adapter, read_only=True)
    try:
        factory: InfrastructureFactory[Any] = InfrastructureFactory.construct(
            Environment(_application_name(), settings)
        )
    except StoreError:
        raise
    except (PersistenceError, OSError) as error:
        raise StoreUnavailable(f"store: cannot open {url}: {url.scrub(error)}") from error
    try:
        try:
            recorder = factory.process_recorder()
        except StoreError:
            raise
        except (PersistenceError, OSError) as error:
            raise StoreUnavailable(f"store: cannot open {url}: {url.scrub(error)}") from error
        with _translated(url):
            yield recorder
    finally:
        factory.close()


def paged(select: Callable[[int | None], Sequence[T]], position: Callable[[T], int]) -> Iterator[T]:
    """Every row ``select`` gives, a page at a time; the first page starts at the lowest
    position, whatever it is (a row slipped in below 1 is read too)."""
    start: int | None = None
    while True:
        page = select(start)
        if not page:
            return
        yield from page
        start = position(page[-1]) + 1


def side_by_side(
    events: Iterator[Notification], links: Iterator[ChainLink]
) -> Iterator[tuple[Notification | None, ChainLink | None]]:
    """Pairs by position: (event, link), (event, None) or (None, link), in position order."""
    event, link = next(events, None), next(links, None)
    while event is not None or link is not None:
        if link is None or (event is not None and event.id < link.position):
            yield event, None
            event = next(events, None)
        elif event is None or link.position < event.id:
            yield None, link
            link = next(links, None)
        else:
            yield event, link
            event, link = next(events, None), next(links, None)


def events_and_links(
    recorder: ApplicationRecorder, chain: SealedRecorder, page_size: int, stop: int | None = None
) -> Iterator[tuple[Notification | None, ChainLink | None]]:
    """The log's events and the chain's links up to ``stop``, read a page at a time of each,
    :func:`side_by_side`."""
    events = paged(
        lambda start: recorder.select_notifications(start, page_size, stop=stop),
        lambda event: event.id,
    )
    links = paged(
        lambda start: chain.select_links(start, page_size, stop=stop),
        lambda link: link.position,
    )
    return side_by_side(events, links)


@contextmanager
def _translated(url: StoreUrl) -> Iterator[None]:
    try:
        yield
    except StoreError:
        raise
    except PersistenceError as error:
        raise StoreUnavailable(f"store: {url}: {url.scrub(error)}") from error


def _application_name() -> str:
    from kam_domain.application.core import ApplicationCore

    return ApplicationCore.name
