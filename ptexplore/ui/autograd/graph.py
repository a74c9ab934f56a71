"""🕸️ the graph — leaves, ``y = w * x + b``, ``z = f(y)``, the loss and one cut, drawn from
the real ``grad_fn.next_functions`` graph, with every leaf's ``.grad`` beside the formula —
and 🔍 the truths: detach's shared memory and version counter, the new leaf, ``.data`` vs
``.detach()``, and no_grad vs detach vs ``requires_grad_(False)``.
"""

from __future__ import annotations

import streamlit as st

from ptexplore.autograd import tables
from ptexplore.autograd.detach import CutAt, Fn, GraphConfig, GraphResult, Reduce, run_graph_lab
from ptexplore.autograd.truths import (
    SavesOutput,
    Truth,
    TruthConfig,
    TruthResult,
    Write,
    run_truth,
    truth_uses_write,
)
from ptexplore.i18n import N_, _
from ptexplore.pages import AUTOGRAD
from ptexplore.ui.choices import choices, shown
from ptexplore.ui.lab import Section
from ptexplore.ui.render import inert, show_error
from ptexplore.ui.state import PageState

STATE = PageState(AUTOGRAD)
GRAPH_TAB, TRUTHS_TAB = N_("🕸️ Graph & detach()"), N_("🔍 detach() truths")
#: the leaves' toggles: (leaf, default); each label is code (``x.requires_grad``), the same
#: in every language
_LEAF_TOGGLES = (("x", False), ("w", True), ("b", True))


# --------------------------------------------------------------------- tab 1: graph


def graph_controls(_shared: object) -> GraphConfig:
    c1, c2, c3 = st.columns([1.3, 1.1, 1.4])  # at 1024 px "x.requires_grad" fits
    with c1:
        st.markdown(_("**1 · Leaves** (each its own `requires_grad`)"))
        on: dict[str, bool] = {}
        for leaf, default in _LEAF_TOGGLES:
            label = f"{leaf}.requires_grad"
            on[leaf] = bool(st.toggle(label, value=default, **STATE.widget(f"{leaf}_grad")))
    with c2:
        st.markdown(_("**2 · The computation** `y = w * x + b`"))
        fn = st.radio(
            "z = f(y)",
            [f.value for f in Fn],
            horizontal=True,
            format_func=lambda v: f"torch.{v}(y)",
            **STATE.widget("fn", default=next(iter(Fn)).value, url=Fn),
        )
        reduce = st.radio(
            _("loss"),
            [r.value for r in Reduce],
            horizontal=True,
            format_func=lambda v: f"z.{v}()",
            **STATE.widget("reduce", default=next(iter(Reduce)).value, url=Reduce),
        )
    with c3:
        st.markdown(_("**3 · Cut the graph**"))
        cut = st.selectbox(
            _("Insert .detach() or torch.no_grad() at"),
            [c.value for c in CutAt],
            format_func=shown(choices(CutAt), lambda c: c.label),
            **STATE.widget("cut", default=next(iter(CutAt)).value, url=CutAt),
            help=_(
                "Watch the drawn graph and the .grad column: a cut removes exactly the "
                "edges below it."
            ),
        )
    return GraphConfig(on["x"], on["w"], on["b"], Fn(fn), Reduce(reduce), CutAt(cut))


def _graph_verdict(result: GraphResult) -> None:
    if result.refusal is not None:
        show_error(result.refusal, call="loss.backward()")
        return
    reached = [g.name for g in result.leaves if g.grad is not None]
    missed = [g.name for g in result.leaves if g.grad is None]
    got = ", ".join(f"`{n}`" for n in reached)
    none = ", ".join(f"`{n}`" for n in missed)
    if not reached:
        text = _("`loss.backward()` reached no leaf; `.grad` stays **None** for {none}.")
    elif missed:
        text = _("`loss.backward()` reached {got}; `.grad` stays **None** for {none}.")
    else:
        text = _("`loss.backward()` reached {got}.")
    st.success(text.format(got=got, none=none), icon="🕸️")


