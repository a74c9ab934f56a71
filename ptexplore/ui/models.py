"""The model explorer on the skeleton: its own sidebar picker, five lazy tabs (only the open
one computes), and a code tab whose output is the page's own results.

Results are frozen dataclasses, so they are shared between sessions with
:func:`ptexplore.ui.cache.shared` (no copy per rerun, nothing to mutate). Models are only
ever shared read-only (:func:`shared_meta`); freezing, tracing and materialising values use
private builds. An uploaded checkpoint is kept in this session's state, so it survives closing
its tab and switching pages.
"""

from __future__ import annotations

import functools
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st
import torch

from ptexplore import limits
from ptexplore.ckpt import CheckpointFormat
from ptexplore.errors import LessonError
from ptexplore.live import Snippet
from ptexplore.models import catalog, iterators, params, plots, shapes, tree, user, weights, zoo
from ptexplore.models.catalog import InputKind, ModelEntry
from ptexplore.models.code import WeightsLoad, explorer_snippet
from ptexplore.models.weights import LoadReport, WeightsSource
from ptexplore.pages import MODELS
from ptexplore.text import md_escape
from ptexplore.ui.cache import shared
from ptexplore.ui.lab import Tab, run_tabs
from ptexplore.ui.page import seed_input
from ptexplore.ui.render import chart, code_panel, error_boundary, inert, show_error
from ptexplore.ui.state import LinkValue, PageState, link_choice, link_int

K = MODELS.key
STATE = PageState(MODELS)
DEFAULT_MODEL = "example:Model"
MAX_ITEMS_SHOWN = 300
#: Items of an iterator listing shown before "Show all".
FIRST_ITEMS = 20
TREE, ITERATORS, PARAMETERS, SHAPES, CODE = (
    "🌳 Module tree",
    "🔁 modules() vs children()",
    "🔢 Parameters",
    "📐 Shapes & MACs",
    "🐍 Code",
)
#: the kept upload: (name, sha256, bytes) — survives the tab closing and page switches
UPLOAD = "_upload"


# ---------------------------------------------------------------- cached computations
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
def cached_tree(key: str, num_classes: int | None, frozen: tuple[str, ...]) -> tree.ModuleNode:
    return tree.build_tree(_model_for(key, num_classes, frozen))


@shared(64)
def cached_param_table(
    key: str, num_classes: int | None, frozen: tuple[str, ...]
) -> params.ParamTable:
    return params.param_table(_model_for(key, num_classes, frozen))


@shared(64)
def cached_iterator(key: str, num_classes: int | None, kind: str) -> iterators.IteratorView:
    return iterators.iterator_view(shared_meta(key, num_classes), iterators.IteratorKind(kind))


@shared(64)
def cached_counts(key: str, num_classes: int | None) -> tuple[tuple[str, int], ...]:
    model = shared_meta(key, num_classes)
    return (
        ("modules()", len(list(model.modules()))),
        ("children()", len(list(model.children()))),
        (
            "named_modules(remove_duplicate=False)",
            len(list(model.named_modules(remove_duplicate=False))),
        ),
    )


def _big(key: str, num_classes: int | None) -> bool:
    return cached_param_table(key, num_classes, ()).total > limits.REAL_BUILD_MAX_PARAMS


@shared(32, spinner="Tracing a forward pass on meta tensors…")
def cached_trace(
    key: str, num_classes: int | None, side: int | None, batch: int
) -> shapes.ShapeReport:
    if _big(key, num_classes):
        with limits.heavy(f"tracing {key}"):
            return shapes.trace(key, num_classes, side, batch)
    return shapes.trace(key, num_classes, side, batch)


@shared(32, spinner="Materialising the parameter's real values…")
def cached_values(key: str, num_classes: int | None, name: str, seed: int) -> params.ParamValues:
    return params.param_values(key, num_classes, name, seed=seed)


@shared(64)
def cached_explain(key: str, num_classes: int | None, name: str) -> tuple[params.NamePart, ...]:
    return params.explain_name(shared_meta(key, num_classes), name)


