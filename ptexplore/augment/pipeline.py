"""The pipeline model: an ordered tuple of steps, each a catalog transform with its values.

Immutable (frozen dataclasses): every edit returns a new :class:`Pipeline`, so the page can
keep one in ``st.session_state`` and caches can hash it.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from torchvision.transforms import v2

from ptexplore.augment.catalog import (
    TENSOR_TAIL,
    Scaling,
    Value,
    build_transform,
    coerce,
    spec_for,
)
from ptexplore.errors import InputError, LessonError
from ptexplore.i18n import N_, _
from ptexplore.limits import PIPELINE_MAX_STEPS as MAX_STEPS

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    params: tuple[tuple[str, Value], ...]
    enabled: bool = True

    @classmethod
    def make(cls, name: str, enabled: bool = True, **params: Value) -> Step:
        """A step with the catalog's defaults, overridden by ``params`` (validated)."""
        spec = spec_for(name)
        values = spec.defaults()
        for key, value in params.items():
            values[key] = coerce(spec, spec.param(key), value)
        return cls(name, tuple((p.name, values[p.name]) for p in spec.params), enabled)

    @property
    def kwargs(self) -> dict[str, Value]:
        return dict(self.params)

    def get(self, name: str) -> Value:
        return self.kwargs[name]

    def with_param(self, name: str, value: Value) -> Step:
        spec = spec_for(self.name)
        canon = coerce(spec, spec.param(name), value)
        return replace(self, params=tuple((k, canon if k == name else v) for k, v in self.params))

    def build(self) -> v2.Transform:
        return build_transform(self.name, self.kwargs)

    @property
    def label(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Pipeline:
    steps: tuple[Step, ...] = ()

    def add(
        self, name: str, index: int | None = None, params: Mapping[str, Value] | None = None
    ) -> Pipeline:
        """A new pipeline with step ``name`` (catalog defaults, overridden by ``params``)
        inserted at ``index`` (the end when None)."""
        if len(self.steps) >= MAX_STEPS:
            raise InputError(
                _("A pipeline holds at most {n} steps.").format(n=MAX_STEPS),
                fix=_("Remove a step first."),
            )
        step = Step.make(name)
        for key, value in (params or {}).items():
            step = step.with_param(key, value)
        at = len(self.steps) if index is None else max(0, min(index, len(self.steps)))
        return Pipeline((*self.steps[:at], step, *self.steps[at:]))

    def _check(self, i: int) -> None:
        if not 0 <= i < len(self.steps):
            raise InputError(
                _("There is no step {n} (the pipeline has {count}).").format(
                    n=i + 1, count=len(self.steps)
                ),
                fix=_("Pick one of the steps listed in the editor."),
            )

    def remove(self, i: int) -> Pipeline:
        self._check(i)
        return Pipeline(self.steps[:i] + self.steps[i + 1 :])

    def move(self, i: int, j: int) -> Pipeline:
        """Move step ``i`` to position ``j`` (clamped to the ends)."""
        self._check(i)
        j = max(0, min(j, len(self.steps) - 1))
        steps = list(self.steps)
        step = steps.pop(i)
        steps.insert(j, step)
        return Pipeline(tuple(steps))

    def set_enabled(self, i: int, enabled: bool) -> Pipeline:
        self._check(i)
        steps = list(self.steps)
        steps[i] = replace(steps[i], enabled=enabled)
        return Pipeline(tuple(steps))

    def set_param(self, i: int, name: str, value: Value) -> Pipeline:
        self._check(i)
        steps = list(self.steps)
        steps[i] = steps[i].with_param(name, value)
        return Pipeline(tuple(steps))

    @property
    def tail_start(self) -> int:
        """Where the trailing ToImage/ToDtype/Normalize steps begin (the end if none):
        where a new augmentation belongs, before the tensor is converted and normalised."""
        at = len(self.steps)
        while at > 0 and self.steps[at - 1].name in TENSOR_TAIL:
            at -= 1
        return at

    @property
    def active(self) -> tuple[tuple[int, Step], ...]:
        """(index in the pipeline, step) of the enabled steps, in order."""
        return tuple((i, s) for i, s in enumerate(self.steps) if s.enabled)

    def build_steps(self) -> tuple[v2.Transform, ...]:
        """Build every enabled step; an invalid one raises a LessonError naming its number.

        Pixel values (fill, erase value) are checked against the values each step
        receives (:func:`pixel_domains`), which a single step cannot know on its own.
        """
        built = []
        for (i, step), domain in zip(self.active, pixel_domains(self), strict=True):
            try:
                built.append(step.build())
                check_pixel_values(step, domain)
            except LessonError as err:
                raise type(err)(
                    _("Step {n} ({name}) — {message}").format(
                        n=i + 1, name=step.name, message=err.message
                    ),
                    fix=err.fix,
                ) from err
        return tuple(built)

    def build(self) -> v2.Transform:
        """The enabled steps as one transform (``v2.Identity`` when there are none:
        ``v2.Compose([])`` refuses an empty list)."""
        steps = list(self.build_steps())
        return v2.Compose(steps) if steps else v2.Identity()

    def normalization(self) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
        """Mean and std of the last enabled Normalize step (for display), if any."""
        found: tuple[tuple[float, ...], tuple[float, ...]] | None = None
        for _i, step in self.active:
            if step.name == "Normalize":
                mean, std = step.get("mean"), step.get("std")
                assert isinstance(mean, tuple) and isinstance(std, tuple)
                found = (mean, std)
        return found


# ------------------------------------------------------- the values each step receives


@dataclass(frozen=True, slots=True)
class PixelDomain:
    """The dtype and value range of the tensor a step receives (for fill-type values)."""

    dtype: str
    lo: float
    hi: float
    #: Where this range comes from, e.g. "the decoded image" or "step 4 (ToDtype)", in
    #: the language it was built in (:data:`INPUT_DOMAIN`'s is English, marked with ``N_``)
    source: str

    @property
    def whole(self) -> bool:
        """Integer dtype: a fill must be a whole number (uint8 would truncate 127.5)."""
        return not self.dtype.startswith("float")

    def describe(self) -> str:
        return _("{dtype} values {lo:.4g} to {hi:.4g} ({source})").format(
            dtype=self.dtype, lo=self.lo, hi=self.hi, source=_(self.source)
        )


#: What the lab feeds a pipeline: the decoded image as a uint8 tensor.
INPUT_DOMAIN = PixelDomain("uint8", 0.0, 255.0, N_("the decoded image"))


def _next_domain(domain: PixelDomain, index: int, step: Step) -> PixelDomain:
    """The domain after ``step`` (only ToDtype and Normalize change it)."""
    if step.name == "ToDtype":
        dtype, scale = str(step.get("dtype")), bool(step.get("scale"))
        lo, hi = domain.lo, domain.hi
        to_float = dtype.startswith("float")
        if scale and domain.whole and to_float:
            lo, hi = lo / 255.0, hi / 255.0
        elif scale and not domain.whole and not to_float:
            lo, hi = lo * 255.0, hi * 255.0
        if not to_float:
            lo, hi = float(min(max(math.floor(lo), 0), 255)), float(min(max(math.ceil(hi), 0), 255))
        where = _("after step {n}, {name}").format(n=index + 1, name=f"ToDtype(scale={scale})")
        return PixelDomain(dtype, lo, hi, where)
    if step.name == "Normalize":
        mean, std = step.get("mean"), step.get("std")
        assert isinstance(mean, tuple) and isinstance(std, tuple)
        ends = [
            (x - m) / s
            for m, s in zip(mean, std, strict=True)
            if s > 0
            for x in (domain.lo, domain.hi)
        ]
        if not ends:
            return domain
        return PixelDomain(
            domain.dtype,
            min(ends),
            max(ends),
            _("after step {n}, {name}: normalised units").format(n=index + 1, name=step.name),
        )
    return domain


def pixel_domains(pipeline: Pipeline, start: PixelDomain = INPUT_DOMAIN) -> tuple[PixelDomain, ...]:
    """The domain each enabled step receives, in the order of :attr:`Pipeline.active`."""
    out = []
    domain = start
    for i, step in pipeline.active:
        out.append(domain)
        domain = _next_domain(domain, i, step)
    return tuple(out)


def check_pixel_values(step: Step, domain: PixelDomain) -> None:
    """Refuse a fill / erase value the step's input can't hold, in plain words."""
    spec = spec_for(step.name)
    for param in spec.params:
        if not param.pixel:
            continue
        value = step.get(param.name)
        where = f"{step.name}.{param.name}"
        if value == "random":
            if domain.whole:
                raise InputError(
                    _(
                        "{where}: “random” fills the box with N(0, 1) noise, which only makes "
                        "sense on a float tensor; this step receives {domain}, where the noise "
                        "becomes 0s, 1s and 255s."
                    ).format(where=where, domain=domain.describe()),
                    fix=_("Move RandomErasing after ToDtype(scale=True), or use a number."),
                )
            continue
        numbers = value if isinstance(value, tuple) else (value,)
        tol = 1e-6 * max(1.0, domain.hi - domain.lo)
        for x in numbers:
            assert isinstance(x, int | float)
            if domain.whole and not float(x).is_integer():
                raise InputError(
                    _(
                        "{where}: {x:g} is not a whole number, but this step receives "
                        "{domain} (it would be truncated)."
                    ).format(where=where, x=x, domain=domain.describe()),
                    fix=_("Use {lo} or {hi}.").format(lo=math.floor(x), hi=math.ceil(x)),
                )
            if not domain.lo - tol <= x <= domain.hi + tol:
                raise InputError(
                    _("{where}: {x:g} is outside the values this step receives: {domain}.").format(
                        where=where, x=x, domain=domain.describe()
                    ),
                    fix=_(
                        "Use a value from {lo:.4g} to {hi:.4g}, or move {name} to where the "
                        "values are in the range you meant."
                    ).format(lo=domain.lo, hi=domain.hi, name=step.name),
                )


class Preset(enum.StrEnum):
    TRAIN = "train"
    VAL = "val"
    CUSTOM = "custom"


def train_preset() -> Pipeline:
    """RandomResizedCrop(224), RandomHorizontalFlip, ToTensor (v2 spelling), Normalize."""
    return Pipeline(
        (
            Step.make("RandomResizedCrop", size=224),
            Step.make("RandomHorizontalFlip"),
            Step.make("ToImage"),
            Step.make("ToDtype", dtype="float32", scale=True),
            Step.make("Normalize", mean=IMAGENET_MEAN, std=IMAGENET_STD),
        )
    )


def val_preset() -> Pipeline:
    """Resize(256), CenterCrop(224), ToTensor (v2 spelling), Normalize."""
    return Pipeline(
        (
            Step.make("Resize", size=256),
            Step.make("CenterCrop", size=224),
            Step.make("ToImage"),
            Step.make("ToDtype", dtype="float32", scale=True),
            Step.make("Normalize", mean=IMAGENET_MEAN, std=IMAGENET_STD),
        )
    )


def preset(which: Preset | str) -> Pipeline:
    which = Preset(which)
    if which is Preset.TRAIN:
        return train_preset()
    if which is Preset.VAL:
        return val_preset()
    raise InputError(
        _("The custom preset is whatever you build; it has no fixed steps."),
        fix=_("Pick train or val, then edit the steps."),
    )


# ------------------------------------------------------------------- preview-sized source

#: The preview copy may be this much smaller than "never upsample a crop": a smallest
#: RandomResizedCrop crop is then upsampled by at most 1/0.75 ≈ 1.33×, invisible in a grid.
PREVIEW_SLACK = 0.75
#: Preview copies are at least this tall/wide on their shorter side.
PREVIEW_MIN_SIDE = 512


def _side_of(value: Value) -> int:
    return int(max(value)) if isinstance(value, tuple) else int(value)


def keeps_source_size(pipeline: Pipeline) -> bool:
    """True when no enabled step resamples to a fixed size: the output follows the source."""
    return not any(spec_for(s.name).scaling is Scaling.RESCALES for _x, s in pipeline.active)


def preview_source_side(pipeline: Pipeline) -> int | None:
    """Shorter side a downscaled source may have without changing what the grid shows.

    Walks the enabled steps: scale-free steps (flips, colour, relative geometry) don't care;
    the first step that resamples to a fixed size (Resize, RandomResizedCrop) decides how
    many source pixels are enough; a step that works in absolute pixels (crop, pad, blur)
    before that needs the full-size source (``None``). Only scale-free steps: the output
    has the source's size, and a :data:`PREVIEW_MIN_SIDE` copy shows the same picture at
    screen size (the page says the real output size; see :func:`keeps_source_size`).
    """
    for _i, step in pipeline.active:
        spec = spec_for(step.name)
        if spec.scaling is Scaling.PIXELS:
            return None
        if spec.scaling is Scaling.RESCALES:
            out = _side_of(step.get("size"))
            if step.name == "RandomResizedCrop":
                scale = step.get("scale")
                assert isinstance(scale, tuple)
                need = PREVIEW_SLACK * out / math.sqrt(max(scale[0], 1e-4))
            else:
                need = 2.0 * out
            side = max(PREVIEW_MIN_SIDE, math.ceil(need), 2 * out)
            return int(math.ceil(side / 64) * 64)
    return PREVIEW_MIN_SIDE


def pipeline_from_mapping(data: Mapping[str, object]) -> Pipeline:
    """Build a pipeline from the JSON shape ``{"steps": [{"transform", "enabled", "params"}]}``."""
    steps_raw = data.get("steps")
    if not isinstance(steps_raw, list):
        raise InputError(
            _("The JSON has no “steps” list."),
            fix=_("Export a pipeline from this page to see the format."),
        )
    if len(steps_raw) > MAX_STEPS:
        raise InputError(
            _("The JSON has {n} steps; at most {most} are allowed.").format(
                n=len(steps_raw), most=MAX_STEPS
            ),
            fix=_("Import a pipeline exported from this page."),
        )
    steps = []
    for k, raw in enumerate(steps_raw, start=1):
        if not isinstance(raw, dict) or not isinstance(raw.get("transform"), str):
            raise InputError(
                _("Step {n} of the JSON needs a “transform” name.").format(n=k),
                fix=_(_STEP_SHAPE),
            )
        params = raw.get("params", {})
        enabled = raw.get("enabled", True)
        if not isinstance(params, dict) or not isinstance(enabled, bool):
            raise InputError(
                _("Step {n}: “params” must be an object and “enabled” true/false.").format(n=k),
                fix=_(_STEP_SHAPE),
            )
        name = raw["transform"]
        try:
            steps.append(Step.make(name, enabled=enabled, **params))
        except LessonError as err:
            raise InputError(
                _("Step {n} — {message}").format(n=k, message=err.message), fix=err.fix
            ) from err
    return Pipeline(tuple(steps))


#: What one step of the JSON looks like (a fix; the JSON itself is never translated)
_STEP_SHAPE = N_('Each step looks like {"transform": "Resize", "params": {"size": 256}}.')
