"""The transform catalog, as data: one :class:`TransformSpec` per ``torchvision.transforms.v2``
transform, each parameter with its kind, torchvision's default, its valid range or choices.

Widgets, validation, building the real transform, JSON import and code export are all
driven from these specs; no transform has hand-written UI code.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torchvision.transforms import v2

from ptexplore.errors import InputError
from ptexplore.i18n import N_, _
from ptexplore.text import code_span

#: A parameter value as stored in a pipeline and in JSON (pairs/triples are tuples).
Value = int | float | bool | str | tuple[float, ...]


class Kind(enum.StrEnum):
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    CHOICE = "choice"
    #: One int (shorter side / square) or two ints "h, w".
    SIZE = "size"
    #: (min, max) floats, min <= max.
    RANGE = "range"
    #: Two independent floats (e.g. translate x, y).
    PAIR = "pair"
    #: Three floats, one per RGB channel (Normalize mean / std).
    TRIPLE = "triple"
    #: A fill value as torchvision takes it: a number, one number per channel, or "random".
    FILL = "fill"


class Scaling(enum.StrEnum):
    """How a transform depends on the input's pixel count (decides the preview copy)."""

    #: Output looks the same on a downscaled copy (flips, colour, relative geometry).
    FREE = "free"
    #: Resamples to a fixed output size: everything after it is independent of the source.
    RESCALES = "rescales"
    #: Works in absolute pixels (crops, pads, blur kernels): needs the full-size source.
    PIXELS = "pixels"


class Category(enum.StrEnum):
    """A transform's group in the editor (the English value is its id; :attr:`label`
    is what a learner reads)."""

    SIZE = N_("Size & crop")
    GEOMETRY = N_("Geometry")
    COLOR = N_("Colour")
    AUTO = N_("Auto-augment policies")
    TENSOR = N_("Tensor & normalise")
    BOXES = N_("Boxes (detection)")

    @property
    def label(self) -> str:
        """The group's name in the language of this rerun."""
        return _(self.value)


@dataclass(frozen=True, slots=True)
class ParamSpec:
    name: str
    kind: Kind
    default: Value
    #: English, marked with ``N_``: translate it where it is read (``_(param.doc)``)
    doc: str
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    choices: tuple[Value, ...] = ()
    #: Always written in exported code (torchvision has no default for it).
    required: bool = False
    #: This widget value means "None" for torchvision (e.g. ColorJitter brightness 0).
    none_value: Value | None = None
    #: The value must be odd (GaussianBlur kernel size).
    odd: bool = False
    #: A pixel value: its valid range depends on the dtype/scale the step receives
    #: (0–255 uint8, 0–1 after ToDtype(scale=True), …), checked per pipeline by
    #: :func:`ptexplore.augment.pipeline.check_pixel_values`, not by ``lo``/``hi``.
    pixel: bool = False


@dataclass(frozen=True, slots=True)
class TransformSpec:
    name: str
    #: English, marked with ``N_``: translate it where it is read (``_(spec.doc)``)
    doc: str
    category: Category
    scaling: Scaling
    params: tuple[ParamSpec, ...] = ()
    random: bool = True

    def check_names(self, names: Iterable[str]) -> None:
        """The one check that every given parameter name exists (a LessonError if not)."""
        unknown = set(names) - {p.name for p in self.params}
        if unknown:
            raise InputError(
                _("{name} has no parameter(s) {unknown} (unknown parameter name).").format(
                    name=self.name,
                    unknown=", ".join(code_span(u, limit=40) for u in sorted(unknown)),
                ),
                fix=_("{name} takes: {params}.").format(
                    name=self.name,
                    params=", ".join(p.name for p in self.params) or _("no parameters"),
                ),
            )

    def param(self, name: str) -> ParamSpec:
        self.check_names((name,))
        return next(p for p in self.params if p.name == name)

    def defaults(self) -> dict[str, Value]:
        return {p.name: p.default for p in self.params}


_INTERP = ("nearest", "bilinear", "bicubic")
_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


def _p(name: str, default: float = 0.5) -> ParamSpec:
    return ParamSpec(name, Kind.FLOAT, default, N_("Probability of applying it."), 0.0, 1.0, 0.05)


