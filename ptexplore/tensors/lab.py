"""The numpy ↔ tensor memory lab: make an array, bridge it to a tensor, mutate either side.

Every verdict is measured on the live objects: ``np.shares_memory(a, t.numpy())`` and
``t.data_ptr()`` against ``a.__array_interface__['data'][0]``. Nothing is inferred from the
name of the bridge (``torch.as_tensor`` shares *or* copies depending on dtype and device).

Code shown = code run: ``a`` is made by running :func:`array_code`, ``t`` by running
:func:`tensor_code`, and every action by running its line (``a += 1``, ``t[0] = 7.0``) —
each through :func:`ptexplore.live.run` in the lab's own namespace, so the lines the page
lists are exactly the lines that changed the objects.

A :class:`Lab` holds one learner's live ``a`` and ``t``; pages keep it in that learner's
session state, never in a process-wide cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import torch

from ptexplore import live
from ptexplore.errors import InputError, LessonError
from ptexplore.i18n import N_, _
from ptexplore.limits import TENSOR_MAX_DIM as MAX_DIM
from ptexplore.limits import TENSOR_MAX_ELEMENTS as MAX_ELEMENTS
from ptexplore.limits import VIEW_MAX_DIMS
from ptexplore.memory import array_ptr
from ptexplore.parse import parse_ints

__all__ = ["MAX_DIM", "MAX_ELEMENTS", "array_ptr"]


class NpDtype(StrEnum):
    """The numpy dtypes a learner can pick (the value is what ``np.dtype`` reads)."""

    FLOAT64 = "float64"
    FLOAT32 = "float32"
    FLOAT16 = "float16"
    INT64 = "int64"
    INT32 = "int32"
    UINT8 = "uint8"
    BIG_ENDIAN = ">f8"
    OBJECT = "object"
    STR = "str"

    @property
    def label(self) -> str:
        """The option's text: English, marked for the catalog (the page translates it)."""
        extra = {
            NpDtype.FLOAT64: N_("float64 (numpy's default)"),
            NpDtype.BIG_ENDIAN: N_(">f8 (big-endian float64)"),
            NpDtype.OBJECT: N_("object (Python objects)"),
            NpDtype.STR: N_("str (<U…)"),
        }
        return extra.get(self, self.value)

    @property
    def numeric(self) -> bool:
        return self not in (NpDtype.OBJECT, NpDtype.STR)

    @property
    def is_int(self) -> bool:
        return self in (NpDtype.INT64, NpDtype.INT32, NpDtype.UINT8)


class Layout(StrEnum):
    """How the array sits in memory before it is bridged (the value is English, marked
    for the catalog: the page shows it translated)."""

    CONTIGUOUS = N_("C-contiguous")
    TRANSPOSED = N_("transposed view (.T)")
    REVERSED = N_("reversed view (a[::-1])")
    READ_ONLY = N_("read-only (writeable=False)")


class Bridge(StrEnum):
    """How the tensor is made from the array (value = the code that does it)."""

    FROM_NUMPY = "torch.from_numpy(a)"
    AS_TENSOR = "torch.as_tensor(a)"
    AS_TENSOR_F32 = "torch.as_tensor(a, dtype=torch.float32)"
    TENSOR = "torch.tensor(a)"
    CLONE = "torch.from_numpy(a).clone()"
    NUMPY_BACK = "t = torch.tensor(a); a = t.numpy()"


class Hop(StrEnum):
    """An optional trip to the GPU after the bridge."""

    NONE = N_("stay on CPU")
    CUDA = ".cuda()"
    CUDA_CPU = ".cuda().cpu()"


class Action(StrEnum):
    """A mutation on either side (value = a short label; code comes from :func:`action_code`)."""

    NP_IADD = "a += 1"
    NP_FILL = "a[:] = v"
    NP_SET = "a[0, 0] = v"
    NP_REBIND = "a = a + 1"
    T_ADD = "t.add_(1)"
    T_SET = "t[0] = v"

    @property
    def side(self) -> str:
        return "tensor" if self in (Action.T_ADD, Action.T_SET) else "numpy"


class Verdict(StrEnum):
    SHARED = "shares memory"
    SEPARATE = "separate memory"


def cuda_available() -> bool:
    return bool(torch.cuda.is_available())


