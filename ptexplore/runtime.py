"""Process-wide torch settings for a server that many learners share."""

from __future__ import annotations

import os

import torch

_configured = False

#: Environment variable that overrides the intra-op thread count.
THREADS_ENV = "PTEXPLORE_TORCH_THREADS"


def configure_torch(threads: int | None = None) -> int:
    """Set torch's intra-op thread count once per process and return it.

    Default 1: several learners' reruns run in parallel threads of one Streamlit
    process; on a small machine torch's own intra-op threads then contend with each other
    (measured on 2 cores: 2 threads under load 110 ms → 450 ms per preview, 1 thread
    stayed at 146 ms). Parallelism across sessions beats parallelism inside one op.
    Override with ``PTEXPLORE_TORCH_THREADS``.
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
