"""Read a checkpoint: check it (:mod:`ptexplore.ckpt.guard`), load it, find its
state_dict.

torch.save files are loaded with ``torch.load(weights_only=True, map_location="cpu")``
(``mmap=True`` for zip archives on disk), never with ``weights_only=False`` and never with
torch's advice to use it; any exception torch.load raises becomes an :class:`InputError`.
safetensors files are loaded with the ``safetensors`` package.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ptexplore import isolate
from ptexplore.ckpt.formats import CheckpointFormat, damaged, detect
from ptexplore.ckpt.guard import (
    Source,
    check_legacy,
    check_safetensors,
    check_zip,
)
from ptexplore.errors import InputError
from ptexplore.i18n import N_, _
from ptexplore.limits import (
    CKPT_MAX_DECLARED_BYTES,
    CKPT_MAX_FILE_BYTES,
    MAX_UPLOAD_BYTES,
    SANDBOX_UPLOAD_MEMORY_MB,
)
from ptexplore.live import capture_warnings
from ptexplore.text import code_span, named, named_reasons

#: keys under which training scripts nest the state_dict in a checkpoint dict, in the
#: order they are tried (PyTorch Lightning's is ``state_dict``)
WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net")
#: prefixes a wrapper adds to every key, and who adds them (English: the scripts' comments
#: say it; :func:`who_added` says it in the learner's language)
PREFIXES = {
    "module.": "nn.DataParallel / DistributedDataParallel",
    "_orig_mod.": "torch.compile",
    "model.": N_("a PyTorch Lightning module"),
}
#: how many skipped keys a note names before it counts the rest
_NAMED = 5

FIX_UNSAFE = N_(
    "Save only the weights: torch.save(model.state_dict(), 'weights.pth'), or save them with "
    "safetensors (safetensors.torch.save_file). ptexplore never loads with "
    "weights_only=False: that can run code hidden in the file."
)


class StateDict(dict[str, torch.Tensor]):
    """A state_dict as read from a file, carrying what the reader noticed on the way
    (``notes``: markdown, every key and name in a code span)."""

    __slots__ = ("format", "metadata", "notes", "skipped")

    def __init__(
        self,
        tensors: Mapping[str, torch.Tensor],
        *,
        format: CheckpointFormat | None = None,
        notes: tuple[str, ...] = (),
        metadata: Mapping[str, str] | None = None,
        skipped: tuple[str, ...] = (),
    ) -> None:
        super().__init__(tensors)
        self.format = format
        self.notes = notes
        self.metadata: dict[str, str] = dict(metadata or {})
        #: the file's state_dict entries left out (not a name, or not a tensor)
        self.skipped = skipped


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What a checkpoint file held, found and named."""

    format: CheckpointFormat
    state_dict: StateDict
    wrapper_key: str | None  # "state_dict" when the file was a checkpoint dict
    stripped_prefix: str | None  # "module." (DataParallel), "model." (Lightning)…
    #: other top-level entries of a checkpoint dict (epoch, optimizer…), not loaded
    extras: tuple[str, ...] = ()
    #: (key, why) of values under the state_dict that are not tensors, not loaded
    skipped: tuple[tuple[str, str], ...] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)  # safetensors __metadata__
    notes: tuple[str, ...] = ()


# ----------------------------------------------------------------------------- load


def read_upload(data: bytes) -> Checkpoint:
    """:func:`read_checkpoint` of a learner's upload, in the sandbox
    (:mod:`ptexplore.isolate`): ``torch.load`` or safetensors meets the file in a process
    of its own, with its own memory and CPU limits; a reader that crashes or blows up ends
    in a lesson and the server's other sessions never notice. The size cap refuses first,
    here. (Files on disk — the hub cache, the operator's own — are read in place, memory
    mapped.)"""
    check_upload_size(len(data))
    return isolate.job(_("reading this checkpoint"), _UPLOAD_LIMITS).call(read_checkpoint, data)


def check_upload_size(size: int, cap: int | None = None) -> None:
    """Refuse an upload of ``size`` bytes over ``cap`` (default :data:`MAX_UPLOAD_BYTES`),
    in microseconds, before anything reads it."""
    cap = MAX_UPLOAD_BYTES if cap is None else cap
    if size > cap:
        raise InputError(
            _("The file is {mb:.0f} MB; uploads are capped at {cap} MB.").format(
                mb=size / 2**20, cap=cap // 2**20
            ),
            fix=_("Put big checkpoints in the torch hub cache folder instead."),
        )


