"""Figures of the DataLoader lab, as plain plotly dicts (``ptexplore.figures``).

* :func:`timeline_figure` — a Gantt chart of one run: a row per worker process with its
  start-up (``iter(loader)`` → its first call) and every ``__getitem__`` call (colour =
  batch), and a row for the main process: waiting for each batch, then the training step.
* :func:`prefetch_figure` — batches handed to workers but not yet yielded, and batches
  already built and waiting in the queue, over the same time axis.
* :func:`sweep_figure` — total time per ``num_workers``, start-up stacked under the rest.
* :func:`seeds_figure` — repeated random values per ``worker_init_fn`` and source.
"""

from __future__ import annotations

from typing import Any

from ptexplore.data.loader import LoaderRun
from ptexplore.data.parallel import INITS, SOURCES, SeedsLesson, SweepResult
from ptexplore.figures import Figure, figure, vline
from ptexplore.i18n import N_, _
from ptexplore.style import PALETTE

MAIN = N_("main process")
STARTUP_COLOUR = "#BDBDBD"
WAIT_COLOUR = "#E0E0E0"
STEP_COLOUR = "#555555"
ITER_COLOUR = "#8D6E63"


def row_name(worker: int) -> str:
    """The main process's or a worker's name (a chart's row, a table's cell), translated."""
    return _(MAIN) if worker < 0 else _("worker {worker}").format(worker=worker)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


#: the x axis of the run's charts
SINCE_ITER = N_("seconds since the first iter(loader)")


def timeline_figure(run: LoaderRun) -> Figure:
    """The run as a Gantt chart (horizontal bars: ``base`` = start, ``x`` = duration)."""
    workers = run.config.num_workers
    main = row_name(-1)
    rows = [main] + [row_name(w) for w in range(workers)]
    traces: list[dict[str, Any]] = []

    # worker start-up: iter(loader) → the worker's first __getitem__ in that epoch
    ys, bases, widths, hovers = [], [], [], []
    if workers:
        for e in run.epochs:
            for w, seconds in run.startup(e.epoch).items():
                ys.append(row_name(w))
                bases.append(e.started)
                widths.append(seconds)
                hovers.append(
                    _("{row} · epoch {epoch} · start-up {ms}").format(
                        row=row_name(w), epoch=e.epoch, ms=_ms(seconds)
                    )
                )
    traces.append(
        {
            "type": "bar",
            "orientation": "h",
            "name": _("start-up: iter(loader) → first call"),
            "y": ys,
            "x": widths,
            "base": bases,
            "marker": {"color": STARTUP_COLOUR},
            "hovertext": hovers,
            "hoverinfo": "text",
        }
    )

    # the main process: iter(loader) (starting the workers), waiting for each batch, then
    # the training step
    traces.append(
        {
            "type": "bar",
            "orientation": "h",
            "name": _("main: iter(loader), starting the workers"),
            "y": [main] * len(run.epochs),
            "x": [max(e.ready - e.started, 0.0) for e in run.epochs],
            "base": [e.started for e in run.epochs],
            "marker": {"color": ITER_COLOUR},
            "hovertext": [
                _("epoch {epoch}: iter(loader) took {ms}").format(
                    epoch=e.epoch, ms=_ms(e.ready - e.started)
                )
                for e in run.epochs
            ],
            "hoverinfo": "text",
        }
    )
    wy, wb, wx, wh, sy, sb, sx, sh = [], [], [], [], [], [], [], []
    for b in run.batches:
        wy.append(main)
        wb.append(b.asked)
        wx.append(max(b.got - b.asked, 0.0))
        wh.append(
            _("main waits for batch {batch} ({ms})").format(
                batch=b.position, ms=_ms(b.got - b.asked)
            )
        )
        sy.append(main)
        sb.append(b.got)
        sx.append(max(b.step_end - b.got, 0.0))
        sh.append(
            _("batch {batch} {indices} yielded · training step").format(
                batch=b.position, indices=list(b.indices)
            )
        )
    traces.append(
        {
            "type": "bar",
            "orientation": "h",
            "name": _("main: waiting for the next batch"),
            "y": wy,
            "x": wx,
            "base": wb,
            "marker": {"color": WAIT_COLOUR},
            "hovertext": wh,
            "hoverinfo": "text",
        }
    )
    traces.append(
        {
            "type": "bar",
            "orientation": "h",
            "name": _("main: batch yielded → training step"),
            "y": sy,
            "x": sx,
            "base": sb,
            "marker": {"color": STEP_COLOUR},
            "hovertext": sh,
            "hoverinfo": "text",
        }
    )

    # every __getitem__ call, coloured by its batch
    few = len(run.calls) <= 32
    traces.append(
        {
            "type": "bar",
            "orientation": "h",
            "name": _("__getitem__(idx) (colour = batch)"),
            "y": [row_name(c.worker) for c in run.calls],
            "x": [c.end - c.start for c in run.calls],
            "base": [c.start for c in run.calls],
            "marker": {
                "color": [PALETTE[c.batch % len(PALETTE)] for c in run.calls],
                "line": {"color": "white", "width": 1},
            },
            "text": [str(c.idx) for c in run.calls] if few else None,
            "textposition": "inside",
            "insidetextanchor": "middle",
            "hovertext": [
                _("idx {idx} · batch {batch} · {row} (pid {pid}) · {start} → {end}").format(
                    idx=c.idx,
                    batch=c.batch,
                    row=row_name(c.worker),
                    pid=c.pid,
                    start=_ms(c.start),
                    end=_ms(c.end),
                )
                for c in run.calls
            ],
            "hoverinfo": "text",
        }
    )
    shapes, notes = [], []
    for e in run.epochs[1:]:
        shape, note = vline(
            e.started, color="#888888", label=_("epoch {epoch}").format(epoch=e.epoch)
        )
        shapes.append(shape)
        if note is not None:
            notes.append(note)
    return figure(
        traces,
        barmode="overlay",
        height=200 + 46 * len(rows),
        xaxis={"title": {"text": _(SINCE_ITER)}, "rangemode": "tozero"},
        yaxis={"categoryorder": "array", "categoryarray": list(reversed(rows))},
        legend={"orientation": "h", "y": -0.18, "yanchor": "top"},
        shapes=shapes,
        annotations=notes,
        margin={"l": 110, "r": 20, "t": 30, "b": 40},
    )


