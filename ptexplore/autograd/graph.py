"""The real autograd graph of a computation, read off torch's own objects.

:func:`extract` walks what ``backward()`` walks: from each named tensor's ``grad_fn``
through ``next_functions`` down to the ``AccumulateGrad`` nodes that write the leaves'
``.grad``. A ``(None, 0)`` entry of ``next_functions`` (an input that needs no gradient,
e.g. a detached tensor) becomes a ``None`` node, so a cut is visible where autograd holds
it. What each backward function saved (``grad_fn._saved_*``, as torchviz's ``show_saved``
shows it) is read before ``backward()`` frees it.

Edges point the way autograd holds them: tensor → its ``grad_fn`` → each of its
``next_functions`` → … → ``AccumulateGrad`` → the leaf. :func:`to_dot` turns a graph into a
Graphviz DOT string (every label escaped: names come from torch and from the page).

The words of the labels (a tensor's kind, a saved value's note) are in the language of the
rerun (``i18n._``); names from torch and code stay as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import torch

from ptexplore.i18n import N_, _
from ptexplore.memory import Sharing, sharing

#: Attributes torch gives a backward function for each value it saved.
SAVED_PREFIX = "_saved_"
#: A saved tensor's values are written out only up to this many elements.
SAVED_VALUES_SHOWN = 6
#: a saved ``None`` (:func:`_saved_line` shortens it to ``None``)
SAVED_NONE = N_("None (not needed for the inputs that need a gradient)")


class NodeKind(StrEnum):
    TENSOR = "tensor"
    #: a backward function: ``MulBackward0``, ``ReluBackward0`` …
    FUNCTION = "function"
    #: ``AccumulateGrad``: adds the incoming gradient into a leaf's ``.grad``
    ACCUMULATE = "accumulate"
    #: a ``(None, 0)`` entry of ``next_functions``: that input needs no gradient
    NONE = "none"


class EdgeKind(StrEnum):
    #: a tensor → its ``grad_fn``
    GRAD_FN = "grad_fn"
    #: a backward function → one of its ``next_functions``
    NEXT = "next_functions"
    #: ``AccumulateGrad`` → the leaf whose ``.grad`` it writes (``.variable``)
    VARIABLE = "variable"
    #: a backward function → a ``None`` entry of its ``next_functions``
    NONE = "none"
    #: not an autograd edge: drawn where the page cut one (``w`` ✂ ``w.detach()``)
    CUT = "cut"

    @property
    def autograd(self) -> bool:
        return self is not EdgeKind.CUT


@dataclass(frozen=True, slots=True)
class Saved:
    """One value a backward function saved for ``backward()``."""

    #: the attribute without its prefix: ``self``, ``other``, ``result``, ``self_sym_sizes``
    attr: str
    #: the value in words (a tensor's shape and first values, an int, a tuple, ``None``)
    value: str
    #: the named tensors whose memory a saved tensor is (same storage, same data_ptr)
    same_memory_as: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    kind: NodeKind
    #: unique and readable: ``x``, ``MulBackward0``, ``AccumulateGrad(w)``, ``None#1``
    name: str
    #: what the drawing shows (may span lines)
    label: str
    saved: tuple[Saved, ...] = ()
    #: tensors only: does it require grad / is it a leaf
    requires_grad: bool = False
    is_leaf: bool = False


@dataclass(frozen=True, slots=True)
class Edge:
    src: str
    dst: str
    kind: EdgeKind
    label: str = ""
    #: cuts only: let this line shape the layout (draw ``dst`` below ``src``)
    constrain: bool = False


@dataclass(frozen=True, slots=True)
class Cut:
    """A non-autograd line to draw between two named tensors (``w`` ✂ ``w_d``)."""

    src: str
    dst: str
    label: str
    #: draw ``dst`` below ``src`` (otherwise the line does not shape the layout)
    constrain: bool = False


@dataclass(frozen=True, slots=True)
class Graph:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    #: node ids drawn side by side in one row (the leaves, at the bottom of the drawing)
    same_rank: tuple[str, ...] = ()

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    def by_name(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    def names(self) -> frozenset[str]:
        return frozenset(n.name for n in self.nodes)

    def edge_names(self, *, autograd: bool = True) -> frozenset[tuple[str, str]]:
        """``(source name, target name)`` of every edge (autograd's own only, by default)."""
        names = {n.id: n.name for n in self.nodes}
        return frozenset(
            (names[e.src], names[e.dst]) for e in self.edges if e.kind.autograd or not autograd
        )

    def reaches(self, src: str, dst: str) -> bool:
        """Is there a path of autograd edges from node ``src`` to node ``dst`` (by name)?"""
        edges = self.edge_names()
        todo, seen = [src], {src}
        while todo:
            here = todo.pop()
            if here == dst:
                return True
            for a, b in edges:
                if a == here and b not in seen:
                    seen.add(b)
                    todo.append(b)
        return False

    @property
    def functions(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.kind in (NodeKind.FUNCTION, NodeKind.ACCUMULATE))


def _short(values: Iterable[float]) -> str:
    return ", ".join(f"{v:.4g}" for v in values)


def _tensor_text(t: torch.Tensor) -> str:
    flat = t.detach().reshape(-1)
    shown = _short(flat[:SAVED_VALUES_SHOWN].tolist())
    more = ", …" if flat.numel() > SAVED_VALUES_SHOWN else ""
    return f"tensor {tuple(t.shape)} [{shown}{more}]"


def _same_memory(t: torch.Tensor, named: Mapping[str, torch.Tensor]) -> tuple[str, ...]:
    return tuple(
        name
        for name, other in named.items()
        if other.shape == t.shape and sharing(other, t) is Sharing.SAME_PTR
    )


def saved_values(fn: Any, named: Mapping[str, torch.Tensor]) -> tuple[Saved, ...]:
    """What ``fn`` saved for backward (``fn._saved_*``), read now."""
    out: list[Saved] = []
    for attr in sorted(a for a in dir(fn) if a.startswith(SAVED_PREFIX)):
        short = attr.removeprefix(SAVED_PREFIX)
        try:
            value = getattr(fn, attr)
        except RuntimeError:  # backward() already freed it
            out.append(Saved(short, _("freed by backward()")))
            continue
        if isinstance(value, torch.Tensor):
            out.append(Saved(short, _tensor_text(value), _same_memory(value, named)))
        elif isinstance(value, tuple | list) and any(isinstance(v, torch.Tensor) for v in value):
            out.append(Saved(short, _("{n} tensors").format(n=len(value))))
        elif value is None:
            out.append(Saved(short, _(SAVED_NONE)))
        else:
            out.append(Saved(short, repr(value)))
    return tuple(out)


def _tensor_label(name: str, t: torch.Tensor) -> str:
    shape = tuple(t.shape)
    if t.grad_fn is not None:
        label = _("{name}\n{shape} · computed")
    elif t.requires_grad:
        label = _("{name}\n{shape} · leaf, requires_grad")
    else:
        label = _("{name}\n{shape} · no grad")
    return label.format(name=name, shape=shape)


def _saved_line(s: Saved) -> str:
    if s.same_memory_as:
        return f"{s.attr} = {' = '.join(s.same_memory_as)}"
    if s.value.startswith("tensor"):
        return f"{s.attr}: {s.value.split(' [', 1)[0]}"
    if s.value == _(SAVED_NONE):  # made in this language (results are kept per language)
        return f"{s.attr}: None"
    return f"{s.attr}: {s.value}"


def extract(
    tensors: Mapping[str, torch.Tensor],
    cuts: Sequence[Cut] = (),
    *,
    same_rank: Sequence[str] = (),
) -> Graph:
    """The autograd graph behind ``tensors`` (name → tensor, drawn in this order).

    Call it before ``backward()`` to see the saved values (backward frees them; the graph's
    structure stays). ``cuts`` adds non-autograd lines between named tensors;
    ``same_rank`` names tensors to draw in one row (e.g. the leaves).
    """
    nodes: list[Node] = []
    edges: list[Edge] = []
    tensor_ids: dict[str, str] = {}
    fn_ids: dict[int, str] = {}
    keep: list[object] = []  # keeps walked functions alive, so id() stays unique
    counts: dict[str, int] = {}
    none_count = 0

    def unique(base: str) -> str:
        counts[base] = counts.get(base, 0) + 1
        return base if counts[base] == 1 else f"{base}#{counts[base]}"

    def leaf_name(t: torch.Tensor) -> str | None:
        return next((n for n, other in tensors.items() if other is t), None)

    def tensor_node(name: str, t: torch.Tensor) -> str:
        if name in tensor_ids:
            return tensor_ids[name]
        node_id = f"t{len(tensor_ids)}"
        tensor_ids[name] = node_id
        nodes.append(
            Node(
                node_id,
                NodeKind.TENSOR,
                name,
                _tensor_label(name, t),
                requires_grad=bool(t.requires_grad),
                is_leaf=bool(t.is_leaf),
            )
        )
        return node_id

    def visit(fn: Any) -> str:
        nonlocal none_count
        if id(fn) in fn_ids:
            return fn_ids[id(fn)]
        keep.append(fn)
        node_id = f"f{len(fn_ids)}"
        fn_ids[id(fn)] = node_id
        kind_name = type(fn).__name__
        if kind_name == "AccumulateGrad":
            variable: torch.Tensor = fn.variable
            leaf = leaf_name(variable) or _("leaf {shape}").format(shape=tuple(variable.shape))
            nodes.append(
                Node(
                    node_id,
                    NodeKind.ACCUMULATE,
                    unique(f"AccumulateGrad({leaf})"),
                    f"AccumulateGrad\n→ {leaf}.grad",
                )
            )
            edges.append(Edge(node_id, tensor_node(leaf, variable), EdgeKind.VARIABLE, "variable"))
        else:
            saved = saved_values(fn, tensors)
            label = "\n".join([kind_name, *(_saved_line(s) for s in saved)])
            nodes.append(Node(node_id, NodeKind.FUNCTION, unique(kind_name), label, saved))
        for slot, (next_fn, _input) in enumerate(fn.next_functions):
            if next_fn is None:
                none_count += 1
                none_id = f"z{none_count}"
                nodes.append(Node(none_id, NodeKind.NONE, f"None#{none_count}", "None"))
                edges.append(
                    Edge(node_id, none_id, EdgeKind.NONE, _("input {slot}").format(slot=slot))
                )
            else:
                edges.append(Edge(node_id, visit(next_fn), EdgeKind.NEXT))
        return node_id

    for name, t in tensors.items():
        tid = tensor_node(name, t)
        if t.grad_fn is not None:
            edges.append(Edge(tid, visit(t.grad_fn), EdgeKind.GRAD_FN, "grad_fn"))
    for cut in cuts:
        edges.append(
            Edge(
                tensor_node(cut.src, tensors[cut.src]),
                tensor_node(cut.dst, tensors[cut.dst]),
                EdgeKind.CUT,
                cut.label,
                cut.constrain,
            )
        )
    row = tuple(tensor_ids[n] for n in same_rank if n in tensor_ids)
    return Graph(tuple(nodes), tuple(edges), row)


# ------------------------------------------------------------------------------- DOT


def dot_string(text: str) -> str:
    """``text`` as one quoted DOT string: backslashes, quotes and line breaks escaped."""
    body = (
        str(text)
        .replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\n", "\\n")
    )
    return f'"{body}"'


_NODE_STYLE: dict[str, str] = {
    "function": 'shape=box, style="rounded,filled", fillcolor="#fde9c8", color="#b7791f"',
    "accumulate": 'shape=box, style="rounded,filled", fillcolor="#d6ecff", color="#2b6cb0"',
    "none": 'shape=plaintext, fontcolor="#718096"',
    "leaf": 'shape=box, style="filled", fillcolor="#c6f6d5", color="#2f855a", penwidth=1.5',
    "computed": 'shape=box, style="filled", fillcolor="#e9d8fd", color="#6b46c1"',
    "plain": 'shape=box, style="filled,dashed", fillcolor="#edf2f7", color="#718096"',
}
_EDGE_STYLE: dict[EdgeKind, str] = {
    EdgeKind.GRAD_FN: 'style=dotted, color="#6b46c1"',
    EdgeKind.NEXT: 'color="#4a5568"',
    EdgeKind.VARIABLE: 'color="#2b6cb0"',
    EdgeKind.NONE: 'style=dashed, color="#a0aec0"',
    EdgeKind.CUT: 'style=dashed, color="#e53e3e", fontcolor="#e53e3e", dir=none, penwidth=2',
}


def _style(node: Node) -> str:
    if node.kind is not NodeKind.TENSOR:
        return _NODE_STYLE[node.kind.value]
    if node.requires_grad and node.is_leaf:
        return _NODE_STYLE["leaf"]
    if node.requires_grad:
        return _NODE_STYLE["computed"]
    return _NODE_STYLE["plain"]


def to_dot(graph: Graph, *, title: str = "") -> str:
    """A Graphviz DOT string for ``graph`` (for ``st.graphviz_chart``)."""
    lines = [
        "digraph autograd {",
        '  graph [rankdir=TB, bgcolor="transparent", nodesep=0.35, ranksep=0.4, '
        f'fontname="Helvetica", fontsize=12, labelloc=t, label={dot_string(title)}];',
        '  node [fontname="Helvetica", fontsize=11, fontcolor="#1a202c"];',
        '  edge [fontname="Helvetica", fontsize=9, fontcolor="#4a5568", arrowsize=0.7];',
    ]
    for n in graph.nodes:
        lines.append(f"  {n.id} [label={dot_string(n.label)}, {_style(n)}];")
    for e in graph.edges:
        label = f", label={dot_string(e.label)}" if e.label else ""
        loose = ", constraint=false" if e.kind is EdgeKind.CUT and not e.constrain else ""
        lines.append(f"  {e.src} -> {e.dst} [{_EDGE_STYLE[e.kind]}{loose}{label}];")
    if graph.same_rank:
        lines.append(f"  {{ rank=same; {'; '.join(graph.same_rank)}; }}")
    lines.append("}")
    return "\n".join(lines) + "\n"
