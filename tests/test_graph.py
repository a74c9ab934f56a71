"""The forward data-flow graph (ptexplore.graph): what it traces, folds, draws and exports."""

from __future__ import annotations

import json
import operator
import os
from pathlib import Path
from typing import Any

import pytest
import torch
from streamlit.testing.v1 import AppTest
from torch import nn

from ptexplore import graph
from ptexplore.graph import ItemKind, NodeKind
from ptexplore.models import shapes
from ptexplore.ui.models.common import FLOW

GOLDEN = Path(__file__).parent / "golden"


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


@pytest.mark.parametrize("depth", [1, 2])
def test_resnet18s_dot_matches_its_golden_file(resnet18: graph.Graph, depth: int) -> None:
    """Golden DOT files; regenerate with PTX_UPDATE_GOLDEN=1 (and read the diff)."""
    text = graph.to_dot(graph.build(resnet18, depth))
    path = GOLDEN / f"graph_resnet18_depth{depth}.dot"
    if os.environ.get("PTX_UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"{path.name} is missing: run PTX_UPDATE_GOLDEN=1 make test once"
    assert text == path.read_text()


# --------------------------------------------- node counts against an independent torch.fx


class _LeafTracer(torch.fx.Tracer):
    """fx with the graph's notion of a leaf: a module without children (fx's default
    treats every torch.nn module but Sequential as one, children or not)."""

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return not any(True for _ in m.children())


def _fx_nodes(model: nn.Module, x: torch.Tensor) -> tuple[int, list[str]]:
    """What fx records that computes a tensor from the input: the input, every leaf module
    call, every function or method call whose value is a tensor (or a tuple of them, as
    ``chunk`` gives) and depends on the input, the output. Left out: parameter reads
    (``get_attr``) and what only they feed, shape queries, and ``getitem`` that unpacks a
    tuple. Values come from running fx's graph on the meta input."""
    gm = torch.fx.GraphModule(model, _LeafTracer().trace(model))
    values: dict[torch.fx.Node, Any] = {}
    fed: dict[torch.fx.Node, bool] = {}

    class Run(torch.fx.Interpreter):
        def run_node(self, n: torch.fx.Node) -> Any:
            values[n] = out = super().run_node(n)
            fed[n] = n.op == "placeholder" or any(fed[a] for a in n.all_input_nodes)
            return out

    with torch.no_grad():
        Run(gm).run(x)

    def tensors(v: Any) -> bool:
        return isinstance(v, torch.Tensor) or (
            isinstance(v, tuple | list) and bool(v) and all(isinstance(t, torch.Tensor) for t in v)
        )

    count, modules = 0, []
    for n in gm.graph.nodes:
        if n.op in ("placeholder", "output"):
            count += 1
        elif n.op != "get_attr" and fed[n] and tensors(values[n]):
            unpack = n.target is operator.getitem and not isinstance(
                values[n.args[0]], torch.Tensor
            )
            count += not unpack
            if n.op == "call_module":
                modules.append(str(n.target))
    return count, modules


#: torchvision classifiers fx traces (vit and swin do not: MultiheadAttention's branches on
#: tensors; swin's fx.wrap'ed attention is one fx node and many here)
FX_MODELS = [
    "alexnet", "vgg11", "vgg11_bn", "squeezenet1_0", "squeezenet1_1", "resnet18", "resnet34",
    "resnet50", "resnext50_32x4d", "googlenet", "inception_v3",
    "densenet121", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "mnasnet0_5",
    "shufflenet_v2_x0_5", "regnet_x_400mf", "regnet_y_400mf", "efficientnet_b0",
    "convnext_tiny",
]  # fmt: skip


@pytest.mark.parametrize("key", FX_MODELS)
def test_node_count_equals_what_torch_fx_records(key: str) -> None:
    from ptexplore.models import catalog

    model = catalog.build_meta(key).model.eval()
    x = torch.empty(shapes.input_shape_for(key, None), device="meta")
    g = graph.trace_graph(model, (x,), name=key)
    count, modules = _fx_nodes(model, x)
    assert len(g.nodes) == count
    assert [n.name for n in g.nodes if n.kind is NodeKind.MODULE] == modules


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


def test_resnet50s_layer3_folds_its_five_identical_bottlenecks_and_opens_to_six() -> None:
    g = graph.of_key("resnet50")
    v = graph.build(g, depth=2)
    # layer3.0 downsamples (512 → 1024 channels, 28 → 14 pixels, a projection shortcut):
    # not the same structure as layer3.1 … layer3.5, which fold
    first, fold = v.item("layer3.0"), v.item("layer3.1…5")
    assert first.kind is ItemKind.BOX and first.in_shapes == ((1, 512, 28, 28),)
    assert fold.kind is ItemKind.FOLD and fold.repeat == 5 and fold.label == "Bottleneck"
    assert fold.in_shapes == fold.out_shapes == ((1, 1024, 14, 14),)
    opened = graph.build(g, depth=2, expand=frozenset({"layer3.1…5"}))
    blocks = [i for i in opened.items if i.parent == "layer3"]
    assert [(i.key, i.kind, i.label) for i in blocks] == [
        (f"layer3.{k}", ItemKind.BOX, "Bottleneck") for k in range(6)
    ]
    assert sum(i.params for i in blocks) == fold.params + first.params


class _Block(nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.up, self.act, self.down = nn.Linear(8, hidden), nn.ReLU(), nn.Linear(hidden, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.down(self.act(self.up(x)))


def test_blocks_that_differ_in_one_parameter_shape_do_not_fold() -> None:
    same = graph.graph(nn.Sequential(*[_Block(16) for _ in range(3)]), input_size=(2, 8))
    (run,) = graph.fold_runs(same).values()
    assert len(run) == 3
    assert graph.build(same, depth=1).item("0…2").repeat == 3
    # the middle block's hidden layer is wider: its in/out shapes are the same, its
    # parameters' are not, so nothing folds
    odd = graph.graph(nn.Sequential(_Block(16), _Block(32), _Block(16)), input_size=(2, 8))
    assert graph.fold_runs(odd) == {}
    assert [i.key for i in graph.build(odd, depth=1).items if i.kind is ItemKind.BOX] == [
        "0",
        "1",
        "2",
    ]


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


class Halfway(nn.Module):
    """Its second stage joins tensors that cannot be joined: ``torch.cat`` raises."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Linear(4, 6), nn.ReLU())
        self.head = nn.Linear(6, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.stem(x)
        z = torch.cat([y, x], dim=0)  # 2×6 and 2×4: the sizes differ in dim 1
        return self.head(z)


class Raises(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.a(x).relu()
        raise ValueError("this model is not finished")


def test_a_forward_that_raises_halfway_keeps_the_part_that_ran_and_names_the_op() -> None:
    g = graph.graph(Halfway(), input_size=(2, 4))
    assert not g.complete and g.stopped is not None
    assert g.stopped.startswith("The trace stopped at `torch.cat`: "), g.stopped
    assert "Sizes of tensors must match" in g.stopped
    assert [n.name for n in g.nodes] == ["input", "stem.0", "stem.1"]
    assert graph.to_dot(graph.build(g, depth=2)).count("->") == 2
    own = graph.graph(Raises(), input_size=(2, 4))
    assert own.stopped == (
        "The forward raised `ValueError`: `this model is not finished` — what ran before it "
        "is drawn."
    )
    assert [n.label for n in own.nodes] == ["input", "Linear", "Tensor.relu"]


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
