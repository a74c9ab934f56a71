"""What the Checkpoint lab's scripts share: the models it builds, the checkpoints it makes,
and the files a learner brings.

Code shown = code run: every lesson is a script run step by step
(:class:`ptexplore.live.script.Script`) and its code panel is that script. Three kinds
of checkpoint feed the scripts:

* **made here** — a catalog model (small ones only: :data:`LAB_MODELS`), built private and
  seeded, after one real SGD step (so every tensor, BatchNorm buffers included, differs
  from a fresh init), saved into an ``io.BytesIO`` in one of the ways real code saves
  (:class:`SavedAs`). The script itself makes the file, so it runs anywhere;
* **an upload** — checked by the guard first, then written to a temporary file for the run;
  the script names it ``path = "<name>"`` (the page supplies its temporary copy: put the
  same file in the working folder and the script prints the same);
* **a torch hub cache file** — the script finds it with ``torch.hub.get_dir()``.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar, cast

import torch
from torch import nn

from ptexplore import isolate
from ptexplore.ckpt.formats import CheckpointFormat
from ptexplore.errors import ModelError
from ptexplore.i18n import N_, _
from ptexplore.limits import SANDBOX_BUILD_MEMORY_MB
from ptexplore.live.script import Script, Step
from ptexplore.live.source import merge_imports
from ptexplore.models import InputKind, catalog, has_dropout
from ptexplore.text import code_span

#: The models the lab builds for real (each ≤ 12 M parameters, far below
#: REAL_BUILD_MAX_PARAMS: a lesson builds two of them and clones one).
LAB_MODELS: tuple[str, ...] = (
    "resnet18",
    "mobilenet_v3_small",
    "squeezenet1_0",
    "example:Model",
    "example:Net",
    "example:SmallVGG",
    "example:SharedLayerNet",
)
DEFAULT_MODEL = "resnet18"
#: the side of the random images of the one training step (torchvision models)
STEP_SIDE = 32
STEP_BATCH = 2
STEP_LR = 0.1
STEP_MOMENTUM = 0.9


def lab_models() -> tuple[str, ...]:
    """:data:`LAB_MODELS` that the catalog offers (its list may change)."""
    keys = {k for k, _x in catalog.choices()}
    return tuple(k for k in LAB_MODELS if k in keys)


def check_model(key: str) -> None:
    if key not in lab_models():
        raise ModelError(
            _("The Checkpoint lab does not build {model}.").format(model=code_span(key)),
            fix=_("Pick one of {models}: small models keep every lesson fast.").format(
                models=", ".join(lab_models())
            ),
        )


class Origin(StrEnum):
    """Where a lesson's checkpoint comes from (the values are English, marked for the
    catalog: shown translated, ``_(origin.value)``)."""

    MADE = N_("made here")
    UPLOAD = N_("uploaded file")
    HUB = N_("torch hub cache")


class SavedAs(StrEnum):
    """How a made-here checkpoint is saved: the ways real training code saves."""

    STATE_DICT = "state_dict"
    CHECKPOINT = "checkpoint dict"
    DATAPARALLEL = "DataParallel"
    LIGHTNING = "Lightning"
    COMPILED = "torch.compile"
    FP16 = "float16"
    BF16 = "bfloat16"
    SAFETENSORS = "safetensors"
    LEGACY = "legacy"

    @property
    def label(self) -> str:
        """English, marked for the catalog: shown translated, ``_(saved_as.label)``."""
        return {
            SavedAs.STATE_DICT: "torch.save(model.state_dict())",  # code: the same in Chinese
            SavedAs.CHECKPOINT: N_("a checkpoint dict (+ epoch, loss, optimizer)"),
            SavedAs.DATAPARALLEL: N_("from nn.DataParallel (keys start module.)"),
            SavedAs.LIGHTNING: N_("a Lightning .ckpt (state_dict with model. keys)"),
            SavedAs.COMPILED: N_("from torch.compile (keys start _orig_mod.)"),
            SavedAs.FP16: N_("in float16 (model.half())"),
            SavedAs.BF16: N_("in bfloat16"),
            SavedAs.SAFETENSORS: N_("as safetensors"),
            SavedAs.LEGACY: N_("legacy format (_use_new_zipfile_serialization=False)"),
        }[self]

    @property
    def wrapper(self) -> str | None:
        return "state_dict" if self in (SavedAs.CHECKPOINT, SavedAs.LIGHTNING) else None

    @property
    def prefix(self) -> str | None:
        return {
            SavedAs.DATAPARALLEL: "module.",
            SavedAs.LIGHTNING: "model.",
            SavedAs.COMPILED: "_orig_mod.",
        }.get(self)


@dataclass(frozen=True, slots=True)
class Made:
    """A checkpoint the script makes: ``key`` with ``num_classes``, seeded, saved as."""

    key: str = DEFAULT_MODEL
    num_classes: int | None = 1000
    saved_as: SavedAs = SavedAs.STATE_DICT
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Upload:
    """A file the learner uploaded (compared by name and digest, never by its bytes)."""

    name: str
    digest: str
    data: bytes = field(compare=False, hash=False, repr=False)


#: an uploaded name the scripts may use as it is (anything else becomes checkpoint.pth)
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")
_TORCH_SUFFIXES = (".pth", ".pt", ".ckpt", ".bin", ".tar")


def script_name(name: str, fmt: CheckpointFormat) -> str:
    """The file name a script uses for an upload: its own name when that is plain and its
    suffix fits the format told by the bytes, else ``checkpoint.pth`` /
    ``checkpoint.safetensors`` (torch.load picks safetensors by a path's suffix)."""
    st = fmt is CheckpointFormat.SAFETENSORS
    fits = name.endswith(".safetensors") if st else name.endswith(_TORCH_SUFFIXES)
    if _PLAIN_NAME.fullmatch(name) and fits:
        return name
    return "checkpoint.safetensors" if st else "checkpoint.pth"


@contextmanager
def temporary_copy(name: str, data: bytes) -> Iterator[Path]:
    """``data`` as a file called ``name`` in a fresh temporary folder, for one run."""
    with tempfile.TemporaryDirectory(prefix="ptexplore-ckpt-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        yield path


def on_upload(what: str, run: Callable[[C], R], config: C) -> R:
    """``run(config)`` — a lesson on the learner's uploaded file — in the sandbox
    (:mod:`ptexplore.isolate`): the file is checked, loaded, inspected and put into a model
    in a process of its own, so a reader that crashes or blows up costs this learner a
    lesson and nobody else anything. The result comes back as plain data, without a copy of
    the upload (the caller's config is put back in it)."""
    result: Any = isolate.job(what, _LESSON_LIMITS).call(_upload_lesson, run, config)
    return cast(R, dataclasses.replace(result, config=config))


def _upload_lesson(run: Callable[[C], R], config: C) -> R:
    """In the sandbox: run the lesson, and send its result back with a config whose upload
    holds no bytes (the caller has them)."""
    result: Any = run(config)
    given: Any = config
    light = dataclasses.replace(given, upload=dataclasses.replace(given.upload, data=b""))
    return cast(R, dataclasses.replace(result, config=light))


def built_here(what: str, run: Callable[[C], R], config: C, *, reuse: bool = True) -> R:
    """``run(config)`` — a lesson on a model built here (its own constructor and init code,
    a real build, a save and a load) — in the sandbox, with the memory of a real build;
    ``reuse=False`` for a lesson that reads a file from disk (the hub cache)."""
    # the hub cache as this process sees it now (TORCH_HOME may have changed since the
    # sandbox's helper started): a lesson on a file there reads the same file
    job = isolate.job(what, _BUILD_LIMITS, reuse=reuse)
    return job.call(_with_hub, torch.hub.get_dir(), run, config)


def _with_hub(hub_dir: str, run: Callable[[C], R], config: C) -> R:
    torch.hub.set_dir(hub_dir)  # (the job's own process: changes nothing outside it)
    return run(config)


_LESSON_LIMITS = isolate.Limits()
_BUILD_LIMITS = isolate.Limits(memory_mb=SANDBOX_BUILD_MEMORY_MB)
C = TypeVar("C")
R = TypeVar("R")


# --------------------------------------------------------------------------- models


def step_input(key: str) -> tuple[int, ...]:
    """The random batch of the one training step."""
    e = catalog.entry(key)
    if e.input_kind is InputKind.IMAGE:
        side = e.default_input[1] if key.startswith(catalog.EXAMPLE_PREFIX) else STEP_SIDE
        return (STEP_BATCH, e.default_input[0], side, side)
    return (STEP_BATCH, *e.default_input)


def tied_names(model: nn.Module) -> tuple[tuple[str, ...], ...]:
    """Groups of state_dict names that are one tensor (a module registered twice)."""
    groups: dict[tuple[int, tuple[int, ...], tuple[int, ...]], list[str]] = {}
    for k, v in model.state_dict(keep_vars=True).items():
        if v.numel() == 0 or v.device.type == "meta":
            continue
        groups.setdefault((v.data_ptr(), tuple(v.shape), tuple(v.stride())), []).append(k)
    return tuple(tuple(g) for g in groups.values() if len(g) > 1)


def build_step(
    script: Script, name: str, key: str, num_classes: int | None, seed: int
) -> nn.Module:
    """``name = <constructor>`` after ``torch.manual_seed(seed)``: shown as that, made by
    ``catalog.build_real`` (the same constructor under the same seed, under the RNG lock)."""
    expr = catalog.constructor_code(key, num_classes).expr
    model = catalog.build_real(key, num_classes, seed=seed)
    script.provide(
        f"torch.manual_seed({seed})  # the random init draws from torch's global RNG\n"
        f"{name} = {expr}\n",
        **{name: model},
    )
    return model


def imports(*keys: str, std: tuple[str, ...] = (), third: tuple[str, ...] = ()) -> str:
    """The import block (the standard library's, then torch, safetensors and the
    models'), then the class of any built-in example model (pasted: no ptexplore at home)."""
    builds = [catalog.constructor_code(k) for k in keys]
    block = merge_imports([*std, "import torch", *third, *(i for b in builds for i in b.imports)])
    defined = list(dict.fromkeys(b.defined for b in builds if b.defined))
    return block + "".join(f"\n\n{d}" for d in defined)


def train_step(script: Script, model: nn.Module, name: str, key: str, seed: int) -> None:
    """One real SGD step on a random batch: every parameter moves, and a forward in
    train() mode moves BatchNorm's running statistics and ``num_batches_tracked``."""
    shape = ", ".join(map(str, step_input(key)))
    script.run(
        f"optimizer = torch.optim.SGD({name}.parameters(), lr={STEP_LR}, "
        f"momentum={STEP_MOMENTUM})\n"
        f"g = torch.Generator().manual_seed({seed})\n"
        f"x = torch.randn({shape}, generator=g)\n"
        f"{name}.train()\n"
    )
    script.run(
        Step(
            f"loss = {name}(x).square().mean()  # a stand-in loss: one real training step\n"
            "loss.backward()\n"
            "optimizer.step()\n",
            seed=seed if has_dropout(model) else None,
            why="Dropout draws its masks from torch's global RNG",
        )
    )


def state_code(made: Made, *, tied: bool) -> str:
    """The code that leaves the object to save in ``state`` (from ``source``)."""
    sd = "source.state_dict()"
    return {
        SavedAs.STATE_DICT: f"state = {sd}\n",
        SavedAs.LEGACY: f"state = {sd}\n",
        SavedAs.CHECKPOINT: (
            "state = {\n"
            f'    "state_dict": {sd},\n'
            '    "epoch": 5,\n'
            '    "loss": 0.42,\n'
            '    "optimizer": optimizer.state_dict(),\n'
            "}\n"
        ),
        SavedAs.DATAPARALLEL: (
            "state = torch.nn.DataParallel(source).state_dict()  # every key gets module.\n"
        ),
        SavedAs.LIGHTNING: (
            "# the layout of a PyTorch Lightning .ckpt whose LightningModule keeps the net\n"
            "# as self.model: its state_dict keys start with model.\n"
            "state = {\n"
            '    "epoch": 5,\n'
            '    "global_step": 100,\n'
            '    "pytorch-lightning_version": "2.4.0",\n'
            f'    "state_dict": {{f"model.{{k}}": v for k, v in {sd}.items()}},\n'
            '    "optimizer_states": [optimizer.state_dict()],\n'
            "}\n"
        ),
        SavedAs.COMPILED: (
            "# torch.compile(source).state_dict() names every key _orig_mod.<name>\n"
            f'state = {{f"_orig_mod.{{k}}": v for k, v in {sd}.items()}}\n'
        ),
        SavedAs.FP16: (
            f"state = {{k: v.half() if v.is_floating_point() else v for k, v in {sd}.items()}}\n"
        ),
        SavedAs.BF16: (
            "state = {k: v.bfloat16() if v.is_floating_point() else v "
            f"for k, v in {sd}.items()}}\n"
        ),
        SavedAs.SAFETENSORS: (
            (
                "# safetensors refuses tensors that share memory (tied weights): save copies\n"
                f"state = {{k: v.clone() for k, v in {sd}.items()}}\n"
            )
            if tied
            else f"state = {sd}\n"
        ),
    }[made.saved_as]


def made_imports(made: Made) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(standard library, third-party) imports :func:`made_steps` needs."""
    st = made.saved_as is SavedAs.SAFETENSORS
    return ("import io",), ("from safetensors.torch import save",) if st else ()


def made_steps(script: Script, made: Made) -> nn.Module:
    """Run the steps that make the checkpoint (after :func:`made_imports`' imports):
    ``buffer`` (an ``io.BytesIO`` at 0) then holds the file. Returns the source model."""
    check_model(made.key)
    st = made.saved_as is SavedAs.SAFETENSORS
    source = build_step(script, "source", made.key, made.num_classes, made.seed)
    train_step(script, source, "source", made.key, made.seed)
    code = state_code(made, tied=bool(tied_names(source)))
    if st:
        code += "buffer = io.BytesIO(save(state))  # what save_file(state, path) writes\n"
    else:
        legacy = ", _use_new_zipfile_serialization=False" if made.saved_as is SavedAs.LEGACY else ""
        code += (
            "buffer = io.BytesIO()\n"
            f"torch.save(state, buffer{legacy})  # the bytes torch.save(state, path) writes\n"
            "buffer.seek(0)\n"
        )
    script.run(code)
    return source


def hub_path_code(filename: str) -> str:
    return (
        f'path = os.path.join(torch.hub.get_dir(), "checkpoints", {filename!r})'
        "  # the torch hub cache\n"
    )


__all__ = [
    "DEFAULT_MODEL",
    "LAB_MODELS",
    "Made",
    "Origin",
    "SavedAs",
    "Upload",
    "build_step",
    "built_here",
    "check_model",
    "hub_path_code",
    "imports",
    "lab_models",
    "made_imports",
    "made_steps",
    "on_upload",
    "script_name",
    "state_code",
    "step_input",
    "temporary_copy",
    "tied_names",
    "train_step",
]