def entries_cap(src: Source) -> int:
    """The most bytes ``src``'s entries may declare: an upload's cap, or the file cap for a
    file on disk (:class:`InputError` for a file past it, before anything is read)."""
    if src.path is None:
        return CKPT_MAX_DECLARED_BYTES
    if src.size > CKPT_MAX_FILE_BYTES:
        raise InputError(
            _(
                "The checkpoint is {gb:.1f} GB; ptexplore reads at most {cap:.0f} GB from disk."
            ).format(gb=src.size / 2**30, cap=CKPT_MAX_FILE_BYTES / 2**30),
            fix=_("Pick a smaller model's weights."),
        )
    return CKPT_MAX_FILE_BYTES


def read_checkpoint(data: bytes | Path, *, max_upload_bytes: int = MAX_UPLOAD_BYTES) -> Checkpoint:
    """Check, load and unwrap a checkpoint: uploaded bytes or a file on disk.

    Raises :class:`InputError` (never anything else) when the file is not a checkpoint,
    is damaged, asks for more than the limits allow, or needs code to unpickle.
    """
    if isinstance(data, bytes | bytearray | memoryview):
        check_upload_size(len(data), max_upload_bytes)
    try:
        src = Source(data if isinstance(data, Path) else bytes(data))
    except OSError as err:
        raise InputError(
            _("The checkpoint {path} cannot be opened ({error}).").format(
                path=code_span(str(data)), error=type(err).__name__
            ),
            fix=_("Check that the file exists and can be read."),
        ) from err
    with src:
        cap = entries_cap(src)
        fmt = detect(src.read(0, 64), src.size)
        notes: list[str] = []
        metadata: dict[str, str] = {}
        if fmt is CheckpointFormat.SAFETENSORS:
            obj, metadata = _load_safetensors(src)
        else:
            obj = _load_torch(src, fmt, cap, notes)
    return _unwrap(obj, fmt, metadata, notes)


def _load_torch(src: Source, fmt: CheckpointFormat, cap: int, notes: list[str]) -> Any:
    if fmt is CheckpointFormat.ZIP:
        plan_globals = check_zip(src, declared_cap=cap).census.unsafe_globals
    else:
        plan_globals = check_legacy(src, declared_cap=cap).census.unsafe_globals
    mmap = src.path is not None and fmt is CheckpointFormat.ZIP
    # torch.load dispatches a *path* ending in .safetensors to safetensors by its name:
    # such a file (a zip, by its bytes) is given as an open file instead
    by_name = src.path is not None and str(src.path).endswith(".safetensors")
    try:
        with capture_warnings() as caught:
            if src.path is not None and not by_name:
                obj = torch.load(src.path, map_location="cpu", weights_only=True, mmap=mmap)
            else:
                with src.file() as f:
                    obj = torch.load(f, map_location="cpu", weights_only=True, mmap=False)
    except pickle.UnpicklingError as err:
        raise _refusal(src, fmt, err, plan_globals) from None
    except MemoryError as err:
        raise InputError(
            _("The server ran out of memory loading this checkpoint."),
            fix=_("Try a smaller checkpoint, or try again when fewer learners are loading files."),
        ) from err
    except Exception as err:  # torch.load raises many types; a learner reads one
        raise load_failed(err) from None
    for w in caught[:3]:
        notes.append(
            _("torch warned while loading: {warning}").format(warning=code_span(w.line, limit=200))
        )
    return obj


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


#: lines of torch's weights-only error that are its advice, not the reason
_TORCH_ADVICE = (
    "weights_only",
    "Weights only load failed",
    "Check the documentation",
    "file an issue",
    "trust the source",
    "trusted source",
)


