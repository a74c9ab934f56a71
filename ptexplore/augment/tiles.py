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

import torch

from ptexplore.augment import preview
from ptexplore.augment.export import export_output, fingerprint
from ptexplore.augment.pipeline import Pipeline
from ptexplore.augment.preview import Draw, run_grid
from ptexplore.images.display import Norm, jpeg, to_display


@dataclass(frozen=True, slots=True)
class Tile:
    """One sample as the grid shows it."""

    index: int
    draws: tuple[Draw, ...]
    shape: tuple[int, ...]
    dtype: str
    #: the first 12 hex of the sha256 of its values (what the exported script prints)
    fingerprint: str

    @property
    def caption(self) -> str:
        return preview.caption(self.index, self.draws)


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


def run_tiles(pipeline: Pipeline, image: torch.Tensor, *, seed: int, n: int) -> Tiles:
    """:func:`~ptexplore.augment.preview.run_grid` (untraced), then its tiles, here."""
    grid = run_grid(pipeline, image, seed=seed, n=n, trace_index=None)
    samples = tuple(
        Tile(
            s.index,
            s.draws,
            tuple(int(d) for d in s.tensor.shape),
            str(s.tensor.dtype).removeprefix("torch."),
            fingerprint(s.tensor),
        )
        for s in grid.samples
    )
    images = tuple(jpeg(to_display(s.tensor, grid.norm)) for s in grid.samples)
    return Tiles(seed, grid.norm, samples, images, export_output([s.tensor for s in grid.samples]))


def draw_tiles(pipeline: Pipeline, image: torch.Tensor, *, seed: int, n: int) -> Tiles:
    """:func:`run_tiles` in a sandboxed child, checked here first (as
    :func:`~ptexplore.augment.preview.draw_grid`: the same limits, the same samples)."""
    preview._refuse(pipeline, image, n=n, trace_index=None)
    return preview._GRID_JOB.call(run_tiles, pipeline, image, seed=seed, n=n)
