"""Shared page setup: the language, page config, process settings, the learning-path
sidebar, the seed.

Knows nothing about any lab: a page that needs more in the sidebar (the model picker)
draws it itself.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import ParamSpec

import streamlit as st

from ptexplore import i18n
from ptexplore.i18n import N_, Lang, _
from ptexplore.pages import HOME, PAGES, PageInfo
from ptexplore.runtime import configure_process
from ptexplore.ui.state import SHARED, link_bool, link_int

P = ParamSpec("P")

DEFAULT_SEED = 0
#: The one seed of the session: every page that draws random things reads it.
SEED_KEY = SHARED.key("seed")
PRESENTER_KEY = SHARED.key("presenter")
#: The session's language (a stable value, ``"en"``/``"zh"``); the address says ``?lang=zh``
#: when it is not the server's default, so a teacher's link opens every learner in it.
LANG_KEY = SHARED.key("lang")
LANG_PARAM = "lang"

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

#: Streamlit's file uploader: its button's text, its size line (drawn by Streamlit's
#: frontend, in English only)
_UPLOADER_TEXT = (
    '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p'
)
_UPLOADER_LIMIT = '[data-testid="stFileUploaderDropzoneInstructions"] span'


#: the page's language as HTML declares it (``<html lang>``)
_HTML_LANG = {Lang.EN: "en", Lang.ZH: "zh-CN"}


def _declare_language() -> None:
    """Tell the browser the page's language (``<html lang="zh-CN">``): it then draws Han
    text with Simplified Chinese glyphs (a pan-CJK font's default is often Japanese: Noto
    Sans CJK's on Debian) and screen readers read it as Chinese. Streamlit's page says
    ``en`` and has no setting for it; this fixed script (no user text) sets it, inside the
    About box, where its empty element takes no room."""
    tag = _HTML_LANG[i18n.current()]
    st.html(
        f"<script>document.documentElement.lang = {json.dumps(tag)};</script>",
        unsafe_allow_javascript=True,
    )


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _uploader_css() -> str:
    """The uploader's own text in the session's language, when that is not English:
    Streamlit has no setting for it, so its words are hidden and ours drawn in their place
    (the same 14 px type; the formats are in every uploader's label)."""
    if i18n.current() is Lang.EN:
        return ""
    upload = _css_string(_("Upload"))
    mb = st.get_option("server.maxUploadSize")
    limit = _css_string(_("At most {mb} MB per file").format(mb=mb))
    return (
        f"{_UPLOADER_TEXT}, {_UPLOADER_LIMIT} {{ font-size: 0; }}"
        f"{_UPLOADER_TEXT}::after {{ content: {upload}; font-size: 0.875rem; }}"
        f"{_UPLOADER_LIMIT}::after {{ content: {limit}; font-size: 0.875rem; }}"
    )


_CREDITS = N_(
    "Sample photos (from scikit-image's sample data): *chelsea* (Stefan van der Walt, CC0), "
    "*coffee* (Rachel Michetti, CC0), *astronaut* (NASA, public domain), *rocket* (SpaceX, "
    "public domain)."
)


def presenter() -> bool:
    """Is presenter mode on for this session (larger type, sidebar collapsed)?"""
    return bool(st.session_state.get(PRESENTER_KEY, False))


def _kept_language() -> Lang:
    """The language this session keeps (the sidebar control's value), else the server's."""
    return i18n.parse_lang(str(st.session_state.get(LANG_KEY, ""))) or i18n.default()


def session_language() -> Lang:
    """This session's language, set for the rest of the rerun: the sidebar control's value;
    on the session's first run, the address's ``?lang=`` or else the server's default."""
    if LANG_KEY not in st.session_state:
        asked = i18n.parse_lang(st.query_params.get(LANG_PARAM))
        st.session_state[LANG_KEY] = (asked or i18n.default()).value
    lang = _kept_language()
    i18n.set_current(lang)
    if lang is i18n.default():
        if LANG_PARAM in st.query_params:
            del st.query_params[LANG_PARAM]
    elif st.query_params.get(LANG_PARAM) != lang.value:
        st.query_params[LANG_PARAM] = lang.value
    return lang


def in_session_language(callback: Callable[P, None]) -> Callable[P, None]:
    """``callback`` run in this session's language (the sidebar's choice), not in the
    server's default that a widget callback starts in: callbacks run before the rerun's
    :func:`page_setup` sets it."""

    @functools.wraps(callback)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        with i18n.language(_kept_language()):
            callback(*args, **kwargs)

    return run


def _glossary() -> None:
    st.caption(_("The terms this interface uses in Chinese (术语表):"))
    st.markdown(i18n.glossary_markdown())


def page_setup(page: PageInfo) -> None:
    """The one setup every page (and the landing page) calls first."""
    session_language()
    # the toggle is drawn in the sidebar below, but the page's style needs its value now:
    # its widget state first (on a session's first run that reads a link's value)
    presenting = SHARED.widget("presenter", default=False, url=link_bool)
    large = presenter()
    st.set_page_config(
        page_title=f"{_(page.title)} · ptexplore" if page is not HOME else "ptexplore",
        page_icon=page.icon,
        layout="wide",
        initial_sidebar_state="collapsed" if large else "expanded",
    )
    st.html(f"<style>{_LAYOUT_CSS}{_PRESENTER_CSS if large else ''}{_uploader_css()}</style>")
    configure_process()
    import torch
    import torchvision

    with st.sidebar:
        st.markdown("### 🔦 ptexplore")
        st.page_link(HOME.file, label=_("Home"), icon=HOME.icon)
        for i, p in enumerate(PAGES, start=1):
            st.page_link(p.file, label=f"{i}. {_(p.title)}", icon=p.icon)
        st.divider()
        st.segmented_control(
            "Language · 语言",
            options=[lang.value for lang in Lang],
            format_func=lambda v: Lang(v).label,
            required=True,
            **SHARED.widget("lang"),
        )
        st.toggle(
            _("Presenter mode"),
            help=_(
                "Larger text for a projector; the sidebar starts collapsed on every page "
                "(open it with the » arrow at the top left)."
            ),
            **presenting,
        )
        with st.expander(_("About ptexplore"), expanded=False):
            st.markdown(
                _(
                    "Every number and picture here is computed live by real "
                    "torch {torch} / torchvision {torchvision} code "
                    "running on this server — nothing is simulated. Where a figure is not "
                    "this server's run of the library's own code, its page says so: the "
                    "DataLoader lab's start-method timings are a quoted measurement "
                    "(`python -m ptexplore.data.startup`), and the Augmentation lab runs AugMix "
                    "and the auto-augment policies with their random draws taken first and "
                    "their pixel work after (their `forward` re-implemented line by line, "
                    "tested equal to torchvision's on many seeds)."
                ).format(torch=torch.__version__, torchvision=torchvision.__version__)
            )
            st.caption(
                _("{n} pages · CUDA available: {cuda}").format(
                    n=len(PAGES), cuda=torch.cuda.is_available()
                )
            )
            st.caption(_(_CREDITS))
            _glossary()
            _declare_language()


def seed_input(*, label: str = N_("Seed")) -> int:
    """The sidebar seed: one value for the whole session, shown on every page that uses it."""
    with st.sidebar:
        seed = st.number_input(
            _(label),
            min_value=0,
            max_value=2**31 - 1,
            step=1,
            help=_(
                "One seed for every page of this session: the same seed gives the same "
                "picture (grids, random init, random fills)."
            ),
            **SHARED.widget("seed", default=DEFAULT_SEED, url=link_int(0, 2**31 - 1)),
        )
    return int(seed)
