"""What a pipeline will cost, known before anything runs — and refused when it is too much.

A classroom server runs every learner's rerun in one process, so one imported pipeline
(32 large pads at 4096², a GaussianBlur(101) on a 12 MP photo) must not take gigabytes or
a minute of CPU. :func:`estimate` walks the enabled steps from the input's (C, H, W) and
dtype, computing nothing, and gives every step's output shape and dtype (the worst case
where it is random: ``RandomRotation(expand=True)`` at its widest angle, every
probability-p step applied), the memory its output keeps alive (0 for a view: a crop, a
``ToImage``; a crop of a padded copy keeps the whole copy), its working memory and its CPU
cost from a per-kind model calibrated on the project's 2-core machine
(``bench/augment_budget.py`` measures the constants below with torch's intra-op threads =
1, as the server runs).

One request's work — a grid of n samples with the step-by-step trace of one of them (every
intermediate kept), the train-vs-val comparison — is one or more :class:`Work`;
:func:`check` refuses, in well under 100 ms, a request whose

* memory — kept outputs + trace + the largest step's working memory — exceeds
  :data:`~ptexplore.limits.GRID_MAX_BYTES`;
* CPU time exceeds :data:`~ptexplore.limits.AUGMENT_MAX_CPU_S` (about 2 s);
* longest single hold of the process-wide RNG lock (a draw: RandomErasing's noise box,
  ElasticTransform's fields) exceeds :data:`~ptexplore.limits.AUGMENT_MAX_LOCKED_S`;
* or that would resample a float16 tensor with ``grid_sample`` (it segfaults the process),
  or blur one with a kernel of 15 or more (it does not finish);

with a sentence that names the limit, the numbers and what to change.

The cost model (per call of one step, worst case; E = elements C×H×W, P = pixels H×W):

* every step: a fixed call overhead; a random step also one RNG-lock swap (``draw``);
* pointwise kinds (flip, pad, invert, ToDtype, Normalize, colour ops, …): E × ns[kind];
* Resize / RandomResizedCrop: C × max(P_in, P_out) × ns[resize_<mode>] (a random crop is
  at most the whole image);
* rotation / affine / perspective: E_out × ns[warp_<mode>] (grid sampling in float);
* GaussianBlur (a dense k×k depthwise conv2d): E × (ns[blur_px] + k² × ns[blur_tap] +
  S × ns[blur_subnormal]), S the kernel's subnormal taps at the worst sigma of its range
  (:func:`subnormal_taps`: each costs ~100 normal ones on an Intel core);
* ElasticTransform: two P-sized random fields, each blurred with a k = 8σ+1 kernel
  (P × k² taps, float32, conv2d's 1-channel path), then a warp:
  2 P (rand + field_px + k² field_tap) + E × ns[elastic_warp];
* AutoAugment / RandAugment / TrivialAugmentWide: ops × E × ns[auto_op_<mode>] (the
  costliest op of the policy space, every op applied);
* AugMix: width × depth ops (depth 3 when random) + (width + 1) float mixes.

Every constant has one value per dtype (uint8, float16, float32, float64): a float16 or
float64 blur on CPU is 40–80× slower than float32, and its im2col buffer grows with k².
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch

from ptexplore.augment.catalog import Category, Value, spec_for
from ptexplore.augment.pipeline import Pipeline, Step, train_preset, val_preset
from ptexplore.errors import LessonError
from ptexplore.i18n import N_, _
from ptexplore.limits import (
    AUGMENT_MAX_CPU_S,
    AUGMENT_MAX_LOCKED_S,
    F16_BLUR_MAX_KERNEL,
    GRID_MAX_BYTES,
)

__all__ = [
    "NS_PER_UNIT",
    "SCRATCH_BYTES",
    "SampleEstimate",
    "StepEstimate",
    "TensorSize",
    "Work",
    "check",
    "estimate",
    "grid_work",
    "subnormal_taps",
    "train_val_work",
]

DTYPES: tuple[str, ...] = ("uint8", "float16", "float32", "float64")
_ITEMSIZE = {"uint8": 1, "float16": 2, "float32": 4, "float64": 8}

# ----------------------------------------------------------------------- the constants
#: ns of CPU per unit of work, per dtype (uint8, float16, float32, float64), measured by
#: ``bench/augment_budget.py`` on this project's machine (2 cores, AVX-512, torch 2.14,
#: intra-op threads = 1, thread CPU time; median of 5 after a warm-up, 1024×1024 RGB for
#: pointwise kinds, 128–512 px for the heavy ones). Each value is the larger of two bench
#: runs (four passes) on the shared, noisy machine, rounded up to two digits. The unit of
#: each kind is in its comment.
NS_PER_UNIT: dict[str, tuple[float, float, float, float]] = {
    # per step call (Python dispatch, tree flattening, kernel lookup; a random step's
    # make_params): ns per call
    "call": (87_000.0, 87_000.0, 87_000.0, 87_000.0),
    # one RNG-lock swap (lock + get/set of the 5 KB generator state): ns per draw
    "draw": (6_800.0, 6_800.0, 6_800.0, 6_800.0),
    # ns per element of the output
    "flip": (0.57, 1.6, 2.3, 0.78),
    # Pad / RandomCrop padding / CenterCrop beyond the image, constant fill: per output element
    "pad": (0.11, 0.13, 0.56, 1.1),
    # … edge / reflect / symmetric padding (the slowest of the three)
    "pad_reflect": (4.3, 4.2, 4.2, 4.4),
    # Resize / RandomResizedCrop: ns per C × max(input, output) pixels (antialias on)
    "resize_nearest": (1.4, 3.4, 2.7, 5.2),
    "resize_bilinear": (1.4, 6.1, 6.1, 11.0),
    "resize_bicubic": (1.7, 7.7, 6.3, 12.0),
    # rotation / affine / perspective (grid sampling): ns per output element
    "warp_nearest": (15.0, 35.0, 14.0, 19.0),
    "warp_bilinear": (20.0, 39.0, 16.0, 18.0),
    # ElasticTransform's warp and field arithmetic: ns per element
    "elastic_warp": (6.5, 5.8, 8.4, 14.0),
    # torch.rand per displacement-field pixel (drawn under the RNG lock)
    "rand": (6.2, 6.2, 6.2, 6.2),
    # GaussianBlur: ns per element (casts, reflect padding; measured at k=3) …
    "blur_px": (8.1, 10.0, 7.4, 17.0),
    # … plus ns per element per kernel tap (k², the largest of k=41 and k=101)
    "blur_tap": (0.2, 7.9, 0.2, 5.5),
    # … plus ns per element per SUBNORMAL kernel tap (a small sigma in a big kernel: an
    # Intel core takes a microcode assist on each, ~100× a normal tap; GaussianBlur(45) at
    # sigma 1.5 has 232 of them and takes 4.3 s instead of 0.35 s on a 3×512×683 photo.
    # AMD Zen cores barely slow down; the budget keeps the worst case)
    "blur_subnormal": (20.0, 20.0, 20.0, 20.0),
    # ElasticTransform's two 1-channel float32 field blurs (conv2d's 1-channel path): per pixel
    "field_px": (4.8, 4.8, 4.8, 4.8),
    # … per pixel per tap
    "field_tap": (0.18, 0.18, 0.18, 0.18),
    # ColorJitter, per enabled factor: ns per element
    "jitter_brightness": (1.6, 0.29, 0.64, 1.1),
    "jitter_contrast": (2.5, 0.66, 1.1, 2.4),
    "jitter_saturation": (2.1, 0.59, 0.72, 1.8),
    "jitter_hue": (21.0, 20.0, 20.0, 21.0),
    # Grayscale / RandomGrayscale (1 or 3 outputs, the slower): ns per input element
    "gray": (0.71, 0.19, 0.18, 0.67),
    # the colour ops, ns per element (posterize and equalize: uint8 only, else the max)
    "invert": (0.08, 0.12, 0.36, 0.55),
    "posterize": (0.042, 0.5, 0.79, 1.9),
    "solarize": (1.6, 5.0, 5.5, 6.0),
    "sharpness": (10.0, 9.0, 9.1, 11.0),
    "autocontrast": (1.4, 0.71, 0.82, 1.9),
    "equalize": (4.0, 5.6, 3.9, 5.6),
    # RandomErasing (a clone plus the box): ns per element
    "erase": (0.32, 0.12, 0.33, 1.1),
    # RandomErasing value='random': ns per box value (normal_, drawn under the RNG lock)
    "normal": (5.3, 5.3, 5.3, 5.3),
    # Normalize (uint8 fails: the max): ns per element
    "normalize": (0.99, 0.24, 0.31, 0.99),
    # ToDtype, by the SOURCE dtype (the slowest target): ns per element
    "todtype": (0.77, 0.59, 0.53, 0.99),
    # one auto-augment op, the costliest of the policy space: ns per element
    "auto_op_nearest": (8.3, 21.0, 9.0, 17.0),
    "auto_op_bilinear": (8.7, 24.0, 7.8, 16.0),
    # AugMix: one float mix (weight × chain, accumulate): ns per element per chain
    "augmix_mix": (0.39, 0.37, 0.27, 0.62),
    # the preview's 'max shift' caption of an elastic draw: ns per pixel
    "describe_elastic": (9.9, 9.9, 9.9, 9.9),
}


def ns(kind: str, dtype: str) -> float:
    """The calibrated constant of ``kind`` for ``dtype`` (the slowest one for others)."""
    row = NS_PER_UNIT[kind]
    return row[DTYPES.index(dtype)] if dtype in DTYPES else max(row)


#: Working memory while a step runs, beyond its input and output: bytes per input element
#: (of the larger of input and output for resampling steps), per dtype (uint8, float16,
#: float32, float64). Measured by ``bench/augment_budget.py --memory`` (peak RSS of a fresh
#: process over 3 calls on a 3×1500×1500 and a 3×2000×2000 image, minus the output;
#: 3×256×256 for GaussianBlur's k=9 / k=41 fit), the larger of two runs, rounded up.
#: Missing kinds use no working memory (flips, constant pads, ToDtype, Normalize, …).
#: conv2d is the big one: on uint8/float32 oneDNN pads the 3 channels to a 16-channel
#: blocked layout (~50 B per element), on float16/float64 it unfolds the image (im2col:
#: bytes ∝ k²; a float64 GaussianBlur(41) needs ~3.4 KB per element).
SCRATCH_BYTES: dict[str, tuple[float, float, float, float]] = {
    "resize": (3.5, 8.0, 3.5, 3.5),
    "pad_reflect": (9.5, 9.5, 9.5, 9.5),
    "warp": (28.0, 22.0, 20.0, 20.0),
    "elastic": (33.0, 31.0, 22.0, 18.0),
    "jitter_brightness": (8.0, 8.0, 8.0, 8.0),
    "jitter_contrast": (10.0, 10.0, 10.0, 10.0),
    "jitter_saturation": (10.0, 10.0, 10.0, 10.0),
    "jitter_hue": (43.0, 43.0, 43.0, 43.0),
    "gray": (5.0, 5.0, 5.0, 5.0),
    "solarize": (8.5, 8.5, 8.5, 8.5),
    "sharpness": (55.0, 8.0, 44.0, 27.0),
    "autocontrast": (4.0, 4.0, 4.0, 4.0),
    "equalize": (10.5, 10.5, 10.5, 10.5),
    # GaussianBlur: bytes per element of the reflect-padded image, plus bytes per element
    # per kernel tap (im2col; on uint8/float32 the k=41 excess is the padding itself)
    "blur": (54.0, 56.0, 49.0, 48.0),
    "blur_tap": (0.0, 1.2, 0.0, 2.7),
    # one auto-augment op, the hungriest of the policy space (Sharpness: a 3×3 conv2d)
    "auto_op": (55.0, 22.0, 44.0, 27.0),
    "augmix": (64.0, 69.0, 69.0, 42.0),
}


def scratch_per_element(kind: str, dtype: str) -> float:
    """Bytes of working memory per element for ``kind`` on ``dtype`` (0 if not listed)."""
    row = SCRATCH_BYTES.get(kind)
    if row is None:
        return 0.0
    return row[DTYPES.index(dtype)] if dtype in DTYPES else max(row)


# -------------------------------------------------------------------------- estimates


@dataclass(frozen=True, slots=True)
class TensorSize:
    """A tensor's (…, C, H, W) shape and dtype, possibly an upper bound."""

    shape: tuple[int, ...]
    dtype: str
    #: False where the step is random and this is its largest possible output.
    exact: bool = True

    @classmethod
    def of(cls, x: torch.Tensor) -> TensorSize:
        return cls(tuple(int(s) for s in x.shape), str(x.dtype).removeprefix("torch."))

    @property
    def c(self) -> int:
        return self.shape[-3] if len(self.shape) >= 3 else 1

    @property
    def h(self) -> int:
        return self.shape[-2] if len(self.shape) >= 2 else 1

    @property
    def w(self) -> int:
        return self.shape[-1] if self.shape else 1

    @property
    def batch(self) -> int:
        return math.prod(self.shape[:-3]) if len(self.shape) > 3 else 1

    @property
    def pixels(self) -> int:
        return self.batch * self.h * self.w

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def itemsize(self) -> int:
        if self.dtype in _ITEMSIZE:
            return _ITEMSIZE[self.dtype]
        dtype = getattr(torch, self.dtype, None)
        return int(dtype.itemsize) if isinstance(dtype, torch.dtype) else 8

    @property
    def nbytes(self) -> int:
        return self.numel * self.itemsize

    @property
    def floating(self) -> bool:
        return self.dtype.startswith(("float", "bfloat"))

    def with_hw(self, h: int, w: int, *, exact: bool | None = None) -> TensorSize:
        return TensorSize(
            (*self.shape[:-2], h, w), self.dtype, self.exact if exact is None else exact
        )

    def with_c(self, c: int) -> TensorSize:
        return TensorSize((*self.shape[:-3], c, *self.shape[-2:]), self.dtype, self.exact)

    def with_dtype(self, dtype: str) -> TensorSize:
        return TensorSize(self.shape, dtype, self.exact)

    def inexact(self) -> TensorSize:
        return TensorSize(self.shape, self.dtype, False)

    @property
    def text(self) -> str:
        """``3×224×224 float32`` (``up to …`` for a worst case)."""
        exact = f"{'×'.join(map(str, self.shape))} {self.dtype}"
        return exact if self.exact else _("up to {size}").format(size=exact)


