"""The DataLoader run: an instrumented Dataset through a real DataLoader, real workers.

Code shown = code run: :func:`loader_code` writes the script for a :class:`LoaderConfig`
and :func:`run_loader` runs exactly that text (``ptexplore.data.runs.run_script``), then
reads every ``__getitem__`` call, every batch and the main loop's clock off the objects the
script left behind. The script prints only what is the same on every run (orders, worker
ids per batch, lengths); the timings come from this run and vary.

What a run shows, and why it is true:

* the sampler's batches are listed *before* the run from the same seed (then the sampler's
  generator is rewound), so "yielded in sampler order" compares two independent lists;
* each call's start/end use ``time.perf_counter()`` — on Linux one monotonic clock for every
  process — so calls from different workers share one time axis;
* a batch is built by one worker, round robin (``_try_put_index`` cycles the workers), and
  the DataLoader keeps ``prefetch_factor × num_workers`` batches dispatched: batch ``j`` is
  handed out while batch ``j - prefetch_factor × num_workers`` is being received. The
  prefetch chart does not assume this: the script's ``Timed`` sampler notes when each index
  is drawn, and a batch is dispatched the moment its last index is (the tests check the
  rule against those measured times).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ptexplore.augment import compose_code, train_preset
from ptexplore.data import datasets
from ptexplore.data.runs import Processes, run_script, sandboxed
from ptexplore.data.workers import ServerBoot, ensure_forkserver
from ptexplore.errors import Cancelled, InputError, LessonError, Refusal
from ptexplore.i18n import N_, _
from ptexplore.images.samples import SAMPLES_DIR
from ptexplore.limits import (
    DATA_BATCH_TIMEOUT_SLACK_S,
    DATA_MAX_BATCH,
    DATA_MAX_EPOCHS,
    DATA_MAX_ITEM_MS,
    DATA_MAX_ITEMS,
    DATA_MAX_PREFETCH,
    DATA_MAX_STEP_MS,
    DATA_MAX_WORK_S,
    DATA_MAX_WORKERS,
    DATA_RUN_LIMIT_S,
)
from ptexplore.live import Snippet, source

#: The bundled sample photos the photo dataset cycles over.
PHOTOS = ("astronaut.jpg", "chelsea.jpg", "coffee.jpg", "rocket.jpg")
#: Planning estimate for one photo item (decode + train pipeline, 1 thread; measured
#: 8–15 ms on a loaded 2-core box, so this is generous).
PHOTO_ITEM_S = 0.03
#: Variable sleeps vary by ±this fraction per index.
SPREAD = 0.8


class Work(StrEnum):
    """What one ``__getitem__`` costs."""

    NONE = N_("none")
    SLEEP = N_("fixed sleep")
    VARIABLE = N_("variable sleep")
    PHOTO = N_("decode + augment")

    @property
    def sleeps(self) -> bool:
        return self in (Work.SLEEP, Work.VARIABLE)


@dataclass(frozen=True, slots=True)
class LoaderConfig:
    """Everything one run depends on (``rerun`` only makes a new run of the same config)."""

    n: int = 8
    work: Work = Work.SLEEP
    ms: int = 20
    batch_size: int = 2
    shuffle: bool = True
    seed: int = 0
    num_workers: int = 2
    prefetch_factor: int = 2
    drop_last: bool = False
    persistent_workers: bool = False
    epochs: int = 1
    step_ms: int = 0
    fail_at: int | None = None
    rerun: int = 0
    #: DataLoader(in_order=...) (torch ≥ 2.6): False yields batches as workers finish them
    in_order: bool = True

    @property
    def item_s(self) -> float:
        """Planned seconds per item (the mean)."""
        if self.work is Work.PHOTO:
            return PHOTO_ITEM_S
        return self.ms / 1000 if self.work.sleeps else 0.0

    @property
    def worst_item_s(self) -> float:
        if self.work is Work.VARIABLE:
            return self.ms * (1 + SPREAD) / 1000
        return self.item_s

    @property
    def batches_per_epoch(self) -> int:
        full, rest = divmod(self.n, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    @property
    def timeout_s(self) -> int:
        """The ``timeout=`` of the script's DataLoader: seconds one batch may take."""
        return math.ceil(3 * self.batch_size * self.worst_item_s + DATA_BATCH_TIMEOUT_SLACK_S)

    @property
    def planned_work_s(self) -> float:
        """The run's work without workers: every item's cost plus every training step."""
        items = self.n * self.epochs * self.item_s
        steps = self.batches_per_epoch * self.epochs * self.step_ms / 1000
        return items + steps


