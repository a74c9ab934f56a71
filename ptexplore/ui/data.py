"""The DataLoader lab on the skeleton: seven lazy tabs, each a :class:`Section`.

The tabs that start worker processes (the run, the sweep, worker seeds, epochs) compute
through :func:`guarded`: the learner's :class:`~ptexplore.data.workers.RunSlot` first (one
run per session: a changed setting cancels the run in flight), then the process-wide
semaphore for heavy work, with a "waiting" note while either queues. Their results are
remembered per config like every pure section, so a rerun that changed nothing starts no
process. The cheap tabs (the Dataset, random_split, ConcatDataset) are pure sections.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from ptexplore import limits
from ptexplore.data import workers
from ptexplore.data.figures import (
    prefetch_figure,
    row_name,
    seeds_figure,
    sweep_figure,
    timeline_figure,
)
from ptexplore.data.lessons import (
    NAMES,
    ConcatConfig,
    ConcatLesson,
    DatasetConfig,
    DatasetLesson,
    SplitConfig,
    SplitLesson,
    concat_lesson,
    dataset_lesson,
    split_lesson,
)
from ptexplore.data.loader import LoaderConfig, LoaderRun, Work, run_loader
from ptexplore.data.parallel import (
    INITS,
    SOURCES,
    EpochsConfig,
    EpochsLesson,
    SeedsConfig,
    SeedsLesson,
    SweepConfig,
    SweepResult,
    epochs_lesson,
    seeds_lesson,
    sweep,
)
from ptexplore.data.runs import Processes
from ptexplore.figures import Figure
from ptexplore.images import jpeg
from ptexplore.limits import (
    DATA_MAX_BATCH,
    DATA_MAX_EPOCHS,
    DATA_MAX_ITEM_MS,
    DATA_MAX_ITEMS,
    DATA_MAX_PREFETCH,
    DATA_MAX_STEP_MS,
    DATA_MAX_WORKERS,
)
from ptexplore.live import Snippet
from ptexplore.pages import DATA
from ptexplore.text import code_span
from ptexplore.ui.lab import Section, Tab, run_section
from ptexplore.ui.page import seed_input
from ptexplore.ui.render import chart, inert, show_error
from ptexplore.ui.state import PageState

STATE = PageState(DATA)
R = TypeVar("R")

TIMING_NOTE = "the printout is the same on every run; the page's timings are this run's"


# -------------------------------------------------------------- runs with worker processes


def slot() -> workers.RunSlot:
    """This session's run slot (one DataLoader run at a time)."""
    return STATE.keep("_slot", workers.RunSlot)


def guarded(label: str, config: Any, job: Callable[[Any, threading.Event], R]) -> R:
    """``job(config, cancel)`` as this session's only run, under the heavy-work semaphore."""
    notice = st.empty()

    def queued() -> None:
        notice.info(
            "⏳ Your previous run is still stopping: this one starts as soon as it has.",
            icon="⏳",
        )

    def waiting(what: str) -> None:
        notice.info(
            f"⏳ Waiting for a free worker: {what} starts as soon as another learner's "
            "heavy job finishes.",
            icon="⏳",
        )

    def heavy_job(cancel: threading.Event) -> R:
        limits.on_wait(waiting)
        try:
            with limits.heavy(label):
                notice.empty()
                if cancel.is_set():  # a newer run of this learner arrived while this queued
                    raise workers.Cancelled(
                        "This run was replaced by a newer one before it started.",
                        fix="Nothing to do: the newer run's result is shown.",
                    )
                return job(config, cancel)
        finally:
            limits.on_wait(None)

    try:
        return slot().run(config, heavy_job, on_wait=queued)
    finally:
        notice.empty()


def warm_then(body: Callable[[], object]) -> Callable[[], object]:
    """A tab body that first makes sure the forkserver is starting (once per process)."""

    def run() -> object:
        workers.warm()
        return body()

    return run