@dataclass(frozen=True, slots=True)
class StepEstimate:
    """One enabled step, called once on the estimated input."""

    #: Index of the step in the pipeline (as the editor numbers it, from 0).
    index: int
    name: str
    input: TensorSize
    output: TensorSize
    #: CPU time of one call, worst case (ns).
    ns: float
    #: Of which spent holding the process-wide RNG lock (the draws).
    locked_ns: float
    #: Bytes of new storage the output keeps alive (0: a view or the input itself; a crop
    #: of a padded copy keeps the whole padded copy).
    new_bytes: int
    #: Temporary memory while the step runs (float copies, padded buffers, sample grids).
    scratch_bytes: int
    #: What would make this step cheaper, as an instruction (in the learner's language).
    hint: str
    #: Set when the step cannot run on this input (the run will say why; nothing after
    #: it is estimated).
    fails: str | None = None
    #: Set when running the step could crash the server process: :func:`check` refuses it
    #: (in the learner's language).
    unsafe: str | None = None

    @property
    def label(self) -> str:
        return _("step {n} ({name})").format(n=self.index + 1, name=self.name)


@dataclass(frozen=True, slots=True)
class SampleEstimate:
    """One call of the pipeline on one input: every enabled step in order."""

    input: TensorSize
    steps: tuple[StepEstimate, ...]

    @property
    def output(self) -> TensorSize:
        return self.steps[-1].output if self.steps else self.input

    @property
    def fails(self) -> StepEstimate | None:
        return next((s for s in self.steps if s.fails is not None), None)

    @property
    def ns(self) -> float:
        return sum(s.ns for s in self.steps)

    @property
    def locked_ns(self) -> float:
        return sum(s.locked_ns for s in self.steps)

    @property
    def max_locked_step(self) -> StepEstimate | None:
        return max(self.steps, key=lambda s: s.locked_ns, default=None)

    @property
    def costliest(self) -> StepEstimate | None:
        return max(self.steps, key=lambda s: s.ns, default=None)

    def _owner(self) -> int | None:
        """Position of the step whose new storage the final output lives in (None: the
        output is the input itself or a view of it)."""
        for k in range(len(self.steps) - 1, -1, -1):
            if self.steps[k].new_bytes:
                return k
        return None

    @property
    def kept_bytes(self) -> int:
        """Memory one output keeps alive (0 when it is a view of the input)."""
        k = self._owner()
        return 0 if k is None else self.steps[k].new_bytes

    @property
    def trace_bytes(self) -> int:
        """Memory of every intermediate of one traced call (the output included)."""
        return sum(s.new_bytes for s in self.steps)

    @property
    def transient_bytes(self) -> int:
        """Most memory in flight while one (untraced) call runs, besides what it keeps."""
        owner = self._owner()
        peak = 0
        for k, s in enumerate(self.steps):
            live_in = self.steps[k - 1].new_bytes if k > 0 and k - 1 != owner else 0
            live_out = s.new_bytes if k != owner else 0
            peak = max(peak, s.scratch_bytes + live_in + live_out)
        return peak


