"""Process-wide torch settings for a server that many learners share."""

from __future__ import annotations

import os

import torch

_configured = False

#: Environment variable that overrides the intra-op thread count.
THREADS_ENV = "PTEXPLORE_TORCH_THREADS"


def configure_torch(threads: int | None = None) -> int:
    """Set torch's intra-op thread count once per process and return it.

    Default 1, chosen deliberately for a server that several learners share: Streamlit runs
    every session's reruns as threads of one process, so parallelism across sessions is
    already there, and torch's own intra-op threads then compete with it for the same cores.
    Measured on 2 cores: a 2-thread full-size augmentation grid went from 110 ms alone to
    450 ms under load while 1 thread stayed at 146 ms; on the preview-sized copies the
    pages normally work on, 1 and 2 threads tie under load (16–65 ms vs 12–69 ms for 1–4
    concurrent sessions). A single-user machine that mostly renders full-resolution previews
    gains from more threads: set ``PTEXPLORE_TORCH_THREADS``.
    """
    global _configured
    if threads is None:
        threads = int(os.environ.get(THREADS_ENV, "1"))
    if threads < 1:
        raise ValueError("threads must be >= 1")
    if not _configured or torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
        _configured = True
    return threads
