"""The photo's boxes, masks and keypoints, in the sidebar under Images: a sample photo's
come with it (annotated by hand, ``assets/samples/annotations.json``); for an upload the
learner types boxes into a table (above the tabs, where it has the page's width) or
uploads a COCO JSON / VOC XML / YOLO txt, and optionally an instance-mask PNG. Every
file is read in the sandbox and checked there (:mod:`ptexplore.augment.annotations`); a
refusal is shown with its fix under the inputs.

The annotations are in the photo's own pixels; the preview's downscaled copy gets them
scaled (:meth:`~ptexplore.augment.targets.Annotations.scaled`)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from ptexplore.augment import annotations as ann_io
from ptexplore.augment.targets import Annotations, BoxFormat
from ptexplore.augment.texts import escaped_error
from ptexplore.errors import LessonError
from ptexplore.i18n import _
from ptexplore.images.decode import DecodedImage
from ptexplore.ui.augment.pipeline import STATE
from ptexplore.ui.render import show_error
from ptexplore.ui.state import link_choice
from ptexplore.ui.uploads import Kept, keep, kept

#: the kept annotation file and mask of this learner's upload
ANNOTATION_FILE, MASK_FILE = "_annotations", "_mask"
FORMATS = tuple(f.value for f in BoxFormat)


@dataclass(frozen=True, slots=True)
class Target:
    """The previewed photo's target (None: none, or switched off), on the previewed copy
    (``annotations``) and on the photo itself (``full``: what the exported script
    builds), and the mask's path for that script."""

    annotations: Annotations | None
    mask_path: str | None
    full: Annotations | None = None


def _listed(items: list[str]) -> str:
    """``a, b, c`` (in Chinese ``a、b、c``)."""
    text = items[0] if items else ""
    for item in items[1:]:
        text = _("{list}, {item}").format(list=text, item=item)
    return text


def _summary(ann: Annotations) -> str:
    names = _listed(sorted({ann.name_of(label) for label in ann.labels}))
    n = len(ann.boxes)
    text = (_("{n} box ({names})") if n == 1 else _("{n} boxes ({names})")).format(n=n, names=names)
    if ann.mask_png is not None:
        text = _("{boxes}, a mask per box").format(boxes=text)
    if ann.keypoints:
        text = _("{boxes}, {n} keypoints").format(boxes=text, n=len(ann.keypoints))
    return text


def _rows_editor(fmt: BoxFormat) -> list[Mapping[str, Any]]:
    """The boxes table, starting from the rows this learner last used (kept in the page's
    state: a page switch forgets ``st.data_editor``'s own edits with the widget)."""
    columns = [*fmt.columns, "label"]
    saved_name = f"_box_rows_{fmt.value}"
    saved: tuple[tuple[Any, ...], ...] = STATE.get(saved_name, ())
    start = pd.DataFrame(
        {c: pd.Series([r[i] for r in saved], dtype="float64") for i, c in enumerate(fmt.columns)}
        | {"label": pd.Series([r[-1] for r in saved], dtype="str")}
    )
    # a new widget whenever the kept rows change: its edits are relative to its start, and
    # the kept rows already hold them
    version = hashlib.sha256(repr(saved).encode()).hexdigest()[:8] if saved else "new"
    # in a form: the boxes are used when the learner says so, not after every cell (a
    # half-typed row would be refused while it is being typed)
    with st.form(STATE.key(f"box_form_{fmt.value}"), border=False):
        edited = st.data_editor(
            start,
            num_rows="dynamic",
            key=STATE.key(f"box_rows_{fmt.value}_{version}"),
            column_config={
                c: st.column_config.NumberColumn(c, help=_("Pixels of your photo."), format="%.1f")
                for c in fmt.columns
            }
            | {"label": st.column_config.TextColumn(_("label"), help=_("A class name, e.g. cat."))},
            hide_index=True,
            width="stretch",
        )
        st.form_submit_button(_("Use these boxes"), key=STATE.key(f"box_apply_{fmt.value}"))
    rows = tuple(tuple(row) for row in edited[columns].itertuples(index=False))
    if repr(rows) != repr(saved):
        STATE.set(saved_name, rows)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _uploaded(widget: str, name: str, types: list[str], label: str, help_text: str) -> Kept | None:
    st.file_uploader(
        label, type=types, key=STATE.key(widget), on_change=keep, args=(STATE, widget, name, 1),
        help=help_text,
    )  # fmt: skip
    files = kept(STATE, name)
    return files[0] if files else None


