"""The lab's verdicts are torch's: -1 arithmetic, errors, strides, pointers, writes, code."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import math

import numpy as np
import pytest
import torch
from plotly.graph_objects import Figure

from ptexplore.errors import InputError
from ptexplore.view import (
    Fill,
    LabConfig,
    Method,
    PreOp,
    Sharing,
    StorageRow,
    cells_reading,
    infer_explanation,
    lab_code,
    run_lab,
    storage_figure,
    tensor_figure,
)
from ptexplore.view.figures import MAX_HEIGHT, MAX_PANELS, panel_grids
from ptexplore.view.lab import result_numel
from ptexplore.view.shapes import MAX_ELEMENTS, code_span

# --- -1 inference -----------------------------------------------------------------------


def test_minus_one_arithmetic() -> None:
    inf = infer_explanation((2, -1, 4), 24)
    assert inf is not None
    assert (inf.index, inf.value, inf.text) == (1, 3, "24 / (2·4) = 3")
    simple = infer_explanation((2, -1), 6)
    assert simple is not None and simple.text == "6 / 2 = 3"
    assert torch.arange(24).view(2, -1, 4).shape[1] == 3  # what torch really inferred


def test_minus_one_not_whole() -> None:
    inf = infer_explanation((5, -1), 24)
    assert inf is not None and inf.value is None
    assert "24 / 5 = 4.8 is not a whole number (24 = 4·5 + 4)" in inf.text
    zero = infer_explanation((0, -1), 24)
    assert zero is not None and zero.value is None and "multiply to 0" in zero.text
    assert infer_explanation((2, 3), 6) is None


def test_lab_reports_inferred_size_and_result() -> None:
    r = run_lab(LabConfig((2, 3, 4), target=(2, -1, 4)))
    assert r.inference is not None and r.inference.text == "24 / (2·4) = 3"
    assert r.result is not None and r.result.shape == (2, 3, 4)
    flat = run_lab(LabConfig((3, 2), method=Method.VIEW_FLAT))
    assert flat.inference is not None and flat.inference.value == 6


# --- every error text of the issue, verbatim from torch -----------------------------------


def test_invalid_size_error_is_torchs() -> None:
    r = run_lab(LabConfig((2, 3, 4), method=Method.VIEW, target=(5, 5)))
    assert r.result is None and r.failure is not None and r.sharing is Sharing.FAILED
    assert r.failure.kind == "RuntimeError"
    assert r.failure.message == "shape '[5, 5]' is invalid for input of size 24"
    assert "5·5 = 25 ≠ 24" in r.failure.lesson
    assert "-1" in r.failure.fix


def test_invalid_size_with_minus_one() -> None:
    r = run_lab(LabConfig((2, 3, 4), method=Method.RESHAPE, target=(5, -1)))
    assert r.failure is not None
    assert r.failure.message == "shape '[5, -1]' is invalid for input of size 24"
    assert r.inference is not None and r.inference.value is None


def test_transposed_view_fails_with_reshape_fix() -> None:
    r = run_lab(LabConfig((3, 2), op=PreOp.TRANSPOSE, method=Method.VIEW, target=(6,)))
    assert r.failure is not None
    with pytest.raises(RuntimeError) as real:
        torch.arange(6).view(3, 2).t().view(6)
    assert r.failure.message == str(real.value)
    assert r.failure.message.startswith("view size is not compatible with input tensor's size")
    assert r.failure.message.endswith("Use .reshape(...) instead.")
    assert "`x.reshape(6)`" in r.failure.fix and "`x.contiguous().view(6)`" in r.failure.fix
    assert "not contiguous (stride (1, 2) for shape (2, 3))" in r.failure.lesson


def test_view_minus_one_on_slice_fails_and_dim_out_of_range_is_torchs() -> None:
    # every 2nd column of a 3x4: strides (4, 2) still form one even stride → view works
    ok = run_lab(LabConfig((3, 4), op=PreOp.SLICE, step=2, method=Method.VIEW_FLAT))
    assert ok.result is not None and ok.result.stride == (2,) and ok.sharing is Sharing.SAME_PTR
    # every 3rd: strides (4, 3) → no single stride walks it in order → torch refuses
    r = run_lab(LabConfig((3, 4), op=PreOp.SLICE, step=3, method=Method.VIEW_FLAT))
    assert r.failure is not None and "view size is not compatible" in r.failure.message
    bad = run_lab(LabConfig((3, 4), method=Method.UNSQUEEZE, dim=5))
    assert bad.failure is not None and bad.failure.kind == "IndexError"
    assert bad.failure.message == (
        "Dimension out of range (expected to be in range of [-3, 2], but got 5)"
    )


def test_transpose_of_1d_source_is_a_lesson_error() -> None:
    with pytest.raises(InputError, match="only 1"):
        run_lab(LabConfig((6,), op=PreOp.TRANSPOSE))


# --- strides, offsets, contiguity -------------------------------------------------------


def test_transposed_source_facts() -> None:
    r = run_lab(LabConfig((2, 3, 4), op=PreOp.TRANSPOSE, method=Method.RESHAPE, target=(-1,)))
    x = r.source
    assert x.shape == (2, 4, 3) and x.stride == (12, 1, 4)
    assert x.storage_offset == 0 and x.is_contiguous is False
    # memory positions in reading order: x[0,0,:] reads 0, 4, 8
    assert x.positions[:6] == (0, 4, 8, 1, 5, 9)
    assert all(x.storage.used)


def test_sliced_source_facts() -> None:
    r = run_lab(LabConfig((3, 4), op=PreOp.SLICE, step=2, method=Method.RESHAPE, target=(-1,)))
    x = r.source
    assert x.shape == (3, 2) and x.stride == (4, 2) and x.storage_offset == 0
    assert x.is_contiguous is False
    assert x.values == (0, 2, 4, 6, 8, 10)
    assert x.storage.used == tuple(i % 2 == 0 for i in range(12))


def test_slice_start_gives_a_storage_offset() -> None:
    r = run_lab(LabConfig((3, 4), op=PreOp.SLICE, start=1, step=2, method=Method.VIEW_FLAT))
    x, y = r.source, r.result
    real = torch.arange(12).view(3, 4)[..., 1::2]
    assert r.source_expr == "base.view(3, 4)[..., 1::2]"
    assert x.shape == (3, 2) and x.stride == (4, 2) and x.storage_offset == 1
    assert x.values == tuple(real.reshape(-1).tolist()) == (1, 3, 5, 7, 9, 11)
    assert x.data_ptr == x.storage_ptr + 1 * 8  # one int64 past the storage start
    assert x.storage.used == tuple(i % 2 == 1 for i in range(12))
    # view(-1) still works (one even stride of 2) and keeps the offset and the pointer
    assert y is not None and y.stride == (2,) and y.storage_offset == 1
    assert r.sharing is Sharing.SAME_PTR and y.data_ptr == x.data_ptr
    with pytest.raises(InputError, match="past the end of the last dimension"):
        run_lab(LabConfig((3, 4), op=PreOp.SLICE, start=4))


def test_invalid_minus_one_lesson_names_the_cause() -> None:
    zero = run_lab(LabConfig((2, 3), method=Method.VIEW, target=(0, -1)))
    assert zero.failure is not None
    assert zero.failure.message == "shape '[0, -1]' is invalid for input of size 6"
    assert "multiply to 0" in zero.failure.lesson
    frac = run_lab(LabConfig((2, 3), method=Method.VIEW, target=(4, -1)))
    assert frac.failure is not None and "not a whole number." in frac.failure.lesson
    assert "multiply to 0" not in frac.failure.lesson


def test_code_span_survives_backticks() -> None:
    assert code_span("x") == "`x`"
    assert code_span("2`**x**`") == "`` 2`**x**` ``"
    assert code_span("a``b") == "``` a``b ```"


def test_permuted_source_facts() -> None:
    r = run_lab(LabConfig((2, 3, 4), op=PreOp.PERMUTE, perm=(2, 0, 1), method=Method.SQUEEZE))
    assert r.source.shape == (4, 2, 3) and r.source.stride == (1, 12, 4)
    assert r.source.is_contiguous is False and r.source.storage_offset == 0
    assert r.result is not None and r.sharing is Sharing.SAME_PTR


def test_contiguous_preop_copies_then_view_works() -> None:
    r = run_lab(LabConfig((3, 2), op=PreOp.CONTIGUOUS, method=Method.VIEW, target=(6,)))
    assert r.source.is_contiguous and r.source.stride == (3, 1)
    assert r.result is not None and r.result.values == (0, 2, 4, 1, 3, 5)
    assert r.sharing is Sharing.SAME_PTR


# --- sharing: views share, reshape-after-transpose copies --------------------------------


@pytest.mark.parametrize(
    "config",
    [
        LabConfig((2, 3, 4), method=Method.VIEW, target=(6, -1)),
        LabConfig((2, 3, 4), method=Method.RESHAPE, target=(4, 6)),
        LabConfig((2, 3, 4), method=Method.FLATTEN),
        LabConfig((2, 3, 4), method=Method.UNSQUEEZE, dim=1),
        LabConfig((2, 1, 4), method=Method.SQUEEZE, dim=1),
        LabConfig((2, 3, 4), op=PreOp.TRANSPOSE, method=Method.UNSQUEEZE, dim=0),
        LabConfig((2, 3, 4), method=Method.VIEW_FLAT),
    ],
)
def test_views_share_the_pointer(config: LabConfig) -> None:
    r = run_lab(config)
    assert r.result is not None
    assert r.sharing is Sharing.SAME_PTR
    assert r.result.data_ptr == r.source.data_ptr
    assert r.result.storage_ptr == r.source.storage_ptr
    assert r.verdict.startswith("shares storage with the source: same data_ptr")


def test_reshape_after_transpose_copies() -> None:
    r = run_lab(LabConfig((3, 2), op=PreOp.TRANSPOSE, method=Method.RESHAPE, target=(6,)))
    assert r.result is not None and r.sharing is Sharing.COPY
    assert r.result.data_ptr != r.source.data_ptr
    assert r.result.storage_ptr != r.source.storage_ptr
    assert r.result.values == (0, 2, 4, 1, 3, 5) and r.result.is_contiguous
    assert r.verdict.startswith("copied: new storage")
    flat = run_lab(LabConfig((3, 2), op=PreOp.TRANSPOSE, method=Method.FLATTEN))
    assert flat.sharing is Sharing.COPY


# --- writes go through the real result ----------------------------------------------------


def test_write_through_view_changes_source() -> None:
    r = run_lab(LabConfig((3, 2), target=(2, -1)), writes=[(4, 100)])
    assert r.result is not None
    assert r.result.nested() == [[0, 1, 2], [3, 100, 5]]
    assert r.source.nested() == [[0, 1], [2, 3], [100, 5]]
    assert r.source.storage.values[4] == 100
    assert r.written_positions == frozenset({4})
    assert cells_reading(r.source, r.written_positions) == (("2, 0", 100),)


def test_write_through_copy_leaves_source() -> None:
    r = run_lab(
        LabConfig((3, 2), op=PreOp.TRANSPOSE, method=Method.RESHAPE, target=(6,)),
        writes=[(0, -7)],
    )
    assert r.result is not None and r.result.values[0] == -7
    assert r.source.values == (0, 2, 4, 1, 3, 5)
    assert -7 not in r.source.storage.values


def test_write_out_of_range_is_lesson_error() -> None:
    with pytest.raises(InputError, match="outside y, which has 6 elements"):
        run_lab(LabConfig((3, 2), target=(-1,)), writes=[(6, 1)])
    # a value beyond int64 used to escape as numpy/torch's ValueError
    for value in (2**70, -(2**63), 1_000_000):
        with pytest.raises(InputError, match="too large to write"):
            run_lab(LabConfig((3, 2), target=(-1,)), writes=[(0, value)])
    ok = run_lab(LabConfig((3, 2), target=(-1,)), writes=[(0, -999_999)])
    assert ok.result is not None and ok.source.values[0] == -999_999


def test_random_fill_is_seeded() -> None:
    a = run_lab(LabConfig((3, 4), fill=Fill.RANDOM, seed=3, method=Method.VIEW_FLAT))
    b = run_lab(LabConfig((3, 4), fill=Fill.RANDOM, seed=3, method=Method.VIEW_FLAT))
    expected = torch.randint(0, 100, (12,), generator=torch.Generator().manual_seed(3))
    assert a.source.values == b.source.values == tuple(expected.tolist())


# --- numpy analogy -------------------------------------------------------------------------


def test_numpy_analogy_is_live() -> None:
    r = run_lab(LabConfig((3, 2), op=PreOp.TRANSPOSE, method=Method.RESHAPE, target=(6,)))
    assert r.numpy is not None and r.numpy.shares_memory is False
    a = np.arange(6).reshape(3, 2).T
    assert np.shares_memory(a, np.reshape(a, (6,))) is False
    assert r.numpy.call == "np.reshape(a, (6,))"
    v = run_lab(LabConfig((3, 2), method=Method.VIEW, target=(2, -1)))
    assert v.numpy is not None and v.numpy.shares_memory is True and v.numpy.shape == (2, 3)
    assert v.numpy.call == "np.reshape(a, (2, -1), copy=False)"
    bad = run_lab(LabConfig((3, 2), method=Method.VIEW, target=(5, 5)))
    assert bad.numpy is not None and bad.numpy.error is not None
    assert "cannot reshape array of size 6" in bad.numpy.error
    # np.resize does not refuse: it repeats the data (live, from numpy)
    assert bad.numpy.resize == (
        "np.resize(a, (5, 5)) → 25 elements [0, 1, 2, 3, 4, 5, 0, 1, …]: it repeats the "
        "data without a word"
    )
    assert np.resize(np.arange(6), (5, 5)).reshape(-1)[6:8].tolist() == [0, 1]


def test_numpy_view_analogy_refuses_like_torch() -> None:
    """view ↔ np.reshape(copy=False): both refuse a transposed source, neither copies."""
    r = run_lab(LabConfig((3, 2), op=PreOp.TRANSPOSE, method=Method.VIEW, target=(6,)))
    assert r.failure is not None and r.numpy is not None
    assert r.numpy.call == "np.reshape(a, (6,), copy=False)"
    with pytest.raises(ValueError) as real:
        np.reshape(np.arange(6).reshape(3, 2).T, (6,), copy=False)
    assert r.numpy.error == str(real.value) and r.numpy.shape is None
    assert r.numpy.resize is None  # element count matches: np.resize is not the question


def test_an_old_numpy_is_said_not_presented_as_numpy_refusing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """numpy < 2.1 has no np.reshape(copy=): its TypeError is about the argument, not the
    reshape, so the page says the comparison cannot run here instead of showing it."""
    from ptexplore.view import lab

    assert lab.numpy_has_reshape_copy("2.1.0") and lab.numpy_has_reshape_copy("2.3.4")
    assert not lab.numpy_has_reshape_copy("2.0.2") and not lab.numpy_has_reshape_copy("1.26.4")
    monkeypatch.setattr(lab.np, "__version__", "1.26.4")
    v = run_lab(LabConfig((3, 2), method=Method.VIEW, target=(2, -1)))
    assert v.numpy is not None and v.numpy.error is None and v.numpy.shape is None
    assert v.numpy.unavailable is not None and "numpy 1.26.4" in v.numpy.unavailable
    assert "from numpy 2.1 on" in v.numpy.unavailable
    r = run_lab(LabConfig((3, 2), method=Method.RESHAPE, target=(6,)))  # no copy=: still live
    assert r.numpy is not None and r.numpy.unavailable is None and r.numpy.shape == (6,)


# --- generated code reproduces the page ----------------------------------------------------


def _exec(code: str) -> tuple[dict[str, object], str]:
    ns: dict[str, object] = {}
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(code, "<lab_code>", "exec"), ns)
    return ns, buf.getvalue()


@pytest.mark.parametrize(
    ("config", "writes"),
    [
        (LabConfig((3, 2), target=(2, -1)), [(4, 100)]),
        (LabConfig((2, 3, 4), op=PreOp.TRANSPOSE, method=Method.RESHAPE, target=(2, -1)), [(1, 9)]),
        (LabConfig((2, 3, 4), op=PreOp.PERMUTE, perm=(1, 2, 0), method=Method.FLATTEN, dim=1), []),
        (LabConfig((3, 4), op=PreOp.SLICE, step=3, method=Method.UNSQUEEZE, dim=-1), [(0, 5)]),
        (LabConfig((3, 4), op=PreOp.SLICE, start=1, method=Method.VIEW, target=(2, 3)), [(1, 7)]),
        (LabConfig((4, 5), fill=Fill.RANDOM, seed=7, method=Method.SQUEEZE, dim=0), []),
    ],
)
def test_generated_code_reproduces_result(config: LabConfig, writes: list[tuple[int, int]]) -> None:
    r = run_lab(config, writes)
    assert r.result is not None
    ns, out = _exec(lab_code(config, r.writes, r.result.shape))
    x, y = ns["x"], ns["y"]
    assert isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor)
    assert tuple(y.shape) == r.result.shape and tuple(y.stride()) == r.result.stride
    assert y.tolist() == r.result.nested() and x.tolist() == r.source.nested()
    assert f"shares storage: {r.sharing is not Sharing.COPY}" in out


def test_generated_code_prints_torchs_error() -> None:
    config = LabConfig((3, 2), op=PreOp.TRANSPOSE, method=Method.VIEW, target=(6,))
    r = run_lab(config)
    assert r.failure is not None
    _, out = _exec(lab_code(config))
    assert f"error: {r.failure.message}" in out


# --- figures -----------------------------------------------------------------------------


def test_tensor_figure_colours_by_memory_position() -> None:
    r = run_lab(LabConfig((2, 3, 4), op=PreOp.TRANSPOSE, method=Method.RESHAPE, target=(-1,)))
    fig = Figure(tensor_figure(r.source, name="x"))
    heat = [t for t in fig.data if t.type == "heatmap"]
    assert len(heat) == 2  # one panel per leading index
    assert [list(row) for row in heat[0].z][:2] == [[0, 4, 8], [1, 5, 9]]
    assert list(heat[1].text[0]) == ["12", "16", "20"]
    assert fig.layout.coloraxis.cmax == 23
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["x[0]", "x[1]"]


def test_written_cells_are_outlined_and_storage_greys_unused() -> None:
    r = run_lab(
        LabConfig((3, 4), op=PreOp.SLICE, step=2, method=Method.UNSQUEEZE, dim=0),
        writes=[(1, 77)],
    )
    fig = Figure(tensor_figure(r.source, name="x", written=r.written_positions))
    marks = [t for t in fig.data if t.type == "scatter"]
    assert len(marks) == 1 and list(marks[0].x) == [1] and list(marks[0].y) == [0]
    sfig = Figure(storage_figure([StorageRow("x", r.source.storage, r.written_positions)]))
    grey, coloured = (t for t in sfig.data if t.type == "heatmap")
    assert list(coloured.z[0])[:4] == [0, None, 2, None]
    assert list(grey.z[0])[:4] == [None, 0, None, 0]
    assert list(coloured.text[0])[2] == "77"
    json.loads(sfig.to_json())  # serialisable for st.plotly_chart


def test_many_panels_are_capped() -> None:
    r = run_lab(LabConfig((20, 2, 2), method=Method.VIEW_FLAT))
    grids = panel_grids(r.source, "x")
    assert MAX_PANELS == 16 and len(grids) == 16
    assert grids[-1].title == "x[15]" and grids[-1].values == ((60, 61), (62, 63))
    # all 2**6 = 64 elements of a 6-D source fit in 16 panels x[i, j, k, l]
    six = run_lab(LabConfig((2, 2, 2, 2, 2, 2), method=Method.VIEW_FLAT))
    assert [g.title for g in panel_grids(six.source, "x")][-1] == "x[1, 1, 1, 1]"


def test_big_grids_drop_gaps_and_crammed_text() -> None:
    big = run_lab(LabConfig((100, 100), op=PreOp.TRANSPOSE, method=Method.RESHAPE, target=(-1,)))
    assert big.result is not None and big.result.numel == MAX_ELEMENTS
    heat = next(t for t in Figure(tensor_figure(big.source, name="x")).data if t.type == "heatmap")
    assert (heat.xgap, heat.ygap) == (0, 0) and heat.texttemplate is None
    assert list(heat.z[0][:3]) == [0, 100, 200]  # x[0, :] reads memory with stride 100
    # 1-D y of 64 cells: one row, too narrow for digits → no text, hover still tells
    flat = run_lab(LabConfig((2, 2, 2, 2, 2, 2), method=Method.VIEW_FLAT))
    assert flat.result is not None
    row = next(t for t in Figure(tensor_figure(flat.result, name="y")).data if t.type == "heatmap")
    assert row.texttemplate is None and row.xgap == 0
    small = next(
        t for t in Figure(tensor_figure(flat.source, name="x")).data if t.type == "heatmap"
    )
    assert small.texttemplate == "%{text}" and small.xgap == 2
    fig = Figure(tensor_figure(flat.source, name="x"))
    assert fig.layout.height <= MAX_HEIGHT
    sfig = Figure(storage_figure([StorageRow("x", big.source.storage)]))
    assert next(t for t in sfig.data if t.type == "heatmap").xgap == 0


# --- squeeze() without a dim, and result_numel ---------------------------------------------


@pytest.mark.parametrize(
    ("shape", "squeezed"),
    [((2, 1, 3, 1), (2, 3)), ((1, 1), ()), ((3, 4), (3, 4)), ((1, 5), (5,))],
)
def test_squeeze_all_matches_torch_and_numpy(
    shape: tuple[int, ...], squeezed: tuple[int, ...]
) -> None:
    r = run_lab(LabConfig(shape, method=Method.SQUEEZE_ALL), writes=[(0, 42)])
    assert r.call == "x.squeeze()" and r.result is not None
    assert (
        r.result.shape
        == squeezed
        == tuple(torch.arange(math.prod(shape)).view(shape).squeeze().shape)
    )
    assert r.sharing is Sharing.SAME_PTR and r.source.values[0] == 42  # a view: writes show in x
    assert r.numpy is not None and r.numpy.call == "np.squeeze(a)"
    assert r.numpy.shape == squeezed and r.numpy.shares_memory is True
    ns, _ = _exec(lab_code(r.config, r.writes, r.result.shape))
    y = ns["y"]
    assert isinstance(y, torch.Tensor) and tuple(y.shape) == squeezed
    assert y.reshape(-1)[0].item() == 42


def test_result_numel_is_ys_size_or_none_when_torch_refuses() -> None:
    assert result_numel(LabConfig((3, 2), target=(3, -1))) == 6
    assert result_numel(LabConfig((2, 1, 3), method=Method.SQUEEZE_ALL)) == 6
    assert result_numel(LabConfig((3, 2), op=PreOp.TRANSPOSE, target=(6,))) is None
    assert result_numel(LabConfig((3, 2), method=Method.UNSQUEEZE, dim=9)) is None
    with pytest.raises(InputError, match="at least two sizes"):
        result_numel(LabConfig((6,), op=PreOp.TRANSPOSE))


def test_panel_rows_leave_room_for_tick_labels_and_the_next_title() -> None:
    """6-D sources: each panel's title sat on the tick labels of the panel above."""
    six = run_lab(LabConfig((2, 2, 2, 2, 2, 2), method=Method.VIEW_FLAT))
    spec = tensor_figure(six.source, name="x")
    layout = spec["layout"]
    plot_h = layout["height"] - layout["margin"]["t"] - layout["margin"]["b"]
    rows = sorted({tuple(v["domain"]) for k, v in layout.items() if k.startswith("yaxis")})
    gaps = [(upper[0] - lower[1]) * plot_h for lower, upper in itertools.pairwise(rows)]
    assert len(gaps) == 3 and min(gaps) >= 60  # pixels: tick labels (~15) + a title (~20)


def test_unravel_matches_torch_unravel_index() -> None:
    import torch

    from ptexplore.view.lab import unravel

    for shape in [(2, 3, 4), (5,), (1, 1, 7), (3, 2), (2, 2, 2, 2, 2, 2)]:
        n = 1
        for s in shape:
            n *= s
        for p in range(n):
            want = tuple(int(i) for i in torch.unravel_index(torch.tensor(p), shape))
            assert unravel(p, shape) == want
    assert unravel(0, ()) == ()
