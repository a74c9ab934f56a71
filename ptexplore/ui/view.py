"""The view()/reshape lab on the skeleton: widgets → ``ViewRequest`` → ``run_lab`` →
``LabResult`` → render → the lab's own script as the code panel."""

from __future__ import annotations

import math
from dataclasses import dataclass

import streamlit as st

from ptexplore.errors import InputError
from ptexplore.limits import VIEW_MAX_ELEMENTS as MAX_ELEMENTS
from ptexplore.limits import VIEW_MAX_STEP as MAX_STEP
from ptexplore.limits import VIEW_MAX_WRITE as MAX_WRITE
from ptexplore.live import Snippet
from ptexplore.pages import VIEW
from ptexplore.ui.lab import Section
from ptexplore.ui.page import seed_input
from ptexplore.ui.render import chart, show_error
from ptexplore.ui.state import PageState, link_int, link_text
from ptexplore.view import (
    Fill,
    LabConfig,
    LabResult,
    Method,
    PreOp,
    Sharing,
    StorageRow,
    TensorFacts,
    cells_reading,
    parse_permutation,
    parse_source_shape,
    parse_target_shape,
    run_lab,
    storage_figure,
    tensor_figure,
)
from ptexplore.view.figures import MAX_PANELS, panel_count, relative_colours
from ptexplore.view.lab import result_numel, run_source, unravel

K = VIEW.key
STATE = PageState(VIEW)
#: session_state slot holding this learner's writes, tied to the config they were made for.
WRITES = STATE.key("_writes")
#: session_state slot for a write clicked but not yet applied: ``(pos, value, config repr)``.
PENDING = STATE.key("_pending")

DEFAULT_SOURCE = "2, 3, 4"
DEFAULT_TARGET = "4, -1"

METHOD_LABELS = {
    Method.VIEW: "x.view(shape)",
    Method.RESHAPE: "x.reshape(shape)",
    Method.FLATTEN: "x.flatten(start_dim)",
    Method.UNSQUEEZE: "x.unsqueeze(dim)",
    Method.SQUEEZE: "x.squeeze(dim)",
    Method.SQUEEZE_ALL: "x.squeeze()  — every size-1 dim",
    Method.VIEW_FLAT: "x.view(-1)",
}


def controls() -> tuple[LabConfig, InputError | None]:
    """Draw every input widget, then parse them (errors raise InputError after drawing).

    A target shape that does not parse is returned, not raised: the source still shows,
    and the error takes the place of ``y`` only.
    """
    c1, c2, c3 = st.columns(3, gap="large")
    with c1:
        st.markdown("**1 · Source** `base` → `x`")
        src_text = st.text_input(
            "Source shape",
            **STATE.widget("source_shape", default=DEFAULT_SOURCE, url=link_text),
            help="Integers separated by commas, at most 6 dims and 10,000 elements.",
        )
        fill = Fill(
            st.radio(
                "Values in memory",
                [f.value for f in Fill],
                horizontal=True,
                **STATE.widget("fill", default=Fill.ARANGE.value, url=Fill),
                format_func=lambda v: {
                    "arange": "torch.arange(n)",
                    "random": "random ints (seeded)",
                }[v],
            )
        )
    with c2:
        st.markdown("**2 · Before the reshape**")
        op = PreOp(
            st.selectbox(
                "Operation on x",
                [o.value for o in PreOp],
                **STATE.widget("op", default=PreOp.NONE.value, url=PreOp),
                format_func=lambda v: PreOp(v).label,
            )
        )
        perm_text = ""
        step = 2
        start = 0
        if op is PreOp.PERMUTE:
            perm_text = st.text_input(
                "permute order (empty = reverse all dims)",
                **STATE.widget("perm", default="", url=link_text),
                placeholder="e.g. 2, 0, 1",
            )
        elif op is PreOp.SLICE:
            s1, s2 = st.columns(2)
            start = int(
                s1.number_input(
                    "start",
                    min_value=0,
                    max_value=MAX_ELEMENTS - 1,
                    step=1,
                    **STATE.widget("start", default=0, url=link_int(0, MAX_ELEMENTS - 1)),
                    help="A start > 0 makes x begin later in memory: storage_offset() and "
                    "data_ptr() move, the storage does not.",
                )
            )
            step = int(
                s2.number_input(
                    "step",
                    min_value=1,
                    max_value=MAX_STEP,
                    step=1,
                    **STATE.widget("step", default=2, url=link_int(1, MAX_STEP)),
                )
            )
    with c3:
        st.markdown("**3 · The call** `y = …`")
        method = Method(
            st.selectbox(
                "Method",
                [m.value for m in Method],
                **STATE.widget("method", default=Method.VIEW.value, url=Method),
                format_func=lambda v: METHOD_LABELS[Method(v)],
            )
        )
        target_text = DEFAULT_TARGET
        dim = 0
        if method.takes_shape:
            target_text = st.text_input(
                "Target shape (at most one -1)",
                **STATE.widget("shape", default=DEFAULT_TARGET, url=link_text),
                help="-1 means: torch infers this size from the element count.",
            )
        elif method.takes_dim:
            dim = int(
                st.number_input(
                    "start_dim" if method is Method.FLATTEN else "dim",
                    min_value=-8,
                    max_value=7,
                    step=1,
                    **STATE.widget("dim", default=0, url=link_int(-8, 7)),
                    help="torch checks the range itself; out-of-range dims show its message.",
                )
            )
    seed = seed_input() if fill is Fill.RANDOM else 0
    shape = parse_source_shape(src_text)
    perm = parse_permutation(perm_text, len(shape)) if perm_text.strip() else None
    call_error: InputError | None = None
    target: tuple[int, ...] = (-1,)
    if method.takes_shape:
        try:
            target = parse_target_shape(target_text)
        except InputError as err:
            call_error = err
    config = LabConfig(
        source_shape=shape,
        op=op,
        perm=perm,
        step=step,
        start=start,
        method=method,
        target=target,
        dim=dim,
        fill=fill,
        seed=seed,
    )
    return config, call_error