def _grads_table(result: GraphResult) -> None:
    st.markdown(_("**Every leaf's `.grad` after `backward()`, beside the formula**"))
    st.dataframe(tables.grads(result), hide_index=True, width="stretch")
    y = ", ".join(f"{v:g}" for v in next(r.values for r in result.tensors if r.name == "y"))
    if result.config.reduce is Reduce.MEAN:
        text = _(
            "By hand: y = w·x + b = [{y}]; d loss/d y = f'(y) / 3 (mean over 3 elements), "
            "with {derivative}; the chain rule through y = w·x + b gives x.grad = f'(y)·w, "
            "w.grad = f'(y)·x, b.grad = f'(y). Computed in plain Python, independently of "
            "autograd; None where no path of edges reaches the leaf (or backward() refused)."
        )
    else:
        text = _(
            "By hand: y = w·x + b = [{y}]; d loss/d y = f'(y), with {derivative}; the chain "
            "rule through y = w·x + b gives x.grad = f'(y)·w, w.grad = f'(y)·x, b.grad = "
            "f'(y). Computed in plain Python, independently of autograd; None where no path "
            "of edges reaches the leaf (or backward() refused)."
        )
    st.caption(text.format(y=y, derivative=_(result.config.fn.derivative)))


def _tensors_table(result: GraphResult) -> None:
    st.markdown(_("**The script's tensors** (storage facts from `ptexplore.memory`)"))
    st.dataframe(tables.tensors(result), hide_index=True, width="stretch")


def _saved_table(result: GraphResult) -> None:
    saved = tables.saved(result)
    st.markdown(
        _(
            "**What each backward function saved** (`grad_fn._saved_*`, read before "
            "`backward()` frees them — torchviz's `show_saved`)"
        )
    )
    if not any(n.saved for n in result.graph.functions):  # the table has no rows
        st.caption(_("Nothing: no backward function was recorded."))
        return
    st.dataframe(saved, hide_index=True, width="stretch")


def graph_render(_config: GraphConfig, result: GraphResult, _views: None) -> None:
    _graph_verdict(result)
    with st.container(key=STATE.key("graph")):
        st.graphviz_chart(
            result.dot,
            width="content",
            alt=_("The autograd graph of loss: tensors, backward functions and edges."),
        )
    st.caption(
        _(
            "Walked from each tensor's `grad_fn` through `next_functions`, as `backward()` walks "
            "it; arrows point the way autograd holds them (towards the leaves). 🟩 leaf that "
            "requires grad · 🟪 computed tensor · ⬜ dashed: needs no grad · 🟧 backward function "
            "(with what it saved) · 🟦 `AccumulateGrad` (writes `.grad`) · `None`: an input that "
            "needs no gradient · red dashed: a cut, not an autograd edge."
        )
    )
    _grads_table(result)
    _tensors_table(result)
    _saved_table(result)


GRAPH: Section[GraphConfig, GraphResult] = Section(
    "graph",
    graph_controls,
    run_graph_lab,
    graph_render,
    lambda _c, r: r.snippet,
    label=GRAPH_TAB,
)


# -------------------------------------------------------------------- tab 2: truths


def truth_controls(_shared: object) -> TruthConfig:
    c1, c2, c3 = st.columns([1.6, 1, 1], gap="large")
    truth = Truth(
        c1.selectbox(
            _("Truth"),
            [t.value for t in Truth],
            format_func=shown(choices(Truth)),
            **STATE.widget("truth", default=next(iter(Truth)).value, url=Truth),
        )
    )
    fn = SavesOutput(
        c2.radio(
            _("s = a.f()  (f saves its output)"),
            [f.value for f in SavesOutput],
            horizontal=True,
            format_func=lambda v: f"a.{v}()",
            **STATE.widget("truth_fn"),
        )
    )
    write = Write.ZERO
    if truth_uses_write(truth):
        write = Write(
            c3.radio(
                _("the in-place write"),
                [w.value for w in Write],
                horizontal=True,
                **STATE.widget("truth_write"),
            )
        )
    return TruthConfig(truth, fn, write)


def truth_render(_config: TruthConfig, result: TruthResult, _views: None) -> None:
    st.markdown(result.lesson)
    for c in result.checks:
        mark = "✅" if c.holds else "❌"
        st.markdown(f"{mark} **{c.claim}** — {inert(c.detail, limit=300)}")
    if result.refusal is not None:
        show_error(result.refusal, call=result.refused_call)
    if result.facts:
        st.dataframe(tables.facts(result), hide_index=True, width="stretch")
    if result.grads:
        st.dataframe(tables.truth_grads(result), hide_index=True)


TRUTHS: Section[TruthConfig, TruthResult] = Section(
    "truths",
    truth_controls,
    run_truth,
    truth_render,
    lambda _c, r: r.snippet,
    label=TRUTHS_TAB,
)
