"""Deep links: a teacher's address (``?view.method=reshape&…``) opens the same demo in a
new session; choices write themselves back into the address with stable values; a value
a page cannot take falls back to the default and the page says so, inertly."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from ptexplore.pages import AUGMENT, MODELS, TENSORS, VIEW
from ptexplore.ui.state import link_bool, link_choice, link_int, link_text, slug
from tests.conftest import APPTEST_TIMEOUT, ROOT


def open_link(page_file: str, params: dict[str, str]) -> AppTest:
    """A new session that arrives at ``page_file`` with ``params`` in its address."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APPTEST_TIMEOUT)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    at.switch_page(page_file)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def link_notes(at: AppTest) -> list[str]:
    return [i.value for i in at.info if "This link asked for" in i.value]


def test_view_link_opens_the_same_demo_and_stays_in_the_address() -> None:
    at = open_link(
        VIEW.file,
        {"view.source_shape": "2, 12", "view.op": "transpose", "view.method": "reshape",
         "view.shape": "3, 8"},
    )  # fmt: skip
    assert at.selectbox(key="view.op").value == "transpose"
    assert at.selectbox(key="view.method").value == "reshape"
    assert at.text_input(key="view.shape").value == "3, 8"
    assert at.text_input(key="view.source_shape").value == "2, 12"
    # the page computed that demo: the code panel is the transposed reshape
    code = "\n".join(c.value for c in at.code)
    assert "x = base.view(2, 12).transpose(-2, -1)" in code, code
    assert "y = x.reshape(3, 8)" in code
    assert link_notes(at) == []
    assert dict(at.query_params) == {
        "view.source_shape": "2, 12",
        "view.op": "transpose",
        "view.method": "reshape",
        "view.shape": "3, 8",
    }


def test_a_changed_choice_is_written_back_and_a_default_leaves_the_address() -> None:
    at = open_link(VIEW.file, {})
    assert dict(at.query_params) == {}  # defaults keep the address clean
    at.selectbox(key="view.method").set_value("reshape").run()
    assert dict(at.query_params) == {"view.method": "reshape"}  # the stable value, no label
    at.selectbox(key="view.method").set_value("view").run()
    assert dict(at.query_params) == {}


def test_a_value_the_page_cannot_take_falls_back_and_is_named_inertly() -> None:
    at = open_link(
        VIEW.file, {"view.method": "[x](https://evil.example) <b>", "view.op": "transpose"}
    )
    assert at.selectbox(key="view.method").value == "view"  # the default
    assert at.selectbox(key="view.op").value == "transpose"  # the good value is kept
    (note,) = link_notes(at)
    # a code span, and the link syntax broken by a word joiner: nothing clickable
    assert "`view.method` = `[x]\u2060(https://evil.example) <b>`" in note, note
    assert "the default is shown instead" in note
    assert "view.method" not in at.query_params  # the bad value leaves the address


def test_out_of_range_numbers_and_long_text_are_refused() -> None:
    at = open_link(
        VIEW.file, {"view.op": "step-slice", "view.step": "999", "view.source_shape": "1," * 150}
    )
    assert at.number_input(key="view.step").value == 2
    assert at.text_input(key="view.source_shape").value == "2, 3, 4"
    note = link_notes(at)[0]
    assert "view.step" in note and "view.source_shape" in note


def test_the_open_tab_is_linked_by_a_stable_slug() -> None:
    at = open_link(TENSORS.file, {"tensors.tab": "item"})
    assert at.session_state["tensors.tab"] == "🔢 .item()"
    assert at.selectbox(key="tensors.item_shape") is not None  # that tab ran
    assert at.query_params["tensors.tab"] == ["item"] or at.query_params["tensors.tab"] == "item"


def test_model_links_choose_the_model_and_its_classes_and_the_seed() -> None:
    at = open_link(
        MODELS.file,
        {"models.model": "resnet18", "models.num_classes": "10", "shared.seed": "7"},
    )
    assert at.selectbox(key="models.model").value == "resnet18"
    assert at.number_input(key="models.num_classes").value == 10
    assert at.number_input(key="shared.seed").value == 7
    assert link_notes(at) == []


