"""The tables the Autograd lab shows, as columns (pure: plain Python, no Streamlit).

Each builder returns ``{header: column}``, the form ``st.dataframe`` draws as it is. Headers
and cell words are in the rerun's language (``i18n._``); code names (``requires_grad``,
``grad_fn``, ``_version``) stay as they are. The results keep their English ids (a stats
row's moment, a gradient's name: what the code looks rows up by), translated here.
"""

from __future__ import annotations

from ptexplore.autograd.detach import GraphResult
from ptexplore.autograd.freeze import FreezeResult, NormResult, ParamGroup
from ptexplore.autograd.truths import TruthResult
from ptexplore.i18n import N_, _

Columns = dict[str, list[object]]
#: the BatchNorm alternatives' first column (the page makes it the table's index)
WAY = N_("way")


def values(vals: tuple[float, ...] | None, spec: str = ".4f") -> str:
    """``[0.1000, 2.0000]`` (``None`` as the word)."""
    return "None" if vals is None else "[" + ", ".join(f"{v:{spec}}" for v in vals) + "]"


def grads(result: GraphResult) -> Columns:
    """Every leaf's ``.grad`` beside the hand-derived formula."""
    leaves = result.leaves
    return {
        _("leaf"): [g.name for g in leaves],
        "requires_grad": [g.requires_grad for g in leaves],
        _(".grad (autograd)"): [values(g.grad, ".4g") for g in leaves],
        _("by hand"): [values(g.expected, ".4g") for g in leaves],
        _("formula"): [g.formula if g.expected is not None else "—" for g in leaves],
        _("equal"): ["✅" if g.matches else "❌" for g in leaves],
    }


def tensors(result: GraphResult) -> Columns:
    """The script's tensors with their autograd and storage facts."""
    rows = result.tensors
    return {
        _("tensor"): [r.name for r in rows],
        _("values"): [values(r.values) for r in rows],
        "requires_grad": [r.requires_grad for r in rows],
        "is_leaf": [r.is_leaf for r in rows],
        "grad_fn": [r.grad_fn for r in rows],
        "_version": [r.version for r in rows],
        _("shares storage with"): [", ".join(r.shares_storage_with) or "—" for r in rows],
    }


def saved(result: GraphResult) -> Columns:
    """What each backward function saved (empty columns when none was recorded)."""
    rows = [(n.name, s) for n in result.graph.functions for s in n.saved]
    return {
        _("node"): [n for n, _s in rows],
        _("saved"): [f"_saved_{s.attr}" for _n, s in rows],
        _("value"): [s.value for _n, s in rows],
        _("same memory as"): [", ".join(s.same_memory_as) or "—" for _n, s in rows],
    }


def facts(result: TruthResult) -> Columns:
    """A truth's tensors at each moment of its script."""
    rows = result.facts
    return {
        _("moment"): [r.moment or "—" for r in rows],
        _("tensor"): [r.name for r in rows],
        _("made by"): [r.made_by for r in rows],
        "requires_grad": [r.requires_grad for r in rows],
        "is_leaf": [r.is_leaf for r in rows],
        "grad_fn": [r.grad_fn for r in rows],
        "_version": [r.version for r in rows],
        _("shares storage"): [r.same_storage_as for r in rows],
        "data_ptr()": [hex(r.data_ptr) for r in rows],
    }


def truth_grads(result: TruthResult) -> Columns:
    return {
        _("gradient"): [_(n) for n, _g in result.grads],
        _("values"): [values(g) for _n, g in result.grads],
    }


def group_options(group: ParamGroup) -> Columns:
    """One optimizer param group's options (lr, momentum, …)."""
    return {
        _("key"): [k for k, _v in group.options],
        _("value"): [v for _k, v in group.options],
    }


def parameters(result: FreezeResult) -> Columns:
    """Every parameter tensor: shape, size, requires_grad and its gradient's norm."""
    ps = result.params
    return {
        _("name"): [p.name for p in ps],
        _("shape"): [str(p.shape) for p in ps],
        "numel": [p.numel for p in ps],
        "requires_grad": [p.requires_grad for p in ps],
        ".grad": [
            "None" if p.grad_norm is None else _("norm {norm:.3g}").format(norm=p.grad_norm)
            for p in ps
        ],
    }


def running_stats(result: NormResult) -> Columns:
    """The first BatchNorm layer's statistics at each moment, and how many layers moved."""
    rows = result.rows
    return {
        _("moment"): [_(r.moment) for r in rows],
        f"{result.layer}.running_mean[:3]": [values(r.running_mean) for r in rows],
        f"{result.layer}.running_var[:3]": [values(r.running_var) for r in rows],
        "num_batches_tracked": [r.num_batches_tracked for r in rows],
        _("BatchNorm layers changed"): [
            _("{n} of {total}").format(n=r.layers_changed, total=result.layers) for r in rows
        ],
    }


def norm_alternatives(result: NormResult) -> Columns:
    """The other ways to stop BatchNorm's statistics, each as one live layer showed it."""
    return {
        _(WAY): [a.way for a in result.alternatives],
        _("what the live layer did in train()"): [a.seen for a in result.alternatives],
        _("statistics stopped"): [a.stopped for a in result.alternatives],
    }


def dropout(result: NormResult) -> Columns:
    """Dropout's input, eval() output and train() output, element by element."""
    cols: Columns = {"": [_("v (input)"), "drop.eval()(v)", "drop.train()(v)"]}
    for i in range(len(result.dropout_input)):
        cols[str(i)] = [result.dropout_input[i], result.dropout_eval[i], result.dropout_train[i]]
    return cols
