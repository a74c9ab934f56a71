"""Error lessons and ``.item()``: each one runs the real call and keeps torch's own words."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import torch

from ptexplore.errors import InputError
from ptexplore.tensors.lab import (
    array_ptr,
    cuda_available,
    remember_warning,
    torch_read_only_warning,
)


class ErrorCase(StrEnum):
    REQUIRES_GRAD = ".numpy() on a tensor that requires grad"
    CUDA = ".numpy() on a CUDA tensor"
    READ_ONLY = "torch.from_numpy(read-only array)"
    NEGATIVE_STRIDES = "torch.from_numpy(a[::-1]) (negative strides)"
    OBJECT_DTYPE = "torch.from_numpy(object array)"
    STR_DTYPE = "torch.tensor(array of str)"
    BIG_ENDIAN = "torch.from_numpy(big-endian array)"


class Outcome(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOT_RUN = "not run here"


@dataclass(frozen=True, slots=True)
class ErrorLesson:
    case: ErrorCase
    code: str
    outcome: Outcome
    error_type: str  # exception or warning class name; "" when not run
    message: str  # torch's own words (or why it did not run)
    lesson: str
    fix_code: str
    fix_result: str  # repr of what the fix produced, run live ("" when not run)
    fix_shares: bool | None  # does the fix's result share memory with the original?


@dataclass(frozen=True, slots=True)
class _Case:
    code: str
    lesson: str
    fix_code: str


_CASES: dict[ErrorCase, _Case] = {
    ErrorCase.REQUIRES_GRAD: _Case(
        code="t = torch.ones(3, requires_grad=True)\nt.numpy()",
        lesson=(
            "A tensor that requires grad is part of autograd's graph; numpy could change it "
            "behind autograd's back, so torch refuses."
        ),
        fix_code="n = t.detach().numpy()  # detach() shares memory, drops the graph",
    ),
    ErrorCase.CUDA: _Case(
        code='t = torch.ones(3, device="cuda")\nt.numpy()',
        lesson=(
            "numpy only sees host (CPU) memory; a CUDA tensor's bytes live on the GPU, so "
            "there is nothing numpy could point at."
        ),
        fix_code="n = t.cpu().numpy()  # .cpu() copies to host memory: n never shares with t",
    ),
    ErrorCase.READ_ONLY: _Case(
        code=(
            "a = np.zeros(3)\na.flags.writeable = False\n"
            "t = torch.from_numpy(a)  # only a warning\nt.add_(1)  # writes into 'read-only' a"
        ),
        lesson=(
            "Not an error, a warning (and torch shows it only once per process): tensors "
            "cannot be read-only, so writing through t silently changes the array numpy "
            "promised to protect."
        ),
        fix_code="t = torch.from_numpy(a.copy())  # or torch.tensor(a): the tensor owns a copy",
    ),
    ErrorCase.NEGATIVE_STRIDES: _Case(
        code="a = np.arange(6.0)\ntorch.from_numpy(a[::-1])",
        lesson=(
            "a[::-1] is a view whose stride is negative (it walks memory backwards); "
            "tensor strides cannot be negative."
        ),
        fix_code="t = torch.from_numpy(a[::-1].copy())  # shares with the copy, not with a",
    ),
    ErrorCase.OBJECT_DTYPE: _Case(
        code='a = np.array([1, 2.5, "3"], dtype=object)\ntorch.from_numpy(a)',
        lesson="An object array holds pointers to Python objects, not numbers a tensor can hold.",
        fix_code="t = torch.from_numpy(a.astype(np.float64))  # converts (copies) first",
    ),
    ErrorCase.STR_DTYPE: _Case(
        code='a = np.array(["1.5", "2", "3"])\ntorch.tensor(a)',
        lesson="Strings are not numbers; torch will not parse them for you.",
        fix_code="t = torch.tensor(a.astype(np.float64))  # numpy parses the digits",
    ),
    ErrorCase.BIG_ENDIAN: _Case(
        code='a = np.arange(3, dtype=">f8")  # e.g. read from a FITS or network file\n'
        "torch.from_numpy(a)",
        lesson=(
            "Tensors always use the machine's native byte order; a big-endian array's bytes "
            "would be read backwards."
        ),
        fix_code='t = torch.from_numpy(a.astype(a.dtype.newbyteorder("=")))  # native copy',
    ),
}


def _first_line(text: str) -> str:
    return text.split(" (Triggered internally")[0].strip()


def _read_only() -> tuple[str, str, str, bool | None]:
    a = np.zeros(3)
    a.flags.writeable = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = torch.from_numpy(a)
    t.add_(1)
    after = (
        f"Live result: after t.add_(1) the read-only array a is {a.tolist()} and "
        f"a.flags.writeable is {a.flags.writeable}."
    )
    if caught:
        kind, message = type(caught[0].message).__name__, _first_line(str(caught[0].message))
        remember_warning(message)
        message = f"{message} {after}"
    else:
        kind = "UserWarning"
        earlier = torch_read_only_warning()
        said = f"“{earlier}”" if earlier else "its 'The given NumPy array is not writable' warning"
        message = (
            f"torch printed {said} earlier in this server process, and prints it only once, "
            f"so this call was silent. {after}"
        )
    fixed = torch.from_numpy(a.copy())
    return kind, message, repr(fixed), bool(np.shares_memory(a, fixed.numpy()))


def _run(
    make: Callable[[], Any], fix: Callable[[], tuple[Any, bool | None]]
) -> tuple[str, str, str, bool | None]:
    try:
        make()
    except (RuntimeError, TypeError, ValueError) as err:
        kind, message = type(err).__name__, _first_line(str(err))
    else:  # pragma: no cover - would mean torch changed its behaviour
        kind, message = "", "No error: this torch version accepts it."
    result, shares = fix()
    return kind, message, repr(result), shares


def run_error_lesson(case: ErrorCase) -> ErrorLesson:
    """Run the failing call for real, capture torch's message, then run the fix."""
    spec = _CASES[case]
    outcome = Outcome.ERROR
    if case is ErrorCase.REQUIRES_GRAD:
        t = torch.ones(3, requires_grad=True)

        def grad_fix() -> tuple[Any, bool | None]:
            n = t.detach().numpy()
            return n, array_ptr(n) == t.data_ptr()

        kind, message, fix_result, shares = _run(t.numpy, grad_fix)
    elif case is ErrorCase.CUDA:
        if not cuda_available():
            return ErrorLesson(
                case=case,
                code=spec.code,
                outcome=Outcome.NOT_RUN,
                error_type="",
                message=(
                    "torch.cuda.is_available() is False on this server, so there is no CUDA "
                    "tensor to try this on, and nothing is simulated. On a GPU machine "
                    "t.numpy() raises a TypeError telling you to use Tensor.cpu() first."
                ),
                lesson=spec.lesson,
                fix_code=spec.fix_code,
                fix_result="",
                fix_shares=None,
            )
        tc = torch.ones(3, device="cuda")

        def cuda_fix() -> tuple[Any, bool | None]:
            n = tc.cpu().numpy()
            return n, array_ptr(n) == tc.data_ptr()  # a host copy: never t's GPU address

        kind, message, fix_result, shares = _run(tc.numpy, cuda_fix)
    elif case is ErrorCase.READ_ONLY:
        outcome = Outcome.WARNING
        kind, message, fix_result, shares = _read_only()
    elif case is ErrorCase.NEGATIVE_STRIDES:
        a = np.arange(6.0)

        def stride_fix() -> tuple[Any, bool | None]:
            c = a[::-1].copy()
            ft = torch.from_numpy(c)
            return ft, bool(np.shares_memory(a, ft.numpy()))

        kind, message, fix_result, shares = _run(lambda: torch.from_numpy(a[::-1]), stride_fix)
    elif case is ErrorCase.OBJECT_DTYPE:
        ao = np.array([1, 2.5, "3"], dtype=object)

        def obj_fix() -> tuple[Any, bool | None]:
            ft = torch.from_numpy(ao.astype(np.float64))
            return ft, bool(np.shares_memory(ao, ft.numpy()))

        kind, message, fix_result, shares = _run(lambda: torch.from_numpy(ao), obj_fix)
    elif case is ErrorCase.STR_DTYPE:
        a_str = np.array(["1.5", "2", "3"])

        def str_fix() -> tuple[Any, bool | None]:
            ft = torch.tensor(a_str.astype(np.float64))
            return ft, bool(np.shares_memory(a_str, ft.numpy()))

        kind, message, fix_result, shares = _run(lambda: torch.tensor(a_str), str_fix)
    else:
        be = np.arange(3, dtype=">f8")

        def be_fix() -> tuple[Any, bool | None]:
            ft = torch.from_numpy(be.astype(be.dtype.newbyteorder("=")))
            return ft, bool(np.shares_memory(be, ft.numpy()))

        kind, message, fix_result, shares = _run(lambda: torch.from_numpy(be), be_fix)
    return ErrorLesson(
        case=case,
        code=spec.code,
        outcome=outcome,
        error_type=kind,
        message=message,
        lesson=spec.lesson,
        fix_code=spec.fix_code,
        fix_result=fix_result,
        fix_shares=shares,
    )


