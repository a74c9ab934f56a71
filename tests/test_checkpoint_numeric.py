"""Numbers a real checkpoint can hold, each with a stated behaviour: NaN/inf from a diverged
run, integer or bool tensors, complex, sparse, quantized, meta and empty tensors, and
values that are not tensors at all."""

from __future__ import annotations

import math
from collections import OrderedDict

import pytest
import torch

from ptexplore.models import catalog, params, weights
from ptexplore.models.weights import WeightsSource
from tests.test_checkpoint_formats import saved

KEY = "example:Net"  # hidden1.weight (5, 2), hidden1.bias (5,), … predict.bias (3,)


def _values(t: torch.Tensor) -> params.ParamValues:
    return params.summarize("w", t, seed=0, source=params.ValuesSource.LOADED, t0=0.0)


@pytest.fixture
def real() -> OrderedDict[str, torch.Tensor]:
    return catalog.build_real(KEY, seed=2).state_dict()


def _load(sd: dict[str, torch.Tensor]) -> tuple[torch.nn.Module, weights.LoadReport]:
    state, wrapper, prefix = weights.read_state_dict(saved(sd))
    return weights.load_into_meta(
        KEY, None, state, source=WeightsSource.UPLOAD, origin="x.pth",
        wrapper_key=wrapper, stripped_prefix=prefix,
    )  # fmt: skip


# -------------------------------------------------------------------- NaN and inf


def test_nan_and_inf_are_counted_and_the_rest_summarised() -> None:
    t = torch.tensor([1.0, 2.0, math.nan, math.inf, -math.inf, 3.0, math.nan])
    v = _values(t)
    assert (v.nan_count, v.posinf_count, v.neginf_count, v.finite, v.numel) == (2, 1, 1, 3, 7)
    assert v.mean == pytest.approx(2.0) and v.std == pytest.approx(1.0)
    assert (v.min, v.max) == (1.0, 3.0)
    assert sum(v.hist_counts) == 3 and all(math.isfinite(e) for e in v.hist_edges)
    assert sorted(v.values) == [1.0, 2.0, 3.0]
    assert "4 of 7 values are not finite (2 NaN, 1 +inf, 1 −inf)" in v.note


def test_no_finite_value_at_all_is_a_note_not_a_crash() -> None:
    v = _values(torch.full((4, 4), math.nan))
    assert v.nan_count == 16 and v.finite == 0 and v.values == ()
    assert math.isnan(v.mean) and math.isnan(v.std)
    assert v.hist_counts == (0,) and v.hist_edges == (-0.5, 0.5)
    assert "None of its 16 values is finite" in v.note
    v = _values(torch.tensor([math.inf, -math.inf]))
    assert (v.posinf_count, v.neginf_count) == (1, 1) and "no statistics" in v.note


def test_an_empty_tensor_is_summarised_without_a_crash() -> None:
    v = _values(torch.zeros(0, 3))
    assert v.numel == 0 and v.note == "The tensor is empty: no values to summarise."
    assert v.zeros_share == 0.0 and v.hist_counts == (0,)


def test_values_near_float32_limits_do_not_overflow_the_statistics() -> None:
    t = torch.tensor([3e38, -3e38, 3e38, -3e38], dtype=torch.float32)
    v = _values(t)
    assert v.mean == pytest.approx(0.0, abs=1e30)
    assert math.isfinite(v.std) and v.std == pytest.approx(3.4641e38, rel=1e-3)
    assert sum(v.hist_counts) == 4
    big = _values(torch.tensor([1e300, -1e300], dtype=torch.float64))
    assert big.std == pytest.approx(math.sqrt(2) * 1e300) and big.max == 1e300
    edge = _values(torch.tensor([1.7e308, -1.7e308], dtype=torch.float64))
    assert sum(edge.hist_counts) == 2 and edge.hist_edges[0] == pytest.approx(-1.7e308)


def test_a_constant_huge_tensor_still_gets_a_visible_bin() -> None:
    v = _values(torch.full((10,), 1e30))
    assert sum(v.hist_counts) == 10 and v.hist_edges[0] < 1e30 < v.hist_edges[-1]