def processes_caption(p: Processes) -> None:
    if not p.started:
        st.caption("No worker process: every item was built in the main process.")
        return
    who = (
        "the DataLoader shut them all down itself"
        if not p.left_running
        else f"ptexplore ended {p.left_running} the DataLoader had left running"
        + (f" ({p.killed} killed)" if p.killed else "")
    )
    st.caption(
        f"🧹 {p.started} worker process(es) started with `{p.method}` "
        f"(pids {', '.join(map(str, p.pids))}); alive after the run: "
        f"**{len(p.still_alive)}** — {who}."
    )


def start_method_note() -> None:
    boot = workers.booted()
    measured = "; ".join(f"`{m}` {t}" for m, t in workers.MEASURED.items())
    with st.expander("🧵 How the workers are started here — and why `forkserver`", expanded=False):
        st.markdown(
            "This server answers every learner from **one multi-threaded process** "
            "(each rerun is a thread). DataLoader workers are processes, and how a process "
            "is started matters there:\n\n"
            "- **`fork`** copies the whole process but only the calling thread: a lock "
            "another thread held at that moment stays locked in the child forever, and the "
            "worker can hang (Python 3.12 warns about exactly this). Fastest — unsafe here.\n"
            "- **`spawn`** starts a fresh interpreter per worker: safe, but each worker "
            "imports torch again — seconds per worker, every epoch.\n"
            "- **`forkserver`** (used here) starts one clean, single-threaded helper once, "
            "with torch, torchvision and the lab's datasets preloaded "
            "(`set_forkserver_preload`); every worker is a fork *of that helper*, which "
            "holds no other thread's locks. Safe, and a worker starts in tens of ms.\n\n"
            f"Measured (`python -m ptexplore.data.startup`, 2 workers, iter → first batch): "
            f"{measured}."
        )
        if boot is not None:
            st.caption(
                f"This server's forkserver (pid {boot.pid}) took {boot.seconds:.1f} s to "
                "start and preload, once; every run since forks from it."
            )
        st.caption(
            "Every worker registers with the run that started it: at the end of a run, a "
            "timeout, an exception inside `__getitem__` or a newer run of yours, any worker "
            "still alive is terminated — the caption under each run shows the count. The "
            "Dataset classes live in an importable module (`ptexplore.data.datasets`) so "
            "workers can unpickle them; a class defined in a script's `__main__` cannot be."
        )


# ------------------------------------------------------------------------ 1 · Dataset


def _dataset_controls() -> DatasetConfig:
    st.markdown(
        "The classic map-style pattern: `__init__(data, targets, transform)`, `__len__`, "
        "`__getitem__(idx)` applying the transform. Everything below runs the real class."
    )
    a, b = st.columns(2)
    n = a.slider("items (torch.rand(n, 1, 2, 2))", 1, DATA_MAX_ITEMS, 8, **STATE.widget("ds_n"))
    index = b.number_input(
        "dataset[idx]", 0, int(n) - 1, min(3, int(n) - 1), **STATE.widget("ds_index", reset_on=n)
    )
    return DatasetConfig(int(n), int(index), seed_input())


def _dataset_render(_c: DatasetConfig, lesson: DatasetLesson) -> None:
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("**The Dataset** (`ptexplore/data/datasets.py`)")
        st.code(lesson.source, language="python")
    with right:
        a, b, c = st.columns(3)
        a.metric("len(dataset)", lesson.length)
        b.metric(f"dataset[{lesson.config.index}] x.shape", str(lesson.item_shape))
        c.metric("y", lesson.target)
        st.caption(f"x = {list(lesson.item_values)}")
        st.markdown("**The common slip** — run live on the same data:")
        st.code(lesson.broken_len, language="python")
        show_error(lesson.refusal, call="len(BrokenLenDataset(data, targets))")


DATASET: Section[DatasetConfig, DatasetLesson] = Section(
    "dataset",
    _dataset_controls,
    dataset_lesson,
    _dataset_render,
    lambda _c, lesson: lesson.snippet,
)


