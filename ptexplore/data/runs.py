"""Run a lab script that starts DataLoader workers: code shown = code run, nothing left over.

:func:`run_script` executes the script text with :func:`ptexplore.live.run` inside
:func:`ptexplore.data.workers.watched`, reads the objects it left behind with ``read``
(into plain, frozen values), then drops the script's namespace — so its DataLoaders and
their iterators are freed and shut their own workers down — and only then lets the watch
end any worker still alive. The result says how many processes the run started and that
none of them is alive any more.
"""

from __future__ import annotations

import gc
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ptexplore import compat, isolate, live
from ptexplore.data.workers import (
    START_METHOD,
    ServerBoot,
    Watch,
    alive,
    booted,
    script_as_main,
    watched,
)
from ptexplore.i18n import N_
from ptexplore.limits import (
    DATA_RUN_LIMIT_S,
    SANDBOX_DATA_CPU_S,
    SANDBOX_DATA_MEMORY_MB,
    SANDBOX_DATA_SLACK_S,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Processes:
    """The worker processes one run started, and how they ended."""

    method: str
    started: int
    pids: tuple[int, ...]
    #: workers the DataLoader had not ended by the time the run was over (ptexplore did)
    left_running: int
    #: of those, how many ignored SIGTERM and had to be killed
    killed: int
    #: "time limit" / "cancelled" when the watchdog stopped the run
    stopped_by: str | None
    #: pids still alive after the run (always empty: tests pin it)
    still_alive: tuple[int, ...]
    limit_s: float
    #: the forkserver the workers were forked from (its measured start), if one ran
    server: ServerBoot | None = None


@dataclass(frozen=True, slots=True)
class ScriptRun:
    """What :func:`run_script` returns: the values read, the text the script printed, the
    exception it raised (type, message, traceback's last line) and the processes."""

    value: Any
    output: str
    error: live.Raised | None
    processes: Processes


def _processes(watch: Watch) -> Processes:
    pids = watch.pids
    return Processes(
        method=START_METHOD,
        started=len(pids),
        pids=pids,
        left_running=watch.left_running,
        killed=watch.killed,
        stopped_by=watch.stopped_by,
        still_alive=tuple(p for p in pids if alive(p)),
        limit_s=watch.limit_s,
        server=booted() if pids else None,
    )


def _shut_down_iterators(namespace: dict[str, Any], raised: BaseException | None) -> int:
    """Shut down, explicitly, the DataLoader iterators the script left: in its namespace
    (``it = iter(loader)``) or in the frames of an exception (``for batch in loader``).

    An iterator left in a traceback is otherwise freed by the garbage collector, and then
    its workers take 5 s each to go (measured, torch 2.14: 10.2 s for two workers, against
    0.05 s for the same ``_shutdown_workers()`` called directly): the collector clears the
    weak references first, so the index queues' finalizers have already stopped their
    feeder threads when the iterator's ``__del__`` sends each worker its final ``None``;
    the worker never sees it, and torch's join waits out its timeout. Returns how many
    iterators were shut down.
    """
    found = list(namespace.values())
    errors = [v for v in found if isinstance(v, BaseException)]
    if raised is not None:
        errors.append(raised)
    for err in errors:
        tb = err.__traceback__
        while tb is not None:
            found.extend(tb.tb_frame.f_locals.values())
            tb = tb.tb_next
    return compat.shut_down_dataloader_iterators(found)


def sandboxed(cancel: threading.Event | None, limit_s: float = DATA_RUN_LIMIT_S) -> isolate.Job:
    """The sandboxed job every run of this lab is: the DataLoader's main loop runs in a
    child of the sandbox helper (:mod:`ptexplore.isolate`), whose forkserver forks the
    workers; a crash or a blow-up there ends that run only, and ``cancel`` set (a newer run
    of the same learner) kills it at once, its workers with it."""
    limits = isolate.Limits(
        SANDBOX_DATA_MEMORY_MB, SANDBOX_DATA_CPU_S, limit_s + SANDBOX_DATA_SLACK_S
    )
    return isolate.job(N_("this DataLoader run"), limits, cancel=cancel, reuse=True)


def run_script(
    code: str,
    read: Callable[[dict[str, Any]], T],
    *,
    limit_s: float = DATA_RUN_LIMIT_S,
    cancel: threading.Event | None = None,
    cwd: Path | None = None,
) -> tuple[T, ScriptRun]:
    """Run ``code`` as a script file in ``cwd`` (:func:`~ptexplore.data.workers.script_as_main`:
    its workers import it as a learner's would); ``read(namespace)`` turns what it left
    behind into plain values.

    ``read`` runs even when the script raised (it sees whatever the script had made), and
    must copy what it needs: the namespace is dropped right after it returns.
    """
    with watched(limit_s=limit_s, cancel=cancel) as watch, script_as_main(code, cwd) as main:
        ran: live.Run | None = live.run(code, main)
        assert ran is not None
        output, error = ran.output, ran.error
        try:
            value = read(ran.namespace)
        finally:
            # free the script's loaders, and the traceback frames that may hold an
            # iterator: their own shutdown then joins the workers before the watch has to
            _shut_down_iterators(ran.namespace, ran.exception)
            if ran.exception is not None and ran.exception.__traceback__ is not None:
                traceback.clear_frames(ran.exception.__traceback__)
                ran.exception.__traceback__ = None
            ran.namespace.clear()
            ran = None
            # an exception caught inside the script sits in a reference cycle (the
            # worker's re-raised error and its frame) that still holds the iterator and
            # its queues' named semaphores, unlinked only when they are freed: a sandboxed
            # run's process exits without a collection of its own (cheap there: the
            # helper's heap is frozen, only the run's own objects are looked at)
            gc.collect()
    script = ScriptRun(value, output, error, _processes(watch))
    return value, script
