"""Freezing a catalog model for fine-tuning, and what BatchNorm and Dropout do anyway.

:func:`run_freeze` builds a private, seeded copy of a catalog model
(``catalog.build_real``: one learner's freezing never reaches another's), freezes it by name
pattern, by top-level child or "all but the classifier", runs one forward/backward on a
small random batch and reads every parameter's ``.grad`` (``None`` where frozen), the
trainable/frozen counts and the optimizer built with
``filter(lambda p: p.requires_grad, model.parameters())``.

:func:`run_norm` freezes every parameter and shows that a forward in ``train()`` mode
still changes BatchNorm's ``running_mean`` / ``running_var`` / ``num_batches_tracked``
(even inside ``torch.no_grad()``), while ``eval()`` keeps them; and Dropout's train/eval
difference on one input.

Both run their script step by step (:class:`ptexplore.live.script.Script`): the code
panel is that script. Forward passes through Dropout draw from torch's global RNG, so
those steps run under ``ptexplore.rng.seeded`` and show ``torch.manual_seed``.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import torch
from torch import nn

from ptexplore import compat, isolate
from ptexplore.errors import InputError, ModelError, Refusal
from ptexplore.i18n import N_, _
from ptexplore.limits import (
    AUTOGRAD_DEFAULT_SIDE,
    AUTOGRAD_MAX_BATCH,
    AUTOGRAD_MAX_PATTERN_CHARS,
    AUTOGRAD_MIN_BATCH,
    AUTOGRAD_SIDES,
)
from ptexplore.live import Snippet
from ptexplore.live.script import Script, Step
from ptexplore.models import InputKind, catalog, has_dropout
from ptexplore.text import code_span

#: The models the freezing demo offers: the example models and small torchvision ones.
FREEZE_MODELS: tuple[str, ...] = (
    "resnet18",
    "mobilenet_v3_small",
    "squeezenet1_0",
    "example:Model",
    "example:Net",
    "example:SmallVGG",
    "example:SharedLayerNet",
)
#: The models with BatchNorm layers (the BatchNorm truth needs one).
NORM_MODELS: tuple[str, ...] = ("resnet18", "mobilenet_v3_small")
DEFAULT_NUM_CLASSES = 10
#: The optimizer the demo builds over the trainable parameters.
LR = 0.01
MOMENTUM = 0.9
#: How many values of one BatchNorm buffer the table shows.
STATS_SHOWN = 3


class FreezeMode(StrEnum):
    NONE = "nothing"
    PATTERN = "name pattern"
    CHILDREN = "top-level children"
    ALL_BUT_HEAD = "all but the classifier"

    @property
    def label(self) -> str:
        """What the picker shows (English, marked: translated where it is shown)."""
        return {
            FreezeMode.NONE: N_("nothing (train every parameter)"),
            FreezeMode.PATTERN: N_("by name pattern ('conv' in name)"),
            FreezeMode.CHILDREN: N_("by top-level child"),
            FreezeMode.ALL_BUT_HEAD: N_("all but the classifier"),
        }[self]


@dataclass(frozen=True, slots=True)
class Child:
    """A top-level child of a model (``model.named_children()``)."""

    name: str
    class_name: str
    params: int


@functools.cache
def top_level(key: str) -> tuple[Child, ...]:
    """The model's top-level children, from a meta build (structure only, no memory)."""
    model = catalog.build_meta(key).model
    return tuple(
        Child(name, type(child).__name__, sum(p.numel() for p in child.parameters()))
        for name, child in model.named_children()
    )


def freeze_models() -> tuple[str, ...]:
    """The freezing demo's models: FREEZE_MODELS, then the operator's own (PTEXPLORE_MODELS)."""
    return (*FREEZE_MODELS, *catalog.user_keys())


def head_name(key: str) -> str:
    """The classifier: the last top-level child that has parameters."""
    with_params = [c.name for c in top_level(key) if c.params]
    if not with_params:
        raise ModelError(
            _("{model} has no top-level child with parameters.").format(model=code_span(key)),
            fix=_("Pick another model, or freeze by name pattern."),
        )
    return with_params[-1]


