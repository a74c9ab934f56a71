"""Detection and segmentation targets for the Augmentation lab, as frozen data: boxes in a
declared :class:`BoxFormat`, their labels, per-instance masks and keypoints on one
photo's canvas — and the same as torchvision's ``tv_tensors`` (:func:`target`), which is
what a v2 pipeline transforms together with the image.

A target is plain data (tuples, PNG bytes): hashable for the lab's memo, picklable into
the sandbox, and written by :mod:`ptexplore.augment.annotations` from COCO JSON, VOC
XML, YOLO txt, a PNG mask or the learner's table, every input validated there.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import PIL.Image
import PIL.ImageFont
import torch
from torchvision import tv_tensors

from ptexplore.i18n import N_, _

#: (x1, y1, x2, y2) in XYXY, (x, y, w, h) in XYWH, (cx, cy, w, h) in CXCYWH: pixels
Box = tuple[float, float, float, float]


class BoxFormat(StrEnum):
    """A box's four numbers, as ``tv_tensors.BoundingBoxFormat`` names them."""

    XYXY = "XYXY"
    XYWH = "XYWH"
    CXCYWH = "CXCYWH"

    @property
    def tv(self) -> tv_tensors.BoundingBoxFormat:
        return tv_tensors.BoundingBoxFormat[self.value]

    @property
    def columns(self) -> tuple[str, str, str, str]:
        return {
            BoxFormat.XYXY: ("x1", "y1", "x2", "y2"),
            BoxFormat.XYWH: ("x", "y", "w", "h"),
            BoxFormat.CXCYWH: ("cx", "cy", "w", "h"),
        }[self]


def to_xyxy(box: Box, fmt: BoxFormat) -> Box:
    a, b, c, d = box
    if fmt is BoxFormat.XYXY:
        return box
    if fmt is BoxFormat.XYWH:
        return (a, b, a + c, b + d)
    return (a - c / 2, b - d / 2, a + c / 2, b + d / 2)


def from_xyxy(box: Box, fmt: BoxFormat) -> Box:
    x1, y1, x2, y2 = box
    if fmt is BoxFormat.XYXY:
        return box
    if fmt is BoxFormat.XYWH:
        return (x1, y1, x2 - x1, y2 - y1)
    return ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1)


@dataclass(frozen=True, slots=True)
class Annotations:
    """One photo's target. ``labels[i]`` is box ``i``'s category id, ``categories`` names
    the ids; ``mask_png`` is an 8-bit PNG of the canvas whose pixel value ``i + 1`` marks
    box ``i``'s instance (0: background); ``keypoints`` are (x, y) pixels, each named."""

    canvas: tuple[int, int]  # (height, width), as tv_tensors' canvas_size
    box_format: BoxFormat
    boxes: tuple[Box, ...]
    labels: tuple[int, ...]
    categories: tuple[tuple[int, str], ...] = ()
    keypoints: tuple[tuple[float, float], ...] = ()
    keypoint_names: tuple[str, ...] = ()
    mask_png: bytes | None = None

    def name_of(self, label: int) -> str:
        return dict(self.categories).get(label, str(label))

    @property
    def xyxy(self) -> tuple[Box, ...]:
        return tuple(to_xyxy(b, self.box_format) for b in self.boxes)

    def instance_ids(self) -> np.ndarray:
        """The mask as an H×W uint8 array of instance ids (zeros when there is none)."""
        h, w = self.canvas
        if self.mask_png is None:
            return np.zeros((h, w), dtype=np.uint8)
        with PIL.Image.open(io.BytesIO(self.mask_png)) as im:
            return np.asarray(im, dtype=np.uint8).copy()

    def scaled(self, height: int, width: int) -> Annotations:
        """The same target on a ``height``×``width`` copy of the photo (the preview's
        downscaled copy): boxes and keypoints scaled, the mask resized nearest-neighbour."""
        h, w = self.canvas
        if (height, width) == (h, w):
            return self
        sy, sx = height / h, width / w

        def scale(box: Box) -> Box:
            x1, y1, x2, y2 = to_xyxy(box, self.box_format)
            return from_xyxy((x1 * sx, y1 * sy, x2 * sx, y2 * sy), self.box_format)

        mask = None
        if self.mask_png is not None:
            with PIL.Image.open(io.BytesIO(self.mask_png)) as im:
                small = im.resize((width, height), PIL.Image.Resampling.NEAREST)
            buf = io.BytesIO()
            small.save(buf, format="PNG")
            mask = buf.getvalue()
        return Annotations(
            (height, width),
            self.box_format,
            tuple(scale(b) for b in self.boxes),
            self.labels,
            self.categories,
            tuple((x * sx, y * sy) for x, y in self.keypoints),
            self.keypoint_names,
            mask,
        )


