"""One learner's exclusive runs: one at a time, a newer one cancels the one in flight.

Used by :mod:`ptexplore.ui.lab` for sections with ``exclusive=True`` (the DataLoader lab's
runs start worker processes: a learner who changes a setting mid-run gets the new run, not
two sets of workers). Plain threading, no Streamlit: tested on its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from ptexplore.errors import Cancelled, LessonError
from ptexplore.i18n import _
from ptexplore.limits import DATA_SESSION_WAIT_S

R = TypeVar("R")


class RunSlot:
    """One learner session's exclusive runs (a page's): one at a time.

    :meth:`run` cancels a run in flight for a *different* key (the learner changed a
    setting mid-run), waits for it to stop, and reuses the last finished result when the
    key is the same (a rerun that changed nothing starts no second set of workers).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._guard = threading.Lock()
        self._active: tuple[Hashable, threading.Event] | None = None
        self._done: tuple[Hashable, Any] | None = None

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    def run(
        self,
        key: Hashable,
        job: Callable[[threading.Event], R],
        *,
        wait_s: float = DATA_SESSION_WAIT_S,
        on_wait: Callable[[], None] | None = None,
    ) -> R:
        with self._guard:
            if self._active is not None and self._active[0] != key:
                self._active[1].set()
        if not self._lock.acquire(blocking=False):
            if on_wait is not None:
                on_wait()
            if not self._lock.acquire(timeout=wait_s):
                raise LessonError(
                    _("Your previous run is still stopping after {s:.0f} s.").format(s=wait_s),
                    fix=_("Wait a few seconds, then change a setting or press Run again."),
                )
        try:
            if self._done is not None and self._done[0] == key:
                result: R = self._done[1]
                return result
            cancel = threading.Event()
            with self._guard:
                self._active = (key, cancel)
            result = job(cancel)
            if cancel.is_set():
                raise Cancelled(
                    _("This run was stopped: you started a newer one."),
                    fix=_("Nothing to do: the newer run's result is shown."),
                )
            self._done = (key, result)
            return result
        finally:
            with self._guard:
                self._active = None
            self._lock.release()
