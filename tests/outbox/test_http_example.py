"""The outbox example of docs/outbox.md, run as written against a local HTTP endpoint: an
endpoint that fails once, and a consumer killed between delivery and acknowledgement."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kam_domain import KamApplication, Outbox
from tests.outbox.story import story

ROOT = Path(__file__).resolve().parents[2]
#: The example's code: the python block of docs/outbox.md that defines ``post``.
EXAMPLE = next(
    block
    for block in re.findall(
        r"^```python\n(.*?)^```", (ROOT / "docs" / "outbox.md").read_text(), re.M | re.S
    )
    if "def post(" in block
)
KINDS = ["payment_overdue"]


def example() -> dict[str, Any]:
    """The example's names (``post``, ``follow``), defined by running its block."""
    namespace: dict[str, Any] = {"__name__": "outbox_example"}
    exec(compile(EXAMPLE, "docs/outbox.md example", "exec"), namespace)
    return namespace


@dataclass
class Endpoint:
    """What the local endpoint received: each request's key and the consumer's position then."""

    url: str
    received: list[tuple[str, int]] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)


@pytest.fixture(name="endpoint_for")
def fixture_endpoint_for() -> Iterator[Callable[..., Endpoint]]:
    """Start a local HTTP endpoint (a thread on 127.0.0.1) answering with ``respond(count)``."""
    servers: list[ThreadingHTTPServer] = []

    def start(respond: Callable[[int], int], position: Callable[[], int]) -> Endpoint:
        endpoint = Endpoint("")

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                endpoint.received.append((self.headers["Idempotency-Key"], position()))
                status = respond(len(endpoint.received))
                self.send_response(status)
                self.end_headers()
                if status < 300:
                    endpoint.done.set()

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        endpoint.url = f"http://127.0.0.1:{server.server_port}/inbox"
        return endpoint

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_an_item_the_endpoint_refuses_once_is_posted_again(
    tmp_path: Path, endpoint_for: Callable[..., Endpoint]
) -> None:
    """Given an endpoint failing the first request, the example posts the item twice with one
    idempotency key, and the position moves only after the second succeeds."""
    told = story(f"sqlite:///{tmp_path / 'kam.db'}")
    told.invoice_falls_due()
    outbox = Outbox(told.app, "crm", kinds=KINDS)
    endpoint = endpoint_for(lambda count: 503 if count == 1 else 204, lambda: outbox.position)
    stop = threading.Event()

    worker = threading.Thread(
        target=example()["follow"], args=(outbox, endpoint.url, stop, 0.05), daemon=True
    )
    worker.start()
    assert endpoint.done.wait(30)
    stop.set()
    worker.join(30)

    (first, at_first), (second, at_second) = endpoint.received
    assert first == second == outbox_key(told.app)
    assert at_first == at_second == 0
    assert outbox.position == told.flagged[0]
    assert outbox.items() == []
    told.app.close()


def outbox_key(app: KamApplication) -> str:
    """The idempotency key of the one overdue item of ``app``'s store."""
    return str(Outbox(app, "reader", kinds=KINDS).items()[0].idempotency_key)


CONSUMER = """
import sys
from kam_domain import KamApplication, Outbox
namespace = {"__name__": "outbox_example"}
exec(sys.stdin.read(), namespace)
app = KamApplication(sys.argv[1], run_policies=False)
Outbox(app, "crm", kinds=["payment_overdue"]).deliver(lambda i: namespace["post"](i, sys.argv[2]))
print("delivered")
"""


def test_a_consumer_killed_before_acknowledging_delivers_again(
    tmp_path: Path, endpoint_for: Callable[..., Endpoint]
) -> None:
    """Given a consumer process killed after the endpoint received an item but before it
    acknowledged, a restarted consumer posts the item again with the same key and then
    acknowledges it."""
    store = f"sqlite:///{tmp_path / 'kam.db'}"
    told = story(store)
    told.invoice_falls_due()
    told.app.close()
    reader = KamApplication(store, run_policies=False)
    outbox = Outbox(reader, "crm", kinds=KINDS)
    processes: list[subprocess.Popen[str]] = []

    def respond(count: int) -> int:
        if count == 1:  # the first consumer dies with the item delivered, unacknowledged
            os.kill(processes[0].pid, signal.SIGKILL)
        return 204

    endpoint = endpoint_for(respond, lambda: outbox.position)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(2):
        process = subprocess.Popen(
            [sys.executable, "-c", CONSUMER, store, endpoint.url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        processes.append(process)
        out, _ = process.communicate(EXAMPLE, timeout=60)
        if len(processes) == 1:
            assert process.returncode == -signal.SIGKILL
            assert "delivered" not in out
            assert outbox.position == 0
        else:
            assert process.returncode == 0
            assert "delivered" in out

    (first, at_first), (second, at_second) = endpoint.received
    assert first == second == outbox_key(reader)
    assert at_first == at_second == 0
    assert outbox.position == told.flagged[0]
    reader.close()
