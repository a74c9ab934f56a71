"""The autograd graph read off torch's own objects: node and edge sets of known expressions,
the cuts detach() and no_grad() make, what each node saved, and the DOT text."""

from __future__ import annotations

import torch

from ptexplore.autograd.graph import Cut, EdgeKind, NodeKind, dot_string, extract, to_dot


def _leaves() -> tuple[torch.Tensor, torch.Tensor]:
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([3.0, 4.0], requires_grad=True)
    return a, b


def test_product_sum_has_exactly_the_expected_nodes_and_edges() -> None:
    a, b = _leaves()
    c = (a * b).sum()
    g = extract({"c": c, "a": a, "b": b})
    assert g.names() == {
        "c",
        "SumBackward0",
        "MulBackward0",
        "AccumulateGrad(a)",
        "AccumulateGrad(b)",
        "a",
        "b",
    }
    assert g.edge_names() == {
        ("c", "SumBackward0"),
        ("SumBackward0", "MulBackward0"),
        ("MulBackward0", "AccumulateGrad(a)"),
        ("MulBackward0", "AccumulateGrad(b)"),
        ("AccumulateGrad(a)", "a"),
        ("AccumulateGrad(b)", "b"),
    }
    kinds = {n.name: n.kind for n in g.nodes}
    assert kinds["MulBackward0"] is NodeKind.FUNCTION
    assert kinds["AccumulateGrad(a)"] is NodeKind.ACCUMULATE
    assert kinds["a"] is NodeKind.TENSOR
    assert g.reaches("c", "a") and g.reaches("c", "b") and not g.reaches("a", "c")


def test_a_reused_input_keeps_both_edges_as_autograd_holds_them() -> None:
    a, _ = _leaves()
    d = (a * a).sum()
    g = extract({"d": d, "a": a})
    mul = g.by_name("MulBackward0")
    acc = g.by_name("AccumulateGrad(a)")
    # next_functions holds AccumulateGrad(a) twice (self and other): two edges, one node
    assert [e.kind for e in g.edges if e.src == mul.id and e.dst == acc.id] == [
        EdgeKind.NEXT,
        EdgeKind.NEXT,
    ]
    assert sum(1 for n in g.nodes if n.name.startswith("AccumulateGrad")) == 1


def test_detach_cuts_exactly_the_edge_to_that_leaf() -> None:
    a, b = _leaves()
    a_d = a.detach()
    e = (a_d * b).sum()
    g = extract({"e": e, "a_d": a_d, "a": a, "b": b}, [Cut("a", "a_d", "detach()")])
    assert g.edge_names() == {
        ("e", "SumBackward0"),
        ("SumBackward0", "MulBackward0"),
        ("MulBackward0", "None#1"),  # slot 0: a.detach() needs no gradient
        ("MulBackward0", "AccumulateGrad(b)"),
        ("AccumulateGrad(b)", "b"),
    }
    assert "AccumulateGrad(a)" not in g.names()
    assert not g.reaches("e", "a") and g.reaches("e", "b")
    # the cut is drawn, but it is not an autograd edge
    assert ("a", "a_d") in g.edge_names(autograd=False)
    assert ("a", "a_d") not in g.edge_names()
    none = g.by_name("None#1")
    assert none.kind is NodeKind.NONE
    assert [e.label for e in g.edges if e.dst == none.id] == ["input 0"]


def test_no_grad_records_no_edge_at_all() -> None:
    a, b = _leaves()
    with torch.no_grad():
        f = a * b
    g = extract({"f": f, "a": a, "b": b})
    assert g.edge_names() == frozenset()
    assert g.names() == {"f", "a", "b"}
    f_node = g.by_name("f")
    assert not f_node.requires_grad and f_node.is_leaf


def test_saved_values_name_the_tensors_they_are() -> None:
    a, b = _leaves()
    s = (a * b).sigmoid()
    loss = s.sum()
    g = extract({"loss": loss, "s": s, "a": a, "b": b})
    mul = {x.attr: x for x in g.by_name("MulBackward0").saved}
    assert mul["self"].same_memory_as == ("a",)  # d(a*b)/db needs a …
    assert mul["other"].same_memory_as == ("b",)  # … and d(a*b)/da needs b
    assert mul["self"].value == "tensor (2,) [1, 2]"
    sig = {x.attr: x for x in g.by_name("SigmoidBackward0").saved}
    assert sig["result"].same_memory_as == ("s",)  # sigmoid saves its output
    assert "result = s" in g.by_name("SigmoidBackward0").label
    total = {x.attr: x.value for x in g.by_name("SumBackward0").saved}
    assert total["self_sym_sizes"] == "(2,)"
    # backward frees them: a second read says so instead of raising
    loss.backward()
    after = extract({"loss": loss, "s": s, "a": a, "b": b})
    freed = {x.attr: x.value for x in after.by_name("SigmoidBackward0").saved}
    assert freed["result"] == "freed by backward()"
    assert after.edge_names() == g.edge_names()  # the structure stays


def test_dot_escapes_every_label() -> None:
    assert dot_string('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    t = torch.ones(2, requires_grad=True)
    out = (t * 2).sum()
    name = 'we"ird\\name\nwith lines'
    dot = to_dot(extract({"out": out, name: t}), title='title "quoted"')
    assert dot.startswith("digraph autograd {") and dot.rstrip().endswith("}")
    assert '\\"ird\\\\name\\nwith lines' in dot
    assert 'label="title \\"quoted\\""' in dot
    for line in dot.splitlines()[1:-1]:
        # every statement is one line with balanced (unescaped) quotes
        assert line.rstrip().endswith(";"), line
        assert line.replace('\\"', "").count('"') % 2 == 0, line
    g = extract({"out": out, name: t})
    assert all(f"  {n.id} [label=" in dot for n in g.nodes)
    assert sum(" -> " in line for line in dot.splitlines()) == len(g.edges)


def test_a_saved_none_reads_none_on_the_node_in_every_language() -> None:
    """A saved ``None`` is the sentence SAVED_NONE in the saved table and plain ``None`` on
    its node, told by the sentence itself (not by its translation's first word)."""
    from ptexplore import i18n
    from ptexplore.autograd.graph import SAVED_NONE, extract
    from ptexplore.i18n import Lang

    x, w = torch.ones(3), torch.ones(3, requires_grad=True)
    y = x * w  # MulBackward0 needs x to give w its gradient, not w: it saves None for it
    for lang in Lang:
        with i18n.language(lang):
            g = extract({"x": x, "w": w, "y": y})
            mul = next(n.label for n in g.nodes if n.label.startswith("MulBackward0"))
            saved = {s.attr: s.value for f in g.functions for s in f.saved}
        assert "other: None" in mul.split("\n"), (lang, mul)
        with i18n.language(lang):
            assert saved["other"] == i18n._(SAVED_NONE)
