"""The view()/reshape lab: build a source, apply a pre-op, call the real torch method.

Code shown = code run: :func:`lab_code` writes the script for a config (source, call,
writes through ``y``, prints), and :func:`run_lab` executes exactly that text
(:func:`ptexplore.live.run`) and reads its verdicts off the objects it left behind. A
refusal is the exception torch raised (its message verbatim, plus the lesson and the fix),
and "shares storage" means the two tensors' storages really have the same address. Writes
go through the real result tensor, so when it is a view the source changes too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import torch

from ptexplore import live
from ptexplore.errors import InputError, Refusal
from ptexplore.i18n import N_, _
from ptexplore.limits import VIEW_MAX_ELEMENTS as MAX_ELEMENTS
from ptexplore.limits import VIEW_MAX_STEP as MAX_STEP
from ptexplore.limits import VIEW_MAX_WRITE as MAX_WRITE
from ptexplore.memory import Number, Sharing, TensorFacts, tensor_facts
from ptexplore.memory import sharing as memory_sharing
from ptexplore.view.shapes import format_shape

#: Values drawn by the "random" fill lie in ``[0, RANDOM_HIGH)``.
RANDOM_HIGH = 100


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
        """The option's text: English (code, or marked for the catalog: the page
        translates it)."""
        return {
            PreOp.NONE: N_("nothing (fresh, contiguous)"),
            PreOp.TRANSPOSE: "transpose(-2, -1)",
            PreOp.PERMUTE: "permute(…)",
            PreOp.SLICE: N_("slice with a step  [..., start::step]"),
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
class Inference:
    """How ``-1`` was resolved: ``24 / (2·4) = 3`` (or why it could not be)."""

    index: int
    numel: int
    known: tuple[int, ...]
    value: int | None
    text: str


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
    #: the exception's type when numpy refused (ValueError for a shape no strides allow)
    error_kind: str = "ValueError"
    #: why the comparison could not run here (an installed numpy without the call)
    unavailable: str | None = None


@dataclass(frozen=True, slots=True)
class LabResult:
    config: LabConfig
    source_expr: str
    call: str
    source: TensorFacts
    result: TensorFacts | None
    failure: Refusal | None
    inference: Inference | None
    sharing: Sharing
    verdict: str
    writes: tuple[tuple[int, int], ...]
    written_positions: frozenset[int]
    numpy: NumpyAnalogy | None
    #: the script that produced all of the above, and what it printed
    snippet: live.Snippet


def _check_size(config: LabConfig) -> None:
    n = math.prod(config.source_shape)
    if n > MAX_ELEMENTS or n < 1:
        raise InputError(
            _("The source must have 1 … {max:,} elements, not {n:,}.").format(
                max=MAX_ELEMENTS, n=n
            ),
            fix=_("Use smaller sizes so every element fits on screen."),
        )


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
            _(
                "transpose(-2, -1) swaps the last two dimensions, and the source has only {ndim}."
            ).format(ndim=ndim),
            fix=_("Give the source at least two sizes, e.g. `3, 2`."),
        )
    if op is PreOp.TRANSPOSE:
        return ".transpose(-2, -1)", None
    if op is PreOp.CONTIGUOUS:
        return ".transpose(-2, -1).contiguous()", None
    if op is PreOp.PERMUTE:
        perm = config.perm if config.perm is not None else default_perm(ndim)
        if len(perm) != ndim or sorted(perm) != list(range(ndim)):
            raise InputError(
                _("permute{perm} is not an order of the source's {ndim} dimensions.").format(
                    perm=perm, ndim=ndim
                ),
                fix=_("List each of 0…{last} once, e.g. {example}.").format(
                    last=ndim - 1, example=format_shape(default_perm(ndim))
                ),
            )
        return f".permute({format_shape(perm)})", perm
    if op is PreOp.SLICE:
        if not 1 <= config.step <= MAX_STEP:
            raise InputError(
                _("The slice step must be between 1 and {max}, not {step}.").format(
                    max=MAX_STEP, step=config.step
                ),
                fix=_("torch slicing needs a positive step; try 2."),
            )
        last = config.source_shape[-1]
        if not 0 <= config.start < last:
            raise InputError(
                _(
                    "The slice start {start} is past the end of the last dimension "
                    "(size {size}), so x would have no elements to show."
                ).format(start=config.start, size=last),
                fix=_("Pick a start from 0 to {last}.").format(last=last - 1),
            )
        start = str(config.start) if config.start else ""
        return f"[..., {start}::{config.step}]", None
    return "", None


def source_expr(config: LabConfig) -> str:
    """``base.view(2, 3, 4).transpose(-2, -1)`` — how the source ``x`` is made."""
    suffix, _perm = _pre_op(config)
    return f"base.view({format_shape(config.source_shape)}){suffix}"


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


def infer_explanation(target: Sequence[int], numel: int) -> Inference | None:
    """Explain how torch fills in ``-1``: the element count divided by the other sizes."""
    dims = tuple(target)
    if dims.count(-1) != 1:
        return None
    idx = dims.index(-1)
    known = tuple(d for d in dims if d != -1)
    prod = math.prod(known)
    if not known:
        text = _("{n} / 1 = {n} (no other sizes: -1 takes all {n} elements)").format(n=numel)
        return Inference(idx, numel, known, numel, text)
    denom = str(known[0]) if len(known) == 1 else "(" + "·".join(str(d) for d in known) + ")"
    if prod == 0:
        text = _(
            "{n} / {denom} — the other sizes multiply to 0, so no size for -1 can give {n} elements"
        ).format(n=numel, denom=denom)
        return Inference(idx, numel, known, None, text)
    if numel % prod:
        text = _(
            "{n} / {denom} = {quotient:.4g} is not a whole number "
            "({n} = {whole}·{prod} + {rest}), so no size fits"
        ).format(
            n=numel,
            denom=denom,
            quotient=numel / prod,
            whole=numel // prod,
            prod=prod,
            rest=numel % prod,
        )
        return Inference(idx, numel, known, None, text)
    return Inference(idx, numel, known, numel // prod, f"{numel} / {denom} = {numel // prod}")


def _lesson(err: BaseException, x: torch.Tensor, config: LabConfig) -> tuple[str, str]:
    """The lesson and the fix for a refusal torch just raised."""
    msg = str(err)
    n = x.numel()
    if "view size is not compatible" in msg:
        return (
            _(
                "x is not contiguous (stride {stride} for shape {shape}): "
                "reading it in row-major order jumps around memory, and view() only "
                "re-labels the same memory with new strides — no stride pattern can describe "
                "that reading order for the new shape, and view() never copies."
            ).format(stride=tuple(x.stride()), shape=tuple(x.shape)),
            _(
                "Use `{reshape}` (copies when it must) or `x.contiguous(){call}` "
                "(copies explicitly first)."
            ).format(
                reshape=method_call(config).replace(".view(", ".reshape("),
                call=method_call(config)[1:],
            ),
        )
    if "is invalid for input of size" in msg:
        known = [d for d in config.target if d != -1]
        prod = math.prod(known)
        if -1 in config.target:
            if prod == 0:
                return (
                    _(
                        "With -1, torch solves {n} / {prod} for the missing size, but the "
                        "other sizes multiply to 0: no size can make them hold {n} elements."
                    ).format(n=n, prod=prod),
                    _("Use sizes of at least 1 whose product divides {n}.").format(n=n),
                )
            return (
                _(
                    "With -1, torch solves {n} / {prod} for the missing size, and that is not "
                    "a whole number."
                ).format(n=n, prod=prod),
                _("Pick sizes whose product divides {n}.").format(n=n),
            )
        shown = "·".join(str(d) for d in config.target)
        if prod == 0:
            return (
                _(
                    "A view keeps every element: the shape {shape} has 0 elements, "
                    "the source has {n}."
                ).format(shape=list(config.target), n=n),
                _(
                    "Make the sizes multiply to {n} (a size of 0 empties the tensor), or let "
                    "torch infer one of them with -1."
                ).format(n=n),
            )
        return (
            _("A view keeps every element: {shown} = {prod} ≠ {n}.").format(
                shown=shown, prod=prod, n=n
            ),
            _("Make the sizes multiply to {n}, or let torch infer one of them with -1.").format(
                n=n
            ),
        )
    if "Dimension out of range" in msg:
        return (
            _(
                "The dim argument must name an existing position "
                "(unsqueeze may also name one past the end)."
            ),
            _("Pick a dim inside the range torch states."),
        )
    return (_("torch refused this call."), _("Read torch's message above."))


#: English, marked for the catalog: the result's verdict is translated when it is made.
_VERDICTS = {
    Sharing.COPY: N_(
        "copied: new storage — y.data_ptr() is a different address, so writes to y do not reach x"
    ),
    Sharing.SAME_PTR: N_(
        "shares storage with the source: same data_ptr — y is a view, writes to y show up in x"
    ),
    Sharing.SAME_STORAGE: N_(
        "shares storage with the source (same storage, data_ptr shifted by the storage "
        "offset) — y is a view, writes to y show up in x"
    ),
}


def _shape_arg(shape: Sequence[int]) -> str:
    return f"({format_shape(tuple(shape))}{',' if len(shape) == 1 else ''})"


def _resize_note(x: torch.Tensor, shape: tuple[int, ...]) -> str | None:
    """``np.resize`` on a wrong element count: what it silently returns instead of an error."""
    if -1 in shape or any(d < 0 for d in shape) or math.prod(shape) == x.numel():
        return None
    want = math.prod(shape)
    if want > MAX_ELEMENTS:
        return None
    call = f"np.resize(a, {_shape_arg(shape)})"
    got = live.run(f"import numpy as np\na = x.numpy()\nb = {call}.reshape(-1)", {"x": x})
    out = got.namespace["b"]
    head = ", ".join(str(int(v)) for v in out[:8]) + (", …" if want > 8 else "")
    if want > x.numel():
        said = _("{call} → {n} elements [{head}]: it repeats the data without a word")
    else:
        said = _("{call} → {n} elements [{head}]: it cuts the data without a word")
    return said.format(call=call, n=want, head=head)


def _numpy_call(x: torch.Tensor, config: LabConfig) -> tuple[str, str] | None:
    """(the call as the page names it, the line that runs it) for numpy's analogue."""
    if config.method.takes_shape or config.method is Method.VIEW_FLAT:
        shape = (-1,) if config.method is Method.VIEW_FLAT else config.target
        strict = config.method is not Method.RESHAPE
        call = f"np.reshape(a, {_shape_arg(shape)}{', copy=False' if strict else ''})"
        return call, call
    ndim = x.dim()
    if config.method is Method.FLATTEN:
        start = config.dim % max(ndim, 1) if ndim else 0
        call = f"np.reshape(a, {_shape_arg((*x.shape[:start], -1))})"
        return call, call
    if config.method is Method.UNSQUEEZE:
        call = f"np.expand_dims(a, {config.dim})"
        return call, call
    if config.method is Method.SQUEEZE_ALL:
        return "np.squeeze(a)", "np.squeeze(a)"
    ax = config.dim % max(ndim, 1) if ndim else 0
    if ndim and x.shape[ax] == 1:
        return f"np.squeeze(a, {config.dim})", f"np.squeeze(a, {ax})"
    return "a (no-op)", "a.view()"


