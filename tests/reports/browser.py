"""Headless Chromium driven over its DevTools pipe, with nothing but the standard library.

``--remote-debugging-pipe`` makes Chromium read DevTools commands (JSON, each ending in a NUL
byte) on file descriptor 3 and answer on 4. Over it a test loads a page, collects what the
page reported to the console (script errors, refused or failed loads: the ``Log`` and
``Runtime`` domains), reads the DOM and takes a screenshot. Chromium runs with nothing to talk
to: no network services, a fresh profile, and it is stopped when the test is done.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import attrs
import pytest

__all__ = ["REQUIRE_BROWSER", "Browser", "Loaded", "browser_path", "launched"]

#: Where no browser is installed the rendering tests skip, unless this is set (CI sets it).
REQUIRE_BROWSER = "KAM_REQUIRE_BROWSER"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: How long a page may take to load, in seconds.
TIMEOUT = 60


def browser_path() -> str:
    """Chromium's executable; skip without one, unless KAM_REQUIRE_BROWSER=1 (then fail)."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    reason = "no Chromium installed (Debian: apt-get install chromium)"
    if os.environ.get(REQUIRE_BROWSER, "") not in ("", "0"):
        pytest.fail(f"{REQUIRE_BROWSER}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@attrs.frozen
class Loaded:
    """A page after its load event: its URL, DOM, and what it reported to the console."""

    url: str
    dom: str
    #: Console messages of level error (and uncaught exceptions), as text.
    errors: tuple[str, ...]
    #: Every console message, whatever its level.
    messages: tuple[str, ...]


class Browser:
    """One headless Chromium process and one page (tab) in it."""

    def __init__(self, executable: str, profile: Path) -> None:
        ours_read, theirs_write = os.pipe()
        theirs_read, ours_write = os.pipe()

        def descriptors() -> None:  # in the child, before exec: its fds 3 and 4
            read, write = os.dup(theirs_read), os.dup(theirs_write)
            os.dup2(read, 3)
            os.dup2(write, 4)

        command = [
            executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        self.process = subprocess.Popen(
            command,
            preexec_fn=descriptors,
            close_fds=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(theirs_read)
        os.close(theirs_write)
        self._out = ours_write
        self._in = ours_read
        self._buffer = b""
        self._next = 0
        self._events: list[dict[str, Any]] = []
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=self.session)

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer; events that come first are kept."""
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._receive()
            if answer.get("id") == self._next:
                if "error" in answer:
                    msg = f"{method}: {answer['error']}"
                    raise RuntimeError(msg)
                return dict(answer.get("result", {}))
            self._events.append(answer)

    def load(self, url: str) -> Loaded:
        """Navigate to ``url``, wait for its load event, and read the page."""
        self._events.clear()
        self.send("Page.navigate", session=self.session, url=url)
        while not any(event.get("method") == "Page.loadEventFired" for event in self._events):
            self._events.append(self._receive())
        dom = self.send(
            "Runtime.evaluate",
            session=self.session,
            expression="document.documentElement.outerHTML",
            returnByValue=True,
        )["result"]["value"]
        messages, errors = [], []
        for event in self._events:
            text, error = _console(event)
            if text is not None:
                messages.append(text)
                if error:
                    errors.append(text)
        return Loaded(url, str(dom), tuple(errors), tuple(messages))

    def screenshot(self, path: Path, width: int = 1400, height: int = 1000) -> Path:
        """A PNG of the page as loaded, the full page long, written to ``path``."""
        self.send(
            "Emulation.setDeviceMetricsOverride",
            session=self.session,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        shot = self.send(
            "Page.captureScreenshot", session=self.session, format="png", captureBeyondViewport=True
        )
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        with suppress(OSError, RuntimeError, EOFError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._out)
        os.close(self._in)

    def _receive(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._in], [], [], TIMEOUT)
            if not ready:
                msg = f"the browser did not answer within {TIMEOUT} s"
                raise TimeoutError(msg)
            chunk = os.read(self._in, 1 << 16)
            if not chunk:
                msg = "the browser closed its DevTools pipe"
                raise EOFError(msg)
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        found: dict[str, Any] = json.loads(raw)
        return found


def _console(event: dict[str, Any]) -> tuple[str | None, bool]:
    """An event's console text and whether it is an error (None: not a console event)."""
    method, params = event.get("method"), event.get("params", {})
    if method == "Log.entryAdded":
        entry = params["entry"]
        return f"{entry['level']}: {entry['text']} ({entry.get('url', '')})", entry[
            "level"
        ] == "error"
    if method == "Runtime.consoleAPICalled":
        args = " ".join(str(arg.get("value", arg.get("description", ""))) for arg in params["args"])
        return f"console.{params['type']}: {args}", params["type"] in ("error", "assert")
    if method == "Runtime.exceptionThrown":
        return f"exception: {params['exceptionDetails'].get('text', '')}", True
    return None, False


@contextmanager
def launched(profile: Path) -> Iterator[Browser]:
    """A headless Chromium for the test (skipped without one), stopped afterwards."""
    browser = Browser(browser_path(), profile)
    try:
        yield browser
    finally:
        browser.close()