# ------------------------------------------------------------------ the per-step model


def _pair(value: Value) -> tuple[int, int]:
    if isinstance(value, tuple):
        return int(value[0]), int(value[-1])
    return int(value), int(value)


def _pad_kind(step: Step) -> str:
    return "pad" if step.get("padding_mode") == "constant" else "pad_reflect"


def _num(step: Step, name: str) -> float:
    value = step.get(name)
    assert isinstance(value, int | float), (step.name, name, value)
    return float(value)


def _mode(step: Step) -> str:
    mode = str(step.get("interpolation"))
    return "nearest" if mode.startswith("nearest") else mode


def resized_hw(h: int, w: int, size: Value, max_size: int | None) -> tuple[int, int]:
    """``v2.Resize``'s output (h, w) (torchvision's ``_compute_resized_output_size``)."""
    if isinstance(size, tuple):
        return int(size[0]), int(size[1])
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = int(size), int(int(size) * long / short)
    if max_size is not None:
        if max_size <= int(size):
            raise ValueError(
                f"max_size = {max_size} must be strictly greater than the requested size "
                f"for the smaller edge size = {size}"
            )
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    return new_h, new_w


def rotated_hw(h: int, w: int, degrees: float) -> tuple[int, int]:
    """Largest (h, w) ``RandomRotation(degrees, expand=True)`` can give: each side's
    maximum over the angles in [-degrees, degrees] (+1 px for torchvision's rounding)."""
    lo, hi = -abs(degrees), abs(degrees)
    candidates = {lo, hi, 0.0}
    for base in (math.degrees(math.atan2(h, w)), math.degrees(math.atan2(w, h))):
        for k in range(-4, 5):
            for a in (base + 90.0 * k, -base + 90.0 * k):
                if lo <= a <= hi:
                    candidates.add(a)
    best_w = best_h = 0.0
    for a in candidates:
        c, s = abs(math.cos(math.radians(a))), abs(math.sin(math.radians(a)))
        best_w = max(best_w, w * c + h * s)
        best_h = max(best_h, w * s + h * c)
    if degrees == 0:
        return h, w
    return math.ceil(best_h - 1e-6) + 1, math.ceil(best_w - 1e-6) + 1