def in_range(
    name: str, value: int, lo: int, hi: int, fix: str = N_("Pick a {name} between {lo} and {hi}.")
) -> None:
    """Refuse ``value`` outside ``lo``…``hi``. ``name``: a setting's name in the code, or
    English marked with ``N_``; ``fix``: English marked, with ``{name}``, ``{lo}``, ``{hi}``."""
    if not lo <= value <= hi:
        raise InputError(
            _("{name} = {value} is outside {lo}…{hi}.").format(
                name=_(name), value=value, lo=lo, hi=hi
            ),
            fix=_(fix).format(name=_(name), lo=lo, hi=hi),
        )


def check(config: LoaderConfig) -> None:
    """Refuse a config outside the lab's limits (before any process starts)."""
    c = config
    bounds = [  # (name: a setting's name in the code, or English marked N_)
        (N_("items"), c.n, 1, DATA_MAX_ITEMS),
        ("batch_size", c.batch_size, 1, DATA_MAX_BATCH),
        ("num_workers", c.num_workers, 0, DATA_MAX_WORKERS),
        ("prefetch_factor", c.prefetch_factor, 1, DATA_MAX_PREFETCH),
        (N_("epochs"), c.epochs, 1, DATA_MAX_EPOCHS),
        (N_("per-item ms"), c.ms, 0, DATA_MAX_ITEM_MS),
        (N_("training step ms"), c.step_ms, 0, DATA_MAX_STEP_MS),
    ]
    for name, value, lo, hi in bounds:
        in_range(name, value, lo, hi)
    if c.fail_at is not None and not 0 <= c.fail_at < c.n:
        raise InputError(
            _("fail_at = {fail_at} is not an index of the dataset (0…{last}).").format(
                fail_at=c.fail_at, last=c.n - 1
            ),
            fix=_("Pick an index the dataset has."),
        )
    if c.planned_work_s > DATA_MAX_WORK_S:
        raise InputError(
            _(
                "This run plans {planned:.1f} s of work (items × cost + training steps, "
                "before workers divide it); the lab allows {allowed:.0f} s per run."
            ).format(planned=c.planned_work_s, allowed=DATA_MAX_WORK_S),
            fix=_("Use fewer items or epochs, or a smaller per-item cost or training step."),
        )


# ------------------------------------------------------------------------------ script


def photo_lines(n: int, seed: int, *, main_process: bool) -> list[str]:
    """The lines that build ``photos``: the photo dataset over :data:`PHOTOS` (files in the
    folder the script runs in) with the augmentation lab's train pipeline."""
    pipeline = compose_code(train_preset()).replace("pipeline = ", "train = ", 1)
    seeded = []
    if main_process:
        seeded = [
            f"torch.manual_seed({seed})  # num_workers=0: the transform draws from this "
            "process's RNG"
        ]
    return [
        "# photos in the folder this runs in (the page: its four sample photos)",
        f"names = {list(PHOTOS)!r}",
        "# each item decodes a JPEG, then the augmentation lab's train pipeline:",
        *pipeline.splitlines(),
        *seeded,
        f"photos = PhotoDataset(names, n={n}, transform=train)",
    ]


#: What a script with photos imports for them (besides the pasted dataset classes).
PHOTO_IMPORTS = ("import torch", "from torchvision.transforms import v2")


