"""Autograd lab: the real graph behind detach()/no_grad(), four truths shown live, and
freezing a catalog model (gradients, optimizer, BatchNorm and Dropout).

Every result is read off real torch objects made by the script the page shows
(``ptexplore.live.script``); storage and version facts use ``ptexplore.memory``.
"""

from ptexplore.autograd.detach import CutAt, Fn, GraphConfig, GraphResult, Reduce, run_graph_lab
from ptexplore.autograd.freeze import (
    FreezeConfig,
    FreezeMode,
    FreezeResult,
    NormConfig,
    NormResult,
    run_freeze,
    run_norm,
    sandboxed_freeze,
    sandboxed_norm,
)
from ptexplore.autograd.graph import Graph, extract, to_dot
from ptexplore.autograd.truths import SavesOutput, Truth, TruthConfig, TruthResult, Write, run_truth

__all__ = [
    "CutAt",
    "Fn",
    "FreezeConfig",
    "FreezeMode",
    "FreezeResult",
    "Graph",
    "GraphConfig",
    "GraphResult",
    "NormConfig",
    "NormResult",
    "Reduce",
    "SavesOutput",
    "Truth",
    "TruthConfig",
    "TruthResult",
    "Write",
    "extract",
    "run_freeze",
    "run_graph_lab",
    "run_norm",
    "run_truth",
    "sandboxed_freeze",
    "sandboxed_norm",
    "to_dot",
]
