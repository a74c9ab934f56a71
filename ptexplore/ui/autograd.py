"""The Autograd lab on the skeleton: four lazy tabs, one :class:`Section` each.

* 🕸️ the graph — leaves, ``y = w * x + b``, ``z = f(y)``, the loss and one cut, drawn from
  the real ``grad_fn.next_functions`` graph, with every leaf's ``.grad`` beside the formula;
* 🔍 the truths — detach's shared memory and version counter, the new leaf, ``.data`` vs
  ``.detach()``, and no_grad vs detach vs ``requires_grad_(False)``;
* 🧊 freezing — a private catalog model, one forward/backward, gradient norms and the
  optimizer (heavy: under the semaphore);
* 📊 BatchNorm and Dropout with every parameter frozen (heavy).

Every section is pure by config, so a rerun with nothing changed computes nothing.
"""

from __future__ import annotations

import streamlit as st

from ptexplore.autograd import figures
from ptexplore.autograd.detach import CutAt, Fn, GraphConfig, GraphResult, Reduce, run_graph_lab
from ptexplore.autograd.freeze import (
    DEFAULT_NUM_CLASSES,
    FREEZE_MODELS,
    LR,
    MOMENTUM,
    NORM_MODELS,
    FreezeConfig,
    FreezeMode,
    FreezeResult,
    NormConfig,
    NormResult,
    head_name,
    run_freeze,
    run_norm,
    side_choices,
    top_level,
)
from ptexplore.autograd.truths import (
    SavesOutput,
    Truth,
    TruthConfig,
    TruthResult,
    Write,
    run_truth,
    truth_uses_write,
)
from ptexplore.limits import (
    AUTOGRAD_DEFAULT_SIDE,
    AUTOGRAD_MAX_BATCH,
    AUTOGRAD_MAX_PATTERN_CHARS,
    AUTOGRAD_MIN_BATCH,
    MAX_NUM_CLASSES,
)
from ptexplore.models import catalog
from ptexplore.pages import AUTOGRAD
from ptexplore.ui.lab import Section, Tab, run_section
from ptexplore.ui.page import seed_input
from ptexplore.ui.render import chart, inert, show_error
from ptexplore.ui.state import PageState, link_choice, link_int

STATE = PageState(AUTOGRAD)
GRAPH_TAB, TRUTHS_TAB, FREEZE_TAB, NORM_TAB = (
    "🕸️ Graph & detach()",
    "🔍 detach() truths",
    "🧊 Freezing",
    "📊 BatchNorm & Dropout",
)


def _values(values: tuple[float, ...] | None, spec: str = ".4f") -> str:
    return "None" if values is None else "[" + ", ".join(f"{v:{spec}}" for v in values) + "]"


def _labels() -> dict[str, str]:
    return catalog.labels()


def freeze_models() -> tuple[str, ...]:
    """The freezing demo's models: FREEZE_MODELS, then the operator's own (PTEXPLORE_MODELS)."""
    return (*FREEZE_MODELS, *catalog.user_keys())


# --------------------------------------------------------------------- tab 1: graph


def graph_controls() -> GraphConfig:
    c1, c2, c3 = st.columns([1.3, 1.1, 1.4])  # at 1024 px "x.requires_grad" fits
    with c1:
        st.markdown("**1 · Leaves** (each its own `requires_grad`)")
        x = st.toggle("x.requires_grad", value=False, **STATE.widget("x_grad"))
        w = st.toggle("w.requires_grad", value=True, **STATE.widget("w_grad"))
        b = st.toggle("b.requires_grad", value=True, **STATE.widget("b_grad"))
    with c2:
        st.markdown("**2 · The computation** `y = w * x + b`")
        fn = st.radio(
            "z = f(y)",
            [f.value for f in Fn],
            horizontal=True,
            format_func=lambda v: f"torch.{v}(y)",
            **STATE.widget("fn", default=next(iter(Fn)).value, url=Fn),
        )
        reduce = st.radio(
            "loss",
            [r.value for r in Reduce],
            horizontal=True,
            format_func=lambda v: f"z.{v}()",
            **STATE.widget("reduce", default=next(iter(Reduce)).value, url=Reduce),
        )
    with c3:
        st.markdown("**3 · Cut the graph**")
        cut = st.selectbox(
            "Insert .detach() or torch.no_grad() at",
            [c.value for c in CutAt],
            format_func=lambda v: CutAt(v).label,
            **STATE.widget("cut", default=next(iter(CutAt)).value, url=CutAt),
            help="Watch the drawn graph and the .grad column: a cut removes exactly the "
            "edges below it.",
        )
    return GraphConfig(bool(x), bool(w), bool(b), Fn(fn), Reduce(reduce), CutAt(cut))


