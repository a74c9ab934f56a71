"""Inspect a checkpoint without materialising its data.

What was measured (torch 2.14, tests/test_checkpoint_lab_inspect.py pins it):

* zip archives: ``torch.load(f, weights_only=True, map_location="meta")`` makes every
  storage on ``meta`` from its record's size and never reads a data entry (each storage
  keeps ``_checkpoint_offset``, where its bytes start in the file);
* legacy streams: ``map_location="meta"`` alone still allocates every storage on the CPU
  and reads its bytes before moving it (+50 MB peak for a 50 MB file); inside
  ``torch.serialization.skip_data()`` (thread-local) nothing is allocated or read;
* so both load under ``skip_data()`` on ``meta``, after the guard
  (:mod:`ptexplore.ckpt.guard`) has bounded the pickle, the entries and every
  declared size. A 1.6 GB archive inspects in a few ms and well under 1 MB here;
* safetensors: only the 8-byte length and the JSON header are read (as the Hugging Face
  Hub's metadata viewer does), never the tensor data.

A pickle that needs globals torch does not allow is refused by torch's weights-only
unpickler; the globals it wanted are listed with
``torch.serialization.get_unsafe_globals_in_checkpoint`` (zip; bounded: the census passed
the pickle) or the census's own list (legacy).
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import torch

from ptexplore.ckpt.formats import CheckpointFormat, detect
from ptexplore.ckpt.guard import (
    SAFETENSORS_ITEMSIZE,
    SafetensorsPlan,
    Source,
    check_legacy,
    check_safetensors,
    check_zip,
)
from ptexplore.ckpt.layout import (
    FileLayout,
    legacy_layout,
    safetensors_layout,
    zip_layout,
)
from ptexplore.ckpt.read import (
    FIX_UNSAFE,
    PREFIXES,
    WRAPPER_KEYS,
    check_upload_size,
    entries_cap,
    holds_tensors,
    is_lightning,
    load_failed,
    refused_globals,
    split_prefix,
    torch_reason,
)
from ptexplore.errors import InputError
from ptexplore.i18n import N_, _
from ptexplore.limits import (
    CKPT_LAB_MAX_HUB_FILES,
    CKPT_LAB_MAX_ROWS,
    CKPT_LAB_VALUE_CHARS,
    MAX_UPLOAD_BYTES,
)
from ptexplore.live import capture_warnings
from ptexplore.text import code_span, shorten

#: safetensors dtype names → torch's
SAFETENSORS_DTYPES = {
    "BOOL": "bool",
    "U8": "uint8",
    "I8": "int8",
    "F8_E5M2": "float8_e5m2",
    "F8_E4M3": "float8_e4m3fn",
    "F8_E8M0": "float8_e8m0fnu",
    "I16": "int16",
    "U16": "uint16",
    "F16": "float16",
    "BF16": "bfloat16",
    "I32": "int32",
    "U32": "uint32",
    "F32": "float32",
    "C64": "complex64",
    "F64": "float64",
    "I64": "int64",
    "U64": "uint64",
}

#: the fixed sentence for a file torch's weights-only unpickler refuses
UNSAFE_MESSAGE = N_(
    "Refused: this file is not plain weights. torch.load(weights_only=True) stopped "
    "because its pickle wants to import names torch does not allow, and unpickling a name "
    "can run any code it points to. Nothing from it was run."
)


class UnsafeCheckpoint(InputError):
    """torch's weights-only unpickler refused the file: the globals it wanted, and why."""

    def __init__(self, wanted: tuple[str, ...], reason: str) -> None:
        super().__init__(_(UNSAFE_MESSAGE), fix=_(FIX_UNSAFE))
        self.wanted = wanted
        self.reason = reason


# ------------------------------------------------------------------------- results


