"""What kind of checkpoint a file is, told by its bytes (never by its name), and the
errors a learner reads when it is not one.

Three formats are read:

* ``torch.save`` since PyTorch 1.6: a zip archive (``PK\\x03\\x04``) holding
  ``<top>/data.pkl`` and one uncompressed entry per storage;
* the legacy ``torch.save`` stream (``_use_new_zipfile_serialization=False``): pickles one
  after another, the first being torch's magic number 0x1950a86a20f9469cfc6c;
* safetensors: an 8-byte little-endian header length N, then a JSON object of N bytes,
  then the raw tensor bytes.
"""

from __future__ import annotations

import io
import pickle
import struct
from enum import StrEnum

from ptexplore import compat
from ptexplore.errors import InputError
from ptexplore.i18n import N_, _
from ptexplore.text import code_span

#: torch's legacy magic number, pickled with protocol 2 exactly as ``torch.save`` writes it
#: (PROTO 2, LONG1 of 10 bytes little-endian, STOP).
LEGACY_MAGIC = b"\x80\x02\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little") + b"."
ZIP_MAGIC = b"PK\x03\x04"

#: What a learner can do about a file that is not a checkpoint (or a damaged one).
#: (The messages here are English, marked for the catalog, and translated where raised.)
FIX_RESAVE = N_(
    "Save the weights with torch.save(model.state_dict(), 'weights.pth') (or with "
    "safetensors) and use that file."
)
#: What a learner can do about a file that asks for more than a checkpoint needs.
FIX_BOUNDED = N_(
    "Use a checkpoint that torch.save or safetensors wrote: they store tensors uncompressed, "
    "one entry per tensor, with a small index."
)


class CheckpointFormat(StrEnum):
    """The values are English, marked for the catalog: shown translated, ``_(fmt.value)``."""

    ZIP = N_("torch.save zip archive")
    LEGACY = N_("legacy torch.save stream")
    SAFETENSORS = "safetensors"


def damaged(detail: str, *, fix: str = FIX_RESAVE) -> InputError:
    """The one error for bytes that are not a readable checkpoint (``detail`` in the
    learner's language; ``fix`` English, marked with ``N_``)."""
    return InputError(
        _("This is not a PyTorch checkpoint, or it is damaged: {detail}.").format(detail=detail),
        fix=_(fix),
    )


def too_much(detail: str) -> InputError:
    """The error for a file that declares more than ptexplore's limits allow."""
    return InputError(
        _("This checkpoint asks for more than ptexplore allows: {detail}.").format(detail=detail),
        fix=_(FIX_BOUNDED),
    )


def safetensors_header_length(head: bytes) -> int | None:
    """N from the first 8 bytes, if the 9th byte opens a JSON object (else None)."""
    if len(head) < 10 or head[8:9] != b"{":
        return None
    n: int = struct.unpack("<Q", head[:8])[0]
    return n


def detect(head: bytes, size: int) -> CheckpointFormat:
    """The format of a file whose first bytes are ``head`` (at least 64 of them, or the
    whole file) and whose length is ``size``; :class:`InputError` when it is none."""
    if size == 0:
        raise InputError(
            _("The file is empty: 0 bytes, so no tensors."),
            fix=_("Upload the file torch.save(model.state_dict(), …) wrote."),
        )
    if head.startswith(ZIP_MAGIC):
        return CheckpointFormat.ZIP
    if head.startswith(LEGACY_MAGIC):
        return CheckpointFormat.LEGACY
    if safetensors_header_length(head) is not None:
        return CheckpointFormat.SAFETENSORS
    raise damaged(_unknown(head, size))


def _looks_like(head: bytes) -> str:
    signatures = {
        b"\x89PNG": N_("a PNG image"),
        b"\xff\xd8\xff": N_("a JPEG image"),
        b"GIF8": N_("a GIF image"),
        b"RIFF": N_("a RIFF file (WebP, WAV…)"),
        b"%PDF": N_("a PDF document"),
        b"\x1f\x8b": N_("a gzip file"),
        b"BZh": N_("a bzip2 file"),
        b"\xfd7zXZ": N_("an xz file"),
        b"7z\xbc\xaf": N_("a 7-Zip archive"),
        b"PK\x05\x06": N_("an empty zip archive"),
        b"\x93NUMPY": N_("a NumPy .npy array"),
        b"\x89HDF": N_("an HDF5 file (Keras .h5?)"),
    }
    for magic, what in signatures.items():
        if head.startswith(magic):
            return _(what)
    if head.startswith(b"\x80") and len(head) > 1 and head[1] <= pickle.HIGHEST_PROTOCOL:
        return _(
            "a pickle (protocol {protocol}) without torch's magic number: pickle.dump wrote "
            "it, not torch.save"
        ).format(protocol=head[1])
    text = _utf8_prefix(head)
    if text and all(c.isprintable() or c in "\r\n\t" for c in text):
        return _("text (it starts {start})").format(start=code_span(text[:40]))
    return _("bytes of no format ptexplore knows")


def _utf8_prefix(head: bytes) -> str:
    """``head`` as UTF-8 text (a character cut at the end of the sample is dropped), or ''."""
    for cut in range(4):
        try:
            return head[: len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return ""


def _torch_words(head: bytes) -> str | None:
    """What torch.load says about this file's first byte: it reads anything that is not a
    zip archive as a legacy pickle stream, one opcode at a time. Only that one byte is
    given to torch's weights-only unpickler, so this costs nothing whatever the file is."""
    unpickler = compat.weights_only_unpickler(io.BytesIO(head[:1]))
    try:
        unpickler.load()
    except pickle.UnpicklingError as err:
        if str(err).startswith("Unsupported operand"):
            return f"WeightsUnpickler error: {err}"
    except Exception:  # EOF after one supported opcode: torch would go on reading
        return None
    return None


def _unknown(head: bytes, size: int) -> str:
    what = _looks_like(head)
    words = _torch_words(head)
    if words:
        return _(
            "the {size:,} bytes look like {what}: not a checkpoint "
            "torch.load(weights_only=True) can read ({words}), nor a safetensors file"
        ).format(size=size, what=what, words=words)
    return _(
        "the {size:,} bytes look like {what}: not a checkpoint "
        "torch.load(weights_only=True) can read, nor a safetensors file"
    ).format(size=size, what=what)
