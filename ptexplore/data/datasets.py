"""The Datasets the DataLoader lab runs, and the ``worker_init_fn`` s of its seed lessons.

Every script of the lab pastes the classes it uses from here into itself
(:func:`ptexplore.live.source.definitions`): the code panel runs at a learner's home
with torch, torchvision, numpy and PIL only. So this module is written as a learner's
script would be: plain torch, torchvision, numpy and PIL, no ptexplore import.

Workers started with ``forkserver`` (what the lab uses) or ``spawn`` receive the dataset
*pickled*, and unpickling a class means importing the module that defines it: for a class
a script defines, the script itself — each worker imports it as ``__mp_main__``, which is
why the lab's scripts keep their work under ``if __name__ == "__main__":``.

The page shows :class:`MyDataset`'s source as the lesson's Dataset (``__len__`` returns
``len(self.data)``); :class:`BrokenLenDataset` is the common slip, run live.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from PIL import Image, ImageOps
from torch.utils.data import Dataset, IterableDataset, Sampler, get_worker_info
from torchvision.transforms.v2.functional import pil_to_tensor

#: A transform: a tensor in, a tensor out (a torchvision v2 transform, or any callable).
Transform = Callable[[torch.Tensor], torch.Tensor]


class MyDataset(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """The classic map-style Dataset: samples, their targets, an optional transform."""

    def __init__(
        self, data: torch.Tensor, targets: torch.Tensor, transform: Transform | None = None
    ) -> None:
        self.data = data
        self.targets = targets
        self.transform = transform

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, idx: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.data[idx]
        if self.transform is not None:
            x = self.transform(x)
        return x, self.targets[idx]


class BrokenLenDataset(MyDataset):
    """The common slip: ``len(self.data.shape[0])``. ``shape[0]`` is already an int."""

    def __len__(self) -> int:
        return len(self.data.shape[0])  # type: ignore[arg-type]  # TypeError, on purpose


# ------------------------------------------------------------------------- item costs


@dataclass(frozen=True, slots=True)
class Sleep:
    """A per-item cost: a real ``time.sleep`` of about ``ms`` milliseconds.

    ``spread`` > 0 varies it per index, by a fixed factor in ``[1 - spread, 1 + spread]``
    (the same index always costs the same, so runs stay comparable).
    """

    ms: float
    spread: float = 0.0

    def seconds(self, idx: int) -> float:
        if not self.spread:
            return self.ms / 1000
        u = ((int(idx) * 2654435761) % 2**32) / 2**32  # Knuth's multiplicative hash → [0, 1)
        return self.ms * (1 + self.spread * (2 * u - 1)) / 1000

    def __call__(self, idx: int) -> None:
        time.sleep(self.seconds(idx))


class Call(NamedTuple):
    """One ``__getitem__`` call: which index, built by which worker (-1: the main process),
    in which process, and when (``time.perf_counter()``: one clock for every process)."""

    idx: int
    worker: int
    pid: int
    start: float
    end: float


class Instrumented(Dataset[tuple[Any, Any, Call]]):
    """Wraps a map-style dataset: every item also says who built it, and when.

    ``cost(idx)`` runs first (a real sleep); ``fail_at`` makes that index raise
    ``ValueError`` inside ``__getitem__`` — in a worker, the DataLoader re-raises it in the
    main process with the worker's message.
    """

    def __init__(
        self,
        dataset: Dataset[tuple[Any, Any]],
        cost: Callable[[int], None] | None = None,
        fail_at: int | None = None,
    ) -> None:
        self.dataset = dataset
        self.cost = cost
        self.fail_at = fail_at

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, idx: int) -> tuple[Any, Any, Call]:
        start = time.perf_counter()
        info = get_worker_info()
        if self.cost is not None:
            self.cost(idx)
        if idx == self.fail_at:
            raise ValueError(f"item {idx} is corrupt (Instrumented(fail_at={idx}))")
        x, y = self.dataset[idx]
        worker = -1 if info is None else info.id
        return x, y, Call(int(idx), worker, os.getpid(), start, time.perf_counter())


class Timed(Sampler[int]):
    """A sampler's wrapper that notes when the DataLoader asks it for each index: a
    batch's indices go to a worker the moment its last one is drawn."""

    def __init__(self, sampler: Sampler[int]) -> None:
        self.sampler = sampler
        self.asked: list[list[float]] = []  # per epoch: when each index was drawn

    def __len__(self) -> int:
        return len(self.sampler)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[int]:
        self.asked.append([])
        for i in self.sampler:
            self.asked[-1].append(time.perf_counter())
            yield i


