"""Freezing a private catalog model: the trainable counts, .grad None exactly where frozen,
the optimizer's param groups; BatchNorm's statistics with every parameter frozen; Dropout."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest
import torch

from ptexplore.autograd.figures import grad_norm_figure
from ptexplore.autograd.freeze import (
    FreezeConfig,
    FreezeMode,
    NormConfig,
    head_name,
    run_freeze,
    run_norm,
    top_level,
)
from ptexplore.errors import InputError, ModelError
from ptexplore.limits import AUTOGRAD_MAX_BATCH
from ptexplore.models import catalog


@pytest.mark.parametrize(("classes", "trainable"), [(1000, 513_000), (10, 5_130)])
def test_resnet18_all_but_fc(classes: int, trainable: int) -> None:
    r = run_freeze(FreezeConfig("resnet18", classes, FreezeMode.ALL_BUT_HEAD, side=32))
    assert r.head == "fc"
    assert r.trainable == trainable == 512 * classes + classes
    assert r.total == 11_176_512 + trainable and r.frozen == 11_176_512
    assert (r.trainable_tensors, r.frozen_tensors) == (2, 60)
    # .grad is None exactly where requires_grad is False, and non-zero where it trains
    for p in r.params:
        assert (p.grad_norm is not None) == p.requires_grad == p.name.startswith("fc."), p
    assert all(p.grad_norm and p.grad_norm > 0 for p in r.params if p.requires_grad)
    # the optimizer built from filter(lambda p: p.requires_grad, ...) holds only fc
    (group,) = r.groups
    assert (group.tensors, group.numel) == (2, trainable)
    assert dict(group.options)["lr"] == "0.01" and dict(group.options)["momentum"] == "0.9"
    assert r.input_shape == (2, 3, 32, 32) and r.output_shape == (2, classes)
    assert r.refusals == ()


def test_the_classic_conv_pattern_and_top_level_children() -> None:
    r = run_freeze(FreezeConfig("resnet18", 10, FreezeMode.PATTERN, pattern="conv", side=32))
    frozen = {p.name for p in r.params if not p.requires_grad}
    assert frozen == {p.name for p in r.params if "conv" in p.name}
    assert all(p.grad_norm is None for p in r.params if p.name in frozen)
    assert "layer1.0.bn1.weight" not in frozen and "conv1.weight" in frozen
    kids = [c.name for c in top_level("resnet18")]
    assert kids == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
                    "avgpool", "fc"]  # fmt: skip
    r = run_freeze(
        FreezeConfig("resnet18", 10, FreezeMode.CHILDREN, children=("conv1", "layer1"), side=32)
    )
    frozen = {p.name for p in r.params if not p.requires_grad}
    assert frozen == {p.name for p in r.params if p.name.split(".")[0] in ("conv1", "layer1")}


def test_freezing_everything_is_refused_twice_with_torchs_words() -> None:
    r = run_freeze(FreezeConfig("example:Net", None, FreezeMode.PATTERN, pattern="."))
    assert r.trainable == 0 and r.groups == ()
    assert [x.kind for x in r.refusals] == ["RuntimeError", "ValueError"]
    assert r.refusals[0].message == (
        "element 0 of tensors does not require grad and does not have a grad_fn"
    )
    assert r.refusals[1].message == "optimizer got an empty parameter list"


def test_heads_of_every_offered_model() -> None:
    assert head_name("mobilenet_v3_small") == "classifier"
    assert head_name("squeezenet1_0") == "classifier"
    assert head_name("example:Net") == "predict"
    assert head_name("example:SharedLayerNet") == "head"


def test_each_run_uses_a_private_copy() -> None:
    """One learner's freezing never reaches another's: every run builds its own model."""
    frozen = run_freeze(FreezeConfig("example:SmallVGG", 10, FreezeMode.ALL_BUT_HEAD))
    free = run_freeze(FreezeConfig("example:SmallVGG", 10, FreezeMode.NONE))
    assert frozen.trainable < free.trainable == free.total
    assert all(p.requires_grad for p in free.params)
    # SmallVGG has Dropout: its masks are seeded, so the same config gives the same grads
    again = run_freeze(FreezeConfig("example:SmallVGG", 10, FreezeMode.NONE))
    assert free.dropout and [p.grad_norm for p in again.params] == [
        p.grad_norm for p in free.params
    ]
    # and the catalog still builds a model with every parameter trainable
    model = catalog.build_real("example:SmallVGG", 10, seed=0)
    assert all(p.requires_grad for p in model.parameters())


def test_bad_inputs_are_lesson_errors() -> None:
    with pytest.raises(InputError):
        run_freeze(FreezeConfig(batch=AUTOGRAD_MAX_BATCH + 1))
    with pytest.raises(InputError):
        run_freeze(FreezeConfig(batch=1))
    with pytest.raises(InputError):
        run_freeze(FreezeConfig(side=50))
    with pytest.raises(InputError):
        run_freeze(FreezeConfig(mode=FreezeMode.PATTERN, pattern=""))
    with pytest.raises(ModelError):
        run_freeze(FreezeConfig(mode=FreezeMode.CHILDREN, children=("nope",)))
    with pytest.raises(ModelError):
        run_freeze(FreezeConfig(key="vit_h_14"))


def test_the_gradient_norm_figure_is_valid_plotly() -> None:
    r = run_freeze(FreezeConfig("resnet18", 10, FreezeMode.ALL_BUT_HEAD, side=32))
    spec = grad_norm_figure(r)
    go.Figure(spec)
    bars, frozen = spec["data"]
    assert bars["x"] == ["fc.weight", "fc.bias"]
    assert len(frozen["x"]) == 60 and set(frozen["y"]) == {0.0}


@pytest.mark.parametrize("key", ["resnet18", "mobilenet_v3_small"])
def test_batchnorm_stats_change_in_train_mode_with_everything_frozen(key: str) -> None:
    r = run_norm(NormConfig(key, side=32))
    assert r.trainable == 0
    before = r.row("before")
    in_eval = r.row("after an eval() forward")
    train = r.row("after a train() forward")
    no_grad = r.row("after a train() forward in no_grad()")
    assert in_eval.layers_changed == 0
    assert (in_eval.running_mean, in_eval.running_var) == (before.running_mean, before.running_var)
    assert before.num_batches_tracked == in_eval.num_batches_tracked == 0
    assert train.layers_changed == r.layers and train.num_batches_tracked == 1
    assert train.running_mean != before.running_mean and train.running_var != before.running_var
    assert no_grad.layers_changed == r.layers and no_grad.num_batches_tracked == 2
    # the fine-tuning trap: BN-only eval() holds, the next model.train() undoes it
    only = r.row("after a forward with only BatchNorm in eval()")
    again = r.row("after the next model.train() and a forward")
    assert only.layers_changed == 0 and only.num_batches_tracked == 2
    assert again.layers_changed == r.layers and again.num_batches_tracked == 3


def test_the_other_ways_to_stop_batchnorm_statistics_run_live() -> None:
    r = run_norm(NormConfig("resnet18", side=32))
    assert [a.way for a in r.alternatives] == [
        "BatchNorm2d(…, momentum=0.0)",
        "BatchNorm2d(…, track_running_stats=False)",
        "torchvision.ops.FrozenBatchNorm2d",
    ]
    assert all(a.stopped for a in r.alternatives)
    out = r.snippet.output
    assert "momentum=0: [0.0, 0.0, 0.0] tracked: 1" in out  # held, but still counted
    assert "track_running_stats=False: running_mean None | eval() output == train() " in out
    assert "FrozenBatchNorm2d: parameters 0 |" in out and out.count(": True") >= 2
    bn = torch.nn.BatchNorm2d(3, momentum=0.0).train()
    bn(torch.randn(4, 3, 8, 8))
    assert bool((bn.running_mean == 0).all()) and int(bn.num_batches_tracked) == 1


def test_batchnorm_stats_match_torchs_momentum_rule() -> None:
    """running_var after one train() forward = 0.9 · 1 + 0.1 · the batch's unbiased variance."""
    r = run_norm(NormConfig("resnet18", side=32, seed=3))
    model = catalog.build_real("resnet18", 10, seed=3)
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        h = model.conv1(x)
    var = h.var(dim=(0, 2, 3), unbiased=True)[:3]
    mean = h.mean(dim=(0, 2, 3))[:3]
    train = r.row("after a train() forward")
    assert torch.allclose(torch.tensor(train.running_var), 0.9 + 0.1 * var, atol=1e-5)
    assert torch.allclose(torch.tensor(train.running_mean), 0.1 * mean, atol=1e-6)


