"""The Augmentation lab with boxes, masks and keypoints (AppTest): a sample photo's
hand-made annotations through the grid, the step-by-step fates and the code panel; an
upload with a YOLO file and RandomIoUCrop + Sanitize; the Boxes truths tab."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from ptexplore.augment.annotations import sample_mask_path
from ptexplore.ui.augment import box_truths, steps
from tests.conftest import open_page, open_tab
from tests.test_page_augment import PAGE, _grid_captions, _png


def _code(at: AppTest) -> tuple[str, str]:
    (box,) = [e for e in at.expander if "Reproduce this in Python" in e.label]
    code = next(b.value for b in box.code if b.language == "python")
    shown = next((b.value for b in box.code if b.language == "text"), "")
    return code, shown


def test_a_sample_photos_boxes_go_through_the_grid_the_steps_and_the_script() -> None:
    at = open_page(PAGE)
    at.selectbox(key="augment.sample").set_value("chelsea.jpg").run()
    assert not at.exception and not at.error
    assert any("Hand-annotated: 4 boxes (cat, eye, nose)" in c.value for c in at.caption)
    captions = _grid_captions(at)
    assert len(captions) == 16 and all("4 boxes:" in c for c in captions), captions[:2]
    code, shown = _code(at)
    assert "tv_tensors.BoundingBoxes(" in code and "pipeline(img, target)" in code
    assert repr(str(sample_mask_path("chelsea.jpg"))) in code
    assert " boxes " in shown and " masks " in shown  # the fingerprints of the targets
    open_tab(at, "augment", steps.LABEL)
    assert not at.exception
    tables = [d.value for d in at.dataframe if "fate" in d.value.columns]
    assert tables and set(tables[0]["label"]) <= {"cat", "eye", "nose"}
    assert set(tables[0]["fate"]) <= {"unchanged", "moved", "clipped", "degenerate"}


def test_an_upload_with_a_yolo_file_and_an_iou_crop_shows_the_fates() -> None:
    at = open_page(PAGE)
    at.file_uploader(key="augment.upload").set_value(("shot.png", _png(), "image/png"))
    at.run()
    assert any("No boxes for this photo yet" in c.value for c in at.caption)
    yolo = b"0 0.25 0.5 0.3 0.5\n1 0.75 0.3 0.2 0.3\n"
    at.file_uploader(key="augment.ann_upload").set_value(("shot.txt", yolo, "text/plain"))
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("2 boxes (class 0, class 1) on this 400×300 photo" in c.value for c in at.caption)
    at.selectbox(key="augment.add").set_value("RandomIoUCrop").run()
    at.selectbox(key="augment.add").set_value("SanitizeBoundingBoxes").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    captions = _grid_captions(at)
    assert all("2 boxes:" in c for c in captions)
    assert any("removed" in c for c in captions)  # the IoU crop cut some, Sanitize took them
    # a file that is not annotations is refused with a lesson, not a traceback
    at.file_uploader(key="augment.ann_upload").set_value(("shot.txt", b"0 nan 1 2", "text/plain"))
    at.run()
    assert not at.exception and at.error


def test_the_boxes_truths_tab_runs_each_trap_and_quotes_torchvision() -> None:
    at = open_tab(open_page(PAGE), "augment", box_truths.LABEL)
    assert not at.exception
    at.radio(key="augment.trap").set_value("labels_getter").run()
    assert not at.exception
    said = " ".join(str(e.value) for e in at.error)
    assert "When using the default labels_getter" in said  # torchvision's own words
    code, shown = _code(at)
    assert "SanitizeBoundingBoxes" in code and "ptexplore" not in code
    assert "When using the default labels_getter" in shown
