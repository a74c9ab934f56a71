"""Augmentation lab in AppTest: uploads, presets, the editor, and bad uploads."""

from __future__ import annotations

import io

import numpy as np
import pytest
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
    at.selectbox(key="augment.add_at").set_value(5).run()  # the end, after Normalize
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


def test_bad_uploads_are_named_and_the_picker_handles_odd_names() -> None:
    at = open_page(PAGE)
    at.file_uploader(key="augment.upload").set_value(
        [
            ("a.png", _png(), "image/png"),
            ("notes.png", b"just text", "image/png"),
            ("[evil](http:x).png", _png(320, 240), "image/png"),
            ("a.png", _png(200, 100), "image/png"),  # same name, different picture
        ]
    )
    at.run()
    assert not at.exception
    assert [e.value.split(":")[0] for e in at.error] == ["“notes.png”"]
    picker = at.selectbox(key="augment.image")
    assert picker.options == ["1. a.png", "2. [evil](http:x).png", "3. a.png"]
    picker.set_value(1).run()
    assert any(r"**\[evil\]\(http\:x\).png** · PNG" in m.value for m in at.markdown)
    at.selectbox(key="augment.image").set_value(2).run()
    assert any("a.png** · PNG · mode RGB · 200×100" in m.value for m in at.markdown)


def test_typed_numbers_are_checked_and_threshold_can_go_below_one() -> None:
    at = open_page(PAGE)
    for text, needle in (
        ("inf", "“inf” is not a finite number"),
        ("1e400", "is not a finite number"),
        ("22.5", "“22.5” is not a whole number"),
        ("", "This field is empty"),
    ):
        at.text_input(key="augment.step.0.size").set_value(text).run()
        assert not at.exception, text
        assert any(needle in e.value for e in at.error), (text, [e.value for e in at.error])
    at.text_input(key="augment.step.0.size").set_value("200").run()
    assert not at.error and _metric(at, "Output") == "3×200×200 float32"
    # RandomSolarize after ToDtype(scale=True) needs a threshold <= 1: a number box, not a
    # 0–255 slider in steps of 1
    at.selectbox(key="augment.add_at").set_value(5).run()  # after ToDtype: values 0–1
    at.selectbox(key="augment.add").set_value("RandomSolarize").run()
    box = at.number_input(key="augment.step.5.threshold")
    assert "torchvision has no default (required)" in str(box.help)
    assert "Allowed: 0 to 255." in str(box.help)
    box.set_value(0.5).run()
    assert not at.exception and not at.error
    assert any("v2.RandomSolarize(threshold=0.5)" in c.value for c in at.get("code"))


def test_size_keeping_pipelines_preview_a_copy_and_full_resolution_has_a_budget() -> None:
    yy, xx = np.mgrid[0:1500, 0:2000]
    rgb = np.stack([xx % 256, yy % 256, (xx + yy) % 256], -1).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=80)
    at = open_page(PAGE)
    at.file_uploader(key="augment.upload").set_value(("big.jpg", buf.getvalue(), "image/jpeg"))
    at.run()
    at.button(key="augment.step.0.remove").click().run()  # drop RandomResizedCrop
    assert not at.exception and not at.error
    assert _metric(at, "Output (of the preview copy)") == "3×512×683 float32"
    assert any("every sample would be 2000×1500" in i.value for i in at.info)
    at.toggle(key="augment.fullres").set_value(True).run()
    assert not at.exception
    assert any(
        "16 samples of 3×1500×2000 float32 would take 549 MB" in e.value for e in at.error
    ), [e.value for e in at.error]
    at.slider(key="augment.n").set_value(12).run()
    assert not at.error and _metric(at, "Output") == "3×1500×2000 float32"


def test_sidebar_grid_settings_survive_switching_pages() -> None:
    at = open_page(PAGE)
    at.slider(key="augment.n").set_value(5)
    at.select_slider(key="augment.cols").set_value(3)
    at.toggle(key="augment.fullres").set_value(True)
    at.run()
    assert not at.exception and len(_grid_captions(at)) == 5
    at.switch_page("pages/3_Model_Explorer.py").run()
    assert not at.exception
    assert at.session_state["augment.n"] == 5  # kept for the session while not rendered
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.slider(key="augment.n").value == 5
    assert at.select_slider(key="augment.cols").value == 3
    assert at.toggle(key="augment.fullres").value is True
    assert len(_grid_captions(at)) == 5
    assert not any("downscaled copy" in i.value for i in at.info)