def png_of(ids: np.ndarray) -> bytes:
    """An instance-id array as the 8-bit PNG :class:`Annotations` keeps."""
    buf = io.BytesIO()
    PIL.Image.fromarray(np.ascontiguousarray(ids, dtype=np.uint8), mode="L").save(buf, "PNG")
    return buf.getvalue()


#: the key of the one-plane instance-id Mask that stands for the N masks while the lab's
#: pipeline runs (see :func:`target`)
ID_MAP = "ptexplore.instance_ids"


def target(ann: Annotations, *, id_map: bool = False) -> dict[str, Any]:
    """The target as torchvision's detection models and v2 transforms take it:
    ``{"boxes": BoundingBoxes, "labels": int64 tensor, "masks": Mask (N×H×W, one per
    box), "keypoints": KeyPoints}`` — masks and keypoints only when there are some.

    ``id_map``: the masks as one 1×H×W ``Mask`` of instance ids under :data:`ID_MAP`
    instead. Every v2 kernel moves a Mask's planes by nearest-neighbour sampling of the
    same positions, so where nothing is filled with a non-zero value that one plane
    transformed gives, compared with ``i + 1``, exactly the N planes transformed
    (:func:`instance_masks`; a test compares the two for every catalog transform) at
    1/N of the work — the lab's grid uses it, the exported script the N planes."""
    h, w = ann.canvas
    out: dict[str, Any] = {
        "boxes": tv_tensors.BoundingBoxes(
            torch.tensor(ann.boxes, dtype=torch.float32).reshape(-1, 4),
            format=ann.box_format.tv,
            canvas_size=(h, w),
        ),
        "labels": torch.tensor(ann.labels, dtype=torch.int64),
    }
    if ann.mask_png is not None and id_map:
        out[ID_MAP] = tv_tensors.Mask(torch.from_numpy(ann.instance_ids()).unsqueeze(0))
    elif ann.mask_png is not None:
        out["masks"] = tv_tensors.Mask(_planes(ann.instance_ids(), range(len(ann.boxes))))
    if ann.keypoints:
        out["keypoints"] = tv_tensors.KeyPoints(
            torch.tensor(ann.keypoints, dtype=torch.float32), canvas_size=(h, w)
        )
    return out


def _planes(plane: np.ndarray, boxes: Sequence[int]) -> torch.Tensor:
    """The N×H×W uint8 0/1 masks of the ``boxes`` (by their index in the annotations)
    from an H×W ``plane`` of instance ids, where box ``b`` is id ``b + 1``. A box whose id
    the plane's dtype cannot hold (the 256th of a uint8 mask's boxes on) has no pixel.

    One broadcast compare, by numpy: torch's single-threaded uint8 broadcast ``==`` took
    ~18× as long (2.8 ms for 50 planes of 224×224)."""
    wanted = np.array([b + 1 for b in boxes], dtype=np.int64).reshape(-1, 1, 1)
    top = int(np.iinfo(plane.dtype).max)
    masks = np.equal(plane[None], np.minimum(wanted, top).astype(plane.dtype))
    masks[wanted.reshape(-1) > top] = False
    assert masks.shape == (len(wanted), *plane.shape)
    return torch.from_numpy(masks).view(torch.uint8)


def instance_masks(result: dict[str, Any], ids: tuple[int, ...]) -> dict[str, Any]:
    """``result`` with its :data:`ID_MAP` turned into the N×H×W ``masks`` of the boxes
    ``ids`` (by their index in the annotations), as the N planes would have come out."""
    if ID_MAP not in result:
        return result
    masks = _planes(result[ID_MAP].as_subclass(torch.Tensor)[0].numpy(), ids)
    out = {k: v for k, v in result.items() if k != ID_MAP}
    out["masks"] = tv_tensors.Mask(masks)
    order = ("boxes", "labels", "masks", "keypoints")  # as target() puts them
    return {k: out[k] for k in sorted(out, key=lambda k: order.index(k) if k in order else 9)}


# ------------------------------------------------------------------ what a step did to a box

#: how far (pixels) a coordinate may move and still count as the same
SAME_PX = 1e-3
#: SanitizeBoundingBoxes' default ``min_size``: a box thinner than this is degenerate
MIN_SIZE_PX = 1.0


class Fate(StrEnum):
    """What one step (or the whole pipeline) did to one box (the English value is its id;
    :attr:`label` is what a learner reads)."""

    UNCHANGED = N_("unchanged")
    MOVED = N_("moved")
    CLIPPED = N_("clipped")  # part of it left the canvas and was cut at the edge
    DEGENERATE = N_("degenerate")  # thinner or lower than 1 px: kept, but a useless target
    REMOVED = N_("removed")  # taken out by SanitizeBoundingBoxes (with its label and mask)

    @property
    def label(self) -> str:
        """The fate in the language of this rerun."""
        return _(self.value)