@shared(64)
def cached_filter(key: str, num_classes: int | None, text: str) -> tuple[tuple[str, str], ...]:
    return tuple(tree.filter_named_modules(shared_meta(key, num_classes), text))


@shared(64)
def cached_tree_html(
    key: str, num_classes: int | None, frozen: tuple[str, ...], text: str, depth: int
) -> tuple[str, int, int] | None:
    """(HTML, modules shown, matches) of the filtered tree; None when nothing matches."""
    shown = tree.filter_tree(cached_tree(key, num_classes, frozen), text)
    if shown is None:
        return None
    matches = sum(1 for n in shown.walk() if n.match)
    html = tree.tree_html(shown, open_depth=depth, highlight=text)
    return html, tree.count_nodes(shown), matches


@shared(2, spinner="Reading the checkpoint…")
def _read_file(path: str, mtime: float) -> tuple[dict[str, torch.Tensor], str | None, str | None]:
    # read-only afterwards: tensors are only ever assigned into private meta builds and read
    return weights.read_state_dict(Path(path))


@shared(2, spinner="Reading the uploaded checkpoint…")
def _read_upload(
    digest: str, _data: bytes
) -> tuple[dict[str, torch.Tensor], str | None, str | None]:
    return weights.read_state_dict(_data)


# ---------------------------------------------------------------- sidebar


@dataclass(frozen=True, slots=True)
class Choice:
    """The sidebar's choices: which model, its head size, what is frozen, the seed."""

    entry: ModelEntry
    num_classes: int | None
    frozen: tuple[str, ...]
    seed: int


@functools.cache
def _picker_options(models_env: str) -> tuple[tuple[str, ...], LinkValue]:
    """The picker's keys in their groups' order, and its deep-link parser (per value of
    PTEXPLORE_MODELS: a rerun rebuilds neither, even with ~1,400 timm names)."""
    keys = tuple(k for k, _ in catalog.choices())
    return keys, link_choice(keys)


def _timm_status_note(e: ModelEntry) -> None:
    """What bench/timm_zoo.py measured for timm on meta, and this model's failure if any."""
    measured = zoo.status()
    if measured is None:
        return
    failure = measured.failure(e.key.removeprefix(catalog.TIMM_PREFIX))
    if failure is not None:
        st.warning(
            f"Measured on meta, this architecture failed to {failure.stage}: "
            f"{inert(failure.reason, limit=240)}",
            icon="⚠️",
        )
    with st.expander(
        f"timm on meta: {measured.counted:,} of {measured.total:,} count", expanded=False
    ):
        st.caption(
            f"timm {measured.timm_version}, torch {measured.torch_version}: "
            f"{measured.opened:,} open, {measured.traced:,} trace, {measured.counted:,} "
            "count MACs on the meta device (bench/timm_zoo.py)."
        )
        if measured.failures:
            st.dataframe(
                pd.DataFrame(
                    {
                        "architecture": [f.name for f in measured.failures],
                        "fails to": [f.stage for f in measured.failures],
                        "reason": [f.reason for f in measured.failures],
                    }
                ),
                hide_index=True,
                key=STATE.key("timm_failures"),
            )


