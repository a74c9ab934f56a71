"""The one lab shape: widgets → a frozen config → a pure library function → a frozen
result → render → code. Every tab of every page is a :class:`Section` run here.

A page is one :func:`lab_page` call: page setup, title and lesson, an optional ``setup``
(widgets every tab shares, e.g. the Model explorer's model picker, drawn once), then its
sections — one, or several in lazy tabs (only the open tab runs). :func:`run_section`
runs a section's parts in order inside one error boundary:

1. ``controls(shared)`` draws the widgets and returns a frozen, hashable config (``shared``
   is what the page's ``setup`` returned, ``None`` without one). Typed input that does not
   parse raises a ``LessonError``: it is shown in place of the result, the widgets stay;
2. ``ready(config)`` — a precondition: ``None``, or what the learner does first ("upload a
   file"), said instead of a result (so results are never ``Optional``);
3. ``compute(config)`` is the library function, remembered per session by config: a rerun
   that changed nothing computes nothing. ``heavy(config)`` names an expensive job (it runs
   under the process-wide semaphore, and while it queues the page says so). With
   ``exclusive=True`` it is ``compute(config, cancel)``, the session's only run of the page:
   a newer config sets ``cancel`` for the run in flight and waits for it to stop;
4. ``views(config, result)`` builds the figures and tables drawn from a result (remembered
   with it: built once per result, not on every rerun);
5. ``render(config, result, views)`` draws;
6. ``code(config, result)`` returns the code panel: the code that ran and what it printed.

A ``LessonError`` anywhere is shown with its fix; any other exception becomes an incident
(logged with the config and traceback; the page shows its id).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import streamlit as st

from ptexplore import i18n, limits
from ptexplore.errors import Cancelled
from ptexplore.i18n import N_, _
from ptexplore.live import Snippet
from ptexplore.pages import PageInfo
from ptexplore.ui.page import page_setup
from ptexplore.ui.render import code_panel, error_boundary, inert
from ptexplore.ui.slot import RunSlot
from ptexplore.ui.state import PageState, begin_link, publish_link

C = TypeVar("C", bound=Hashable)
R = TypeVar("R")

CODE_TITLE = N_("Reproduce this in Python")


def _no_code(_config: object, _result: object) -> Snippet | None:
    return None


def _never_heavy(_config: object) -> str | None:
    return None


def _always_ready(_config: object) -> str | None:
    return None


def _no_views(_config: object, _result: object) -> None:
    return None


@dataclass(frozen=True)
class Section(Generic[C, R]):
    """One lab (a page, or one tab of it): widgets, library function, views, drawing, code."""

    name: str
    controls: Callable[[Any], C]
    #: ``compute(config)``; with ``exclusive``, ``compute(config, cancel)``
    compute: Callable[..., R]
    render: Callable[[C, R, Any], None]
    code: Callable[[C, R], Snippet | None] = _no_code
    #: the tab's label, when the page has several sections (English, marked with ``N_``:
    #: translated where it is drawn; the English stays the tab's id in links and state)
    label: str = ""
    #: ``None`` when the config can be computed, else what the learner should do first
    ready: Callable[[C], str | None] = _always_ready
    #: names the job when this config's compute is expensive (runs under the semaphore)
    heavy: Callable[[C], str | None] = _never_heavy
    #: one run per session for the page, cancellable (worker processes, long runs)
    exclusive: bool = False
    #: figures and tables built once per result (``render`` receives them)
    views: Callable[[C, R], Any] = _no_views
    code_title: str = CODE_TITLE
    code_expanded: bool = False


WAIT_TEXT = N_(
    "⏳ Waiting for a free worker: {what} starts as soon as another learner's heavy job finishes."
)
QUEUED_TEXT = N_("⏳ Your previous run is still stopping: this one starts as soon as it has.")


def _slot(page: PageInfo) -> RunSlot:
    return PageState(page).keep("_slot", RunSlot)


def compute(page: PageInfo, section: Section[C, R], config: C) -> R:
    """``section.compute(config)``: remembered per session, heavy work under the semaphore,
    exclusive work in the page's run slot."""
    job = section.heavy(config)
    waits = job is not None or section.exclusive
    # a waiting section's notice has its place on every run, remembered or not: the page's
    # element tree stays the same shape whether this run computed or not
    notice = st.empty() if waits else None

    def waiting(what: str) -> None:
        if notice is not None:
            notice.info(_(WAIT_TEXT).format(what=what), icon="⏳")

    def heavy(run: Callable[[], R]) -> R:
        if job is None:
            return run()
        limits.on_wait(waiting)
        try:
            with limits.heavy(job):
                if notice is not None:
                    notice.empty()
                return run()
        finally:
            limits.on_wait(None)

    def exclusive(cancel: threading.Event) -> R:
        def started() -> R:
            if cancel.is_set():  # a newer run of this learner arrived while this one queued
                raise Cancelled(
                    _("This run was replaced by a newer one before it started."),
                    fix=_("Nothing to do: the newer run's result is shown."),
                )
            return section.compute(config, cancel)

        return heavy(started)

    def queued() -> None:
        if notice is not None:
            notice.info(_(QUEUED_TEXT), icon="⏳")

    lang = i18n.current()  # a result may hold text a learner reads: one per language

    def run() -> R:
        try:
            if section.exclusive:
                return _slot(page).run((section.name, config, lang), exclusive, on_wait=queued)
            return heavy(lambda: section.compute(config))
        finally:
            if notice is not None:
                notice.empty()

    return PageState(page).memo(f"_{section.name}", (config, lang), run)


