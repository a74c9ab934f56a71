"""Seeded preview grids that also report the random parameters each sample actually drew.

Seeding scheme (the exported code reproduces it exactly)::

    torch.manual_seed(seed)
    samples = [pipeline(img) for _ in range(n)]     # sample i = the i-th call, in order

The grid calls the enabled steps one after the other, which is exactly what
``v2.Compose.forward`` does, drawing from a :class:`ptexplore.rng.Stream` — this request's
own copy of torch's CPU RNG after ``torch.manual_seed(seed)``. Only the *draws* hold the
process-wide RNG lock (:func:`apply_step`): a standard v2 transform's ``forward`` is split
into its parameter draw (``make_params``, plus the ``torch.rand(1) < p`` of a random-apply
transform), made with the stream swapped into torch's global RNG under the lock, and its
deterministic ``transform(inpt, params)``, run outside it. So one learner's 2-second grid
never makes another's 20 ms grid wait, and the draws are the same numbers in the same order
as in the exported script.

Before anything runs, :mod:`ptexplore.augment.budget` estimates the whole request (every
sample, the step trace) and refuses one that would need too much memory or CPU time.

To *see* the draws without changing them, each built transform gets instance-level
wrappers around the methods torchvision itself calls: ``make_params`` (v2's parameter
sampler: crop box, angle, jitter factors, …) and, for the auto-augment family,
``_apply_image_or_video_transform`` (the op and magnitude chosen). The wrappers only
record; they draw nothing, so the random stream is untouched.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import PIL.Image
import torch
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

from ptexplore import isolate
from ptexplore.augment.budget import check, grid_work
from ptexplore.augment.catalog import spec_for
from ptexplore.augment.pipeline import Pipeline, Step
from ptexplore.augment.targets import (
    ID_MAP,
    Annotations,
    Box,
    BoxFate,
    fate_summary,
    instance_masks,
    overall,
    step_fates,
    xyxy_rows,
)
from ptexplore.augment.targets import target as target_of
from ptexplore.compat import (
    V2_APPLY_OP,
    V2_SAMPLE_DIRICHLET,
    V2Private,
    tree_flatten,
    tree_unflatten,
    v2_query_size,
    v2_random_apply_transform,
)
from ptexplore.errors import LessonError
from ptexplore.figures import Figure, figure
from ptexplore.i18n import N_, _
from ptexplore.images.display import Norm
from ptexplore.limits import (
    AUGMENT_MAX_CPU_S,
    SANDBOX_GRID_CPU_S,
    SANDBOX_GRID_MEMORY_MB,
    SANDBOX_GRID_WALL_S,
)
from ptexplore.limits import GRID_MAX_BYTES as MAX_GRID_BYTES
from ptexplore.limits import GRID_MAX_SAMPLES as MAX_SAMPLES
from ptexplore.rng import Stream
from ptexplore.style import PALETTE


@dataclass(frozen=True, slots=True)
class Draw:
    """What one step did to one sample."""

    step: int
    name: str
    #: For probability-p steps: did it fire? ``None`` for steps that always run.
    applied: bool | None
    text: str


def caption(index: int, draws: Sequence[Draw], fates: tuple[BoxFate, ...] = ()) -> str:
    """A sample's caption: its index, what its random steps drew and, with boxes, what
    the pipeline did to them."""
    parts = [d.text for d in draws if d.text]
    drawn = (
        functools.reduce(lambda a, b: _("{draws}; {draw}").format(draws=a, draw=b), parts)
        if parts
        else _("no random step")
    )
    head = f"#{index} · {drawn}"
    return f"{head} · {fate_summary(fates)}" if fates else head


@dataclass(frozen=True, slots=True, eq=False)
class Sample:
    index: int
    tensor: torch.Tensor
    draws: tuple[Draw, ...]
    #: the transformed target (``boxes``, ``labels``, ``masks``, ``keypoints``), if any
    target: dict[str, Any] | None = None
    #: the boxes still there, by their index in the annotations (Sanitize removes some)
    ids: tuple[int, ...] = ()
    #: each box's fate over the whole pipeline
    fates: tuple[BoxFate, ...] = ()

    @property
    def caption(self) -> str:
        return caption(self.index, self.draws, self.fates)


@dataclass(frozen=True, slots=True, eq=False)
class TraceStep:
    """The traced sample after one step (step ``-1`` = the input)."""

    step: int
    name: str
    tensor: torch.Tensor
    draw: Draw | None
    norm: Norm | None
    target: dict[str, Any] | None = None
    ids: tuple[int, ...] = ()
    #: what this step did to each box that reached it
    fates: tuple[BoxFate, ...] = ()

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.tensor.shape)

    @property
    def dtype(self) -> str:
        return str(self.tensor.dtype).removeprefix("torch.")

    @property
    def value_range(self) -> tuple[float, float]:
        t = self.tensor
        return float(t.min()), float(t.max())

    @property
    def caption(self) -> str:
        c, h, w = self.shape[-3:]
        lo, hi = self.value_range
        head = (
            _("input")
            if self.step < 0
            else _("step {k}: {name}").format(k=self.step + 1, name=self.name)
        )
        return _("{head} → {c}×{h}×{w} {dtype}, values {lo:.3g}…{hi:.3g}").format(
            head=head, c=c, h=h, w=w, dtype=self.dtype, lo=lo, hi=hi
        )


@dataclass(frozen=True, slots=True, eq=False)
class Grid:
    seed: int
    samples: tuple[Sample, ...]
    trace: tuple[TraceStep, ...]
    trace_index: int | None
    norm: Norm | None

    @property
    def output_shapes(self) -> tuple[tuple[int, ...], ...]:
        return tuple(tuple(int(s) for s in x.tensor.shape) for x in self.samples)


# ------------------------------------------------------------------ recording the draws


class _Recorder:
    """Instance-level wrappers that copy what torchvision drew for one transform."""

    def __init__(self, transform: v2.Transform) -> None:
        self.params: dict[str, Any] | None = None
        self.ops: list[tuple[str, float]] = []
        self.mix: list[float] = []
        make_params: Callable[[list[Any]], dict[str, Any]] = transform.make_params

        def recording_make_params(flat_inputs: list[Any]) -> dict[str, Any]:
            params = make_params(flat_inputs)
            self.params = params
            return params

        object.__setattr__(transform, "make_params", recording_make_params)
        if isinstance(transform, v2.SanitizeBoundingBoxes):
            # its own forward computes ``valid`` without make_params and hands it to
            # ``transform`` for every input: the first call's params say which boxes stay
            apply = transform.transform

            def recording_transform(inpt: Any, params: dict[str, Any]) -> Any:
                if self.params is None:
                    self.params = params
                return apply(inpt, params)

            object.__setattr__(transform, "transform", recording_transform)
        if hasattr(transform, V2_APPLY_OP):
            apply_op = V2Private(transform).method(V2_APPLY_OP)

            def recording_apply(image: Any, transform_id: str, magnitude: float, **kw: Any) -> Any:
                self.ops.append((transform_id, float(magnitude)))
                return apply_op(image, transform_id, magnitude, **kw)

            object.__setattr__(transform, V2_APPLY_OP, recording_apply)
        if isinstance(transform, v2.AugMix):
            dirichlet = V2Private(transform).method(V2_SAMPLE_DIRICHLET)

            def recording_dirichlet(params: torch.Tensor) -> torch.Tensor:
                out: torch.Tensor = dirichlet(params)
                if not self.mix:
                    self.mix.append(float(out.reshape(-1)[0]))
                return out

            object.__setattr__(transform, V2_SAMPLE_DIRICHLET, recording_dirichlet)

    def reset(self) -> None:
        self.params = None
        self.ops = []
        self.mix = []


# ------------------------------------------------------- one step, drawing under the lock

_MISSING = object()
#: The auto-augment policies whose forward only draws and calls
#: ``_apply_image_or_video_transform``: their draws are planned on a meta proxy under the
#: lock, then the ops are replayed on the real image outside it.
_POLICIES: tuple[type[v2.Transform], ...] = (
    v2.AutoAugment,
    v2.RandAugment,
    v2.TrivialAugmentWide,
)


def _selected(t: v2.Transform, flat: list[Any]) -> tuple[list[bool], list[Any]]:
    needs = V2Private(t).needs_transform_list(flat)
    return needs, [inpt for inpt, need in zip(flat, needs, strict=True) if need]


def _finish(t: v2.Transform, flat: list[Any], spec: Any, needs: list[bool], params: Any) -> Any:
    outs = [t.transform(i, params) if need else i for i, need in zip(flat, needs, strict=True)]
    return tree_unflatten(outs, spec)


def _elastic_params(t: v2.ElasticTransform, rx: torch.Tensor, ry: torch.Tensor) -> dict[str, Any]:
    """``ElasticTransform.make_params`` from its two drawn fields (torchvision 0.29's code:
    the blur between the draws uses no RNG, so drawing both first gives the same numbers)."""
    height, width = int(rx.shape[-2]), int(rx.shape[-1])
    dx = rx * 2 - 1
    if t.sigma[0] > 0.0:
        kx = int(8 * t.sigma[0] + 1)
        kx += 1 - kx % 2
        dx = V2Private(t).call_kernel(F.gaussian_blur, dx, [kx, kx], list(t.sigma))
    dx = dx * t.alpha[0] / width
    dy = ry * 2 - 1
    if t.sigma[1] > 0.0:
        ky = int(8 * t.sigma[1] + 1)
        ky += 1 - ky % 2
        dy = V2Private(t).call_kernel(F.gaussian_blur, dy, [ky, ky], list(t.sigma))
    dy = dy * t.alpha[1] / height
    return {"displacement": torch.concat([dx, dy], 1).permute([0, 2, 3, 1])}


def _policy(t: v2.Transform, x: Any, stream: Stream) -> Any:
    """AutoAugment / RandAugment / TrivialAugmentWide: run the real forward on a meta
    proxy under the lock with a planner in place of ``_apply_image_or_video_transform``
    (every draw happens, no pixel is computed), then replay the planned ops on ``x``."""
    planned: list[tuple[str, float, Any, Any]] = []

    def plan(image: Any, transform_id: str, magnitude: float, **kw: Any) -> Any:
        planned.append((transform_id, magnitude, kw["interpolation"], kw["fill"]))
        return image

    proxy = torch.empty(x.shape, dtype=x.dtype, device="meta").as_subclass(type(x))
    saved = t.__dict__.get(V2_APPLY_OP, _MISSING)
    object.__setattr__(t, V2_APPLY_OP, plan)
    try:
        with stream.active():
            t(proxy)
    finally:
        if saved is _MISSING:
            del t.__dict__[V2_APPLY_OP]
        else:
            object.__setattr__(t, V2_APPLY_OP, saved)
    private = V2Private(t)
    where, image = private.extract_image((x,))
    for transform_id, magnitude, interpolation, fill in planned:
        image = private.apply_op(
            image, transform_id, magnitude, interpolation=interpolation, fill=fill
        )
    return private.insert_image(where, image)


def _augmix(t: v2.AugMix, x: Any, stream: Stream) -> Any:
    """``AugMix.forward`` (torchvision 0.29) with its draws taken first, under the lock, and
    its chains and mixing computed after: no draw depends on a pixel, so the numbers and
    their order are the same (a test compares the two on many seeds and settings)."""
    private = V2Private(t)
    where, orig = private.extract_image((x,))
    height, width = F.get_size(orig)
    image = orig if isinstance(orig, torch.Tensor) else F.pil_to_tensor(orig)
    space = private.augmentation_space(t.all_ops)
    orig_dims = list(image.shape)
    expected_ndim = 5 if isinstance(orig, tv_tensors.Video) else 4
    batch = image.reshape([1] * max(expected_ndim - image.ndim, 0) + orig_dims)
    batch_dims = [batch.size(0)] + [1] * (batch.ndim - 1)
    chains: list[list[tuple[str, float]]] = []
    with stream.active():
        m = private.sample_dirichlet(
            torch.tensor([t.alpha, t.alpha], device=batch.device).expand(batch_dims[0], -1)
        )
        weights = private.sample_dirichlet(
            torch.tensor([t.alpha] * t.mixture_width, device=batch.device).expand(batch_dims[0], -1)
        )
        for _chain in range(t.mixture_width):
            depth = (
                t.chain_depth
                if t.chain_depth > 0
                else int(torch.randint(low=1, high=4, size=(1,)).item())
            )
            ops = []
            for _op in range(depth):
                transform_id, (magnitudes_fn, signed) = private.random_item(space)
                magnitudes = magnitudes_fn(private.parameter_max, height, width)
                if magnitudes is not None:
                    magnitude = float(magnitudes[int(torch.randint(t.severity, ()))])
                    if signed and torch.rand(()) <= 0.5:
                        magnitude *= -1
                else:
                    magnitude = 0.0
                ops.append((transform_id, magnitude))
            chains.append(ops)
    combined_weights = weights * m[:, 1].reshape([batch_dims[0], -1])
    mix = m[:, 0].reshape(batch_dims) * batch
    for i, ops in enumerate(chains):
        aug = batch
        for transform_id, magnitude in ops:
            aug = private.apply_op(
                aug, transform_id, magnitude, interpolation=t.interpolation, fill=private.fill
            )
        mix.add_(combined_weights[:, i].reshape(batch_dims) * aug)
    mix = mix.reshape(orig_dims).to(dtype=image.dtype)
    if isinstance(orig, tv_tensors.Image | tv_tensors.Video):
        mix = tv_tensors.wrap(mix, like=orig)
    elif isinstance(orig, PIL.Image.Image):
        mix = F.to_pil_image(mix)
    return private.insert_image(where, mix)


def apply_step(
    t: v2.Transform,
    x: Any,
    stream: Stream,
    *,
    random: bool = True,
    recorder: _Recorder | None = None,
) -> Any:
    """``t(x)`` drawing from ``stream``, holding the global RNG lock only for the draws.

    Equal to ``t(x)`` with ``stream`` as torch's global RNG (the split below reproduces
    torchvision's ``Transform.forward`` / ``_RandomApplyTransform.forward`` line by line).
    The auto-augment policies and AugMix, whose own ``forward`` interleaves draws and
    work, are planned first (:func:`_policy`, :func:`_augmix`); any other transform with
    its own ``forward`` runs whole under the lock. ``random`` False (a catalog step that
    draws nothing) runs with no lock at all.
    """
    if not random:
        return t(x)
    forward = type(t).forward
    if forward is v2.Transform.forward:
        flat, spec = tree_flatten(x)
        t.check_inputs(flat)
        needs, chosen = _selected(t, flat)
        if isinstance(t, v2.ElasticTransform) and (
            type(t).make_params is v2.ElasticTransform.make_params
        ):
            height, width = v2_query_size(chosen)
            with stream.active():
                rx = torch.rand(1, 1, height, width)
                ry = torch.rand(1, 1, height, width)
            params = _elastic_params(t, rx, ry)
            if recorder is not None:
                recorder.params = params
        else:
            with stream.active():
                params = t.make_params(chosen)
        return _finish(t, flat, spec, needs, params)
    random_apply = v2_random_apply_transform()
    if forward is random_apply.forward:
        assert isinstance(t, random_apply)
        flat, spec = tree_flatten(x)
        t.check_inputs(flat)
        with stream.active():
            if torch.rand(1) >= t.p:
                return x
            needs, chosen = _selected(t, flat)
            params = t.make_params(chosen)
        return _finish(t, flat, spec, needs, params)
    planned = isinstance(x, torch.Tensor)  # (a PIL image or a sample tuple: whole forward)
    if planned and type(t) in _POLICIES and forward is type(t).__dict__.get("forward"):
        return _policy(t, x, stream)
    if planned and type(t) is v2.AugMix and forward is v2.AugMix.forward:
        return _augmix(t, x, stream)
    with stream.active():
        return t(x)


_RANDOM_APPLY = (
    "RandomHorizontalFlip",
    "RandomVerticalFlip",
    "RandomPerspective",
    "RandomGrayscale",
    "RandomInvert",
    "RandomPosterize",
    "RandomSolarize",
    "RandomAdjustSharpness",
    "RandomAutocontrast",
    "RandomEqualize",
    "RandomErasing",
)

#: what a random-apply step's caption calls it (English, marked: translated where used)
_SHORT = {
    "RandomHorizontalFlip": N_("h-flip"),
    "RandomVerticalFlip": N_("v-flip"),
    "RandomPerspective": N_("perspective"),
    "RandomGrayscale": N_("gray"),
    "RandomInvert": N_("invert"),
    "RandomPosterize": N_("posterize"),
    "RandomSolarize": N_("solarize"),
    "RandomAdjustSharpness": N_("sharpen"),
    "RandomAutocontrast": N_("autocontrast"),
    "RandomEqualize": N_("equalize"),
    "RandomErasing": N_("erase"),
}


def _f(x: Any) -> float:
    return float(x.item() if isinstance(x, torch.Tensor) else x)


#: ColorJitter's factors in a caption, by ``fn_idx`` (hue has its own: a shift, not a factor)
_JITTER = (N_("bri×{factor:.2f}"), N_("con×{factor:.2f}"), N_("sat×{factor:.2f}"))


def describe(
    name: str,
    params: dict[str, Any] | None,
    ops: Sequence[tuple[str, float]],
    mix: Sequence[float],
    in_hw: tuple[int, int],
) -> Draw:
    """Turn recorded params into a Draw with a short human text (step set by the caller)."""
    if name in _RANDOM_APPLY:
        applied = params is not None
        short = _(_SHORT[name])
        if not applied:
            return Draw(-1, name, False, _("no {short}").format(short=short))
        assert params is not None
        if name == "RandomErasing":
            i, j, h, w = (int(params[k]) for k in ("i", "j", "h", "w"))
            return Draw(
                -1, name, True, _("erased {w}×{h} at x={x}, y={y}").format(w=w, h=h, x=j, y=i)
            )
        return Draw(-1, name, True, short)
    if params is None and not ops:
        return Draw(-1, name, None, "")
    p = params or {}
    if name in ("RandomResizedCrop", "RandomCrop") and "top" in p:
        top, left, h, w = (int(p[k]) for k in ("top", "left", "height", "width"))
        area = h * w / (in_hw[0] * in_hw[1])
        text = _("crop {w}×{h} at x={x}, y={y} ({area:.0%} of area)").format(
            w=w, h=h, x=left, y=top, area=area
        )
        return Draw(-1, name, None, text)
    if name == "RandomRotation":
        return Draw(-1, name, None, _("angle {angle:+.1f}°").format(angle=_f(p["angle"])))
    if name == "RandomAffine":
        tx, ty = (int(v) for v in p["translate"])
        sx, sy = (_f(v) for v in p["shear"])
        fields = {"angle": _f(p["angle"]), "tx": tx, "ty": ty, "scale": _f(p["scale"])}
        if sx or sy:
            text = _(
                "angle {angle:+.1f}°, shift ({tx:+d},{ty:+d}) px, scale {scale:.2f}, "
                "shear ({sx:+.1f}°, {sy:+.1f}°)"
            ).format(sx=sx, sy=sy, **fields)
        else:
            text = _("angle {angle:+.1f}°, shift ({tx:+d},{ty:+d}) px, scale {scale:.2f}").format(
                **fields
            )
        return Draw(-1, name, None, text)
    if name == "ColorJitter":
        names = ("brightness", "contrast", "saturation", "hue")
        order = [int(k) for k in p["fn_idx"]]
        parts = []
        for k in order:
            v = p[f"{names[k]}_factor"]
            if v is None:
                continue
            parts.append(
                _("hue {hue:+.3f}").format(hue=_f(v))
                if k == 3
                else _(_JITTER[k]).format(factor=_f(v))
            )
        listed = (
            functools.reduce(lambda a, b: _("{list}, {item}").format(list=a, item=b), parts)
            if parts
            else _("no jitter (all factors 0)")
        )
        return Draw(-1, name, None, listed)
    if name == "GaussianBlur":
        return Draw(-1, name, None, _("blur σ={sigma:.2f}").format(sigma=_f(p["sigma"][0])))
    if name == "ElasticTransform":
        disp = p["displacement"]
        h, w = in_hw
        scale = torch.tensor([w / 2.0, h / 2.0])
        shift = float((disp * scale).norm(dim=-1).max())
        return Draw(-1, name, None, _("elastic, max shift {shift:.1f} px").format(shift=shift))
    if ops or name in ("AutoAugment", "RandAugment", "TrivialAugmentWide", "AugMix"):
        shown = [f"{op}({m:+.2f})" if m else op for op, m in ops]
        if name == "AugMix":
            head = (
                _("AugMix {n} ops, original weight {weight:.2f}").format(n=len(ops), weight=mix[0])
                if mix
                else _("AugMix {n} ops").format(n=len(ops))
            )
            more = _(" +{n} more").format(n=len(shown) - 3) if len(shown) > 3 else ""
            return Draw(-1, name, None, f"{head}: {', '.join(shown[:3])}{more}")
        return Draw(
            -1,
            name,
            None,
            ", ".join(shown) if shown else _("{name}: no op applied").format(name=name),
        )
    return Draw(-1, name, None, "")


# ----------------------------------------------------------------------------- errors

#: (step, a part of torch's message, the fix: English, marked, translated where used)
_HINTS: tuple[tuple[str, str, str], ...] = (
    ("Normalize", "float tensor", N_("Put ToDtype(float32, scale=True) before Normalize.")),
    (
        "Normalize",
        "",
        N_("Normalize needs one mean/std per channel: check Grayscale(num_output_channels)."),
    ),
    ("RandomPosterize", "", N_("Posterize works on uint8 only: move it before ToDtype.")),
    ("RandomEqualize", "", N_("Equalize works on uint8 only: move it before ToDtype.")),
    ("RandomSolarize", "", N_("After ToDtype(scale=True) values are 0–1: use a threshold ≤ 1.")),
    ("RandomCrop", "larger than", N_("Tick pad_if_needed, or crop smaller than the image.")),
    (
        "SanitizeKeyPoints",  # on a photo without keypoints (torchvision's fixed words)
        "No keypoints were found in the sample",
        N_(
            "This step works on keypoints: pick a sample photo (they come with keypoints), or "
            "remove the step."
        ),
    ),
)
#: a detection step on a photo without boxes
_NEEDS_BOXES = N_(
    "This step works on boxes: pick a sample photo (they come annotated) or add boxes for "
    "your photo under Images → Boxes."
)
_BOX_STEPS = ("RandomIoUCrop", "SanitizeBoundingBoxes")


def _fail(
    index: int, step: Step, x: torch.Tensor, err: Exception, *, masks: bool = False
) -> LessonError:
    shape = "×".join(str(int(s)) for s in x.shape)
    dtype = str(x.dtype).removeprefix("torch.")
    fix = _("Change this step's settings, move it, or disable it.")
    if step.name in _BOX_STEPS and "bounding box" in str(err).lower():
        fix = _(_NEEDS_BOXES)
    if masks and "fill" in step.kwargs and "overflow" in str(err):
        return LessonError(
            _(
                "Step {k} ({name}) failed: torchvision fills the masks with this "
                "step's fill too, and a uint8 Mask cannot hold {fill} — {err}"
            ).format(k=index + 1, name=step.name, fill=repr(step.get("fill")), err=err),
            # (no .format: the braces below are the code's own)
            fix=_(
                "Use a fill of 0 to 255 (the masks get it as well: 0 keeps them clean), "
                "switch off Boxes, masks & keypoints, or in your code give fill per type: "
                'fill={tv_tensors.Mask: 0, "others": value} (a key tv_tensors.Image would miss '
                "a plain-tensor image, which then silently gets 0)."
            ),
        )
    for name, needle, hint in _HINTS:
        if step.name == name and needle in str(err):
            fix = _(hint)
            break
    return LessonError(
        _("Step {k} ({name}) failed on a {shape} {dtype} tensor: {err}").format(
            k=index + 1, name=step.name, shape=shape, dtype=dtype, err=err
        ),
        fix=fix,
    )


def seeded_pipeline(pipeline: Pipeline, seed: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """``pipeline.build()`` after ``torch.manual_seed(seed)``, as a callable whose k-th call
    gives the exported script's k-th ``pipeline(img)`` — drawing from its own
    :class:`~ptexplore.rng.Stream`, holding the RNG lock only for the draws. A failing step
    raises the grid's :class:`LessonError`. Run the budget check first."""
    active = pipeline.active
    transforms = pipeline.build_steps()
    randoms = [spec_for(step.name).random for _x, step in active]
    stream = Stream(seed)

    def call(image: torch.Tensor) -> torch.Tensor:
        x = image
        for (idx, step), t, random in zip(active, transforms, randoms, strict=True):
            try:
                x = apply_step(t, x, stream, random=random)
            except (RuntimeError, ValueError, TypeError, IndexError) as err:
                raise _fail(idx, step, x, err) from err
        return x

    return call


