"""Seeded randomness that is safe when many learners share one server process.

Prefer an explicit ``torch.Generator`` (:func:`generator`). Where the real API only reads
torch's *global* RNG (torchvision transforms, model constructors), use :func:`seeded`: it
takes a process-wide lock, forks the global RNG state, seeds it, and restores it after, so
one session's draw neither sees nor disturbs another's.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch

_GLOBAL_RNG_LOCK = threading.RLock()


def generator(seed: int) -> torch.Generator:
    """A fresh CPU generator seeded with ``seed``."""
    return torch.Generator().manual_seed(int(seed))


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run a block with torch's and Python's global RNGs seeded, then restore both."""
    with _GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=[]):
        py_state = random.getstate()
        random.seed(int(seed))
        torch.manual_seed(int(seed))
        try:
            yield
        finally:
            random.setstate(py_state)
