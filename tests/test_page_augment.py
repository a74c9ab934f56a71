"""Augmentation lab in AppTest: uploads, presets, the editor, and bad uploads."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.conftest import open_page

PAGE = "pages/4_Augmentation_Lab.py"


def _png(w: int = 400, h: int = 300) -> bytes:
    rng = np.random.default_rng(1)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _grid_captions(at: AppTest) -> list[str]:
    return [c for img in at.get("image") for c in img.captions if c.startswith("#")]


def _metric(at: AppTest, label: str) -> str:
    return next(str(m.value) for m in at.metric if m.label == label)


def test_upload_gives_a_grid_of_n_and_val_preset_gives_224() -> None:
    at = open_page(PAGE)
    assert not at.exception
    assert len(_grid_captions(at)) == 16  # a sample photo, before any upload
    at.file_uploader(key="augment.upload").set_value(("generated.png", _png(), "image/png"))
    at.slider(key="augment.n").set_value(6)
    at.run()
    assert not at.exception and not at.error
    assert any("generated.png** · PNG · mode RGB · 400×300" in m.value for m in at.markdown)
    captions = _grid_captions(at)
    assert len(captions) == 6 and all("crop" in c for c in captions)
    assert _metric(at, "Output") == "3×224×224 float32"

    at.segmented_control(key="augment.preset").set_value("val")
    at.run()
    assert not at.exception
    assert _metric(at, "Output") == "3×224×224 float32"
    assert [c.label for c in at.checkbox if c.key and c.key.endswith(".enabled")][:2] == [
        "**1. Resize**",
        "**2. CenterCrop**",
    ]
    assert all(c.endswith("no random step") for c in _grid_captions(at))

    # same seed, same grid; re-roll changes the seed and the draws
    at.segmented_control(key="augment.preset").set_value("train")
    at.run()
    before = _grid_captions(at)
    at.run()
    assert _grid_captions(at) == before
    at.button(key="augment.reroll").click()
    at.run()
    assert _metric(at, "Seed") == "1" and _grid_captions(at) != before


def test_corrupt_upload_shows_one_error_and_the_page_keeps_working() -> None:
    at = open_page(PAGE)
    png = _png()
    at.file_uploader(key="augment.upload").set_value(
        ("broken.png", png[: len(png) // 2], "image/png")
    )
    at.run()
    assert not at.exception
    assert len(at.error) == 1
    assert "truncated or corrupt" in at.error[0].value
    assert len(_grid_captions(at)) == 16  # falls back to the sample photo
    at.file_uploader(key="augment.upload").set_value(
        ("notes.png", b"not an image at all", "image/png")
    )
    at.run()
    assert not at.exception and "not an image in a supported format" in at.error[0].value


def test_editor_adds_edits_and_validates_steps() -> None:
    at = open_page(PAGE)
    at.selectbox(key="augment.add").set_value("RandomRotation")
    at.run()
    assert not at.exception
    assert at.segmented_control(key="augment.preset").value == "custom"
    labels = [c.label for c in at.checkbox if c.key and c.key.endswith(".enabled")]
    assert labels[-1] == "**6. RandomRotation**"
    assert all("angle" in c for c in _grid_captions(at))
    at.text_input(key="augment.step.0.size").set_value("0")
    at.run()
    assert not at.exception
    assert any("below the smallest allowed value 1" in e.value for e in at.error)
    at.text_input(key="augment.step.0.size").set_value("96, 128")
    at.run()
    assert not at.error and _metric(at, "Output") == "3×96×128 float32"
    at.checkbox(key="augment.step.4.enabled").set_value(False)  # disable Normalize
    at.run()
    assert not at.exception and _metric(at, "Output") == "3×96×128 float32"
    at.button(key="augment.step.5.remove").click()
    at.run()
    at.button(key="augment.step.0.down").click()
    at.run()
    labels = [c.label for c in at.checkbox if c.key and c.key.endswith(".enabled")]
    assert labels == [
        "**1. RandomHorizontalFlip**",
        "**2. RandomResizedCrop**",
        "**3. ToImage**",
        "**4. ToDtype**",
        "**5. Normalize**",
    ]
    code = at.get("code")
    assert any("v2.RandomResizedCrop(size=(96, 128))" in c.value for c in code)