# ----------------------------------------------------------------------------- the grid


def _too_big(n: int, first: torch.Tensor, budget: int) -> LessonError:
    shape = "×".join(str(int(s)) for s in first.shape)
    dtype = str(first.dtype).removeprefix("torch.")
    each = first.numel() * first.element_size()
    fits = budget // max(each, 1)
    if fits < 1:
        return LessonError(
            _(
                "One sample of {shape} {dtype} alone takes {mb:,.0f} MB, more than the "
                "{budget:,.0f} MB one grid may use on this shared server."
            ).format(shape=shape, dtype=dtype, mb=each / 2**20, budget=budget / 2**20),
            fix=_("Add or shrink a Resize step, or turn off Full-resolution preview."),
        )
    return LessonError(
        _(
            "{n} samples of {shape} {dtype} would take {mb:,.0f} MB; one grid may "
            "use at most {budget:,.0f} MB on this shared server (about {fits} samples "
            "of this size)."
        ).format(
            n=n, shape=shape, dtype=dtype, mb=n * each / 2**20, budget=budget / 2**20, fits=fits
        ),
        fix=_(
            "Show at most {fits} samples, add a Resize/RandomResizedCrop step, or turn off "
            "Full-resolution preview."
        ).format(fits=fits),
    )


_GRID_JOB = isolate.job(
    N_("drawing the augmentation grid"),
    isolate.Limits(
        memory_mb=SANDBOX_GRID_MEMORY_MB, cpu_s=SANDBOX_GRID_CPU_S, wall_s=SANDBOX_GRID_WALL_S
    ),
    reuse=True,  # the image is a decoded tensor already, the pipeline the lab's own
)


