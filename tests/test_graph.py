"""The forward data-flow graph (ptexplore.graph): what it traces, folds, draws and exports."""

from __future__ import annotations

import json

import pytest
import torch
from streamlit.testing.v1 import AppTest
from torch import nn

from ptexplore import graph
from ptexplore.graph import ItemKind, NodeKind
from ptexplore.models import shapes
from ptexplore.ui.models.common import FLOW


@pytest.fixture(scope="module")
def resnet18() -> graph.Graph:
    return graph.of_key("resnet18")


@pytest.fixture(scope="module")
def vit() -> graph.Graph:
    return graph.of_key("vit_b_16")


def _into(g: graph.Graph, node: graph.Node) -> list[graph.Edge]:
    return [e for e in g.edges if e.dst == node.id]


def test_resnet18s_residual_adds_each_take_the_block_input_and_the_branch(
    resnet18: graph.Graph,
) -> None:
    adds = [n for n in resnet18.nodes if n.kind is NodeKind.OP and n.name == "add_"]
    assert len(adds) == 8  # one `out += identity` per BasicBlock
    for add in adds:
        srcs = [resnet18.node(e.src) for e in _into(resnet18, add)]
        assert len(srcs) == 2, add
        assert {s.label for s in srcs} <= {"BatchNorm2d", "ReLU", "MaxPool2d"}, srcs
    flat = next(n for n in resnet18.nodes if n.name == "flatten")
    assert flat.label == "torch.flatten" and flat.out_shapes == ((1, 512),)
    assert resnet18.complete and resnet18.method.startswith("Traced with module hooks")


def test_macs_and_params_come_from_the_summarys_counter(resnet18: graph.Graph) -> None:
    report = shapes.trace("resnet18")
    assert resnet18.total_macs == report.total_macs == 1_814_073_344
    assert resnet18.total_params == 11_689_512
    whole = graph.build(resnet18, depth=0)
    (box,) = [i for i in whole.items if i.kind is ItemKind.BOX]
    assert box.macs == report.total_macs and box.params == 11_689_512
    conv1 = next(n for n in resnet18.nodes if n.name == "conv1")
    row = next(r for r in report.rows if r.qualname == "conv1")
    assert conv1.macs == row.macs and conv1.own_params == 9408


def test_repeated_blocks_fold_and_expand_in_place(resnet18: graph.Graph) -> None:
    v = graph.build(resnet18, depth=2)
    fold = v.item("layer1.0…1")
    assert fold.kind is ItemKind.FOLD and fold.repeat == 2 and fold.title == "layer1.0 … layer1.1"
    # layer2.0 has a downsample branch: not the same structure as layer2.1
    assert v.item("layer2.0").kind is ItemKind.BOX and v.item("layer2.1").kind is ItemKind.BOX
    opened = graph.build(resnet18, depth=2, expand=frozenset({"layer1.0…1"}))
    assert opened.item("layer1.0").kind is ItemKind.BOX
    assert opened.item("layer1.1").kind is ItemKind.BOX
    assert opened.item("layer2.0").kind is ItemKind.BOX  # siblings stay as they were
    one = graph.build(resnet18, depth=2, expand=frozenset({"layer1.0…1", "layer1.0"}))
    assert any(i.modules == ("layer1.0.conv1",) for i in one.items)  # opened in place
    assert one.item("layer1.1").kind is ItemKind.BOX
    closed = graph.build(resnet18, depth=2, collapse=frozenset({"layer3"}))
    assert closed.item("layer3").kind is ItemKind.BOX and "layer3" not in closed.collapsible
    unfolded = graph.build(resnet18, depth=2, fold=False)
    assert unfolded.item("layer1.0").kind is ItemKind.BOX


def test_a_residual_edge_stays_visible_when_blocks_are_open(resnet18: graph.Graph) -> None:
    v = graph.build(resnet18, depth=3, fold=False)
    add = next(i for i in v.items if i.label == "Tensor.add_" and i.parent == "layer1.0")
    srcs = {e.src for e in v.edges if e.dst == add.key}
    assert "maxpool@4" in srcs and len(srcs) == 2  # the skip from the block's input
    collapsed = graph.build(resnet18, depth=1)
    assert ("maxpool@4", "layer1") in {(e.src, e.dst) for e in collapsed.edges}


def test_vits_twelve_encoder_blocks_fold_into_one_box(vit: graph.Graph) -> None:
    v = graph.build(vit, depth=3)
    (fold,) = [i for i in v.items if i.kind is ItemKind.FOLD]
    assert fold.repeat == 12 and fold.label == "EncoderBlock"
    assert fold.in_shapes == ((1, 197, 768),) and fold.out_shapes == ((1, 197, 768),)
    ops = {n.name for n in vit.nodes if n.kind is NodeKind.OP}
    assert {"reshape", "permute", "cat", "add", "getitem"} <= ops
    assert vit.total_macs == shapes.trace("vit_b_16").total_macs


def test_densenets_concats_take_every_earlier_feature_map() -> None:
    g = graph.of_key("densenet121")
    cats = [n for n in g.nodes if n.name == "cat"]
    assert len(cats) == 58 + 4  # one per dense layer and per block's end
    assert max(len(_into(g, c)) for c in cats) == 25  # denseblock3's end: its input + 24


