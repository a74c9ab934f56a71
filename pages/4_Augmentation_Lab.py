"""Augmentation lab: tune torchvision.transforms.v2 pipelines on your own images."""

from __future__ import annotations

import streamlit as st
import torch

from ptexplore.pages import AUGMENT, ROOT
from ptexplore.ui import code_panel, page_setup, report_errors, seed_input, show_error
from ptexplore.ui.page import remember

page_setup(AUGMENT)

from ptexplore.augment.decode import (  # noqa: E402  (after page_setup: torch threads set)
    UPLOAD_EXTENSIONS,
    DecodedImage,
    check_upload_size,
)
from ptexplore.augment.export import export_code, from_json, to_json  # noqa: E402
from ptexplore.augment.pipeline import (  # noqa: E402
    Pipeline,
    keeps_source_size,
    preview_source_side,
    train_preset,
    val_preset,
)
from ptexplore.augment.preview import (  # noqa: E402
    MAX_SAMPLES,
    channel_stats,
    histogram_figure,
    run_grid,
    to_display,
)
from ptexplore.augment.samples import SAMPLES_DIR, sample_bytes, sample_names  # noqa: E402
from ptexplore.augment.truths import MAX_EPOCHS, epochs_strip, resize_truth  # noqa: E402
from ptexplore.errors import LessonError  # noqa: E402
from ptexplore.ui.augment import (  # noqa: E402
    decode_cached,
    escaped_error,
    for_screen,
    image_grid,
    md_escape,
    pipeline_editor,
    set_pipeline,
)

SEED_KEY = "sidebar.seed"

st.title(f"{AUGMENT.icon} {AUGMENT.title}")
st.markdown(
    "Build a `torchvision.transforms.v2` pipeline, see what it does to **your** photos, and "
    "take the code home. Every image below is produced live by the real transforms, and each "
    "caption lists the random parameters that sample actually drew."
)

# ----------------------------------------------------------------------------- sidebar
seed = seed_input(AUGMENT)
with st.sidebar:
    n = int(
        st.slider(
            "Samples in the grid", 1, MAX_SAMPLES, 16, key="augment.n", help="All from one seed."
        )
    )
    columns = int(st.select_slider("Grid columns", [2, 3, 4, 6, 8], 4, key="augment.cols"))
    fullres = st.toggle(
        "Full-resolution preview",
        False,
        key="augment.fullres",
        help="Off: big photos are previewed from a smaller copy when the pipeline resamples to "
        "a fixed size anyway (fast). On: always the full image (exact, slower).",
    )


def _reroll() -> None:
    st.session_state[SEED_KEY] = (int(st.session_state.get(SEED_KEY, 0)) + 1) % (2**31 - 1)
    remember(SEED_KEY)


IMPORT_ERROR_KEY = "augment.import_result"


def _on_import() -> None:
    upload = st.session_state.get("augment.import")
    text = str(st.session_state.get("augment.import_text") or "")
    try:
        raw = upload.getvalue().decode("utf-8", "replace") if upload is not None else text
        imported: Pipeline = from_json(raw)
        set_pipeline(imported, structural=True)
        st.session_state[IMPORT_ERROR_KEY] = "ok"
    except LessonError as err:
        st.session_state[IMPORT_ERROR_KEY] = err


# ------------------------------------------------------------------------------ images
left, right = st.columns([1.15, 2.2], gap="large")
with left:
    st.subheader("Images")
    uploads = st.file_uploader(
        "Upload photos (PNG, JPEG, WebP, BMP, GIF, TIFF)",
        type=list(UPLOAD_EXTENSIONS),
        accept_multiple_files=True,
        key="augment.upload",
        help="Decoded on this server with explicit formats and size caps; nothing is stored.",
    )
    # Errors about the uploads and the picker sit right under the uploader; they are
    # filled in below, once the pipeline (which decides the preview size) is known.
    upload_box = st.container()
    sources: list[tuple[str, bytes]] = []
    for up in uploads or []:
        try:
            check_upload_size(int(up.size), up.name)
            sources.append((up.name, up.getvalue()))
        except LessonError as err:
            with upload_box:
                show_error(escaped_error(err, up.name))
    samples = sample_names()
    sample_choice = st.selectbox(
        "…or a sample photo",
        samples,
        key="augment.sample",
        disabled=bool(sources),
        help="Freely licensed photos shipped with ptexplore (see assets/samples/CREDITS.md).",
    )
    st.subheader("Pipeline")
    pipeline = pipeline_editor()

