"""The Augmentation lab on the skeleton: the sidebar settings, the image picker, the
catalog-driven pipeline editor, shared decoding, the grid (remembered per session by its
inputs, with its tiles encoded once) and one renderer per lazy tab.
Every step widget is rendered from a :class:`ParamSpec`; no transform has its own
hand-written widget code."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from ptexplore.augment.catalog import (
    CATALOG,
    VISIBLE_DEFAULTS,
    Category,
    Kind,
    ParamSpec,
    Value,
    spec_for,
)
from ptexplore.augment.export import export_code, export_output, from_json, to_json
from ptexplore.augment.pipeline import (
    Pipeline,
    PixelDomain,
    Preset,
    keeps_source_size,
    pixel_domains,
    preset,
    preview_source_side,
    train_preset,
    val_preset,
)
from ptexplore.augment.preview import (
    Grid,
    channel_stats,
    histogram_figure,
    run_grid,
)
from ptexplore.augment.truths import epochs_strip, resize_truth
from ptexplore.errors import InputError, LessonError
from ptexplore.images.decode import (
    UPLOAD_EXTENSIONS,
    DecodedImage,
    check_session_pixels,
    check_upload_size,
    declared_pixels,
    decode_image_bytes,
)
from ptexplore.images.display import for_screen, jpeg, to_display
from ptexplore.images.samples import SAMPLES_DIR, sample_bytes, sample_names
from ptexplore.limits import GRID_MAX_SAMPLES as MAX_SAMPLES
from ptexplore.limits import (
    HEAVY_GRID_PIXELS,
    MAX_EPOCHS,
    MAX_SESSION_PIXELS,
    MAX_UPLOAD_FILES,
    heavy,
    on_wait,
)
from ptexplore.live import Snippet
from ptexplore.pages import AUGMENT
from ptexplore.parse import parse_ints
from ptexplore.text import md_escape
from ptexplore.ui.cache import shared
from ptexplore.ui.lab import Tab, run_tabs
from ptexplore.ui.page import SEED_KEY, seed_input
from ptexplore.ui.render import chart, code_panel, error_boundary, show_error
from ptexplore.ui.state import PageState, link_choice, link_int

STATE = PageState(AUGMENT)
#: this learner's accepted uploads, kept for the session: [(file name, bytes)]
UPLOADS = "_uploads"
PIPELINE_KEY = STATE.key("pipeline")
PRESET_KEY = STATE.key("preset")
ERRORS_KEY = STATE.key("step_errors")
ADD_KEY = STATE.key("add")
ADD_AT_KEY = STATE.key("add_at")
ADDED_NOTE_KEY = STATE.key("added_note")
STEP_PREFIX = STATE.key("step.")
IMPORT_RESULT_KEY = STATE.key("import_result")
PRESET_NOTE_KEY = STATE.key("preset_note")

PRESET_LABELS = {
    Preset.TRAIN: "train",
    Preset.VAL: "val",
    Preset.CUSTOM: "custom",
}


#: Decoded images shared by every session: at most 16 (≤ 16 × 120 MB at the 40 MP cap).
@shared(16)
def _decode_shared(
    digest: str, name: str, max_short_side: int | None, _data: bytes
) -> DecodedImage:
    """Decode once per (bytes, name, preview size) for every session: re-rolls and edits
    never decode again. The result is frozen and its pixels are only ever read."""
    return decode_image_bytes(_data, name=name, max_short_side=max_short_side)


def decode_cached(data: bytes, name: str, max_short_side: int | None) -> DecodedImage:
    return _decode_shared(hashlib.sha256(data).hexdigest(), name, max_short_side, data)


def escaped_error(err: LessonError, name: str) -> LessonError:
    """``err`` with the raw file ``name`` in its message replaced by its escaped form."""
    return type(err)(err.message.replace(name, md_escape(name)), fix=err.fix)


# ------------------------------------------------------------------------ pipeline state


def current_pipeline() -> Pipeline:
    # the preset is in the address (?augment.preset=val): a teacher's link opens it
    linked = STATE.link("preset", default=Preset.TRAIN.value, url=Preset)
    if PIPELINE_KEY not in st.session_state:
        which = Preset.VAL if linked == Preset.VAL else Preset.TRAIN
        st.session_state[PIPELINE_KEY] = preset(which)
        st.session_state[PRESET_KEY] = which.value
        if linked == Preset.CUSTOM:
            st.session_state[PRESET_NOTE_KEY] = (
                "This link was made from a custom pipeline, and an address carries only the "
                "train or val preset: the train preset is shown. To share a custom pipeline, "
                "export its JSON (📦 Export tab) and import it here."
            )
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
        return
    # "custom" (or the selected segment clicked off) changes no step: the control keeps
    # saying what the pipeline IS, so it snaps back to train/val while it equals a preset
    set_pipeline(current_pipeline(), structural=False)
    label = st.session_state[PRESET_KEY]
    if choice == Preset.CUSTOM.value and label != Preset.CUSTOM.value:
        st.session_state[PRESET_NOTE_KEY] = (
            f"The pipeline still equals the {label} preset. “custom” is whatever you build: "
            "edit, add, remove or reorder a step below and the preset becomes custom."
        )


def _open_key(i: int) -> str:
    """The expanded state of step ``i``'s Parameters panel."""
    return STATE.key(f"open.{i}")


