"""Boxes truths: the popular traps of detection augmentation, each shown by running it.

Every trap is a short, self-contained script (:func:`trap_code`) that imports only torch,
torchvision, numpy, PIL and the standard library — never ptexplore, so a learner can paste
it at home and see the same thing. It works on a small synthetic image with literal boxes
written in the script and is seeded (``torch.manual_seed(seed)``, the seed a literal in
the code), so what it prints is deterministic. :func:`run_trap` runs it with
:func:`ptexplore.live.run` and returns a frozen :class:`TrapResult`: the code, what it
printed, the warnings and the exception torchvision emitted quoted verbatim, and facts
read from the objects the script left behind — measured, never assumed:

* **PLAIN_TENSOR** — boxes as a plain tensor beside the image come back untouched from a
  flip and a resize; the same numbers as ``tv_tensors.BoundingBoxes`` move;
* **IOU_CROP_SANITIZE** — ``RandomIoUCrop`` zeroes the boxes it cuts away instead of removing
  them; ``SanitizeBoundingBoxes`` after it removes them (and their labels);
* **LABELS_GETTER** — the default ``labels_getter`` refuses ``(img, boxes, labels)``,
  ``labels_getter=None`` silently misaligns the labels; a dict or a callable works;
* **XYWH_AS_XYXY** — the declared format is believed, never checked: no warning, wrong boxes;
* **SEMANTIC_MASK** — Sanitize filters every ``Mask`` whose first dimension is the box count:
  an H×W semantic mask passes by accident of shape, a 1×H×W one can vanish;
* **TRANSFORM_VS_TRANSFORMS** — a dataset's ``transform=`` sees the image only, ``transforms=``
  sees image and target: only then do the boxes follow the flip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import torch

from ptexplore.errors import InputError, LessonError
from ptexplore.i18n import N_, _
from ptexplore.live import Caught, Raised, Run, Snippet, run
from ptexplore.rng import forked

#: Seeds a learner may pick (what ``torch.manual_seed`` takes, kept to 32 bits).
SEED_MAX = 2**32 - 1
_SEED = "__SEED__"


class Trap(StrEnum):
    """One trap of detection augmentation (the values are stable: deep links, memo keys)."""

    PLAIN_TENSOR = "plain_tensor"
    IOU_CROP_SANITIZE = "iou_crop_sanitize"
    LABELS_GETTER = "labels_getter"
    XYWH_AS_XYXY = "xywh_as_xyxy"
    SEMANTIC_MASK = "semantic_mask"
    TRANSFORM_VS_TRANSFORMS = "transform_vs_transforms"


#: A measured value: plain Python data, hashable (nested tuples for tensors' values).
FactValue = bool | int | float | str | tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Fact:
    """One number (or flag, or shape) read from the objects the script left behind."""

    key: str
    label: str
    value: FactValue


@dataclass(frozen=True, slots=True)
class TrapResult:
    """A trap, run: what it printed, what torchvision warned and raised, what was measured.

    ``output`` is what a terminal shows (``printed`` then the exception's last line);
    ``warnings`` and ``error`` are torchvision's own words; ``holds`` says whether the trap
    reproduced as the title claims, judged on ``facts`` alone.
    """

    trap: Trap
    seed: int
    title: str
    myth: str
    fix: str
    explanation: str
    code: str
    printed: str
    output: str
    warnings: tuple[Caught, ...]
    error: Raised | None
    facts: tuple[Fact, ...]
    holds: bool

    def fact(self, key: str) -> FactValue:
        """The value of the fact named ``key`` (KeyError when this trap has none)."""
        for f in self.facts:
            if f.key == key:
                return f.value
        raise KeyError(key)

    @property
    def warned(self) -> bool:
        """Whether running the script emitted any warning at all."""
        return bool(self.warnings)

    @property
    def snippet(self) -> Snippet:
        """The code panel: the code and what running it printed."""
        return Snippet(self.code, self.output)


# ------------------------------------------------------------------------------ scripts

_PLAIN_TENSOR = """\
import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

torch.manual_seed(__SEED__)
img = torch.zeros(3, 100, 200, dtype=torch.uint8)  # the first plain tensor: taken as the image
xyxy = [[10.0, 20.0, 60.0, 80.0], [120.0, 10.0, 190.0, 50.0]]
plain = torch.tensor(xyxy)
boxes = tv_tensors.BoundingBoxes(xyxy, format="XYXY", canvas_size=(100, 200))
flip_resize = v2.Compose([v2.RandomHorizontalFlip(p=1), v2.Resize((50, 100))])

img_a, plain_out = flip_resize(img, plain)
img_b, boxes_out = flip_resize(img, boxes)
print("image:            ", list(img.shape), "->", list(img_a.shape), list(img_b.shape))
print("boxes in:         ", plain.tolist())
print("plain tensor out: ", plain_out.tolist(), type(plain_out).__name__)
print("BoundingBoxes out:", boxes_out.tolist(), boxes_out.canvas_size)
plain_unchanged = torch.equal(plain_out, plain)
boxes_changed = not torch.equal(boxes_out.as_subclass(torch.Tensor), plain)
print("plain tensor unchanged:", plain_unchanged, "| the very same object:", plain_out is plain)
print("BoundingBoxes changed: ", boxes_changed)
"""

_IOU_CROP_SANITIZE = """\
import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

img = torch.zeros(3, 100, 200, dtype=torch.uint8)
boxes = tv_tensors.BoundingBoxes(
    [[10, 10, 50, 40], [60, 20, 120, 90], [130, 5, 195, 60], [20, 60, 70, 95], [150, 70, 190, 98]],
    format="XYXY", canvas_size=(100, 200),
)
labels = torch.tensor([1, 2, 3, 4, 5])
draws = 8


def degenerate(b):  # boxes narrower or lower than 1 px
    return int(((b[:, 2] - b[:, 0] < 1) | (b[:, 3] - b[:, 1] < 1)).sum())


counts = {}
for name, pipeline in [
    ("RandomIoUCrop", v2.RandomIoUCrop()),
    ("RandomIoUCrop + Sanitize", v2.Compose([v2.RandomIoUCrop(), v2.SanitizeBoundingBoxes()])),
]:
    torch.manual_seed(__SEED__)  # the same crops for both: Sanitize draws no random numbers
    kept = bad = 0
    for _ in range(draws):
        _, out = pipeline(img, {"boxes": boxes, "labels": labels})
        kept, bad = kept + len(out["boxes"]), bad + degenerate(out["boxes"])
        assert len(out["labels"]) == len(out["boxes"])
    counts[name] = (kept, bad)
    print(f"{name:25} {draws} draws of {len(boxes)} boxes: {kept} out, {bad} under 1 px")
"""

_LABELS_GETTER = """\
import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

torch.manual_seed(__SEED__)
img = torch.zeros(3, 100, 200, dtype=torch.uint8)
boxes = tv_tensors.BoundingBoxes(
    [[10, 20, 60, 80], [100, 30, 100.5, 90]], format="XYXY", canvas_size=(100, 200)
)  # the second box is 0.5 px wide: Sanitize removes it, and must remove its label
labels = torch.tensor([1, 2])

_, target = v2.SanitizeBoundingBoxes()(img, {"boxes": boxes, "labels": labels})
print("(img, dict):            boxes", len(target["boxes"]), "labels", target["labels"].tolist())
_, swapped_labels, swapped_boxes = v2.SanitizeBoundingBoxes()(img, labels, boxes)
print("(img, labels, boxes):   boxes", len(swapped_boxes), "labels", swapped_labels.tolist())
_, none_boxes, none_labels = v2.SanitizeBoundingBoxes(labels_getter=None)(img, boxes, labels)
print("labels_getter=None:     boxes", len(none_boxes), "labels", none_labels.tolist())
own = v2.SanitizeBoundingBoxes(labels_getter=lambda sample: sample[2])
_, own_boxes, own_labels = own(img, boxes, labels)
print("labels_getter=callable: boxes", len(own_boxes), "labels", own_labels.tolist())
v2.SanitizeBoundingBoxes()(img, boxes, labels)  # the default labels_getter refuses this
"""

_XYWH_AS_XYXY = """\
import torch
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F
from torchvision.utils import draw_bounding_boxes

torch.manual_seed(__SEED__)
img = torch.zeros(3, 100, 200, dtype=torch.uint8)
xywh = [[10.0, 20.0, 50.0, 60.0], [120.0, 30.0, 40.0, 20.0]]  # (x, y, w, h), as COCO writes them
wrong = tv_tensors.BoundingBoxes(xywh, format="XYXY", canvas_size=(100, 200))  # not checked
right = tv_tensors.BoundingBoxes(xywh, format="XYWH", canvas_size=(100, 200))
flip = v2.RandomHorizontalFlip(p=1)


def xyxy(b):
    return F.convert_bounding_box_format(b, new_format="XYXY").tolist()


wrong_xyxy, right_xyxy = xyxy(wrong), xyxy(right)
wrong_flipped, right_flipped = xyxy(flip(img, wrong)[1]), xyxy(flip(img, right)[1])
kept = len(v2.SanitizeBoundingBoxes(labels_getter=None)(wrong))
print("declared XYXY, as XYXY:         ", wrong_xyxy)
print("declared XYWH, as XYXY:         ", right_xyxy)
print("flipped, declared XYXY, as XYXY:", wrong_flipped)
print("flipped, declared XYWH, as XYXY:", right_flipped)
print("SanitizeBoundingBoxes keeps", kept, "of the", len(wrong), "wrongly declared boxes")
drawn = draw_bounding_boxes(img, F.convert_bounding_box_format(right, new_format="XYXY"))
print("drawing the converted boxes works:", list(drawn.shape))
draw_bounding_boxes(img, wrong)  # the first place anything notices: x2 < x1 in the 2nd box
"""

_SEMANTIC_MASK = """\
import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

torch.manual_seed(__SEED__)
img = torch.zeros(3, 100, 200, dtype=torch.uint8)
boxes = tv_tensors.BoundingBoxes(
    [[60, 30, 120, 70], [5, 5, 40, 20], [130, 40, 190, 90]], format="XYXY", canvas_size=(100, 200)
)  # the centre crop keeps x 50..150, y 25..75: the second box falls outside it
labels = torch.tensor([1, 2, 3])
instances = torch.zeros(3, 100, 200, dtype=torch.uint8)  # N x H x W: one mask per box
semantic = torch.zeros(100, 200, dtype=torch.uint8)  # H x W: a class id per pixel
for i, (x1, y1, x2, y2) in enumerate(boxes.tolist()):
    instances[i, y1:y2, x1:x2] = 1
    semantic[y1:y2, x1:x2] = labels[i]
crop, sanitize = v2.CenterCrop((50, 100)), v2.SanitizeBoundingBoxes()
both = v2.Compose([crop, sanitize])

sample = {"boxes": boxes, "labels": labels, "masks": tv_tensors.Mask(instances)}
_, out = both(img, {**sample, "semantic": tv_tensors.Mask(semantic)})
print("boxes:", len(boxes), "->", len(out["boxes"]), "| labels:", out["labels"].tolist())
print("instance masks N x H x W:", list(instances.shape), "->", list(out["masks"].shape))
print("semantic H x W Mask:", list(semantic.shape), "->", list(out["semantic"].shape),
      "ids", out["semantic"].unique().tolist())
_, plain = both(img, {**sample, "semantic": semantic})
print("semantic as a plain tensor:", list(plain["semantic"].shape), "(the image is 50 x 100)")
one = {"boxes": tv_tensors.wrap(boxes[1:2], like=boxes), "labels": labels[1:2],
       "semantic": tv_tensors.Mask(semantic[None])}  # one object, 1 x H x W semantic
_, lost = both(img, one)
print("one box, semantic 1 x H x W Mask:", list(one["semantic"].shape), "->",
      list(lost["semantic"].shape))
_, kept = crop(img, one)
kept_semantic = kept.pop("semantic")  # not per box: out of the sample before Sanitize
kept = sanitize(kept)
print("popped before Sanitize:", list(kept_semantic.shape), "| boxes left:", len(kept["boxes"]))
"""

_TRANSFORM_VS_TRANSFORMS = """\
import json, os, tempfile
import numpy as np
import PIL.Image
import torch
from torchvision import datasets
from torchvision.transforms import v2


class TinyCoco(datasets.CocoDetection):  # the real class, its JSON read without pycocotools
    def __init__(self, root, annFile, **transforms):
        datasets.VisionDataset.__init__(self, root, **transforms)
        with open(annFile) as f:
            self.coco = json.load(f)
        self.ids = [im["id"] for im in self.coco["images"]]

    def _load_image(self, id):
        return PIL.Image.open(os.path.join(self.root, f"{id}.png")).convert("RGB")

    def _load_target(self, id):
        return [a for a in self.coco["annotations"] if a["image_id"] == id]


torch.manual_seed(__SEED__)
flip = v2.RandomHorizontalFlip(p=1)
box_x1, object_x1 = {}, {}
with tempfile.TemporaryDirectory() as root:
    photo = np.zeros((100, 200, 3), dtype=np.uint8)
    photo[20:80, 10:60] = 255  # a white object, where its COCO bbox (x, y, w, h) says
    PIL.Image.fromarray(photo).save(os.path.join(root, "1.png"))
    with open(os.path.join(root, "ann.json"), "w") as f:
        json.dump({"images": [{"id": 1, "file_name": "1.png", "height": 100, "width": 200}],
                   "annotations": [{"id": 1, "image_id": 1, "bbox": [10, 20, 50, 60],
                                    "category_id": 3}]}, f)
    for kw in ("none", "transform", "transforms"):
        ds = TinyCoco(root, os.path.join(root, "ann.json"), **({} if kw == "none" else {kw: flip}))
        image, target = datasets.wrap_dataset_for_transforms_v2(ds)[0]
        box_x1[kw] = float(target["boxes"][0, 0])
        object_x1[kw] = int(np.asarray(image)[50].max(axis=-1).nonzero()[0][0])
        print(f"{kw + '=':12} object at x1={object_x1[kw]:3}, box x1={box_x1[kw]:3.0f}")
"""


# ------------------------------------------------------------------------ reading facts


class _Unexpected(Exception):
    """The script did not leave what this torchvision was measured to leave."""


def _get(ns: dict[str, Any], name: str) -> Any:
    if name not in ns:
        raise _Unexpected(_("the script left no {name!r}").format(name=name))
    return ns[name]


def _bool(ns: dict[str, Any], name: str) -> bool:
    value = _get(ns, name)
    if not isinstance(value, bool):
        raise _Unexpected(
            _("{name!r} is a {type}, not a bool").format(name=name, type=type(value).__name__)
        )
    return value


def _int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Unexpected(
            _("{name!r} is a {type}, not an int").format(name=name, type=type(value).__name__)
        )
    return value


def _values(value: object) -> tuple[Any, ...]:
    """A tensor's (or nested list's) numbers as nested tuples of floats."""
    if isinstance(value, torch.Tensor):
        value = value.detach().as_subclass(torch.Tensor).tolist()
    if isinstance(value, list | tuple):
        return tuple(_values(v) if isinstance(v, list | tuple) else float(v) for v in value)
    raise _Unexpected(_("expected numbers, got a {type}").format(type=type(value).__name__))


def _shape(value: object) -> tuple[int, ...]:
    if not isinstance(value, torch.Tensor):
        raise _Unexpected(_("expected a tensor, got a {type}").format(type=type(value).__name__))
    return tuple(int(s) for s in value.shape)


def _tensor(ns: dict[str, Any], name: str) -> torch.Tensor:
    value = _get(ns, name)
    if not isinstance(value, torch.Tensor):
        raise _Unexpected(
            _("{name!r} is a {type}, not a tensor").format(name=name, type=type(value).__name__)
        )
    return value


def _facts_plain(r: Run) -> tuple[tuple[Fact, ...], bool]:
    ns = r.namespace
    unchanged, changed = _bool(ns, "plain_unchanged"), _bool(ns, "boxes_changed")
    facts = (
        Fact("plain_unchanged", _("plain tensor unchanged"), unchanged),
        Fact(
            "plain_same_object",
            _("plain tensor: the very object passed in"),
            _get(ns, "plain_out") is _get(ns, "plain"),
        ),
        Fact("boxes_changed", _("BoundingBoxes changed"), changed),
        Fact("boxes_in", _("boxes in (XYXY)"), _values(_tensor(ns, "plain"))),
        Fact("plain_out", _("plain tensor out"), _values(_tensor(ns, "plain_out"))),
        Fact("boxes_out", _("BoundingBoxes out (XYXY)"), _values(_tensor(ns, "boxes_out"))),
        Fact("image_out", _("image out (C, H, W)"), _shape(_get(ns, "img_a"))),
    )
    return facts, unchanged and changed


def _facts_iou(r: Run) -> tuple[tuple[Fact, ...], bool]:
    ns = r.namespace
    counts = _get(ns, "counts")
    draws = _int(_get(ns, "draws"), "draws")
    boxes_in = draws * len(_tensor(ns, "boxes"))
    try:
        kept_without, bad_without = (_int(v, "counts") for v in counts["RandomIoUCrop"])
        kept_with, bad_with = (_int(v, "counts") for v in counts["RandomIoUCrop + Sanitize"])
    except (KeyError, TypeError, ValueError) as err:
        raise _Unexpected(f"counts: {err}") from err
    facts = (
        Fact("draws", _("draws (the same crops for both pipelines)"), draws),
        Fact("boxes_in", _("boxes in, over all draws"), boxes_in),
        Fact("boxes_out_without", _("boxes out without Sanitize"), kept_without),
        Fact("degenerate_without", _("of them under 1 px, without Sanitize"), bad_without),
        Fact("boxes_out_with", _("boxes out with Sanitize"), kept_with),
        Fact("degenerate_with", _("of them under 1 px, with Sanitize"), bad_with),
    )
    holds = (
        bad_without > 0
        and bad_with == 0
        and kept_without == boxes_in
        and kept_with == kept_without - bad_without
    )
    return facts, holds


def _labels(ns: dict[str, Any], name: str) -> tuple[int, ...]:
    return tuple(int(v) for v in _tensor(ns, name).tolist())


def _facts_labels(r: Run) -> tuple[tuple[Fact, ...], bool]:
    ns = r.namespace
    target = _get(ns, "target")
    if r.error is None:
        raise _Unexpected(_("the default labels_getter accepted (img, boxes, labels)"))
    none = (len(_tensor(ns, "none_boxes")), _labels(ns, "none_labels"))
    own = (len(_tensor(ns, "own_boxes")), _labels(ns, "own_labels"))
    swapped = (len(_tensor(ns, "swapped_boxes")), _labels(ns, "swapped_labels"))
    in_dict = (len(target["boxes"]), tuple(int(v) for v in target["labels"].tolist()))
    facts = (
        Fact("tuple_error_kind", _("(img, boxes, labels), default getter: raises"), r.error.kind),
        Fact("tuple_error", _("torchvision's words"), r.error.message),
        Fact("dict", _("(img, {boxes, labels}): boxes, labels"), in_dict),
        Fact("swapped", _("(img, labels, boxes), default getter: boxes, labels"), swapped),
        Fact("getter_none", _("labels_getter=None: boxes, labels"), none),
        Fact("getter_callable", _("labels_getter=lambda s: s[2]: boxes, labels"), own),
    )
    aligned = in_dict == own == swapped == (1, (1,))
    holds = r.error.kind == "ValueError" and aligned and none == (1, (1, 2))
    return facts, holds


def _facts_xywh(r: Run) -> tuple[tuple[Fact, ...], bool]:
    ns = r.namespace
    wrong, right = _values(_get(ns, "wrong_xyxy")), _values(_get(ns, "right_xyxy"))
    wrong_f, right_f = _values(_get(ns, "wrong_flipped")), _values(_get(ns, "right_flipped"))
    kept, total = _int(_get(ns, "kept"), "kept"), len(_tensor(ns, "wrong"))
    drew = r.error.line if r.error is not None else _("(no error)")
    facts = (
        Fact("warned", _("torchvision warned"), bool(r.warnings)),
        Fact("wrong_xyxy", _("declared XYXY (wrong), as XYXY"), wrong),
        Fact("right_xyxy", _("declared XYWH (right), as XYXY"), right),
        Fact("wrong_flipped", _("flipped, declared XYXY"), wrong_f),
        Fact("right_flipped", _("flipped, declared XYWH, as XYXY"), right_f),
        Fact("sanitize_kept", _("wrongly declared boxes SanitizeBoundingBoxes keeps"), kept),
        Fact("boxes", _("boxes"), total),
        Fact("draw_error", _("draw_bounding_boxes on the wrong boxes"), drew),
    )
    holds = wrong != right and wrong_f != right_f and not r.warnings and kept < total
    return facts, holds


def _facts_semantic(r: Run) -> tuple[tuple[Fact, ...], bool]:
    ns = r.namespace
    out, plain, lost = _get(ns, "out"), _get(ns, "plain"), _get(ns, "lost")
    kept = _get(ns, "kept")
    ids = tuple(int(v) for v in out["semantic"].unique().tolist())
    facts = (
        Fact(
            "boxes",
            _("boxes before → after crop + Sanitize"),
            (len(_tensor(ns, "boxes")), len(out["boxes"])),
        ),
        Fact("labels_out", _("labels after"), _labels(out, "labels")),
        Fact("instances_out", _("instance masks N×H×W after"), _shape(out["masks"])),
        Fact("semantic_out", _("semantic H×W Mask after"), _shape(out["semantic"])),
        Fact("semantic_ids", _("class ids left in the semantic mask"), ids),
        Fact(
            "semantic_plain_out", _("semantic as a plain tensor, after"), _shape(plain["semantic"])
        ),
        Fact(
            "semantic_1hw_lost", _("one box, 1×H×W semantic Mask, after"), _shape(lost["semantic"])
        ),
        Fact(
            "semantic_popped", _("popped before Sanitize, after"), _shape(_get(ns, "kept_semantic"))
        ),
        Fact("popped_boxes_left", _("boxes left (popped case)"), len(kept["boxes"])),
        Fact("raised", _("an error or a warning"), r.error is not None or bool(r.warnings)),
    )
    holds = (
        _shape(out["masks"]) == (2, 50, 100)
        and _shape(out["semantic"]) == (50, 100)
        and _shape(plain["semantic"]) == (100, 200)
        and _shape(lost["semantic"]) == (0, 50, 100)
        and _shape(_get(ns, "kept_semantic")) == (1, 50, 100)
    )
    return facts, holds


def _facts_datasets(r: Run) -> tuple[tuple[Fact, ...], bool]:
    ns = r.namespace
    box, obj = _get(ns, "box_x1"), _get(ns, "object_x1")
    try:
        b = {k: float(box[k]) for k in ("none", "transform", "transforms")}
        o = {k: float(obj[k]) for k in ("none", "transform", "transforms")}
    except (KeyError, TypeError) as err:
        raise _Unexpected(f"box_x1/object_x1: {err}") from err
    facts = (
        Fact("box_x1_before", _("box x1, no transform"), b["none"]),
        Fact("object_x1_before", _("object x1 in the image, no transform"), o["none"]),
        Fact("box_x1_transform", _("box x1, transform=flip"), b["transform"]),
        Fact("object_x1_transform", _("object x1 in the image, transform=flip"), o["transform"]),
        Fact("box_x1_transforms", _("box x1, transforms=flip"), b["transforms"]),
        Fact("object_x1_transforms", _("object x1 in the image, transforms=flip"), o["transforms"]),
    )
    holds = (
        b["none"] == o["none"]
        and b["transform"] == b["none"] != o["transform"]
        and b["transforms"] == o["transforms"] != b["none"]
    )
    return facts, holds


# ------------------------------------------------------------------------------ the traps


@dataclass(frozen=True, slots=True)
class _Spec:
    """A trap's texts (English, marked with ``N_``: :func:`run_trap` translates them)."""

    title: str
    myth: str
    fix: str
    explanation: str
    code: str
    #: whether the script is meant to end with torchvision's exception
    raises: bool
    facts: Callable[[Run], tuple[tuple[Fact, ...], bool]]