class Branchy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.a(x)
        if x.sum() > 0:  # data-dependent: a meta tensor has no value to compare
            return self.b(x)
        return x


def test_a_forward_that_stops_on_meta_keeps_what_ran() -> None:
    g = graph.graph(Branchy(), input_size=(2, 4))
    assert not g.complete and g.stopped is not None
    assert "`Tensor.__gt__`" in g.stopped or "`Tensor.__bool__`" in g.stopped, g.stopped
    assert [n.name for n in g.nodes if n.kind is NodeKind.MODULE] == ["a"]
    assert g.count(NodeKind.OUTPUT) == 0


def test_the_module_is_callable_like_summary() -> None:
    import ptexplore

    g = ptexplore.graph(nn.Sequential(nn.Linear(3, 5), nn.ReLU()), input_size=(1, 3))
    assert [n.label for n in g.nodes] == ["input", "Linear", "ReLU", "output"]
    assert [(e.src, e.dst, e.shape) for e in g.edges] == [
        (0, 1, (1, 3)),
        (1, 2, (1, 5)),
        (2, 3, (1, 5)),
    ]


def test_dot_escapes_names_and_json_round_trips(resnet18: graph.Graph) -> None:
    m = nn.Sequential()
    m.add_module('evil"]; x [label="pwned', nn.Linear(2, 2))
    dot = graph.to_dot(graph.build(graph.graph(m, input_size=(1, 2)), depth=1))
    assert 'evil\\"]; x [label=\\"pwned' in dot and 'label="pwned' not in dot
    data = json.loads(graph.to_json(graph.build(resnet18, depth=2)))
    fold = next(i for i in data["items"] if i["kind"] == "fold")
    assert fold["repeat"] == 2 and fold["modules"] == ["layer1.0", "layer1.1"]


@pytest.mark.skipif(not graph.render_available(), reason="Graphviz's dot is not installed")
def test_svg_and_png_come_from_graphviz(resnet18: graph.Graph) -> None:
    dot = graph.to_dot(graph.build(resnet18, depth=2))
    svg = graph.render(dot, "svg").decode()
    assert svg.lstrip().startswith("<?xml") and "layer1.0 … layer1.1" in svg
    assert graph.render(dot, "png")[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_sandboxed_trace_is_the_same_graph(resnet18: graph.Graph) -> None:
    assert graph.sandboxed("resnet18").nodes == resnet18.nodes


def test_the_graph_command_prints_json_and_refuses_a_format(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    from ptexplore.__main__ import main

    assert main(["graph", "resnet18", "--depth", "2", "--format", "json"]) == 0
    data = json.loads(capsysbinary.readouterr().out)
    assert data["model"] == "resnet18" and data["complete"]
    assert any(i["kind"] == "fold" and i["repeat"] == 2 for i in data["items"])
    with pytest.raises(SystemExit) as bad:
        main(["graph", "resnet18", "--format", "gif"])
    assert bad.value.code == 2  # argparse's refusal, with the choices


# ------------------------------------------------------------------------ the page tab


def _flow_tab(model: str) -> AppTest:
    from tests.conftest import open_page, open_tab

    at = open_page("pages/3_Model_Explorer.py")
    at.selectbox(key="models.model").set_value(model).run()
    return open_tab(at, "models", FLOW)


def test_the_data_flow_tab_draws_folds_and_highlights_for_the_tree() -> None:
    at = _flow_tab("resnet18")
    assert not at.exception and not at.error, [e.value for e in at.exception]
    said = " ".join(str(c.value) for c in at.caption)
    assert "Traced with module hooks and a TorchFunctionMode" in said
    assert "71 nodes and 78 tensors" in said and "1 folded runs" in said
    assert "layer1.0…1" in at.multiselect(key="models.flow_open").options
    at.selectbox(key="models.flow_focus").set_value("layer2.0").run()
    assert at.session_state["models.filter"] == "layer2.0"  # the tree tab's filter
    assert any("Highlighted: 1 drawn item" in str(c.value) for c in at.caption)
    at.multiselect(key="models.flow_open").set_value(["layer1.0…1"]).run()
    assert not at.exception
    assert "layer1.0" in at.selectbox(key="models.flow_focus").options  # opened in place
    from ptexplore.ui.models.common import PARAMETERS, TREE
    from tests.conftest import open_tab

    open_tab(at, "models", PARAMETERS)
    assert any("9 of 62 parameters' names hold" in str(c.value) for c in at.caption), [
        c.value for c in at.caption
    ]
    open_tab(at, "models", TREE)
    assert at.text_input(key="models.filter").value == "layer2.0"
    _the_code_panel_prints_what_the_page_shows(open_tab(at, "models", FLOW))


def _the_code_panel_prints_what_the_page_shows(at: AppTest) -> None:
    import contextlib
    import io

    (box,) = [e for e in at.expander if "ptexplore.graph" in e.label]
    code = next(b.value for b in box.code if b.language == "python")
    shown = next(b.value for b in box.code if b.language == "text")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<panel>", "exec"), {"__name__": "__main__"})
    assert out.getvalue().strip() == shown.strip()
    assert "draw_graph(model, input_size=(1, 3, 224, 224), device='meta'" in code
