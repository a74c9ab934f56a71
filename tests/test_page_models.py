"""AppTest: the model explorer renders and its main interactions give the real numbers."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from ptexplore.ui.models import CODE, ITERATORS, PARAMETERS, SHAPES
from tests.conftest import open_page, open_tab

PAGE = "pages/3_Model_Explorer.py"


def tab(at: AppTest, label: str) -> AppTest:
    return open_tab(at, "models", label)


def _trees(at: AppTest) -> list[str]:
    """The module tree's HTML (the page's other st.html is its stylesheet)."""
    return [h.proto.body for h in at.get("html") if "ptx-tree" in h.proto.body]


def _metric(at: AppTest, label: str) -> str:
    return next(str(m.value) for m in at.metric if m.label == label)


def _tree_caption(at: AppTest) -> str:
    return next(str(c.value) for c in at.caption if str(c.value).startswith("Showing "))


def test_example_model_renders_with_real_counts() -> None:
    at = open_page(PAGE)
    assert not at.exception and not at.error
    assert at.selectbox(key="models.model").value == "example:Model"
    assert _metric(at, "Total parameters") == "260,160"
    assert _metric(at, "Modules") == "8"
    html = _trees(at)[0]  # the tree is the tab open by default
    assert "features" in html and "conv3" in html
    tab(at, ITERATORS)
    assert _metric(at, "modules()") == "8 items"
    assert _metric(at, "children()") == "4 items"
    assert not _trees(at)  # the closed tree tab computed nothing
    tab(at, SHAPES)
    assert _metric(at, "output") == "[1, 128, 10, 10]"


def test_resnet18_then_vit_b_16_changes_totals_and_macs() -> None:
    at = open_page(PAGE)
    at.selectbox(key="models.model").set_value("resnet18").run()
    assert not at.exception and not at.error
    assert _metric(at, "Total parameters") == "11,689,512"
    tab(at, SHAPES)
    assert any("1.814 GMACs" in s.value and "equal ✓" in s.value for s in at.success)
    at.selectbox(key="models.model").set_value("vit_b_16").run()
    assert not at.exception and not at.error
    assert _metric(at, "Total parameters") == "86,567,656"
    assert _metric(at, "MACs") == "17.56 G"
    assert at.number_input(key="models.side").value == 224


def test_filter_conv_narrows_the_tree() -> None:
    at = open_page(PAGE)
    assert _tree_caption(at).startswith("Showing 8 of 8 modules")
    at.text_input(key="models.filter").set_value("conv").run()
    assert not at.exception
    # the learner's text is shown as an inert code span, never as markdown
    assert _tree_caption(at).startswith("Showing 6 of 8 modules · 4 match `'conv'`")
    html = _trees(at)[0]
    assert "<mark>conv</mark>1" in html and "maxpool1" not in html
    at.text_input(key="models.filter").set_value("zzz").run()
    assert any("No module name contains `zzz`" in w.value for w in at.warning)


def test_freeze_and_num_classes() -> None:
    at = open_page(PAGE)
    at.selectbox(key="models.model").set_value("resnet18").run()
    at.number_input(key="models.num_classes").set_value(10).run()
    assert _metric(at, "Total parameters") == "11,181,642"
    at.multiselect(key="models.freeze").set_value(["conv1", "layer1"]).run()
    assert not at.exception
    assert _metric(at, "Frozen") == f"{9408 + 147968:,}"
    assert _metric(at, "Trainable") == f"{11_181_642 - 9408 - 147968:,}"


def test_bad_input_size_is_one_sentence_not_a_traceback() -> None:
    at = tab(open_page(PAGE), SHAPES)
    at.selectbox(key="models.model").set_value("vit_b_16").run()
    at.number_input(key="models.side").set_value(200).run()
    assert not at.exception
    assert any("refused an input of shape [1, 3, 200, 200]" in e.value for e in at.error)
    # the rest of the page keeps working
    assert _metric(at, "Total parameters") == "86,567,656"


def test_iterator_choice_and_parameter_values() -> None:
    at = tab(open_page(PAGE), ITERATORS)
    at.radio(key="models.iterator").set_value("named_children()").run()
    codes = [c.value for c in at.code]
    assert any(c.startswith("0 - ('conv1', Conv2d(3, 64") for c in codes)
    tab(at, PARAMETERS)
    at.selectbox(key="models.param").set_value("features.conv3.weight").run()
    assert not at.exception
    assert any(
        "features.conv3.weight" in m.value and "[128, 64, 3, 3]" in m.value for m in at.markdown
    )


def test_uploaded_state_dict_values_are_shown() -> None:
    import io

    import torch

    from ptexplore.models import catalog

    real = catalog.build_real("example:Model", seed=11)
    with torch.no_grad():
        real.conv1.weight.fill_(0.25)
    buf = io.BytesIO()
    torch.save({"state_dict": real.state_dict()}, buf)
    at = tab(open_page(PAGE), PARAMETERS)
    at.radio(key="models.weights").set_value("uploaded file").run()
    at.file_uploader(key="models.weights_file").set_value(
        ("weights.pth", buf.getvalue(), "application/octet-stream")
    ).run()
    assert not at.exception and not at.error
    assert _metric(at, "loaded") == "8" and _metric(at, "missing keys") == "0"
    assert _metric(at, "mean") == "0.25" and _metric(at, "std") == "0"
    tab(at, CODE)
    code = next(c.value for c in at.code if "torch.load('weights.pth'" in c.value)
    assert "state = state['state_dict']  # a checkpoint dict" in code
    tab(at, PARAMETERS)  # the upload was kept while its tab was closed
    assert _metric(at, "mean") == "0.25"
    at.file_uploader(key="models.weights_file").set_value(
        ("junk.pth", b"not a checkpoint", "application/octet-stream")
    ).run()
    assert not at.exception
    assert any("not a checkpoint torch.load" in e.value for e in at.error)
    assert _metric(at, "Total parameters") == "260,160"  # the rest of the page still renders


def test_shared_cached_model_is_never_mutated() -> None:
    from ptexplore.ui.models import shared_meta

    at = open_page(PAGE)
    at.selectbox(key="models.model").set_value("resnet18").run()
    at.multiselect(key="models.freeze").set_value(["layer1"]).run()
    tab(at, SHAPES)
    at.number_input(key="models.side").set_value(160).run()
    assert not at.exception
    model = shared_meta("resnet18", 1000)
    assert all(p.requires_grad for p in model.parameters())  # freezing used a private build
    assert all(m.training for m in model.modules())  # tracing's eval() too
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


# --- what learners tripped over (issue 10) ---------------------------------------------


def test_switching_model_resets_the_parameter_picker_and_the_freeze_chips() -> None:
    at = tab(open_page(PAGE), PARAMETERS)
    at.selectbox(key="models.model").set_value("alexnet").run()
    at.selectbox(key="models.param").set_value("features.3.weight").run()
    at.multiselect(key="models.freeze").set_value(["features"]).run()
    assert _metric(at, "Frozen") != "0"
    at.selectbox(key="models.model").set_value("resnet18").run()
    picked = at.selectbox(key="models.param").value
    assert picked == "conv1.weight"  # not alexnet's name, which resnet18 does not have
    shown = [m.value for m in at.markdown if m.value.startswith("#### Values of")]
    assert shown and "conv1.weight" in shown[0]  # the values below are the picked one's
    assert at.multiselect(key="models.freeze").value == [] and _metric(at, "Frozen") == "0"
    at.multiselect(key="models.freeze").set_value(["layer1"]).run()
    at.selectbox(key="models.model").set_value("vit_b_16").run()
    assert at.multiselect(key="models.freeze").value == [] and _metric(at, "Frozen") == "0"


def test_vits_default_parameter_is_the_first_weight_matrix() -> None:
    at = tab(open_page(PAGE), PARAMETERS)
    at.selectbox(key="models.model").set_value("vit_b_16").run()
    assert at.selectbox(key="models.param").value == "conv_proj.weight"  # not class_token


def test_shape_table_counts_have_separators_and_out_proj_says_why_it_has_no_macs() -> None:
    at = tab(open_page(PAGE), SHAPES)
    at.selectbox(key="models.model").set_value("vit_b_16").run()
    table = next(d for d in at.dataframe if "MACs" in d.value.columns)
    config = table.proto.columns
    assert '"params (own)"' in config and '"format": "localized"' in config
    frame = table.value
    row = frame[frame["name"] == "encoder.layers.encoder_layer_0.self_attention.out_proj"]
    assert int(row["params (own)"].iloc[0]) == 590_592 and int(row["calls"].iloc[0]) == 0
    assert "MultiheadAttention uses its weights directly" in row["note"].iloc[0]


def test_the_naming_table_wraps_its_sentences() -> None:
    at = tab(open_page(PAGE), PARAMETERS)
    table = at.table[0].value
    assert list(table.columns) == ["reaches", "why this name"]
    assert table.index.tolist() == ["conv1", "weight"]  # the default: the first weight


def test_a_big_models_module_listing_starts_short() -> None:
    at = tab(open_page(PAGE), ITERATORS)
    at.selectbox(key="models.model").set_value("resnet50").run()
    listing = next(c.value for c in at.code if c.value.startswith("0 - "))
    assert listing.count("\n… ") == 1 and listing.endswith("more items")
    assert sum(1 for line in listing.splitlines() if " - " in line[:6]) == 20
    at.toggle(key="models.iter_all").set_value(True).run()
    listing = next(c.value for c in at.code if c.value.startswith("0 - "))
    assert "more items" not in listing


def test_opening_vit_h_14_is_quick_because_tabs_wait_until_opened() -> None:
    import time

    at = open_page(PAGE)
    t0 = time.perf_counter()
    at.selectbox(key="models.model").set_value("vit_h_14").run()
    seconds = time.perf_counter() - t0
    assert _metric(at, "Total parameters") == "632,045,800"
    assert seconds < 3.0, seconds  # measured here ~0.3 s; the trace waits for its tab
    assert not any(m.label == "MACs" for m in at.metric)
    assert any("computes only when you open it" in c.value for c in at.caption)


def test_a_diverged_runs_nan_and_inf_values_are_counted_not_averaged() -> None:
    import io

    import torch

    from ptexplore.models import catalog

    sd = catalog.build_real("example:Model", seed=11).state_dict()
    w = sd["conv1.weight"]
    w.fill_(0.5)
    w.view(-1)[:3] = float("nan")
    w.view(-1)[3] = float("inf")
    buf = io.BytesIO()
    torch.save(sd, buf)
    at = tab(open_page(PAGE), PARAMETERS)
    at.radio(key="models.weights").set_value("uploaded file").run()
    at.file_uploader(key="models.weights_file").set_value(
        ("diverged.pth", buf.getvalue(), "application/octet-stream")
    ).run()
    assert not at.exception and not at.error
    assert _metric(at, "mean") == "0.5" and _metric(at, "max") == "0.5"
    (warning,) = [w.value for w in at.warning if "not finite" in w.value]
    n = w.numel()
    assert f"4 of {n:,} values are not finite (3 NaN, 1 +inf, 0 −inf)" in warning
