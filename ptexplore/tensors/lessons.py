"""Error lessons and ``.item()``: each one runs the code it shows and keeps torch's words.

Code shown = code run: a lesson's ``code`` (set-up + the call torch refuses) and its
``fix_code`` are executed as written by :func:`ptexplore.live.run`; the message, the fix's
result and whether it shares memory are read off what they did.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np
import torch

from ptexplore import live
from ptexplore.errors import InputError
from ptexplore.i18n import N_, _
from ptexplore.memory import shares_memory
from ptexplore.tensors.lab import cuda_available, torch_read_only_warning

_IMPORTS = "import numpy as np\nimport torch\n"


class ErrorCase(StrEnum):
    """A lesson (the value is English, marked for the catalog: the page shows it translated)."""

    REQUIRES_GRAD = N_(".numpy() on a tensor that requires grad")
    CUDA = N_(".numpy() on a CUDA tensor")
    READ_ONLY = N_("torch.from_numpy(read-only array)")
    NEGATIVE_STRIDES = N_("torch.from_numpy(a[::-1]) (negative strides)")
    OBJECT_DTYPE = N_("torch.from_numpy(object array)")
    STR_DTYPE = N_("torch.tensor(array of str)")
    BIG_ENDIAN = N_("torch.from_numpy(big-endian array)")


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
    #: the whole lesson as one script (imports, code, fix, prints) and what it printed
    snippet: live.Snippet | None = None


@dataclass(frozen=True, slots=True)
class _Case:
    code: str
    lesson: str
    fix_code: str
    #: the name the fix binds, and the object it is compared with for shared memory
    result: str
    original: str


_CASES: dict[ErrorCase, _Case] = {
    ErrorCase.REQUIRES_GRAD: _Case(
        code="t = torch.ones(3, requires_grad=True)\nt.numpy()",
        lesson=N_(
            "A tensor that requires grad is part of autograd's graph; numpy could change it "
            "behind autograd's back, so torch refuses."
        ),
        fix_code="n = t.detach().numpy()  # detach() shares memory, drops the graph",
        result="n",
        original="t",
    ),
    ErrorCase.CUDA: _Case(
        code='t = torch.ones(3, device="cuda")\nt.numpy()',
        lesson=N_(
            "numpy only sees host (CPU) memory; a CUDA tensor's bytes live on the GPU, so "
            "there is nothing numpy could point at."
        ),
        fix_code="n = t.cpu().numpy()  # .cpu() copies to host memory: n never shares with t",
        result="n",
        original="t",
    ),
    ErrorCase.READ_ONLY: _Case(
        code=(
            "a = np.zeros(3)\na.flags.writeable = False\n"
            "t = torch.from_numpy(a)  # only a warning\nt.add_(1)  # writes into 'read-only' a"
        ),
        lesson=N_(
            "Not an error, a warning (and torch shows it only once per process): tensors "
            "cannot be read-only, so writing through t silently changes the array numpy "
            "promised to protect."
        ),
        fix_code="t = torch.from_numpy(a.copy())  # or torch.tensor(a): the tensor owns a copy",
        result="t",
        original="a",
    ),
    ErrorCase.NEGATIVE_STRIDES: _Case(
        code="a = np.arange(6.0)\ntorch.from_numpy(a[::-1])",
        lesson=N_(
            "a[::-1] is a view whose stride is negative (it walks memory backwards); "
            "tensor strides cannot be negative."
        ),
        fix_code="t = torch.from_numpy(a[::-1].copy())  # shares with the copy, not with a",
        result="t",
        original="a",
    ),
    ErrorCase.OBJECT_DTYPE: _Case(
        code='a = np.array([1, 2.5, "3"], dtype=object)\ntorch.from_numpy(a)',
        lesson=N_(
            "An object array holds pointers to Python objects, not numbers a tensor can hold."
        ),
        fix_code="t = torch.from_numpy(a.astype(np.float64))  # converts (copies) first",
        result="t",
        original="a",
    ),
    ErrorCase.STR_DTYPE: _Case(
        code='a = np.array(["1.5", "2", "3"])\ntorch.tensor(a)',
        lesson=N_("Strings are not numbers; torch will not parse them for you."),
        fix_code="t = torch.tensor(a.astype(np.float64))  # numpy parses the digits",
        result="t",
        original="a",
    ),
    ErrorCase.BIG_ENDIAN: _Case(
        code='a = np.arange(3, dtype=">f8")  # e.g. read from a FITS or network file\n'
        "torch.from_numpy(a)",
        lesson=N_(
            "Tensors always use the machine's native byte order; a big-endian array's bytes "
            "would be read backwards."
        ),
        fix_code='t = torch.from_numpy(a.astype(a.dtype.newbyteorder("=")))  # native copy',
        result="t",
        original="a",
    ),
}


def _first_line(text: str) -> str:
    return text.split(" (Triggered internally")[0].strip()


def lesson_code(case: ErrorCase) -> str:
    """The whole lesson as a script: the refused call (its error printed), the fix, and
    the fix's result with whether it shares memory with the original."""
    spec = _CASES[case]
    *setup, call = spec.code.splitlines()
    if case is ErrorCase.READ_ONLY:  # a warning, not an error: the lines simply run
        body = [*setup, call]
    else:
        body = [
            *setup,
            "try:",
            f"    {call}",
            "except (RuntimeError, TypeError, ValueError) as err:  # torch refuses",
            '    print(type(err).__name__ + ":", err)',
        ]
    if case is ErrorCase.READ_ONLY:
        body.append('print("after t.add_(1), a =", a.tolist())')
    if case is ErrorCase.CUDA:
        check = 'print("n is a host copy; t stays on", t.device)'
    elif case is ErrorCase.REQUIRES_GRAD:
        check = 'print("shares memory with t:", np.shares_memory(n, t.detach().numpy()))'
    else:
        check = 'print("shares memory with a:", np.shares_memory(t.numpy(), a))'
    return "\n".join([_IMPORTS, *body, "", spec.fix_code, f"print({spec.result})", check]) + "\n"


