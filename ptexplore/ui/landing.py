"""The landing page: what ptexplore is, the class's address when serving one, one card per
page of the learning path."""

from __future__ import annotations

import streamlit as st

from ptexplore import i18n
from ptexplore.classroom import class_url, in_language, qr_png
from ptexplore.i18n import _
from ptexplore.models import user
from ptexplore.pages import HOME, PAGES
from ptexplore.text import code_span
from ptexplore.ui.page import page_setup
from ptexplore.ui.render import inert


def classroom_card(url: str) -> None:
    """The address learners open, big, with its QR code (only when serving a class); a
    teacher who switched the language shares an address that opens in it."""
    lang = i18n.current()
    url = in_language(url, None if lang is i18n.default() else lang.value)
    with st.container(border=True):
        text, qr = st.columns([3, 1], vertical_alignment="center")
        with text:
            st.subheader(_("🏫 Learners: open this address"))
            st.markdown(f"### {code_span(url)}")
            st.caption(
                _(
                    "Or scan the code. Every page's address opens what its sender sees (model, "
                    "tab, shapes, preset, seed, language): copy it from the address bar to put "
                    "one demo on every screen. *Presenter mode* in the sidebar enlarges text "
                    "for a projector."
                )
            )
        qr.image(qr_png(url), caption=_("Scan to open"), width=180, output_format="PNG")


def user_models_card() -> None:
    """The operator's own models (PTEXPLORE_MODELS): how many loaded, and each one that did
    not with its error in one sentence (inert text: it may quote the model's own code)."""
    if not user.configured():
        return
    reg = user.registry()  # loaded once per process; never raises
    if reg.failures:
        with st.container(border=True):
            st.subheader(_("⚠️ Models that failed to load"))
            st.caption(
                _(
                    "From {env} (the server's --model options). The rest "
                    "of the app works; fix the model and restart the server to add it."
                ).format(env=code_span(user.MODELS_ENV))
            )
            for f in reg.failures:
                st.markdown(f"- {inert(f.spec, limit=120)}: {inert(f.message, limit=400)}")
    if reg.models:
        names = ", ".join(inert(m.spec.path, limit=80) for m in reg.models[:8])
        more = _(" and {n} more").format(n=len(reg.models) - 8) if len(reg.models) > 8 else ""
        st.caption(
            _("Your models ({n}): {names}{more}, first in every picker.").format(
                n=len(reg.models), names=names, more=more
            )
        )


def render_landing() -> None:
    page_setup(HOME)
    st.title(_("🔦 ptexplore — see PyTorch"))
    url = class_url()
    if url is not None:
        classroom_card(url)
    user_models_card()
    st.markdown(
        _(
            "A set of small labs where every figure is computed **live** by real torch and "
            "torchvision code on this machine. Change a number, and the real thing runs again. "
            "Where a popular explanation is wrong, the page shows what actually happens."
        )
    )
    cols = st.columns(2)
    for i, page in enumerate(PAGES):
        with cols[i % 2], st.container(border=True):
            st.subheader(f"{page.icon} {_(page.title)}")
            st.markdown(_(page.lesson))
            st.page_link(page.file, label=_("Open {title}").format(title=_(page.title)), icon="➡️")
    where = (
        _("Served to a class from this machine.")
        if url is not None
        else _("Runs locally: the server listens on 127.0.0.1 only.")
    )
    st.caption(
        _("{where} Sample photo credits: *About ptexplore* in the sidebar.").format(where=where)
    )