def test_another_pages_values_do_not_linger_in_the_address() -> None:
    at = open_link(VIEW.file, {"view.method": "reshape"})
    at.switch_page(MODELS.file).run()
    assert "view.method" not in at.query_params
    at.switch_page(VIEW.file).run()
    # the learner's own choice survived the page switch and is back in the address
    assert at.selectbox(key="view.method").value == "reshape"
    assert dict(at.query_params) == {"view.method": "reshape"}


def test_presenter_mode_can_be_linked() -> None:
    # the very first run of a linked session (the toggle is drawn after the page's style)
    first = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APPTEST_TIMEOUT)
    first.query_params["shared.presenter"] = "true"
    first.run()
    styles = [h.proto.body for h in first.get("html") if "<style>" in h.proto.body]
    assert "html { font-size: 125%; }" in styles[0]
    at = open_link(VIEW.file, {"shared.presenter": "true"})
    assert at.toggle(key="shared.presenter").value is True
    # and it stays in the address to be shared on (the page's link run, begun after the
    # toggle was linked, dropped it on every rerun)
    at.run()
    assert at.query_params.get("shared.presenter") == "True"
    styles = [h.proto.body for h in at.get("html") if "<style>" in h.proto.body]
    assert "html { font-size: 125%; }" in styles[0]


def test_parsers() -> None:
    assert link_int(0, 9)(" 7 ") == 7
    for bad in ("10", "-1", "x", "1.5", ""):
        try:
            link_int(0, 9)(bad)
        except ValueError:
            continue
        raise AssertionError(bad)
    assert link_bool("TRUE") is True and link_bool("0") is False
    assert link_choice(["a", "b"])("b") == "b"
    assert link_text("3, 4") == "3, 4"
    assert slug("📐 Shapes & MACs") == "shapes-macs"
    assert slug("🔢 .item()") == "item"
    assert slug("🔥") == "tab"


def _enabled_steps(at: AppTest) -> list[str]:
    return [c.label for c in at.checkbox if c.key and c.key.endswith(".enabled")]


def test_augmentation_links_carry_the_preset_sample_samples_seed_and_tab() -> None:
    at = open_link(
        AUGMENT.file,
        {"augment.preset": "val", "augment.sample": "coffee.jpg", "augment.n": "4",
         "shared.seed": "9", "augment.tab": "step-by-step"},
    )  # fmt: skip
    assert _enabled_steps(at)[:2] == ["**1. Resize**", "**2. CenterCrop**"]
    assert at.selectbox(key="augment.sample").value == "coffee.jpg"
    assert at.slider(key="augment.n").value == 4
    assert at.number_input(key="shared.seed").value == 9
    assert at.session_state["augment.tab"].endswith("Step by step")
    assert link_notes(at) == []
    assert dict(at.query_params) == {
        "augment.preset": "val",
        "augment.sample": "coffee.jpg",
        "augment.n": "4",
        "shared.seed": "9",
        "augment.tab": "step-by-step",
    }
    # the learner edits a step: the pipeline is custom, and the address says so
    at.segmented_control(key="augment.preset").set_value("train").run()
    assert "augment.preset" not in at.query_params  # train is the default


def test_an_augmentation_link_from_before_the_tabs_were_sections_opens_its_tab() -> None:
    at = open_link(AUGMENT.file, {"augment.view": "truths"})
    assert at.session_state["augment.tab"].endswith("Truths")
    assert link_notes(at) == []
    assert dict(at.query_params) == {"augment.tab": "truths"}


def test_a_custom_pipelines_link_opens_train_and_says_how_to_share_one() -> None:
    at = open_link(AUGMENT.file, {"augment.preset": "custom"})
    assert _enabled_steps(at)[0] == "**1. RandomResizedCrop**"
    assert any("export its JSON" in i.value for i in at.info)
