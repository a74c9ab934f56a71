"""The pipeline editor: the preset picker, one card per step (enable, move, remove, its
parameters) and the step adder. Every parameter widget is drawn from its
:class:`~ptexplore.augment.catalog.ParamSpec`; no transform has hand-written widget code."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ptexplore.augment.catalog import CATALOG, Category, Kind, ParamSpec, Value, spec_for
from ptexplore.augment.params import TEXT_HINTS, number_box_step, param_help, widget_value
from ptexplore.augment.pipeline import Pipeline, PixelDomain, Preset, pixel_domains
from ptexplore.augment.texts import AFTER_NORMALIZE, PRESET_HELP
from ptexplore.i18n import N_, _
from ptexplore.ui.augment.pipeline import (
    ADD_KEY,
    ADDED_NOTE_KEY,
    PRESET_KEY,
    PRESET_NOTE_KEY,
    STATE,
    STEP_PREFIX,
    current_pipeline,
    on_add,
    on_enabled,
    on_move,
    on_param,
    on_preset,
    on_remove,
    open_key,
    set_pipeline,
    step_errors,
)
from ptexplore.ui.choices import choices, shown
from ptexplore.ui.render import show_error

#: what the preset control shows (English, marked: translated where it is drawn)
PRESET_LABELS = {
    Preset.TRAIN: N_("train"),
    Preset.VAL: N_("val"),
    Preset.CUSTOM: N_("custom"),
}
_PIXEL_CATEGORIES = (Category.COLOR, Category.GEOMETRY, Category.AUTO, Category.SIZE)


def _param_widget(i: int, param: ParamSpec, value: Value, domain: PixelDomain | None) -> None:
    key = f"{STEP_PREFIX}{i}.{param.name}"
    if key not in st.session_state:
        st.session_state[key] = widget_value(param, value)
    common: dict[str, Any] = {
        "key": key,
        "help": param_help(param, domain),
        "on_change": on_param,
        "args": (i, param, key),
    }
    label = param.name
    kind = param.kind
    box_step = number_box_step(param, domain)
    if kind is Kind.BOOL:
        st.checkbox(label, **common)
    elif kind is Kind.CHOICE:
        st.selectbox(label, list(param.choices), **common)
    elif kind is Kind.INT:
        st.number_input(
            label,
            min_value=int(param.lo) if param.lo is not None else None,
            max_value=int(param.hi) if param.hi is not None else None,
            step=int(param.step or 1),
            **common,
        )
    elif box_step is not None:
        st.number_input(
            label,
            min_value=float(param.lo) if param.lo is not None else None,
            max_value=float(param.hi) if param.hi is not None else None,
            step=box_step,
            format="%g",
            **common,
        )
    elif kind is Kind.FLOAT or kind is Kind.RANGE:
        assert param.lo is not None and param.hi is not None
        st.slider(
            label,
            min_value=float(param.lo),
            max_value=float(param.hi),
            step=float(param.step or 0.01),
            **common,
        )
    else:
        st.text_input(f"{label} ({_(TEXT_HINTS[kind])})", **common)
    err = step_errors().get(f"{i}.{param.name}")
    if err is not None:
        show_error(err)


def _after_normalize(pipeline: Pipeline, i: int) -> bool:
    """Does an enabled Normalize come before step ``i``?"""
    return any(s.enabled and s.name == "Normalize" for s in pipeline.steps[:i])


def _step_card(pipeline: Pipeline, i: int, domain: PixelDomain | None) -> None:
    step = pipeline.steps[i]
    n = len(pipeline.steps)
    spec = spec_for(step.name)
    with st.container(border=True):
        en_key = f"{STEP_PREFIX}{i}.enabled"
        if en_key not in st.session_state:
            st.session_state[en_key] = step.enabled
        st.checkbox(
            f"**{i + 1}. {step.name}**",
            key=en_key,
            on_change=on_enabled,
            args=(i, en_key),
            help=_("Untick to disable this step (it stays in the list and the export)."),
        )
        up, down, rm, _rest = st.columns([1, 1, 1, 2], gap="small")
        up.button(
            "↑", key=f"{STEP_PREFIX}{i}.up", on_click=on_move, args=(i, i - 1),
            disabled=i == 0, help=_("Move up"), width="stretch",
        )  # fmt: skip
        down.button(
            "↓", key=f"{STEP_PREFIX}{i}.down", on_click=on_move, args=(i, i + 1),
            disabled=i == n - 1, help=_("Move down"), width="stretch",
        )  # fmt: skip
        rm.button(
            "✕", key=f"{STEP_PREFIX}{i}.remove", on_click=on_remove, args=(i,),
            help=_("Remove this step"), width="stretch",
        )  # fmt: skip
        st.caption(_(spec.doc))
        if step.enabled and _after_normalize(pipeline, i) and spec.category in _PIXEL_CATEGORIES:
            st.warning(_(AFTER_NORMALIZE).format(name=step.name), icon="⚠️")
        if spec.params:
            with st.expander(_("Parameters"), key=open_key(i), on_change="rerun"):
                for param in spec.params:
                    _param_widget(i, param, step.get(param.name), domain)


def _position(k: int, *, n: int, tail: int) -> str:
    """Where "Insert new steps at" puts them: position ``k + 1`` of ``n + 1``."""
    if k == tail and tail < n:
        return _("position {k} — before the ToDtype/Normalize steps").format(k=k + 1)
    if k == n:
        return _("position {k} — the end").format(k=k + 1)
    return _("position {k}").format(k=k + 1)


def pipeline_editor() -> Pipeline:
    """Preset picker, one card per step (enable, move, remove, parameters) and an adder."""
    pipeline = current_pipeline()
    if PRESET_KEY not in st.session_state:
        set_pipeline(pipeline, structural=False)
    st.segmented_control(
        _("Preset"),
        [p.value for p in Preset],
        format_func=shown(choices(Preset), PRESET_LABELS.__getitem__),
        key=PRESET_KEY,
        on_change=on_preset,
        help=_(PRESET_HELP),
    )
    note = st.session_state.pop(PRESET_NOTE_KEY, None)
    if note:
        st.info(note, icon="ℹ️")
    domains = dict(zip((i for i, _s in pipeline.active), pixel_domains(pipeline), strict=True))
    n = len(pipeline.steps)
    if n == 0:
        st.info(_("The pipeline is empty: the grid shows the image unchanged. Add a step below."))
    for i in range(n):
        _step_card(pipeline, i, domains.get(i))
    tail = pipeline.tail_start
    positions = [_position(k, n=n, tail=tail) for k in range(n + 1)]
    st.selectbox(
        _("Insert new steps at"),
        list(range(n + 1)),
        format_func=positions.__getitem__,
        help=_("Augmentations belong before the tensor is converted and normalised."),
        **STATE.widget("add_at", reset_on=(n, tail), default=tail),
    )
    steps = {s.name: f"{s.name} · {s.category.label}" for s in CATALOG}
    st.selectbox(
        _("Add a step"),
        list(steps),
        index=None,
        placeholder=_("➕ Add a torchvision.transforms.v2 step…"),
        format_func=steps.__getitem__,
        key=ADD_KEY,
        on_change=on_add,
        help=_(
            "Every transform comes with torchvision's defaults (except where those change "
            "nothing visible: then the card says which values it used); edit them in its card."
        ),
    )
    added = st.session_state.pop(ADDED_NOTE_KEY, None)
    if added:
        st.info(added, icon="➕")
    add_err = step_errors().pop("add", None)
    if add_err is not None:
        show_error(add_err)
    return current_pipeline()