#: the hints (English, marked: translated where a step's estimate is made)
_OFF = N_("turn off Full-resolution preview")
_RESIZE_BEFORE = N_("add a Resize step before it")

_POINTWISE = {
    "RandomHorizontalFlip": ("flip", _OFF),
    "RandomVerticalFlip": ("flip", _OFF),
    "RandomInvert": ("invert", _OFF),
    "RandomPosterize": ("posterize", _OFF),
    "RandomSolarize": ("solarize", _OFF),
    "RandomAdjustSharpness": ("sharpness", _RESIZE_BEFORE),
    "RandomAutocontrast": ("autocontrast", _OFF),
    "RandomEqualize": ("equalize", _RESIZE_BEFORE),
    "Normalize": ("normalize", _OFF),
}

_RESIZE_HINT = N_("add a Resize step first, or turn off Full-resolution preview")
#: Measured here (torch 2.14 CPU): ``grid_sample`` on float16 segfaults — the whole server
#: process — on images of a few hundred thousand pixels (512×650 and up; 400×400 survived
#: 30 tries, which proves nothing). Every step that resamples through it is refused.
_F16_GRID = N_(
    "resamples its input with grid_sample, which on a float16 tensor can crash PyTorch's "
    "CPU kernel (and with it this shared server) on images of a few hundred thousand pixels"
)


#: Measured here (torch 2.14 CPU, 1 thread): GaussianBlur on a float16 tensor with
#: kernel_size ≥ 15 does not finish — k=13 on 3×32×32 takes 2 ms, k=15 ran for minutes.
_F16_BLUR = N_(
    "with a kernel_size of {k} or more on a float16 tensor runs PyTorch's CPU convolution "
    "for minutes even on a tiny image (measured: k=13 takes 2 ms, k=15 did not finish)"
)


def _sigmas(step: Step) -> tuple[float, float]:
    """GaussianBlur's sigma range (one number is the range of itself)."""
    value = step.get("sigma")
    if isinstance(value, int | float):
        return float(value), float(value)
    assert isinstance(value, tuple | list) and len(value) == 2, value
    return float(value[0]), float(value[1])


