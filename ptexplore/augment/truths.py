"""Two truths the page computes live: what ``Resize(256)`` really does, and that
augmentation does not grow a dataset (only ``ConcatDataset`` changes ``len``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch.utils.data import ConcatDataset, Dataset
from torchvision.transforms import v2

from ptexplore.augment.budget import check, strip_work
from ptexplore.augment.catalog import spec_for
from ptexplore.augment.pipeline import Pipeline
from ptexplore.augment.preview import seeded_pipeline
from ptexplore.errors import LessonError
from ptexplore.limits import MAX_EPOCHS


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


class AugmentedImages(Dataset[torch.Tensor]):
    """A map-style dataset: item i = ``transform(images[i])``, drawn fresh on every access."""

    def __init__(
        self,
        images: Sequence[torch.Tensor],
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        self.images = list(images)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> torch.Tensor:
        image = self.images[index]
        return image if self.transform is None else self.transform(image)


@dataclass(frozen=True, slots=True, eq=False)
class EpochStrip:
    index: int
    #: ``augmented[index]`` as seen in epochs 0, 1, …, k-1.
    images: tuple[torch.Tensor, ...]
    len_augmented: int
    len_original: int
    len_concat: int
    #: How many of the k draws differ from each other (pixel-exact comparison).
    distinct: int


def epochs_strip(
    pipeline: Pipeline,
    images: Sequence[torch.Tensor],
    *,
    seed: int,
    epochs: int,
    index: int = 0,
) -> EpochStrip:
    """Read ``augmented[index]`` once per epoch; measure the lengths of the datasets.

    The whole strip (``epochs`` outputs kept and compared) is estimated and refused before
    it runs if it would need too much memory or CPU time (:mod:`ptexplore.augment.budget`).
    """
    if not images:
        raise LessonError(
            "The dataset needs at least one image.", fix="Upload a photo or pick a sample."
        )
    if not 1 <= epochs <= MAX_EPOCHS:
        raise LessonError(
            f"Show 1 to {MAX_EPOCHS} epochs, not {epochs}.", fix=f"Pick 1 to {MAX_EPOCHS}."
        )
    if not 0 <= index < len(images):
        raise LessonError(
            f"Index {index} is outside a dataset of {len(images)} images.",
            fix=f"Pick an index from 0 to {len(images) - 1}.",
        )
    image = images[index]
    transform = seeded_pipeline(pipeline, seed)  # validates the steps
    check(strip_work(pipeline, image.shape, image.dtype, epochs=epochs))
    # epoch e reads augmented[index] for the e-th time: the e-th draw after manual_seed
    augmented = AugmentedImages(images, transform)
    original = AugmentedImages(images, pipeline_without_random(pipeline).build())
    both: ConcatDataset[torch.Tensor] = ConcatDataset([augmented, original])
    draws = tuple(augmented[index] for _ in range(epochs))
    distinct: list[torch.Tensor] = []
    for d in draws:
        if not any(d.shape == e.shape and torch.equal(d, e) for e in distinct):
            distinct.append(d)
    return EpochStrip(index, draws, len(augmented), len(original), len(both), len(distinct))


def pipeline_without_random(pipeline: Pipeline) -> Pipeline:
    """The same pipeline with its random steps disabled (the "original" images)."""
    steps = pipeline
    for i, step in enumerate(pipeline.steps):
        if step.enabled and spec_for(step.name).random:
            steps = steps.set_enabled(i, False)
    return steps