def side_choices(key: str) -> tuple[int, ...]:
    """The square input sides offered for an image model (() for vector models)."""
    entry = catalog.entry(key)
    return AUTOGRAD_SIDES if entry.input_kind is InputKind.IMAGE else ()


@dataclass(frozen=True, slots=True)
class FreezeConfig:
    key: str = "resnet18"
    num_classes: int | None = DEFAULT_NUM_CLASSES
    mode: FreezeMode = FreezeMode.ALL_BUT_HEAD
    pattern: str = "conv"
    children: tuple[str, ...] = ()
    batch: int = AUTOGRAD_MIN_BATCH
    side: int = AUTOGRAD_DEFAULT_SIDE
    seed: int = 0


@dataclass(frozen=True, slots=True)
class ParamGrad:
    name: str
    shape: tuple[int, ...]
    numel: int
    requires_grad: bool
    #: ``p.grad.norm()`` after backward, or None when ``p.grad is None``
    grad_norm: float | None


@dataclass(frozen=True, slots=True)
class ParamGroup:
    index: int
    tensors: int
    numel: int
    #: every other key of the group: lr, momentum, weight_decay, … (repr of the value)
    options: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class FreezeResult:
    config: FreezeConfig
    head: str
    #: the batch actually fed: (batch, C, side, side) or (batch, features)
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    loss: float
    params: tuple[ParamGrad, ...]
    groups: tuple[ParamGroup, ...]
    #: torch's refusal when nothing is left to train (backward, then the optimizer)
    refusals: tuple[Refusal, ...]
    #: wall time of the forward + backward on this server
    seconds: float
    #: the forward drew Dropout masks (so it ran seeded)
    dropout: bool
    snippet: Snippet

    @property
    def total(self) -> int:
        return sum(p.numel for p in self.params)

    @property
    def trainable(self) -> int:
        return sum(p.numel for p in self.params if p.requires_grad)

    @property
    def frozen(self) -> int:
        return self.total - self.trainable

    @property
    def trainable_tensors(self) -> int:
        return sum(1 for p in self.params if p.requires_grad)

    @property
    def frozen_tensors(self) -> int:
        return len(self.params) - self.trainable_tensors


def _check(config: FreezeConfig | NormConfig) -> None:
    if not AUTOGRAD_MIN_BATCH <= config.batch <= AUTOGRAD_MAX_BATCH:
        raise InputError(
            _("The batch must hold {low} to {high} samples, not {batch}.").format(
                low=AUTOGRAD_MIN_BATCH, high=AUTOGRAD_MAX_BATCH, batch=config.batch
            ),
            fix=_(
                "Pick a batch of {low} to {high}: BatchNorm in train() mode needs more than "
                "one value per channel, and small batches keep this fast for everyone."
            ).format(low=AUTOGRAD_MIN_BATCH, high=AUTOGRAD_MAX_BATCH),
        )
    if side_choices(config.key) and config.side not in AUTOGRAD_SIDES:
        raise InputError(
            _("The input side must be one of {sides}, not {side}.").format(
                sides=", ".join(map(str, AUTOGRAD_SIDES)), side=config.side
            ),
            fix=_("Pick {side}: small inputs keep one forward/backward fast.").format(
                side=AUTOGRAD_DEFAULT_SIDE
            ),
        )


