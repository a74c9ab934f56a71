"""Code shown = code run: execute a snippet exactly as the page shows it, and capture
what it did — its printed output, the exception it raised, the warnings it emitted and
the objects it left behind.

Every page whose lesson is a piece of code runs that code through :func:`run`, then shows
the same text beside what it printed (a :class:`Snippet`). A contract test runs each
page's code panel in a fresh interpreter and checks it prints what the page shows.

Safe when many learners share one process (Streamlit runs each rerun in its own thread):

* ``print`` is captured by giving the snippet its own ``print`` (in its namespace), never
  by swapping ``sys.stdout``;
* warnings are captured *per thread*. ``warnings.catch_warnings`` swaps process-global
  state in Python 3.11, so two reruns at once would lose or steal each other's warnings.
  Instead :func:`capture_warnings` installs, once, a filter whose message matcher matches
  only in a thread that is capturing (so those threads see every warning, as with
  ``simplefilter("always")``) and a ``showwarning`` that hands a capturing thread's
  warnings to that thread's list and everyone else's to the previous handler. Other
  threads' warnings behave exactly as before.

Limits: a warning torch emits only once per process (``TORCH_WARN_ONCE``) is captured the
one time it happens; :func:`once_warning` records such texts deterministically.
"""

from __future__ import annotations

import builtins
import functools
import io
import threading
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import CodeType
from typing import Any, TextIO, cast

from ptexplore import compat

# ------------------------------------------------------------------ thread-routed warnings

_capture = threading.local()
_install_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class Caught:
    """One warning a snippet emitted: its category and its text."""

    category: str
    message: str

    @property
    def line(self) -> str:
        return f"{self.category}: {self.message}"


def _sink() -> list[Caught] | None:
    sink: list[Caught] | None = getattr(_capture, "sink", None)
    return sink


class _CapturingThread:
    """A ``warnings`` filter message pattern that matches only in a capturing thread.

    ``warnings`` calls ``pattern.match(text)``; any object with a ``match`` method works.
    """

    def match(self, _text: str) -> bool:
        return _sink() is not None

    def __repr__(self) -> str:
        return "<ptexplore.live: this thread is capturing>"


_FILTER: tuple[Any, ...] = ("always", _CapturingThread(), Warning, None, 0)
_previous_showwarning: list[Any] = []


def _clean(text: str) -> str:
    """torch's C++ warnings end with "(Triggered internally at …cpp:NN.)": drop that."""
    return text.split(" (Triggered internally at")[0].strip()


def _showwarning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    sink = _sink()
    if sink is not None:
        sink.append(Caught(category.__name__, _clean(str(message))))
        return
    previous = _previous_showwarning[-1] if _previous_showwarning else compat.original_showwarning()
    previous(message, category, filename, lineno, file, line)


def _ensure_installed() -> None:
    """Our filter first in ``warnings.filters`` and our ``showwarning`` in place.

    Checked on every capture: code that uses ``catch_warnings`` (pytest does, per test)
    restores the lists it saved, which may not hold ours.
    """
    if warnings.filters and warnings.filters[0] is _FILTER and warnings.showwarning is _showwarning:
        return
    with _install_lock:
        filters = cast(list[Any], warnings.filters)
        if not (filters and filters[0] is _FILTER):
            while _FILTER in filters:
                filters.remove(_FILTER)
            filters.insert(0, _FILTER)
            compat.warning_filters_changed()
        if warnings.showwarning is not _showwarning:
            _previous_showwarning[:] = [warnings.showwarning]
            warnings.showwarning = _showwarning


@contextmanager
def capture_warnings() -> Iterator[list[Caught]]:
    """Collect every warning this thread emits inside the block (other threads untouched)."""
    _ensure_installed()
    outer = _sink()
    caught: list[Caught] = []
    _capture.sink = caught
    try:
        yield caught
    finally:
        _capture.sink = outer
        _remember(caught)
        if outer is not None:
            outer.extend(caught)


