"""A classroom under load: N learners over Streamlit's own websocket protocol, no browser.

Each learner opens the app like a browser (through the proxy: carrying its affinity
cookie), then every ``--think`` seconds (±30 %) does one thing a student does on the
tensor, view and model pages — changes a shape, applies an action, picks a small model,
types a filter — and waits for the page to finish. Reported: latency p50/p95/max per
page, errors (failed runs, exceptions, incidents, dropped connections), and every
replica's RSS over time, including a minute after the learners leave.

    .venv/bin/python bench/load.py --learners 60 --seconds 60 --compare
    .venv/bin/python bench/load.py --replicas 2 --fault        # kill -9 r1 half way
    .venv/bin/python bench/load.py --classes 3                 # a day: 3 classes in a row

``--compare`` measures one Streamlit process (no proxy) and ``--replicas`` replicas behind
HAProxy in the same run. Targets (issue 14, 2 cores): 60 learners acting every 3 s for
60 s through 2 replicas: p95 ≤ 1 s, p50 ≤ 200 ms, zero errors. ``--classes 3`` (issue 19):
three such classes in a row with the class's other pages mixed in — photo uploads and
grids, checkpoint saves and an uploaded checkpoint loaded, DataLoader runs, model
switches — the same targets, and each replica's USS and RSS after every class.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.streamlit_client import Client, start_streamlit  # noqa: E402
from ptexplore.haproxy import COOKIE, REPLICA_HEADER  # noqa: E402
from ptexplore.serve import free_port  # noqa: E402
from ptexplore.supervise import STATE_FILE  # noqa: E402
from ptexplore.ui.render import INCIDENT_TEXT  # noqa: E402

PAGES = ("Tensor_Lab", "View_Reshape_Lab", "Model_Explorer")


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    dropped: list[float] = field(default_factory=list)  # seconds without service
    #: (seconds since the start, replica) of every new session (first loads, reconnects)
    landed: list[tuple[float, str]] = field(default_factory=list)
    #: errors seen by learners of each replica (the killed one's learners vs the others)
    errors_on: dict[str, int] = field(default_factory=dict)

    def error(self, replica: str, text: str) -> None:
        self.errors.append(text)
        self.errors_on[replica] = self.errors_on.get(replica, 0) + 1

    def add(self, page: str, seconds: float) -> None:
        self.latencies.setdefault(page, []).append(seconds)


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


async def _act(c: Client, page: str, rng: random.Random) -> None:
    """One student action on ``page`` (widgets set from the previous run of that page)."""
    if page == "Tensor_Lab":
        if rng.random() < 0.5 and "tensors.apply" in c.widgets:
            c.click("tensors.apply")
        elif "tensors.shape" in c.widgets:
            c.set_text("tensors.shape", rng.choice(["3, 4", "2, 5", "4, 4", "6"]))
    elif page == "View_Reshape_Lab" and "view.shape" in c.widgets:
        c.set_text("view.shape", rng.choice(["4, -1", "6, -1", "2, 12", "3, 8", "24"]))
    elif page == "Model_Explorer":
        if rng.random() < 0.5 and "models.model" in c.widgets:
            c.set_text(
                "models.model", rng.choice(["Model (example)", "SmallVGG (example)", "resnet18"])
            )
        elif "models.filter" in c.widgets:
            c.set_text("models.filter", rng.choice(["conv", "bn", "", "layer1"]))


def _replica(c: Client | None) -> str:
    return ",".join(sorted(c.replicas)) if c is not None and c.replicas else "?"


async def learner(
    url: str, seconds: float, think: float, seed: int, tally: Tally, t0: float
) -> None:
    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, think))  # arrivals spread like a class settling in
    end = time.monotonic() + seconds
    c: Client | None = None
    page = rng.choice(PAGES)
    down_since: float | None = None
    while time.monotonic() < end:
        try:
            if c is None:
                c = Client(url)
                await c.connect()
                run = await c.rerun(page)  # the first load
                tally.landed.append((time.monotonic() - t0, _replica(c)))
                if not run.ok:
                    tally.error(_replica(c), f"{page} load: {run.status} {run.exceptions}")
            if down_since is not None:  # the browser reconnected: a new session works again
                tally.dropped.append(time.monotonic() - down_since)
                down_since = None
            if rng.random() < 0.25:
                page = rng.choice(PAGES)
            else:
                await _act(c, page, rng)
            run = await c.rerun(page)
            if not run.ok or any(INCIDENT_TEXT in a for a in run.alerts):
                tally.error(_replica(c), f"{page}: {run.status} {run.exceptions} {run.alerts[:1]}")
            else:
                tally.add(page, run.seconds)
        except (TimeoutError, OSError, Exception) as err:
            # a dropped websocket (a killed replica): a browser shows "Connecting…" and
            # reconnects; the learner's session state is gone
            if down_since is None:
                down_since = time.monotonic()
                tally.error(_replica(c), f"dropped: {type(err).__name__}")
            c = None
            await asyncio.sleep(1.0)
            continue
        await asyncio.sleep(think * rng.uniform(0.7, 1.3))
    if c is not None:
        await c.close()


def _probe(url: str, since: float, seconds: float) -> list[tuple[float, float, int, str]]:
    """Requests carrying replica r1's affinity cookie, every 0.2 s for ``seconds``: (time
    since ``since``, latency, HTTP status, the replica that answered)."""
    out = []
    end = since + seconds
    while time.monotonic() < end:
        req = urllib.request.Request(f"{url}/_stcore/health", headers={"Cookie": f"{COOKIE}=r1"})
        t = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status, who = resp.status, resp.headers.get(REPLICA_HEADER, "?")
        except urllib.error.HTTPError as err:
            status, who = err.code, "-"
        except OSError:
            status, who = 0, "-"
        out.append((t - since, time.monotonic() - t, status, who))
        time.sleep(0.2)
    return out


def _rss_mb(pid: int, field: str = "RssAnon") -> float:
    """A process's resident memory in MB: ``RssAnon`` (its own: Python objects, tensors,
    sessions) by default; ``VmRSS`` adds the shared libraries' pages (torch's .so files:
    ~0.43 GB, shared by every replica)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[bytes]
    ports: list[int]
    workdir: Path | None

    def pids(self) -> list[int]:
        """The replicas' pids now (from serve's state file; one server: its own)."""
        if self.workdir is None:
            return [self.proc.pid]
        state = json.loads((self.workdir / STATE_FILE).read_text())
        return [int(r["pid"]) for r in state["replicas"]]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def start(replicas: int) -> Server:
    port = free_port()
    if replicas == 1:
        return Server(f"http://127.0.0.1:{port}", start_streamlit(port), [port], None)
    workdir = Path(tempfile.mkdtemp(prefix="ptx-load-"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "ptexplore.serve", "--host", "127.0.0.1", "--address", "127.0.0.1",
         "--port", str(port), "--replicas", str(replicas), "--workdir", str(workdir)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    assert proc.stdout is not None
    for line in iter(proc.stdout.readline, b""):
        if line.strip() == b"ready":
            break
    state = json.loads((workdir / STATE_FILE).read_text())
    ports = [int(r["port"]) for r in state["replicas"]]
    return Server(f"http://127.0.0.1:{port}", proc, ports, workdir)


async def measure(server: Server, args: argparse.Namespace, *, fault: bool) -> dict[str, object]:
    tally = Tally()
    pids = server.pids()
    rss: list[tuple[float, list[float]]] = []
    t0 = 0.0  # set when the learners arrive, after the warm-up

    async def sample() -> None:
        while True:
            rss.append((time.monotonic() - t0, [_rss_mb(p) for p in server.pids()]))
            await asyncio.sleep(2)

    killed_at: list[float] = []
    probes: list[tuple[float, float, int, str]] = []

    async def kill_half_way() -> None:
        await asyncio.sleep(args.seconds / 2)
        victim = server.pids()[:1]
        if victim:
            os.kill(victim[0], signal.SIGKILL)
            killed_at.append(time.monotonic() - t0)
            print(f"   killed replica r1 (pid {victim[0]}) at t={killed_at[0]:.0f}s")
            # a browser of r1 asking again: does the proxy still try r1?
            probes.extend(await asyncio.to_thread(_probe, server.url, time.monotonic(), 12.0))

    # warm-up: one learner opens every page on every replica (imports, shared caches), so
    # "start" is a server that has served the lesson once, not a bare process
    for _ in server.ports:
        warm = Client(server.url)
        await warm.connect()
        for page in ("", *PAGES):
            await warm.rerun(page)
        await warm.close()
    await asyncio.sleep(2)
    t0 = time.monotonic()
    sampler = asyncio.create_task(sample())
    killer = asyncio.create_task(kill_half_way()) if fault else None
    spy = None
    if args.profile is not None:
        spy = subprocess.Popen(
            [str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(pids[0]), "-d",
             str(int(args.seconds)), "-r", "50", "--gil", "-f", "raw", "-o", str(args.profile)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    start_rss = [_rss_mb(p) for p in pids]
    await asyncio.gather(
        *(learner(server.url, args.seconds, args.think, i, tally, t0) for i in range(args.learners))
    )
    end_rss = [_rss_mb(p) for p in server.pids()]
    if spy is not None:
        spy.wait(timeout=120)
    total = [_rss_mb(p, "VmRSS") for p in server.pids()]
    print("   VmRSS MB per replica at the end (with shared libraries): "
          + " ".join(f"{x:.0f}" for x in total))  # fmt: skip
    await asyncio.sleep(args.after)  # the learners have left: do sessions go away?
    after_rss = [_rss_mb(p) for p in server.pids()]
    sampler.cancel()
    if killer is not None:
        killer.cancel()
    return {
        "tally": tally,
        "start": start_rss,
        "end": end_rss,
        "after": after_rss,
        "rss": rss,
        "killed_at": killed_at,
        "probes": probes,
        "after_s": args.after,
    }


def report(label: str, result: dict[str, object]) -> None:
    tally: Tally = result["tally"]  # type: ignore[assignment]
    every = [x for xs in tally.latencies.values() for x in xs]
    print(f"\n== {label}: {len(every)} reruns, {len(tally.errors)} errors")
    print(f"{'page':18s} {'n':>5s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s}")
    for page, xs in sorted(tally.latencies.items()):
        print(f"{page or 'Home':18s} {len(xs):5d} {statistics.median(xs) * 1e3:8.0f} "
              f"{_pct(xs, 0.95) * 1e3:8.0f} {max(xs) * 1e3:8.0f}")  # fmt: skip
    if every:
        print(f"{'all':18s} {len(every):5d} {statistics.median(every) * 1e3:8.0f} "
              f"{_pct(every, 0.95) * 1e3:8.0f} {max(every) * 1e3:8.0f}")  # fmt: skip
    for err in sorted(set(tally.errors))[:8]:
        print(f"   error ×{tally.errors.count(err)}: {err}")
    if tally.dropped:
        print(f"   {len(tally.dropped)} learner(s) lost their connection; back after "
              f"{statistics.median(tally.dropped):.1f} s (median), {max(tally.dropped):.1f} s "
              "(max), in a new session")  # fmt: skip

    def fmt(xs: object) -> str:
        return " ".join(f"{x:6.0f}" for x in xs)  # type: ignore[attr-defined]

    start, after = result["start"], result["after"]
    if not start:  # (a class of the day: its memory is reported after it)
        return
    print(f"   private RSS MB per replica: start {fmt(start)} | end {fmt(result['end'])} | "
          f"{result['after_s']:.0f} s after leaving {fmt(after)} ("
          + ", ".join(f"{(a - s) / s:+.0%}" for s, a in zip(start, after, strict=False))  # type: ignore[call-overload]
          + " vs start)")  # fmt: skip
    timeline = result["rss"][::5]  # type: ignore[index]
    print("   private RSS over time: " + "  ".join(f"t={t:.0f}s {fmt(xs)}" for t, xs in timeline))
    killed: list[float] = result["killed_at"]  # type: ignore[assignment]
    if killed:
        k = killed[0]
        before = [t for t, r in tally.landed if r == "r1" and t < k]
        back = [t for t, r in tally.landed if r == "r1" and t > k]
        print(f"   fault: r1 killed at t={k:.0f}s; errors seen by learners per replica: "
              f"{dict(sorted(tally.errors_on.items()))}; new sessions on r1 again from "
              + (f"t={back[0]:.0f}s ({back[0] - k:.0f} s after the kill)" if back else "never")
              + f"; {len(before)} sessions had landed on r1 before")  # fmt: skip
        probes: list[tuple[float, float, int, str]] = result["probes"]  # type: ignore[assignment]
        failed = [p for p in probes if p[2] != 200]
        slow = [p for p in probes if p[1] > 0.5]
        fast_other = [p[0] for p in probes if p[3] not in ("r1", "-") and p[1] < 0.05]
        print(f"   requests with r1's cookie after the kill ({len(probes)} probes, 0.2 s apart): "
              f"{len(failed)} failed, {len(slow)} took > 0.5 s (the proxy still tried r1), "
              + (f"another replica answered at once from +{fast_other[0]:.1f} s" if fast_other
                 else "no other replica answered")
              + "; answered by: "
              + ", ".join(f"{w}×{sum(1 for p in probes if p[3] == w)}"
                          for w in sorted({p[3] for p in probes})))  # fmt: skip
        print("   first probes (sent at, took, status, replica): " + ", ".join(
            f"+{t:.1f}s {d:.2f}s {st} {w}" for t, d, st, w in probes[:6]))  # fmt: skip


# ------------------------------------------------------------------- a day of classes

#: pages as a class uses them (weights): most reruns are the quick labs, a fifth the
#: augmentation lab, fewer the checkpoint and DataLoader labs
CLASS_PAGES = {
    "Tensor_Lab": 3,
    "View_Reshape_Lab": 3,
    "Model_Explorer": 3,
    "Augmentation_Lab": 3,
    "Checkpoint_Lab": 2,
    "DataLoader_Lab": 1,
}


@dataclass(frozen=True)
class Assets:
    """What learners upload: their own photos (640×480 JPEGs), and a resnet18 state_dict
    (45 MB) for the checkpoint lab's load lesson (about one learner in seven)."""

    photos: tuple[bytes, ...]
    checkpoint: bytes

    @staticmethod
    def make() -> Assets:
        import io

        import numpy as np
        import torch
        from PIL import Image
        from torchvision.models import resnet18

        rng = np.random.default_rng(0)
        photos = []
        for _ in range(6):
            arr = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
            buf = io.BytesIO()
            Image.fromarray(arr).save(buf, "JPEG", quality=85)
            photos.append(buf.getvalue())
        buf = io.BytesIO()
        torch.save(resnet18().state_dict(), buf)
        return Assets(tuple(photos), buf.getvalue())


async def _act_in_class(
    c: Client, page: str, rng: random.Random, assets: Assets, done: set[str]
) -> None:
    """One action on ``page``, the class's pages included (uploads, grids, saves, loads,
    DataLoader runs); the quick labs as in :func:`_act`."""
    from ptexplore.ui.checkpoints.load import LOAD_TAB
    from ptexplore.ui.data.run import RUN_TAB

    w = c.widgets
    if page == "Augmentation_Lab":
        if "augment.upload" in w and "photo" not in done and rng.random() < 0.5:
            c.attach("augment.upload", f"photo{rng.randrange(100)}.jpg", rng.choice(assets.photos))
            done.add("photo")
        elif "augment.reroll" in w:
            c.click("augment.reroll")  # a new grid
    elif page == "Checkpoint_Lab":
        if "checkpoints.load_file" in w and "ckpt" not in done:
            c.attach("checkpoints.load_file", "mine.pth", assets.checkpoint)  # loads it
            done.add("ckpt")
        elif "checkpoints.from" in w and "uploader" in done and "ckpt" not in done:
            c.set_text("checkpoints.from", "uploaded file")
        elif "checkpoints.tab" in w and "uploader" not in done and rng.random() < 0.15:
            c.set_text("checkpoints.tab", LOAD_TAB)
            done.add("uploader")
        elif "checkpoints.epoch" in w:
            c.set_int("checkpoints.epoch", rng.randint(1, 30))  # saved again
        elif "checkpoints.strip" in w:
            c.set_bool("checkpoints.strip", rng.random() < 0.5)
    elif page == "DataLoader_Lab":
        if "data.run_again" in w:
            c.click("data.run_again")  # real worker processes again
        elif "data.tab" in w:
            c.set_text("data.tab", RUN_TAB)
    else:
        await _act(c, page, rng)


async def class_learner(
    url: str, seconds: float, think: float, seed: int, tally: Tally, assets: Assets
) -> None:
    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, think))
    end = time.monotonic() + seconds
    pages, weights = list(CLASS_PAGES), list(CLASS_PAGES.values())
    page = rng.choices(pages, weights)[0]
    done: set[str] = set()
    c = Client(url)
    try:
        await c.connect()
        run = await c.rerun(page)
        if not run.ok:
            tally.error(_replica(c), f"{page} load: {run.status} {run.exceptions}")
        while time.monotonic() < end:
            if rng.random() < 0.25:
                page = rng.choices(pages, weights)[0]
            else:
                await _act_in_class(c, page, rng, assets, done)
            run = await c.rerun(page)
            if not run.ok or any(INCIDENT_TEXT in a for a in run.alerts):
                tally.error(_replica(c), f"{page}: {run.status} {run.exceptions} {run.alerts[:1]}")
            else:
                tally.add(page, run.seconds)
            await asyncio.sleep(think * rng.uniform(0.7, 1.3))
    except Exception as err:  # a dropped connection
        tally.error(_replica(c), f"dropped: {type(err).__name__}: {err}")
    finally:
        await c.close()


def _uss_rss_mb(pid: int) -> tuple[float, float]:
    """(USS: the process's private pages, RSS), MB, from /proc/PID/smaps_rollup."""
    uss = rss = 0.0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("Private_Clean", "Private_Dirty"):
                uss += int(rest.split()[0]) / 1024
            elif name == "Rss":
                rss = int(rest.split()[0]) / 1024
    except OSError:
        return float("nan"), float("nan")
    return uss, rss


def _helpers(pid: int) -> list[int]:
    """The sandbox helper(s) a replica started (python -m ptexplore.isolate)."""
    out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(pid)],
                         capture_output=True, text=True)  # fmt: skip
    return [int(line.split()[0]) for line in out.stdout.splitlines() if "ptexplore.isolate" in line]


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (a helper's spare and warm children, forkserver)."""
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True)
    kids: dict[int, list[int]] = {}
    for line in out.stdout.splitlines():
        child, parent = map(int, line.split())
        kids.setdefault(parent, []).append(child)
    found, todo = [pid], [pid]
    while todo:
        for child in kids.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


