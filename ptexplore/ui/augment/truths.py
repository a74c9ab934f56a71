"""🔎 Truths: ``Resize(256)`` resizes the *shorter* side (on 400×300 and on this image,
computed by the real transform); that augmentation never grows a dataset is the DataLoader
lab's lesson, linked from here."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ptexplore.augment.texts import GROWTH_NOTE, resize_caption
from ptexplore.augment.truths import ResizeTruth, resize_truth
from ptexplore.i18n import N_, _
from ptexplore.live import Snippet
from ptexplore.pages import DATA
from ptexplore.ui.augment.grid import snippet
from ptexplore.ui.augment.preview import Preview, heavy_grid, image_of, no_image
from ptexplore.ui.lab import Section

LABEL = N_("🔎 Truths")
#: the DataLoader lab's tab that runs ``len(dataset)`` across epochs in worker processes
EPOCHS_TAB = "epochs"


@dataclass(frozen=True, slots=True, eq=False)
class Truths:
    demo: ResizeTruth  # Resize(256) on 400×300
    mine: ResizeTruth  # Resize(256) on this image
    snippet: Snippet


def _truths(preview: Preview) -> Truths:
    w, h = image_of(preview).original_size
    return Truths(resize_truth(400, 300, 256), resize_truth(w, h, 256), snippet(preview))


def _render(_preview: Preview, truths: Truths, _views: None) -> None:
    demo, mine = truths.demo, truths.mine
    st.markdown(_("#### `Resize(256)` resizes the *shorter* side"))
    c1, c2, c3 = st.columns(3)
    c1.metric(_("Resize(256) on 400×300"), "×".join(map(str, demo.out_wh)))
    c2.metric(
        _("what many tutorials claim it makes"),
        "×".join(map(str, demo.naive_wh)),
        help=_("A common misconception: an int size is the shorter side, not a square."),
    )
    c3.metric(
        _("Resize(256) on this image ({size})").format(size="×".join(map(str, mine.in_wh))),
        "×".join(map(str, mine.out_wh)),
    )
    st.caption(resize_caption(*mine.in_wh))
    st.markdown(_("#### Augmentation does not grow the dataset"))
    st.markdown(_(GROWTH_NOTE))
    st.page_link(
        DATA.file,
        label=_("Open the DataLoader lab's Epochs tab"),
        icon=DATA.icon,
        query_params={f"{DATA.key}.tab": EPOCHS_TAB},
    )


TRUTHS: Section[Preview, Truths] = Section(
    "truths",
    lambda preview: preview,
    _truths,
    _render,
    lambda _p, truths: truths.snippet,
    label=LABEL,
    ready=no_image,
    heavy=heavy_grid,
)