def draw_grid(
    pipeline: Pipeline,
    image: torch.Tensor,
    *,
    seed: int,
    n: int,
    trace_index: int | None = 0,
    target: Annotations | None = None,
) -> Grid:
    """:func:`run_grid` in a sandboxed child (:mod:`ptexplore.isolate`): what the pages call.

    The request is checked here first (sample count, the budget's estimate: refused in
    milliseconds without a job); a step that crashes, outgrows
    :data:`~ptexplore.limits.SANDBOX_GRID_MEMORY_MB` or spins past
    :data:`~ptexplore.limits.SANDBOX_GRID_CPU_S` ends its job, never the server. The same
    seed gives the same grid as in-process (the child draws from its own
    :class:`~ptexplore.rng.Stream`).
    """
    _refuse(pipeline, image, n=n, trace_index=trace_index, target=target)
    return _GRID_JOB.call(
        run_grid, pipeline, image, seed=seed, n=n, trace_index=trace_index, target=target
    )


def _refuse(
    pipeline: Pipeline,
    image: torch.Tensor,
    *,
    n: int,
    trace_index: int | None,
    target: Annotations | None = None,
    max_bytes: int = MAX_GRID_BYTES,
    max_seconds: float = AUGMENT_MAX_CPU_S,
) -> None:
    if not 1 <= n <= MAX_SAMPLES:
        raise LessonError(
            _("The grid shows 1 to {most} samples, not {n}.").format(most=MAX_SAMPLES, n=n),
            fix=_("Pick 1 to {most} samples in the sidebar.").format(most=MAX_SAMPLES),
        )
    if trace_index is not None and not 0 <= trace_index < n:
        raise LessonError(
            _("Sample {k} is not in a grid of {n}.").format(k=trace_index, n=n),
            fix=_("Follow a sample from 0 to {last}.").format(last=n - 1),
        )
    check(
        grid_work(
            pipeline,
            image.shape,
            image.dtype,
            n=n,
            trace=trace_index is not None,
            masks=0 if target is None or target.mask_png is None else len(target.boxes),
        ),
        max_bytes=max_bytes,
        max_seconds=max_seconds,
    )


