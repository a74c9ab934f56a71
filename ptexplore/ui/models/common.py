"""What the Model explorer's tabs share: its state, the sidebar's :class:`Choice`, the
weights the learner picked, and the results every session may read.

Results are frozen dataclasses, shared between sessions with :func:`ptexplore.ui.cache.shared`
(no copy per rerun, nothing to mutate). Models are only ever shared read-only
(:func:`shared_meta`); freezing, tracing and materialising values use private builds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from ptexplore import limits
from ptexplore.ckpt import CheckpointFormat
from ptexplore.i18n import N_, _
from ptexplore.models import catalog, iterators, params, shapes, tree, weights
from ptexplore.models.catalog import InputKind, ModelEntry
from ptexplore.models.code import WeightsLoad
from ptexplore.models.weights import LoadReport, WeightsSource
from ptexplore.pages import MODELS
from ptexplore.ui import uploads
from ptexplore.ui.cache import shared
from ptexplore.ui.state import PageState

STATE = PageState(MODELS)
TREE, ITERATORS, PARAMETERS, SHAPES, FLOW, CODE = (
    N_("🌳 Module tree"),
    N_("🔁 modules() vs children()"),
    N_("🔢 Parameters"),
    N_("📐 Shapes & MACs"),
    N_("🕸️ Data flow"),
    N_("🐍 Code"),
)
#: the kept weights upload — survives the tab closing and page switches
UPLOAD = "_upload"


@dataclass(frozen=True, slots=True)
class Choice:
    """The sidebar's choices: which model, its head size, what is frozen, the seed."""

    entry: ModelEntry
    num_classes: int | None
    frozen: tuple[str, ...]
    seed: int

    @property
    def key(self) -> str:
        return self.entry.key


@dataclass(frozen=True, slots=True)
class Weights:
    """Where the values come from: random init, a file in the torch hub cache, an upload
    (compared by name and digest, never by its bytes)."""

    source: WeightsSource
    path: str | None = None
    mtime: float = 0.0
    name: str = ""
    digest: str = ""
    data: bytes = field(default=b"", compare=False, hash=False, repr=False)


RANDOM = Weights(WeightsSource.RANDOM)


# ---------------------------------------------------------------- shared results
# Arguments are str/int/tuple only; results are frozen dataclasses shared read-only.


@shared(4)
def shared_meta(key: str, num_classes: int | None) -> torch.nn.Module:
    """One meta build per model, shared by all sessions for READ-ONLY walks (tree,
    iterators, counts, name filter, naming rule). Nothing may mutate it: freezing, tracing
    (hooks, eval()) and materialising values always use private builds."""
    return catalog.build_meta(key, num_classes).model


def _model_for(key: str, num_classes: int | None, frozen: tuple[str, ...]) -> torch.nn.Module:
    if not frozen:
        return shared_meta(key, num_classes)
    model = catalog.build_meta(key, num_classes).model  # private: freezing mutates it
    params.freeze(model, frozen)
    return model


@shared(64)
def module_tree(key: str, num_classes: int | None, frozen: tuple[str, ...]) -> tree.ModuleNode:
    return tree.build_tree(_model_for(key, num_classes, frozen))


@shared(64)
def param_table(key: str, num_classes: int | None, frozen: tuple[str, ...]) -> params.ParamTable:
    return params.param_table(_model_for(key, num_classes, frozen))


@shared(64)
def iterator(key: str, num_classes: int | None, kind: str) -> iterators.IteratorView:
    return iterators.iterator_view(shared_meta(key, num_classes), iterators.IteratorKind(kind))


@shared(64)
def counts(key: str, num_classes: int | None) -> tuple[tuple[str, int], ...]:
    model = shared_meta(key, num_classes)
    return (
        ("modules()", len(list(model.modules()))),
        ("children()", len(list(model.children()))),
        (
            "named_modules(remove_duplicate=False)",
            len(list(model.named_modules(remove_duplicate=False))),
        ),
    )