def _reorder_open(order: list[int]) -> None:
    """Panels follow their steps: new position k shows the panel state of old step order[k]
    (-1 for a new step: closed)."""
    states = [bool(st.session_state.get(_open_key(i), False)) for i in range(len(order) + 1)]
    for k, old in enumerate(order):
        st.session_state[_open_key(k)] = states[old] if old >= 0 else False
    st.session_state.pop(_open_key(len(order)), None)


def _on_add() -> None:
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
        _errors()["add"] = err
        return
    _reorder_open([*range(at), -1, *range(at, len(pipeline.steps))])
    if visible:
        spec = spec_for(str(name))
        shown = ", ".join(f"{k}={_show(v)}" for k, v in visible.items())
        torchvision = ", ".join(f"{k}={_show(spec.param(k).default)}" for k in visible)
        st.session_state[ADDED_NOTE_KEY] = (
            f"Added {name} at position {at + 1} with {shown}: torchvision's defaults "
            f"({torchvision}) change nothing you could see. The exported code writes these "
            "values out."
        )


def _on_move(i: int, j: int) -> None:
    pipeline = current_pipeline()
    moved = pipeline.move(i, j)
    order = list(range(len(pipeline.steps)))
    order.insert(max(0, min(j, len(order) - 1)), order.pop(i))
    set_pipeline(moved, structural=True)
    _reorder_open(order)


def _on_remove(i: int) -> None:
    pipeline = current_pipeline()
    set_pipeline(pipeline.remove(i), structural=True)
    _reorder_open([k for k in range(len(pipeline.steps)) if k != i])


def _on_enabled(i: int, key: str) -> None:
    set_pipeline(current_pipeline().set_enabled(i, bool(st.session_state[key])), structural=False)


# ----------------------------------------------------------- widget <-> value conversion


def _numbers(text: str, kind: type[float] | type[int]) -> tuple[Any, ...]:
    """Parse "a, b, c" into finite numbers; ``int`` refuses fractions instead of truncating.

    Sizes (``int``) then go through the one size grammar (:func:`ptexplore.parse.parse_ints`:
    ASCII digits only, bounded). The learner's text is echoed escaped and shortened.
    """
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    if not parts:
        raise InputError(
            "This field is empty.", fix="Type a number, or numbers separated by commas."
        )
    out: list[Any] = []
    for part in parts:
        try:
            number = float(part)
        except (ValueError, OverflowError):
            raise InputError(
                f"“{md_escape(text, limit=40)}” is not a comma-separated list of numbers.",
                fix="Type numbers separated by commas, e.g. 224, 160.",
            ) from None
        if not math.isfinite(number):
            raise InputError(
                f"“{md_escape(part, limit=40)}” is not a finite number.",
                fix="Type an ordinary number.",
            )
        if kind is int:
            if not number.is_integer():
                raise InputError(
                    f"“{md_escape(part, limit=40)}” is not a whole number; sizes are counted "
                    "in pixels.",
                    fix=f"Use {math.floor(number)} or {math.ceil(number)}.",
                )
            out.append(int(number))
        else:
            out.append(number)
    if kind is int:
        return tuple(parse_ints(text, "size", example="224, 160", max_dims=2))
    return tuple(out)


def widget_value(param: ParamSpec, value: Value) -> Any:
    """Pipeline value → the value its widget holds."""
    if param.kind is Kind.SIZE:
        return str(value) if not isinstance(value, tuple) else ", ".join(str(int(v)) for v in value)
    if param.kind in (Kind.PAIR, Kind.TRIPLE):
        assert isinstance(value, tuple)
        return ", ".join(f"{v:g}" for v in value)
    if param.kind is Kind.FILL:
        if isinstance(value, tuple):
            return ", ".join(f"{v:g}" for v in value)
        return value if isinstance(value, str) else f"{value:g}"
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
    if param.kind is Kind.FILL:
        if str(raw).strip().lower() == "random":
            return "random"
        fills = _numbers(str(raw), float)
        return float(fills[0]) if len(fills) == 1 else tuple(float(v) for v in fills)
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


