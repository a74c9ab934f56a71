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
from ptexplore.i18n import N_, _
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

NO_FILE = N_("Pick a file above to inspect it.")


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
                hub = str(
                    st.selectbox(_("file in the torch hub cache"), names, **STATE.widget("hub"))
                )
    if origin is Origin.MADE:
        made = Made(made.key, made.num_classes, made.saved_as, seed_input())
    return InspectConfig(origin, made, upload, hub)


def _inspect_job(config: InspectConfig) -> str | None:
    if config.origin is Origin.MADE:  # a file is read by its index: cheap
        return heavy_label(config.made.key, N_("building and saving {model}"))
    return None


def verdict(r: InspectResult) -> None:
    if r.refused is not None:
        f = r.refused
        if f.unsafe:
            st.error(f"🚫 {f.message}\n\n{_('**Fix:**')} {f.fix}", icon="🛡️")
            st.markdown(_("**The globals its pickle wants to import** (none was imported):"))
            st.code("\n".join(f.wanted) or _("(not named)"), language="text")
            if f.reason:
                st.caption(_("torch's weights-only unpickler said:"))
                st.code(f.reason, language="text", wrap_lines=True)
        else:
            st.error(f"{f.message}\n\n{_('**Fix:**')} {f.fix}", icon="🚫")
        return
    i = r.inspection
    assert i is not None
    where = (
        _("no state_dict inside")
        if i.state_dict_at is None
        else _("the state_dict is the file's top level")
        if i.state_dict_at == ""
        else _("the state_dict is under {key}").format(key=inert(i.state_dict_at))
    )
    st.success(
        _("✅ **{format}** (told by its bytes) · {size} · {n:,} tensors · {where}.").format(
            format=_(i.format.value), size=mb(i.size), n=len(i.tensors), where=where
        ),
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
    m[0].metric(_("state_dict tensors"), f"{len(i.weights):,}")
    m[1].metric(_("values"), f"{i.numel:,}")
    m[2].metric(_("weights' bytes"), mb(i.nbytes))
    m[3].metric(_("all tensors in the file"), f"{len(i.tensors):,}", delta=mb(i.all_bytes),
                delta_color="off", delta_arrow="off")  # fmt: skip
    m[4].metric(_("read in"), _("{ms:.0f} ms").format(ms=r.seconds * 1000))
    how = (
        _("only the 8-byte length and the JSON header were read, never the tensor data.")
        if isinstance(i.layout, SafetensorsLayout)
        else _(
            'loaded with torch.load(weights_only=True, map_location="meta") inside '
            "torch.serialization.skip_data(): shapes and dtypes, no tensor bytes read."
        )
    )
    st.caption(_("{origin}: {how}").format(origin=inert(r.origin, limit=120), how=how))
    notes: list[str] = []
    if i.prefix:
        notes.append(
            _(
                "every state_dict key starts with {prefix}: a wrapper's prefix "
                "(strip it before loading: the Load tab shows how)"
            ).format(prefix=inert(i.prefix))
        )
    if i.lightning:
        notes.append(_("a PyTorch Lightning checkpoint (its weights under `state_dict`)"))
    if any(t.same_as for t in i.tensors):
        tied = [t for t in i.tensors if t.same_as]
        notes.append(
            _("{n} tensors are saved once under two names (tied weights), e.g. {a} = {b}").format(
                n=len(tied), a=inert(tied[0].path), b=inert(tied[0].same_as)
            )
        )
    notes.extend(i.notes)
    if notes:
        st.caption("\n".join(f"- {n}" for n in notes))
    left, right = st.columns([1, 1.6], gap="large")
    with left:
        st.markdown(_("**Per dtype** (the state_dict)"))
        st.dataframe(views.by_dtype, hide_index=True)
        st.markdown(_("**Top-level structure**"))
        st.dataframe(
            views.structure,
            hide_index=True,
            height=280,
            column_order=[_(c) for c in tables.STRUCTURE_SHOWN],
        )
        if i.rows_cut:
            st.caption(_("The first {n} rows.").format(n=limits.CKPT_LAB_MAX_ROWS))
        if i.metadata:
            st.markdown(_("**safetensors `__metadata__`** (strings only)"))
            st.dataframe(views.metadata, hide_index=True)
    with right:
        st.markdown(_("**Every tensor**: name, shape, dtype, bytes, where its bytes are"))
        st.dataframe(views.tensors, hide_index=True, height=420)
    with st.expander(_("The file's layout, byte by byte")):
        layout, table = i.layout, views.layout
        if table is None:
            return
        if isinstance(layout, ZipLayout):
            render_zip(layout, table)
        elif isinstance(layout, SafetensorsLayout):
            render_safetensors(layout, table)
        elif isinstance(layout, LegacyLayout):
            st.markdown(_("A **legacy stream**: five pickles one after another, then the bytes."))
            st.dataframe(table, hide_index=True)


INSPECT: Section[InspectConfig, InspectResult] = Section(
    "inspect",
    inspect_controls,
    run_inspect,
    inspect_render,
    lambda _c, r: r.snippet,
    label=INSPECT_TAB,
    ready=lambda c: _(NO_FILE) if no_file(c.origin, c.upload, c.hub) else None,
    heavy=_inspect_job,
    views=inspect_views,
)
