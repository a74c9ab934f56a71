"""AppTest: the Tensor lab page mutates real objects, per session, and times the four paths."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from ptexplore.pages import TENSORS
from ptexplore.tensors import (
    Action,
    Bridge,
    ErrorCase,
    ItemDtype,
    ItemShape,
    Lab,
    Layout,
    NpDtype,
    Path,
    cuda_available,
)
from ptexplore.ui.tensors import BENCH_KEY, LAB_KEY
from tests.conftest import open_page, open_tab

SHARING, ERRORS, ITEM, SPEED = (
    "🔗 Memory sharing",
    "🚫 Errors as lessons",
    "🔢 .item()",
    "⏱️ Conversion speed",
)

BASE = np.arange(12, dtype=np.float64).reshape(3, 4)


@pytest.fixture(scope="module")
def shared_at() -> AppTest:
    return open_page(TENSORS.file)


def views(at: AppTest) -> tuple[np.ndarray, np.ndarray]:
    """(a, t) as the page shows them after the run: numpy's own printout of a (the cell
    editor above it shows a as it was when edited), then t's table."""
    frames = list(at.dataframe)
    assert frames[0].key == "tensors.editor"
    printed = next(c.value for c in at.code if c.value.startswith(">>> a\n"))
    a = np.array(eval(printed.removeprefix(">>> a\n"), {"__builtins__": {}}, vars(np)))
    return a, frames[1].value.to_numpy()


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    return str(next(m.value for m in at.metric if m.label == label))


def test_default_page_shares_float64_memory(shared_at: AppTest) -> None:
    at = ok(shared_at)
    a, t = views(at)
    np.testing.assert_array_equal(a, BASE)
    np.testing.assert_array_equal(t, BASE)
    assert metric(at, "verdict") == "🔗 SHARED"
    assert metric(at, "np.shares_memory(a, t.numpy())") == "True"
    assert metric(at, "t.data_ptr() == a's address") == "True"
    assert any("torch.float64" in md.value for md in at.markdown)
    assert at.radio(key="tensors.hop").disabled is (not cuda_available())


@pytest.mark.parametrize("bridge", [Bridge.FROM_NUMPY, Bridge.TENSOR, Bridge.AS_TENSOR_F32])
def test_every_action_changes_the_other_side_exactly_when_shared(
    shared_at: AppTest, bridge: Bridge
) -> None:
    at = shared_at
    at.radio(key="tensors.bridge").set_value(bridge).run()
    shared = ok(at) and metric(at, "np.shares_memory(a, t.numpy())") == "True"
    assert shared is (bridge is Bridge.FROM_NUMPY)
    for action in Action:
        at.button(key="tensors.reset").click().run()
        a0, t0 = views(ok(at))
        at.radio(key="tensors.action").set_value(action)
        at.number_input(key="tensors.value").set_value(7.0)
        at.button(key="tensors.apply").click().run()
        a1, t1 = views(ok(at))
        a_changed = not np.array_equal(a0, a1)
        t_changed = not np.array_equal(t0, t1)
        if action is Action.NP_REBIND:
            assert a_changed and not t_changed, bridge
            assert metric(at, "verdict") == "✂️ SEPARATE"
            assert any("new array" in i.value for i in at.info)
        elif action.side == "numpy":
            assert a_changed and t_changed is shared, (bridge, action)
        else:
            assert t_changed and a_changed is shared, (bridge, action)
        if shared and action is not Action.NP_REBIND:
            np.testing.assert_array_equal(a1, t1)
    at.radio(key="tensors.bridge").set_value(Bridge.FROM_NUMPY).run()


def test_cell_edit_reaches_the_tensor_only_when_shared(shared_at: AppTest) -> None:
    at = shared_at
    for bridge, shared in [(Bridge.FROM_NUMPY, True), (Bridge.CLONE, False)]:
        at.radio(key="tensors.bridge").set_value(bridge).run()
        at.button(key="tensors.reset").click().run()
        at.session_state["tensors.editor"] = {
            "edited_rows": {1: {"2": 99.0}},
            "added_rows": [],
            "deleted_rows": [],
        }
        a, t = views(ok(at.run()))
        assert a[1, 2] == 99.0
        assert bool(t[1, 2] == 99.0) is shared
        assert any("a[1, 2] = 99.0" in (s.value) for s in [*at.success, *at.info])
        # The next run renews the editor from a's real values (no stale edit replayed).
        at.radio(key="tensors.action").set_value(Action.NP_IADD)
        at.button(key="tensors.apply").click().run()
        a2, _ = views(ok(at))
        assert a2[1, 2] == 100.0
        assert at.data_editor[0].value.to_numpy()[1, 2] == 100.0
    at.radio(key="tensors.bridge").set_value(Bridge.FROM_NUMPY).run()