# ------------------------------------------------------------------- 2 · the run itself


def _run_controls() -> LoaderConfig:
    st.markdown(
        "An instrumented Dataset through a **real DataLoader with real worker processes**: "
        "every `__getitem__` records its index, `get_worker_info().id`, its process id and "
        "its start and end time."
    )
    a, b, c, d = st.columns(4)
    work = Work(
        a.selectbox("per-item work", [w.value for w in Work], index=1, **STATE.widget("work"))
    )
    ms = b.slider(
        "sleep per item (ms)",
        0,
        DATA_MAX_ITEM_MS,
        20,
        disabled=not work.sleeps,
        **STATE.widget("ms"),
    )
    n = c.slider("items", 1, DATA_MAX_ITEMS, 8, **STATE.widget("n"))
    fail = d.selectbox(
        "raise inside `__getitem__` at idx",
        ["never", *[str(i) for i in range(int(n))]],
        **STATE.widget("fail_at", reset_on=n),
    )
    e, f, g, h = st.columns(4)
    batch_size = e.slider("batch_size", 1, DATA_MAX_BATCH, 2, **STATE.widget("batch_size"))
    num_workers = f.slider("num_workers", 0, DATA_MAX_WORKERS, 2, **STATE.widget("num_workers"))
    prefetch = g.slider(
        "prefetch_factor",
        1,
        DATA_MAX_PREFETCH,
        2,
        disabled=not num_workers,
        help="Batches each worker may build ahead (needs num_workers ≥ 1).",
        **STATE.widget("prefetch_factor"),
    )
    step_ms = h.slider(
        "training step per batch (ms)", 0, DATA_MAX_STEP_MS, 0, **STATE.widget("step_ms")
    )
    # the toggles get a row of their own: at 1024 px five columns cut their labels
    # ("drop_…", "persis…"), and these labels are the DataLoader's own argument names
    i, j, k = st.columns([0.8, 1, 1.4])
    m, r = st.columns(2, vertical_alignment="bottom")
    shuffle = i.toggle("shuffle", True, **STATE.widget("shuffle"))
    drop_last = j.toggle("drop_last", False, **STATE.widget("drop_last"))
    persistent = k.toggle("persistent_workers", False, **STATE.widget("persistent"))
    epochs = m.slider("epochs", 1, DATA_MAX_EPOCHS, 1, **STATE.widget("epochs"))
    if r.button("🔁 Run again (new timings)", key=STATE.key("run_again")):
        STATE.set("_reruns", STATE.get("_reruns", 0) + 1)
    return LoaderConfig(
        n=int(n),
        work=work,
        ms=int(ms),
        batch_size=int(batch_size),
        shuffle=bool(shuffle),
        seed=seed_input(),
        num_workers=int(num_workers),
        prefetch_factor=int(prefetch),
        drop_last=bool(drop_last),
        persistent_workers=bool(persistent),
        epochs=int(epochs),
        step_ms=int(step_ms),
        fail_at=None if fail == "never" else int(fail),
        rerun=int(STATE.get("_reruns", 0)),
    )


def _orders_frame(run: LoaderRun) -> pd.DataFrame:
    """The three orders side by side: one row each, one column per position."""
    calls = sorted(run.calls, key=lambda c: (c.start, c.worker))
    width = len(run.planned)

    def row(values: Sequence[object]) -> list[str]:
        # text cells: one column mixes indices and worker names (Arrow needs one type)
        return [str(v) for v in values[:width]] + [""] * (width - len(values))

    frame = pd.DataFrame(
        [
            row(list(run.planned)),
            row(list(run.yielded)),
            row(list(run.called)),
            row([row_name(c.worker) for c in calls]),
        ],
        index=[
            "sampler order",
            "yielded by the loader",
            "__getitem__ called (start time)",
            "called in",
        ],
        columns=[str(k) for k in range(width)],
    )
    frame.index.name = "position →"
    return frame


