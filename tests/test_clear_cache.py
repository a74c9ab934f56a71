"""Any browser may send ``clear_cache`` (Streamlit clears every shared cache, for every
learner, and the sender's session state): every page must still render correctly after
it — for the learner who sent it and for another learner mid-lesson."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from bench.streamlit_client import Client
from ptexplore.pages import PAGES
from ptexplore.ui.render import INCIDENT_TEXT
from tests.conftest import ROOT, free_port, run_async, wait_healthy

#: page names as the browser sends them (the file name without its N_ prefix)
NAMES = ["", *[p.file.split("/", 1)[1].removesuffix(".py").split("_", 1)[1] for p in PAGES]]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert wait_healthy(f"http://127.0.0.1:{port}", proc, 90)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


async def _visit_all(client: Client) -> dict[str, list[str]]:
    drawn: dict[str, list[str]] = {}
    for name in NAMES:
        run = await client.rerun(name)
        assert run.ok, (name, run.status, run.exceptions)
        assert not any(INCIDENT_TEXT in a for a in run.alerts), (name, run.alerts)
        drawn[name] = run.elements
    return drawn


async def _scenario(url: str) -> None:
    sender, other = Client(url), Client(url)
    await sender.connect()
    await other.connect()
    try:
        before = await _visit_all(sender)
        await _visit_all(other)
        await sender.clear_cache()
        after = await _visit_all(sender)  # everything recomputed from an empty cache
        assert after == before  # the same elements on every page
        assert await _visit_all(other) == before  # the other learner never noticed
        await sender.clear_cache()
        await sender.clear_cache()  # twice in a row, while nothing is cached
        assert await _visit_all(other) == before
    finally:
        await sender.close()
        await other.close()


def test_clear_cache_leaves_every_page_rendering(server: str) -> None:
    run_async(_scenario(server))