def model_picker() -> tuple[ModelEntry, int | None]:
    """One searchable selectbox, in groups: your models (PTEXPLORE_MODELS), the examples,
    torchvision, then timm family by family (type to filter: ``resnet``, ``timm``)."""
    keys, link = _picker_options(user.configured())
    labels = catalog.labels()
    with st.sidebar:
        st.subheader("Model")
        chosen = st.selectbox(
            "Model",
            options=keys,
            format_func=lambda k: labels.get(k, k),
            help="Your models (the server's --model / PTEXPLORE_MODELS) first, then the "
            "examples, every torchvision classification model and, when timm is installed, "
            "every timm architecture by family. Type to search. Random init: no weights "
            "are downloaded.",
            **STATE.widget("model", default=DEFAULT_MODEL, url=link),
        )
        e = catalog.entry(chosen)
        num_classes: int | None = None
        if e.takes_num_classes:
            num_classes = int(
                st.number_input(
                    "num_classes",
                    min_value=1,
                    max_value=limits.MAX_NUM_CLASSES,
                    step=1,
                    help="Size of the final classification layer.",
                    **STATE.widget(
                        "num_classes",
                        reset_on=e.key,
                        default=e.default_num_classes or 1000,
                        url=link_int(1, limits.MAX_NUM_CLASSES),
                    ),
                )
            )
        elif e.source is catalog.Source.EXAMPLE:
            st.caption("This example has a fixed output size.")
        else:
            st.caption("This model takes no num_classes argument: its output size is its own.")
        if e.source is catalog.Source.USER:
            st.caption(
                f"Your model, registered when the server started; input "
                f"{inert([1, *e.default_input])} {e.input_dtype} ({e.input_source})."
            )
        if e.doc:
            st.caption(md_escape(e.doc, limit=400) if e.source is catalog.Source.USER else e.doc)
        if e.source is catalog.Source.TIMM:
            _timm_status_note(e)
    return e, num_classes


def sidebar() -> Choice:
    entry, num_classes = model_picker()
    table = cached_param_table(entry.key, num_classes, ())
    top_groups = [g.group for g in table.groups if g.group != "(root)"]
    frozen = tuple(
        st.sidebar.multiselect(
            "Freeze top-level children",
            top_groups,
            help="Calls .requires_grad_(False) on them: watch trainable vs frozen change.",
            **STATE.widget("freeze", reset_on=(entry.key, num_classes), default=[]),
        )
    )
    seed = seed_input(label="Seed (parameter values)")
    return Choice(entry, num_classes, frozen, seed)


# ---------------------------------------------------------------- tabs


def _expand_all(depth: int) -> None:
    st.session_state[STATE.key("depth")] = depth


def render_tree(c: Choice) -> None:
    e, num_classes, frozen = c.entry, c.num_classes, c.frozen
    root = cached_tree(e.key, num_classes, frozen)
    deepest = tree.max_depth(root) + 1
    total_nodes = tree.count_nodes(root)
    c1, c2, c3, c4 = st.columns([3, 3, 1.6, 1.6], vertical_alignment="bottom")
    text = c1.text_input(
        "Filter by name",
        placeholder="e.g. conv",
        help="Keeps modules whose qualified name contains this text (and their parents).",
        **STATE.widget("filter"),
    )
    depth_key = STATE.key("depth")
    if depth_key not in st.session_state:
        st.session_state[depth_key] = min(1, deepest)
    st.session_state[depth_key] = min(st.session_state[depth_key], deepest)
    depth = c2.slider("Expand to depth", 0, deepest, **STATE.widget("depth"))
    c3.button("Expand all", key=STATE.key("expand_all"), on_click=_expand_all, args=(deepest,))
    c4.button("Collapse all", key=STATE.key("collapse_all"), on_click=_expand_all, args=(0,))
    needle = text.strip()
    drawn = cached_tree_html(e.key, num_classes, frozen, needle, deepest + 1 if needle else depth)
    if drawn is None:
        st.warning(f"No module name contains {inert(needle)}.")
        return
    html, shown, matches = drawn
    caption = f"Showing {shown} of {total_nodes} modules"
    if needle:
        caption += f" · {matches} match {inert(repr(needle))}"
    caption += " · click a ▸ row to open it"
    st.caption(caption)
    st.html(html)
    if needle:
        hits = cached_filter(e.key, num_classes, needle)
        with st.expander(f"The classic loop: {len(hits)} modules with {needle!r} in the name"):
            st.code(
                "for name, layer in model.named_modules():\n"
                f"    if {needle!r} in name:\n        print(name, '-', layer)",
                language="python",
            )
            st.dataframe(
                pd.DataFrame(list(hits), columns=["name", "class"]),
                hide_index=True,
                width="stretch",
            )