def _graph_verdict(result: GraphResult) -> None:
    if result.refusal is not None:
        show_error(result.refusal, call="loss.backward()")
        return
    reached = [g.name for g in result.leaves if g.grad is not None]
    missed = [g.name for g in result.leaves if g.grad is None]
    got = ", ".join(f"`{n}`" for n in reached) or "no leaf"
    none = f"; `.grad` stays **None** for {', '.join(f'`{n}`' for n in missed)}" if missed else ""
    st.success(f"`loss.backward()` reached {got}{none}.", icon="🕸️")


def _grads_table(result: GraphResult) -> None:
    st.markdown("**Every leaf's `.grad` after `backward()`, beside the formula**")
    st.dataframe(
        {
            "leaf": [g.name for g in result.leaves],
            "requires_grad": [g.requires_grad for g in result.leaves],
            ".grad (autograd)": [_values(g.grad, ".4g") for g in result.leaves],
            "by hand": [_values(g.expected, ".4g") for g in result.leaves],
            "formula": [g.formula if g.expected is not None else "—" for g in result.leaves],
            "equal": ["✅" if g.matches else "❌" for g in result.leaves],
        },
        hide_index=True,
        width="stretch",
    )
    y = ", ".join(f"{v:g}" for v in next(r.values for r in result.tensors if r.name == "y"))
    st.caption(
        f"By hand: y = w·x + b = [{y}]; d loss/d y = f'(y)"
        + (" / 3 (mean over 3 elements)" if result.config.reduce is Reduce.MEAN else "")
        + f", with {result.config.fn.derivative}; the chain rule through y = w·x + b "
        "gives x.grad = f'(y)·w, w.grad = f'(y)·x, b.grad = f'(y). Computed in plain "
        "Python, independently of autograd; None where no path of edges reaches the leaf "
        "(or backward() refused)."
    )


def _tensors_table(result: GraphResult) -> None:
    st.markdown("**The script's tensors** (storage facts from `ptexplore.memory`)")
    rows = result.tensors
    st.dataframe(
        {
            "tensor": [r.name for r in rows],
            "values": [_values(r.values) for r in rows],
            "requires_grad": [r.requires_grad for r in rows],
            "is_leaf": [r.is_leaf for r in rows],
            "grad_fn": [r.grad_fn for r in rows],
            "_version": [r.version for r in rows],
            "shares storage with": [", ".join(r.shares_storage_with) or "—" for r in rows],
        },
        hide_index=True,
        width="stretch",
    )


def _saved_table(result: GraphResult) -> None:
    rows = [(n.name, s) for n in result.graph.functions for s in n.saved]
    st.markdown(
        "**What each backward function saved** (`grad_fn._saved_*`, read before "
        "`backward()` frees them — torchviz's `show_saved`)"
    )
    if not rows:
        st.caption("Nothing: no backward function was recorded.")
        return
    st.dataframe(
        {
            "node": [n for n, _ in rows],
            "saved": [f"_saved_{s.attr}" for _, s in rows],
            "value": [s.value for _, s in rows],
            "same memory as": [", ".join(s.same_memory_as) or "—" for _, s in rows],
        },
        hide_index=True,
        width="stretch",
    )


