"""What the view lab draws from a result: the verdict, both tensors, the storage, the
write box and the numpy analogy."""

from __future__ import annotations

import math

import streamlit as st

from ptexplore.i18n import _
from ptexplore.limits import VIEW_MAX_WRITE as MAX_WRITE
from ptexplore.ui.render import chart, show_error
from ptexplore.ui.view.controls import STATE, K, add_write, reset_writes
from ptexplore.view import (
    LabResult,
    Method,
    PreOp,
    Sharing,
    StorageRow,
    TensorFacts,
    cells_reading,
    storage_figure,
    tensor_figure,
)
from ptexplore.view.figures import MAX_PANELS, panel_count, relative_colours
from ptexplore.view.lab import unravel


def verdict(result: LabResult) -> None:
    """The one-line answer: view (shared), copy, or torch's refusal with the fix."""
    call = f"`y = {result.call}`"
    if result.failure is not None:
        show_error(result.failure, call=f"y = {result.call}")
    elif result.sharing is Sharing.COPY:
        st.warning(
            _("{call} → **{verdict}**.").format(call=call, verdict=result.verdict), icon="📄"
        )
    else:
        st.success(
            _("{call} → **{verdict}**.").format(call=call, verdict=result.verdict), icon="🔗"
        )
    view_call = result.config.method in (Method.VIEW, Method.VIEW_FLAT)
    if result.result is not None and view_call and not result.source.is_contiguous:
        y = result.result
        st.info(
            _(
                "x is **not contiguous** (stride {stride} for shape {shape}), and `view` still "
                "worked. The real rule: view needs strides *compatible* with the new shape — "
                "each new dimension must walk memory with one fixed step — not contiguity. "
                "Here every y dimension does (y.stride() = {y_stride}), so no copy was needed. "
                "A transpose usually breaks that; a step slice often does not."
            ).format(stride=result.source.stride, shape=result.source.shape, y_stride=y.stride),
            icon="📏",
        )
    if result.inference is not None:
        inf = result.inference
        if inf.value is not None:
            st.info(
                _("**How -1 was inferred:** `{text}` → size {value} at index {index}.").format(
                    text=inf.text, value=inf.value, index=inf.index
                ),
                icon="🧮",
            )
        else:
            st.info(_("**Why -1 cannot be inferred:** {text}.").format(text=inf.text), icon="🧮")


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
    # the labels and their help are code: the same in every language
    shape_help = f"{name}.shape = torch.Size({list(facts.shape)})"
    stride_help = f"{name}.stride() = {stride_s}"
    shape_l, stride_l, offset_l, contiguous_l, ptr_l = (
        f"{name}.{attr}"
        for attr in ("shape", "stride()", "storage_offset()", "is_contiguous()", "data_ptr()")
    )
    a.metric(shape_l, shape_s, help=shape_help)
    b.metric(stride_l, stride_s, help=stride_help)
    c.metric(offset_l, offset_s)
    d.metric(contiguous_l, str(facts.is_contiguous))
    delta: str | None = None
    if ref is not None:
        if facts.storage_ptr != ref.storage_ptr:
            delta = _("new storage (copy)")
        elif facts.data_ptr == ref.data_ptr:
            delta = _("same as x.data_ptr()")
        else:
            diff = facts.data_ptr - ref.data_ptr
            delta = _("x.data_ptr() {diff:+d} bytes (same storage)").format(diff=diff)
    elif facts.storage_offset:
        delta = _("storage start + {offset} × {size} bytes (storage_offset {offset})").format(
            offset=facts.storage_offset, size=facts.element_size
        )
    e.metric(
        ptr_l,
        _fmt_ptr(facts.data_ptr),
        delta=delta,
        delta_color="off",
        delta_arrow="off",
        help=_("= storage start {ptr} + storage_offset × {size} bytes").format(
            ptr=_fmt_ptr(facts.storage_ptr), size=facts.element_size
        ),
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
            _(
                "Many elements: each panel is coloured within its own range of memory "
                "positions (hover a cell for its absolute position)."
            )
        )
    n = panel_count(facts)
    if n > MAX_PANELS:
        st.caption(
            _("Showing the first {shown} of {n} panels ({name}[…, :, :]).").format(
                shown=MAX_PANELS, n=n, name=name
            )
        )


def side_by_side(result: LabResult) -> None:
    left, right = st.columns(2, gap="large")
    shared = result.sharing in (Sharing.SAME_PTR, Sharing.SAME_STORAGE)
    with left:
        st.markdown(_("#### Source `x = {expr}`").format(expr=result.source_expr))
        tensor_metrics(result.source, name="x")
        tensor_grid(
            result.source,
            name="x",
            written=result.written_positions if shared else frozenset(),
            key=f"{K}.source_grid",
        )
    with right:
        st.markdown(
            _("#### Result `y = {call}`").format(call=result.call)
            if result.call
            else _("#### Result `y`")
        )
        if result.result is None and not result.call:
            st.warning(_("No `y` yet: fix the target shape above (its message says how)."))
        elif result.result is None:
            st.warning(_("No `y`: torch raised instead of returning a tensor (see above)."))
        else:
            tensor_metrics(result.result, name="y", ref=result.source)
            tensor_grid(
                result.result, name="y", written=result.written_positions, key=f"{K}.result_grid"
            )