def param_help(param: ParamSpec, domain: PixelDomain | None = None) -> str:
    """Tooltip: the parameter's doc, torchvision's default and the valid range.

    For a pixel value (fill, erase value) the range is the one this step's input has.
    """
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
    if param.pixel and domain is not None:
        whole = " (whole numbers)" if domain.whole else ""
        parts.append(
            f"This step receives {domain.describe()}: allowed {domain.lo:.4g} to "
            f"{domain.hi:.4g}{whole}."
        )
    return " ".join(parts)


#: A float slider with more positions than this becomes a number box (type any value).
MAX_SLIDER_POSITIONS = 200


def _param_widget(i: int, param: ParamSpec, value: Value, domain: PixelDomain | None) -> None:
    key = f"{STEP_PREFIX}{i}.{param.name}"
    if key not in st.session_state:
        st.session_state[key] = widget_value(param, value)
    common: dict[str, Any] = {
        "key": key,
        "help": param_help(param, domain),
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
        # which a 0–255 slider in steps of 1 could not reach. A fill has no fixed bounds
        # (its range depends on the step's input, checked when the pipeline is built).
        step = param.step or 0.01
        if param.pixel and domain is not None and not domain.whole:
            step = 0.01
        st.number_input(
            label,
            min_value=float(param.lo) if param.lo is not None else None,
            max_value=float(param.hi) if param.hi is not None else None,
            step=float(step),
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
        hint = {
            "size": "e.g. 224 or 224, 160",
            "pair": "x, y",
            "triple": "r, g, b",
            "fill": "a number, r, g, b or random",
        }[kind.value]
        st.text_input(f"{label} ({hint})", **common)
    err = _errors().get(f"{i}.{param.name}")
    if err is not None:
        show_error(err)


_PIXEL_CATEGORIES = (Category.COLOR, Category.GEOMETRY, Category.AUTO, Category.SIZE)


def _after_normalize(pipeline: Pipeline, i: int) -> bool:
    """Does an enabled Normalize come before step ``i``?"""
    return any(s.enabled and s.name == "Normalize" for s in pipeline.steps[:i])


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
        "Any edit makes it custom; it shows train/val again whenever the steps equal one.",
    )
    note = st.session_state.pop(PRESET_NOTE_KEY, None)
    if note:
        st.info(note, icon="ℹ️")
    domains = dict(zip((i for i, _ in pipeline.active), pixel_domains(pipeline), strict=True))
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
            if (
                step.enabled
                and _after_normalize(pipeline, i)
                and spec.category in _PIXEL_CATEGORIES
            ):
                st.warning(
                    f"{step.name} runs after Normalize: it receives normalised values (about "
                    "−2…2.6, not 0–1), so colour steps wash the picture out and fills land in "
                    "the wrong units. Move it above the ToDtype/Normalize steps (↑).",
                    icon="⚠️",
                )
            if spec.params:
                with st.expander("Parameters", key=_open_key(i), on_change="rerun"):
                    for param in spec.params:
                        _param_widget(i, param, step.get(param.name), domains.get(i))
    slots = list(range(n + 1))
    tail = pipeline.tail_start
    st.selectbox(
        "Insert new steps at",
        slots,
        format_func=lambda k: (
            f"position {k + 1}"
            + (" — before the ToDtype/Normalize steps" if k == tail and tail < n else "")
            + (" — the end" if k == n else "")
        ),
        help="Augmentations belong before the tensor is converted and normalised.",
        **STATE.widget("add_at", reset_on=(n, tail), default=tail),
    )
    st.selectbox(
        "Add a step",
        [s.name for s in CATALOG],
        index=None,
        placeholder="➕ Add a torchvision.transforms.v2 step…",
        format_func=lambda name: f"{name} · {spec_for(name).category.value}",
        key=ADD_KEY,
        on_change=_on_add,
        help="Every transform comes with torchvision's defaults (except where those change "
        "nothing visible: then the card says which values it used); edit them in its card.",
    )
    added = st.session_state.pop(ADDED_NOTE_KEY, None)
    if added:
        st.info(added, icon="➕")
    add_err = _errors().pop("add", None)
    if add_err is not None:
        show_error(add_err)
    return current_pipeline()


# ---------------------------------------------------------------------------- display


#: Longest side sent to the browser for one grid tile: a tile is at most ~900 CSS px wide,
#: so bigger arrays only cost JPEG-encoding time and bandwidth (the tensors keep their size).
def image_grid(
    images: Sequence[np.ndarray | bytes], captions: Sequence[str], *, columns: int
) -> None:
    """Images (arrays, or JPEG bytes already sized for the screen) in rows of ``columns``."""
    for start in range(0, len(images), columns):
        cols = st.columns(columns)
        for col, img, cap in zip(
            cols, images[start : start + columns], captions[start : start + columns], strict=False
        ):
            with col:
                shown = img if isinstance(img, bytes) else for_screen(img)
                st.image(shown, caption=cap, width="stretch", output_format="JPEG")


# ---------------------------------------------------------------------------- sidebar


@dataclass(frozen=True, slots=True)
class GridSettings:
    """The sidebar's grid settings (they persist across page switches)."""

    n: int  # samples in the grid
    columns: int  # grid columns
    fullres: bool  # preview the full image, never a downscaled copy


def grid_settings() -> GridSettings:
    """The sidebar's grid settings: samples, columns, full-resolution preview."""
    with st.sidebar:
        n = int(
            st.slider(
                "Samples in the grid", 1, MAX_SAMPLES, help="All from one seed.",
                **STATE.widget("n", default=16, url=link_int(1, MAX_SAMPLES)),
            )
        )  # fmt: skip
        columns = int(st.select_slider("Grid columns", [2, 3, 4, 6, 8], 4, **STATE.widget("cols")))
        fullres = st.toggle(
            "Full-resolution preview",
            False,
            help="Off: big photos are previewed from a smaller copy when the pipeline "
            "resamples to a fixed size anyway (fast). On: always the full image (exact, "
            "slower).",
            **STATE.widget("fullres"),
        )
    return GridSettings(n=n, columns=columns, fullres=bool(fullres))


# ----------------------------------------------------------------------------- images


@dataclass(frozen=True, slots=True)
class ImageSources:
    """What the learner gave: accepted uploads, the sample choice, and where to report."""

    uploads: tuple[tuple[str, bytes], ...]  # (file name, bytes) that passed the size check
    samples: tuple[str, ...]
    messages: DeltaGenerator  # under the uploader: upload errors and the image picker
    picker: DeltaGenerator  # where the sample picker goes (drawn once decoding is known)


@dataclass(frozen=True, slots=True)
class Images:
    """The decoded images: the one previewed and the whole little dataset."""

    chosen: DecodedImage | None  # None when nothing could be decoded
    dataset: tuple[DecodedImage, ...]  # the uploads, or every sample photo
    using_samples: bool


def render_image_sources() -> ImageSources:
    """The uploader and the sample picker; refused uploads are reported under it.

    Bounded before anything is decoded: at most ``MAX_UPLOAD_FILES`` files per learner,
    each under the upload cap, and at most ``MAX_SESSION_PIXELS`` declared pixels in all.
    """
    uploads = st.file_uploader(
        "Upload photos (PNG, JPEG, WebP, BMP, GIF, TIFF)",
        type=list(UPLOAD_EXTENSIONS),
        accept_multiple_files=True,
        key=STATE.key("upload"),
        on_change=_keep_uploads,
        help=f"Up to {MAX_UPLOAD_FILES} photos, decoded on this server with explicit formats "
        "and size caps; nothing is stored beyond your session.",
    )
    # Errors about the uploads and the picker sit right under the uploader; they are
    # filled in later, once the pipeline (which decides the preview size) is known.
    messages = st.container()
    files: list[Any] = list(uploads or [])
    kept: list[tuple[str, bytes]] = STATE.get(UPLOADS, [])
    if not files and kept:  # back from another page: the widget is new, the photos are not
        files = [_Kept(name, data) for name, data in kept]
        with messages:
            names = ", ".join(md_escape(n, limit=40) for n, _ in kept)
            st.caption(f"Using the photo(s) you uploaded earlier in this session: {names}.")
    if len(files) > MAX_UPLOAD_FILES:
        with messages:
            show_error(
                InputError(
                    f"{len(files)} files were uploaded; the lab uses the first "
                    f"{MAX_UPLOAD_FILES} (the limit for one learner on a shared server).",
                    fix="Remove some photos (✕ in the uploader) to use others.",
                )
            )
        files = files[:MAX_UPLOAD_FILES]
    sources: list[tuple[str, bytes]] = []
    for up in files:
        try:
            check_upload_size(int(up.size), up.name)
            sources.append((up.name, up.getvalue()))
        except LessonError as err:
            with messages:
                show_error(escaped_error(err, up.name))
    fits = check_session_pixels([declared_pixels(d) for _, d in sources], MAX_SESSION_PIXELS)
    if fits < len(sources):
        dropped = ", ".join(md_escape(n, limit=40) for n, _ in sources[fits:])
        with messages:
            show_error(
                InputError(
                    f"Together these photos declare more than {MAX_SESSION_PIXELS / 1e6:.0f} "
                    f"megapixels, the limit for one learner: not decoded — {dropped}.",
                    fix="Upload fewer or smaller photos (resize big ones to ~12 MP first).",
                )
            )
        sources = sources[:fits]
    return ImageSources(
        uploads=tuple(sources),
        samples=sample_names(),
        messages=messages,
        picker=st.container(),
    )


@dataclass(frozen=True, slots=True)
class _Kept:
    """An upload kept in session state, with the bits of UploadedFile the page reads."""

    name: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    def getvalue(self) -> bytes:
        return self.data


def _keep_uploads() -> None:
    """on_change of the uploader: keep the photos (or forget them when removed)."""
    files = st.session_state.get(STATE.key("upload")) or []
    STATE.set(UPLOADS, [(f.name, f.getvalue()) for f in files[:MAX_UPLOAD_FILES]])


def _sample_picker(sources: ImageSources, *, uploads_used: bool) -> str:
    with sources.picker:
        choice = st.selectbox(
            "…or a sample photo",
            sources.samples,
            disabled=uploads_used,
            help="Freely licensed photos shipped with ptexplore (see About in the sidebar)."
            + (" Remove your uploads (✕) to use one." if uploads_used else ""),
            **STATE.widget("sample", default=sources.samples[0], url=link_choice(sources.samples)),
        )
    return str(choice)


def _decode_all(
    items: Sequence[tuple[str, bytes]], max_side: int | None, messages: DeltaGenerator
) -> list[DecodedImage]:
    out = []
    for name, data in items:
        try:
            out.append(decode_cached(data, name, max_side))
        except LessonError as err:
            with messages:
                show_error(escaped_error(err, name))
    return out


def load_images(sources: ImageSources, pipeline: Pipeline, *, fullres: bool) -> Images:
    """Decode the uploads (or the sample photos) at the preview size this pipeline allows;
    with several uploads, the picker under the uploader chooses the one to preview."""
    side = None if fullres else preview_source_side(pipeline)
    decoded = _decode_all(sources.uploads, side, sources.messages)
    sample = _sample_picker(sources, uploads_used=bool(decoded))
    if not decoded:
        dataset = _decode_all(
            [(name, sample_bytes(name)) for name in sources.samples], side, sources.messages
        )
        chosen = next((d for d in dataset if d.name == sample), None)
        if sources.uploads and chosen is not None:
            with sources.picker:
                st.caption(
                    f"None of your uploads could be used (see above): the preview shows the "
                    f"sample photo **{md_escape(chosen.name)}** instead."
                )
        return Images(chosen=chosen, dataset=tuple(dataset), using_samples=True)
    pick = 0
    if len(decoded) > 1:
        with sources.messages:
            pick = int(
                st.selectbox(
                    "Image to preview",
                    range(len(decoded)),
                    format_func=lambda i: f"{i + 1}. {decoded[i].name}",
                    **STATE.widget("image", reset_on=tuple(d.digest for d in decoded)),
                )
                or 0
            )
    chosen = decoded[min(pick, len(decoded) - 1)]
    return Images(chosen=chosen, dataset=tuple(decoded), using_samples=False)


def render_image_info(chosen: DecodedImage, pipeline: Pipeline) -> None:
    """Name, format, size and decoding notes; says so when the preview is from a copy."""
    ow, oh = chosen.original_size
    info = (
        f"**{md_escape(chosen.name)}** · {chosen.format} · mode {chosen.original_mode} · {ow}×{oh}"
    )
    if chosen.n_frames > 1:
        info += f" · {chosen.n_frames} frames"
    st.markdown(info)
    for note in chosen.notes:
        st.caption(f"ℹ️ {note}")
    if chosen.downscaled:
        w, h = chosen.size
        why = (
            "This pipeline keeps the input size (no Resize / RandomResizedCrop), so on the "
            f"full image every sample would be {ow}×{oh}; its steps (flips, colour, relative "
            "geometry) look the same on the copy, shown here at the copy's size."
            if keeps_source_size(pipeline)
            else "The pipeline resamples to a fixed size anyway, so the grid looks the same."
        )
        st.info(
            f"Preview made from a **downscaled copy**: {ow}×{oh} → {w}×{h} "
            f"({chosen.scale:.0%}). {why} Crop boxes and shifts are in the copy's pixels. "
            "Turn on *Full-resolution preview* in the sidebar for exact full-size tensors.",
            icon="🔎",
        )


# ------------------------------------------------------------------------------- tabs


@dataclass(frozen=True, slots=True)
class Preview:
    """Everything the tabs show: the pipeline, the images, the seed and the drawn grid."""

    pipeline: Pipeline
    chosen: DecodedImage
    images: Images
    seed: int
    n: int
    trace_index: int  # the sample followed step by step
    grid: Grid | None  # None when the pipeline failed on this image (error shown)
    key: tuple[object, ...] = ()  # what the grid depends on (see _grid_key)


def _grid_key(
    pipeline: Pipeline, chosen: DecodedImage, seed: int, n: int, trace: int
) -> tuple[object, ...]:
    """Everything a grid depends on (the pixels by their file's digest and decoded size)."""
    return (pipeline, chosen.digest, chosen.name, chosen.size, seed, n, trace)


def _draw(pipeline: Pipeline, chosen: DecodedImage, seed: int, n: int, trace: int) -> Grid:
    """The grid; a large source image runs under the shared semaphore for heavy work."""
    w, h = chosen.size
    if w * h <= HEAVY_GRID_PIXELS:
        return run_grid(pipeline, chosen.pixels, seed=seed, n=n, trace_index=trace)
    notice = st.empty()

    def waiting(what: str) -> None:
        notice.info(f"⏳ Waiting for a free worker: {what} runs next.", icon="⏳")

    on_wait(waiting)
    try:
        with heavy(f"a {w}×{h} grid of {n}"):
            return run_grid(pipeline, chosen.pixels, seed=seed, n=n, trace_index=trace)
    finally:
        on_wait(None)
        notice.empty()


def run_preview(
    pipeline: Pipeline, images: Images, chosen: DecodedImage, *, seed: int, n: int
) -> Preview:
    """Draw the grid — once per inputs: a rerun that changed nothing reuses it (a
    learner's error is shown here, above the tab contents)."""
    trace_index = int(st.session_state.get(STATE.key("trace"), 0))
    trace_index = min(max(trace_index, 0), n - 1)
    key = _grid_key(pipeline, chosen, seed, n, trace_index)
    grid = None
    with error_boundary(f"{AUGMENT.key}.grid", key):
        grid = STATE.memo("_grid", key, lambda: _draw(pipeline, chosen, seed, n, trace_index))
    return Preview(
        pipeline=pipeline,
        chosen=chosen,
        images=images,
        seed=seed,
        n=n,
        trace_index=trace_index,
        grid=grid,
        key=key,
    )


def _reroll() -> None:
    st.session_state[SEED_KEY] = (int(st.session_state.get(SEED_KEY, 0)) + 1) % (2**31 - 1)


def tiles(view: Preview) -> tuple[bytes, ...]:
    """The grid's images as JPEG bytes, encoded once per grid (not on every rerun)."""
    grid = view.grid
    assert grid is not None
    return STATE.memo(
        "_tiles",
        view.key,
        lambda: tuple(jpeg(to_display(s.tensor, grid.norm)) for s in grid.samples),
    )


def render_grid_tab(view: Preview, *, columns: int) -> None:
    """Re-roll, the seed, the output shape/dtype, and the grid of samples."""
    top = st.columns([1, 1, 2], vertical_alignment="center")
    top[0].button("🎲 Re-roll", key=STATE.key("reroll"), on_click=_reroll, type="primary")
    top[1].metric("Seed", view.seed)
    grid = view.grid
    if grid is None:
        return
    shapes = sorted({"×".join(map(str, s)) for s in grid.output_shapes})
    dtypes = sorted({str(s.tensor.dtype).removeprefix("torch.") for s in grid.samples})
    top[2].metric(
        "Output (of the preview copy)"
        if view.chosen.downscaled and keeps_source_size(view.pipeline)
        else "Output",
        f"{', '.join(shapes)} {', '.join(dtypes)}",
    )
    image_grid(tiles(view), [s.caption for s in grid.samples], columns=columns)
    if grid.norm is not None:
        st.caption("Normalised tensors are shown denormalised (x·std + mean, clipped to 0–1).")


def render_steps_tab(view: Preview) -> None:
    """One sample followed through every step; after Normalize, its statistics."""
    grid = view.grid
    if grid is None:
        return
    st.number_input(
        "Sample to follow", 0, view.n - 1, view.trace_index, key=STATE.key("trace"), step=1
    )
    strip = grid.trace
    cols = st.columns(min(len(strip), 6))
    for k, t in enumerate(strip):
        with cols[k % len(cols)]:
            st.image(
                for_screen(to_display(t.tensor, t.norm)),
                width="stretch",
                output_format="JPEG",
            )
            st.caption(t.caption + (f" · {t.draw.text}" if t.draw and t.draw.text else ""))
    final = strip[-1]
    if final.norm is None:
        return
    st.markdown("#### After Normalize")
    a, b = st.columns([1, 2])
    with a:
        st.image(
            for_screen(to_display(final.tensor, final.norm)),
            caption="denormalised for display",
            width="stretch",
        )
        st.dataframe(
            [
                {
                    "channel": s.channel,
                    "mean": round(s.mean, 4),
                    "std": round(s.std, 4),
                    "min": round(s.min, 3),
                    "max": round(s.max, 3),
                }
                for s in channel_stats(final.tensor)
            ],
            hide_index=True,
            key=STATE.key("stats"),
        )
    with b:
        chart(
            histogram_figure(final.tensor, title="Normalised values per channel"),
            key=STATE.key("hist"),
        )
    st.caption(
        "Normalize uses the dataset's mean/std, not this image's: per-channel means "
        "near 0 and stds near 1 only hold on average over the dataset."
    )


def render_train_val_tab(view: Preview) -> None:
    """The train and val presets side by side on the same image and seed."""
    with error_boundary(f"{AUGMENT.key}.train_val"):
        k = min(view.n, 4)
        tv_cols = st.columns(2, gap="large")
        for col, (label, pipe) in zip(
            tv_cols, (("train", train_preset()), ("val", val_preset())), strict=True
        ):
            g = run_grid(pipe, view.chosen.pixels, seed=view.seed, n=k, trace_index=None)
            shapes = {tuple(s.tensor.shape) for s in g.samples}
            distinct = len({bytes(to_display(s.tensor, g.norm).tobytes()) for s in g.samples})
            with col:
                st.markdown(f"#### {label}")
                st.caption(" → ".join(s.name for s in pipe.steps))
                st.metric(
                    f"{label} output",
                    ", ".join("×".join(map(str, s)) for s in sorted(shapes)),
                    help="Shape of pipeline(img), computed now.",
                )
                image_grid(
                    [to_display(s.tensor, g.norm) for s in g.samples],
                    [s.caption for s in g.samples],
                    columns=2,
                )
                st.caption(f"{distinct} distinct image(s) among {k} draws.")


def render_truths_tab(view: Preview) -> None:
    """Resize(256) resizes the shorter side; augmentation never grows the dataset."""
    chosen = view.chosen
    st.markdown("#### `Resize(256)` resizes the *shorter* side")
    demo = resize_truth(400, 300, 256)
    mine = resize_truth(*chosen.original_size, 256)
    c1, c2, c3 = st.columns(3)
    c1.metric("Resize(256) on 400×300", "×".join(map(str, demo.out_wh)))
    c2.metric(
        "what many tutorials claim it makes",
        "×".join(map(str, demo.naive_wh)),
        help="A common misconception: an int size is the shorter side, not a square.",
    )
    c3.metric(
        f"Resize(256) on this image ({'×'.join(map(str, mine.in_wh))})",
        "×".join(map(str, mine.out_wh)),
    )
    w, h = mine.in_wh
    square = (
        f" This image is square ({w}×{h}), so keeping its aspect ratio happens to give a "
        "square too — a 400×300 photo shows the difference."
        if w == h
        else ""
    )
    st.caption(
        "Both computed by `v2.Resize(256)` just now: it scales the shorter side to 256 and "
        f"keeps the aspect ratio.{square} Pass `(256, 256)` if you really want a square (and "
        "a distorted aspect ratio)."
    )
    st.markdown("#### Augmentation does not grow the dataset")
    epochs = int(st.slider("Epochs to show", 2, MAX_EPOCHS, 6, **STATE.widget("epochs")))
    with error_boundary(f"{AUGMENT.key}.truths"):
        dataset = view.images.dataset
        images = [d.pixels for d in dataset]
        index = next((i for i, d in enumerate(dataset) if d is chosen), 0)
        strip = epochs_strip(view.pipeline, images, seed=view.seed, epochs=epochs, index=index)
        m1, m2, m3 = st.columns(3)
        m1.metric("len(augmented)", strip.len_augmented)
        m2.metric("len(original)", strip.len_original)
        m3.metric("len(ConcatDataset([augmented, original]))", strip.len_concat)
        norm = view.grid.norm if view.grid else None
        image_grid(
            [to_display(x, norm) for x in strip.images],
            [f"epoch {e}: dataset[{index}]" for e in range(epochs)],
            columns=min(epochs, 6),
        )
        st.caption(
            f"The same index read in {epochs} epochs gave {strip.distinct} different "
            f"image(s), while `len(dataset)` stayed {strip.len_augmented}: a transform "
            "changes *which* version you see, never *how many* items there are. Only "
            "`ConcatDataset` adds items (here the un-augmented originals)."
        )
        st.code(
            "augmented = MyDataset(files, transform=pipeline)\n"
            "original = MyDataset(files, transform=no_random_steps)\n"
            f"len(augmented)  # {strip.len_augmented}\n"
            "len(torch.utils.data.ConcatDataset([augmented, original]))"
            f"  # {strip.len_concat}",
            language="python",
        )


def export_script(view: Preview) -> str:
    """The runnable script that reproduces the grid on screen."""
    chosen = view.chosen
    return export_code(
        view.pipeline,
        seed=view.seed,
        n=view.n,
        # a sample photo lives in the installed package's folder: an absolute path works
        # from any working directory
        image_path=str(SAMPLES_DIR / chosen.name) if view.images.using_samples else chosen.name,
        source_note=(
            f"the lab previewed a {chosen.size[0]}×{chosen.size[1]} downscaled copy of this "
            "image; on the full image the draws follow the same scheme at full size."
            if chosen.downscaled
            else None
        ),
        conversion=chosen.conversion,
    )


def export_snippet(view: Preview, code: str) -> Snippet:
    """The script and what it prints: exactly the grid's samples, when the grid was drawn
    from the full image (a downscaled preview cannot say what the full image gives)."""
    if view.grid is None:
        return Snippet(code, "", "the pipeline fails on this image: see the message above")
    if view.chosen.downscaled:
        return Snippet(
            code,
            "",
            "run it for the full-size samples: the grid here came from a downscaled copy",
        )
    return Snippet(code, export_output([s.tensor for s in view.grid.samples]))


def _on_import() -> None:
    upload = st.session_state.get(STATE.key("import"))
    text = str(st.session_state.get(STATE.key("import_text")) or "")
    try:
        raw = upload.getvalue().decode("utf-8", "replace") if upload is not None else text
        imported: Pipeline = from_json(raw)
        set_pipeline(imported, structural=True)
        st.session_state[IMPORT_RESULT_KEY] = "ok"
    except LessonError as err:
        st.session_state[IMPORT_RESULT_KEY] = err


def render_export_tab(view: Preview, code: str) -> None:
    """Downloads (Python and JSON), the code, and importing a pipeline from JSON."""
    if view.chosen.downscaled:
        st.markdown(
            "Runnable Python and JSON. The grid was drawn from a downscaled copy, so "
            "the script (which loads the full image) draws the same kind of samples, "
            "not bit-identical tensors; turn on *Full-resolution preview* for those."
        )
    else:
        st.markdown(
            "Runnable Python (same seed and image → the same tensors as the grid) and JSON."
        )
    as_json = to_json(view.pipeline)
    d1, d2 = st.columns(2)
    d1.download_button(
        "⬇️ pipeline.py",
        code,
        file_name="augment_pipeline.py",
        mime="text/x-python",
        key=STATE.key("download_py"),
    )
    d2.download_button(
        "⬇️ pipeline.json",
        as_json,
        file_name="augment_pipeline.json",
        mime="application/json",
        key=STATE.key("download_json"),
    )
    st.code(code, language="python")
    with st.expander("JSON", expanded=False):
        st.code(as_json, language="json")
    st.markdown("##### Import a pipeline")
    st.text_area(
        "Paste exported JSON", key=STATE.key("import_text"), height=120,
        placeholder='{"format": "ptexplore.augment.pipeline", "steps": [...]}',
    )  # fmt: skip
    st.file_uploader("…or upload a .json", type=["json"], key=STATE.key("import"))
    st.button("Import", key=STATE.key("import_apply"), on_click=_on_import)
    result = st.session_state.pop(IMPORT_RESULT_KEY, None)
    if isinstance(result, LessonError):
        show_error(result)
    elif result == "ok":
        st.success("Pipeline imported: it is now in the editor on the left.", icon="✅")


# ----------------------------------------------------------------------------- the page

GRID, STEPS, TRAIN_VAL, TRUTHS, EXPORT = (
    "🎲 Grid",
    "🪜 Step by step",
    "⚖️ Train vs val",
    "🔎 Truths",
    "📦 Export",
)


def render_page() -> None:
    """Images and pipeline on the left; the grid and the other views as lazy tabs."""
    seed = seed_input()
    settings = grid_settings()
    left, right = st.columns([1.15, 2.2], gap="large")
    with left:
        st.subheader("Images")
        sources = render_image_sources()
        st.subheader("Pipeline")
        pipeline = pipeline_editor()
    images = load_images(sources, pipeline, fullres=settings.fullres)
    with right:
        chosen = images.chosen
        if chosen is None:
            st.warning("No usable image: upload a photo or pick a sample.")
            return
        render_image_info(chosen, pipeline)
        view = run_preview(pipeline, images, chosen, seed=seed, n=settings.n)
        code = export_script(view)
        run_tabs(
            AUGMENT,
            [
                Tab(GRID, lambda: render_grid_tab(view, columns=settings.columns)),
                Tab(STEPS, lambda: render_steps_tab(view)),
                Tab(TRAIN_VAL, lambda: render_train_val_tab(view)),
                Tab(TRUTHS, lambda: render_truths_tab(view)),
                Tab(EXPORT, lambda: render_export_tab(view, code)),
            ],
            name="view",
        )
    code_panel(export_snippet(view, code))
