"""What every tab of the Augmentation lab shares, drawn once per run by :func:`setup`:
the sidebar's seed and grid settings, the images and the pipeline editor (in the sidebar,
beside the tabs), and the previewed image's line above the tabs."""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from ptexplore.augment.pipeline import Pipeline, keeps_source_size
from ptexplore.augment.targets import Annotations
from ptexplore.augment.texts import NO_IMAGE, downscaled_note, image_line
from ptexplore.errors import LessonError
from ptexplore.i18n import _
from ptexplore.images.decode import DecodedImage
from ptexplore.limits import GRID_MAX_SAMPLES, HEAVY_GRID_PIXELS
from ptexplore.ui.augment.boxes import target_block
from ptexplore.ui.augment.editor import pipeline_editor
from ptexplore.ui.augment.pipeline import STATE
from ptexplore.ui.augment.sources import image_sources, load_images
from ptexplore.ui.page import seed_input
from ptexplore.ui.state import link_int


@dataclass(frozen=True, slots=True)
class Preview:
    """The pipeline, the image, the seed and the grid's size: the config every tab starts
    from. The image is compared by what identifies its pixels (``pixels``), and ``columns``
    only changes how the grid is laid out: neither makes anything compute again."""

    pipeline: Pipeline
    image: DecodedImage | None = field(compare=False, repr=False)
    #: (file digest, name, decoded size) of the image; ``None`` without one
    pixels: tuple[str, str, tuple[int, int]] | None
    #: is the image one of the shipped sample photos (the script then loads it from there)
    sample: bool
    seed: int
    n: int
    columns: int = field(compare=False)
    #: the photo's boxes, labels, masks and keypoints (in the previewed copy's pixels),
    #: transformed with it; None: the image alone
    target: Annotations | None = None
    #: where the exported script reads the instance-mask PNG from
    mask_path: str | None = None
    #: the target on the photo itself (what the exported script builds)
    full_target: Annotations | None = field(default=None, compare=False, repr=False)


def image_of(preview: Preview) -> DecodedImage:
    """The previewed image (sections are ready only when there is one)."""
    if preview.image is None:
        raise LessonError(_(NO_IMAGE), fix=_("Upload a photo or pick a sample."))
    return preview.image


def no_image(preview: Preview) -> str | None:
    """The tabs' precondition: an image to preview."""
    return _(NO_IMAGE) if preview.image is None else None


def heavy_grid(preview: Preview) -> str | None:
    """A grid drawn from a large image runs under the shared semaphore for heavy work."""
    if preview.image is None:
        return None
    w, h = preview.image.size
    if w * h <= HEAVY_GRID_PIXELS:
        return None
    return _("a {w}×{h} grid of {n}").format(w=w, h=h, n=preview.n)


def _legacy_tab_link() -> None:
    """Links made before the tabs were sections name the open tab ``augment.view``: they
    open the same tab (the address then says ``augment.tab``)."""
    old, new = STATE.key("view"), STATE.key("tab")
    if old in st.query_params:
        value = st.query_params[old]
        del st.query_params[old]
        if new not in st.query_params:
            st.query_params[new] = value


def setup() -> Preview:
    """The sidebar (seed, grid settings, images, pipeline) and the image's line."""
    _legacy_tab_link()
    seed = seed_input()
    with st.sidebar:
        n = int(
            st.slider(
                _("Samples in the grid"), 1, GRID_MAX_SAMPLES, help=_("All from one seed."),
                **STATE.widget("n", default=16, url=link_int(1, GRID_MAX_SAMPLES)),
            )
        )  # fmt: skip
        columns = int(
            st.select_slider(_("Grid columns"), [2, 3, 4, 6, 8], 4, **STATE.widget("cols"))
        )
        fullres = st.toggle(
            _("Full-resolution preview"),
            False,
            help=_(
                "Off: big photos are previewed from a smaller copy when the pipeline "
                "resamples to a fixed size anyway (fast). On: always the full image (exact, "
                "slower)."
            ),
            **STATE.widget("fullres"),
        )
        st.subheader(_("Images"))
        sources = image_sources()
        boxes = st.container()
        st.subheader(_("Pipeline"))
        pipeline = pipeline_editor()
    images = load_images(sources, pipeline, fullres=bool(fullres))
    chosen = images.chosen
    line, editor = st.container(), st.container()  # the image's line, then an upload's boxes
    with boxes:
        target = target_block(chosen, sample=images.using_samples, editor=editor)
    if chosen is not None:
        with line:
            st.markdown(image_line(chosen))
            for note in chosen.notes:
                st.caption(f"ℹ️ {note}")
            if chosen.downscaled:
                st.info(downscaled_note(chosen, keeps_size=keeps_source_size(pipeline)), icon="🔎")
    return Preview(
        pipeline=pipeline,
        image=chosen,
        pixels=None if chosen is None else (chosen.digest, chosen.name, chosen.size),
        sample=images.using_samples,
        seed=seed,
        n=n,
        columns=columns,
        target=target.annotations,
        mask_path=target.mask_path,
        full_target=target.full,
    )