def _check_freeze(config: FreezeConfig) -> None:
    if config.key not in FREEZE_MODELS and not config.key.startswith(catalog.USER_PREFIX):
        raise ModelError(
            _("The freezing demo does not offer {model}.").format(model=code_span(config.key)),
            fix=_("Pick one of {models}, or a model the server registered.").format(
                models=", ".join(FREEZE_MODELS)
            ),
        )
    dtype = catalog.entry(config.key).input_dtype
    if not dtype.startswith("float"):
        raise ModelError(
            _(
                "{model} takes {dtype} input, and the freezing demo feeds it a random float "
                "batch (torch.randn)."
            ).format(model=code_span(config.key), dtype=dtype),
            fix=_(
                "Pick a model that takes float input; the Model explorer still shows this "
                "one's parameters and shapes."
            ),
        )
    _check(config)
    if config.mode is FreezeMode.PATTERN and not 0 < len(config.pattern) <= (
        AUTOGRAD_MAX_PATTERN_CHARS
    ):
        raise InputError(
            _("The name pattern must have 1 to {n} characters.").format(
                n=AUTOGRAD_MAX_PATTERN_CHARS
            ),
            fix=_("Type part of a parameter name, e.g. conv, bn or layer4."),
        )
    names = {c.name for c in top_level(config.key)}
    unknown = [c for c in config.children if c not in names]
    if unknown:
        raise ModelError(
            _("{model} has no top-level child called {child}.").format(
                model=code_span(config.key), child=code_span(unknown[0])
            ),
            fix=_("Pick from the model's own top-level children."),
        )


def input_shape(config: FreezeConfig | NormConfig) -> tuple[int, ...]:
    entry = catalog.entry(config.key)
    if entry.input_kind is InputKind.IMAGE:
        return (config.batch, entry.default_input[0], config.side, config.side)
    return (config.batch, *entry.default_input)


def _child(name: str) -> str:
    return f"model.{name}" if name.isidentifier() else f"model.get_submodule({name!r})"


def freeze_code(config: FreezeConfig, head: str) -> str:
    mode = config.mode
    if mode is FreezeMode.NONE:
        lines = ["# nothing frozen: every parameter trains"]
    elif mode is FreezeMode.PATTERN:
        lines = [
            "for name, p in model.named_parameters():",
            f"    if {config.pattern!r} in name:  # the classic name-pattern freeze",
            "        p.requires_grad_(False)",
        ]
    elif mode is FreezeMode.CHILDREN:
        lines = [
            f"{_child(c)}.requires_grad_(False)  # a whole top-level child" for c in config.children
        ]
        lines = lines or ["# no child picked: nothing frozen"]
    else:
        lines = [
            "for p in model.parameters():  # freeze everything ...",
            "    p.requires_grad_(False)",
            f"for p in {_child(head)}.parameters():  # ... then unfreeze the classifier",
            "    p.requires_grad_(True)",
        ]
    return (
        "\n".join(
            [
                *lines,
                "",
                "total = sum(p.numel() for p in model.parameters())",
                "trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)",
                'print(f"trainable {trainable:,} of {total:,} parameters, "',
                '      f"frozen {total - trainable:,}")',
            ]
        )
        + "\n"
    )


def _build_step(script: Script, key: str, num_classes: int | None, seed: int) -> nn.Module:
    """The model, built by ``catalog.build_real`` (what the shown two lines do)."""
    build = catalog.constructor_code(key, num_classes)
    script.run(build.head("import torch", "import torch.nn.functional as F"))
    model = catalog.build_real(key, num_classes, seed=seed)
    script.provide(
        f"torch.manual_seed({seed})  # the random init draws from torch's global RNG\n"
        f"model = {build.expr}\n",
        model=model,
    )
    return model


def _randn(shape: tuple[int, ...]) -> str:
    return f"torch.randn({', '.join(map(str, shape))}, generator=g)"


_FREEZE_JOB = isolate.job(N_("the freezing lesson's forward and backward"), reuse=True)


def sandboxed_freeze(config: FreezeConfig) -> FreezeResult:
    """:func:`run_freeze` in a sandboxed child (:mod:`ptexplore.isolate`): what the page
    calls. The real build runs the model's own constructor and init code (the operator's
    included) and a forward/backward, so one that crashes or outgrows its limits ends its
    job only. The request is checked here first; the same config gives the same result."""
    _check_freeze(config)
    return _FREEZE_JOB.call(run_freeze, config)