class Kind(StrEnum):
    TENSOR = "tensor"
    MAPPING = "dict"
    SEQUENCE = "list"
    VALUE = "value"


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of the file's structure: a container or a plain value (tensors have
    their own table)."""

    path: str  # "" is the file's top level; "optimizer.param_groups.0.lr"
    depth: int
    kind: Kind
    type_name: str  # "dict", "OrderedDict", "int", "str"…
    summary: str  # "122 tensors", "3 entries", or the value's repr (cut)


@dataclass(frozen=True, slots=True)
class TensorInfo:
    where: str  # the container's path ("" for the top level)
    name: str  # its key (or index) in that container
    shape: tuple[int, ...]
    dtype: str
    numel: int
    nbytes: int
    #: where its bytes start in the file (None when the format does not say: legacy)
    offset: int | None
    #: the first earlier tensor whose bytes are the same (same offset, shape and strides:
    #: one tensor under two names), or that shares its storage as another view
    same_as: str | None = None
    view_of: str | None = None

    @property
    def path(self) -> str:
        return f"{self.where}.{self.name}" if self.where else self.name


@dataclass(frozen=True, slots=True)
class DtypeCount:
    dtype: str
    tensors: int
    numel: int
    nbytes: int


@dataclass(frozen=True, slots=True)
class Inspection:
    format: CheckpointFormat
    size: int
    layout: FileLayout
    #: the structure (containers and plain values), at most CKPT_LAB_MAX_ROWS rows
    entries: tuple[Entry, ...]
    #: every tensor in the file (state_dict and the rest: optimizer state…)
    tensors: tuple[TensorInfo, ...]
    #: the path of the state_dict inside the file: "" for the top level, None if none
    state_dict_at: str | None
    #: a wrapper prefix every state_dict key starts with ("module.", "model."…)
    prefix: str | None
    lightning: bool
    metadata: tuple[tuple[str, str], ...]
    #: the state_dict's tensors per dtype
    by_dtype: tuple[DtypeCount, ...]
    rows_cut: bool
    notes: tuple[str, ...]

    @property
    def weights(self) -> tuple[TensorInfo, ...]:
        """The state_dict's tensors."""
        if self.state_dict_at is None:
            return ()
        return tuple(t for t in self.tensors if t.where == self.state_dict_at)

    @property
    def numel(self) -> int:
        return sum(c.numel for c in self.by_dtype)

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.by_dtype)

    @property
    def all_bytes(self) -> int:
        return sum(t.nbytes for t in self.tensors if t.same_as is None and t.view_of is None)


# ---------------------------------------------------------------------- loading


@dataclass(frozen=True, slots=True)
class Checked:
    """A file the guard passed: its format, layout, and (torch formats) the globals its
    pickle names that torch does not allow."""

    format: CheckpointFormat
    size: int
    layout: FileLayout
    unsafe_globals: tuple[str, ...]
    safetensors: SafetensorsPlan | None


def check(src: Source, *, declared_cap: int | None = None) -> Checked:
    """Detect the format and run the guard; :class:`InputError` when it is refused.

    ``declared_cap`` bounds the entries' declared sizes: by default an upload's cap
    (CKPT_MAX_DECLARED_BYTES), or CKPT_MAX_FILE_BYTES for a file on disk; the lab passes
    the file cap for bytes its own script wrote."""
    cap = entries_cap(src)
    cap = cap if declared_cap is None else declared_cap
    fmt = detect(src.read(0, 64), src.size)
    if fmt is CheckpointFormat.ZIP:
        zplan = check_zip(src, declared_cap=cap)
        return Checked(
            fmt, src.size, zip_layout(zplan, src.size), zplan.census.unsafe_globals, None
        )
    if fmt is CheckpointFormat.LEGACY:
        lplan = check_legacy(src, declared_cap=cap)
        return Checked(
            fmt, src.size, legacy_layout(lplan, src.size), lplan.census.unsafe_globals, None
        )
    splan = check_safetensors(src)
    return Checked(fmt, src.size, safetensors_layout(splan, src), (), splan)