def current_writes(config: LabConfig) -> tuple[list[tuple[int, int]], str | None]:
    """This learner's writes for ``config``, and a note about a just-clicked write, if any.

    A new config starts from a fresh tensor. A write clicked in the same interaction as a
    settings change (edit a text box, then click "Write" without pressing Enter) was made
    for the old settings: it is applied to the new ``y`` when its position exists there,
    and the learner is told either way — never dropped silently.
    """
    state = st.session_state.get(WRITES)
    if not isinstance(state, dict) or state.get("config") != repr(config):
        state = {"config": repr(config), "writes": []}
        st.session_state[WRITES] = state
    writes: list[tuple[int, int]] = state["writes"]
    pending = st.session_state.pop(PENDING, None)
    if pending is None:
        return writes, None
    pos, value, made_for = pending
    if made_for == repr(config):
        writes.append((pos, value))
        return writes, None
    n = result_numel(config)
    if n is None:
        return writes, (
            f"Your write (position {pos} = {value}) was clicked together with a settings "
            "change, and with the new settings torch refuses the call, so there is no `y` "
            "to write into. Nothing was written."
        )
    if 0 <= pos < n:
        writes.append((pos, value))
        return writes, (
            f"The settings changed in the same click as your write, so position {pos} = "
            f"{value} was written into the **new** `y` (a fresh tensor; earlier writes "
            "belonged to the old settings)."
        )
    return writes, (
        f"Your write (position {pos} = {value}) was clicked together with a settings "
        f"change, and the new `y` has only {n} elements (positions 0…{n - 1}). Nothing "
        "was written: pick a position and click Write again."
    )


def _add_write() -> None:
    state = st.session_state.get(WRITES)
    made_for = state.get("config") if isinstance(state, dict) else None
    pos = int(st.session_state.get(f"{K}.write_at", 0))
    value = int(st.session_state.get(f"{K}.write_value", 100))
    st.session_state[PENDING] = (pos, value, made_for)


def _reset_writes() -> None:
    state = st.session_state.get(WRITES)
    if isinstance(state, dict):
        state["writes"] = []


def verdict(result: LabResult) -> None:
    """The one-line answer: view (shared), copy, or torch's refusal with the fix."""
    call = f"`y = {result.call}`"
    if result.failure is not None:
        show_error(result.failure, call=f"y = {result.call}")
    elif result.sharing is Sharing.COPY:
        st.warning(f"{call} → **{result.verdict}**.", icon="📄")
    else:
        st.success(f"{call} → **{result.verdict}**.", icon="🔗")
    view_call = result.config.method in (Method.VIEW, Method.VIEW_FLAT)
    if result.result is not None and view_call and not result.source.is_contiguous:
        y = result.result
        st.info(
            f"x is **not contiguous** (stride {result.source.stride} for shape "
            f"{result.source.shape}), and `view` still worked. The real rule: view needs "
            "strides *compatible* with the new shape — each new dimension must walk memory "
            "with one fixed step — not contiguity. Here every y dimension does "
            f"(y.stride() = {y.stride}), so no copy was needed. A transpose usually breaks "
            "that; a step slice often does not.",
            icon="📏",
        )
    if result.inference is not None:
        inf = result.inference
        if inf.value is not None:
            st.info(
                f"**How -1 was inferred:** `{inf.text}` → size {inf.value} at index {inf.index}.",
                icon="🧮",
            )
        else:
            st.info(f"**Why -1 cannot be inferred:** {inf.text}.", icon="🧮")


