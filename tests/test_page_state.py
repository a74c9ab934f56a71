"""A learner's state survives page switches: choices, open tabs, the Tensor lab's history,
an uploaded checkpoint. Every page: set things, go Home and to another page, come back."""

from __future__ import annotations

import io

import torch
from streamlit.testing.v1 import AppTest

from ptexplore.ui.tensors import LAB_KEY
from tests.conftest import open_page, open_tab

TENSORS = "pages/1_Tensor_Lab.py"
VIEW = "pages/2_View_Reshape_Lab.py"
MODELS = "pages/3_Model_Explorer.py"
AUGMENT = "pages/4_Augmentation_Lab.py"


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def away_and_back(at: AppTest, page: str, other: str) -> AppTest:
    ok(at.switch_page("app.py").run())
    ok(at.switch_page(other).run())
    return ok(at.switch_page(page).run())


def test_tensor_lab_keeps_choices_and_history() -> None:
    at = open_page(TENSORS)
    at.text_input(key="tensors.shape").set_value("2, 3").run()
    at.selectbox(key="tensors.dtype").set_value("float32").run()
    at.radio(key="tensors.bridge").set_value("torch.as_tensor(a)").run()
    at.radio(key="tensors.action").set_value("t.add_(1)")
    at.button(key="tensors.apply").click().run()
    at.radio(key="tensors.action").set_value("a += 1")
    at.button(key="tensors.apply").click().run()
    lab = ok(at).session_state[LAB_KEY]
    history = [r.code for r in lab.history]
    assert history == ["t.add_(1)", "a += 1"]
    at = away_and_back(at, TENSORS, VIEW)
    assert at.text_input(key="tensors.shape").value == "2, 3"
    assert str(at.selectbox(key="tensors.dtype").value) == "float32"
    assert str(at.radio(key="tensors.bridge").value) == "torch.as_tensor(a)"
    assert str(at.radio(key="tensors.action").value) == "a += 1"
    assert at.session_state[LAB_KEY] is lab  # the very same live arrays
    assert [r.code for r in at.session_state[LAB_KEY].history] == history
    assert at.dataframe[1].value.to_numpy()[0, 0] == 2.0  # a after t.add_(1), a += 1
    # the open tab comes back too
    open_tab(at, "tensors", "🔢 .item()")
    at.selectbox(key="tensors.item_shape").set_value("(3,)").run()
    at = away_and_back(at, TENSORS, MODELS)
    assert str(at.selectbox(key="tensors.item_shape").value) == "(3,)"


def test_view_lab_keeps_every_input_and_the_writes() -> None:
    at = open_page(VIEW)
    at.text_input(key="view.source_shape").set_value("3, 2").run()
    at.selectbox(key="view.method").set_value("reshape").run()
    at.text_input(key="view.shape").set_value("2, -1").run()
    at.number_input(key="view.write_at").set_value(4).run()
    at.number_input(key="view.write_value").set_value(77).run()
    at.button(key="view.write").click().run()
    assert any("y[1, 1] = 77" in c.value for c in ok(at).code)
    at = away_and_back(at, VIEW, AUGMENT)
    assert at.text_input(key="view.source_shape").value == "3, 2"
    assert str(at.selectbox(key="view.method").value) == "reshape"
    assert at.text_input(key="view.shape").value == "2, -1"
    assert at.number_input(key="view.write_value").value == 77
    assert any("y[1, 1] = 77" in c.value for c in at.code)  # the write is still applied


def test_model_explorer_keeps_model_filter_input_size_and_upload() -> None:
    at = open_page(MODELS)
    at.selectbox(key="models.model").set_value("resnet18").run()
    at.number_input(key="models.num_classes").set_value(10).run()
    at.multiselect(key="models.freeze").set_value(["layer1"]).run()
    at.text_input(key="models.filter").set_value("conv").run()
    open_tab(at, "models", "📐 Shapes & MACs")
    at.number_input(key="models.side").set_value(160).run()
    open_tab(at, "models", "🔢 Parameters")
    at.radio(key="models.weights").set_value("uploaded file").run()
    state = {"fc.weight": torch.full((10, 512), 0.5), "fc.bias": torch.zeros(10)}
    buf = io.BytesIO()
    torch.save(state, buf)
    at.file_uploader(key="models.weights_file").set_value(
        ("head.pth", buf.getvalue(), "application/octet-stream")
    ).run()
    at.selectbox(key="models.param").set_value("fc.weight").run()
    assert next(m.value for m in ok(at).metric if m.label == "mean") == "0.5"
    at = away_and_back(at, MODELS, TENSORS)
    assert at.selectbox(key="models.model").value == "resnet18"
    assert at.number_input(key="models.num_classes").value == 10
    assert at.multiselect(key="models.freeze").value == ["layer1"]
    # the Parameters tab reopened, with the upload still in use
    assert at.selectbox(key="models.param").value == "fc.weight"
    assert next(m.value for m in at.metric if m.label == "mean") == "0.5"
    open_tab(at, "models", "🌳 Module tree")
    assert at.text_input(key="models.filter").value == "conv"
    open_tab(at, "models", "📐 Shapes & MACs")
    assert at.number_input(key="models.side").value == 160


def test_augmentation_lab_keeps_pipeline_settings_and_seed() -> None:
    at = open_page(AUGMENT)
    at.segmented_control(key="augment.preset").set_value("val").run()
    at.slider(key="augment.n").set_value(6).run()
    at.selectbox(key="augment.sample").set_value("coffee.jpg").run()
    at.button(key="augment.reroll").click().run()
    open_tab(at, "augment", "🔎 Truths")
    at = away_and_back(at, AUGMENT, VIEW)
    assert at.segmented_control(key="augment.preset").value == "val"
    assert at.slider(key="augment.n").value == 6
    assert at.selectbox(key="augment.sample").value == "coffee.jpg"
    assert any(m.label.startswith("Resize(256) on this image") for m in at.metric)  # Truths
    assert at.number_input(key="shared.seed").value == 1


def test_the_seed_is_one_value_for_every_page() -> None:
    at = open_page(AUGMENT)
    at.number_input(key="shared.seed").set_value(5).run()
    ok(at.switch_page("app.py").run())
    ok(at.switch_page(MODELS).run())
    assert at.number_input(key="shared.seed").value == 5
    assert "after `torch.manual_seed(5)`" in " ".join(
        c.value for c in open_tab(at, "models", "🔢 Parameters").caption
    )
    ok(at.switch_page(AUGMENT).run())
    assert next(m.value for m in at.metric if m.label == "Seed") == "5"