def test_nan_weights_load_and_the_page_math_holds(real: OrderedDict[str, torch.Tensor]) -> None:
    sd = dict(real)
    w = sd["hidden2.weight"].clone()
    w[0, 0], w[1, 1], w[2, 2] = math.nan, math.inf, -math.inf
    sd["hidden2.weight"] = w
    model, report = _load(sd)
    assert len(report.loaded) == 6
    t = weights.tensor_from(model, "hidden2.weight")
    assert t is not None
    v = _values(t)
    assert (v.nan_count, v.posinf_count, v.neginf_count) == (1, 1, 1)
    finite = w[torch.isfinite(w)]
    assert v.mean == pytest.approx(float(finite.mean()))


def test_the_page_shows_an_all_nan_parameter_without_an_exception() -> None:
    from ptexplore.ui.models import PARAMETERS
    from tests.conftest import open_page, open_tab

    real = catalog.build_real("example:Model", seed=11)
    with torch.no_grad():
        real.conv1.weight.fill_(math.nan)
    at = open_tab(open_page("pages/3_Model_Explorer.py"), "models", PARAMETERS)
    at.radio(key="models.weights").set_value("uploaded file").run()
    at.file_uploader(key="models.weights_file").set_value(
        ("nan.pth", saved(real.state_dict()), "application/octet-stream")
    ).run()
    assert not at.exception and not at.error
    assert next(str(m.value) for m in at.metric if m.label == "mean") == "nan"


# ---------------------------------------------------------------------- dtypes


def test_an_integer_tensor_for_a_float_parameter_is_cast_as_copy_would(
    real: OrderedDict[str, torch.Tensor],
) -> None:
    sd = dict(real)
    sd["hidden1.weight"] = torch.arange(10, dtype=torch.int64).reshape(5, 2)
    sd["hidden1.bias"] = torch.tensor([True, False, True, False, True])
    model, report = _load(sd)
    t = weights.tensor_from(model, "hidden1.weight")
    assert t is not None and t.dtype == torch.float32
    expected = torch.empty(5, 2).copy_(sd["hidden1.weight"])  # what load_state_dict does
    assert torch.equal(t, expected)
    b = weights.tensor_from(model, "hidden1.bias")
    assert b is not None and b.tolist() == [1.0, 0.0, 1.0, 0.0, 1.0]
    assert any("cast from int64 to float32" in n and "`hidden1.weight`" in n for n in report.notes)
    assert any("cast from bool to float32" in n for n in report.notes)


def test_a_float_tensor_for_an_integer_buffer_is_cast() -> None:
    expected = catalog.build_meta("resnet18", None).model.state_dict()
    sd = {k: torch.zeros(v.shape, dtype=torch.float32) for k, v in expected.items()}
    sd["bn1.num_batches_tracked"] = torch.tensor(7.9)
    state, _, _ = weights.read_state_dict(saved(sd))
    model, report = weights.load_into_meta(
        "resnet18", None, state, source=WeightsSource.UPLOAD, origin="x"
    )
    assert model.bn1.num_batches_tracked.dtype == torch.int64
    assert int(model.bn1.num_batches_tracked) == 7  # copy_ truncates
    assert any("cast from float32 to int64" in n for n in report.notes)


def test_a_complex_tensor_is_not_loaded_and_says_why(real: OrderedDict[str, torch.Tensor]) -> None:
    sd = dict(real)
    sd["predict.weight"] = torch.complex(torch.ones(3, 5), torch.full((3, 5), 2.0))
    model, report = _load(sd)
    assert weights.tensor_from(model, "predict.weight") is None  # kept its random init
    assert report.refused[0][0] == "predict.weight"
    assert "keep only the real part" in report.refused[0][1]
    assert "predict.weight" not in report.missing and len(report.loaded) == 5
    assert any("`predict.weight` is complex64" in n for n in report.notes)