def graph_render(_config: GraphConfig, result: GraphResult) -> None:
    _graph_verdict(result)
    with st.container(key=STATE.key("graph")):
        st.graphviz_chart(
            result.dot,
            width="content",
            alt="The autograd graph of loss: tensors, backward functions and edges.",
        )
    st.caption(
        "Walked from each tensor's `grad_fn` through `next_functions`, as `backward()` walks "
        "it; arrows point the way autograd holds them (towards the leaves). 🟩 leaf that "
        "requires grad · 🟪 computed tensor · ⬜ dashed: needs no grad · 🟧 backward function "
        "(with what it saved) · 🟦 `AccumulateGrad` (writes `.grad`) · `None`: an input that "
        "needs no gradient · red dashed: a cut, not an autograd edge."
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
)


# -------------------------------------------------------------------- tab 2: truths


def truth_controls() -> TruthConfig:
    c1, c2, c3 = st.columns([1.6, 1, 1], gap="large")
    truth = Truth(
        c1.selectbox(
            "Truth",
            [t.value for t in Truth],
            **STATE.widget("truth", default=next(iter(Truth)).value, url=Truth),
        )
    )
    fn = SavesOutput(
        c2.radio(
            "s = a.f()  (f saves its output)",
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
                "the in-place write",
                [w.value for w in Write],
                horizontal=True,
                **STATE.widget("truth_write"),
            )
        )
    return TruthConfig(truth, fn, write)


def truth_render(_config: TruthConfig, result: TruthResult) -> None:
    st.markdown(result.lesson)
    for c in result.checks:
        mark = "✅" if c.holds else "❌"
        st.markdown(f"{mark} **{c.claim}** — {inert(c.detail, limit=300)}")
    if result.refusal is not None:
        show_error(result.refusal, call=result.refused_call)
    if result.facts:
        rows = result.facts
        st.dataframe(
            {
                "moment": [r.moment or "—" for r in rows],
                "tensor": [r.name for r in rows],
                "made by": [r.made_by for r in rows],
                "requires_grad": [r.requires_grad for r in rows],
                "is_leaf": [r.is_leaf for r in rows],
                "grad_fn": [r.grad_fn for r in rows],
                "_version": [r.version for r in rows],
                "shares storage": [r.same_storage_as for r in rows],
                "data_ptr()": [hex(r.data_ptr) for r in rows],
            },
            hide_index=True,
            width="stretch",
        )
    if result.grads:
        st.dataframe(
            {
                "gradient": [n for n, _ in result.grads],
                "values": [_values(g) for _, g in result.grads],
            },
            hide_index=True,
        )


TRUTHS: Section[TruthConfig, TruthResult] = Section(
    "truths",
    truth_controls,
    run_truth,
    truth_render,
    lambda _c, r: r.snippet,
)


# ------------------------------------------------------------------ tab 3: freezing


def _pattern(text: str) -> str:
    if len(text) > AUTOGRAD_MAX_PATTERN_CHARS:
        raise ValueError("too long")
    return text


def _model_picker(options: tuple[str, ...], name: str) -> str:
    labels = _labels()
    key: str = st.selectbox(
        "Model",
        list(options),
        format_func=lambda k: labels.get(k, k),
        **STATE.widget(name, default=options[0], url=link_choice(options)),
    )
    return key


def _size_pickers(key: str, batch_name: str, side_name: str) -> tuple[int, int]:
    batch = st.slider(
        "batch size",
        AUTOGRAD_MIN_BATCH,
        AUTOGRAD_MAX_BATCH,
        AUTOGRAD_MIN_BATCH,
        **STATE.widget(batch_name),
        help=f"{AUTOGRAD_MIN_BATCH} … {AUTOGRAD_MAX_BATCH}: BatchNorm in train() needs more "
        "than one value per channel; small keeps it fast for the whole class.",
    )
    sides = side_choices(key)
    side = AUTOGRAD_DEFAULT_SIDE
    if sides:
        side = st.select_slider(
            "input side (square images)",
            list(sides),
            value=AUTOGRAD_DEFAULT_SIDE,
            **STATE.widget(side_name),
            help="Smaller than the model's 224 default so one forward/backward stays fast; "
            "these models accept any side ≥ 32.",
        )
    return int(batch), int(side)