def cost_args(work: Work, ms: int) -> list[str]:
    """``Instrumented``'s ``cost=`` argument for a per-item cost (none without a sleep)."""
    if work is Work.SLEEP:
        return [f"cost=Sleep(ms={ms})"]
    if work is Work.VARIABLE:
        return [f"cost=Sleep(ms={ms}, spread={SPREAD})"]
    return []


def _dataset_lines(c: LoaderConfig) -> tuple[list[str], list[str]]:
    """(names of the dataset classes it pastes, lines) that build ``dataset``."""
    extra = [f"fail_at={c.fail_at}"] if c.fail_at is not None else []
    if c.work is Work.PHOTO:
        lines = [
            *photo_lines(c.n, c.seed, main_process=not c.num_workers),
            f"dataset = Instrumented({', '.join(['photos', *extra])})",
        ]
        return ["Instrumented", "PhotoDataset", "Timed"], lines
    names = ["Instrumented", "MyDataset", "Timed"] + (["Sleep"] if c.work.sleeps else [])
    args = ", ".join(["MyDataset(data, targets)", *cost_args(c.work, c.ms), *extra])
    lines = [
        f"data = torch.rand({c.n}, 1, 2, 2, generator=torch.Generator().manual_seed({c.seed}))",
        f"targets = torch.arange({c.n})",
        f"dataset = Instrumented({args})",
    ]
    return names, lines


def _loader_lines(c: LoaderConfig) -> list[str]:
    w = c.num_workers
    lines = [
        "loader = DataLoader(",
        "    dataset,",
        f"    batch_size={c.batch_size},",
        "    sampler=timed,",
        f"    drop_last={c.drop_last},",
        f"    num_workers={w},",
    ]
    if w:
        lines += [
            f"    prefetch_factor={c.prefetch_factor},  # batches each worker may build ahead",
            f"    persistent_workers={c.persistent_workers},  # keep the workers between epochs?",
            f"    timeout={c.timeout_s},  # seconds per batch: a stuck worker raises, never hangs",
            '    multiprocessing_context="forkserver",  # how workers start: see the page',
        ]
        if not c.in_order:
            lines.append("    in_order=False,  # yield each batch as soon as a worker has it")
    elif c.persistent_workers:
        lines.append("    persistent_workers=True,")
    lines += [
        f"    generator=torch.Generator().manual_seed({c.seed}),  # draws the workers' seeds",
        ")",
    ]
    return lines


