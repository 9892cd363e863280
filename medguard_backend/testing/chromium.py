"""Headless Chromium for browser tests, as a pytest plugin (no WebDriver, no extra package).

pytest_plugins = ["medguard_backend.testing.chromium"]

def test_sign_in(live_server, chromium):
    chromium.open(f"{live_server.url}/accounts/login/")
    chromium.type_into("#id_login", "thandi")
    ...
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _above_stdio(fd: int) -> int:
    """The same pipe end on a number above 9, so the shell's `3<&N 4>&M` cannot overwrite
    one end with the other."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-
    pipe``: JSON commands in on fd 3, answers out on fd 4, each ended by NUL), so the test
    needs no WebDriver and no extra Python package."""

    def __init__(self, profile: Path) -> None:
        to_browser_read, self._to_browser = (_above_stdio(fd) for fd in os.pipe())
        self._from_browser, from_browser_write = (_above_stdio(fd) for fd in os.pipe())
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--remote-debugging-pipe",
            f"--user-data-dir={profile}",
            "about:blank",
        ]
        # bash (dash refuses fds above 9) puts the pipe ends on the numbers Chromium uses.
        self._process = subprocess.Popen(
            [
                "bash",
                "-c",
                f'exec "$@" 3<&{to_browser_read} 4>&{from_browser_write}',
                "bash",
                CHROMIUM or "chromium",
                *flags,
            ],
            pass_fds=(to_browser_read, from_browser_write),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        # What the page reported as an error (uncaught exceptions, console.error, failed
        # loads); read and emptied by ``take_console_errors``.
        self.console_errors: list[str] = []
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        self.send("Page.enable", session=True)
        self.send("Runtime.enable", session=True)
        self.send("Log.enable", session=True)

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            if not select.select([self._from_browser], [], [], deadline - time.monotonic())[0]:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._from_browser, 65536)
            if not chunk:
                raise RuntimeError("Chromium exited")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        decoded: dict[str, Any] = json.loads(message)
        self._note_error(decoded)
        return decoded

    def _note_error(self, event: dict[str, Any]) -> None:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            exception = details.get("exception", {})
            self.console_errors.append(str(exception.get("description") or details.get("text")))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            values = [str(arg.get("value", arg.get("description", ""))) for arg in params["args"]]
            self.console_errors.append(" ".join(values))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            self.console_errors.append(f"{entry.get('text')} {entry.get('url', '')}".strip())

    def take_console_errors(self) -> list[str]:
        """The errors the page reported since the last call."""
        errors, self.console_errors = self.console_errors, []
        return errors

    def send(self, method: str, *, session: bool = False, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        command: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            command["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + 30
        while True:
            message = self._message(deadline)
            if message.get("id") == self._next_id:
                assert "error" not in message, message
                result: dict[str, Any] = message["result"]
                return result
            self._events.append(message)

    def wait_for_load(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            if any(event.get("method") == "Page.loadEventFired" for event in self._events):
                self._events.clear()
                return
            self._events.append(self._message(deadline))

    def open(self, url: str) -> None:
        self._events.clear()
        self.send("Page.navigate", session=True, url=url)
        self.wait_for_load()

    def evaluate(self, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate", session=True, expression=expression, returnByValue=True
        )
        return result["result"].get("value")

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", session=True, format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    # --- acting as a person would ---------------------------------------------------------

    def type_into(self, selector: str, text: str) -> None:
        """Focus the field and type ``text`` key by key (keydown, input, keyup per character)."""
        focused = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return false; e.focus(); return document.activeElement === e; })()"
        )
        assert focused, f"no field to type into: {selector}"
        for character in text:
            self.send("Input.dispatchKeyEvent", session=True, type="keyDown", text=character)
            self.send("Input.dispatchKeyEvent", session=True, type="keyUp", text=character)

    def press_enter(self) -> None:
        """Press Enter in the focused field (submits its form) and wait for the next page."""
        self._events.clear()
        for kind in ("rawKeyDown", "char", "keyUp"):
            self.send(
                "Input.dispatchKeyEvent",
                session=True,
                type=kind,
                key="Enter",
                code="Enter",
                windowsVirtualKeyCode=13,
                **({"text": "\r"} if kind == "char" else {}),
            )
        self.wait_for_load()

    def click(self, selector: str) -> None:
        """Click the element and wait for the page it leads to."""
        self._events.clear()
        clicked = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return false; e.click(); return true; })()"
        )
        assert clicked, f"nothing to click: {selector}"
        self.wait_for_load()

    def tick(self, selector: str) -> None:
        """Click a control that changes the page in place (a checkbox): no page to wait for."""
        clicked = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return null; e.click(); return e.checked; })()"
        )
        assert clicked is not None, f"nothing to tick: {selector}"

    @property
    def url(self) -> str:
        return str(self.evaluate("location.href"))

    def text(self, selector: str) -> str:
        return str(
            self.evaluate(
                f"(document.querySelector({json.dumps(selector)}) || {{innerText: ''}}).innerText"
            )
        )

    def forget_cookies(self) -> None:
        """Sign everyone out: the next person starts with a fresh browser session."""
        self.send("Network.clearBrowserCookies", session=True)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.send("Browser.close")
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[Chromium]:
    if CHROMIUM is None:
        # CI installs Chromium (.ci/run), so there a missing browser is a failure; on a
        # developer's machine without it the browser tests are skipped, saying why.
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed (apt-get install chromium)")
        pytest.skip("needs Chromium (apt-get install chromium)")
    browser = Chromium(tmp_path / "profile")
    browser.send("Network.enable", session=True)
    yield browser
    browser.close()
