"""Shared page setup: every page (and the landing page) calls :func:`page_setup` first."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import streamlit as st

from ptexplore.errors import LessonError
from ptexplore.models.catalog import ModelEntry
from ptexplore.pages import HOME, PAGES, PageInfo
from ptexplore.runtime import configure_torch

#: session_state keys that outlive a page switch (widget keys are dropped by Streamlit
#: when the widget is not rendered in a run, so persistent values live under these).
_PERSIST_PREFIX = "_ptx."
DEFAULT_SEED = 0
#: the sidebar seed's widget key, shared by every page that draws random things
SEED_KEY = "sidebar.seed"


@dataclass(frozen=True, slots=True)
class PageContext:
    """What the shared sidebar gave the page."""

    seed: int | None  # the sidebar seed, when the page asked for one
    model: ModelEntry | None  # the chosen model, when the page asked for the picker
    num_classes: int | None


def page_setup(page: PageInfo, *, seed: bool | str = False, model: bool = False) -> PageContext:
    """The one setup every page calls first.

    Page config, torch threads, and the shared sidebar: learning-path navigation, then the
    model picker (``model=True``; its choice persists across pages), then the seed
    (``seed=True`` or a label; persistent and shown), then "About".
    """
    st.set_page_config(
        page_title=f"{page.title} · ptexplore" if page is not HOME else "ptexplore",
        page_icon=page.icon,
        layout="wide",
        initial_sidebar_state="expanded",
    )
    configure_torch()
    import torch
    import torchvision

    with st.sidebar:
        st.markdown("### 🔦 ptexplore")
        st.page_link(HOME.file, label="Home", icon=HOME.icon)
        for i, p in enumerate(PAGES, start=1):
            st.page_link(p.file, label=f"{i}. {p.title}", icon=p.icon)
        st.divider()
        with st.expander("About ptexplore", expanded=False):
            st.markdown(
                "Every number and picture here is computed live by real "
                f"torch {torch.__version__} / torchvision {torchvision.__version__} code "
                "running on this server — nothing is simulated."
            )
            st.caption(f"{len(PAGES)} pages · CUDA available: {torch.cuda.is_available()}")
    entry: ModelEntry | None = None
    num_classes: int | None = None
    if model:
        from ptexplore.ui.models import model_picker  # lazy: ui.models imports this module

        entry, num_classes = model_picker()
    chosen_seed = None
    if seed:
        chosen_seed = seed_input(page, label=seed if isinstance(seed, str) else "Seed")
    return PageContext(seed=chosen_seed, model=entry, num_classes=num_classes)


def persistent(name: str, default: Any) -> str:
    """Return a widget key ``name`` whose value survives switching pages.

    Call before creating the widget, pass the returned key, and on each run the widget
    starts from the last value the learner chose (on any page sharing ``name``).
    """
    store = _PERSIST_PREFIX + name
    if store not in st.session_state:
        st.session_state[store] = default
    if name not in st.session_state:
        st.session_state[name] = st.session_state[store]
    return name


def remember(name: str) -> None:
    """Copy a widget's current value into its persistent store (use as on_change)."""
    st.session_state[_PERSIST_PREFIX + name] = st.session_state[name]


def seed_input(page: PageInfo, *, label: str = "Seed") -> int:
    """The sidebar seed for pages that draw random things; shown, shared, persistent."""
    key = persistent(SEED_KEY, DEFAULT_SEED)
    with st.sidebar:
        seed = st.number_input(
            label,
            min_value=0,
            max_value=2**31 - 1,
            step=1,
            key=key,
            on_change=remember,
            args=(key,),
            help="Same seed, same picture: every random draw on this page starts from it.",
        )
    return int(seed)


def show_error(err: LessonError) -> None:
    """Show a learner-facing error: the message, and the fix when there is one."""
    if err.fix:
        st.error(f"{err.message}\n\n**Fix:** {err.fix}", icon="🚫")
    else:
        st.error(err.message, icon="🚫")


@contextmanager
def report_errors() -> Iterator[None]:
    """Run a block; a :class:`LessonError` inside it is shown with ``st.error``.

    Only LessonError is caught: anything else is a bug and must surface in tests.
    """
    try:
        yield
    except LessonError as err:
        show_error(err)


def code_panel(
    code: str, *, title: str = "Reproduce this in Python", expanded: bool = False
) -> None:
    """The few lines of PyTorch that reproduce what the page shows."""
    with st.expander(f"🐍 {title}", expanded=expanded):
        st.code(code.strip() + "\n", language="python")