BATCH_COLUMNS = (
    "batch",
    "epoch",
    "indices",
    "built by",
    "pid",
    "dispatched (ms)",
    "first call (ms)",
    "built (ms)",
    "yielded (ms)",
    "ready, waiting (ms)",
)


def _batches_frame(run: LoaderRun) -> pd.DataFrame:
    rows = [
        (
            b.position,
            b.epoch,
            str(list(b.indices)),
            row_name(b.worker),
            b.pid,
            round(b.dispatched * 1000, 1),
            round(b.first_start * 1000, 1),
            round(b.built * 1000, 1),
            round(b.got * 1000, 1),
            round(max(b.got - b.built, 0.0) * 1000, 1),
        )
        for b in run.batches
    ]
    return pd.DataFrame(rows, columns=list(BATCH_COLUMNS)).set_index("batch")


@dataclass(frozen=True, slots=True)
class RunViews:
    """What the run tab draws from one run (built once per run, not on every rerun)."""

    timeline: Figure
    prefetch: Figure | None
    orders: pd.DataFrame
    batches: pd.DataFrame


def _views(config: LoaderConfig, run: LoaderRun) -> RunViews:
    return STATE.memo(
        "_run_views",
        config,
        lambda: RunViews(
            timeline_figure(run),
            prefetch_figure(run) if config.num_workers else None,
            _orders_frame(run),
            _batches_frame(run),
        ),
    )


def _run_render(config: LoaderConfig, run: LoaderRun) -> None:
    start_method_note()
    if run.refusal is not None:
        show_error(run.refusal, call="DataLoader(dataset, num_workers=0, persistent_workers=True)")
        return
    if run.failure is not None:
        f = run.failure
        before = f"The {len(run.batches)} batch(es) before it were yielded"
        if f.worker is not None:
            st.error(
                f"`__getitem__` raised in **worker {f.worker}**. The DataLoader re-raised it "
                f"here as {code_span(f.first_line, limit=200)}; the worker's own message: "
                f"{code_span(f.worker_line, limit=300)}. {before}; the workers were shut "
                "down (see the caption below).",
                icon="💥",
            )
        else:
            st.error(
                "`__getitem__` raised in **the main process** (num_workers=0: no worker, "
                f"the exception propagates as it is): "
                f"{code_span('ValueError: ' + f.first_line, limit=300)}. {before}.",
                icon="💥",
            )
    w = config.num_workers
    a, b, c, d = st.columns(4)
    a.metric("wall time", f"{run.total_s:.3f} s", help="from the first iter(loader) to the end")
    ups = run.startup(0) if run.calls else {}
    if w and ups:
        b.metric("worker start-up (epoch 0)", f"{max(ups.values()) * 1000:.0f} ms")
    else:
        b.metric("worker start-up", "none", help="num_workers=0: no worker process")
    c.metric("batches yielded", len(run.batches))
    d.metric("worker processes", run.processes.started, help="all ended when the run ended")
    views = _views(config, run)
    chart(views.timeline, key=STATE.key("timeline"))
    st.caption(
        "Each bar is one real `__getitem__` call (hover: idx, batch, worker, pid, times). "
        "Grey: a worker's start-up, from `iter(loader)` to its first call — "
        + (
            "persistent workers skip it in epoch 1."
            if config.persistent_workers
            else "paid again every epoch unless persistent_workers=True."
        )
    )

    st.markdown("#### Call order vs batch order")
    same = run.in_sampler_order
    interleaved = run.called != run.yielded
    if w:
        st.markdown(
            f"Yielded in the sampler's order: **{same}**. `__getitem__` was called in that "
            f"order: **{not interleaved}** — {w} worker *processes* (not threads) build "
            "batches at the same time, so calls interleave, and the DataLoader puts the "
            "batches back in sampler order before it yields them (`in_order=True`)."
        )
        st.caption(
            "A popular note prints `idx` inside `__getitem__`, sees them out of order and "
            "concludes the loader is “multi-threaded, so the order is random”. Both halves "
            "are off: the workers are separate processes (see their pids), and what the "
            "loop receives is the sampler's order — only the *calls* interleave."
        )
    else:
        st.markdown(
            f"num_workers=0: the main process calls `__getitem__` itself, one index after "
            f"the other, so call order = yielded order = sampler order: **{same}**."
        )
    if run.dropped:
        st.caption(f"drop_last=True dropped {list(run.dropped)} (an incomplete last batch).")
    st.dataframe(views.orders, width="stretch")
    st.markdown(
        "**Which worker built which batch** "
        + ("(round robin: batch k of an epoch → worker k % num_workers)" if w else "")
    )
    st.dataframe(views.batches, width="stretch")
    if views.prefetch is not None:
        st.markdown("#### The prefetch queue")
        cap = config.prefetch_factor * w
        st.markdown(
            f"The DataLoader keeps **prefetch_factor × num_workers = {cap}** batches "
            "dispatched: each yielded batch hands the next index list to the next worker. "
            "Add a training step to watch the queue fill and the workers wait."
        )
        chart(views.prefetch, key=STATE.key("prefetch"))
    processes_caption(run.processes)