#: worst first: a box's overall fate is the worst of its steps' (its end state decides
#: degenerate)
_RANK = {f: i for i, f in enumerate(Fate)}


@dataclass(frozen=True, slots=True)
class BoxFate:
    """Box ``box`` (its index in the photo's annotations) after a step: where it is (XYXY
    pixels of the step's output canvas; None once removed) and what happened to it."""

    box: int
    label: str
    before: Box | None
    after: Box | None
    fate: Fate


def xyxy_rows(boxes: tv_tensors.BoundingBoxes) -> list[Box]:
    """A ``BoundingBoxes`` (any format) as XYXY rows of floats."""
    from torchvision.transforms.v2 import functional as F

    if boxes.format is not tv_tensors.BoundingBoxFormat.XYXY:
        boxes = F.convert_bounding_box_format(boxes, new_format=tv_tensors.BoundingBoxFormat.XYXY)
    rows = boxes.as_subclass(torch.Tensor).reshape(-1, 4).tolist()
    return [(float(a), float(b), float(c), float(d)) for a, b, c, d in rows]


def _differ(a: Box, b: Box) -> bool:
    return (
        abs(a[0] - b[0]) > SAME_PX
        or abs(a[1] - b[1]) > SAME_PX
        or abs(a[2] - b[2]) > SAME_PX
        or abs(a[3] - b[3]) > SAME_PX
    )


def step_fates(
    ids: tuple[int, ...],
    labels: tuple[str, ...],
    before: list[Box],
    after: list[Box],
    unclamped: list[Box],
    valid: list[bool] | None,
) -> tuple[tuple[int, ...], tuple[BoxFate, ...]]:
    """The boxes ``ids`` (alive before a step, at ``before``) after it: ``after`` (what the
    step returned), ``unclamped`` (the same step on a copy with clamping off: where the box
    would be without the canvas), ``valid`` (SanitizeBoundingBoxes' kept mask, or None).
    Returns the ids still alive and each box's fate."""
    fates: list[BoxFate] = []
    alive: list[int] = []
    k = 0  # index into after: a removed box has no row there
    for j, box in enumerate(ids):
        if valid is not None and not valid[j]:
            fates.append(BoxFate(box, labels[j], before[j], None, Fate.REMOVED))
            continue
        a, u = after[k], unclamped[k]
        k += 1
        alive.append(box)
        if a[2] - a[0] < MIN_SIZE_PX or a[3] - a[1] < MIN_SIZE_PX:
            fate = Fate.DEGENERATE
        elif _differ(a, u):
            fate = Fate.CLIPPED
        elif _differ(a, before[j]):
            fate = Fate.MOVED
        else:
            fate = Fate.UNCHANGED
        fates.append(BoxFate(box, labels[j], before[j], a, fate))
    return tuple(alive), tuple(fates)


def overall(
    first: list[Box], labels: tuple[str, ...], steps: list[tuple[BoxFate, ...]]
) -> tuple[BoxFate, ...]:
    """Each box's fate over the whole pipeline: removed if a step removed it, degenerate
    if it ends so, else the worst of clipped / moved / unchanged its steps gave it."""
    worst: dict[int, Fate] = {}
    last: dict[int, BoxFate] = {}
    for fates in steps:
        for f in fates:
            last[f.box] = f
            if f.fate is not Fate.DEGENERATE:
                prev = worst.get(f.box, Fate.UNCHANGED)
                worst[f.box] = f.fate if _RANK[f.fate] > _RANK[prev] else prev
    out = []
    for box, before in enumerate(first):
        end = last.get(box)
        if end is None:
            out.append(BoxFate(box, labels[box], before, before, Fate.UNCHANGED))
            continue
        fate = worst.get(box, Fate.UNCHANGED)
        if end.fate is Fate.DEGENERATE and fate is not Fate.REMOVED:
            fate = Fate.DEGENERATE
        out.append(BoxFate(box, labels[box], before, end.after, fate))
    return tuple(out)


def fate_summary(fates: tuple[BoxFate, ...]) -> str:
    """``"5 boxes: 3 moved, 1 clipped, 1 removed"``."""
    if not fates:
        return ""
    counts = {f: sum(1 for b in fates if b.fate is f) for f in Fate}
    parts = [_("{n} {fate}").format(n=n, fate=f.label) for f, n in counts.items() if n]
    head = _("{n} boxes: {fates}") if len(fates) != 1 else _("{n} box: {fates}")
    listed = functools.reduce(lambda a, b: _("{fates}, {fate}").format(fates=a, fate=b), parts)
    return head.format(n=len(fates), fates=listed)


# ------------------------------------------------------------------------------- drawing

