"""The view()/reshape lab: build a source, apply a pre-op, call the real torch method.

Every verdict here comes from torch itself: the method is really called, a refusal is the
``RuntimeError`` torch raised (its message shown verbatim, plus the lesson and the fix), and
"shares storage" means the two tensors' storages really have the same address. Writes go
through the real result tensor, so when it is a view the source changes too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import torch

from ptexplore.errors import InputError
from ptexplore.rng import generator
from ptexplore.view.shapes import MAX_ELEMENTS, format_shape

#: Values drawn by the "random" fill lie in ``[0, RANDOM_HIGH)``.
RANDOM_HIGH = 100
MAX_STEP = 10
#: Values written through ``y`` stay within ``±MAX_WRITE`` (readable cells, no int64 overflow).
MAX_WRITE = 999_999


class Fill(StrEnum):
    """What the source's storage holds."""

    ARANGE = "arange"
    RANDOM = "random"


class PreOp(StrEnum):
    """What happens to the freshly shaped source before the reshape."""

    NONE = "none"
    TRANSPOSE = "transpose"
    PERMUTE = "permute"
    SLICE = "step-slice"
    CONTIGUOUS = "contiguous"

    @property
    def label(self) -> str:
        return {
            PreOp.NONE: "nothing (fresh, contiguous)",
            PreOp.TRANSPOSE: "transpose(-2, -1)",
            PreOp.PERMUTE: "permute(…)",
            PreOp.SLICE: "slice with a step  [..., start::step]",
            PreOp.CONTIGUOUS: "transpose(-2, -1).contiguous()",
        }[self]


class Method(StrEnum):
    """The call whose result is compared with the source."""

    VIEW = "view"
    RESHAPE = "reshape"
    FLATTEN = "flatten"
    UNSQUEEZE = "unsqueeze"
    SQUEEZE = "squeeze"
    #: ``x.squeeze()`` with no dim: drops every size-1 dimension at once.
    SQUEEZE_ALL = "squeeze()"
    VIEW_FLAT = "view(-1)"

    @property
    def takes_shape(self) -> bool:
        return self in (Method.VIEW, Method.RESHAPE)

    @property
    def takes_dim(self) -> bool:
        return self in (Method.FLATTEN, Method.UNSQUEEZE, Method.SQUEEZE)


class Sharing(StrEnum):
    """How the result relates to the source's memory."""

    SAME_PTR = "same data_ptr"
    SAME_STORAGE = "same storage, other offset"
    COPY = "copy"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class LabConfig:
    """Everything the page's widgets choose; the whole lab is a function of it."""

    source_shape: tuple[int, ...]
    op: PreOp = PreOp.NONE
    perm: tuple[int, ...] | None = None
    step: int = 2
    start: int = 0
    method: Method = Method.VIEW
    target: tuple[int, ...] = (-1,)
    dim: int = 0
    fill: Fill = Fill.ARANGE
    seed: int = 0


@dataclass(frozen=True, slots=True)
class StorageFacts:
    """One storage: its start address, its elements, and which of them a tensor reads."""

    ptr: int
    values: tuple[int, ...]
    used: tuple[bool, ...]


@dataclass(frozen=True, slots=True)
class TensorFacts:
    """What torch reports about one tensor, plus its elements in reading (row-major) order."""

    shape: tuple[int, ...]
    stride: tuple[int, ...]
    storage_offset: int
    is_contiguous: bool
    data_ptr: int
    storage_ptr: int
    element_size: int
    values: tuple[int, ...]
    #: For each element in reading order, its index in the storage ("memory position").
    positions: tuple[int, ...]
    storage: StorageFacts
    #: torch's own ``repr`` of the tensor (summarised with ``...`` when large).
    text: str

    @property
    def numel(self) -> int:
        return len(self.values)

    def nested(self) -> object:
        """The values as nested lists (``tensor.tolist()`` layout)."""
        return _nest(list(self.values), self.shape)


@dataclass(frozen=True, slots=True)
class Inference:
    """How ``-1`` was resolved: ``24 / (2·4) = 3`` (or why it could not be)."""

    index: int
    numel: int
    known: tuple[int, ...]
    value: int | None
    text: str


@dataclass(frozen=True, slots=True)
class Failure:
    """torch refused: its exception type and own message, plus the lesson and the fix."""

    kind: str
    message: str
    lesson: str
    fix: str