def freeze_controls() -> FreezeConfig:
    c1, c2, c3 = st.columns([1.1, 1.4, 1], gap="large")
    with c1:
        key = _model_picker(freeze_models(), "model")
        entry = catalog.entry(key)
        num_classes: int | None = None
        if entry.takes_num_classes:
            num_classes = int(
                st.number_input(
                    "num_classes",
                    min_value=1,
                    max_value=MAX_NUM_CLASSES,
                    step=1,
                    **STATE.widget(
                        "num_classes",
                        default=DEFAULT_NUM_CLASSES,
                        url=link_int(1, MAX_NUM_CLASSES),
                    ),
                    help="The classifier's outputs: fc of resnet18 has 512 × num_classes "
                    "weights + num_classes biases.",
                )
            )
    with c2:
        mode = FreezeMode(
            st.radio(
                "Freeze",
                [m.value for m in FreezeMode],
                format_func=lambda v: FreezeMode(v).label,
                **STATE.widget("mode", default=FreezeMode.ALL_BUT_HEAD.value, url=FreezeMode),
            )
        )
        pattern = "conv"
        children: tuple[str, ...] = ()
        if mode is FreezeMode.PATTERN:
            pattern = st.text_input(
                "freeze every parameter whose name contains",
                max_chars=AUTOGRAD_MAX_PATTERN_CHARS,
                **STATE.widget("pattern", default="conv", url=_pattern),
            )
        elif mode is FreezeMode.CHILDREN:
            kids = top_level(key)
            picked = st.multiselect(
                "top-level children to freeze",
                [c.name for c in kids],
                default=[],
                format_func=lambda n: f"{n} ({next(c for c in kids if c.name == n).class_name})",
                **STATE.widget("children", reset_on=key),
            )
            children = tuple(picked)
        elif mode is FreezeMode.ALL_BUT_HEAD:
            st.caption(
                f"The classifier here is {inert(head_name(key))}: the last top-level child "
                "with parameters."
            )
    with c3:
        batch, side = _size_pickers(key, "batch", "side")
    seed = seed_input()
    return FreezeConfig(key, num_classes, mode, pattern, children, batch, side, seed)


def _size_text(shape: tuple[int, ...]) -> str:
    if len(shape) == 4:
        return f"a random batch of {shape[0]} images of {shape[1]}×{shape[2]}×{shape[3]}"
    return f"a random batch of {shape[0]} vectors of {shape[1]} features"


def freeze_render(config: FreezeConfig, result: FreezeResult) -> None:
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(
        "trainable parameters",
        f"{result.trainable:,}",
        delta=f"{result.trainable_tensors} tensors",
        delta_color="off",
        delta_arrow="off",
    )
    m2.metric(
        "frozen parameters",
        f"{result.frozen:,}",
        delta=f"{result.frozen_tensors} tensors",
        delta_color="off",
        delta_arrow="off",
    )
    m3.metric("total", f"{result.total:,}")
    m4.metric("forward + backward", f"{result.seconds * 1000:.0f} ms")
    seeded = " (its Dropout masks seeded)" if result.dropout else ""
    st.caption(
        f"One `model.train()` forward and backward on {_size_text(result.input_shape)} "
        f"(shape {result.input_shape}) → output {result.output_shape}, loss = "
        f"{result.loss:.4f}{seeded}; measured on this server. A private copy built with "
        f"seed {config.seed}: your freezing never touches another learner's model."
    )
    for refusal in result.refusals:
        show_error(refusal, call="loss.backward() / torch.optim.SGD(...)")
    chart(figures.grad_norm_figure(result), key=STATE.key("grad_norms"))
    left, right = st.columns([1, 1.2], gap="large")
    with left:
        st.markdown("**The optimizer** gets only what trains:")
        st.code(
            "optimizer = torch.optim.SGD(\n"
            "    filter(lambda p: p.requires_grad, model.parameters()),\n"
            f"    lr={LR}, momentum={MOMENTUM},\n)",
            language="python",
            wrap_lines=True,
        )
        for g in result.groups:
            st.markdown(
                f"`optimizer.param_groups[{g.index}]`: **{g.tensors} tensors, "
                f"{g.numel:,} parameters** — exactly the trainable ones."
            )
            st.dataframe(
                {"key": [k for k, _ in g.options], "value": [v for _, v in g.options]},
                hide_index=True,
            )
    with right:
        st.markdown("**Every parameter tensor**")
        st.dataframe(
            {
                "name": [p.name for p in result.params],
                "shape": [str(p.shape) for p in result.params],
                "numel": [p.numel for p in result.params],
                "requires_grad": [p.requires_grad for p in result.params],
                ".grad": [
                    "None" if p.grad_norm is None else f"norm {p.grad_norm:.3g}"
                    for p in result.params
                ],
            },
            hide_index=True,
            height=320,
        )