def run_freeze(config: FreezeConfig) -> FreezeResult:
    """Freeze a private copy, run one forward/backward, read grads and the optimizer."""
    _check_freeze(config)
    head = head_name(config.key)
    shape = input_shape(config)
    script = Script()
    model = _build_step(script, config.key, config.num_classes, config.seed)
    script.run(freeze_code(config, head))
    dropout = has_dropout(model)
    script.run(
        f"g = torch.Generator().manual_seed({config.seed})\n"
        f"x = {_randn(shape)}  # a small random batch\n"
        "model.train()\n"
    )
    started = time.perf_counter()
    script.run(
        Step(
            "out = model(x)\n",
            seed=config.seed if dropout else None,
            why="Dropout draws its masks from torch's global RNG",
        )
    )
    out: torch.Tensor = script["out"]
    if out.ndim == 2:
        loss_code = (
            f"target = torch.randint(0, out.shape[1], ({config.batch},), generator=g)\n"
            "loss = F.cross_entropy(out, target)\n"
        )
    else:
        loss_code = "loss = out.mean()  # the model ends in a feature map: a stand-in loss\n"
    trainable = any(p.requires_grad for p in model.parameters())
    if trainable:
        backward = "loss.backward()\n"
    else:
        backward = (
            "try:\n"
            "    loss.backward()\n"
            "except RuntimeError as err:  # nothing left to train\n"
            "    error = err\n"
            '    print(f"{type(err).__name__}: {err}")\n'
        )
    script.run(
        loss_code + backward + "for name, p in model.named_parameters():\n"
        '    print(name, "grad is None" if p.grad is None else f"grad norm {p.grad.norm():.3g}")\n'
    )
    seconds = time.perf_counter() - started
    refusals: list[Refusal] = []
    err = script.namespace.get("error")
    if isinstance(err, RuntimeError):
        refusals.append(
            Refusal(
                type(err).__name__,
                str(err),
                _(
                    "Every parameter is frozen and the input does not require grad, so the "
                    "loss has no grad_fn: there is nothing for backward() to compute."
                ),
                _("Leave at least one part trainable, e.g. the classifier."),
            )
        )
    opt = (
        "optimizer = torch.optim.SGD(\n"
        f"    filter(lambda p: p.requires_grad, model.parameters()), lr={LR}, momentum={MOMENTUM}\n"
        ")\n"
        "for i, group in enumerate(optimizer.param_groups):\n"
        '    n = sum(p.numel() for p in group["params"])\n'
        '    options = {k: v for k, v in group.items() if k != "params"}\n'
        '    tensors = len(group["params"])\n'
        '    print(f"param group {i}: {tensors} tensors, {n:,} parameters", options)\n'
    )
    if not trainable:
        opt = (
            "try:\n"
            + "".join(f"    {line}\n" for line in opt.splitlines()[:3])
            + "except ValueError as err:  # an optimizer needs something to optimize\n"
            "    opt_error = err\n"
            '    print(f"{type(err).__name__}: {err}")\n'
        )
    script.run(opt)
    opt_err = script.namespace.get("opt_error")
    if isinstance(opt_err, ValueError):
        refusals.append(
            Refusal(
                type(opt_err).__name__,
                str(opt_err),
                _(
                    "filter(lambda p: p.requires_grad, …) yields nothing when everything is "
                    "frozen, and an optimizer refuses an empty parameter list."
                ),
                _("Unfreeze what you want to fine-tune before building the optimizer."),
            )
        )
    groups: tuple[ParamGroup, ...] = ()
    optimizer = script.namespace.get("optimizer")
    if isinstance(optimizer, torch.optim.Optimizer):
        groups = tuple(
            ParamGroup(
                i,
                len(g["params"]),
                sum(p.numel() for p in g["params"]),
                tuple((k, repr(v)) for k, v in g.items() if k != "params"),
            )
            for i, g in enumerate(optimizer.param_groups)
        )
    loss: torch.Tensor = script["loss"]
    return FreezeResult(
        config=config,
        head=head,
        input_shape=shape,
        output_shape=tuple(out.shape),
        loss=float(loss.item()),
        params=tuple(
            ParamGrad(
                name,
                tuple(p.shape),
                p.numel(),
                bool(p.requires_grad),
                None if p.grad is None else float(p.grad.norm().item()),
            )
            for name, p in model.named_parameters()
        ),
        groups=groups,
        refusals=tuple(refusals),
        seconds=seconds,
        dropout=dropout,
        snippet=script.snippet(
            note=N_(
                "gradient norms to 3 significant digits; torch's thread count can change "
                "the last bits"
            )
        ),
    )