def prefetch_counts(run: LoaderRun) -> tuple[list[float], list[int], list[int]]:
    """Step series over time: batches dispatched but not yet yielded ("in flight"), and
    batches already built but not yet yielded ("ready in the queue")."""
    events: list[tuple[float, int, int]] = []
    for b in run.batches:
        events += [(b.dispatched, 1, 0), (b.got, -1, 0), (b.built, 0, 1), (b.got, 0, -1)]
    events.sort(key=lambda e: (e[0], e[1] + e[2]))  # at one instant: leave, then enter
    times, flight, ready = [0.0], [0], [0]
    f = r = 0
    for t, df, dr in events:
        f += df
        r += dr
        times.append(t)
        flight.append(f)
        ready.append(max(r, 0))
    return times, flight, ready


def prefetch_figure(run: LoaderRun) -> Figure:
    times, flight, ready = prefetch_counts(run)
    cap = run.config.prefetch_factor * run.config.num_workers
    traces = [
        {
            "type": "scatter",
            "mode": "lines",
            "line": {"shape": "hv", "width": 3},
            "name": _("dispatched to a worker, not yet yielded"),
            "x": times,
            "y": flight,
        },
        {
            "type": "scatter",
            "mode": "lines",
            "line": {"shape": "hv", "dash": "dot", "width": 3},
            "name": _("built, waiting in the queue"),
            "x": times,
            "y": ready,
        },
        {
            "type": "scatter",
            "mode": "lines",
            "line": {"color": "#888888", "dash": "dash"},
            "name": f"prefetch_factor × num_workers = {cap}",
            "x": [0.0, max(times) if times else 0.0],
            "y": [cap, cap],
        },
    ]
    return figure(
        traces,
        height=300,
        xaxis={"title": {"text": _(SINCE_ITER)}},
        yaxis={"title": {"text": _("batches")}, "rangemode": "tozero", "dtick": 1},
        legend={"orientation": "h", "y": -0.25, "yanchor": "top"},
    )


def sweep_figure(result: SweepResult) -> Figure:
    xs = [str(p.workers) for p in result.points]
    base = next((p for p in result.points if p.workers == 0), None)
    traces: list[dict[str, Any]] = [
        {
            "type": "bar",
            "name": _("iter(loader) → first batch (start-up included)"),
            "x": xs,
            "y": [p.first_s for p in result.points],
            "marker": {"color": STARTUP_COLOUR},
            "hovertemplate": "%{y:.3f} s<extra>" + _("to the first batch") + "</extra>",
        },
        {
            "type": "bar",
            "name": _("the rest of the epoch"),
            "x": xs,
            "y": [max(p.total_s - p.first_s, 0.0) for p in result.points],
            "marker": {"color": PALETTE[1]},
            "text": [f"{p.total_s:.2f} s" for p in result.points],
            "textposition": "outside",
            "hovertemplate": "%{y:.3f} s<extra>" + _("rest of the epoch") + "</extra>",
        },
    ]
    if base is not None:
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": _("ideal: the items' work ÷ num_workers (no start-up)"),
                "x": xs,
                "y": [base.item_s / max(p.workers, 1) for p in result.points],
                "line": {"color": PALETTE[0], "dash": "dash"},
            }
        )
    return figure(
        traces,
        barmode="stack",
        height=360,
        xaxis={"title": {"text": "num_workers"}, "type": "category"},
        yaxis={"title": {"text": _("seconds for one epoch")}, "rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.25, "yanchor": "top"},
    )


def seeds_figure(lesson: SeedsLesson) -> Figure:
    traces = []
    for i, (source, label) in enumerate(SOURCES):
        traces.append(
            {
                "type": "bar",
                "name": _(label),
                "x": [f"worker_init_fn={name}" for name, _what in INITS],
                "y": [lesson.result(name).count(source).repeated for name, _what in INITS],
                "marker": {"color": PALETTE[i + 1]},
                "hovertemplate": _("%{y} items repeat another's value")
                + f"<extra>{_(label)}</extra>",
            }
        )
    return figure(
        traces,
        barmode="group",
        height=320,
        yaxis={
            "title": {"text": _("items whose value another item drew too")},
            "rangemode": "tozero",
            "range": [0, lesson.config.n],
        },
        legend={"orientation": "h", "y": -0.25, "yanchor": "top"},
    )