def parse_shape(text: str) -> tuple[int, ...]:
    """``"3, 4"`` → ``(3, 4)``; 1 or 2 positive dims, at most 12 each (tables stay readable).

    The one size grammar (:mod:`ptexplore.parse`): ``3, 4``, ``(3, 4)``, ``[3, 4]``, ``3x4``
    and ``3 4`` all read as (3, 4).
    """
    dims = tuple(parse_ints(text, _("shape of a"), example="3, 4", max_dims=VIEW_MAX_DIMS))
    if len(dims) > 2:
        raise InputError(
            _("This lab edits 1-D or 2-D arrays; {dims} has {n} dims.").format(
                dims=dims, n=len(dims)
            ),
            fix=_("Use rows, cols such as 3, 4 (memory sharing works the same for any ndim)."),
        )
    if any(d < 1 or d > MAX_DIM for d in dims):
        raise InputError(
            _("Each dimension must be between 1 and {max}; got {dims}.").format(
                max=MAX_DIM, dims=dims
            ),
            fix=_("Pick a small shape such as 3, 4 so every cell fits on screen."),
        )
    return dims


@dataclass(frozen=True, slots=True)
class LabSpec:
    shape: tuple[int, ...] = (3, 4)
    dtype: NpDtype = NpDtype.FLOAT64
    layout: Layout = Layout.CONTIGUOUS
    bridge: Bridge = Bridge.FROM_NUMPY
    hop: Hop = Hop.NONE


def make_array(spec: LabSpec) -> np.ndarray:
    """The learner's array ``a`` (values 0, 1, 2, … so every cell is distinguishable),
    made by running :func:`array_code`."""
    a: np.ndarray = live.run(f"import numpy as np\n{array_code(spec)}").namespace["a"]
    return a


def array_code(spec: LabSpec) -> str:
    """The numpy line(s) that build :func:`make_array`'s result."""
    size = int(np.prod(spec.shape))
    if spec.dtype is NpDtype.STR:
        make = f"np.arange({size}).astype(str)"
    elif spec.dtype is NpDtype.OBJECT:
        make = f"np.arange({size}).astype(object)"
    elif spec.dtype is NpDtype.FLOAT64:
        make = f"np.arange({size}, dtype=np.float64)"
    else:
        make = f'np.arange({size}).astype("{spec.dtype.value}")'
    if spec.layout is Layout.TRANSPOSED:
        return f"a = {make}.reshape{spec.shape[::-1]}.T"
    line = f"a = {make}.reshape{spec.shape}"
    if spec.layout is Layout.REVERSED:
        return line + "[::-1]"
    if spec.layout is Layout.READ_ONLY:
        return line + "\na.flags.writeable = False"
    return line


def bridge_error(err: Exception, where: str) -> LessonError:
    """Turn torch's real refusal into a lesson with the fix (torch's words kept verbatim)."""
    text = str(err).strip()
    low = text.lower()
    refused = _("{where} refused: {text}").format(where=where, text=text)
    if "negative" in low and "stride" in low:
        return LessonError(
            refused,
            fix=_(
                "a[::-1] is a view that walks memory backwards (negative strides), which "
                "tensors cannot describe. Use torch.from_numpy(a.copy()) (or "
                "np.ascontiguousarray(a)): the tensor then shares memory with the copy, not "
                "with a. torch.from_numpy(a_forward).flip(0) also works, and is a copy too "
                "(torch.flip never returns a view)."
            ),
        )
    if "byte order" in low:
        return LessonError(
            refused,
            fix=_(
                "Convert to native byte order first: "
                "a = a.astype(a.dtype.newbyteorder('=')) (this copies)."
            ),
        )
    if "numpy.object_" in text or "numpy.str_" in text or "numpy.bytes_" in text:
        return LessonError(
            refused,
            fix=_(
                "Tensors hold numbers only. Convert first, e.g. a.astype(np.float64) "
                "(strings of digits parse; other objects must be turned into numbers)."
            ),
        )
    if "requires grad" in low:
        return LessonError(
            refused,
            fix=_("Call t.detach().numpy(): detach() shares memory and just drops the graph."),
        )
    if "cuda" in low or "device type" in low:
        return LessonError(
            refused,
            fix=_("Copy to host memory first: t.cpu().numpy() (a copy, never shared with GPU)."),
        )
    return LessonError(refused, fix=_("Pick another bridge, dtype or layout for a."))


#: torch warns about a read-only array only once per process (TORCH_WARN_ONCE); this code
#: triggers it, and :func:`torch_read_only_warning` keeps the text it printed.
_READ_ONLY_TRIGGER = """\
import numpy as np
import torch
a = np.zeros(3)
a.flags.writeable = False
torch.from_numpy(a)
"""


