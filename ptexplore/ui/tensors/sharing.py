"""🔗 Memory sharing: the learner's own live ``a`` and ``t``, mutated one side at a time.

The section's result is the learner's own :class:`~ptexplore.tensors.Lab` (made for the
config, kept by the framework for this session only): its widgets mutate it — every action
is its line of code run in the lab's namespace — and the verdicts are measured on it. A
bridge torch refuses gives a :class:`Refused` result instead (``a``, torch's words, the code).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from ptexplore import live
from ptexplore.errors import LessonError
from ptexplore.i18n import N_, _
from ptexplore.pages import TENSORS
from ptexplore.tensors import (
    Action,
    Bridge,
    Hop,
    Lab,
    LabSpec,
    Layout,
    NpDtype,
    changed_mask,
    code_for,
    cuda_available,
    editor_accepts,
    lab_code,
    make_array,
    new_lab,
    parse_shape,
    tensor_values,
)
from ptexplore.tensors.tables import changed_cells, frame, history_table
from ptexplore.ui.choices import choices, shown
from ptexplore.ui.lab import Section
from ptexplore.ui.render import error_boundary, show_error
from ptexplore.ui.state import PageState, link_text
from ptexplore.ui.tensors.verdict import id_expander, sharing_verdict

STATE = PageState(TENSORS)
SHARING_TAB = N_("🔗 Memory sharing")
#: where the framework keeps this session's live lab (the section's remembered result)
LAB_KEY = STATE.key("_lab")
EDITOR_KEY = STATE.key("editor")
#: How many versions of ``a`` earlier labs of this session went through (see editor_cells).
EDITOR_BASE_KEY = STATE.key("_editor_base")
#: the lab drawn last (its version feeds the next lab's editor base)
SHOWN = "_shown_lab"
GENERATION = "_generation"


@dataclass(frozen=True, slots=True)
class SharingConfig:
    """The lab to make: its spec, and how many times the learner pressed Rebuild."""

    spec: LabSpec
    generation: int


@dataclass(frozen=True, slots=True)
class Refused:
    """``a`` was made but the bridge refused it: the array, torch's refusal, the code."""

    a: np.ndarray
    error: LessonError
    snippet: live.Snippet


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
            _("shape of a"), **STATE.widget("shape", default="3, 4", url=link_text)
        )
        dtype = st.selectbox(
            _("numpy dtype"),
            choices(NpDtype),
            format_func=shown(choices(NpDtype), lambda d: d.label),
            **STATE.widget("dtype", default=choices(NpDtype)[0], url=NpDtype),
        )
    with c2:
        layout = st.selectbox(
            _("memory layout of a"),
            choices(Layout),
            format_func=shown(choices(Layout)),  # the English value stays the option
            **STATE.widget("layout", default=choices(Layout)[0], url=Layout),
        )
        bridge = st.radio(
            _("how the tensor is made"),
            choices(Bridge),
            format_func=str,
            **STATE.widget("bridge", default=choices(Bridge)[0], url=Bridge),
        )
    with c3:
        has_cuda = cuda_available()
        hop = st.radio(
            _("then move it"),
            choices(Hop),
            format_func=shown(choices(Hop)),
            **STATE.widget("hop"),
            disabled=not has_cuda,
            help=_("Copies to GPU memory (and back): the copy never shares with a."),
        )
        if not has_cuda:
            st.caption(
                _(
                    "🖥️ `.cuda()` / `.cuda().cpu()` are disabled: `torch.cuda.is_available()` "
                    "is **False** on this server, and nothing is simulated. On a GPU, "
                    "`torch.from_numpy(a).cuda()` is always a copy (different memory, "
                    "different device), and `.cpu()` brings back another copy."
                )
            )
            hop = Hop.NONE
        reset = st.button(_("↺ Rebuild a and t"), key=STATE.key("reset"))
    return SharingInputs(shape_text, dtype, layout, bridge, hop, reset)


def render_refused(refused: Refused) -> None:
    """``a`` was made but the bridge refused it: show ``a`` and torch's refusal."""
    st.markdown(
        _(
            "**numpy `a`** (made fine; the bridge refused it) · {dtype} · "
            "`a.strides` = {strides} bytes"
        ).format(dtype=refused.a.dtype, strides=refused.a.strides)
    )
    st.dataframe(frame(refused.a))
    show_error(refused.error)


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
        column_config={"_index": st.column_config.Column(_("row"))},
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
        st.markdown(
            _("**numpy `a`** · {dtype} · shape {shape} (the table above)").format(
                dtype=a_now.dtype, shape=a_now.shape
            )
        )
        # numpy wraps at 75 columns, torch at 80: print both rows the same way.
        st.code(f">>> a\n{np.array_repr(a_now, max_line_width=80)}", language="python")
        _changes_caption("a", lab.a_before, a_now, a_mask)
    with right:
        st.markdown(
            _("**torch `t`** · {dtype} · {device} · shape {shape}").format(
                dtype=lab.t.dtype, device=lab.t.device, shape=tuple(lab.t.shape)
            )
        )
        st.dataframe(frame(t_now), width="stretch")
        st.code(f">>> t\n{lab.t!r}", language="python")
        _changes_caption("t", lab.t_before, t_now, t_mask)


