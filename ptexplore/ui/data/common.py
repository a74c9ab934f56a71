"""What every DataLoader tab shares: this page's state, the workers' caption and the note
on how worker processes are started here (in the sandbox: :func:`ptexplore.data.runs.sandboxed`)."""

from __future__ import annotations

import streamlit as st

from ptexplore.data import workers
from ptexplore.data.runs import Processes
from ptexplore.i18n import N_, _
from ptexplore.pages import DATA
from ptexplore.ui.state import PageState

STATE = PageState(DATA)
TIMING_NOTE = N_("the printout is the same on every run; the page's timings are this run's")


def code_name(name: str) -> str:
    """A widget label that is a name in the code (``batch_size``, ``len(dataset)``): the
    same in every language, so it is not a catalog message."""
    return name


def processes_caption(p: Processes) -> None:
    if not p.started:
        st.caption(_("No worker process: every item was built in the main process."))
        return
    if not p.left_running:
        who = _("the DataLoader shut them all down itself")
    elif p.killed:
        who = _("ptexplore ended {left} the DataLoader had left running ({killed} killed)").format(
            left=p.left_running, killed=p.killed
        )
    else:
        who = _("ptexplore ended {left} the DataLoader had left running").format(
            left=p.left_running
        )
    st.caption(
        _(
            "🧹 {started} worker process(es) started with `{method}` (pids {pids}); alive "
            "after the run: **{alive}** — {who}."
        ).format(
            started=p.started,
            method=p.method,
            pids=", ".join(map(str, p.pids)),
            alive=len(p.still_alive),
            who=who,
        )
    )


def start_method_note(p: Processes) -> None:
    measured = "; ".join(f"`{m}` {_(t)}" for m, t in workers.MEASURED.items())
    with st.expander(
        _("🧵 How the workers are started here — and why `forkserver`"), expanded=False
    ):
        st.markdown(
            _(
                "Every run of this lab is a **sandboxed process** of its own (a crash or a "
                "memory blow-up there ends that run, nobody else's), and its DataLoader "
                "workers are processes too. That process has other threads (this lab's "
                "watchdog; a notebook kernel has several as well), and how a worker is "
                "started matters then:\n\n"
                "- **`fork`** copies the whole process but only the calling thread: a lock "
                "another thread held at that moment stays locked in the child forever, and "
                "the worker can hang (Python 3.12 warns about exactly this). Fastest — "
                "unsafe with threads.\n"
                "- **`spawn`** starts a fresh interpreter per worker: safe, but each worker "
                "imports torch again — seconds per worker, every epoch.\n"
                "- **`forkserver`** (used here; Python 3.14's default on Linux) starts one "
                "clean, single-threaded helper once, with torch and torchvision preloaded "
                "(at home: your script, `__main__`, which imports them); every worker is a "
                "fork *of that helper*, which holds no other thread's locks. Safe, and a "
                "worker starts in tens of ms.\n\n"
                "Quoted, not measured now: `python -m ptexplore.data.startup` on a 2-core "
                "machine (2 workers, iter → first batch): {measured}."
            ).format(measured=measured)
        )
        if p.server is not None:
            st.caption(
                _(
                    "This lab's forkserver (pid {pid}) took {seconds:.1f} s to start and "
                    "preload, once, when this server started; every run since forks its "
                    "workers from it."
                ).format(pid=p.server.pid, seconds=p.server.seconds)
            )
        st.caption(
            _(
                "Every worker registers with the run that started it: at the end of a run, a "
                "timeout, an exception inside `__getitem__` or a newer run of yours, any "
                "worker still alive is terminated — the caption under each run shows the "
                "count. Each script defines its Dataset classes itself and runs as a file, as "
                "at home: a `forkserver` or `spawn` worker receives the dataset pickled and "
                "*imports the script* (as `__mp_main__`) to find its class — which is why the "
                'work sits under `if __name__ == "__main__":` (without it, every worker would '
                "run the whole script again). Pasted into a notebook cell or `python -` the "
                "classes cannot be found by the workers: save the code as a file and run it."
            )
        )