def _interp(default: str) -> ParamSpec:
    return ParamSpec(
        "interpolation",
        Kind.CHOICE,
        default,
        N_("How new pixel values are sampled."),
        choices=_INTERP,
    )


def _fill() -> ParamSpec:
    return ParamSpec(
        "fill",
        Kind.FLOAT,
        0.0,
        N_(
            "Value for pixels outside the image. In the units the step receives: 0–255 "
            "(whole) on uint8, 0–1 after ToDtype(float, scale=True), normalised units after "
            "Normalize."
        ),
        step=1.0,
        pixel=True,
    )


def _size(default: int) -> ParamSpec:
    return ParamSpec(
        "size",
        Kind.SIZE,
        default,
        N_("Output size: one number = square (crops) / shorter side (Resize); “h, w” = exact."),
        1,
        4096,
        1,
        required=True,
    )


_ANTIALIAS = ParamSpec("antialias", Kind.BOOL, True, N_("Low-pass filter before downsampling."))
_PADDING_MODE = ParamSpec(
    "padding_mode", Kind.CHOICE, "constant", N_("How padding is filled."), choices=_PAD_MODES
)

CATALOG: tuple[TransformSpec, ...] = (
    TransformSpec(
        "Resize",
        N_("Resize the input; an int resizes the SHORTER side and keeps the aspect ratio."),
        Category.SIZE,
        Scaling.RESCALES,
        (
            _size(256),
            _interp("bilinear"),
            ParamSpec(
                "max_size",
                Kind.INT,
                0,
                N_("Cap on the longer side after resizing (0 = no cap)."),
                0,
                4096,
                1,
                none_value=0,
            ),
            _ANTIALIAS,
        ),
        random=False,
    ),
    TransformSpec(
        "CenterCrop",
        N_("Crop the centre of the input (pads with 0 if the image is smaller)."),
        Category.SIZE,
        Scaling.PIXELS,
        (_size(224),),
        random=False,
    ),
    TransformSpec(
        "RandomCrop",
        N_("Crop the input at a random location."),
        Category.SIZE,
        Scaling.PIXELS,
        (
            _size(224),
            ParamSpec(
                "padding",
                Kind.INT,
                0,
                N_("Pad every border first (0 = none)."),
                0,
                256,
                1,
                none_value=0,
            ),
            ParamSpec(
                "pad_if_needed", Kind.BOOL, False, N_("Pad if the image is smaller than size.")
            ),
            _fill(),
            _PADDING_MODE,
        ),
    ),
    TransformSpec(
        "RandomResizedCrop",
        N_("Crop a random area (scale) with a random aspect ratio, then resize it to size."),
        Category.SIZE,
        Scaling.RESCALES,
        (
            _size(224),
            ParamSpec(
                "scale",
                Kind.RANGE,
                (0.08, 1.0),
                N_("Crop area as a fraction of the image."),
                0.01,
                1.0,
                0.01,
            ),
            ParamSpec(
                "ratio",
                Kind.RANGE,
                (0.75, 4.0 / 3.0),
                N_("Crop aspect ratio (width / height), drawn log-uniformly."),
                0.1,
                10.0,
                0.01,
            ),
            _interp("bilinear"),
            _ANTIALIAS,
        ),
    ),
    TransformSpec(
        "Pad",
        N_("Pad the input on all sides."),
        Category.SIZE,
        Scaling.PIXELS,
        (
            ParamSpec(
                "padding", Kind.INT, 16, N_("Pixels added on each side."), 0, 512, 1, required=True
            ),
            _fill(),
            _PADDING_MODE,
        ),
        random=False,
    ),
    TransformSpec(
        "RandomHorizontalFlip",
        N_("Mirror the input left↔right with probability p."),
        Category.GEOMETRY,
        Scaling.FREE,
        (_p("p"),),
    ),
    TransformSpec(
        "RandomVerticalFlip",
        N_("Mirror the input top↕bottom with probability p."),
        Category.GEOMETRY,
        Scaling.FREE,
        (_p("p"),),
    ),
    TransformSpec(
        "RandomRotation",
        N_("Rotate by an angle drawn uniformly from [-degrees, +degrees]."),
        Category.GEOMETRY,
        Scaling.FREE,
        (
            ParamSpec(
                "degrees",
                Kind.FLOAT,
                15.0,
                N_("Largest rotation, in degrees."),
                0.0,
                180.0,
                1.0,
                required=True,
            ),
            _interp("nearest"),
            ParamSpec(
                "expand", Kind.BOOL, False, N_("Grow the output so the whole rotated image fits.")
            ),
            _fill(),
        ),
    ),
    TransformSpec(
        "RandomAffine",
        N_("Random rotation, translation, scale and shear, keeping the centre fixed."),
        Category.GEOMETRY,
        Scaling.FREE,
        (
            ParamSpec(
                "degrees",
                Kind.FLOAT,
                0.0,
                N_("Largest rotation, in degrees."),
                0.0,
                180.0,
                1.0,
                required=True,
            ),
            ParamSpec(
                "translate",
                Kind.PAIR,
                (0.0, 0.0),
                N_("Largest shift as a fraction of width, height (0, 0 = none)."),
                0.0,
                1.0,
                0.01,
                none_value=(0.0, 0.0),
            ),
            ParamSpec(
                "scale",
                Kind.RANGE,
                (1.0, 1.0),
                N_("Zoom factor range (1, 1 = none)."),
                0.1,
                3.0,
                0.05,
                none_value=(1.0, 1.0),
            ),
            ParamSpec(
                "shear",
                Kind.FLOAT,
                0.0,
                N_("Largest x-shear, in degrees (0 = none)."),
                0.0,
                80.0,
                1.0,
                none_value=0.0,
            ),
            _interp("nearest"),
            _fill(),
        ),
    ),
    TransformSpec(
        "RandomPerspective",
        N_("Random perspective warp with probability p."),
        Category.GEOMETRY,
        Scaling.FREE,
        (
            ParamSpec(
                "distortion_scale",
                Kind.FLOAT,
                0.5,
                N_("How far corners move (0–1)."),
                0.0,
                1.0,
                0.05,
            ),
            _p("p"),
            _interp("bilinear"),
            _fill(),
        ),
    ),
    TransformSpec(
        "ElasticTransform",
        N_("Bend the image with a smooth random displacement field (like water)."),
        Category.GEOMETRY,
        Scaling.PIXELS,
        (
            ParamSpec(
                "alpha", Kind.FLOAT, 50.0, N_("Displacement strength, in pixels."), 0.0, 500.0, 1.0
            ),
            ParamSpec(
                "sigma",
                Kind.FLOAT,
                5.0,
                N_("Smoothness of the displacement field."),
                0.1,
                50.0,
                0.1,
            ),
            _interp("bilinear"),
            _fill(),
        ),
    ),
    TransformSpec(
        "ColorJitter",
        N_("Randomly change brightness, contrast, saturation and hue (in a random order)."),
        Category.COLOR,
        Scaling.FREE,
        (
            ParamSpec(
                "brightness",
                Kind.FLOAT,
                0.0,
                N_("Factor drawn from [1-b, 1+b] (0 = off)."),
                0.0,
                2.0,
                0.05,
                none_value=0.0,
            ),
            ParamSpec(
                "contrast",
                Kind.FLOAT,
                0.0,
                N_("Factor drawn from [1-c, 1+c] (0 = off)."),
                0.0,
                2.0,
                0.05,
                none_value=0.0,
            ),
            ParamSpec(
                "saturation",
                Kind.FLOAT,
                0.0,
                N_("Factor drawn from [1-s, 1+s] (0 = off)."),
                0.0,
                2.0,
                0.05,
                none_value=0.0,
            ),
            ParamSpec(
                "hue",
                Kind.FLOAT,
                0.0,
                N_("Hue shift drawn from [-h, +h] (0 = off)."),
                0.0,
                0.5,
                0.01,
                none_value=0.0,
            ),
        ),
    ),
    TransformSpec(
        "Grayscale",
        N_("Convert to grayscale (1 channel, or 3 identical channels)."),
        Category.COLOR,
        Scaling.FREE,
        (
            ParamSpec(
                "num_output_channels",
                Kind.CHOICE,
                1,
                N_("Output channels (3 keeps RGB-shaped tensors)."),
                choices=(1, 3),
            ),
        ),
        random=False,
    ),
    TransformSpec(
        "RandomGrayscale",
        N_("Convert to grayscale with probability p (keeps the channel count)."),
        Category.COLOR,
        Scaling.FREE,
        (_p("p", 0.1),),
    ),
    TransformSpec(
        "GaussianBlur",
        N_("Blur with a Gaussian kernel whose sigma is drawn from a range."),
        Category.COLOR,
        Scaling.PIXELS,
        (
            ParamSpec(
                "kernel_size",
                Kind.INT,
                5,
                N_("Kernel size in pixels (odd)."),
                1,
                101,
                2,
                required=True,
                odd=True,
            ),
            ParamSpec(
                "sigma", Kind.RANGE, (0.1, 2.0), N_("Sigma range (min, max)."), 0.01, 20.0, 0.01
            ),
        ),
    ),
    TransformSpec(
        "RandomInvert",
        N_("Invert the colours with probability p."),
        Category.COLOR,
        Scaling.FREE,
        (_p("p"),),
    ),
    TransformSpec(
        "RandomPosterize",
        N_("Keep only the top `bits` bits of each channel, with probability p (uint8 only)."),
        Category.COLOR,
        Scaling.FREE,
        (
            ParamSpec("bits", Kind.INT, 4, N_("Bits kept per channel."), 0, 8, 1, required=True),
            _p("p"),
        ),
    ),
    TransformSpec(
        "RandomSolarize",
        N_("Invert every pixel above threshold, with probability p."),
        Category.COLOR,
        Scaling.FREE,
        (
            ParamSpec(
                "threshold",
                Kind.FLOAT,
                128.0,
                N_("Pixels ≥ threshold are inverted (0–255 for uint8, 0–1 after ToDtype)."),
                0.0,
                255.0,
                1.0,
                required=True,
            ),
            _p("p"),
        ),
    ),
    TransformSpec(
        "RandomAdjustSharpness",
        N_("Sharpen (factor > 1) or blur (factor < 1) with probability p."),
        Category.COLOR,
        Scaling.PIXELS,
        (
            ParamSpec(
                "sharpness_factor",
                Kind.FLOAT,
                2.0,
                N_("0 = blurred, 1 = original, 2 = sharper."),
                0.0,
                10.0,
                0.1,
                required=True,
            ),
            _p("p"),
        ),
    ),
    TransformSpec(
        "RandomAutocontrast",
        N_("Stretch each channel to the full 0–255 range, with probability p."),
        Category.COLOR,
        Scaling.FREE,
        (_p("p"),),
    ),
    TransformSpec(
        "RandomEqualize",
        N_("Equalize the histogram, with probability p (uint8 only)."),
        Category.COLOR,
        Scaling.FREE,
        (_p("p"),),
    ),
    TransformSpec(
        "AutoAugment",
        N_("Apply one of the learned AutoAugment sub-policies (2 ops each)."),
        Category.AUTO,
        Scaling.FREE,
        (
            ParamSpec(
                "policy",
                Kind.CHOICE,
                "imagenet",
                N_("Policy learned on this dataset."),
                choices=("imagenet", "cifar10", "svhn"),
            ),
            _interp("nearest"),
        ),
    ),
    TransformSpec(
        "RandAugment",
        N_("Apply num_ops random ops, all at the same magnitude."),
        Category.AUTO,
        Scaling.FREE,
        (
            ParamSpec("num_ops", Kind.INT, 2, N_("Ops applied in a row."), 0, 10, 1),
            ParamSpec(
                "magnitude", Kind.INT, 9, N_("Strength bin (< num_magnitude_bins)."), 0, 99, 1
            ),
            ParamSpec(
                "num_magnitude_bins", Kind.INT, 31, N_("Number of strength bins."), 2, 100, 1
            ),
            _interp("nearest"),
        ),
    ),
    TransformSpec(
        "TrivialAugmentWide",
        N_("Apply ONE random op at a random magnitude (no tuning needed)."),
        Category.AUTO,
        Scaling.FREE,
        (
            ParamSpec(
                "num_magnitude_bins", Kind.INT, 31, N_("Number of strength bins."), 2, 100, 1
            ),
            _interp("nearest"),
        ),
    ),
    TransformSpec(
        "AugMix",
        N_("Mix several randomly augmented chains with the original image."),
        Category.AUTO,
        Scaling.FREE,
        (
            ParamSpec("severity", Kind.INT, 3, N_("Strength of each op (1–10)."), 1, 10, 1),
            ParamSpec("mixture_width", Kind.INT, 3, N_("Number of chains mixed."), 1, 10, 1),
            ParamSpec(
                "chain_depth", Kind.INT, -1, N_("Ops per chain (-1 = random 1–3)."), -1, 10, 1
            ),
            ParamSpec(
                "alpha",
                Kind.FLOAT,
                1.0,
                N_("Dirichlet/Beta concentration of the mix."),
                0.05,
                10.0,
                0.05,
            ),
            ParamSpec("all_ops", Kind.BOOL, True, N_("Also use the ops that overlap ImageNet-C.")),
            _interp("bilinear"),
        ),
    ),
    TransformSpec(
        "RandomErasing",
        N_("Erase a random rectangle (cutout), with probability p."),
        Category.TENSOR,
        Scaling.FREE,
        (
            _p("p"),
            ParamSpec(
                "scale",
                Kind.RANGE,
                (0.02, 0.33),
                N_("Erased area as a fraction of the image."),
                0.001,
                1.0,
                0.001,
            ),
            ParamSpec(
                "ratio",
                Kind.RANGE,
                (0.3, 3.3),
                N_("Aspect ratio of the erased box."),
                0.05,
                20.0,
                0.05,
            ),
            ParamSpec(
                "value",
                Kind.FILL,
                0.0,
                N_(
                    "Fill of the erased box: a number, one per channel (r, g, b), or “random” "
                    "(N(0, 1) noise: float tensors only). In the units the step receives: "
                    "0–255 (whole) on uint8, 0–1 after ToDtype(float, scale=True), normalised "
                    "units after Normalize."
                ),
                pixel=True,
            ),
        ),
    ),
    TransformSpec(
        "RandomIoUCrop",
        N_(
            "SSD's crop: a random crop whose IoU with at least one box passes a drawn threshold; "
            "boxes whose centre falls outside are dropped. Needs boxes; follow it with "
            "SanitizeBoundingBoxes."
        ),
        Category.BOXES,
        Scaling.FREE,
        (
            ParamSpec(
                "min_scale",
                Kind.FLOAT,
                0.3,
                N_("Smallest crop side, as a fraction."),
                0.01,
                1.0,
                0.01,
            ),
            ParamSpec(
                "max_scale",
                Kind.FLOAT,
                1.0,
                N_("Largest crop side, as a fraction."),
                0.01,
                1.0,
                0.01,
            ),
            ParamSpec(
                "min_aspect_ratio",
                Kind.FLOAT,
                0.5,
                N_("Smallest crop aspect ratio."),
                0.05,
                20.0,
                0.05,
            ),
            ParamSpec(
                "max_aspect_ratio",
                Kind.FLOAT,
                2.0,
                N_("Largest crop aspect ratio."),
                0.05,
                20.0,
                0.05,
            ),
            ParamSpec(
                "trials", Kind.INT, 40, N_("Crops tried per drawn IoU threshold."), 1, 1000, 1
            ),
        ),
    ),
    TransformSpec(
        "RandomZoomOut",
        N_(
            "SSD's zoom out: the image placed at a random spot of a canvas up to side_range× "
            "larger, filled with fill (boxes shrink with it), with probability p."
        ),
        Category.BOXES,
        Scaling.FREE,
        (
            _fill(),
            ParamSpec(
                "side_range",
                Kind.RANGE,
                (1.0, 4.0),
                N_("The canvas side, as a multiple of the image's."),
                1.0,
                8.0,
                0.1,
            ),
            _p("p"),
        ),
    ),
    TransformSpec(
        "SanitizeBoundingBoxes",
        N_(
            "Remove degenerate boxes (thinner than min_size, smaller than min_area, or off the "
            'canvas) with their labels and masks. Finds the labels under a "labels" key.'
        ),
        Category.BOXES,
        Scaling.FREE,
        (
            ParamSpec(
                "min_size", Kind.FLOAT, 1.0, N_("Smallest width and height, px."), 1.0, 1e4, 0.5
            ),
            ParamSpec("min_area", Kind.FLOAT, 1.0, N_("Smallest area, px²."), 1.0, 1e8, 1.0),
        ),
        random=False,
    ),
    TransformSpec(
        "ClampBoundingBoxes",
        N_("Clamp boxes to their canvas (a box partly outside is cut at the edge)."),
        Category.BOXES,
        Scaling.FREE,
        (),
        random=False,
    ),
    TransformSpec(
        "SanitizeKeyPoints",
        N_(
            "Remove the keypoints that lie outside the canvas (after a crop, a zoom or an "
            "affine step); with no labels_getter it removes nothing else."
        ),
        Category.BOXES,
        Scaling.FREE,
        (),
        random=False,
    ),
    TransformSpec(
        "ClampKeyPoints",
        N_("Move the keypoints outside the canvas onto its nearest edge."),
        Category.BOXES,
        Scaling.FREE,
        (),
        random=False,
    ),
    TransformSpec(
        "ConvertBoundingBoxFormat",
        N_("Rewrite the boxes' four numbers in another format (the same boxes)."),
        Category.BOXES,
        Scaling.FREE,
        (
            ParamSpec(
                "format",
                Kind.CHOICE,
                "XYXY",
                N_("XYXY: corners; XYWH: top-left, width, height; CXCYWH: centre, width, height."),
                choices=("XYXY", "XYWH", "CXCYWH"),
                required=True,
            ),
        ),
        random=False,
    ),
    TransformSpec(
        "ToImage",
        N_("Wrap the input as a tv_tensors.Image (uint8 stays uint8: no scaling yet)."),
        Category.TENSOR,
        Scaling.FREE,
        (),
        random=False,
    ),
    TransformSpec(
        "ToDtype",
        N_("Change dtype; scale=True maps uint8 0–255 to float 0–1 (what ToTensor did)."),
        Category.TENSOR,
        Scaling.FREE,
        (
            ParamSpec(
                "dtype",
                Kind.CHOICE,
                "float32",
                N_("Target dtype."),
                choices=("float32", "float16", "float64", "uint8"),
                required=True,
            ),
            ParamSpec("scale", Kind.BOOL, False, N_("Rescale values to the new dtype's range.")),
        ),
        random=False,
    ),
    TransformSpec(
        "Normalize",
        N_("Subtract mean and divide by std, per channel (float input only)."),
        Category.TENSOR,
        Scaling.FREE,
        (
            ParamSpec(
                "mean",
                Kind.TRIPLE,
                (0.485, 0.456, 0.406),
                N_("Per-channel mean (ImageNet shown)."),
                -10.0,
                10.0,
                required=True,
            ),
            ParamSpec(
                "std",
                Kind.TRIPLE,
                (0.229, 0.224, 0.225),
                N_("Per-channel std (ImageNet shown)."),
                1e-6,
                10.0,
                required=True,
            ),
        ),
        random=False,
    ),
)