def load_meta(src: Source, checked: Checked) -> Any:
    """``torch.load(weights_only=True, map_location="meta")`` under ``skip_data()``: the
    object tree with every tensor on ``meta`` (no data read). Raises
    :class:`UnsafeCheckpoint` or the damaged-file :class:`InputError`."""
    try:
        with capture_warnings(), src.file() as f, torch.serialization.skip_data():
            return torch.load(f, map_location="meta", weights_only=True)
    except pickle.UnpicklingError as err:
        raise unsafe(src, checked, err) from None
    except Exception as err:  # torch.load raises many types; a learner reads one
        raise load_failed(err) from None


def unsafe(src: Source, checked: Checked, err: BaseException) -> InputError:
    """The refusal for a pickle torch's weights-only unpickler stopped."""
    try:
        wanted = refused_globals(src, checked.format, err, checked.unsafe_globals)
    except InputError as damaged_file:
        return damaged_file
    return UnsafeCheckpoint(wanted, torch_reason(err))


# ------------------------------------------------------------------------ walking


def _value(v: Any) -> str:
    return shorten(repr(v), CKPT_LAB_VALUE_CHARS)


def _container(v: Any) -> Kind | None:
    if isinstance(v, Mapping):
        return Kind.MAPPING
    if isinstance(v, list | tuple):
        return Kind.SEQUENCE
    return None