#: one colour per box (by its index in the annotations), as torchvision's draw_* take them
BOX_COLOURS = (
    "#EE4C2C", "#1F77B4", "#2CA02C", "#9467BD", "#FF7F0E", "#17BECF", "#E377C2", "#BCBD22",
)  # fmt: skip


@functools.cache
def _font(size: int) -> str | None:
    """A scalable font for the labels when the system has DejaVu Sans (Debian's fonts),
    else None: torchvision's small built-in bitmap font. Its full path: torchvision opens
    the font on every call, and PIL searches the system's font folders for a bare name
    (0.18 ms a tile, 0.04 ms by path)."""
    try:
        found = PIL.ImageFont.truetype(_LABEL_FONT, size)
    except OSError:
        return None
    return str(found.path) if isinstance(found.path, str) else _LABEL_FONT


_LABEL_FONT = "DejaVuSans.ttf"


def _by_colour(masks: torch.Tensor, colours: list[str]) -> tuple[torch.Tensor, list[str]]:
    """The masks for ``draw_segmentation_masks`` with their ``colours``: one plane per
    colour when no two masks overlap (instance masks from one id map never do), which it
    draws to the same pixels at a fraction of the work (it paints plane by plane); else the
    masks as they are, whose overlaps it blackens. (numpy: a fifth of torch's time here.)"""
    used = list(dict.fromkeys(colours))
    values = masks.numpy()
    # 0/1 planes (as instance_masks makes them) read as bools in place; others copied
    zero_one = values.dtype == np.uint8 and values.size and int(values.max()) <= 1
    bools = values.view(np.bool_) if zero_one else values.astype(np.bool_)
    planes = torch.from_numpy(bools)
    if len(used) == len(colours):
        return planes, colours
    flat = bools.reshape(len(colours), -1)
    # disjoint exactly when no pixel is in two masks (a uint8 count: at most 255 masks)
    count = np.uint8 if len(colours) < 256 else np.int32
    if int(np.add.reduce(flat, axis=0, dtype=count).max()) > 1:
        return planes, colours
    slot = {c: i for i, c in enumerate(used)}
    groups: list[list[int]] = [[] for _c in used]
    for k, c in enumerate(colours):
        groups[slot[c]].append(k)
    merged = np.empty((len(used), flat.shape[1]), dtype=np.bool_)
    for i, members in enumerate(groups):
        np.logical_or.reduce(flat[members], axis=0, out=merged[i])
    return torch.from_numpy(merged).view(len(used), *planes.shape[-2:]), used


def draw(
    image: np.ndarray,
    result: dict[str, Any],
    ids: tuple[int, ...],
    names: tuple[str, ...],
) -> np.ndarray:
    """An H×W×3 uint8 picture with the target drawn on it by torchvision's own
    ``draw_segmentation_masks``, ``draw_bounding_boxes`` and ``draw_keypoints``: box
    ``ids[i]`` in its colour with its label, its mask under it, the keypoints on top."""
    from torchvision.utils import draw_bounding_boxes, draw_keypoints, draw_segmentation_masks

    pic = torch.from_numpy(np.ascontiguousarray(image))
    pic = pic.unsqueeze(-1).expand(*pic.shape, 3) if pic.ndim == 2 else pic
    pic = pic.permute(2, 0, 1).contiguous()
    h, w = int(pic.shape[-2]), int(pic.shape[-1])
    colours = [BOX_COLOURS[i % len(BOX_COLOURS)] for i in ids]
    masks = result.get("masks")
    if masks is not None and len(masks) and tuple(masks.shape[-2:]) == (h, w):
        planes, plane_colours = _by_colour(masks.as_subclass(torch.Tensor), colours)
        pic = draw_segmentation_masks(pic, planes, alpha=0.4, colors=plane_colours)
    boxes = result.get("boxes")
    if isinstance(boxes, tv_tensors.BoundingBoxes) and len(boxes):
        rows = torch.tensor(xyxy_rows(boxes))
        width = max(1, round(max(h, w) / 200))
        size = max(10, round(max(h, w) / 40))
        font = _font(size)
        pic = draw_bounding_boxes(
            pic,
            rows,
            labels=list(names),
            colors=colours,
            width=width,
            font=font,
            font_size=size if font else None,
        )
    points = result.get("keypoints")
    if points is not None and len(points):
        xy = points.as_subclass(torch.Tensor).reshape(1, -1, 2)
        inside = (xy[..., 0] >= 0) & (xy[..., 0] < w) & (xy[..., 1] >= 0) & (xy[..., 1] < h)
        radius = max(2, round(max(h, w) / 120))
        pic = draw_keypoints(pic, xy, colors="#FFD400", radius=radius, visibility=inside)
    return pic.permute(1, 2, 0).numpy()
