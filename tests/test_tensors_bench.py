"""The conversion benchmark: four real paths, equal results, honest medians and plots."""

from __future__ import annotations

import contextlib
import io

import pytest
import torch
from plotly.graph_objects import Figure

from ptexplore.errors import InputError
from ptexplore.tensors import BenchDtype, Path, bench_code, run_benchmark
from ptexplore.tensors.bench import (
    MAX_N,
    MAX_WORK,
    _convert,
    effective_repeats,
    make_arrays,
    scaling_figure,
    times_figure,
)


@pytest.mark.parametrize("dtype", list(BenchDtype))
def test_all_paths_give_equal_tensors(dtype: BenchDtype) -> None:
    arrays = make_arrays(20, dtype)
    outs = [_convert(p, arrays) for p in Path]
    assert all(o.shape == (20, 7, 7, 3) for o in outs)
    assert all(o.dtype == getattr(torch, dtype.value) for o in outs)
    assert all(torch.equal(o, outs[0]) for o in outs)


def test_run_benchmark_small() -> None:
    seen: list[float] = []
    result = run_benchmark(400, 3, BenchDtype.FLOAT32, progress=lambda f, _: seen.append(f))
    assert [t.path for t in result.timings] == list(Path)
    assert result.all_equal and result.out_shape == (400, 7, 7, 3)
    assert result.repeats == 3 and all(len(t.times_s) == 3 for t in result.timings)
    assert min(t.ratio for t in result.timings) == pytest.approx(1.0)
    for t in result.timings:
        assert sorted(t.times_s)[1] == pytest.approx(t.median_s)
    # The per-element path is the slow one (by far) even at N = 400.
    assert result.timing(Path.TENSOR_LIST).ratio == result.speedup > 5
    assert sorted({p.n for p in result.scaling}) == [40, 100, 200, 400]
    assert len(result.scaling) == 16
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)
    assert "CPUs" in result.machine and result.measured_at


def test_figures_show_four_bars_and_four_lines() -> None:
    result = run_benchmark(200, 1, BenchDtype.UINT8)
    bars = Figure(times_figure(result)).data[0]
    assert list(bars.x) == [p.value for p in Path]
    assert all("×" in label for label in bars.text)
    fig = Figure(scaling_figure(result))
    assert [tr.name for tr in fig.data] == [p.value for p in Path]
    assert fig.layout.xaxis.type == "log"


def test_repeats_are_capped_and_n_validated() -> None:
    assert effective_repeats(MAX_N, 5) == MAX_WORK // MAX_N
    assert effective_repeats(1000, 5) == 5
    with pytest.raises(InputError):
        run_benchmark(MAX_N + 1, 1)
    with pytest.raises(InputError):
        run_benchmark(10, 0)


def test_bench_code_runs_and_asserts_equality() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(bench_code(30, BenchDtype.FLOAT64, 1), {})
    lines = out.getvalue().strip().splitlines()
    assert [line.split()[0] for line in lines] == [p.value for p in Path]


def test_torch_warns_about_the_slow_path() -> None:
    from ptexplore.tensors.bench import slow_path_warning

    assert "extremely slow" in slow_path_warning()


def test_bar_labels_print_the_ratio_like_the_metrics_and_the_axis_has_decades_only() -> None:
    from ptexplore.tensors.bench import ratio_label

    assert ratio_label(1.3) == "1.3×" and ratio_label(1.0) == "1.0×" and ratio_label(37.4) == "37×"
    result = run_benchmark(200, 1, BenchDtype.UINT8)
    fig = Figure(times_figure(result))
    labels = list(fig.data[0].text)
    for t, label in zip(result.timings, labels, strict=True):
        assert label.endswith(ratio_label(t.ratio))
    assert fig.layout.yaxis.dtick == 1 and fig.layout.yaxis.tickformat == ".0e"