# ------------------------------------------------------------- BatchNorm and Dropout


@dataclass(frozen=True, slots=True)
class NormConfig:
    key: str = "resnet18"
    batch: int = AUTOGRAD_MIN_BATCH
    side: int = AUTOGRAD_DEFAULT_SIDE
    seed: int = 0
    p: float = 0.5


@dataclass(frozen=True, slots=True)
class StatsRow:
    """The first BatchNorm layer's buffers at one moment, and how many layers changed."""

    #: English, marked (the page finds rows by it; the table translates it)
    moment: str
    running_mean: tuple[float, ...]
    running_var: tuple[float, ...]
    num_batches_tracked: int
    #: BatchNorm layers whose buffers differ from the previous row
    layers_changed: int


@dataclass(frozen=True, slots=True)
class Alternative:
    """Another way to stop BatchNorm's statistics, run on one layer in ``train()``."""

    way: str
    #: what the live layer did (its buffers, its outputs), in one sentence
    seen: str
    #: the running statistics stayed as they were (or there are none to move)
    stopped: bool


@dataclass(frozen=True, slots=True)
class NormResult:
    config: NormConfig
    layer: str
    layers: int
    trainable: int
    rows: tuple[StatsRow, ...]
    dropout_input: tuple[float, ...]
    dropout_eval: tuple[float, ...]
    dropout_train: tuple[float, ...]
    alternatives: tuple[Alternative, ...]
    #: wall time of the model's forwards on this server
    seconds: float
    snippet: Snippet

    def row(self, moment_starts: str) -> StatsRow:
        return next(r for r in self.rows if r.moment.startswith(moment_starts))

    @property
    def dropped(self) -> int:
        return sum(1 for v in self.dropout_train if v == 0.0)


def _norm_layers(model: nn.Module) -> list[tuple[str, Any]]:
    return [(n, m) for n, m in model.named_modules() if isinstance(m, compat.batchnorm_base())]


def _snapshot(model: nn.Module) -> list[tuple[torch.Tensor, ...]]:
    out: list[tuple[torch.Tensor, ...]] = []
    for _name, m in _norm_layers(model):
        assert m.running_mean is not None and m.running_var is not None
        assert m.num_batches_tracked is not None
        out.append((m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone()))
    return out


def _changed(a: list[tuple[torch.Tensor, ...]], b: list[tuple[torch.Tensor, ...]]) -> int:
    return sum(
        1
        for x, y in zip(a, b, strict=True)
        if any(not torch.equal(u, v) for u, v in zip(x, y, strict=True))
    )


def _stats(moment: str, bn: Any, changed: int) -> StatsRow:
    assert bn.running_mean is not None and bn.running_var is not None
    assert bn.num_batches_tracked is not None
    return StatsRow(
        moment,
        tuple(float(v) for v in bn.running_mean[:STATS_SHOWN].tolist()),
        tuple(float(v) for v in bn.running_var[:STATS_SHOWN].tolist()),
        int(bn.num_batches_tracked.item()),
        changed,
    )


