"""MACs, shapes, parameters, iterators and values agree with torch/torchvision/torchinfo."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest
import torch
import torchinfo
from torch import nn
from torchvision import models as tvm

from ptexplore.errors import ModelError
from ptexplore.models import catalog, iterators, params, shapes, tree
from ptexplore.models.code import explorer_code

GOLDEN = Path(__file__).parent / "golden"

# every torchvision classification model (resnet18, vit_b_16, convnext_tiny … all 80)
PUBLISHED = list(catalog.torchvision_names())


@pytest.mark.parametrize("name", PUBLISHED)
def test_total_macs_equal_torchvision_published_ops(name: str) -> None:
    report = shapes.trace(name)
    published = catalog.entry(name).published_gmacs
    assert report.at_published_input
    assert published is not None, f"{name} has no published _ops"
    assert round(report.gmacs, 3) == pytest.approx(published, abs=1e-9)
    # the root row holds the whole pass
    assert report.rows[0].macs == report.total_macs


def test_torchinfo_misses_attention_macs_we_count_them() -> None:
    assert round(shapes.trace("vit_l_16").gmacs, 1) == 61.6
    assert round(shapes.trace("convnext_large").gmacs, 1) == 34.4


# Ten families, built normally (real CPU tensors) and compared with our meta totals.
FAMILIES = [
    "alexnet",
    "resnet18",
    "squeezenet1_0",
    "mobilenet_v3_small",
    "efficientnet_b0",
    "shufflenet_v2_x0_5",
    "mnasnet0_5",
    "regnet_x_400mf",
    "densenet121",
    "googlenet",
    "convnext_tiny",
]


@pytest.mark.parametrize("name", FAMILIES)
def test_parameter_totals_equal_a_normal_build_and_torchinfo(name: str) -> None:
    real = catalog.factory(name)()
    expected = sum(p.numel() for p in real.parameters())
    table = params.param_table(catalog.build_meta(name).model)
    assert table.total == expected
    assert torchinfo.summary(real, verbose=0).total_params == expected
    assert [r.name for r in table.rows] == [n for n, _ in real.named_parameters()]
    assert [r.shape for r in table.rows] == [tuple(p.shape) for _, p in real.named_parameters()]
    assert tree.count_nodes(tree.build_tree(real)) == len(list(real.modules()))


def _real_print(model: nn.Module, kind: iterators.IteratorKind) -> str:
    buf = io.StringIO()
    it = getattr(model, kind.value.removesuffix("()"))()
    with contextlib.redirect_stdout(buf):
        for idx, item in enumerate(it):
            print(idx, "-", item)
    return buf.getvalue()


@pytest.mark.parametrize("key", ["example:Model", "example:SharedLayerNet", "resnet18"])
@pytest.mark.parametrize("kind", list(iterators.IteratorKind))
def test_iterator_views_equal_real_iterator_output(key: str, kind: iterators.IteratorKind) -> None:
    real = catalog.factory(key)()
    view = iterators.iterator_view(catalog.build_meta(key).model, kind)
    assert "".join(i.text + "\n" for i in view.items) == _real_print(real, kind)


def test_iterators_teach_the_differences() -> None:
    model = catalog.build_meta("example:Model").model
    mods = iterators.iterator_view(model, iterators.IteratorKind.MODULES)
    kids = iterators.iterator_view(model, iterators.IteratorKind.CHILDREN)
    named = iterators.iterator_view(model, iterators.IteratorKind.NAMED_MODULES)
    assert mods.items[0].class_name == "Model"  # recursive from the root itself
    assert mods.items[0].text.startswith("0 - Model(")
    assert [i.class_name for i in kids.items] == ["Conv2d", "Conv2d", "MaxPool2d", "Sequential"]
    assert len(mods.items) == 8 and len(kids.items) == 4
    assert [i.name for i in named.items] == [
        "",
        "conv1",
        "conv2",
        "maxpool1",
        "features",
        "features.conv3",
        "features.conv4",
        "features.relu1",
    ]
    shared = catalog.build_meta("example:SharedLayerNet").model
    view = iterators.iterator_view(shared, iterators.IteratorKind.MODULES)
    assert len(view.items) == 6 and view.with_duplicates == 7  # `tied` is `embed`


def test_tree_marks_a_shared_module_once() -> None:
    root = tree.build_tree(catalog.build_meta("example:SharedLayerNet").model)
    assert [c.name for c in root.children] == ["embed", "block", "head"]
    assert root.shared[0].name == "tied" and root.shared[0].first_qualname == "embed"
    assert root.total_params == 8 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2


def test_tree_nodes_show_extra_repr_and_counts() -> None:
    root = tree.build_tree(catalog.build_meta("example:Model").model)
    conv1 = root.children[0]
    assert (conv1.name, conv1.class_name) == ("conv1", "Conv2d")
    assert conv1.extra_repr == "3, 64, kernel_size=(3, 3), stride=(1, 1)"
    assert conv1.own_params == conv1.total_params == 3 * 64 * 9 + 64
    features = root.children[3]
    assert features.own_params == 0 and features.total_params == 147584 + 73856
    assert root.total_params == 260_160


def test_filter_narrows_and_highlights() -> None:
    model = catalog.build_meta("example:Model").model
    root = tree.build_tree(model)
    shown = tree.filter_tree(root, "conv")
    assert shown is not None
    assert [n.qualname for n in shown.walk() if n.match] == [
        "conv1",
        "conv2",
        "features.conv3",
        "features.conv4",
    ]
    assert tree.count_nodes(shown) == 6  # root, conv1, conv2, features, conv3, conv4
    assert [q for q, _ in tree.filter_named_modules(model, "conv")] == [
        "conv1",
        "conv2",
        "features.conv3",
        "features.conv4",
    ]
    assert tree.filter_tree(root, "nothing-like-this") is None
    assert tree.filter_tree(root, "") is root


def test_tree_html_escapes_names() -> None:
    model = nn.Sequential()
    model.add_module("<script>alert(1)</script>", nn.Linear(2, 2))
    shown = tree.filter_tree(tree.build_tree(model), "script")
    assert shown is not None
    html = tree.tree_html(shown, open_depth=5, highlight="script")
    assert "<script>alert" not in html
    assert "&lt;" in html and "<mark>script</mark>" in html


def test_freeze_moves_counts_from_trainable_to_frozen() -> None:
    model = catalog.build_meta("resnet18").model
    params.freeze(model, ("layer1", "conv1"))
    table = params.param_table(model)
    frozen = 9408 + 147968
    assert table.frozen == frozen and table.trainable == table.total - frozen
    assert tree.build_tree(model).trainable is tree.Trainable.MIXED
    with pytest.raises(ModelError, match="no top-level child called 'nope'"):
        params.freeze(model, ("nope",))


def test_groups_and_naming_rule() -> None:
    model = catalog.build_meta("example:SmallVGG").model
    table = params.param_table(model)
    assert [g.group for g in table.groups] == ["vgg", "classifier"]
    assert table.rows[0].name == "vgg.0.weight"
    parts = params.explain_name(model, "vgg.0.weight")
    assert [p.part for p in parts] == ["vgg", "0", "weight"]
    assert parts[1].module_class == "Conv2d" and "position 0" in parts[1].meaning
    with pytest.raises(ModelError):
        params.explain_name(model, "vgg.99.weight")


def test_values_equal_a_seeded_normal_build() -> None:
    v = params.param_values("example:Model", None, "conv1.weight", seed=7)
    torch.manual_seed(7)
    real = catalog.factory("example:Model")()
    expected = real.conv1.weight.detach().reshape(-1)
    assert v.source is params.ValuesSource.FULL_BUILD
    assert v.values == tuple(expected.tolist())
    assert v.mean == pytest.approx(float(expected.mean()))


def test_big_model_materialises_only_one_tensor_with_the_models_init() -> None:
    # resnet18's own init loop: kaiming_normal_(fan_out, relu) on every conv
    v = params.param_values("resnet18", None, "layer1.0.conv1.weight", force_owner_only=True)
    assert v.source is params.ValuesSource.OWNER_ONLY
    fan_out = 64 * 3 * 3
    assert v.std == pytest.approx((2 / fan_out) ** 0.5, rel=0.05)
    assert v.mean == pytest.approx(0, abs=0.005)
    big = params.param_values("vit_h_14", None, "heads.head.weight")
    assert big.source is params.ValuesSource.OWNER_ONLY
    assert big.zeros_share == 1.0  # torchvision zero-initialises ViT heads
    again = params.param_values("vit_h_14", None, "heads.head.weight", seed=1)
    assert again.shape == (1000, 1280)


def test_forward_failure_is_one_sentence() -> None:
    with pytest.raises(ModelError, match=r"refused an input of shape \[1, 3, 200, 200\]"):
        shapes.trace("vit_b_16", side=200)
    with pytest.raises(ModelError, match="between 1 and 2048"):
        shapes.input_shape_for("resnet18", 0)


def test_shapes_of_the_example_model_and_batch() -> None:
    report = shapes.trace("example:Model", side=32, batch=4)
    by_name = {r.qualname: r for r in report.rows}
    assert report.input_shape == (4, 3, 32, 32)
    assert by_name["conv1"].output_shape == "[4, 64, 30, 30]"
    assert by_name["maxpool1"].output_shape == "[4, 64, 14, 14]"
    assert by_name["features.conv4"].output_shape == "[4, 128, 10, 10]"
    assert by_name["conv1"].macs == 4 * 64 * 30 * 30 * 3 * 9
    assert shapes.trace("example:Net").output_shape == "[1, 3]"


def _render_golden(report: shapes.ShapeReport) -> str:
    lines = [f"input {list(report.input_shape)} -> {report.output_shape}"]
    for r in report.rows:
        lines.append(
            f"{'  ' * r.depth}{r.qualname or '(root)'}: {r.class_name} "
            f"out={r.output_shape} params={r.own_params} macs={r.macs} calls={r.calls}"
        )
    lines.append(f"total params={report.total_params} macs={report.total_macs}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("key", ["example:Model", "example:SmallVGG", "resnet18", "inception_v3"])
def test_shape_table_matches_golden_file(key: str) -> None:
    """torchinfo-style golden files; regenerate with PTX_UPDATE_GOLDEN=1."""
    text = _render_golden(shapes.trace(key))
    path = GOLDEN / f"shapes_{key.replace(':', '_')}.txt"
    if os.environ.get("PTX_UPDATE_GOLDEN"):
        path.write_text(text)
    # a missing golden file is a failure, never silently written (that would pass anything)
    assert path.exists(), f"{path.name} is missing: run PTX_UPDATE_GOLDEN=1 make test once"
    assert text == path.read_text()


@pytest.mark.parametrize("key", ["example:Model", "resnet18"])
def test_code_panel_reproduces_the_page(key: str) -> None:
    shape = shapes.input_shape_for(key, None)
    code = explorer_code(key, None, shape, frozen=("conv1",), name_filter="conv")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(code, "<code panel>", "exec"), {})
    out = buf.getvalue()
    model = catalog.build_meta(key).model
    params.freeze(model, ("conv1",))
    table = params.param_table(model)
    assert f"total {table.total:,}  trainable {table.trainable:,}" in out
    assert f"{shapes.trace(key).total_macs} MACs" in out
    assert "features.conv3 - Conv2d" in out or "layer1.0.conv1 - Conv2d" in out


def test_real_build_uses_cpu_and_seed() -> None:
    a = catalog.build_real("example:Net", seed=3)
    b = catalog.build_real("example:Net", seed=3)
    assert torch.equal(a.hidden1.weight, b.hidden1.weight)
    assert isinstance(tvm.get_model_builder("resnet18"), object)


def test_histogram_counts_every_value() -> None:
    v = params.param_values("example:Model", None, "conv2.weight", seed=0)
    assert sum(v.hist_counts) == v.numel == 64 * 64 * 9
    assert len(v.hist_edges) == len(v.hist_counts) + 1 == 81
    assert v.hist_edges[0] == pytest.approx(v.min) and v.hist_edges[-1] == pytest.approx(v.max)
    zeros = params.param_values("vit_h_14", None, "heads.head.weight")
    assert sum(zeros.hist_counts) == 1000 * 1280 and max(zeros.hist_counts) == 1000 * 1280
    assert len(zeros.values) == 10_000  # the sample is bounded, the histogram is not


@pytest.mark.parametrize("key", ["example:Model", "resnet18", "mobilenet_v3_small"])
def test_output_shapes_equal_torchinfo_on_a_real_forward(key: str) -> None:
    real = catalog.factory(key)().eval()
    report = shapes.trace(key)
    ours = {r.qualname: r.output_shape for r in report.rows}
    names = {id(m): q for q, m in real.named_modules()}
    info = torchinfo.summary(real, input_size=report.input_shape, verbose=0, device="cpu")
    compared = 0
    for layer in info.summary_list:
        q = names.get(id(layer.module))
        if q and isinstance(layer.output_size, list) and layer.output_size:
            assert ours[q] == str(list(layer.output_size)), q
            compared += 1
    assert compared >= len(ours) // 2


def test_the_sandboxed_real_build_gives_the_same_values_and_lessons() -> None:
    """What the page calls (a real build in a sandboxed child) gives this process's
    numbers for the same seed, and the same lesson for a name the model lacks."""
    here = params.param_values("resnet18", None, "layer1.0.conv1.weight", seed=4)
    there = params.sandboxed_param_values("resnet18", None, "layer1.0.conv1.weight", seed=4)
    assert there.values == here.values and there.hist_counts == here.hist_counts
    assert (there.mean, there.std, there.source) == (here.mean, here.std, here.source)
    with pytest.raises(ModelError, match="'nope' is not a parameter of resnet18"):
        params.sandboxed_param_values("resnet18", None, "nope")
