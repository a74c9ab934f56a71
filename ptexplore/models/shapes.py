"""Per-layer output shapes and compute, from one forward pass on meta tensors.

A private meta build is traced (hooks are registered on it and nowhere else), inside
``torch.utils.flop_counter.FlopCounterMode``. Each module's MACs are the FLOPs counted
between its forward pre-hook and its forward hook, halved (one multiply-add = 2 FLOPs).
Unlike torchinfo, this counts the matmuls inside attention and functional calls, so totals
equal torchvision's published ``_ops`` (vit_l_16: 61.6 GMACs, not torchinfo's 0.36).

Each row also has ``self_macs``: the MACs counted while that module was the innermost one
running (its own functional code: attention's ``q @ k.T``, a classifier's ``F.linear`` on
a child's weights). They add up to the total exactly, which ``ptexplore.summary`` uses to
make any depth of its table add up.

:func:`trace_module` traces any module, a meta build or a real one, through
``torch.func.functional_call`` with meta stand-ins for its parameters and buffers (the
module itself is left as it was: same tensors, same train/eval modes, no hooks).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ptexplore import compat
from ptexplore.errors import ModelError
from ptexplore.i18n import _
from ptexplore.limits import TRACE_MAX_BATCH as MAX_BATCH
from ptexplore.limits import TRACE_MAX_SIDE as MAX_SIDE
from ptexplore.models import catalog, user
from ptexplore.models.catalog import InputKind
from ptexplore.text import code_span


@dataclass(frozen=True, slots=True)
class LayerRow:
    qualname: str
    name: str
    class_name: str
    depth: int
    output_shape: str  # e.g. "[1, 64, 112, 112]", "—" when not called
    calls: int
    own_params: int
    macs: int  # inclusive of sub-modules, summed over calls
    is_leaf: bool
    #: why a row reads oddly, e.g. parameters but 0 calls (used functionally by its parent)
    note: str = ""
    #: MACs counted while this module was the innermost one running (rows add up to the total)
    self_macs: int = 0
    #: the output's shape when it is one tensor
    output_dims: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class ShapeReport:
    key: str
    input_shape: tuple[int, ...]
    output_shape: str
    rows: tuple[LayerRow, ...]
    total_macs: int
    total_params: int
    published_gmacs: float | None  # torchvision's figure, valid at the default input only
    at_published_input: bool
    seconds: float
    #: the output's shape when it is one tensor (what ``tuple(out.shape)`` prints)
    output_dims: tuple[int, ...] | None = None

    @property
    def gmacs(self) -> float:
        return self.total_macs / 1e9

    @property
    def gflops(self) -> float:
        return 2 * self.total_macs / 1e9


def describe(value: Any) -> str:
    """A compact shape description of a forward output."""
    if isinstance(value, torch.Tensor):
        return str(list(value.shape))
    if isinstance(value, tuple | list):
        inner = ", ".join(describe(v) for v in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {describe(v)}" for k, v in value.items()) + "}"
    if hasattr(value, "_fields"):  # NamedTuple outputs such as InceptionOutputs
        return describe(tuple(value))
    return type(value).__name__


def input_shape_for(key: str, side: int | None, batch: int = 1) -> tuple[int, ...]:
    e = catalog.entry(key)
    if not 1 <= batch <= MAX_BATCH:
        raise ModelError(
            _("Batch size must be between 1 and {most}, not {batch}.").format(
                most=MAX_BATCH, batch=batch
            ),
            fix=_("Shapes and MACs scale with the batch: 1 shows them per image."),
        )
    if e.input_kind is InputKind.VECTOR:
        return (batch, *e.default_input)
    if e.input_kind is not InputKind.IMAGE:  # FIXED: the shape its author gave
        return (batch, *e.default_input)
    c, h, _w = e.default_input
    s = h if side is None else side
    if not 1 <= s <= MAX_SIDE:
        raise ModelError(
            _("Input side must be between 1 and {most} pixels, not {side}.").format(
                most=MAX_SIDE, side=s
            ),
            fix=_("Use the model's own size ({own} px) or another size up to {most}.").format(
                own=h, most=MAX_SIDE
            ),
        )
    return (batch, c, s, s)


def _one_sentence(err: BaseException, shape: tuple[int, ...]) -> str:
    """The forward's own words as an inert code span: they may come from the operator's
    model code, and pages render messages as Markdown."""
    msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return _("The model's forward pass refused an input of shape {shape}: {said}").format(
        shape=list(shape), said=code_span(msg, limit=300)
    )


def _uncalled_note(
    q: str, m: nn.Module, modules: dict[str, nn.Module], calls: dict[str, int]
) -> str:
    """Parameters but never called: its parent used its weights directly."""
    if (
        calls.get(q, 0)
        or not any(p is not None for p in compat.own_parameters(m).values())
        or not q
    ):
        return ""
    parent = q.rsplit(".", 1)[0] if "." in q else ""
    owner = modules.get(parent)
    if owner is None or not calls.get(parent, 0):
        return _("never called in this forward pass")
    return _(
        "not called: {cls} uses its weights directly (functionally), so these MACs are "
        "counted in the parent's row"
    ).format(cls=type(owner).__name__)


def _fix(e: catalog.ModelEntry) -> str:
    if e.input_kind is InputKind.IMAGE:
        return _("Try the model's own input size ({side} px), or another size.").format(
            side=e.default_input[1]
        )
    if e.input_source:
        return _(
            "The model's input is {shape} per sample ({source}): check that its forward "
            "takes one tensor of that shape."
        ).format(shape=list(e.default_input), source=user.source_text(e.input_source))
    return _(
        "The model's input is {shape} per sample: check that its forward takes one tensor "
        "of that shape."
    ).format(shape=list(e.default_input))


def trace(
    key: str, num_classes: int | None = None, side: int | None = None, batch: int = 1
) -> ShapeReport:
    """Output shape and MACs of every module for a ``batch``×C×side×side meta input."""
    t0 = time.perf_counter()
    shape = input_shape_for(key, side, batch)
    e = catalog.entry(key)
    model = catalog.build_meta(key, num_classes).model  # private: hooks never leak
    x = torch.empty(shape, device="meta", dtype=getattr(torch, e.input_dtype))
    return trace_module(
        model,
        (x,),
        key=key,
        published_gmacs=e.published_gmacs,
        at_published_input=(shape[1:] == e.default_input and batch == 1),
        fix=_fix(e),
        t0=t0,
    )


def trace_module(
    model: nn.Module,
    inputs: tuple[Any, ...],
    *,
    key: str = "",
    published_gmacs: float | None = None,
    at_published_input: bool = False,
    fix: str = "",
    t0: float | None = None,
) -> ShapeReport:
    """Trace ``model(*inputs)`` on meta: every module's output shape, MACs and calls.

    ``inputs`` are meta tensors (or other arguments). The model runs through
    ``torch.func.functional_call`` with meta stand-ins for its parameters and buffers (a
    real model costs no memory, and its own tensors are never touched); the modules'
    train/eval modes are restored and every hook is removed afterwards.
    """
    t0 = time.perf_counter() if t0 is None else t0
    fix = fix or _("Check the input's shape and dtype against the model's forward.")
    shape = tuple(inputs[0].shape) if inputs and isinstance(inputs[0], torch.Tensor) else ()
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    names = {id(m): q for q, m in model.named_modules()}
    shapes: dict[str, str] = {}
    dims: dict[str, tuple[int, ...]] = {}
    calls: dict[str, int] = {}
    flops: dict[str, int] = {}
    own: dict[str, int] = {}
    #: (qualname, FLOPs counted when it started, FLOPs of the calls nested in it)
    stack: list[list[Any]] = []
    counter = FlopCounterMode(display=False)

    def pre(module: nn.Module, _args: Any) -> None:
        stack.append([names[id(module)], counter.get_total_flops(), 0])

    def post(module: nn.Module, _args: Any, output: Any) -> None:
        q, start, nested = stack.pop()
        spent = counter.get_total_flops() - start
        shapes[q] = describe(output)
        if isinstance(output, torch.Tensor):
            dims[q] = tuple(output.shape)
        calls[q] = calls.get(q, 0) + 1
        flops[q] = flops.get(q, 0) + spent
        own[q] = own.get(q, 0) + spent - nested
        if stack:
            stack[-1][2] += spent

    # Always through meta stand-ins that do not require grad: the module's own tensors are
    # never touched, and FlopCounterMode's module tracker (which hooks the autograd graph of
    # every module argument that requires grad) cannot trip on a Parameter passed straight
    # to a sub-module under no_grad (timm's CaiT: "Expected gradient function to be set").
    stand_ins = {
        name: torch.empty_like(t, device="meta", requires_grad=False)
        for name, t in [*model.named_parameters(), *model.named_buffers()]
    }

    def run() -> Any:
        return torch.func.functional_call(model, stand_ins, inputs, strict=False)

    handles = []
    for m in model.modules():
        handles.append(m.register_forward_pre_hook(pre))
        handles.append(m.register_forward_hook(post))
    try:
        with torch.no_grad(), counter:
            out = run()
    except Exception as err:  # any failure of a third-party forward becomes one sentence
        raise ModelError(_one_sentence(err, shape), fix=fix) from err
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes:
            m.training = mode
    modules = dict(model.named_modules())
    rows = tuple(
        LayerRow(
            qualname=q,
            name=q.rsplit(".", 1)[-1] if q else type(m).__name__,
            class_name=type(m).__name__,
            depth=0 if not q else q.count(".") + 1,
            output_shape=shapes.get(q, "—"),
            calls=calls.get(q, 0),
            own_params=sum(p.numel() for p in compat.own_parameters(m).values() if p is not None),
            macs=flops.get(q, 0) // 2,
            is_leaf=not compat.own_modules(m),
            note=_uncalled_note(q, m, modules, calls),
            self_macs=own.get(q, 0) // 2,
            output_dims=dims.get(q),
        )
        for q, m in modules.items()
    )
    total = counter.get_total_flops() // 2
    return ShapeReport(
        key=key,
        input_shape=shape,
        output_shape=describe(out),
        rows=rows,
        total_macs=total,
        total_params=sum(p.numel() for p in model.parameters()),
        published_gmacs=published_gmacs,
        at_published_input=at_published_input,
        seconds=time.perf_counter() - t0,
        output_dims=tuple(out.shape) if isinstance(out, torch.Tensor) else None,
    )


def human(n: float) -> str:
    """1234567 → '1.23 M' (for MACs and parameter counts)."""
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n:.0f}"