# ------------------------------------------------------------------------------ photos


class PhotoDataset(Dataset[tuple[torch.Tensor, int]]):
    """``n`` items cycling over a few photo files: each ``__getitem__`` decodes one (real
    work: PIL, EXIF orientation applied, RGB, a uint8 (3, H, W) tensor) and applies
    ``transform`` (e.g. the augmentation lab's train pipeline). The target is the photo's
    number. The files are read once, here: every worker gets their bytes with the dataset."""

    def __init__(self, names: Sequence[str], n: int, transform: Transform | None = None) -> None:
        self.names = tuple(names)
        self.blobs = tuple(Path(name).read_bytes() for name in self.names)
        self.n = int(n)
        self.transform = transform

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, idx: int) -> tuple[torch.Tensor, int]:
        k = int(idx) % len(self.blobs)
        with Image.open(io.BytesIO(self.blobs[k])) as im:
            x = pil_to_tensor(ImageOps.exif_transpose(im).convert("RGB"))
        if self.transform is not None:
            x = self.transform(x)
        return x, k


class WithTransform(Dataset[tuple[Any, Any]]):
    """A per-split transform on top of a ``Subset``: the correct ``random_split`` pattern
    (the shared base dataset keeps ``transform=None``)."""

    def __init__(self, subset: Dataset[tuple[Any, Any]], transform: Transform) -> None:
        self.subset = subset
        self.transform = transform

    def __len__(self) -> int:
        return len(self.subset)  # type: ignore[arg-type]

    def __getitem__(self, idx: int) -> tuple[Any, Any]:
        x, y = self.subset[idx]
        return self.transform(x), y


# ------------------------------------------------------------------ worker randomness

#: Random draws are integers in ``[0, DRAW_HIGH)`` (a chance repeat among 64 is ~0.2 %).
DRAW_HIGH = 1_000_000


class Draw(NamedTuple):
    """One item's random numbers, drawn inside ``__getitem__`` by the worker building it."""

    idx: int
    worker: int
    owned: int  # from the numpy Generator the dataset made in __init__
    np_global: int  # from numpy's global RNG (np.random.randint)
    torch: int  # from torch's global RNG (torch.randint)


class RandomDraws(Dataset[Draw]):
    """Draws three random numbers per item (random augmentation does the same).

    ``self.rng`` is made once, in ``__init__``: every worker process gets a *copy* of it,
    state included, so without re-seeding every worker draws the same sequence.
    """

    def __init__(self, n: int, seed: int) -> None:
        self.n = int(n)
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, idx: int) -> Draw:
        info = get_worker_info()
        return Draw(
            int(idx),
            -1 if info is None else info.id,
            int(self.rng.integers(DRAW_HIGH)),
            int(np.random.randint(DRAW_HIGH)),
            int(torch.randint(DRAW_HIGH, ())),
        )


def seed_numpy_naively(worker_id: int) -> None:
    """A naive ``worker_init_fn``: every worker seeds numpy with the same constant."""
    np.random.seed(0)


def seed_from_worker_info(worker_id: int) -> None:
    """The fix, as a ``worker_init_fn``: give the worker's copy of the dataset its own
    Generator, seeded with ``get_worker_info().seed``.

    That seed is ``base_seed + worker_id`` (the DataLoader draws ``base_seed`` from its
    generator each time it starts workers: every epoch, unless ``persistent_workers``), so
    every worker gets its own stream. numpy's *global* RNG needs nothing: the DataLoader
    seeds it in every worker already (from ``base_seed`` and ``worker_id``, hashed).
    """
    info = get_worker_info()
    if info is not None and isinstance(info.dataset, RandomDraws):
        info.dataset.rng = np.random.default_rng(info.seed)


class WorkerSeeds(Dataset[tuple[int, int]]):
    """Each item is (the worker that built it, that worker's ``get_worker_info().seed``)."""

    def __init__(self, n: int) -> None:
        self.n = int(n)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, idx: int) -> tuple[int, int]:
        info = get_worker_info()
        return (-1, torch.initial_seed()) if info is None else (info.id, info.seed)


class CountTo(IterableDataset[int]):
    """An iterable-style dataset: 0 … n-1, in order. Each worker iterates its own copy, so
    with several workers every item comes once per worker."""

    def __init__(self, n: int) -> None:
        self.n = int(n)

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.n))


class CountToSplit(CountTo):
    """The same, split by ``get_worker_info()``: worker k of K yields k, k + K, k + 2K, …"""

    def __iter__(self) -> Iterator[int]:
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))