@shared(32, spinner=N_("Tracing a forward pass on meta tensors…"))
def trace(key: str, num_classes: int | None, side: int | None, batch: int) -> shapes.ShapeReport:
    if param_table(key, num_classes, ()).total > limits.REAL_BUILD_MAX_PARAMS:
        with limits.heavy(_("tracing {key}").format(key=key)):
            return shapes.trace(key, num_classes, side, batch)
    return shapes.trace(key, num_classes, side, batch)


@shared(32, spinner=N_("Materialising the parameter's real values…"))
def random_values(key: str, num_classes: int | None, name: str, seed: int) -> params.ParamValues:
    return params.sandboxed_param_values(key, num_classes, name, seed=seed)


@shared(64)
def explain(key: str, num_classes: int | None, name: str) -> tuple[params.NamePart, ...]:
    return params.explain_name(shared_meta(key, num_classes), name)


@shared(64)
def name_hits(key: str, num_classes: int | None, text: str) -> tuple[tuple[str, str], ...]:
    return tuple(tree.filter_named_modules(shared_meta(key, num_classes), text))


@shared(2, spinner=N_("Reading the checkpoint…"))
def _read_file(path: str, mtime: float) -> tuple[dict[str, torch.Tensor], str | None, str | None]:
    # read-only afterwards: tensors are only ever assigned into private meta builds and read
    return weights.read_state_dict(Path(path))


@shared(2, spinner=N_("Reading the uploaded checkpoint…"))
def _read_upload(
    digest: str, _data: bytes
) -> tuple[dict[str, torch.Tensor], str | None, str | None]:
    return weights.read_state_dict(_data)


# ---------------------------------------------------------------- weights


def hub_weights(key: str) -> Weights | None:
    """The torch hub cache's file for ``key``, when the learner has it."""
    path = weights.hub_checkpoint_path(key)
    return None if path is None else Weights(WeightsSource.HUB, str(path), path.stat().st_mtime)


def uploaded_weights() -> Weights | None:
    """The kept upload, when there is one."""
    files = uploads.kept(STATE, UPLOAD)
    if not files:
        return None
    f = files[0]
    return Weights(WeightsSource.UPLOAD, name=f.name, digest=f.sha256, data=f.data)


def picked_weights(key: str) -> Weights:
    """The weights the Parameters tab uses, read from state (that tab may be closed)."""
    source = WeightsSource(STATE.get("weights", WeightsSource.RANDOM.value))
    picked = (
        hub_weights(key)
        if source is WeightsSource.HUB
        else uploaded_weights()
        if source is WeightsSource.UPLOAD
        else None
    )
    return picked or RANDOM


def load(
    key: str, num_classes: int | None, w: Weights
) -> tuple[torch.nn.Module, LoadReport] | None:
    """The private meta build with the chosen checkpoint assigned in (None: random init)."""
    if w.source is WeightsSource.RANDOM:
        return None
    if w.path is not None:
        sd, wrapper, prefix = _read_file(w.path, w.mtime)
        origin = w.path
    else:
        sd, wrapper, prefix = _read_upload(w.digest, w.data)
        origin = w.name
    return weights.load_into_meta(
        key,
        num_classes,
        sd,
        source=w.source,
        origin=origin,
        wrapper_key=wrapper,
        stripped_prefix=prefix,
    )


def code_load(r: LoadReport) -> WeightsLoad:
    """What the code panel needs to reproduce a load."""
    return WeightsLoad(
        r.origin,
        r.wrapper_key,
        r.stripped_prefix,
        bool(r.mismatched),
        r.torch_missing,
        r.unexpected,
        safetensors=r.format == CheckpointFormat.SAFETENSORS,
        skipped=bool(r.skipped),
        refused=tuple(n for n, _x in r.refused),
    )


# ---------------------------------------------------------------- input size


def input_size(e: ModelEntry) -> tuple[int | None, int]:
    """(side, batch) as chosen in the Shapes tab (its defaults when never opened)."""
    side = STATE.get("side", e.default_input[1]) if e.input_kind is InputKind.IMAGE else None
    return (None if side is None else int(side)), int(STATE.get("batch", 1))