# ---------------------------------------------------------------------------- .item()


class ItemShape(StrEnum):
    SCALAR = "()"
    ONE = "(1,)"
    ONE_ONE = "(1, 1)"
    THREE = "(3,)"
    TWO_TWO = "(2, 2)"

    @property
    def dims(self) -> tuple[int, ...]:
        return {
            ItemShape.SCALAR: (),
            ItemShape.ONE: (1,),
            ItemShape.ONE_ONE: (1, 1),
            ItemShape.THREE: (3,),
            ItemShape.TWO_TWO: (2, 2),
        }[self]


class ItemDtype(StrEnum):
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    INT64 = "int64"
    BOOL = "bool"

    @property
    def torch(self) -> torch.dtype:
        dtype: torch.dtype = getattr(torch, self.value)
        return dtype


@dataclass(frozen=True, slots=True)
class ItemResult:
    code: str
    tensor_repr: str
    numel: int
    ok: bool
    value_repr: str  # repr of the Python number .item() returned
    python_type: str
    error_type: str
    error_message: str
    tolist_repr: str
    first_item_repr: str  # t[0].item(), t[0, 0].item(), ...: one element picked first
    note: str
    first_item_code: str = "t.item()"  # the indexing that picks that element


def item_tensor(shape: ItemShape, dtype: ItemDtype, value: float) -> torch.Tensor:
    """``value + arange`` in ``shape`` (bool: alternating), so every element differs."""
    n = int(np.prod(shape.dims)) if shape.dims else 1
    if dtype is ItemDtype.BOOL:
        base = (torch.arange(n) + int(value != 0)) % 2 == 1
        return base.reshape(shape.dims)
    if dtype is ItemDtype.INT64:
        return (torch.arange(n, dtype=torch.int64) + int(value)).reshape(shape.dims)
    return (torch.tensor(value, dtype=dtype.torch) + torch.arange(n, dtype=dtype.torch)).reshape(
        shape.dims
    )


