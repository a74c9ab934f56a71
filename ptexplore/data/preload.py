"""Imported once by the forkserver before it forks any worker (``workers.PRELOAD``).

Importing it runs one photo item through decode + the train pipeline, so that one-off
lazy initialisation (PIL's decoder plugins, torchvision's kernels) happens in the
forkserver, once, instead of in every worker's first ``__getitem__``.
"""

from __future__ import annotations

import torch

from ptexplore.augment import train_preset
from ptexplore.images.decode import decode_image_bytes
from ptexplore.images.samples import sample_bytes, sample_names


def _warm_up() -> None:
    names = sample_names()
    if not names:
        return
    torch.set_num_threads(1)  # what every DataLoader worker runs with
    pixels = decode_image_bytes(sample_bytes(names[0]), name=names[0]).pixels
    train_preset().build()(pixels)


_warm_up()
