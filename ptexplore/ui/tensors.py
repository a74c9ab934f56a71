"""The Tensor lab on the skeleton: four lazy tabs; per-learner state lives here.

The memory-sharing tab works on the learner's own live objects (a :class:`Lab` kept in
session state; every action is its line of code run in the lab's namespace). The errors
and ``.item()`` tabs are pure sections (config → lesson, remembered per config); the
benchmark runs under the shared semaphore when its button is pressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

import numpy as np
import pandas as pd
import streamlit as st

from ptexplore import limits, live
from ptexplore.errors import LessonError, Refusal
from ptexplore.pages import TENSORS
from ptexplore.tensors import (
    DEFAULT_N,
    MAX_N,
    Action,
    BenchDtype,
    BenchResult,
    Bridge,
    ErrorCase,
    ErrorLesson,
    Hop,
    ItemDtype,
    ItemResult,
    ItemShape,
    Lab,
    LabSpec,
    Layout,
    NpDtype,
    Outcome,
    Path,
    SharingReport,
    Verdict,
    bench_code,
    changed_mask,
    code_for,
    cuda_available,
    editor_accepts,
    id_lesson,
    item_lesson,
    lab_code,
    make_array,
    new_lab,
    parse_shape,
    run_benchmark,
    run_error_lesson,
    scaling_figure,
    tensor_values,
    times_figure,
)
from ptexplore.tensors.bench import WHY_SLOW, fmt_seconds, ratio_label, slow_path_warning
from ptexplore.ui.lab import Section, Tab, run_section
from ptexplore.ui.render import chart, code_panel, error_boundary, show_error
from ptexplore.ui.state import PageState, link_text

STATE = PageState(TENSORS)
#: session_state keys of this learner's live objects (never a process-wide cache).
LAB_KEY = STATE.key("_lab")
BENCH_KEY = STATE.key("_bench")
EDITOR_KEY = STATE.key("editor")
#: How many versions of ``a`` earlier labs of this session went through (see editor_cells).
EDITOR_BASE_KEY = STATE.key("_editor_base")

E = TypeVar("E", bound=Enum)


def choices(enum: type[E]) -> list[E]:
    """All members of ``enum``, typed (an inline ``list(Enum)`` reads as empty to mypy)."""
    return list(enum)


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


def changed_cells(name: str, before: np.ndarray, after: np.ndarray, mask: np.ndarray) -> str:
    """``a[0, 0]: 0.0 → 7.0, …`` for the cells the last action changed (at most 6 named)."""
    if before.shape != after.shape:
        return ""
    cells = [tuple(int(i) for i in idx) for idx in np.argwhere(mask)]
    shown = [
        f"{name}[{', '.join(map(str, idx))}]: {before[idx]!r} → {after[idx]!r}".replace(
            "np.float64(", ""
        )
        for idx in cells[:6]
    ]
    more = f" (+{len(cells) - 6} more)" if len(cells) > 6 else ""
    return ", ".join(shown) + more


def editor_cells(lab: Lab, *, disabled: bool) -> dict[tuple[int, ...], float]:
    """Render the editable table of ``a``; return the cells the learner changed.

    The frame's index name carries a version number that never repeats in a session
    (earlier labs' versions plus this lab's; the header shows just "row"): a keyed
    fixed-size editor keeps its edits across value changes, so after any change to ``a``,
    and after a rebuild, the editor is renewed and always starts from ``a``'s real values
    (never a stale edit replayed on a new ``a``). Integer arrays are edited as numbers
    with decimals, so a typed 1.5 reaches the lab and is refused with the dtype's rule
    (an integer grid column would silently read it as 15).
    """
    version = int(st.session_state.get(EDITOR_BASE_KEY, 0)) + lab.version
    values = lab.a.astype(np.float64) if lab.a.dtype.kind in "iu" else lab.a
    shown = frame(values, index_name=f"v{version}")
    edited = st.data_editor(
        shown,
        key=EDITOR_KEY,
        num_rows="fixed",
        disabled=disabled,
        width="stretch",
        column_config={"_index": st.column_config.Column("row")},
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
        st.markdown(f"**numpy `a`** · {a_now.dtype} · shape {a_now.shape} (the table above)")
        # numpy wraps at 75 columns, torch at 80: print both rows the same way.
        st.code(f">>> a\n{np.array_repr(a_now, max_line_width=80)}", language="python")
        _changes_caption("a", lab.a_before, a_now, a_mask)
    with right:
        st.markdown(f"**torch `t`** · {lab.t.dtype} · {lab.t.device} · shape {tuple(lab.t.shape)}")
        st.dataframe(frame(t_now), width="stretch")
        st.code(f">>> t\n{lab.t!r}", language="python")
        _changes_caption("t", lab.t_before, t_now, t_mask)


def _changes_caption(name: str, before: np.ndarray, after: np.ndarray, mask: np.ndarray) -> None:
    n = int(mask.sum())
    if not n:
        st.caption("No cell changed by the last action.")
        return
    st.caption(
        f"{n} cell(s) changed by the last action: {changed_cells(name, before, after, mask)}."
    )


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
        refused = lesson.code.splitlines()[-1].split("  #")[0]
        fix = lesson.fix_code.split("  #")[0]
        show_error(
            Refusal(lesson.error_type, lesson.message, lesson.lesson, f"`{fix}` (run below)"),
            call=refused,
        )
    if lesson.outcome is not Outcome.ERROR:
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
        show_error(
            Refusal(
                res.error_type,
                res.error_message,
                ".item() turns exactly one element into a Python number.",
                f"Use `t.tolist()` for all of them, or pick one first: `{res.first_item_code}`.",
            ),
            call="t.item()",
        )
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
                delta="fastest" if fastest else f"{ratio_label(timing.ratio)} the fastest",
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
        chart(times_figure(result), key=STATE.key("bench_times"))
    with right:
        sizes = sorted({p.n for p in result.scaling})
        if len(sizes) >= 2:
            chart(scaling_figure(result), key=STATE.key("bench_scaling"))
            st.caption(f"Scaling sweep over N = {', '.join(f'{n:,}' for n in sizes)}.")
        else:
            st.info(
                f"No scaling plot for N = {result.n}: there is no smaller N to compare with. "
                "Pick N ≥ 2 (10 or more gives four points).",
                icon="📈",
            )
    st.info(f"**Why the slow path is slow:** {WHY_SLOW}", icon="🐢")


# ---------------------------------------------------------------- tab: memory sharing


@dataclass(frozen=True, slots=True)
class SharingInputs:
    """What the learner picked in the memory-sharing tab (the shape is still raw text)."""

    shape_text: str
    dtype: NpDtype
    layout: Layout
    bridge: Bridge
    hop: Hop
    reset: bool


def sharing_inputs() -> SharingInputs:
    """The three columns of widgets that choose ``a`` and how ``t`` is made from it."""
    c1, c2, c3 = st.columns([1, 1.3, 1.3])
    with c1:
        shape_text = st.text_input(
            "shape of a", **STATE.widget("shape", default="3, 4", url=link_text)
        )
        dtype = st.selectbox(
            "numpy dtype",
            choices(NpDtype),
            format_func=lambda d: d.label,
            **STATE.widget("dtype", default=choices(NpDtype)[0], url=NpDtype),
        )
    with c2:
        layout = st.selectbox(
            "memory layout of a",
            choices(Layout),
            **STATE.widget("layout", default=choices(Layout)[0], url=Layout),
        )
        bridge = st.radio(
            "how the tensor is made",
            choices(Bridge),
            format_func=str,
            **STATE.widget("bridge", default=choices(Bridge)[0], url=Bridge),
        )
    with c3:
        has_cuda = cuda_available()
        hop = st.radio(
            "then move it",
            choices(Hop),
            **STATE.widget("hop"),
            disabled=not has_cuda,
            help="Copies to GPU memory (and back): the copy never shares with a.",
        )
        if not has_cuda:
            st.caption(
                "🖥️ `.cuda()` / `.cuda().cpu()` are disabled: `torch.cuda.is_available()` is "
                "**False** on this server, and nothing is simulated. On a GPU, "
                "`torch.from_numpy(a).cuda()` is always a copy (different memory, different "
                "device), and `.cpu()` brings back another copy."
            )
            hop = Hop.NONE
        reset = st.button("↺ Rebuild a and t", key=STATE.key("reset"))
    return SharingInputs(shape_text, dtype, layout, bridge, hop, reset)


def refused_bridge(spec: LabSpec, err: LessonError) -> None:
    """``a`` was made but the bridge refused it: show ``a``, torch's refusal and the code."""
    st.session_state.pop(LAB_KEY, None)
    refused = make_array(spec)
    st.markdown(
        f"**numpy `a`** (made fine; the bridge refused it) · {refused.dtype} · "
        f"`a.strides` = {refused.strides} bytes"
    )
    st.dataframe(frame(refused))
    show_error(err)
    code_panel(live.snippet(lab_code(spec)))