# --------------------------------------------------------------------------- snippets


@dataclass(frozen=True, slots=True)
class Raised:
    """The exception a snippet raised: its type name, its text, and the traceback's last
    line(s) exactly as a fresh interpreter prints them."""

    kind: str
    message: str
    line: str


@dataclass(frozen=True, slots=True, eq=False)
class Run:
    """What running a snippet did. ``namespace`` holds the objects it left behind."""

    code: str
    stdout: str
    error: Raised | None
    exception: BaseException | None
    warnings: tuple[Caught, ...]
    namespace: dict[str, Any] = field(repr=False)

    @property
    def output(self) -> str:
        """What a terminal shows: the printed text, then the exception's last line."""
        if self.error is None:
            return self.stdout
        return self.stdout + self.error.line + "\n"


@functools.lru_cache(maxsize=1024)
def _compile(code: str) -> CodeType:
    return compile(code, "<snippet>", "exec")


def _printer(buffer: io.StringIO) -> Any:
    def snippet_print(
        *args: object, sep: str | None = " ", end: str | None = "\n", file: Any = None, **kw: Any
    ) -> None:
        builtins.print(*args, sep=sep, end=end, file=buffer if file is None else file)

    return snippet_print


def raised(err: BaseException) -> Raised:
    line = "".join(traceback.format_exception_only(type(err), err)).strip()
    return Raised(type(err).__name__, str(err), line)


def run(code: str, namespace: dict[str, Any] | None = None) -> Run:
    """Execute ``code`` (in ``namespace``, or a fresh one) and capture what it did.

    Runs like a script: statements in order until the first exception, which is caught
    and recorded (never raised). Only code ptexplore itself generated from validated
    choices is ever run here — never text a learner typed.
    """
    ns: dict[str, Any] = {"__name__": "__main__"} if namespace is None else namespace
    buffer = io.StringIO()
    ns["print"] = _printer(buffer)
    error: Raised | None = None
    exception: BaseException | None = None
    with capture_warnings() as caught:
        try:
            exec(_compile(code), ns)
        except Exception as err:  # a snippet's own exception is its result
            error, exception = raised(err), err
    return Run(code, buffer.getvalue(), error, exception, tuple(caught), ns)


# ---------------------------------------------------------------- what a page shows


@dataclass(frozen=True, slots=True)
class Snippet:
    """A code panel: the code, and what running it prints (stdout + a final exception
    line), as the page shows it. ``note`` qualifies the output (e.g. timings vary)."""

    code: str
    output: str
    note: str = ""


@functools.lru_cache(maxsize=256)
def snippet(code: str) -> Snippet:
    """Run ``code`` in a fresh namespace and return it with its output (cached by text:
    a fresh run of the same text prints the same thing)."""
    return Snippet(code, run(code).output)


# ------------------------------------------------------------- once-per-process warnings

#: Distinct warning texts captured in this process, oldest first (bounded).
_seen: dict[str, None] = {}
_SEEN_MAX = 512
_seen_lock = threading.Lock()


def _remember(caught: list[Caught]) -> None:
    if not caught:
        return
    with _seen_lock:
        for w in caught:
            if len(_seen) < _SEEN_MAX:
                _seen.setdefault(w.message, None)


def once_warning(needle: str, trigger: str) -> str:
    """The text of a warning torch prints only once per process (``TORCH_WARN_ONCE``).

    Every warning captured through this module is remembered; the first one containing
    ``needle`` is returned. If none was captured yet, ``trigger`` (code that makes torch
    emit it) runs once. "" when torch printed it before ptexplore could capture it.
    """
    for attempt in range(2):
        with _seen_lock:
            found = next((text for text in _seen if needle in text), None)
        if found is not None or attempt:
            return found or ""
        with _once_lock:
            run(trigger)
    return ""


_once_lock = threading.Lock()
