"""Process-wide settings for a server that many learners share, made once per process.

Nothing here changes during a rerun: :func:`configure_process` runs once (under a lock),
the first time any page is set up, and every later call returns at once.
"""

from __future__ import annotations

import os
import threading

import torch

from ptexplore import isolate, live, log

#: Environment variable that overrides the intra-op thread count.
THREADS_ENV = "PTEXPLORE_TORCH_THREADS"

_lock = threading.Lock()
_threads: list[int] = []


def default_threads() -> int:
    """Torch's intra-op thread count for the server: 1 unless ``PTEXPLORE_TORCH_THREADS``.

    Chosen deliberately for a server that several learners share: Streamlit runs every
    session's reruns as threads of one process, so parallelism across sessions is already
    there, and torch's own intra-op threads then compete with it for the same cores.
    Measured on 2 cores: a 2-thread full-size augmentation grid went from 110 ms alone to
    450 ms under load while 1 thread stayed at 146 ms; on the preview-sized copies the
    pages normally work on, 1 and 2 threads tie under load (16–65 ms vs 12–69 ms for 1–4
    concurrent sessions). A single-user machine that mostly renders full-resolution
    previews gains from more threads: set ``PTEXPLORE_TORCH_THREADS``.
    """
    threads = int(os.environ.get(THREADS_ENV, "1"))
    if threads < 1:
        raise ValueError(f"{THREADS_ENV} must be >= 1")
    return threads


def configure_process() -> int:
    """Torch threads, logging, the thread-routed warning capture and the sandbox's helper
    (started in the background), once per process.

    Returns torch's intra-op thread count.
    """
    if _threads:
        return _threads[0]
    with _lock:
        if not _threads:
            threads = default_threads()
            if torch.get_num_threads() != threads:
                torch.set_num_threads(threads)
            log.configure()
            with live.capture_warnings():  # installs the per-thread warning routing
                pass
            isolate.warm()  # the sandbox's helper imports torch while the first page draws
            _threads.append(threads)
    return _threads[0]
