"""📦 Export: the pipeline as runnable Python and as JSON (downloads and code), and
importing a pipeline back from JSON (pasted or uploaded) into the editor."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ptexplore.augment import annotations as ann_io
from ptexplore.augment.export import to_json
from ptexplore.augment.texts import export_intro
from ptexplore.errors import LessonError
from ptexplore.i18n import N_, _
from ptexplore.live import Snippet
from ptexplore.ui.augment.grid import snippet
from ptexplore.ui.augment.pipeline import IMPORT_RESULT_KEY, STATE, on_import
from ptexplore.ui.augment.preview import Preview, heavy_grid, image_of, no_image
from ptexplore.ui.lab import Section
from ptexplore.ui.render import show_error

LABEL = N_("📦 Export")
#: the same in every language: file names, and what an exported JSON starts with
PY_BUTTON, JSON_BUTTON, COCO_BUTTON = "⬇️ pipeline.py", "⬇️ pipeline.json", "⬇️ annotations.json"
JSON_HINT = '{"format": "ptexplore.augment.pipeline", "steps": [...]}'
JSON = "JSON"


@dataclass(frozen=True, slots=True)
class Exported:
    """The script (with what it prints) and the JSON."""

    snippet: Snippet
    json: str
    #: the photo's annotations as COCO JSON (what the Boxes upload reads back), if any
    coco: str | None = None


def _export(preview: Preview) -> Exported:
    full, image = preview.full_target, image_of(preview)
    coco = None if full is None else ann_io.to_coco(full, image.name)
    return Exported(snippet(preview), to_json(preview.pipeline), coco)


def _import_box() -> None:
    st.markdown(_("##### Import a pipeline"))
    st.text_area(
        _("Paste exported JSON"), key=STATE.key("import_text"), height=120,
        placeholder=JSON_HINT,
    )  # fmt: skip
    st.file_uploader(_("…or upload a .json"), type=["json"], key=STATE.key("import"))
    st.button(_("Import"), key=STATE.key("import_apply"), on_click=on_import)
    result = st.session_state.pop(IMPORT_RESULT_KEY, None)
    if isinstance(result, LessonError):
        show_error(result)
    elif result == "ok":
        st.success(_("Pipeline imported: it is now in the editor on the left."), icon="✅")


def _render(preview: Preview, exported: Exported, _views: None) -> None:
    """Downloads (Python and JSON), the code, and importing a pipeline from JSON."""
    st.markdown(export_intro(downscaled=image_of(preview).downscaled))
    code = exported.snippet.code
    d1, d2, d3 = st.columns(3)
    d1.download_button(
        PY_BUTTON, code, file_name="augment_pipeline.py", mime="text/x-python",
        key=STATE.key("download_py"),
    )  # fmt: skip
    d2.download_button(
        JSON_BUTTON, exported.json, file_name="augment_pipeline.json",
        mime="application/json", key=STATE.key("download_json"),
    )  # fmt: skip
    if exported.coco is not None:
        d3.download_button(
            COCO_BUTTON, exported.coco, file_name="annotations.coco.json",
            mime="application/json", key=STATE.key("download_coco"),
            help=_(
                "The photo's boxes, labels, keypoints and mask as COCO JSON (the mask as a "
                "PNG under “ptexplore_mask_png”): upload it with the photo to get them back."
            ),
        )  # fmt: skip
    st.code(code, language="python")
    with st.expander(JSON, expanded=False):
        st.code(exported.json, language="json")
    _import_box()


EXPORT: Section[Preview, Exported] = Section(
    "export",
    lambda preview: preview,
    _export,
    _render,
    lambda _p, exported: exported.snippet,
    label=LABEL,
    ready=no_image,
    heavy=heavy_grid,
)