def mutate_controls(lab: Lab, spec: LabSpec) -> None:
    """Left: pick an action and apply it. Right: edit cells of ``a`` in place."""
    act_col, edit_col = st.columns([1, 1.2])
    with act_col:
        st.markdown("**Mutate one side**")
        action = st.radio(
            "action",
            choices(Action),
            **STATE.widget("action"),
            horizontal=True,
            label_visibility="collapsed",
        )
        value = st.number_input(
            "v (for a[:] = v, a[0, 0] = v, t[0] = v)",
            value=7.0,
            step=1.0,
            **STATE.widget("value"),
        )
        applied = st.button("▶ Apply", key=STATE.key("apply"), type="primary")
        with error_boundary(STATE.key("sharing")):
            if applied:
                lab.apply(action, float(value))
    with edit_col:
        editable = lab.a.flags.writeable and spec.dtype.numeric
        st.markdown(
            "**✏️ Edit cells of `a`** (each edit runs `a[i, j] = v` in place)"
            if editable
            else "**`a` cannot be edited here** (read-only or non-numeric)"
        )
        if editable:
            st.caption(editor_accepts(lab.a.dtype))
        with error_boundary(STATE.key("sharing")):
            lab.edit(editor_cells(lab, disabled=not editable))


def last_action(lab: Lab) -> None:
    """One line on what the latest action did to the other side (nothing before the first)."""
    if not lab.history:
        return
    last = lab.history[-1]
    other = "t" if last.side == "numpy" else "a"
    line = last.code.split("  #")[0].replace("\n", "; ")
    if last.rebound:
        st.info(
            f"`{line}` made a **new array** (id(a) {last.id_a_before} → "
            f"{last.id_a_after}) and bound the name `a` to it. `t` did not follow: "
            "nothing was written into the memory `t` uses.",
            icon="🆕",
        )
    elif last.followed:
        st.success(f"`{line}` → `{other}` changed too: they share memory.", icon="🔗")
    else:
        st.info(f"`{line}` → `{other}` did **not** change.", icon="✂️")
    if last.wrap_note:
        st.warning(last.wrap_note, icon="🔁")