def run_error_lesson(case: ErrorCase) -> ErrorLesson:
    """Run the lesson's code for real, capture torch's message, then run the fix."""
    spec = _CASES[case]
    if case is ErrorCase.CUDA and not cuda_available():
        return ErrorLesson(
            case=case,
            code=spec.code,
            outcome=Outcome.NOT_RUN,
            error_type="",
            message=_(
                "torch.cuda.is_available() is False on this server, so there is no CUDA "
                "tensor to try this on, and nothing is simulated. On a GPU machine "
                "t.numpy() raises a TypeError telling you to use Tensor.cpu() first."
            ),
            lesson=_(spec.lesson),
            fix_code=spec.fix_code,
            fix_result="",
            fix_shares=None,
        )
    ran = live.run(_IMPORTS + spec.code)
    ns = ran.namespace
    outcome = Outcome.ERROR
    if case is ErrorCase.READ_ONLY:
        outcome = Outcome.WARNING
        kind = "UserWarning"
        said = torch_read_only_warning() or next(
            (w.message for w in ran.warnings if "not writable" in w.message), ""
        )
        a = ns["a"]
        live_result = _(
            "Live result: after t.add_(1) the read-only array a is {values} and "
            "a.flags.writeable is {writeable}."
        ).format(values=a.tolist(), writeable=a.flags.writeable)
        message = (
            _("“{said}” (torch prints this once per server process.) ").format(said=said)
            if said
            else ""
        ) + live_result
    elif ran.error is not None:
        kind, message = ran.error.kind, _first_line(ran.error.message)
    else:  # pragma: no cover - would mean torch changed its behaviour
        kind, message = "", _("No error: this torch version accepts it.")
    fixed = live.run(spec.fix_code, ns)
    if fixed.error is not None:  # pragma: no cover - the fixes are fixed code
        raise AssertionError(f"the fix for {case} failed: {fixed.error.line}")
    result, original = ns[spec.result], ns[spec.original]
    return ErrorLesson(
        case=case,
        code=spec.code,
        outcome=outcome,
        error_type=kind,
        message=message,
        lesson=_(spec.lesson),
        fix_code=spec.fix_code,
        fix_result=repr(result),
        fix_shares=bool(shares_memory(result, original)),
        snippet=live.snippet(lesson_code(case)),
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
    #: the lesson's script and what it printed (the page shows both)
    snippet: live.Snippet | None = None


def item_code(shape: ItemShape, dtype: ItemDtype, value: float) -> str:
    """The .item() lesson as a script; the page runs exactly this and shows its output."""
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
    index = ", ".join("0" for _x in dims)
    pick = f"t[{index}].item()" if dims else "t.item()"
    return "\n".join(
        [
            "import torch",
            make,
            "try:",
            "    x = t.item()  # works only when t has exactly one element",
            "    print(x, type(x))",
            "except RuntimeError as err:",
            '    print("RuntimeError:", err)',
            "    print(t.tolist())  # every element as Python numbers",
            f"    print({pick})  # or pick one element first",
        ]
    )


def check_item_value(shape: ItemShape, dtype: ItemDtype, value: float) -> None:
    """Refuse a first value the tensor cannot be built from (instead of a wrap or a crash)."""
    if not math.isfinite(value):
        raise InputError(
            _("{value} is not a finite number.").format(value=value),
            fix=_("Type a finite number."),
        )
    if dtype is ItemDtype.INT64:
        n = int(np.prod(shape.dims)) if shape.dims else 1
        info = np.iinfo(np.int64)
        if not info.min <= int(value) <= info.max - (n - 1):
            raise InputError(
                _(
                    "{value:g} does not fit int64 (whole numbers {lo}…{hi}): "
                    "torch.arange + value would overflow."
                ).format(value=value, lo=info.min, hi=info.max),
                fix=_("Pick a first value within ±9.2e18, e.g. 5."),
            )


def item_lesson(shape: ItemShape, dtype: ItemDtype, value: float) -> ItemResult:
    """Run :func:`item_code` and read the lesson off what it did."""
    check_item_value(shape, dtype, value)
    code = item_code(shape, dtype, value)
    ran = live.run(code)
    t: torch.Tensor = ran.namespace["t"]
    numel = int(t.numel())
    index = tuple(0 for _x in shape.dims)
    first = t[index].item() if index else t.item()
    first_code = f"t[{', '.join('0' for _x in shape.dims)}].item()" if index else "t.item()"
    notes: list[str] = []
    if dtype is ItemDtype.INT64 and value != int(value):
        notes.append(
            _(
                "int64 holds whole numbers: the first value {value} became int({value}) = {whole}."
            ).format(value=repr(value), whole=int(value))
        )
    elif dtype is ItemDtype.BOOL:
        notes.append(
            _("bool: the first element is {value} != 0 → {truth}; then they alternate.").format(
                value=repr(value), truth=value != 0
            )
        )
    found = ItemResult(
        code=code,
        tensor_repr=repr(t),
        numel=numel,
        ok=True,
        value_repr="",
        python_type="",
        error_type="",
        error_message="",
        tolist_repr=repr(t.tolist()),
        first_item_repr=repr(first),
        note="",
        first_item_code=first_code,
        snippet=live.Snippet(code, ran.output),
    )
    if "x" not in ran.namespace:  # .item() raised inside the script's try
        again = live.run("t.item()", ran.namespace)
        assert again.error is not None
        return replace(
            found,
            ok=False,
            error_type=again.error.kind,
            error_message=again.error.message,
            note=" ".join(
                [
                    _(
                        ".item() needs exactly one element. Use t.tolist() for all of them as "
                        "Python numbers, or pick one first: {code}."
                    ).format(code=first_code),
                    *notes,
                ]
            ),
        )
    x = ran.namespace["x"]
    if shape is not ItemShape.SCALAR:
        notes.append(
            _("Shape {shape} still holds exactly one element, so .item() works.").format(
                shape=shape.value
            )
        )
    if dtype is ItemDtype.FLOAT32 and x != float(value):
        notes.append(
            _(
                "float32 cannot store {value} exactly: .item() returns a Python float (64-bit) "
                "holding the float32 value {x}."
            ).format(value=repr(value), x=repr(x))
        )
    return replace(found, value_repr=repr(x), python_type=type(x).__name__, note=" ".join(notes))
