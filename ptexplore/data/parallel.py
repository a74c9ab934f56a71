"""The lessons that run worker processes besides the main run: epochs of augmentation,
worker randomness (the numpy-seed pitfall and its fix) and total time vs num_workers.

Each is a script generated from its config, run with real DataLoader workers through
:func:`ptexplore.data.runs.run_script` (watched: nothing outlives the run), its results
read off the objects it left behind. Every random draw happens inside a worker, seeded
from the DataLoader's own ``generator`` (``base_seed + worker_id``), so the printouts are
the same on every run while the server's global RNGs are never touched.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from ptexplore.augment import IMAGENET_MEAN, IMAGENET_STD
from ptexplore.data import datasets
from ptexplore.data.loader import (
    PHOTO_IMPORTS,
    PHOTO_ITEM_S,
    PHOTOS,
    SPREAD,
    Work,
    cost_args,
    in_range,
    photo_lines,
)
from ptexplore.data.runs import Processes, run_script, sandboxed
from ptexplore.data.workers import ensure_forkserver
from ptexplore.errors import InputError, LessonError
from ptexplore.i18n import N_, _
from ptexplore.images import to_display
from ptexplore.images.samples import SAMPLES_DIR
from ptexplore.limits import (
    DATA_BATCH_TIMEOUT_SLACK_S,
    DATA_MAX_BATCH,
    DATA_MAX_EPOCHS,
    DATA_MAX_ITEM_MS,
    DATA_MAX_ITEMS,
    DATA_MAX_WORK_S,
    DATA_MAX_WORKERS,
    DATA_RUN_LIMIT_S,
)
from ptexplore.live import Snippet, source


def _timeout(batch: int, item_s: float) -> int:
    return math.ceil(3 * batch * item_s + DATA_BATCH_TIMEOUT_SLACK_S)


def _in_range(name: str, value: int, lo: int, hi: int) -> None:
    in_range(name, value, lo, hi, fix=N_("Pick {lo}…{hi}."))


def _budget(work_s: float) -> None:
    if work_s > DATA_MAX_WORK_S:
        raise InputError(
            _(
                "This plans {planned:.1f} s of work (before workers divide it); the lab "
                "allows {allowed:.0f} s per run."
            ).format(planned=work_s, allowed=DATA_MAX_WORK_S),
            fix=_("Use fewer items, or a smaller per-item cost."),
        )


#: Why the watchdog stopped a run (``Processes.stopped_by``), as a lesson says it.
STOPPED = {
    "time limit": N_("The run was stopped (time limit, {limit:g} s)."),
    "cancelled": N_("The run was stopped (cancelled, {limit:g} s)."),
}


def _failed(script_error: Any, processes: Processes) -> LessonError:
    fix = _("Try again with fewer items, or when the server is less busy.")
    if processes.stopped_by is not None:
        said = _(STOPPED[processes.stopped_by])
        return InputError(said.format(limit=processes.limit_s), fix=fix)
    return InputError(
        _("The DataLoader stopped: {line}").format(line=script_error.line),
        fix=fix,
    )


# ------------------------------------------------------------- augmentation and epochs


@dataclass(frozen=True, slots=True)
class EpochsConfig:
    n: int = 4
    epochs: int = 2
    seed: int = 0


@dataclass(frozen=True, slots=True)
class EpochsLesson:
    config: EpochsConfig
    lengths: tuple[int, ...]  # len(dataset) in every epoch
    seen: tuple[int, ...]  # samples the loader yielded in every epoch
    fingerprints: tuple[tuple[str, ...], ...]  # [idx][epoch]
    images: tuple[tuple[np.ndarray, ...], ...]  # [idx][epoch], HxWx3 uint8
    photos: tuple[str, ...]  # [idx]: the photo it decodes
    snippet: Snippet
    processes: Processes


EPOCHS_BATCH = 2


def epochs_code(c: EpochsConfig) -> str:
    photos = "\n".join(photo_lines(c.n, c.seed, main_process=False))
    body = f"""{photos}
