"""The four truths, measured on the live objects: the version-counter error, the new leaf,
.data's silently wrong gradient where .detach() raises, and no_grad vs detach vs
requires_grad_(False)."""

from __future__ import annotations

import itertools

import pytest
import torch

from ptexplore.autograd.truths import SavesOutput, Truth, TruthConfig, Write, run_truth

CORRECT_SIGMOID_GRAD = (0.19661193, 0.10499359, 0.04517666)  # s(1-s) at a = 1, 2, 3


@pytest.mark.parametrize(
    "config", [TruthConfig(t, f, w) for t, f, w in itertools.product(Truth, SavesOutput, Write)]
)
def test_every_claim_holds_for_every_choice(config: TruthConfig) -> None:
    r = run_truth(config)
    assert [c.key for c in r.checks if not c.holds] == []
    assert "0x" not in r.snippet.output  # nothing process-specific is printed


def test_detached_tensor_shares_storage_and_version_and_backward_raises() -> None:
    r = run_truth(TruthConfig(Truth.VERSION, SavesOutput.SIGMOID, Write.ZERO))
    before_s, before_d, after_s, after_d = r.facts
    assert before_s.data_ptr == before_d.data_ptr
    assert before_d.same_storage_as == "yes: s's storage, same data_ptr"
    assert (before_s.version, before_d.version) == (0, 0)
    assert (after_s.version, after_d.version) == (1, 1)
    assert after_d.grad_fn == "None" and after_s.grad_fn == "SigmoidBackward0"
    assert r.refusal is not None and r.refusal.kind == "RuntimeError"
    assert r.refusal.message.startswith(
        "one of the variables needed for gradient computation has been modified by an "
        "inplace operation: [torch.FloatTensor [3]]"
    )
    assert "is at version 1; expected version 0 instead" in r.refusal.message
    assert ".clone()" in r.refusal.fix
    fixed = r.grad("a.grad (after the fix)")
    assert fixed is not None
    assert torch.allclose(torch.tensor(fixed), torch.tensor(CORRECT_SIGMOID_GRAD))
    assert "versions after:  1 1" in r.snippet.output


def test_a_detached_tensor_with_requires_grad_is_a_new_leaf_with_its_own_grad() -> None:
    r = run_truth(TruthConfig(Truth.NEW_LEAF, SavesOutput.EXP))
    d = next(f for f in r.facts if f.name == "d")
    assert d.is_leaf and d.requires_grad and d.grad_fn == "None"
    assert d.same_storage_as.startswith("yes: s's storage")
    d_grad = r.grad("d.grad")
    assert d_grad is not None
    want = torch.exp(torch.tensor([1.0, 2.0, 3.0])) * 2  # d(d·d)/dd = 2d
    assert torch.allclose(torch.tensor(d_grad), want)
    assert r.grad("a.grad after d's backward") is None  # nothing flowed back
    back = r.grad("a.grad after s's backward")
    assert back is not None
    assert torch.allclose(torch.tensor(back), torch.exp(torch.tensor([1.0, 2.0, 3.0])))


def test_data_gives_a_wrong_gradient_where_detach_raises() -> None:
    r = run_truth(TruthConfig(Truth.DATA, SavesOutput.SIGMOID, Write.ZERO))
    correct = r.grad("correct a.grad")
    wrong = r.grad("a.grad via .data")
    assert correct is not None and wrong is not None
    assert torch.allclose(torch.tensor(correct), torch.tensor(CORRECT_SIGMOID_GRAD))
    assert wrong == (0.0, 0.0, 0.0)  # s(1-s) of the zeroed s: silently wrong
    assert r.check("data_hidden").holds and r.check("data_wrong").holds
    assert r.refusal is not None and "modified by an inplace operation" in r.refusal.message
    assert "s._version after the write: 0" in r.snippet.output  # .data: hidden
    assert "s._version after the write: 1" in r.snippet.output  # .detach(): counted


def test_no_grad_detach_and_requires_grad_false_produce_different_things() -> None:
    r = run_truth(TruthConfig(Truth.MODES))
    rows = {f.name: f for f in r.facts}
    assert (rows["n"].requires_grad, rows["n"].grad_fn, rows["n"].is_leaf) == (False, "None", True)
    assert rows["n"].same_storage_as.startswith("no")  # no_grad computes a new tensor
    assert (rows["d"].requires_grad, rows["d"].grad_fn, rows["d"].is_leaf) == (False, "None", True)
    assert rows["d"].same_storage_as == "yes: a's storage, same data_ptr"
    assert (rows["m"].requires_grad, rows["m"].grad_fn, rows["m"].is_leaf) == (
        True,
        "SigmoidBackward0",
        False,
    )
    assert (rows["p"].requires_grad, rows["p"].is_leaf) == (False, True)
    assert r.refusal is not None
    assert r.refusal.message.startswith("you can only change requires_grad flags of leaf variables")
    assert "q is p: True" in r.snippet.output
    # no_grad stops recording only: a view op still aliases, an in-place write still counts
    assert rows["v"].same_storage_as == "yes: a's storage, same data_ptr"
    assert rows["v"].grad_fn == "None"
    assert "v shares a's memory: True" in r.snippet.output
    assert "w._version: 0 -> 1" in r.snippet.output
    checks = {c.key: c for c in r.checks}
    assert checks["no_grad_view"].holds and checks["no_grad_write"].holds