def render_iterators(c: Choice) -> None:
    e, num_classes = c.entry, c.num_classes
    counts = dict(cached_counts(e.key, num_classes))
    cols = st.columns(3)
    for col, (label, n) in zip(cols, counts.items(), strict=True):
        col.metric(label, f"{n:,} items")
    if counts["named_modules(remove_duplicate=False)"] != counts["modules()"]:
        st.info(
            "This model registers one module object under more than one name: "
            "modules() yields it once, named_modules(remove_duplicate=False) yields every name."
        )
    kind = st.radio(
        "Iterator",
        options=[k.value for k in iterators.IteratorKind],
        horizontal=True,
        **STATE.widget("iterator"),
    )
    view = cached_iterator(e.key, num_classes, kind)
    st.markdown(view.explanation)
    max_lines = st.slider(
        "Lines shown per item", 1, 60, 6, help="Long reprs are cut.", **STATE.widget("iter_lines")
    )
    everything = st.toggle(
        f"Show all {len(view.items):,} items",
        value=False,
        help=f"Off: the first {FIRST_ITEMS} items (a big model's listing is a long wall).",
        disabled=len(view.items) <= FIRST_ITEMS,
        **STATE.widget("iter_all"),
    )
    limit = MAX_ITEMS_SHOWN if everything else FIRST_ITEMS
    items = view.items[:limit]
    text = "\n".join(iterators.truncate(it.text, max_lines) for it in items)
    if len(view.items) > limit:
        text += f"\n… {len(view.items) - limit:,} more items"
    st.code(
        iterators.code(view.kind, catalog.constructor_code(e.key, num_classes)), language="python"
    )
    st.code(text, language="text")


def _default_param(table: params.ParamTable) -> int:
    """The first weight matrix (not ViT's zero-initialised class token, not a bias)."""
    rows = table.rows
    return next(
        (i for i, r in enumerate(rows) if r.name.endswith("weight") and len(r.shape) >= 2),
        next((i for i, r in enumerate(rows) if len(r.shape) >= 2), 0),
    )


def render_parameters(c: Choice) -> None:
    e, num_classes, frozen, seed = c.entry, c.num_classes, c.frozen, c.seed
    table = cached_param_table(e.key, num_classes, frozen)
    st.dataframe(
        _param_frame(e.key, num_classes, frozen),
        hide_index=True,
        width="stretch",
        height=320,
        key=STATE.key("param_table"),
        column_config={"numel": st.column_config.NumberColumn(format="localized")},
    )
    left, right = st.columns([1, 1])
    with left:
        chart(plots.groups_bar(table), key=STATE.key("groups_chart"))
    with right:
        st.markdown(
            "**The naming rule.** A parameter's name is the path of attribute names from the "
            "model down to the module that registered it, joined by dots, then the tensor's "
            "own name: `attribute.index.weight|bias`. Sequential and ModuleList children are "
            "named by position (`0`, `1`, …) unless built from an OrderedDict."
        )
        names = [r.name for r in table.rows]
        if not names:
            st.info("This model has no parameters.")
            return
        name = st.selectbox(
            "Parameter",
            names,
            **STATE.widget(
                "param", reset_on=(e.key, num_classes), default=names[_default_param(table)]
            ),
        )
        parts = cached_explain(e.key, num_classes, name)
        # a static table wraps the long "why" sentences instead of cutting them off
        st.table(
            pd.DataFrame(
                [(p.part, p.module_class or "Parameter", p.meaning) for p in parts],
                columns=["part", "reaches", "why this name"],
            ).set_index("part")
        )
    try:
        v, report = _values(e, num_classes, name, seed, weights_choice(e))
    except LessonError as err:  # a bad file must not take the rest of the page with it
        show_error(err)
        st.caption("Showing the random init instead.")
        v, report = cached_values(e.key, num_classes, name, seed), None
    if report is not None:
        render_load_report(report)
    st.markdown(f"#### Values of {inert(name)} — shape {list(v.shape)}")
    m = [*st.columns(3), *st.columns(3)]
    m[0].metric("mean", f"{v.mean:.4g}")
    m[1].metric("std", f"{v.std:.4g}")
    m[2].metric("zeros", f"{v.zeros_share:.1%}")
    m[3].metric("min", f"{v.min:.4g}")
    m[4].metric("max", f"{v.max:.4g}")
    m[5].metric("mean |x|", f"{v.abs_mean:.4g}")
    if v.note:  # NaN/inf in a diverged run's file, or an empty tensor
        st.warning(v.note, icon="⚠️")
    if v.source is params.ValuesSource.LOADED:
        st.caption(f"Real values read from the checkpoint ({v.seconds * 1000:.0f} ms).")
    elif v.source is params.ValuesSource.FULL_BUILD:
        st.caption(
            f"Random init: real values from a normal build after `torch.manual_seed({v.seed})`"
            f" — the same numbers plain PyTorch gives ({v.seconds * 1000:.0f} ms)."
        )
    else:
        st.caption(
            f"Random init, seed {v.seed}. This model is large, so only this tensor (owned by "
            f"{inert(v.owner or '(root)')}) was materialised, every other weight stayed on "
            "meta. The model's own init code ran on it, so the distribution is the real one, "
            "but the random stream differs from a full build, so individual numbers differ "
            f"({v.seconds * 1000:.0f} ms instead of building every layer)."
        )
    chart(plots.values_histogram(v), key=STATE.key("hist"))