def loader_code(config: LoaderConfig) -> str:
    """The lab's script: build the dataset, list the sampler's batches, run the loader."""
    c = config
    check(c)
    sampler_cls = "RandomSampler" if c.shuffle else "SequentialSampler"
    classes, ds_lines = _dataset_lines(c)
    imports = [
        "import time",
        "import torch",
        f"from torch.utils.data import BatchSampler, DataLoader, {sampler_cls}",
        *(PHOTO_IMPORTS if c.work is Work.PHOTO else ()),
    ]
    lines = [*ds_lines, 'print("len(dataset) =", len(dataset))', ""]
    batches = f"BatchSampler(sampler, batch_size={c.batch_size}, drop_last={c.drop_last})"
    if c.shuffle:
        lines += [
            "# the sampler decides the order: list its batches for every epoch, then rewind it",
            f"sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed({c.seed}))",
            f"planned = [list({batches}) for epoch in range({c.epochs})]",
            f"sampler.generator.manual_seed({c.seed})",
        ]
    else:
        lines += [
            "# the sampler decides the order",
            "sampler = SequentialSampler(dataset)",
            f"planned = [list({batches}) for epoch in range({c.epochs})]",
        ]
    lines += [
        "timed = Timed(sampler)  # notes when the DataLoader draws each index",
        *_loader_lines(c),
        "",
    ]
    loop = [
        f"for epoch in range({c.epochs}):",
        "    started = time.perf_counter()",
        "    it = iter(loader)  # starts the worker processes (persistent ones only once)",
        "    starts.append((started, time.perf_counter()))",
        "    asked = time.perf_counter()",
        "    for x, y, call in it:  # call: the batch's Call records, one tensor per field",
        "        log.append((epoch, asked, time.perf_counter(), call))",
    ]
    if c.step_ms:
        loop.append(f"        time.sleep({c.step_ms / 1000:g})  # the training step")
    loop.append("        asked = time.perf_counter()")
    lines += [
        "starts, log = [], []  # per epoch: iter() called/returned; per batch: times + calls",
        "failure = None",
    ]
    if c.fail_at is not None:
        lines += ["try:", *("    " + ln for ln in loop)]
        lines += [
            "except ValueError as err:  # raised in __getitem__, re-raised in this process",
            "    failure = str(err).strip().splitlines()",
            '    print("error:", failure[0])',
        ]
        if c.num_workers:
            lines.append('    print("the worker said:", failure[-1])')
    else:
        lines += loop
    lines += [
        "",
        "calls = [c for *_, call in log for c in zip(*(f.tolist() for f in call))]",
        "called = [idx for start, idx in sorted((c[3], c[0]) for c in calls)]",
        f"for epoch in range({c.epochs}):",
        "    yielded = [call.idx.tolist() for e, _, _, call in log if e == epoch]",
        '    print(f"epoch {epoch} sampler:", planned[epoch])',
        '    print(f"epoch {epoch} yielded:", yielded)',
        'print("yielded in sampler order:", [call.idx.tolist() for *_, call in log] == '
        "sum(planned, [])[: len(log)])",
    ]
    if c.num_workers:
        lines += [
            'print("worker per batch:", [int(call.worker[0]) for *_, call in log])',
            "# the order __getitem__ was *called* (`called`) differs from run to run with",
            "# workers: the page shows this run's",
        ]
    else:
        lines.append('print("called in order:", called)')
    defined = source.definitions(datasets, classes)
    return source.script(imports, "\n".join(lines) + "\n", defined=defined, main_guard=True)


# ------------------------------------------------------------------------------ result


@dataclass(frozen=True, slots=True)
class ItemCall:
    """One ``__getitem__`` call; times in seconds since the first ``iter(loader)``."""

    idx: int
    worker: int
    pid: int
    start: float
    end: float
    epoch: int
    batch: int  # the batch's position in the run (all epochs)


@dataclass(frozen=True, slots=True)
class BatchInfo:
    """One batch as the main process received it."""

    epoch: int
    position: int  # in the run
    in_epoch: int
    indices: tuple[int, ...]
    worker: int
    pid: int
    first_start: float
    built: float  # its last item finished
    asked: float  # next() called
    got: float  # next() returned it
    dispatched: float  # its last index was drawn from the sampler: handed to a worker (measured)
    step_end: float  # the main loop asked for the next batch


@dataclass(frozen=True, slots=True)
class EpochInfo:
    epoch: int
    started: float  # iter(loader) called
    ready: float  # iter(loader) returned (workers started)
    planned: tuple[tuple[int, ...], ...]


@dataclass(frozen=True, slots=True)
class WorkerFailure:
    """An exception raised inside ``__getitem__``: the DataLoader's line and the worker's."""

    first_line: str
    worker_line: str
    worker: int | None


