"""The forward data-flow graph: how a tensor travels through a model (no Streamlit here).

>>> import ptexplore, torchvision
>>> g = ptexplore.graph(torchvision.models.resnet18(), input_size=(1, 3, 224, 224))
>>> g.count(ptexplore.graph.NodeKind.OP, "add_")   # the eight residual additions
8
>>> view = ptexplore.graph.build(g, depth=2)        # layer1.0 … layer1.1 folded ×2
>>> dot = ptexplore.graph.to_dot(view)

* :mod:`~ptexplore.graph.model` — the graph as frozen data: nodes (module calls and ops),
  edges (tensors with shape and dtype), the module calls that hold them;
* :mod:`~ptexplore.graph.trace` — one forward on meta tensors, followed by module hooks
  and a ``TorchFunctionMode``; a forward that stops still gives the part that ran;
* :mod:`~ptexplore.graph.view` — collapse to a depth, fold repeated blocks, expand or
  collapse one box in place;
* :mod:`~ptexplore.graph.render` — DOT, SVG and PNG (Graphviz), JSON.

The module itself is callable — ``ptexplore.graph(model, input_size=...)`` is
:func:`graph` — like ``ptexplore.summary``.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ptexplore import isolate
from ptexplore.errors import InputError, ModelError
from ptexplore.graph.model import Call, Edge, Graph, Node, NodeKind
from ptexplore.graph.render import have_dot as render_available
from ptexplore.graph.render import render, to_dot, to_json
from ptexplore.graph.trace import METHOD, trace_graph
from ptexplore.graph.view import Item, ItemKind, View, build, fold_runs
from ptexplore.i18n import N_, _
from ptexplore.limits import GRAPH_MAX_NODES, SANDBOX_BUILD_MEMORY_MB

__all__ = [
    "METHOD",
    "Call",
    "Edge",
    "Graph",
    "Item",
    "ItemKind",
    "Node",
    "NodeKind",
    "View",
    "build",
    "fold_runs",
    "graph",
    "of_key",
    "render",
    "render_available",
    "sandboxed",
    "to_dot",
    "to_json",
    "trace_graph",
]


def graph(
    model: nn.Module,
    input_size: Sequence[int] | None = None,
    *,
    inputs: tuple[Any, ...] | None = None,
    dtype: torch.dtype = torch.float32,
) -> Graph:
    """The data-flow graph of ``model`` on one input of ``input_size`` (batch included),
    or on ``inputs``; traced on meta tensors, so even a huge model costs no memory."""
    if inputs is None:
        if input_size is None:
            raise InputError(
                _("Give input_size (or inputs)."), fix=_("e.g. input_size=(1, 3, 224, 224)")
            )
        inputs = (torch.empty(tuple(input_size), device="meta", dtype=dtype),)
    return trace_graph(model, inputs, name=type(model).__name__)


def of_key(
    key: str,
    num_classes: int | None = None,
    side: int | None = None,
    *,
    shape: tuple[int, ...] | None = None,
) -> Graph:
    """The graph of a model the explorer opens (a catalog key), on its default input, a
    ``side``×``side`` image or an input of ``shape`` (batch first), traced on a private
    meta build."""
    from ptexplore.models import catalog, shapes

    if shape is None:
        shape = shapes.input_shape_for(key, side)
    e = catalog.entry(key)
    model = catalog.build_meta(key, num_classes).model
    x = torch.empty(shape, device="meta", dtype=getattr(torch, e.input_dtype))
    g = trace_graph(model, (x,), name=key)
    if len(g.nodes) > GRAPH_MAX_NODES:
        raise ModelError(
            _("{key}'s forward makes {nodes:,} nodes; the graph is drawn up to {most:,}.").format(
                key=key, nodes=len(g.nodes), most=GRAPH_MAX_NODES
            ),
            fix=_("Use the Module tree and Shapes tabs for this model."),
        )
    return g


_GRAPH_JOB = isolate.job(
    N_("tracing the model's data flow"),  # translated where a lesson says it
    isolate.Limits(memory_mb=SANDBOX_BUILD_MEMORY_MB),
    reuse=True,
)


def sandboxed(key: str, num_classes: int | None = None, side: int | None = None) -> Graph:
    """:func:`of_key` in a sandboxed child (the model's own forward code runs): what the
    page calls. A forward that crashes or spins ends its job only."""
    return _GRAPH_JOB.call(of_key, key, num_classes, side)


class _Callable(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Graph:
        return graph(*args, **kwargs)


sys.modules[__name__].__class__ = _Callable