async def day_of_classes(server: Server, args: argparse.Namespace) -> None:
    assets = Assets.make()
    for _ in server.ports:  # warm-up: every page once per replica
        warm = Client(server.url)
        await warm.connect()
        for page in ("", *CLASS_PAGES):
            await warm.rerun(page)
        await warm.close()
    print(f"   uploads: {len(assets.photos)} photos of {len(assets.photos[0]) // 1024} KB, a "
          f"{len(assets.checkpoint) / 1e6:.0f} MB checkpoint")  # fmt: skip
    firsts: list[list[tuple[float, float]]] = []
    every_class: list[float] = []
    errors = 0
    for k in range(args.classes):
        tally = Tally()
        learners = [
            class_learner(server.url, args.seconds, args.think, 1000 * k + i, tally, assets)
            for i in range(args.learners)
        ]
        await asyncio.gather(*learners)
        await asyncio.sleep(args.between)  # the class has left
        mem = [_uss_rss_mb(p) for p in server.pids()]
        helpers = [_uss_rss_mb(h) for p in server.pids() for h in _helpers(p)]
        # each replica's whole sandbox: helper, its spare and warm children, the forkserver
        trees = [[_uss_rss_mb(q)[0] for q in _tree(h)] for p in server.pids() for h in _helpers(p)]
        firsts.append(mem)
        report(f"class {k + 1} of {args.classes}", {"tally": tally, "start": [], "end": [],
               "after": [], "rss": [], "killed_at": [], "probes": [], "after_s": 0.0})  # fmt: skip
        every = [x for xs in tally.latencies.values() for x in xs]
        every_class.extend(every)
        errors += len(tally.errors)
        print("   replicas after the class, USS / RSS MB: "
              + ", ".join(f"{u:.0f} / {r:.0f}" for u, r in mem)
              + " (vs after class 1: "
              + ", ".join(f"{(u - f[0]) / f[0]:+.1%} / {(r - f[1]) / f[1]:+.1%}"
                          for (u, r), f in zip(mem, firsts[0], strict=False))
              + "); sandbox helpers USS / RSS MB: "
              + ", ".join(f"{u:.0f} / {r:.0f}" for u, r in helpers)
              + "; each whole sandbox (helper and its processes) USS MB: "
              + ", ".join(f"{sum(t):.0f} in {len(t)}" for t in trees))  # fmt: skip
    print(f"\n== the day: {len(every_class)} reruns, {errors} errors, p50 "
          f"{statistics.median(every_class) * 1e3:.0f} ms, p95 {_pct(every_class, 0.95) * 1e3:.0f}"
          " ms (targets: 0 errors, p50 ≤ 200 ms, p95 ≤ 1 s, memory after class 3 within 5 % of "
          "after class 1)")  # fmt: skip


