"""Strict shape parsing: accepted strings behave exactly like torch, rejected ones explain."""

from __future__ import annotations

import ast
import re

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ptexplore.errors import InputError
from ptexplore.view import (
    LabConfig,
    Method,
    PreOp,
    parse_permutation,
    parse_source_shape,
    parse_target_shape,
    run_lab,
)
from ptexplore.view.shapes import MAX_DIMS, MAX_ELEMENTS


@pytest.mark.parametrize(
    ("text", "dims"),
    [
        ("2, 3", (2, 3)),
        ("2,-1", (2, -1)),
        ("(2, 3, 4)", (2, 3, 4)),
        ("[ 4 , -1 ]", (4, -1)),
        ("6,", (6,)),
        ("  -1 ", (-1,)),
        ("0, 5", (0, 5)),
    ],
)
def test_target_shapes_accepted(text: str, dims: tuple[int, ...]) -> None:
    assert parse_target_shape(text) == dims


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "is empty"),
        ("()", "is empty"),
        ("2, x", "`x` in the target shape is not a whole number"),
        ("2.5, 2", "`2.5` in the target shape is not a whole number"),
        ("2`**x**`", "`` 2`**x**` `` in the target shape is not a whole number"),
        ("1_0", "not a whole number"),
        ("٣", "not a whole number"),
        ("2,,3", "empty size at position 2"),
        ("(2, 3]", "different brackets"),
        ("1, 1, 1, 1, 1, 1, 1", f"7 dimensions; this lab shows at most {MAX_DIMS}"),
        ("100, 101", "asks for 10,100 elements"),
        ("99999999999999999999", "too large"),
    ],
)
def test_target_shapes_rejected_with_message(text: str, needle: str) -> None:
    with pytest.raises(InputError) as info:
        parse_target_shape(text)
    assert needle in info.value.message
    assert info.value.fix


def test_two_minus_ones_is_torchs_own_message() -> None:
    with pytest.raises(InputError) as info:
        parse_target_shape("-1, 2, -1")
    # torch's own words, asked live from torch on the meta device
    with pytest.raises(RuntimeError) as real:
        torch.arange(24).view(-1, 2, -1)
    assert str(real.value) == "only one dimension can be inferred"
    assert info.value.message.startswith("only one dimension can be inferred")
    assert "Keep a single -1" in (info.value.fix or "")


def test_size_below_minus_one_is_torchs_own_message() -> None:
    with pytest.raises(InputError) as info:
        parse_target_shape("2, -3")
    assert info.value.message == "invalid shape dimension -3 at index 1 of shape [2, -3]"


def test_source_shape_rules() -> None:
    assert parse_source_shape("3, 2") == (3, 2)
    with pytest.raises(InputError, match="at least 1"):
        parse_source_shape("3, -1")
    with pytest.raises(InputError, match="at least 1"):
        parse_source_shape("0, 2")
    with pytest.raises(InputError, match="too large"):
        parse_source_shape("10001")
    with pytest.raises(InputError, match=f"at most {MAX_ELEMENTS:,}"):
        parse_source_shape("101, 100")


def test_permutation_rules() -> None:
    assert parse_permutation("2, 0, 1", 3) == (2, 0, 1)
    assert parse_permutation("-1, 0", 2) == (1, 0)
    with pytest.raises(InputError, match="one entry per dimension"):
        parse_permutation("0, 1", 3)
    with pytest.raises(InputError, match="exactly once"):
        parse_permutation("0, 0, 1", 3)


# --- property tests --------------------------------------------------------------------

_token = st.one_of(
    st.integers(-3, 30).map(str),
    st.sampled_from(
        ["-1", "0", "24", "12", "1.5", "x", "", " ", "1e3", "--1", "+2", "99999", "007", "`"]
    ),
    st.text(alphabet="0123456789-,()[] .ab", max_size=4),
)
_plausible = st.lists(
    st.sampled_from(["-1", "1", "2", "3", "4", "5", "6", "8", "12", "24"]), min_size=1, max_size=5
)
shape_text = st.one_of(
    _plausible.map(", ".join),
    _plausible.map(lambda t: "[" + ",".join(t) + "]"),
    st.lists(_token, min_size=0, max_size=8).map(", ".join),
    st.lists(_token, min_size=0, max_size=8).map(lambda t: "(" + ",".join(t) + ")"),
    st.text(max_size=30),
)


def _python_reading(text: str) -> tuple[int, ...]:
    """How Python itself reads an accepted shape string (independent of the lab's parser):
    ``ast.literal_eval`` of the text as a tuple, leading zeros dropped (``007`` is 7), and
    space- or x-separated sizes (``2 3``, ``2x3``: the one grammar accepts them) read as
    comma-separated."""
    body = re.sub(r"(?<![0-9])0+(?=[0-9])", "", text.strip())
    inner = body[1:-1] if body[:1] in "([" else body
    if "," not in inner:  # the grammar's other separators (spaces, x, ×) read as commas
        inner = ", ".join(re.split(r"\s*(?:[x×]|\s)\s*", inner.strip()))
        body = body[0] + inner + body[-1] if body[:1] in "([" else inner
    value = ast.literal_eval(body if body[:1] in "([" else f"({body})")
    items = value if isinstance(value, (tuple, list)) else (value,)
    assert all(type(v) is int for v in items), items
    return tuple(items)


def _torch_outcome(x: torch.Tensor, dims: tuple[int, ...], method: str) -> object:
    try:
        y = x.view(dims) if method == "view" else x.reshape(dims)
    except RuntimeError as err:
        return ("error", str(err))
    return ("ok", tuple(y.shape), tuple(y.stride()), y.tolist())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=shape_text, method=st.sampled_from(["view", "reshape"]), transposed=st.booleans())
def test_any_target_string_matches_torch_or_explains(
    text: str, method: str, transposed: bool
) -> None:
    """Accepted → the lab's y is exactly torch's; rejected → an InputError, nothing else."""
    try:
        dims = parse_target_shape(text)
    except InputError as err:
        assert err.message.strip()
        return
    assert dims == _python_reading(text)  # the parser read what Python reads
    config = LabConfig(
        (2, 3, 4),
        op=PreOp.TRANSPOSE if transposed else PreOp.NONE,
        method=Method(method),
        target=dims,
    )
    result = run_lab(config)
    x = torch.arange(24).view(2, 3, 4)
    if transposed:
        x = x.transpose(-2, -1)
    expected = _torch_outcome(x, dims, method)
    if result.result is None:
        assert result.failure is not None
        assert expected == ("error", result.failure.message)
    else:
        y = result.result
        assert expected == ("ok", y.shape, y.stride, y.nested())


@settings(max_examples=100, deadline=None)
@given(text=shape_text)
def test_any_source_string_parses_or_explains(text: str) -> None:
    try:
        dims = parse_source_shape(text)
    except InputError as err:
        assert err.message.strip()
        return
    assert dims == _python_reading(text)
    result = run_lab(LabConfig(dims, method=Method.VIEW_FLAT))
    assert result.source.shape == tuple(torch.arange(result.source.numel).view(dims).shape)
    assert result.result is not None
    assert result.result.values == tuple(range(result.source.numel))
