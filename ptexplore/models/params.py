"""named_parameters() as a table, totals, grouping, the naming rule, and real values."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from enum import StrEnum

import torch
from torch import nn

from ptexplore import compat, isolate
from ptexplore.errors import ModelError
from ptexplore.i18n import N_, _
from ptexplore.limits import REAL_BUILD_MAX_PARAMS as EXACT_MAX_PARAMS
from ptexplore.limits import SANDBOX_BUILD_MEMORY_MB, heavy
from ptexplore.models import catalog
from ptexplore.models.build import build_keeping
from ptexplore.rng import seeded

BYTES_FP32 = 4


@dataclass(frozen=True, slots=True)
class ParamRow:
    name: str
    shape: tuple[int, ...]
    numel: int
    dtype: str
    requires_grad: bool
    share: float  # fraction of all parameters
    group: str  # top-level child ('' if registered on the root)


@dataclass(frozen=True, slots=True)
class GroupRow:
    group: str
    class_name: str
    numel: int
    share: float
    tensors: int


@dataclass(frozen=True, slots=True)
class ParamTable:
    rows: tuple[ParamRow, ...]
    groups: tuple[GroupRow, ...]
    total: int
    trainable: int
    frozen: int

    @property
    def mb_fp32(self) -> float:
        return self.total * BYTES_FP32 / 1e6


def freeze(model: nn.Module, groups: tuple[str, ...]) -> None:
    """``requires_grad_(False)`` on every parameter of the named top-level children."""
    children = dict(model.named_children())
    for g in groups:
        if g not in children:
            raise ModelError(
                _("The model has no top-level child called {name}.").format(name=repr(g)),
                fix=_("Pick from the model's own top-level children."),
            )
        children[g].requires_grad_(False)


def param_table(model: nn.Module) -> ParamTable:
    params = list(model.named_parameters())
    total = sum(p.numel() for _x, p in params)
    trainable = sum(p.numel() for _x, p in params if p.requires_grad)
    rows = tuple(
        ParamRow(
            name=name,
            shape=tuple(p.shape),
            numel=p.numel(),
            dtype=str(p.dtype).removeprefix("torch."),
            requires_grad=p.requires_grad,
            share=p.numel() / total if total else 0.0,
            group=name.split(".", 1)[0] if "." in name else "",
        )
        for name, p in params
    )
    children = dict(model.named_children())
    groups: dict[str, list[ParamRow]] = {}
    for r in rows:
        groups.setdefault(r.group, []).append(r)
    group_rows = tuple(
        GroupRow(
            group=g or "(root)",
            class_name=type(children[g]).__name__ if g in children else type(model).__name__,
            numel=sum(r.numel for r in rs),
            share=sum(r.numel for r in rs) / total if total else 0.0,
            tensors=len(rs),
        )
        for g, rs in groups.items()
    )
    return ParamTable(rows, group_rows, total, trainable, total - trainable)


@dataclass(frozen=True, slots=True)
class NamePart:
    part: str
    module_class: str  # the module reached by this part ('' for the final tensor name)
    meaning: str


def explain_name(model: nn.Module, name: str) -> tuple[NamePart, ...]:
    """Walk a parameter name part by part through the live model and say what each part is."""
    parts = name.split(".")
    out: list[NamePart] = []
    module: nn.Module = model
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if last:
            if part not in compat.own_parameters(module):
                raise ModelError(
                    _("{name} is not a parameter of this model.").format(name=repr(name)),
                    fix=_("Pick a name from the parameter list."),
                )
            out.append(
                NamePart(
                    part,
                    "",
                    _("the Parameter that {cls} registered as self.{part}").format(
                        cls=type(module).__name__, part=part
                    ),
                )
            )
            break
        child = compat.own_modules(module).get(part)
        if child is None:
            raise ModelError(
                _("{name} is not a parameter of this model.").format(name=repr(name)),
                fix=_("Pick a name from the parameter list."),
            )
        if isinstance(module, nn.Sequential | nn.ModuleList) and part.isdigit():
            how = _(
                "position {part} inside the {cls} (Sequential and ModuleList name children "
                "by index)"
            ).format(part=part, cls=type(module).__name__)
        elif isinstance(module, nn.Sequential):
            how = _("a name given to the Sequential through an OrderedDict")
        elif isinstance(module, nn.ModuleDict):
            how = _("a key of the ModuleDict")
        else:
            how = _("the attribute self.{part} set in {cls}.__init__").format(
                part=part, cls=type(module).__name__
            )
        out.append(NamePart(part, type(child).__name__, how))
        module = child
    return tuple(out)


class ValuesSource(StrEnum):
    FULL_BUILD = "full build"
    OWNER_ONLY = "owner layer only"
    LOADED = "loaded weights"


@dataclass(frozen=True, slots=True)
class ParamValues:
    name: str
    shape: tuple[int, ...]
    #: flattened finite values (a seeded random sample of at most ``max_values``)
    values: tuple[float, ...]
    numel: int  # every value, finite or not
    #: histogram of ALL finite values: ``bins`` counts between ``len(bins) + 1`` edges
    hist_counts: tuple[int, ...]
    hist_edges: tuple[float, ...]
    mean: float
    std: float
    min: float
    max: float
    abs_mean: float
    zeros_share: float
    seed: int
    source: ValuesSource
    owner: str  # qualified name of the module that owns the parameter
    seconds: float
    #: values that are not finite (a diverged run saves them): the statistics, the sample
    #: and the histogram above are over the finite values only
    nan_count: int = 0
    posinf_count: int = 0
    neginf_count: int = 0
    #: one plain sentence when the statistics need one (no finite values, empty tensor)
    note: str = ""

    @property
    def finite(self) -> int:
        return self.numel - self.nan_count - self.posinf_count - self.neginf_count


def _owner(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else ""


def param_values(
    key: str,
    num_classes: int | None,
    name: str,
    *,
    seed: int = 0,
    max_values: int = 10_000,
    force_owner_only: bool = False,
) -> ParamValues:
    """Real initialised values of one parameter, as the model's own init code makes them.

    Small models are built normally under ``torch.manual_seed(seed)``, so the values equal
    what plain PyTorch gives. For big ones only the parameter's own tensor is materialised
    (every other parameter stays on meta): the same init code runs on it, but the random
    stream differs from a full build, so the distribution is exact and the numbers are not.
    """
    t0 = time.perf_counter()
    meta = catalog.build_meta(key, num_classes)
    if name not in meta.order:
        raise ModelError(
            _("{name} is not a parameter of {key}.").format(name=repr(name), key=key),
            fix=_("Pick a name from the parameter list."),
        )
    total = sum(p.numel() for p in meta.model.parameters())
    with heavy(_("building {key} for real").format(key=key)):
        if total <= EXACT_MAX_PARAMS and not force_owner_only:
            model = catalog.build_real(key, num_classes, seed=seed)
            source = ValuesSource.FULL_BUILD
        else:
            with seeded(seed):
                model = build_keeping(
                    catalog.factory(key, num_classes), frozenset({meta.order[name]})
                )
            source = ValuesSource.OWNER_ONLY
    p = dict(model.named_parameters())[name].detach()
    if p.device.type == "meta":  # pragma: no cover - guarded by build_keeping
        raise ModelError(
            _("Could not materialise {name}.").format(name=repr(name)),
            fix=_("Pick another parameter."),
        )
    return summarize(name, p, seed=seed, source=source, t0=t0, max_values=max_values)


_BUILD_JOB = isolate.job(
    N_("building the model for its real values"),
    isolate.Limits(memory_mb=SANDBOX_BUILD_MEMORY_MB),
    reuse=True,
)


def sandboxed_param_values(
    key: str, num_classes: int | None, name: str, *, seed: int = 0
) -> ParamValues:
    """:func:`param_values` in a sandboxed child (:mod:`ptexplore.isolate`): what the page
    calls. A real build runs the model's own constructor and init code (the operator's,
    timm's), so one that crashes, outgrows SANDBOX_BUILD_MEMORY_MB or spins ends its job
    only; a lesson there (a name the model does not have) is the same lesson here. The same
    seed gives the same values as in this process."""
    with heavy(_("building {key} for real").format(key=key)):
        return _BUILD_JOB.call(param_values, key, num_classes, name, seed=seed)


def summarize(
    name: str,
    tensor: torch.Tensor,
    *,
    seed: int,
    source: ValuesSource,
    t0: float,
    max_values: int = 10_000,
    bins: int = 80,
) -> ParamValues:
    """Statistics and a (seeded random) sample of a real tensor's values.

    NaN and ±inf (a diverged run saves them) are counted; the statistics, the sample and
    the histogram are over the finite values. With none (an empty tensor, or every value
    NaN/inf) the statistics are NaN, the histogram is one empty bin and ``note`` says why.
    Sums are taken in float64, so float32 values near their range do not overflow.
    """
    flat = tensor.detach().reshape(-1)
    if flat.is_complex():  # not loaded by ptexplore; summarised by magnitude if given
        flat = flat.abs()
    if flat.dtype != torch.float64:
        flat = flat.float()
    numel = flat.numel()
    nan = int(torch.isnan(flat).sum()) if numel else 0
    posinf = int((flat == math.inf).sum()) if numel else 0
    neginf = int((flat == -math.inf).sum()) if numel else 0
    finite = flat[torch.isfinite(flat)] if nan + posinf + neginf else flat
    n = finite.numel()
    zeros = float((flat == 0).sum()) / numel if numel else 0.0
    values: tuple[float, ...] = ()
    counts: tuple[int, ...] = (0,)
    edges: tuple[float, ...] = (-0.5, 0.5)
    mean = std = lo = hi = abs_mean = math.nan
    if n == 0:
        note = (
            _("The tensor is empty: no values to summarise.")
            if numel == 0
            else _(
                "None of its {numel:,} values is finite ({nan:,} NaN, {posinf:,} +inf, "
                "{neginf:,} −inf): no statistics or histogram."
            ).format(numel=numel, nan=nan, posinf=posinf, neginf=neginf)
        )
    else:
        sample = finite
        if n > max_values:
            gen = torch.Generator().manual_seed(seed)
            sample = finite[torch.randperm(n, generator=gen)[:max_values]]
        values = tuple(float(v) for v in sample.tolist())
        lo, hi = float(finite.min()), float(finite.max())
        # values past 1e18 are scaled to [-1, 1] first: their squares (and a range of
        # ±1.7e308) would overflow even in float64
        scale = max(abs(lo), abs(hi)) if max(abs(lo), abs(hi)) > 1e18 else 1.0
        work = finite.double() / scale if scale != 1.0 else finite
        mean_s = float(torch.sum(work, dtype=torch.float64)) / n
        var_s = float(torch.sum((work - mean_s) ** 2, dtype=torch.float64)) / max(n - 1, 1)
        mean, std = mean_s * scale, math.sqrt(var_s) * scale
        abs_mean = float(torch.sum(work.abs(), dtype=torch.float64)) / n * scale
        h_lo, h_hi = lo / scale, hi / scale
        if h_lo == h_hi:  # a constant tensor (zero-initialised heads): one visible bin
            pad = max(0.5, abs(h_lo) * 1e-6) if scale == 1.0 else 1e-6
            h_lo, h_hi = h_lo - pad, h_hi + pad
        c, e = torch.histogram(work, bins=bins, range=(h_lo, h_hi))
        counts = tuple(int(x) for x in c.tolist())
        edges = tuple(float(x) * scale for x in e.tolist())
        note = (
            _(
                "{bad:,} of {numel:,} values are not finite ({nan:,} NaN, {posinf:,} +inf, "
                "{neginf:,} −inf): the statistics and the histogram cover the {n:,} finite ones."
            ).format(bad=numel - n, numel=numel, nan=nan, posinf=posinf, neginf=neginf, n=n)
            if n < numel
            else ""
        )
    return ParamValues(
        name=name,
        shape=tuple(tensor.shape),
        values=values,
        numel=numel,
        hist_counts=counts,
        hist_edges=edges,
        mean=mean,
        std=std,
        min=lo,
        max=hi,
        abs_mean=abs_mean,
        zeros_share=zeros,
        seed=seed,
        source=source,
        owner=_owner(name),
        seconds=time.perf_counter() - t0,
        nan_count=nan,
        posinf_count=posinf,
        neginf_count=neginf,
        note=note,
    )
