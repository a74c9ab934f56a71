"""A classroom on one server: N learners rerunning a page at the same time.

Starts `streamlit run app.py` on a free 127.0.0.1 port (twice: runner.postScriptGC false, as
shipped, then true, Streamlit's default), connects N simulated learners over Streamlit's own
websocket protocol (the browser's BackMsg/ForwardMsg protobufs), and has each one load a
page and then rerun it K times, all at once. Prints p50/p95/max rerun latency per setting.

    .venv/bin/python bench/classroom.py [--learners 30] [--reruns 5] [--page Model_Explorer]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, post_script_gc: bool) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.port", str(port), "--server.headless", "true",
            "--runner.postScriptGC", str(post_script_gc).lower(),
        ],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("streamlit did not start")


def rerun_msg(page: str) -> bytes:
    msg = BackMsg()
    msg.rerun_script.page_name = page
    msg.rerun_script.query_string = ""
    return msg.SerializeToString()


async def run_once(ws: websockets.ClientConnection, page: str) -> float:
    t0 = time.perf_counter()
    await ws.send(rerun_msg(page))
    while True:
        data = await ws.recv()
        fwd = ForwardMsg()
        fwd.ParseFromString(data if isinstance(data, bytes) else data.encode())
        if fwd.WhichOneof("type") == "script_finished":
            if fwd.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                return time.perf_counter() - t0
            if fwd.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                raise RuntimeError(f"script ended with status {fwd.script_finished}")


async def learner(
    url: str, page: str, reruns: int, ready: asyncio.Queue[None], start: asyncio.Event
) -> list[float]:
    async with websockets.connect(
        url, subprotocols=["streamlit"], max_size=None, open_timeout=60
    ) as ws:
        await run_once(ws, page)  # first load (imports, caches)
        ready.put_nowait(None)
        await start.wait()
        return [await run_once(ws, page) for _ in range(reruns)]


async def classroom(port: int, page: str, learners: int, reruns: int) -> list[float]:
    url = f"ws://127.0.0.1:{port}/_stcore/stream"
    start = asyncio.Event()
    ready: asyncio.Queue[None] = asyncio.Queue()
    tasks = [asyncio.create_task(learner(url, page, reruns, ready, start)) for _ in range(learners)]
    for _ in range(learners):  # every learner has loaded the page once …
        await ready.get()
    start.set()  # … then all rerun at once
    results = await asyncio.gather(*tasks)
    return [x for r in results for x in r]


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--learners", type=int, default=30)
    ap.add_argument("--reruns", type=int, default=5)
    ap.add_argument("--page", default="Model_Explorer")
    args = ap.parse_args()
    print(f"{args.learners} learners × {args.reruns} reruns of /{args.page}, all at once")
    print(f"{'runner.postScriptGC':22s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s} {'n':>5s}")
    for gc_on in (False, True):
        port = free_port()
        proc = start_server(port, gc_on)
        try:
            lat = asyncio.run(classroom(port, args.page, args.learners, args.reruns))
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        label = f"{str(gc_on).lower()}{' (shipped)' if not gc_on else ' (default)'}"
        print(
            f"{label:22s} {statistics.median(lat) * 1e3:8.0f} {pct(lat, 0.95) * 1e3:8.0f} "
            f"{max(lat) * 1e3:8.0f} {len(lat):5d}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