_SPECS: dict[Trap, _Spec] = {
    Trap.PLAIN_TENSOR: _Spec(
        title=N_("A plain tensor of boxes is not boxes"),
        myth=N_("v2 transforms move whatever box tensor you pass beside the image."),
        fix=N_("Wrap boxes as tv_tensors.BoundingBoxes(xyxy, format=..., canvas_size=(H, W))."),
        explanation=N_(
            "v2 transforms dispatch on type: the sample is flattened with torch's pytree "
            "utilities and every leaf goes to the kernel registered for its class. A pure "
            "torch.Tensor is taken as the image only when the sample holds no tv_tensors.Image, "
            "Video or PIL image, and then only the first one met; every other pure tensor is "
            "passed through — no error, no warning. Here img is that first tensor, so the image "
            "was flipped and resized while the box tensor came back as the very same object. "
            "tv_tensors.BoundingBoxes carries the format and the canvas_size the kernels need: "
            "the flip maps x1, x2 to W − x2, W − x1, the resize scales by the size ratio and "
            "sets the new canvas_size."
        ),
        code=_PLAIN_TENSOR,
        raises=False,
        facts=_facts_plain,
    ),
    Trap.IOU_CROP_SANITIZE: _Spec(
        title=N_("RandomIoUCrop leaves degenerate boxes behind"),
        myth=N_("A crop removes the boxes it cuts away."),
        fix=N_(
            "Put v2.SanitizeBoundingBoxes() after RandomIoUCrop (and at the end of the pipeline)."
        ),
        explanation=N_(
            "RandomIoUCrop (the SSD crop) samples a minimum IoU, then a crop that keeps at least "
            "one box centre and overlaps some kept box by that IoU, and crops every input. Boxes "
            "whose centre falls outside the crop are not removed: torchvision sets them to "
            "[0, 0, 0, 0], so the number of boxes — and their alignment with the labels and masks "
            "— is unchanged, and leaves the removal to SanitizeBoundingBoxes, which its docs call "
            "critical after RandomIoUCrop. Without it a detection model gets zero-size boxes: "
            "torchvision's R-CNN, RetinaNet and FCOS refuse them as targets ('All bounding "
            "boxes should have positive height and width'), and box-normalised losses give "
            "inf or NaN. Sanitize (min_size=1, min_area=1 by default) removes the boxes under "
            "1 px and the same rows of the labels and of every per-instance Mask; it draws no "
            "random numbers, so with the same seed both pipelines made the same crops. One of "
            "RandomIoUCrop's options is 'leave as is': then the sample comes back uncropped."
        ),
        code=_IOU_CROP_SANITIZE,
        raises=False,
        facts=_facts_iou,
    ),
    Trap.LABELS_GETTER: _Spec(
        title=N_("SanitizeBoundingBoxes must find the labels"),
        myth=N_("SanitizeBoundingBoxes filters the labels whatever shape the sample has."),
        fix=N_(
            "Pass (img, {'boxes': ..., 'labels': ...}), or labels_getter=lambda s: s[2] for a "
            "tuple; never labels_getter=None when there are labels."
        ),
        explanation=N_(
            "Sanitize must drop the same rows from the labels as from the boxes, so it has to "
            "find them, and its default labels_getter looks at the sample's structure, not at "
            "types: it takes the second item of a tuple (or the sample itself if it is a dict); "
            "a plain tensor there is taken as the labels (the MixUp/CutMix convention), in a "
            "dict it takes the key 'labels' (case-insensitive) or else the first key containing "
            "'label'; anything else is a ValueError. So (img, boxes, labels) is refused because "
            "its second item is a BoundingBoxes, (img, labels, boxes) is accepted although the "
            "docs mention only dicts, and (img, {'boxes', 'labels'}) is the intended shape. "
            "labels_getter=None means 'there are no labels': the boxes are filtered and the "
            "labels are not — one box left beside two labels, silently. For a tuple, pass a "
            "callable returning the labels (or a tuple of tensors: labels, iscrowd, area); "
            "every Mask whose first dimension is the number of boxes is filtered without being "
            "named."
        ),
        code=_LABELS_GETTER,
        raises=True,
        facts=_facts_labels,
    ),
    Trap.XYWH_AS_XYXY: _Spec(
        title=N_("The declared box format is believed, never checked"),
        myth=N_("torchvision would warn if boxes were not in the format you declared."),
        fix=N_(
            "Declare the format the numbers are in (COCO bbox: format='XYWH'); convert with "
            "F.convert_bounding_box_format(boxes, new_format='XYXY')."
        ),
        explanation=N_(
            "tv_tensors.BoundingBoxes stores four numbers per box and the format you declare; "
            "it cannot tell [10, 20, 50, 60] as XYWH from the same numbers as XYXY, and it does "
            "not check x2 ≥ x1 either: the run emitted no warning and no error. Every kernel "
            "then computes in the declared format — the horizontal flip maps x1, x2 to "
            "W − x2, W − x1 — so an XYWH box declared XYXY is moved and sized wrongly (40×40 "
            "instead of 50×60 here), and a box whose w is smaller than its x becomes one with "
            "x2 < x1. SanitizeBoundingBoxes drops such boxes silently as degenerate; only "
            "draw_bounding_boxes, which checks x2 ≥ x1 and y2 ≥ y1, raises — and only for the "
            "boxes that happen to be inverted. The COCO wrapper "
            "(wrap_dataset_for_transforms_v2) converts COCO's XYWH to XYXY for you; boxes read "
            "by hand need the format declared, and F.convert_bounding_box_format gives XYXY "
            "for models, draw_bounding_boxes and box_iou."
        ),
        code=_XYWH_AS_XYXY,
        raises=True,
        facts=_facts_xywh,
    ),
    Trap.SEMANTIC_MASK: _Spec(
        title=N_("A semantic mask is not a per-box mask"),
        myth=N_("SanitizeBoundingBoxes knows which masks belong to the boxes."),
        fix=N_(
            "Keep a semantic mask a tv_tensors.Mask through the geometric transforms, then pop it "
            "out of the sample before SanitizeBoundingBoxes."
        ),
        explanation=N_(
            "SanitizeBoundingBoxes filters every tv_tensors.Mask by indexing its first dimension "
            "with the boxes' keep vector, and passes the mask through when that indexing raises "
            "IndexError (first dimension not the number of boxes) — no error or warning reaches "
            "you. It does not know which masks are per instance. So the N×H×W instance masks lose "
            "the removed box's row, and an H×W semantic mask survives by accident of shape: "
            "cropped, with class 2 gone because its pixels were cropped away, not because "
            "Sanitize touched it (it would lose rows if H equalled N). A 1×H×W semantic mask on a "
            "photo with one box is indexed like an instance mask: when the crop loses that box "
            "the semantic mask becomes 0×H×W, silently. A plain tensor is no way out: a pure "
            "tensor beside the image is passed through by every v2 transform, so it is not "
            "cropped either. Keep it a Mask for the geometry and take it out of what Sanitize "
            "sees."
        ),
        code=_SEMANTIC_MASK,
        raises=False,
        facts=_facts_semantic,
    ),
    Trap.TRANSFORM_VS_TRANSFORMS: _Spec(
        title=N_("transform= sees the image, transforms= sees the sample"),
        myth=N_("A dataset's transform= flips the boxes along with the image."),
        fix=N_(
            "Build detection datasets with transforms=v2.Compose([...]) (image and target), "
            "wrapped with datasets.wrap_dataset_for_transforms_v2."
        ),
        explanation=N_(
            "A VisionDataset calls transform= on the image alone and target_transform= on the "
            "target alone (it wraps them in a StandardTransform); transforms= is called on "
            "(image, target) together. wrap_dataset_for_transforms_v2 turns CocoDetection's "
            "list of annotation dicts into {'image_id', 'boxes': BoundingBoxes in XYXY, "
            "'labels'} and then applies whichever the dataset was built with — it cannot make "
            "transform= see the target. With transform= the object moved to x1 = 140 and its "
            "box stayed at x1 = 10: a silently wrong target, and with a random transform wrong "
            "in a different way each epoch. With transforms= one call receives both, and a v2 "
            "transform draws its random parameters once per call for all its inputs, so the box "
            "follows. The subclass only reads the JSON with json instead of pycocotools; "
            "CocoDetection.__getitem__ and torchvision's wrapper are the real ones."
        ),
        code=_TRANSFORM_VS_TRANSFORMS,
        raises=False,
        facts=_facts_datasets,
    ),
}


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise InputError(
            _("The seed must be a whole number from 0 to {most}; got {seed!r}.").format(
                most=SEED_MAX, seed=seed
            ),
            fix=_("Pick a seed in that range (0 is fine)."),
        )
    return seed


