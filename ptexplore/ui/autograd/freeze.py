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
from ptexplore.i18n import N_, _
from ptexplore.limits import (
    AUTOGRAD_DEFAULT_SIDE,
    AUTOGRAD_MAX_BATCH,
    AUTOGRAD_MAX_PATTERN_CHARS,
    AUTOGRAD_MIN_BATCH,
    MAX_NUM_CLASSES,
)
from ptexplore.models import catalog
from ptexplore.pages import AUTOGRAD
from ptexplore.ui.choices import choices, shown
from ptexplore.ui.lab import Section
from ptexplore.ui.page import seed_input
from ptexplore.ui.render import chart, inert, show_error
from ptexplore.ui.state import PageState, link_choice, link_int

STATE = PageState(AUTOGRAD)
FREEZE_TAB, NORM_TAB = N_("🧊 Freezing"), N_("📊 BatchNorm & Dropout")
#: the classifier-size input's label: the constructor's parameter name (code, the same in
#: every language)
NUM_CLASSES_LABEL = "num_classes"


# ------------------------------------------------------------------ tab 3: freezing


def _pattern(text: str) -> str:
    if len(text) > AUTOGRAD_MAX_PATTERN_CHARS:
        raise ValueError("too long")
    return text


def _model_picker(options: tuple[str, ...], name: str) -> str:
    key: str = st.selectbox(
        _("Model"),
        list(options),
        format_func=catalog.shown_labels(options),
        **STATE.widget(name, default=options[0], url=link_choice(options)),
    )
    return key


def _size_pickers(key: str, batch_name: str, side_name: str) -> tuple[int, int]:
    batch = st.slider(
        _("batch size"),
        AUTOGRAD_MIN_BATCH,
        AUTOGRAD_MAX_BATCH,
        AUTOGRAD_MIN_BATCH,
        **STATE.widget(batch_name),
        help=_(
            "{low} … {high}: BatchNorm in train() needs more than one value per channel; "
            "small keeps it fast for the whole class."
        ).format(low=AUTOGRAD_MIN_BATCH, high=AUTOGRAD_MAX_BATCH),
    )
    sides = side_choices(key)
    side = AUTOGRAD_DEFAULT_SIDE
    if sides:
        side = st.select_slider(
            _("input side (square images)"),
            list(sides),
            value=AUTOGRAD_DEFAULT_SIDE,
            **STATE.widget(side_name),
            help=_(
                "Smaller than the model's 224 default so one forward/backward stays fast; "
                "these models accept any side ≥ 32."
            ),
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
                    NUM_CLASSES_LABEL,
                    min_value=1,
                    max_value=MAX_NUM_CLASSES,
                    step=1,
                    **STATE.widget(
                        "num_classes",
                        default=DEFAULT_NUM_CLASSES,
                        url=link_int(1, MAX_NUM_CLASSES),
                    ),
                    help=_(
                        "The classifier's outputs: fc of resnet18 has 512 × num_classes "
                        "weights + num_classes biases."
                    ),
                )
            )
    with c2:
        mode = FreezeMode(
            st.radio(
                _("Freeze"),
                [m.value for m in FreezeMode],
                format_func=shown(choices(FreezeMode), lambda m: m.label),
                **STATE.widget("mode", default=FreezeMode.ALL_BUT_HEAD.value, url=FreezeMode),
            )
        )
        pattern = "conv"
        children: tuple[str, ...] = ()
        if mode is FreezeMode.PATTERN:
            pattern = st.text_input(
                _("freeze every parameter whose name contains"),
                max_chars=AUTOGRAD_MAX_PATTERN_CHARS,
                **STATE.widget("pattern", default="conv", url=_pattern),
            )
        elif mode is FreezeMode.CHILDREN:
            kids = top_level(key)
            picked = st.multiselect(
                _("top-level children to freeze"),
                [c.name for c in kids],
                default=[],
                format_func=lambda n: f"{n} ({next(c for c in kids if c.name == n).class_name})",
                **STATE.widget("children", reset_on=key),
            )
            children = tuple(picked)
        elif mode is FreezeMode.ALL_BUT_HEAD:
            st.caption(
                _(
                    "The classifier here is {head}: the last top-level child with parameters."
                ).format(head=inert(head_name(key)))
            )
    with c3:
        batch, side = _size_pickers(key, "batch", "side")
    seed = seed_input()
    return FreezeConfig(key, num_classes, mode, pattern, children, batch, side, seed)


def _size_text(shape: tuple[int, ...]) -> str:
    if len(shape) == 4:
        return _("a random batch of {n} images of {c}×{h}×{w}").format(
            n=shape[0], c=shape[1], h=shape[2], w=shape[3]
        )
    return _("a random batch of {n} vectors of {features} features").format(
        n=shape[0], features=shape[1]
    )


