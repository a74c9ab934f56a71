"""Shared page setup: page config, process settings, the learning-path sidebar, the seed.

Knows nothing about any lab: a page that needs more in the sidebar (the model picker)
draws it itself.
"""

from __future__ import annotations

import streamlit as st

from ptexplore.pages import HOME, PAGES, PageInfo
from ptexplore.runtime import configure_process
from ptexplore.ui.state import SHARED, link_bool, link_int

DEFAULT_SEED = 0
#: The one seed of the session: every page that draws random things reads it.
SEED_KEY = SHARED.key("seed")
PRESENTER_KEY = SHARED.key("presenter")

#: Metric values and button labels never end in "…" on a projector or a small laptop:
#: metric values scale with their column (container query units), and both wrap as a last
#: resort instead of being cut. (Streamlit cuts them with text-overflow: ellipsis.)
_LAYOUT_CSS = """
[data-testid="stMetric"] { container-type: inline-size; }
[data-testid="stMetricValue"] { font-size: clamp(0.95rem, 17cqi, 2.25rem); }
[data-testid="stMetricValue"] .stMarkdownEllipsis, [data-testid="stMetricValue"] p,
[data-testid="stMetricLabel"] .stMarkdownEllipsis, [data-testid="stMetricLabel"] p {
  white-space: normal; overflow: visible; text-overflow: clip; overflow-wrap: anywhere;
}
[data-testid="stBaseButton-secondary"] p, [data-testid="stBaseButton-primary"] p,
[data-testid="stButtonGroup"] p {
  white-space: normal; overflow: visible; text-overflow: clip; overflow-wrap: break-word;
}
"""
#: Presenter mode: everything larger for the back row of a classroom.
_PRESENTER_CSS = "html { font-size: 125%; }"

_CREDITS = (
    "Sample photos (from scikit-image's sample data): *chelsea* (Stefan van der Walt, CC0), "
    "*coffee* (Rachel Michetti, CC0), *astronaut* (NASA, public domain), *rocket* (SpaceX, "
    "public domain)."
)


def presenter() -> bool:
    """Is presenter mode on for this session (larger type, sidebar collapsed)?"""
    return bool(st.session_state.get(PRESENTER_KEY, False))


def page_setup(page: PageInfo) -> None:
    """The one setup every page (and the landing page) calls first."""
    st.set_page_config(
        page_title=f"{page.title} · ptexplore" if page is not HOME else "ptexplore",
        page_icon=page.icon,
        layout="wide",
        initial_sidebar_state="collapsed" if presenter() else "expanded",
    )
    st.html(f"<style>{_LAYOUT_CSS}{_PRESENTER_CSS if presenter() else ''}</style>")
    configure_process()
    import torch
    import torchvision

    with st.sidebar:
        st.markdown("### 🔦 ptexplore")
        st.page_link(HOME.file, label="Home", icon=HOME.icon)
        for i, p in enumerate(PAGES, start=1):
            st.page_link(p.file, label=f"{i}. {p.title}", icon=p.icon)
        st.divider()
        st.toggle(
            "Presenter mode",
            help="Larger text for a projector; the sidebar starts collapsed on every page "
            "(open it with the » arrow at the top left).",
            **SHARED.widget("presenter", default=False, url=link_bool),
        )
        with st.expander("About ptexplore", expanded=False):
            st.markdown(
                "Every number and picture here is computed live by real "
                f"torch {torch.__version__} / torchvision {torchvision.__version__} code "
                "running on this server — nothing is simulated. Where a figure is not "
                "this server's run of the library's own code, its page says so: the "
                "DataLoader lab's start-method timings are a quoted measurement "
                "(`python -m ptexplore.data.startup`), and the Augmentation lab runs AugMix "
                "and the auto-augment policies with their random draws taken first and "
                "their pixel work after (their `forward` re-implemented line by line, "
                "tested equal to torchvision's on many seeds)."
            )
            st.caption(f"{len(PAGES)} pages · CUDA available: {torch.cuda.is_available()}")
            st.caption(_CREDITS)


def seed_input(*, label: str = "Seed") -> int:
    """The sidebar seed: one value for the whole session, shown on every page that uses it."""
    with st.sidebar:
        seed = st.number_input(
            label,
            min_value=0,
            max_value=2**31 - 1,
            step=1,
            help="One seed for every page of this session: the same seed gives the same "
            "picture (grids, random init, random fills).",
            **SHARED.widget("seed", default=DEFAULT_SEED, url=link_int(0, 2**31 - 1)),
        )
    return int(seed)
