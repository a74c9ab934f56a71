"""AppTest: the Autograd lab — toggling detach changes the drawn graph and the grads;
freezing shows the counts; BatchNorm's statistics; and the code-panel contract (each panel,
run in a fresh interpreter from another folder, prints what the page shows)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ptexplore.ui.autograd import FREEZE_TAB, GRAPH_TAB, NORM_TAB, TRUTHS_TAB
from tests.conftest import open_page, open_tab
from tests.fresh import fresh
from tests.test_code_panels import panel

PAGE = "pages/5_Autograd_Lab.py"


def _dot(at: AppTest) -> str:
    (chart,) = at.get("graphviz_chart")
    spec: str = chart.proto.spec
    return spec


def _grads(at: AppTest) -> dict[str, str]:
    frame = next(d.value for d in at.dataframe if ".grad (autograd)" in d.value.columns)
    return dict(zip(frame["leaf"], frame[".grad (autograd)"], strict=True))


def _metric(at: AppTest, label: str) -> str:
    return next(str(m.value) for m in at.metric if m.label == label)


@pytest.fixture(scope="module")
def at() -> AppTest:
    return open_page(PAGE)


def test_toggling_detach_changes_the_graph_and_the_grads(at: AppTest) -> None:
    at.selectbox(key="autograd.cut").set_value("none").run()
    assert not at.exception and not at.error
    full = _dot(at)
    assert "AccumulateGrad\\n→ w.grad" in full and "AccumulateGrad\\n→ b.grad" in full
    assert "MulBackward0" in full and "w_d" not in full
    assert _grads(at) == {"x": "None", "w": "[1, -2, 0]", "b": "[1, 1, 0]"}
    assert all(
        v == "✅" for d in at.dataframe if "equal" in d.value.columns for v in d.value["equal"]
    )
    assert "reached `w`, `b`" in at.success[0].value

    at.selectbox(key="autograd.cut").set_value("w.detach()").run()
    cut = _dot(at)
    assert cut != full
    assert "→ w.grad" not in cut and "→ b.grad" in cut  # the path to w is gone
    assert "w_d" in cut and "✂ detach()" in cut  # the detached tensor and the drawn cut
    assert _grads(at) == {"x": "None", "w": "None", "b": "[1, 1, 0]"}

    at.toggle(key="autograd.x_grad").set_value(True).run()
    assert _grads(at) == {"x": "[0.5, -1, 0]", "w": "None", "b": "[1, 1, 0]"}
    assert "→ x.grad" in _dot(at)
    at.toggle(key="autograd.x_grad").set_value(False).run()


def test_cutting_everything_shows_torchs_refusal(at: AppTest) -> None:
    at.selectbox(key="autograd.cut").set_value("y.detach()").run()
    assert not at.exception
    (error,) = at.error
    assert "element 0 of tensors does not require grad" in error.value
    assert "**Fix:**" in error.value
    assert _grads(at) == {"x": "None", "w": "None", "b": "None"}
    assert "SumBackward0" not in _dot(at)
    at.selectbox(key="autograd.cut").set_value("none").run()


def test_a_rerun_with_nothing_changed_computes_nothing(at: AppTest) -> None:
    at.selectbox(key="autograd.cut").set_value("none").run()
    kept = at.session_state["autograd._graph"]
    started = time.perf_counter()
    at.run()
    assert time.perf_counter() - started < 2.0
    assert at.session_state["autograd._graph"] is kept  # the memo: no recompute


def test_truths_tab_shows_the_version_error_and_every_check(at: AppTest) -> None:
    open_tab(at, "autograd", TRUTHS_TAB)
    assert not at.exception
    marks = [m.value for m in at.markdown if m.value.startswith(("✅", "❌"))]
    assert len(marks) == 4 and all(m.startswith("✅") for m in marks)
    assert "modified by an inplace operation" in at.error[0].value
    at.selectbox(key="autograd.truth").set_value(".data vs .detach()").run()
    marks = [m.value for m in at.markdown if m.value.startswith(("✅", "❌"))]
    assert len(marks) == 3 and all(m.startswith("✅") for m in marks)
    open_tab(at, "autograd", GRAPH_TAB)


def test_freezing_shows_the_counts(at: AppTest) -> None:
    open_tab(at, "autograd", FREEZE_TAB)
    assert not at.exception and not at.error
    assert at.selectbox(key="autograd.model").value == "resnet18"
    assert _metric(at, "trainable parameters") == "5,130"
    assert _metric(at, "frozen parameters") == "11,176,512"
    assert _metric(at, "total") == "11,181,642"
    at.number_input(key="autograd.num_classes").set_value(1000).run()
    assert _metric(at, "trainable parameters") == "513,000"
    assert any("2 tensors, 513,000 parameters" in m.value for m in at.markdown)
    at.radio(key="autograd.mode").set_value("name pattern").run()
    at.text_input(key="autograd.pattern").set_value("layer4").run()
    assert _metric(at, "trainable parameters") == f"{11_689_512 - 8_393_728:,}"
    captions = " ".join(c.value for c in at.caption)
    assert "a random batch of 2 images of 3×64×64" in captions
    at.radio(key="autograd.mode").set_value("all but the classifier").run()
    at.number_input(key="autograd.num_classes").set_value(10).run()
    open_tab(at, "autograd", GRAPH_TAB)


def test_batchnorm_tab_shows_the_stats_change_in_train_only(at: AppTest) -> None:
    open_tab(at, "autograd", NORM_TAB)
    assert not at.exception and not at.error
    frame = next(d.value for d in at.dataframe if "num_batches_tracked" in d.value.columns)
    assert list(frame["num_batches_tracked"]) == [0, 0, 1, 2, 2, 3]
    changed = ["0 of 20", "0 of 20", "20 of 20", "20 of 20", "0 of 20", "20 of 20"]
    assert list(frame["BatchNorm layers changed"]) == changed
    trap = next(m.value for m in at.markdown if m.value.startswith("**The fine-tuning trap.**"))
    assert "changed **20 of 20** again" in trap
    ways = at.table[0].value
    assert list(ways["statistics stopped"]) == [True, True, True]
    assert list(ways.index)[-1] == "torchvision.ops.FrozenBatchNorm2d"
    open_tab(at, "autograd", GRAPH_TAB)


# ------------------------------------------------------------ the code-panel contract


def _graph_changed(at: AppTest) -> AppTest:
    at.toggle(key="autograd.x_grad").set_value(True).run()
    at.radio(key="autograd.fn").set_value("sigmoid").run()
    at.radio(key="autograd.reduce").set_value("mean").run()
    at.selectbox(key="autograd.cut").set_value("w.detach()").run()
    return at


def _graph_new_leaf(at: AppTest) -> AppTest:
    at.selectbox(key="autograd.cut").set_value("y.detach().requires_grad_()").run()
    return at


def _graph_refused(at: AppTest) -> AppTest:
    at.selectbox(key="autograd.cut").set_value("no_grad: y").run()
    return at


def _truth(name: str) -> Callable[[AppTest], AppTest]:
    def act(at: AppTest) -> AppTest:
        open_tab(at, "autograd", TRUTHS_TAB)
        at.selectbox(key="autograd.truth").set_value(name).run()
        return at

    return act


def _freeze_default(at: AppTest) -> AppTest:
    return open_tab(at, "autograd", FREEZE_TAB)


def _freeze_vgg_children(at: AppTest) -> AppTest:
    open_tab(at, "autograd", FREEZE_TAB)
    at.selectbox(key="autograd.model").set_value("example:SmallVGG").run()
    at.radio(key="autograd.mode").set_value("top-level children").run()
    at.multiselect(key="autograd.children").set_value(["vgg"]).run()
    return at


def _norm_mobilenet(at: AppTest) -> AppTest:
    open_tab(at, "autograd", NORM_TAB)
    at.selectbox(key="autograd.bn_model").set_value("mobilenet_v3_small").run()
    at.select_slider(key="autograd.bn_side").set_value(32).run()
    return at


CASES: dict[str, Callable[[AppTest], AppTest]] = {
    "graph-default": lambda at: at,
    "graph-changed": _graph_changed,
    "graph-new-leaf": _graph_new_leaf,
    "graph-refused": _graph_refused,
    "truth-version": _truth("shared memory, shared version counter"),
    "truth-new-leaf": _truth("detach().requires_grad_() is a new leaf"),
    "truth-data": _truth(".data vs .detach()"),
    "truth-modes": _truth("no_grad() vs detach() vs requires_grad_(False)"),
    "freeze-resnet18": _freeze_default,
    "freeze-smallvgg-dropout": _freeze_vgg_children,
    "norm-mobilenet-dropout": _norm_mobilenet,
}


@pytest.mark.parametrize("case", list(CASES))
def test_code_panel_prints_what_the_page_shows(case: str, tmp_path: Path) -> None:
    code, shown = panel(CASES[case](open_page(PAGE)))
    assert shown.strip(), "the page must show what its code prints"
    assert fresh(code, tmp_path).rstrip("\n") == shown.rstrip("\n")


def _printed_grads(out: str) -> dict[str, list[float] | None]:
    """``name.grad = tensor([...])`` / ``name.grad = None`` lines of the script's output."""
    found: dict[str, list[float] | None] = {}
    for m in re.finditer(r"^(\w+)\.grad = (None|tensor\(\[([^\]]*)\]\))$", out, re.MULTILINE):
        found[m[1]] = None if m[2] == "None" else [float(v) for v in m[3].split(",")]
    return found