def torch_read_only_warning() -> str:
    """torch's own read-only-array warning text, recorded the one time torch printed it in
    this process ("" if it was printed before ptexplore could record it)."""
    return live.once_warning("not writable", _READ_ONLY_TRIGGER)


def _read_only_note(a: np.ndarray, t: torch.Tensor) -> str:
    """What a read-only ``a`` means for this ``t``: measured, not inferred from the bridge."""
    if t.device.type != "cpu":
        return _("a is read-only; t is a copy in GPU memory, so nothing written to t can reach a.")
    if np.shares_memory(a, t.detach().numpy()):
        return _(
            "a is read-only, yet t shares its memory (np.shares_memory is True) and t is "
            "writable: torch does not support read-only tensors, so writing through t changes "
            "a anyway (undefined behaviour). torch warns about this only once per process. "
            "Use torch.from_numpy(a.copy()) or torch.tensor(a)."
        )
    return _(
        "a is read-only and t is a copy (np.shares_memory is False): writing through t "
        "leaves a untouched. This is the safe way to make a tensor from a read-only array."
    )


def _namespace(a: np.ndarray) -> dict[str, Any]:
    return {"__name__": "__main__", "np": np, "torch": torch, "a": a}


def _bridge(ns: dict[str, Any], spec: LabSpec) -> None:
    """Run :func:`tensor_code` in ``ns`` (which holds ``a``); torch's refusal → lesson."""
    if spec.hop is not Hop.NONE and not cuda_available():
        raise LessonError(
            _(
                "CUDA is not available on this server (torch.cuda.is_available() is False), "
                "so {hop} cannot run here; nothing is simulated."
            ).format(hop=spec.hop.value),
            fix=_("Stay on CPU, or run bench/cuda_check.py on a machine with an NVIDIA GPU."),
        )
    ran = live.run(tensor_code(spec), ns)
    if ran.exception is not None:
        if not isinstance(ran.exception, TypeError | ValueError | RuntimeError):
            raise ran.exception
        raise bridge_error(ran.exception, spec.bridge.value)


def _notes(a: np.ndarray, t: torch.Tensor, spec: LabSpec) -> list[str]:
    notes: list[str] = []
    if not a.flags.writeable:
        notes.append(_read_only_note(a, t))
        said = torch_read_only_warning()
        if said and t.device.type == "cpu" and spec.bridge is not Bridge.TENSOR:
            notes.append(
                _("torch's warning (it prints it once per server process): “{said}”").format(
                    said=said
                )
            )
    if spec.layout is Layout.TRANSPOSED and a.ndim == 1:
        notes.append(
            _(
                "a is 1-D: a.T is the same layout (strides {strides}, contiguous), so nothing "
                "is transposed. Use a 2-D shape such as 3, 4 to see swapped strides."
            ).format(strides=a.strides)
        )
    return notes


def tensor_code(spec: LabSpec) -> str:
    if spec.bridge is Bridge.NUMPY_BACK:
        line = "t = torch.tensor(a)\na = t.numpy()  # a is now t's memory, seen by numpy"
    else:
        line = f"t = {spec.bridge.value}"
    if spec.hop is not Hop.NONE:
        line += f"\nt = t{spec.hop.value}"
    return line


def tensor_values(t: torch.Tensor) -> np.ndarray:
    """A snapshot copy of ``t``'s values in host memory (for display and diffs)."""
    out: np.ndarray = t.detach().cpu().numpy().copy()
    return out


@dataclass(frozen=True, slots=True)
class SharingReport:
    """What the live objects say about memory, dtype, strides and identity."""

    verdict: Verdict
    shares_memory: bool | None  # np.shares_memory(a, t.numpy()); None when t is not on CPU
    np_ptr: int
    t_ptr: int
    same_ptr: bool
    device: str
    np_dtype: str
    torch_dtype: str
    np_strides_bytes: tuple[int, ...]
    np_itemsize: int
    t_strides_elements: tuple[int, ...]
    t_element_size: int
    np_id: int
    t_id: int
    explanation: str


