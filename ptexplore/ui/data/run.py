"""🚚 DataLoader run: an instrumented Dataset through a real DataLoader with real worker
processes — the Gantt of every ``__getitem__``, sampler vs call vs batch order, the
prefetch queue. The page's one run per session (``exclusive``): a changed setting cancels
the run in flight."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from ptexplore.data import tables
from ptexplore.data.figures import prefetch_figure, timeline_figure
from ptexplore.data.loader import LoaderConfig, LoaderRun, Work, run_loader
from ptexplore.figures import Figure
from ptexplore.i18n import N_, _
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
from ptexplore.text import code_span
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
from ptexplore.ui.render import chart, show_error

RUN_TAB = N_("🚚 DataLoader run")
#: the fail-at picker's value for "no failure" (an option value: shown translated)
NEVER = "never"


def _run_controls(_shared: object) -> LoaderConfig:
    st.markdown(
        _(
            "An instrumented Dataset through a **real DataLoader with real worker "
            "processes**: every `__getitem__` records its index, `get_worker_info().id`, its "
            "process id and its start and end time."
        )
    )
    a, b, c, d = st.columns(4)
    work = Work(
        a.selectbox(
            _("per-item work"),
            [w.value for w in Work],
            index=1,
            format_func=shown(choices(Work)),
            **STATE.widget("work"),
        )
    )
    ms = b.slider(
        _("sleep per item (ms)"),
        0,
        DATA_MAX_ITEM_MS,
        20,
        disabled=not work.sleeps,
        **STATE.widget("ms"),
    )
    n = c.slider(_("items"), 1, DATA_MAX_ITEMS, 8, **STATE.widget("n"))
    never = _("never")  # translated now: a format_func may be called after the rerun
    fail = d.selectbox(
        _("raise inside `__getitem__` at idx"),
        [NEVER, *[str(i) for i in range(int(n))]],
        format_func=lambda v: never if v == NEVER else v,
        **STATE.widget("fail_at", reset_on=n),
    )
    e, f, g, h = st.columns(4)
    batch_size = e.slider(
        code_name("batch_size"), 1, DATA_MAX_BATCH, 2, **STATE.widget("batch_size")
    )
    num_workers = f.slider(
        code_name("num_workers"), 0, DATA_MAX_WORKERS, 2, **STATE.widget("num_workers")
    )
    prefetch = g.slider(
        code_name("prefetch_factor"),
        1,
        DATA_MAX_PREFETCH,
        2,
        disabled=not num_workers,
        help=_("Batches each worker may build ahead (needs num_workers ≥ 1)."),
        **STATE.widget("prefetch_factor"),
    )
    step_ms = h.slider(
        _("training step per batch (ms)"), 0, DATA_MAX_STEP_MS, 0, **STATE.widget("step_ms")
    )
    # the toggles get a row of their own: at 1024 px five columns cut their labels
    # ("drop_…", "persis…"), and these labels are the DataLoader's own argument names
    i, j, k = st.columns([0.8, 1, 1.4])
    m, o, r = st.columns([1.4, 0.8, 1.4], vertical_alignment="bottom")
    shuffle = i.toggle(code_name("shuffle"), True, **STATE.widget("shuffle"))
    drop_last = j.toggle(code_name("drop_last"), False, **STATE.widget("drop_last"))
    persistent = k.toggle(code_name("persistent_workers"), False, **STATE.widget("persistent"))
    in_order = o.toggle(
        code_name("in_order"),
        True,
        disabled=not num_workers,
        help=_(
            "False (torch ≥ 2.6): each batch is yielded as soon as a worker has built it, "
            "not in the sampler's order (needs num_workers ≥ 1)."
        ),
        **STATE.widget("in_order"),
    )
    epochs = m.slider(_("epochs"), 1, DATA_MAX_EPOCHS, 1, **STATE.widget("epochs"))
    if r.button(_("🔁 Run again (new timings)"), key=STATE.key("run_again")):
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
        fail_at=None if fail == NEVER else int(fail),
        rerun=int(STATE.get("_reruns", 0)),
        in_order=bool(in_order) or not num_workers,
    )


@dataclass(frozen=True, slots=True)
class RunViews:
    """What the run tab draws from one run (built once per run, not on every rerun)."""

    timeline: Figure
    prefetch: Figure | None
    orders: pd.DataFrame
    batches: pd.DataFrame


def _views(config: LoaderConfig, run: LoaderRun) -> RunViews:
    return RunViews(
        timeline_figure(run),
        prefetch_figure(run) if config.num_workers else None,
        tables.orders(run),
        tables.batches(run),
    )


def _run_render(config: LoaderConfig, run: LoaderRun, views: RunViews) -> None:
    start_method_note(run.processes)
    if run.refusal is not None:
        show_error(run.refusal, call="DataLoader(dataset, num_workers=0, persistent_workers=True)")
        return
    if run.failure is not None:
        f = run.failure
        if f.worker is not None:
            st.error(
                _(
                    "`__getitem__` raised in **worker {worker}**. The DataLoader re-raised it "
                    "here as {first}; the worker's own message: {line}. The {n} batch(es) "
                    "before it were yielded; the workers were shut down (see the caption "
                    "below)."
                ).format(
                    worker=f.worker,
                    first=code_span(f.first_line, limit=200),
                    line=code_span(f.worker_line, limit=300),
                    n=len(run.batches),
                ),
                icon="💥",
            )
        else:
            st.error(
                _(
                    "`__getitem__` raised in **the main process** (num_workers=0: no worker, "
                    "the exception propagates as it is): {error}. The {n} batch(es) before it "
                    "were yielded."
                ).format(
                    error=code_span("ValueError: " + f.first_line, limit=300),
                    n=len(run.batches),
                ),
                icon="💥",
            )
    w = config.num_workers
    a, b, c, d = st.columns(4)
    a.metric(
        _("wall time"),
        f"{run.total_s:.3f} s",
        help=_("from the first iter(loader) to the end"),
    )
    ups = run.startup(0) if run.calls else {}
    if w and ups:
        b.metric(
            _("worker start-up (epoch 0)"),
            _("{startup:.0f} ms").format(startup=max(ups.values()) * 1000),
        )
    else:
        b.metric(
            _("worker start-up"),
            _("none"),
            help=_("num_workers=0: no worker process"),
        )
    c.metric(_("batches yielded"), len(run.batches))
    d.metric(
        _("worker processes"),
        run.processes.started,
        help=_("all ended when the run ended"),
    )
    chart(views.timeline, key=STATE.key("timeline"))
    if config.persistent_workers:
        st.caption(
            _(
                "Each bar is one real `__getitem__` call (hover: idx, batch, worker, pid, "
                "times). Grey: a worker's start-up, from `iter(loader)` to its first call — "
                "persistent workers skip it in epoch 1."
            )
        )
    else:
        st.caption(
            _(
                "Each bar is one real `__getitem__` call (hover: idx, batch, worker, pid, "
                "times). Grey: a worker's start-up, from `iter(loader)` to its first call — "
                "paid again every epoch unless persistent_workers=True."
            )
        )

    st.markdown(_("#### Call order vs batch order"))
    same = run.in_sampler_order
    interleaved = run.called != run.yielded
    if w and not config.in_order:
        st.markdown(
            _(
                "`in_order=False`: yielded in the sampler's order: **{same}**. Each batch is "
                "handed to the loop as soon as a worker has built it, so a slow item lets "
                "later batches overtake (try the variable sleep). The indices of every batch "
                "are still the sampler's; only their arrival order is the workers'."
            ).format(same=same)
        )
    elif w:
        st.markdown(
            _(
                "Yielded in the sampler's order: **{same}**. `__getitem__` was called in "
                "that order: **{called}** — {w} worker *processes* (not threads) build "
                "batches at the same time, so calls interleave, and the DataLoader puts the "
                "batches back in sampler order before it yields them (`in_order=True`, the "
                "default: true for a map-style dataset like this one)."
            ).format(same=same, called=not interleaved, w=w)
        )
        st.caption(
            _(
                "A popular note prints `idx` inside `__getitem__`, sees them out of order and "
                "concludes the loader is “multi-threaded, so the order is random”. Both "
                "halves are off: the workers are separate processes (see their pids), and "
                "what the loop receives is the sampler's order — only the *calls* interleave."
            )
        )
    else:
        st.markdown(
            _(
                "num_workers=0: the main process calls `__getitem__` itself, one index after "
                "the other, so call order = yielded order = sampler order: **{same}**."
            ).format(same=same)
        )
    if run.dropped:
        st.caption(
            _("drop_last=True dropped {indices} (an incomplete last batch).").format(
                indices=list(run.dropped)
            )
        )
    st.dataframe(views.orders, width="stretch")
    if w:
        st.markdown(
            _(
                "**Which worker built which batch** (round robin: batch k of an epoch → "
                "worker k % num_workers)"
            )
        )
    else:
        st.markdown(_("**Which worker built which batch**"))
    st.dataframe(views.batches, width="stretch")
    if views.prefetch is not None:
        st.markdown(_("#### The prefetch queue"))
        cap = config.prefetch_factor * w
        st.markdown(
            _(
                "The DataLoader keeps **prefetch_factor × num_workers = {cap}** batches "
                "dispatched: each yielded batch hands the next index list to the next worker. "
                "The chart is measured, not drawn from that rule: the code's `Timed` sampler "
                "notes when the DataLoader draws each index (a batch goes to its worker when "
                "its last index is drawn). Add a training step to watch the queue fill and "
                "the workers wait."
            ).format(cap=cap)
        )
        chart(views.prefetch, key=STATE.key("prefetch"))
    processes_caption(run.processes)


RUN: Section[LoaderConfig, LoaderRun] = Section(
    "run",
    _run_controls,
    lambda c, cancel: run_loader(c, cancel=cancel),
    _run_render,
    lambda _c, run: Snippet(run.snippet.code, run.snippet.output, note=TIMING_NOTE),
    label=RUN_TAB,
    heavy=lambda _c: _("a DataLoader run"),
    exclusive=True,
    views=_views,
)