@functools.lru_cache(maxsize=256)
def subnormal_taps(kernel_size: int, sigma_lo: float, sigma_hi: float, dtype: str) -> int:
    """The most subnormal taps (above 0, below the dtype's smallest normal number) of
    ``GaussianBlur(kernel_size)``'s 2-D kernel for a sigma in ``[sigma_lo, sigma_hi]``,
    computed as torchvision computes it (a softmax of ``-(x/sigma)²`` on
    ``linspace(-lim, lim, k)``, ``lim = (k-1)/(2√2)``; the outer product in the kernel's
    dtype), over 65 sigmas of the range (the count is not monotonic in sigma)."""
    dt = getattr(torch, dtype) if dtype in ("float16", "float32", "float64") else torch.float32
    lim = (kernel_size - 1) / (2.0 * math.sqrt(2.0))
    x = torch.linspace(-lim, lim, steps=kernel_size, dtype=dt)
    sigmas = torch.linspace(sigma_lo, sigma_hi, steps=65, dtype=torch.float64).tolist()
    tiny = torch.finfo(dt).tiny
    most = 0
    for sigma in sigmas:
        k1 = torch.softmax(x.div(sigma).pow(2).neg(), dim=0)
        k2 = k1.unsqueeze(-1) * k1
        most = max(most, int(((k2 > 0) & (k2 < tiny)).sum()))
    return most


