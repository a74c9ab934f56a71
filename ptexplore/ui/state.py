"""Typed, per-page session state: one key convention and one helper for every page.

Every key is ``"<page>.<name>"`` (``PageInfo.key`` + a name), for widgets and for values a
page keeps alike, so tests address them directly and pages never collide.

* :meth:`PageState.widget` — the keyword arguments for a value widget whose choice lasts
  the whole session: it survives page switches and closed tabs (Streamlit's
  ``persist_state="session"``), and resets to its default when the inputs it depends on
  change (``reset_on=``: e.g. the parameter picker when the model changes).
* :meth:`PageState.keep` — a value the session keeps (the Tensor lab's live arrays, the
  view lab's writes), recomputed when its inputs change.
* :meth:`PageState.memo` — a pure function's result, recomputed only when its config
  changes: a rerun with nothing changed costs a dict lookup.
* :meth:`PageState.tabs` — lazy tabs that remember which one is open across page switches.

Only values the session owns live here: nothing is shared between learners.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

import streamlit as st
from streamlit.elements.lib.mutable_tab_container import TabContainer

from ptexplore.pages import PageInfo

T = TypeVar("T")
_INPUTS = "#inputs"
_UNSET: Any = object()
_OPEN = "#open"


class PageState:
    """The session state of one page (or of ``shared``, for the sidebar seed)."""

    __slots__ = ("prefix",)

    def __init__(self, page: PageInfo | str) -> None:
        self.prefix = page if isinstance(page, str) else page.key

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}"

    # -------------------------------------------------------------------- widgets

    def widget(
        self, name: str, *, reset_on: Hashable = None, default: object = _UNSET
    ) -> dict[str, Any]:
        """``key=`` and ``persist_state=`` for a value widget called ``name``.

        With ``reset_on``, the widget goes back to its default whenever that value differs
        from the one it had on the previous run (its options or meaning changed).
        ``default`` seeds the value through session state instead of the widget's own
        ``value=`` (needed when callbacks also set it: Streamlit refuses both).
        """
        key = self.key(name)
        if reset_on is not None:
            marker = key + _INPUTS
            if marker in st.session_state and st.session_state[marker] != reset_on:
                # set, not just drop: a session-persisted widget would otherwise bring its
                # old (now meaningless) value back
                if default is not _UNSET:
                    st.session_state[key] = default
                else:
                    st.session_state.pop(key, None)
            st.session_state[marker] = reset_on
        if default is not _UNSET and key not in st.session_state:
            st.session_state[key] = default
        return {"key": key, "persist_state": "session"}

    def get(self, name: str, default: T) -> T:
        """The current value under ``name`` (a widget's choice or a kept value)."""
        value: T = st.session_state.get(self.key(name), default)
        return value

    def set(self, name: str, value: object) -> None:
        st.session_state[self.key(name)] = value

    def drop(self, name: str) -> None:
        st.session_state.pop(self.key(name), None)

    # --------------------------------------------------------------------- values

    def keep(self, name: str, make: Callable[[], T], *, inputs: Hashable = None) -> T:
        """The value this session keeps under ``name``; made by ``make()`` the first time
        and again whenever ``inputs`` differ from those it was made for."""
        key = self.key(name)
        marker = key + _INPUTS
        if key not in st.session_state or st.session_state.get(marker) != inputs:
            st.session_state[key] = make()
            st.session_state[marker] = inputs
        value: T = st.session_state[key]
        return value

    def memo(self, name: str, config: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` for this ``config``, remembered until the config changes."""
        return self.keep(name, compute, inputs=config)

    # ----------------------------------------------------------------------- tabs

    def tabs(self, labels: Sequence[str], *, name: str = "tab") -> list[TabContainer]:
        """``st.tabs`` that run only the open tab (``tab.open``) and reopen the learner's
        tab after a page switch (the open one is remembered on every run)."""
        key = self.key(name)
        remembered = st.session_state.get(key + _OPEN)
        if key not in st.session_state and remembered in labels:
            # the tabs widget itself is not kept across page switches: seed it (passing
            # default= instead would change the widget's identity whenever it changes)
            st.session_state[key] = remembered
        boxes = list(st.tabs(list(labels), key=key, on_change="rerun"))
        for label, box in zip(labels, boxes, strict=True):
            if box.open:
                st.session_state[key + _OPEN] = label
        return boxes

    def open_tab(self, labels: Sequence[str], *, name: str = "tab") -> str:
        """The label of the tab that is open now (its widget value, else the remembered)."""
        key = self.key(name)
        current = st.session_state.get(key) or st.session_state.get(key + _OPEN)
        return str(current) if current in labels else labels[0]


#: State shared by every page of the session (the sidebar seed).
SHARED = PageState("shared")
