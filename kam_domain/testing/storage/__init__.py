"""Conformance tests for storage adapters, built on eventsourcing's own recorder tests.

An adapter (see :mod:`kam_domain.storage`) conforms when every case here passes against it.
Give :class:`StoreTestCase` a way to make a fresh, empty store, then combine it with each case::

    from kam_domain.testing import storage as kit

    class MyStore(kit.StoreTestCase):
        def create_store_url(self) -> str:
            return "mystore://…/a-fresh-empty-store"

        def drop_store(self, url: str) -> None:
            ...  # remove what create_store_url made

    class TestMyAggregateRecorder(MyStore, kit.AggregateRecorderConformance): ...
    class TestMyApplicationRecorder(MyStore, kit.ApplicationRecorderConformance): ...
    class TestMyTrackingRecorder(MyStore, kit.TrackingRecorderConformance): ...
    class TestMyProcessRecorder(MyStore, kit.ProcessRecorderConformance): ...
    class TestMyNotificationOrder(MyStore, kit.NotificationOrderConformance): ...
    class TestMyApplication(MyStore, kit.ApplicationConformance): ...
    class TestMySubscription(MyStore, kit.SubscriptionConformance): ...
    class TestMyChain(MyStore, kit.ChainConformance): ...
    class TestMyAsOfIndex(MyStore, kit.AsOfIndexConformance): ...
    class TestMyState(MyStore, kit.StateConformance): ...

Import the package, not its classes: pytest collects every ``TestCase`` class it finds in a
test module's namespace, and these are abstract (they skip themselves if collected anyway).
Each kit lives in a module of its own, all re-exported here: ``base`` (:class:`StoreTestCase`),
``recorders`` (eventsourcing's recorder cases), ``application``, ``subscription``, ``chain``,
``asof``, ``state``, and ``fixtures`` (the team and the timed history they record).

The recorder cases are eventsourcing's (``eventsourcing.tests.persistence``), fed with recorders
from the adapter's own factory. :class:`ApplicationConformance` adds what this library relies
on: opening a store by URL through the facade, state that survives reopening, optimistic
conflicts surfacing as :class:`~kam_domain.errors.ConcurrencyConflict` with nothing written,
several records committed all or nothing, writers in several threads losing nothing, and
encryption and compression configured per store. :class:`SubscriptionConformance` checks what
``kam worker`` relies on: the facade's recorder (a process recorder) yields what it holds after a
position, then what any writer records, and stops when asked, even while it waits.

:class:`ChainConformance` and :class:`AsOfIndexConformance` check what auditors rely on (see
:mod:`kam_domain.ledger`): every event sealed into the hash chain, and indexed by its timestamp,
in the same write as the event; ``kam audit verify`` passing on an untouched store, with read
access only and no cipher key; as-of answers equal to a replay of the history. A recorder that
offers the optional ``select_sealed`` (:class:`~kam_domain.ledger.JoinedRecorder`) must give
the rows :func:`sealed_rows` derives from ``select_notifications`` and ``select_links``, and
verify must answer through it as through those two (:class:`TwoStreams`); without it, those
checks are skipped and verify merges the two streams. The contract of the sealing core
(:mod:`kam_domain.sealing`) is checked too: a write that the chain already runs past (the log
lost its tail behind the library's back) is refused as eventsourcing's ``DatabaseError``, and
records no event, link, index row or tracking row; ``StoreTestCase.overrun_chain`` sets that
up (through the core's hooks by default).

:class:`StateConformance` checks what a policy engine relies on to start without folding the
log (:class:`~kam_domain.runtime.state.StateRecorder`): an empty store answering as empty, cells
reading back as written (None deleting one), prefixes listing in key order, a write from a
stale checkpoint serial refused as :class:`~kam_domain.errors.StateConflict` with nothing
written, and of two writers from the same checkpoint exactly one winning.

Capability flags on :class:`StoreTestCase`: ``persistent`` (False when a store lives only as long
as the application object that opened it, as ``memory://`` does), ``supports_subscriptions``
(whether the application recorder's ``subscribe()`` works), ``keeps_chain`` and
``keeps_asof_index`` (False when the adapter's recorder does not write the hash chain, or the
as-of index: the kit then skips those checks and says so, and ``kam audit verify`` refuses the
store; as-of queries still answer, by replaying histories), and ``keeps_state`` (False when
the recorder keeps no engine state: those checks are skipped, and the engine keeps its state
in memory).
"""

from __future__ import annotations

from kam_domain.testing.storage.application import ApplicationConformance
from kam_domain.testing.storage.asof import AsOfIndexConformance
from kam_domain.testing.storage.base import StoreTestCase
from kam_domain.testing.storage.chain import (
    ChainConformance,
    TwoStreams,
    canonical_rows,
    sealed_rows,
)
from kam_domain.testing.storage.engine_state import StateConformance
from kam_domain.testing.storage.fixtures import (
    DIRECTOR_NAME,
    MEMBER_NAMES,
    SUBSCRIPTION_TIMEOUT,
    T_KIT,
    TEAM_NAME,
    assert_names_hidden,
    build_team,
    capacities,
    form_team,
    notification_ids,
    pct,
    state,
    timed_team,
    with_parameter,
)
from kam_domain.testing.storage.recorders import (
    AggregateRecorderConformance,
    ApplicationRecorderConformance,
    NotificationOrderConformance,
    ProcessRecorderConformance,
    TrackingRecorderConformance,
)
from kam_domain.testing.storage.subscription import SubscriptionConformance, Taker, take

__all__ = [
    "DIRECTOR_NAME",
    "MEMBER_NAMES",
    "SUBSCRIPTION_TIMEOUT",
    "TEAM_NAME",
    "T_KIT",
    "AggregateRecorderConformance",
    "ApplicationConformance",
    "ApplicationRecorderConformance",
    "AsOfIndexConformance",
    "ChainConformance",
    "NotificationOrderConformance",
    "ProcessRecorderConformance",
    "StateConformance",
    "StoreTestCase",
    "SubscriptionConformance",
    "Taker",
    "TrackingRecorderConformance",
    "TwoStreams",
    "assert_names_hidden",
    "build_team",
    "canonical_rows",
    "capacities",
    "form_team",
    "notification_ids",
    "pct",
    "sealed_rows",
    "state",
    "take",
    "timed_team",
    "with_parameter",
]
