"""Augmentation lab speed: decode variants, grid variants, re-roll, first grid, threads.

Run: .venv/bin/python bench/augment_preview.py   (about a minute on 2 cores)

A 4000×3000 JPEG (12 MP) is made from a sample photo (upscaled + noise, quality 90). The
16-sample grid of the train preset is timed as
  * v1: PIL image + torchvision.transforms (v1) on the full-size image (the classic loop);
  * v2: torchvision.transforms.v2 on the full-size uint8 tensor;
  * v2 on the preview copy the lab actually uses (shorter side from preview_source_side).
Targets from the issue: re-roll ≤ 100 ms; new 12 MP upload → first grid ≤ 300 ms (decode
included). Thread section: several "sessions" (Python threads of one process, like
Streamlit's script threads) re-rolling at once with torch intra-op threads = 1 vs 2.
"""

from __future__ import annotations

import io
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision import io as tvio
from torchvision import transforms as v1

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ptexplore.augment.pipeline import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    Pipeline,
    Step,
    preview_source_side,
    train_preset,
)
from ptexplore.augment.preview import run_grid
from ptexplore.images import to_display
from ptexplore.images.decode import decode_image_bytes
from ptexplore.images.samples import SAMPLES_DIR
from ptexplore.rng import seeded

N = 16