def top_functions(collapsed: Path, n: int = 15) -> None:
    """The functions where the profiled replica spent its samples: own time (the frame on
    top of the stack) and total time (anywhere on the stack), from py-spy's raw output."""
    own: dict[str, int] = {}
    total: dict[str, int] = {}
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        k = int(count)
        samples += k
        frames = [f.split(" (")[0] + " (" + f.split(" (")[-1].split(":")[0].rsplit("/", 1)[-1]
                  for f in stack.split(";")]  # fmt: skip
        own[frames[-1]] = own.get(frames[-1], 0) + k
        for f in set(frames):
            total[f] = total.get(f, 0) + k
    if not samples:
        print("   (no samples)")
        return
    print(f"   py-spy: {samples} samples of the first replica's GIL holder (what caps a class)")
    print("   own time:")
    for f, k in sorted(own.items(), key=lambda kv: -kv[1])[:n]:
        print(f"     {k / samples:6.1%}  {f}")
    print("   total time (ptexplore and page frames):")
    ours = {f: k for f, k in total.items() if "ptexplore" in f or "_Lab" in f or "Explorer" in f}
    for f, k in sorted(ours.items(), key=lambda kv: -kv[1])[:n]:
        print(f"     {k / samples:6.1%}  {f}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--learners", type=int, default=60)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--think", type=float, default=3.0)
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--compare", action="store_true", help="also measure one process")
    ap.add_argument("--fault", action="store_true", help="kill -9 replica r1 half way")
    ap.add_argument("--after", type=float, default=60.0, help="wait after the learners leave")
    ap.add_argument(
        "--profile",
        type=Path,
        help="py-spy the (first) replica while the learners act; write its collapsed stacks "
        "to this file and print the top functions",
    )
    ap.add_argument(
        "--classes",
        type=int,
        help="a day: this many classes in a row, the "
        "class's pages mixed in (uploads, grids, checkpoints, DataLoader runs)",
    )
    ap.add_argument("--between", type=float, default=20.0, help="pause after each class")
    args = ap.parse_args()
    if args.classes:
        print(f"a day of {args.classes} classes: {args.learners} learners each, one action "
              f"every {args.think} s ±30 % for {args.seconds:.0f} s, through {args.replicas} "
              f"replicas, on {os.cpu_count()} cores")  # fmt: skip
        server = start(args.replicas)
        try:
            asyncio.run(day_of_classes(server, args))
        finally:
            server.stop()
        return 0
    print(f"{args.learners} learners, one action every {args.think} s ±30 % for "
          f"{args.seconds:.0f} s, on {os.cpu_count()} cores")  # fmt: skip
    runs = ([1] if args.compare else []) + [args.replicas]
    for replicas in runs:
        server = start(replicas)
        try:
            fault = args.fault and replicas > 1
            result = asyncio.run(measure(server, args, fault=fault))
        finally:
            server.stop()
        label = "one process (no proxy)" if replicas == 1 else f"{replicas} replicas + HAProxy"
        report(label + (" — r1 killed half way" if fault else ""), result)
        if args.profile is not None and args.profile.exists():
            top_functions(args.profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