def _for_upload(chosen: DecodedImage) -> Target:
    w, h = chosen.original_size
    fmt = BoxFormat(
        st.selectbox(
            _("Box format"),
            FORMATS,
            help=_(
                "XYXY: corners; XYWH: top-left, width, height; CXCYWH: centre, width, "
                "height (pixels). Declaring the wrong one is a silent bug: the Boxes truths "
                "tab shows it."
            ),
            **STATE.widget("box_format", default=FORMATS[0], url=link_choice(FORMATS)),
        )
    )
    rows = _rows_editor(fmt)
    file = _uploaded(
        "ann_upload",
        ANNOTATION_FILE,
        ["json", "xml", "txt"],
        _("…or an annotation file (COCO JSON, VOC XML, YOLO txt)"),
        _("Read on this server with size caps (XML without entities); used instead of the table."),
    )
    mask = _uploaded(
        "mask_upload",
        MASK_FILE,
        ["png"],
        _("Instance mask (PNG, optional)"),
        _("The photo's size: pixel value i marks box i (a palette PNG), or 0/255 for one box."),
    )
    try:
        if file is not None:
            ann = ann_io.read_sandboxed(file.name, file.data, (h, w), chosen.name)
        elif ann_io.any_filled(rows):
            ann = ann_io.from_rows(rows, (h, w), fmt)
        else:
            st.caption(_("No boxes for this photo yet: add rows above, or upload a file."))
            return Target(None, None)
        if mask is not None:
            ann = ann_io.with_mask_sandboxed(ann, mask.data)
    except LessonError as err:
        show_error(escaped_error(err, file.name if file is not None else "the table"))
        return Target(None, None)
    st.caption(_("{summary} on this {w}×{h} photo.").format(summary=_summary(ann), w=w, h=h))
    return Target(ann, mask.name if mask is not None and ann.mask_png is not None else None)


def target_block(chosen: DecodedImage | None, *, sample: bool, editor: DeltaGenerator) -> Target:
    """The toggle and the photo's target (scaled to the previewed copy); an upload's boxes
    are entered in ``editor`` (above the tabs: the table needs the page's width)."""
    on = st.toggle(
        _("Boxes, masks & keypoints"),
        True,
        help=_(
            "Transform the photo's boxes, labels, masks and keypoints with it, as a "
            "detection dataset gives them (image, target). Off: the image alone."
        ),
        **STATE.widget("boxes"),
    )
    if not on or chosen is None:
        return Target(None, None)
    if sample:
        ann = ann_io.samples().get(chosen.name)
        if ann is None:
            return Target(None, None)
        st.caption(_("Hand-annotated: {summary}.").format(summary=_summary(ann)))
        mask = ann_io.sample_mask_path(chosen.name)
        found = Target(ann, None if mask is None else str(mask))
    else:
        with editor, st.expander(_("📦 Boxes, masks and keypoints for your photo"), expanded=True):
            found = _for_upload(chosen)
        ann = found.annotations
        st.caption(
            _("Your photo: {summary} (edit them above the tabs).").format(summary=_summary(ann))
            if ann is not None
            else _("Your photo has no boxes yet: add them above the tabs.")
        )
    if found.annotations is None:
        return found
    w, h = chosen.size
    full = found.annotations
    return Target(full.scaled(h, w), found.mask_path, full)