dataset = photos
loader = DataLoader(
    dataset,
    batch_size={EPOCHS_BATCH},
    shuffle=False,
    num_workers=2,
    timeout={_timeout(EPOCHS_BATCH, PHOTO_ITEM_S)},
    multiprocessing_context="forkserver",
    generator=torch.Generator().manual_seed({c.seed}),  # a new base_seed every epoch
)
samples = []  # samples[epoch][idx]: the augmented tensor
for epoch in range({c.epochs}):
    samples.append([x for batch, _ in loader for x in batch])
    print(f"epoch {{epoch}}: len(dataset) = {{len(dataset)}}, samples seen = {{len(samples[-1])}}")
for idx in range(len(dataset)):
    prints = [hashlib.sha256(s[idx].numpy().tobytes()).hexdigest()[:12] for s in samples]
    print(f"idx {{idx}}:", " ".join(prints), "| all different:", len(set(prints)) == len(prints))
"""
    imports = ["import hashlib", "from torch.utils.data import DataLoader", *PHOTO_IMPORTS]
    defined = source.definitions(datasets, ["PhotoDataset"])
    return source.script(imports, body, defined=defined, main_guard=True)


def epochs_lesson(config: EpochsConfig, *, cancel: threading.Event | None = None) -> EpochsLesson:
    _in_range(N_("items"), config.n, 1, len(PHOTOS) * 2)
    _in_range(N_("epochs"), config.epochs, 2, DATA_MAX_EPOCHS + 1)
    _budget(config.n * config.epochs * PHOTO_ITEM_S)
    return sandboxed(cancel).call(_epochs_here, config)


def _epochs_here(config: EpochsConfig) -> EpochsLesson:
    code = epochs_code(config)
    ensure_forkserver()

    def read(ns: dict[str, Any]) -> dict[str, Any]:
        import hashlib

        samples = ns.get("samples", [])
        norm = (IMAGENET_MEAN, IMAGENET_STD)
        return {
            "lengths": [len(ns["dataset"])] * len(samples) if "dataset" in ns else [],
            "seen": [len(s) for s in samples],
            "prints": [
                [hashlib.sha256(s[i].numpy().tobytes()).hexdigest()[:12] for s in samples]
                for i in range(config.n)
            ]
            if len(samples) == config.epochs
            else [],
            "images": [[to_display(s[i], norm) for s in samples] for i in range(config.n)]
            if len(samples) == config.epochs
            else [],
        }

    data, script = run_script(code, read, limit_s=DATA_RUN_LIMIT_S, cwd=SAMPLES_DIR)
    if script.error is not None or script.processes.stopped_by is not None:
        raise _failed(script.error, script.processes)
    return EpochsLesson(
        config=config,
        lengths=tuple(data["lengths"]),
        seen=tuple(data["seen"]),
        fingerprints=tuple(tuple(p) for p in data["prints"]),
        images=tuple(tuple(i) for i in data["images"]),
        photos=tuple(PHOTOS[i % len(PHOTOS)] for i in range(config.n)),
        snippet=Snippet(code, script.output),
        processes=script.processes,
    )


# ------------------------------------------------------------------ worker randomness

#: The three ``worker_init_fn`` s compared: what the script names them, what they do.
#: (what they do: English marked with ``N_``, translated where it is shown)
INITS: tuple[tuple[str, str], ...] = (
    ("None", N_("no worker_init_fn: the DataLoader's own per-worker seeding only")),
    ("seed_numpy_naively", N_("every worker calls np.random.seed(0)")),
    (
        "seed_from_worker_info",
        N_("every worker's dataset copy gets default_rng(get_worker_info().seed) (the fix)"),
    ),
)
#: The three sources each item draws from (``Draw`` fields) and how the page names them
#: (English marked with ``N_``, translated where it is shown).
SOURCES: tuple[tuple[str, str], ...] = (
    ("owned", N_("dataset's own np.random.default_rng")),
    ("np_global", N_("np.random.randint (global)")),
    ("torch", N_("torch.randint (global)")),
)


@dataclass(frozen=True, slots=True)
class SeedsConfig:
    n: int = 16
    num_workers: int = 2
    batch_size: int = 2
    seed: int = 0


@dataclass(frozen=True, slots=True)
class DrawRow:
    idx: int
    worker: int
    owned: int
    np_global: int
    torch: int


@dataclass(frozen=True, slots=True)
class SourceCount:
    source: str  # a Draw field
    distinct: int
    repeated: int  # items whose value another item drew too


@dataclass(frozen=True, slots=True)
class InitResult:
    init: str  # the worker_init_fn's name in the script
    rows: tuple[DrawRow, ...]
    counts: tuple[SourceCount, ...]

    def count(self, source: str) -> SourceCount:
        return next(c for c in self.counts if c.source == source)


@dataclass(frozen=True, slots=True)
class EpochSeeds:
    """Each worker's ``get_worker_info().seed`` in epochs 0 and 1 (by worker id)."""

    persistent: bool
    seeds: tuple[tuple[int, ...], ...]

    @property
    def new_each_epoch(self) -> bool:
        return len(set(self.seeds)) == len(self.seeds)


