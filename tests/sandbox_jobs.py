"""Jobs for the sandbox tests: each misbehaves in one way a real upload or bug could."""

from __future__ import annotations

import ctypes
import os
import time

import numpy as np
import torch

from ptexplore.errors import InputError


def echo(x: object) -> object:
    return x


def pid() -> int:
    return os.getpid()


def open_fds() -> list[int]:
    return sorted(int(n) for n in os.listdir("/proc/self/fd"))


def tensors(seed: int) -> dict[str, object]:
    g = torch.Generator().manual_seed(seed)
    return {
        "f": torch.rand(3, 4, generator=g),
        "h": torch.rand(2, 2, generator=g).half(),
        "b": torch.rand(5, generator=g).bfloat16(),
        "i": torch.arange(6).reshape(2, 3)[:, ::2],  # not contiguous
        "e": torch.zeros(0, 3),
        "n": np.arange(4, dtype=np.int16),
    }


def refuse(name: str) -> None:
    raise InputError(f"“{name}” is not an image.", fix="Upload a PNG or JPEG.")


def bug() -> None:
    raise KeyError("a bug in the job")


def segfault() -> None:
    ctypes.string_at(0)


def allocate(mb: int) -> int:
    return int(torch.ones(mb * 2**20, dtype=torch.uint8).sum())


def allocate_numpy(mb: int) -> int:
    return int(np.ones(mb * 2**20, dtype=np.uint8).sum())


def spin(seconds: float) -> int:
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return n


def sleep(seconds: float) -> str:
    time.sleep(seconds)
    return "slept"


def sleep_then_mark(seconds: float, path: str) -> str:
    """Sleep; whatever ends the sleep, write ``path`` on the way out (clean-up ran)."""
    try:
        time.sleep(seconds)
        return "slept"
    finally:
        with open(path, "w") as f:
            f.write("clean-up ran")


def unseeded() -> tuple[float, float, float]:
    """One draw from each global RNG, unseeded (what the process's state gives)."""
    import random

    return random.random(), float(np.random.rand()), float(torch.rand(()))


def kept() -> tuple[int, ...]:
    """The descriptors a job's process keeps besides its socket (the STARTUP hooks')."""
    from ptexplore import isolate

    return isolate.kept_fds()


def fd_targets() -> dict[int, str]:
    """Each open descriptor and what it points at (leaving out the listing's own)."""
    here = f"/proc/{os.getpid()}/fd"
    out = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue
        if target != here:
            out[int(name)] = target
    return out


def bad_sparse() -> object:
    """A sparse tensor whose index is out of range (torch checks it only when asked)."""
    import torch

    return torch.sparse_coo_tensor([[0, 5]], [1.0, 2.0], (3,), check_invariants=False)


def workers_then_crash(path: str) -> None:
    """Start two DataLoader workers (forks of the sandbox's forkserver), write their pids
    to ``path``, then crash the run's own process with them still running."""
    from pathlib import Path

    from torch.utils.data import DataLoader

    from ptexplore import compat
    from ptexplore.data.workers import descendants, worker_context

    loader = DataLoader(
        list(range(8)), batch_size=1, num_workers=2, multiprocessing_context=worker_context()
    )
    it = iter(loader)
    next(it)
    Path(path).write_text(" ".join(map(str, descendants(compat.forkserver_pid()))))
    ctypes.string_at(0)


def translated(text: str) -> str:
    """``text`` in the job's language (the caller's, passed along by isolate)."""
    from ptexplore.i18n import _

    return _(text)
