"""Truths the page computes live: what ``Resize(256)`` really does, and the train and val
presets side by side on the same image and seed.

(That augmentation does not grow a dataset — only ``ConcatDataset`` changes ``len`` — is
the DataLoader lab's lesson, run there in real worker processes.)"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torchvision.transforms import v2

from ptexplore.augment.budget import check, train_val_work
from ptexplore.augment.pipeline import Pipeline, train_preset, val_preset
from ptexplore.augment.preview import Grid, draw_grid
from ptexplore.augment.targets import Annotations
from ptexplore.i18n import N_


@dataclass(frozen=True, slots=True)
class ResizeTruth:
    size: int
    in_wh: tuple[int, int]
    out_wh: tuple[int, int]

    @property
    def naive_wh(self) -> tuple[int, int]:
        """What many tutorials imply: a square."""
        return (self.size, self.size)

    @property
    def keeps_aspect(self) -> bool:
        w, h = self.in_wh
        ow, oh = self.out_wh
        return abs(w / h - ow / oh) < 0.01


def resize_truth(width: int = 400, height: int = 300, size: int = 256) -> ResizeTruth:
    """Run the real ``v2.Resize(size)`` on a ``height×width`` image and report its size.

    The image is a meta tensor: torchvision computes the output size exactly as on real
    pixels, and a learner's 40 MP photo costs neither memory nor time here."""
    out = v2.Resize(size)(torch.zeros(3, height, width, dtype=torch.uint8, device="meta"))
    return ResizeTruth(size, (width, height), (int(out.shape[-1]), int(out.shape[-2])))


@dataclass(frozen=True, slots=True, eq=False)
class PresetDraws:
    """``k`` draws of one preset on one image."""

    #: the preset's name (English, marked: translated where it is shown)
    label: str
    pipeline: Pipeline
    grid: Grid

    @property
    def shapes(self) -> tuple[tuple[int, ...], ...]:
        """The distinct output shapes, sorted."""
        return tuple(sorted({tuple(s.tensor.shape) for s in self.grid.samples}))

    @property
    def distinct(self) -> int:
        """How many of the draws differ from each other (pixel-exact comparison)."""
        seen: list[torch.Tensor] = []
        for s in self.grid.samples:
            t = s.tensor
            if not any(t.shape == e.shape and torch.equal(t, e) for e in seen):
                seen.append(t)
        return len(seen)


def train_vs_val(
    image: torch.Tensor, *, seed: int, k: int, target: Annotations | None = None
) -> tuple[PresetDraws, PresetDraws]:
    """The train and the val preset, ``k`` untraced draws each from ``seed`` (both checked
    against one budget before either runs), with the photo's ``target`` when given."""
    masks = 0 if target is None or target.mask_png is None else len(target.boxes)
    check(*train_val_work(image.shape, image.dtype, n=k, masks=masks))

    def draws(label: str, pipe: Pipeline) -> PresetDraws:
        grid = draw_grid(pipe, image, seed=seed, n=k, trace_index=None, target=target)
        return PresetDraws(label, pipe, grid)

    return draws(N_("train"), train_preset()), draws(N_("val"), val_preset())
