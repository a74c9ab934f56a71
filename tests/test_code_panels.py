"""The code-panel contract: every page's code panel, run in a fresh interpreter (from
another working directory), prints exactly what the page shows under it.

For each page: the default state and at least one changed state. The page's panel is the
"🐍 Reproduce this in Python" expander: its Python block is the code, its text block the
output the page claims.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import open_page, open_tab
from tests.fresh import fresh

TENSORS = "pages/1_Tensor_Lab.py"
VIEW = "pages/2_View_Reshape_Lab.py"
MODELS = "pages/3_Model_Explorer.py"
AUGMENT = "pages/4_Augmentation_Lab.py"


def panel(at: AppTest) -> tuple[str, str]:
    """(code, output) of the page's code panel."""
    assert not at.exception, [e.value for e in at.exception]
    boxes = [e for e in at.expander if "Reproduce this in Python" in e.label]
    assert len(boxes) == 1, [e.label for e in at.expander]
    blocks = list(boxes[0].code)
    code = next(b.value for b in blocks if b.language == "python")
    output = next((b.value for b in blocks if b.language == "text"), "")
    return code, output


def _tensors_changed(at: AppTest) -> AppTest:
    at.radio(key="tensors.bridge").set_value("torch.tensor(a)").run()
    at.radio(key="tensors.action").set_value("a += 1")
    at.button(key="tensors.apply").click().run()
    at.radio(key="tensors.action").set_value("t[0] = v")
    at.button(key="tensors.apply").click().run()
    return at


def _tensors_errors(at: AppTest) -> AppTest:
    open_tab(at, "tensors", "🚫 Errors as lessons")
    at.selectbox(key="tensors.error_case").set_value(
        "torch.from_numpy(a[::-1]) (negative strides)"
    ).run()
    return at


def _tensors_item(at: AppTest) -> AppTest:
    open_tab(at, "tensors", "🔢 .item()")
    at.selectbox(key="tensors.item_shape").set_value("(2, 2)").run()
    return at


def _view_write(at: AppTest) -> AppTest:
    at.text_input(key="view.source_shape").set_value("3, 2").run()
    at.text_input(key="view.shape").set_value("2, -1").run()
    at.number_input(key="view.write_at").set_value(4).run()
    at.button(key="view.write").click().run()
    return at


def _view_refused(at: AppTest) -> AppTest:
    at.selectbox(key="view.op").set_value("transpose").run()
    at.text_input(key="view.shape").set_value("24").run()
    return at


def _models_code(at: AppTest) -> AppTest:
    return open_tab(at, "models", "🐍 Code")


def _models_resnet(at: AppTest) -> AppTest:
    at.selectbox(key="models.model").set_value("resnet18").run()
    at.multiselect(key="models.freeze").set_value(["conv1", "layer1"]).run()
    at.text_input(key="models.filter").set_value("downsample").run()
    return _models_code(at)


def _augment_val(at: AppTest) -> AppTest:
    at.segmented_control(key="augment.preset").set_value("val").run()
    at.slider(key="augment.n").set_value(4).run()
    at.button(key="augment.reroll").click().run()
    return at


def _models_vit(at: AppTest) -> AppTest:
    # attention: the script must count the matmuls the page counts (on meta, not CPU)
    at.selectbox(key="models.model").set_value("vit_b_16").run()
    return _models_code(at)


CASES: dict[str, tuple[str, Callable[[AppTest], AppTest]]] = {
    "tensors-default": (TENSORS, lambda at: at),
    "tensors-changed": (TENSORS, _tensors_changed),
    "tensors-errors": (TENSORS, _tensors_errors),
    "tensors-item": (TENSORS, _tensors_item),
    "view-default": (VIEW, lambda at: at),
    "view-write": (VIEW, _view_write),
    "view-refused": (VIEW, _view_refused),
    "models-default": (MODELS, _models_code),
    "models-resnet18": (MODELS, _models_resnet),
    "models-vit_b_16": (MODELS, _models_vit),
    "augment-default": (AUGMENT, lambda at: at),
    "augment-val": (AUGMENT, _augment_val),
}


@pytest.mark.parametrize("case", list(CASES))
def test_code_panel_prints_what_the_page_shows(case: str, tmp_path: Path) -> None:
    page, act = CASES[case]
    code, shown = panel(act(open_page(page)))
    assert shown.strip(), "the page must show what its code prints"
    assert "type: ignore" not in code  # a learner's code, not a type checker's
    assert fresh(code, tmp_path).rstrip("\n") == shown.rstrip("\n")


def _hostile_but_loadable(tmp_path: Path, fmt: str) -> tuple[str, bytes]:
    """A Lightning-style checkpoint of the example model: ``model.`` on every key, a
    non-tensor entry, a complex tensor for one weight (refused), an int bias (cast)."""
    import io

    import torch

    from ptexplore.models import catalog

    sd = {
        f"model.{k}": v for k, v in catalog.build_real("example:Model", seed=3).state_dict().items()
    }
    sd["model.conv2.weight"] = sd["model.conv2.weight"].to(torch.complex64)
    sd["model.conv1.bias"] = torch.arange(sd["model.conv1.bias"].numel())
    if fmt == "safetensors":
        from safetensors.torch import save

        del sd["model.conv2.weight"]  # safetensors has complex, but keep this file plain
        return "weights.safetensors", save(sd)
    buf = io.BytesIO()
    torch.save({"state_dict": {**sd, "model.version": 2}, "epoch": 3}, buf)
    return "weights.pth", buf.getvalue()


@pytest.mark.parametrize("fmt", ["torch", "safetensors"])
def test_the_models_code_panel_loads_an_uploaded_checkpoint_as_the_page_did(
    fmt: str, tmp_path: Path
) -> None:
    name, data = _hostile_but_loadable(tmp_path, fmt)
    (tmp_path / name).write_bytes(data)
    from ptexplore.ui.models import PARAMETERS

    at = open_tab(open_page(MODELS), "models", PARAMETERS)
    at.radio(key="models.weights").set_value("uploaded file").run()
    at.file_uploader(key="models.weights_file").set_value(
        (name, data, "application/octet-stream")
    ).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    notes = "\n".join(str(c.value) for c in at.caption)
    assert "every key started with `model.` (a PyTorch Lightning module): stripped" in notes
    assert "cast from int64 to float32" in notes and "`conv1.bias`" in notes
    if fmt == "torch":
        assert "`conv2.weight` is complex64" in notes
    code, shown = panel(_models_code(at))
    assert ("load_file(" in code) == (fmt == "safetensors")
    assert fresh(code, tmp_path).rstrip("\n") == shown.rstrip("\n")
