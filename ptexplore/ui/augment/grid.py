"""🎲 Grid: ``n`` seeded samples of the pipeline, each captioned with what it drew.

The grid is remembered by the framework per config (a rerun that changed nothing draws
nothing), its tiles are JPEG-encoded once per grid (in the sandbox, with the grid), and
Re-roll moves the session's seed on by one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import streamlit as st

from ptexplore.augment.export import grid_snippet
from ptexplore.augment.pipeline import keeps_source_size
from ptexplore.augment.tiles import Tiles, draw_tiles
from ptexplore.i18n import N_, _
from ptexplore.images.display import for_screen
from ptexplore.live import Snippet
from ptexplore.ui.augment.pipeline import STATE
from ptexplore.ui.augment.preview import Preview, heavy_grid, image_of, no_image
from ptexplore.ui.lab import Section
from ptexplore.ui.page import SEED_KEY

LABEL = N_("🎲 Grid")
#: steps whose forward the preview runs split into draws, then pixels (augment.preview)
SPLIT_FORWARD = ("AugMix", "AutoAugment", "RandAugment", "TrivialAugmentWide")


@dataclass(frozen=True, slots=True, eq=False)
class Drawn:
    """A grid with its tiles, and the code panel that reproduces it."""

    grid: Tiles
    snippet: Snippet


def snippet(preview: Preview, printed: str | None = None) -> Snippet:
    """The export script and what it prints (the grid is drawn when that is not given)."""
    return grid_snippet(
        preview.pipeline,
        image_of(preview),
        seed=preview.seed,
        n=preview.n,
        sample=preview.sample,
        printed=printed,
        target=preview.full_target,
        mask_path=preview.mask_path,
    )


def image_grid(
    images: Sequence[np.ndarray | bytes], captions: Sequence[str], *, columns: int
) -> None:
    """Images (arrays, or JPEG bytes already sized for the screen) in rows of ``columns``."""
    for start in range(0, len(images), columns):
        cols = st.columns(columns)
        for col, img, cap in zip(
            cols, images[start : start + columns], captions[start : start + columns], strict=False
        ):
            with col:
                shown = img if isinstance(img, bytes) else for_screen(img)
                st.image(shown, caption=cap, width="stretch", output_format="JPEG")


def _controls(preview: Preview) -> Preview:
    return preview


def draw(preview: Preview) -> Drawn:
    """The grid (untraced: the Step by step tab follows a sample), its tiles already
    encoded in the sandbox, and its code panel."""
    grid = draw_tiles(
        preview.pipeline,
        image_of(preview).pixels,
        seed=preview.seed,
        n=preview.n,
        target=preview.target,
    )
    return Drawn(grid, snippet(preview, grid.printed))


def _tiles(_preview: Preview, drawn: Drawn) -> tuple[bytes, ...]:
    """The grid's images as JPEG bytes (encoded once per grid, where it was drawn)."""
    return drawn.grid.images


def _reroll() -> None:
    st.session_state[SEED_KEY] = (int(st.session_state.get(SEED_KEY, 0)) + 1) % (2**31 - 1)


def _render(preview: Preview, drawn: Drawn, tiles: tuple[bytes, ...]) -> None:
    """Re-roll, the seed, the output shape/dtype, and the grid of samples."""
    grid = drawn.grid
    top = st.columns([1, 1, 2], vertical_alignment="center")
    top[0].button(_("🎲 Re-roll"), key=STATE.key("reroll"), on_click=_reroll, type="primary")
    top[1].metric(_("Seed"), preview.seed)
    shapes = sorted({"×".join(map(str, s)) for s in grid.output_shapes})
    dtypes = sorted({s.dtype for s in grid.samples})
    copy = image_of(preview).downscaled and keeps_source_size(preview.pipeline)
    top[2].metric(
        _("Output (of the preview copy)") if copy else _("Output"),
        f"{', '.join(shapes)} {', '.join(dtypes)}",
    )
    image_grid(tiles, [s.caption for s in grid.samples], columns=preview.columns)
    split = [s.name for s in preview.pipeline.steps if s.name in SPLIT_FORWARD]
    if split:
        st.caption(
            _(
                "{names}: torchvision's own `forward` draws and computes in turns; "
                "here its random draws are taken first and its pixel work done after (the "
                "forward re-implemented line by line, tested equal to torchvision's on many "
                "seeds), so that one learner's draws never wait for another's pixels."
            ).format(names=", ".join(split))
        )
    if grid.norm is not None:
        st.caption(_("Normalised tensors are shown denormalised (x·std + mean, clipped to 0–1)."))


GRID: Section[Preview, Drawn] = Section(
    "grid",
    _controls,
    draw,
    _render,
    lambda _p, drawn: drawn.snippet,
    label=LABEL,
    ready=no_image,
    heavy=heavy_grid,
    views=_tiles,
)
