"""Model explorer: module tree, iterators, parameters, shapes and MACs of a chosen model."""

import streamlit as st

from ptexplore.errors import LessonError
from ptexplore.models import shapes, tree
from ptexplore.models.code import explorer_code
from ptexplore.pages import MODELS
from ptexplore.ui import code_panel, page_setup, report_errors, show_error
from ptexplore.ui import models as ui

ctx = page_setup(MODELS, model=True, seed="Seed (parameter values)")
st.title(f"{MODELS.icon} {MODELS.title}")
st.caption(MODELS.lesson)

with report_errors():
    assert ctx.model is not None and ctx.seed is not None
    entry, num_classes, seed = ctx.model, ctx.num_classes, ctx.seed
    table = ui.cached_param_table(entry.key, num_classes, ())
    top_groups = [g.group for g in table.groups if g.group != "(root)"]
    frozen = tuple(
        st.sidebar.multiselect(
            "Freeze top-level children",
            top_groups,
            key=f"{MODELS.key}.freeze",
            help="Calls .requires_grad_(False) on them: watch trainable vs frozen change.",
        )
    )
    table = ui.cached_param_table(entry.key, num_classes, frozen)
    root = ui.cached_tree(entry.key, num_classes, frozen)

    st.subheader(f"{entry.label} · {entry.family}")
    m = st.columns(5)
    m[0].metric("Total parameters", f"{table.total:,}")
    m[1].metric("Trainable", f"{table.trainable:,}")
    m[2].metric("Frozen", f"{table.frozen:,}")
    m[3].metric("Size at fp32", f"{table.mb_fp32:,.1f} MB")
    m[4].metric("Modules", f"{tree.count_nodes(root):,}")
    st.caption(
        "Built on the `meta` device: names, shapes and counts without allocating a single "
        "weight, so even vit_h_14 opens in a fraction of a second."
    )

    tab_tree, tab_iter, tab_params, tab_shapes = st.tabs(
        ["🌳 Module tree", "🔁 modules() vs children()", "🔢 Parameters", "📐 Shapes & MACs"]
    )
    with tab_tree:
        ui.render_tree(entry, num_classes, frozen)
    with tab_iter:
        ui.render_iterators(entry, num_classes)
    with tab_params:
        weights_file = ui.render_parameters(entry, num_classes, frozen, seed)
    with tab_shapes:
        side, batch = ui.side_input(entry)
        shape = shapes.input_shape_for(entry.key, side, batch)
        try:
            ui.render_shapes(ui.cached_trace(entry.key, num_classes, side, batch))
        except LessonError as err:
            show_error(err)

    code_panel(
        explorer_code(
            entry.key,
            num_classes,
            shape,
            frozen=frozen,
            weights_file=weights_file,
            name_filter=str(st.session_state.get(f"{MODELS.key}.filter", "")).strip(),
        )
    )
