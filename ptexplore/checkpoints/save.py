"""The Save lesson: ``torch.save`` a catalog model's state_dict (or a checkpoint dict with
the fields a learner fills, and optionally the optimizer's state after one real step), and
the same weights as safetensors; then the real layout of both files, read back from the
bytes the script wrote.

The script keeps both files in memory (``pth``, ``sft``); the page reads them off its
namespace, checks them with the guard and lays them out (:mod:`ptexplore.ckpt.layout`),
and keeps only the layouts: the download buttons run :func:`save_files` again when clicked
(the same seed makes the same tensors).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from enum import StrEnum

from torch import nn

from ptexplore.checkpoints.inspector import check
from ptexplore.checkpoints.lessons import (
    build_step,
    built_here,
    check_model,
    imports,
    tied_names,
    train_step,
)
from ptexplore.ckpt.guard import Source
from ptexplore.ckpt.layout import SafetensorsLayout, ZipLayout
from ptexplore.errors import InputError, Refusal
from ptexplore.i18n import N_, _
from ptexplore.limits import (
    CKPT_LAB_KEYS_PRINTED,
    CKPT_LAB_MAX_EPOCH,
    CKPT_LAB_MAX_STAGE_CHARS,
    CKPT_MAX_FILE_BYTES,
)
from ptexplore.live import Snippet
from ptexplore.live.script import Script
from ptexplore.models import catalog


class SaveWhat(StrEnum):
    STATE_DICT = "state_dict"
    CHECKPOINT = "checkpoint dict"

    @property
    def label(self) -> str:
        """English, marked for the catalog: shown translated, ``_(what.label)``."""
        return {
            SaveWhat.STATE_DICT: "torch.save(model.state_dict(), …)",  # code: the same in Chinese
            SaveWhat.CHECKPOINT: N_("a checkpoint dict: state_dict + epoch, loss, f1, lr, stage"),
        }[self]


STAGES = ("pretrain", "finetune", "best", "last")


@dataclass(frozen=True, slots=True)
class SaveConfig:
    key: str = "example:SmallVGG"
    num_classes: int | None = 10
    what: SaveWhat = SaveWhat.CHECKPOINT
    epoch: int = 3
    loss: float = 0.25
    f1: float = 0.81
    lr: float = 0.01
    stage: str = "finetune"
    #: add the optimizer's state_dict() after one real SGD step
    optimizer: bool = False
    seed: int = 0


@dataclass(frozen=True, slots=True)
class SaveResult:
    config: SaveConfig
    pth_name: str
    st_name: str
    pth: ZipLayout
    safetensors: SafetensorsLayout
    tensors: int  # entries of model.state_dict()
    numel: int
    #: groups of names that are one tensor (tied weights)
    tied: tuple[tuple[str, ...], ...]
    #: safetensors.torch.save refused the tied tensors (the script then used save_model)
    refusal: Refusal | None
    #: what the .safetensors file cannot hold (it holds tensors, and str → str metadata)
    left_out: tuple[str, ...]
    snippet: Snippet


def file_stem(key: str) -> str:
    return key.removeprefix(catalog.EXAMPLE_PREFIX)


def _check(config: SaveConfig) -> None:
    check_model(config.key)
    if not 0 <= config.epoch <= CKPT_LAB_MAX_EPOCH:
        raise InputError(
            _("epoch must be 0 to {most:,}, not {epoch}.").format(
                most=CKPT_LAB_MAX_EPOCH, epoch=config.epoch
            ),
            fix=_("Type the epoch the checkpoint was saved at."),
        )
    for name, value in (("loss", config.loss), ("f1", config.f1), ("lr", config.lr)):
        if not math.isfinite(value) or value < 0:
            raise InputError(
                _("{name} must be a finite number ≥ 0, not {value}.").format(
                    name=name, value=value
                ),
                fix=_("Type the {name} the checkpoint was saved with.").format(name=name),
            )
    if not 0 < len(config.stage) <= CKPT_LAB_MAX_STAGE_CHARS:
        raise InputError(
            _("The stage must have 1 to {most} characters.").format(most=CKPT_LAB_MAX_STAGE_CHARS),
            fix=_("Type a short word: finetune, best, last…"),
        )


def _fields(config: SaveConfig) -> list[tuple[str, object]]:
    return [
        ("epoch", config.epoch),
        ("loss", config.loss),
        ("f1", config.f1),
        ("lr", config.lr),
        ("stage", config.stage),
    ]


def literal(value: object) -> str:
    """``value`` as Python source: a double-quoted string literal (JSON's escaping is
    Python's, so no text a learner types can end it early), or a number's repr."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"no literal for {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return repr(value)


def _checkpoint_code(config: SaveConfig) -> str:
    if config.what is SaveWhat.STATE_DICT:
        return "checkpoint = model.state_dict()  # names → tensors, nothing else\n"
    lines = ['    "state_dict": model.state_dict(),']
    lines += [f"    {literal(k)}: {literal(v)}," for k, v in _fields(config)]
    if config.optimizer:
        lines.append('    "optimizer": optimizer.state_dict(),')
    return "checkpoint = {\n" + "\n".join(lines) + "\n}\n"


def _metadata_code(config: SaveConfig) -> str:
    if config.what is SaveWhat.STATE_DICT:
        return "metadata = None\n"
    body = ", ".join(f"{literal(k)}: {literal(str(v))}" for k, v in _fields(config))
    return f"metadata = {{{body}}}  # safetensors metadata: str → str only\n"


def _run(config: SaveConfig) -> tuple[Script, bytes, bytes]:
    _check(config)
    stem = file_stem(config.key)
    script = Script()
    model_probe = catalog.build_meta(config.key, config.num_classes).model
    tied = bool(tied_names_meta(model_probe))
    std = ["import io", "import json", "import struct", "import zipfile"]
    third = ["from safetensors.torch import save"]
    if tied:
        std += ["import os", "import tempfile"]
        third = ["from safetensors.torch import save, save_model"]
    script.run(imports(config.key, std=tuple(std), third=tuple(third)))
    model = build_step(script, "model", config.key, config.num_classes, config.seed)
    if config.optimizer:
        train_step(script, model, "model", config.key, config.seed)
    n = CKPT_LAB_KEYS_PRINTED + 1
    script.run(
        _checkpoint_code(config) + "buffer = io.BytesIO()\n"
        f'torch.save(checkpoint, buffer)  # as torch.save(checkpoint, "{stem}.pth")\n'
        "pth = buffer.getvalue()\n"
        "with zipfile.ZipFile(buffer) as archive:\n"
        "    entries = archive.infolist()\n"
        "stored = all(e.compress_type == zipfile.ZIP_STORED for e in entries)\n"
        f'print(f"{stem}.pth: {{len(pth):,}} bytes, a zip archive of {{len(entries)}} '
        'entries; all stored uncompressed: {stored}")\n'
        f"for e in entries[:{n}]:\n"
        '    print(f"  {e.filename:<36} {e.file_size:>12,} bytes")\n'
        f"if len(entries) > {n}:\n"
        f'    print(f"  … and {{len(entries) - {n}}} more")\n'
    )
    save_code = _metadata_code(config)
    if tied:
        save_code += (
            "try:\n"
            "    sft = save(model.state_dict(), metadata=metadata)\n"
            "except RuntimeError as err:  # tied weights: one tensor under two names\n"
            "    refused = err\n"
            '    print("safetensors refused:", str(err).strip().split(":")[0])\n'
            "    with tempfile.TemporaryDirectory() as folder:  # save_model writes a file\n"
            f'        file = os.path.join(folder, "{stem}.safetensors")\n'
            "        save_model(model, file, metadata=metadata)  # one name per shared tensor\n"
            '        with open(file, "rb") as f:\n'
            "            sft = f.read()\n"
        )
    else:
        save_code += "sft = save(model.state_dict(), metadata=metadata)\n"
    save_code += (
        'n = struct.unpack("<Q", sft[:8])[0]  # the first 8 bytes: the header length\n'
        "header = json.loads(sft[8 : 8 + n])\n"
        f'print(f"{stem}.safetensors: {{len(sft):,}} bytes = 8 + {{n:,}} (JSON header) '
        '+ {len(sft) - 8 - n:,} (tensor data)")\n'
        "# __metadata__ comes back in no fixed order: sorted to print it the same every run\n"
        'print("__metadata__:", sorted(header.get("__metadata__", {}).items()))\n'
        'for name in [k for k in header if k != "__metadata__"][:3]:\n'
        '    print(f"  {name}: {header[name]}")\n'
    )
    script.run(save_code)
    return script, script["pth"], script["sft"]


def tied_names_meta(model: nn.Module) -> tuple[tuple[str, ...], ...]:
    """Tied names of a meta build: the same Parameter object under two names."""
    groups: dict[int, list[str]] = {}
    for k, v in model.state_dict(keep_vars=True).items():
        groups.setdefault(id(v), []).append(k)
    return tuple(tuple(g) for g in groups.values() if len(g) > 1)


def save_files(config: SaveConfig) -> tuple[bytes, bytes]:
    """The two files the lesson makes (.pth, .safetensors), made again (in the sandbox)."""
    _check(config)
    return built_here(_("saving this model again"), _save_files, config)


def _save_files(config: SaveConfig) -> tuple[bytes, bytes]:
    _x, pth, sft = _run(config)
    return pth, sft


def run_save(config: SaveConfig) -> SaveResult:
    """Build, train one step, save both ways and read both files back — in the sandbox
    (:func:`ptexplore.checkpoints.lessons.built_here`: a real build)."""
    _check(config)
    return built_here(_("building and saving this model"), _run_save, config)


def _run_save(config: SaveConfig) -> SaveResult:
    script, pth, sft = _run(config)
    with Source(pth) as src:
        zl = check(src, declared_cap=CKPT_MAX_FILE_BYTES).layout
    with Source(sft) as src:
        sl = check(src, declared_cap=CKPT_MAX_FILE_BYTES).layout
    assert isinstance(zl, ZipLayout) and isinstance(sl, SafetensorsLayout)
    state = script["model"].state_dict() if "model" in script.namespace else {}
    groups = tied_names(script["model"]) if state else ()
    refusal = None
    err = script.namespace.get("refused")
    if isinstance(err, Exception):
        refusal = Refusal(
            type(err).__name__,
            str(err).strip().split(":")[0],
            _(
                "safetensors.torch.save refuses two names for one tensor (tied weights): "
                "torch.save keeps the sharing, safetensors would store the bytes twice."
            ),
            _(
                "safetensors.torch.save_model(model, path) keeps one name per shared tensor; "
                "load it back with load_model(model, path), which ties them again."
            ),
        )
    left_out = []
    if config.what is SaveWhat.CHECKPOINT:
        left_out.append(_("epoch, loss, f1, lr and stage become strings in `__metadata__`"))
        if config.optimizer:
            left_out.append(_("the optimizer's state_dict (not plain named tensors): not saved"))
    stem = file_stem(config.key)
    return SaveResult(
        config=config,
        pth_name=f"{stem}.pth",
        st_name=f"{stem}.safetensors",
        pth=zl,
        safetensors=sl,
        tensors=len(state),
        numel=sum(v.numel() for v in state.values()),
        tied=groups,
        refusal=refusal,
        left_out=tuple(left_out),
        snippet=script.snippet(),
    )


__all__ = ["STAGES", "SaveConfig", "SaveResult", "SaveWhat", "file_stem", "run_save", "save_files"]