def sharing_report(a: np.ndarray, t: torch.Tensor) -> SharingReport:
    np_ptr = array_ptr(a)
    t_ptr = int(t.data_ptr())
    device = str(t.device)
    shares: bool | None
    if t.device.type == "cpu":
        shares = bool(np.shares_memory(a, t.detach().numpy()))
        if shares and np_ptr == t_ptr:
            explanation = _(
                "np.shares_memory(a, t.numpy()) is True and both point at the same address: "
                "one buffer, two views. Writing through either name changes what the other "
                "shows."
            )
        elif shares:
            explanation = _(
                "np.shares_memory(a, t.numpy()) is True and both point at overlapping bytes "
                "(different start addresses): one buffer, two views. Writing through either "
                "name changes what the other shows."
            )
        else:
            explanation = _(
                "np.shares_memory(a, t.numpy()) is False: the tensor owns its own copy. "
                "Writing to one side never shows up on the other."
            )
    else:
        shares = None
        explanation = _(
            "t lives in {device} memory and a in host memory: they cannot share. "
            "t.data_ptr() is a GPU address, not comparable with a's host address. "
            "t.numpy() would refuse (use t.cpu().numpy(), which copies)."
        ).format(device=device)
    verdict = Verdict.SHARED if shares else Verdict.SEPARATE
    return SharingReport(
        verdict=verdict,
        shares_memory=shares,
        np_ptr=np_ptr,
        t_ptr=t_ptr,
        same_ptr=np_ptr == t_ptr,
        device=device,
        np_dtype=str(a.dtype),
        torch_dtype=str(t.dtype),
        np_strides_bytes=tuple(int(s) for s in a.strides),
        np_itemsize=int(a.itemsize),
        t_strides_elements=tuple(int(s) for s in t.stride()),
        t_element_size=int(t.element_size()),
        np_id=id(a),
        t_id=id(t),
        explanation=explanation,
    )


@dataclass(frozen=True, slots=True)
class IdLesson:
    """``t.numpy()`` twice: two Python objects (two ids), one buffer."""

    first_id: int
    second_id: int
    same_object: bool
    share_memory: bool
    same_ptr: bool
    temporaries_same_id: bool  # id(t.numpy()) == id(t.numpy()) — ids of freed objects get reused


def id_lesson(t: torch.Tensor) -> IdLesson | None:
    """Measured on the live tensor; ``None`` when ``t`` is not on the CPU."""
    if t.device.type != "cpu":
        return None
    n1 = t.detach().numpy()
    n2 = t.detach().numpy()
    temporaries = id(t.detach().numpy()) == id(t.detach().numpy())
    return IdLesson(
        first_id=id(n1),
        second_id=id(n2),
        same_object=n1 is n2,
        share_memory=bool(np.shares_memory(n1, n2)),
        same_ptr=array_ptr(n1) == array_ptr(n2),
        temporaries_same_id=temporaries,
    )


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """One mutation and what it did to each side (measured before/after)."""

    code: str
    side: str
    a_changed: bool
    t_changed: bool
    followed: bool  # the other side changed too
    shares_after: bool | None
    id_a_before: int
    id_a_after: int
    #: A measured note when ``+1`` wrapped integer cells around (uint8 255 → 0), else "".
    wrap_note: str = ""

    @property
    def rebound(self) -> bool:
        return self.id_a_before != self.id_a_after


def _index_code(ndim: int, index: tuple[int, ...]) -> str:
    return ", ".join(str(i) for i in index[:ndim])


def _literal(a_dtype: np.dtype[Any], value: float) -> str:
    if a_dtype.kind in "iu":
        return str(int(value))
    return repr(float(value))


def action_code(action: Action, ndim: int, value: float, dtype: np.dtype[Any]) -> str:
    v = _literal(dtype, value)
    if action is Action.NP_IADD:
        return "a += 1"
    if action is Action.NP_FILL:
        return f"a[:] = {v}"
    if action is Action.NP_SET:
        return f"a[{_index_code(ndim, (0, 0))}] = {v}"
    if action is Action.NP_REBIND:
        return "a = a + 1  # a NEW array bound to the name a"
    if action is Action.T_ADD:
        return "t.add_(1)"
    return f"t[0] = {v}"