def _alternatives(script: Script, seed: int) -> tuple[Alternative, ...]:
    """momentum=0, track_running_stats=False and FrozenBatchNorm2d, each on one layer in
    train() mode, on the same random batch."""
    script.run(
        "\n# the other ways to stop the statistics, each on one layer in train() mode\n"
        "from torchvision.ops import FrozenBatchNorm2d\n\n"
        f"b = torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed({seed}))\n"
        "still = torch.nn.BatchNorm2d(3, momentum=0.0).train()\n"
        "still(b)\n"
        'print("momentum=0:", still.running_mean.tolist(), "tracked:",\n'
        "      still.num_batches_tracked.item())\n"
        "batch_only = torch.nn.BatchNorm2d(3, track_running_stats=False).train()\n"
        "y_train = batch_only(b)\n"
        "y_eval = batch_only.eval()(b)\n"
        'print("track_running_stats=False: running_mean", batch_only.running_mean,\n'
        '      "| eval() output == train() output:", torch.equal(y_train, y_eval))\n'
        "frozen = FrozenBatchNorm2d(3).train()\n"
        "y_frozen = frozen(b)\n"
        'print("FrozenBatchNorm2d: parameters", len(list(frozen.parameters())),\n'
        '      "| running_mean", frozen.running_mean.tolist(),\n'
        '      "| output == (b - mean) / sqrt(var + eps):",\n'
        "      torch.allclose(y_frozen, b / (1 + frozen.eps) ** 0.5))\n"
    )
    still, only, frozen = script["still"], script["batch_only"], script["frozen"]
    b = script["b"]
    same = bool(torch.equal(script["y_train"], script["y_eval"]))
    moved = bool(still.running_mean.abs().sum() > 0) or bool((still.running_var != 1).any())
    tracked = int(still.num_batches_tracked.item())
    frozen_ok = (
        not list(frozen.parameters())
        and bool((frozen.running_mean == 0).all())
        and bool(torch.allclose(script["y_frozen"], b / (1 + frozen.eps) ** 0.5))
    )
    return (
        Alternative(
            "BatchNorm2d(…, momentum=0.0)",
            _(
                "running statistics unchanged by a train() forward, but num_batches_tracked "
                "still counts ({tracked}); the forward itself normalises with the batch's own "
                "statistics, as every train() forward does"
            ).format(tracked=tracked),
            not moved,
        ),
        Alternative(
            "BatchNorm2d(…, track_running_stats=False)",
            _(
                "no running statistics at all (running_mean is {mean}): train() and eval() "
                "both normalise with the batch's own statistics (outputs equal: {same}) — a "
                "batch of one image is normalised by itself"
            ).format(mean=only.running_mean, same=same),
            only.running_mean is None and same,
        ),
        Alternative(
            "torchvision.ops.FrozenBatchNorm2d",
            _(
                "weight, bias and statistics are buffers (0 parameters): in train() and "
                "eval() alike it normalises with the stored statistics, which nothing "
                "updates — what torchvision's detection models put in a backbone built with "
                "pretrained weights"
            ),
            bool(frozen_ok),
        ),
    )


def sandboxed_norm(config: NormConfig) -> NormResult:
    """:func:`run_norm` in a sandboxed child, checked here first: what the page calls (a
    real build and its forwards, as :func:`sandboxed_freeze`)."""
    _check_norm(config)
    return _FREEZE_JOB.call(run_norm, config)


def _check_norm(config: NormConfig) -> None:
    if config.key not in NORM_MODELS:
        raise ModelError(
            _("{model} is not offered for the BatchNorm truth.").format(
                model=code_span(config.key)
            ),
            fix=_("Pick one of {models} (both have BatchNorm layers).").format(
                models=", ".join(NORM_MODELS)
            ),
        )
    _check(config)
    if not 0.0 <= config.p < 1.0:
        raise InputError(
            _("Dropout's p must be at least 0 and below 1, not {p}.").format(p=config.p),
            fix=_("Try p = 0.5."),
        )


