"""Augmentation lab in real Chromium: upload a generated photo, see the seeded grid."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import choose, wait_for_app


def _photo(path: Path) -> Path:
    yy, xx = np.mgrid[0:300, 0:400]
    rgb = np.stack([xx * 255 // 400, yy * 255 // 300, (xx + yy) % 256], axis=-1).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=90)
    path.write_bytes(buf.getvalue())
    return path


def test_upload_shows_grid(server_url: str, page: object, tmp_path: Path) -> None:
    pg = page
    pg.goto(f"{server_url}/Augmentation_Lab")  # type: ignore[attr-defined]
    wait_for_app(pg)
    pg.get_by_text("Augmentation lab").first.wait_for()  # type: ignore[attr-defined]
    upload = pg.locator("[data-testid='stFileUploaderDropzoneInput']").first  # type: ignore[attr-defined]
    upload.set_input_files(str(_photo(tmp_path / "gradient.jpg")))
    pg.get_by_text("gradient.jpg · JPEG · mode RGB · 400×300").wait_for()  # type: ignore[attr-defined]
    wait_for_app(pg)
    grid_images = pg.locator("[data-testid='stImage'] img")  # type: ignore[attr-defined]
    assert grid_images.count() == 16
    captions = pg.locator("[data-testid='stImageCaption']")  # type: ignore[attr-defined]
    assert "crop" in captions.first.inner_text()
    assert "#0" in captions.first.inner_text()
    pg.screenshot(path=str(tmp_path / "augment.png"), full_page=True)  # type: ignore[attr-defined]
    # Re-roll draws a new grid from seed 1 and says so.
    first_caption = captions.first.inner_text()
    pg.get_by_role("button", name="🎲 Re-roll").click()  # type: ignore[attr-defined]
    seed_value = pg.locator("[data-testid='stMetricValue']").first  # type: ignore[attr-defined]
    expect(seed_value).to_have_text("1")
    expect(captions.first).not_to_have_text(first_caption)
    wait_for_app(pg)
    assert captions.count() == 16
    # Step-by-step view: one image per step, then the denormalised tensor + histogram.
    pg.get_by_role("tab", name="Step by step").click()  # type: ignore[attr-defined]
    pg.get_by_text("After Normalize").wait_for()  # type: ignore[attr-defined]
    wait_for_app(pg)
    pg.get_by_text("values -").first.wait_for()  # type: ignore[attr-defined]
    pg.screenshot(path=str(tmp_path / "augment_steps.png"))  # type: ignore[attr-defined]
    print(tmp_path / "augment.png")


def _add_step(pg: Any, name: str, category: str) -> None:
    choose(pg, pg.locator(".st-key-augment-add [role='combobox']"), name, f"{name} · {category}")
    # its card is drawn: the adder is free again (the rerun has ended)
    pg.get_by_text(re.compile(rf"^\d+\. {name}$")).first.wait_for()
    wait_for_app(pg)


def _type_boxes(pg: Any, rows: list[tuple[str, ...]]) -> None:
    """Type ``rows`` (x1, y1, x2, y2, label) into the boxes table as a learner does — Add
    row, double-click a cell, type, Enter — then Use these boxes (the table is a form)."""
    table = pg.locator("[class*='st-key-augment-box_rows_XYXY']")
    for r, row in enumerate(rows):
        table.hover()
        table.get_by_role("button", name="Add row").click()
        pg.wait_for_timeout(600)  # the grid grows by the new row and settles
        grid = table.locator("canvas").first.bounding_box()
        width = grid["width"] / len(row)
        for c, value in enumerate(row):
            # the header row and each row are 35 px high in Streamlit's grid
            pg.mouse.dblclick(grid["x"] + (c + 0.5) * width, grid["y"] + 35 * (r + 1) + 17)
            editor = pg.locator("#portal input, #portal textarea").first
            editor.wait_for()
            editor.fill(value)
            pg.keyboard.press("Enter")
    pg.wait_for_timeout(500)  # the last cell's edit reaches the form before it is sent
    pg.get_by_role("button", name="Use these boxes").click()
    wait_for_app(pg)


def test_boxes_on_an_upload_through_iou_crop_and_sanitize_and_the_script(
    server_url: str, page: Any, tmp_path: Path
) -> None:
    """Two boxes typed into the table for an uploaded photo, RandomIoUCrop +
    SanitizeBoundingBoxes, the fates on the tiles and per step, then the downloaded script
    run here prints what the code panel says it prints. The boxes outlive a page switch."""
    pg = page
    pg.set_viewport_size({"width": 1280, "height": 900})
    pg.goto(f"{server_url}/Augmentation_Lab")
    wait_for_app(pg)
    photo = _photo(tmp_path / "shot.jpg")
    pg.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(str(photo))
    pg.get_by_text("No boxes for this photo yet").wait_for()
    _type_boxes(pg, [("40", "40", "160", "260", "cat"), ("240", "20", "360", "130", "cup")])
    pg.get_by_text("2 boxes (cat, cup) on this 400×300 photo").wait_for()
    # the typed boxes are kept, like the photo, across a page switch and back
    nav = pg.locator("[data-testid='stSidebar']")  # the learning path's page links
    nav.get_by_role("link", name=re.compile(r"\. Tensor lab$")).click()
    pg.wait_for_url(re.compile("Tensor_Lab"))
    wait_for_app(pg)
    nav.get_by_role("link", name=re.compile(r"\. Augmentation lab$")).click()
    pg.get_by_text("2 boxes (cat, cup) on this 400×300 photo").wait_for()
    _add_step(pg, "RandomIoUCrop", "Boxes (detection)")
    _add_step(pg, "SanitizeBoundingBoxes", "Boxes (detection)")
    captions = pg.locator("[data-testid='stImageCaption']")
    expect(captions.first).to_contain_text("2 boxes:")
    texts = captions.all_inner_texts()
    assert len(texts) == 16 and any("removed" in t for t in texts), texts[:3]
    pg.screenshot(path=str(tmp_path / "boxes_grid.png"))
    pg.get_by_role("tab", name="Step by step").click()
    pg.get_by_text("What each step did to each box").wait_for()
    pg.get_by_role("tab", name="Export").click()
    wait_for_app(pg)
    with pg.expect_download() as got:
        pg.get_by_role("button", name="⬇️ pipeline.py").click()
    script = tmp_path / "augment_pipeline.py"
    script.write_text(Path(got.value.path()).read_text())
    (tmp_path / "shot.jpg").write_bytes(photo.read_bytes())  # where the script reads it
    pg.get_by_text("Reproduce this in Python").first.click()
    shown = pg.locator("[data-testid='stExpander'] [data-testid='stCode']").last.inner_text()
    out = subprocess.run(
        [sys.executable, "-I", str(script)], cwd=tmp_path, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "boxes" in out.stdout and out.stdout.strip() == shown.strip()