def numpy_has_reshape_copy(version: str | None = None) -> bool:
    """Does this numpy's ``np.reshape`` take ``copy=`` (numpy ≥ 2.1)? On an older one the
    call is a TypeError about the argument, not numpy refusing the reshape."""
    major, minor = (int(p) for p in (version or np.__version__).split(".")[:2])
    return (major, minor) >= (2, 1)


def _numpy_analogy(x: torch.Tensor, y: torch.Tensor | None, config: LabConfig) -> NumpyAnalogy:
    """The same reshape done by numpy on ``a = x.numpy()``, run live."""
    names = _numpy_call(x, config)
    if names is None or (
        y is None and not (config.method.takes_shape or config.method is Method.VIEW_FLAT)
    ):
        return NumpyAnalogy("", None, None, None)
    call, line = names
    if "copy=False" in line and not numpy_has_reshape_copy():
        return NumpyAnalogy(
            call,
            None,
            None,
            None,
            unavailable=_(
                "this server has numpy {version}; `np.reshape` takes `copy=` "
                "from numpy 2.1 on, so the view-or-error comparison cannot run here"
            ).format(version=np.__version__),
        )
    resize = None
    if config.method.takes_shape or config.method is Method.VIEW_FLAT:
        resize = _resize_note(x, (-1,) if config.method is Method.VIEW_FLAT else config.target)
    got = live.run(f"import numpy as np\na = x.numpy()\nb = {line}", {"x": x})
    if got.error is not None:
        return NumpyAnalogy(call, None, None, got.error.message, resize, got.error.kind)
    a, b = got.namespace["a"], got.namespace["b"]
    return NumpyAnalogy(call, tuple(b.shape), bool(np.shares_memory(a, b)), None, resize)