_BY_NAME: dict[str, TransformSpec] = {spec.name: spec for spec in CATALOG}

#: Steps whose torchvision defaults change nothing you could see (ColorJitter's factors are
#: all 0, RandomAffine's ranges all 0): the editor adds them with these values instead and
#: says so. (0.4 for brightness/contrast/saturation is the classic ImageNet recipe.)
VISIBLE_DEFAULTS: dict[str, dict[str, Value]] = {
    "ColorJitter": {"brightness": 0.4, "contrast": 0.4, "saturation": 0.4, "hue": 0.1},
    "RandomAffine": {"degrees": 10.0, "translate": (0.1, 0.1)},
}
#: Steps that only convert the tensor (the usual tail of a pipeline).
TENSOR_TAIL = frozenset({"ToImage", "ToDtype", "Normalize"})
NAMES: tuple[str, ...] = tuple(_BY_NAME)


def spec_for(name: str) -> TransformSpec:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise InputError(
            _("{name} is not a transform in the catalog.").format(name=code_span(name, limit=40)),
            fix=_("Use one of: {names}.").format(names=", ".join(NAMES)),
        ) from None


# ---------------------------------------------------------------------------- validation


def _shown(value: object) -> str:
    """A value from a JSON file, shown inert (it may be any text)."""
    return code_span(repr(value), limit=60)