def sharing_verdict(lab: Lab) -> None:
    """The measured verdict: metrics, explanation, address/stride table, rebinding note."""
    rep = lab.report()
    m1, m2, m3 = st.columns(3)
    m1.metric("verdict", "🔗 SHARED" if rep.verdict is Verdict.SHARED else "✂️ SEPARATE")
    m2.metric(
        "np.shares_memory(a, t.numpy())",
        "n/a (t on GPU)" if rep.shares_memory is None else str(rep.shares_memory),
    )
    m3.metric("t.data_ptr() == a's address", str(rep.same_ptr))
    st.markdown(rep.explanation)
    t_values = tensor_values(lab.t)
    if (
        rep.verdict is Verdict.SEPARATE
        and t_values.shape == lab.a.shape
        and bool(np.array_equal(t_values, lab.a))
    ):
        st.info(
            "**Equal values, separate memory.** a and t hold the same numbers right now, but "
            f"in two places: a's data starts at {rep.np_ptr:#x}, t's at {rep.t_ptr:#x}. Equal "
            "numbers are not shared memory: change one side and the other stays as it is.",
            icon="🟰",
        )
    st.dataframe(report_table(rep), width="stretch")
    st.caption(
        "numpy strides count **bytes**, torch strides count **elements**: "
        f"a.strides / a.itemsize = {tuple(s // rep.np_itemsize for s in rep.np_strides_bytes)}."
    )
    if lab.old_a is not None and lab.t.device.type == "cpu":
        still = bool(np.shares_memory(lab.old_a, lab.t.numpy()))
        first = f"The array `t` was made with (id {id(lab.old_a)}, no longer named `a`)"
        st.caption(
            f"{first} still shares memory with t: **True**. Only the name `a` moved."
            if still
            else f"{first} shares memory with t: **False**: this bridge copied from the "
            "start, so rebinding `a` changed nothing about `t`'s memory."
        )


