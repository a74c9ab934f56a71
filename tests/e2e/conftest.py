"""Real-browser fixtures: `streamlit run` on a free 127.0.0.1 port + Debian Chromium.

Modelled on Streamlit's own e2e suite: the server fixture polls ``/_stcore/health``; pages
wait on the app's ``notRunning`` script state, never on fixed sleeps. Outside CI a missing
Chromium skips these tests with the reason; in CI (``CI=true``) it is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        msg = "Debian chromium is not installed (apt-get install -y chromium)"
        if IN_CI:
            pytest.fail(f"CI=true but {msg}")
        pytest.skip(f"browser test skipped: {msg}")
    return path


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.headless", "true",
    ]  # fmt: skip
    with log.open("wb") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        if not wait_healthy(url, proc, 90):
            proc.kill()
            pytest.fail(f"streamlit did not come up:\n{log.read_text()[-3000:]}")
        try:
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    try:
        yield pg
    finally:
        context.close()


def wait_for_app(page: object, timeout: float = 90_000) -> None:
    """Wait until the app is connected and its script has finished running."""
    page.wait_for_selector(  # type: ignore[attr-defined]
        "[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=timeout
    )
    page.wait_for_selector(  # type: ignore[attr-defined]
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout
    )
    # "notRunning" is also the state before the first run starts: every page has a title,
    # so wait until it has arrived too
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=timeout)  # type: ignore[attr-defined]


def choose(page: Any, combobox: Any, typed: str, option: str) -> None:
    """Pick ``option`` in a select box (Streamlit's combobox) as a learner does: click it,
    type ``typed`` to narrow a long list, and take the option — by Enter when the typing
    focused it (a click can wait out a long list's scrolling: "element is not stable")."""
    combobox.click()
    combobox.fill(typed)
    found = page.get_by_role("option", name=option, exact=True)
    found.wait_for()
    if found.get_attribute("data-focused") == "true":
        page.keyboard.press("Enter")
    else:
        found.click()
    wait_for_app(page)
