"""The renderers every page shares: errors, incidents, code panels, charts, user text.

* :func:`show_error` — a :class:`LessonError` or a torch :class:`Refusal`: the message
  and the fix, always both, in one style.
* :func:`error_boundary` — a block whose ``LessonError`` is shown in its place and whose
  unexpected exception (a bug) is logged server-side with an incident id, while the page
  shows one plain sentence with that id — never a traceback, never a blank.
* :func:`code_panel` — the code a page ran and what it printed (a ``live.Snippet``).
* :func:`chart` — a plain-dict figure sent without plotly's per-rerun validation.
* :func:`inert` — untrusted text as a literal code span (``ptexplore.text``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import streamlit as st
from plotly.basedatatypes import BaseFigure

from ptexplore import log
from ptexplore.errors import LessonError, Refusal
from ptexplore.figures import Figure
from ptexplore.i18n import N_, _
from ptexplore.live import Snippet
from ptexplore.text import code_span

#: Set to 1 by the test suite: after logging an incident, raise the exception again so a
#: bug fails the test that hit it (the incident test itself unsets it).
STRICT_ENV = "PTEXPLORE_STRICT"
INCIDENT_TEXT = N_("Something went wrong on the server while computing this")


def inert(text: object, *, limit: int = 80) -> str:
    """Untrusted text (a file name, a key, a module name) as a literal code span."""
    return code_span(str(text), limit=limit)


def show_error(err: LessonError | Refusal, *, call: str | None = None) -> None:
    """A learner-facing error: what went wrong, and what to do instead.

    For a :class:`Refusal`, ``call`` names the code torch refused (``y = x.view(6)``).
    """
    if isinstance(err, Refusal):
        head = _("{call} **failed** — ").format(call=code_span(call, limit=200)) if call else ""
        says = _("torch says: {line}").format(line=code_span(err.line, limit=600))
        st.error(f"{head}{says}\n\n{err.lesson}\n\n{_('**Fix:**')} {err.fix}", icon="🚫")
        return
    st.error(f"{err.message}\n\n{_('**Fix:**')} {err.fix}", icon="🚫")


def show_incident(incident: str) -> None:
    st.error(
        _(
            "{text} (incident `{incident}`): this is a bug in ptexplore, not something "
            "you did. The server log has the details under that id; try another setting, or "
            "tell your teacher the id."
        ).format(text=_(INCIDENT_TEXT), incident=incident),
        icon="🐞",
    )


@contextmanager
def error_boundary(where: str, config: Callable[[], object] | object = None) -> Iterator[None]:
    """Run a block; show a ``LessonError`` in its place, turn anything else into an incident.

    ``config`` (or a callable returning it, evaluated only when something fails) is
    logged with the traceback. Streamlit's own control flow (``st.stop``, ``st.rerun``)
    derives from ``BaseException`` and passes through untouched.
    """
    try:
        yield
    except LessonError as err:
        show_error(err)
    except Exception as exc:
        cfg = config() if callable(config) else config
        show_incident(log.incident(where, cfg, exc))
        if os.environ.get(STRICT_ENV) == "1":
            raise


def code_panel(
    snippet: Snippet | None, *, title: str = N_("Reproduce this in Python"), expanded: bool = False
) -> None:
    """The code the page ran, and what running it prints (stdout and a final error line).
    The code and its output are the same in every language; ``title`` (translated here) and
    the snippet's note are not code."""
    if snippet is None:
        return
    with st.expander(f"🐍 {_(title)}", expanded=expanded):
        st.code(snippet.code.strip() + "\n", language="python")
        if snippet.output:
            st.caption(
                _("Running it prints ({note}):").format(note=_(snippet.note))
                if snippet.note
                else _("Running it prints:")
            )
            text = snippet.output
            st.code(text, language="text", height=320 if text.count("\n") > 20 else "content")


class _Prevalidated(BaseFigure):  # type: ignore[misc]
    """A figure dict that ``st.plotly_chart`` sends as it is.

    ``st.plotly_chart`` validates a dict by building a ``go.Figure`` from it (milliseconds
    per figure, on every rerun), but trusts a ``BaseFigure``'s ``to_dict()``. The dicts
    come from ``ptexplore.figures`` builders, which the tests validate once.
    """

    def __init__(self, spec: Figure) -> None:
        self._spec = spec

    def to_dict(self) -> dict[str, Any]:
        return self._spec


def chart(spec: Figure, *, key: str, toolbar: bool = True) -> None:
    config = None if toolbar else {"displayModeBar": False}
    st.plotly_chart(_Prevalidated(spec), key=key, config=config)
