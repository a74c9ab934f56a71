"""🧊 freezing — a private catalog model, one forward/backward, gradient norms and the
optimizer — and 📊 BatchNorm and Dropout with every parameter frozen (both heavy: under the
semaphore; each learner's model is a private copy).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ptexplore.autograd import figures, tables
from ptexplore.autograd.freeze import (
    DEFAULT_NUM_CLASSES,
    LR,
    MOMENTUM,
    NORM_MODELS,
    FreezeConfig,
    FreezeMode,
    FreezeResult,
    NormConfig,
    NormResult,
    freeze_models,
    head_name,
    sandboxed_freeze,
    sandboxed_norm,
    side_choices,
    top_level,
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
from ptexplore.ui.lab import Section
from ptexplore.ui.page import seed_input
from ptexplore.ui.render import chart, inert, show_error
from ptexplore.ui.state import PageState, link_choice, link_int

STATE = PageState(AUTOGRAD)
FREEZE_TAB, NORM_TAB = "🧊 Freezing", "📊 BatchNorm & Dropout"


# ------------------------------------------------------------------ tab 3: freezing


def _pattern(text: str) -> str:
    if len(text) > AUTOGRAD_MAX_PATTERN_CHARS:
        raise ValueError("too long")
    return text


def _model_picker(options: tuple[str, ...], name: str) -> str:
    labels = catalog.labels()
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


def freeze_controls(_shared: object) -> FreezeConfig:
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


def freeze_render(config: FreezeConfig, result: FreezeResult, _views: None) -> None:
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
            st.dataframe(tables.group_options(g), hide_index=True)
    with right:
        st.markdown("**Every parameter tensor**")
        st.dataframe(tables.parameters(result), hide_index=True, height=320)


def _freeze_job(config: FreezeConfig) -> str:
    return f"one forward/backward of {config.key}"


FREEZE: Section[FreezeConfig, FreezeResult] = Section(
    "freeze",
    freeze_controls,
    sandboxed_freeze,
    freeze_render,
    lambda _c, r: r.snippet,
    label=FREEZE_TAB,
    heavy=_freeze_job,
)


# --------------------------------------------------------- tab 4: BatchNorm, Dropout


def norm_controls(_shared: object) -> NormConfig:
    c1, c2, c3 = st.columns(3, gap="large")
    with c1:
        key = _model_picker(NORM_MODELS, "bn_model")
    with c2:
        batch, side = _size_pickers(key, "bn_batch", "bn_side")
    with c3:
        p = st.slider("Dropout p", 0.0, 0.9, 0.5, step=0.1, **STATE.widget("dropout_p"))
    seed = seed_input()
    return NormConfig(key, batch, side, seed, round(float(p), 2))


def norm_render(_config: NormConfig, result: NormResult, _views: None) -> None:
    train = result.row("after a train() forward")
    in_eval = result.row("after an eval() forward")
    st.markdown(
        f"Every parameter is frozen (**{result.trainable} trainable**), yet one forward in "
        f"`train()` mode changed the running statistics of **{train.layers_changed} of "
        f"{result.layers}** BatchNorm layers: they are buffers, updated by the forward "
        "itself, not by gradients. `eval()` kept "
        f"**{result.layers - in_eval.layers_changed} of {result.layers}** as they were. "
        "`torch.no_grad()` does not stop the update either; `eval()` does (and so do "
        "the layer settings below)."
    )
    st.dataframe(tables.running_stats(result), hide_index=True, width="stretch")
    only = result.row("after a forward with only BatchNorm")
    again = result.row("after the next model.train()")
    st.markdown(
        "**The fine-tuning trap.** Putting only the BatchNorm layers in `eval()` keeps "
        f"their statistics (**{only.layers_changed}** changed) — until the next "
        "`model.train()`, which sets every submodule back to training mode: the forward "
        f"after it changed **{again.layers_changed} of {result.layers}** again. Re-apply "
        "the BatchNorm `eval()` after every `model.train()`, or override `train()` in "
        "your model to do it."
    )
    st.caption(
        f"The first BatchNorm layer is {inert(result.layer)}; batch of "
        f"{result.config.batch} random {result.config.side}×{result.config.side} images; "
        f"the model's forwards took {result.seconds * 1000:.0f} ms on this server."
    )
    st.markdown("**Besides `eval()`**, three ways to stop the statistics, each run live:")
    # a static table: its sentences wrap (a dataframe's cells cut them at 1024 px)
    st.table(pd.DataFrame(tables.norm_alternatives(result)).set_index("way"))
    p = result.config.p
    st.markdown(
        f"**Dropout(p={p}) on the same input**: `eval()` is the identity; `train()` zeroes "
        f"each element with probability p and scales the survivors by 1/(1−p) = "
        f"{1 / (1 - p):.4g}. Here {result.dropped} of {len(result.dropout_train)} were "
        "zeroed (seeded)."
    )
    st.dataframe(tables.dropout(result), hide_index=True)


def _norm_job(config: NormConfig) -> str:
    return f"forward passes of {config.key}"


NORM: Section[NormConfig, NormResult] = Section(
    "norm",
    norm_controls,
    sandboxed_norm,
    norm_render,
    lambda _c, r: r.snippet,
    label=NORM_TAB,
    heavy=_norm_job,
)
