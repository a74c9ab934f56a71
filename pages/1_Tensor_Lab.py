"""Tensor lab: numpy ↔ tensor memory sharing, .item(), and list-of-arrays conversion speed."""

import numpy as np
import streamlit as st

from ptexplore.errors import LessonError
from ptexplore.pages import TENSORS
from ptexplore.tensors import (
    DEFAULT_N,
    MAX_N,
    Action,
    BenchDtype,
    Bridge,
    ErrorCase,
    Hop,
    ItemDtype,
    ItemShape,
    LabSpec,
    Layout,
    NpDtype,
    Verdict,
    bench_code,
    code_for,
    cuda_available,
    id_lesson,
    item_lesson,
    lab_code,
    make_array,
    parse_shape,
    run_benchmark,
    run_error_lesson,
)
from ptexplore.tensors.bench import slow_path_warning
from ptexplore.tensors.lessons import item_code
from ptexplore.ui import code_panel, page_setup, report_errors, show_error
from ptexplore.ui.tensors import (
    BENCH_KEY,
    LAB_KEY,
    bench_results,
    current_lab,
    editor_cells,
    error_lesson,
    frame,
    history_table,
    item_result,
    report_table,
    values_side_by_side,
)

page_setup(TENSORS)
st.title(f"{TENSORS.icon} {TENSORS.title}")
st.markdown(
    "Make a numpy array, turn it into a tensor, then **mutate one side and watch the other**. "
    "Every verdict below is measured on your live objects (`np.shares_memory`, `data_ptr`), "
    "never guessed from the function's name. Your arrays live in your browser session only."
)

share_tab, error_tab, item_tab, speed_tab = st.tabs(
    ["🔗 Memory sharing", "🚫 Errors as lessons", "🔢 .item()", "⏱️ Conversion speed"]
)

# ------------------------------------------------------------------ memory sharing
with share_tab:
    c1, c2, c3 = st.columns([1, 1.3, 1.3])
    with c1:
        shape_text = st.text_input("shape of a", "3, 4", key="tensors.shape")
        dtype = st.selectbox(
            "numpy dtype", list(NpDtype), format_func=lambda d: d.label, key="tensors.dtype"
        )
    with c2:
        layout = st.selectbox("memory layout of a", list(Layout), key="tensors.layout")
        bridge = st.radio(
            "how the tensor is made", list(Bridge), key="tensors.bridge", format_func=str
        )
    with c3:
        has_cuda = cuda_available()
        hop = st.radio(
            "then move it",
            list(Hop),
            key="tensors.hop",
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
        reset = st.button("↺ Rebuild a and t", key="tensors.reset")

    lab = None
    with report_errors():
        spec = LabSpec(parse_shape(shape_text), dtype, layout, bridge, hop)
        try:
            lab = current_lab(spec, reset=reset)
        except LessonError as err:
            st.session_state.pop(LAB_KEY, None)
            refused = make_array(spec)
            st.markdown(
                f"**numpy `a`** (made fine; the bridge refused it) · {refused.dtype} · "
                f"`a.strides` = {refused.strides} bytes"
            )
            st.dataframe(frame(refused))
            show_error(err)
            code_panel(lab_code(spec))

    if lab is not None:
        for note in lab.notes:
            st.warning(note, icon="⚠️")

        act_col, edit_col = st.columns([1, 1.2])
        with act_col:
            st.markdown("**Mutate one side**")
            action = st.radio(
                "action",
                list(Action),
                key="tensors.action",
                horizontal=True,
                label_visibility="collapsed",
            )
            value = st.number_input(
                "v (for a[:] = v, a[0, 0] = v, t[0] = v)",
                value=7.0,
                step=1.0,
                key="tensors.value",
            )
            applied = st.button("▶ Apply", key="tensors.apply", type="primary")
            with report_errors():
                if applied:
                    lab.apply(action, float(value))
        with edit_col:
            editable = lab.a.flags.writeable and spec.dtype.numeric
            st.markdown(
                "**✏️ Edit cells of `a`** (each edit runs `a[i, j] = v` in place)"
                if editable
                else "**`a` cannot be edited here** (read-only or non-numeric)"
            )
            with report_errors():
                lab.edit(editor_cells(lab, disabled=not editable))

        if lab.history:
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

        values_side_by_side(lab)

        rep = lab.report()
        m1, m2, m3 = st.columns(3)
        m1.metric("verdict", "🔗 SHARED" if rep.verdict is Verdict.SHARED else "✂️ SEPARATE")
        m2.metric(
            "np.shares_memory(a, t.numpy())",
            "n/a (t on GPU)" if rep.shares_memory is None else str(rep.shares_memory),
        )
        m3.metric("t.data_ptr() == a's address", str(rep.same_ptr))
        st.markdown(rep.explanation)
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
        if lab.history:
            st.markdown("**What each action did**")
            st.dataframe(history_table(lab), width="stretch")
        code_panel(code_for(lab))

# ------------------------------------------------------------------ errors
with error_tab:
    st.markdown(
        "Each case below runs the real call on this server and shows torch's own message, "
        "then runs the fix."
    )
    case = st.selectbox("case", list(ErrorCase), key="tensors.error_case")
    with report_errors():
        error_lesson(run_error_lesson(case))

# ------------------------------------------------------------------ .item()
with item_tab:
    st.markdown(
        "`.item()` turns a **one-element** tensor into a plain Python number. "
        "Any shape works as long as it holds exactly one element."
    )
    i1, i2, i3 = st.columns(3)
    item_shape = i1.selectbox("tensor shape", list(ItemShape), key="tensors.item_shape")
    item_dtype = i2.selectbox("dtype", list(ItemDtype), key="tensors.item_dtype")
    item_value = i3.number_input("first value", value=0.1, step=0.1, key="tensors.item_value")
    with report_errors():
        item_result(item_lesson(item_shape, item_dtype, float(item_value)))
        code_panel(item_code(item_shape, item_dtype, float(item_value)))

# ------------------------------------------------------------------ conversion speed
with speed_tab:
    st.markdown(
        "N numpy arrays of shape (7, 7, 3) → one tensor of shape (N, 7, 7, 3), four ways, "
        "timed **live on this server** when you press Run."
    )
    b1, b2, b3 = st.columns(3)
    n = b1.number_input(
        "N arrays", 1, MAX_N, DEFAULT_N, step=1000, key="tensors.bench_n", help=f"≤ {MAX_N:,}"
    )
    repeats = b2.slider("repeats (median)", 1, 5, 3, key="tensors.bench_repeats")
    bench_dtype = b3.selectbox("dtype", list(BenchDtype), key="tensors.bench_dtype")
    previous = st.session_state.get(BENCH_KEY)
    run = st.button(
        "⏱️ Run benchmark (re-measures on every press)", key="tensors.bench_run", type="primary"
    )
    if run:
        bar = st.progress(0.0, text="starting…")
        with report_errors():
            result = run_benchmark(
                int(n),
                int(repeats),
                bench_dtype,
                progress=lambda frac, label: bar.progress(frac, text=label),
            )
            st.session_state[BENCH_KEY] = result
            previous = result
        bar.empty()
    if previous is not None:
        bench_results(previous)
        warning = slow_path_warning()
        if warning:
            st.caption(
                f"torch's own warning for the slow path (it prints it once per server "
                f"process; this is the text it emitted here): “{warning}”"
            )
        code_panel(bench_code(previous.n, previous.dtype, previous.repeats))
    else:
        st.caption("Nothing measured yet in this session: press Run.")
