"""What the sandbox costs: the same work in this process and through ptexplore.isolate.

Run: .venv/bin/python bench/isolate.py   (about a minute on 2 cores)

Measured in one run, median ms (first call of each kind excluded: the helper is warm):
  * an echo job (the fixed cost: a pre-forked child, a request, a result);
  * decoding a 12 MP JPEG upload to the preview copy (images.decode_upload);
  * the first grid after an upload: decode + the 16-sample train-preset grid + the tiles
    shown (target ≤ 300 ms through the sandbox);
  * a re-roll: the grid with a new seed + its tiles (target ≤ 100 ms); both again with the
    tiles encoded in the sandbox with the grid (augment.tiles, what the Grid tab calls);
  * reading an uploaded resnet18 checkpoint (45 MB state_dict; ckpt.read_upload);
  * the Checkpoints lab's save lesson as it opens (build, both files, their layouts);
  * a DataLoader lab run (2 workers from the forkserver, 16 items, 4 batches): in-process
    with this process's own forkserver, sandboxed with the helper's.
Each line prints in-process, sandboxed and the ratio.
"""

from __future__ import annotations

import io
import math
import sys
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.augment_preview import _ms as median_ms
from bench.augment_preview import make_jpeg
from ptexplore import isolate
from ptexplore.augment.pipeline import preview_source_side, train_preset
from ptexplore.augment.preview import Grid, draw_grid, run_grid
from ptexplore.augment.tiles import draw_tiles, run_tiles
from ptexplore.checkpoints import save
from ptexplore.ckpt.read import read_checkpoint, read_upload
from ptexplore.data import loader
from ptexplore.data.workers import ensure_forkserver
from ptexplore.images import jpeg, to_display
from ptexplore.images.decode import DecodedImage, decode_image_bytes, decode_upload

N = 16


def _ms(fn: Callable[[], object], repeat: int = 7) -> float:
    return median_ms(fn, repeat=repeat)  # one warm-up call first


def _line(what: str, here: float, there: float, target: str = "") -> None:
    print(f"  {what:<38} {here:8.1f} {there:10.1f} {there / here:8.2f}×  {target}")


def main() -> None:
    torch.set_num_threads(1)
    isolate.job("warming up").call(math.sqrt, 1.0)  # start the helper
    data = make_jpeg()
    side = preview_source_side(train_preset())
    pipe = train_preset()
    preview = decode_image_bytes(data, max_short_side=side)
    seeds = iter(range(1, 1_000_000))

    def tiles(grid: Grid) -> None:
        for s in grid.samples:
            jpeg(to_display(s.tensor, grid.norm))

    def first(decode: Callable[..., DecodedImage], grid: Callable[..., Grid]) -> Callable[[], None]:
        def run() -> None:
            img = decode(bytes(data), name="photo.jpg", max_short_side=side)
            tiles(grid(pipe, img.pixels, seed=0, n=N, trace_index=None))

        return run

    def reroll(grid: Callable[..., Grid]) -> Callable[[], None]:
        return lambda: tiles(grid(pipe, preview.pixels, seed=next(seeds), n=N, trace_index=None))

    buf = io.BytesIO()
    from torchvision.models import resnet18

    torch.save(resnet18().state_dict(), buf)
    ckpt = buf.getvalue()

    def echo_here() -> None:
        math.sqrt(1.0)

    def echo_there() -> None:
        isolate.job("echo").call(math.sqrt, 1.0)

    print(
        f"torch {torch.__version__}; 12 MP JPEG {len(data) / 1e6:.1f} MB, preview copy "
        f"{preview.size[0]}×{preview.size[1]}; grid of {N} (train preset); "
        f"checkpoint {len(ckpt) / 1e6:.0f} MB\n"
    )
    print(f"  {'median ms':<38} {'in-process':>8} {'sandboxed':>10} {'ratio':>9}  target")
    _line("echo job (fixed cost)", _ms(echo_here) + 1e-3, _ms(echo_there))
    _line("decode 12 MP → preview copy",
          _ms(lambda: decode_image_bytes(bytes(data), name="p.jpg", max_short_side=side)),
          _ms(lambda: decode_upload(bytes(data), name="p.jpg", max_short_side=side)))  # fmt: skip
    _line("first grid (decode + grid + tiles)", _ms(first(decode_image_bytes, run_grid)),
          _ms(first(decode_upload, draw_grid)), "≤ 300 ms")  # fmt: skip
    _line("re-roll (grid + tiles)", _ms(reroll(run_grid)), _ms(reroll(draw_grid)), "≤ 100 ms")
    _line("re-roll, tiles made in the sandbox",
          _ms(lambda: run_tiles(pipe, preview.pixels, seed=next(seeds), n=N)),
          _ms(lambda: draw_tiles(pipe, preview.pixels, seed=next(seeds), n=N)),
          "≤ 100 ms")  # fmt: skip
    _line("first grid, tiles made in the sandbox",
          _ms(lambda: run_tiles(pipe, decode_image_bytes(bytes(data), name="p.jpg",
                                max_short_side=side).pixels, seed=0, n=N)),
          _ms(lambda: draw_tiles(pipe, decode_upload(bytes(data), name="p.jpg",
                                 max_short_side=side).pixels, seed=0, n=N)),
          "≤ 300 ms")  # fmt: skip
    _line("read a 45 MB checkpoint upload", _ms(lambda: read_checkpoint(ckpt), 5),
          _ms(lambda: read_upload(ckpt), 5))  # fmt: skip
    lesson = save.SaveConfig()  # the tab as it opens (the SmallVGG example)
    _line("save lesson (as it opens, both files)", _ms(lambda: save._run_save(lesson), 5),
          _ms(lambda: save.run_save(lesson), 5))  # fmt: skip
    ensure_forkserver()  # this process's own, for the in-process runs
    run = loader.LoaderConfig(n=16, batch_size=4, num_workers=2, ms=0)
    _line("DataLoader run (2 workers)", _ms(lambda: loader._run_here(run, 30.0), 5),
          _ms(lambda: loader.run_loader(run), 5))  # fmt: skip


if __name__ == "__main__":
    main()