RUN: Section[LoaderConfig, LoaderRun] = Section(
    "run",
    _run_controls,
    lambda c: guarded("a DataLoader run", c, lambda cfg, cancel: run_loader(cfg, cancel=cancel)),
    _run_render,
    lambda _c, run: Snippet(run.snippet.code, run.snippet.output, note=TIMING_NOTE),
)


# ---------------------------------------------------------------- 3 · workers vs time


def _sweep_controls() -> SweepConfig:
    st.markdown(
        "The same epoch with `num_workers` = 0, 1, 2, … — worker start-up included, "
        f"measured live on this server ({os.cpu_count()} CPU cores)."
    )
    a, b, c, d, e = st.columns(5)
    work = Work(
        a.selectbox("per-item work", [w.value for w in Work], index=1, **STATE.widget("sw_work"))
    )
    ms = b.slider(
        "sleep per item (ms)",
        0,
        DATA_MAX_ITEM_MS,
        20,
        disabled=not work.sleeps,
        **STATE.widget("sw_ms"),
    )
    n = c.slider("items", 1, DATA_MAX_ITEMS, 16, **STATE.widget("sw_n"))
    batch = d.slider("batch_size", 1, DATA_MAX_BATCH, 4, **STATE.widget("sw_batch"))
    top = e.slider(
        "up to num_workers", 1, DATA_MAX_WORKERS, DATA_MAX_WORKERS, **STATE.widget("sw_max")
    )
    if st.button("🔁 Measure again", key=STATE.key("sw_again")):
        STATE.set("_sw_reruns", STATE.get("_sw_reruns", 0) + 1)
    return SweepConfig(
        int(n), work, int(ms), int(batch), int(top), seed_input(), STATE.get("_sw_reruns", 0)
    )


def _sweep_render(config: SweepConfig, result: SweepResult) -> None:
    start_method_note()
    chart(STATE.memo("_sweep_fig", config, lambda: sweep_figure(result)), key=STATE.key("sweep"))
    base = result.points[0]
    rows = [
        {
            "num_workers": p.workers,
            "to the first batch (s)": round(p.first_s, 3),
            "epoch (s)": round(p.total_s, 3),
            "speed-up vs 0": round(base.total_s / p.total_s, 2) if p.total_s else None,
            "inside __getitem__ (s)": round(p.item_s, 3),
            "in sampler order": p.in_order,
        }
        for p in result.points
    ]
    st.dataframe(pd.DataFrame(rows).set_index("num_workers"), width="stretch")
    best = min(result.points, key=lambda p: p.total_s)
    st.markdown(
        f"Fastest here: **num_workers={best.workers}**. Sleeping items overlap in any "
        "number of workers; CPU work (decode + augment) stops gaining once every core is "
        "busy. Each epoch also pays the workers' start-up (grey) — more workers, more "
        "start-up — which is why a tiny dataset can be slower with workers than without."
    )
    processes_caption(result.processes)


