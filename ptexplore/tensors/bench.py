"""List of arrays → one tensor: four real paths, timed live on this machine.

``torch.tensor(list_of_arrays)`` walks the list element by element in Python-object land
(torch itself warns it is "extremely slow"); the numpy-first paths build one contiguous
buffer in C and hand it over in a single step.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import numpy as np
import torch

from ptexplore import live
from ptexplore.errors import InputError
from ptexplore.figures import Figure, figure
from ptexplore.i18n import N_, _
from ptexplore.limits import BENCH_MAX_N as MAX_N
from ptexplore.limits import BENCH_MAX_WORK as MAX_WORK
from ptexplore.limits import heavy
from ptexplore.style import ACCENT, PALETTE

ITEM_SHAPE = (7, 7, 3)
DEFAULT_N = 10_000
SCALING_FRACTIONS = (0.1, 0.25, 0.5)

#: English, marked for the catalog: translate where it is read (``_(WHY_SLOW)``).
WHY_SLOW = N_(
    "torch.tensor(list) cannot see that the list holds same-shaped arrays: it inspects the "
    "list as a nested Python sequence, element by element, turning each number into a "
    "Python object and back (torch warns: 'extremely slow'); np.array/np.stack copy the "
    "arrays' buffers into one block in C, which torch then takes in one step."
)
#: What the page calls the benchmark while it waits for a free worker (translated there).
JOB = N_("the conversion benchmark")


class Path(StrEnum):
    TENSOR_LIST = "torch.tensor(list)"
    TENSOR_NP_ARRAY = "torch.tensor(np.array(list))"
    FROM_NUMPY_STACK = "torch.from_numpy(np.stack(list))"
    AS_TENSOR_NP_ARRAY = "torch.as_tensor(np.array(list))"


class BenchDtype(StrEnum):
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    UINT8 = "uint8"


_SLOW_TRIGGER = """\
import numpy as np
import torch
torch.tensor([np.zeros(2, dtype=np.float32), np.zeros(2, dtype=np.float32)])
"""


def _tensor_from_list(arrays: list[np.ndarray]) -> torch.Tensor:
    """The slow path; torch's "extremely slow" warning is captured (this thread only), so
    it does not reach the server log: the page shows it (:func:`slow_path_warning`)."""
    with live.capture_warnings():
        return torch.tensor(arrays)


def _convert(path: Path, arrays: list[np.ndarray]) -> torch.Tensor:
    if path is Path.TENSOR_LIST:
        return _tensor_from_list(arrays)
    if path is Path.TENSOR_NP_ARRAY:
        return torch.tensor(np.array(arrays))
    if path is Path.FROM_NUMPY_STACK:
        return torch.from_numpy(np.stack(arrays))
    return torch.as_tensor(np.array(arrays))


def make_arrays(n: int, dtype: BenchDtype, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    if dtype is BenchDtype.UINT8:
        return [rng.integers(0, 256, ITEM_SHAPE, dtype=np.uint8) for _x in range(n)]
    return [rng.random(ITEM_SHAPE).astype(dtype.value) for _x in range(n)]


def slow_path_warning() -> str:
    """torch's warning for the slow path, as it printed it (once per process) here."""
    return live.once_warning("extremely slow", _SLOW_TRIGGER)


@dataclass(frozen=True, slots=True)
class PathTiming:
    path: Path
    times_s: tuple[float, ...]
    median_s: float
    ratio: float  # median / fastest median (1.0 = fastest)


@dataclass(frozen=True, slots=True)
class ScalingPoint:
    n: int
    path: Path
    seconds: float


@dataclass(frozen=True, slots=True)
class BenchResult:
    n: int
    repeats: int
    requested_repeats: int
    dtype: BenchDtype
    timings: tuple[PathTiming, ...]
    scaling: tuple[ScalingPoint, ...]
    all_equal: bool
    out_shape: tuple[int, ...]
    out_dtype: str
    measured_at: str
    machine: str
    total_s: float

    def timing(self, path: Path) -> PathTiming:
        return next(t for t in self.timings if t.path is path)

    @property
    def speedup(self) -> float:
        """How many times slower the slowest path is than the fastest."""
        return max(t.ratio for t in self.timings)


def machine_description() -> str:
    return _(
        "{system} {machine}, {cpus} CPUs, torch {torch} with {threads} intra-op thread(s), "
        "numpy {numpy}"
    ).format(
        system=platform.system(),
        machine=platform.machine(),
        cpus=os.cpu_count(),
        torch=torch.__version__,
        threads=torch.get_num_threads(),
        numpy=np.__version__,
    )


