"""The tables the DataLoader lab shows (pure: pandas, no Streamlit): the three orders, who
built each batch, the sweep, the worker-seed draws, random_split's samples, ConcatDataset's
index map."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ptexplore.data.figures import row_name
from ptexplore.data.lessons import NAMES, ConcatLesson, SplitLesson
from ptexplore.data.loader import LoaderRun
from ptexplore.data.parallel import INITS, SOURCES, SeedsLesson, SweepResult


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
    return pd.DataFrame(rows, columns=list(BATCH_COLUMNS)).set_index("batch")


def sweep(result: SweepResult) -> pd.DataFrame:
    """One row per num_workers: time to the first batch, the epoch, the speed-up."""
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
    return pd.DataFrame(rows).set_index("num_workers")


def epoch_seeds(lesson: SeedsLesson) -> pd.DataFrame:
    """Each worker's get_worker_info().seed per epoch, without and with persistent_workers."""
    rows = {}
    for e in lesson.epochs:
        for epoch, seeds in enumerate(e.seeds):
            rows[f"persistent_workers={e.persistent}, epoch {epoch}"] = {
                f"worker {w}": str(s) for w, s in enumerate(seeds)
            }
    return pd.DataFrame.from_dict(rows, orient="index")


def streams(lesson: SeedsLesson) -> pd.DataFrame:
    """The items the loop received from each IterableDataset, in order."""
    return pd.DataFrame(
        {
            "dataset": [s.dataset for s in lesson.streams],
            "items received, in order": [", ".join(map(str, s.items)) for s in lesson.streams],
            "duplicates": [s.duplicates for s in lesson.streams],
        }
    )


def seeds_summary(lesson: SeedsLesson) -> pd.DataFrame:
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


def draws(lesson: SeedsLesson, init: str) -> pd.DataFrame:
    labels = dict(SOURCES)
    return pd.DataFrame(
        [
            {"idx": r.idx, "worker": r.worker} | {labels[s]: getattr(r, s) for s, _ in SOURCES}
            for r in lesson.result(init).rows
        ]
    ).set_index("idx")


def split_trap(lesson: SplitLesson) -> pd.DataFrame:
    """``train[0]`` before and after ``val.dataset.transform = None``."""
    return pd.DataFrame(
        [
            {"train[0] x": str(list(lesson.before)), "when": "before: flipped (augmented)"},
            {
                "train[0] x": str(list(lesson.after)),
                "when": "after val.dataset.transform = None",
            },
        ]
    ).set_index("when")


def split_right(lesson: SplitLesson) -> pd.DataFrame:
    """The two correct patterns: training augmented, validation plain."""
    return pd.DataFrame(
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


def concat(lesson: ConcatLesson) -> pd.DataFrame:
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