def storage_rows(result: LabResult) -> None:
    cfg = result.config
    shared = result.sharing in (Sharing.SAME_PTR, Sharing.SAME_STORAGE)
    origin = (
        _("a fresh copy made by .contiguous()")
        if cfg.op is PreOp.CONTIGUOUS
        else _("base, {n} elements").format(n=math.prod(cfg.source_shape))
    )
    grey = "" if all(result.source.storage.used) else _(" — grey cells are not read by x")
    label = (
        _("the one storage shared by x and y ({origin}){grey}")
        if shared
        else _("storage of x ({origin}){grey}")
    )
    rows = [
        StorageRow(
            label.format(origin=origin, grey=grey),
            result.source.storage,
            result.written_positions if shared else frozenset(),
        )
    ]
    if result.result is not None and not shared:
        rows.append(
            StorageRow(
                _("new storage of y (copied by {call})").format(call=result.call),
                result.result.storage,
                result.written_positions,
            )
        )
    st.markdown(_("#### Memory: the storage, one row, same colours"))
    chart(storage_figure(rows), key=f"{K}.storage", toolbar=False)
    st.caption(
        _(
            "Colour = the element's position in memory (its storage index "
            "`storage_offset + Σ index·stride`). Read a grid left→right, top→bottom: a smooth "
            "gradient means memory is read in order (contiguous); jumps mean the strides skip "
            "around. A view re-reads the same storage; a copy gets a new one, laid out in "
            "order."
        )
    )


def write_box(result: LabResult, note: str | None = None) -> None:
    """The button that writes through ``y`` (into session-local tensors)."""
    y = result.result
    with st.container(border=True):
        st.markdown(_("#### ✍️ Write through `y` — does `x` change?"))
        if note is not None:
            st.info(note, icon="✍️")
        if y is None:
            st.caption(_("Nothing to write into: y does not exist."))
            return
        a, b, c, d = st.columns([2, 2, 2, 1], vertical_alignment="bottom")
        pos = int(
            a.number_input(
                _("position in y (reading order, 0…{last})").format(last=y.numel - 1),
                min_value=0,
                max_value=max(y.numel - 1, 0),
                value=min(1, y.numel - 1),
                step=1,
                **STATE.widget("write_at", reset_on=y.shape),
            )
        )
        b.number_input(
            _("value"),
            min_value=-MAX_WRITE,
            max_value=MAX_WRITE,
            value=100,
            step=1,
            **STATE.widget("write_value"),
        )
        idx = ", ".join(map(str, unravel(pos, y.shape))) or "..."
        c.button(
            _("Write y[{idx}] = value").format(idx=idx),
            key=f"{K}.write",
            on_click=add_write,
            type="primary",
        )
        d.button(_("Reset"), key=f"{K}.reset", on_click=reset_writes, disabled=not result.writes)
        if result.writes:
            hits = cells_reading(result.source, result.written_positions)
            if result.sharing is Sharing.COPY:
                st.markdown(
                    _(
                        "Wrote {n} value(s) into `y`: **x is unchanged** — y has "
                        "its own storage, so the write never reaches x."
                    ).format(n=len(result.writes))
                )
            else:
                shown = ", ".join(f"`x[{i}]` = {v}" for i, v in hits[:8])
                more = _(" (+{n} more)").format(n=len(hits) - 8) if len(hits) > 8 else ""
                st.markdown(
                    _(
                        "Wrote {n} value(s) into `y`: **x changed too** — "
                        "{shown}{more}. Same memory, two shapes."
                    ).format(n=len(result.writes), shown=shown, more=more)
                )


def numpy_note(result: LabResult) -> None:
    npy = result.numpy
    live = ""
    if npy is not None and npy.call:
        whereas = "" if npy.resize is None else _("; whereas `{resize}`").format(resize=npy.resize)
        if npy.unavailable is not None:
            live = _(" Not run: {why}{whereas}.").format(why=npy.unavailable, whereas=whereas)
        elif npy.error is not None:
            live = _(" Live, on `a = x.numpy()`: `{call}` → {kind}: {error}{whereas}.").format(
                call=npy.call, kind=npy.error_kind, error=npy.error, whereas=whereas
            )
        else:
            live = _(
                " Live, on `a = x.numpy()`: `{call}` → shape {shape}, "
                "`np.shares_memory` = **{shares}**{whereas}."
            ).format(call=npy.call, shape=npy.shape, shares=npy.shares_memory, whereas=whereas)
    st.markdown(
        _(
            "**numpy analogy.** `x.view(shape)` is like `np.reshape(a, shape, copy=False)` "
            "(numpy ≥ 2.1): the same memory read with a new shape, or an error when no "
            "strides can do that — never a copy. `x.reshape(shape)` is plain "
            "`np.reshape(a, shape)`: a view when possible, otherwise a copy. Neither is "
            "`np.resize`, which changes the element count by repeating or cutting the data."
        )
        + live
    )
