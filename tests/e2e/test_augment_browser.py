"""Augmentation lab in real Chromium: upload a generated photo, see the seeded grid."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import wait_for_app


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