def _ms(fn: Callable[[], object], repeat: int = 5, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def make_jpeg() -> bytes:
    base = (
        Image.open(SAMPLES_DIR / "chelsea.jpg").convert("RGB").resize((4000, 3000), Image.BICUBIC)
    )
    noise = np.random.default_rng(0).normal(0, 6, (3000, 4000, 3))
    arr = np.clip(np.asarray(base, dtype=np.float32) + noise, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def main() -> None:
    torch.set_num_threads(1)
    data = make_jpeg()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} intra-op thread(s); "
        f"12 MP JPEG = {len(data) / 1e6:.1f} MB; grid = {N} samples of the train preset"
    )
    side = preview_source_side(train_preset())

    # --- decode variants
    def pil_full() -> np.ndarray:
        im = Image.open(io.BytesIO(data))
        im.load()
        return np.asarray(im.convert("RGB"))

    def tv_decode() -> torch.Tensor:
        return tvio.decode_jpeg(torch.frombuffer(bytearray(data), dtype=torch.uint8))

    def pil_draft() -> np.ndarray:
        im = Image.open(io.BytesIO(data))
        im.draft("RGB", (1000, 750))
        im.load()
        return np.asarray(im)

    d_pil = _ms(pil_full)
    d_tv = _ms(tv_decode)
    d_draft = _ms(pil_draft)
    d_ours = _ms(lambda: decode_image_bytes(data, max_short_side=side))
    d_ours_full = _ms(lambda: decode_image_bytes(data), repeat=3)
    print("\nDecode 4000×3000 JPEG (median ms)")
    print(f"  PIL full                        {d_pil:7.1f}")
    print(f"  torchvision.io.decode_jpeg      {d_tv:7.1f}")
    print(f"  PIL draft() 1/4 scale           {d_draft:7.1f}")
    print(f"  lab decode, full (+EXIF, RGB)   {d_ours_full:7.1f}")
    print(f"  lab decode, preview side {side}  {d_ours:7.1f}")

    # --- grid variants
    full = decode_image_bytes(data)
    preview = decode_image_bytes(data, max_short_side=side)
    pil_img = Image.open(io.BytesIO(data)).convert("RGB")
    v1_pipe = v1.Compose([
        v1.RandomResizedCrop(224), v1.RandomHorizontalFlip(), v1.ToTensor(),
        v1.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])  # fmt: skip

    def v1_loop() -> None:
        with seeded(0):
            for _ in range(N):
                v1_pipe(pil_img)

    g_v1 = _ms(v1_loop, repeat=3)
    g_full = _ms(lambda: run_grid(train_preset(), full.pixels, seed=0, n=N), repeat=3)
    g_prev = _ms(lambda: run_grid(train_preset(), preview.pixels, seed=0, n=N))
    print(f"\nGrid of {N}, train preset (median ms)           ratio vs v1")
    print(f"  v1 PIL, full size              {g_v1:7.1f}   1.0×")
    print(f"  v2 uint8 tensor, full size     {g_full:7.1f}   {g_v1 / g_full:.1f}× faster")
    print(f"  v2 preview copy {preview.size[0]}×{preview.size[1]}  {g_prev:7.1f}   "
          f"{g_v1 / g_prev:.1f}× faster")  # fmt: skip

    # --- what the page does
    seeds = iter(range(1, 10_000))

    def reroll() -> None:
        g = run_grid(train_preset(), preview.pixels, seed=next(seeds), n=N)
        for s in g.samples:
            to_display(s.tensor, g.norm)

    def first_grid() -> None:
        fresh = bytes(data)  # a new upload: nothing cached
        d = decode_image_bytes(fresh, max_short_side=side)
        g = run_grid(train_preset(), d.pixels, seed=0, n=N)
        for s in g.samples:
            to_display(s.tensor, g.norm)

    # a pipeline that keeps the input size (colour + flip only): before the 512-px preview
    # copy it ran on all 12 MP of every sample
    jitter = Pipeline((Step.make("ColorJitter", brightness=0.4), Step.make("RandomHorizontalFlip")))
    small = decode_image_bytes(data, max_short_side=preview_source_side(jitter))
    j_full = _ms(
        lambda: run_grid(jitter, full.pixels, seed=0, n=N, max_bytes=2**31, max_seconds=1e9),
        repeat=1,
        warmup=0,
    )  # over the page's memory budget: the page itself now refuses this
    j_prev = _ms(lambda: run_grid(jitter, small.pixels, seed=0, n=N))

    r = _ms(reroll, repeat=7)
    f = _ms(first_grid, repeat=5)
    print("\nPage work (median ms)                           target")
    print(f"  re-roll (grid + display arrays) {r:7.1f}      ≤ 100  {'OK' if r <= 100 else 'MISS'}")
    print(f"  new 12 MP upload → first grid   {f:7.1f}      ≤ 300  {'OK' if f <= 300 else 'MISS'}")
    print(f"  first grid vs v1 full-size loop (+PIL decode): {(g_v1 + d_pil) / f:.1f}× faster")
    print(f"  ColorJitter+flip grid, full 12 MP      {j_full:7.1f}")
    print(f"  ColorJitter+flip grid, {small.size[0]}×{small.size[1]} copy  {j_prev:7.1f}")

    # --- threads under concurrent load
    print("\nIntra-op threads under load: grid latency (median ms) and throughput")
    print("  (sessions = Python threads drawing grids at once, like Streamlit script threads)")
    for label, pixels in (("full-size v2", full.pixels), ("preview copy", preview.pixels)):
        for threads in (1, 2):
            torch.set_num_threads(threads)
            row = [load_row(pixels, sessions) for sessions in (1, 2, 4)]
            print(f"  {label:12s} {threads} thread(s): " + " | ".join(row))
    torch.set_num_threads(1)


def load_row(pixels: torch.Tensor, sessions: int, reps: int = 4) -> str:
    lat: list[float] = []
    lock = threading.Lock()

    def session(k: int) -> None:
        for rep in range(reps):
            t0 = time.perf_counter()
            run_grid(train_preset(), pixels, seed=k * 100 + rep, n=N)
            with lock:
                lat.append(1000 * (time.perf_counter() - t0))

    workers = [threading.Thread(target=session, args=(k,)) for k in range(sessions)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    rate = sessions * reps / (time.perf_counter() - t0)
    return f"{sessions} sess. {statistics.median(lat):5.0f} ms ({rate:4.1f} grids/s)"


if __name__ == "__main__":
    main()