@shared(64)
def _param_frame(key: str, num_classes: int | None, frozen: tuple[str, ...]) -> pd.DataFrame:
    """The named_parameters() table as a frame (built once per model; read-only)."""
    table = cached_param_table(key, num_classes, frozen)
    return pd.DataFrame(
        {
            "name": [r.name for r in table.rows],
            "shape": [str(list(r.shape)) for r in table.rows],
            "numel": [r.numel for r in table.rows],
            "dtype": [r.dtype for r in table.rows],
            "requires_grad": [r.requires_grad for r in table.rows],
            "share %": [round(100 * r.share, 3) for r in table.rows],
        }
    )


@dataclass(frozen=True, slots=True)
class WeightsChoice:
    source: WeightsSource
    path: Path | None  # a file in the torch hub cache
    upload: tuple[str, str, bytes] | None  # (name, sha256, bytes) of the kept upload


def _keep_upload() -> None:
    """on_change of the uploader: keep the file's bytes (or forget them when removed)."""
    up = st.session_state.get(STATE.key("weights_file"))
    if up is None:
        STATE.drop(UPLOAD)
        return
    data = up.getvalue()
    STATE.set(UPLOAD, (up.name, hashlib.sha256(data).hexdigest(), data))


def weights_choice(e: ModelEntry) -> WeightsChoice:
    """The 'Values from' control: random init, the torch hub cache, or an uploaded file."""
    source = WeightsSource(
        st.radio(
            "Values from",
            [s.value for s in WeightsSource],
            horizontal=True,
            help="Nothing is downloaded: real weights are used only when you have them.",
            **STATE.widget("weights"),
        )
    )
    if source is WeightsSource.HUB:
        path = weights.hub_checkpoint_path(e.key)
        if path is None:
            filename = weights.hub_filename(e.key)
            where = Path(torch.hub.get_dir()) / "checkpoints"
            st.info(
                f"No cached weights for {e.label}: torchvision keeps "
                + (f"`{filename}`" if filename else "its weights")
                + f" in `{where}` after `weights='DEFAULT'` downloads them once. Nothing is "
                "downloaded here; showing the random init instead."
            )
            return WeightsChoice(WeightsSource.RANDOM, None, None)
        return WeightsChoice(source, path, None)
    if source is WeightsSource.UPLOAD:
        st.file_uploader(
            "A state_dict: torch.save (.pth, .pt, .bin, Lightning .ckpt) or .safetensors",
            type=["pth", "pt", "bin", "ckpt", "safetensors"],
            help="Read with torch.load(weights_only=True) or safetensors, every size and "
            "count checked first: a file that would run code, or claims more than it holds, "
            "is refused.",
            key=STATE.key("weights_file"),
            on_change=_keep_upload,
        )
        kept: tuple[str, str, bytes] | None = STATE.get(UPLOAD, None)
        if kept is None:
            st.caption("No file yet: showing the random init.")
            return WeightsChoice(WeightsSource.RANDOM, None, None)
        if st.session_state.get(STATE.key("weights_file")) is None:
            st.caption(f"Using {inert(kept[0])}, uploaded earlier in this session.")
        return WeightsChoice(source, None, kept)
    return WeightsChoice(source, None, None)