def run_grid(
    pipeline: Pipeline,
    image: torch.Tensor,
    *,
    seed: int,
    n: int,
    trace_index: int | None = 0,
    target: Annotations | None = None,
    max_bytes: int = MAX_GRID_BYTES,
    max_seconds: float = AUGMENT_MAX_CPU_S,
    instance_planes: bool = False,
) -> Grid:
    """Draw ``n`` samples of ``pipeline(image)`` from ``seed`` (see the module docstring),
    in this process (pages use :func:`draw_grid`, the same in a sandbox).

    Before any step runs, the whole grid (``n`` samples, the step trace of sample
    ``trace_index``) is estimated and refused with a :class:`LessonError` if it would
    outgrow ``max_bytes`` or ``max_seconds`` of CPU (:func:`ptexplore.augment.budget.check`);
    the running total of the outputs is checked too, as a backstop.

    With a ``target`` (boxes, labels, masks, keypoints) each sample is the pair
    ``(image, target)`` as a detection dataset gives it, every step transforms both, and
    each step's fate of every box is recorded (:func:`~ptexplore.augment.targets.step_fates`:
    the step also runs on a copy of the boxes with clamping off, which draws nothing, to
    tell a clipped box from a moved one). The masks travel as one plane of instance ids
    (:func:`~ptexplore.augment.targets.target` ``id_map``) unless a step fills with a
    non-zero value, or ``instance_planes`` asks for the N planes.
    """
    _refuse(
        pipeline, image, n=n, trace_index=trace_index, target=target, max_bytes=max_bytes,
        max_seconds=max_seconds,
    )  # fmt: skip
    active = pipeline.active
    transforms = pipeline.build_steps()
    recorders = [_Recorder(t) for t in transforms]
    randoms = [spec_for(step.name).random for _x, step in active]
    norm_after: list[Norm | None] = []
    current: Norm | None = None
    for _k, step in active:
        if step.name == "Normalize":
            mean, std = step.get("mean"), step.get("std")
            assert isinstance(mean, tuple) and isinstance(std, tuple)
            current = (mean, std)
        norm_after.append(current)

    samples: list[Sample] = []
    trace: list[TraceStep] = []
    total = 0
    stream = Stream(seed)
    one_plane = not instance_planes and _id_map_exact(active)
    start = None if target is None else target_of(target, id_map=one_plane)
    names = () if target is None else tuple(target.name_of(lab) for lab in target.labels)
    first_rows = [] if start is None else xyxy_rows(start["boxes"])
    has_masks = target is not None and target.mask_png is not None
    for i in range(n):
        x: Any = image if start is None else (image, dict(start))
        ids = tuple(range(len(names)))
        rows = first_rows  # the boxes alive now, as XYXY rows
        draws: list[Draw] = []
        steps_fates: list[tuple[BoxFate, ...]] = []
        tracing = i == trace_index
        if tracing:
            img0, tgt0 = _parts(x)
            tgt0 = None if tgt0 is None else instance_masks(tgt0, ids)
            trace.append(TraceStep(-1, "input", img0, None, None, target=tgt0, ids=ids))
        for k, ((idx, step), t, rec, random) in enumerate(
            zip(active, transforms, recorders, randoms, strict=True)
        ):
            rec.reset()
            img = x if start is None else x[0]
            hw = (int(img.shape[-2]), int(img.shape[-1]))
            # SanitizeBoundingBoxes indexes every Mask by box: the id map sits it out
            aside = x[1].pop(ID_MAP, None) if start is not None and step.name in _SANITISE else None
            try:
                x = apply_step(t, _shadowed(x), stream, random=random, recorder=rec)
            except (RuntimeError, ValueError, TypeError, IndexError) as err:
                raise _fail(idx, step, img, err, masks=has_masks) from err
            fates: tuple[BoxFate, ...] = ()
            if start is not None:
                x, unclamped = _unshadowed(x)
                if aside is not None:
                    x[1][ID_MAP] = aside
                after = xyxy_rows(x[1]["boxes"])
                ids, fates = _fates(ids, names, rows, after, unclamped, rec.params)
                rows = after
                steps_fates.append(fates)
            d = describe(step.name, rec.params, rec.ops, rec.mix, hw)
            draw = Draw(idx, d.name, d.applied, d.text)
            draws.append(draw)
            if tracing:
                img1, tgt1 = _parts(x)
                tgt1 = None if tgt1 is None else instance_masks(tgt1, ids)
                trace.append(
                    TraceStep(
                        idx, step.name, img1, draw, norm_after[k], target=tgt1, ids=ids, fates=fates
                    )
                )
        out, result = _parts(x)
        result = None if result is None else instance_masks(result, ids)
        total += out.numel() * out.element_size()
        if total > max_bytes:  # pragma: no cover - the estimate is a worst case
            raise _too_big(n, out, max_bytes)
        whole = () if start is None else overall(first_rows, names, steps_fates)
        samples.append(Sample(i, out, tuple(draws), result, ids, whole))
    return Grid(seed, tuple(samples), tuple(trace), trace_index, current)


