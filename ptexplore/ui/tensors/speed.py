"""⏱️ Conversion speed: list-of-arrays → tensor four ways, timed live when Run is pressed.

The config is the request of the learner's last press of Run (its count included, so every
press measures again); changing N or the dtype measures nothing until the next press.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ptexplore import live
from ptexplore.errors import LessonError
from ptexplore.pages import TENSORS
from ptexplore.tensors import (
    DEFAULT_N,
    MAX_N,
    BenchDtype,
    BenchResult,
    Path,
    bench_code,
    run_benchmark,
    scaling_figure,
    times_figure,
)
from ptexplore.tensors.bench import WHY_SLOW, fmt_seconds, ratio_label, slow_path_warning
from ptexplore.ui.lab import Section
from ptexplore.ui.render import chart
from ptexplore.ui.state import PageState
from ptexplore.ui.tensors.choices import choices

STATE = PageState(TENSORS)
SPEED_TAB = "⏱️ Conversion speed"
#: where the framework keeps this session's last measurement (the section's result)
BENCH_KEY = STATE.key("_bench")
REQUEST = "_bench_request"
NOT_YET = "Nothing measured yet in this session: press Run."


@dataclass(frozen=True, slots=True)
class BenchRequest:
    """What the learner asked for when they last pressed Run (``press`` counts presses)."""

    n: int
    repeats: int
    dtype: BenchDtype
    press: int


def bench_controls(_shared: object) -> BenchRequest | None:
    st.markdown(
        "N numpy arrays of shape (7, 7, 3) → one tensor of shape (N, 7, 7, 3), four ways, "
        "timed **live on this server** when you press Run."
    )
    b1, b2, b3 = st.columns(3)
    n = b1.number_input(
        "N arrays", 1, MAX_N, DEFAULT_N, step=1000, help=f"≤ {MAX_N:,}", **STATE.widget("bench_n")
    )
    repeats = b2.slider("repeats (median)", 1, 5, 3, **STATE.widget("bench_repeats"))
    bench_dtype = b3.selectbox("dtype", choices(BenchDtype), **STATE.widget("bench_dtype"))
    last: BenchRequest | None = STATE.get(REQUEST, None)
    if st.button(
        "⏱️ Run benchmark (re-measures on every press)", key=STATE.key("bench_run"), type="primary"
    ):
        press = 1 if last is None else last.press + 1
        last = BenchRequest(int(n), int(repeats), bench_dtype, press)
        STATE.set(REQUEST, last)
    return last


def _ready(request: BenchRequest | None) -> str | None:
    return NOT_YET if request is None else None


def measure(request: BenchRequest | None) -> BenchResult:
    """Run the benchmark, with a progress bar while it runs."""
    if request is None:  # not ready: the framework says so instead of computing
        raise LessonError(NOT_YET, fix="Press Run.")
    bar = st.progress(0.0, text="starting…")

    def progress(frac: float, label: str) -> None:
        bar.progress(frac, text=label)

    try:
        return run_benchmark(request.n, request.repeats, request.dtype, progress=progress)
    finally:
        bar.empty()


def bench_results(result: BenchResult) -> None:
    cols = st.columns(len(result.timings))
    for col, timing in zip(cols, result.timings, strict=True):
        with col:
            fastest = timing.ratio < 1.0 + 1e-9
            st.metric(
                timing.path.value,
                fmt_seconds(timing.median_s),
                delta="fastest" if fastest else f"{ratio_label(timing.ratio)} the fastest",
                delta_color="inverse" if timing.ratio > 2 else "off",
                delta_arrow="off" if fastest else "auto",
            )
    slow = result.timing(Path.TENSOR_LIST)
    st.markdown(
        f"**{result.speedup:.0f}×**: `torch.tensor(list)` took {fmt_seconds(slow.median_s)} "
        f"for N = {result.n:,}; all four results are equal (`torch.equal`, asserted): "
        f"shape {result.out_shape}, {result.out_dtype}."
    )
    st.caption(
        f"Median of {result.repeats} run(s)"
        + (
            f" (you asked for {result.requested_repeats}; capped so a run stays short)"
            if result.repeats != result.requested_repeats
            else ""
        )
        + f". Measured {result.measured_at} on this server: {result.machine}. "
        f"The whole run took {result.total_s:.2f} s."
    )
    left, right = st.columns(2)
    with left:
        chart(times_figure(result), key=STATE.key("bench_times"))
    with right:
        sizes = sorted({p.n for p in result.scaling})
        if len(sizes) >= 2:
            chart(scaling_figure(result), key=STATE.key("bench_scaling"))
            st.caption(f"Scaling sweep over N = {', '.join(f'{n:,}' for n in sizes)}.")
        else:
            st.info(
                f"No scaling plot for N = {result.n}: there is no smaller N to compare with. "
                "Pick N ≥ 2 (10 or more gives four points).",
                icon="📈",
            )
    st.info(f"**Why the slow path is slow:** {WHY_SLOW}", icon="🐢")


def bench_render(_request: BenchRequest | None, result: BenchResult, _views: None) -> None:
    bench_results(result)
    warning = slow_path_warning()
    if warning:
        st.caption(
            f"torch's own warning for the slow path (it prints it once per server "
            f"process; this is the text it emitted here): “{warning}”"
        )


def bench_snippet(_request: BenchRequest | None, result: BenchResult) -> live.Snippet:
    """The benchmark script, with the lines it printed on this server's run."""
    fastest = min(t.median_s for t in result.timings)
    lines = [
        f"{t.path.value:34s} {t.median_s:8.4f} s  {t.median_s / fastest:6.1f}x"
        for t in result.timings
    ]
    return live.Snippet(
        bench_code(result.n, result.dtype, result.repeats),
        "\n".join(lines) + "\n",
        note="measured on this server; timings differ from run to run",
    )


SPEED: Section[BenchRequest | None, BenchResult] = Section(
    "bench",
    bench_controls,
    measure,
    bench_render,
    bench_snippet,
    label=SPEED_TAB,
    ready=_ready,
    heavy=lambda _request: "the conversion benchmark",
)
