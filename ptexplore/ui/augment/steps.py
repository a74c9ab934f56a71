"""🪜 Step by step: one sample of the grid followed through every step; after Normalize,
its per-channel statistics and histogram."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from ptexplore.augment.export import grid_output
from ptexplore.augment.preview import Grid, draw_grid, histogram_figure
from ptexplore.augment.tables import fates_table, stats_table
from ptexplore.augment.targets import fate_summary
from ptexplore.augment.texts import FATES_NOTE
from ptexplore.augment.tiles import picture
from ptexplore.figures import Figure
from ptexplore.i18n import N_, _
from ptexplore.images.display import jpeg, to_display
from ptexplore.live import Snippet
from ptexplore.ui.augment.grid import snippet
from ptexplore.ui.augment.pipeline import STATE
from ptexplore.ui.augment.preview import Preview, heavy_grid, image_of, no_image
from ptexplore.ui.lab import Section
from ptexplore.ui.render import chart

LABEL = N_("🪜 Step by step")


@dataclass(frozen=True, slots=True)
class Follow:
    """The grid, and which of its samples to follow."""

    preview: Preview
    trace: int


@dataclass(frozen=True, slots=True, eq=False)
class StepViews:
    """The traced sample after each step as JPEG bytes; after Normalize, its statistics."""

    images: tuple[bytes, ...]
    #: per step: what it did to each box (None for the input, or without boxes)
    fates: tuple[pd.DataFrame | None, ...]
    final: bytes | None  # the normalised output, denormalised (None without Normalize)
    stats: pd.DataFrame | None
    histogram: Figure | None


def _controls(preview: Preview) -> Follow:
    n = preview.n
    trace = int(st.session_state.get(STATE.key("trace"), 0))
    trace = min(max(trace, 0), n - 1)
    if preview.image is not None:
        trace = int(
            st.number_input(_("Sample to follow"), 0, n - 1, trace, key=STATE.key("trace"), step=1)
        )
    return Follow(preview, trace)


@dataclass(frozen=True, slots=True, eq=False)
class Traced:
    """The grid with one sample's every intermediate, and the code panel."""

    grid: Grid
    snippet: Snippet


def _follow(config: Follow) -> Traced:
    """The grid with the chosen sample's every intermediate kept."""
    p = config.preview
    grid = draw_grid(
        p.pipeline,
        image_of(p).pixels,
        seed=p.seed,
        n=p.n,
        trace_index=config.trace,
        target=p.target,
    )
    return Traced(grid, snippet(p, grid_output(grid, p.target)))


def _views(config: Follow, drawn: Traced) -> StepViews:
    strip = drawn.grid.trace
    final = strip[-1]
    normalised = final.norm is not None
    ann = config.preview.target
    return StepViews(
        images=tuple(jpeg(picture(t.tensor, t.norm, t.target, t.ids, ann)) for t in strip),
        fates=tuple(fates_table(t.fates) if t.fates else None for t in strip),
        final=jpeg(to_display(final.tensor, final.norm)) if normalised else None,
        stats=stats_table(final.tensor) if normalised else None,
        histogram=(
            histogram_figure(final.tensor, title=_("Normalised values per channel"))
            if normalised
            else None
        ),
    )


def _render(_config: Follow, drawn: Traced, views: StepViews) -> None:
    strip = drawn.grid.trace
    cols = st.columns(min(len(strip), 6))
    for k, (t, image) in enumerate(zip(strip, views.images, strict=True)):
        with cols[k % len(cols)]:
            st.image(image, width="stretch", output_format="JPEG")
            st.caption(t.caption + (f" · {t.draw.text}" if t.draw and t.draw.text else ""))
            if t.fates:
                st.caption(fate_summary(t.fates))
    tables = [(t, f) for t, f in zip(strip, views.fates, strict=True) if f is not None]
    if tables:
        st.markdown(_("#### What each step did to each box"))
        for t, table in tables:
            st.caption(
                _("Step {k}: {name}").format(k=t.step + 1, name=t.name)
                + (f" · {t.draw.text}" if t.draw and t.draw.text else "")
            )
            st.dataframe(table, hide_index=True, width="stretch", key=STATE.key(f"fates{t.step}"))
        st.caption(_(FATES_NOTE))
    if views.final is None or views.stats is None or views.histogram is None:
        return
    st.markdown(_("#### After Normalize"))
    a, b = st.columns([1, 2])
    with a:
        st.image(views.final, caption=_("denormalised for display"), width="stretch")
        st.dataframe(views.stats, hide_index=True, key=STATE.key("stats"))
    with b:
        chart(views.histogram, key=STATE.key("hist"))
    st.caption(
        _(
            "Normalize uses the dataset's mean/std, not this image's: per-channel means "
            "near 0 and stds near 1 only hold on average over the dataset."
        )
    )


STEPS: Section[Follow, Traced] = Section(
    "steps",
    _controls,
    _follow,
    _render,
    lambda _c, drawn: drawn.snippet,
    label=LABEL,
    ready=lambda c: no_image(c.preview),
    heavy=lambda c: heavy_grid(c.preview),
    views=_views,
)