def _load(
    e: ModelEntry, num_classes: int | None, choice: WeightsChoice
) -> tuple[torch.nn.Module, LoadReport] | None:
    """The meta build with the chosen checkpoint assigned in (None for random init)."""
    if choice.source is WeightsSource.RANDOM:
        return None
    if choice.path is not None:
        sd, wrapper, prefix = _read_file(str(choice.path), choice.path.stat().st_mtime)
        origin = str(choice.path)
    else:
        assert choice.upload is not None
        name, digest, data = choice.upload
        sd, wrapper, prefix = _read_upload(digest, data)
        origin = name
    return weights.load_into_meta(
        e.key,
        num_classes,
        sd,
        source=choice.source,
        origin=origin,
        wrapper_key=wrapper,
        stripped_prefix=prefix,
    )


def _values(
    e: ModelEntry, num_classes: int | None, name: str, seed: int, choice: WeightsChoice
) -> tuple[params.ParamValues, LoadReport | None]:
    t0 = time.perf_counter()
    loaded = _load(e, num_classes, choice)
    if loaded is None:
        return cached_values(e.key, num_classes, name, seed), None
    model, report = loaded
    tensor = weights.tensor_from(model, name)
    if tensor is None:
        st.warning(f"{inert(name)} was not loaded from the file (see the report): random init.")
        return cached_values(e.key, num_classes, name, seed), report
    return (
        params.summarize(name, tensor, seed=seed, source=params.ValuesSource.LOADED, t0=t0),
        report,
    )


def _keys(keys: tuple[str, ...], limit: int = 50) -> str:
    return ", ".join(inert(k) for k in keys[:limit]) + (" …" if len(keys) > limit else "")


def render_load_report(r: LoadReport) -> None:
    st.markdown(f"**`model.load_state_dict(sd, strict=False)`** from {inert(r.origin)}")
    notes = []
    if r.wrapper_key:
        notes.append(f"the file is a checkpoint dict: its weights are under {inert(r.wrapper_key)}")
    # what reading and fitting noticed (prefixes and who adds them, casts, skipped values):
    # markdown built by ptexplore.ckpt with every name from the file in a code span
    notes.extend(r.notes)
    if notes:
        st.caption("\n".join(f"- {n}" for n in notes))
    c = st.columns(4)
    c[0].metric("loaded", len(r.loaded))
    c[1].metric("missing keys", len(r.missing))
    c[2].metric("unexpected keys", len(r.unexpected))
    c[3].metric("shape mismatches", len(r.mismatched))
    if r.missing or r.unexpected or r.mismatched or r.refused:
        with st.expander("Which keys"):
            if r.refused:
                st.markdown(
                    "Not loaded (the file has them, but they cannot go in as they are): "
                    + "; ".join(f"{inert(n)} {md_escape(why)}" for n, why in r.refused[:50])
                )
            if r.mismatched:
                st.markdown("Shape mismatches (set aside; strict=False does not skip these):")
                st.dataframe(
                    pd.DataFrame(
                        [(n, str(list(a)), str(list(b))) for n, a, b in r.mismatched],
                        columns=["name", "model", "file"],
                    ),
                    hide_index=True,
                )
            if r.missing:
                st.markdown("Missing (keep their random init): " + _keys(r.missing))
            if r.unexpected:
                st.markdown("Unexpected (ignored): " + _keys(r.unexpected))


