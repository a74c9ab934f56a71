"""Shared fixtures: AppTest pages (no browser) for every page test."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from streamlit.testing.v1 import AppTest

from ptexplore import limits
from ptexplore.serve import haproxy_binary

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")
#: A bug on a page is logged as an incident and shown as one sentence; under test it is
#: also raised again, so the test that hit it fails (tests of the incident path unset it).
os.environ.setdefault("PTEXPLORE_STRICT", "1")
#: First run of a page imports torch and torchvision; give it room on a slow CI core.
APPTEST_TIMEOUT = float(os.environ.get("PTX_APPTEST_TIMEOUT", "120"))


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)`` in a thread of its own: Playwright's sync API (the browser
    tests, in the same pytest process) keeps an event loop running in the main thread."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


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


def open_page(page_file: str | None = None, *, lang: str | None = None) -> AppTest:
    """Run the app as the browser would: the entrypoint, then (optionally) one page; with
    ``lang`` (``"zh"``), as a session whose address says ``?lang=zh``."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APPTEST_TIMEOUT)
    if lang is not None:
        at.query_params["lang"] = lang
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
def one_thread() -> Iterator[None]:
    """Torch intra-op threads = 1, as the server runs them (ptexplore.runtime) and as the
    augmentation cost model is calibrated; restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def page_app() -> Callable[[str], AppTest]:
    def _open(page_file: str) -> AppTest:
        at = open_page(page_file)
        assert not at.exception, [e.value for e in at.exception]
        return at

    return _open


IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_sessionstart(session: pytest.Session) -> None:
    """Start the sandbox's helper while the tests are collected (as a server does at its
    first page): the first test that uploads does not wait for it to import torch. Not in
    pytest-xdist's controller, which runs no test."""
    if getattr(session.config.option, "numprocesses", None) and not hasattr(
        session.config, "workerinput"
    ):
        return
    from ptexplore import isolate

    isolate.warm()


def _haproxy() -> None:
    """HAProxy is installed (CI installs it; elsewhere its absence skips, with the reason)."""
    try:
        haproxy_binary()
    except Exception as err:
        if IN_CI:
            pytest.fail(f"CI=true but {err}")
        pytest.skip(f"classroom test skipped: {err}")


def replica_port_start() -> int:
    """Where this pytest process's replica port scans start: each process (pytest-xdist's
    gw0, gw1, …) has its own 100 ports, so two tests in two processes do not race."""
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    return limits.REPLICA_PORT_FALLBACK + 100 * worker


@pytest.fixture
def classroom(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """``python -m ptexplore.serve --replicas 2`` on a free loopback port: (proxy URL, the
    supervisor process, its workdir with haproxy.cfg and the logs)."""
    _haproxy()
    port = free_port()
    first = str(replica_port_start())
    proc = subprocess.Popen(
        [sys.executable, "-m", "ptexplore.serve", "--host", "127.0.0.1", "--address",
         "127.0.0.1", "--port", str(port), "--replicas", "2", "--workdir", str(tmp_path),
         "--replica-port", first],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    for line in iter(proc.stdout.readline, b""):
        if line.strip() == b"ready" or time.monotonic() > deadline:
            break
    try:
        yield f"http://127.0.0.1:{port}", proc, tmp_path
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


def is_meta(model: Any) -> bool:
    """Every parameter of ``model`` lives on the meta device."""
    return all(p.device.type == "meta" for p in model.parameters())