def _fmt_ptr(p: int) -> str:
    return hex(p)


#: Roughly how many characters of st.metric's large font fit across half the page.
_ROW_CHARS = 34


def tensor_metrics(facts: TensorFacts, *, name: str, ref: TensorFacts | None = None) -> None:
    """shape / stride / storage_offset / is_contiguous / data_ptr as st.metric.

    Columns are sized by their text so a 6-D shape or stride is never cut to ``(2, 2, 2…``:
    short facts share one row, long ones get most of a row each.
    """
    shape_s, stride_s = str(tuple(facts.shape)), str(tuple(facts.stride))
    offset_s = str(facts.storage_offset)
    widths = [max(len(t), 6) + 2 for t in (shape_s, stride_s, offset_s)]
    if sum(widths) <= _ROW_CHARS:
        a, b, c = st.columns(widths)
        d, e = st.columns([1, 2])
    else:
        a, c = st.columns([2, 1])
        b, d = st.columns([2, 1])
        e = st.container()
    a.metric(f"{name}.shape", shape_s, help=f"{name}.shape = torch.Size({list(facts.shape)})")
    b.metric(f"{name}.stride()", stride_s, help=f"{name}.stride() = {stride_s}")
    c.metric(f"{name}.storage_offset()", offset_s)
    d.metric(f"{name}.is_contiguous()", str(facts.is_contiguous))
    delta: str | None = None
    if ref is not None:
        if facts.storage_ptr != ref.storage_ptr:
            delta = "new storage (copy)"
        elif facts.data_ptr == ref.data_ptr:
            delta = "same as x.data_ptr()"
        else:
            diff = facts.data_ptr - ref.data_ptr
            delta = f"x.data_ptr() {diff:+d} bytes (same storage)"
    elif facts.storage_offset:
        delta = (
            f"storage start + {facts.storage_offset} × {facts.element_size} bytes "
            f"(storage_offset {facts.storage_offset})"
        )
    e.metric(
        f"{name}.data_ptr()",
        _fmt_ptr(facts.data_ptr),
        delta=delta,
        delta_color="off",
        delta_arrow="off",
        help=f"= storage start {_fmt_ptr(facts.storage_ptr)} + storage_offset × "
        f"{facts.element_size} bytes",
    )


def tensor_grid(facts: TensorFacts, *, name: str, written: frozenset[int], key: str) -> None:
    chart(tensor_figure(facts, name=name, written=written), key=key, toolbar=False)
    text = f">>> {name}\n{facts.text}"
    # a 6-D repr runs to dozens of lines: keep it in a scroll box, not a page-long column
    st.code(
        text,
        language="python",
        height=320 if text.count("\n") > 16 else "content",
        wrap_lines=True,  # long rows wrap instead of being cut at the right
    )
    if relative_colours(facts):
        st.caption(
            "Many elements: each panel is coloured within its own range of memory positions "
            "(hover a cell for its absolute position)."
        )
    n = panel_count(facts)
    if n > MAX_PANELS:
        st.caption(f"Showing the first {MAX_PANELS} of {n} panels ({name}[…, :, :]).")


def side_by_side(result: LabResult) -> None:
    left, right = st.columns(2, gap="large")
    shared = result.sharing in (Sharing.SAME_PTR, Sharing.SAME_STORAGE)
    with left:
        st.markdown(f"#### Source `x = {result.source_expr}`")
        tensor_metrics(result.source, name="x")
        tensor_grid(
            result.source,
            name="x",
            written=result.written_positions if shared else frozenset(),
            key=f"{K}.source_grid",
        )
    with right:
        st.markdown(f"#### Result `y = {result.call}`" if result.call else "#### Result `y`")
        if result.result is None and not result.call:
            st.warning("No `y` yet: fix the target shape above (its message says how).")
        elif result.result is None:
            st.warning("No `y`: torch raised instead of returning a tensor (see above).")
        else:
            tensor_metrics(result.result, name="y", ref=result.source)
            tensor_grid(
                result.result, name="y", written=result.written_positions, key=f"{K}.result_grid"
            )


def storage_rows(result: LabResult) -> None:
    cfg = result.config
    shared = result.sharing in (Sharing.SAME_PTR, Sharing.SAME_STORAGE)
    origin = (
        "a fresh copy made by .contiguous()"
        if cfg.op is PreOp.CONTIGUOUS
        else f"base, {math.prod(cfg.source_shape)} elements"
    )
    grey = "" if all(result.source.storage.used) else " — grey cells are not read by x"
    owner = "the one storage shared by x and y" if shared else "storage of x"
    rows = [
        StorageRow(
            f"{owner} ({origin}){grey}",
            result.source.storage,
            result.written_positions if shared else frozenset(),
        )
    ]
    if result.result is not None and not shared:
        rows.append(
            StorageRow(
                f"new storage of y (copied by {result.call})",
                result.result.storage,
                result.written_positions,
            )
        )
    st.markdown("#### Memory: the storage, one row, same colours")
    chart(storage_figure(rows), key=f"{K}.storage", toolbar=False)
    st.caption(
        "Colour = the element's position in memory (its storage index "
        "`storage_offset + Σ index·stride`). Read a grid left→right, top→bottom: a smooth "
        "gradient means memory is read in order (contiguous); jumps mean the strides skip "
        "around. A view re-reads the same storage; a copy gets a new one, laid out in order."
    )


