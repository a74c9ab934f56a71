"""The tables the Autograd lab shows, as columns (pure: plain Python, no Streamlit).

Each builder returns ``{header: column}``, the form ``st.dataframe`` draws as it is.
"""

from __future__ import annotations

from ptexplore.autograd.detach import GraphResult
from ptexplore.autograd.freeze import FreezeResult, NormResult, ParamGroup
from ptexplore.autograd.truths import TruthResult

Columns = dict[str, list[object]]


def values(vals: tuple[float, ...] | None, spec: str = ".4f") -> str:
    """``[0.1000, 2.0000]`` (``None`` as the word)."""
    return "None" if vals is None else "[" + ", ".join(f"{v:{spec}}" for v in vals) + "]"


def grads(result: GraphResult) -> Columns:
    """Every leaf's ``.grad`` beside the hand-derived formula."""
    leaves = result.leaves
    return {
        "leaf": [g.name for g in leaves],
        "requires_grad": [g.requires_grad for g in leaves],
        ".grad (autograd)": [values(g.grad, ".4g") for g in leaves],
        "by hand": [values(g.expected, ".4g") for g in leaves],
        "formula": [g.formula if g.expected is not None else "—" for g in leaves],
        "equal": ["✅" if g.matches else "❌" for g in leaves],
    }


def tensors(result: GraphResult) -> Columns:
    """The script's tensors with their autograd and storage facts."""
    rows = result.tensors
    return {
        "tensor": [r.name for r in rows],
        "values": [values(r.values) for r in rows],
        "requires_grad": [r.requires_grad for r in rows],
        "is_leaf": [r.is_leaf for r in rows],
        "grad_fn": [r.grad_fn for r in rows],
        "_version": [r.version for r in rows],
        "shares storage with": [", ".join(r.shares_storage_with) or "—" for r in rows],
    }


def saved(result: GraphResult) -> Columns:
    """What each backward function saved (empty columns when none was recorded)."""
    rows = [(n.name, s) for n in result.graph.functions for s in n.saved]
    return {
        "node": [n for n, _ in rows],
        "saved": [f"_saved_{s.attr}" for _, s in rows],
        "value": [s.value for _, s in rows],
        "same memory as": [", ".join(s.same_memory_as) or "—" for _, s in rows],
    }


def facts(result: TruthResult) -> Columns:
    """A truth's tensors at each moment of its script."""
    rows = result.facts
    return {
        "moment": [r.moment or "—" for r in rows],
        "tensor": [r.name for r in rows],
        "made by": [r.made_by for r in rows],
        "requires_grad": [r.requires_grad for r in rows],
        "is_leaf": [r.is_leaf for r in rows],
        "grad_fn": [r.grad_fn for r in rows],
        "_version": [r.version for r in rows],
        "shares storage": [r.same_storage_as for r in rows],
        "data_ptr()": [hex(r.data_ptr) for r in rows],
    }


def truth_grads(result: TruthResult) -> Columns:
    return {
        "gradient": [n for n, _ in result.grads],
        "values": [values(g) for _, g in result.grads],
    }


def group_options(group: ParamGroup) -> Columns:
    """One optimizer param group's options (lr, momentum, …)."""
    return {"key": [k for k, _ in group.options], "value": [v for _, v in group.options]}


def parameters(result: FreezeResult) -> Columns:
    """Every parameter tensor: shape, size, requires_grad and its gradient's norm."""
    ps = result.params
    return {
        "name": [p.name for p in ps],
        "shape": [str(p.shape) for p in ps],
        "numel": [p.numel for p in ps],
        "requires_grad": [p.requires_grad for p in ps],
        ".grad": ["None" if p.grad_norm is None else f"norm {p.grad_norm:.3g}" for p in ps],
    }


def running_stats(result: NormResult) -> Columns:
    """The first BatchNorm layer's statistics at each moment, and how many layers moved."""
    rows = result.rows
    return {
        "moment": [r.moment for r in rows],
        f"{result.layer}.running_mean[:3]": [values(r.running_mean) for r in rows],
        f"{result.layer}.running_var[:3]": [values(r.running_var) for r in rows],
        "num_batches_tracked": [r.num_batches_tracked for r in rows],
        "BatchNorm layers changed": [f"{r.layers_changed} of {result.layers}" for r in rows],
    }


def norm_alternatives(result: NormResult) -> Columns:
    """The other ways to stop BatchNorm's statistics, each as one live layer showed it."""
    return {
        "way": [a.way for a in result.alternatives],
        "what the live layer did in train()": [a.seen for a in result.alternatives],
        "statistics stopped": [a.stopped for a in result.alternatives],
    }


def dropout(result: NormResult) -> Columns:
    """Dropout's input, eval() output and train() output, element by element."""
    cols: Columns = {"": ["v (input)", "drop.eval()(v)", "drop.train()(v)"]}
    for i in range(len(result.dropout_input)):
        cols[str(i)] = [result.dropout_input[i], result.dropout_eval[i], result.dropout_train[i]]
    return cols
