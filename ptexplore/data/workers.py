"""DataLoader worker processes inside a threaded server: started deliberately, always ended.

**The start method.** Streamlit runs every rerun as a thread of one server process, so the
process that starts DataLoader workers is always multi-threaded:

* ``fork`` copies the whole process but only the calling thread: a lock another thread
  held at that instant (an allocator's, a logging handler's, OpenMP's) stays locked in the
  child forever, and the worker can hang on its first call — CPython 3.12 warns about
  exactly this. Fastest, and unsafe here.
* ``spawn`` starts a fresh interpreter per worker: safe, but every worker imports torch
  (and torchvision) again — seconds per worker, every epoch without persistent workers.
* ``forkserver`` (chosen) starts one clean, single-threaded helper process once, with
  torch, torchvision and the lab's datasets preloaded (``set_forkserver_preload``); each
  worker is then a fork *of that helper*, which holds no other thread's locks. Safe, and
  a worker starts in tens of milliseconds.

``python -m ptexplore.data.startup`` measures the three (see :data:`MEASURED`).

**Accounting.** :func:`worker_context` sets up that forkserver context (the one a
script's ``multiprocessing_context="forkserver"`` names), whose processes
register with the run that started them (per thread: each learner's rerun is a thread).
:func:`watched` wraps one run: a watchdog stops the run's workers at the hard time limit
or when the run is cancelled, and at the end any worker still alive is terminated, then
killed. Nothing outlives its run. Workers never re-import the parent's ``__main__`` (the
server's entry point, the sandbox helper's) — except a lab script's, which runs as a file
and as ``__main__`` (:func:`script_as_main`) exactly as at a learner's home.

:class:`RunSlot` keeps one run per learner session at a time: a rerun with a different
config cancels the run in flight, and waits (bounded) until it has stopped.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import select
import sys
import tempfile
import threading
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import context as mp_context
from multiprocessing import forkserver
from pathlib import Path
from typing import Any, TypeVar

from ptexplore import compat
from ptexplore.i18n import N_
from ptexplore.limits import DATA_RUN_LIMIT_S

R = TypeVar("R")

START_METHOD = "forkserver"
#: What the forkserver imports once, before it forks any worker.
PRELOAD = (
    "torch",
    "numpy",
    "torchvision.transforms.v2",
    "ptexplore.data.datasets",
    "ptexplore.data.preload",
)

#: Start-up of the three start methods, measured with ``python -m ptexplore.data.startup``
#: (2 DataLoader workers, a trivial dataset, 3 rounds, two sessions; a 2-core box at load
#: average 2–4, torch 2.14.1, Python 3.11): seconds from ``iter(loader)`` to the first batch
#: (English marked with ``N_``: the page translates it where it quotes it).
MEASURED: dict[str, str] = {
    "fork": N_("0.08–0.39 s (unsafe here)"),
    "spawn": N_("2.2–6.2 s, every time"),
    "forkserver": N_("2.5–5.7 s once (the forkserver's own start), then 0.05–0.09 s"),
}


# ------------------------------------------------------------------ the tracked context


#: The file of the lab script running as this process's ``__main__`` (at most one).
_main_script: list[str] = []
_main_lock = threading.Lock()


@contextmanager
def script_as_main(code: str, cwd: Path | None = None) -> Iterator[dict[str, Any]]:
    """Run a lab script as a learner runs it, ``python script.py``: ``code`` in a file,
    its namespace this process's ``__main__`` module (so a class it defines pickles as
    ``__main__.Name``), and every worker started meanwhile imports that file as
    ``__mp_main__`` to find those classes — the script keeps its work under
    ``if __name__ == "__main__":``. ``cwd``: the folder it runs in (the workers too).

    Swaps process-global state (``sys.modules["__main__"]``, the working directory): only
    in a sandboxed child (one job at a time) or a command-line tool, never in the server.
    """
    with _main_lock, tempfile.TemporaryDirectory(prefix="ptexplore-script-") as folder:
        path = Path(folder, "lab_script.py")
        path.write_text(code)
        main = types.ModuleType("__main__")
        main.__file__ = str(path)
        main.__spec__ = None
        # multiprocessing aliases ``__mp_main__`` to the main module: a class a worker
        # defined (its ``__module__`` is ``__mp_main__`` there) is looked up in it here
        saved = {name: sys.modules.get(name) for name in ("__main__", "__mp_main__")}
        here = os.getcwd()
        sys.modules["__main__"] = sys.modules["__mp_main__"] = main
        _main_script[:] = [str(path)]
        try:
            if cwd is not None:
                os.chdir(cwd)
            yield main.__dict__
        finally:
            os.chdir(here)
            _main_script.clear()
            for name, module in saved.items():
                if module is None:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = module


_local = threading.local()


def _runs() -> list[Watch]:
    runs: list[Watch] | None = getattr(_local, "runs", None)
    if runs is None:
        runs = []
        _local.runs = runs
    return runs


def _end_with(owner: int) -> None:
    """In a worker: exit when the process that started it exits (a worker is the
    forkserver's child, so torch's own check, "has my parent changed?", never fires)."""
    try:
        fd = os.pidfd_open(owner)
    except OSError:  # gone already, or a kernel before 5.3: poll instead
        while alive(owner):
            time.sleep(0.5)
        os._exit(1)
    select.select([fd], [], [])
    os._exit(1)


def _script_main() -> str | None:
    return _main_script[0] if _main_script else None


class WorkerProcess(compat.forkserver_process(_script_main)):  # type: ignore[misc]
    """A forkserver process that registers with the run (this thread's) that started it,
    and ends when the process that started it ends (killed at a sandbox's limit, say).
    It re-imports only a lab script as its main (:func:`ptexplore.compat.forkserver_process`):
    a worker started while one runs as ``__main__`` (:func:`script_as_main`) imports it, as
    ``python script.py`` would have it — never the server's or the sandbox helper's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._owner = os.getpid()

    def run(self) -> None:
        threading.Thread(
            target=_end_with, args=(self._owner,), name="ptexplore-owner", daemon=True
        ).start()
        super().run()

    def start(self) -> None:
        super().start()
        runs = _runs()
        if runs:
            runs[-1].add(self)


_setup_lock = threading.Lock()
_preloaded: list[bool] = []


def worker_context() -> mp_context.ForkServerContext:
    """multiprocessing's own ``forkserver`` context — the one a script's
    ``DataLoader(..., multiprocessing_context="forkserver")`` gets — set up once per
    process: its processes are :class:`WorkerProcess` es (they register with the run that
    started them and end with their owner) and its server preloads :data:`PRELOAD`.

    The first call (the sandbox helper's start, before any job) sets both; afterwards
    nothing changes them.
    """
    ctx = multiprocessing.get_context("forkserver")
    if not _preloaded:
        with _setup_lock:
            if not _preloaded:
                ctx.set_forkserver_preload(list(PRELOAD))
                # the context object's own attribute, read by ctx.Process(...) in torch's
                # DataLoader; an instance attribute shadows the class's ForkServerProcess
                setattr(ctx, "Process", WorkerProcess)  # noqa: B010
                _preloaded.append(True)
    return ctx


@dataclass(frozen=True, slots=True)
class ServerBoot:
    """The forkserver's own start (once per server process)."""

    seconds: float
    pid: int


_boot: list[ServerBoot] = []


def _noop() -> None:
    """What the warm-up process runs (nothing: its start is what is measured)."""


def ensure_forkserver() -> ServerBoot:
    """Start the forkserver and wait until it can fork (it imports :data:`PRELOAD` first:
    seconds, once per server process). Returns how long that took, the first time."""
    ctx = worker_context()
    if _boot:
        return _boot[0]
    with _boot_lock:
        if not _boot:
            t0 = _started[0] if _started else time.perf_counter()
            p = ctx.Process(target=_noop, name="ptexplore-forkserver-warmup")
            p.daemon = True
            p.start()
            p.join(DATA_RUN_LIMIT_S)
            if p.is_alive():
                p.kill()
                p.join(1.0)
            _boot.append(ServerBoot(time.perf_counter() - t0, forkserver_pid() or 0))
    return _boot[0]


_boot_lock = threading.Lock()
#: when :func:`sandbox_start` started the forkserver (its boot is measured from there)
_started: list[float] = []


def booted() -> ServerBoot | None:
    """The forkserver's measured start, once it has started (None before)."""
    return _boot[0] if _boot else None


# ----------------------------------------------------------------------- one run, watched


def alive(pid: int) -> bool:
    """Does process ``pid`` still exist as a live process (not a zombie)? Linux ``/proc``."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


@dataclass(eq=False)
class Watch:
    """What one run's watchdog saw: the worker processes it started and how they ended."""

    limit_s: float
    started: list[WorkerProcess] = field(default_factory=list)
    #: "time limit" or "cancelled" once the watchdog stopped the run's workers
    stopped_by: str | None = None
    #: workers still alive when the run ended (ptexplore terminated them)
    left_running: int = 0
    #: workers that ignored SIGTERM and were killed
    killed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, p: WorkerProcess) -> None:
        with self._lock:
            self.started.append(p)
            stop = self.stopped_by is not None
        if stop:
            _signal(p)

    def processes(self) -> list[WorkerProcess]:
        with self._lock:
            return list(self.started)

    @property
    def pids(self) -> tuple[int, ...]:
        return tuple(int(p.pid) for p in self.processes() if p.pid is not None)


def _signal(p: WorkerProcess) -> None:
    """SIGTERM, without polling (the run's own thread may be polling the same process)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):  # gone, or closed
        p.terminate()


def _finish(procs: list[WorkerProcess], *, grace_s: float = 2.0) -> tuple[int, int]:
    """Terminate, then kill, every process still alive; returns (terminated, killed)."""
    running = [p for p in procs if p.is_alive()]
    for p in running:
        _signal(p)
    deadline = time.monotonic() + grace_s
    for p in running:
        p.join(max(0.0, deadline - time.monotonic()))
    killed = 0
    for p in running:
        if p.is_alive():
            p.kill()
            p.join(grace_s)
            killed += 1
    return len(running), killed


@contextmanager
def watched(
    *, limit_s: float = DATA_RUN_LIMIT_S, cancel: threading.Event | None = None
) -> Iterator[Watch]:
    """Account for every worker process started by this thread inside the block.

    A watchdog thread stops them (SIGTERM) when ``limit_s`` seconds have passed or
    ``cancel`` is set: the DataLoader then raises "worker exited unexpectedly" within its
    ``timeout``. When the block ends — normally, by an exception, or by Streamlit stopping
    the script — every worker still alive is terminated (and killed if it must be).
    """
    watch = Watch(limit_s)
    runs = _runs()
    runs.append(watch)
    done = threading.Event()
    deadline = time.monotonic() + limit_s

    def watchdog() -> None:
        while not done.wait(0.05):
            reason = None
            if cancel is not None and cancel.is_set():
                reason = "cancelled"
            elif time.monotonic() >= deadline:
                reason = "time limit"
            if reason is not None:
                with watch._lock:
                    watch.stopped_by = reason
                    procs = list(watch.started)
                for p in procs:
                    _signal(p)
                return

    dog = threading.Thread(target=watchdog, name="ptexplore-data-watchdog", daemon=True)
    dog.start()
    try:
        yield watch
    finally:
        runs.remove(watch)
        done.set()
        dog.join()
        terminated, killed = _finish(watch.processes())
        watch.left_running = terminated
        watch.killed = killed


def forkserver_pid() -> int | None:
    """The forkserver's pid (a long-lived helper, one per server process), if running."""
    return compat.forkserver_pid()


def sandbox_start() -> Callable[[], tuple[int, ...]]:
    """Start this lab's forkserver in the sandbox helper (``ptexplore.isolate``) before
    the helper imports its own modules (the two interpreters import torch side by side).

    Returns what the helper calls once its imports are done: wait until the forkserver
    forks (:func:`ensure_forkserver`, whose measured start every run then reports), make
    every child the helper forks use it (:func:`ptexplore.compat.adopt_forkserver`), and
    return the descriptors those children keep to reach it.
    """
    _started.append(time.perf_counter())
    worker_context()
    forkserver.ensure_running()

    def finish() -> tuple[int, ...]:
        ensure_forkserver()
        os.register_at_fork(after_in_child=compat.adopt_forkserver)
        return compat.forkserver_fds()

    return finish


def descendants(pid: int | None = None) -> set[int]:
    """Live descendants of ``pid`` (this process by default), via ``/proc`` (Linux)."""
    root = os.getpid() if pid is None else pid
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] in ("Z", "X"):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def helpers() -> set[int]:
    """This process's long-lived multiprocessing helpers (forkserver, resource tracker)."""
    pids: set[int] = set()
    fs = forkserver_pid()
    if fs:
        pids.add(fs)
    tracker = compat.resource_tracker_pid()
    if tracker:
        pids.add(tracker)
    return pids