def test_two_sessions_are_isolated() -> None:
    one, two = open_page(TENSORS.file), open_page(TENSORS.file)
    for _ in range(2):
        one.button(key="tensors.apply").click().run()  # a += 1 in session one only
    a1, t1 = views(ok(one))
    a2, t2 = views(ok(two.run()))
    np.testing.assert_array_equal(a1, BASE + 2)
    np.testing.assert_array_equal(t1, BASE + 2)
    np.testing.assert_array_equal(a2, BASE)
    np.testing.assert_array_equal(t2, BASE)
    assert one.session_state[LAB_KEY] is not two.session_state[LAB_KEY]
    two.radio(key="tensors.action").set_value(Action.T_ADD)
    two.button(key="tensors.apply").click().run()
    np.testing.assert_array_equal(views(ok(two))[0], BASE + 1)
    np.testing.assert_array_equal(views(ok(one.run()))[0], BASE + 2)


@pytest.mark.parametrize(
    ("dtype", "layout", "words"),
    [
        (NpDtype.OBJECT, Layout.CONTIGUOUS, "numpy.object_"),
        (NpDtype.BIG_ENDIAN, Layout.CONTIGUOUS, "byte order"),
        (NpDtype.FLOAT64, Layout.REVERSED, "negative"),
    ],
)
def test_refused_bridges_are_lessons_not_tracebacks(
    shared_at: AppTest, dtype: NpDtype, layout: Layout, words: str
) -> None:
    at = shared_at
    at.selectbox(key="tensors.dtype").set_value(dtype)
    at.selectbox(key="tensors.layout").set_value(layout).run()
    assert any(words in e.value and "Fix:" in e.value for e in ok(at).error)
    assert not isinstance(at.session_state[LAB_KEY], Lab)  # the refusal, not a live lab
    at.selectbox(key="tensors.dtype").set_value(NpDtype.FLOAT64)
    at.selectbox(key="tensors.layout").set_value(Layout.CONTIGUOUS).run()
    assert metric(ok(at), "verdict") == "🔗 SHARED"


def test_error_and_item_tabs_run_the_real_calls(shared_at: AppTest) -> None:
    at = open_tab(shared_at, "tensors", ERRORS)
    at.selectbox(key="tensors.error_case").set_value(ErrorCase.NEGATIVE_STRIDES).run()
    assert any("ValueError" in e.value and "negative" in e.value for e in ok(at).error)
    open_tab(at, "tensors", ITEM)
    at.selectbox(key="tensors.item_shape").set_value(ItemShape.TWO_TWO).run()
    assert any("4 elements cannot be converted to Scalar" in e.value for e in ok(at).error)
    at.selectbox(key="tensors.item_shape").set_value(ItemShape.ONE_ONE).run()
    assert any("Python type: `float`" in s.value for s in ok(at).success)
    open_tab(at, "tensors", SHARING)


