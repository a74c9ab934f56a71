"""⚖️ Train vs val: the two presets side by side on the same image and seed — the train
preset draws a different picture every call, the val preset always the same one."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ptexplore.augment.tiles import picture
from ptexplore.augment.truths import PresetDraws, train_vs_val
from ptexplore.i18n import N_, _
from ptexplore.images.display import jpeg
from ptexplore.live import Snippet
from ptexplore.ui.augment.grid import image_grid, snippet
from ptexplore.ui.augment.preview import Preview, heavy_grid, image_of, no_image
from ptexplore.ui.lab import Section

LABEL = N_("⚖️ Train vs val")
#: draws of each preset (at most the grid's size)
DRAWS = 4


@dataclass(frozen=True, slots=True, eq=False)
class Compared:
    presets: tuple[PresetDraws, PresetDraws]
    snippet: Snippet


def _compare(preview: Preview) -> Compared:
    k = min(preview.n, DRAWS)
    presets = train_vs_val(image_of(preview).pixels, seed=preview.seed, k=k, target=preview.target)
    return Compared(presets, snippet(preview))


def _tiles(preview: Preview, compared: Compared) -> tuple[tuple[bytes, ...], ...]:
    ann = preview.target
    return tuple(
        tuple(jpeg(picture(s.tensor, p.grid.norm, s.target, s.ids, ann)) for s in p.grid.samples)
        for p in compared.presets
    )


def _render(_preview: Preview, compared: Compared, tiles: tuple[tuple[bytes, ...], ...]) -> None:
    for col, p, images in zip(st.columns(2, gap="large"), compared.presets, tiles, strict=True):
        with col:
            st.markdown(f"#### {_(p.label)}")
            st.caption(" → ".join(s.name for s in p.pipeline.steps))
            st.metric(
                _("{preset} output").format(preset=_(p.label)),
                ", ".join("×".join(map(str, s)) for s in p.shapes),
                help=_("Shape of pipeline(img), computed now."),
            )
            image_grid(images, [s.caption for s in p.grid.samples], columns=2)
            st.caption(
                _("{k} distinct image(s) among {n} draws.").format(k=p.distinct, n=len(images))
            )


TRAIN_VAL: Section[Preview, Compared] = Section(
    "train_val",
    lambda preview: preview,
    _compare,
    _render,
    lambda _p, compared: compared.snippet,
    label=LABEL,
    ready=no_image,
    heavy=heavy_grid,
    views=_tiles,
)
