"""The learner's pipeline in session state, and the editor's callbacks that change it.

The pipeline lives under ``augment.pipeline``; every step widget is seeded from it and
writes back through a callback (a structural edit — add, move, remove, a preset, an import
— re-seeds every step widget). The preset control says what the pipeline *is*: train or
val while the steps equal one, else custom; the preset is in the address
(``?augment.preset=val``).

Streamlit runs a widget's callback before the script, so before ``page_setup`` sets the
rerun's language: every callback here runs in the session's language
(:func:`ptexplore.ui.page.in_session_language`), so the notes and refusals it builds are in it.
"""

from __future__ import annotations

import streamlit as st

from ptexplore.augment.catalog import VISIBLE_DEFAULTS, ParamSpec
from ptexplore.augment.export import from_json
from ptexplore.augment.params import added_note, parse_widget
from ptexplore.augment.pipeline import Pipeline, Preset, preset
from ptexplore.augment.texts import CUSTOM_LINK_NOTE, still_equals_note
from ptexplore.errors import LessonError
from ptexplore.i18n import _
from ptexplore.pages import AUGMENT
from ptexplore.ui.page import in_session_language
from ptexplore.ui.state import PageState

STATE = PageState(AUGMENT)
PIPELINE_KEY = STATE.key("pipeline")
PRESET_KEY = STATE.key("preset")
ERRORS_KEY = STATE.key("step_errors")
ADD_KEY = STATE.key("add")
ADD_AT_KEY = STATE.key("add_at")
ADDED_NOTE_KEY = STATE.key("added_note")
STEP_PREFIX = STATE.key("step.")
IMPORT_RESULT_KEY = STATE.key("import_result")
PRESET_NOTE_KEY = STATE.key("preset_note")


def current_pipeline() -> Pipeline:
    # the preset is in the address (?augment.preset=val): a teacher's link opens it
    linked = STATE.link("preset", default=Preset.TRAIN.value, url=Preset)
    if PIPELINE_KEY not in st.session_state:
        which = Preset.VAL if linked == Preset.VAL else Preset.TRAIN
        st.session_state[PIPELINE_KEY] = preset(which)
        st.session_state[PRESET_KEY] = which.value
        if linked == Preset.CUSTOM:
            st.session_state[PRESET_NOTE_KEY] = _(CUSTOM_LINK_NOTE)
    pipeline: Pipeline = st.session_state[PIPELINE_KEY]
    return pipeline


def step_errors() -> dict[str, LessonError]:
    """The editor's refused edits, by ``"<step>.<param>"`` (and ``"add"``)."""
    if ERRORS_KEY not in st.session_state:
        st.session_state[ERRORS_KEY] = {}
    errors: dict[str, LessonError] = st.session_state[ERRORS_KEY]
    return errors


def _clear_step_widgets() -> None:
    for key in [k for k in st.session_state if str(k).startswith(STEP_PREFIX)]:
        del st.session_state[key]
    st.session_state[ERRORS_KEY] = {}


def set_pipeline(pipeline: Pipeline, *, structural: bool) -> None:
    """Store a new pipeline; structural edits re-seed every step widget from it."""
    st.session_state[PIPELINE_KEY] = pipeline
    if structural:
        _clear_step_widgets()
    label = Preset.CUSTOM.value
    for which in (Preset.TRAIN, Preset.VAL):
        if pipeline == preset(which):
            label = which.value
    st.session_state[PRESET_KEY] = label


@in_session_language
def on_preset() -> None:
    choice = st.session_state.get(PRESET_KEY)
    if choice in (Preset.TRAIN.value, Preset.VAL.value):
        set_pipeline(preset(str(choice)), structural=True)
        return
    # "custom" (or the selected segment clicked off) changes no step: the control keeps
    # saying what the pipeline IS, so it snaps back to train/val while it equals a preset
    set_pipeline(current_pipeline(), structural=False)
    label = st.session_state[PRESET_KEY]
    if choice == Preset.CUSTOM.value and label != Preset.CUSTOM.value:
        st.session_state[PRESET_NOTE_KEY] = still_equals_note(label)


def open_key(i: int) -> str:
    """The expanded state of step ``i``'s Parameters panel."""
    return STATE.key(f"open.{i}")


def _reorder_open(order: list[int]) -> None:
    """Panels follow their steps: new position k shows the panel state of old step order[k]
    (-1 for a new step: closed)."""
    states = [bool(st.session_state.get(open_key(i), False)) for i in range(len(order) + 1)]
    for k, old in enumerate(order):
        st.session_state[open_key(k)] = states[old] if old >= 0 else False
    st.session_state.pop(open_key(len(order)), None)


@in_session_language
def on_add() -> None:
    name = st.session_state.get(ADD_KEY)
    st.session_state[ADD_KEY] = None
    if not name:
        return
    pipeline = current_pipeline()
    at = int(st.session_state.get(ADD_AT_KEY, pipeline.tail_start))
    at = max(0, min(at, len(pipeline.steps)))
    visible = VISIBLE_DEFAULTS.get(str(name), {})
    try:
        set_pipeline(pipeline.add(str(name), at, visible), structural=True)
    except LessonError as err:
        step_errors()["add"] = err
        return
    _reorder_open([*range(at), -1, *range(at, len(pipeline.steps))])
    note = added_note(str(name), at, visible)
    if note:
        st.session_state[ADDED_NOTE_KEY] = note


@in_session_language
def on_move(i: int, j: int) -> None:
    pipeline = current_pipeline()
    moved = pipeline.move(i, j)
    order = list(range(len(pipeline.steps)))
    order.insert(max(0, min(j, len(order) - 1)), order.pop(i))
    set_pipeline(moved, structural=True)
    _reorder_open(order)


@in_session_language
def on_remove(i: int) -> None:
    pipeline = current_pipeline()
    set_pipeline(pipeline.remove(i), structural=True)
    _reorder_open([k for k in range(len(pipeline.steps)) if k != i])


@in_session_language
def on_enabled(i: int, key: str) -> None:
    set_pipeline(current_pipeline().set_enabled(i, bool(st.session_state[key])), structural=False)


@in_session_language
def on_param(i: int, param: ParamSpec, key: str) -> None:
    errors = step_errors()
    err_key = f"{i}.{param.name}"
    try:
        value = parse_widget(param, st.session_state[key])
        set_pipeline(current_pipeline().set_param(i, param.name, value), structural=False)
        errors.pop(err_key, None)
    except LessonError as err:
        errors[err_key] = err


@in_session_language
def on_import() -> None:
    """The Export tab's Import button: the uploaded (or pasted) JSON replaces the pipeline."""
    upload = st.session_state.get(STATE.key("import"))
    text = str(st.session_state.get(STATE.key("import_text")) or "")
    try:
        raw = upload.getvalue().decode("utf-8", "replace") if upload is not None else text
        imported: Pipeline = from_json(raw)
        set_pipeline(imported, structural=True)
        st.session_state[IMPORT_RESULT_KEY] = "ok"
    except LessonError as err:
        st.session_state[IMPORT_RESULT_KEY] = err
