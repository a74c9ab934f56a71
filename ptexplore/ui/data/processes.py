"""The tabs that start worker processes besides the main run: ⏱️ workers vs time,
🎲 worker seeds and 🔁 epochs of augmentation. Each is the page's one run per session
(``exclusive``) and heavy work (under the shared semaphore)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from ptexplore.data import tables
from ptexplore.data.figures import seeds_figure, sweep_figure
from ptexplore.data.loader import Work
from ptexplore.data.parallel import (
    INITS,
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
from ptexplore.figures import Figure
from ptexplore.i18n import N_, _
from ptexplore.images import jpeg
from ptexplore.limits import (
    DATA_MAX_BATCH,
    DATA_MAX_EPOCHS,
    DATA_MAX_ITEM_MS,
    DATA_MAX_ITEMS,
    DATA_MAX_WORKERS,
)
from ptexplore.live import Snippet
from ptexplore.ui.choices import choices, shown
from ptexplore.ui.data.common import (
    STATE,
    TIMING_NOTE,
    code_name,
    processes_caption,
    start_method_note,
)
from ptexplore.ui.lab import Section
from ptexplore.ui.page import seed_input
from ptexplore.ui.render import chart, inert

SWEEP_TAB, SEEDS_TAB, EPOCHS_TAB = N_("⏱️ Workers vs time"), N_("🎲 Worker seeds"), N_("🔁 Epochs")


def _sweep_controls(_shared: object) -> SweepConfig:
    st.markdown(
        _(
            "The same epoch with `num_workers` = 0, 1, 2, … — worker start-up included, "
            "measured live on this server ({cores} CPU cores)."
        ).format(cores=os.cpu_count())
    )
    a, b, c, d, e = st.columns(5)
    work = Work(
        a.selectbox(
            _("per-item work"),
            [w.value for w in Work],
            index=1,
            format_func=shown(choices(Work)),
            **STATE.widget("sw_work"),
        )
    )
    ms = b.slider(
        _("sleep per item (ms)"),
        0,
        DATA_MAX_ITEM_MS,
        20,
        disabled=not work.sleeps,
        **STATE.widget("sw_ms"),
    )
    n = c.slider(_("items"), 1, DATA_MAX_ITEMS, 16, **STATE.widget("sw_n"))
    batch = d.slider(code_name("batch_size"), 1, DATA_MAX_BATCH, 4, **STATE.widget("sw_batch"))
    top = e.slider(
        _("up to num_workers"), 1, DATA_MAX_WORKERS, DATA_MAX_WORKERS, **STATE.widget("sw_max")
    )
    if st.button(_("🔁 Measure again"), key=STATE.key("sw_again")):
        STATE.set("_sw_reruns", STATE.get("_sw_reruns", 0) + 1)
    return SweepConfig(
        int(n), work, int(ms), int(batch), int(top), seed_input(), STATE.get("_sw_reruns", 0)
    )


def _sweep_views(_config: SweepConfig, result: SweepResult) -> tuple[Figure, pd.DataFrame]:
    return sweep_figure(result), tables.sweep(result)


def _sweep_render(
    _config: SweepConfig, result: SweepResult, views: tuple[Figure, pd.DataFrame]
) -> None:
    start_method_note(result.processes)
    chart(views[0], key=STATE.key("sweep"))
    st.dataframe(views[1], width="stretch")
    best = min(result.points, key=lambda p: p.total_s)
    st.markdown(
        _(
            "Fastest here: **num_workers={best}**. Sleeping items overlap in any number of "
            "workers; CPU work (decode + augment) stops gaining once every core is busy. Each "
            "epoch also pays the workers' start-up (grey) — more workers, more start-up — "
            "which is why a tiny dataset can be slower with workers than without."
        ).format(best=best.workers)
    )
    processes_caption(result.processes)


SWEEP: Section[SweepConfig, SweepResult] = Section(
    "sweep",
    _sweep_controls,
    lambda c, cancel: sweep(c, cancel=cancel),
    _sweep_render,
    lambda _c, r: Snippet(r.snippet.code, r.snippet.output, note=TIMING_NOTE),
    label=SWEEP_TAB,
    heavy=lambda _c: _("a num_workers sweep"),
    exclusive=True,
    views=_sweep_views,
)


# ------------------------------------------------------------------- 4 · worker seeds


def _seeds_controls(_shared: object) -> SeedsConfig:
    st.markdown(
        _(
            "Each item draws three random numbers inside `__getitem__` (random augmentation "
            "does the same): from a numpy `Generator` the dataset made in `__init__`, from "
            "numpy's global RNG, and from torch's. Three DataLoaders run for real, one per "
            "`worker_init_fn`."
        )
    )
    a, b, c = st.columns(3)
    n = a.slider(_("items"), 2, DATA_MAX_ITEMS, 16, **STATE.widget("sd_n"))
    w = b.slider(code_name("num_workers"), 2, DATA_MAX_WORKERS, 2, **STATE.widget("sd_workers"))
    batch = c.slider(code_name("batch_size"), 1, DATA_MAX_BATCH, 2, **STATE.widget("sd_batch"))
    return SeedsConfig(int(n), int(w), int(batch), seed_input())


@dataclass(frozen=True, slots=True)
class SeedsViews:
    figure: Figure
    summary: pd.DataFrame
    #: every item's draws, per worker_init_fn
    draws: dict[str, pd.DataFrame]


def _seeds_views(_config: SeedsConfig, lesson: SeedsLesson) -> SeedsViews:
    return SeedsViews(
        seeds_figure(lesson),
        tables.seeds_summary(lesson),
        {name: tables.draws(lesson, name) for name, _what in INITS},
    )


def _seeds_render(config: SeedsConfig, lesson: SeedsLesson, views: SeedsViews) -> None:
    fig, summary = views.figure, views.summary
    chart(fig, key=STATE.key("seeds"))
    st.dataframe(summary, width="stretch")
    none = lesson.result("None")
    st.markdown(
        _(
            "**The pitfall.** The dataset's own Generator is *copied* into each of the "
            "{workers} workers, state included, so every worker draws the same sequence: "
            "{repeated} of {n} items repeat another's value. Seeding every worker with one "
            "constant (`np.random.seed(0)`) does the same to numpy's global RNG. The "
            "DataLoader itself seeds each worker's RNGs as it starts: Python's `random` and "
            "torch with `base_seed + worker_id`, and (since PyTorch 1.9) numpy's global RNG "
            "with a seed hashed from `base_seed` and `worker_id` (`_generate_state`), which "
            "is why those columns are clean without a `worker_init_fn`. A Generator your "
            "dataset owns is yours to seed.\n\n"
            "**The fix.** A `worker_init_fn` that gives the worker's copy of the dataset "
            "`np.random.default_rng(get_worker_info().seed)` (that seed is `base_seed + "
            "worker_id`), or drawing with torch's generator instead."
        ).format(workers=config.num_workers, repeated=none.count("owned").repeated, n=config.n)
    )
    if lesson.epochs:
        off, on = lesson.epochs
        st.markdown(
            _(
                "**New every epoch?** `base_seed` is drawn from the DataLoader's `generator` "
                "each time it starts workers: every epoch — unless `persistent_workers=True`, "
                "where the workers (and their `worker_init_fn`) start once and keep their "
                "RNGs. Live, two epochs: new worker seeds in epoch 1 without persistent "
                "workers: **{off}**; with them: **{on}**."
            ).format(off=off.new_each_epoch, on=on.new_each_epoch)
        )
        st.dataframe(tables.epoch_seeds(lesson), width="stretch")
    if lesson.streams:
        naive, split = lesson.streams
        st.markdown(
            _(
                "**An `IterableDataset` is copied too.** With a map-style dataset the sampler "
                "hands each index to one worker; an iterable-style one has no sampler: every "
                "worker iterates its own copy. Live, {workers} workers: {naive} gave "
                "**{naive_items} items, {naive_dups} duplicates**; split by "
                "`get_worker_info()` (worker k yields k, k + num_workers, …) {split} gave "
                "**{split_items}, {split_dups} duplicates**. With `in_order=True` (the "
                "default) the loop gets the workers' items in turn, round robin: there is no "
                "sampler order to keep."
            ).format(
                workers=config.num_workers,
                naive=f"`{naive.dataset}({len(set(naive.items))})`",
                naive_items=len(naive.items),
                naive_dups=naive.duplicates,
                split=f"`{split.dataset}`",
                split_items=len(split.items),
                split_dups=split.duplicates,
            )
        )
        st.dataframe(tables.streams(lesson), width="stretch")
    pick = st.selectbox(
        _("every item's draws, for worker_init_fn ="),
        [name for name, _what in INITS],
        **STATE.widget("sd_show"),
    )
    st.dataframe(views.draws[str(pick)], width="stretch")
    processes_caption(lesson.processes)


SEEDS: Section[SeedsConfig, SeedsLesson] = Section(
    "seeds",
    _seeds_controls,
    lambda c, cancel: seeds_lesson(c, cancel=cancel),
    _seeds_render,
    lambda _c, lesson: lesson.snippet,
    label=SEEDS_TAB,
    heavy=lambda _c: _("the worker-seed runs"),
    exclusive=True,
    views=_seeds_views,
)


# ------------------------------------------------------------ 5 · epochs and augmentation


def _epochs_controls(_shared: object) -> EpochsConfig:
    st.markdown(
        _(
            "Augmentation does **not** grow the dataset: `len()` stays the same, and the same "
            "index gives a *new* sample every epoch. The bundled photos through the "
            "augmentation lab's train pipeline, in 2 worker processes."
        )
    )
    a, b = st.columns(2)
    n = a.slider(_("items"), 1, 8, 4, **STATE.widget("ep_n"))
    epochs = b.slider(_("epochs"), 2, DATA_MAX_EPOCHS + 1, 2, **STATE.widget("ep_epochs"))
    return EpochsConfig(int(n), int(epochs), seed_input())


def _epochs_tiles(_config: EpochsConfig, lesson: EpochsLesson) -> list[list[bytes]]:
    """The samples as JPEG bytes, encoded once per run."""
    return [[jpeg(i) for i in row] for row in lesson.images]


def _epochs_render(_config: EpochsConfig, lesson: EpochsLesson, tiles: list[list[bytes]]) -> None:
    cols = st.columns(len(lesson.lengths))
    for e, (col, n, seen) in enumerate(zip(cols, lesson.lengths, lesson.seen, strict=True)):
        col.metric(
            _("epoch {e}: len(dataset)").format(e=e),
            n,
            help=_("{seen} samples yielded").format(seen=seen),
        )
    for idx, (row, prints) in enumerate(zip(tiles, lesson.fingerprints, strict=True)):
        cells = st.columns(len(row) + 1)
        cells[0].markdown(
            _("**idx {idx}**  \n{photo}").format(idx=idx, photo=inert(lesson.photos[idx]))
        )
        for e, (cell, tile, fp) in enumerate(zip(cells[1:], row, prints, strict=True)):
            cell.image(tile, caption=_("epoch {e} · {fp}").format(e=e, fp=fp), width="stretch")
    st.caption(
        _(
            "Captions: the first 12 hex digits of the sample's sha256 (what the code prints). "
            "Each epoch the DataLoader draws a new `base_seed` for its workers from its "
            "`generator`, so the random crop and flip differ."
        )
    )
    processes_caption(lesson.processes)


EPOCHS: Section[EpochsConfig, EpochsLesson] = Section(
    "epochs",
    _epochs_controls,
    lambda c, cancel: epochs_lesson(c, cancel=cancel),
    _epochs_render,
    lambda _c, lesson: lesson.snippet,
    label=EPOCHS_TAB,
    heavy=lambda _c: _("the epochs run"),
    exclusive=True,
    views=_epochs_tiles,
)