@pytest.mark.parametrize("p", [0.0, 0.5, 0.8])
def test_dropout_train_vs_eval_on_the_same_input(p: float) -> None:
    r = run_norm(NormConfig("resnet18", side=32, p=p))
    assert r.dropout_eval == r.dropout_input == (1.0,) * 8
    assert all(v == 0.0 or v == pytest.approx(1 / (1 - p)) for v in r.dropout_train)
    if p == 0.0:
        assert r.dropout_train == r.dropout_input
    else:
        assert 0 < r.dropped < 8


def test_a_typed_pattern_is_data_never_code() -> None:
    hostile = "'\nprint('pwned')\n#\"\"\" ]]("
    r = run_freeze(FreezeConfig("example:Net", None, FreezeMode.PATTERN, pattern=hostile))
    assert f"    if {hostile!r} in name:" in r.snippet.code
    assert "pwned" not in r.snippet.output
    assert r.trainable == r.total  # no parameter name contains it


def test_the_sandboxed_freezing_lesson_is_the_in_process_one() -> None:
    """What the page calls (build, forward and backward in a sandboxed child) gives this
    process's numbers, and a refused request is refused here, before any job."""
    from ptexplore.autograd import run_freeze, sandboxed_freeze

    config = FreezeConfig("resnet18", 10, FreezeMode.ALL_BUT_HEAD, side=32, seed=2)
    here, there = run_freeze(config), sandboxed_freeze(config)
    # the child runs torch with one intra-op thread: the last bits of a sum may differ
    assert there.loss == pytest.approx(here.loss, rel=1e-5)
    strip = [(p.name, p.shape, p.numel, p.requires_grad, p.grad_norm is None) for p in here.params]
    assert [(p.name, p.shape, p.numel, p.requires_grad, p.grad_norm is None)
            for p in there.params] == strip  # fmt: skip
    for a, b in zip(here.params, there.params, strict=True):
        if a.grad_norm is not None:
            assert b.grad_norm == pytest.approx(a.grad_norm, rel=1e-3, abs=1e-9)
    assert there.groups == here.groups and there.refusals == here.refusals
    assert there.snippet.code == here.snippet.code
    with pytest.raises(ModelError, match="does not offer"):
        sandboxed_freeze(FreezeConfig("vit_h_14", None, FreezeMode.ALL_BUT_HEAD))


def test_the_sandboxed_batchnorm_lesson_is_the_in_process_one() -> None:
    """What the page calls (a real build and its forwards in the sandbox): the same rows,
    alternatives and printout as here, for the same config."""
    from ptexplore.autograd import sandboxed_norm

    config = NormConfig("resnet18", side=32, seed=5)
    here, there = run_norm(config), sandboxed_norm(config)
    assert there.rows == here.rows and there.alternatives == here.alternatives
    assert there.dropout_train == here.dropout_train
    assert there.snippet.output == here.snippet.output