def torch_reason(err: BaseException) -> str:
    """The cause inside torch's weights-only error, as one complete sentence, without its
    advice to retry with weights_only=False (unsafe for a file from a stranger)."""
    text = str(err)
    marker = "WeightsUnpickler error:"
    lines = [ln.strip() for ln in text.splitlines()]
    if marker in text:
        rest = text.split(marker, 1)[1]
        lines = [ln.strip() for ln in rest.splitlines()]
    reason = next((ln for ln in lines if ln and not any(a in ln for a in _TORCH_ADVICE)), "")
    if not reason:
        return _("torch's weights-only unpickler refused the file.")
    sentence = reason.split(". ")[0].rstrip(".")
    return f"{marker} {sentence}." if marker in text else f"{sentence}."


def wanted_globals(
    src: Source, fmt: CheckpointFormat, census_globals: tuple[str, ...]
) -> tuple[str, ...]:
    """The globals a refused pickle wants: torch's own list for a zip checkpoint
    (``get_unsafe_globals_in_checkpoint``), else the census's."""
    if fmt is CheckpointFormat.ZIP:
        try:
            with src.file() as f:  # bounded: the census passed this pickle
                return tuple(sorted(torch.serialization.get_unsafe_globals_in_checkpoint(f)))
        except Exception:  # the census's list is as good
            pass
    return census_globals


def refused_globals(
    src: Source, fmt: CheckpointFormat, err: BaseException, census_globals: tuple[str, ...]
) -> tuple[str, ...]:
    """For an ``UnpicklingError`` from ``torch.load(weights_only=True)``: the globals the
    pickle wants, or the damaged-file :class:`InputError` when it wants none (the pickle
    is broken, not unsafe)."""
    wanted = wanted_globals(src, fmt, census_globals)
    reason = torch_reason(err)
    if not wanted and "Unsupported global" not in reason:
        raise damaged(
            _("not a checkpoint torch.load(weights_only=True) can read ({reason})").format(
                reason=code_span(reason, limit=200)
            )
        )
    return wanted


def load_failed(err: BaseException) -> InputError:
    """The damaged-file lesson for any other exception ``torch.load`` raised."""
    return damaged(
        _("torch.load(weights_only=True) failed: {error}").format(
            error=f"{type(err).__name__}: {code_span(torch_reason(err), limit=200)}"
        )
    )


def _refusal(
    src: Source, fmt: CheckpointFormat, err: BaseException, census_globals: tuple[str, ...]
) -> InputError:
    try:
        wanted = refused_globals(src, fmt, err, census_globals)
    except InputError as damaged_file:
        return damaged_file
    names = named(wanted, 8) or _("a global torch does not allow")
    return InputError(
        _(
            "This checkpoint is not plain weights, so torch.load(weights_only=True) refuses "
            "it: its pickle wants to import {names}, and unpickling a global can run any code "
            "it names. torch said: {said}"
        ).format(names=names, said=code_span(torch_reason(err), limit=200)),
        fix=_(FIX_UNSAFE),
    )


def _load_safetensors(src: Source) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    plan = check_safetensors(src)
    try:
        from safetensors import safe_open
        from safetensors.torch import load as load_bytes

        if src.path is not None:
            with safe_open(str(src.path), framework="pt", device="cpu") as f:
                tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
        else:
            assert src.raw is not None
            tensors = load_bytes(src.raw)
    except ImportError as err:
        raise InputError(
            _("Reading safetensors files needs the safetensors package, which is not installed."),
            fix=_("pip install safetensors (it is in requirements.txt)."),
        ) from err
    except Exception as err:  # safetensors' own checks refused it
        raise damaged(
            _("safetensors refused it ({error})").format(
                error=f"{type(err).__name__}: {code_span(_first_line(err), limit=200)}"
            )
        ) from None
    return tensors, plan.metadata


# --------------------------------------------------------------------------- unwrap


def is_lightning(obj: Mapping[Any, Any]) -> bool:
    return "pytorch-lightning_version" in obj or (
        "state_dict" in obj and ("optimizer_states" in obj or "lr_schedulers" in obj)
    )


def holds_tensors(x: Any) -> bool:
    return isinstance(x, Mapping) and any(isinstance(v, torch.Tensor) for v in x.values())


def _describe(v: Any) -> str:
    return type(v).__name__