def input_size(e: ModelEntry) -> tuple[int | None, int]:
    """(side, batch) as chosen in the Shapes tab (its defaults when never opened)."""
    side = STATE.get("side", e.default_input[1]) if e.input_kind is InputKind.IMAGE else None
    return (None if side is None else int(side)), int(STATE.get("batch", 1))


def side_input(e: ModelEntry) -> tuple[int | None, int]:
    c1, c2 = st.columns(2)
    side: int | None = None
    if e.input_kind is InputKind.IMAGE:
        side = int(
            c1.number_input(
                "Input height = width (pixels)",
                min_value=1,
                max_value=limits.TRACE_MAX_SIDE,
                step=1,
                help=f"Default {e.default_input[1]}: the crop size of torchvision's weights.",
                **STATE.widget("side", reset_on=e.key, default=e.default_input[1]),
            )
        )
    elif e.input_kind is InputKind.FIXED:
        c1.markdown(
            f"Input: {inert(['batch', *e.default_input])} {inert(e.input_dtype)}"
            + (f" ({md_escape(e.input_source)})" if e.input_source else "")
        )
    else:
        c1.markdown(f"Input: a batch of vectors of {e.default_input[0]} features.")
    batch = int(
        c2.number_input("Batch size", 1, limits.TRACE_MAX_BATCH, 1, **STATE.widget("batch"))
    )
    return side, batch


def render_shapes_tab(c: Choice) -> None:
    side, batch = side_input(c.entry)
    render_shapes(cached_trace(c.entry.key, c.num_classes, side, batch))


def render_shapes(report: shapes.ShapeReport) -> None:
    m = st.columns(4)
    m[0].metric("input", str(list(report.input_shape)))
    m[1].metric("output", report.output_shape)
    m[2].metric("MACs", shapes.human(report.total_macs))
    m[3].metric("FLOPs (2 per MAC)", shapes.human(2 * report.total_macs))
    e = catalog.entry(report.key)
    if report.published_gmacs is not None:
        source = f"`{e.published_weights}`"
        if report.at_published_input:
            ok = round(report.gmacs, 3) == round(report.published_gmacs, 3)
            verdict = "equal ✓" if ok else "differ ✗"
            st.success(
                f"torchvision publishes {report.published_gmacs:.3f} GMACs with {source}; "
                f"counted here: {report.gmacs:.3f} GMACs — {verdict}. "
                "(torchinfo misses matmuls inside attention and functional calls: it reports "
                "0.36 GMACs for vit_l_16 instead of 61.6.)"
            )
        else:
            st.info(
                f"torchvision's published {report.published_gmacs:.3f} GMACs ({source}) is for "
                f"one {e.default_input[1]}×{e.default_input[2]} image; this input differs, so "
                "compare with care."
            )
        if not e.weights_match:
            st.caption(
                "Note: the published weights use a slightly different architecture than this "
                "weights=None build (googlenet's drop the auxiliary classifiers)."
            )
    leaves = st.toggle("Leaf layers only", value=False, **STATE.widget("leaves"))
    st.dataframe(
        _shape_frame(report, bool(leaves)),
        hide_index=True,
        width="stretch",
        height=420,
        key=STATE.key("shape_table"),
        column_config={
            "params (own)": st.column_config.NumberColumn(format="localized"),
            "MACs": st.column_config.NumberColumn(format="localized"),
            "note": st.column_config.TextColumn(width="large"),
        },
    )
    chart(plots.macs_bar(report), key=STATE.key("macs_chart"))


def _shape_frame(report: shapes.ShapeReport, leaves: bool) -> pd.DataFrame:
    rows = [r for r in report.rows if r.is_leaf or not leaves]
    return pd.DataFrame(
        {
            "layer": [
                ("  " * max(r.depth - 1, 0) if not leaves else "")
                + (f"{r.name}: {r.class_name}" if r.depth else r.class_name)
                for r in rows
            ],
            "name": [r.qualname or "(root)" for r in rows],
            "output shape": [r.output_shape for r in rows],
            "params (own)": [r.own_params for r in rows],
            "MACs": [r.macs for r in rows],
            "calls": [r.calls for r in rows],
            "note": [r.note for r in rows],
        }
    )