def item_code(shape: ItemShape, dtype: ItemDtype, value: float) -> str:
    dims = shape.dims
    n = int(np.prod(dims)) if dims else 1
    if dtype is ItemDtype.BOOL:
        make = f"t = ((torch.arange({n}) + {int(value != 0)}) % 2 == 1).reshape({dims})"
    elif dtype is ItemDtype.INT64:
        make = f"t = (torch.arange({n}) + {int(value)}).reshape({dims})"
    else:
        make = (
            f"t = (torch.tensor({float(value)!r}, dtype=torch.{dtype.value}) "
            f"+ torch.arange({n}, dtype=torch.{dtype.value})).reshape({dims})"
        )
    index = ", ".join("0" for _ in dims)
    lines = [
        "import torch",
        make,
        "x = t.item()  # works only when t has exactly one element",
        "print(x, type(x))",
    ]
    if n > 1:
        lines[2] = "# t.item() raises here: t has more than one element"
        lines[3] = f"print(t.tolist())  # every element as Python numbers\nprint(t[{index}].item())"
    return "\n".join(lines)


def check_item_value(shape: ItemShape, dtype: ItemDtype, value: float) -> None:
    """Refuse a first value the tensor cannot be built from (instead of a wrap or a crash)."""
    if not math.isfinite(value):
        raise InputError(f"{value} is not a finite number.", fix="Type a finite number.")
    if dtype is ItemDtype.INT64:
        n = int(np.prod(shape.dims)) if shape.dims else 1
        info = np.iinfo(np.int64)
        if not info.min <= int(value) <= info.max - (n - 1):
            raise InputError(
                f"{value:g} does not fit int64 (whole numbers {info.min}…{info.max}): "
                "torch.arange + value would overflow.",
                fix="Pick a first value within ±9.2e18, e.g. 5.",
            )


def item_lesson(shape: ItemShape, dtype: ItemDtype, value: float) -> ItemResult:
    check_item_value(shape, dtype, value)
    t = item_tensor(shape, dtype, value)
    numel = int(t.numel())
    index = tuple(0 for _ in shape.dims)
    first = t[index].item() if index else t.item()
    first_code = f"t[{', '.join('0' for _ in shape.dims)}].item()" if index else "t.item()"
    tolist = t.tolist()
    notes: list[str] = []
    if dtype is ItemDtype.INT64 and value != int(value):
        notes.append(
            f"int64 holds whole numbers: the first value {value!r} became int({value!r}) = "
            f"{int(value)}."
        )
    elif dtype is ItemDtype.BOOL:
        notes.append(
            f"bool: the first element is {value!r} != 0 → {value != 0}; then they alternate."
        )
    try:
        x = t.item()
    except RuntimeError as err:
        return ItemResult(
            code=item_code(shape, dtype, value),
            tensor_repr=repr(t),
            numel=numel,
            ok=False,
            value_repr="",
            python_type="",
            error_type=type(err).__name__,
            error_message=str(err),
            tolist_repr=repr(tolist),
            first_item_repr=repr(first),
            note=" ".join(
                [
                    ".item() needs exactly one element. Use t.tolist() for all of them as "
                    f"Python numbers, or pick one first: {first_code}.",
                    *notes,
                ]
            ),
            first_item_code=first_code,
        )
    if shape is not ItemShape.SCALAR:
        notes.append(f"Shape {shape.value} still holds exactly one element, so .item() works.")
    if dtype is ItemDtype.FLOAT32 and x != float(value):
        notes.append(
            f"float32 cannot store {value!r} exactly: .item() returns a Python float (64-bit) "
            f"holding the float32 value {x!r}."
        )
    note = " ".join(notes)
    return ItemResult(
        code=item_code(shape, dtype, value),
        tensor_repr=repr(t),
        numel=numel,
        ok=True,
        value_repr=repr(x),
        python_type=type(x).__name__,
        error_type="",
        error_message="",
        tolist_repr=repr(tolist),
        first_item_repr=repr(first),
        note=note,
        first_item_code=first_code,
    )
