"""Learners for tests/test_multihost.py, run inside the front host's network namespace
(``ip netns exec FRONT python -m tests.multihost_learners URL MODE``); prints one JSON line.

``browse``: 4 learners each open the landing page (its QR code is media), the view lab and
upload a photo; reports which replicas served each and any problem.
``failover``: new learners, one after another, until 6 in a row land on one replica (the
other's host is gone); reports where they landed and how long it took.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
import time

import numpy as np
from PIL import Image

from bench.streamlit_client import Client


def _png() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((40, 60, 3), 120, np.uint8)).save(buf, "PNG")
    return buf.getvalue()


async def _learner(url: str) -> dict[str, object]:
    c = Client(url)
    await c.connect()
    problems = []
    for page in ("", "View_Reshape_Lab"):
        run = await c.rerun(page)
        if not run.ok:
            problems.append(f"{page or 'landing'}: {run.status} {run.exceptions}")
        for m in run.media:
            if (status := await asyncio.to_thread(c.media, m)) != 200:
                problems.append(f"media {m}: {status}")
    status, _ = await asyncio.to_thread(c.upload, "mine.png", _png())
    if status != 204:
        problems.append(f"upload: {status}")
    await c.close()
    return {"replicas": sorted(c.replicas), "problems": problems}


async def browse(url: str) -> dict[str, object]:
    learners = await asyncio.gather(*(_learner(url) for _ in range(4)))
    return {"learners": learners}


async def failover(url: str) -> dict[str, object]:
    t0 = time.monotonic()
    landed: list[list[str]] = []
    while time.monotonic() - t0 < 20:
        c = Client(url)
        try:
            await c.connect()
            run = await c.rerun("", timeout=10)
            await c.close()
            landed.append(sorted(c.replicas) if run.ok else ["error"])
        except Exception as err:  # a learner sent to the host that went away
            landed.append([f"error: {type(err).__name__}"])
            await asyncio.sleep(0.2)
        if len(landed) >= 6 and len({tuple(x) for x in landed[-6:]}) == 1:
            break
    return {"landed": landed, "seconds": round(time.monotonic() - t0, 1)}


def main() -> None:
    url, mode = sys.argv[1], sys.argv[2]
    result = asyncio.run(browse(url) if mode == "browse" else failover(url))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
