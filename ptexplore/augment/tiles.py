"""The 🎲 Grid tab's grid made whole in the sandbox: tiles, captions, shapes, fingerprints.

:func:`draw_tiles` runs :func:`~ptexplore.augment.preview.run_grid` *and* encodes the tiles
in the same sandboxed child, and sends back only what the tab shows: a JPEG per sample (a
few tens of KB) instead of its float tensor (600 KB for a 224×224 sample), the draws, each
output's shape and dtype, and what the exported script prints for these samples. The
replica, whose one interpreter serves every learner, then neither receives the tensors nor
spends its own CPU on the encoding (measured with ``bench/isolate.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

from ptexplore.augment import preview
from ptexplore.augment.export import export_output, fingerprint
from ptexplore.augment.pipeline import Pipeline
from ptexplore.augment.preview import Draw, run_grid
from ptexplore.augment.targets import Annotations, BoxFate, draw
from ptexplore.images.display import Norm, for_screen, jpeg, to_display


@dataclass(frozen=True, slots=True)
class Tile:
    """One sample as the grid shows it."""

    index: int
    draws: tuple[Draw, ...]
    shape: tuple[int, ...]
    dtype: str
    #: the first 12 hex of the sha256 of its values (what the exported script prints)
    fingerprint: str
    #: each box's fate over the pipeline (empty without boxes)
    fates: tuple[BoxFate, ...] = ()

    @property
    def caption(self) -> str:
        return preview.caption(self.index, self.draws, self.fates)


@dataclass(frozen=True, slots=True, eq=False)
class Tiles:
    """A grid of ``len(tiles)`` samples: what each drew, and its JPEG tile."""

    seed: int
    norm: Norm | None
    samples: tuple[Tile, ...]
    images: tuple[bytes, ...]
    #: what :func:`~ptexplore.augment.export.export_code` prints for exactly these samples
    printed: str

    @property
    def output_shapes(self) -> tuple[tuple[int, ...], ...]:
        return tuple(s.shape for s in self.samples)


def _resized(result: dict[str, Any], hw: tuple[int, int]) -> dict[str, Any]:
    """The target on a ``hw`` copy of its canvas (boxes and keypoints scaled, masks
    nearest-neighbour), by torchvision's own ``resize`` for each kind."""
    size = [hw[0], hw[1]]
    out = dict(result)
    for key, value in result.items():
        if isinstance(value, tv_tensors.Mask):
            out[key] = F.resize(value, size, interpolation=v2.InterpolationMode.NEAREST)
        elif isinstance(value, tv_tensors.BoundingBoxes | tv_tensors.KeyPoints):
            out[key] = F.resize(value, size)
    return out


def picture(
    x: torch.Tensor,
    norm: Norm | None,
    result: dict[str, Any] | None = None,
    ids: tuple[int, ...] = (),
    ann: Annotations | None = None,
) -> np.ndarray:
    """A sample as the screen shows it: denormalised, shrunk to the display size, and with
    its target (``result``, the boxes ``ids`` of ``ann``) drawn on at that size."""
    pic = for_screen(to_display(x, norm))
    if result is None or ann is None:
        return pic
    if pic.shape[:2] != tuple(x.shape[-2:]):
        result = _resized(result, (int(pic.shape[0]), int(pic.shape[1])))
    return draw(pic, result, ids, tuple(ann.name_of(ann.labels[b]) for b in ids))


def run_tiles(
    pipeline: Pipeline,
    image: torch.Tensor,
    *,
    seed: int,
    n: int,
    target: Annotations | None = None,
) -> Tiles:
    """:func:`~ptexplore.augment.preview.run_grid` (untraced), then its tiles, here: with a
    ``target``, each tile has its boxes, labels, masks and keypoints drawn on it."""
    grid = run_grid(pipeline, image, seed=seed, n=n, trace_index=None, target=target)
    samples = tuple(
        Tile(
            s.index,
            s.draws,
            tuple(int(d) for d in s.tensor.shape),
            str(s.tensor.dtype).removeprefix("torch."),
            fingerprint(s.tensor),
            s.fates,
        )
        for s in grid.samples
    )
    images = [jpeg(picture(s.tensor, grid.norm, s.target, s.ids, target)) for s in grid.samples]
    printed = export_output(
        [s.tensor for s in grid.samples],
        None if target is None else [s.target for s in grid.samples],
    )
    return Tiles(seed, grid.norm, samples, tuple(images), printed)


def draw_tiles(
    pipeline: Pipeline,
    image: torch.Tensor,
    *,
    seed: int,
    n: int,
    target: Annotations | None = None,
) -> Tiles:
    """:func:`run_tiles` in a sandboxed child, checked here first (as
    :func:`~ptexplore.augment.preview.draw_grid`: the same limits, the same samples)."""
    preview._refuse(pipeline, image, n=n, trace_index=None, target=target)
    return preview._GRID_JOB.call(run_tiles, pipeline, image, seed=seed, n=n, target=target)