def _changes_caption(name: str, before: np.ndarray, after: np.ndarray, mask: np.ndarray) -> None:
    n = int(mask.sum())
    if not n:
        st.caption(_("No cell changed by the last action."))
        return
    st.caption(
        _("{n} cell(s) changed by the last action: {cells}.").format(
            n=n, cells=changed_cells(name, before, after, mask)
        )
    )


def mutate_controls(lab: Lab, spec: LabSpec) -> None:
    """Left: pick an action and apply it. Right: edit cells of ``a`` in place."""
    act_col, edit_col = st.columns([1, 1.2])
    with act_col:
        st.markdown(_("**Mutate one side**"))
        action = st.radio(
            _("action"),
            choices(Action),
            **STATE.widget("action"),
            horizontal=True,
            label_visibility="collapsed",
        )
        value = st.number_input(
            _("v (for a[:] = v, a[0, 0] = v, t[0] = v)"),
            value=7.0,
            step=1.0,
            **STATE.widget("value"),
        )
        applied = st.button(_("▶ Apply"), key=STATE.key("apply"), type="primary")
        with error_boundary(STATE.key("sharing")):
            if applied:
                lab.apply(action, float(value))
    with edit_col:
        editable = lab.a.flags.writeable and spec.dtype.numeric
        st.markdown(
            _("**✏️ Edit cells of `a`** (each edit runs `a[i, j] = v` in place)")
            if editable
            else _("**`a` cannot be edited here** (read-only or non-numeric)")
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
            _(
                "`{line}` made a **new array** (id(a) {before} → {after}) and bound the name "
                "`a` to it. `t` did not follow: nothing was written into the memory `t` uses."
            ).format(line=line, before=last.id_a_before, after=last.id_a_after),
            icon="🆕",
        )
    elif last.followed:
        st.success(
            _("`{line}` → `{other}` changed too: they share memory.").format(
                line=line, other=other
            ),
            icon="🔗",
        )
    else:
        st.info(
            _("`{line}` → `{other}` did **not** change.").format(line=line, other=other),
            icon="✂️",
        )
    if last.wrap_note:
        st.warning(last.wrap_note, icon="🔁")


def sharing_controls(_shared: object) -> SharingConfig:
    picked = sharing_inputs()
    generation = int(STATE.get(GENERATION, 0)) + int(picked.reset)
    STATE.set(GENERATION, generation)
    spec = LabSpec(
        parse_shape(picked.shape_text), picked.dtype, picked.layout, picked.bridge, picked.hop
    )
    return SharingConfig(spec, generation)


def make_lab(config: SharingConfig) -> Lab | Refused:
    """A new lab for the config, or the refusal of its bridge."""
    try:
        return new_lab(config.spec)
    except LessonError as err:
        return Refused(make_array(config.spec), err, live.snippet(lab_code(config.spec)))


def _editor_base(lab: Lab) -> None:
    """A new lab continues the editor's versions after the one drawn before it."""
    shown: Lab | None = STATE.get(SHOWN, None)
    if shown is not None and shown is not lab:
        base = int(st.session_state.get(EDITOR_BASE_KEY, 0)) + shown.version + 1
        st.session_state[EDITOR_BASE_KEY] = base
    STATE.set(SHOWN, lab)


def sharing_render(config: SharingConfig, lab: Lab | Refused, _views: None) -> None:
    """Mutate one side, then the measured verdict."""
    if isinstance(lab, Refused):
        render_refused(lab)
        return
    _editor_base(lab)
    for note in lab.notes:
        st.warning(note, icon="⚠️")
    mutate_controls(lab, config.spec)
    last_action(lab)
    values_side_by_side(lab)
    sharing_verdict(lab)
    id_expander(lab)
    if lab.history:
        st.markdown(_("**What each action did**"))
        st.dataframe(history_table(lab), width="stretch")


def sharing_code(_config: SharingConfig, lab: Lab | Refused) -> live.Snippet:
    """The code of the lab so far (after this run's actions), and what it printed."""
    return lab.snippet if isinstance(lab, Refused) else live.snippet(code_for(lab))


SHARING: Section[SharingConfig, Lab | Refused] = Section(
    "lab",
    sharing_controls,
    make_lab,
    sharing_render,
    sharing_code,
    label=SHARING_TAB,
)