def test_every_tab_renders_its_real_values() -> None:
    """AppTest renders only the open tab: open each one and check what it computed."""
    at = open_page(PAGE)
    at.session_state["augment.tab"] = "🪜 Step by step"
    at.run()
    assert not at.exception and not at.error
    steps = [c.value for c in at.caption if c.value.startswith(("input →", "step "))]
    assert steps[0] == "input → 3×512×512 uint8, values 0…255"
    assert steps[1].startswith("step 1: RandomResizedCrop → 3×224×224 uint8")
    assert any(s.startswith("step 4: ToDtype → 3×224×224 float32, values 0…1") for s in steps)

    at.session_state["augment.tab"] = "⚖️ Train vs val"
    at.run()
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["train output"] == metrics["val output"] == "3×224×224"
    assert "1 distinct image(s) among 4 draws." in [c.value for c in at.caption]  # val

    at.session_state["augment.tab"] = "🔎 Truths"
    at.run()
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Resize(256) on 400×300"] == "341×256"
    # the dataset-length lesson is the DataLoader lab's (run in worker processes): linked
    (link,) = [p for p in at.get("page_link") if "Epochs tab" in p.proto.label]
    assert link.proto.page == "DataLoader_Lab" and link.proto.query_string == "data.tab=epochs"

    at.session_state["augment.tab"] = "📦 Export"
    at.run()
    assert not at.exception and not at.error
    # the script, the pipeline JSON and (the sample photo is annotated) its COCO annotations
    assert [b.proto.label for b in at.get("download_button")] == [
        "⬇️ pipeline.py",
        "⬇️ pipeline.json",
        "⬇️ annotations.json",
    ]
    code = at.code[0].value
    assert "v2.Compose([" in code and "v2.RandomResizedCrop(size=224),  # 1" in code
    assert "SEED = 0" in code and "torch.manual_seed(SEED)" in code


def test_custom_on_an_unchanged_preset_snaps_back_and_says_why() -> None:
    at = open_page(PAGE)
    at.segmented_control(key="augment.preset").set_value("custom").run()
    assert not at.exception
    assert at.segmented_control(key="augment.preset").value == "train"
    assert any("still equals the train preset" in i.value for i in at.info)
    at.slider(key="augment.step.1.p").set_value(0.7)
    at.run()
    assert at.segmented_control(key="augment.preset").value == "custom"
    assert not any("still equals" in i.value for i in at.info)


def test_fill_and_erase_value_use_the_range_the_step_receives() -> None:
    at = open_page(PAGE)
    at.toggle(key="augment.boxes").set_value(False).run()  # the image's range alone
    at.selectbox(key="augment.add_at").set_value(5).run()
    at.selectbox(key="augment.add").set_value("Pad").run()  # step 6: after Normalize
    fill = at.number_input(key="augment.step.5.fill")
    assert "float32 values -2.118 to 2.64" in (fill.help or "")
    fill.set_value(255.0).run()
    assert not at.exception
    assert any("255 is outside the values this step receives" in e.value for e in at.error)
    at.number_input(key="augment.step.5.fill").set_value(-2.0).run()
    assert not at.error and _metric(at, "Output") == "3×256×256 float32"
    at.selectbox(key="augment.add_at").set_value(6).run()
    at.selectbox(key="augment.add").set_value("RandomErasing").run()
    at.text_input(key="augment.step.6.value").set_value("-1.5, 0, random").run()
    assert any("is not a comma-separated list of numbers" in e.value for e in at.error)
    at.text_input(key="augment.step.6.value").set_value("random").run()
    assert not at.exception and not at.error
    assert any("v2.RandomErasing(value='random')" in c.value for c in at.get("code"))


# --- what learners tripped over (issue 10) ---------------------------------------------


def _labels(at: AppTest) -> list[str]:
    return [c.label for c in at.checkbox if c.key and c.key.endswith(".enabled")]


def test_added_steps_go_before_the_tensor_tail_and_visibly_do_something() -> None:
    at = open_page(PAGE)
    at.selectbox(key="augment.add").set_value("ColorJitter").run()
    assert _labels(at)[2] == "**3. ColorJitter**"  # before ToImage/ToDtype/Normalize
    note = next(i.value for i in at.info if "Added ColorJitter" in i.value)
    assert "brightness=0.4" in note and "torchvision's defaults (brightness=0" in note
    assert any("bri×" in c for c in _grid_captions(at))  # it drew jitter factors
    assert not any("runs after Normalize" in w.value for w in at.warning)
    # at the end (after Normalize) it says why the grid turns grey
    at.selectbox(key="augment.add_at").set_value(6).run()
    at.selectbox(key="augment.add").set_value("ColorJitter").run()
    assert any("ColorJitter runs after Normalize" in w.value for w in at.warning)