_SANITISE = ("SanitizeBoundingBoxes",)


def _id_map_exact(active: Sequence[tuple[int, Step]]) -> bool:
    """Is one plane of instance ids exactly the N masks through these steps? Yes unless a
    step fills new pixels with a non-zero value (every Mask plane would get it)."""
    for _k, step in active:
        fill = step.kwargs.get("fill")
        if fill is None:
            continue
        values = fill if isinstance(fill, tuple) else (fill,)
        if any(v != 0 for v in values):
            return False
    return True


def _parts(x: Any) -> tuple[torch.Tensor, dict[str, Any] | None]:
    """A sample's image and target (None for an image alone)."""
    if isinstance(x, tuple):
        return x[0], x[1]
    return x, None


#: the key of the unclamped copy of the boxes inside a sample while one step runs
_SHADOW = "ptexplore.unclamped"


def _shadowed(x: Any) -> Any:
    """``(image, target)`` with a copy of the boxes whose clamping is off added after
    them: the step moves it with the same drawn parameters (a transform draws once per
    call, whatever it is given), so it shows where a box would be without the canvas."""
    if not isinstance(x, tuple):
        return x
    img, tgt = x
    boxes = tgt["boxes"]
    copy = tv_tensors.BoundingBoxes(
        boxes.as_subclass(torch.Tensor).clone(),
        format=boxes.format,
        canvas_size=boxes.canvas_size,
        clamping_mode=None,
    )
    return (img, {**tgt, _SHADOW: copy})