def _step(index: int, step: Step, x: TensorSize) -> StepEstimate:
    """One step's output, cost and memory on input ``x`` (see the module docstring)."""
    name = step.name
    spec = spec_for(name)
    d = x.dtype
    E = x.numel
    call = ns("call", d) + (ns("draw", d) if spec.random else 0.0)
    locked = ns("draw", d) if spec.random else 0.0
    out = x
    work = 0.0
    new = True
    storage: int | None = None  # bytes kept alive, when not the output's own size
    scratch = 0.0
    hint = _(_OFF)
    fails: str | None = None
    unsafe: str | None = None
    grid_unsafe = _(_F16_GRID) if d == "float16" else None

    if name in _POINTWISE:
        kind, marked = _POINTWISE[name]
        hint = _(marked)
        work = E * ns(kind, d)
        scratch = E * scratch_per_element(kind, d)
    elif name in ("Resize", "RandomResizedCrop"):
        if name == "Resize":
            max_size = int(_num(step, "max_size")) or None
            try:
                h, w = resized_hw(x.h, x.w, step.get("size"), max_size)
            except ValueError as err:
                h, w, fails = x.h, x.w, str(err)
            out = x.with_hw(h, w)
            hint = _("make the Resize smaller, or turn off Full-resolution preview")
        else:  # a crop of at most the whole image, resized to a fixed size
            h, w = _pair(step.get("size"))
            out = x.with_hw(h, w, exact=True)
            hint = _(_RESIZE_HINT)
        if name == "Resize" and (h, w) == (x.h, x.w):
            new = False  # returned as is
        else:
            work = x.c * x.batch * max(x.h * x.w, h * w) * ns(f"resize_{_mode(step)}", d)
            scratch = max(E, out.numel) * scratch_per_element("resize", d)
    elif name == "CenterCrop":
        h, w = _pair(step.get("size"))
        out = x.with_hw(h, w, exact=True)
        if h <= x.h and w <= x.w:
            new = False  # a view of its input
        else:
            work = out.numel * ns("pad", d)
    elif name == "RandomCrop":
        h, w = _pair(step.get("size"))
        out = x.with_hw(h, w, exact=True)
        pad = int(_num(step, "padding"))
        ph, pw = x.h + 2 * pad, x.w + 2 * pad
        if bool(step.get("pad_if_needed")):
            ph, pw = ph + 2 * max(0, h - ph), pw + 2 * max(0, w - pw)
        elif h > ph or w > pw:
            fails = f"Required crop size ({h}, {w}) is larger than input image size ({ph}, {pw})"
        if (ph, pw) == (x.h, x.w):
            new = False  # a crop is a view of its input ...
        else:  # ... here of a padded copy, which it keeps alive
            padded = x.with_hw(ph, pw)
            work = padded.numel * ns(_pad_kind(step), d)
            scratch = E * scratch_per_element(_pad_kind(step), d)
            storage = padded.nbytes
    elif name == "Pad":
        pad = int(_num(step, "padding"))
        out = x.with_hw(x.h + 2 * pad, x.w + 2 * pad)
        work = out.numel * ns(_pad_kind(step), d)
        scratch = E * scratch_per_element(_pad_kind(step), d)
        hint = _("use a smaller padding, or turn off Full-resolution preview")
    elif name in ("RandomRotation", "RandomAffine", "RandomPerspective"):
        unsafe = grid_unsafe
        if name == "RandomRotation" and bool(step.get("expand")):
            h, w = rotated_hw(x.h, x.w, _num(step, "degrees"))
            out = x.with_hw(h, w, exact=_num(step, "degrees") == 0 and x.exact)
        work = out.numel * ns(f"warp_{_mode(step)}", d)
        scratch = max(E, out.numel) * scratch_per_element("warp", d)
    elif name == "ElasticTransform":
        unsafe = grid_unsafe
        sigma = _num(step, "sigma")
        k = int(8 * sigma + 1)
        k += 1 - k % 2
        P = x.batch * x.h * x.w
        field = ns("field_px", "float32") + k * k * ns("field_tap", "float32") if sigma > 0 else 0
        locked += 2 * P * ns("rand", "float32")
        work = 2 * P * (ns("rand", "float32") + field)
        work += E * ns("elastic_warp", d) + P * ns("describe_elastic", "float32")
        # the warp's measured working memory, plus the two padded float32 fields
        scratch = E * scratch_per_element("elastic", d) + 2 * 4 * (x.h + k) * (x.w + k)
        hint = _(
            "use a smaller sigma (its blur kernel is 8·sigma+1 wide: cost grows with its square)"
        )
    elif name == "ColorJitter":
        parts = [p for p in ("brightness", "contrast", "saturation", "hue") if _num(step, p) > 0]
        if not parts:
            new = False  # no factor: the input is returned as is
        for part in parts:
            work += E * ns(f"jitter_{part}", d)
            scratch = max(scratch, E * scratch_per_element(f"jitter_{part}", d))
    elif name in ("Grayscale", "RandomGrayscale"):
        if name == "Grayscale":
            out = x.with_c(int(_num(step, "num_output_channels")))
        work = E * ns("gray", d)
        scratch = E * scratch_per_element("gray", d)
    elif name == "GaussianBlur":
        k = int(_num(step, "kernel_size"))
        lo, hi = _sigmas(step)
        slow = subnormal_taps(k, lo, hi, "float32" if d == "uint8" else d)
        work = E * (ns("blur_px", d) + k * k * ns("blur_tap", d) + slow * ns("blur_subnormal", d))
        if d == "float16" and k >= F16_BLUR_MAX_KERNEL:
            unsafe = _(_F16_BLUR).format(k=F16_BLUR_MAX_KERNEL)
        # oneDNN's blocked layout (uint8/float32) or im2col (float16/float64: ∝ k²)
        padded_numel = x.with_hw(x.h + k - 1, x.w + k - 1).numel
        scratch = padded_numel * scratch_per_element("blur", d)
        scratch += E * k * k * scratch_per_element("blur_tap", d)
        hint = _("use a smaller kernel_size than {k} (cost grows with its square)").format(k=k)
    elif name in ("AutoAugment", "RandAugment", "TrivialAugmentWide"):
        unsafe = grid_unsafe
        ops = {"AutoAugment": 2, "TrivialAugmentWide": 1}.get(name)
        n_ops = int(_num(step, "num_ops")) if ops is None else ops
        work = n_ops * E * ns(f"auto_op_{_mode(step)}", d)
        locked += n_ops * ns("draw", d)
        scratch = E * scratch_per_element("auto_op", d) if n_ops else 0.0
        new = n_ops > 0
        hint = (
            _(_RESIZE_BEFORE)
            if ops is not None
            else _("add a Resize step before it, or use fewer num_ops")
        )
    elif name == "AugMix":
        unsafe = grid_unsafe
        width = int(_num(step, "mixture_width"))
        depth = int(_num(step, "chain_depth"))
        ops = width * (depth if depth > 0 else 3)
        work = ops * E * ns(f"auto_op_{_mode(step)}", d) + (width + 1) * E * ns("augmix_mix", d)
        locked += 3 * ops * ns("draw", d)  # its draws are taken first, then the work
        scratch = E * scratch_per_element("augmix", d)
        hint = _("add a Resize step before it, or lower mixture_width / chain_depth")
    elif name == "RandomErasing":
        work = E * ns("erase", d)
        if step.get("value") == "random":
            hint = _("use a number as value, a smaller scale, or turn off Full-resolution preview")
            lo_hi = step.get("scale")
            assert isinstance(lo_hi, tuple)
            box = math.ceil(lo_hi[1] * E)
            locked += box * ns("normal", "float32")
            work += box * ns("normal", "float32")
            scratch = 4 * box
    elif name == "RandomIoUCrop":
        out = x.inexact()  # a view of a crop at most the input's size
        new = False
        trials = int(_num(step, "trials"))
        locked += 7 * trials * ns("draw", d)  # up to every IoU option's trials, drawn
        hint = _("use fewer trials")
    elif name == "RandomZoomOut":
        lo_hi = step.get("side_range")
        assert isinstance(lo_hi, tuple)
        side = float(lo_hi[1])
        out = x.with_hw(math.ceil(x.h * side), math.ceil(x.w * side), exact=False)
        work = out.numel * ns("pad", d)
        scratch = E * scratch_per_element("pad", d)
        hint = _("use a smaller side_range, or turn off Full-resolution preview")
    elif name in (
        "SanitizeBoundingBoxes",
        "ClampBoundingBoxes",
        "ConvertBoundingBoxFormat",
        "SanitizeKeyPoints",
        "ClampKeyPoints",
    ):
        new = False  # the image passes through untouched
    elif name == "ToImage":
        new = False  # wraps the same storage
    elif name == "ToDtype":
        dtype = str(step.get("dtype"))
        out = x.with_dtype(dtype)
        if dtype == d:
            new = False  # returned as is
        else:
            work = E * ns("todtype", d)
    else:  # pragma: no cover - every catalog transform is listed above (a test checks)
        raise AssertionError(f"no cost model for {name}")

    locked = min(locked, call + work)
    return StepEstimate(
        index=index,
        name=name,
        input=x,
        output=out,
        ns=call + work,
        locked_ns=locked,
        new_bytes=0 if not new else (storage if storage is not None else out.nbytes),
        scratch_bytes=int(scratch),
        hint=hint,
        fails=fails,
        unsafe=unsafe,
    )


#: the steps that move pixels: instance masks go through them too (colour steps and
#: conversions leave a Mask alone)
_MOVES_MASKS = frozenset({Category.SIZE, Category.GEOMETRY, Category.BOXES})


def estimate(
    pipeline: Pipeline,
    shape: Sequence[int],
    dtype: torch.dtype | str = torch.uint8,
    *,
    masks: int = 0,
) -> SampleEstimate:
    """Every enabled step's output size, cost and memory for one call on an input of
    ``shape`` and ``dtype`` (and ``masks`` instance masks of its size beside it):
    computes nothing, takes microseconds."""
    name = dtype if isinstance(dtype, str) else str(dtype).removeprefix("torch.")
    x = TensorSize(tuple(int(s) for s in shape), name)
    first = x
    m = TensorSize((masks, x.h, x.w), "uint8") if masks else None
    steps: list[StepEstimate] = []
    for index, step in pipeline.active:
        est = _step(index, step, x)
        if m is not None and spec_for(step.name).category in _MOVES_MASKS:
            # the instance masks go through the same geometry: N more uint8 planes
            me = _step(index, step, m)
            est = replace(
                est,
                ns=est.ns + me.ns,
                new_bytes=est.new_bytes + me.new_bytes,
                scratch_bytes=est.scratch_bytes + me.scratch_bytes,
            )
            m = me.output
        steps.append(est)
        if est.fails is not None:
            break
        x = est.output
    return SampleEstimate(first, tuple(steps))