def trap_code(trap: Trap, seed: int = 0) -> str:
    """The script of ``trap``, seeded with ``seed`` (a literal in the code)."""
    return _SPECS[Trap(trap)].code.replace(_SEED, str(_check_seed(seed)))


def trap_title(trap: Trap) -> str:
    """The trap's title: English, marked (shown translated, as by ``ui.choices.shown``)."""
    return _SPECS[Trap(trap)].title


def _run_trap(trap: Trap, seed: int) -> TrapResult:
    spec = _SPECS[trap]
    code = trap_code(trap, seed)
    # the script seeds torch's global RNG: under the lock, on a fork of it (many learners
    # share this process)
    with forked():
        r = run(code)
    title = _(spec.title)
    if (r.error is not None) != spec.raises:
        what = r.error.line if r.error is not None else _("ran without the expected error")
        raise LessonError(
            _("The '{title}' script did not run as measured on torchvision 0.29: {what}").format(
                title=title, what=what
            ),
            fix=_(
                "Run the script at home to see this torchvision's behaviour; the lesson's "
                "facts were measured on torchvision 0.29."
            ),
        )
    try:
        facts, holds = spec.facts(r)
    except (_Unexpected, KeyError, TypeError, AttributeError) as err:
        raise LessonError(
            _(
                "The '{title}' script left different objects than on torchvision 0.29 ({error})."
            ).format(title=title, error=err),
            fix=_("Run the script at home to see this torchvision's behaviour."),
        ) from err
    return TrapResult(
        trap=trap,
        seed=seed,
        title=title,
        myth=_(spec.myth),
        fix=_(spec.fix),
        explanation=_(spec.explanation),
        code=code,
        printed=r.stdout,
        output=r.output,
        warnings=r.warnings,
        error=r.error,
        facts=facts,
        holds=holds,
    )


def run_trap(trap: Trap, seed: int = 0) -> TrapResult:
    """Run ``trap``'s script (seeded with ``seed``) and measure what it did.

    Raises :class:`~ptexplore.errors.InputError` for a seed outside 0..2**32 − 1, and
    :class:`~ptexplore.errors.LessonError` if this torchvision behaves differently from the
    one the lesson was written against (the script then shows what happens)."""
    return _run_trap(Trap(trap), _check_seed(seed))


def all_traps(seed: int = 0) -> tuple[TrapResult, ...]:
    """Every trap, in :class:`Trap` order, each run with ``seed``."""
    return tuple(run_trap(t, seed) for t in Trap)