@dataclass(frozen=True, slots=True)
class LoaderRun:
    config: LoaderConfig
    snippet: Snippet
    epochs: tuple[EpochInfo, ...]
    batches: tuple[BatchInfo, ...]
    calls: tuple[ItemCall, ...]
    total_s: float
    failure: WorkerFailure | None
    refusal: Refusal | None
    processes: Processes
    boot: ServerBoot | None

    @property
    def planned(self) -> tuple[int, ...]:
        """The sampler's indices, in order, over every epoch."""
        return tuple(i for e in self.epochs for b in e.planned for i in b)

    @property
    def yielded(self) -> tuple[int, ...]:
        return tuple(i for b in self.batches for i in b.indices)

    @property
    def called(self) -> tuple[int, ...]:
        """Indices in the order ``__getitem__`` started (every epoch)."""
        return tuple(c.idx for c in sorted(self.calls, key=lambda c: (c.start, c.worker)))

    @property
    def in_sampler_order(self) -> bool:
        return self.yielded == self.planned[: len(self.yielded)]

    @property
    def dropped(self) -> tuple[int, ...]:
        """Indices no batch of the first epoch holds (``drop_last``)."""
        if not self.epochs:
            return ()
        held = {i for b in self.epochs[0].planned for i in b}
        return tuple(i for i in range(self.config.n) if i not in held)

    def startup(self, epoch: int) -> dict[int, float]:
        """Per worker: seconds from ``iter(loader)`` to its first call in ``epoch``."""
        e = self.epochs[epoch]
        first: dict[int, float] = {}
        for c in self.calls:
            if c.epoch == epoch:
                first[c.worker] = min(first.get(c.worker, math.inf), c.start)
        return {w: t - e.started for w, t in sorted(first.items())}


def _refusal(kind: str, message: str) -> Refusal:
    if "persistent_workers" in message:
        return Refusal(
            kind,
            message,
            _(
                "Persistent workers are worker *processes* kept alive between epochs; with "
                "num_workers=0 every item is built in the main process, so there is nothing "
                "to keep."
            ),
            _("Set num_workers to 1 or more, or persistent_workers=False."),
        )
    return Refusal(kind, message, _("torch refused these DataLoader arguments."), _("Change them."))


def _read(ns: dict[str, Any]) -> dict[str, Any]:
    """Copy what the script left behind into plain Python values."""
    log = []
    for e, asked, got, call in ns.get("log", []):
        records = list(zip(*(f.tolist() for f in call), strict=True))
        log.append((int(e), float(asked), float(got), records))
    return {
        "starts": [(float(a), float(b)) for a, b in ns.get("starts", [])],
        "log": log,
        "planned": [[[int(i) for i in b] for b in batches] for batches in ns.get("planned", [])],
        "failure": list(ns["failure"]) if ns.get("failure") else None,
        "drawn": [[float(t) for t in e] for e in getattr(ns.get("timed"), "asked", [])],
        "has_loader": "loader" in ns,
    }


def _dispatch_times(
    config: LoaderConfig,
    drawn: list[list[float]],
    rows: list[tuple[int, float, float, tuple[int, ...]]],
    planned: list[list[list[int]]],
) -> list[float]:
    """When each batch's indices went to a worker, measured: the moment the DataLoader drew
    the batch's last index from the sampler (it puts the batch on a worker's queue right
    then). ``drawn`` holds, per epoch, when each index was drawn; a received batch is found
    in the sampler's order by its indices (with ``in_order=False`` they arrive otherwise)."""
    out: list[float] = []
    for epoch, asked, _got, indices in rows:
        times = drawn[epoch] if epoch < len(drawn) else []
        order = [tuple(b) for b in planned[epoch]] if epoch < len(planned) else []
        if indices not in order:  # (not the sampler's batch: nothing to match it with)
            out.append(asked)
            continue
        last = min((order.index(indices) + 1) * config.batch_size, len(times)) - 1
        out.append(times[last] if last >= 0 else asked)
    return out


def run_loader(
    config: LoaderConfig,
    *,
    cancel: threading.Event | None = None,
    limit_s: float = DATA_RUN_LIMIT_S,
) -> LoaderRun:
    """Run the lab's script for ``config`` with real workers and read the run off it, in
    the sandbox (:func:`ptexplore.data.runs.sandboxed`)."""
    loader_code(config)  # a setting out of bounds is refused here, without a job
    return sandboxed(cancel, limit_s).call(_run_here, config, limit_s)