def _whole(v: object) -> bool:
    """A finite whole number (not a bool): NaN, inf and 1e309 are not."""
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return True  # its size is checked by the range (a huge int is "far too large")
    return isinstance(v, float) and math.isfinite(v) and v.is_integer()


def coerce(spec: TransformSpec, param: ParamSpec, value: Any) -> Value:
    """Check one value against its ParamSpec; return it in canonical form or raise."""
    where = f"{spec.name}.{param.name}"

    def bad(msg: str, fix: str | None = None) -> InputError:
        return InputError(
            _("{where}: {message}").format(where=where, message=msg), fix=fix or _(param.doc)
        )

    def in_range(x: float | int) -> float:
        try:
            x = float(x)
        except OverflowError:
            raise bad(_("that number is far too large.")) from None
        if not math.isfinite(x):
            raise bad(_("{x} is not a finite number.").format(x=x))
        if param.lo is not None and x < param.lo:
            raise bad(
                _("{x:g} is below the smallest allowed value {lo:g}.").format(x=x, lo=param.lo)
            )
        if param.hi is not None and x > param.hi:
            raise bad(
                _("{x:g} is above the largest allowed value {hi:g}.").format(x=x, hi=param.hi)
            )
        return x

    kind = param.kind
    if kind is Kind.BOOL:
        if not isinstance(value, bool):
            raise bad(_("expected true/false, got {value}.").format(value=_shown(value)))
        return value
    if kind is Kind.CHOICE:
        if value not in param.choices or isinstance(value, bool):
            raise bad(
                _("{value} is not one of {choices}.").format(
                    value=_shown(value), choices=list(param.choices)
                )
            )
        return value  # type: ignore[no-any-return]
    if kind is Kind.INT:
        if not _whole(value):
            raise bad(_("expected a whole number, got {value}.").format(value=_shown(value)))
        out = int(in_range(value))
        if param.odd and out % 2 == 0:
            raise bad(
                _("{n} is even; the kernel needs an odd size.").format(n=out),
                fix=_("Use {n}.").format(n=out + 1),
            )
        return out
    if kind is Kind.FLOAT:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad(_("expected a number, got {value}.").format(value=_shown(value)))
        return in_range(value)
    if kind is Kind.SIZE:
        if isinstance(value, int | float) and not isinstance(value, bool):
            items: list[Any] = [value]
        elif isinstance(value, list | tuple):
            items = list(value)
        else:
            raise bad(_("expected a number or “h, w”, got {value}.").format(value=_shown(value)))
        if len(items) not in (1, 2) or not all(_whole(v) for v in items):
            raise bad(
                _("expected one or two whole numbers, got {value}.").format(value=_shown(value))
            )
        sides = tuple(int(in_range(v)) for v in items)
        return sides[0] if len(sides) == 1 else (sides[0], sides[1])
    if kind is Kind.FILL:
        if isinstance(value, str):
            if value.strip().lower() != "random":
                raise bad(
                    _("{value} is neither a number nor “random”.").format(value=_shown(value))
                )
            return "random"
        if isinstance(value, int | float) and not isinstance(value, bool):
            return in_range(value)
        if (
            not isinstance(value, list | tuple)
            or len(value) not in (1, 3)
            or any(isinstance(v, bool) or not isinstance(v, int | float) for v in value)
        ):
            raise bad(
                _("expected a number, 1 or 3 numbers (one per channel), got {value}.").format(
                    value=_shown(value)
                )
            )
        fills = tuple(in_range(v) for v in value)
        return fills[0] if len(fills) == 1 else fills
    width = 3 if kind is Kind.TRIPLE else 2
    if (
        not isinstance(value, list | tuple)
        or len(value) != width
        or any(isinstance(v, bool) or not isinstance(v, int | float) for v in value)
    ):
        raise bad(_("expected {n} numbers, got {value}.").format(n=width, value=_shown(value)))
    nums = tuple(in_range(v) for v in value)
    if kind is Kind.RANGE and nums[0] > nums[1]:
        raise bad(
            _("min {lo:g} is greater than max {hi:g}.").format(lo=nums[0], hi=nums[1]),
            fix=_("Make the first value (min) smaller than or equal to the second (max)."),
        )
    return nums