SWEEP: Section[SweepConfig, SweepResult] = Section(
    "sweep",
    _sweep_controls,
    lambda c: guarded("a num_workers sweep", c, lambda cfg, cancel: sweep(cfg, cancel=cancel)),
    _sweep_render,
    lambda _c, r: Snippet(r.snippet.code, r.snippet.output, note=TIMING_NOTE),
)


# ------------------------------------------------------------------- 4 · worker seeds


def _seeds_controls() -> SeedsConfig:
    st.markdown(
        "Each item draws three random numbers inside `__getitem__` (random augmentation "
        "does the same): from a numpy `Generator` the dataset made in `__init__`, from "
        "numpy's global RNG, and from torch's. Three DataLoaders run for real, one per "
        "`worker_init_fn`."
    )
    a, b, c = st.columns(3)
    n = a.slider("items", 2, DATA_MAX_ITEMS, 16, **STATE.widget("sd_n"))
    w = b.slider("num_workers", 2, DATA_MAX_WORKERS, 2, **STATE.widget("sd_workers"))
    batch = c.slider("batch_size", 1, DATA_MAX_BATCH, 2, **STATE.widget("sd_batch"))
    return SeedsConfig(int(n), int(w), int(batch), seed_input())


def _seeds_summary(lesson: SeedsLesson) -> pd.DataFrame:
    labels = dict(SOURCES)
    return pd.DataFrame(
        [
            {"worker_init_fn": name, "what it does": what}
            | {
                labels[s]: f"{r.count(s).distinct} distinct, {r.count(s).repeated} repeated"
                for s, _ in SOURCES
            }
            for (name, what), r in zip(INITS, lesson.results, strict=True)
        ]
    ).set_index("worker_init_fn")


def _draws_frame(lesson: SeedsLesson, init: str) -> pd.DataFrame:
    labels = dict(SOURCES)
    return pd.DataFrame(
        [
            {"idx": r.idx, "worker": r.worker} | {labels[s]: getattr(r, s) for s, _ in SOURCES}
            for r in lesson.result(init).rows
        ]
    ).set_index("idx")


def _seeds_render(config: SeedsConfig, lesson: SeedsLesson) -> None:
    fig, summary = STATE.memo(
        "_seeds_views", config, lambda: (seeds_figure(lesson), _seeds_summary(lesson))
    )
    chart(fig, key=STATE.key("seeds"))
    st.dataframe(summary, width="stretch")
    none = lesson.result("None")
    st.markdown(
        f"**The pitfall.** The dataset's own Generator is *copied* into each of the "
        f"{config.num_workers} workers, state included, so every worker draws the same "
        f"sequence: {none.count('owned').repeated} of {config.n} items repeat another's "
        "value. Seeding every worker with one constant (`np.random.seed(0)`) does the same "
        "to numpy's global RNG. Since PyTorch 1.9 the DataLoader itself seeds numpy's "
        "global RNG per worker (from `base_seed + worker_id`), which is why its column is "
        "clean without a `worker_init_fn`; torch's own RNG is always seeded per worker.\n\n"
        "**The fix.** A `worker_init_fn` that seeds from `torch.initial_seed()` — "
        "`base_seed + worker_id`, new every epoch — or drawing with torch's generator."
    )
    pick = st.selectbox(
        "every item's draws, for worker_init_fn =",
        [name for name, _ in INITS],
        **STATE.widget("sd_show"),
    )
    frame = STATE.memo("_draws", (config, pick), lambda: _draws_frame(lesson, str(pick)))
    st.dataframe(frame, width="stretch")
    processes_caption(lesson.processes)


SEEDS: Section[SeedsConfig, SeedsLesson] = Section(
    "seeds",
    _seeds_controls,
    lambda c: guarded(
        "the worker-seed runs", c, lambda cfg, cancel: seeds_lesson(cfg, cancel=cancel)
    ),
    _seeds_render,
    lambda _c, lesson: lesson.snippet,
)


