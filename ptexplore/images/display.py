"""Tensors and arrays as pictures for a screen: denormalise, clip, shrink, encode.

Shared by every lab that shows images (the Augmentation lab's grids and step traces, the
DataLoader lab's epochs strip); the JPEG bytes are what the browser receives.
"""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image

from ptexplore.errors import LessonError
from ptexplore.i18n import _

#: ``(mean, std)`` per channel, as ``v2.Normalize`` takes them
Norm = tuple[tuple[float, ...], tuple[float, ...]]
#: the longest side of an image sent to the browser (a 12 MP photo is shown at this size)
DISPLAY_MAX_SIDE = 960
JPEG_QUALITY = 90


def to_display(x: torch.Tensor, norm: Norm | None = None) -> np.ndarray:
    """A tensor as an HxWx3 (or HxW) uint8 array; normalised tensors are denormalised first.

    Float tensors are shown as values in [0, 1] (clipped): a float tensor still in 0–255
    (ToDtype without ``scale=True``) shows up as mostly white, which is the truth.
    """
    t = x.detach().as_subclass(torch.Tensor)
    if t.ndim != 3:
        raise LessonError(
            _("Cannot display a tensor of shape {shape} as an image.").format(shape=tuple(t.shape)),
            fix=_("End the pipeline with a (C, H, W) image: check Grayscale and crop steps."),
        )
    if t.dtype != torch.uint8:
        f = t.float()
        if norm is not None and len(norm[0]) == f.shape[0]:
            mean = torch.tensor(norm[0]).view(-1, 1, 1)
            std = torch.tensor(norm[1]).view(-1, 1, 1)
            f = f * std + mean
        t = (f.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8)
    if t.shape[0] == 1:
        return t[0].numpy()
    return t[:3].permute(1, 2, 0).contiguous().numpy()


def for_screen(img: np.ndarray, max_side: int = DISPLAY_MAX_SIDE) -> np.ndarray:
    """A display array no longer than ``max_side`` (antialiased); small ones unchanged."""
    h, w = img.shape[:2]
    if max(h, w) <= max_side:
        return img
    ratio = max_side / max(h, w)
    size = (max(1, round(w * ratio)), max(1, round(h * ratio)))
    return np.asarray(
        Image.fromarray(img).resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    )


def jpeg(img: np.ndarray, *, max_side: int = DISPLAY_MAX_SIDE) -> bytes:
    """An HxWx3 (or HxW) uint8 array as JPEG bytes, shrunk to ``max_side`` first."""
    buf = io.BytesIO()
    Image.fromarray(for_screen(img, max_side)).save(buf, format="JPEG", quality=JPEG_QUALITY)
    return buf.getvalue()