def _items(v: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(v, Mapping):
        for k, x in v.items():
            yield str(k), x
    else:
        for i, x in enumerate(v):
            yield str(i), x


#: (one, many) of each thing a container's summary counts
_COUNTS = {
    "tensor": (N_("{n:,} tensor"), N_("{n:,} tensors")),
    "entry": (N_("{n:,} entry"), N_("{n:,} entries")),
    "item": (N_("{n:,} item"), N_("{n:,} items")),
}


def _plural(n: int, word: str) -> str:
    one, many = _COUNTS[word]
    return (_(one) if n == 1 else _(many)).format(n=n)


def _summary(v: Any) -> str:
    n = len(v)
    tensors = sum(1 for _x, x in _items(v) if isinstance(x, torch.Tensor))
    if tensors and tensors == n:
        return _plural(n, "tensor")
    what = _plural(n, "entry" if isinstance(v, Mapping) else "item")
    if not tensors:
        return what
    return _("{what}, {tensors}").format(what=what, tensors=_plural(tensors, "tensor"))


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _flat(v: Any) -> bool:
    """A list or tuple of plain values (shown as one value: ``params: [0, 1, …]``)."""
    return isinstance(v, list | tuple) and not any(
        isinstance(x, torch.Tensor) or _container(x) is not None for x in v
    )


#: a container with more children than this is one row (its tensors are still listed)
EXPAND_CHILDREN = 16


def walk(obj: Any) -> tuple[tuple[Entry, ...], tuple[tuple[str, str, torch.Tensor], ...], bool]:
    """(structure rows, (where, name, tensor) of every tensor, rows cut?) of ``obj``.

    Iterative, so depth costs no stack (the guard bounded it anyway). A container with
    more than EXPAND_CHILDREN children (62 optimizer states) is one row, and a list of
    plain values one value; every tensor goes to the tensor list wherever it is.
    """
    entries: list[Entry] = []
    tensors: list[tuple[str, str, torch.Tensor]] = []
    cut = False
    stack: list[tuple[str, str, int, Any, bool]] = [("", "", 0, obj, True)]
    while stack:
        where, name, depth, v, shown = stack.pop()
        path = _join(where, name)
        if isinstance(v, torch.Tensor):
            tensors.append((where, name, v))
            continue
        kind = None if _flat(v) else _container(v)
        if shown and len(entries) >= CKPT_LAB_MAX_ROWS:
            cut, shown = True, False
        if kind is None:
            if shown:
                entries.append(Entry(path, depth, Kind.VALUE, type(v).__name__, _value(v)))
            continue
        if shown:
            entries.append(Entry(path, depth, kind, type(v).__name__, _summary(v)))
        children = list(_items(v))
        expand = shown and len(children) <= EXPAND_CHILDREN
        stack.extend((path, k, depth + 1, x, expand) for k, x in reversed(children))
    return tuple(entries), tuple(tensors), cut


def _dtype(d: torch.dtype) -> str:
    return str(d).removeprefix("torch.")


def _offset(t: torch.Tensor) -> int | None:
    at = getattr(t.untyped_storage(), "_checkpoint_offset", None)
    if not isinstance(at, int):
        return None
    return at + int(t.storage_offset()) * t.element_size()


def tensor_infos(found: tuple[tuple[str, str, torch.Tensor], ...]) -> tuple[TensorInfo, ...]:
    """Rows for the tensors of a meta load; sharing told by the records they point to."""
    rows: list[TensorInfo] = []
    same: dict[tuple[int, tuple[int, ...], tuple[int, ...], str], str] = {}
    records: dict[int, str] = {}
    for where, name, t in found:
        record = getattr(t.untyped_storage(), "_checkpoint_offset", None)
        offset = _offset(t)
        same_as = view_of = None
        path = _join(where, name)
        if isinstance(record, int) and offset is not None:
            key = (offset, tuple(t.shape), tuple(t.stride()), _dtype(t.dtype))
            same_as = same.setdefault(key, path)
            same_as = None if same_as == path else same_as
            first = records.setdefault(record, path)
            view_of = first if first != path and same_as is None else None
        rows.append(
            TensorInfo(
                where=where,
                name=name,
                shape=tuple(t.shape),
                dtype=_dtype(t.dtype),
                numel=t.numel(),
                nbytes=t.numel() * t.element_size(),
                offset=offset,
                same_as=same_as,
                view_of=view_of,
            )
        )
    return tuple(rows)


def find_state_dict(obj: Any) -> tuple[str | None, Any]:
    """(where the state_dict is — "" for the top level — or None, and the mapping)."""
    if isinstance(obj, Mapping) and holds_tensors(obj):
        return "", obj
    if isinstance(obj, Mapping):
        for k in WRAPPER_KEYS:
            if k in obj and holds_tensors(obj[k]):
                return k, obj[k]
    return None, None


def common_prefix(keys: list[str]) -> str | None:
    """The known wrapper prefixes (``module.``, ``model.``, ``_orig_mod.``) every key has."""
    stripped = ""
    rest = list(keys)
    while rest:
        p = next((p for p in PREFIXES if all(k.startswith(p) for k in rest)), None)
        if p is None:
            break
        rest = [k.removeprefix(p) for k in rest]
        stripped += p
    return stripped or None


def by_dtype(rows: tuple[TensorInfo, ...]) -> tuple[DtypeCount, ...]:
    counts: dict[str, list[int]] = {}
    for t in rows:
        c = counts.setdefault(t.dtype, [0, 0, 0])
        c[0] += 1
        c[1] += t.numel
        c[2] += t.nbytes
    return tuple(DtypeCount(d, n, numel, b) for d, (n, numel, b) in counts.items())


def describe(checked: Checked, obj: Any) -> Inspection:
    """The inspection of a torch file's object tree (tensors on ``meta``)."""
    entries, found, cut = walk(obj)
    rows = tensor_infos(found)
    at, sd = find_state_dict(obj)
    notes: list[str] = []
    prefix = None
    lightning = isinstance(obj, Mapping) and at not in (None, "") and is_lightning(obj)
    if sd is not None:
        prefix = common_prefix([str(k) for k in sd])
    weights = tuple(t for t in rows if t.where == at) if at is not None else ()
    if checked.format is CheckpointFormat.LEGACY:
        notes.append(
            _(
                "a legacy stream says nothing about where each tensor's bytes are, and a meta "
                "load of it cannot tell which tensors share storage"
            )
        )
    return Inspection(
        format=checked.format,
        size=checked.size,
        layout=checked.layout,
        entries=entries,
        tensors=rows,
        state_dict_at=at,
        prefix=prefix,
        lightning=lightning,
        metadata=(),
        by_dtype=by_dtype(weights),
        rows_cut=cut,
        notes=tuple(notes),
    )


def describe_safetensors(checked: Checked) -> Inspection:
    """The inspection of a safetensors file, from its JSON header alone."""
    plan = checked.safetensors
    assert plan is not None
    rows = tuple(
        TensorInfo(
            where="",
            name=name,
            shape=shape,
            dtype=SAFETENSORS_DTYPES[dtype],
            numel=math.prod(shape),
            nbytes=math.prod(shape) * SAFETENSORS_ITEMSIZE[dtype],
            offset=8 + plan.header_bytes + span[0],
        )
        for name, (dtype, shape, span) in plan.tensors.items()
    )
    entries = (Entry("", 0, Kind.MAPPING, "safetensors", _("{n:,} tensors").format(n=len(rows))),)
    return Inspection(
        format=checked.format,
        size=checked.size,
        layout=checked.layout,
        entries=entries,
        tensors=rows,
        state_dict_at="" if rows else None,
        prefix=common_prefix([t.name for t in rows]) if rows else None,
        lightning=False,
        metadata=tuple(plan.metadata.items()),
        by_dtype=by_dtype(rows),
        rows_cut=False,
        notes=(),
    )


def inspect_checkpoint(
    data: bytes | Path,
    *,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    declared_cap: int | None = None,
) -> Inspection:
    """Check ``data`` (an upload's bytes, or a file) and inspect it without reading tensor
    data. (The lab runs the same meta load as a script: :mod:`ptexplore.checkpoints.lessons`.)"""
    if isinstance(data, bytes):
        check_upload_size(len(data), max_upload_bytes)
    with Source(data) as src:
        checked = check(src, declared_cap=declared_cap)
        if checked.format is CheckpointFormat.SAFETENSORS:
            return describe_safetensors(checked)
        return describe(checked, load_meta(src, checked))


# ------------------------------------------------------------------- hub cache


def hub_checkpoints_dir() -> Path:
    """The folder torchvision caches published weights in (``torch.hub.get_dir()``)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


#: suffixes of files in the hub cache the lab offers
HUB_SUFFIXES = (".pth", ".pt", ".ckpt", ".bin", ".safetensors", ".tar")


def hub_files() -> tuple[str, ...]:
    """Names of the checkpoint files in the hub cache folder (plain files only, at most
    CKPT_LAB_MAX_HUB_FILES, sorted)."""
    folder = hub_checkpoints_dir()
    if not folder.is_dir():
        return ()
    names: list[str] = []
    for i, p in enumerate(folder.iterdir()):
        if i >= 10 * CKPT_LAB_MAX_HUB_FILES:
            break
        if p.suffix in HUB_SUFFIXES and p.is_file() and not p.is_symlink():
            names.append(p.name)
    return tuple(sorted(names)[:CKPT_LAB_MAX_HUB_FILES])


def hub_file(name: str) -> Path:
    """The hub cache file called ``name`` (only a name listed by :func:`hub_files`)."""
    if name not in hub_files():
        raise InputError(
            _("There is no checkpoint called {name} in the torch hub cache.").format(
                name=code_span(name)
            ),
            fix=_("Pick a file from the list."),
        )
    return hub_checkpoints_dir() / name


def prefix_owners(prefix: str) -> str:
    """Who adds ``prefix``, in English: the scripts' comments say it (code is the same in
    every language; :func:`ptexplore.ckpt.read.who_added` says it in the learner's)."""
    return " then ".join(PREFIXES[p] for p in split_prefix(prefix))


__all__ = [
    "HUB_SUFFIXES",
    "SAFETENSORS_DTYPES",
    "UNSAFE_MESSAGE",
    "Checked",
    "DtypeCount",
    "Entry",
    "Inspection",
    "Kind",
    "TensorInfo",
    "UnsafeCheckpoint",
    "by_dtype",
    "check",
    "common_prefix",
    "describe",
    "describe_safetensors",
    "find_state_dict",
    "hub_checkpoints_dir",
    "hub_file",
    "hub_files",
    "inspect_checkpoint",
    "load_meta",
    "prefix_owners",
    "tensor_infos",
    "unsafe",
    "walk",
]
