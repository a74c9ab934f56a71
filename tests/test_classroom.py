"""A classroom in miniature: ``python -m ptexplore.serve --replicas 2`` behind HAProxy on
loopback, 6 learners through the proxy, then one replica killed.

Checks: zero errors; each learner's requests (page, websocket, media, an upload) all reach
one replica; both replicas get learners; a killed replica stops getting requests, the
supervisor starts it again and new learners land on it; SIGTERM leaves nothing running.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
from PIL import Image

from bench.streamlit_client import Client
from ptexplore.supervise import STATE_FILE
from ptexplore.ui.render import INCIDENT_TEXT
from tests.conftest import run_async


def _children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split()}


def _state(workdir: Path) -> dict[str, dict[str, object]]:
    """serve's replicas.json, by replica name."""
    state = json.loads((workdir / STATE_FILE).read_text())
    return {r["name"]: r for r in state["replicas"]}


def _replica_pid(workdir: Path, name: str) -> int:
    pid = _state(workdir)[name]["pid"]
    assert isinstance(pid, int)
    return pid


def _png() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((60, 80, 3), 90, np.uint8)).save(buf, "PNG")
    return buf.getvalue()


async def _learner(url: str, seconds: float, rng: random.Random) -> tuple[Client, list[str]]:
    c = Client(url)
    await c.connect()
    problems: list[str] = []

    async def visit(page: str) -> None:
        run = await c.rerun(page)
        if not run.ok or any(INCIDENT_TEXT in a for a in run.alerts):
            problems.append(f"{page}: {run.status} {run.exceptions} {run.alerts[:1]}")
        for url_ in run.media[:2]:
            status = await asyncio.to_thread(c.media, url_)
            if status != 200:
                problems.append(f"media {url_}: {status}")

    await visit("Augmentation_Lab")
    status, _ = await asyncio.to_thread(c.upload, "mine.png", _png())
    if status != 204:
        problems.append(f"upload: {status}")
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        page = rng.choice(["Tensor_Lab", "View_Reshape_Lab", "Model_Explorer", ""])
        await visit(page)
        if page == "View_Reshape_Lab":
            c.set_text("view.shape", rng.choice(["6, -1", "4, -1", "2, 12"]))
            await visit(page)
        await asyncio.sleep(rng.uniform(0.5, 1.5))
    return c, problems


def test_two_replicas_behind_haproxy_with_affinity_and_a_restart(
    classroom: tuple[str, subprocess.Popen[bytes], Path],
) -> None:
    url, proc, workdir = classroom

    async def scenario() -> None:
        # the landing page shows the class's address (and its QR code, served as media)
        c = Client(url)
        await c.connect()
        run = await c.rerun("")
        assert any(f"`{url}`" in t for t in run.texts), run.texts[:3]
        assert [await asyncio.to_thread(c.media, m) for m in run.media] == [200]
        await c.close()
        results = await asyncio.gather(*(_learner(url, 6, random.Random(i)) for i in range(6)))
        problems = [p for _, ps in results for p in ps]
        assert problems == []
        seen = [c.replicas for c, _ in results]
        assert all(len(s) == 1 for s in seen), seen  # every request of a learner: one replica
        assert {r for s in seen for r in s} == {"r1", "r2"}  # both replicas got learners
        stay = [c for c, _ in results if c.replicas == {"r2"}]
        for c, _ in results:
            if c not in stay:
                await c.close()

        killed = _replica_pid(workdir, "r1")
        os.kill(killed, signal.SIGKILL)
        t0 = time.monotonic()
        # the proxy stops sending new learners to r1 within 5 s (all land on r2 meanwhile)
        while True:
            c = Client(url)
            await c.connect()
            run = await c.rerun("")
            await c.close()
            if c.replicas == {"r2"} and run.ok:
                break
            assert time.monotonic() - t0 < 5, c.replicas
        # the learners on r2 saw nothing
        for c in stay:
            run = await c.rerun("View_Reshape_Lab")
            assert run.ok and c.replicas == {"r2"}
        # the supervisor starts r1 again; new learners land on it again
        deadline = time.monotonic() + 60
        landed = set()
        while "r1" not in landed:
            assert time.monotonic() < deadline, "r1 never came back"
            c = Client(url)
            await c.connect()
            run = await c.rerun("")
            assert run.ok
            landed |= c.replicas
            await asyncio.sleep(0.5)
        for c in stay:
            await c.close()
        again = _state(workdir)["r1"]  # the state file names the new process
        assert again["restarts"] == 1 and again["state"] == "up" and again["pid"] != killed
        assert Path(f"/proc/{again['pid']}").exists()

    run_async(scenario())
    children = _children(proc.pid)
    assert len(children) == 3  # two replicas and haproxy
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    time.sleep(0.5)
    alive = [pid for pid in children if Path(f"/proc/{pid}").exists()]
    assert alive == []  # nothing left running
