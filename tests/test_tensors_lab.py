"""Sharing verdicts of every bridge, checked against np.shares_memory and data_ptr."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ptexplore.errors import InputError, LessonError
from ptexplore.tensors import (
    Action,
    Bridge,
    Hop,
    LabSpec,
    Layout,
    NpDtype,
    Verdict,
    changed_mask,
    code_for,
    cuda_available,
    editor_accepts,
    id_lesson,
    new_lab,
    parse_shape,
    sharing_report,
    wrap_note,
)

NUMERIC = [NpDtype.FLOAT64, NpDtype.FLOAT32, NpDtype.FLOAT16, NpDtype.INT64, NpDtype.UINT8]
SHARING_BRIDGES = {Bridge.FROM_NUMPY, Bridge.AS_TENSOR, Bridge.NUMPY_BACK}


def expected_shared(bridge: Bridge, dtype: NpDtype) -> bool:
    if bridge is Bridge.AS_TENSOR_F32:
        return dtype is NpDtype.FLOAT32  # shares only when no dtype conversion is needed
    return bridge in SHARING_BRIDGES


@pytest.mark.parametrize("dtype", NUMERIC)
@pytest.mark.parametrize("bridge", list(Bridge))
def test_verdict_matches_shares_memory_and_data_ptr(bridge: Bridge, dtype: NpDtype) -> None:
    lab = new_lab(LabSpec(shape=(3, 4), dtype=dtype, bridge=bridge))
    rep = lab.report()
    truth = bool(np.shares_memory(lab.a, lab.t.numpy()))
    assert rep.shares_memory is truth
    assert rep.same_ptr is (lab.t.data_ptr() == lab.a.__array_interface__["data"][0])
    assert rep.verdict is (Verdict.SHARED if truth else Verdict.SEPARATE)
    assert truth is expected_shared(bridge, dtype)
    assert rep.np_id == id(lab.a) and rep.t_id == id(lab.t)
    # Mutating numpy shows up in the tensor exactly when they share.
    record = lab.apply(Action.NP_IADD)
    assert record.a_changed and record.followed is truth
    np.testing.assert_array_equal(lab.t.numpy() == lab.a, np.full((3, 4), truth))


def test_float64_default_stays_float64() -> None:
    lab = new_lab(LabSpec())
    rep = lab.report()
    assert (rep.np_dtype, rep.torch_dtype) == ("float64", "torch.float64")
    assert rep.np_strides_bytes == (32, 8) and rep.t_strides_elements == (4, 1)
    assert rep.np_itemsize == rep.t_element_size == 8
    assert rep.same_ptr and rep.shares_memory


def test_as_tensor_with_other_dtype_copies_float64() -> None:
    lab = new_lab(LabSpec(bridge=Bridge.AS_TENSOR_F32))
    rep = lab.report()
    assert rep.torch_dtype == "torch.float32" and rep.verdict is Verdict.SEPARATE
    assert not rep.same_ptr


@pytest.mark.parametrize(
    ("action", "numpy_side"),
    [
        (Action.NP_IADD, True),
        (Action.NP_FILL, True),
        (Action.NP_SET, True),
        (Action.T_ADD, False),
        (Action.T_SET, False),
    ],
)
@pytest.mark.parametrize("bridge", [Bridge.FROM_NUMPY, Bridge.TENSOR, Bridge.CLONE])
def test_each_action_propagates_only_when_shared(
    action: Action, numpy_side: bool, bridge: Bridge
) -> None:
    lab = new_lab(LabSpec(shape=(2, 3), bridge=bridge))
    shared = lab.report().shares_memory
    a_before, t_before = lab.a.copy(), lab.t.clone()
    rec = lab.apply(action, 7.0)
    assert rec.side == ("numpy" if numpy_side else "tensor")
    assert rec.a_changed is (numpy_side or bool(shared))
    assert rec.t_changed is ((not numpy_side) or bool(shared))
    assert rec.followed is shared
    assert not rec.rebound
    if not shared:
        untouched = lab.t if numpy_side else torch.from_numpy(lab.a)
        ref = t_before if numpy_side else torch.from_numpy(a_before)
        assert torch.equal(untouched, ref)
    assert rec.shares_after is shared


def test_rebinding_makes_a_new_array_and_tensor_does_not_follow() -> None:
    lab = new_lab(LabSpec(shape=(2, 2)))
    old_id = id(lab.a)
    old = lab.a
    rec = lab.apply(Action.NP_REBIND)
    assert rec.rebound and rec.id_a_before == old_id and rec.id_a_after == id(lab.a)
    assert rec.a_changed and not rec.t_changed and not rec.followed
    np.testing.assert_array_equal(lab.a, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(lab.t.numpy(), [[0, 1], [2, 3]])
    rep = lab.report()
    assert rep.shares_memory is False and not rep.same_ptr
    assert lab.old_a is old and np.shares_memory(old, lab.t.numpy())
    # The new a is on its own: mutating it leaves t alone.
    assert not lab.apply(Action.NP_IADD).followed


def test_edit_cells_writes_in_place_and_records_code() -> None:
    lab = new_lab(LabSpec(shape=(3, 4)))
    rec = lab.edit({(1, 2): 99.0, (0, 0): -1.0})
    assert rec is not None and rec.followed
    assert rec.code == "a[0, 0] = -1.0\na[1, 2] = 99.0"
    assert lab.t[1, 2].item() == 99.0 and lab.t[0, 0].item() == -1.0
    assert changed_mask(lab.a_before, lab.a).sum() == 2
    assert lab.edit({}) is None


def test_transposed_view_shares_with_swapped_strides() -> None:
    lab = new_lab(LabSpec(shape=(3, 4), layout=Layout.TRANSPOSED))
    rep = lab.report()
    assert rep.verdict is Verdict.SHARED
    assert rep.np_strides_bytes == (8, 24)
    assert rep.t_strides_elements == (1, 3)
    assert not lab.t.is_contiguous()
    copy = new_lab(LabSpec(shape=(3, 4), layout=Layout.TRANSPOSED, bridge=Bridge.TENSOR))
    # torch.tensor copies, yet keeps the source's layout (measured, not assumed).
    assert copy.report().verdict is Verdict.SEPARATE
    assert copy.report().t_strides_elements == (1, 3)


@pytest.mark.parametrize("bridge", [Bridge.FROM_NUMPY, Bridge.AS_TENSOR, Bridge.TENSOR])
def test_negative_strides_are_a_lesson(bridge: Bridge) -> None:
    with pytest.raises(LessonError) as info:
        new_lab(LabSpec(layout=Layout.REVERSED, bridge=bridge))
    assert "negative" in info.value.message
    assert info.value.fix is not None and ".copy()" in info.value.fix


@pytest.mark.parametrize(
    ("dtype", "words"),
    [
        (NpDtype.OBJECT, "numpy.object_"),
        (NpDtype.STR, "numpy.str_"),
        (NpDtype.BIG_ENDIAN, "byte order"),
    ],
)
def test_unsupported_dtypes_are_lessons(dtype: NpDtype, words: str) -> None:
    with pytest.raises(LessonError) as info:
        new_lab(LabSpec(dtype=dtype))
    assert words in info.value.message and info.value.fix


def test_read_only_array_warns_and_tensor_writes_anyway() -> None:
    lab = new_lab(LabSpec(shape=(2, 2), layout=Layout.READ_ONLY))
    assert any("read-only" in n for n in lab.notes)
    with pytest.raises(LessonError, match="read-only"):
        lab.apply(Action.NP_IADD)
    rec = lab.apply(Action.T_ADD)
    assert rec.followed and not lab.a.flags.writeable
    np.testing.assert_array_equal(lab.a, [[1, 2], [3, 4]])


def test_values_outside_int_range_are_input_errors() -> None:
    lab = new_lab(LabSpec(dtype=NpDtype.UINT8))
    with pytest.raises(InputError, match="0…255"):
        lab.apply(Action.NP_FILL, 300.0)
    with pytest.raises(InputError):
        lab.apply(Action.T_SET, 1.5)


def test_parse_shape() -> None:
    assert parse_shape("3, 4") == (3, 4)
    assert parse_shape("(5,)") == (5,)
    assert parse_shape("2x6") == (2, 6)
    for bad in ["", "a, b", "2, 3, 4", "0, 3", "13"]:
        with pytest.raises(InputError):
            parse_shape(bad)


def test_id_lesson_two_objects_one_buffer() -> None:
    lab = new_lab(LabSpec())
    ids = id_lesson(lab.t)
    assert ids is not None
    assert ids.first_id != ids.second_id and not ids.same_object
    assert ids.share_memory and ids.same_ptr


def test_report_for_a_tensor_off_the_cpu_never_claims_sharing() -> None:
    a = np.zeros(3)
    t = torch.empty(3, device="meta")  # a non-CPU device that exists without a GPU
    rep = sharing_report(a, t)
    assert rep.shares_memory is None and rep.verdict is Verdict.SEPARATE
    assert rep.device == "meta" and "cannot share" in rep.explanation
    assert id_lesson(t) is None


@pytest.mark.skipif(cuda_available(), reason="checks the no-CUDA explanation")
def test_cuda_hop_is_refused_honestly_without_cuda() -> None:
    with pytest.raises(LessonError, match=r"torch.cuda.is_available\(\) is False"):
        new_lab(LabSpec(hop=Hop.CUDA))


@pytest.mark.parametrize("bridge", list(Bridge))
def test_generated_code_reproduces_the_lab(bridge: Bridge) -> None:
    lab = new_lab(LabSpec(shape=(2, 3), dtype=NpDtype.FLOAT32, bridge=bridge))
    lab.apply(Action.NP_IADD)
    lab.edit({(1, 1): 42.0})
    lab.apply(Action.T_SET, 5.0)
    lab.apply(Action.NP_REBIND)
    lab.apply(Action.T_ADD)
    ns: dict[str, object] = {}
    exec(code_for(lab), ns)  # the code the page shows must run
    a, t = ns["a"], ns["t"]
    assert isinstance(a, np.ndarray) and isinstance(t, torch.Tensor)
    np.testing.assert_array_equal(a, lab.a)
    assert torch.equal(t, lab.t)
    assert np.shares_memory(a, t.numpy()) is False


def test_cuda_numpy_refusal_is_classified_with_the_cpu_fix() -> None:
    from ptexplore.tensors.lab import bridge_error

    # The text torch raises for t.numpy() on a CUDA tensor (verified live by bench/cuda_check.py).
    err = TypeError(
        "can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the "
        "tensor to host memory first."
    )
    lesson = bridge_error(err, "t.numpy()")
    assert lesson.message.startswith("t.numpy() refused: can't convert cuda:0")
    assert lesson.fix is not None and "t.cpu().numpy()" in lesson.fix


@pytest.mark.parametrize("bridge", list(Bridge))
def test_read_only_note_follows_the_measured_sharing(bridge: Bridge) -> None:
    lab = new_lab(LabSpec(shape=(2, 2), layout=Layout.READ_ONLY, bridge=bridge))
    shares = bool(np.shares_memory(lab.a, lab.t.numpy()))
    if bridge is Bridge.NUMPY_BACK:  # a = t.numpy() is a new, writable array: no note
        assert lab.a.flags.writeable and not any("read-only" in n for n in lab.notes)
        return
    ours = [n for n in lab.notes if n.startswith("a is read-only")]
    assert len(ours) == 1
    assert ("changes a anyway" in ours[0]) is shares
    assert ("t is a copy" in ours[0]) is (not shares)
    before = lab.a.copy()
    rec = lab.apply(Action.T_ADD)
    assert rec.followed is shares  # the note's claim, checked on the live objects
    assert np.array_equal(lab.a, before) is (not shares)


def test_tensor_side_values_use_the_tensors_dtype() -> None:
    lab = new_lab(LabSpec(shape=(2, 3), dtype=NpDtype.INT64, bridge=Bridge.AS_TENSOR_F32))
    rec = lab.apply(Action.T_SET, 1.5)  # t is float32: 1.5 fits, although a is int64
    assert rec.code == "t[0] = 1.5" and not rec.followed
    assert lab.t[0].tolist() == [1.5, 1.5, 1.5]
    np.testing.assert_array_equal(lab.a, np.arange(6).reshape(2, 3))
    with pytest.raises(InputError, match="a's dtype int64"):
        lab.apply(Action.NP_SET, 1.5)


@pytest.mark.parametrize(
    ("dtype", "bridge", "action", "value", "words"),
    [
        (NpDtype.FLOAT16, Bridge.FROM_NUMPY, Action.NP_FILL, 1e6, "a's dtype float16"),
        (NpDtype.FLOAT32, Bridge.TENSOR, Action.NP_SET, 1e300, "a's dtype float32"),
        (NpDtype.FLOAT64, Bridge.AS_TENSOR_F32, Action.T_SET, 1e300, "t's dtype float32"),
    ],
)
def test_values_that_would_overflow_to_inf_are_input_errors(
    dtype: NpDtype, bridge: Bridge, action: Action, value: float, words: str
) -> None:
    lab = new_lab(LabSpec(shape=(2, 2), dtype=dtype, bridge=bridge))
    with pytest.raises(InputError, match=words) as info:
        lab.apply(action, value)
    assert "inf" in info.value.message and info.value.fix
    assert not lab.history and np.isfinite(lab.a).all()


def test_torch_refusing_a_write_is_a_lesson_not_a_crash() -> None:
    lab = new_lab(LabSpec(shape=(2, 2), bridge=Bridge.TENSOR))
    lab.t.requires_grad_()  # torch refuses in-place writes to a leaf that requires grad
    with pytest.raises(LessonError, match=r"t\.add_\(1\) refused by torch: a leaf Variable"):
        lab.apply(Action.T_ADD)
    assert not lab.history


def test_one_d_transposed_layout_says_nothing_is_transposed() -> None:
    lab = new_lab(LabSpec(shape=(5,), layout=Layout.TRANSPOSED))
    assert lab.a.strides == (8,)
    assert any("nothing is transposed" in n for n in lab.notes)
    assert not new_lab(LabSpec(shape=(2, 3), layout=Layout.TRANSPOSED)).notes


def test_old_a_stays_the_array_t_was_made_with() -> None:
    lab = new_lab(LabSpec(shape=(2, 2)))
    first = lab.a
    lab.apply(Action.NP_REBIND)
    lab.apply(Action.NP_REBIND)
    assert lab.old_a is first and np.shares_memory(first, lab.t.numpy())
    np.testing.assert_array_equal(lab.a, [[2, 3], [4, 5]])


def test_parse_shape_accepts_lists_and_quotes_bad_text_literally() -> None:
    assert parse_shape("[3, 4]") == (3, 4)
    assert parse_shape(" 3 4 ") == (3, 4)
    with pytest.raises(InputError) as info:
        parse_shape("[x](http://example.com)")
    assert "](" not in info.value.message  # no clickable markdown link from learner text


# --- integer dtypes: what the editor accepts, and +1 wrapping around ----------------------


def test_editor_accepts_says_what_the_dtype_holds() -> None:
    u8 = editor_accepts(np.dtype(np.uint8))
    assert "a is **uint8**: cells take whole numbers 0…255" in u8
    assert "cannot hold 1.5" in u8 and "typing 1.5 is refused with a message" in u8
    i64 = editor_accepts(np.dtype(np.int64))
    assert f"whole numbers {-(2**63)}…{2**63 - 1}" in i64
    f16 = editor_accepts(np.dtype(np.float16))
    assert "any number up to ±65504" in f16 and "(3 significant digits)" in f16
    assert "cannot hold" not in editor_accepts(np.dtype(np.float64))


def test_uint8_iadd_wraps_255_to_0_and_says_so() -> None:
    lab = new_lab(LabSpec((2, 3), NpDtype.UINT8, Layout.CONTIGUOUS, Bridge.FROM_NUMPY, Hop.NONE))
    lab.apply(Action.NP_SET, 255)
    rec = lab.apply(Action.NP_IADD)
    assert lab.a.tolist() == [[0, 2, 3], [4, 5, 6]]  # real numpy: 255 + 1 → 0
    assert lab.t.tolist() == [[0, 2, 3], [4, 5, 6]]  # shared: t sees the wrap too
    assert rec.wrap_note.startswith("`a += 1` wrapped 1 cell(s) around: uint8 holds 0…255")
    assert "so [0, 0] went 255 → 0" in rec.wrap_note and "real numpy" in rec.wrap_note
    assert lab.apply(Action.NP_IADD).wrap_note == ""  # nothing at 255 any more
    # torch's in-place add wraps the same way; a = a + 1 (a new uint8 array) too
    lab.apply(Action.T_SET, 255)
    rec_t = lab.apply(Action.T_ADD)
    assert rec_t.wrap_note.startswith("`t.add_(1)` wrapped 3 cell(s) around")
    assert "real torch integer arithmetic" in rec_t.wrap_note and lab.t[0].tolist() == [0, 0, 0]
    lab.apply(Action.NP_SET, 255)
    rec_r = lab.apply(Action.NP_REBIND)
    assert rec_r.rebound and rec_r.wrap_note.startswith("`a = a + 1` wrapped 1 cell(s)")


def test_no_wrap_note_for_floats_or_int64_far_from_max() -> None:
    for dtype in (NpDtype.FLOAT64, NpDtype.INT64):
        lab = new_lab(LabSpec((2, 3), dtype, Layout.CONTIGUOUS, Bridge.FROM_NUMPY, Hop.NONE))
        lab.apply(Action.NP_FILL, 255)
        assert lab.apply(Action.NP_IADD).wrap_note == ""
        assert lab.a[0, 0] == 256
    big = np.array([np.iinfo(np.int64).max, 0])
    note = wrap_note("a += 1", big, big + 1, "numpy")
    assert f"so [0] went {2**63 - 1} → {-(2**63)}" in note
    assert wrap_note("a += 1", np.array([1.0]), np.array([0.5]), "numpy") == ""
