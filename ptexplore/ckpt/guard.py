"""Structural checks of each format, run before torch.load or safetensors touch the file.

Every check reads only headers and indexes (the zip central directory, the pickles, the
safetensors JSON), never tensor data, and each refusal is an :class:`InputError` that
names what was wrong. What passes is bounded: every zip entry stored uncompressed and
their declared sizes summed under a cap, every storage a pickle declares present with
exactly its bytes, every safetensors entry inside the data and not overlapping another.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ptexplore import compat
from ptexplore.ckpt.formats import LEGACY_MAGIC, damaged, too_much
from ptexplore.ckpt.pickles import Census, census
from ptexplore.i18n import N_, _
from ptexplore.limits import (
    CKPT_MAX_ENTRIES,
    CKPT_MAX_PICKLE_BYTES,
    CKPT_MAX_TENSORS,
    SAFETENSORS_MAX_HEADER_BYTES,
)
from ptexplore.text import code_span

# ------------------------------------------------------------------------------ source


class Source:
    """The bytes being checked: an upload in memory or a file on disk, read by offset.
    A file stays open until :meth:`close` (or the end of a ``with`` block)."""

    def __init__(self, data: bytes | Path) -> None:
        self.path = data if isinstance(data, Path) else None
        self.raw = None if isinstance(data, Path) else data
        self.data = None if isinstance(data, Path) else memoryview(data)
        self._file: io.BufferedReader | None = None
        if isinstance(data, Path):
            self._file = data.open("rb")
            self.size = os.fstat(self._file.fileno()).st_size
        else:
            self.size = len(data)

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def read(self, offset: int, n: int) -> bytes:
        """Up to ``n`` bytes from ``offset`` (fewer at the end of the file)."""
        offset = max(0, offset)
        n = max(0, min(n, self.size - offset))
        if self.data is not None:
            return bytes(self.data[offset : offset + n])
        assert self._file is not None
        self._file.seek(offset)
        return self._file.read(n)

    def file(self) -> io.BytesIO | io.BufferedReader:
        """A new binary file object over the whole source (the caller closes it); for an
        upload it shares the bytes (BytesIO copies only on write)."""
        if self.raw is not None:
            return io.BytesIO(self.raw)
        assert self.path is not None
        return self.path.open("rb")


def _mb(n: int) -> str:
    return f"{n / 2**20:,.1f} MB" if n < 2**30 else f"{n / 2**30:,.1f} GB"


# ------------------------------------------------------------------------------- zip

_EOCD = struct.Struct("<4s4H2LH")  # end of central directory, 22 bytes
_EOCD64_LOCATOR = struct.Struct("<4sLQL")  # 20 bytes
_EOCD64 = struct.Struct("<4sQ2H2L4Q")  # 56 bytes
_CDIR = struct.Struct("<4s6H3L5H2L")  # central directory entry, 46 bytes
_LOCAL = struct.Struct("<4s5H3L2H")  # local file header, 30 bytes


@dataclass(frozen=True, slots=True)
class ZipPlan:
    """A torch.save archive that passed every check."""

    top: str  # the archive's top folder ("archive", or the file's stem)
    entries: int
    declared: int  # sum of the entries' uncompressed sizes
    census: Census  # of data.pkl
    #: (name, local header offset, data offset, size) of every entry, in directory order
    records: tuple[tuple[str, int, int, int], ...] = ()
    #: (offset, size) of the central directory
    directory: tuple[int, int] = (0, 0)


def _central_directory(src: Source) -> tuple[int, int, int]:
    """(entries, offset, size) of the central directory, found exactly as Python's
    zipfile finds it (the end record, and a zip64 record right before it), refused when
    the directory does not end where the end record starts: data glued before or inside
    the archive would make Python's zipfile and torch's miniz read different offsets."""
    tail_start = max(0, src.size - (_EOCD.size + 0x10000))
    tail = src.read(tail_start, src.size - tail_start)
    at = len(tail) - _EOCD.size
    if not (at >= 0 and tail[at:].startswith(b"PK\x05\x06") and tail[-2:] == b"\x00\x00"):
        at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + _EOCD.size > len(tail):
        raise damaged(_("a zip archive without its end record (the file is cut short?)"))
    _sig, disk, _cd_disk, _n_disk, entries, cd_size, cd_offset, _c = _EOCD.unpack_from(tail, at)
    eocd = tail_start + at
    end_at = eocd
    locator = src.read(eocd - _EOCD64_LOCATOR.size, _EOCD64_LOCATOR.size)
    if eocd >= _EOCD64_LOCATOR.size and locator.startswith(b"PK\x06\x07"):
        _s, disk, rec64, disks = _EOCD64_LOCATOR.unpack(locator)
        end_at = eocd - _EOCD64_LOCATOR.size - _EOCD64.size
        raw = src.read(end_at, _EOCD64.size)
        if disks > 1 or rec64 != end_at or not raw.startswith(b"PK\x06\x06"):
            raise damaged(_("a zip64 archive whose zip64 end record is not where it says"))
        fields = _EOCD64.unpack(raw)
        entries, cd_size, cd_offset = fields[7], fields[8], fields[9]
    if disk != 0:
        raise damaged(_("a zip archive split over several disks"))
    if cd_offset + cd_size != end_at:
        raise damaged(
            _(
                "a zip archive whose central directory is not where its end record says "
                "(bytes were added before or inside it)"
            )
        )
    if entries > CKPT_MAX_ENTRIES:
        raise too_much(
            _(
                "the archive declares {entries:,} entries; at most {most:,} "
                "(one per tensor, plus a few)"
            ).format(entries=entries, most=CKPT_MAX_ENTRIES)
        )
    return entries, cd_offset, cd_size


def _walk_directory(src: Source, offset: int, size: int) -> Iterator[tuple[int, int, int]]:
    """(method, flags, name length) of each central-directory record, at most
    CKPT_MAX_ENTRIES + 1 of them: bounded whatever the end record claimed."""
    pos, end, seen = offset, offset + size, 0
    while pos < end:
        raw = src.read(pos, _CDIR.size)
        if len(raw) < _CDIR.size or not raw.startswith(b"PK\x01\x02"):
            raise damaged(_("a zip archive with a broken central directory"))
        f = _CDIR.unpack(raw)
        seen += 1
        if seen > CKPT_MAX_ENTRIES:
            raise too_much(
                _("the archive has more than {most:,} entries").format(most=CKPT_MAX_ENTRIES)
            )
        yield f[4], f[3], f[10]
        pos += _CDIR.size + f[10] + f[11] + f[12]


def check_zip(src: Source, *, declared_cap: int) -> ZipPlan:
    """Refuse a zip archive unless torch.load can read it with bounded work and memory."""
    entries, cd_offset, cd_size = _central_directory(src)
    methods = [(method, flags) for method, flags, _n in _walk_directory(src, cd_offset, cd_size)]
    if len(methods) != entries:
        raise damaged(
            _("the archive says it has {entries:,} entries but lists {listed:,}").format(
                entries=entries, listed=len(methods)
            )
        )
    try:  # bounded now: at most CKPT_MAX_ENTRIES records, nothing decompressed
        with zipfile.ZipFile(src.file()) as zf:
            infos = zf.infolist()
    except Exception as err:  # BadZipFile, NotImplementedError (zip version), EOFError…
        raise damaged(
            _("a zip archive Python cannot open ({error})").format(
                error=f"{type(err).__name__}: {code_span(str(err))}"
            )
        ) from err
    if len(infos) != entries:
        raise damaged(_("the archive's directory does not list what its end record says"))
    names = [i.filename for i in infos]
    if len(set(names)) != len(names):
        raise damaged(_("two entries of the archive have the same name"))
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) != 1 or not all("/" in n for n in names):
        raise damaged(
            _(
                "a zip archive, but not one torch.save wrote: its entries are not all in one "
                "top folder"
            )
        )
    top = next(iter(tops))
    if f"{top}/constants.pkl" in names:
        raise damaged(
            _("a TorchScript archive (torch.jit.save): it holds a program, not a state_dict"),
            fix=N_(
                "Load it with torch.jit.load in your own Python and save "
                "torch.save(model.state_dict(), 'weights.pth')."
            ),
        )
    if f"{top}/data.pkl" not in names:
        raise damaged(
            _("a zip archive, but not one torch.save wrote: it has no {name}").format(
                name=code_span(top + "/data.pkl")
            )
        )
    for method, flags in methods:
        if method != zipfile.ZIP_STORED:
            raise too_much(
                _(
                    "an entry is compressed (zip method {method}); torch.save stores every "
                    "entry uncompressed, and a compressed one can expand a small upload into "
                    "gigabytes"
                ).format(method=method)
            )
        if flags & 0x1:
            raise damaged(_("an entry of the archive is encrypted"))
    declared = 0
    offsets: dict[str, int] = {}
    for info in infos:
        if info.compress_type != zipfile.ZIP_STORED or info.file_size != info.compress_size:
            raise too_much(_("an entry is compressed; torch.save stores every entry as is"))
        declared += info.file_size
        local = src.read(info.header_offset, _LOCAL.size)
        if len(local) < _LOCAL.size or not local.startswith(b"PK\x03\x04"):
            raise damaged(
                _("entry {name} has no local header").format(name=code_span(info.filename))
            )
        f = _LOCAL.unpack(local)
        raw_name = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
        if src.read(info.header_offset + _LOCAL.size, f[9]) != raw_name:
            raise damaged(
                _("entry {name} has another name in its header").format(
                    name=code_span(info.filename)
                )
            )
        if f[3] != zipfile.ZIP_STORED:
            raise too_much(
                _("entry {name} is compressed in its local header").format(
                    name=code_span(info.filename)
                )
            )
        data_at = info.header_offset + _LOCAL.size + f[9] + f[10]
        if data_at + info.file_size > cd_offset:
            raise damaged(
                _("entry {name} runs past the archive's data").format(name=code_span(info.filename))
            )
        offsets[info.filename] = data_at
    if declared > declared_cap:
        raise too_much(
            _("its entries declare {size} uncompressed, more than the {cap} allowed").format(
                size=_mb(declared), cap=_mb(declared_cap)
            )
        )
    pkl = next(i for i in infos if i.filename == f"{top}/data.pkl")
    if pkl.file_size > CKPT_MAX_PICKLE_BYTES:
        raise too_much(
            _(
                "its data.pkl is {size}; at most {cap} "
                "(torch.save writes ~100 bytes per tensor: efficientnet_b7 with its Adam state, "
                "3,333 tensors, takes 0.3 MB)"
            ).format(size=_mb(pkl.file_size), cap=_mb(CKPT_MAX_PICKLE_BYTES))
        )
    body = src.read(offsets[pkl.filename], pkl.file_size)
    c = census(body, 0, what="data.pkl", alloc_cap=declared_cap)
    sizes = {i.filename: i.file_size for i in infos}
    for key, decl in c.storages.items():
        entry = f"{top}/data/{key}"
        if entry not in sizes:
            raise damaged(
                _("its pickle declares storage {key}, which has no entry").format(
                    key=code_span(key)
                )
            )
        if sizes[entry] != decl.nbytes:
            raise damaged(
                _(
                    "storage {key} declares {nbytes:,} bytes ({numel:,} × {type}) but its "
                    "entry holds {held:,}"
                ).format(
                    key=code_span(key),
                    nbytes=decl.nbytes,
                    numel=decl.numel,
                    type=decl.type_name,
                    held=sizes[entry],
                )
            )
    _same_view_as_torch(src, top, offsets, [f"{top}/data/{k}" for k in c.storages])
    records = tuple((i.filename, i.header_offset, offsets[i.filename], i.file_size) for i in infos)
    return ZipPlan(
        top=top,
        entries=entries,
        declared=declared,
        census=c,
        records=records,
        directory=(cd_offset, cd_size),
    )


def _same_view_as_torch(src: Source, top: str, offsets: dict[str, int], used: list[str]) -> None:
    """torch reads the archive with miniz, not Python's zipfile: both must see the same
    entries at the same offsets, or the checks above were about another file."""
    target: str | io.BytesIO | io.BufferedReader = str(src.path) if src.path else src.file()
    try:
        reader: Any = compat.pytorch_file_reader(target)
        records = set(reader.get_all_records())
        expected = {name.removeprefix(f"{top}/") for name in offsets}
        same = records == expected and all(
            reader.get_record_offset(name.removeprefix(f"{top}/")) == offsets[name]
            for name in [f"{top}/data.pkl", *used]
        )
    except Exception as err:  # miniz refused what zipfile accepted
        raise damaged(
            _("torch's zip reader cannot open it ({error})").format(error=type(err).__name__)
        ) from err
    if not same:
        raise damaged(_("Python's zipfile and torch's zip reader see different entries in it"))


# ---------------------------------------------------------------------------- legacy


@dataclass(frozen=True, slots=True)
class LegacyPlan:
    """A legacy torch.save stream that passed every check."""

    census: Census  # of the main pickle
    keys: tuple[str, ...]  # storage keys, in the order their bytes follow
    data_start: int
    data_bytes: int
    #: (name, what, offset, length) of each part of the stream, in file order (``what`` in
    #: the learner's language)
    parts: tuple[tuple[str, str, int, int], ...] = ()


def check_legacy(src: Source, *, declared_cap: int) -> LegacyPlan:
    """Refuse a legacy stream unless every storage its pickle declares is in the file.

    torch's legacy loader allocates each declared storage while it unpickles, before it
    reads a byte of tensor data: a pickle of a few hundred bytes can declare a terabyte.
    """
    head = src.read(0, len(LEGACY_MAGIC) + 4096)
    pos = len(LEGACY_MAGIC)
    proto = census(head, pos, what=N_("protocol version"), limit=64, alloc_cap=0, keep_root=True)
    if proto.root != 1001:
        seen = code_span(repr(proto.root)[:40])
        raise damaged(
            _("a legacy torch.save stream of unknown protocol {protocol}").format(protocol=seen)
        )
    info = census(head, proto.end, what=N_("system info"), limit=2048, alloc_cap=0, keep_root=True)
    if not isinstance(info.root, dict) or info.root.get("little_endian") is not True:
        raise damaged(_("a legacy torch.save stream from a big-endian machine, or damaged"))
    body = src.read(info.end, CKPT_MAX_PICKLE_BYTES + 1)
    main = census(body, 0, what=N_("main pickle"), legacy=True, alloc_cap=declared_cap)
    main_end = info.end + main.end
    tail = src.read(main_end, CKPT_MAX_PICKLE_BYTES + 1)
    listed = census(tail, 0, what=N_("list of storage keys"), alloc_cap=0, keep_root=True)
    keys = listed.root
    if not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)):
        raise damaged(_("its list of storage keys is not a list of strings"))
    if len(keys) != len(set(keys)) or set(keys) != set(main.storages):
        raise damaged(_("its list of storage keys does not match the storages its pickle declares"))
    data_start = main_end + listed.end
    need = sum(8 + main.storages[k].nbytes for k in keys)
    have = src.size - data_start
    if need > have:
        raise damaged(
            _(
                "its pickle declares {need} of storages but only {have} follow it "
                "(torch's legacy loader would allocate them all before reading)"
            ).format(need=_mb(need), have=_mb(have))
        )
    if need > declared_cap:
        raise too_much(
            _("its storages take {need}, more than the {cap} allowed").format(
                need=_mb(need), cap=_mb(declared_cap)
            )
        )
    at = data_start
    for k in keys:
        decl = main.storages[k]
        raw = src.read(at, 8)
        if len(raw) < 8 or struct.unpack("<q", raw)[0] != decl.numel:
            raise damaged(
                _("the bytes of storage {key} do not start with its size").format(key=code_span(k))
            )
        at += 8 + decl.nbytes
    parts = (  # (a short name, what it is in the learner's language, offset, length)
        ("magic number", _("magic number (a pickled int)"), 0, len(LEGACY_MAGIC)),
        (
            "protocol version",
            _("protocol version (a pickled 1001)"),
            len(LEGACY_MAGIC),
            proto.end - len(LEGACY_MAGIC),
        ),
        ("system info", _("system info (a pickled dict)"), proto.end, info.end - proto.end),
        ("the object", _("the object (a pickle; storages by reference)"), info.end, main.end),
        ("storage keys", _("storage keys (a pickled list)"), main_end, listed.end),
        (
            f"{len(keys)} storages",
            _("{n} storages (8-byte size + raw bytes each)").format(n=len(keys)),
            data_start,
            need,
        ),
    )
    return LegacyPlan(
        census=main, keys=tuple(keys), data_start=data_start, data_bytes=need, parts=parts
    )


# ----------------------------------------------------------------------- safetensors

#: bytes per element of each safetensors dtype (whole-byte dtypes only)
SAFETENSORS_ITEMSIZE = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "F8_E8M0": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "C64": 8,
    "F64": 8,
    "I64": 8,
    "U64": 8,
}


@dataclass(frozen=True, slots=True)
class SafetensorsPlan:
    """A safetensors file whose header passed every check."""

    header_bytes: int
    tensors: dict[str, tuple[str, tuple[int, ...], tuple[int, int]]]  # dtype, shape, span
    metadata: dict[str, str]


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"the key {k!r} appears twice")
        out[k] = v
    return out


def check_safetensors(src: Source) -> SafetensorsPlan:
    """Refuse a safetensors file unless its header is small, valid and consistent."""
    n = struct.unpack("<Q", src.read(0, 8))[0]
    if n > SAFETENSORS_MAX_HEADER_BYTES:
        raise too_much(
            _("its safetensors header is {size}; at most {cap}").format(
                size=_mb(n), cap=_mb(SAFETENSORS_MAX_HEADER_BYTES)
            )
        )
    if n > src.size - 8:
        raise damaged(
            _("its safetensors header says {n:,} bytes but the file has {rest:,} after it").format(
                n=n, rest=src.size - 8
            )
        )
    raw = src.read(8, n)
    if raw.count(b'"data_offsets"') > CKPT_MAX_TENSORS:  # before building 10,000s of dicts
        raise too_much(
            _("its safetensors header lists more than {most:,} tensors").format(
                most=CKPT_MAX_TENSORS
            )
        )
    try:
        header = json.loads(
            raw.decode("utf-8"), parse_constant=_no_constants, object_pairs_hook=_unique
        )
    except (ValueError, RecursionError) as err:
        raise damaged(
            _("its safetensors header is not valid JSON ({error})").format(
                error=code_span(str(err))
            )
        ) from err
    if not isinstance(header, dict):
        raise damaged(_("its safetensors header is not a JSON object"))
    meta = header.pop("__metadata__", {})
    if not (
        isinstance(meta, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items())
    ):
        raise damaged(_("its safetensors __metadata__ is not a map of strings to strings"))
    if len(header) > CKPT_MAX_TENSORS:
        raise too_much(
            _("it holds {n:,} tensors; at most {most:,}").format(
                n=len(header), most=CKPT_MAX_TENSORS
            )
        )
    data_len = src.size - 8 - n
    tensors: dict[str, tuple[str, tuple[int, ...], tuple[int, int]]] = {}
    for name, entry in header.items():
        where = code_span(name)
        if not (isinstance(entry, dict) and set(entry) == {"dtype", "shape", "data_offsets"}):
            raise damaged(
                _("tensor {name} is not described by dtype, shape and data_offsets").format(
                    name=where
                )
            )
        dtype, shape, span = entry["dtype"], entry["shape"], entry["data_offsets"]
        if not isinstance(dtype, str) or dtype not in SAFETENSORS_ITEMSIZE:
            raise damaged(
                _("tensor {name} has dtype {dtype}, which is not known").format(
                    name=where, dtype=code_span(str(dtype)[:40])
                )
            )
        if not (
            isinstance(shape, list)
            and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape)
        ):
            raise damaged(_("tensor {name} has no valid shape").format(name=where))
        if not (
            isinstance(span, list)
            and len(span) == 2
            and all(isinstance(s, int) and not isinstance(s, bool) for s in span)
            and 0 <= span[0] <= span[1] <= data_len
        ):
            raise damaged(
                _("tensor {name} has data offsets outside the file's data").format(name=where)
            )
        if math.prod(shape) * SAFETENSORS_ITEMSIZE[dtype] != span[1] - span[0]:
            raise damaged(
                _("tensor {name} has shape {shape} of {dtype} but {n:,} bytes").format(
                    name=where, shape=list(shape), dtype=dtype, n=span[1] - span[0]
                )
            )
        tensors[name] = (dtype, tuple(shape), (span[0], span[1]))
    spans = sorted(t[2] for t in tensors.values())
    for (_b0, e0), (b1, _e1) in itertools.pairwise(spans):
        if b1 < e0:
            raise damaged(_("two of its tensors overlap in the data"))
    return SafetensorsPlan(header_bytes=n, tensors=tensors, metadata=dict(meta))