#: items of the IterableDataset demo
ITER_N = 8


@dataclass(frozen=True, slots=True)
class StreamRun:
    """What the loop received from an IterableDataset through several workers."""

    dataset: str
    items: tuple[int, ...]

    @property
    def duplicates(self) -> int:
        return len(self.items) - len(set(self.items))


@dataclass(frozen=True, slots=True)
class SeedsLesson:
    config: SeedsConfig
    results: tuple[InitResult, ...]
    snippet: Snippet
    processes: Processes
    #: without and with persistent_workers
    epochs: tuple[EpochSeeds, ...] = ()
    #: an IterableDataset through the same workers: as it is, and split by worker
    streams: tuple[StreamRun, ...] = ()

    def result(self, init: str) -> InitResult:
        return next(r for r in self.results if r.init == init)


def seeds_code(c: SeedsConfig) -> str:
    inits = "".join(f'    "{name}": {name},\n' for name, _what in INITS)
    body = f"""dataset = RandomDraws(n={c.n}, seed={c.seed})  # its Generator is made here, once
inits = {{
{inits}}}
draws = {{}}  # worker_init_fn name -> one (idx, worker, owned, np_global, torch) per item
for name, init in inits.items():
    loader = DataLoader(
        dataset,
        batch_size={c.batch_size},
        num_workers={c.num_workers},
        worker_init_fn=init,
        timeout={_timeout(c.batch_size, 0.0)},
        multiprocessing_context="forkserver",
        generator=torch.Generator().manual_seed({c.seed}),  # base_seed of the workers
    )
    draws[name] = [d for batch in loader for d in zip(*(f.tolist() for f in batch))]
    print(f"worker_init_fn={{name}}:")
    for column, source in ((2, "own rng"), (3, "np.random"), (4, "torch")):
        values = [d[column] for d in draws[name]]
        repeated = sum(values.count(v) > 1 for v in values)
        distinct = len(set(values))
        print(f"  {{source:>9}}: {{distinct}} distinct of {{len(values)}}, {{repeated}} repeated")

# the workers' seeds over two epochs, with and without persistent_workers
per_epoch = {{}}  # persistent_workers -> per epoch, each worker's get_worker_info().seed
for persistent in (False, True):
    loader = DataLoader(
        WorkerSeeds(n={c.num_workers}),
        batch_size=1,
        num_workers={c.num_workers},
        persistent_workers=persistent,
        timeout={_timeout(1, 0.0)},
        multiprocessing_context="forkserver",
        generator=torch.Generator().manual_seed({c.seed}),
    )
    per_epoch[persistent] = [
        [seed for _, seed in sorted((int(w), int(s)) for w, s in loader)] for epoch in range(2)
    ]
    new = per_epoch[persistent][0] != per_epoch[persistent][1]
    print(f"persistent_workers={{persistent}}: new worker seeds in epoch 1: {{new}}")

# an IterableDataset is copied into every worker too: each iterates its own copy
streams = {{}}  # dataset class -> the items the loop received, in order
for stream in (CountTo({ITER_N}), CountToSplit({ITER_N})):
    loader = DataLoader(
        stream,
        batch_size=None,  # items one by one
        num_workers={c.num_workers},
        timeout={_timeout(1, 0.0)},
        multiprocessing_context="forkserver",
    )
    got = [int(x) for x in loader]
    streams[type(stream).__name__] = got
    print(f"{{type(stream).__name__}}({ITER_N}): {{len(got)}} items, {{len(set(got))}} distinct")
"""
    classes = ["CountTo", "CountToSplit", "RandomDraws", "WorkerSeeds"]
    defined = source.definitions(
        datasets, [*classes, "seed_from_worker_info", "seed_numpy_naively"]
    )
    imports = ["import torch", "from torch.utils.data import DataLoader"]
    return source.script(imports, body, defined=defined, main_guard=True)