side = None if fullres else preview_source_side(pipeline)


def _decode_all(items: list[tuple[str, bytes]], max_side: int | None) -> list[DecodedImage]:
    out = []
    for name, data in items:
        try:
            out.append(decode_cached(data, name, max_side))
        except LessonError as err:
            with upload_box:
                show_error(escaped_error(err, name))
    return out


decoded = _decode_all(sources, side)
using_samples = not decoded
if using_samples:
    dataset_sources = [(name, sample_bytes(name)) for name in samples]
    decoded_ds = _decode_all(dataset_sources, side)
    chosen = next((d for d in decoded_ds if d.name == sample_choice), None)
else:
    decoded_ds = decoded
    pick = 0
    if len(decoded) > 1:
        with upload_box:
            pick = int(
                st.selectbox(
                    "Image to preview",
                    range(len(decoded)),
                    format_func=lambda i: f"{i + 1}. {decoded[i].name}",
                    key="augment.image",
                )
                or 0
            )
    chosen = decoded[min(pick, len(decoded) - 1)]

# ------------------------------------------------------------------------------ views
with right:
    if chosen is None:
        st.warning("No usable image: upload a photo or pick a sample.")
        st.stop()
    ow, oh = chosen.original_size
    info = (
        f"**{md_escape(chosen.name)}** · {chosen.format} · mode {chosen.original_mode} · {ow}×{oh}"
    )
    if chosen.n_frames > 1:
        info += f" · {chosen.n_frames} frames"
    st.markdown(info)
    for note in chosen.notes:
        st.caption(f"ℹ️ {note}")
    keeps_size = keeps_source_size(pipeline)
    if chosen.downscaled:
        w, h = chosen.size
        why = (
            "This pipeline keeps the input size (no Resize / RandomResizedCrop), so on the "
            f"full image every sample would be {ow}×{oh}; its steps (flips, colour, relative "
            "geometry) look the same on the copy, shown here at the copy's size."
            if keeps_size
            else "The pipeline resamples to a fixed size anyway, so the grid looks the same."
        )
        st.info(
            f"Preview made from a **downscaled copy**: {ow}×{oh} → {w}×{h} "
            f"({chosen.scale:.0%}). {why} Crop boxes and shifts are in the copy's pixels. "
            "Turn on *Full-resolution preview* in the sidebar for exact full-size tensors.",
            icon="🔎",
        )

    view_grid, view_steps, view_tv, view_truths, view_export = st.tabs(
        ["🎲 Grid", "🪜 Step by step", "⚖️ Train vs val", "🔎 Truths", "📦 Export"],
        key="augment.view",
        on_change="rerun",
    )
    trace_index = int(st.session_state.get("augment.trace", 0))
    trace_index = min(max(trace_index, 0), n - 1)
    grid = None
    with report_errors():
        grid = run_grid(pipeline, chosen.pixels, seed=seed, n=n, trace_index=trace_index)

    with view_grid:
        if view_grid.open is not False:
            top = st.columns([1, 1, 2], vertical_alignment="center")
            top[0].button("🎲 Re-roll", key="augment.reroll", on_click=_reroll, type="primary")
            top[1].metric("Seed", seed)
            if grid is not None:
                shapes = sorted({"×".join(map(str, s)) for s in grid.output_shapes})
                dtypes = sorted({str(s.tensor.dtype).removeprefix("torch.") for s in grid.samples})
                top[2].metric(
                    "Output (of the preview copy)"
                    if chosen.downscaled and keeps_size
                    else "Output",
                    f"{', '.join(shapes)} {', '.join(dtypes)}",
                )
                image_grid(
                    [to_display(s.tensor, grid.norm) for s in grid.samples],
                    [s.caption for s in grid.samples],
                    columns=columns,
                )
                if grid.norm is not None:
                    st.caption(
                        "Normalised tensors are shown denormalised (x·std + mean, clipped to 0–1)."
                    )

    with view_steps:
        if view_steps.open and grid is not None:
            st.number_input("Sample to follow", 0, n - 1, trace_index, key="augment.trace", step=1)
            strip = grid.trace
            cols = st.columns(min(len(strip), 6))
            for k, t in enumerate(strip):
                with cols[k % len(cols)]:
                    st.image(
                        for_screen(to_display(t.tensor, t.norm)),
                        width="stretch",
                        output_format="JPEG",
                    )
                    st.caption(t.caption + (f" · {t.draw.text}" if t.draw and t.draw.text else ""))
            final = strip[-1]
            if final.norm is not None:
                st.markdown("#### After Normalize")
                a, b = st.columns([1, 2])
                with a:
                    st.image(
                        for_screen(to_display(final.tensor, final.norm)),
                        caption="denormalised for display",
                        width="stretch",
                    )
                    stats = channel_stats(final.tensor)
                    st.dataframe(
                        [
                            {
                                "channel": s.channel,
                                "mean": round(s.mean, 4),
                                "std": round(s.std, 4),
                                "min": round(s.min, 3),
                                "max": round(s.max, 3),
                            }
                            for s in stats
                        ],
                        hide_index=True,
                        key="augment.stats",
                    )
                with b:
                    st.plotly_chart(
                        histogram_figure(final.tensor, title="Normalised values per channel"),
                        key="augment.hist",
                    )
                st.caption(
                    "Normalize uses the dataset's mean/std, not this image's: per-channel means "
                    "near 0 and stds near 1 only hold on average over the dataset."
                )

    with view_tv:
        if view_tv.open:
            with report_errors():
                k = min(n, 4)
                tv_cols = st.columns(2, gap="large")
                for col, (label, pipe) in zip(
                    tv_cols, (("train", train_preset()), ("val", val_preset())), strict=True
                ):
                    g = run_grid(pipe, chosen.pixels, seed=seed, n=k, trace_index=None)
                    shapes = {tuple(s.tensor.shape) for s in g.samples}
                    distinct = len(
                        {bytes(to_display(s.tensor, g.norm).tobytes()) for s in g.samples}
                    )
                    with col:
                        st.markdown(f"#### {label}")
                        st.caption(" → ".join(s.name for s in pipe.steps))
                        st.metric(
                            f"{label} output",
                            ", ".join("×".join(map(str, s)) for s in sorted(shapes)),
                            help="Shape of pipeline(img), computed now.",
                        )
                        image_grid(
                            [to_display(s.tensor, g.norm) for s in g.samples],
                            [s.caption for s in g.samples],
                            columns=2,
                        )
                        st.caption(f"{distinct} distinct image(s) among {k} draws.")

    with view_truths:
        if view_truths.open:
            st.markdown("#### `Resize(256)` resizes the *shorter* side")
            demo = resize_truth(400, 300, 256)
            mine = resize_truth(*chosen.original_size, 256)
            c1, c2, c3 = st.columns(3)
            c1.metric("Resize(256) on 400×300", "×".join(map(str, demo.out_wh)))
            c2.metric("Not", "×".join(map(str, demo.naive_wh)), help="A common misconception.")
            c3.metric(
                f"on this image ({'×'.join(map(str, mine.in_wh))})",
                "×".join(map(str, mine.out_wh)),
            )
            st.caption(
                "Both computed by `v2.Resize(256)` just now. Pass `(256, 256)` if you really "
                "want a square (and a distorted aspect ratio)."
            )
            st.markdown("#### Augmentation does not grow the dataset")
            epochs = int(st.slider("Epochs to show", 2, MAX_EPOCHS, 6, key="augment.epochs"))
            with report_errors():
                images = [d.pixels for d in decoded_ds]
                index = next((i for i, d in enumerate(decoded_ds) if d is chosen), 0)
                strip_ = epochs_strip(pipeline, images, seed=seed, epochs=epochs, index=index)
                m1, m2, m3 = st.columns(3)
                m1.metric("len(augmented)", strip_.len_augmented)
                m2.metric("len(original)", strip_.len_original)
                m3.metric("len(ConcatDataset([augmented, original]))", strip_.len_concat)
                image_grid(
                    [to_display(x, grid.norm if grid else None) for x in strip_.images],
                    [f"epoch {e}: dataset[{index}]" for e in range(epochs)],
                    columns=min(epochs, 6),
                )
                st.caption(
                    f"The same index read in {epochs} epochs gave {strip_.distinct} different "
                    f"image(s), while `len(dataset)` stayed {strip_.len_augmented}: a transform "
                    "changes *which* version you see, never *how many* items there are. Only "
                    "`ConcatDataset` adds items (here the un-augmented originals)."
                )
                st.code(
                    "augmented = MyDataset(files, transform=pipeline)\n"
                    "original = MyDataset(files, transform=no_random_steps)\n"
                    f"len(augmented)  # {strip_.len_augmented}\n"
                    "len(torch.utils.data.ConcatDataset([augmented, original]))"
                    f"  # {strip_.len_concat}",
                    language="python",
                )

    code = export_code(
        pipeline,
        seed=seed,
        n=n,
        # a sample photo lives in the repo: the path works when run from the checkout
        image_path=(
            str(SAMPLES_DIR.relative_to(ROOT) / chosen.name) if using_samples else chosen.name
        ),
        source_note=(
            f"the lab previewed a {chosen.size[0]}×{chosen.size[1]} downscaled copy of this "
            "image; on the full image the draws follow the same scheme at full size."
            if chosen.downscaled
            else None
        ),
        conversion=chosen.conversion,
    )
    with view_export:
        if view_export.open:
            if chosen.downscaled:
                st.markdown(
                    "Runnable Python and JSON. The grid was drawn from a downscaled copy, so "
                    "the script (which loads the full image) draws the same kind of samples, "
                    "not bit-identical tensors; turn on *Full-resolution preview* for those."
                )
            else:
                st.markdown(
                    "Runnable Python (same seed and image → the same tensors as the grid) and JSON."
                )
            d1, d2 = st.columns(2)
            d1.download_button(
                "⬇️ pipeline.py",
                code,
                file_name="augment_pipeline.py",
                mime="text/x-python",
                key="augment.download_py",
            )
            d2.download_button(
                "⬇️ pipeline.json",
                to_json(pipeline),
                file_name="augment_pipeline.json",
                mime="application/json",
                key="augment.download_json",
            )
            st.code(code, language="python")
            with st.expander("JSON", expanded=False):
                st.code(to_json(pipeline), language="json")
            st.markdown("##### Import a pipeline")
            st.text_area(
                "Paste exported JSON", key="augment.import_text", height=120,
                placeholder='{"format": "ptexplore.augment.pipeline", "steps": [...]}',
            )  # fmt: skip
            st.file_uploader("…or upload a .json", type=["json"], key="augment.import")
            st.button("Import", key="augment.import_apply", on_click=_on_import)
            import_err = st.session_state.pop(IMPORT_ERROR_KEY, None)
            if isinstance(import_err, LessonError):
                show_error(import_err)
            elif import_err == "ok":
                st.success("Pipeline imported: it is now in the editor on the left.", icon="✅")

code_panel(code)
st.caption(f"torch {torch.__version__} · sample photos credited in assets/samples/CREDITS.md")