def _check_value(dtype: np.dtype[Any], value: float, name: str = "a") -> None:
    """Refuse a ``v`` that the target's dtype cannot hold (instead of a silent wrap or inf)."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if value != int(value) or not info.min <= value <= info.max:
            raise InputError(
                _(
                    "{value:g} does not fit {name}'s dtype {dtype} (whole numbers {lo}…{hi})."
                ).format(value=value, name=name, dtype=dtype, lo=info.min, hi=info.max),
                fix=_("Pick a whole number between {lo} and {hi}.").format(
                    lo=info.min, hi=info.max
                ),
            )
    elif dtype.kind == "f":
        finfo = np.finfo(dtype)
        if abs(value) > float(finfo.max):
            big = float(finfo.max)
            raise InputError(
                _(
                    "{value:g} does not fit {name}'s dtype {dtype}: its largest value is "
                    "{big:g}, so it would become inf."
                ).format(value=value, name=name, dtype=dtype, big=big),
                fix=_("Pick a value between {lo:g} and {hi:g}.").format(lo=-big, hi=big),
            )


def editor_accepts(dtype: np.dtype[Any]) -> str:
    """What the cell editor of an array of ``dtype`` accepts, and why (numpy's dtype decides)."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return _(
            "a is **{dtype}**: cells take whole numbers {lo}…{hi}. numpy's dtype "
            "decides: an array of dtype {dtype} cannot hold 1.5, so typing 1.5 is refused "
            "with a message, and so is a number outside that range. Pick a float dtype to "
            "store decimals."
        ).format(dtype=dtype, lo=info.min, hi=info.max)
    if dtype.kind == "f":
        big = float(np.finfo(dtype).max)
        return _(
            "a is **{dtype}**: cells take any number up to ±{big:g}, stored rounded to "
            "{dtype} precision ({digits} significant digits) — numpy's dtype decides."
        ).format(dtype=dtype, big=big, digits=np.finfo(dtype).precision)
    return _("a is **{dtype}**: not a number type, so its cells cannot be edited here.").format(
        dtype=dtype
    )


def wrap_note(code: str, before: np.ndarray, after: np.ndarray, library: str) -> str:
    """A note when adding 1 made integer cells smaller: they wrapped past the dtype's max.

    Measured by comparing the values before and after (same shape, integer dtype); "" when
    nothing wrapped. ``library`` names whose arithmetic did it ("numpy" or "torch").
    """
    if before.shape != after.shape or before.dtype.kind not in "iu" or after.dtype != before.dtype:
        return ""
    wrapped = after < before
    count = int(wrapped.sum())
    if not count:
        return ""
    info = np.iinfo(after.dtype)
    first = tuple(int(i) for i in np.argwhere(wrapped)[0])
    cell = ", ".join(map(str, first))
    return _(
        "`{code}` wrapped {count} cell(s) around: {dtype} holds {lo}…{hi}, "
        "so [{cell}] went {before} → {after}. That is real {library} integer "
        "arithmetic: fixed-width integers wrap silently, with no error or warning."
    ).format(
        code=code,
        count=count,
        dtype=after.dtype,
        lo=info.min,
        hi=info.max,
        cell=cell,
        before=before[first],
        after=after[first],
        library=library,
    )


def numpy_dtype_of(t: torch.Tensor) -> np.dtype[Any]:
    """The numpy dtype matching ``t.dtype`` (works for tensors on any device)."""
    dtype: np.dtype[Any] = torch.empty(0, dtype=t.dtype).numpy().dtype
    return dtype


def _changed(before: np.ndarray, after: np.ndarray) -> bool:
    return bool(changed_mask(before, after).any())


