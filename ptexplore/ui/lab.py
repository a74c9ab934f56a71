"""The lab skeleton every page uses: widgets → one frozen config → a pure library function
→ a frozen result → render → code.

A page is a :func:`lab_page` call: page setup, title and lesson, then its sections — one,
or several in lazy tabs (only the open tab runs). A :class:`Section` names the four parts;
:func:`run_section` runs them in order inside one error boundary:

1. ``controls()`` draws the widgets and returns a frozen, hashable config (typed input
   that does not parse raises a ``LessonError``: it is shown in place of the result, the
   widgets above it stay);
2. ``compute(config)`` is the library function. Pure ones are remembered per session by
   config (``memo=True``), so a rerun that changed nothing computes nothing; heavy ones
   (``heavy(config)`` names the job) run under the process-wide semaphore, and while they
   queue the page says "waiting for a free worker";
3. ``render(config, result)`` shows the result;
4. ``code(config, result)`` returns the code panel: the code that ran and what it printed.

A ``LessonError`` anywhere is shown with its fix; any other exception becomes an incident
(logged with the config and traceback; the page shows its id).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import streamlit as st

from ptexplore import limits
from ptexplore.live import Snippet
from ptexplore.pages import PageInfo
from ptexplore.ui.page import page_setup
from ptexplore.ui.render import code_panel, error_boundary, inert
from ptexplore.ui.state import PageState, begin_link, publish_link

C = TypeVar("C", bound=Hashable)
R = TypeVar("R")


def _no_code(_config: object, _result: object) -> Snippet | None:
    return None


def _never_heavy(_config: object) -> str | None:
    return None


@dataclass(frozen=True)
class Section(Generic[C, R]):
    """One lab: its widgets, its library function, its rendering and its code panel."""

    name: str
    controls: Callable[[], C]
    compute: Callable[[C], R]
    render: Callable[[C, R], None]
    code: Callable[[C, R], Snippet | None] = _no_code
    #: names the job when this config's compute is expensive (runs under the semaphore)
    heavy: Callable[[C], str | None] = _never_heavy
    #: False for computations on the session's own mutable objects (never remembered)
    memo: bool = True


def compute(page: PageInfo, section: Section[C, R], config: C) -> R:
    """``section.compute(config)``: remembered per session, heavy work under the semaphore."""
    job = section.heavy(config)
    # a heavy section's wait notice has its place on every run, remembered or not: the
    # page's element tree stays the same shape whether this run computed or not
    notice = st.empty() if job is not None else None

    def run() -> R:
        if job is None or notice is None:
            return section.compute(config)

        def waiting(what: str) -> None:
            notice.info(
                f"⏳ Waiting for a free worker: {what} starts as soon as another learner's "
                "heavy job finishes.",
                icon="⏳",
            )

        limits.on_wait(waiting)
        try:
            with limits.heavy(job):
                return section.compute(config)
        finally:
            limits.on_wait(None)
            notice.empty()

    if not section.memo:
        return run()
    return PageState(page).memo(f"_{section.name}", config, run)


def run_section(page: PageInfo, section: Section[C, R]) -> R | None:
    """Controls → compute → render → code panel, inside one error boundary."""
    config: C | None = None
    result: R | None = None
    with error_boundary(f"{page.key}.{section.name}", lambda: config):
        config = section.controls()
        result = compute(page, section, config)
        section.render(config, result)
        code_panel(section.code(config, result))
    return result


@dataclass(frozen=True)
class Tab:
    """One lazily computed tab: its label and what runs inside it when it is open."""

    label: str
    body: Callable[[], object]


def run_tabs(page: PageInfo, tabs: Sequence[Tab], *, name: str = "tab") -> str:
    """Lazy tabs: only the open one runs (inside its own error boundary). Returns its label."""
    state = PageState(page)
    labels = [t.label for t in tabs]
    containers = state.tabs(labels, name=name)
    opened = labels[0]
    for tab, box in zip(tabs, containers, strict=True):
        with box:
            if box.open:  # lazy tabs: only the open one runs
                opened = tab.label
                with error_boundary(f"{page.key}.{name}.{labels.index(tab.label)}"):
                    tab.body()
    return opened


def lab_page(
    page: PageInfo,
    *,
    intro: str | None = None,
    sections: Sequence[Section[Any, Any]] = (),
    tabs: Sequence[Tab] = (),
    body: Callable[[], object] | None = None,
) -> None:
    """A whole lab page: setup, title, lesson, then its sections, tabs or body."""
    page_setup(page)
    begin_link()
    st.title(f"{page.icon} {page.title}")
    if intro is None:
        st.caption(page.lesson)
    else:
        st.markdown(intro)
    link_note = st.empty()
    for section in sections:
        run_section(page, section)
    if tabs:
        run_tabs(page, tabs)
    if body is not None:
        with error_boundary(f"{page.key}.page"):
            body()
    refused = publish_link()
    if refused:
        link_note.info(
            "This link asked for "
            + ", ".join(f"{inert(k)} = {inert(v, limit=40)}" for k, v in refused)
            + ", which this page cannot take (a mistyped link, or one from another version "
            "of the app): the default is shown instead.",
            icon="🔗",
        )
