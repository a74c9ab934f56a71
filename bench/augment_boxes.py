"""What boxes and masks cost the Augmentation lab's grid, against the image-only grid of
the same pipeline in the same run.

    python bench/augment_boxes.py [--repeat 5] [--clock wall|cpu]

A 12 MP photo (4000×3000, a sample photo scaled up and JPEG-encoded) with 50 boxes and a
mask per box, previewed the way the lab does it: decoded at the size the pipeline allows
(``preview_source_side``: the downscaled copy when the pipeline resamples to a fixed size
anyway, the full photo otherwise), the annotations scaled to that copy, then a 16-tile grid
drawn with its tiles encoded (``run_tiles``, in-process: the sandbox adds the same fixed
cost to both). "Re-roll" is the next seed on the same decoded photo.

Targets (issue 22): the grid with boxes and masks ≤ 1.3× the image-only grid; re-roll
≤ 150 ms. "Of which drawing" is torchvision's drawing of the finished tiles alone.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch
from PIL import Image

from ptexplore.augment import Pipeline
from ptexplore.augment.pipeline import preview_source_side
from ptexplore.augment.preview import run_grid
from ptexplore.augment.targets import Annotations, BoxFormat, png_of
from ptexplore.augment.tiles import picture, run_tiles
from ptexplore.images.decode import decode_image_bytes
from ptexplore.images.samples import sample_bytes

W, H, BOXES, TILES = 4000, 3000, 50, 16


def photo() -> bytes:
    with Image.open(io.BytesIO(sample_bytes("chelsea.jpg"))) as im:
        big = im.convert("RGB").resize((W, H), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    big.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def annotations() -> Annotations:
    """50 boxes on a 10×5 grid, each with an elliptical instance mask inside it."""
    ids = np.zeros((H, W), dtype=np.uint8)
    boxes = []
    yy, xx = np.mgrid[0:H, 0:W]
    for i in range(BOXES):
        c, r = i % 10, i // 10
        x1, y1 = c * 400 + 40, r * 600 + 60
        x2, y2 = x1 + 300, y1 + 450
        boxes.append((float(x1), float(y1), float(x2), float(y2)))
        cx, cy, ax, ay = (x1 + x2) / 2, (y1 + y2) / 2, 150, 225
        sub = (slice(y1, y2), slice(x1, x2))
        inside = ((xx[sub] - cx) / ax) ** 2 + ((yy[sub] - cy) / ay) ** 2 <= 1
        ids[sub][inside] = i + 1
    labels = tuple(1 + i % 3 for i in range(BOXES))
    cats = ((1, "cat"), (2, "cup"), (3, "rocket"))
    return Annotations((H, W), BoxFormat.XYXY, tuple(boxes), labels, cats, mask_png=png_of(ids))


PIPELINES = {
    "flip + RandomResizedCrop(224) (a downscaled copy)": Pipeline()
    .add("RandomHorizontalFlip")
    .add("RandomResizedCrop", params={"size": 224}),
    "RandomIoUCrop + Sanitize + Resize(320)": Pipeline()
    .add("RandomIoUCrop")
    .add("SanitizeBoundingBoxes")
    .add("Resize", params={"size": 320}),
}


def timed(fn: object, repeat: int, clock: Callable[[], float]) -> float:
    """The median of ``repeat`` runs of ``fn`` by ``clock``: wall time, or with
    ``--clock cpu`` this process's CPU time (steadier on a shared machine; the grid runs
    on one thread, so the two agree there)."""
    times = []
    for _ in range(repeat):
        t0 = clock()
        fn()  # type: ignore[operator]
        times.append(clock() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    args = ap.parse_args()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    torch.set_num_threads(1)  # as in the lab's sandboxed grid
    data, ann = photo(), annotations()
    for label, pipe in PIPELINES.items():
        one(label, pipe, data, ann, args.repeat, clock)


def one(
    label: str,
    pipe: Pipeline,
    data: bytes,
    ann: Annotations,
    repeat: int,
    clock: Callable[[], float],
) -> None:
    img = decode_image_bytes(data, max_short_side=preview_source_side(pipe))
    w, h = img.size
    target = ann.scaled(h, w)
    boxes_only = dataclasses.replace(target, mask_png=None)

    def grid(t: Annotations | None, seed: int = 0) -> object:
        return run_tiles(pipe, img.pixels, seed=seed, n=TILES, target=t)

    grid(target)  # warm up
    needs_boxes = any(s.name == "RandomIoUCrop" for s in pipe.steps)
    base = None if needs_boxes else timed(lambda: grid(None), repeat, clock)
    boxed = timed(lambda: grid(boxes_only), repeat, clock)
    masked = timed(lambda: grid(target), repeat, clock)
    seeds = iter(range(1, 1000))
    reroll = timed(lambda: grid(target, next(seeds)), repeat, clock)
    ref = base if base is not None else boxed
    print(f"{label}: previewed at {w}×{h}, {TILES} tiles")
    if base is not None:
        print(f"  image only             {base * 1000:8.1f} ms")
    else:
        print("  image only             — (RandomIoUCrop needs boxes: the baseline is boxes only)")
    print(f"  + {BOXES} boxes            {boxed * 1000:8.1f} ms  ({boxed / ref:.2f}×)")
    print(f"  + {BOXES} boxes and masks  {masked * 1000:8.1f} ms  ({masked / ref:.2f}×)")
    print(f"  re-roll (seed+1)       {reroll * 1000:8.1f} ms")
    # of which torchvision's drawing (draw_segmentation_masks, draw_bounding_boxes with
    # the labels, draw_keypoints) on the finished tiles: a floor under the grid's cost
    grid_done = run_grid(pipe, img.pixels, seed=0, n=TILES, trace_index=None, target=target)
    drawing = timed(
        lambda: [
            picture(s.tensor, grid_done.norm, s.target, s.ids, target) for s in grid_done.samples
        ],
        repeat,
        clock,
    )
    print(f"    of which drawing     {drawing * 1000:8.1f} ms  ({drawing / ref:.2f}× the baseline)")


if __name__ == "__main__":
    main()