def _run_here(config: LoaderConfig, limit_s: float) -> LoaderRun:
    code = loader_code(config)
    boot = ensure_forkserver() if config.num_workers else None
    cwd = SAMPLES_DIR if config.work is Work.PHOTO else None
    data, script = run_script(code, _read, limit_s=limit_s, cwd=cwd)
    refusal = None
    if script.error is not None and not data["has_loader"]:
        refusal = _refusal(script.error.kind, script.error.message)
    elif script.error is not None:
        raise _stopped(script.error.line, script.processes, config)
    if script.processes.stopped_by is not None:
        raise _stopped("", script.processes, config)

    starts = data["starts"]
    t0 = starts[0][0] if starts else 0.0
    epochs = [
        EpochInfo(e, a - t0, b - t0, tuple(tuple(batch) for batch in data["planned"][e]))
        for e, (a, b) in enumerate(starts)
    ]
    rows = [(e, asked - t0, got - t0) for e, asked, got, _records in data["log"]]
    drawn = [[t - t0 for t in e] for e in data["drawn"]]
    received = [(e, a - t0, g - t0, tuple(int(r[0]) for r in rec)) for e, a, g, rec in data["log"]]
    dispatched = _dispatch_times(config, drawn, received, data["planned"])
    calls: list[ItemCall] = []
    batches: list[BatchInfo] = []
    in_epoch: dict[int, int] = {}
    for k, (e, _asked, _got, records) in enumerate(data["log"]):
        mine = [
            ItemCall(int(r[0]), int(r[1]), int(r[2]), r[3] - t0, r[4] - t0, e, k) for r in records
        ]
        calls += mine
        step_end = rows[k + 1][1] if k + 1 < len(rows) and rows[k + 1][0] == e else rows[k][2]
        j = in_epoch.get(e, 0)
        in_epoch[e] = j + 1
        batches.append(
            BatchInfo(
                epoch=e,
                position=k,
                in_epoch=j,
                indices=tuple(c.idx for c in mine),
                worker=mine[0].worker,
                pid=mine[0].pid,
                first_start=min(c.start for c in mine),
                built=max(c.end for c in mine),
                asked=rows[k][1],
                got=rows[k][2],
                dispatched=dispatched[k],
                step_end=step_end,
            )
        )
    failure = None
    if data["failure"]:
        lines = data["failure"]
        worker = None
        if lines[0].startswith("Caught ") and "worker process " in lines[0]:
            worker = int(lines[0].rsplit("worker process ", 1)[1].rstrip("."))
        failure = WorkerFailure(lines[0], lines[-1], worker)
    end = max([b.step_end for b in batches] + [e.ready for e in epochs] + [0.0])
    return LoaderRun(
        config=config,
        snippet=Snippet(code, script.output),
        epochs=tuple(epochs),
        batches=tuple(batches),
        calls=tuple(calls),
        total_s=end,
        failure=failure,
        refusal=refusal,
        processes=script.processes,
        boot=boot,
    )


def _stopped(line: str, processes: Processes, config: LoaderConfig) -> LessonError:
    """The run did not finish: the hard limit, a cancel, or a batch past ``timeout``."""
    if processes.stopped_by == "cancelled":
        return Cancelled(
            _("This run was stopped: you started a newer one."),
            fix=_("Nothing to do: the newer run's result is shown."),
        )
    if processes.stopped_by == "time limit":
        return InputError(
            _(
                "The run passed the hard limit of {limit:g} s and its {started} worker "
                "process(es) were stopped."
            ).format(limit=processes.limit_s, started=processes.started),
            fix=_(
                "Use fewer items or a smaller per-item cost, or try again when the server "
                "is less busy."
            ),
        )
    return InputError(
        _("The DataLoader stopped: {line}").format(line=line),
        fix=_(
            "Each batch may take at most timeout={timeout} s: use a smaller per-item cost or "
            "batch, or try again when the server is less busy."
        ).format(timeout=config.timeout_s),
    )
