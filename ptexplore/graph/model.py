"""The forward data-flow graph, as data: nodes, the tensors between them, and which module
call holds which node. Pure and frozen (no torch objects inside): a graph pickles across
the sandbox, compares in tests and renders anywhere."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

Shape = tuple[int, ...]


class NodeKind(StrEnum):
    INPUT = "input"
    MODULE = "module"  # a call of a leaf module (no children): one box, its ops inside
    OP = "op"  # a functional op between module calls (add, cat, flatten, matmul, …)
    OUTPUT = "output"


@dataclass(frozen=True, slots=True)
class Node:
    id: int
    kind: NodeKind
    #: a module's name as ``named_modules()`` gives it; an op's function (``add``, ``cat``)
    name: str
    #: a module's class; an op's call as written (``torch.cat``, ``Tensor.flatten``)
    label: str
    #: the module calls that hold this node, outermost first (ids into ``Graph.calls``)
    scope: tuple[int, ...]
    out_shapes: tuple[Shape, ...]
    own_params: int = 0
    macs: int = 0


@dataclass(frozen=True, slots=True)
class Edge:
    """A tensor: made by ``src``, read by ``dst``."""

    src: int
    dst: int
    shape: Shape
    dtype: str


@dataclass(frozen=True, slots=True)
class Call:
    """One call of a module that has children (a block, a stage, the model itself)."""

    id: int
    qualname: str
    class_name: str
    parent: int | None
    depth: int  # 0: the model
    in_shapes: tuple[Shape, ...]
    out_shapes: tuple[Shape, ...]
    params: int  # every parameter of the module and its children
    macs: int  # everything its forward counted (its children's included)
    #: (class, the shapes of every parameter, inputs, outputs): equal for repeated blocks
    signature: tuple[object, ...]
    order: int  # when it started, among all calls and nodes


@dataclass(frozen=True, slots=True)
class Graph:
    model: str
    input_shape: Shape
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    calls: tuple[Call, ...]
    #: how it was traced, in one sentence (shown on the page)
    method: str
    #: None, or the sentence that says which op stopped the trace (the graph is what ran)
    stopped: str | None
    seconds: float
    total_params: int
    total_macs: int

    def node(self, node_id: int) -> Node:
        return self.nodes[node_id]

    def call(self, call_id: int) -> Call:
        return self.calls[call_id]

    @property
    def complete(self) -> bool:
        return self.stopped is None

    def count(self, kind: NodeKind, name: str | None = None) -> int:
        return sum(1 for n in self.nodes if n.kind is kind and (name is None or n.name == name))
