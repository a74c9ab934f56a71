"""What every DataLoader tab shares: this page's state, the workers' caption and the note
on how worker processes are started here."""

from __future__ import annotations

import streamlit as st

from ptexplore.data import workers
from ptexplore.data.runs import Processes
from ptexplore.pages import DATA
from ptexplore.ui.state import PageState

STATE = PageState(DATA)
TIMING_NOTE = "the printout is the same on every run; the page's timings are this run's"


def setup() -> None:
    """Make sure the forkserver is starting (only the first call in a process does anything),
    so a learner's first run does not wait for it."""
    workers.warm()


def processes_caption(p: Processes) -> None:
    if not p.started:
        st.caption("No worker process: every item was built in the main process.")
        return
    who = (
        "the DataLoader shut them all down itself"
        if not p.left_running
        else f"ptexplore ended {p.left_running} the DataLoader had left running"
        + (f" ({p.killed} killed)" if p.killed else "")
    )
    st.caption(
        f"🧹 {p.started} worker process(es) started with `{p.method}` "
        f"(pids {', '.join(map(str, p.pids))}); alive after the run: "
        f"**{len(p.still_alive)}** — {who}."
    )


def start_method_note() -> None:
    boot = workers.booted()
    measured = "; ".join(f"`{m}` {t}" for m, t in workers.MEASURED.items())
    with st.expander("🧵 How the workers are started here — and why `forkserver`", expanded=False):
        st.markdown(
            "This server answers every learner from **one multi-threaded process** "
            "(each rerun is a thread). DataLoader workers are processes, and how a process "
            "is started matters there:\n\n"
            "- **`fork`** copies the whole process but only the calling thread: a lock "
            "another thread held at that moment stays locked in the child forever, and the "
            "worker can hang (Python 3.12 warns about exactly this). Fastest — unsafe here.\n"
            "- **`spawn`** starts a fresh interpreter per worker: safe, but each worker "
            "imports torch again — seconds per worker, every epoch.\n"
            "- **`forkserver`** (used here) starts one clean, single-threaded helper once, "
            "with torch, torchvision and the lab's datasets preloaded "
            "(`set_forkserver_preload`); every worker is a fork *of that helper*, which "
            "holds no other thread's locks. Safe, and a worker starts in tens of ms.\n\n"
            f"Measured (`python -m ptexplore.data.startup`, 2 workers, iter → first batch): "
            f"{measured}."
        )
        if boot is not None:
            st.caption(
                f"This server's forkserver (pid {boot.pid}) took {boot.seconds:.1f} s to "
                "start and preload, once; every run since forks from it."
            )
        st.caption(
            "Every worker registers with the run that started it: at the end of a run, a "
            "timeout, an exception inside `__getitem__` or a newer run of yours, any worker "
            "still alive is terminated — the caption under each run shows the count. The "
            "Dataset classes live in an importable module (`ptexplore.data.datasets`) so "
            "workers can unpickle them; a class defined in a script's `__main__` cannot be."
        )