def size_arg(value: Value) -> int | list[int]:
    if isinstance(value, tuple):
        return [int(v) for v in value]
    return int(value)


def to_kwargs(spec: TransformSpec, params: Mapping[str, Value]) -> dict[str, Any]:
    """Map canonical widget values to the keyword arguments torchvision expects."""
    kwargs: dict[str, Any] = {}
    for p in spec.params:
        value = params[p.name]
        if p.none_value is not None and value == p.none_value:
            kwargs[p.name] = None
            continue
        if p.kind is Kind.SIZE:
            kwargs[p.name] = size_arg(value)
        elif p.kind in (Kind.RANGE, Kind.PAIR, Kind.TRIPLE):
            assert isinstance(value, tuple)
            kwargs[p.name] = list(value) if p.kind is Kind.TRIPLE else tuple(value)
        elif p.kind is Kind.FILL and isinstance(value, tuple):
            kwargs[p.name] = list(value)
        elif p.name == "interpolation":
            kwargs[p.name] = v2.InterpolationMode(str(value))
        elif p.name == "dtype":
            kwargs[p.name] = getattr(torch, str(value))
        elif p.name == "policy":
            kwargs[p.name] = v2.AutoAugmentPolicy(str(value))
        else:
            kwargs[p.name] = value
    if spec.name == "RandomRotation":
        kwargs["degrees"] = float(kwargs["degrees"])
    if spec.name == "RandomAffine" and kwargs.get("shear") is not None:
        kwargs["shear"] = float(kwargs["shear"])
    return kwargs


