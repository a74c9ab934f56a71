"""Measure DataLoader worker start-up for each multiprocessing start method.

``python -m ptexplore.data.startup`` runs, for ``fork``, ``spawn`` and ``forkserver``, a
fresh interpreter that times ``iter(loader)`` → first batch for a trivial dataset with 2
workers, several rounds (the first forkserver round includes starting the forkserver
itself, which imports torch and torchvision once). It prints one JSON line per method and
a summary table; :data:`ptexplore.data.workers.MEASURED` quotes the numbers.

``fork`` is measured here, in a single-threaded process, only for comparison: in the
multi-threaded Streamlit server it is the one method that can deadlock.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

METHODS = ("fork", "spawn", "forkserver")


@dataclass(frozen=True, slots=True)
class StartupTimes:
    method: str
    workers: int
    #: seconds from ``iter(loader)`` to the first batch, per round
    first_batch_s: tuple[float, ...]
    #: seconds spent inside ``iter(loader)`` (starting the worker processes), per round
    iter_s: tuple[float, ...]


def measure(method: str, *, workers: int = 2, rounds: int = 3) -> StartupTimes:
    """Time worker start-up in *this* process (run it in a fresh one: see :func:`main`)."""
    import multiprocessing

    import torch
    from torch.utils.data import DataLoader

    from ptexplore.data.datasets import Instrumented, MyDataset
    from ptexplore.data.workers import worker_context

    ctx = worker_context() if method == "forkserver" else multiprocessing.get_context(method)
    dataset = Instrumented(MyDataset(torch.zeros(8, 1), torch.arange(8)))
    firsts: list[float] = []
    iters: list[float] = []
    for _ in range(rounds):
        loader = DataLoader(dataset, batch_size=2, num_workers=workers, multiprocessing_context=ctx)
        t0 = time.perf_counter()
        it = iter(loader)
        t1 = time.perf_counter()
        next(it)
        firsts.append(time.perf_counter() - t0)
        iters.append(t1 - t0)
        for _batch in it:
            pass
        del it
    return StartupTimes(method, workers, tuple(firsts), tuple(iters))


def run_fresh(method: str, *, workers: int = 2, rounds: int = 3) -> StartupTimes:
    """:func:`measure` in a new interpreter (so nothing is imported or started yet)."""
    out = subprocess.run(
        [sys.executable, "-m", "ptexplore.data.startup", "--one", method,
         "--workers", str(workers), "--rounds", str(rounds)],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return StartupTimes(
        data["method"], data["workers"], tuple(data["first_batch_s"]), tuple(data["iter_s"])
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ptexplore.data.startup", description=__doc__)
    ap.add_argument("--one", choices=METHODS, help="measure one method in this process")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    if args.one:
        times = measure(args.one, workers=args.workers, rounds=args.rounds)
        print(json.dumps(asdict(times)))
        return 0
    for method in METHODS:
        t = run_fresh(method, workers=args.workers, rounds=args.rounds)
        firsts = ", ".join(f"{s:.3f}" for s in t.first_batch_s)
        print(f"{method:>10}: iter → first batch {firsts} s  ({t.workers} workers)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