def unravel(position: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Reading-order position → index tuple (what ``torch.unravel_index`` gives; plain
    integer arithmetic here: it runs on every rerun, and a torch call costs ~70 µs)."""
    index = []
    for size in reversed(shape):
        position, i = divmod(position, size) if size else (position, 0)
        index.append(i)
    return tuple(reversed(index))


def lab_code(
    config: LabConfig,
    writes: Sequence[tuple[int, int]] = (),
    result_shape: tuple[int, ...] | None = None,
) -> str:
    """The script behind the lab: rebuild ``x``, call the method, write through ``y``, and
    print every number the page shows (no addresses: they differ from run to run).

    ``result_shape`` (the shape ``y`` really got) turns reading-order write positions into
    ``y[i, j] = value`` lines; without it no writes are emitted.
    """
    _check_size(config)
    call = method_call(config)
    lines = [
        "import torch",
        "",
        f"base = {base_expr(config)}",
        f"x = {source_expr(config)}",
        "",
        "def facts(t):",
        "    return tuple(t.shape), t.stride(), t.storage_offset(), t.is_contiguous()",
        "",
        'print("x:", facts(x))',
        "try:",
        f"    y = {call}",
        "except (RuntimeError, IndexError) as err:  # torch refuses; its message says why",
        '    print("error:", err)',
        "else:",
    ]
    if writes and result_shape is not None:
        for pos, value in writes:
            idx = unravel(pos, result_shape)
            index = ", ".join(map(str, idx)) if idx else "..."
            lines.append(f"    y[{index}] = {value}  # write through y")
    lines += [
        '    print("y:", facts(y))',
        "    same = y.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()",
        '    print("shares storage:", same, "| same data_ptr:", y.data_ptr() == x.data_ptr())',
        '    print("x =", x.tolist())',
        '    print("y =", y.tolist())',
    ]
    return "\n".join(lines) + "\n"


def source_code(config: LabConfig) -> str:
    """Only the source half of :func:`lab_code`: build ``x`` and print its facts."""
    _check_size(config)
    return (
        "\n".join(
            [
                "import torch",
                "",
                f"base = {base_expr(config)}",
                f"x = {source_expr(config)}",
                'print("x:", (tuple(x.shape), x.stride(), x.storage_offset(), x.is_contiguous()))',
            ]
        )
        + "\n"
    )


def run_source(config: LabConfig) -> LabResult:
    """The source alone (the call's own input did not parse): ``x`` without a ``y``."""
    code = source_code(config)
    ran = live.run(code)
    return LabResult(
        config=config,
        source_expr=source_expr(config),
        call="",
        source=tensor_facts(ran.namespace["x"]),
        result=None,
        failure=None,
        inference=None,
        sharing=Sharing.FAILED,
        verdict="",
        writes=(),
        written_positions=frozenset(),
        numpy=None,
        snippet=live.Snippet(code, ran.output),
    )


def _check_writes(writes: Sequence[tuple[int, int]], numel: int) -> None:
    for pos, value in writes:
        if not -MAX_WRITE <= value <= MAX_WRITE:
            raise InputError(
                _(
                    "The value {value} is too large to write here: this lab writes values "
                    "between -{max:,} and {max:,}."
                ).format(value=value, max=MAX_WRITE),
                fix=_("Write a smaller number; any value shows whether x changes."),
            )
        if not 0 <= pos < numel:
            raise InputError(
                _("Position {pos} is outside y, which has {n} elements.").format(pos=pos, n=numel),
                fix=_("Pick a position from 0 to {last}.").format(last=numel - 1),
            )


def result_numel(config: LabConfig) -> int | None:
    """How many elements ``y`` has under ``config`` (``None`` when torch refuses the call).

    Lets the page check whether a write made under other settings still names a real
    position of this ``y``. Raises the same ``InputError`` as :func:`run_lab` for bad input.
    """
    y = live.run(lab_code(config)).namespace.get("y")
    return None if y is None else int(y.numel())


def run_lab(config: LabConfig, writes: Sequence[tuple[int, int]] = ()) -> LabResult:
    """Run the lab's script for ``config`` and read every verdict off its objects.

    ``writes`` are ``(position, value)`` pairs: ``position`` counts ``y``'s elements in
    reading order; each becomes a ``y[i, j] = value`` line of the script.
    """
    src_expr = source_expr(config)
    call = method_call(config)
    code = lab_code(config)
    ran = live.run(code)
    y = ran.namespace.get("y")
    if y is not None and writes:
        _check_writes(writes, int(y.numel()))
        code = lab_code(config, writes, tuple(y.shape))
        ran = live.run(code)
        y = ran.namespace["y"]
    x = ran.namespace["x"]
    numel = int(x.numel())
    inference = infer_explanation(config.target, numel) if config.method.takes_shape else None
    if config.method is Method.VIEW_FLAT:
        inference = infer_explanation((-1,), numel)
    snippet = live.Snippet(code, ran.output)
    if y is None:
        # the script caught torch's refusal and printed it; run the same call again to
        # hold the exception itself (it failed, so it changed nothing)
        again = live.run(f"y = {call}", ran.namespace)
        err = again.exception
        assert err is not None and again.error is not None
        lesson, fix = _lesson(err, x, config)
        failure = Refusal(again.error.kind, again.error.message.strip(), lesson, fix)
        return LabResult(
            config=config,
            source_expr=src_expr,
            call=call,
            source=tensor_facts(x),
            result=None,
            failure=failure,
            inference=inference,
            sharing=Sharing.FAILED,
            verdict=_("{call} failed — torch says: {message}").format(
                call=call, message=failure.message
            ),
            writes=(),
            written_positions=frozenset(),
            numpy=_numpy_analogy(x, None, config),
            snippet=snippet,
        )
    sharing = memory_sharing(x, y)
    yf = tensor_facts(y)
    applied = tuple((int(p), int(v)) for p, v in writes)
    written = frozenset(yf.positions[p] for p, _x in applied)
    return LabResult(
        config=config,
        source_expr=src_expr,
        call=call,
        source=tensor_facts(x),
        result=yf,
        failure=None,
        inference=inference,
        sharing=sharing,
        verdict=_(_VERDICTS[sharing]),
        writes=applied,
        written_positions=written,
        numpy=_numpy_analogy(x, y, config),
        snippet=snippet,
    )


def cells_reading(facts: TensorFacts, positions: frozenset[int]) -> tuple[tuple[str, Number], ...]:
    """The elements of a tensor that read the given memory positions: ``("1, 2", value)``.

    Used after a write through ``y``: when ``y`` is a view, the written memory positions
    are read by some of ``x``'s elements too, and this lists them with their new values.
    """
    out: list[tuple[str, Number]] = []
    for i, (p, v) in enumerate(zip(facts.positions, facts.values, strict=True)):
        if p in positions:
            out.append((", ".join(map(str, unravel(i, facts.shape))), v))
    return tuple(out)