def test_the_open_parameters_panel_follows_its_step_when_moved() -> None:
    at = open_page(PAGE)
    at.session_state["augment.open.1"] = True  # RandomHorizontalFlip's panel is open
    at.run()
    at.button(key="augment.step.1.up").click().run()
    assert _labels(at)[0] == "**1. RandomHorizontalFlip**"
    assert at.session_state["augment.open.0"] is True  # the panel moved with its step
    assert at.session_state["augment.open.1"] is False


def test_a_bad_upload_keeps_the_sample_picker_usable_and_says_what_is_shown() -> None:
    at = open_page(PAGE)
    at.file_uploader(key="augment.upload").set_value(("x.png", b"not a png", "image/png")).run()
    assert not at.selectbox(key="augment.sample").disabled
    assert any("the preview shows the sample photo" in c.value for c in at.caption)
    at.selectbox(key="augment.sample").set_value("coffee.jpg").run()
    assert any("coffee.jpg** · JPEG" in m.value for m in at.markdown)


def test_an_uploaded_photo_survives_a_page_switch() -> None:
    at = open_page(PAGE)
    at.file_uploader(key="augment.upload").set_value(("mine.png", _png(), "image/png")).run()
    assert any("mine.png** · PNG" in m.value for m in at.markdown)
    at.switch_page("pages/1_Tensor_Lab.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert any("mine.png** · PNG" in m.value for m in at.markdown)  # not a sample
    assert any("uploaded earlier in this session" in c.value for c in at.caption)
    assert at.selectbox(key="augment.sample").disabled


def test_truths_on_a_square_image_say_why_the_result_is_square() -> None:
    at = open_page(PAGE)  # the default sample is 512×512
    at.session_state["augment.tab"] = "🔎 Truths"
    at.run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Resize(256) on this image (512×512)"] == "256×256"
    assert "Not" not in metrics  # no "Not 256×256" beside a 256×256 result
    assert any("happens to give a square" in c.value for c in at.caption)


def test_an_upload_the_decoder_cannot_finish_is_a_lesson_and_the_page_keeps_working(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Decoding runs in the sandbox: a file that needs more memory than the job may use
    ends that job (the limit lowered here, so a 12 MP PNG is enough), the learner reads
    why, and the page goes on with the sample photo."""
    from ptexplore import isolate
    from ptexplore.images import decode

    monkeypatch.setattr(decode, "_DECODE_LIMITS", isolate.Limits(memory_mb=48))
    at = open_page(PAGE)
    at.file_uploader(key="augment.upload").set_value(("huge.png", _png(4000, 3000), "image/png"))
    at.run()
    assert not at.exception and len(at.error) == 1
    message = at.error[0].value
    assert "Decoding “huge.png” needed more than 48 MB of memory" in message, message
    assert "Nothing else was affected" in message and "(incident " in message
    assert len(_grid_captions(at)) == 16  # falls back to the sample photo
    monkeypatch.setattr(decode, "_DECODE_LIMITS", isolate.Limits())
    at.file_uploader(key="augment.upload").set_value(("fine.png", _png(), "image/png")).run()
    assert not at.exception and not at.error


def test_a_rerun_that_changed_nothing_makes_no_sandbox_job(monkeypatch: pytest.MonkeyPatch) -> None:
    """The grid and the upload's decoding run in the sandbox once per change: a rerun with
    nothing changed (a page switch back, a widget on another tab) asks for no job."""
    from ptexplore import isolate

    jobs: list[str] = []
    real = isolate.Job.call_with_report

    def counted(self: isolate.Job, fn: object, /, *args: object, **kwargs: object) -> object:
        jobs.append(self.what)
        return real(self, fn, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(isolate.Job, "call_with_report", counted)
    at = open_page(PAGE)
    assert jobs[-1] == "drawing the augmentation grid"  # after the sample's decoding, once
    jobs.clear()
    at.file_uploader(key="augment.upload").set_value(("no-job.png", _png(123, 97), "image/png"))
    at.run()
    assert jobs == ["decoding “no-job.png”", "drawing the augmentation grid"]
    for _ in range(3):
        at.run()
    assert len(jobs) == 2  # nothing changed: no job
    at.button(key="augment.reroll").click()
    at.run()
    assert jobs[2:] == ["drawing the augmentation grid"]  # a new seed: one grid, no decode