def id_expander(lab: Lab) -> None:
    """Expander: two ``t.numpy()`` views are different objects over one buffer."""
    with st.expander("🪪 Why id() proves nothing about memory", expanded=False):
        ids = id_lesson(lab.t)
        if ids is None:
            st.write("t is on the GPU: t.numpy() is not possible, so there is no view.")
        else:
            st.markdown(
                "`n1 = t.numpy(); n2 = t.numpy()` (both kept alive):\n\n"
                f"- `id(n1)` = {ids.first_id}, `id(n2)` = {ids.second_id} → "
                f"`n1 is n2` is **{ids.same_object}** (two Python objects)\n"
                f"- `np.shares_memory(n1, n2)` is **{ids.share_memory}**, same data "
                f"address: **{ids.same_ptr}** (one buffer)\n"
                "- `id(t.numpy()) == id(t.numpy())` → "
                f"**{ids.temporaries_same_id}** here: the first temporary is freed "
                "before the second is made, so CPython may reuse its id.\n\n"
                "`id()` is the Python object's identity. Memory is answered by "
                "`np.shares_memory` or by comparing data pointers."
            )


def render_sharing_tab() -> None:
    """🔗 Memory sharing: build ``a`` and ``t``, mutate one side, show the measured verdict."""
    picked = sharing_inputs()
    lab: Lab | None = None
    spec: LabSpec | None = None
    with error_boundary(STATE.key("sharing")):
        spec = LabSpec(
            parse_shape(picked.shape_text), picked.dtype, picked.layout, picked.bridge, picked.hop
        )
        try:
            lab = current_lab(spec, reset=picked.reset)
        except LessonError as err:
            refused_bridge(spec, err)
    if lab is None or spec is None:
        return

    for note in lab.notes:
        st.warning(note, icon="⚠️")
    mutate_controls(lab, spec)
    last_action(lab)
    values_side_by_side(lab)
    sharing_verdict(lab)
    id_expander(lab)
    if lab.history:
        st.markdown("**What each action did**")
        st.dataframe(history_table(lab), width="stretch")
    code_panel(live.snippet(code_for(lab)))


# ---------------------------------------------------------------- tab: errors as lessons


def _error_controls() -> ErrorCase:
    st.markdown(
        "Each case below runs the real call on this server and shows torch's own message, "
        "then runs the fix."
    )
    return st.selectbox("case", choices(ErrorCase), **STATE.widget("error_case"))


ERRORS: Section[ErrorCase, ErrorLesson] = Section(
    "errors",
    _error_controls,
    run_error_lesson,
    lambda _case, lesson: error_lesson(lesson),
    lambda _case, lesson: lesson.snippet,
)