# ------------------------------------------------------------ 5 · epochs and augmentation


def _epochs_controls() -> EpochsConfig:
    st.markdown(
        "Augmentation does **not** grow the dataset: `len()` stays the same, and the same "
        "index gives a *new* sample every epoch. The bundled photos through the "
        "augmentation lab's train pipeline, in 2 worker processes."
    )
    a, b = st.columns(2)
    n = a.slider("items", 1, 8, 4, **STATE.widget("ep_n"))
    epochs = b.slider("epochs", 2, DATA_MAX_EPOCHS + 1, 2, **STATE.widget("ep_epochs"))
    return EpochsConfig(int(n), int(epochs), seed_input())


def _epochs_render(config: EpochsConfig, lesson: EpochsLesson) -> None:
    tiles = STATE.memo("_tiles", config, lambda: [[jpeg(i) for i in row] for row in lesson.images])
    cols = st.columns(len(lesson.lengths))
    for e, (col, n, seen) in enumerate(zip(cols, lesson.lengths, lesson.seen, strict=True)):
        col.metric(f"epoch {e}: len(dataset)", n, help=f"{seen} samples yielded")
    for idx, (row, prints) in enumerate(zip(tiles, lesson.fingerprints, strict=True)):
        cells = st.columns(len(row) + 1)
        cells[0].markdown(f"**idx {idx}**  \n{inert(lesson.photos[idx])}")
        for e, (cell, tile, fp) in enumerate(zip(cells[1:], row, prints, strict=True)):
            cell.image(tile, caption=f"epoch {e} · {fp}", width="stretch")
    st.caption(
        "Captions: the first 12 hex digits of the sample's sha256 (what the code prints). "
        "Each epoch the DataLoader draws a new `base_seed` for its workers from its "
        "`generator`, so the random crop and flip differ."
    )
    processes_caption(lesson.processes)


EPOCHS: Section[EpochsConfig, EpochsLesson] = Section(
    "epochs",
    _epochs_controls,
    lambda c: guarded("the epochs run", c, lambda cfg, cancel: epochs_lesson(cfg, cancel=cancel)),
    _epochs_render,
    lambda _c, lesson: lesson.snippet,
)


# ------------------------------------------------------------------- 6 · random_split


def _split_controls() -> SplitConfig:
    st.markdown(
        "`random_split` returns `Subset`s of **one** dataset. Setting a transform for the "
        "validation split sets it for training too — live below, then the two correct "
        "patterns. The stand-in augmentation is a horizontal flip (easy to see)."
    )
    a, b = st.columns(2)
    n = a.slider("items (2×2 images)", 2, 32, 8, **STATE.widget("sp_n"))
    val = b.slider(
        "validation items", 1, int(n) - 1, min(2, int(n) - 1), **STATE.widget("sp_val", reset_on=n)
    )
    return SplitConfig(int(n), int(val), seed_input())


def _split_render(_c: SplitConfig, lesson: SplitLesson) -> None:
    st.markdown(
        f"`train.indices` = {list(lesson.train_indices)}, `val.indices` = "
        f"{list(lesson.val_indices)} · `train.dataset is val.dataset` → "
        f"**{lesson.same_dataset}**"
    )
    frame = pd.DataFrame(
        [
            {"train[0] x": str(list(lesson.before)), "when": "before: flipped (augmented)"},
            {
                "train[0] x": str(list(lesson.after)),
                "when": "after val.dataset.transform = None",
            },
        ]
    ).set_index("when")
    st.dataframe(frame, width="stretch")
    if lesson.after == lesson.plain:
        st.error(
            "**The trap, live:** `val.dataset.transform = None` removed training's "
            "augmentation too — `train[0]` is now the plain sample. `val.dataset` *is* "
            "the one dataset both splits read.",
            icon="🪤",
        )
    right = pd.DataFrame(
        [
            {
                "pattern": "two datasets, one split of the indices",
                "train[0] x": str(list(lesson.two_datasets[0])),
                "val[0] x": str(list(lesson.two_datasets[1])),
            },
            {
                "pattern": "split without transform, wrap each split",
                "train[0] x": str(list(lesson.wrapper[0])),
                "val[0] x": str(list(lesson.wrapper[1])),
            },
        ]
    ).set_index("pattern")
    st.markdown("**Right:** training augmented, validation plain.")
    st.dataframe(right, width="stretch")


