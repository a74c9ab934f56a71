"""The detach()/no_grad() lab: every leaf's .grad (None or not) and its values equal the
hand-derived formula, for every cut, function and reduction; each cut removes exactly the
expected edges."""

from __future__ import annotations

import itertools

import pytest
import torch

from ptexplore.autograd.detach import (
    LEAVES,
    CutAt,
    Fn,
    GraphConfig,
    Reduce,
    lab_code,
    run_graph_lab,
)

FULL_EDGES = {
    ("loss", "SumBackward0"),
    ("z", "ReluBackward0"),
    ("y", "AddBackward0"),
    ("SumBackward0", "ReluBackward0"),
    ("ReluBackward0", "AddBackward0"),
    ("AddBackward0", "MulBackward0"),
    ("AddBackward0", "AccumulateGrad(b)"),
    ("MulBackward0", "AccumulateGrad(w)"),
    ("MulBackward0", "AccumulateGrad(x)"),
    ("AccumulateGrad(x)", "x"),
    ("AccumulateGrad(w)", "w"),
    ("AccumulateGrad(b)", "b"),
}


def _all(**kw: object) -> GraphConfig:
    return GraphConfig(x_grad=True, w_grad=True, b_grad=True, **kw)  # type: ignore[arg-type]


def test_the_full_graph() -> None:
    r = run_graph_lab(_all())
    assert r.graph.edge_names() == FULL_EDGES
    assert r.refusal is None
    # relu passes y = (1, 2.5, -1) where y > 0: mask (1, 1, 0)
    assert r.leaf("x").grad == (0.5, -1.0, 0.0)  # f'(y) · w
    assert r.leaf("w").grad == (1.0, -2.0, 0.0)  # f'(y) · x
    assert r.leaf("b").grad == (1.0, 1.0, 0.0)  # f'(y)
    assert all(g.matches for g in r.leaves)


def test_detach_w_cuts_exactly_the_path_to_w() -> None:
    r = run_graph_lab(_all(cut=CutAt.DETACH_W))
    removed = {("MulBackward0", "AccumulateGrad(w)"), ("AccumulateGrad(w)", "w")}
    assert r.graph.edge_names() == (FULL_EDGES - removed) | {("MulBackward0", "None#1")}
    assert r.leaf("w").grad is None
    assert r.leaf("x").grad == (0.5, -1.0, 0.0) and r.leaf("b").grad == (1.0, 1.0, 0.0)
    assert ("w", "w_d") in r.graph.edge_names(autograd=False)  # the drawn cut
    w_d = next(t for t in r.tensors if t.name == "w_d")
    assert w_d.shares_storage_with == ("w",) and not w_d.requires_grad
    assert w_d.grad_fn == "None"


def test_detach_y_cuts_everything_and_backward_refuses() -> None:
    r = run_graph_lab(_all(cut=CutAt.DETACH_Y))
    # y keeps its own graph, but loss (made from y_d) has no grad_fn at all
    assert r.graph.edge_names() == {e for e in FULL_EDGES if e[0] not in ("loss", "z")} - {
        ("SumBackward0", "ReluBackward0"),
        ("ReluBackward0", "AddBackward0"),
    }
    assert "SumBackward0" not in r.graph.names() and not r.graph.reaches("loss", "x")
    assert r.graph.reaches("y", "w")
    assert ("y", "y_d") in r.graph.edge_names(autograd=False)
    assert r.refusal is not None and r.refusal.kind == "RuntimeError"
    assert (
        r.refusal.message
        == "element 0 of tensors does not require grad and does not have a grad_fn"
    )
    assert all(g.grad is None for g in r.leaves)
    assert "loss.backward()" in r.refusal.fix or "detach" in r.refusal.fix


def test_no_grad_y_records_nothing() -> None:
    r = run_graph_lab(_all(cut=CutAt.NO_GRAD_Y))
    assert r.graph.edge_names() == frozenset()
    assert r.refusal is not None
    assert {t.name: t.grad_fn for t in r.tensors}["y"] == "None"


def test_the_new_leaf_gets_its_own_grad_and_nothing_flows_back() -> None:
    r = run_graph_lab(_all(cut=CutAt.NEW_LEAF))
    assert r.refusal is None
    assert r.leaf("y_new").grad == (1.0, 1.0, 0.0)
    assert all(r.leaf(n).grad is None for n in LEAVES)
    assert r.graph.reaches("loss", "y_new") and not r.graph.reaches("loss", "w")
    y_new = next(t for t in r.tensors if t.name == "y_new")
    assert y_new.is_leaf and y_new.requires_grad and y_new.shares_storage_with == ("y",)


@pytest.mark.parametrize(("cut", "fn", "reduce"), list(itertools.product(CutAt, Fn, Reduce)))
def test_every_grad_equals_the_formula(cut: CutAt, fn: Fn, reduce: Reduce) -> None:
    r = run_graph_lab(_all(cut=cut, fn=fn, reduce=reduce))
    for g in r.leaves:
        assert (g.grad is None) == (g.expected is None), g
        assert g.matches, g
    reached = {g.name for g in r.leaves if g.grad is not None}
    # a leaf gets a .grad exactly when the drawn graph reaches it from loss
    assert reached == {n for n in ("x", "w", "b", "y_new") if r.graph.reaches("loss", n)}


@pytest.mark.parametrize("flags", list(itertools.product([False, True], repeat=3)))
def test_requires_grad_toggles_decide_which_leaves_get_a_grad(
    flags: tuple[bool, bool, bool],
) -> None:
    x, w, b = flags
    r = run_graph_lab(GraphConfig(x_grad=x, w_grad=w, b_grad=b, fn=Fn.SQUARE))
    assert {g.name for g in r.leaves if g.grad is not None} == {
        n for n, on in zip(LEAVES, flags, strict=True) if on
    }
    assert all(g.matches for g in r.leaves)
    assert (r.refusal is None) == any(flags)


def test_values_against_torch_autograd_grad_directly() -> None:
    """The formula is not fitted to the lab: torch.autograd.grad on a fresh graph agrees."""
    config = _all(fn=Fn.SIGMOID, reduce=Reduce.MEAN)
    r = run_graph_lab(config)
    x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    w = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    b = torch.tensor([0.5, 0.5, -7.0], requires_grad=True)
    grads = torch.autograd.grad(torch.sigmoid(w * x + b).mean(), (x, w, b))
    for name, want in zip(LEAVES, grads, strict=True):
        got = r.leaf(name).grad
        assert got is not None
        assert torch.allclose(torch.tensor(got), want)


def test_the_code_is_the_code_that_ran() -> None:
    config = _all(cut=CutAt.DETACH_X)
    r = run_graph_lab(config)
    assert r.snippet.code.strip() == lab_code(config).strip()
    assert "x_d = x.detach()" in r.snippet.code and "y = w * x_d + b" in r.snippet.code
    out = r.snippet.output
    assert "x.grad = None" in out and "w.grad = tensor([ 1., -2.,  0.])" in out
    assert "0x" not in out  # nothing process-specific