# ---------------------------------------------------------------- code tab


def code_snippet(c: Choice) -> Snippet:
    """The script for what the page shows, with the lines it prints (from the results)."""
    e = c.entry
    side, batch = input_size(e)
    shape = shapes.input_shape_for(e.key, side, batch)
    table = cached_param_table(e.key, c.num_classes, c.frozen)
    needle = str(STATE.get("filter", "") or "").strip()
    hits = cached_filter(e.key, c.num_classes, needle) if needle else ()
    report: shapes.ShapeReport | None
    try:
        report = cached_trace(e.key, c.num_classes, side, batch)
    except LessonError:
        report = None
    load: WeightsLoad | None = None
    choice = _kept_weights(e)
    if choice is not None:
        try:
            loaded = _load(e, c.num_classes, choice)
        except LessonError:
            loaded = None
        if loaded is not None:
            r = loaded[1]
            load = WeightsLoad(
                r.origin,
                r.wrapper_key,
                r.stripped_prefix,
                bool(r.mismatched),
                r.torch_missing,
                r.unexpected,
                safetensors=r.format == CheckpointFormat.SAFETENSORS,
                skipped=bool(r.skipped),
                refused=tuple(n for n, _ in r.refused),
            )
    return explorer_snippet(
        e.key,
        c.num_classes,
        shape,
        table,
        report,
        frozen=c.frozen,
        name_filter=needle,
        filter_hits=hits,
        weights=load,
    )


def _kept_weights(e: ModelEntry) -> WeightsChoice | None:
    """The weights the Parameters tab uses, read from state (that tab may be closed)."""
    source = WeightsSource(STATE.get("weights", WeightsSource.RANDOM.value))
    if source is WeightsSource.HUB:
        path = weights.hub_checkpoint_path(e.key)
        return None if path is None else WeightsChoice(source, path, None)
    if source is WeightsSource.UPLOAD:
        kept = STATE.get(UPLOAD, None)
        return None if kept is None else WeightsChoice(source, None, kept)
    return None


def render_code_tab(c: Choice) -> None:
    st.markdown(
        "Plain PyTorch for what this page shows: build the model, freeze, the parameter "
        "table, the name filter and the forward pass that counts MACs. The page itself works "
        "on the `meta` device, so it shows what this script prints from its own results (a "
        "test runs the script and compares)."
    )
    code_panel(code_snippet(c), expanded=True)


# ---------------------------------------------------------------- the page


def render_page() -> None:
    c = sidebar()
    e = c.entry
    table = cached_param_table(e.key, c.num_classes, c.frozen)
    root = cached_tree(e.key, c.num_classes, c.frozen)
    st.subheader(f"{e.label} · {e.family}")
    m = st.columns(5)
    m[0].metric("Total parameters", f"{table.total:,}")
    m[1].metric("Trainable", f"{table.trainable:,}")
    m[2].metric("Frozen", f"{table.frozen:,}")
    m[3].metric("Size at fp32", f"{table.mb_fp32:,.1f} MB")
    m[4].metric("Modules", f"{tree.count_nodes(root):,}")
    st.caption(
        "Built on the `meta` device: names, shapes and counts without allocating a single "
        "weight; each tab below computes only when you open it."
    )
    with error_boundary(f"{K}.tabs", c):
        run_tabs(
            MODELS,
            [
                Tab(TREE, lambda: render_tree(c)),
                Tab(ITERATORS, lambda: render_iterators(c)),
                Tab(PARAMETERS, lambda: render_parameters(c)),
                Tab(SHAPES, lambda: render_shapes_tab(c)),
                Tab(CODE, lambda: render_code_tab(c)),
            ],
        )
