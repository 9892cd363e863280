"""What every browser test of the web pages does with a page: sign in by typing, check it
with axe-core (served from ``var/node``, no CDN) and for console errors, and write its
screenshots, phone and desktop width, as test artefacts.

The screenshots go to ``var/artefacts/screenshots/<test>/`` (or under
``MEDGUARD_ARTEFACTS_DIR``), emptied when the test starts, so the last run of each test
leaves its pictures where CI and people can find them.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .chromium import Chromium

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "long-test-password-1"  # noqa: S105 - the factories' test password
WIDTHS = {"phone": (390, 844, True), "desktop": (1280, 900, False)}
# axe-core from the npm registry, installed by `npm install --prefix var/node axe-core`
# (.ci/run does it): injected into each page from this file.
AXE = ROOT / "var/node/node_modules/axe-core/axe.min.js"
SERIOUS = ("serious", "critical")

T = TypeVar("T")


def artefact_dir(test_name: str) -> Path:
    """An empty folder for this test's screenshots, kept after the run."""
    base = Path(os.environ.get("MEDGUARD_ARTEFACTS_DIR") or ROOT / "var" / "artefacts")
    folder = base / "screenshots" / test_name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def sign_in(browser: Chromium, base: str, username: str, next_path: str = "/me/") -> None:
    browser.open(f"{base}/accounts/login/?next={next_path}")
    browser.type_into("#id_login", username)
    browser.type_into("#id_password", PASSWORD)
    browser.press_enter()


def axe_problems(browser: Chromium) -> list[str]:
    """The page's serious and critical WCAG 2.x A/AA violations found by axe-core."""
    if not browser.evaluate("typeof window.axe !== 'undefined'"):
        browser.send("Runtime.evaluate", session=True, expression=AXE.read_text())
    result = browser.send(
        "Runtime.evaluate",
        session=True,
        expression=(
            "axe.run(document, {runOnly: {type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})"
            ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact,"
            " nodes: v.nodes.map(n => n.target.join(' '))})))"
        ),
        awaitPromise=True,
        returnByValue=True,
    )
    violations = result["result"]["value"]
    return [
        f"{v['id']} ({v['impact']}): {v['nodes']}" for v in violations if v["impact"] in SERIOUS
    ]


def screenshots(browser: Chromium, folder: Path, name: str, audit: dict[str, list[str]]) -> None:
    """Check the page with axe-core, and for errors it reported in the console, into
    ``audit``; write it at phone and desktop width."""
    audit[name] = axe_problems(browser) + [
        f"console: {error}" for error in browser.take_console_errors()
    ]
    for width_name, (width, height, mobile) in WIDTHS.items():
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            session=True,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=mobile,
        )
        browser.screenshot(folder / f"{name}-{width_name}.png")
    browser.send("Emulation.clearDeviceMetricsOverride", session=True)


def wait_for(check: Callable[[], T], what: str, timeout: float = 30.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout}s"
        time.sleep(0.25)
