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

import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import streamlit as st

from ptexplore import i18n, limits
from ptexplore.i18n import _
from ptexplore.pages import ALL_PAGES, HOME, PageInfo

T = TypeVar("T")


class Tab(Protocol):
    """What ``st.tabs(..., on_change="rerun")`` returns per tab, as this module uses it
    (its class lives in Streamlit's internal modules: only its public surface is named)."""

    @property
    def open(self) -> bool | None: ...

    def __enter__(self) -> Any: ...

    def __exit__(
        self, typ: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> Any: ...


_INPUTS = "#inputs"
#: "no value" for defaults and for :meth:`PageState.link` (``None`` can be a real value)
UNSET: Any = object()
_UNSET = UNSET
_OPEN = "#open"
#: beside a tabs widget's key: the language it was last drawn in
_LANG = "#lang"


class PageState:
    """The session state of one page (or of ``shared``, for the sidebar seed)."""

    __slots__ = ("prefix",)

    def __init__(self, page: PageInfo | str) -> None:
        self.prefix = page if isinstance(page, str) else page.key

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}"

    # -------------------------------------------------------------------- widgets

    def widget(
        self,
        name: str,
        *,
        reset_on: Hashable = None,
        default: object = _UNSET,
        url: LinkValue | None = None,
    ) -> dict[str, Any]:
        """``key=`` and ``persist_state=`` for a value widget called ``name``.

        With ``reset_on``, the widget goes back to its default whenever that value differs
        from the one it had on the previous run (its options or meaning changed).
        ``default`` seeds the value through session state instead of the widget's own
        ``value=`` (needed when callbacks also set it: Streamlit refuses both).

        ``url`` (with ``default``) puts the choice in the page's address as
        ``?<page>.<name>=<stable value>`` whenever it differs from the default, so a
        teacher's link opens the same demo: a new session takes the address's value,
        parsed by ``url`` (an enum class, :func:`link_int`, :func:`link_text`, …); a value it
        refuses falls back to the default and the page says so (see :func:`lab_page`).
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
        if url is not None:
            if default is _UNSET:
                raise TypeError(f"{key}: a linked widget needs default= (the value left out)")
            value = self.link(name, default=default, url=url)
            if value is not _UNSET:
                # options given as plain values (``[m.value for m in Method]``) take
                # plain values, not the enum members an enum class parses to
                st.session_state[key] = str(value) if type(default) is str else value
        if default is not _UNSET and key not in st.session_state:
            st.session_state[key] = default
        return {"key": key, "persist_state": "session"}

    def link(self, name: str, *, default: object, url: LinkValue) -> Any:
        """Put the value kept under ``name`` into the page's address (when it differs from
        ``default``), and return the address's value for it, parsed by ``url``, on the
        session's first run (before anything is kept under ``name``); otherwise, or when
        ``url`` refuses it (the page then says so), ``_UNSET``. For values a page keeps
        itself (the augmentation lab's preset); widgets use ``widget(url=...)``."""
        key = self.key(name)
        _link().linked[key] = default
        if key in st.session_state or key not in st.query_params:
            return _UNSET
        try:
            return url(st.query_params[key])
        except ValueError:
            _link().refused.append((key, st.query_params[key]))
            return _UNSET

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

    def tabs(self, labels: Sequence[str], *, name: str = "tab", url: bool = True) -> list[Tab]:
        """``st.tabs`` that run only the open tab (``tab.open``) and reopen the learner's
        tab after a page switch (the open one is remembered on every run). With ``url``,
        the open tab (other than the first) is in the address as its :func:`slug`.

        ``labels`` are English (the tabs' ids: in the address and in state whatever the
        language); each is shown translated, and a language switch keeps the open tab."""
        key = self.key(name)
        shown = [_(label) for label in labels]
        remembered = st.session_state.get(key + _OPEN)
        if url:
            _link().linked[key] = slug(labels[0])
            _link().tabs[key] = {slug(label): label for label in labels}
            if key not in st.session_state and key in st.query_params:
                asked = st.query_params[key]
                by_slug = _link().tabs[key]
                if asked in by_slug:
                    remembered = by_slug[asked]
                else:
                    _link().refused.append((key, asked))
        held = st.session_state.get(key)
        lang = i18n.current()
        switched = st.session_state.get(key + _LANG, lang) != lang
        st.session_state[key + _LANG] = lang
        # the tab to open: one set by its English id (a test, a link), else the remembered
        # one. The tabs widget itself is not kept across page switches: seed it (passing
        # default= instead would change the widget's identity whenever it changes); a
        # language switch changes the labels, so the widget's identity: seed it again (also
        # where a label reads the same in both languages)
        target = held if held in labels else remembered
        if target in labels and (held not in shown or switched):
            st.session_state[key] = _(str(target))
        boxes: list[Tab] = list(st.tabs(shown, key=key, on_change="rerun"))
        for label, box in zip(labels, boxes, strict=True):
            if box.open:
                st.session_state[key + _OPEN] = label
        return boxes

    def open_tab(self, labels: Sequence[str], *, name: str = "tab") -> str:
        """The label of the tab that is open now (its widget value, else the remembered)."""
        key = self.key(name)
        by_shown = {_(label): label for label in labels}
        current = by_shown.get(str(st.session_state.get(key))) or st.session_state.get(key + _OPEN)
        return str(current) if current in labels else labels[0]


#: State shared by every page of the session (the sidebar seed).
SHARED = PageState("shared")


# ---------------------------------------------------------------------- deep links

#: Parses a value from the address into what the widget holds; ``ValueError`` = refused.
LinkValue = Callable[[str], object]

_LINK_KEY = "_ptexplore.link"


@dataclass
class _LinkRun:
    """What this run's linked widgets are (key → default) and what the address asked
    for that they could not take."""

    linked: dict[str, object] = field(default_factory=dict)
    tabs: dict[str, dict[str, str]] = field(default_factory=dict)
    refused: list[tuple[str, str]] = field(default_factory=list)


def _link() -> _LinkRun:
    run = st.session_state.get(_LINK_KEY)
    if not isinstance(run, _LinkRun):
        run = st.session_state[_LINK_KEY] = _LinkRun()
    return run


def begin_link() -> None:
    """Start a page run: forget the previous run's linked widgets."""
    st.session_state[_LINK_KEY] = _LinkRun()


def publish_link() -> list[tuple[str, str]]:
    """Write every linked widget that differs from its default into the address (and
    remove the others); returns the address values that were refused this run."""
    run = _link()
    params = st.query_params
    for key, default in run.linked.items():
        value = st.session_state.get(key, default)
        if key in run.tabs:
            value = slug(str(st.session_state.get(key + _OPEN, value)))
        wanted = None if value == default else str(value)
        if wanted is None:
            if key in params:
                del params[key]
        elif params.get(key) != wanted:
            params[key] = wanted
    # values for widgets not on screen now (another page's, a closed tab's, a hidden
    # option's) would open a demo other than the one shown: the address keeps only these
    ours = {p.key for p in (HOME, *ALL_PAGES)} | {SHARED.prefix}
    for key in list(params):
        if key.partition(".")[0] in ours and key not in run.linked:
            del params[key]
    return list(run.refused)


def slug(label: str) -> str:
    """A tab label as it appears in an address: ``"📐 Shapes & MACs"`` → ``shapes-macs``."""
    words = re.findall(r"[a-z0-9]+", label.lower())
    return "-".join(words) or "tab"


def link_int(low: int, high: int) -> LinkValue:
    """An integer in ``[low, high]`` (what a number input with those bounds accepts)."""

    def parse(text: str) -> int:
        value = int(text.strip())
        if not low <= value <= high:
            raise ValueError(f"{value} is outside {low}…{high}")
        return value

    return parse


def link_text(value: str) -> str:
    """Any text up to :data:`~ptexplore.limits.MAX_LINK_TEXT` characters (the lab checks it)."""
    if len(value) > limits.MAX_LINK_TEXT:
        raise ValueError("too long")
    return value


def link_bool(value: str) -> bool:
    """``true`` or ``false`` (as written back: ``True``/``False``)."""
    words = {"true": True, "1": True, "false": False, "0": False}
    if value.strip().lower() not in words:
        raise ValueError(f"{value!r} is not true or false")
    return words[value.strip().lower()]


def link_choice(options: Sequence[str]) -> LinkValue:
    """One of ``options`` exactly."""
    allowed = frozenset(options)

    def parse(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"{value!r} is not an option")
        return value

    return parse