def _unwrap(
    obj: Any, fmt: CheckpointFormat, metadata: dict[str, str], notes: list[str]
) -> Checkpoint:
    wrapper = None
    extras: tuple[str, ...] = ()
    if isinstance(obj, Mapping) and not holds_tensors(obj):
        for k in WRAPPER_KEYS:
            if k in obj and holds_tensors(obj[k]):
                wrapper = k
                break
        if wrapper is not None:
            extras = tuple(str(k) for k in obj if k != wrapper)
            if is_lightning(obj):
                notes.append(
                    _("a PyTorch Lightning checkpoint: its weights are under {key}").format(
                        key=code_span(wrapper)
                    )
                )
            if extras:
                shown = named(extras, 8)
                notes.append(
                    _("the checkpoint also holds {names}: not weights, not loaded").format(
                        names=shown
                    )
                )
            obj = obj[wrapper]
    if not holds_tensors(obj):
        raise InputError(
            _(
                "The file holds no state_dict (a dict of parameter names to tensors): it holds "
                "{what}."
            ).format(what=code_span(_describe(obj))),
            fix=_("Save model.state_dict(), or a checkpoint dict with a 'state_dict' entry."),
        )
    tensors: dict[str, torch.Tensor] = {}
    skipped: list[tuple[str, str]] = []
    for k, v in obj.items():
        if not isinstance(k, str):
            skipped.append(
                (repr(k), _("its key is a {type}, not a name").format(type=type(k).__name__))
            )
        elif not isinstance(v, torch.Tensor):
            skipped.append((k, _("holds a {type}, not a tensor").format(type=_describe(v))))
        else:
            tensors[k] = v
    if skipped:
        shown = named_reasons(skipped, _NAMED)
        notes.append(_("not loaded: {shown}").format(shown=shown))
    tensors, prefix = strip_prefixes(tensors)
    if prefix:
        notes.append(
            _("every key started with {prefix} ({who}): stripped").format(
                prefix=code_span(prefix), who=who_added(prefix)
            )
        )
    if metadata:
        shown = ", ".join(f"{code_span(k)}: {code_span(v)}" for k, v in list(metadata.items())[:8])
        notes.append(_("safetensors metadata: {shown}").format(shown=shown))
    sd = StateDict(
        tensors,
        format=fmt,
        notes=tuple(notes),
        metadata=metadata,
        skipped=tuple(k for k, _x in skipped),
    )
    return Checkpoint(
        format=fmt,
        state_dict=sd,
        wrapper_key=wrapper,
        stripped_prefix=prefix,
        extras=extras,
        skipped=tuple(skipped),
        metadata=metadata,
        notes=tuple(notes),
    )


def strip_prefixes(
    tensors: Mapping[str, torch.Tensor],
) -> tuple[dict[str, torch.Tensor], str | None]:
    """Strip, repeatedly, a known wrapper prefix that every key has (``module._orig_mod.``
    after DataParallel of a compiled model); the prefixes stripped, joined, or None."""
    out = dict(tensors)
    stripped = ""
    while out:
        p = next((p for p in PREFIXES if all(k.startswith(p) for k in out)), None)
        if p is None:
            break
        out = {k.removeprefix(p): v for k, v in out.items()}
        stripped += p
    return out, stripped or None


def who_added(prefix: str) -> str:
    """Who adds ``prefix`` (``"module._orig_mod."``: nn.DataParallel … then torch.compile),
    in the learner's language."""
    names = [_(PREFIXES[p]) for p in split_prefix(prefix)]
    if not names:
        return ""
    said = names[0]
    for name in names[1:]:
        said = _("{first} then {then}").format(first=said, then=name)
    return said


def split_prefix(prefix: str) -> list[str]:
    """``"module._orig_mod."`` → ``["module.", "_orig_mod."]`` (known prefixes only)."""
    parts: list[str] = []
    rest = prefix
    while rest:
        p = next((p for p in PREFIXES if rest.startswith(p)), None)
        if p is None:
            break
        parts.append(p)
        rest = rest.removeprefix(p)
    return parts


_UPLOAD_LIMITS = isolate.Limits(memory_mb=SANDBOX_UPLOAD_MEMORY_MB)

__all__ = [
    "FIX_UNSAFE",
    "PREFIXES",
    "WRAPPER_KEYS",
    "Checkpoint",
    "StateDict",
    "check_upload_size",
    "read_checkpoint",
    "read_upload",
    "split_prefix",
    "strip_prefixes",
    "who_added",
]
