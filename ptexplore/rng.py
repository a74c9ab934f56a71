"""Seeded randomness that is safe when many learners share one server process.

Prefer an explicit ``torch.Generator`` (:func:`generator`). Where the real API only reads
torch's *global* RNG (torchvision transforms, model constructors), there are two tools:

* :class:`Stream` — one request's own RNG stream, equal to ``torch.manual_seed(seed)``
  followed by that request's draws. :meth:`Stream.active` swaps it into torch's global
  RNG under a process-wide lock for one *draw* only (a crop box, an angle), then saves it
  back and restores the global state: the expensive, deterministic work between draws
  runs outside the lock, so a learner's 0.02 s grid never waits for another's 2 s grid.
* :func:`seeded` — the whole block under the lock with the global RNG forked and seeded
  (for code whose draws cannot be separated from its work, e.g. a real model build).

Either way one session's draw neither sees nor disturbs another's.
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


@contextmanager
def forked() -> Iterator[None]:
    """Run a block under the lock with torch's and Python's global RNG states restored after.

    For code that may draw from the global RNG without meaning to (a model constructor's
    init): whatever it draws, no other learner's stream sees a difference.
    """
    with _GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=[]):
        py_state = random.getstate()
        try:
            yield
        finally:
            random.setstate(py_state)


class Stream:
    """A private torch CPU RNG stream: ``torch.manual_seed(seed)`` as if this request were
    the only one, its state saved between draws (not thread-safe itself: one per request).

    ``with stream.active(): params = transform.make_params(...)`` takes the process-wide
    lock, installs this stream's state in torch's global CPU generator, lets the block draw,
    saves the advanced state back here and restores the global state it found. A sequence
    of such blocks draws exactly what the same calls would draw after
    ``torch.manual_seed(seed)`` in a single-threaded script.
    """

    __slots__ = ("_state", "draws")

    def __init__(self, seed: int) -> None:
        g = torch.Generator()
        g.manual_seed(int(seed))
        self._state: torch.Tensor = g.get_state()
        #: How many :meth:`active` blocks ran (for tests and the budget's lock accounting).
        self.draws = 0

    @property
    def state(self) -> torch.Tensor:
        """A copy of the stream's current CPU generator state."""
        return self._state.clone()

    @contextmanager
    def active(self) -> Iterator[None]:
        """Hold the global RNG lock with this stream installed; keep only short draws here."""
        with _GLOBAL_RNG_LOCK:
            outer = torch.get_rng_state()
            torch.set_rng_state(self._state)
            try:
                yield
            finally:
                self._state = torch.get_rng_state()
                torch.set_rng_state(outer)
                self.draws += 1
