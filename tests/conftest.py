"""Shared fixtures: AppTest pages (no browser) for every page test."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
#: A bug on a page is logged as an incident and shown as one sentence; under test it is
#: also raised again, so the test that hit it fails (tests of the incident path unset it).
os.environ.setdefault("PTEXPLORE_STRICT", "1")
#: First run of a page imports torch and torchvision; give it room on a slow CI core.
APPTEST_TIMEOUT = float(os.environ.get("PTX_APPTEST_TIMEOUT", "120"))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Poll ``url/_stcore/health`` until it answers 200 (True), or the server process
    exits or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def open_page(page_file: str | None = None) -> AppTest:
    """Run the app as the browser would: the entrypoint, then (optionally) one page."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APPTEST_TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if page_file is not None:
        at.switch_page(page_file)
        at.run()
    return at


def open_tab(at: AppTest, page_key: str, label: str, *, name: str = "tab") -> AppTest:
    """Open a lazy tab (only the open tab runs) and rerun the page."""
    at.session_state[f"{page_key}.{name}"] = label
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def page_app() -> Callable[[str], AppTest]:
    def _open(page_file: str) -> AppTest:
        at = open_page(page_file)
        assert not at.exception, [e.value for e in at.exception]
        return at

    return _open
