"""A classroom on one server, all at once: N learners rerunning a page at the same moment.

Starts ``streamlit run app.py`` on a free 127.0.0.1 port twice (``runner.postScriptGC``
false, as shipped, then true, Streamlit's default), connects N simulated learners over
Streamlit's own websocket protocol (bench/streamlit_client.py), has each load a page, then
all rerun it K times at once. Prints p50/p95/max rerun latency per setting: the cost of
Streamlit's full ``gc.collect(2)`` after every rerun in a process that has imported torch.
(bench/load.py is the steady classroom: think times, replicas, a fault, memory.)

    .venv/bin/python bench/classroom.py [--learners 30] [--reruns 5] [--page Model_Explorer]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.streamlit_client import Client, start_streamlit
from ptexplore.serve import free_port


async def learner(url: str, page: str, reruns: int, ready: asyncio.Queue[None],
                  start: asyncio.Event) -> list[float]:  # fmt: skip
    c = Client(url)
    await c.connect()
    first = await c.rerun(page)  # first load (imports, caches)
    if not first.ok:
        raise RuntimeError(f"{page}: {first.status} {first.exceptions}")
    ready.put_nowait(None)
    await start.wait()
    times = []
    for _ in range(reruns):
        run = await c.rerun(page)
        if not run.ok:
            raise RuntimeError(f"{page}: {run.status} {run.exceptions}")
        times.append(run.seconds)
    await c.close()
    return times


async def classroom(url: str, page: str, learners: int, reruns: int) -> list[float]:
    start = asyncio.Event()
    ready: asyncio.Queue[None] = asyncio.Queue()
    tasks = [asyncio.create_task(learner(url, page, reruns, ready, start)) for _ in range(learners)]
    for _ in range(learners):  # every learner has loaded the page once …
        await ready.get()
    start.set()  # … then all rerun at once
    return [x for r in await asyncio.gather(*tasks) for x in r]


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
        proc = start_streamlit(port, "--runner.postScriptGC", str(gc_on).lower())
        try:
            url = f"http://127.0.0.1:{port}"
            lat = asyncio.run(classroom(url, args.page, args.learners, args.reruns))
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        label = f"{str(gc_on).lower()}{' (default)' if gc_on else ' (shipped)'}"
        print(
            f"{label:22s} {statistics.median(lat) * 1e3:8.0f} {pct(lat, 0.95) * 1e3:8.0f} "
            f"{max(lat) * 1e3:8.0f} {len(lat):5d}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
