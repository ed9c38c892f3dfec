"""Property: whatever the interleaving of commands, deliveries, failing handlers and consumers
that die before acknowledging, every item is delivered at least once, in log order, and
acknowledged exactly once."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from kam_domain import KamApplication, Outbox
from tests.outbox.story import story

#: Flags weighted double, so that most runs have items to deliver.
STEP = st.sampled_from(["flag", "flag", "quiet", "deliver", "fail", "crash"])
STEPS = st.lists(STEP, min_size=1, max_size=12)


class HandlerFailed(Exception):
    """The host's handler failing (its endpoint down, say)."""


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
@settings(max_examples=25)
@given(steps=STEPS)
def test_every_item_is_delivered_in_order_and_acknowledged_once(
    backend: str, steps: list[str]
) -> None:
    """Any interleaving of commands and consumer steps with crashes delivers each item at least
    once, in log order, and acknowledges each exactly once."""
    with tempfile.TemporaryDirectory() as folder:
        store = "memory://" if backend == "memory" else f"sqlite:///{Path(folder) / 'kam.db'}"
        told = story(store)
        apps: list[KamApplication] = []

        def consumer() -> Outbox:
            # A consumer restarted after a crash: a new process on a file store.
            app = told.app
            if backend == "sqlite":
                app = KamApplication(store, run_policies=False)
                apps.append(app)
            return Outbox(app, "host", kinds=["payment_overdue"])

        outbox = consumer()
        delivered: list[int] = []
        acknowledged: list[int] = []
        keys: dict[int, set[str]] = {}

        def handle(step: str) -> None:
            with outbox.next() as item:
                if item is None:
                    return
                delivered.append(item.position)
                keys.setdefault(item.position, set()).add(item.idempotency_key)
                if step == "fail":
                    raise HandlerFailed
                if step == "crash":
                    raise SystemExit  # the process dies before the block ends
            acknowledged.append(item.position)

        for step in [*steps, *["deliver"] * len(steps)]:
            if step == "flag":
                told.invoice_falls_due()
            elif step == "quiet":
                told.quiet_command()
            else:
                try:
                    handle(step)
                except HandlerFailed:
                    pass
                except SystemExit:
                    outbox = consumer()

        while outbox.items(limit=1):
            handle("deliver")

        redelivered = len(delivered) > len(acknowledged)
        event(f"items: {min(len(told.flagged), 3)}+, redelivered: {redelivered}")
        assert sorted(set(delivered)) == told.flagged
        assert delivered == sorted(delivered)
        assert acknowledged == told.flagged
        assert all(len(key) == 1 for key in keys.values())
        assert outbox.position == (told.flagged[-1] if told.flagged else 0)
        for app in [*apps, told.app]:
            app.close()