def seeds_lesson(config: SeedsConfig, *, cancel: threading.Event | None = None) -> SeedsLesson:
    _in_range(N_("items"), config.n, 2, DATA_MAX_ITEMS)
    _in_range("num_workers", config.num_workers, 2, DATA_MAX_WORKERS)
    _in_range("batch_size", config.batch_size, 1, DATA_MAX_BATCH)
    return sandboxed(cancel).call(_seeds_here, config)


def _seeds_here(config: SeedsConfig) -> SeedsLesson:
    code = seeds_code(config)
    ensure_forkserver()

    def read(ns: dict[str, Any]) -> dict[str, Any]:
        draws = {k: [tuple(int(v) for v in d) for d in rows] for k, rows in ns["draws"].items()}
        epochs = {
            bool(k): tuple(tuple(int(s) for s in e) for e in v)
            for k, v in ns.get("per_epoch", {}).items()
        }
        streams = {str(k): tuple(int(v) for v in got) for k, got in ns.get("streams", {}).items()}
        return {"draws": draws, "epochs": epochs, "streams": streams}

    data, script = run_script(code, read, limit_s=DATA_RUN_LIMIT_S)
    draws = data["draws"]
    if script.error is not None or script.processes.stopped_by is not None:
        raise _failed(script.error, script.processes)
    results = []
    for name, _what in INITS:
        rows = tuple(DrawRow(*d) for d in draws[name])
        counts = []
        for field, _label in SOURCES:
            values = [getattr(r, field) for r in rows]
            repeated = sum(values.count(v) > 1 for v in values)
            counts.append(SourceCount(field, len(set(values)), repeated))
        results.append(InitResult(name, rows, tuple(counts)))
    epochs = tuple(EpochSeeds(p, data["epochs"][p]) for p in (False, True))
    streams = tuple(StreamRun(k, v) for k, v in data["streams"].items())
    return SeedsLesson(
        config, tuple(results), Snippet(code, script.output), script.processes, epochs, streams
    )


# ------------------------------------------------------------- total time vs num_workers


@dataclass(frozen=True, slots=True)
class SweepConfig:
    n: int = 16
    work: Work = Work.SLEEP
    ms: int = 20
    batch_size: int = 4
    max_workers: int = DATA_MAX_WORKERS
    seed: int = 0
    rerun: int = 0

    @property
    def item_s(self) -> float:
        if self.work is Work.PHOTO:
            return PHOTO_ITEM_S
        return self.ms / 1000 if self.work.sleeps else 0.0

    @property
    def planned_work_s(self) -> float:
        return self.n * self.item_s * (self.max_workers + 1)


@dataclass(frozen=True, slots=True)
class SweepPoint:
    workers: int
    first_s: float  # iter(loader) → first batch: worker start-up included
    total_s: float
    in_order: bool
    item_s: float  # the sum of this run's __getitem__ durations


@dataclass(frozen=True, slots=True)
class SweepResult:
    config: SweepConfig
    points: tuple[SweepPoint, ...]
    snippet: Snippet
    processes: Processes


