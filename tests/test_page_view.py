"""AppTest: the view()/reshape lab page, driven through its widgets (no browser)."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import open_page

PAGE = "pages/2_View_Reshape_Lab.py"


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _chart(at: AppTest, key: str) -> dict[str, object]:
    for el in at.get("plotly_chart"):
        if key in el.proto.id:
            spec: dict[str, object] = json.loads(el.proto.spec)
            return spec
    raise AssertionError(f"no plotly chart with key {key}")


@pytest.fixture(scope="module")
def at() -> AppTest:
    app = open_page(PAGE)
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_3x2_to_2_minus_1(at: AppTest) -> None:
    at.text_input(key="view.source_shape").set_value("3, 2").run()
    at.selectbox(key="view.op").set_value("none").run()
    at.selectbox(key="view.method").set_value("view").run()
    at.text_input(key="view.shape").set_value("2, -1").run()
    assert not at.exception
    codes = [c.value for c in at.code]
    assert ">>> y\ntensor([[0, 1, 2],\n        [3, 4, 5]])" in codes
    m = _metrics(at)
    assert m["x.shape"] == "(3, 2)" and m["x.stride()"] == "(2, 1)"
    assert m["y.shape"] == "(2, 3)" and m["y.stride()"] == "(3, 1)"
    assert m["y.storage_offset()"] == "0" and m["y.is_contiguous()"] == "True"
    assert m["y.data_ptr()"] == m["x.data_ptr()"]
    assert "shares storage with the source: same data_ptr" in at.success[0].value
    assert "`6 / 2 = 3`" in at.info[0].value
    # the result grid is the real tensor: values as cell text, memory positions as colour
    fig = _chart(at, "result_grid")
    heat = [t for t in fig["data"] if t["type"] == "heatmap"]  # type: ignore[index]
    assert heat[0]["text"] == [["0", "1", "2"], ["3", "4", "5"]]
    assert heat[0]["z"] == [[0, 1, 2], [3, 4, 5]]
    # the code panel is the code for what is on screen
    assert any("y = x.view(2, -1)" in c and "base = torch.arange(6)" in c for c in codes)


def test_write_into_view_changes_source(at: AppTest) -> None:
    at.text_input(key="view.source_shape").set_value("3, 2").run()
    at.selectbox(key="view.op").set_value("none").run()
    at.selectbox(key="view.method").set_value("view").run()
    at.text_input(key="view.shape").set_value("2, -1").run()
    at.number_input(key="view.write_at").set_value(4).run()
    at.number_input(key="view.write_value").set_value(100).run()
    at.button(key="view.write").click().run()
    assert not at.exception
    codes = [c.value for c in at.code]
    assert ">>> y\ntensor([[  0,   1,   2],\n        [  3, 100,   5]])" in codes
    assert ">>> x\ntensor([[  0,   1],\n        [  2,   3],\n        [100,   5]])" in codes
    assert any("x changed too" in md.value and "`x[2, 0]` = 100" in md.value for md in at.markdown)
    assert any("y[1, 1] = 100  # write through y" in c for c in codes)
    storage = _chart(at, "storage")
    coloured = [t for t in storage["data"] if t["type"] == "heatmap"][-1]  # type: ignore[index]
    assert coloured["text"][0][4] == "100"
    # a fresh session never sees this learner's write
    other = open_page(PAGE)
    other.text_input(key="view.source_shape").set_value("3, 2").run()
    other.text_input(key="view.shape").set_value("2, -1").run()
    assert ">>> y\ntensor([[0, 1, 2],\n        [3, 4, 5]])" in [c.value for c in other.code]
    at.button(key="view.reset").click().run()
    assert ">>> y\ntensor([[0, 1, 2],\n        [3, 4, 5]])" in [c.value for c in at.code]


def test_transposed_view_error_then_reshape_copy(at: AppTest) -> None:
    at.text_input(key="view.source_shape").set_value("3, 2").run()
    at.selectbox(key="view.op").set_value("transpose").run()
    at.selectbox(key="view.method").set_value("view").run()
    at.text_input(key="view.shape").set_value("6").run()
    assert not at.exception
    assert len(at.error) == 1
    err = at.error[0].value
    assert "view size is not compatible with input tensor's size and stride" in err
    assert "Use .reshape(...) instead." in err
    assert "`x.reshape(6)`" in err and "`x.contiguous().view(6)`" in err
    assert _metrics(at)["x.is_contiguous()"] == "False"
    assert "y.shape" not in _metrics(at)

    at.selectbox(key="view.method").set_value("reshape").run()
    assert not at.exception and not at.error
    assert "copied: new storage" in at.warning[0].value
    m = _metrics(at)
    assert m["y.data_ptr()"] != m["x.data_ptr()"]
    assert m["y.is_contiguous()"] == "True" and m["x.stride()"] == "(1, 2)"
    assert ">>> y\ntensor([0, 2, 4, 1, 3, 5])" in [c.value for c in at.code]
    # writing into the copy leaves x alone
    at.number_input(key="view.write_at").set_value(0).run()
    at.button(key="view.write").click().run()
    assert any("x is unchanged" in md.value for md in at.markdown)
    assert ">>> x\ntensor([[0, 2, 4],\n        [1, 3, 5]])" in [c.value for c in at.code]


def test_bad_inputs_show_messages_not_tracebacks(at: AppTest) -> None:
    at.selectbox(key="view.op").set_value("none").run()
    at.selectbox(key="view.method").set_value("view").run()
    at.text_input(key="view.source_shape").set_value("2, 3, 4").run()
    at.text_input(key="view.shape").set_value("5, 5").run()
    assert not at.exception
    assert "shape '[5, 5]' is invalid for input of size 24" in at.error[0].value
    at.text_input(key="view.shape").set_value("-1, -1").run()
    assert not at.exception
    assert "only one dimension can be inferred" in at.error[0].value
    at.text_input(key="view.shape").set_value("2.5").run()
    assert "not a whole number" in at.error[0].value
    at.text_input(key="view.source_shape").set_value("1000, 1000").run()
    assert not at.exception and "at most 10,000" in at.error[0].value
    at.text_input(key="view.source_shape").set_value("2, 3, 4").run()
    at.text_input(key="view.shape").set_value("2, -1, 4").run()
    assert "`24 / (2·4) = 3`" in at.info[0].value


def test_slice_start_shows_offset_and_pointer_shift(at: AppTest) -> None:
    at.text_input(key="view.source_shape").set_value("3, 4").run()
    at.selectbox(key="view.op").set_value("step-slice").run()
    at.number_input(key="view.start").set_value(1).run()
    at.number_input(key="view.step").set_value(2).run()
    at.selectbox(key="view.method").set_value("view(-1)").run()
    assert not at.exception and not at.error
    m = {mt.label: mt for mt in at.metric}
    assert m["x.storage_offset()"].value == "1" and m["y.storage_offset()"].value == "1"
    assert m["x.stride()"].value == "(4, 2)" and m["y.stride()"].value == "(2,)"
    assert m["y.data_ptr()"].value == m["x.data_ptr()"].value
    assert m["x.data_ptr()"].proto.delta == "storage start + 1 × 8 bytes (storage_offset 1)"
    codes = [c.value for c in at.code]
    assert ">>> x\ntensor([[ 1,  3],\n        [ 5,  7],\n        [ 9, 11]])" in codes
    assert any("x = base.view(3, 4)[..., 1::2]" in c for c in codes)
    at.number_input(key="view.start").set_value(4).run()
    assert not at.exception and "past the end of the last dimension" in at.error[0].value
    at.number_input(key="view.start").set_value(0).run()
    at.selectbox(key="view.op").set_value("none").run()


def test_six_dims_metrics_in_full_and_numpy_truths(at: AppTest) -> None:
    at.selectbox(key="view.op").set_value("none").run()
    at.text_input(key="view.source_shape").set_value("2, 2, 2, 2, 2, 2").run()
    at.selectbox(key="view.method").set_value("view").run()
    at.text_input(key="view.shape").set_value("8, 9").run()
    assert not at.exception
    m = _metrics(at)
    assert m["x.shape"] == "(2, 2, 2, 2, 2, 2)" and m["x.stride()"] == "(32, 16, 8, 4, 2, 1)"
    assert "shape '[8, 9]' is invalid for input of size 64" in at.error[0].value
    note = next(md.value for md in at.markdown if md.value.startswith("**numpy analogy.**"))
    assert "`np.reshape(a, shape, copy=False)`" in note and "not** `np.resize`" not in note
    assert "`np.reshape(a, (8, 9), copy=False)` → ValueError: cannot reshape array" in note
    assert "`np.resize(a, (8, 9)) → 72 elements [0, 1, 2, 3, 4, 5, 6, 7, …]: it repeats" in note
    # 16 panels x[i, j, k, l], one per leading index
    fig = _chart(at, "source_grid")
    titles = [a["text"] for a in fig["layout"]["annotations"]]  # type: ignore[index]
    assert len(titles) == 16 and titles[-1] == "x[1, 1, 1, 1]"
    at.text_input(key="view.source_shape").set_value("2`**x**`").run()
    assert not at.exception
    assert at.error[0].value.startswith("`` 2`**x**` `` in the source shape is not a whole")
    at.text_input(key="view.source_shape").set_value("2, 3, 4").run()


def test_changing_settings_after_a_write_starts_fresh(at: AppTest) -> None:
    at.selectbox(key="view.op").set_value("none").run()
    at.selectbox(key="view.method").set_value("view").run()
    at.text_input(key="view.source_shape").set_value("3, 2").run()
    at.text_input(key="view.shape").set_value("-1").run()
    at.number_input(key="view.write_at").set_value(5).run()
    at.number_input(key="view.write_value").set_value(-999_999).run()
    at.button(key="view.write").click().run()
    assert ">>> x\ntensor([[      0,       1],\n        [      2,       3],\n" in "".join(
        c.value for c in at.code
    )
    at.text_input(key="view.shape").set_value("2, 3").run()  # a new y: a fresh tensor
    assert not at.exception
    assert ">>> x\ntensor([[0, 1],\n        [2, 3],\n        [4, 5]])" in [c.value for c in at.code]
    assert not any(md.value.startswith("Wrote ") for md in at.markdown)
    assert at.button(key="view.reset").disabled


def test_write_clicked_with_a_settings_change_is_applied_or_explained(at: AppTest) -> None:
    at.selectbox(key="view.op").set_value("none").run()
    at.selectbox(key="view.method").set_value("view").run()
    at.text_input(key="view.source_shape").set_value("3, 2").run()
    at.text_input(key="view.shape").set_value("2, -1").run()
    # edit the target and click Write in ONE interaction (no Enter in between)
    at.text_input(key="view.shape").set_value("3, -1")
    at.number_input(key="view.write_at").set_value(4)
    at.number_input(key="view.write_value").set_value(100)
    at.button(key="view.write").click().run()
    assert not at.exception
    codes = [c.value for c in at.code]
    assert ">>> y\ntensor([[  0,   1],\n        [  2,   3],\n        [100,   5]])" in codes
    assert any("x.view(3, -1)" in c and "y[2, 0] = 100  # write through y" in c for c in codes)
    assert "position 4 = 100 was written into the **new** `y`" in at.info[-1].value
    # a position the new y lacks: nothing written, and the learner is told why
    at.text_input(key="view.source_shape").set_value("2, 2")
    at.text_input(key="view.shape").set_value("-1")
    at.number_input(key="view.write_at").set_value(5)
    at.button(key="view.write").click().run()
    assert not at.exception
    assert ">>> y\ntensor([0, 1, 2, 3])" in [c.value for c in at.code]
    assert "the new `y` has only 4 elements (positions 0…3). Nothing was written" in (
        at.info[-1].value
    )
    # a settings change that makes torch refuse: there is no y, and the note says so
    at.selectbox(key="view.op").set_value("transpose")
    at.text_input(key="view.shape").set_value("4")
    at.number_input(key="view.write_at").set_value(1)
    at.button(key="view.write").click().run()
    assert not at.exception and "view size is not compatible" in at.error[0].value
    assert "torch refuses the call, so there is no `y`" in at.info[-1].value
    # the note is for that click only: the next rerun drops it
    at.selectbox(key="view.op").set_value("none").run()
    assert not any("clicked together" in i.value or "**new**" in i.value for i in at.info)


def test_squeeze_without_dim_drops_every_size_one_dim(at: AppTest) -> None:
    at.selectbox(key="view.op").set_value("none").run()
    at.text_input(key="view.source_shape").set_value("2, 1, 3, 1").run()
    at.selectbox(key="view.method").set_value("squeeze()").run()
    assert not at.exception and not at.error
    m = _metrics(at)
    assert m["x.shape"] == "(2, 1, 3, 1)" and m["y.shape"] == "(2, 3)"
    assert m["y.stride()"] == "(3, 1)" and m["y.data_ptr()"] == m["x.data_ptr()"]
    assert "`y = x.squeeze()`" in at.success[0].value
    assert ">>> y\ntensor([[0, 1, 2],\n        [3, 4, 5]])" in [c.value for c in at.code]
    note = next(md.value for md in at.markdown if md.value.startswith("**numpy analogy.**"))
    assert "`np.squeeze(a)` → shape (2, 3), `np.shares_memory` = **True**" in note
    at.selectbox(key="view.method").set_value("view").run()


# --- what learners tripped over (issue 10) ---------------------------------------------


def test_a_typo_in_the_target_shape_keeps_the_source_on_screen() -> None:
    at = open_page(PAGE)
    at.text_input(key="view.shape").set_value("abc").run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "`abc` in the target shape is not a whole number" in errors[0]
    m = _metrics(at)
    assert m["x.shape"] == "(2, 3, 4)" and "y.shape" not in m  # the source, no y
    assert _chart(at, "source_grid")  # the valid source grid is still drawn
    assert any("fix the target shape above" in w.value for w in at.warning)
    at.text_input(key="view.shape").set_value("4, -1").run()
    assert not at.error and _metrics(at)["y.shape"] == "(4, 6)"


def test_a_zero_size_says_how_many_elements_each_side_has() -> None:
    at = open_page(PAGE)
    at.text_input(key="view.shape").set_value("0").run()
    err = at.error[0].value
    assert "shape '[0]' is invalid for input of size 24" in err
    assert "the shape [0] has 0 elements, the source has 24" in err and "0 = 0" not in err


def test_view_on_a_step_slice_explains_the_real_rule() -> None:
    at = open_page(PAGE)
    at.text_input(key="view.source_shape").set_value("3, 4").run()
    at.selectbox(key="view.op").set_value("step-slice").run()
    at.selectbox(key="view.method").set_value("view(-1)").run()
    assert "same data_ptr" in at.success[0].value
    note = next(i.value for i in at.info if "not contiguous" in i.value)
    assert "strides *compatible* with the new shape" in note and "not contiguity" in note


def test_large_sources_colour_each_panel_within_its_own_range() -> None:
    at = open_page(PAGE)
    at.text_input(key="view.source_shape").set_value("10, 10, 10, 10").run()
    at.selectbox(key="view.method").set_value("view(-1)").run()
    heat = [t for t in _chart(at, "source_grid")["data"] if t["type"] == "heatmap"]  # type: ignore[index]
    assert len(heat) == 16
    assert [t["zmin"] for t in heat[:3]] == [0, 100, 200]  # not one shade for all panels
    assert all(t["zmax"] - t["zmin"] == 99 for t in heat)
    assert any("coloured within its own range" in c.value for c in at.caption)


def test_the_printout_of_y_wraps_instead_of_being_cut() -> None:
    at = open_page(PAGE)
    at.text_input(key="view.source_shape").set_value("2, 50").run()
    at.text_input(key="view.shape").set_value("-1").run()
    printout = next(c for c in at.code if c.value.startswith(">>> y"))
    assert printout.proto.wrap_lines