def changed_mask(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Cells whose value differs (NaN equal to NaN); all True if the shapes differ."""
    if before.shape != after.shape:
        return np.ones(after.shape, dtype=bool)
    if before.dtype.kind in "fc" and after.dtype.kind in "fc":
        same = (before == after) | (np.isnan(before) & np.isnan(after))
    else:
        same = before == after
    return ~np.asarray(same, dtype=bool)


@dataclass(slots=True)
class Lab:
    """One learner's live pair: the numpy array ``a`` and the tensor ``t``.

    Mutable on purpose (the whole point is mutating it); keep it in session state.
    ``namespace`` is where the lab's code runs: ``a`` and ``t`` live there, and every action
    is its line of code run in it. ``a_before``/``t_before`` are snapshots taken before the
    last action, for highlighting. ``old_a`` is the array object ``t`` was made with, kept
    once ``a = a + 1`` rebinds the name ``a`` to a new array (later rebindings keep the
    first one: that is the array to compare).
    """

    spec: LabSpec
    namespace: dict[str, Any]
    notes: list[str]
    a_before: np.ndarray
    t_before: np.ndarray
    version: int = 0
    history: list[ActionRecord] = field(default_factory=list)
    old_a: np.ndarray | None = None

    @property
    def a(self) -> np.ndarray:
        a: np.ndarray = self.namespace["a"]
        return a

    @property
    def t(self) -> torch.Tensor:
        t: torch.Tensor = self.namespace["t"]
        return t

    def snapshot(self) -> tuple[np.ndarray, np.ndarray]:
        return self.a.copy(), tensor_values(self.t)

    def report(self) -> SharingReport:
        return sharing_report(self.a, self.t)

    def _run(self, code: str) -> None:
        """Run one action's code in the lab's namespace; refusals become lessons."""
        ran = live.run(code, self.namespace)
        err = ran.exception
        if err is None:
            return
        line = code.split("  #")[0].replace("\n", "; ")
        if isinstance(err, ValueError) and "read-only" in str(err):
            raise LessonError(
                _(
                    "{line} refused: {err}. numpy protects a read-only array "
                    "(but a tensor made from it would not: torch cannot mark tensors "
                    "read-only)."
                ).format(line=line, err=err),
                fix=_("Work on a copy (a = a.copy()) or pick another layout."),
            ) from None
        if isinstance(err, RuntimeError):  # torch refusing the value: its own words
            raise LessonError(
                _("{code} refused by torch: {err}").format(code=code, err=err),
                fix=_("Rebuild a and t (↺), or pick another action."),
            ) from None
        raise err

    def _finish(
        self,
        code: str,
        side: str,
        a0: np.ndarray,
        t0: np.ndarray,
        id0: int,
        *,
        increment: bool = False,
    ) -> None:
        a1, t1 = self.snapshot()
        a_changed, t_changed = _changed(a0, a1), _changed(t0, t1)
        followed = t_changed if side == "numpy" else a_changed
        note = ""
        if increment:
            line = code.split("  #")[0]
            before, after = (a0, a1) if side == "numpy" else (t0, t1)
            note = wrap_note(line, before, after, "numpy" if side == "numpy" else "torch")
        self.a_before, self.t_before = a0, t0
        self.version += 1
        self.history.append(
            ActionRecord(
                code=code,
                side=side,
                a_changed=a_changed,
                t_changed=t_changed,
                followed=followed,
                shares_after=self.report().shares_memory,
                id_a_before=id0,
                id_a_after=id(self.a),
                wrap_note=note,
            )
        )

    def apply(self, action: Action, value: float = 0.0) -> ActionRecord:
        """Run ``action``'s line of code on the live objects and record what changed."""
        a0, t0 = self.snapshot()
        id0 = id(self.a)
        target = numpy_dtype_of(self.t) if action.side == "tensor" else self.a.dtype
        code = action_code(action, self.a.ndim, value, target)
        if action in (Action.NP_FILL, Action.NP_SET, Action.T_SET):
            _check_value(target, value, "t" if action.side == "tensor" else "a")
        first_a = self.a
        self._run(code)
        if action is Action.NP_REBIND and self.old_a is None:
            self.old_a = first_a
        increment = action in (Action.NP_IADD, Action.NP_REBIND, Action.T_ADD)
        self._finish(code, action.side, a0, t0, id0, increment=increment)
        return self.history[-1]

    def edit(self, cells: dict[tuple[int, ...], float]) -> ActionRecord | None:
        """Cell edits from the table editor: ``a[i, j] = v`` in place, one line per cell."""
        if not cells:
            return None
        if not self.a.flags.writeable:
            raise LessonError(
                _("a is read-only: numpy refuses cell edits."), fix=_("Pick another layout.")
            )
        for v in cells.values():
            _check_value(self.a.dtype, v)
        a0, t0 = self.snapshot()
        id0 = id(self.a)
        lines = [
            f"a[{_index_code(self.a.ndim, index)}] = {_literal(self.a.dtype, v)}"
            for index, v in sorted(cells.items())
        ]
        code = "\n".join(lines)
        self._run(code)
        self._finish(code, "numpy", a0, t0, id0)
        return self.history[-1]


def new_lab(spec: LabSpec) -> Lab:
    """Build ``a`` from the spec and bridge it (raises LessonError for refused bridges)."""
    ns = _namespace(make_array(spec))
    _bridge(ns, spec)
    a, t = ns["a"], ns["t"]
    return Lab(
        spec=spec,
        namespace=ns,
        notes=_notes(a, t, spec),
        a_before=a.copy(),
        t_before=tensor_values(t),
    )