def run_section(page: PageInfo, section: Section[C, R], shared: object = None) -> None:
    """Controls → ready → compute → views → render → code panel, in one error boundary."""
    config: C | None = None
    with error_boundary(f"{page.key}.{section.name}", lambda: config):
        config = section.controls(shared)
        todo = section.ready(config)
        if todo is not None:
            st.info(todo, icon="👆")  # ready() returns translated text
            return
        result = compute(page, section, config)
        views = PageState(page).memo(
            f"_{section.name}.views",
            (config, id(result), i18n.current()),
            lambda: section.views(config, result),
        )
        section.render(config, result, views)
        code_panel(
            section.code(config, result),
            title=_(section.code_title),
            expanded=section.code_expanded,
        )


def run_sections(page: PageInfo, sections: Sequence[Section[Any, Any]], shared: object) -> None:
    """One section as it is; several as lazy tabs (only the open one runs)."""
    if len(sections) == 1:
        run_section(page, sections[0], shared)
        return
    labels = [s.label or s.name for s in sections]
    boxes = PageState(page).tabs(labels)
    for section, box in zip(sections, boxes, strict=True):
        with box:
            if box.open:  # lazy tabs: only the open one runs
                run_section(page, section, shared)


def lab_page(
    page: PageInfo,
    *,
    sections: Sequence[Section[Any, Any]],
    intro: str | None = None,  # English, marked with N_ (translated here)
    setup: Callable[[], object] | None = None,
) -> None:
    """A whole lab page: setup, title, lesson, the shared widgets, then its sections."""
    begin_link()  # first: page_setup links the shared widgets (presenter mode)
    page_setup(page)
    st.title(f"{page.icon} {_(page.title)}")
    if intro is None:
        st.caption(_(page.lesson))
    else:
        st.markdown(_(intro))
    link_note = st.empty()
    shared: object = None
    ok = setup is None
    if setup is not None:
        with error_boundary(f"{page.key}.setup"):
            shared = setup()
            ok = True
    if ok:
        run_sections(page, sections, shared)
    refused = publish_link()
    if refused:
        link_note.info(
            _(
                "This link asked for {values}, which this page cannot take (a mistyped link, "
                "or one from another version of the app): the default is shown instead."
            ).format(values=", ".join(f"{inert(k)} = {inert(v, limit=40)}" for k, v in refused)),
            icon="🔗",
        )