# ---------------------------------------------------------------- tab: .item()


@dataclass(frozen=True, slots=True)
class ItemRequest:
    shape: ItemShape
    dtype: ItemDtype
    value: float


def _item_controls() -> ItemRequest:
    st.markdown(
        "`.item()` turns a **one-element** tensor into a plain Python number. "
        "Any shape works as long as it holds exactly one element."
    )
    i1, i2, i3 = st.columns(3)
    shape = i1.selectbox("tensor shape", choices(ItemShape), **STATE.widget("item_shape"))
    dtype = i2.selectbox("dtype", choices(ItemDtype), **STATE.widget("item_dtype"))
    value = i3.number_input("first value", value=0.1, step=0.1, **STATE.widget("item_value"))
    return ItemRequest(shape, dtype, float(value))


ITEM: Section[ItemRequest, ItemResult] = Section(
    "item",
    _item_controls,
    lambda req: item_lesson(req.shape, req.dtype, req.value),
    lambda _req, res: item_result(res),
    lambda _req, res: res.snippet,
)


# ---------------------------------------------------------------- tab: conversion speed


def render_speed_tab() -> None:
    """⏱️ Conversion speed: time list-of-arrays → tensor four ways, live, on every Run."""
    st.markdown(
        "N numpy arrays of shape (7, 7, 3) → one tensor of shape (N, 7, 7, 3), four ways, "
        "timed **live on this server** when you press Run."
    )
    b1, b2, b3 = st.columns(3)
    n = b1.number_input(
        "N arrays", 1, MAX_N, DEFAULT_N, step=1000, help=f"≤ {MAX_N:,}", **STATE.widget("bench_n")
    )
    repeats = b2.slider("repeats (median)", 1, 5, 3, **STATE.widget("bench_repeats"))
    bench_dtype = b3.selectbox("dtype", choices(BenchDtype), **STATE.widget("bench_dtype"))
    previous: BenchResult | None = st.session_state.get(BENCH_KEY)
    run = st.button(
        "⏱️ Run benchmark (re-measures on every press)", key=STATE.key("bench_run"), type="primary"
    )
    if run:
        bar = st.progress(0.0, text="starting…")

        def progress(frac: float, label: str) -> None:
            bar.progress(frac, text=label)

        def waiting(what: str) -> None:
            bar.progress(0.0, text=f"⏳ waiting for a free worker: {what} starts next")

        limits.on_wait(waiting)
        try:
            result = run_benchmark(int(n), int(repeats), bench_dtype, progress=progress)
        finally:
            limits.on_wait(None)
            bar.empty()
        st.session_state[BENCH_KEY] = result
        previous = result
    if previous is not None:
        bench_results(previous)
        warning = slow_path_warning()
        if warning:
            st.caption(
                f"torch's own warning for the slow path (it prints it once per server "
                f"process; this is the text it emitted here): “{warning}”"
            )
        code_panel(bench_snippet(previous))
    else:
        st.caption("Nothing measured yet in this session: press Run.")


def bench_snippet(result: BenchResult) -> live.Snippet:
    """The benchmark script, with the lines it printed on this server's run."""
    fastest = min(t.median_s for t in result.timings)
    lines = [
        f"{t.path.value:34s} {t.median_s:8.4f} s  {t.median_s / fastest:6.1f}x"
        for t in result.timings
    ]
    return live.Snippet(
        bench_code(result.n, result.dtype, result.repeats),
        "\n".join(lines) + "\n",
        note="measured on this server; timings differ from run to run",
    )


TABS = (
    Tab("🔗 Memory sharing", render_sharing_tab),
    Tab("🚫 Errors as lessons", lambda: run_section(TENSORS, ERRORS)),
    Tab("🔢 .item()", lambda: run_section(TENSORS, ITEM)),
    Tab("⏱️ Conversion speed", render_speed_tab),
)