# ---------------------------------------------------------------------------- requests


@dataclass(frozen=True, slots=True)
class Work:
    """What one part of a request computes: ``calls`` calls of one pipeline."""

    #: "a grid of 8 samples", "the train preset's 4 samples", … (in the learner's language)
    what: str
    sample: SampleEstimate
    calls: int
    #: Is one call's every intermediate kept (the grid's step-by-step trace)?
    traced: bool = False

    @property
    def output_bytes(self) -> int:
        """Memory the kept outputs take (a traced call is counted in ``trace_bytes``)."""
        return (self.calls - int(self.traced)) * self.sample.kept_bytes

    @property
    def trace_bytes(self) -> int:
        return self.sample.trace_bytes if self.traced else 0

    @property
    def transient_bytes(self) -> int:
        return self.sample.transient_bytes

    @property
    def nbytes(self) -> int:
        return self.output_bytes + self.trace_bytes + self.transient_bytes

    @property
    def seconds(self) -> float:
        return self.calls * self.sample.ns / 1e9

    @property
    def locked_seconds(self) -> float:
        """Longest time one step call holds the shared RNG lock."""
        step = self.sample.max_locked_step
        return 0.0 if step is None else step.locked_ns / 1e9


def grid_work(
    pipeline: Pipeline,
    shape: Sequence[int],
    dtype: torch.dtype | str = torch.uint8,
    *,
    n: int,
    trace: bool = True,
    masks: int = 0,
) -> Work:
    """A grid of ``n`` samples, one of them traced step by step when ``trace``; with
    ``masks`` instance masks (one H×W uint8 plane each) transformed beside the image."""
    what = _("a grid of {n} samples") if n != 1 else _("a grid of {n} sample")
    return Work(what.format(n=n), estimate(pipeline, shape, dtype, masks=masks), n, traced=trace)


def train_val_work(
    shape: Sequence[int], dtype: torch.dtype | str = torch.uint8, *, n: int, masks: int = 0
) -> tuple[Work, Work]:
    """The train-vs-val comparison: ``n`` untraced samples of each preset."""
    train = estimate(train_preset(), shape, dtype, masks=masks)
    val = estimate(val_preset(), shape, dtype, masks=masks)
    return (
        Work(_("the train preset's {n} samples").format(n=n), train, n),
        Work(_("the val preset's {n} samples").format(n=n), val, n),
    )


# ------------------------------------------------------------------------------ check


def _mb(nbytes: float) -> str:
    return f"{nbytes / 2**20:,.0f} MB"


def _s(seconds: float) -> str:
    return f"{seconds:,.1f} s" if seconds >= 0.95 else f"{seconds:.2f} s"


#: how :func:`_listed` joins: "a and b" (no comma), "a, b and c"; "a, b" (commas only);
#: "a or b", "a, b, or c" (the time limit's fixes)
_AND, _COMMA, _OR = "and", "comma", "or"


def _listed(parts: Sequence[str], how: str) -> str:
    """``parts`` joined as one phrase, in the learner's language."""
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    if how == _COMMA:
        return functools.reduce(lambda a, b: _("{items}, {item}").format(items=a, item=b), parts)
    if how == _AND:
        return functools.reduce(lambda a, b: _("{a} and {b}").format(a=a, b=b), parts)
    head = functools.reduce(lambda a, b: _("{items}, {item}").format(items=a, item=b), parts[:-1])
    many = _("{items}, or {last}") if len(parts) > 2 else _("{items} or {last}")
    return many.format(items=head, last=parts[-1])


def _instruction(text: str) -> str:
    """``text`` as a sentence: its first letter upper-case, a full stop at its end."""
    return _("{instruction}.").format(instruction=text[:1].upper() + text[1:])


def _total_bytes(works: Sequence[Work]) -> int:
    """Everything kept, plus the largest working set of any one step."""
    transient = max((w.transient_bytes for w in works), default=0)
    return sum(w.output_bytes + w.trace_bytes for w in works) + transient


