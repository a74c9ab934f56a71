"""⏱️ Conversion speed: list-of-arrays → tensor four ways, timed live when Run is pressed.

The config is the request of the learner's last press of Run (its count included, so every
press measures again); changing N or the dtype measures nothing until the next press.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ptexplore import live
from ptexplore.errors import LessonError
from ptexplore.i18n import N_, _
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
from ptexplore.tensors.bench import JOB, WHY_SLOW, fmt_seconds, ratio_label, slow_path_warning
from ptexplore.ui.choices import choices
from ptexplore.ui.lab import Section
from ptexplore.ui.render import chart
from ptexplore.ui.state import PageState

STATE = PageState(TENSORS)
SPEED_TAB = N_("⏱️ Conversion speed")
#: where the framework keeps this session's last measurement (the section's result)
BENCH_KEY = STATE.key("_bench")
REQUEST = "_bench_request"
NOT_YET = N_("Nothing measured yet in this session: press Run.")


@dataclass(frozen=True, slots=True)
class BenchRequest:
    """What the learner asked for when they last pressed Run (``press`` counts presses)."""

    n: int
    repeats: int
    dtype: BenchDtype
    press: int


def bench_controls(_shared: object) -> BenchRequest | None:
    st.markdown(
        _(
            "N numpy arrays of shape (7, 7, 3) → one tensor of shape (N, 7, 7, 3), four ways, "
            "timed **live on this server** when you press Run."
        )
    )
    b1, b2, b3 = st.columns(3)
    n = b1.number_input(
        _("N arrays"),
        1,
        MAX_N,
        DEFAULT_N,
        step=1000,
        help=f"≤ {MAX_N:,}",
        **STATE.widget("bench_n"),
    )
    repeats = b2.slider(_("repeats (median)"), 1, 5, 3, **STATE.widget("bench_repeats"))
    bench_dtype = b3.selectbox(_("dtype"), choices(BenchDtype), **STATE.widget("bench_dtype"))
    last: BenchRequest | None = STATE.get(REQUEST, None)
    if st.button(
        _("⏱️ Run benchmark (re-measures on every press)"),
        key=STATE.key("bench_run"),
        type="primary",
    ):
        press = 1 if last is None else last.press + 1
        last = BenchRequest(int(n), int(repeats), bench_dtype, press)
        STATE.set(REQUEST, last)
    return last


def _ready(request: BenchRequest | None) -> str | None:
    return _(NOT_YET) if request is None else None


def measure(request: BenchRequest | None) -> BenchResult:
    """Run the benchmark, with a progress bar while it runs."""
    if request is None:  # not ready: the framework says so instead of computing
        raise LessonError(_(NOT_YET), fix=_("Press Run."))
    bar = st.progress(0.0, text=_("starting…"))

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
                delta=_("fastest")
                if fastest
                else _("{ratio} the fastest").format(ratio=ratio_label(timing.ratio)),
                delta_color="inverse" if timing.ratio > 2 else "off",
                delta_arrow="off" if fastest else "auto",
            )
    slow = result.timing(Path.TENSOR_LIST)
    st.markdown(
        _(
            "**{speedup:.0f}×**: `torch.tensor(list)` took {slow} for N = {n:,}; all four "
            "results are equal (`torch.equal`, asserted): shape {shape}, {dtype}."
        ).format(
            speedup=result.speedup,
            slow=fmt_seconds(slow.median_s),
            n=result.n,
            shape=result.out_shape,
            dtype=result.out_dtype,
        )
    )
    measured = dict(
        repeats=result.repeats,
        asked=result.requested_repeats,
        at=result.measured_at,
        machine=result.machine,
        total=result.total_s,
    )
    st.caption(
        _(
            "Median of {repeats} run(s) (you asked for {asked}; capped so a run stays short). "
            "Measured {at} on this server: {machine}. The whole run took {total:.2f} s."
        ).format(**measured)
        if result.repeats != result.requested_repeats
        else _(
            "Median of {repeats} run(s). Measured {at} on this server: {machine}. "
            "The whole run took {total:.2f} s."
        ).format(**measured)
    )
    left, right = st.columns(2)
    with left:
        chart(times_figure(result), key=STATE.key("bench_times"))
    with right:
        sizes = sorted({p.n for p in result.scaling})
        if len(sizes) >= 2:
            chart(scaling_figure(result), key=STATE.key("bench_scaling"))
            st.caption(
                _("Scaling sweep over N = {sizes}.").format(
                    sizes=", ".join(f"{n:,}" for n in sizes)
                )
            )
        else:
            st.info(
                _(
                    "No scaling plot for N = {n}: there is no smaller N to compare with. "
                    "Pick N ≥ 2 (10 or more gives four points)."
                ).format(n=result.n),
                icon="📈",
            )
    st.info(_("**Why the slow path is slow:** {why}").format(why=_(WHY_SLOW)), icon="🐢")


def bench_render(_request: BenchRequest | None, result: BenchResult, _views: None) -> None:
    bench_results(result)
    warning = slow_path_warning()
    if warning:
        st.caption(
            _(
                "torch's own warning for the slow path (it prints it once per server "
                "process; this is the text it emitted here): “{warning}”"
            ).format(warning=warning)
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
        note=N_("measured on this server; timings differ from run to run"),
    )


SPEED: Section[BenchRequest | None, BenchResult] = Section(
    "bench",
    bench_controls,
    measure,
    bench_render,
    bench_snippet,
    label=SPEED_TAB,
    ready=_ready,
    heavy=lambda _request: _(JOB),
)