def _unshadowed(x: Any) -> tuple[Any, tv_tensors.BoundingBoxes]:
    img, tgt = x
    tgt = dict(tgt)
    copy = tgt.pop(_SHADOW)
    return (img, tgt), copy


def _fates(
    ids: tuple[int, ...],
    names: tuple[str, ...],
    before: list[Box],
    after: list[Box],
    unclamped: tv_tensors.BoundingBoxes,
    params: dict[str, Any] | None,
) -> tuple[tuple[int, ...], tuple[BoxFate, ...]]:
    """Each box's fate in one step; SanitizeBoundingBoxes' ``valid`` (its drawn
    parameters, recorded) says which it removed."""
    valid = None
    if params is not None and isinstance(params.get("valid"), torch.Tensor):
        valid = [bool(v) for v in params["valid"].tolist()]
    return step_fates(
        ids,
        tuple(names[b] for b in ids),
        before,
        after,
        xyxy_rows(unclamped),
        valid,
    )


# --------------------------------------------------------------------------- display


@dataclass(frozen=True, slots=True)
class ChannelStat:
    channel: str
    mean: float
    std: float
    min: float
    max: float


def channel_stats(x: torch.Tensor) -> tuple[ChannelStat, ...]:
    f = x.detach().as_subclass(torch.Tensor).float().flatten(1)
    names = ("R", "G", "B") if f.shape[0] == 3 else tuple(f"c{i}" for i in range(f.shape[0]))
    return tuple(
        ChannelStat(
            names[c],
            float(f[c].mean()),
            float(f[c].std(unbiased=False)),
            float(f[c].min()),
            float(f[c].max()),
        )
        for c in range(f.shape[0])
    )