def _sweep_dataset(c: SweepConfig) -> tuple[list[str], list[str]]:
    """(names of the dataset classes it pastes, lines) that build ``dataset``."""
    if c.work is Work.PHOTO:
        return (
            ["Instrumented", "PhotoDataset"],
            [
                *photo_lines(c.n, c.seed, main_process=True),
                "dataset = Instrumented(photos)  # each item: decode + the train pipeline",
            ],
        )
    names = ["Instrumented", "MyDataset"] + (["Sleep"] if c.work.sleeps else [])
    args = ", ".join([f"MyDataset(data, torch.arange({c.n}))", *cost_args(c.work, c.ms)])
    return (
        names,
        [
            f"data = torch.rand({c.n}, 1, 2, 2, generator=torch.Generator().manual_seed({c.seed}))",
            f"dataset = Instrumented({args})",
        ],
    )


def sweep_code(c: SweepConfig) -> str:
    classes, lines = _sweep_dataset(c)
    worst = c.item_s * (1 + SPREAD) if c.work is Work.VARIABLE else c.item_s
    dataset = "\n".join(lines)
    body = f"""{dataset}
timings = {{}}  # num_workers -> (s to the first batch, s in all, s inside __getitem__, in order)
for workers in range({c.max_workers + 1}):
    extra = {{}}  # a timeout and the start method only for worker processes
    if workers:
        extra = {{"timeout": {_timeout(c.batch_size, worst)}}}
        extra["multiprocessing_context"] = "forkserver"
    extra["generator"] = torch.Generator().manual_seed({c.seed})  # the workers' base_seed
    loader = DataLoader(dataset, batch_size={c.batch_size}, num_workers=workers, **extra)
    started = time.perf_counter()
    order, first, busy = [], None, 0.0
    for x, y, call in loader:  # iterating starts the workers: their start-up is timed too
        first = first or time.perf_counter() - started
        order += call.idx.tolist()
        busy += float((call.end - call.start).sum())
    in_order = order == list(range(len(dataset)))
    timings[workers] = (first, time.perf_counter() - started, busy, in_order)
    print(f"num_workers={{workers}}: {{len(order)}} items, in sampler order: {{in_order}}")
"""
    imports = ["import time", "import torch", "from torch.utils.data import DataLoader"]
    if c.work is Work.PHOTO:
        imports += PHOTO_IMPORTS
    defined = source.definitions(datasets, classes)
    return source.script(imports, body, defined=defined, main_guard=True)


def sweep(config: SweepConfig, *, cancel: threading.Event | None = None) -> SweepResult:
    _in_range(N_("items"), config.n, 1, DATA_MAX_ITEMS)
    _in_range("batch_size", config.batch_size, 1, DATA_MAX_BATCH)
    _in_range(N_("max num_workers"), config.max_workers, 1, DATA_MAX_WORKERS)
    _in_range(N_("per-item ms"), config.ms, 0, DATA_MAX_ITEM_MS)
    _budget(config.planned_work_s)
    return sandboxed(cancel).call(_sweep_here, config)


def _sweep_here(config: SweepConfig) -> SweepResult:
    code = sweep_code(config)
    ensure_forkserver()

    def read(ns: dict[str, Any]) -> dict[int, tuple[float, float, float, bool]]:
        return {
            int(w): (float(t[0]), float(t[1]), float(t[2]), bool(t[3]))
            for w, t in ns.get("timings", {}).items()
        }

    cwd = SAMPLES_DIR if config.work is Work.PHOTO else None
    timings, script = run_script(code, read, limit_s=DATA_RUN_LIMIT_S, cwd=cwd)
    if script.error is not None or script.processes.stopped_by is not None:
        raise _failed(script.error, script.processes)
    points = tuple(SweepPoint(w, t[0], t[1], t[3], t[2]) for w, t in sorted(timings.items()))
    return SweepResult(config, points, Snippet(code, script.output), script.processes)
