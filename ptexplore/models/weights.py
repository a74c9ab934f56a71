"""Real weights, when the learner has them: a file in the torch hub cache, or an upload.

Nothing is downloaded. Checkpoints are read with ``torch.load(weights_only=True)`` (memory
mapped for files on disk, so one tensor of a 2.5 GB checkpoint costs only that tensor) and
put into a meta build with the real ``load_state_dict(strict=False, assign=True)``, whose
missing/unexpected keys are reported as torch reports them.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import torch
from torch import nn
from torchvision import models as tvm

from ptexplore.errors import InputError, ModelError
from ptexplore.limits import MAX_UPLOAD_BYTES
from ptexplore.models import catalog

#: keys under which training scripts commonly nest the state_dict in a checkpoint dict
WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net")


class WeightsSource(StrEnum):
    RANDOM = "random init"
    HUB = "torch hub cache"
    UPLOAD = "uploaded file"


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


def _load_reason(err: BaseException) -> str:
    """The cause inside torch.load's error, without its advice to retry with
    weights_only=False (unsafe for a file from a stranger)."""
    text = str(err).strip()
    marker = "WeightsUnpickler error:"
    if marker in text:
        rest = text.split(marker, 1)[1]
        reason = next((ln.strip() for ln in rest.splitlines() if ln.strip()), "")
        return f"{marker} {reason.split('. ')[0].rstrip('.')}"
    return text.splitlines()[0] if text else type(err).__name__


def read_state_dict(
    data: bytes | Path,
) -> tuple[dict[str, torch.Tensor], str | None, str | None]:
    """(state_dict, wrapper key, stripped prefix) from a ``torch.save`` file.

    Only ``weights_only=True`` loading: a file that needs arbitrary pickled code is refused.
    """
    try:
        if isinstance(data, Path):
            obj = torch.load(data, map_location="cpu", weights_only=True, mmap=True)
        else:
            if not data:
                raise InputError(
                    "The uploaded file is empty.",
                    fix="Upload the file torch.save(model.state_dict(), …) wrote.",
                )
            if len(data) > MAX_UPLOAD_BYTES:
                raise InputError(
                    f"The file is {len(data) / 2**20:.0f} MB; uploads are capped at "
                    f"{MAX_UPLOAD_BYTES // 2**20} MB.",
                    fix="Put big checkpoints in the torch hub cache folder instead.",
                )
            obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except InputError:
        raise
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, ValueError) as err:
        raise InputError(
            "This is not a checkpoint torch.load(weights_only=True) can read "
            f"({_load_reason(err)[:200]}).",
            fix="Save weights with torch.save(model.state_dict(), 'weights.pth'). ptexplore "
            "never loads with weights_only=False: that can run code hidden in the file.",
        ) from err
    wrapper = None
    if isinstance(obj, dict):
        for k in WRAPPER_KEYS:
            if k in obj and isinstance(obj[k], dict):
                obj, wrapper = obj[k], k
                break
    if not isinstance(obj, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()
    ):
        raise InputError(
            "The file holds no state_dict (a dict of parameter names to tensors).",
            fix="Save model.state_dict(), or a checkpoint dict with a 'state_dict' entry.",
        )
    prefix = None
    if obj and all(k.startswith("module.") for k in obj):
        obj, prefix = {k.removeprefix("module."): v for k, v in obj.items()}, "module."
    return obj, wrapper, prefix


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
    reported (torch's load_state_dict would refuse them even with strict=False)."""
    model = catalog.build_meta(key, num_classes).model
    expected = model.state_dict()
    mismatched = tuple(
        (k, tuple(expected[k].shape), tuple(v.shape))
        for k, v in state_dict.items()
        if k in expected and tuple(expected[k].shape) != tuple(v.shape)
    )
    bad = {m[0] for m in mismatched}
    usable = {k: v for k, v in state_dict.items() if k not in bad}
    result = model.load_state_dict(usable, strict=False, assign=True)
    loaded = tuple(k for k in usable if k in expected)
    if not loaded:
        raise ModelError(
            f"None of the file's {len(state_dict)} tensors belong to {key}: "
            f"its first key is {next(iter(state_dict), '(none)')!r}, the model's is "
            f"{next(iter(expected), '(none)')!r}.",
            fix="Pick the model this file was saved from.",
        )
    report = LoadReport(
        source=source,
        origin=origin,
        wrapper_key=wrapper_key,
        stripped_prefix=stripped_prefix,
        loaded=loaded,
        missing=tuple(k for k in result.missing_keys if k not in bad),
        unexpected=tuple(result.unexpected_keys),
        mismatched=mismatched,
        torch_missing=tuple(result.missing_keys),
    )
    return model, report


def tensor_from(model: nn.Module, name: str) -> torch.Tensor | None:
    """The loaded (non-meta) tensor for parameter ``name``, or None if it was not loaded."""
    p = dict(model.named_parameters()).get(name)
    if p is None:
        raise ModelError(
            f"{name!r} is not a parameter of this model.", fix="Pick a name from the list."
        )
    return None if p.device.type == "meta" else p.detach()
