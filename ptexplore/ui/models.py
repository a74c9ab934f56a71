"""Streamlit rendering for the model explorer (cached calls into ptexplore.models)."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import streamlit as st
import torch
from streamlit.runtime.uploaded_file_manager import UploadedFile

from ptexplore.errors import LessonError
from ptexplore.models import catalog, iterators, params, plots, shapes, tree, weights
from ptexplore.models.catalog import InputKind, ModelEntry
from ptexplore.models.weights import LoadReport, WeightsSource
from ptexplore.pages import MODELS
from ptexplore.ui.page import persistent, remember, show_error

K = MODELS.key
DEFAULT_MODEL = "example:Model"
MAX_ITEMS_SHOWN = 300


# ---------------------------------------------------------------- cached computations
# Arguments are str/int/tuple only; results are frozen dataclasses.


@st.cache_resource(max_entries=4, show_spinner=False)
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


@st.cache_data(max_entries=64, show_spinner=False)
def cached_tree(key: str, num_classes: int | None, frozen: tuple[str, ...]) -> tree.ModuleNode:
    return tree.build_tree(_model_for(key, num_classes, frozen))


@st.cache_data(max_entries=64, show_spinner=False)
def cached_param_table(
    key: str, num_classes: int | None, frozen: tuple[str, ...]
) -> params.ParamTable:
    return params.param_table(_model_for(key, num_classes, frozen))


@st.cache_data(max_entries=64, show_spinner=False)
def cached_iterator(key: str, num_classes: int | None, kind: str) -> iterators.IteratorView:
    return iterators.iterator_view(shared_meta(key, num_classes), iterators.IteratorKind(kind))


@st.cache_data(max_entries=64, show_spinner=False)
def cached_counts(key: str, num_classes: int | None) -> dict[str, int]:
    model = shared_meta(key, num_classes)
    return {
        "modules()": len(list(model.modules())),
        "children()": len(list(model.children())),
        "named_modules(remove_duplicate=False)": len(
            list(model.named_modules(remove_duplicate=False))
        ),
    }


@st.cache_data(max_entries=32, show_spinner="Tracing a forward pass on meta tensors…")
def cached_trace(
    key: str, num_classes: int | None, side: int | None, batch: int
) -> shapes.ShapeReport:
    return shapes.trace(key, num_classes, side, batch)


@st.cache_data(max_entries=32, show_spinner="Materialising the parameter's real values…")
def cached_values(key: str, num_classes: int | None, name: str, seed: int) -> params.ParamValues:
    return params.param_values(key, num_classes, name, seed=seed)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_explain(key: str, num_classes: int | None, name: str) -> tuple[params.NamePart, ...]:
    return params.explain_name(shared_meta(key, num_classes), name)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_filter(key: str, num_classes: int | None, text: str) -> list[tuple[str, str]]:
    return tree.filter_named_modules(shared_meta(key, num_classes), text)


@st.cache_resource(max_entries=2, show_spinner="Reading the checkpoint…")
def _read_file(path: str, mtime: float) -> tuple[dict[str, torch.Tensor], str | None, str | None]:
    # read-only afterwards: tensors are only ever assigned into private meta builds and read
    return weights.read_state_dict(Path(path))


@st.cache_resource(max_entries=2, show_spinner="Reading the uploaded checkpoint…")
def _read_upload(
    file_id: str, size: int, _data: bytes
) -> tuple[dict[str, torch.Tensor], str | None, str | None]:
    return weights.read_state_dict(_data)


# ---------------------------------------------------------------- sidebar


def _reset_for_model() -> None:
    remember(f"{K}.model")
    for k in (f"{K}.side", f"{K}.freeze", f"{K}.param"):
        st.session_state.pop(k, None)


def model_picker() -> tuple[ModelEntry, int | None]:
    entries = catalog.choices()
    labels = dict(entries)
    key = persistent(f"{K}.model", DEFAULT_MODEL)
    with st.sidebar:
        st.subheader("Model")
        chosen = st.selectbox(
            "Model",
            options=[k for k, _ in entries],
            format_func=lambda k: labels[k],
            key=key,
            on_change=_reset_for_model,
            help="The examples, then every torchvision classification model "
            "(random init: weights are not downloaded).",
        )
        e = catalog.entry(chosen)
        num_classes: int | None = None
        if e.takes_num_classes:
            nc_key = persistent(f"{K}.num_classes", e.default_num_classes or 1000)
            num_classes = int(
                st.number_input(
                    "num_classes",
                    min_value=1,
                    max_value=100_000,
                    step=1,
                    key=nc_key,
                    on_change=remember,
                    args=(nc_key,),
                    help="Size of the final classification layer.",
                )
            )
        else:
            st.caption("This example has a fixed output size.")
        if e.doc:
            st.caption(e.doc)
    return e, num_classes


# ---------------------------------------------------------------- tabs


def _expand_all(depth: int) -> None:
    st.session_state[f"{K}.depth"] = depth


def render_tree(e: ModelEntry, num_classes: int | None, frozen: tuple[str, ...]) -> None:
    root = cached_tree(e.key, num_classes, frozen)
    deepest = tree.max_depth(root) + 1
    total_nodes = tree.count_nodes(root)
    c1, c2, c3, c4 = st.columns([3, 3, 1, 1], vertical_alignment="bottom")
    text = c1.text_input(
        "Filter by name",
        key=f"{K}.filter",
        placeholder="e.g. conv",
        help="Keeps modules whose qualified name contains this text (and their parents).",
    )
    if f"{K}.depth" not in st.session_state:
        st.session_state[f"{K}.depth"] = min(1, deepest)
    st.session_state[f"{K}.depth"] = min(st.session_state[f"{K}.depth"], deepest)
    depth = c2.slider("Expand to depth", 0, deepest, key=f"{K}.depth")
    c3.button("Expand all", key=f"{K}.expand_all", on_click=_expand_all, args=(deepest,))
    c4.button("Collapse all", key=f"{K}.collapse_all", on_click=_expand_all, args=(0,))
    shown = tree.filter_tree(root, text)
    if shown is None:
        st.warning(f"No module name contains {text!r}.")
        return
    matches = sum(1 for n in shown.walk() if n.match)
    caption = f"Showing {tree.count_nodes(shown)} of {total_nodes} modules"
    if text.strip():
        caption += f" · {matches} match {text.strip()!r}"
    caption += " · click a ▸ row to open it"
    st.caption(caption)
    open_depth = deepest + 1 if text.strip() else depth
    st.html(tree.tree_html(shown, open_depth=open_depth, highlight=text.strip()))
    if text.strip():
        hits = cached_filter(e.key, num_classes, text.strip())
        with st.expander(
            f"The classic loop: {len(hits)} modules with {text.strip()!r} in the name"
        ):
            st.code(
                "for name, layer in model.named_modules():\n"
                f"    if {text.strip()!r} in name:\n        print(name, '-', layer)",
                language="python",
            )
            st.dataframe(
                pd.DataFrame(hits, columns=["name", "class"]), hide_index=True, width="stretch"
            )


def render_iterators(e: ModelEntry, num_classes: int | None) -> None:
    counts = cached_counts(e.key, num_classes)
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
        key=f"{K}.iterator",
    )
    view = cached_iterator(e.key, num_classes, kind)
    st.markdown(view.explanation)
    max_lines = st.slider(
        "Lines shown per item", 1, 60, 6, key=f"{K}.iter_lines", help="Long reprs are cut."
    )
    items = view.items[:MAX_ITEMS_SHOWN]
    text = "\n".join(iterators.truncate(it.text, max_lines) for it in items)
    if len(view.items) > MAX_ITEMS_SHOWN:
        text += f"\n… {len(view.items) - MAX_ITEMS_SHOWN} more items"
    st.code(
        iterators.code(view.kind, catalog.constructor_code(e.key, num_classes)), language="python"
    )
    st.code(text, language="text")


def render_parameters(
    e: ModelEntry, num_classes: int | None, frozen: tuple[str, ...], seed: int
) -> str | None:
    """The parameters tab; returns the weights file the values came from, if any."""
    table = cached_param_table(e.key, num_classes, frozen)
    st.dataframe(
        pd.DataFrame(
            {
                "name": [r.name for r in table.rows],
                "shape": [str(list(r.shape)) for r in table.rows],
                "numel": [r.numel for r in table.rows],
                "dtype": [r.dtype for r in table.rows],
                "requires_grad": [r.requires_grad for r in table.rows],
                "share %": [round(100 * r.share, 3) for r in table.rows],
            }
        ),
        hide_index=True,
        width="stretch",
        height=320,
        key=f"{K}.param_table",
    )
    left, right = st.columns([1, 1])
    with left:
        st.plotly_chart(plots.groups_bar(table), key=f"{K}.groups_chart")
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
            return None
        name = st.selectbox("Parameter", names, key=f"{K}.param")
        parts = cached_explain(e.key, num_classes, name)
        st.dataframe(
            pd.DataFrame(
                [(p.part, p.module_class or "Parameter", p.meaning) for p in parts],
                columns=["part", "reaches", "why this name"],
            ),
            hide_index=True,
            width="stretch",
        )
    try:
        v, report = _values(e, num_classes, name, seed, weights_choice(e))
    except LessonError as err:  # a bad file must not take the rest of the page with it
        show_error(err)
        st.caption("Showing the random init instead.")
        v, report = cached_values(e.key, num_classes, name, seed), None
    if report is not None:
        render_load_report(report)
    st.markdown(f"#### Values of `{name}` — shape {list(v.shape)}")
    m = [*st.columns(3), *st.columns(3)]
    m[0].metric("mean", f"{v.mean:.4g}")
    m[1].metric("std", f"{v.std:.4g}")
    m[2].metric("zeros", f"{v.zeros_share:.1%}")
    m[3].metric("min", f"{v.min:.4g}")
    m[4].metric("max", f"{v.max:.4g}")
    m[5].metric("mean |x|", f"{v.abs_mean:.4g}")
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
            f"`{v.owner or '(root)'}`) was materialised, every other weight stayed on meta. The "
            "model's own init code ran on it, so the distribution is the real one, but the "
            "random stream differs from a full build, so individual numbers differ "
            f"({v.seconds * 1000:.0f} ms instead of building every layer)."
        )
    st.plotly_chart(plots.values_histogram(v), key=f"{K}.hist")
    return None if report is None else report.origin


def weights_choice(e: ModelEntry) -> tuple[WeightsSource, Path | None, UploadedFile | None]:
    """The 'Values from' control: random init, the torch hub cache, or an uploaded file."""
    source = WeightsSource(
        st.radio(
            "Values from",
            [s.value for s in WeightsSource],
            horizontal=True,
            key=f"{K}.weights",
            help="Nothing is downloaded: real weights are used only when you have them.",
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
            return WeightsSource.RANDOM, None, None
        return source, path, None
    if source is WeightsSource.UPLOAD:
        up = st.file_uploader(
            "A state_dict saved with torch.save (.pth, .pt)",
            type=["pth", "pt", "bin", "ckpt"],
            key=f"{K}.weights_file",
        )
        if up is None:
            st.caption("No file yet: showing the random init.")
            return WeightsSource.RANDOM, None, None
        return source, None, up
    return source, None, None


def _values(
    e: ModelEntry,
    num_classes: int | None,
    name: str,
    seed: int,
    choice: tuple[WeightsSource, Path | None, UploadedFile | None],
) -> tuple[params.ParamValues, LoadReport | None]:
    source, path, upload = choice
    if source is WeightsSource.RANDOM:
        return cached_values(e.key, num_classes, name, seed), None
    t0 = time.perf_counter()
    if path is not None:
        sd, wrapper, prefix = _read_file(str(path), path.stat().st_mtime)
        origin = str(path)
    else:
        assert upload is not None
        data = upload.getvalue()
        sd, wrapper, prefix = _read_upload(upload.file_id, len(data), data)
        origin = upload.name
    model, report = weights.load_into_meta(
        e.key,
        num_classes,
        sd,
        source=source,
        origin=origin,
        wrapper_key=wrapper,
        stripped_prefix=prefix,
    )
    tensor = weights.tensor_from(model, name)
    if tensor is None:
        st.warning(f"`{name}` was not loaded from the file (see the report): random init shown.")
        return cached_values(e.key, num_classes, name, seed), report
    return (
        params.summarize(name, tensor, seed=seed, source=params.ValuesSource.LOADED, t0=t0),
        report,
    )


def render_load_report(r: LoadReport) -> None:
    st.markdown(f"**`model.load_state_dict(sd, strict=False)`** from `{r.origin}`")
    notes = []
    if r.wrapper_key:
        notes.append(f"the file is a checkpoint dict: its weights are under `{r.wrapper_key!r}`")
    if r.stripped_prefix:
        notes.append(f"every key started with `{r.stripped_prefix}` (saved from DataParallel)")
    if notes:
        st.caption("; ".join(notes) + ".")
    c = st.columns(4)
    c[0].metric("loaded", len(r.loaded))
    c[1].metric("missing keys", len(r.missing))
    c[2].metric("unexpected keys", len(r.unexpected))
    c[3].metric("shape mismatches", len(r.mismatched))
    if r.missing or r.unexpected or r.mismatched:
        with st.expander("Which keys"):
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
                st.markdown(
                    "Missing (keep their random init): "
                    + ", ".join(f"`{k}`" for k in r.missing[:50])
                )
            if r.unexpected:
                st.markdown(
                    "Unexpected (ignored): " + ", ".join(f"`{k}`" for k in r.unexpected[:50])
                )


def side_input(e: ModelEntry) -> tuple[int | None, int]:
    c1, c2 = st.columns(2)
    side: int | None = None
    if e.input_kind is InputKind.IMAGE:
        if f"{K}.side" not in st.session_state:
            st.session_state[f"{K}.side"] = e.default_input[1]
        side = int(
            c1.number_input(
                "Input height = width (pixels)",
                min_value=1,
                max_value=shapes.MAX_SIDE,
                step=1,
                key=f"{K}.side",
                help=f"Default {e.default_input[1]}: the crop size of torchvision's weights.",
            )
        )
    else:
        c1.markdown(f"Input: a batch of vectors of {e.default_input[0]} features.")
    batch = int(c2.number_input("Batch size", 1, shapes.MAX_BATCH, 1, key=f"{K}.batch"))
    return side, batch


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
    leaves = st.toggle("Leaf layers only", value=False, key=f"{K}.leaves")
    rows = [r for r in report.rows if r.is_leaf or not leaves]
    st.dataframe(
        pd.DataFrame(
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
            }
        ),
        hide_index=True,
        width="stretch",
        height=420,
        key=f"{K}.shape_table",
    )
    st.plotly_chart(plots.macs_bar(report), key=f"{K}.macs_chart")