def test_benchmark_runs_with_small_n_and_shows_four_results(shared_at: AppTest) -> None:
    at = open_tab(shared_at, "tensors", SPEED)
    assert any("Nothing measured yet" in i.value for i in at.info)
    at.number_input(key="tensors.bench_n").set_value(300)
    at.slider(key="tensors.bench_repeats").set_value(1)
    at.button(key="tensors.bench_run").click().run()
    bench = [m for m in ok(at).metric if m.label in {p.value for p in Path}]
    assert [m.label for m in bench] == [p.value for p in Path]
    assert all(m.value.endswith(("s", "ms", "µs")) for m in bench)
    assert any("the fastest" in str(m.delta) for m in bench)
    assert sum(m.delta == "fastest" for m in bench) >= 1
    assert at.session_state[BENCH_KEY].n == 300 and at.session_state[BENCH_KEY].all_equal
    assert any("Measured" in c.value and "on this server" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 2
    assert any("Scaling sweep over N = 30, 75, 150, 300" in c.value for c in at.caption)
    first = at.session_state[BENCH_KEY]
    at.button(key="tensors.bench_run").click().run()  # a re-run measures again
    again = ok(at).session_state[BENCH_KEY]
    assert again is not first and again.timings != first.timings
    open_tab(at, "tensors", SHARING)


def test_rebuild_after_a_cell_edit_starts_from_fresh_values() -> None:
    at = open_page(TENSORS.file)
    at.session_state["tensors.editor"] = {
        "edited_rows": {1: {"2": 99.0}},
        "added_rows": [],
        "deleted_rows": [],
    }
    a, t = views(ok(at.run()))
    assert a[1, 2] == t[1, 2] == 99.0
    at.button(key="tensors.reset").click().run()
    for _ in range(2):  # the rebuild, and any later rerun, must not replay the old edit
        a, t = views(ok(at))
        np.testing.assert_array_equal(a, BASE)
        np.testing.assert_array_equal(t, BASE)
        assert at.session_state[LAB_KEY].history == []
        at.run()


def test_rebinding_with_a_copying_bridge_says_t_never_shared(shared_at: AppTest) -> None:
    at = shared_at
    at.radio(key="tensors.bridge").set_value(Bridge.TENSOR).run()
    at.radio(key="tensors.action").set_value(Action.NP_REBIND)
    at.button(key="tensors.apply").click().run()
    assert any("shares memory with t: **False**" in c.value for c in ok(at).caption)
    at.radio(key="tensors.bridge").set_value(Bridge.FROM_NUMPY).run()
    at.button(key="tensors.apply").click().run()
    assert any("still shares memory with t: **True**" in c.value for c in ok(at).caption)
    at.button(key="tensors.reset").click().run()


def test_bad_item_value_is_a_lesson_and_the_page_keeps_rendering(shared_at: AppTest) -> None:
    at = open_tab(shared_at, "tensors", ITEM)
    at.selectbox(key="tensors.item_dtype").set_value(ItemDtype.INT64)
    at.number_input(key="tensors.item_value").set_value(1e300).run()
    assert any("does not fit int64" in e.value and "Fix:" in e.value for e in ok(at).error)
    assert at.selectbox(key="tensors.item_shape")  # the error replaces the result only
    at.number_input(key="tensors.item_value").set_value(2.5).run()
    assert any("Python type: `int`" in s.value for s in ok(at).success)
    assert any("int(2.5) = 2" in c.value for c in at.caption)
    at.selectbox(key="tensors.item_dtype").set_value(ItemDtype.FLOAT32)
    at.number_input(key="tensors.item_value").set_value(0.1).run()
    open_tab(at, "tensors", SHARING)


def test_benchmark_at_n_1_explains_the_missing_scaling_plot(shared_at: AppTest) -> None:
    at = open_tab(shared_at, "tensors", SPEED)
    at.number_input(key="tensors.bench_n").set_value(1)
    at.button(key="tensors.bench_run").click().run()
    assert at.session_state[BENCH_KEY].n == 1
    assert len(ok(at).get("plotly_chart")) == 1  # the bar chart only
    assert any("No scaling plot for N = 1" in i.value for i in at.info)
    open_tab(at, "tensors", SHARING)


def test_uint8_editor_caption_and_wrap_note() -> None:
    at = ok(open_page(TENSORS.file))
    assert any("a is **float64**: cells take any number" in c.value for c in at.caption)
    at.selectbox(key="tensors.dtype").set_value(NpDtype.UINT8).run()
    assert any(
        "a is **uint8**: cells take whole numbers 0…255" in c.value and "cannot hold 1.5" in c.value
        for c in ok(at).caption
    )
    at.radio(key="tensors.action").set_value(Action.NP_SET)
    at.number_input(key="tensors.value").set_value(255.0)
    at.button(key="tensors.apply").click().run()
    at.radio(key="tensors.action").set_value(Action.NP_IADD)
    at.button(key="tensors.apply").click().run()
    a, t = views(ok(at))
    assert a[0].tolist() == [0, 2, 3, 4] and t[0].tolist() == [0, 2, 3, 4]
    assert any(
        "`a += 1` wrapped 1 cell(s) around: uint8 holds 0…255, so [0, 0] went 255 → 0" in w.value
        for w in at.warning
    )
    at.button(key="tensors.apply").click().run()  # nothing at 255 now: no note
    assert not any("wrapped" in w.value for w in ok(at).warning)


# --- what learners tripped over (issue 10) ---------------------------------------------


def test_a_is_one_table_with_a_plain_row_header() -> None:
    at = ok(open_page(TENSORS.file))
    assert [f.key for f in at.main.dataframe][:1] == ["tensors.editor"]
    tables = list(at.main.dataframe)  # the editable a, t, and the address/stride report
    assert len(tables) == 3 and "dtype" in tables[2].value.index  # no second copy of a
    config = at.data_editor[0].proto.columns
    assert '"_index"' in config and '"label": "row"' in config  # no internal counter


def test_equal_values_in_separate_memory_are_called_that() -> None:
    at = ok(open_page(TENSORS.file))
    assert not any("Equal values, separate memory" in i.value for i in at.info)  # shared
    at.radio(key="tensors.bridge").set_value(Bridge.TENSOR).run()
    note = next(i.value for i in ok(at).info if "Equal values, separate memory" in i.value)
    assert metric(at, "verdict") == "✂️ SEPARATE"
    lab = at.session_state[LAB_KEY]
    assert f"{lab.t.data_ptr():#x}" in note and f"{lab.a.__array_interface__['data'][0]:#x}" in note
    at.radio(key="tensors.action").set_value(Action.NP_IADD)
    at.button(key="tensors.apply").click().run()  # now they differ: no such note
    assert not any("Equal values" in i.value for i in ok(at).info)


def test_a_uint8_cell_given_1_5_is_refused_not_stored_as_15() -> None:
    at = ok(open_page(TENSORS.file))
    at.selectbox(key="tensors.dtype").set_value(NpDtype.UINT8).run()
    at.session_state["tensors.editor"] = {
        "edited_rows": {0: {"0": 1.5}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert any("1.5 does not fit a's dtype uint8" in e.value for e in ok(at).error)
    a, _ = views(at)
    assert a[0, 0] == 0  # nothing was written
