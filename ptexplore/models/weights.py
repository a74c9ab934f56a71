"""Real weights, when the learner has them: a file in the torch hub cache, or an upload.

Nothing is downloaded. Files are read by :mod:`ptexplore.ckpt`: the format told by
its bytes, every index bounded before ``torch.load(weights_only=True)`` (memory mapped for
files on disk, so one tensor of a 2.5 GB checkpoint costs only that tensor) or safetensors
reads it. The tensors are put into a meta build with the real
``load_state_dict(strict=False, assign=True)``, whose missing/unexpected keys are reported
as torch reports them; dtype, sparse, complex and non-tensor cases follow
:func:`ptexplore.ckpt.fit`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import torch
from torch import nn
from torchvision import models as tvm

from ptexplore.ckpt import (
    PREFIXES,
    WRAPPER_KEYS,
    fit,
    read_checkpoint,
    read_upload,
    split_prefix,
)
from ptexplore.errors import ModelError
from ptexplore.i18n import N_, _
from ptexplore.models import catalog
from ptexplore.text import code_span

__all__ = [
    "WRAPPER_KEYS",
    "LoadReport",
    "WeightsSource",
    "hub_checkpoint_path",
    "hub_filename",
    "load_into_meta",
    "read_state_dict",
    "tensor_from",
]


class WeightsSource(StrEnum):
    """Where a parameter's values come from (the values are stable; marked for the catalog:
    the page shows them translated)."""

    RANDOM = N_("random init")
    HUB = N_("torch hub cache")
    UPLOAD = N_("uploaded file")


@dataclass(frozen=True, slots=True)
class LoadReport:
    source: WeightsSource
    origin: str  # file path or upload name
    wrapper_key: str | None  # e.g. "state_dict" when the file was a checkpoint dict
    stripped_prefix: str | None  # e.g. "module." (saved from DataParallel)
    loaded: tuple[str, ...]
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    mismatched: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...]  # name, model, file
    #: ``missing_keys`` exactly as ``load_state_dict(strict=False)`` returned them (after
    #: the shape mismatches were set aside: those count as missing for torch)
    torch_missing: tuple[str, ...] = ()
    #: what reading and fitting noticed (wrappers, prefixes, casts, skipped values), as
    #: markdown with every key in a code span
    notes: tuple[str, ...] = ()
    #: (name, why) of the model's keys the file holds but that were not loaded
    refused: tuple[tuple[str, str], ...] = ()
    #: the file's format (a :class:`ptexplore.ckpt.CheckpointFormat` value)
    format: str = ""
    #: the file's entries that are not a named tensor (left out before loading)
    skipped: tuple[str, ...] = ()


def hub_checkpoint_path(key: str) -> Path | None:
    """Where torchvision would cache the published weights of ``key``, if that file exists."""
    filename = hub_filename(key)
    if filename is None:
        return None
    path = Path(torch.hub.get_dir()) / "checkpoints" / filename
    return path if path.is_file() else None


def hub_filename(key: str) -> str | None:
    """The file name torchvision gives the published weights in its hub cache."""
    e = catalog.entry(key)
    if e.published_weights is None:
        return None
    member = e.published_weights.split(".", 1)[1]
    return os.path.basename(getattr(tvm.get_model_weights(key), member).url)


def read_state_dict(
    data: bytes | Path,
) -> tuple[dict[str, torch.Tensor], str | None, str | None]:
    """(state_dict, wrapper key, stripped prefix) from a checkpoint: uploaded bytes or a
    file on disk, in any format :mod:`ptexplore.ckpt` reads.

    Only ``weights_only=True`` loading: a file that needs arbitrary pickled code is
    refused. The state_dict is a :class:`ptexplore.ckpt.StateDict`, whose ``notes``
    :func:`load_into_meta` passes on to its report.
    """
    ckpt = read_checkpoint(data) if isinstance(data, Path) else read_upload(data)
    return ckpt.state_dict, ckpt.wrapper_key, ckpt.stripped_prefix


def _matches(state_dict: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> int:
    return sum(1 for k in state_dict if k in expected)


def _prefix_fix(
    key: str,
    state_dict: dict[str, torch.Tensor],
    expected: dict[str, torch.Tensor],
    stripped_prefix: str | None,
) -> tuple[dict[str, torch.Tensor], str | None, str | None]:
    """When no key matches: put back a stripped prefix the model's own keys have (returns
    the state_dict, the prefix still stripped, and a note), or raise a ModelError that
    names the prefix in the way and offers the strip."""
    if stripped_prefix:
        parts = split_prefix(stripped_prefix) or [stripped_prefix]
        for i in range(len(parts) - 1, -1, -1):  # put back the innermost prefixes first
            back = "".join(parts[i:])
            restored = {back + k: v for k, v in state_dict.items()}
            if _matches(restored, expected):
                still = "".join(parts[:i]) or None
                note = _(
                    "kept {prefix} on every key: {key}'s own parameter names start with it"
                ).format(prefix=code_span(back), key=key)
                return restored, still, note
    n = len(state_dict)
    for p, who in PREFIXES.items():
        have = [k for k in state_dict if k.startswith(p)]
        fits = sum(1 for k in have if k.removeprefix(p) in expected)
        if fits:
            strip = f"{{k.removeprefix({p!r}): v for k, v in sd.items()}}"
            raise ModelError(
                _(
                    "None of the file's {n} tensors match {key} as named, but {have} of its "
                    "keys start with {prefix} (added by {who}): without it, {fits} of them "
                    "would match."
                ).format(n=n, key=key, have=len(have), prefix=code_span(p), who=_(who), fits=fits),
                fix=_(
                    "Strip the prefix before saving or loading: {strip}, or save the inner "
                    "model's state_dict()."
                ).format(strip=code_span(strip, limit=120)),
            )
    first = next(iter(state_dict), "(none)")
    theirs = next(iter(expected), "(none)")
    raise ModelError(
        _(
            "None of the file's {n} tensors belong to {key}: its first key is {first}, the "
            "model's is {theirs}."
        ).format(n=n, key=key, first=code_span(first), theirs=code_span(theirs)),
        fix=_("Pick the model this file was saved from."),
    )


def load_into_meta(
    key: str,
    num_classes: int | None,
    state_dict: dict[str, torch.Tensor],
    *,
    source: WeightsSource,
    origin: str,
    wrapper_key: str | None = None,
    stripped_prefix: str | None = None,
) -> tuple[nn.Module, LoadReport]:
    """A meta build with ``state_dict`` assigned in; shape mismatches are set aside and
    reported (torch's load_state_dict would refuse them even with strict=False), dtype,
    sparse, complex and non-tensor values follow :func:`ptexplore.ckpt.fit`."""
    model = catalog.build_meta(key, num_classes).model
    expected = model.state_dict()
    notes = list(getattr(state_dict, "notes", ()))
    sd = dict(state_dict)
    if sd and not _matches(sd, expected):
        sd, stripped_prefix, note = _prefix_fix(key, sd, expected, stripped_prefix)
        if note:
            notes.append(note)
    fitted = fit(expected, sd)
    notes.extend(fitted.notes)
    bad = {m[0] for m in fitted.mismatched} | {r[0] for r in fitted.refused}
    try:
        result = model.load_state_dict(fitted.usable, strict=False, assign=True)
    except RuntimeError as err:  # a case fit() does not know yet: torch's words, inert
        words = next((ln.strip() for ln in str(err).splitlines() if ln.strip()), "")
        raise ModelError(
            _("torch's load_state_dict refused this file's tensors for {key}: {words}").format(
                key=key, words=code_span(words, limit=200)
            ),
            fix=_(
                "Save the weights with torch.save(model.state_dict(), 'weights.pth') from "
                "the same model."
            ),
        ) from err
    loaded = tuple(k for k in fitted.usable if k in expected)
    if not loaded:
        if not sd or not _matches(sd, expected):
            _prefix_fix(key, sd, expected, None)  # raises: nothing belongs to the model
        counts = dict(n=len(sd), key=key, shapes=len(fitted.mismatched))
        raise ModelError(
            _(
                "None of the file's {n} tensors could be loaded into {key}: {shapes} have "
                "other shapes, {refused} were refused ({why})."
            ).format(**counts, refused=len(fitted.refused), why=fitted.refused[0][1])
            if fitted.refused
            else _(
                "None of the file's {n} tensors could be loaded into {key}: {shapes} have "
                "other shapes, 0 were refused."
            ).format(**counts),
            fix=_("Pick the model (and num_classes) this file was saved from."),
        )
    report = LoadReport(
        source=source,
        origin=origin,
        wrapper_key=wrapper_key,
        stripped_prefix=stripped_prefix,
        loaded=loaded,
        missing=tuple(k for k in result.missing_keys if k not in bad),
        unexpected=tuple(result.unexpected_keys),
        mismatched=fitted.mismatched,
        torch_missing=tuple(result.missing_keys),
        notes=tuple(notes),
        refused=fitted.refused,
        format=str(getattr(state_dict, "format", None) or ""),
        skipped=tuple(getattr(state_dict, "skipped", ())),
    )
    return model, report


def tensor_from(model: nn.Module, name: str) -> torch.Tensor | None:
    """The loaded (non-meta) tensor for parameter ``name``, or None if it was not loaded."""
    p = dict(model.named_parameters()).get(name)
    if p is None:
        raise ModelError(
            _("{name} is not a parameter of this model.").format(name=code_span(name)),
            fix=_("Pick a name from the list."),
        )
    return None if p.device.type == "meta" else p.detach()