def write_box(result: LabResult, note: str | None = None) -> None:
    """The button that writes through ``y`` (into session-local tensors)."""
    y = result.result
    with st.container(border=True):
        st.markdown("#### ✍️ Write through `y` — does `x` change?")
        if note is not None:
            st.info(note, icon="✍️")
        if y is None:
            st.caption("Nothing to write into: y does not exist.")
            return
        a, b, c, d = st.columns([2, 2, 2, 1], vertical_alignment="bottom")
        pos = int(
            a.number_input(
                f"position in y (reading order, 0…{y.numel - 1})",
                min_value=0,
                max_value=max(y.numel - 1, 0),
                value=min(1, y.numel - 1),
                step=1,
                **STATE.widget("write_at", reset_on=y.shape),
            )
        )
        b.number_input(
            "value",
            min_value=-MAX_WRITE,
            max_value=MAX_WRITE,
            value=100,
            step=1,
            **STATE.widget("write_value"),
        )
        idx = ", ".join(map(str, unravel(pos, y.shape))) or "..."
        c.button(f"Write y[{idx}] = value", key=f"{K}.write", on_click=_add_write, type="primary")
        d.button("Reset", key=f"{K}.reset", on_click=_reset_writes, disabled=not result.writes)
        if result.writes:
            hits = cells_reading(result.source, result.written_positions)
            if result.sharing is Sharing.COPY:
                st.markdown(
                    f"Wrote {len(result.writes)} value(s) into `y`: **x is unchanged** — y has "
                    "its own storage, so the write never reaches x."
                )
            else:
                shown = ", ".join(f"`x[{i}]` = {v}" for i, v in hits[:8])
                more = f" (+{len(hits) - 8} more)" if len(hits) > 8 else ""
                st.markdown(
                    f"Wrote {len(result.writes)} value(s) into `y`: **x changed too** — "
                    f"{shown}{more}. Same memory, two shapes."
                )


def numpy_note(result: LabResult) -> None:
    npy = result.numpy
    live = ""
    if npy is not None and npy.call:
        if npy.error is not None:
            live = f" Live, on `a = x.numpy()`: `{npy.call}` → ValueError: {npy.error}"
        else:
            live = (
                f" Live, on `a = x.numpy()`: `{npy.call}` → shape {npy.shape}, "
                f"`np.shares_memory` = **{npy.shares_memory}**"
            )
        if npy.resize is not None:
            live += f"; whereas `{npy.resize}`"
        live += "."
    st.markdown(
        "**numpy analogy.** `x.view(shape)` is like `np.reshape(a, shape, copy=False)` "
        "(numpy ≥ 2.1): the same memory read with a new shape, or an error when no strides "
        "can do that — never a copy. `x.reshape(shape)` is plain `np.reshape(a, shape)`: a "
        "view when possible, otherwise a copy. Neither is `np.resize`, which changes the "
        "element count by repeating or cutting the data." + live
    )


@dataclass(frozen=True, slots=True)
class ViewRequest:
    """Everything one run of the lab depends on: the widgets' config, this learner's
    writes for it, and the note about a write clicked together with a settings change."""

    lab: LabConfig
    writes: tuple[tuple[int, int], ...]
    note: str | None
    #: the call's own input (the target shape) did not parse: shown in place of y
    call_error: InputError | None = None


def request() -> ViewRequest:
    config, call_error = controls()
    if call_error is not None:
        return ViewRequest(config, (), None, call_error)
    writes, note = current_writes(config)
    return ViewRequest(config, tuple(writes), note)


def compute(req: ViewRequest) -> LabResult:
    if req.call_error is not None:
        return run_source(req.lab)
    return run_lab(req.lab, req.writes)


def render(req: ViewRequest, result: LabResult) -> None:
    """Everything below the controls, in page order."""
    if req.call_error is not None:
        show_error(req.call_error)
    else:
        verdict(result)
    side_by_side(result)
    storage_rows(result)
    if req.call_error is None:
        write_box(result, req.note)
        numpy_note(result)


def code(_req: ViewRequest, result: LabResult) -> Snippet:
    return result.snippet


SECTION: Section[ViewRequest, LabResult] = Section("lab", request, compute, render, code)