def test_a_sparse_tensor_of_the_parameters_shape_is_made_dense(
    real: OrderedDict[str, torch.Tensor],
) -> None:
    sd = dict(real)
    dense = torch.zeros(5, 5)
    dense[1, 3], dense[4, 0] = 2.5, -1.0
    sd["hidden2.weight"] = dense.to_sparse()
    sd["hidden1.weight"] = torch.zeros(7, 7).to_sparse()  # another shape: set aside
    model, report = _load(sd)
    t = weights.tensor_from(model, "hidden2.weight")
    assert t is not None and t.layout == torch.strided and torch.equal(t, dense)
    assert ("hidden1.weight", (5, 2), (7, 7)) in report.mismatched
    assert any("sparse in the file, made dense: `hidden2.weight`" in n for n in report.notes)


@pytest.mark.filterwarnings("ignore:Sparse invariant checks")
def test_a_sparse_tensor_declaring_a_huge_shape_is_never_made_dense(
    real: OrderedDict[str, torch.Tensor],
) -> None:
    sd = dict(real)
    i = torch.tensor([[0], [0]])
    sd["hidden2.weight"] = torch.sparse_coo_tensor(i, torch.ones(1), (10**6, 10**6))
    _, report = _load(sd)  # 4 TB dense: the shape rule sets it aside first
    assert ("hidden2.weight", (5, 5), (10**6, 10**6)) in report.mismatched


@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor")
def test_a_quantized_tensor_is_dequantized(real: OrderedDict[str, torch.Tensor]) -> None:
    sd = dict(real)
    q = torch.quantize_per_tensor(torch.tensor([0.5, 1.0, 1.5]), 0.5, 0, torch.qint8)
    sd["predict.bias"] = q
    model, report = _load(sd)
    t = weights.tensor_from(model, "predict.bias")
    assert t is not None and t.tolist() == [0.5, 1.0, 1.5]
    assert any("dequantized" in n for n in report.notes)


def test_a_meta_tensor_has_no_values_to_load(real: OrderedDict[str, torch.Tensor]) -> None:
    sd = dict(real)
    sd["predict.bias"] = torch.empty(3, device="meta")
    model, report = _load(sd)
    assert weights.tensor_from(model, "predict.bias") is None
    assert ("predict.bias", "holds no data (a meta tensor)") in report.refused


def test_an_empty_tensor_where_a_parameter_has_values_is_a_shape_mismatch(
    real: OrderedDict[str, torch.Tensor],
) -> None:
    sd = dict(real)
    sd["predict.bias"] = torch.zeros(0)
    _, report = _load(sd)
    assert ("predict.bias", (3,), (0,)) in report.mismatched


def test_a_value_that_is_not_a_tensor_under_a_parameter_name(
    real: OrderedDict[str, torch.Tensor],
) -> None:
    sd: dict[str, object] = dict(real)
    sd["predict.weight"] = [[1.0] * 5] * 3
    sd["predict.bias"] = 0.5
    state, _, _ = weights.read_state_dict(saved(sd))
    assert "predict.weight" not in state
    _, report = weights.load_into_meta(KEY, None, state, source=WeightsSource.UPLOAD, origin="x")
    assert {"predict.weight", "predict.bias"} <= set(report.missing)
    note = next(n for n in report.notes if n.startswith("not loaded:"))
    assert "`predict.weight` holds a list" in note and "`predict.bias` holds a float" in note
    # handed straight to load_into_meta (not read from a file), the same rule applies
    _, direct = weights.load_into_meta(
        KEY,
        None,
        sd,
        source=WeightsSource.UPLOAD,
        origin="x",  # type: ignore[arg-type]
    )
    assert ("predict.bias", "holds a float, not a tensor") in direct.refused


def test_when_nothing_can_be_loaded_the_error_says_why(
    real: OrderedDict[str, torch.Tensor],
) -> None:
    sd = {k: torch.complex(v, v) for k, v in real.items()}
    with pytest.raises(weights.ModelError, match="6 were refused"):
        _load(sd)
