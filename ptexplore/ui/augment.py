"""Streamlit helpers for the Augmentation lab: the catalog-driven pipeline editor, cached
decoding and image grids. Every widget is rendered from a :class:`ParamSpec`; no transform
has its own hand-written widget code."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import streamlit as st
from PIL import Image

from ptexplore.augment.catalog import CATALOG, Kind, ParamSpec, Value, spec_for
from ptexplore.augment.decode import DecodedImage, decode_image_bytes
from ptexplore.augment.pipeline import Pipeline, Preset, preset, train_preset
from ptexplore.errors import InputError, LessonError

PIPELINE_KEY = "augment.pipeline"
PRESET_KEY = "augment.preset"
ERRORS_KEY = "augment.step_errors"
ADD_KEY = "augment.add"
STEP_PREFIX = "augment.step."

PRESET_LABELS = {
    Preset.TRAIN: "train",
    Preset.VAL: "val",
    Preset.CUSTOM: "custom",
}


@st.cache_data(max_entries=24, show_spinner=False)
def decode_cached(data: bytes, name: str, max_short_side: int | None) -> DecodedImage:
    """Decode once per (bytes, preview size): re-rolls and edits never decode again."""
    return decode_image_bytes(data, name=name, max_short_side=max_short_side)


#: Characters with a meaning in (Streamlit) markdown mid-line; ``. - +`` only matter at the
#: start of a line, where a file name never is.
_MD_SPECIAL = frozenset("\\`*_{}[]()#!|<>~$:&\"'=")


def md_escape(text: str) -> str:
    """A user string (a file name) made inert for st.markdown / st.error / st.caption.

    Markdown punctuation is backslash-escaped (CommonMark allows it for any ASCII
    punctuation), so a name like ``[x](javascript:…)`` or ``:red[…]`` shows literally.
    """
    return "".join(f"\\{c}" if c in _MD_SPECIAL else c for c in text)


def escaped_error(err: LessonError, name: str) -> LessonError:
    """``err`` with the raw file ``name`` in its message replaced by its escaped form."""
    return type(err)(err.message.replace(name, md_escape(name)), fix=err.fix)


# ------------------------------------------------------------------------ pipeline state


def current_pipeline() -> Pipeline:
    if PIPELINE_KEY not in st.session_state:
        st.session_state[PIPELINE_KEY] = train_preset()
        st.session_state[PRESET_KEY] = Preset.TRAIN.value
    pipeline: Pipeline = st.session_state[PIPELINE_KEY]
    return pipeline


def _errors() -> dict[str, LessonError]:
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


def _on_preset() -> None:
    choice = st.session_state.get(PRESET_KEY)
    if choice in (Preset.TRAIN.value, Preset.VAL.value):
        set_pipeline(preset(str(choice)), structural=True)
    elif choice is None:  # the selected segment was clicked off: show the true label again
        set_pipeline(current_pipeline(), structural=False)


def _on_add() -> None:
    name = st.session_state.get(ADD_KEY)
    st.session_state[ADD_KEY] = None
    if not name:
        return
    try:
        set_pipeline(current_pipeline().add(str(name)), structural=True)
    except LessonError as err:
        _errors()["add"] = err


def _on_move(i: int, j: int) -> None:
    set_pipeline(current_pipeline().move(i, j), structural=True)


def _on_remove(i: int) -> None:
    set_pipeline(current_pipeline().remove(i), structural=True)


def _on_enabled(i: int, key: str) -> None:
    set_pipeline(current_pipeline().set_enabled(i, bool(st.session_state[key])), structural=False)


# ----------------------------------------------------------- widget <-> value conversion


def _numbers(text: str, kind: type[float] | type[int]) -> tuple[Any, ...]:
    """Parse "a, b, c" into finite numbers; ``int`` refuses fractions instead of truncating."""
    parts = [p.strip() for p in str(text).replace(";", ",").split(",") if p.strip()]
    if not parts:
        raise InputError(
            "This field is empty.", fix="Type a number, or numbers separated by commas."
        )
    out: list[Any] = []
    for part in parts:
        try:
            number = float(part)
        except ValueError:
            raise InputError(
                f"“{text}” is not a comma-separated list of numbers.",
                fix="Type numbers separated by commas, e.g. 224, 160.",
            ) from None
        if not math.isfinite(number):
            raise InputError(f"“{part}” is not a finite number.", fix="Type an ordinary number.")
        if kind is int:
            if not number.is_integer():
                raise InputError(
                    f"“{part}” is not a whole number; sizes are counted in pixels.",
                    fix=f"Use {math.floor(number)} or {math.ceil(number)}.",
                )
            out.append(int(number))
        else:
            out.append(number)
    return tuple(out)


def widget_value(param: ParamSpec, value: Value) -> Any:
    """Pipeline value → the value its widget holds."""
    if param.kind is Kind.SIZE:
        return str(value) if not isinstance(value, tuple) else ", ".join(str(int(v)) for v in value)
    if param.kind in (Kind.PAIR, Kind.TRIPLE):
        assert isinstance(value, tuple)
        return ", ".join(f"{v:g}" for v in value)
    if param.kind is Kind.RANGE:
        assert isinstance(value, tuple)
        return (float(value[0]), float(value[1]))
    if param.kind is Kind.FLOAT:
        assert isinstance(value, int | float)
        return float(value)
    return value


def parse_widget(param: ParamSpec, raw: Any) -> Value:
    """Widget value → pipeline value (validated later by the catalog)."""
    if param.kind is Kind.SIZE:
        sides = _numbers(str(raw), int)
        if len(sides) == 1:
            return int(sides[0])
        return tuple(int(v) for v in sides)
    if param.kind in (Kind.PAIR, Kind.TRIPLE):
        return _numbers(str(raw), float)
    if param.kind is Kind.RANGE:
        return (float(raw[0]), float(raw[1]))
    if param.kind is Kind.INT:
        return int(raw)
    if param.kind is Kind.FLOAT:
        return float(raw)
    return raw  # type: ignore[no-any-return]


def _on_param(i: int, param: ParamSpec, key: str) -> None:
    errors = _errors()
    err_key = f"{i}.{param.name}"
    try:
        value = parse_widget(param, st.session_state[key])
        set_pipeline(current_pipeline().set_param(i, param.name, value), structural=False)
        errors.pop(err_key, None)
    except LessonError as err:
        errors[err_key] = err


def _show(value: Value) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value) + ")"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def param_help(param: ParamSpec) -> str:
    """Tooltip: the parameter's doc, torchvision's default and the valid range."""
    parts = [param.doc]
    if param.required:
        parts.append(
            f"torchvision has no default (required); the lab starts at {_show(param.default)}."
        )
    elif param.none_value is not None and param.default == param.none_value:
        parts.append(f"torchvision default: None (here {_show(param.none_value)}).")
    else:
        parts.append(f"torchvision default: {_show(param.default)}.")
    if param.kind is Kind.CHOICE:
        parts.append("Choices: " + ", ".join(str(c) for c in param.choices) + ".")
    elif param.lo is not None and param.hi is not None:
        parts.append(
            f"Allowed: {param.lo:g} to {param.hi:g}" + (", odd only." if param.odd else ".")
        )
    return " ".join(parts)


#: A float slider with more positions than this becomes a number box (type any value).
MAX_SLIDER_POSITIONS = 200


def _param_widget(i: int, param: ParamSpec, value: Value) -> None:
    key = f"{STEP_PREFIX}{i}.{param.name}"
    if key not in st.session_state:
        st.session_state[key] = widget_value(param, value)
    common: dict[str, Any] = {
        "key": key,
        "help": param_help(param),
        "on_change": _on_param,
        "args": (i, param, key),
    }
    label = param.name
    kind = param.kind
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
    elif kind is Kind.FLOAT and (
        param.lo is None
        or param.hi is None
        or (param.hi - param.lo) / (param.step or 0.01) > MAX_SLIDER_POSITIONS
    ):
        # e.g. RandomSolarize threshold: 0–255 on uint8 but 0–1 after ToDtype(scale=True),
        # which a 0–255 slider in steps of 1 could not reach
        st.number_input(
            label,
            min_value=float(param.lo) if param.lo is not None else None,
            max_value=float(param.hi) if param.hi is not None else None,
            step=float(param.step or 0.01),
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
        hint = {"size": "e.g. 224 or 224, 160", "pair": "x, y", "triple": "r, g, b"}[kind.value]
        st.text_input(f"{label} ({hint})", **common)
    err = _errors().get(f"{i}.{param.name}")
    if err is not None:
        st.error(f"{err.message}" + (f" — {err.fix}" if err.fix else ""), icon="🚫")


def pipeline_editor() -> Pipeline:
    """Preset picker, one card per step (enable, move, remove, parameters) and an adder."""
    pipeline = current_pipeline()
    if PRESET_KEY not in st.session_state:
        set_pipeline(pipeline, structural=False)
    st.segmented_control(
        "Preset",
        [p.value for p in Preset],
        format_func=lambda v: PRESET_LABELS[Preset(v)],
        key=PRESET_KEY,
        on_change=_on_preset,
        help="train = RandomResizedCrop(224) + flip + ToTensor + Normalize; "
        "val = Resize(256) + CenterCrop(224) + ToTensor + Normalize. "
        "Any edit makes it custom.",
    )
    n = len(pipeline.steps)
    if n == 0:
        st.info("The pipeline is empty: the grid shows the image unchanged. Add a step below.")
    for i, step in enumerate(pipeline.steps):
        spec = spec_for(step.name)
        with st.container(border=True):
            en_key = f"{STEP_PREFIX}{i}.enabled"
            if en_key not in st.session_state:
                st.session_state[en_key] = step.enabled
            st.checkbox(
                f"**{i + 1}. {step.name}**",
                key=en_key,
                on_change=_on_enabled,
                args=(i, en_key),
                help="Untick to disable this step (it stays in the list and the export).",
            )
            up, down, rm, _ = st.columns([1, 1, 1, 2], gap="small")
            up.button(
                "↑",
                key=f"{STEP_PREFIX}{i}.up",
                on_click=_on_move,
                args=(i, i - 1),
                disabled=i == 0,
                help="Move up",
                width="stretch",
            )
            down.button(
                "↓",
                key=f"{STEP_PREFIX}{i}.down",
                on_click=_on_move,
                args=(i, i + 1),
                disabled=i == n - 1,
                help="Move down",
                width="stretch",
            )
            rm.button(
                "✕",
                key=f"{STEP_PREFIX}{i}.remove",
                on_click=_on_remove,
                args=(i,),
                help="Remove this step",
                width="stretch",
            )
            st.caption(spec.doc)
            if spec.params:
                with st.expander("Parameters", expanded=False):
                    for param in spec.params:
                        _param_widget(i, param, step.get(param.name))
    st.selectbox(
        "Add a step",
        [s.name for s in CATALOG],
        index=None,
        placeholder="➕ Add a torchvision.transforms.v2 step…",
        format_func=lambda name: f"{name} · {spec_for(name).category.value}",
        key=ADD_KEY,
        on_change=_on_add,
        help="Every transform comes with torchvision's defaults; edit them in its card.",
    )
    add_err = _errors().pop("add", None)
    if add_err is not None:
        st.error(add_err.message, icon="🚫")
    return current_pipeline()


# ---------------------------------------------------------------------------- display


#: Longest side sent to the browser for one grid tile: a tile is at most ~900 CSS px wide,
#: so bigger arrays only cost JPEG-encoding time and bandwidth (the tensors keep their size).
DISPLAY_MAX_SIDE = 960


def for_screen(img: np.ndarray, max_side: int = DISPLAY_MAX_SIDE) -> np.ndarray:
    """A display array no longer than ``max_side`` (antialiased); small ones unchanged."""
    h, w = img.shape[:2]
    if max(h, w) <= max_side:
        return img
    ratio = max_side / max(h, w)
    size = (max(1, round(w * ratio)), max(1, round(h * ratio)))
    return np.asarray(
        Image.fromarray(img).resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    )


def image_grid(images: Sequence[np.ndarray], captions: Sequence[str], *, columns: int) -> None:
    """Images in rows of ``columns`` with a caption each."""
    for start in range(0, len(images), columns):
        cols = st.columns(columns)
        for col, img, cap in zip(
            cols, images[start : start + columns], captions[start : start + columns], strict=False
        ):
            with col:
                st.image(for_screen(img), caption=cap, width="stretch", output_format="JPEG")