@dataclass(frozen=True, slots=True)
class NumpyAnalogy:
    """The same reshape done by numpy on the same array, computed live.

    ``view`` maps to ``np.reshape(a, shape, copy=False)`` (a view or an error, never a
    copy), ``reshape`` to plain ``np.reshape`` (a view when possible, else a copy).
    ``resize`` is what ``np.resize`` does with the same sizes when the element count does
    not match: it silently repeats or cuts the data, where torch and np.reshape refuse.
    """

    call: str
    shape: tuple[int, ...] | None
    shares_memory: bool | None
    error: str | None
    resize: str | None = None


@dataclass(frozen=True, slots=True)
class LabResult:
    config: LabConfig
    source_expr: str
    call: str
    source: TensorFacts
    result: TensorFacts | None
    failure: Failure | None
    inference: Inference | None
    sharing: Sharing
    verdict: str
    writes: tuple[tuple[int, int], ...]
    written_positions: frozenset[int]
    numpy: NumpyAnalogy | None


def _nest(flat: list[int], shape: tuple[int, ...]) -> object:
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return flat
    step = math.prod(shape[1:])
    return [_nest(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def storage_elements(t: torch.Tensor) -> int:
    """Number of elements in ``t``'s whole storage (not just the part ``t`` reads)."""
    return t.untyped_storage().nbytes() // t.element_size()


def storage_tensor(t: torch.Tensor) -> torch.Tensor:
    """A 1-D tensor over ``t``'s entire storage (same memory, no copy)."""
    return torch.empty(0, dtype=t.dtype).set_(t.untyped_storage(), 0, (storage_elements(t),), (1,))


def memory_positions(t: torch.Tensor) -> torch.Tensor:
    """For every element of ``t``, its index in the storage — computed by torch's own
    ``as_strided`` from ``t``'s size, stride and storage offset."""
    n = storage_elements(t)
    return torch.arange(n).as_strided(t.size(), t.stride(), t.storage_offset())


def tensor_facts(t: torch.Tensor) -> TensorFacts:
    pos = memory_positions(t).reshape(-1)
    store = storage_tensor(t)
    used = torch.zeros(store.numel(), dtype=torch.bool)
    used[pos] = True
    return TensorFacts(
        shape=tuple(t.shape),
        stride=tuple(t.stride()),
        storage_offset=int(t.storage_offset()),
        is_contiguous=bool(t.is_contiguous()),
        data_ptr=int(t.data_ptr()),
        storage_ptr=int(t.untyped_storage().data_ptr()),
        element_size=int(t.element_size()),
        values=tuple(int(v) for v in t.reshape(-1).tolist()),
        positions=tuple(int(p) for p in pos.tolist()),
        storage=StorageFacts(
            ptr=int(t.untyped_storage().data_ptr()),
            values=tuple(int(v) for v in store.tolist()),
            used=tuple(bool(u) for u in used.tolist()),
        ),
        text=repr(t),
    )


def make_base(config: LabConfig) -> torch.Tensor:
    """The 1-D storage the source is shaped from."""
    n = math.prod(config.source_shape)
    if n > MAX_ELEMENTS or n < 1:
        raise InputError(f"The source must have 1 … {MAX_ELEMENTS:,} elements, not {n:,}.")
    if config.fill is Fill.RANDOM:
        return torch.randint(0, RANDOM_HIGH, (n,), generator=generator(config.seed))
    return torch.arange(n)


def base_expr(config: LabConfig) -> str:
    n = math.prod(config.source_shape)
    if config.fill is Fill.RANDOM:
        return (
            f"torch.randint(0, {RANDOM_HIGH}, ({n},), "
            f"generator=torch.Generator().manual_seed({config.seed}))"
        )
    return f"torch.arange({n})"


def default_perm(ndim: int) -> tuple[int, ...]:
    return tuple(reversed(range(ndim)))


def _pre_op(config: LabConfig) -> tuple[str, tuple[int, ...] | None]:
    """Validate the pre-op; return its code suffix and the permute order used."""
    ndim = len(config.source_shape)
    op = config.op
    if op in (PreOp.TRANSPOSE, PreOp.CONTIGUOUS) and ndim < 2:
        raise InputError(
            f"transpose(-2, -1) swaps the last two dimensions, and the source has only {ndim}.",
            fix="Give the source at least two sizes, e.g. `3, 2`.",
        )
    if op is PreOp.TRANSPOSE:
        return ".transpose(-2, -1)", None
    if op is PreOp.CONTIGUOUS:
        return ".transpose(-2, -1).contiguous()", None
    if op is PreOp.PERMUTE:
        perm = config.perm if config.perm is not None else default_perm(ndim)
        if len(perm) != ndim or sorted(perm) != list(range(ndim)):
            raise InputError(
                f"permute{perm} is not an order of the source's {ndim} dimensions.",
                fix=f"List each of 0…{ndim - 1} once, e.g. {format_shape(default_perm(ndim))}.",
            )
        return f".permute({format_shape(perm)})", perm
    if op is PreOp.SLICE:
        if not 1 <= config.step <= MAX_STEP:
            raise InputError(
                f"The slice step must be between 1 and {MAX_STEP}, not {config.step}.",
                fix="torch slicing needs a positive step; try 2.",
            )
        last = config.source_shape[-1]
        if not 0 <= config.start < last:
            raise InputError(
                f"The slice start {config.start} is past the end of the last dimension "
                f"(size {last}), so x would have no elements to show.",
                fix=f"Pick a start from 0 to {last - 1}.",
            )
        start = str(config.start) if config.start else ""
        return f"[..., {start}::{config.step}]", None
    return "", None


def source_expr(config: LabConfig) -> str:
    """``base.view(2, 3, 4).transpose(-2, -1)`` — how the source ``x`` is made."""
    suffix, _ = _pre_op(config)
    return f"base.view({format_shape(config.source_shape)}){suffix}"


def make_source(config: LabConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(base, x)``: the 1-D storage and the source after the pre-op."""
    _pre_op(config)
    base = make_base(config)
    x = base.view(config.source_shape)
    if config.op is PreOp.TRANSPOSE:
        x = x.transpose(-2, -1)
    elif config.op is PreOp.CONTIGUOUS:
        x = x.transpose(-2, -1).contiguous()
    elif config.op is PreOp.PERMUTE:
        perm = config.perm if config.perm is not None else default_perm(x.dim())
        x = x.permute(perm)
    elif config.op is PreOp.SLICE:
        x = x[..., config.start :: config.step]
    return base, x


def method_call(config: LabConfig) -> str:
    """The call on ``x`` as code, e.g. ``x.view(2, -1)``."""
    m = config.method
    if m is Method.VIEW:
        return f"x.view({format_shape(config.target)})"
    if m is Method.RESHAPE:
        return f"x.reshape({format_shape(config.target)})"
    if m is Method.VIEW_FLAT:
        return "x.view(-1)"
    if m is Method.FLATTEN:
        return "x.flatten()" if config.dim == 0 else f"x.flatten(start_dim={config.dim})"
    if m is Method.UNSQUEEZE:
        return f"x.unsqueeze({config.dim})"
    if m is Method.SQUEEZE_ALL:
        return "x.squeeze()"
    return f"x.squeeze({config.dim})"


def apply_method(x: torch.Tensor, config: LabConfig) -> torch.Tensor:
    """Call the real torch method (may raise torch's RuntimeError / IndexError)."""
    m = config.method
    if m is Method.VIEW:
        return x.view(config.target)
    if m is Method.RESHAPE:
        return x.reshape(config.target)
    if m is Method.VIEW_FLAT:
        return x.view(-1)
    if m is Method.FLATTEN:
        return x.flatten(start_dim=config.dim)
    if m is Method.UNSQUEEZE:
        return x.unsqueeze(config.dim)
    if m is Method.SQUEEZE_ALL:
        return x.squeeze()
    return x.squeeze(config.dim)


def infer_explanation(target: Sequence[int], numel: int) -> Inference | None:
    """Explain how torch fills in ``-1``: the element count divided by the other sizes."""
    dims = tuple(target)
    if dims.count(-1) != 1:
        return None
    idx = dims.index(-1)
    known = tuple(d for d in dims if d != -1)
    prod = math.prod(known)
    if not known:
        text = f"{numel} / 1 = {numel} (no other sizes: -1 takes all {numel} elements)"
        return Inference(idx, numel, known, numel, text)
    denom = str(known[0]) if len(known) == 1 else "(" + "·".join(str(d) for d in known) + ")"
    if prod == 0:
        text = (
            f"{numel} / {denom} — the other sizes multiply to 0, so no size for -1 can "
            f"give {numel} elements"
        )
        return Inference(idx, numel, known, None, text)
    if numel % prod:
        text = (
            f"{numel} / {denom} = {numel / prod:.4g} is not a whole number "
            f"({numel} = {numel // prod}·{prod} + {numel % prod}), so no size fits"
        )
        return Inference(idx, numel, known, None, text)
    return Inference(idx, numel, known, numel // prod, f"{numel} / {denom} = {numel // prod}")


def _lesson(err: Exception, x: torch.Tensor, config: LabConfig) -> tuple[str, str]:
    """The lesson and the fix for a refusal torch just raised."""
    msg = str(err)
    n = x.numel()
    if "view size is not compatible" in msg:
        return (
            f"x is not contiguous (stride {tuple(x.stride())} for shape {tuple(x.shape)}): "
            "reading it in row-major order jumps around memory, and view() only "
            "re-labels the same memory with new strides — no stride pattern can describe "
            "that reading order for the new shape, and view() never copies.",
            f"Use `{method_call(config).replace('.view(', '.reshape(')}` (copies when it must) "
            f"or `x.contiguous(){method_call(config)[1:]}` (copies explicitly first).",
        )
    if "is invalid for input of size" in msg:
        known = [d for d in config.target if d != -1]
        prod = math.prod(known)
        if -1 in config.target:
            if prod == 0:
                return (
                    f"With -1, torch solves {n} / {prod} for the missing size, but the other "
                    "sizes multiply to 0: no size can make them hold "
                    f"{n} elements.",
                    f"Use sizes of at least 1 whose product divides {n}.",
                )
            return (
                f"With -1, torch solves {n} / {prod} for the missing size, and that is not a "
                "whole number.",
                f"Pick sizes whose product divides {n}.",
            )
        shown = "·".join(str(d) for d in config.target)
        return (
            f"A view keeps every element: {shown} = {prod} ≠ {n}.",
            f"Make the sizes multiply to {n}, or let torch infer one of them with -1.",
        )
    if "Dimension out of range" in msg:
        return (
            "The dim argument must name an existing position "
            "(unsqueeze may also name one past the end).",
            "Pick a dim inside the range torch states.",
        )
    return ("torch refused this call.", "Read torch's message above.")


def _sharing(x: torch.Tensor, y: torch.Tensor) -> tuple[Sharing, str]:
    if y.untyped_storage().data_ptr() != x.untyped_storage().data_ptr():
        return Sharing.COPY, (
            "copied: new storage — y.data_ptr() is a different address, so writes to y "
            "do not reach x"
        )
    if y.data_ptr() == x.data_ptr():
        return Sharing.SAME_PTR, (
            "shares storage with the source: same data_ptr — y is a view, writes to y show up in x"
        )
    return Sharing.SAME_STORAGE, (
        "shares storage with the source (same storage, data_ptr shifted by the storage "
        "offset) — y is a view, writes to y show up in x"
    )


def _shape_arg(shape: Sequence[int]) -> str:
    return f"({format_shape(tuple(shape))}{',' if len(shape) == 1 else ''})"


def _resize_note(a: np.ndarray, shape: tuple[int, ...]) -> str | None:
    """``np.resize`` on a wrong element count: what it silently returns instead of an error."""
    if -1 in shape or any(d < 0 for d in shape) or math.prod(shape) == a.size:
        return None
    want = math.prod(shape)
    if want > MAX_ELEMENTS:
        return None
    out = np.resize(a, shape).reshape(-1)
    head = ", ".join(str(int(v)) for v in out[:8]) + (", …" if want > 8 else "")
    how = "repeats" if want > a.size else "cuts"
    return (
        f"np.resize(a, {_shape_arg(shape)}) → {want} elements [{head}]: it {how} the data "
        "without a word"
    )


def _numpy_analogy(x: torch.Tensor, y: torch.Tensor | None, config: LabConfig) -> NumpyAnalogy:
    a = x.numpy()
    if config.method.takes_shape or config.method is Method.VIEW_FLAT:
        shape = (-1,) if config.method is Method.VIEW_FLAT else config.target
        strict = config.method is not Method.RESHAPE
        call = f"np.reshape(a, {_shape_arg(shape)}{', copy=False' if strict else ''})"
        resize = _resize_note(a, shape)
        try:
            b = np.reshape(a, shape, copy=False) if strict else np.reshape(a, shape)
        except ValueError as err:
            return NumpyAnalogy(call, None, None, str(err), resize)
        return NumpyAnalogy(call, tuple(b.shape), bool(np.shares_memory(a, b)), None, resize)
    if y is None:
        return NumpyAnalogy("", None, None, None)
    if config.method is Method.FLATTEN:
        start = config.dim % max(a.ndim, 1) if a.ndim else 0
        shape = (*a.shape[:start], -1)
        call = f"np.reshape(a, {_shape_arg(shape)})"
        b = np.reshape(a, shape)
    elif config.method is Method.UNSQUEEZE:
        call = f"np.expand_dims(a, {config.dim})"
        b = np.expand_dims(a, config.dim)
    elif config.method is Method.SQUEEZE_ALL:
        call = "np.squeeze(a)"
        b = np.squeeze(a)
    else:
        ax = config.dim % max(a.ndim, 1) if a.ndim else 0
        call = f"np.squeeze(a, {config.dim})" if a.ndim and a.shape[ax] == 1 else "a (no-op)"
        b = np.squeeze(a, ax) if a.ndim and a.shape[ax] == 1 else a.view()
    return NumpyAnalogy(call, tuple(b.shape), bool(np.shares_memory(a, b)), None)


def unravel(position: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Reading-order position → index tuple (``torch.unravel_index``)."""
    if not shape:
        return ()
    return tuple(int(i) for i in torch.unravel_index(torch.tensor(position), shape))


def result_numel(config: LabConfig) -> int | None:
    """How many elements ``y`` has under ``config`` (``None`` when torch refuses the call).

    Lets the page check whether a write made under other settings still names a real
    position of this ``y``. Raises the same ``InputError`` as :func:`run_lab` for bad input.
    """
    _base, x = make_source(config)
    try:
        return int(apply_method(x, config).numel())
    except (RuntimeError, IndexError):
        return None


def run_lab(config: LabConfig, writes: Sequence[tuple[int, int]] = ()) -> LabResult:
    """Build the source, call the method for real, apply the writes through ``y``.

    ``writes`` are ``(position, value)`` pairs: ``position`` counts ``y``'s elements in
    reading order; each is written with ``y[unravel(position)] = value``.
    """
    src_expr = source_expr(config)
    _base, x = make_source(config)
    call = method_call(config)
    inference = infer_explanation(config.target, x.numel()) if config.method.takes_shape else None
    if config.method is Method.VIEW_FLAT:
        inference = infer_explanation((-1,), x.numel())
    try:
        y = apply_method(x, config)
    except (RuntimeError, IndexError) as err:
        lesson, fix = _lesson(err, x, config)
        failure = Failure(type(err).__name__, str(err).strip(), lesson, fix)
        return LabResult(
            config=config,
            source_expr=src_expr,
            call=call,
            source=tensor_facts(x),
            result=None,
            failure=failure,
            inference=inference,
            sharing=Sharing.FAILED,
            verdict=f"{call} failed — torch says: {failure.message}",
            writes=(),
            written_positions=frozenset(),
            numpy=_numpy_analogy(x, None, config),
        )
    applied: list[tuple[int, int]] = []
    for pos, value in writes:
        if not -MAX_WRITE <= value <= MAX_WRITE:
            raise InputError(
                f"The value {value} is too large to write here: this lab writes values "
                f"between -{MAX_WRITE:,} and {MAX_WRITE:,}.",
                fix="Write a smaller number; any value shows whether x changes.",
            )
        if not 0 <= pos < y.numel():
            raise InputError(
                f"Position {pos} is outside y, which has {y.numel()} elements.",
                fix=f"Pick a position from 0 to {y.numel() - 1}.",
            )
        y[unravel(pos, tuple(y.shape))] = value
        applied.append((int(pos), int(value)))
    sharing, verdict = _sharing(x, y)
    yf = tensor_facts(y)
    written = frozenset(yf.positions[p] for p, _ in applied)
    return LabResult(
        config=config,
        source_expr=src_expr,
        call=call,
        source=tensor_facts(x),
        result=yf,
        failure=None,
        inference=inference,
        sharing=sharing,
        verdict=verdict,
        writes=tuple(applied),
        written_positions=written,
        numpy=_numpy_analogy(x, y, config),
    )


def cells_reading(facts: TensorFacts, positions: frozenset[int]) -> tuple[tuple[str, int], ...]:
    """The elements of a tensor that read the given memory positions: ``("1, 2", value)``.

    Used after a write through ``y``: when ``y`` is a view, the written memory positions
    are read by some of ``x``'s elements too, and this lists them with their new values.
    """
    out: list[tuple[str, int]] = []
    for i, (p, v) in enumerate(zip(facts.positions, facts.values, strict=True)):
        if p in positions:
            out.append((", ".join(map(str, unravel(i, facts.shape))), v))
    return tuple(out)