def _freeze_job(config: FreezeConfig) -> str:
    return f"one forward/backward of {config.key}"


FREEZE: Section[FreezeConfig, FreezeResult] = Section(
    "freeze",
    freeze_controls,
    run_freeze,
    freeze_render,
    lambda _c, r: r.snippet,
    heavy=_freeze_job,
)


# --------------------------------------------------------- tab 4: BatchNorm, Dropout


def norm_controls() -> NormConfig:
    c1, c2, c3 = st.columns(3, gap="large")
    with c1:
        key = _model_picker(NORM_MODELS, "bn_model")
    with c2:
        batch, side = _size_pickers(key, "bn_batch", "bn_side")
    with c3:
        p = st.slider("Dropout p", 0.0, 0.9, 0.5, step=0.1, **STATE.widget("dropout_p"))
    seed = seed_input()
    return NormConfig(key, batch, side, seed, round(float(p), 2))


def norm_render(_config: NormConfig, result: NormResult) -> None:
    train = result.row("after a train() forward")
    in_eval = result.row("after an eval() forward")
    st.markdown(
        f"Every parameter is frozen (**{result.trainable} trainable**), yet one forward in "
        f"`train()` mode changed the running statistics of **{train.layers_changed} of "
        f"{result.layers}** BatchNorm layers: they are buffers, updated by the forward "
        "itself, not by gradients. `eval()` kept "
        f"**{result.layers - in_eval.layers_changed} of {result.layers}** as they were. "
        "`torch.no_grad()` does not stop the update either: only `eval()` does."
    )
    rows = result.rows
    st.dataframe(
        {
            "moment": [r.moment for r in rows],
            f"{result.layer}.running_mean[:3]": [_values(r.running_mean) for r in rows],
            f"{result.layer}.running_var[:3]": [_values(r.running_var) for r in rows],
            "num_batches_tracked": [r.num_batches_tracked for r in rows],
            "BatchNorm layers changed": [f"{r.layers_changed} of {result.layers}" for r in rows],
        },
        hide_index=True,
        width="stretch",
    )
    st.caption(
        f"The first BatchNorm layer is {inert(result.layer)}; batch of "
        f"{result.config.batch} random {result.config.side}×{result.config.side} images; "
        f"the three forwards took {result.seconds * 1000:.0f} ms on this server."
    )
    p = result.config.p
    st.markdown(
        f"**Dropout(p={p}) on the same input**: `eval()` is the identity; `train()` zeroes "
        f"each element with probability p and scales the survivors by 1/(1−p) = "
        f"{1 / (1 - p):.4g}. Here {result.dropped} of {len(result.dropout_train)} were "
        "zeroed (seeded)."
    )
    st.dataframe(
        {
            "": ["v (input)", "drop.eval()(v)", "drop.train()(v)"],
            **{
                str(i): [result.dropout_input[i], result.dropout_eval[i], result.dropout_train[i]]
                for i in range(len(result.dropout_input))
            },
        },
        hide_index=True,
    )


def _norm_job(config: NormConfig) -> str:
    return f"forward passes of {config.key}"


NORM: Section[NormConfig, NormResult] = Section(
    "norm",
    norm_controls,
    run_norm,
    norm_render,
    lambda _c, r: r.snippet,
    heavy=_norm_job,
)


TABS = (
    Tab(GRAPH_TAB, lambda: run_section(AUTOGRAD, GRAPH)),
    Tab(TRUTHS_TAB, lambda: run_section(AUTOGRAD, TRUTHS)),
    Tab(FREEZE_TAB, lambda: run_section(AUTOGRAD, FREEZE)),
    Tab(NORM_TAB, lambda: run_section(AUTOGRAD, NORM)),
)
