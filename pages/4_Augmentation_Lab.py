"""Augmentation lab: tune torchvision.transforms.v2 pipelines on your own images."""

import streamlit as st
import torch

from ptexplore.pages import AUGMENT
from ptexplore.ui import augment as ui
from ptexplore.ui import code_panel, page_setup, seed_input

page_setup(AUGMENT)
st.title(f"{AUGMENT.icon} {AUGMENT.title}")
st.markdown(
    "Build a `torchvision.transforms.v2` pipeline, see what it does to **your** photos, and "
    "take the code home. Every image below is produced live by the real transforms, and each "
    "caption lists the random parameters that sample actually drew."
)

seed = seed_input(AUGMENT)
settings = ui.grid_settings()

left, right = st.columns([1.15, 2.2], gap="large")
with left:
    st.subheader("Images")
    sources = ui.render_image_sources()
    st.subheader("Pipeline")
    pipeline = ui.pipeline_editor()
images = ui.load_images(sources, pipeline, fullres=settings.fullres)

with right:
    chosen = images.chosen
    if chosen is None:
        st.warning("No usable image: upload a photo or pick a sample.")
        st.stop()
    ui.render_image_info(chosen, pipeline)
    view_grid, view_steps, view_tv, view_truths, view_export = st.tabs(
        ["🎲 Grid", "🪜 Step by step", "⚖️ Train vs val", "🔎 Truths", "📦 Export"],
        key="augment.view",
        on_change="rerun",
    )
    view = ui.run_preview(pipeline, images, chosen, seed=seed, n=settings.n)
    with view_grid:
        if view_grid.open is not False:
            ui.render_grid_tab(view, columns=settings.columns)
    with view_steps:
        if view_steps.open:
            ui.render_steps_tab(view)
    with view_tv:
        if view_tv.open:
            ui.render_train_val_tab(view)
    with view_truths:
        if view_truths.open:
            ui.render_truths_tab(view)
    code = ui.export_script(view)
    with view_export:
        if view_export.open:
            ui.render_export_tab(view, code)

code_panel(code)
st.caption(f"torch {torch.__version__} · sample photos credited in assets/samples/CREDITS.md")
