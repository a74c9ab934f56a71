"""Streamlit rendering helpers for the Tensor lab page (per-learner state lives here)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from ptexplore.tensors import (
    BenchResult,
    ErrorLesson,
    ItemResult,
    Lab,
    LabSpec,
    Outcome,
    Path,
    SharingReport,
    changed_mask,
    new_lab,
    scaling_figure,
    tensor_values,
    times_figure,
)
from ptexplore.tensors.bench import WHY_SLOW, fmt_seconds

#: session_state keys of this learner's live objects (never a process-wide cache).
LAB_KEY = "tensors._lab"
BENCH_KEY = "tensors._bench"
EDITOR_KEY = "tensors.editor"
#: How many versions of ``a`` earlier labs of this session went through (see editor_cells).
EDITOR_BASE_KEY = "tensors._editor_base"
HIGHLIGHT = "background-color: #FDD5CB; color: #7A1A05; font-weight: 700"


def current_lab(spec: LabSpec, *, reset: bool = False) -> Lab:
    """This session's lab; rebuilt when the spec changes or on reset (may raise LessonError)."""
    lab: Lab | None = st.session_state.get(LAB_KEY)
    if lab is None or lab.spec != spec or reset:
        if lab is not None:  # the next editor generation continues after the old lab's
            base = int(st.session_state.get(EDITOR_BASE_KEY, 0)) + lab.version + 1
            st.session_state[EDITOR_BASE_KEY] = base
        st.session_state.pop(LAB_KEY, None)
        lab = new_lab(spec)
        st.session_state[LAB_KEY] = lab
    return lab


def display_values(values: np.ndarray) -> np.ndarray:
    """Values pandas/Arrow can show: native byte order, float16 widened, objects as text."""
    if values.dtype.kind == "f":
        return values.astype(np.float64)
    if values.dtype.kind in "iu":
        return values.astype(np.int64)
    if values.dtype.kind == "b":
        return values.astype(bool)
    return values.astype(str)


def frame(values: np.ndarray, index_name: str | None = None) -> pd.DataFrame:
    """A 1-D array as one column ``value``; a 2-D array with columns ``0, 1, …``."""
    shown = display_values(values)
    if shown.ndim == 1:
        df = pd.DataFrame({"value": shown})
    else:
        df = pd.DataFrame(shown, columns=[str(j) for j in range(shown.shape[1])])
    df.index.name = index_name
    return df