def _memory_error(works: Sequence[Work], max_bytes: int) -> LessonError | None:
    transient = max((w.transient_bytes for w in works), default=0)
    total = _total_bytes(works)
    if total <= max_bytes:
        return None
    limit = _mb(max_bytes)
    main = max(works, key=lambda w: w.output_bytes + w.trace_bytes)
    out = main.sample.output
    each = main.sample.kept_bytes
    if each > max_bytes:
        return LessonError(
            _(
                "One sample of {size} alone takes {mb} of memory, more than the {limit} one "
                "request may use on this shared server (memory limit)."
            ).format(size=out.text, mb=_mb(each), limit=limit),
            fix=_("Add or shrink a Resize step, or turn off Full-resolution preview."),
        )
    # everything but the main part's outputs (its traced call's intermediates stay)
    others = total - main.output_bytes - (each if main.traced else 0)
    fits = (max_bytes - others) // each if each else 0
    n = main.calls
    if 1 <= fits < n:  # fewer outputs would fit: say so
        parts = [
            _("{mb} for {what}").format(mb=_mb(w.output_bytes + w.trace_bytes), what=w.what)
            for w in works
            if w is not main and w.output_bytes + w.trace_bytes
        ]
        if main.trace_bytes - each > 0:
            parts.append(_("{mb} for the step trace").format(mb=_mb(main.trace_bytes - each)))
        if transient:
            parts.append(_("{mb} of working memory").format(mb=_mb(transient)))
        head = _("{n} samples of {size} would take {mb} of memory").format(
            n=n, size=out.text, mb=_mb(n * each)
        )
        if parts:
            head = _("{head}, plus {parts}").format(head=head, parts=_listed(parts, _AND))
        return LessonError(
            _(
                "{head}; one request may use at most {limit} on this shared server (about "
                "{fits} samples of this size)."
            ).format(head=head, limit=limit, fits=fits),
            fix=_(
                "Show at most {fits} samples, add a Resize/RandomResizedCrop step, or turn off "
                "Full-resolution preview."
            ).format(fits=fits),
        )
    parts = []
    for w in works:
        if w.output_bytes:
            parts.append(_("{mb} for {what}").format(mb=_mb(w.output_bytes), what=w.what))
        if w.trace_bytes:
            biggest = max(s.new_bytes for s in w.sample.steps)
            parts.append(
                _(
                    "{mb} for the step-by-step trace (it keeps every intermediate of one "
                    "sample, up to {each} each)"
                ).format(mb=_mb(w.trace_bytes), each=_mb(biggest))
            )
    if transient:
        parts.append(_("{mb} of working memory while a step runs").format(mb=_mb(transient)))
    return LessonError(
        _(
            "Memory limit: this would take {mb} ({parts}); one request may use at most {limit} "
            "on this shared server."
        ).format(mb=_mb(total), parts=_listed(parts, _COMMA), limit=limit),
        fix=_(
            "Show fewer samples, add a Resize step early in the pipeline, or turn off "
            "Full-resolution preview."
        ),
    )


def _time_error(works: Sequence[Work], max_seconds: float) -> LessonError | None:
    total = sum(w.seconds for w in works)
    if total <= max_seconds:
        return None
    main = max(works, key=lambda w: w.seconds)
    per_call = main.sample.ns / 1e9
    worst = main.sample.costliest
    assert worst is not None
    detail = _("{step} alone about {s} per call on {size}").format(
        step=worst.label, s=_s(worst.ns / 1e9), size=worst.input.text
    )
    fits = int((max_seconds - (total - main.seconds)) // per_call) if per_call else 0
    fixes = []
    if 1 <= fits < main.calls:
        fixes.append(_("show at most {n} samples").format(n=fits))
    fixes.append(worst.hint)
    off = _(_OFF)
    if off not in worst.hint:
        fixes.append(off)
    return LessonError(
        _(
            "Time limit: {what} would take about {s} of CPU ({calls} × {per_call}; {detail}), "
            "more than the {most:g} s one request may use on this shared server."
        ).format(
            what=main.what,
            s=_s(total),
            calls=main.calls,
            per_call=_s(per_call),
            detail=detail,
            most=max_seconds,
        ),
        fix=_instruction(_listed(fixes, _OR)),
    )


def _lock_error(works: Sequence[Work], max_locked: float) -> LessonError | None:
    main = max(works, key=lambda w: w.locked_seconds)
    if main.locked_seconds <= max_locked:
        return None
    step = main.sample.max_locked_step
    assert step is not None
    return LessonError(
        _(
            "Time limit: {step} draws so many random numbers per call on {size} that it would "
            "hold the random-number lock every learner shares for about {ms:,.0f} ms, more "
            "than the {most:g} ms one call may hold it (everyone else's draws wait meanwhile)."
        ).format(
            step=step.label,
            size=step.input.text,
            ms=step.locked_ns / 1e6,
            most=max_locked * 1000,
        ),
        fix=_instruction(step.hint),
    )


def check(
    *works: Work,
    max_bytes: int = GRID_MAX_BYTES,
    max_seconds: float = AUGMENT_MAX_CPU_S,
    max_locked_seconds: float = AUGMENT_MAX_LOCKED_S,
) -> None:
    """Refuse, before anything runs, a request whose parts together need more memory,
    CPU time or RNG-lock time than one request may use (a :class:`LessonError` naming the
    limit, the numbers and what to change)."""
    if not works:
        return
    for w in works:
        bad = next((s for s in w.sample.steps if s.unsafe), None)
        if bad is not None:
            raise LessonError(
                _("Safety limit: {step} {why}; it is not run on {size}.").format(
                    step=bad.label, why=bad.unsafe, size=bad.input.text
                ),
                fix=_("Move ToDtype(float16) after {name}, or convert to float32 instead.").format(
                    name=bad.name
                ),
            )
    memory = _memory_error(works, max_bytes)
    slow = _time_error(works, max_seconds)
    if memory is not None and slow is not None:
        # both limits: lead with the one exceeded by more, mention the other
        nbytes = _total_bytes(works)
        seconds = sum(w.seconds for w in works)
        if seconds / max_seconds >= nbytes / max_bytes:
            also = _("It would also need {mb} of memory (at most {most}).").format(
                mb=_mb(nbytes), most=_mb(max_bytes)
            )
            raise LessonError(f"{slow.message} {also}", fix=slow.fix)
        also = _("It would also take about {s} of CPU (at most {most:g} s).").format(
            s=_s(seconds), most=max_seconds
        )
        raise LessonError(f"{memory.message} {also}", fix=memory.fix)
    for err in (memory, slow, _lock_error(works, max_locked_seconds)):
        if err is not None:
            raise err