def histogram_figure(x: torch.Tensor, *, title: str, bins: int = 64) -> Figure:
    """Per-channel histograms of a tensor's values (counted here with numpy, drawn as lines)."""
    f = x.detach().as_subclass(torch.Tensor).float().flatten(1).numpy()
    lo, hi = float(f.min()), float(f.max())
    if math.isclose(lo, hi):
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    centers = ((edges[:-1] + edges[1:]) / 2).tolist()
    colors = (PALETTE[0], PALETTE[2], PALETTE[1]) if f.shape[0] == 3 else PALETTE
    names = ("R", "G", "B") if f.shape[0] == 3 else tuple(f"c{i}" for i in range(f.shape[0]))
    traces = []
    for c in range(f.shape[0]):
        counts, _edges = np.histogram(f[c], bins=edges)
        traces.append(
            {
                "type": "scatter",
                "x": centers,
                "y": counts.tolist(),
                "mode": "lines",
                "line": {"color": colors[c % len(colors)], "width": 2, "shape": "hvh"},
                "name": names[c],
                "fill": "tozeroy",
                "opacity": 0.5,
            }
        )
    zero = {
        "type": "line",
        "x0": 0.0,
        "x1": 0.0,
        "xref": "x",
        "y0": 0,
        "y1": 1,
        "yref": "y domain",
        "line": {"color": "#888", "dash": "dot", "width": 1},
    }
    return figure(
        traces,
        title={"text": title, "font": {"size": 14}},
        height=300,
        xaxis={"title": {"text": _("value")}},
        yaxis={"title": {"text": _("pixels")}},
        legend={"orientation": "h", "y": 1.12, "x": 1, "xanchor": "right"},
        shapes=[zero],
    )