def check_combination(spec: TransformSpec, params: Mapping[str, Value]) -> None:
    """Cross-parameter rules torchvision would only hit later (or never report clearly)."""
    if spec.name == "RandAugment":
        mag, bins = params["magnitude"], params["num_magnitude_bins"]
        assert isinstance(mag, int) and isinstance(bins, int)
        if mag >= bins:
            raise InputError(
                _(
                    "RandAugment: magnitude {mag} must be smaller than num_magnitude_bins "
                    "{bins} (it indexes one of the bins)."
                ).format(mag=mag, bins=bins),
                fix=_("Set magnitude ≤ {most} or raise num_magnitude_bins.").format(most=bins - 1),
            )
    if spec.name == "Normalize":
        std = params["std"]
        assert isinstance(std, tuple)
        if any(s <= 0 for s in std):
            raise InputError(
                _("Normalize: every std must be > 0 (it is a divisor)."),
                fix=_("Use e.g. 0.229, 0.224, 0.225."),
            )


def build_transform(name: str, params: Mapping[str, Value]) -> v2.Transform:
    """Validate ``params`` against the spec and build the real torchvision transform."""
    spec = spec_for(name)
    spec.check_names(params)
    full = spec.defaults()
    full.update(params)
    canon = {p.name: coerce(spec, p, full[p.name]) for p in spec.params}
    check_combination(spec, canon)
    cls = getattr(v2, name)
    try:
        transform: v2.Transform = cls(**to_kwargs(spec, canon))
    except (ValueError, TypeError) as err:
        raise InputError(
            _("{name}: torchvision refused these settings — {error}").format(name=name, error=err),
            fix=_("Change the parameters torchvision names, or go back to the defaults."),
        ) from err
    return transform