@pytest.mark.parametrize("act", [_graph_changed, _graph_new_leaf])
def test_the_graph_panel_reproduces_the_grads_the_page_shows(
    act: Callable[[AppTest], AppTest], tmp_path: Path
) -> None:
    at = act(open_page(PAGE))
    code, _ = panel(at)
    printed = _printed_grads(fresh(code, tmp_path))
    shown = _grads(at)
    assert set(printed) == set(shown) and len(shown) >= 3
    for name, text in shown.items():
        got = printed[name]
        if text == "None":
            assert got is None, name
        else:
            assert got is not None, name
            values = [float(v) for v in text.strip("[]").split(",")]
            assert got == pytest.approx(values, abs=1e-4), name
    assert any(v != "None" for v in shown.values()) and any(v == "None" for v in shown.values())


def test_choices_and_the_open_tab_survive_a_page_switch() -> None:
    at = open_page(PAGE)
    at.toggle(key="autograd.x_grad").set_value(True).run()
    at.selectbox(key="autograd.cut").set_value("b.detach()").run()
    open_tab(at, "autograd", FREEZE_TAB)
    at.radio(key="autograd.mode").set_value("name pattern").run()
    at.text_input(key="autograd.pattern").set_value("bn").run()
    trainable = _metric(at, "trainable parameters")
    for page in ("app.py", "pages/2_View_Reshape_Lab.py", PAGE):
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
    assert at.text_input(key="autograd.pattern").value == "bn"  # the freezing tab reopened
    assert _metric(at, "trainable parameters") == trainable
    open_tab(at, "autograd", GRAPH_TAB)
    assert at.toggle(key="autograd.x_grad").value is True
    assert str(at.selectbox(key="autograd.cut").value) == "b.detach()"
    assert _grads(at)["b"] == "None"
