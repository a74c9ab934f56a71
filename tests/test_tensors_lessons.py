"""Error lessons run the real call (torch's own words) and the fix; .item() on every shape."""

from __future__ import annotations

import contextlib
import io

import pytest

from ptexplore.tensors import (
    ErrorCase,
    ItemDtype,
    ItemShape,
    Outcome,
    cuda_available,
    item_lesson,
    run_error_lesson,
)
from ptexplore.tensors.lessons import item_code

EXPECTED = {
    ErrorCase.REQUIRES_GRAD: ("RuntimeError", "requires grad", True),
    ErrorCase.NEGATIVE_STRIDES: ("ValueError", "negative", False),
    ErrorCase.OBJECT_DTYPE: ("TypeError", "numpy.object_", False),
    ErrorCase.STR_DTYPE: ("TypeError", "numpy.str_", False),
    ErrorCase.BIG_ENDIAN: ("ValueError", "byte order", False),
}


@pytest.mark.parametrize("case", list(EXPECTED))
def test_error_lessons_keep_torchs_message_and_run_the_fix(case: ErrorCase) -> None:
    kind, words, fix_shares = EXPECTED[case]
    lesson = run_error_lesson(case)
    assert lesson.outcome is Outcome.ERROR
    assert lesson.error_type == kind
    assert words in lesson.message
    assert "Triggered internally" not in lesson.message
    assert lesson.fix_result.startswith(("tensor(", "array("))
    assert lesson.fix_shares is fix_shares


def test_read_only_lesson_shows_the_write_through() -> None:
    lesson = run_error_lesson(ErrorCase.READ_ONLY)
    assert lesson.outcome is Outcome.WARNING and lesson.error_type == "UserWarning"
    assert "not writable" in lesson.message or "[1.0, 1.0, 1.0]" in lesson.message
    assert lesson.fix_result == "tensor([1., 1., 1.], dtype=torch.float64)"
    assert lesson.fix_shares is False


@pytest.mark.skipif(cuda_available(), reason="checks the no-CUDA branch")
def test_cuda_lesson_is_not_faked_without_cuda() -> None:
    lesson = run_error_lesson(ErrorCase.CUDA)
    assert lesson.outcome is Outcome.NOT_RUN
    assert "is_available() is False" in lesson.message
    assert lesson.fix_result == "" and lesson.error_type == ""
    assert ".cpu()" in lesson.fix_code


@pytest.mark.parametrize(
    ("shape", "dtype", "value", "expected", "type_name"),
    [
        (ItemShape.SCALAR, ItemDtype.FLOAT64, 0.1, "0.1", "float"),
        (ItemShape.SCALAR, ItemDtype.FLOAT32, 0.1, "0.10000000149011612", "float"),
        (ItemShape.ONE, ItemDtype.INT64, 3.0, "3", "int"),
        (ItemShape.ONE_ONE, ItemDtype.BOOL, 1.0, "True", "bool"),
    ],
)
def test_item_on_one_element(
    shape: ItemShape, dtype: ItemDtype, value: float, expected: str, type_name: str
) -> None:
    res = item_lesson(shape, dtype, value)
    assert res.ok and res.numel == 1
    assert (res.value_repr, res.python_type) == (expected, type_name)


def test_item_float32_note_explains_precision() -> None:
    res = item_lesson(ItemShape.SCALAR, ItemDtype.FLOAT32, 0.1)
    assert "cannot store 0.1 exactly" in res.note


@pytest.mark.parametrize(("shape", "n"), [(ItemShape.THREE, 3), (ItemShape.TWO_TWO, 4)])
def test_item_on_many_elements_is_the_real_error_with_fixes(shape: ItemShape, n: int) -> None:
    res = item_lesson(shape, ItemDtype.INT64, 5.0)
    assert not res.ok and res.error_type == "RuntimeError"
    assert res.error_message == f"a Tensor with {n} elements cannot be converted to Scalar"
    assert res.first_item_repr == "5"
    expected = [5, 6, 7] if n == 3 else [[5, 6], [7, 8]]
    assert res.tolist_repr == repr(expected)
    assert "tolist()" in res.note


@pytest.mark.parametrize("shape", list(ItemShape))
def test_item_code_runs_and_prints_what_the_page_shows(shape: ItemShape) -> None:
    res = item_lesson(shape, ItemDtype.FLOAT64, 2.5)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(item_code(shape, ItemDtype.FLOAT64, 2.5), {})
    assert res.snippet is not None and out.getvalue() == res.snippet.output  # what the page shows
    if res.ok:
        assert out.getvalue().strip() == f"{res.value_repr} <class 'float'>"
    else:
        assert out.getvalue().strip().splitlines() == [
            f"{res.error_type}: {res.error_message}",  # the real t.item() refusing
            res.tolist_repr,
            res.first_item_repr,
        ]


@pytest.mark.parametrize("value", [1e300, -1e19, 9.3e18])
def test_item_int64_values_that_overflow_are_input_errors(value: float) -> None:
    from ptexplore.errors import InputError

    with pytest.raises(InputError, match="does not fit int64"):
        item_lesson(ItemShape.TWO_TWO, ItemDtype.INT64, value)


def test_item_notes_say_what_happened_to_the_value() -> None:
    res = item_lesson(ItemShape.ONE, ItemDtype.INT64, 2.5)
    assert res.value_repr == "2" and "int(2.5) = 2" in res.note
    assert "still holds exactly one element" in res.note
    res32 = item_lesson(ItemShape.ONE_ONE, ItemDtype.FLOAT32, 0.1)
    assert "still holds exactly one element" in res32.note and "float32" in res32.note
    many = item_lesson(ItemShape.TWO_TWO, ItemDtype.FLOAT64, 1.0)
    assert many.first_item_code == "t[0, 0].item()" and many.first_item_repr == "1.0"
    assert item_lesson(ItemShape.THREE, ItemDtype.BOOL, 0.0).first_item_code == "t[0].item()"


def test_read_only_lesson_keeps_torchs_words_after_the_once_only_warning() -> None:
    for _ in range(2):  # the second call is silent in torch: the text is remembered
        lesson = run_error_lesson(ErrorCase.READ_ONLY)
        assert "not writable" in lesson.message
        assert "a is [1.0, 1.0, 1.0]" in lesson.message