def effective_repeats(n: int, repeats: int) -> int:
    return max(1, min(repeats, MAX_WORK // max(n, 1)))


def validate(n: int, repeats: int) -> None:
    if not 1 <= n <= MAX_N:
        raise InputError(
            _("N = {n:,} is outside 1…{max:,}.").format(n=n, max=MAX_N),
            fix=_(
                "Pick N up to {max:,}: the slow path alone takes ~2 s there on a small box."
            ).format(max=MAX_N),
        )
    if not 1 <= repeats <= 9:
        raise InputError(
            _("repeats = {repeats} is outside 1…9.").format(repeats=repeats),
            fix=_("Use 1 to 9 repeats."),
        )


def _time(path: Path, arrays: list[np.ndarray]) -> tuple[float, torch.Tensor]:
    t0 = time.perf_counter()
    out = _convert(path, arrays)
    return time.perf_counter() - t0, out


def run_benchmark(
    n: int = DEFAULT_N,
    repeats: int = 3,
    dtype: BenchDtype = BenchDtype.FLOAT32,
    *,
    seed: int = 0,
    scaling: bool = True,
    capped: bool = True,
    progress: Callable[[float, str], None] | None = None,
) -> BenchResult:
    """Time the four paths (median of ``repeats``), plus a scaling sweep over smaller N.

    All four results are compared with ``torch.equal``; a mismatch raises AssertionError.
    ``capped=False`` (command-line benchmarks only) lifts the page's N and work caps.
    """
    if capped:
        validate(n, repeats)
        reps = effective_repeats(n, repeats)
    else:
        reps = max(1, repeats)
    with heavy(_(JOB)):
        return _run_benchmark(n, repeats, reps, dtype, seed, scaling, progress)


def _run_benchmark(
    n: int,
    repeats: int,
    reps: int,
    dtype: BenchDtype,
    seed: int,
    scaling: bool,
    progress: Callable[[float, str], None] | None,
) -> BenchResult:
    start = time.perf_counter()
    arrays = make_arrays(n, dtype, seed)
    sizes = sorted({max(1, int(n * f)) for f in SCALING_FRACTIONS} - {n}) if scaling else []
    # Work units proportional to slow-path cost, for an honest progress bar.
    total_work = n * reps + sum(sizes)
    done = 0.0

    def tick(work: float, label: str) -> None:
        nonlocal done
        done += work
        if progress is not None:
            progress(min(done / total_work, 1.0), label)

    times: dict[Path, list[float]] = {p: [] for p in Path}
    outputs: dict[Path, torch.Tensor] = {}
    for r in range(reps):
        for path in Path:
            seconds, out = _time(path, arrays)
            times[path].append(seconds)
            outputs[path] = out
            label = _("repeat {r}/{reps}: {path}").format(r=r + 1, reps=reps, path=path.value)
            tick(n if path is Path.TENSOR_LIST else 0, label)
    reference = outputs[Path.FROM_NUMPY_STACK]
    all_equal = all(
        o.shape == reference.shape and o.dtype == reference.dtype and torch.equal(o, reference)
        for o in outputs.values()
    )
    if not all_equal:
        raise AssertionError("the four conversion paths produced different tensors")
    medians = {p: statistics.median(v) for p, v in times.items()}
    fastest = min(medians.values())
    timings = tuple(
        PathTiming(
            path=p,
            times_s=tuple(times[p]),
            median_s=medians[p],
            ratio=medians[p] / fastest if fastest > 0 else float("inf"),
        )
        for p in Path
    )
    points: list[ScalingPoint] = []
    for size in sizes:
        subset = arrays[:size]
        for path in Path:
            seconds, _out = _time(path, subset)
            points.append(ScalingPoint(n=size, path=path, seconds=seconds))
            label = _("scaling N={n:,}: {path}").format(n=size, path=path.value)
            tick(size if path is Path.TENSOR_LIST else 0, label)
    for path in Path:  # the main run is the largest scaling point
        points.append(ScalingPoint(n=n, path=path, seconds=medians[path]))
    return BenchResult(
        n=n,
        repeats=reps,
        requested_repeats=repeats,
        dtype=dtype,
        timings=timings,
        scaling=tuple(points),
        all_equal=all_equal,
        out_shape=tuple(reference.shape),
        out_dtype=str(reference.dtype),
        measured_at=datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
        machine=machine_description(),
        total_s=time.perf_counter() - start,
    )


def _fmt_seconds(s: float) -> str:
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} µs"


def fmt_seconds(s: float) -> str:
    return _fmt_seconds(s)


def ratio_label(ratio: float) -> str:
    """``1.3×``, ``12×``: the ratio as the page's figures print it (never "1×" for 1.3)."""
    return f"{ratio:.1f}×" if ratio < 10 else f"{ratio:.0f}×"


def times_figure(result: BenchResult) -> Figure:
    """Bar chart of median times (log axis) labelled with the ratio to the fastest path."""
    lo = min(t.median_s for t in result.timings)
    hi = max(t.median_s for t in result.timings)
    bars = {
        "type": "bar",
        "x": [t.path.value for t in result.timings],
        "y": [t.median_s for t in result.timings],
        "marker": {
            "color": [ACCENT if t.path is Path.TENSOR_LIST else PALETTE[1] for t in result.timings]
        },
        "text": [f"{_fmt_seconds(t.median_s)} · {ratio_label(t.ratio)}" for t in result.timings],
        "textposition": "outside",
        "cliponaxis": False,
        "customdata": [[t.ratio, len(t.times_s)] for t in result.timings],
        # plotly's %{…} fields, not str.format ones: the translation keeps them as they are
        "hovertemplate": _(
            "%{x}<br>median %{y:.4f} s over %{customdata[1]} runs"
            "<br>%{customdata[0]:.1f}× the fastest<extra></extra>"
        ),
    }
    return figure(
        [bars],
        title=_("N = {n:,} arrays of {shape} {dtype}: median time").format(
            n=result.n, shape=ITEM_SHAPE, dtype=result.dtype.value
        ),
        yaxis={
            "type": "log",
            "title": {"text": _("seconds (log scale)")},
            "range": [math.log10(lo) - 0.5, math.log10(hi) + 0.6],
            # decades only, labelled in full: no bare "2"/"5" minor labels
            "dtick": 1,
            "tickformat": ".0e",
            "minor": {"showgrid": True},
        },
        uniformtext={"minsize": 11, "mode": "show"},
        height=420,
        showlegend=False,
    )


def scaling_figure(result: BenchResult) -> Figure:
    """Time vs N for each path (log–log): all grow linearly, with very different slopes."""
    traces = []
    for i, path in enumerate(Path):
        pts = sorted((p for p in result.scaling if p.path is path), key=lambda p: p.n)
        traces.append(
            {
                "type": "scatter",
                "x": [p.n for p in pts],
                "y": [p.seconds for p in pts],
                "mode": "lines+markers",
                "name": path.value,
                "line": {"color": ACCENT if path is Path.TENSOR_LIST else PALETTE[1 + i]},
            }
        )
    return figure(
        traces,
        title=_("Scaling: time vs N (log–log)"),
        xaxis={"type": "log", "title": {"text": _("N arrays")}, "dtick": 1},
        yaxis={"type": "log", "title": {"text": _("seconds")}, "dtick": 1, "tickformat": ".0e"},
        height=420,
    )


def bench_code(n: int, dtype: BenchDtype, repeats: int) -> str:
    if dtype is BenchDtype.UINT8:
        make = f"arrays = [rng.integers(0, 256, {ITEM_SHAPE}, dtype=np.uint8) for _ in range({n})]"
    else:
        make = f'arrays = [rng.random({ITEM_SHAPE}).astype("{dtype.value}") for _ in range({n})]'
    return f"""import statistics, time
import numpy as np
import torch

rng = np.random.default_rng(0)
{make}
paths = {{
    "torch.tensor(list)": lambda: torch.tensor(arrays),  # torch warns: extremely slow
    "torch.tensor(np.array(list))": lambda: torch.tensor(np.array(arrays)),
    "torch.from_numpy(np.stack(list))": lambda: torch.from_numpy(np.stack(arrays)),
    "torch.as_tensor(np.array(list))": lambda: torch.as_tensor(np.array(arrays)),
}}
results, medians = {{}}, {{}}
for name, convert in paths.items():
    runs = []
    for _ in range({repeats}):
        t0 = time.perf_counter()
        results[name] = convert()
        runs.append(time.perf_counter() - t0)
    medians[name] = statistics.median(runs)
ref = results["torch.from_numpy(np.stack(list))"]
assert all(torch.equal(r, ref) for r in results.values())
fastest = min(medians.values())
for name, s in medians.items():
    print(f"{{name:34s}} {{s:8.4f}} s  {{s / fastest:6.1f}}x")
"""