def freeze_render(config: FreezeConfig, result: FreezeResult, _views: None) -> None:
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(
        _("trainable parameters"),
        f"{result.trainable:,}",
        delta=_("{n} tensors").format(n=result.trainable_tensors),
        delta_color="off",
        delta_arrow="off",
    )
    m2.metric(
        _("frozen parameters"),
        f"{result.frozen:,}",
        delta=_("{n} tensors").format(n=result.frozen_tensors),
        delta_color="off",
        delta_arrow="off",
    )
    m3.metric(_("total"), f"{result.total:,}")
    m4.metric(_("forward + backward"), _("{ms:.0f} ms").format(ms=result.seconds * 1000))
    seeded = _(" (its Dropout masks seeded)") if result.dropout else ""
    st.caption(
        _(
            "One `model.train()` forward and backward on {batch} (shape {shape}) → output "
            "{output}, loss = {loss:.4f}{seeded}; measured on this server. A private copy "
            "built with seed {seed}: your freezing never touches another learner's model."
        ).format(
            batch=_size_text(result.input_shape),
            shape=result.input_shape,
            output=result.output_shape,
            loss=result.loss,
            seeded=seeded,
            seed=config.seed,
        )
    )
    for refusal in result.refusals:
        show_error(refusal, call="loss.backward() / torch.optim.SGD(...)")
    chart(figures.grad_norm_figure(result), key=STATE.key("grad_norms"))
    left, right = st.columns([1, 1.2], gap="large")
    with left:
        st.markdown(_("**The optimizer** gets only what trains:"))
        st.code(
            "optimizer = torch.optim.SGD(\n"
            "    filter(lambda p: p.requires_grad, model.parameters()),\n"
            f"    lr={LR}, momentum={MOMENTUM},\n)",
            language="python",
            wrap_lines=True,
        )
        for g in result.groups:
            st.markdown(
                _(
                    "`optimizer.param_groups[{index}]`: **{tensors} tensors, {numel:,} "
                    "parameters** — exactly the trainable ones."
                ).format(index=g.index, tensors=g.tensors, numel=g.numel)
            )
            st.dataframe(tables.group_options(g), hide_index=True)
    with right:
        st.markdown(_("**Every parameter tensor**"))
        st.dataframe(tables.parameters(result), hide_index=True, height=320)


def _freeze_job(config: FreezeConfig) -> str:
    return _("one forward/backward of {key}").format(key=config.key)


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
        p = st.slider(_("Dropout p"), 0.0, 0.9, 0.5, step=0.1, **STATE.widget("dropout_p"))
    seed = seed_input()
    return NormConfig(key, batch, side, seed, round(float(p), 2))


def norm_render(_config: NormConfig, result: NormResult, _views: None) -> None:
    train = result.row("after a train() forward")
    in_eval = result.row("after an eval() forward")
    st.markdown(
        _(
            "Every parameter is frozen (**{trainable} trainable**), yet one forward in "
            "`train()` mode changed the running statistics of **{changed} of {layers}** "
            "BatchNorm layers: they are buffers, updated by the forward itself, not by "
            "gradients. `eval()` kept **{kept} of {layers}** as they were. "
            "`torch.no_grad()` does not stop the update either; `eval()` does (and so do "
            "the layer settings below)."
        ).format(
            trainable=result.trainable,
            changed=train.layers_changed,
            layers=result.layers,
            kept=result.layers - in_eval.layers_changed,
        )
    )
    st.dataframe(tables.running_stats(result), hide_index=True, width="stretch")
    only = result.row("after a forward with only BatchNorm")
    again = result.row("after the next model.train()")
    st.markdown(
        _(
            "**The fine-tuning trap.** Putting only the BatchNorm layers in `eval()` keeps "
            "their statistics (**{only}** changed) — until the next `model.train()`, which "
            "sets every submodule back to training mode: the forward after it changed "
            "**{again} of {layers}** again. Re-apply the BatchNorm `eval()` after every "
            "`model.train()`, or override `train()` in your model to do it."
        ).format(only=only.layers_changed, again=again.layers_changed, layers=result.layers)
    )
    st.caption(
        _(
            "The first BatchNorm layer is {layer}; batch of {batch} random {side}×{side} "
            "images; the model's forwards took {ms:.0f} ms on this server."
        ).format(
            layer=inert(result.layer),
            batch=result.config.batch,
            side=result.config.side,
            ms=result.seconds * 1000,
        )
    )
    st.markdown(_("**Besides `eval()`**, three ways to stop the statistics, each run live:"))
    # a static table: its sentences wrap (a dataframe's cells cut them at 1024 px)
    st.table(pd.DataFrame(tables.norm_alternatives(result)).set_index(_(tables.WAY)))
    p = result.config.p
    st.markdown(
        _(
            "**Dropout(p={p}) on the same input**: `eval()` is the identity; `train()` "
            "zeroes each element with probability p and scales the survivors by 1/(1−p) = "
            "{scale:.4g}. Here {dropped} of {n} were zeroed (seeded)."
        ).format(p=p, scale=1 / (1 - p), dropped=result.dropped, n=len(result.dropout_train))
    )
    st.dataframe(tables.dropout(result), hide_index=True)


def _norm_job(config: NormConfig) -> str:
    return _("forward passes of {key}").format(key=config.key)


NORM: Section[NormConfig, NormResult] = Section(
    "norm",
    norm_controls,
    sandboxed_norm,
    norm_render,
    lambda _c, r: r.snippet,
    label=NORM_TAB,
    heavy=_norm_job,
)