SPLIT: Section[SplitConfig, SplitLesson] = Section(
    "split", _split_controls, split_lesson, _split_render, lambda _c, lesson: lesson.snippet
)


# ----------------------------------------------------------------- 7 · ConcatDataset


def _concat_controls() -> ConcatConfig:
    st.markdown(
        "`ConcatDataset([augmented, original])`: `len` doubles, and a global index maps to "
        "(dataset, local index) through `cumulative_sizes`."
    )
    a, b = st.columns(2)
    n = a.slider("items per dataset", 1, 16, 6, **STATE.widget("cc_n"))
    limit = 2 * int(n)
    index = b.number_input(
        f"global index (valid: {-limit}…{limit - 1})",
        -limit - 1,
        limit,
        min(7, limit - 1),
        **STATE.widget("cc_index", reset_on=n),
    )
    return ConcatConfig(int(n), int(index))


def _concat_render(config: ConcatConfig, lesson: ConcatLesson) -> None:
    a, b, c, d = st.columns(4)
    a.metric("len(augmented)", lesson.lengths[0])
    b.metric("len(original)", lesson.lengths[1])
    c.metric("len(both)", lesson.lengths[2])
    d.metric("cumulative_sizes", str(list(lesson.cumulative_sizes)))
    if lesson.refusal is not None:
        show_error(lesson.refusal, call=f"both[{config.index}]")
    elif lesson.picked is not None:
        p = lesson.picked
        st.success(
            f"`both[{p.index}]` → `datasets[{p.dataset}]` (**{NAMES[p.dataset]}**), item "
            f"**{p.local}** · y = {p.target} · equal to `both.datasets[{p.dataset}]"
            f"[{p.local}]`: **{p.matches}**",
            icon="🧭",
        )
    st.dataframe(
        STATE.memo("_concat_rows", config, lambda: _concat_frame(lesson)),
        width="stretch",
        height=min(38 + 35 * len(lesson.rows), 460),
    )


def _concat_frame(lesson: ConcatLesson) -> pd.DataFrame:
    picked = None if lesson.picked is None else lesson.picked.index % lesson.lengths[2]
    return pd.DataFrame(
        [
            {
                "global index": r.index,
                "dataset": f"{r.dataset} · {NAMES[r.dataset]}",
                "local index": r.local,
                "y": r.target,
                "same as datasets[d][local]": r.matches,
                "picked": "◀" if r.index == picked else "",
            }
            for r in lesson.rows
        ]
    ).set_index("global index")


CONCAT: Section[ConcatConfig, ConcatLesson] = Section(
    "concat", _concat_controls, concat_lesson, _concat_render, lambda _c, lesson: lesson.snippet
)


TABS = (
    Tab("📜 The Dataset", warm_then(lambda: run_section(DATA, DATASET))),
    Tab("🚚 DataLoader run", warm_then(lambda: run_section(DATA, RUN))),
    Tab("⏱️ Workers vs time", warm_then(lambda: run_section(DATA, SWEEP))),
    Tab("🎲 Worker seeds", warm_then(lambda: run_section(DATA, SEEDS))),
    Tab("🔁 Epochs", warm_then(lambda: run_section(DATA, EPOCHS))),
    Tab("✂️ random_split", warm_then(lambda: run_section(DATA, SPLIT))),
    Tab("➕ ConcatDataset", warm_then(lambda: run_section(DATA, CONCAT))),
)
