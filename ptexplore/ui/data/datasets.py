"""The tabs without worker processes: 📜 the Dataset, ✂️ random_split and ➕ ConcatDataset
(pure sections: cheap, remembered per config)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ptexplore.data import tables
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
from ptexplore.i18n import N_, _
from ptexplore.limits import DATA_MAX_ITEMS
from ptexplore.ui.data.common import STATE, code_name
from ptexplore.ui.lab import Section
from ptexplore.ui.page import seed_input
from ptexplore.ui.render import show_error

DATASET_TAB, SPLIT_TAB, CONCAT_TAB = N_("📜 The Dataset"), "✂️ random_split", "➕ ConcatDataset"


def _dataset_controls(_shared: object) -> DatasetConfig:
    st.markdown(
        _(
            "The classic map-style pattern: `__init__(data, targets, transform)`, `__len__`, "
            "`__getitem__(idx)` applying the transform. Everything below runs the real class."
        )
    )
    a, b = st.columns(2)
    n = a.slider(_("items (torch.rand(n, 1, 2, 2))"), 1, DATA_MAX_ITEMS, 8, **STATE.widget("ds_n"))
    index = b.number_input(
        code_name("dataset[idx]"),
        0,
        int(n) - 1,
        min(3, int(n) - 1),
        **STATE.widget("ds_index", reset_on=n),
    )
    return DatasetConfig(int(n), int(index), seed_input())


def _dataset_render(_c: DatasetConfig, lesson: DatasetLesson, _views: None) -> None:
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown(_("**The Dataset** (`ptexplore/data/datasets.py`)"))
        st.code(lesson.source, language="python")
    with right:
        a, b, c = st.columns(3)
        a.metric(code_name("len(dataset)"), lesson.length)
        b.metric(code_name(f"dataset[{lesson.config.index}] x.shape"), str(lesson.item_shape))
        c.metric("y", lesson.target)
        st.caption(f"x = {list(lesson.item_values)}")
        st.markdown(_("**The common slip** — run live on the same data:"))
        st.code(lesson.broken_len, language="python")
        show_error(lesson.refusal, call="len(BrokenLenDataset(data, targets))")


DATASET: Section[DatasetConfig, DatasetLesson] = Section(
    "dataset",
    _dataset_controls,
    dataset_lesson,
    _dataset_render,
    lambda _c, lesson: lesson.snippet,
    label=DATASET_TAB,
)


# ------------------------------------------------------------------- 6 · random_split


def _split_controls(_shared: object) -> SplitConfig:
    st.markdown(
        _(
            "`random_split` returns `Subset`s of **one** dataset. Setting a transform for the "
            "validation split sets it for training too — live below, then the two correct "
            "patterns. The stand-in augmentation is a horizontal flip (easy to see)."
        )
    )
    a, b = st.columns(2)
    n = a.slider(_("items (2×2 images)"), 2, 32, 8, **STATE.widget("sp_n"))
    val = b.slider(
        _("validation items"),
        1,
        int(n) - 1,
        min(2, int(n) - 1),
        **STATE.widget("sp_val", reset_on=n),
    )
    return SplitConfig(int(n), int(val), seed_input())


def _split_views(_c: SplitConfig, lesson: SplitLesson) -> tuple[pd.DataFrame, pd.DataFrame]:
    return tables.split_trap(lesson), tables.split_right(lesson)


def _split_render(
    _c: SplitConfig, lesson: SplitLesson, views: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    st.markdown(
        f"`train.indices` = {list(lesson.train_indices)}, `val.indices` = "
        f"{list(lesson.val_indices)} · `train.dataset is val.dataset` → "
        f"**{lesson.same_dataset}**"
    )
    st.dataframe(views[0], width="stretch")
    if lesson.after == lesson.plain:
        st.error(
            _(
                "**The trap, live:** `val.dataset.transform = None` removed training's "
                "augmentation too — `train[0]` is now the plain sample. `val.dataset` *is* "
                "the one dataset both splits read."
            ),
            icon="🪤",
        )
    st.markdown(_("**Right:** training augmented, validation plain."))
    st.dataframe(views[1], width="stretch")


SPLIT: Section[SplitConfig, SplitLesson] = Section(
    "split",
    _split_controls,
    split_lesson,
    _split_render,
    lambda _c, lesson: lesson.snippet,
    label=SPLIT_TAB,
    views=_split_views,
)


# ----------------------------------------------------------------- 7 · ConcatDataset


def _concat_controls(_shared: object) -> ConcatConfig:
    st.markdown(
        _(
            "`ConcatDataset([augmented, original])`: `len` doubles, and a global index maps "
            "to (dataset, local index) through `cumulative_sizes`."
        )
    )
    a, b = st.columns(2)
    n = a.slider(_("items per dataset"), 1, 16, 6, **STATE.widget("cc_n"))
    limit = 2 * int(n)
    index = b.number_input(
        _("global index (valid: {low}…{high})").format(low=-limit, high=limit - 1),
        -limit - 1,
        limit,
        min(7, limit - 1),
        **STATE.widget("cc_index", reset_on=n),
    )
    return ConcatConfig(int(n), int(index))


def _concat_render(config: ConcatConfig, lesson: ConcatLesson, frame: pd.DataFrame) -> None:
    a, b, c, d = st.columns(4)
    a.metric(code_name("len(augmented)"), lesson.lengths[0])
    b.metric(code_name("len(original)"), lesson.lengths[1])
    c.metric(code_name("len(both)"), lesson.lengths[2])
    d.metric(code_name("cumulative_sizes"), str(list(lesson.cumulative_sizes)))
    if lesson.refusal is not None:
        show_error(lesson.refusal, call=f"both[{config.index}]")
    elif lesson.picked is not None:
        p = lesson.picked
        st.success(
            _(
                "`both[{index}]` → `datasets[{dataset}]` (**{name}**), item **{local}** · "
                "y = {target} · equal to `both.datasets[{dataset}][{local}]`: **{matches}**"
            ).format(
                index=p.index,
                dataset=p.dataset,
                name=NAMES[p.dataset],
                local=p.local,
                target=p.target,
                matches=p.matches,
            ),
            icon="🧭",
        )
    st.dataframe(
        frame,
        width="stretch",
        height=min(38 + 35 * len(lesson.rows), 460),
    )


CONCAT: Section[ConcatConfig, ConcatLesson] = Section(
    "concat",
    _concat_controls,
    concat_lesson,
    _concat_render,
    lambda _c, lesson: lesson.snippet,
    label=CONCAT_TAB,
    views=lambda _c, lesson: tables.concat(lesson),
)