def run_norm(config: NormConfig) -> NormResult:
    """All parameters frozen: eval() keeps BatchNorm's statistics, train() changes them;
    the fine-tuning trap (BatchNorm-only eval() undone by the next train()); the other
    ways to stop the statistics."""
    _check_norm(config)
    script = Script()
    model = _build_step(script, config.key, DEFAULT_NUM_CLASSES, config.seed)
    layers = _norm_layers(model)
    name, bn = layers[0]
    shape = input_shape(config)
    script.run(
        "model.requires_grad_(False)  # freeze every parameter\n"
        'print("trainable parameters:", sum(p.numel() for p in model.parameters() '
        "if p.requires_grad))\n"
        f"bn = {_child(name)}  # the first BatchNorm layer\n"
        f"g = torch.Generator().manual_seed({config.seed})\n"
        f"x = {_randn(shape)}\n"
        "\n\n"
        "def show(when):  # the first values of each buffer, rounded\n"
        f"    mean = [round(v, 4) for v in bn.running_mean[:{STATS_SHOWN}].tolist()]\n"
        f"    var = [round(v, 4) for v in bn.running_var[:{STATS_SHOWN}].tolist()]\n"
        '    print(f"{when:<24} running_mean {mean}  running_var {var}  "\n'
        '          f"num_batches_tracked {bn.num_batches_tracked.item()}")\n'
        "\n\n"
        'show("before:")\n'
    )
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    snaps = [_snapshot(model)]
    rows = [_stats(N_("before"), bn, 0)]

    def forward(code: str, moment: str, *, seeded: bool = True) -> None:
        """Run one step of the script, then record the first layer's buffers and how many
        BatchNorm layers it changed."""
        why = "Dropout in train() draws its masks from torch's global RNG"
        script.run(Step(code, seed=seed, why=why) if seeded else code)
        snaps.append(_snapshot(model))
        rows.append(_stats(moment, bn, _changed(snaps[-2], snaps[-1])))

    seed = config.seed if has_dropout(model) else None
    started = time.perf_counter()
    forward('model.eval()\nmodel(x)\nshow("eval() forward:")\n', N_("after an eval() forward"),
            seeded=False)  # fmt: skip
    forward('model.train()\nmodel(x)\nshow("train() forward:")\n', N_("after a train() forward"))
    forward(
        "with torch.no_grad():  # no_grad() does not stop it either\n"
        "    model(x)\n"
        'show("train() in no_grad():")\n',
        N_("after a train() forward in no_grad()"),
    )
    forward(
        "norms = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d)\n"
        "for m in model.modules():  # the fine-tuner's fix: only the BatchNorm layers\n"
        "    if isinstance(m, norms):\n"
        "        m.eval()\n"
        "model(x)\n"
        'show("BatchNorm eval() only:")\n',
        N_("after a forward with only BatchNorm in eval()"),
    )
    forward(
        "model.train()  # the next epoch starts: every submodule back in training mode\n"
        "model(x)\n"
        'show("after model.train():")\n',
        N_("after the next model.train() and a forward"),
    )
    seconds = time.perf_counter() - started
    alternatives = _alternatives(script, config.seed)
    script.run(
        f"drop = torch.nn.Dropout(p={config.p})\n"
        "v = torch.ones(8)\n"
        "drop.eval()\n"
        "out_eval = drop(v)\n"
        'print("Dropout eval(): ", out_eval)  # the identity\n'
        "drop.train()\n"
    )
    script.run(
        Step(
            "out_train = drop(v)\n"
            'print("Dropout train():", out_train)  # zeros; survivors scaled by 1 / (1 - p)\n',
            seed=config.seed,
            why="Dropout draws its mask from torch's global RNG",
        )
    )

    def values(name: str) -> tuple[float, ...]:
        return tuple(float(v) for v in script[name].tolist())

    return NormResult(
        config=config,
        layer=name,
        layers=len(layers),
        trainable=trainable,
        rows=tuple(rows),
        dropout_input=values("v"),
        dropout_eval=values("out_eval"),
        dropout_train=values("out_train"),
        alternatives=alternatives,
        seconds=seconds,
        snippet=script.snippet(),
    )