def styled(values: np.ndarray, mask: np.ndarray) -> Any:
    """A Styler that highlights the cells where ``mask`` is True."""
    df = frame(values)
    flags = mask.reshape(len(df), -1)

    def paint(data: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame("", index=data.index, columns=data.columns)
        out[:] = np.where(flags, HIGHLIGHT, "")
        return out

    fmt = "{:g}" if values.dtype.kind == "f" else "{}"
    return df.style.apply(paint, axis=None).format(fmt)


def editor_cells(lab: Lab, *, disabled: bool) -> dict[tuple[int, ...], float]:
    """Render the editable table of ``a``; return the cells the learner changed.

    The index name carries a version number that never repeats in a session (earlier labs'
    versions plus this lab's): a keyed fixed-size editor keeps its edits across value
    changes, so after any change to ``a``, and after a rebuild, the editor is renewed and
    always starts from ``a``'s real values (never a stale edit replayed on a new ``a``).
    """
    version = int(st.session_state.get(EDITOR_BASE_KEY, 0)) + lab.version
    shown = frame(lab.a, index_name=f"row · v{version}")
    edited = st.data_editor(
        shown,
        key=EDITOR_KEY,
        num_rows="fixed",
        disabled=disabled,
        width="stretch",
    )
    cells: dict[tuple[int, ...], float] = {}
    before = shown.to_numpy()
    after = edited.to_numpy()
    for i, j in zip(*np.nonzero(before != after), strict=True):
        value = after[i, j]
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        index = (int(i),) if lab.a.ndim == 1 else (int(i), int(j))
        cells[index] = float(value)
    return cells


def values_side_by_side(lab: Lab) -> None:
    a_now = lab.a
    t_now = tensor_values(lab.t)
    a_mask = changed_mask(lab.a_before, a_now)
    t_mask = changed_mask(lab.t_before, t_now)
    left, right = st.columns(2)
    with left:
        st.markdown(f"**numpy `a`** · {a_now.dtype} · shape {a_now.shape}")
        st.dataframe(styled(a_now, a_mask), width="stretch")
        # numpy wraps at 75 columns, torch at 80: print both rows the same way.
        st.code(f">>> a\n{np.array_repr(a_now, max_line_width=80)}", language="python")
        st.caption(f"{int(a_mask.sum())} cell(s) changed by the last action (highlighted).")
    with right:
        st.markdown(f"**torch `t`** · {lab.t.dtype} · {lab.t.device} · shape {tuple(lab.t.shape)}")
        st.dataframe(styled(t_now, t_mask), width="stretch")
        st.code(f">>> t\n{lab.t!r}", language="python")
        st.caption(f"{int(t_mask.sum())} cell(s) changed by the last action (highlighted).")


def report_table(rep: SharingReport) -> pd.DataFrame:
    np_strides = ", ".join(str(s) for s in rep.np_strides_bytes)
    t_strides = ", ".join(str(s) for s in rep.t_strides_elements)
    rows = [
        (
            "start address",
            f"a.__array_interface__['data'][0] = {rep.np_ptr:#x}",
            f"t.data_ptr() = {rep.t_ptr:#x}",
        ),
        ("dtype", f"a.dtype = {rep.np_dtype}", f"t.dtype = {rep.torch_dtype}"),
        (
            "strides",
            f"a.strides = ({np_strides}) bytes",
            f"t.stride() = ({t_strides}) elements",
        ),
        (
            "bytes per element",
            f"a.itemsize = {rep.np_itemsize}",
            f"t.element_size() = {rep.t_element_size}",
        ),
        ("device", "host (CPU) memory", rep.device),
        ("id() — object identity only", f"id(a) = {rep.np_id}", f"id(t) = {rep.t_id}"),
    ]
    return pd.DataFrame(rows, columns=["", "numpy a", "torch t"]).set_index("")


def history_table(lab: Lab) -> pd.DataFrame:
    on_gpu = any(r.shares_after is None for r in lab.history)
    rows = [
        {
            "#": i + 1,
            "code": r.code.split("  #")[0].replace("\n", "; "),
            "side": r.side,
            "a changed": r.a_changed,
            "t changed": r.t_changed,
            "other side followed": r.followed,
            # one type per column (Arrow): text only when a GPU row makes it n/a
            "shares memory after": (
                r.shares_after
                if not on_gpu
                else "n/a (GPU)"
                if r.shares_after is None
                else str(r.shares_after)
            ),
            "id(a) changed": r.rebound,
        }
        for i, r in enumerate(lab.history)
    ]
    return pd.DataFrame(rows).set_index("#")


def error_lesson(lesson: ErrorLesson) -> None:
    st.code(lesson.code, language="python")
    if lesson.outcome is Outcome.NOT_RUN:
        st.info(f"**Not run here.** {lesson.message}", icon="🖥️")
    elif lesson.outcome is Outcome.WARNING:
        st.warning(f"**{lesson.error_type}** (live): {lesson.message}", icon="⚠️")
    else:
        st.error(f"**{lesson.error_type}** (live, torch's own words): {lesson.message}", icon="🚫")
    st.markdown(f"**Why:** {lesson.lesson}")
    st.markdown("**Fix:**")
    st.code(lesson.fix_code, language="python")
    if lesson.fix_result:
        shares = (
            ""
            if lesson.fix_shares is None
            else f" · shares memory with the original: **{lesson.fix_shares}**"
        )
        st.markdown(f"Fix run live → `{lesson.fix_result}`{shares}")


def item_result(res: ItemResult) -> None:
    st.code(res.tensor_repr, language="python")
    if res.ok:
        st.success(f"`t.item()` → `{res.value_repr}` (Python type: `{res.python_type}`)")
    else:
        st.error(f"**{res.error_type}** (live): {res.error_message}", icon="🚫")
        st.markdown(
            f"`t.tolist()` → `{res.tolist_repr}`  \n`{res.first_item_code}` → "
            f"`{res.first_item_repr}`"
        )
    if res.note:
        st.caption(res.note)


def bench_results(result: BenchResult) -> None:
    cols = st.columns(len(result.timings))
    for col, timing in zip(cols, result.timings, strict=True):
        with col:
            fastest = timing.ratio < 1.0 + 1e-9
            st.metric(
                timing.path.value,
                fmt_seconds(timing.median_s),
                delta="fastest" if fastest else f"{timing.ratio:.1f}× the fastest",
                delta_color="inverse" if timing.ratio > 2 else "off",
                delta_arrow="off" if fastest else "auto",
            )
    slow = result.timing(Path.TENSOR_LIST)
    st.markdown(
        f"**{result.speedup:.0f}×**: `torch.tensor(list)` took {fmt_seconds(slow.median_s)} "
        f"for N = {result.n:,}; all four results are equal (`torch.equal`, asserted): "
        f"shape {result.out_shape}, {result.out_dtype}."
    )
    st.caption(
        f"Median of {result.repeats} run(s)"
        + (
            f" (you asked for {result.requested_repeats}; capped so a run stays short)"
            if result.repeats != result.requested_repeats
            else ""
        )
        + f". Measured {result.measured_at} on this server: {result.machine}. "
        f"The whole run took {result.total_s:.2f} s."
    )
    left, right = st.columns(2)
    with left:
        st.plotly_chart(times_figure(result), key="tensors.bench_times")
    with right:
        sizes = sorted({p.n for p in result.scaling})
        if len(sizes) >= 2:
            st.plotly_chart(scaling_figure(result), key="tensors.bench_scaling")
            st.caption(f"Scaling sweep over N = {', '.join(f'{n:,}' for n in sizes)}.")
        else:
            st.info(
                f"No scaling plot for N = {result.n}: there is no smaller N to compare with. "
                "Pick N ≥ 2 (10 or more gives four points).",
                icon="📈",
            )
    st.info(f"**Why the slow path is slow:** {WHY_SLOW}", icon="🐢")
