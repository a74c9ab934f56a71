"""A checkpoint file's real layout, read back from its bytes after the guard passed it.

* a ``torch.save`` file is a zip archive: ``<top>/data.pkl`` (the pickled object tree,
  tensors by reference), one uncompressed entry ``<top>/data/<key>`` per storage, and small
  records (``byteorder``, ``version``, ``.format_version``…), then the central directory;
* a legacy ``torch.save`` stream is five pickles one after another, then every storage's
  raw bytes, each after its 8-byte element count;
* a safetensors file is an 8-byte little-endian header length N, a JSON header of N bytes
  (every tensor's dtype, shape and ``data_offsets`` into what follows), then the raw bytes.

Every number here comes from :mod:`ptexplore.ckpt.guard`, which reads only headers
and indexes, so a 2 GB file costs what its index costs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ptexplore.ckpt.formats import CheckpointFormat
from ptexplore.ckpt.guard import (
    LegacyPlan,
    SafetensorsPlan,
    Source,
    ZipPlan,
)
from ptexplore.i18n import N_, _
from ptexplore.limits import CKPT_LAB_HEADER_CHARS
from ptexplore.text import shorten

#: what each small record of a torch.save archive holds (English, marked for the catalog:
#: a layout's descriptions are in the learner's language, like the rest of a result)
_RECORDS = {
    "data.pkl": N_("the pickled object tree (tensors by reference to data/<key>)"),
    "byteorder": N_("the byte order of the tensor data (little)"),
    "version": N_("torch.save's archive version"),
    ".format_version": N_("the storage layout version"),
    ".storage_alignment": N_("the alignment of every data entry, in bytes"),
    ".data/version": N_("the archive format version"),
    ".data/serialization_id": N_("an id torch.save gives the file"),
}


@dataclass(frozen=True, slots=True)
class Region:
    """One stretch of the file: what it is, where it starts, how long it is."""

    name: str
    offset: int
    length: int
    what: str


@dataclass(frozen=True, slots=True)
class ZipLayout:
    format: CheckpointFormat
    size: int
    top: str
    #: every entry: name (without the top folder), data offset, stored size, "stored"
    entries: tuple[Region, ...]
    #: the local header of each entry (30 bytes + name + padding) precedes its data
    headers: int
    directory: Region
    stored_uncompressed: bool


@dataclass(frozen=True, slots=True)
class LegacyLayout:
    format: CheckpointFormat
    size: int
    parts: tuple[Region, ...]


@dataclass(frozen=True, slots=True)
class SafetensorsEntry:
    name: str
    dtype: str
    shape: tuple[int, ...]
    #: ``data_offsets`` as the header states them: relative to the end of the header
    begin: int
    end: int
    #: where the bytes really are in the file: 8 + N + begin
    file_offset: int


@dataclass(frozen=True, slots=True)
class SafetensorsLayout:
    format: CheckpointFormat
    size: int
    #: the first 8 bytes, as hex, and the header length N they encode
    length_bytes: str
    header_length: int
    #: the JSON header as stored (cut at CKPT_LAB_HEADER_CHARS), and indented for reading
    header_text: str
    header_pretty: str
    metadata: tuple[tuple[str, str], ...]
    tensors: tuple[SafetensorsEntry, ...]

    @property
    def data_start(self) -> int:
        return 8 + self.header_length

    @property
    def regions(self) -> tuple[Region, ...]:
        return (
            Region(
                "header length",
                0,
                8,
                _("N = {n:,} (8 bytes, little-endian)").format(n=self.header_length),
            ),
            Region(
                "JSON header", 8, self.header_length, _("dtype, shape, data_offsets per tensor")
            ),
            Region(
                "tensor data",
                self.data_start,
                self.size - self.data_start,
                _("{n} tensors, raw bytes").format(n=len(self.tensors)),
            ),
        )


FileLayout = ZipLayout | LegacyLayout | SafetensorsLayout


def zip_layout(plan: ZipPlan, size: int) -> ZipLayout:
    """The layout of a torch.save archive the guard passed."""
    entries = []
    headers = 0
    for name, header_at, data_at, length in plan.records:
        short = name.removeprefix(f"{plan.top}/")
        known = _RECORDS.get(short)
        what = _(known) if known is not None else None
        if what is None and short.startswith("data/"):
            what = _("the raw bytes of storage {key}").format(key=short.removeprefix("data/"))
        entries.append(Region(short, data_at, length, what or _("a record torch.save wrote")))
        headers += data_at - header_at
    cd_offset, cd_size = plan.directory
    return ZipLayout(
        format=CheckpointFormat.ZIP,
        size=size,
        top=plan.top,
        entries=tuple(entries),
        headers=headers,
        directory=Region(
            "central directory",
            cd_offset,
            size - cd_offset,
            _("the index of all {n} entries ({size:,} bytes) and the end record").format(
                n=plan.entries, size=cd_size
            ),
        ),
        stored_uncompressed=True,  # check_zip refuses any compressed entry
    )


def legacy_layout(plan: LegacyPlan, size: int) -> LegacyLayout:
    parts = tuple(Region(name, at, n, what) for name, what, at, n in plan.parts)
    return LegacyLayout(format=CheckpointFormat.LEGACY, size=size, parts=parts)


def safetensors_layout(plan: SafetensorsPlan, src: Source) -> SafetensorsLayout:
    n = plan.header_bytes
    raw = src.read(8, min(n, CKPT_LAB_HEADER_CHARS * 4))
    text = shorten(raw.decode("utf-8", errors="replace"), CKPT_LAB_HEADER_CHARS)
    shown: dict[str, object] = {}
    if plan.metadata:
        shown["__metadata__"] = plan.metadata
    for name, (dtype, shape, span) in plan.tensors.items():
        shown[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": list(span)}
    pretty = shorten(json.dumps(shown, indent=1), CKPT_LAB_HEADER_CHARS)
    tensors = tuple(
        SafetensorsEntry(name, dtype, shape, span[0], span[1], 8 + n + span[0])
        for name, (dtype, shape, span) in sorted(plan.tensors.items(), key=lambda kv: kv[1][2])
    )
    return SafetensorsLayout(
        format=CheckpointFormat.SAFETENSORS,
        size=src.size,
        length_bytes=src.read(0, 8).hex(" "),
        header_length=n,
        header_text=text,
        header_pretty=pretty,
        metadata=tuple(plan.metadata.items()),
        tensors=tensors,
    )


__all__ = [
    "FileLayout",
    "LegacyLayout",
    "Region",
    "SafetensorsEntry",
    "SafetensorsLayout",
    "ZipLayout",
    "legacy_layout",
    "safetensors_layout",
    "zip_layout",
]
