"""The tables the DataLoader lab shows (pure: pandas, no Streamlit): the three orders, who
built each batch, the sweep, the worker-seed draws, random_split's samples, ConcatDataset's
index map. Their headers are translated where a table is built."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ptexplore.data.figures import row_name
from ptexplore.data.lessons import NAMES, ConcatLesson, SplitLesson
from ptexplore.data.loader import LoaderRun
from ptexplore.data.parallel import INITS, SOURCES, SeedsLesson, SweepResult
from ptexplore.i18n import N_, _


def orders(run: LoaderRun) -> pd.DataFrame:
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
            _("sampler order"),
            _("yielded by the loader"),
            _("__getitem__ called (start time)"),
            _("called in"),
        ],
        columns=[str(k) for k in range(width)],
    )
    frame.index.name = _("position →")
    return frame


#: the batches table's headers (English marked with ``N_``: translated where it is built)
BATCH_COLUMNS = (
    N_("batch"),
    N_("epoch"),
    N_("indices"),
    N_("built by"),
    "pid",
    N_("dispatched (ms)"),
    N_("first call (ms)"),
    N_("built (ms)"),
    N_("yielded (ms)"),
    N_("ready, waiting (ms)"),
)


def batches(run: LoaderRun) -> pd.DataFrame:
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
    columns = [_(c) for c in BATCH_COLUMNS]
    return pd.DataFrame(rows, columns=columns).set_index(columns[0])


def sweep(result: SweepResult) -> pd.DataFrame:
    """One row per num_workers: time to the first batch, the epoch, the speed-up."""
    base = result.points[0]
    rows = [
        {
            "num_workers": p.workers,
            _("to the first batch (s)"): round(p.first_s, 3),
            _("epoch (s)"): round(p.total_s, 3),
            _("speed-up vs 0"): round(base.total_s / p.total_s, 2) if p.total_s else None,
            _("inside __getitem__ (s)"): round(p.item_s, 3),
            _("in sampler order"): p.in_order,
        }
        for p in result.points
    ]
    return pd.DataFrame(rows).set_index("num_workers")


def epoch_seeds(lesson: SeedsLesson) -> pd.DataFrame:
    """Each worker's get_worker_info().seed per epoch, without and with persistent_workers."""
    rows = {}
    for e in lesson.epochs:
        for epoch, seeds in enumerate(e.seeds):
            rows[
                _("persistent_workers={persistent}, epoch {epoch}").format(
                    persistent=e.persistent, epoch=epoch
                )
            ] = {row_name(w): str(s) for w, s in enumerate(seeds)}
    return pd.DataFrame.from_dict(rows, orient="index")


def streams(lesson: SeedsLesson) -> pd.DataFrame:
    """The items the loop received from each IterableDataset, in order."""
    return pd.DataFrame(
        {
            _("dataset"): [s.dataset for s in lesson.streams],
            _("items received, in order"): [", ".join(map(str, s.items)) for s in lesson.streams],
            _("duplicates"): [s.duplicates for s in lesson.streams],
        }
    )


def seeds_summary(lesson: SeedsLesson) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"worker_init_fn": name, _("what it does"): _(what)}
            | {
                _(label): _("{distinct} distinct, {repeated} repeated").format(
                    distinct=r.count(s).distinct, repeated=r.count(s).repeated
                )
                for s, label in SOURCES
            }
            for (name, what), r in zip(INITS, lesson.results, strict=True)
        ]
    ).set_index("worker_init_fn")


def draws(lesson: SeedsLesson, init: str) -> pd.DataFrame:
    idx = "idx"
    return pd.DataFrame(
        [
            {idx: r.idx, _("worker"): r.worker} | {_(label): getattr(r, s) for s, label in SOURCES}
            for r in lesson.result(init).rows
        ]
    ).set_index(idx)


def split_trap(lesson: SplitLesson) -> pd.DataFrame:
    """``train[0]`` before and after ``val.dataset.transform = None``."""
    x, when = "train[0] x", _("when")
    return pd.DataFrame(
        [
            {x: str(list(lesson.before)), when: _("before: flipped (augmented)")},
            {x: str(list(lesson.after)), when: _("after val.dataset.transform = None")},
        ]
    ).set_index(when)


def split_right(lesson: SplitLesson) -> pd.DataFrame:
    """The two correct patterns: training augmented, validation plain."""
    pattern = _("pattern")
    return pd.DataFrame(
        [
            {
                pattern: _("two datasets, one split of the indices"),
                "train[0] x": str(list(lesson.two_datasets[0])),
                "val[0] x": str(list(lesson.two_datasets[1])),
            },
            {
                pattern: _("split without transform, wrap each split"),
                "train[0] x": str(list(lesson.wrapper[0])),
                "val[0] x": str(list(lesson.wrapper[1])),
            },
        ]
    ).set_index(pattern)


def concat(lesson: ConcatLesson) -> pd.DataFrame:
    picked = None if lesson.picked is None else lesson.picked.index % lesson.lengths[2]
    index = _("global index")
    return pd.DataFrame(
        [
            {
                index: r.index,
                _("dataset"): f"{r.dataset} · {NAMES[r.dataset]}",
                _("local index"): r.local,
                "y": r.target,
                _("same as datasets[d][local]"): r.matches,
                _("picked"): "◀" if r.index == picked else "",
            }
            for r in lesson.rows
        ]
    ).set_index(index)
