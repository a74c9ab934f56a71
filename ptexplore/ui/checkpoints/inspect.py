"""🔍 Inspect — a made-here file, an upload or a torch hub cache file, inspected without
reading its tensor data: format, structure, every tensor, counts per dtype, the layout."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from ptexplore import limits
from ptexplore.checkpoints import tables
from ptexplore.checkpoints.inspector import hub_files
from ptexplore.checkpoints.lessons import Made, Origin, SavedAs
from ptexplore.checkpoints.survey import InspectConfig, InspectResult, run_inspect
from ptexplore.ckpt.layout import LegacyLayout, SafetensorsLayout, ZipLayout
from ptexplore.ui.checkpoints.common import (
    INSPECT_TAB,
    STATE,
    classes_input,
    heavy_label,
    hub_help,
    mb,
    model_picker,
    no_file,
    origin_radio,
    render_safetensors,
    render_zip,
    saved_as_picker,
    upload_widget,
)
from ptexplore.ui.lab import Section
from ptexplore.ui.page import seed_input
from ptexplore.ui.render import inert

NO_FILE = "Pick a file above to inspect it."


def inspect_controls(_shared: object) -> InspectConfig:
    c1, c2 = st.columns([1, 1.4], gap="large")
    with c1:
        origin = origin_radio("source")
    made = Made(saved_as=SavedAs.CHECKPOINT)
    upload = None
    hub = None
    with c2:
        if origin is Origin.MADE:
            a, b = st.columns(2)
            with a:
                key = model_picker("inspect_model")
                classes = classes_input("inspect_classes", key, 1000)
            with b:
                saved_as = saved_as_picker("saved_as", SavedAs.CHECKPOINT)
            made = Made(key, classes, saved_as, 0)
        elif origin is Origin.UPLOAD:
            upload = upload_widget("file")
        else:
            names = hub_files()
            if not names:
                hub_help()
            else:
                hub = str(st.selectbox("file in the torch hub cache", names, **STATE.widget("hub")))
    if origin is Origin.MADE:
        made = Made(made.key, made.num_classes, made.saved_as, seed_input())
    return InspectConfig(origin, made, upload, hub)


def _inspect_job(config: InspectConfig) -> str | None:
    if config.origin is Origin.MADE:  # a file is read by its index: cheap
        return heavy_label(config.made.key, "building and saving")
    return None


def verdict(r: InspectResult) -> None:
    if r.refused is not None:
        f = r.refused
        if f.unsafe:
            st.error(f"🚫 {f.message}\n\n**Fix:** {f.fix}", icon="🛡️")
            st.markdown("**The globals its pickle wants to import** (none was imported):")
            st.code("\n".join(f.wanted) or "(not named)", language="text")
            if f.reason:
                st.caption("torch's weights-only unpickler said:")
                st.code(f.reason, language="text", wrap_lines=True)
        else:
            st.error(f"{f.message}\n\n**Fix:** {f.fix}", icon="🚫")
        return
    i = r.inspection
    assert i is not None
    where = (
        "no state_dict inside"
        if i.state_dict_at is None
        else "the state_dict is the file's top level"
        if i.state_dict_at == ""
        else f"the state_dict is under {inert(i.state_dict_at)}"
    )
    st.success(
        f"✅ **{i.format.value}** (told by its bytes) · {mb(i.size)} · "
        f"{len(i.tensors):,} tensors · {where}.",
        icon="🔍",
    )


@dataclass(frozen=True, slots=True)
class InspectViews:
    """The inspection's tables, built once per result."""

    structure: pd.DataFrame
    tensors: pd.DataFrame
    by_dtype: pd.DataFrame
    metadata: pd.DataFrame
    layout: pd.DataFrame | None


def inspect_views(_config: InspectConfig, r: InspectResult) -> InspectViews | None:
    i = r.inspection
    if i is None:
        return None
    layout = i.layout
    table = (
        tables.zip_entries(layout)
        if isinstance(layout, ZipLayout)
        else tables.safetensors_header(layout)
        if isinstance(layout, SafetensorsLayout)
        else tables.legacy_parts(layout)
        if isinstance(layout, LegacyLayout)
        else None
    )
    return InspectViews(
        tables.structure(i), tables.tensors(i), tables.by_dtype(i), tables.metadata(i), table
    )


def inspect_render(_config: InspectConfig, r: InspectResult, views: InspectViews | None) -> None:
    verdict(r)
    i = r.inspection
    if i is None or views is None:
        return
    m = st.columns(5)
    m[0].metric("state_dict tensors", f"{len(i.weights):,}")
    m[1].metric("values", f"{i.numel:,}")
    m[2].metric("weights' bytes", mb(i.nbytes))
    m[3].metric("all tensors in the file", f"{len(i.tensors):,}", delta=mb(i.all_bytes),
                delta_color="off", delta_arrow="off")  # fmt: skip
    m[4].metric("read in", f"{r.seconds * 1000:.0f} ms")
    st.caption(
        f"{inert(r.origin, limit=120)}: "
        + (
            "only the 8-byte length and the JSON header were read, never the tensor data."
            if isinstance(i.layout, SafetensorsLayout)
            else 'loaded with torch.load(weights_only=True, map_location="meta") inside '
            "torch.serialization.skip_data(): shapes and dtypes, no tensor bytes read."
        )
    )
    notes: list[str] = []
    if i.prefix:
        notes.append(
            f"every state_dict key starts with {inert(i.prefix)}: a wrapper's prefix "
            "(strip it before loading: the Load tab shows how)"
        )
    if i.lightning:
        notes.append("a PyTorch Lightning checkpoint (its weights under `state_dict`)")
    if any(t.same_as for t in i.tensors):
        tied = [t for t in i.tensors if t.same_as]
        notes.append(
            f"{len(tied)} tensors are saved once under two names (tied weights), e.g. "
            f"{inert(tied[0].path)} = {inert(tied[0].same_as)}"
        )
    notes.extend(i.notes)
    if notes:
        st.caption("\n".join(f"- {n}" for n in notes))
    left, right = st.columns([1, 1.6], gap="large")
    with left:
        st.markdown("**Per dtype** (the state_dict)")
        st.dataframe(views.by_dtype, hide_index=True)
        st.markdown("**Top-level structure**")
        st.dataframe(
            views.structure,
            hide_index=True,
            height=280,
            column_order=["path", "type", "holds", "value"],
        )
        if i.rows_cut:
            st.caption(f"The first {limits.CKPT_LAB_MAX_ROWS} rows.")
        if i.metadata:
            st.markdown("**safetensors `__metadata__`** (strings only)")
            st.dataframe(views.metadata, hide_index=True)
    with right:
        st.markdown("**Every tensor**: name, shape, dtype, bytes, where its bytes are")
        st.dataframe(views.tensors, hide_index=True, height=420)
    with st.expander("The file's layout, byte by byte"):
        layout, table = i.layout, views.layout
        if table is None:
            return
        if isinstance(layout, ZipLayout):
            render_zip(layout, table)
        elif isinstance(layout, SafetensorsLayout):
            render_safetensors(layout, table)
        elif isinstance(layout, LegacyLayout):
            st.markdown("A **legacy stream**: five pickles one after another, then the bytes.")
            st.dataframe(table, hide_index=True)


INSPECT: Section[InspectConfig, InspectResult] = Section(
    "inspect",
    inspect_controls,
    run_inspect,
    inspect_render,
    lambda _c, r: r.snippet,
    label=INSPECT_TAB,
    ready=lambda c: NO_FILE if no_file(c.origin, c.upload, c.hub) else None,
    heavy=_inspect_job,
    views=inspect_views,
)
