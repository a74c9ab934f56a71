"""named_parameters() as a table, totals, grouping, the naming rule, and real values."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from enum import StrEnum

import torch
from torch import nn

from ptexplore.errors import ModelError
from ptexplore.limits import REAL_BUILD_MAX_PARAMS as EXACT_MAX_PARAMS
from ptexplore.limits import heavy
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
                f"The model has no top-level child called {g!r}.",
                fix="Pick from the model's own top-level children.",
            )
        children[g].requires_grad_(False)


def param_table(model: nn.Module) -> ParamTable:
    params = list(model.named_parameters())
    total = sum(p.numel() for _, p in params)
    trainable = sum(p.numel() for _, p in params if p.requires_grad)
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
            if part not in module._parameters:
                raise ModelError(
                    f"{name!r} is not a parameter of this model.",
                    fix="Pick a name from the parameter list.",
                )
            out.append(
                NamePart(
                    part,
                    "",
                    f"the Parameter that {type(module).__name__} registered as self.{part}",
                )
            )
            break
        child = module._modules.get(part)
        if child is None:
            raise ModelError(
                f"{name!r} is not a parameter of this model.",
                fix="Pick a name from the parameter list.",
            )
        if isinstance(module, nn.Sequential | nn.ModuleList) and part.isdigit():
            how = (
                f"position {part} inside the {type(module).__name__} "
                "(Sequential and ModuleList name children by index)"
            )
        elif isinstance(module, nn.Sequential):
            how = "a name given to the Sequential through an OrderedDict"
        elif isinstance(module, nn.ModuleDict):
            how = "a key of the ModuleDict"
        else:
            how = f"the attribute self.{part} set in {type(module).__name__}.__init__"
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
    values: tuple[float, ...]  # flattened (a seeded random sample of at most ``max_values``)
    numel: int
    #: histogram of ALL values: ``bins`` counts between ``len(bins) + 1`` edges
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
            f"{name!r} is not a parameter of {key}.", fix="Pick a name from the parameter list."
        )
    total = sum(p.numel() for p in meta.model.parameters())
    with heavy(f"building {key} for real"):
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
        raise ModelError(f"Could not materialise {name!r}.", fix="Pick another parameter.")
    return summarize(name, p, seed=seed, source=source, t0=t0, max_values=max_values)


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
    """Statistics and a (seeded random) sample of a real tensor's values."""
    flat = tensor.detach().reshape(-1).float()
    sample = flat
    if flat.numel() > max_values:
        gen = torch.Generator().manual_seed(seed)
        sample = flat[torch.randperm(flat.numel(), generator=gen)[:max_values]]
    std = float(flat.std()) if flat.numel() > 1 else 0.0
    lo, hi = float(flat.min()), float(flat.max())
    if lo == hi:  # a constant tensor (zero-initialised heads): one visible bin around it
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = torch.histogram(flat, bins=bins, range=(lo, hi))
    return ParamValues(
        name=name,
        shape=tuple(tensor.shape),
        values=tuple(float(v) for v in sample.tolist()),
        numel=flat.numel(),
        hist_counts=tuple(int(c) for c in counts.tolist()),
        hist_edges=tuple(float(e) for e in edges.tolist()),
        mean=float(flat.mean()),
        std=0.0 if math.isnan(std) else std,
        min=float(flat.min()),
        max=float(flat.max()),
        abs_mean=float(flat.abs().mean()),
        zeros_share=float((flat == 0).float().mean()),
        seed=seed,
        source=source,
        owner=_owner(name),
        seconds=time.perf_counter() - t0,
    )
