"""The view lab's widgets and the learner's writes into ``y`` (kept per config)."""

from __future__ import annotations

import streamlit as st

from ptexplore.errors import InputError
from ptexplore.i18n import N_, _
from ptexplore.limits import VIEW_MAX_ELEMENTS as MAX_ELEMENTS
from ptexplore.limits import VIEW_MAX_STEP as MAX_STEP
from ptexplore.pages import VIEW
from ptexplore.ui.page import seed_input
from ptexplore.ui.state import PageState, link_int, link_text
from ptexplore.view import (
    Fill,
    LabConfig,
    Method,
    PreOp,
    parse_permutation,
    parse_source_shape,
    parse_target_shape,
)
from ptexplore.view.lab import result_numel

K = VIEW.key
STATE = PageState(VIEW)
#: session_state slot holding this learner's writes, tied to the config they were made for.
WRITES = STATE.key("_writes")
#: session_state slot for a write clicked but not yet applied: ``(pos, value, config repr)``.
PENDING = STATE.key("_pending")

DEFAULT_SOURCE = "2, 3, 4"
DEFAULT_TARGET = "4, -1"

#: the options' text (code, except one marked for the catalog; shown through ``_``)
METHOD_LABELS = {
    Method.VIEW: "x.view(shape)",
    Method.RESHAPE: "x.reshape(shape)",
    Method.FLATTEN: "x.flatten(start_dim)",
    Method.UNSQUEEZE: "x.unsqueeze(dim)",
    Method.SQUEEZE: "x.squeeze(dim)",
    Method.SQUEEZE_ALL: N_("x.squeeze()  — every size-1 dim"),
    Method.VIEW_FLAT: "x.view(-1)",
}


def controls() -> tuple[LabConfig, InputError | None]:
    """Draw every input widget, then parse them (errors raise InputError after drawing).

    A target shape that does not parse is returned, not raised: the source still shows,
    and the error takes the place of ``y`` only.
    """
    c1, c2, c3 = st.columns(3, gap="large")
    with c1:
        st.markdown(_("**1 · Source** `base` → `x`"))
        src_text = st.text_input(
            _("Source shape"),
            **STATE.widget("source_shape", default=DEFAULT_SOURCE, url=link_text),
            help=_("Integers separated by commas, at most 6 dims and 10,000 elements."),
        )
        # the options' text translated now, in this rerun's language (a format_func may be
        # called after the rerun: AppTest does)
        fills = {Fill.ARANGE.value: "torch.arange(n)", Fill.RANDOM.value: _("random ints (seeded)")}
        fill = Fill(
            st.radio(
                _("Values in memory"),
                [f.value for f in Fill],
                horizontal=True,
                **STATE.widget("fill", default=Fill.ARANGE.value, url=Fill),
                format_func=fills.__getitem__,
            )
        )
    with c2:
        st.markdown(_("**2 · Before the reshape**"))
        ops = {o.value: _(o.label) for o in PreOp}
        op = PreOp(
            st.selectbox(
                _("Operation on x"),
                [o.value for o in PreOp],
                **STATE.widget("op", default=PreOp.NONE.value, url=PreOp),
                format_func=ops.__getitem__,
            )
        )
        perm_text = ""
        step = 2
        start = 0
        if op is PreOp.PERMUTE:
            perm_text = st.text_input(
                _("permute order (empty = reverse all dims)"),
                **STATE.widget("perm", default="", url=link_text),
                placeholder=_("e.g. 2, 0, 1"),
            )
        elif op is PreOp.SLICE:
            s1, s2 = st.columns(2)
            start = int(
                s1.number_input(
                    _("start"),
                    min_value=0,
                    max_value=MAX_ELEMENTS - 1,
                    step=1,
                    **STATE.widget("start", default=0, url=link_int(0, MAX_ELEMENTS - 1)),
                    help=_(
                        "A start > 0 makes x begin later in memory: storage_offset() and "
                        "data_ptr() move, the storage does not."
                    ),
                )
            )
            step = int(
                s2.number_input(
                    _("step"),
                    min_value=1,
                    max_value=MAX_STEP,
                    step=1,
                    **STATE.widget("step", default=2, url=link_int(1, MAX_STEP)),
                )
            )
    with c3:
        st.markdown(_("**3 · The call** `y = …`"))
        methods = {m.value: _(METHOD_LABELS[m]) for m in Method}
        method = Method(
            st.selectbox(
                _("Method"),
                [m.value for m in Method],
                **STATE.widget("method", default=Method.VIEW.value, url=Method),
                format_func=methods.__getitem__,
            )
        )
        target_text = DEFAULT_TARGET
        dim = 0
        if method.takes_shape:
            target_text = st.text_input(
                _("Target shape (at most one -1)"),
                **STATE.widget("shape", default=DEFAULT_TARGET, url=link_text),
                help=_("-1 means: torch infers this size from the element count."),
            )
        elif method.takes_dim:
            dim = int(
                st.number_input(
                    _("start_dim") if method is Method.FLATTEN else _("dim"),
                    min_value=-8,
                    max_value=7,
                    step=1,
                    **STATE.widget("dim", default=0, url=link_int(-8, 7)),
                    help=_("torch checks the range itself; out-of-range dims show its message."),
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
        return writes, _(
            "Your write (position {pos} = {value}) was clicked together with a settings "
            "change, and with the new settings torch refuses the call, so there is no `y` "
            "to write into. Nothing was written."
        ).format(pos=pos, value=value)
    if 0 <= pos < n:
        writes.append((pos, value))
        return writes, _(
            "The settings changed in the same click as your write, so position {pos} = "
            "{value} was written into the **new** `y` (a fresh tensor; earlier writes "
            "belonged to the old settings)."
        ).format(pos=pos, value=value)
    return writes, _(
        "Your write (position {pos} = {value}) was clicked together with a settings "
        "change, and the new `y` has only {n} elements (positions 0…{last}). Nothing "
        "was written: pick a position and click Write again."
    ).format(pos=pos, value=value, n=n, last=n - 1)


def add_write() -> None:
    state = st.session_state.get(WRITES)
    made_for = state.get("config") if isinstance(state, dict) else None
    pos = int(st.session_state.get(f"{K}.write_at", 0))
    value = int(st.session_state.get(f"{K}.write_value", 100))
    st.session_state[PENDING] = (pos, value, made_for)


def reset_writes() -> None:
    state = st.session_state.get(WRITES)
    if isinstance(state, dict):
        state["writes"] = []
